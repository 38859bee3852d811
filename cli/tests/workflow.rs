//! `dqc workflow`: the state machines of `statemachines/` run end to end on the example lake,
//! an execution killed mid-run resumes without running a completed task twice, mocked tasks
//! throw until their retries are spent, and task tokens are answered from the command line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod support;

fn dqc(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dqc")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().expect("run dqc")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dqc-workflow-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn history(home: &Path, name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(home.join("executions").join(name).join("history.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// How many events of this type the history has for states named `state`.
fn count(events: &[Value], ty: &str, state: &str) -> usize {
    events
        .iter()
        .filter(|e| {
            e["type"] == ty
                && e["dqcKey"].as_str().is_some_and(|k| k.rsplit('/').next().unwrap().starts_with(&format!("{state}#")))
        })
        .count()
}

#[test]
fn validate_accepts_the_shipped_state_machines_and_names_the_state_and_field_of_a_problem() {
    let out =
        dqc(&["workflow", "validate", "statemachines/onboard.asl.json", "statemachines/nightly.asl.json"], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let dir = scratch("validate");
    let mut broken: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("statemachines/nightly.asl.json")).unwrap()).unwrap();
    broken["States"]["ListContracts"]["Resource"] = json!("arn:aws:states:::glue:startJobRun.sync");
    broken["States"]["ListContracts"]["ItemReader"] = json!({});
    let path = dir.join("nightly.asl.json");
    write_json(&path, &broken);
    std::fs::copy(root().join("statemachines/substitutions.local.json"), dir.join("substitutions.local.json")).unwrap();
    let out = dqc(&["workflow", "validate", s(&path)], &root());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "state `ListContracts`, field `ItemReader`: a distributed Map reading its items from S3 is not supported"
        ),
        "{err}"
    );

    broken["States"]["ListContracts"].as_object_mut().unwrap().remove("ItemReader");
    write_json(&path, &broken);
    let err = text(&dqc(&["workflow", "validate", s(&path)], &root()).stderr);
    assert!(
        err.contains(
            "state `ListContracts`, field `Resource`: the service integration `glue:startJobRun.sync` is not supported"
        ),
        "{err}"
    );
}

#[test]
fn diagram_is_mermaid_generated_from_the_json() {
    let out = dqc(&["workflow", "diagram", "statemachines/nightly.asl.json"], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mermaid = text(&out.stdout);
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    assert!(mermaid.contains("(Map, per item)"), "{mermaid}");
    assert_eq!(
        mermaid,
        text(&dqc(&["workflow", "diagram", "statemachines/nightly.asl.json"], &root()).stdout),
        "deterministic"
    );
}

/// The example lake and a workflow home beside it.
fn example(name: &str) -> (PathBuf, PathBuf) {
    let home = scratch(name);
    let lake = home.join("lake");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", s(&lake)], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    (home, lake)
}

fn waiting_token(home: &Path) -> String {
    let out = dqc(&["workflow", "list", "--home", s(home)], &root());
    let listing = text(&out.stdout);
    let line =
        listing.lines().find(|l| l.starts_with("token\t")).unwrap_or_else(|| panic!("no waiting token in:\n{listing}"));
    line.split('\t').nth(1).unwrap().to_owned()
}

#[test]
fn onboarding_stops_for_approval_then_publishes_and_the_nightly_run_tests_the_table() {
    let (home, lake) = example("onboard");
    let input = home.join("input.json");
    write_json(
        &input,
        &json!({"table": "analytics_db.loan_repayment_fact", "script_key": null, "draft_key": null, "approvers": ["owner@example.com"]}),
    );
    let run_time = "2024-01-22 06:00:00";
    let out = dqc(
        &[
            "workflow",
            "run",
            "statemachines/onboard.asl.json",
            "--input",
            s(&input),
            "--name",
            "onboard-1",
            "--home",
            s(&home),
            "--lake",
            s(&lake),
            "--run-time",
            run_time,
        ],
        &root(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "waits on the approval: {err}");
    assert!(err.contains("state RequestApproval waits on task token"), "{err}");
    let token = waiting_token(&home);
    // The approval request is recorded, with the token kept server-side, and the approvers notified.
    let approvals: Vec<PathBuf> =
        walk(&home.join("metadata")).into_iter().filter(|p| p.to_string_lossy().contains("approval")).collect();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    let notifications = std::fs::read_to_string(home.join("notifications.jsonl")).unwrap();
    assert!(notifications.contains(&format!("dqc workflow send-success {token}")), "{notifications}");

    // Resuming before anyone answers waits again and runs nothing twice.
    let out = dqc(&["workflow", "resume", "onboard-1", "--home", s(&home)], &root());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let events = history(&home, "onboard-1");
    assert_eq!(count(&events, "TaskScheduled", "Profile"), 1);
    assert_eq!(count(&events, "TaskScheduled", "RequestApproval"), 1);

    let decision = json!({"decision": "approved", "approver": "owner@example.com", "decided_at": run_time}).to_string();
    let out = dqc(&["workflow", "send-success", &token, "--output", &decision, "--home", s(&home)], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let again = dqc(&["workflow", "send-failure", &token, "--error", "DqcRejected", "--home", s(&home)], &root());
    assert_eq!(again.status.code(), Some(2), "the first answer stands");
    assert!(text(&again.stderr).contains("already answered"), "{}", text(&again.stderr));

    let out = dqc(&["workflow", "resume", "onboard-1", "--home", s(&home)], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let output: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = output.pointer("/published/contract_key").and_then(Value::as_str).unwrap_or_else(|| panic!("{output}"));
    assert!(home.join("artifacts").join(key).is_file(), "{key}");
    assert!(home.join("artifacts/sources/analytics_db.loan_repayment_fact.dqc").is_file());
    let events = history(&home, "onboard-1");
    assert_eq!(count(&events, "TaskScheduled", "Profile"), 1, "no completed task ran twice");
    assert_eq!(events.iter().filter(|e| e["type"] == "ExecutionStarted").count(), 1);
    assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");
    let again = dqc(&["workflow", "resume", "onboard-1", "--home", s(&home)], &root());
    assert_eq!(again.status.code(), Some(2), "an ended execution is not resumed");

    let input = home.join("nightly.json");
    write_json(&input, &json!({"date": "2024-01-22"}));
    let out = dqc(
        &[
            "workflow",
            "run",
            "statemachines/nightly.asl.json",
            "--input",
            s(&input),
            "--name",
            "nightly-1",
            "--home",
            s(&home),
            "--lake",
            s(&lake),
            "--run-time",
            run_time,
        ],
        &root(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let output: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = output["results"].as_array().unwrap_or_else(|| panic!("{output}"));
    assert_eq!(results.len(), 1, "{output}");
    assert_eq!(results[0]["table"], "analytics_db.loan_repayment_fact");
    assert!(home.join("artifacts/results/loan_repayment_fact/2024-01-22.json").is_file());
    assert!(home.join("artifacts/stats-history/loan_repayment_fact/2024-01-22.json").is_file());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_rejection_ends_the_onboarding_with_the_reason() {
    let (home, lake) = example("reject");
    let input = home.join("input.json");
    write_json(
        &input,
        &json!({"table": "analytics_db.dim_customer", "script_key": null, "draft_key": null, "approvers": []}),
    );
    let args = [
        "workflow",
        "run",
        "statemachines/onboard.asl.json",
        "--input",
        s(&input),
        "--name",
        "onboard-2",
        "--home",
        s(&home),
        "--lake",
        s(&lake),
    ];
    let out = dqc(&args, &root());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let token = waiting_token(&home);
    let out = dqc(
        &[
            "workflow",
            "send-failure",
            &token,
            "--error",
            "DqcRejected",
            "--cause",
            "emails must be unique",
            "--home",
            s(&home),
        ],
        &root(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = dqc(&["workflow", "resume", "onboard-2", "--home", s(&home)], &root());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("error: DqcRejected"), "{err}");
    assert!(err.contains("emails must be unique"), "{err}");
    assert!(!home.join("artifacts/sources/analytics_db.dim_customer.dqc").exists(), "nothing is published");
}

#[test]
fn a_task_that_throws_until_its_retries_are_spent_is_caught_and_fails_the_execution() {
    let home = scratch("mock-retries");
    let mocks = home.join("mocks.json");
    write_json(
        &mocks,
        &json!({
            "StateMachines": {"onboard": {"TestCases": {"ProfileThrottled": {"Profile": "Throttled", "NotifyFailure": "Sent"}}}},
            "MockedResponses": {
                "Throttled": {"0-3": {"Throw": {"Error": "DqcRetryable", "Cause": "Rate exceeded"}}},
                "Sent": {"0": {"Return": {"MessageId": "m-1"}}}
            }
        }),
    );
    let input = home.join("input.json");
    write_json(&input, &json!({"table": "analytics_db.t", "script_key": null, "draft_key": null, "approvers": []}));
    let out = dqc(
        &[
            "workflow",
            "run",
            "statemachines/onboard.asl.json",
            "--input",
            s(&input),
            "--name",
            "throttled",
            "--home",
            s(&home),
            "--mock-config",
            s(&mocks),
            "--test-case",
            "ProfileThrottled",
            "--no-wait",
        ],
        &root(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: DqcRetryable"), "{err}");
    assert!(err.contains("Rate exceeded"), "{err}");
    let events = history(&home, "throttled");
    assert_eq!(count(&events, "TaskScheduled", "Profile"), 4, "the first attempt and three retries");
    assert_eq!(count(&events, "TaskFailed", "Profile"), 4);
    assert_eq!(count(&events, "TaskScheduled", "Summarize"), 0);
    assert_eq!(count(&events, "TaskSucceeded", "NotifyFailure"), 1, "the failure is notified");
    assert_eq!(events.last().unwrap()["type"], "ExecutionFailed");
}

#[test]
fn an_execution_killed_mid_run_resumes_without_running_a_completed_task_twice() {
    let home = scratch("kill");
    let machine = home.join("steps.asl.json");
    write_json(
        &machine,
        &json!({
            "Comment": "profile, wait, compile",
            "StartAt": "First",
            "States": {
                "First": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:dqc-profile", "ResultPath": "$.first", "Next": "Pause"},
                "Pause": {"Type": "Wait", "Seconds": 3, "Next": "Second"},
                "Second": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:dqc-compile", "ResultPath": "$.second", "End": true}
            }
        }),
    );
    let mocks = home.join("mocks.json");
    write_json(
        &mocks,
        &json!({
            "StateMachines": {"steps": {"TestCases": {"Ok": {"First": "One", "Second": "Two"}}}},
            "MockedResponses": {"One": {"0": {"Return": {"n": 1}}}, "Two": {"0": {"Return": {"n": 2}}, "1": {"Throw": {"Error": "RanTwice"}}}}
        }),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_dqc"))
        .args([
            "workflow",
            "run",
            s(&machine),
            "--name",
            "steps-1",
            "--home",
            s(&home),
            "--mock-config",
            s(&mocks),
            "--test-case",
            "Ok",
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while count(&history(&home, "steps-1"), "WaitStateEntered", "Pause") == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the run never reached the Wait state");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let events = history(&home, "steps-1");
    assert_eq!(count(&events, "LambdaFunctionSucceeded", "First"), 1);
    assert_eq!(count(&events, "LambdaFunctionScheduled", "Second"), 0, "killed before the second task");

    let out = dqc(&["workflow", "resume", "steps-1", "--home", s(&home)], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let output: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(output, json!({"first": {"n": 1}, "second": {"n": 2}}));
    let events = history(&home, "steps-1");
    assert_eq!(count(&events, "LambdaFunctionScheduled", "First"), 1, "the completed task did not run again");
    assert_eq!(count(&events, "LambdaFunctionScheduled", "Second"), 1);
    assert_eq!(count(&events, "WaitStateEntered", "Pause"), 1);
    assert_eq!(events.iter().filter(|e| e["type"] == "ExecutionStarted").count(), 1);
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "event ids continue across the resume");
}

#[test]
fn the_diagrams_in_the_statemachines_readme_are_the_generated_ones() {
    let readme = std::fs::read_to_string(root().join("statemachines/README.md")).unwrap();
    for name in ["onboard", "nightly"] {
        let marker = format!(
            "<!-- diagram: {name} (generated: dqc workflow diagram statemachines/{name}.asl.json) -->\n```mermaid\n"
        );
        let start = readme.find(&marker).unwrap_or_else(|| panic!("no diagram of {name} in statemachines/README.md"))
            + marker.len();
        let end = start + readme[start..].find("```").unwrap();
        let path = format!("statemachines/{name}.asl.json");
        let generated = text(&dqc(&["workflow", "diagram", &path], &root()).stdout);
        assert_eq!(&readme[start..end], generated, "regenerate the {name} diagram in statemachines/README.md");
    }
}

#[test]
fn athena_tasks_run_on_duckdb_over_the_lake_with_bound_parameters() {
    let (home, lake) = example("athena");
    let machine = home.join("query.asl.json");
    let query = |param: &str| {
        json!({
            "StartAt": "Query",
            "States": {
                "Query": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                    "Parameters": {
                        "QueryString": "SELECT count(*) AS n, min(loan_id) <> ? AS differs FROM analytics_db.dim_loan",
                        "ExecutionParameters": [param],
                        "WorkGroup": "primary"
                    },
                    "ResultSelector": {"id.$": "$.QueryExecution.QueryExecutionId", "state.$": "$.QueryExecution.Status.State"},
                    "ResultPath": "$.query",
                    "Next": "Results"
                },
                "Results": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::athena:getQueryResults",
                    "Parameters": {"QueryExecutionId.$": "$.query.id"},
                    "ResultSelector": {"columns.$": "$.ResultSet.ResultSetMetadata.ColumnInfo[*].Name", "rows.$": "$.ResultSet.Rows"},
                    "End": true
                }
            }
        })
    };
    write_json(&machine, &query("'it''s'"));
    let out = dqc(&["workflow", "run", s(&machine), "--home", s(&home), "--lake", s(&lake)], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let output: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(output["columns"], json!(["n", "differs"]), "{output}");
    assert_eq!(
        output["rows"][0]["Data"],
        json!([{"VarCharValue": "n"}, {"VarCharValue": "differs"}]),
        "the header row first"
    );
    let n: u64 = output["rows"][1]["Data"][0]["VarCharValue"].as_str().unwrap().parse().unwrap();
    assert!(n > 0, "{output}");
    assert_eq!(output["rows"][1]["Data"][1]["VarCharValue"], "true", "the quoted literal was bound as the text it's");

    write_json(&machine, &query("'it's'"));
    let out = dqc(&["workflow", "run", s(&machine), "--home", s(&home), "--lake", s(&lake)], &root());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unescaped quote"), "{}", text(&out.stderr));
}

#[test]
fn the_drafting_step_drafts_with_the_llm_sends_the_diagnostics_back_and_offline_rules_stand_in() {
    let (home, lake) = example("onboard-llm");
    let input = home.join("input.json");
    write_json(
        &input,
        &json!({"table": "analytics_db.dim_customer", "script_key": null, "draft_key": null, "approvers": ["owner@example.com"]}),
    );
    // Every answer has a rule that never compiles (an invalid regex).
    let bad = support::chat(&support::dim_customer(json!({"type": "regex", "pattern": "([", "because": "a guess"})));
    let (url, seen) = support::loopback_llm(vec![bad.clone(), bad.clone(), bad]);
    let out = dqc(
        &[
            "workflow",
            "run",
            "statemachines/onboard.asl.json",
            "--input",
            s(&input),
            "--name",
            "onboard-llm",
            "--home",
            s(&home),
            "--lake",
            s(&lake),
            "--run-time",
            "2024-01-22 06:00:00",
            "--draft-provider",
            "openai",
            "--draft-model",
            "local-model",
            "--draft-endpoint",
            &format!("{url}/v1"),
        ],
        &root(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "waits on the approval: {err}");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "three answers asked in the drafting step");
    let first = requests[0].json();
    assert_eq!(first["model"], "local-model");
    assert!(first["messages"][1]["content"].as_str().unwrap().contains("\"table_name\": \"dim_customer\""));
    let feedback = requests[1].json()["messages"][3]["content"].as_str().unwrap().to_string();
    assert!(feedback.contains("does not compile") && feedback.contains("segment"), "{feedback}");
    let draft =
        std::fs::read_to_string(home.join("artifacts/onboarding/analytics_db.dim_customer/draft-1.dqc")).unwrap();
    assert!(draft.starts_with("-- Drafted by openai model local-model"), "{draft}");
    assert!(draft.contains("1 rule(s) of the last answer never compiled and are left out"), "{draft}");
    assert!(draft.contains("email matches '^[^@]+@[^@]+$'"), "{draft}");
    assert!(draft.contains("-- offline stand-in for a rule of the answer that never compiled:"), "{draft}");
    let events = history(&home, "onboard-llm");
    assert_eq!(count(&events, "TaskScheduled", "Draft"), 1, "the draft compiled at once with the published contracts");
    assert_eq!(count(&events, "TaskScheduled", "RequestApproval"), 1);
    let bad = dqc(
        &[
            "workflow",
            "run",
            "statemachines/onboard.asl.json",
            "--input",
            s(&input),
            "--home",
            s(&home),
            "--draft-provider",
            "bedrock",
        ],
        &root(),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--draft-provider bedrock needs --draft-model"), "{}", text(&bad.stderr));
}
