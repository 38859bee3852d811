//! The drafting loop: ask, read the answer tolerantly (`dqc import`), check the contract, and
//! when it does not compile send the diagnostics back and ask again, at most N times; then fall
//! back to the offline draft and say so. The LLM never decides structure alone: what it
//! returns is a draft only once the compiler accepts it.

use dqc_compiler::diagnostics::{Code, Diagnostic, FileId};
use dqc_compiler::Source;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::provider::{Message, Provider, ProviderError, Role};

/// The versioned prompt: its name and text (`prompts/draft-v1.md`).
pub const PROMPT_NAME: &str = "draft-v1";
/// The prompt's text.
pub const PROMPT: &str = include_str!("../prompts/draft-v1.md");

/// `sha256:<hex>` of the prompt, recorded in every draft's provenance.
pub fn prompt_hash() -> String {
    let digest = Sha256::digest(PROMPT.as_bytes());
    format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// What one attempt gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1-based.
    pub number: u32,
    /// HTTP requests it took (retries included).
    pub requests: u32,
    /// `compiled`, or why the answer was sent back.
    pub outcome: String,
}

/// A draft from an LLM, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LlmDraft {
    /// The formatted contract, headed by its provenance.
    pub text: String,
    /// `openai` or `gemini`.
    pub provider: String,
    /// The model.
    pub model: String,
    /// The prompt's name and hash.
    pub prompt: String,
    /// Every attempt.
    pub attempts: Vec<Attempt>,
    /// Prompt tokens over all attempts.
    pub prompt_tokens: u64,
    /// Answer tokens over all attempts.
    pub completion_tokens: u64,
    /// True when no answer compiled and the draft is the offline one.
    pub fell_back: bool,
    /// Rules of the last answer that never compiled and were left out of a draft otherwise
    /// taken from that answer (the rest of it compiled).
    pub left_out: Vec<String>,
    /// Rules of the offline draft that stand in for the ones left out (on the same columns).
    pub stand_ins: Vec<String>,
}

/// Loop settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopOptions {
    /// Most answers asked for.
    pub max_attempts: u32,
}

impl Default for LoopOptions {
    fn default() -> Self {
        LoopOptions { max_attempts: 3 }
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Diagnostics as text for the model: code, message, where, the line itself, and help.
fn render(diagnostics: &[&Diagnostic], texts: &[&str]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let text = texts.get(d.primary.span.file.0 as usize).copied().unwrap_or("");
        let (line, col) = line_col(text, d.primary.span.start as usize);
        let shown = text.lines().nth(line.saturating_sub(1)).unwrap_or("").trim();
        out.push_str(&format!("error[{}]: {} (line {line}, column {col}: `{shown}`)\n", d.code.as_str(), d.message));
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

/// The table's name and columns (name, type) as the context describes them.
fn expected(context: &Value) -> (String, Vec<(String, String)>) {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let table = format!("{}.{}", text(context, "database"), text(context, "table_name"));
    let columns = context
        .get("schema")
        .and_then(Value::as_array)
        .map(|cols| cols.iter().map(|c| (text(c, "name"), text(c, "type"))).collect())
        .unwrap_or_default();
    (table, columns)
}

/// How a checked contract differs from the table it is for: its name, its columns and their
/// types. A contract that compiles but describes another table is not a draft of this one.
fn mismatches(project: &dqc_compiler::ir::Project, context: &Value) -> Vec<String> {
    let (table, columns) = expected(context);
    let Some(contract) = project.contracts.last() else { return vec!["the answer has no contract".to_string()] };
    let mut out = Vec::new();
    if !contract.table.qualified().eq_ignore_ascii_case(&table) {
        out.push(format!(
            "the contract is for `{}`, but the table is `{table}`: use that name",
            contract.table.qualified()
        ));
    }
    for c in &contract.columns {
        match columns.iter().find(|(n, _)| n.eq_ignore_ascii_case(&c.name)) {
            None => out.push(format!("column `{}` is not in the table's schema", c.name)),
            Some((_, ty)) if !ty.is_empty() && dqc_compiler::ir::Type::to_string(&c.ty) != *ty => {
                out.push(format!("column `{}` is `{}` in the schema, not `{}`", c.name, ty, c.ty))
            }
            Some(_) => {}
        }
    }
    for (n, _) in &columns {
        if !contract.columns.iter().any(|c| c.name.eq_ignore_ascii_case(n)) {
            out.push(format!("column `{n}` of the table's schema is missing"));
        }
    }
    out
}

/// Reads and checks an answer; the contract text, or the diagnostics to send back.
fn verify(answer: &str, known: &[Source], context: &Value) -> Result<(String, Vec<String>), String> {
    let (contract, diagnostics) = dqc_compiler::import_seed(answer, FileId(0));
    // What the importer approximated or dropped is said in the draft, for the reviewer.
    let notes: Vec<String> = diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| format!("-- the importer: {} {}\n", d.code.as_str(), d.message.replace('\n', " ")))
        .collect();
    let import_errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    let Some(contract) = contract.filter(|_| import_errors.is_empty()) else {
        return Err(format!(
            "Your answer could not be read as the JSON object asked for:\n{}",
            render(&import_errors, &[answer])
        ));
    };
    let mut sources = known.to_vec();
    sources.push(Source::new("draft.dqc", contract.clone()));
    let checked = dqc_compiler::check(&sources);
    // References to tables without a contract yet are for the approver, not errors of the draft.
    let errors: Vec<&Diagnostic> =
        checked.diagnostics.iter().filter(|d| d.is_error() && d.code != Code::UnknownTable).collect();
    if errors.is_empty() {
        let differences = mismatches(&checked.project, context);
        if differences.is_empty() {
            return Ok((contract, notes));
        }
        return Err(format!(
            "The contract drafted from your answer does not describe this table:\n{}\n",
            differences.iter().map(|d| format!("- {d}")).collect::<Vec<_>>().join("\n")
        ));
    }
    let texts: Vec<&str> = sources.iter().map(|s| s.text.as_str()).collect();
    Err(format!("The contract drafted from your answer does not compile:\n{}", render(&errors, &texts)))
}

/// Drafts with `provider` from `context` (the seed context JSON), checking against the
/// contracts in `known`. `offline` gives the offline draft, used when no answer compiles.
/// A provider that keeps failing (HTTP) is an error: never a half-written draft.
pub async fn draft(
    provider: &dyn Provider,
    context: &Value,
    known: &[Source],
    offline: impl FnOnce() -> Result<String, String>,
    options: LoopOptions,
) -> Result<LlmDraft, ProviderError> {
    draft_after(provider, context, known, offline, options, &[]).await
}

/// [`draft`] after an earlier draft of the same table was refused with `earlier` (the
/// compiler's words, from the onboarding workflow's compile step): the request says so.
pub async fn draft_after(
    provider: &dyn Provider,
    context: &Value,
    known: &[Source],
    offline: impl FnOnce() -> Result<String, String>,
    options: LoopOptions,
    earlier: &[String],
) -> Result<LlmDraft, ProviderError> {
    let schema = crate::schema::answer_schema();
    let pretty = serde_json::to_string_pretty(context).unwrap_or_default();
    let mut request = format!("Draft the data contract of this table.\n\nContext:\n{pretty}");
    if !earlier.is_empty() {
        request.push_str(
            "\n\nAn earlier draft of this table did not compile with the published contracts; avoid these errors:\n",
        );
        for e in earlier {
            request.push_str(&format!("- {e}\n"));
        }
    }
    let mut messages = vec![
        Message { role: Role::System, content: PROMPT.to_string() },
        Message { role: Role::User, content: request },
    ];
    let prompt = format!("{PROMPT_NAME} ({})", prompt_hash());
    let mut out = LlmDraft {
        text: String::new(),
        provider: provider.name().to_string(),
        model: provider.model().to_string(),
        prompt: prompt.clone(),
        attempts: Vec::new(),
        prompt_tokens: 0,
        completion_tokens: 0,
        fell_back: false,
        left_out: Vec::new(),
        stand_ins: Vec::new(),
    };
    let mut last = String::new();
    let mut last_answer = String::new();
    for number in 1..=options.max_attempts.max(1) {
        let answer = provider.complete(&messages, &schema).await?;
        out.prompt_tokens += answer.prompt_tokens;
        out.completion_tokens += answer.completion_tokens;
        match verify(&answer.text, known, context) {
            Ok((contract, notes)) => {
                out.attempts.push(Attempt { number, requests: answer.requests, outcome: "compiled".to_string() });
                let header = format!(
                    "-- Drafted by {} model {} with prompt {prompt}: {} attempt(s), {} prompt and {} answer tokens. Review every rule before approving it.\n{}",
                    out.provider,
                    out.model,
                    number,
                    out.prompt_tokens,
                    out.completion_tokens,
                    notes.concat()
                );
                out.text =
                    dqc_compiler::format(&format!("{header}{contract}")).unwrap_or(format!("{header}{contract}"));
                return Ok(out);
            }
            Err(feedback) => {
                let first = feedback.lines().nth(1).unwrap_or(&feedback).to_string();
                out.attempts.push(Attempt { number, requests: answer.requests, outcome: first.clone() });
                last = first;
                last_answer = answer.text.clone();
                messages.push(Message { role: Role::Assistant, content: answer.text });
                messages.push(Message {
                    role: Role::User,
                    content: format!("{feedback}\nFix exactly these and answer with the whole corrected JSON object."),
                });
            }
        }
    }
    let offline = offline().map_err(|e| ProviderError { message: format!("the offline fallback failed: {e}") })?;
    // The rules that compiled are kept; the offline draft stands in for the others.
    if let Some(kept) = salvage(&last_answer, known, context, &offline) {
        let header = format!(
            "-- Drafted by {} model {} with prompt {prompt}: {} attempt(s), {} prompt and {} answer tokens. {} rule(s) of the last answer never compiled and are left out ({}); {} rule(s) of the offline draft on the same columns stand in for them, each after a comment that says so. Review every rule before approving it.\n",
            out.provider,
            out.model,
            out.attempts.len(),
            out.prompt_tokens,
            out.completion_tokens,
            kept.left_out.len(),
            kept.left_out.iter().map(|r| shorten(r)).collect::<Vec<_>>().join("; "),
            kept.stand_ins.len(),
        );
        out.text = dqc_compiler::format(&format!("{header}{}", kept.text)).unwrap_or(format!("{header}{}", kept.text));
        out.left_out = kept.left_out;
        out.stand_ins = kept.stand_ins;
        return Ok(out);
    }
    out.fell_back = true;
    let header = format!(
        "-- The {} answers (model {}, prompt {prompt}) did not compile in {} attempt(s) (last: {}); this is the offline draft.\n",
        out.provider,
        out.model,
        out.attempts.len(),
        last.replace('\n', " ")
    );
    out.text = format!("{header}{offline}");
    Ok(out)
}

/// The part of an answer that compiles, with offline stand-ins for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Salvaged {
    /// The contract text.
    text: String,
    /// The answer's rules left out (their text, or the importer's words for a rule it could
    /// not read).
    left_out: Vec<String>,
    /// The offline rules added.
    stand_ins: Vec<String>,
}

/// Most rounds of leaving out rules that do not compile.
const PRUNE_ROUNDS: usize = 8;

/// The answer's contract without the rules that do not compile, plus the offline draft's rules
/// on the columns those rules were about. `None` when the rest does not compile either (its
/// columns or header are wrong), when no rule of the answer compiles, or when it does not
/// describe the table: then the whole offline draft is the draft.
fn salvage(answer: &str, known: &[Source], context: &Value, offline: &str) -> Option<Salvaged> {
    let (contract, diagnostics) = dqc_compiler::import_seed(answer, FileId(0));
    let contract = contract?;
    let (_, columns) = expected(context);
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    // Rules the importer could not read are already absent; their columns still get stand-ins.
    // The importer's words on each rule it could not read, with the column it was under.
    let mut unread_columns: Vec<&str> = Vec::new();
    let unread: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let under = column_at(answer, d.primary.span.start as usize, &names);
            unread_columns.extend(under);
            let under = under.map(|c| format!(" (column `{c}`)")).unwrap_or_default();
            format!("{}: {}{under}", d.code.as_str(), d.message)
        })
        .collect();
    let (text, pruned) = prune(contract, known)?;
    let left_out: Vec<String> = unread.iter().chain(&pruned).cloned().collect();
    if rules_of(&text).is_empty() {
        return None;
    }
    let checked = dqc_compiler::check(&[known.to_vec(), vec![Source::new("draft.dqc", text.clone())]].concat());
    if !mismatches(&checked.project, context).is_empty() {
        return None;
    }
    if left_out.is_empty() {
        return Some(Salvaged { text, left_out, stand_ins: Vec::new() });
    }
    // The columns of the rules left out: where the importer found them, and the names the
    // refused rules use (outside their strings).
    let said: Vec<String> = pruned.iter().map(|r| without_strings(r)).collect();
    let affected: Vec<&str> =
        names.iter().copied().filter(|n| unread_columns.contains(n) || said.iter().any(|r| mentions(r, n))).collect();
    let present: Vec<String> = rules_of(&text).iter().map(|r| body_of(r)).collect();
    let stand_ins: Vec<String> = rules_of(offline)
        .into_iter()
        .filter(|r| affected.iter().any(|c| mentions(&without_strings(r), c)) && !present.contains(&body_of(r)))
        .collect();
    if stand_ins.is_empty() {
        return Some(Salvaged { text, left_out, stand_ins });
    }
    let close = rules_close(&text)?;
    let mut with = text[..close].to_string();
    for r in &stand_ins {
        with.push_str("-- offline stand-in for a rule of the answer that never compiled:\n");
        with.push_str(r);
        with.push('\n');
    }
    with.push_str(&text[close..]);
    // A stand-in that does not compile beside the answer's rules (a clashing id) is left out too.
    let (with, refused) = prune(with, known)?;
    let stand_ins = stand_ins.into_iter().filter(|r| !refused.contains(r)).collect();
    Some(Salvaged { text: with, left_out, stand_ins })
}

/// `text` without the rules that have errors, and those rules' texts; `None` when an error is
/// outside every rule.
fn prune(mut text: String, known: &[Source]) -> Option<(String, Vec<String>)> {
    let mut dropped = Vec::new();
    for _ in 0..PRUNE_ROUNDS {
        let mut sources = known.to_vec();
        let file = sources.len();
        sources.push(Source::new("draft.dqc", text.clone()));
        let checked = dqc_compiler::check(&sources);
        let errors: Vec<&Diagnostic> =
            checked.diagnostics.iter().filter(|d| d.is_error() && d.code != Code::UnknownTable).collect();
        if errors.is_empty() {
            return Some((text, dropped));
        }
        let spans = rule_spans(&text);
        let mut cut: Vec<(usize, usize)> = Vec::new();
        for e in errors {
            if e.primary.span.file.0 as usize != file {
                return None;
            }
            let at = e.primary.span.start as usize;
            let (start, end) = spans.iter().copied().find(|(s, e)| (*s..*e).contains(&at))?;
            if !cut.contains(&(start, end)) {
                cut.push((start, end));
            }
        }
        cut.sort_unstable();
        for (start, end) in cut.into_iter().rev() {
            let (line_start, line_end) = whole_lines(&text, start, end);
            dropped.push(text[start..end].to_string());
            text.replace_range(line_start..line_end, "");
        }
    }
    None
}

/// Byte ranges of the rules of the first contract in `text`.
fn rule_spans(text: &str) -> Vec<(usize, usize)> {
    let Ok(file) = dqc_compiler::syntax::parse(text, FileId(0)) else { return Vec::new() };
    let mut out = Vec::new();
    for contract in file.contracts.iter().take(1) {
        for item in &contract.items {
            if let dqc_compiler::syntax::ast::ItemKind::Rules(block) = &item.kind {
                out.extend(block.entries.iter().map(|r| (r.span.start as usize, r.span.end as usize)));
            }
        }
    }
    out
}

/// The texts of the rules of the first contract in `text`.
fn rules_of(text: &str) -> Vec<String> {
    rule_spans(text).into_iter().filter_map(|(s, e)| text.get(s..e)).map(str::to_string).collect()
}

/// Where the closing line of the first `rules` block starts.
fn rules_close(text: &str) -> Option<usize> {
    let file = dqc_compiler::syntax::parse(text, FileId(0)).ok()?;
    let contract = file.contracts.first()?;
    contract.items.iter().find_map(|item| match &item.kind {
        dqc_compiler::syntax::ast::ItemKind::Rules(block) => {
            let close = block.close.start as usize;
            Some(text[..close].rfind('\n').map_or(0, |i| i + 1))
        }
        _ => None,
    })
}

/// The lines `start..end` lies on, with the last line's end of line.
fn whole_lines(text: &str, start: usize, end: usize) -> (usize, usize) {
    let first = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let last = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    (first, last)
}

/// A rule's text without its string literals (`because`, values), for comparing rules and
/// finding the columns they name.
fn without_strings(rule: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in rule.chars() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// The column whose entry in the answer's `columns` holds byte `at`: the schema column whose
/// key comes last before it, unless `table_level_checks` comes later still.
fn column_at<'n>(answer: &str, at: usize, names: &[&'n str]) -> Option<&'n str> {
    let before = answer.get(..at)?;
    let table_level = before.rfind("\"table_level_checks\"");
    names
        .iter()
        .filter_map(|n| before.rfind(&format!("\"{n}\"")).map(|i| (i, *n)))
        .max()
        .filter(|(i, _)| table_level.is_none_or(|t| t < *i))
        .map(|(_, n)| n)
}

/// At most 100 characters of `text`, on one line.
fn shorten(text: &str) -> String {
    let line = text.replace('\n', " ");
    match line.char_indices().nth(100) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line,
    }
}

/// What a rule requires, for comparing rules: its text without the id and the string
/// literals, with single spaces.
fn body_of(rule: &str) -> String {
    let bare = without_strings(rule);
    let body = match bare.split_once(':') {
        Some((id, rest)) if !id.trim().is_empty() && !id.trim().contains(char::is_whitespace) => rest,
        _ => bare.as_str(),
    };
    body.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `text` has `column` as a word (bare, quoted in backticks, or in a JSON path).
fn mentions(text: &str, column: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word.eq_ignore_ascii_case(column))
}
