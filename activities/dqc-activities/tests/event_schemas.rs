//! The JSON Schemas of the activities' events and answers: the committed files in
//! `activities/schemas/` are the ones the types generate (`DQC_BLESS=1` rewrites them), and
//! every task of the state machines sends each function an event its input schema accepts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::path::{Path, PathBuf};

use dqc_activities::events::schemas;
use dqc_activities::handlers::FUNCTIONS;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    let dir = root().join("activities/schemas");
    let generated = schemas();
    assert_eq!(generated.keys().copied().collect::<Vec<_>>(), {
        let mut f = FUNCTIONS.to_vec();
        f.sort_unstable();
        f
    });
    let bless = std::env::var_os("DQC_BLESS").is_some();
    let mut stale = Vec::new();
    for (function, schema) in &generated {
        let path = dir.join(format!("{function}.schema.json"));
        let text = format!("{}\n", serde_json::to_string_pretty(schema).unwrap());
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(stale.is_empty(), "out of date (rerun with DQC_BLESS=1): {stale:?}");
}

/// `ProfileFunctionArn` -> `dqc-profile`.
fn function_of(substitution: &str) -> String {
    let name = substitution.trim_start_matches("${").trim_end_matches('}').trim_end_matches("FunctionArn");
    let mut out = String::from("dqc");
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn tasks(states: &Value, out: &mut Vec<(String, Value)>) {
    for (name, state) in states.as_object().unwrap() {
        if state["Type"] == "Task" && state["Resource"].as_str().is_some_and(|r| r.contains(":lambda:invoke")) {
            out.push((name.clone(), state["Parameters"].clone()));
        }
        for branch in state["Branches"].as_array().into_iter().flatten() {
            tasks(&branch["States"], out);
        }
        for key in ["ItemProcessor", "Iterator"] {
            if state[key].is_object() {
                tasks(&state[key]["States"], out);
            }
        }
    }
}

#[test]
fn every_task_sends_an_event_its_function_accepts() {
    let generated = schemas();
    let mut checked = std::collections::BTreeSet::new();
    for file in ["onboard.asl.json", "nightly.asl.json"] {
        let machine: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join("statemachines").join(file)).unwrap()).unwrap();
        let mut found = Vec::new();
        tasks(&machine["States"], &mut found);
        for (state, parameters) in found {
            let function = function_of(parameters["FunctionName"].as_str().unwrap());
            let schema =
                &generated.get(function.as_str()).unwrap_or_else(|| panic!("{file} {state}: {function}"))["input"];
            let sent: Vec<String> = parameters["Payload"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.trim_end_matches(".$").to_owned())
                .collect();
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().unwrap();
                assert!(sent.iter().any(|k| k == required), "{file} {state} does not send `{required}` to {function}");
            }
            let known = schema["properties"].as_object().cloned().unwrap_or_default();
            for key in &sent {
                assert!(known.contains_key(key), "{file} {state} sends `{key}`, which {function} does not read");
            }
            checked.insert(function);
        }
    }
    let mut all: Vec<String> = FUNCTIONS.iter().map(|f| (*f).to_owned()).collect();
    all.sort();
    assert_eq!(checked.into_iter().collect::<Vec<_>>(), all, "every function is a task of a state machine");
}

#[test]
fn events_that_do_not_fit_are_refused_naming_the_field() {
    use dqc_activities::events::{DraftEvent, RunSuiteEvent};
    let e: DraftEvent =
        serde_json::from_value(serde_json::json!({"table": "a.b", "diagnostics": null, "attempt": 2})).unwrap();
    assert_eq!((e.diagnostics, e.attempt), (None, Some(2)));
    let wrong = serde_json::from_value::<RunSuiteEvent>(serde_json::json!({"table": "a.b", "date": 20240101}));
    assert!(wrong.unwrap_err().to_string().contains("expected a string"));
    let missing = serde_json::from_value::<RunSuiteEvent>(serde_json::json!({"table": "a.b"}));
    assert!(missing.unwrap_err().to_string().contains("`date`"));
}
