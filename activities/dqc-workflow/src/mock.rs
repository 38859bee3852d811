//! Mocked task responses in the format of AWS Step Functions Local's `MockConfigFile`:
//!
//! ```json
//! {"StateMachines": {"onboard": {"TestCases": {"HappyPath": {"Profile": "ProfileOk"}}}},
//!  "MockedResponses": {"ProfileOk": {"0": {"Return": {"Payload": {}}},
//!                                    "1-2": {"Throw": {"Error": "DqcRetryable", "Cause": "busy"}}}}}
//! ```
//!
//! A mocked state's task is not called: its `n`th invocation (counting from 0, retries
//! included) returns or throws what the key covering `n` says. Past the last key, the last
//! response repeats.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Failure;

/// One test case: the mocked response of each mocked state.
#[derive(Debug, Clone, Default)]
pub struct MockCase {
    pub states: BTreeMap<String, Vec<(u32, u32, Response)>>,
}

/// A mocked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Return(Value),
    Throw(Failure),
}

impl MockCase {
    /// Reads test case `case` of state machine `machine` from a mock configuration.
    pub fn load(config: &Value, machine: &str, case: &str) -> Result<MockCase, String> {
        let machines = config
            .get("StateMachines")
            .and_then(Value::as_object)
            .ok_or("the mock configuration has no `StateMachines` object")?;
        let m = machines.get(machine).ok_or_else(|| {
            format!(
                "the mock configuration has no state machine `{machine}` (it has: {})",
                machines.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
        let cases = m
            .get("TestCases")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("state machine `{machine}` has no `TestCases`"))?;
        let c = cases.get(case).and_then(Value::as_object).ok_or_else(|| {
            format!(
                "state machine `{machine}` has no test case `{case}` (it has: {})",
                cases.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
        let responses = config
            .get("MockedResponses")
            .and_then(Value::as_object)
            .ok_or("the mock configuration has no `MockedResponses` object")?;
        let mut out = MockCase::default();
        for (state, name) in c {
            let name = name
                .as_str()
                .ok_or_else(|| format!("test case `{case}`: state `{state}` must name a mocked response"))?;
            let r = responses
                .get(name)
                .and_then(Value::as_object)
                .ok_or_else(|| format!("test case `{case}`: no mocked response `{name}`"))?;
            let mut ranges = Vec::new();
            for (key, answer) in r {
                let (from, to) = match key.split_once('-') {
                    Some((a, b)) => (a.trim().parse::<u32>(), b.trim().parse::<u32>()),
                    None => (key.trim().parse::<u32>(), key.trim().parse::<u32>()),
                };
                let (Ok(from), Ok(to)) = (from, to) else {
                    return Err(format!(
                        "mocked response `{name}`: `{key}` is not an invocation number or range (`0`, `1-2`)"
                    ));
                };
                if to < from {
                    return Err(format!("mocked response `{name}`: the range `{key}` is empty"));
                }
                let response = if let Some(v) = answer.get("Return") {
                    Response::Return(v.clone())
                } else if let Some(t) = answer.get("Throw") {
                    Response::Throw(Failure::new(
                        t.get("Error").and_then(Value::as_str).unwrap_or("States.TaskFailed"),
                        t.get("Cause").and_then(Value::as_str).unwrap_or_default(),
                    ))
                } else {
                    return Err(format!("mocked response `{name}`, `{key}`: needs `Return` or `Throw`"));
                };
                ranges.push((from, to, response));
            }
            ranges.sort_by_key(|(from, _, _)| *from);
            if ranges.is_empty() {
                return Err(format!("mocked response `{name}` has no responses"));
            }
            out.states.insert(state.clone(), ranges);
        }
        Ok(out)
    }

    /// The response of a state's `n`th invocation, if the state is mocked.
    pub fn response(&self, state: &str, n: u32) -> Option<Response> {
        let ranges = self.states.get(state)?;
        ranges.iter().find(|(from, to, _)| (*from..=*to).contains(&n)).or(ranges.last()).map(|(_, _, r)| r.clone())
    }
}
