"""The Step Functions conformance table of activities/dqc-workflow, run on moto's emulator too.

The table (`activities/dqc-workflow/tests/conformance/*.json`, format in the doc comment of
`activities/dqc-workflow/tests/conformance.rs`) holds the behaviour the States Language
specification and the AWS documentation describe; the Rust test runs it against our runner.
Here the cases that moto (`moto_server`, pinned in requirements.txt) can run faithfully go to its
Step Functions interpreter (moto/stepfunctions/parser, enabled with the user config
`{"stepfunctions": {"execute_state_machine": true}}` posted to `/moto-api/config`), and each
execution's outcome is compared with the table's `expect`: SUCCEEDED with an output equal to
`expect.output`, or FAILED with the error `expect.error`.

A case runs here only if the emulator needs nothing we script (no `functions`, no `mockConfig`,
no Task state, no `Resource` anywhere), it expects an outcome (no `expect.invalid`), it waits at
most MAX_WAIT_SECONDS, and it reads nothing that differs between two runners (the context
object's execution, state machine and entry-time fields, States.UUID, States.MathRandom, JSONata).
The selection is computed from the files; `test_selection` prints how many cases it kept.

KNOWN_EMULATOR_DIFFERENCES lists the cases where moto departs from what AWS documents, with the
reason; UNSETTLED_CASES those where the documentation does not settle the disagreement (the table
pins the runner's choice where AWS documents none, or the table's expectation is in doubt). Those
cases must still disagree: once moto agrees, the test fails and asks for the entry to go; while it
disagrees, the case is reported as an xfail with its reason (`-ra`).

Needs `pip install -r tests/python/requirements.txt` (moto[server]); no dqc binary, no AWS
account, no network beyond 127.0.0.1: `python -m pytest tests/python/test_sfn_emulator.py`.
"""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from harness import REPO

CONFORMANCE = REPO / "activities" / "dqc-workflow" / "tests" / "conformance"

# Longest wait a selected case may take on the emulator's real clock ("about a second").
MAX_WAIT_SECONDS = 2.0
# Deadlines: the server's start, one execution leaving RUNNING, the server's stop.
SERVER_START_SECONDS = 60.0
EXECUTION_SECONDS = 15.0
SERVER_STOP_SECONDS = 10.0

# The table's manual clock starts here (conformance.rs): a Timestamp at or before it does not wait.
TABLE_START = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)

# Context object fields whose values are the same on any runner given the same definition and
# input. Every other `$$` reference (Execution.Id/Name/StartTime/RoleArn, StateMachine.*,
# State.EnteredTime, the whole object) differs between runners and keeps a case out.
PORTABLE_CONTEXT = (
    "$$.Execution.Input",
    "$$.State.Name",
    "$$.State.RetryCount",
    "$$.Map.Item.Index",
    "$$.Map.Item.Value",
)
CONTEXT_REFERENCE = re.compile(r"\$\$(?:\.[A-Za-z0-9_]+)*")
NONDETERMINISTIC_INTRINSICS = ("States.MathRandom", "States.UUID")

# Case ("file-stem::name") -> why moto's interpreter disagrees with what AWS documents (what moto
# does, what the specification or the AWS documentation says). Each entry is the emulator
# deviating, never a wrong expectation of the table. Many come from moto raising a Python
# exception inside an intrinsic: the execution then fails with States.Runtime and the exception's
# repr as the cause, where the States Language names States.IntrinsicFailure.
_INTRINSIC_AS_RUNTIME = (
    "moto fails with States.Runtime (a Python {} inside the intrinsic); the States Language and "
    "the AWS error-handling docs name States.IntrinsicFailure for a failed intrinsic ({})"
)
_PATH_LIST = (
    "moto's JSONPath answers a list for a path with an index then a field (`$[0].v` gives {}); a "
    "reference path selects a single node (amazon-states-language-paths.html): the value is {}"
)
KNOWN_EMULATOR_DIFFERENCES = {
    "choice::string-matches-escaped-star": (
        "moto implements StringMatches with fnmatch, which has no escapes (and treats ? and [...] as "
        "wildcards): `log-\\*` means a literal backslash then a wildcard; the spec makes \\* a literal *"
    ),
    "choice::string-matches-escaped-backslash": (
        "moto's fnmatch keeps both backslashes of `a\\\\b*` literally; the spec makes \\\\ one backslash"
    ),
    "choice::timestamp-compares-instants-across-offsets": (
        "moto reads a timestamp only as %Y-%m-%dT%H:%M:%SZ, so 13:00:00+01:00 is no timestamp and "
        "TimestampEquals is false; the docs take RFC 3339 timestamps, numeric offsets included"
    ),
    "choice::no-choice-matched": (
        "moto fails with States.Runtime ('No branching option reached'); the spec and the AWS docs "
        "name States.NoChoiceMatched for a Choice state with no match and no Default"
    ),
    "choice::missing-variable-is-runtime-error": (
        "moto evaluates a rule on a missing Variable as false and takes Default; the docs "
        "(state-choice.html) say the execution fails when the input lacks the field"
    ),
    "choice::missing-variable-not-caught-by-default": "as choice::missing-variable-is-runtime-error",
    "choice::choice-is-timestamp-lowercase-t-and-z": (
        "moto's IsTimestamp uses strptime, which matches the T and Z literals case-insensitively; "
        "the docs require an uppercase T and an uppercase Z"
    ),
    "choice::choice-string-order-is-java-compareto": (
        "moto compares strings by Python code points (U+1F600 > U+E000); the docs refer to Java's "
        "compareTo, which orders by UTF-16 code units (the surrogate 0xD83D < 0xE000)"
    ),
    "intrinsics::format-escaped-braces": (
        "moto does not unescape \\{ \\} in a States.Format template and fails with States.Runtime "
        "(KeyError); the docs' reserved characters make them literal braces"
    ),
    "intrinsics::format-escaped-quote": (
        "moto misreads \\' in a string literal and answers `it\\\\` (two backslashes); the docs' reserved "
        "characters make \\' a literal quote"
    ),
    "intrinsics::format-escaped-backslash": (
        "moto answers `a\\\\\\\\b c` (four backslashes: it escapes \\\\ again instead of reading it); "
        "the docs' reserved characters make \\\\ one backslash"
    ),
    "intrinsics::string-to-json-not-json": _INTRINSIC_AS_RUNTIME.format("JSONDecodeError", "StringToJson"),
    "intrinsics::array-mixed-values": (
        "moto's States.Array drops the null argument; the docs take zero or more arguments of any kind, in order"
    ),
    "intrinsics::array-range-over-1000-items": _INTRINSIC_AS_RUNTIME.format(
        "ValueError", "the documented 1000-element limit"
    ),
    "intrinsics::array-get-item-out-of-range": _INTRINSIC_AS_RUNTIME.format("IndexError", "ArrayGetItem"),
    "intrinsics::array-length-of-string": _INTRINSIC_AS_RUNTIME.format("TypeError", "ArrayLength"),
    "intrinsics::base64-decode-invalid": (
        "moto decodes `***` leniently to an empty string and succeeds; text that is not base64 "
        "cannot be decoded (States.IntrinsicFailure)"
    ),
    "intrinsics::base64-encode-over-10000-characters": _INTRINSIC_AS_RUNTIME.format(
        "ValueError", "the documented 10,000-character limit"
    ),
    "intrinsics::hash-unknown-algorithm": _INTRINSIC_AS_RUNTIME.format("ValueError", "States.Hash"),
    "intrinsics::math-add-outside-int32": (
        "moto adds 2147483648 + 1 and answers 2147483649; the docs restrict the math intrinsics' "
        "values to -2147483648..2147483647"
    ),
    "intrinsics::wrong-argument-type": _INTRINSIC_AS_RUNTIME.format("TypeError", "ArrayPartition"),
    "parallel::result-selector": _PATH_LIST.format("[1]", "1"),
    "parallel::branch-states-end-the-branch": _PATH_LIST.format("[5]", "5"),
    "paths::resultpath-into-scalar-fails": (
        "moto fails with States.Runtime (a Python TypeError) when ResultPath $.a.b meets the number "
        "5; the spec and the AWS docs name States.ResultPathMatchFailure"
    ),
}

# Case -> why the documentation does not settle a disagreement: the table pins the runner's choice
# where AWS documents none, or its expectation is in doubt (reported to the maintainers). Like the
# known differences, these must still disagree, and are reported as xfails with the reason.
UNSETTLED_CASES = {
    "intrinsics::format-too-few-arguments": (
        "AWS does not document whether this is refused at creation or fails at run time; moto fails "
        "with States.Runtime (IndexError), the table pins States.IntrinsicFailure"
    ),
    "intrinsics::json-merge-deep-refused": (
        "AWS does not document when a deep merge (true) is refused; moto fails at run time with "
        "States.Runtime (NotImplementedError), the table pins States.IntrinsicFailure"
    ),
    "intrinsics::missing-path-argument": (
        "AWS names no error for an intrinsic argument path that selects nothing; moto fails with "
        "States.Runtime ('The JSONPath ... could not be found'), as AWS does for a Parameters path "
        "(see paths::parameters-missing-path); the table pins States.IntrinsicFailure"
    ),
    "map::tolerated-failure-count-within": (
        "ToleratedFailureCount/Percentage are documented for the Distributed Map only; moto ignores "
        "them on an inline Map (the first failure fails the Map), the table pins the runner's choice"
    ),
    "map::tolerated-failure-count-exceeded": "as map::tolerated-failure-count-within",
    "map::tolerated-failure-count-zero": "as map::tolerated-failure-count-within",
    "map::tolerated-failure-threshold-caught": "as map::tolerated-failure-count-within",
    "map::tolerated-failure-percentage-within": (
        "as map::tolerated-failure-count-within; moto's parser also refuses the integer 50 "
        "('no viable alternative'), though the docs allow any number from 0 to 100"
    ),
    "map::tolerated-failure-percentage-exceeded": "as map::tolerated-failure-percentage-within",
    "map::items-path-not-an-array": (
        "AWS names no error for an ItemsPath that selects no array; moto fails with "
        "States.QueryEvaluationError, the table pins States.Runtime"
    ),
    "paths::jsonpath-query-matching-nothing-is-empty-array": (
        "AWS does not document what a filter matching nothing yields; moto fails with States.Runtime "
        "('could not be found'), the table pins [] (Jayway's answer for an indefinite path)"
    ),
    "paths::parameters-missing-path": (
        "the table expects States.ParameterPathFailure (the spec's name); moto, like executions on "
        "AWS recorded in public histories, fails with States.Runtime ('The JSONPath ... specified "
        "for the field ... could not be found in the input'): the table's expectation is in doubt"
    ),
}


def load_cases() -> list:
    """Every case of the table, as (id, case), in the order of conformance.rs."""
    cases = []
    for path in sorted(CONFORMANCE.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            cases.append((f"{path.stem}::{case['name']}", case))
    return cases


def walk(value):
    """Every dict, list and scalar inside a JSON value."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def strings(value):
    """Every string inside a JSON value, keys included."""
    for v in walk(value):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            yield from (k for k in v if isinstance(k, str))


def timestamp(text):
    """An RFC 3339 timestamp as an aware datetime, or None when the text is not one."""
    if not isinstance(text, str):
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def simple_path(value, path: str):
    """Resolves a plain reference path (`$`, `$.a.b`) in value: (True, found) or (False, None)
    when it selects nothing. Anything fancier raises ValueError."""
    if path == "$":
        return True, value
    if not re.fullmatch(r"\$(\.[A-Za-z0-9_-]+)+", path):
        raise ValueError(path)
    for key in path[2:].split("."):
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
    return True, value


def wait_is_short(state: dict, state_input, now: datetime) -> bool:
    """Whether a Wait state takes at most MAX_WAIT_SECONDS on the emulator's real clock.
    `state_input` is the state's raw input when known statically, else a sentinel."""
    if "Seconds" in state:
        return isinstance(state["Seconds"], (int, float)) and state["Seconds"] <= MAX_WAIT_SECONDS
    if "Timestamp" in state:
        t = timestamp(state["Timestamp"])
        return t is None or t <= min(TABLE_START, now)
    if state_input is _UNKNOWN:
        return False
    try:
        found, effective = simple_path(state_input, state.get("InputPath", "$"))
        if not found:
            return True  # the path error fails the state before it waits
        if "SecondsPath" in state:
            found, seconds = simple_path(effective, state["SecondsPath"])
            return not found or not isinstance(seconds, (int, float)) or seconds <= MAX_WAIT_SECONDS
        if "TimestampPath" in state:
            found, text = simple_path(effective, state["TimestampPath"])
            t = timestamp(text) if found else None
            return t is None or t <= min(TABLE_START, now)
    except ValueError:
        return False
    return False


_UNKNOWN = object()


def states_of(machine: dict, machine_input):
    """(state, raw input if known statically) for every state of a machine, nested ones too.
    Only the top-level StartAt state's input is known: it is the execution input."""
    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        known = machine_input if name == machine.get("StartAt") else _UNKNOWN
        yield state, known
        for branch in state.get("Branches") or []:
            if isinstance(branch, dict):
                yield from states_of(branch, _UNKNOWN)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            yield from states_of(processor, _UNKNOWN)


def why_not_portable(case: dict, now: datetime):
    """Why the emulator cannot run a case faithfully, or None when it can."""
    definition = case["definition"]
    expect = case["expect"]
    if "invalid" in expect:
        return "expects the definition to be refused"
    if "functions" in case or "mockConfig" in case:
        return "needs scripted functions or a mock config"
    if not isinstance(definition, dict):
        return "the definition is not an object"
    if any(isinstance(v, dict) and "Resource" in v for v in walk(definition)):
        return "calls a resource (Task, ItemReader, ResultWriter)"
    if any(isinstance(v, dict) and v.get("QueryLanguage") == "JSONata" for v in walk(definition)):
        return "uses JSONata (moto needs a JVM bridge for it)"
    texts = list(strings(definition))
    if any(f in text for text in texts for f in NONDETERMINISTIC_INTRINSICS):
        return "uses a nondeterministic intrinsic"
    for text in texts:
        for reference in CONTEXT_REFERENCE.findall(text):
            if not any(reference == p or reference.startswith(p + ".") for p in PORTABLE_CONTEXT):
                return f"reads {reference}, which differs between runners"
    if any(s > MAX_WAIT_SECONDS for s in case.get("sleeps") or []):
        return "waits longer than MAX_WAIT_SECONDS"
    for state, state_input in states_of(definition, case.get("input", {})):
        if state.get("Type") == "Wait" and not wait_is_short(state, state_input, now):
            return "has a Wait state that may take longer than MAX_WAIT_SECONDS"
    return None


ALL_CASES = load_cases()
_NOW = datetime.now(UTC)
EXCLUDED = {cid: why for cid, case in ALL_CASES if (why := why_not_portable(case, _NOW)) is not None}
SELECTED = [(cid, case) for cid, case in ALL_CASES if cid not in EXCLUDED]


def test_selection(capsys):
    """The selection is not empty, and every known difference names a selected case."""
    reasons = {}
    for why in EXCLUDED.values():
        key = why.split(",")[0] if why.startswith("reads ") else why
        reasons[key] = reasons.get(key, 0) + 1
    with capsys.disabled():
        print(f"\nsfn emulator: {len(SELECTED)} of {len(ALL_CASES)} conformance cases selected")
        for why, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"  excluded {n:3}: {why}")
    assert len(SELECTED) >= 100, "the selection shrank unexpectedly"
    selected = {cid for cid, _ in SELECTED}
    for listed, label in (
        (KNOWN_EMULATOR_DIFFERENCES, "KNOWN_EMULATOR_DIFFERENCES"),
        (UNSETTLED_CASES, "UNSETTLED_CASES"),
    ):
        unknown = set(listed) - selected
        assert not unknown, f"{label} names cases that are not selected: {sorted(unknown)}"
    both = set(KNOWN_EMULATOR_DIFFERENCES) & set(UNSETTLED_CASES)
    assert not both, f"listed both as known differences and as unsettled: {sorted(both)}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, body=None, timeout: float = 5.0):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8") or "null")


def log_tail(log: Path) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-30:])


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    """A moto server on a free port of 127.0.0.1 that executes state machines; always stopped."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"moto_server exited with {process.returncode}:\n{log_tail(log)}")
            try:
                http(f"{endpoint}/moto-api/config", timeout=2.0)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not answer within {SERVER_START_SECONDS} s:\n{log_tail(log)}")
                time.sleep(0.1)
        # moto's answer lists only the batch and lambda settings: the `sfn` fixture checks that
        # this one took (a Pass state's Result comes back as the output).
        http(f"{endpoint}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_SECONDS)


@pytest.fixture(scope="module")
def sfn(moto_endpoint):
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "stepfunctions",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10),
    )
    probe = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "executed", "End": True}}}
    got = outcome_on_moto(client, "probe", {"definition": probe, "input": {}})
    assert got == {"status": "SUCCEEDED", "output": "executed"}, f"moto does not execute state machines: {got}"
    return client


def same(a, b) -> bool:
    """JSON equality that, like serde_json, tells true from 1 and 1 from 1.0."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def outcome_on_moto(sfn, cid: str, case: dict) -> dict:
    """Creates the machine, runs the case's input and waits for the execution to leave RUNNING:
    {"status": ..., "output"|"error"+"cause"}, or {"status": "REFUSED", ...} when moto refuses
    the definition or the input. The machine is deleted afterwards: moto 5.2.1 deep-copies a
    machine's backend, every machine and execution included, on StartExecution, and a finished
    execution's lock cannot be copied, so with a machine that has run still registered the
    next StartExecution fails with a 500 (getmoto/moto#10077, fixed after 5.2.1 by #10093)."""
    from botocore.exceptions import ClientError

    name = re.sub(r"[^A-Za-z0-9_-]", "-", cid)[:70] + f"-{zlib.crc32(cid.encode()):08x}"
    try:
        machine = sfn.create_state_machine(
            name=name,
            definition=json.dumps(case["definition"]),
            roleArn="arn:aws:iam::123456789012:role/conformance",
        )
    except ClientError as error:
        return {"status": "REFUSED", "error": error.response["Error"]["Code"], "cause": str(error)}
    try:
        return run_execution(sfn, machine["stateMachineArn"], case.get("input", {}))
    finally:
        sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])


def run_execution(sfn, machine_arn: str, execution_input) -> dict:
    from botocore.exceptions import ClientError

    try:
        started = sfn.start_execution(stateMachineArn=machine_arn, name="run", input=json.dumps(execution_input))
    except ClientError as error:
        return {"status": "REFUSED", "error": error.response["Error"]["Code"], "cause": str(error)}
    arn = started["executionArn"]
    deadline = time.monotonic() + EXECUTION_SECONDS
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            sfn.stop_execution(executionArn=arn, error="Test.Deadline", cause="the test's deadline")
            pytest.fail(f"the execution was still RUNNING after {EXECUTION_SECONDS} s")
        time.sleep(0.02)
    # The outcome comes from the execution's last event: moto's DescribeExecution answers a
    # string output unencoded (`executed`, not `"executed"`), its history encodes it as AWS does.
    status = described["status"]
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    events = [event for page in pages for event in page["events"]]
    last = next((e for e in reversed(events) if e["type"].startswith("Execution")), {"type": "none"})
    details = next((v for k, v in last.items() if k.endswith("EventDetails")), {})
    if status == "SUCCEEDED":
        return {"status": status, "output": json.loads(details.get("output", "null"))}
    error = details.get("error", described.get("error"))
    if status == "TIMED_OUT" and error is None:
        error = "States.Timeout"
    return {"status": status, "error": error, "cause": details.get("cause", described.get("cause"))}


def agrees(expect: dict, got: dict) -> bool:
    if "output" in expect:
        return got["status"] == "SUCCEEDED" and same(got["output"], expect["output"])
    return got["status"] in ("FAILED", "TIMED_OUT") and got.get("error") == expect["error"]


@pytest.mark.parametrize(("cid", "case"), SELECTED, ids=[cid for cid, _ in SELECTED])
def test_case_on_moto(cid, case, sfn):
    got = outcome_on_moto(sfn, cid, case)
    expect = case["expect"]
    for listed, label in (
        (KNOWN_EMULATOR_DIFFERENCES, "KNOWN_EMULATOR_DIFFERENCES"),
        (UNSETTLED_CASES, "UNSETTLED_CASES"),
    ):
        if cid in listed:
            assert not agrees(expect, got), (
                f"moto now agrees with the table on {cid} ({json.dumps(got, default=str)}): remove it from {label}"
            )
            pytest.xfail(f"{label}: {listed[cid]}")
    assert agrees(expect, got), f"expected {json.dumps(expect)}, moto gave {json.dumps(got, default=str)}"
