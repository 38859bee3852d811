//! The activities as workflow tasks: one JSON event in, one JSON answer out, over the ports.
//!
//! These are the functions the state machines in `statemachines/` call (as Lambda functions
//! on AWS, in process on the local runner). Everything a step makes is kept in the artifact
//! store under `onboarding/<database.table>/`, and the events carry its keys, so every step
//! can be retried or resumed on its own. Published contracts keep their source at
//! `sources/<database.table>.dqc`: the project the compile step checks a draft against.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use dqc_compiler::ir::Project;
use dqc_compiler::{Source, Target};

use crate::events::{
    CompileAnswer, CompileEvent, ContextAnswer, ContextEvent, DraftAnswer, DraftEvent, FailedRule, ListContractsAnswer,
    ListContractsEvent, ProfileAnswer, ProfileEvent, PublishAnswer, PublishEvent, RequestApprovalAnswer,
    RequestApprovalEvent, RunSuiteAnswer, RunSuiteEvent, SummarizeAnswer, SummarizeEvent,
};
use crate::ports::{ArtifactStore, Catalog, Error, ErrorKind, MetadataStore, QueryEngine};
use crate::test_run::{table_pk, test_table, Ports, TestJob};

/// Sends messages to people: SNS on AWS, the console and a file locally.
pub trait Notifier {
    /// Sends one message.
    fn notify(&self, subject: &str, message: &str) -> Result<(), Error>;
}

/// The ports a task runs against.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub catalog: &'a dyn Catalog,
    pub engine: &'a dyn QueryEngine,
    pub store: &'a dyn ArtifactStore,
    pub metadata: &'a dyn MetadataStore,
    pub notifier: &'a dyn Notifier,
    /// Issues approval links, when an approval service answers them; without it the
    /// approvers are told the `dqc workflow send-success` / `send-failure` commands.
    pub approvals: Option<&'a crate::approval::LinkSigner>,
    /// Drafts with an LLM (its rules checked, the offline draft standing in where they never
    /// compile); without it the drafting step gives the offline draft.
    pub drafter: Option<&'a dyn crate::ports::Drafter>,
}

impl std::fmt::Debug for Services<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// The functions, by the name their Lambda function has (`dqc-<name>`).
pub const FUNCTIONS: [&str; 9] = [
    "dqc-profile",
    "dqc-summarize",
    "dqc-context",
    "dqc-draft",
    "dqc-compile",
    "dqc-request-approval",
    "dqc-publish",
    "dqc-list-contracts",
    "dqc-run-suite",
];

/// Runs one task. `now` is the run time (`YYYY-MM-DD HH:MM:SS`, UTC) for freshness and records.
/// Events and answers have the shapes of [`crate::events`].
pub fn handle(function: &str, event: &Value, s: &Services<'_>, now: &str) -> Result<Value, Error> {
    let e = event;
    match function {
        "dqc-profile" => answer(&profile(&parse(function, e)?, s)?),
        "dqc-summarize" => answer(&summarize(&parse(function, e)?, s)?),
        "dqc-context" => answer(&context(&parse(function, e)?, s)?),
        "dqc-draft" => answer(&draft(&parse(function, e)?, s)?),
        "dqc-compile" => answer(&compile(&parse(function, e)?, s)?),
        "dqc-request-approval" => answer(&request_approval(&parse(function, e)?, s, now)?),
        "dqc-publish" => answer(&publish(&parse(function, e)?, s)?),
        "dqc-list-contracts" => {
            let _: ListContractsEvent = parse(function, e)?;
            answer(&list_contracts(s)?)
        }
        "dqc-run-suite" => answer(&run_suite(&parse(function, e)?, s, now)?),
        other => Err(Error::fatal(format!("no activity is named `{other}` (activities: {})", FUNCTIONS.join(", ")))),
    }
}

/// The event as the function's input type; a missing field or a field of the wrong type is
/// refused, naming it.
fn parse<T: DeserializeOwned>(function: &str, event: &Value) -> Result<T, Error> {
    serde_json::from_value(event.clone()).map_err(|e| {
        Error::fatal(format!("the event does not fit the input of {function}: {e}; it has: {}", keys(event)))
    })
}

fn answer<T: Serialize>(a: &T) -> Result<Value, Error> {
    serde_json::to_value(a).map_err(|e| Error::fatal(e.to_string()))
}

/// A non-empty string field, or `None`.
fn given(v: Option<&String>) -> Option<&str> {
    v.map(String::as_str).filter(|s| !s.is_empty())
}

fn keys(event: &Value) -> String {
    match event.as_object() {
        Some(o) if !o.is_empty() => o.keys().cloned().collect::<Vec<_>>().join(", "),
        _ => "no fields".into(),
    }
}

/// `database.table`, split.
fn table(t: &str) -> Result<(String, String, String), Error> {
    match t.split_once('.') {
        Some((d, n)) if !d.is_empty() && !n.is_empty() => Ok((t.to_owned(), d.to_owned(), n.to_owned())),
        _ => Err(Error::fatal(format!("table `{t}` must be written database.table"))),
    }
}

fn get_text(store: &dyn ArtifactStore, key: &str) -> Result<String, Error> {
    let bytes = store.get(key)?.ok_or_else(|| Error::fatal(format!("the artifact `{key}` does not exist")))?;
    String::from_utf8(bytes).map_err(|_| Error::fatal(format!("the artifact `{key}` is not UTF-8 text")))
}

fn get_json(store: &dyn ArtifactStore, key: &str) -> Result<Value, Error> {
    serde_json::from_str(&get_text(store, key)?)
        .map_err(|e| Error::fatal(format!("the artifact `{key}` is not JSON: {e}")))
}

fn put_json(store: &dyn ArtifactStore, key: &str, v: &Value) -> Result<(), Error> {
    let mut text = serde_json::to_string_pretty(v).map_err(|e| Error::fatal(e.to_string()))?;
    text.push('\n');
    store.put(key, text.as_bytes())
}

fn ensure_table(s: &Services<'_>, database: &str, name: &str) -> Result<(), Error> {
    if s.catalog.table(database, name)?.is_none() {
        let known = s.catalog.tables()?;
        return Err(Error::fatal(format!(
            "table {database}.{name} is not in the catalog (tables: {})",
            known.join(", ")
        )));
    }
    Ok(())
}

/// `{table}` -> `{table, profile_key, row_count}`: the one-scan profile of the table.
fn profile(event: &ProfileEvent, s: &Services<'_>) -> Result<ProfileAnswer, Error> {
    let (t, database, name) = table(&event.table)?;
    ensure_table(s, &database, &name)?;
    let p = crate::profile::profile(s.engine, &database, &name)?;
    let key = format!("onboarding/{t}/profile.json");
    put_json(s.store, &key, &serde_json::to_value(&p).map_err(|e| Error::fatal(e.to_string()))?)?;
    Ok(ProfileAnswer { table: t, profile_key: key, row_count: p.row_count })
}

/// `{table, script_key}` -> `{table, summary_key}`: the job summary of the script that writes
/// the table (`null` when there is no script).
fn summarize(event: &SummarizeEvent, s: &Services<'_>) -> Result<SummarizeAnswer, Error> {
    let (t, _, _) = table(&event.table)?;
    let Some(script) = given(event.script_key.as_ref()) else {
        return Ok(SummarizeAnswer { table: t, summary_key: None });
    };
    let source = get_text(s.store, script)?;
    let job = script.rsplit('/').next().unwrap_or(script).trim_end_matches(".py");
    let analysis = dqc_etl::analyze(job, &source).map_err(|e| Error::fatal(format!("{script}: {e}")))?;
    let key = format!("onboarding/{t}/summary.json");
    put_json(s.store, &key, &serde_json::to_value(&analysis.summary).map_err(|e| Error::fatal(e.to_string()))?)?;
    Ok(SummarizeAnswer { table: t, summary_key: Some(key) })
}

/// `{table, profile_key, summary_key}` -> `{table, context_key}`: the drafting context.
fn context(event: &ContextEvent, s: &Services<'_>) -> Result<ContextAnswer, Error> {
    let (t, _, _) = table(&event.table)?;
    let profile: crate::profile::Profile = serde_json::from_value(get_json(s.store, &event.profile_key)?)
        .map_err(|e| Error::fatal(format!("the profile is not in the profile shape: {e}")))?;
    let summary = given(event.summary_key.as_ref()).map(|k| get_json(s.store, k)).transpose()?;
    let inputs = crate::context::ContextInputs { job_summary: summary.as_ref(), ..Default::default() };
    let key = format!("onboarding/{t}/context.json");
    put_json(s.store, &key, &crate::context::context(&profile, &inputs))?;
    Ok(ContextAnswer { table: t, context_key: key })
}

/// `{table, context_key, draft_key, diagnostics, attempt}` -> `{table, draft_key}`: a draft
/// by the LLM drafter when one is configured (from the context, checked with the published
/// contracts, the previous attempt's diagnostics sent along, the offline draft standing in
/// for rules that never compile), else the offline draft from the data; or the given
/// `draft_key` (a draft imported into the artifact store).
fn draft(event: &DraftEvent, s: &Services<'_>) -> Result<DraftAnswer, Error> {
    let (t, database, name) = table(&event.table)?;
    if let Some(existing) = given(event.draft_key.as_ref()) {
        get_text(s.store, existing)?;
        return Ok(DraftAnswer { table: t, draft_key: existing.to_owned() });
    }
    ensure_table(s, &database, &name)?;
    // Foreign keys are drafted only to tables with a published contract: the rule must check.
    let parents: Vec<(String, String)> = list_contracts(s)?
        .tables
        .iter()
        .filter(|q| **q != t)
        .filter_map(|q| q.split_once('.').map(|(d, n)| (d.to_owned(), n.to_owned())))
        .collect();
    // The row counts of the nightly runs so far (a table onboarded again has some).
    let all = published(s.store, "")?;
    let history = crate::draft::row_count_history(s.store, &database, &name, &all)?;
    let options = crate::draft::DraftOptions {
        database: &database,
        table: &name,
        parents: &parents,
        job: None,
        history: &history,
    };
    let drafted = crate::draft::draft(s.engine, &options)?;
    let text = match s.drafter {
        None => drafted.text,
        Some(llm) => {
            let context = match given(event.context_key.as_ref()) {
                Some(key) => get_json(s.store, key)?,
                None => crate::context::context(&drafted.profile, &crate::context::ContextInputs::default()),
            };
            // The draft is checked with the other published contracts, not this table's own.
            let own = format!("sources/{t}.dqc");
            let known: Vec<Source> = all.into_iter().filter(|c| c.name != own).collect();
            let feedback = event.diagnostics.clone().unwrap_or_default();
            llm.draft(crate::ports::DraftRequest {
                context: &context,
                known: &known,
                offline: &drafted.text,
                feedback: &feedback,
            })?
        }
    };
    let attempt = event.attempt.unwrap_or(1);
    let key = format!("onboarding/{t}/draft-{attempt}.dqc");
    s.store.put(&key, text.as_bytes())?;
    Ok(DraftAnswer { table: t, draft_key: key })
}

/// The published contracts (`sources/*.dqc`, as the onboarding workflow's publish step writes
/// them) but the one of table `except` (`""`: all of them).
pub fn published(store: &dyn ArtifactStore, except: &str) -> Result<Vec<Source>, Error> {
    let mut out = Vec::new();
    for key in store.list("sources/")? {
        if key == format!("sources/{except}.dqc") || !key.ends_with(".dqc") {
            continue;
        }
        out.push(Source::new(key.clone(), get_text(store, &key)?));
    }
    Ok(out)
}

/// A draft that checks (the project with it and its contract hash), or its error messages.
type Checked = Result<(Project, String), Vec<String>>;

/// Checks a draft with the published contracts; the outcome and the draft's text.
fn check(store: &dyn ArtifactStore, t: &str, draft_key: &str) -> Result<(Checked, String), Error> {
    let text = get_text(store, draft_key)?;
    let mut sources = published(store, t)?;
    let draft_file = sources.len();
    sources.push(Source::new(draft_key, text.clone()));
    let checked = dqc_compiler::check(&sources);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let span = d.primary.span;
            if span.file.0 as usize == draft_file {
                format!("{}: {} (line {})", d.code.as_str(), d.message, line_of(&text, span.start as usize))
            } else {
                format!("{}: {}", d.code.as_str(), d.message)
            }
        })
        .collect();
    if !errors.is_empty() {
        return Ok((Err(errors), text));
    }
    let Some(contract) = checked.project.contracts.iter().find(|c| c.table.qualified() == t) else {
        return Ok((Err(vec![format!("the draft has no contract for {t}")]), text));
    };
    let hash = contract.hash.clone();
    Ok((Ok((checked.project, hash)), text))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
}

/// `{table, draft_key}` -> `{table, draft_key, ok, contract_hash, diagnostics}`.
fn compile(event: &CompileEvent, s: &Services<'_>) -> Result<CompileAnswer, Error> {
    let (t, _, _) = table(&event.table)?;
    let draft_key = event.draft_key.clone();
    Ok(match check(s.store, &t, &draft_key)?.0 {
        Ok((_, hash)) => {
            CompileAnswer { table: t, draft_key, ok: true, contract_hash: Some(hash), diagnostics: vec![] }
        }
        Err(diagnostics) => CompileAnswer { table: t, draft_key, ok: false, contract_hash: None, diagnostics },
    })
}

/// `{table, draft_key, contract_hash, task_token, execution, approvers}` -> `{approval_id}`:
/// records the request (the task token stays in the metadata store) and notifies the approvers.
fn request_approval(event: &RequestApprovalEvent, s: &Services<'_>, now: &str) -> Result<RequestApprovalAnswer, Error> {
    let (t, _, _) = table(&event.table)?;
    let (hash, token, draft_key) = (&event.contract_hash, &event.task_token, &event.draft_key);
    let approvers = event.approvers.clone().unwrap_or_default();
    let approval_id = format!("approval#{hash}");
    let previous = s.metadata.get(&table_pk(&t), "contract#current")?;
    // Links expire by the wall clock the approval service checks them against, whatever run
    // time the workflow measures freshness with.
    let unix = jiff::Timestamp::now().as_second();
    let ttl = s.approvals.map_or(APPROVAL_SECONDS, |a| a.ttl_seconds);
    let review_key = format!("onboarding/{t}/review-{}.json", hash.trim_start_matches("sha256:"));
    if s.approvals.is_some() {
        let review = review(s, &t, draft_key, now)?;
        put_json(s.store, &review_key, &crate::approval::review_json(&review))?;
    }
    let item = json!({
        "status": "pending",
        "table": t,
        "draft_key": draft_key,
        "contract_hash": hash,
        "previous": previous,
        "execution": given(event.execution.as_ref()),
        "approvers": approvers,
        "requested_at": now,
        "requester": given(event.requester.as_ref()).unwrap_or("the onboarding workflow"),
        "deadline": unix.saturating_add(ttl),
        "review_key": s.approvals.map(|_| review_key),
        "task_token": token,
    });
    s.metadata.put(&table_pk(&t), &approval_id, &item)?;
    if let Some(signer) = s.approvals {
        let who: Vec<&str> =
            if approvers.is_empty() { vec![ANYONE] } else { approvers.iter().map(String::as_str).collect() };
        let links: Vec<String> = who.iter().map(|a| format!("  {a}: {}", signer.link(&t, hash, a, unix))).collect();
        let message = format!(
            "A contract for {t} waits for your approval (draft {draft_key}, {hash}).\n\
             Review it and decide by following your link (valid for {} hours):\n{}",
            ttl / 3600,
            links.join("\n")
        );
        s.notifier.notify(&format!("Approve the contract for {t}?"), &message)?;
        return Ok(RequestApprovalAnswer { approval_id });
    }
    let message = format!(
        "A contract for {t} waits for your approval.\n\
         Draft: {draft_key} ({hash})\n\
         Approvers: {}\n\
         Approve: dqc workflow send-success {token} --output '{{\"decision\": \"approved\", \"approver\": \"<you>\"}}'\n\
         Reject:  dqc workflow send-failure {token} --error DqcRejected --cause '<why>'",
        if approvers.is_empty() { "(none named)".into() } else { approvers.join(", ") }
    );
    s.notifier.notify(&format!("Approve the contract for {t}?"), &message)?;
    Ok(RequestApprovalAnswer { approval_id })
}

/// How long an approval waits, as the onboarding state machine's approval step does (7 days).
const APPROVAL_SECONDS: i64 = 7 * 24 * 3600;

/// The approver of a link when the request names none: whoever holds the link.
pub const ANYONE: &str = "*";

/// The review of a draft: its rules against the approved version, backtested on the engine.
fn review(s: &Services<'_>, t: &str, draft_key: &str, now: &str) -> Result<crate::approval::Review, Error> {
    let (checked, text) = check(s.store, t, draft_key)?;
    let (project, _) = checked.map_err(|d| Error::fatal(format!("the draft does not check: {}", d.join("; "))))?;
    let approved = s.store.get(&format!("sources/{t}.dqc"))?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let previous_project = match &approved {
        Some(_) => {
            let checked = dqc_compiler::check(&published(s.store, "")?);
            (!checked.has_errors()).then_some(checked.project)
        }
        None => None,
    };
    let previous = previous_project.as_ref().zip(approved.as_deref());
    let inputs = crate::approval::ReviewInputs { project: &project, table: t, source: &text, previous, run_time: now };
    crate::approval::build_review(s.engine, &inputs)
}

/// `{table, draft_key, contract_hash, approval}` -> `{table, version, contract_key}`: compiles
/// the approved draft, writes its artifacts, and publishes the version once.
fn publish(event: &PublishEvent, s: &Services<'_>) -> Result<PublishAnswer, Error> {
    let (t, _, _) = table(&event.table)?;
    let draft_key = &event.draft_key;
    let approved_hash = &event.contract_hash;
    let (checked, text) = check(s.store, &t, draft_key)?;
    let (project, hash) =
        checked.map_err(|d| Error::fatal(format!("the approved draft no longer checks: {}", d.join("; "))))?;
    if hash != *approved_hash {
        return Err(Error::fatal(format!(
            "the draft changed after its approval ({approved_hash} approved, {hash} now): not published"
        )));
    }
    let (contract_key, _) = publish_contract(s.store, s.metadata, &project, &t)?;
    s.store.put(&format!("sources/{t}.dqc"), text.as_bytes())?;
    let mut record = s.metadata.get(&table_pk(&t), &format!("approval#{hash}"))?.unwrap_or_else(|| json!({}));
    record["status"] = json!("published");
    record["decision"] = event.approval.clone().unwrap_or(Value::Null);
    if let Some(o) = record.as_object_mut() {
        o.remove("task_token");
    }
    s.metadata.put(&table_pk(&t), &format!("approval#{hash}"), &record)?;
    Ok(PublishAnswer { table: t, version: hash, contract_key })
}

/// Writes every compiled artifact of one contract of `project`, its version under
/// `contracts/<stem>/<hash>.json` once, and names that version current in the metadata store.
/// Returns the version's key and how many artifacts were written beside it.
pub fn publish_contract(
    store: &dyn ArtifactStore,
    metadata: &dyn MetadataStore,
    project: &Project,
    table: &str,
) -> Result<(String, usize), Error> {
    let outputs = dqc_compiler::compile(project, Target::ALL);
    let contract = project
        .contracts
        .iter()
        .find(|c| c.table.qualified() == table)
        .ok_or_else(|| Error::fatal(format!("no contract for {table} in the project")))?;
    let stem = dqc_compiler::codegen::file_stem(project, contract);
    let mut written = 0;
    for f in outputs.iter().filter(|f| owned_by(&f.path, &stem)) {
        store.put(&f.path, f.contents.as_bytes())?;
        written += 1;
    }
    let latest = format!("contracts/{stem}.json");
    let f = outputs
        .iter()
        .find(|f| f.path == latest)
        .ok_or_else(|| Error::fatal(format!("the compiler wrote no {latest}")))?;
    let version = format!("contracts/{stem}/{}.json", contract.hash.trim_start_matches("sha256:"));
    store.put_if_absent(&version, f.contents.as_bytes())?;
    metadata.put(&table_pk(table), "contract#current", &json!({ "contract_hash": contract.hash, "key": version }))?;
    Ok((version, written))
}

/// Whether a compiled file belongs to the contract with file stem `stem`.
pub fn owned_by(path: &str, stem: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_prefix(stem).is_some_and(|rest| rest.starts_with('.') || rest.starts_with("_preload."))
}

/// `{}` -> `{tables}`: every published contract's table.
fn list_contracts(s: &Services<'_>) -> Result<ListContractsAnswer, Error> {
    let tables: Vec<String> = s
        .store
        .list("sources/")?
        .iter()
        .filter_map(|k| k.strip_prefix("sources/")?.strip_suffix(".dqc").map(str::to_owned))
        .collect();
    Ok(ListContractsAnswer { tables })
}

/// `{table, date, run_time?}` -> `{table, date, passed, failed_rules, results_key, stats_key}`;
/// a failed error-severity rule is `DqcContractViolation`, whose message names the failing
/// rules with their counts and the results record.
fn run_suite(event: &RunSuiteEvent, s: &Services<'_>, now: &str) -> Result<RunSuiteAnswer, Error> {
    let (t, _, _) = table(&event.table)?;
    let date = event.date.as_str();
    if jiff::civil::Date::strptime("%Y-%m-%d", date).is_err() {
        return Err(Error::fatal(format!("date `{date}` is not of the form YYYY-MM-DD")));
    }
    let run_time = given(event.run_time.as_ref()).unwrap_or(now);
    let sources = published(s.store, "")?;
    let checked = dqc_compiler::check(&sources);
    if checked.has_errors() {
        return Err(Error::fatal("the published contracts do not check together; run `dqc check` on them"));
    }
    let contract = checked
        .project
        .contracts
        .iter()
        .find(|c| c.table.qualified() == t)
        .ok_or_else(|| Error::fatal(format!("no published contract for {t}")))?;
    let suite = dqc_compiler::codegen::sql::suite(s.engine.dialect(), &checked.project, contract, false);
    let key = dqc_compiler::codegen::file_stem(&checked.project, contract);
    let job = TestJob { contract, suite: &suite, key: &key, date, run_time };
    let ports = Ports { catalog: s.catalog, engine: s.engine, store: s.store, metadata: s.metadata };
    let outcome = test_table(&ports, &job)?;
    let failed: Vec<FailedRule> = outcome
        .run
        .rules
        .iter()
        .filter(|r| matches!(r.status, crate::post_load::Status::Fail | crate::post_load::Status::Warn))
        .map(|r| FailedRule { id: r.rule_id.clone(), severity: r.severity.clone(), violations: r.violations })
        .collect();
    if outcome.run.passed {
        return Ok(RunSuiteAnswer {
            table: t,
            date: date.to_owned(),
            passed: true,
            row_count: outcome.run.row_count,
            failed_rules: failed,
            results_key: outcome.results_key,
            stats_key: outcome.stats_key,
        });
    }
    let list = |sev: &str| -> Vec<String> {
        failed.iter().filter(|r| r.severity == sev).map(|r| format!("{} ({})", r.id, r.violations)).collect()
    };
    let (errors, warnings) = (list("error"), list("warn"));
    let mut message = format!(
        "{t} violates its contract on {date}: {}",
        if errors.is_empty() { "the schema check failed".into() } else { errors.join(", ") }
    );
    if !warnings.is_empty() {
        message.push_str(&format!("; warnings: {}", warnings.join(", ")));
    }
    message.push_str(&format!("; results in {}", outcome.results_key));
    Err(Error { kind: ErrorKind::ContractViolation, message })
}
