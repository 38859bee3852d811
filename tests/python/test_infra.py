"""The state machines of statemachines/ and the SAM template of infra/, checked without AWS.

- asl-validator (tests/asl, pinned) accepts each state machine once its `${...}` substitutions
  carry the local values of statemachines/substitutions.local.json, and rejects a broken copy;
- cfn-lint accepts infra/template.yaml, errors, warnings and informational findings alike, except
  for the ones listed in ACCEPTED_CFN_LINT_FINDINGS with their reason;
- least privilege: no Allow statement anywhere in the template has a wildcard action, or a
  Resource "*" that is not in ALLOWED_STAR_RESOURCES with its reason, and every action is one IAM
  knows;
- every substitution a machine uses is defined by the template and by the local file, and none
  is defined that no machine uses; each function ARN points at the function of that activity;
- the machines' shape: every Task retries and catches, every Fail has an error and a cause,
  every state is reachable and every transition has a target.

Needs `pip install -r tests/python/requirements.txt` (cfn-lint) and `npm ci` in tests/asl
(`scripts/install-test-deps` does both). Nothing is skipped: a missing tool fails the run.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO

MACHINES = REPO / "statemachines"
MACHINE_FILES = sorted(MACHINES.glob("*.asl.json"))
LOCAL_SUBSTITUTIONS = MACHINES / "substitutions.local.json"
TEMPLATE = REPO / "infra" / "template.yaml"
ASL_VALIDATOR = REPO / "tests" / "asl" / "node_modules" / ".bin" / "asl-validator"

SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")

# cfn-lint findings (rule id -> why it is acceptable). Empty: the template lints clean.
ACCEPTED_CFN_LINT_FINDINGS: dict = {}

# (logical id of the resource holding the policy, statement Sid) -> why Resource "*" is needed.
ALLOWED_STAR_RESOURCES = {
    ("OnboardStateMachineRole", "LogDelivery"): (
        "Step Functions' CloudWatch Logs delivery actions (logs:CreateLogDelivery, ...) support no "
        "resource-level permissions; AWS documents Resource * for them"
    ),
    ("NightlyStateMachineRole", "LogDelivery"): "as OnboardStateMachineRole/LogDelivery",
}

LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
RETRY_POLICY = {"IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 3, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}


def load_machine(path: Path) -> dict:
    return json.loads(path.read_text())


def substitution_names(path: Path) -> set:
    return set(SUBSTITUTION.findall(path.read_text()))


def local_substitutions() -> dict:
    return json.loads(LOCAL_SUBSTITUTIONS.read_text())


def substituted(path: Path, values: dict) -> str:
    def value(m):
        if m.group(1) not in values:
            raise AssertionError(f"{path.name}: ${{{m.group(1)}}} has no value in {LOCAL_SUBSTITUTIONS.name}")
        return values[m.group(1)]

    return SUBSTITUTION.sub(value, path.read_text())


def template() -> dict:
    from cfnlint.decode import decode

    tpl, matches = decode(str(TEMPLATE))
    assert not matches, f"{TEMPLATE} does not parse: {matches}"
    return tpl


def state_machines(tpl: dict) -> dict:
    """The template's state machines by logical id."""
    return {k: r for k, r in tpl["Resources"].items() if isinstance(r, dict) and r.get("Type") == "AWS::Serverless::StateMachine"}


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def test_there_are_state_machines():
    assert {"nightly.asl.json", "onboard.asl.json"} <= {p.name for p in MACHINE_FILES}


# --- asl-validator ---------------------------------------------------------------------------------


def asl_validate(path: Path) -> subprocess.CompletedProcess:
    if not ASL_VALIDATOR.exists():
        pytest.fail(f"{ASL_VALIDATOR} is missing: run scripts/install-test-deps (or `npm ci` in tests/asl)")
    return subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("machine", MACHINE_FILES, ids=lambda p: p.name)
def test_asl_validator_accepts(machine, tmp_path):
    out = tmp_path / machine.name
    out.write_text(substituted(machine, local_substitutions()))
    result = asl_validate(out)
    assert result.returncode == 0, f"asl-validator rejects {machine.name}:\n{result.stdout}{result.stderr}"


def test_asl_validator_rejects_a_missing_transition_target(tmp_path):
    definition = json.loads(substituted(MACHINES / "onboard.asl.json", local_substitutions()))
    definition["States"]["Profile"]["Next"] = "NoSuchState"
    out = tmp_path / "broken.asl.json"
    out.write_text(json.dumps(definition, indent=2))
    result = asl_validate(out)
    assert result.returncode == 1, f"asl-validator accepted a Next to a missing state:\n{result.stdout}{result.stderr}"
    assert "NoSuchState" in result.stdout + result.stderr


# --- cfn-lint -----------------------------------------------------------------------------------------


def cfn_lint(path: Path) -> list:
    """cfn-lint's findings (errors, warnings and informational) as JSON objects."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
         "--format", "json", "--include-checks", "I", "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise AssertionError(f"cfn-lint did not answer JSON ({result.returncode}):\n{result.stdout}\n{result.stderr}") from None


def describe(findings: list) -> str:
    return "\n".join(
        f"{f['Rule']['Id']} {f['Location']['Path']} line {f['Location']['Start']['LineNumber']}: {f['Message']}" for f in findings
    )


def test_cfn_lint_accepts_the_template():
    findings = [f for f in cfn_lint(TEMPLATE) if f["Rule"]["Id"] not in ACCEPTED_CFN_LINT_FINDINGS]
    assert not findings, f"cfn-lint findings in {TEMPLATE.relative_to(REPO)}:\n{describe(findings)}"


def test_cfn_lint_rejects_a_broken_template(tmp_path):
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("BillingMode: PAY_PER_REQUEST", "BillingMode: WHENEVER", 1))
    findings = cfn_lint(broken)
    assert any(f["Level"] == "Error" for f in findings), f"cfn-lint accepted an invalid BillingMode:\n{describe(findings)}"


# --- least privilege ------------------------------------------------------------------------------


def branches(value):
    """The values a template value may take: both branches of Fn::If, without AWS::NoValue."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, yes, no = value["Fn::If"]
        return branches(yes) + branches(no)
    if isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def listed(value) -> list:
    out = []
    for v in branches(value):
        if isinstance(v, list):
            for item in v:
                out.extend(branches(item))
        else:
            out.append(v)
    return out


def policy_statements(tpl: dict):
    """(logical id, where, statement) for every statement of every policy document in the
    template (identity, trust and resource policies, inside Fn::ForEach and Fn::If too)."""

    def walk(node, owner, where):
        if isinstance(node, dict):
            if "Statement" in node and "Version" in node:
                for statement in listed(node["Statement"]):
                    yield owner, where, statement
                return
            for k, v in node.items():
                yield from walk(v, owner, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, owner, f"{where}/{i}")

    for logical_id, resource in tpl["Resources"].items():
        if logical_id.startswith("Fn::ForEach::"):
            for generated_id, generated in resource[2].items():
                yield from walk(generated, generated_id, generated_id)
        else:
            yield from walk(resource, logical_id, logical_id)


def privilege_violations(statements) -> list:
    """What breaks least privilege in these statements: wildcard actions, NotAction and
    NotResource in Allow statements, and Resource "*" outside ALLOWED_STAR_RESOURCES. Deny
    statements only take permissions away and may use wildcards."""
    problems = []
    for owner, where, s in statements:
        if s.get("Effect") != "Allow":
            continue
        sid = s.get("Sid", "(no Sid)")
        label = f"{owner} {sid} ({where})"
        for key in ("NotAction", "NotResource"):
            if key in s:
                problems.append(f"{label}: {key} in an Allow statement")
        for action in listed(s.get("Action", [])):
            if not isinstance(action, str) or "*" in action:
                problems.append(f"{label}: action {action!r} is a wildcard (or not a plain string)")
        if "Principal" in s:
            continue  # a trust policy: no Resource
        resources = listed(s.get("Resource", []))
        if not resources:
            problems.append(f"{label}: no Resource")
        for resource in resources:
            text = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
            if text == "*" and (owner, sid) not in ALLOWED_STAR_RESOURCES:
                problems.append(f"{label}: Resource \"*\" is not on the allow-list")
    return problems


def test_no_wildcard_actions_and_no_unlisted_star_resources():
    tpl = template()
    statements = list(policy_statements(tpl))
    assert len(statements) >= 20, "the walk found too few policy statements; has the template's shape changed?"
    problems = privilege_violations(statements)
    assert not problems, "least privilege:\n" + "\n".join(problems)


def test_every_star_resource_on_the_allow_list_is_used():
    used = {
        (owner, s.get("Sid"))
        for owner, _, s in policy_statements(template())
        if s.get("Effect") == "Allow" and "*" in listed(s.get("Resource", []))
    }
    assert set(ALLOWED_STAR_RESOURCES) == used


def test_the_least_privilege_check_catches_wildcards():
    statements = [
        ("SomeRole", "p", {"Sid": "A", "Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b"}),
        ("SomeRole", "p", {"Sid": "B", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
        ("SomeRole", "p", {"Sid": "C", "Effect": "Allow", "Action": "s3:Get*", "Resource": {"Fn::Sub": "*"}}),
        ("SomeRole", "p", {"Sid": "D", "Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "arn:aws:s3:::b"}),
        ("SomeRole", "p", {"Sid": "E", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}),
    ]
    problems = privilege_violations(statements)
    assert [p.split(" ")[1] for p in problems] == ["A", "B", "C", "C", "D"], problems


def test_every_allowed_action_exists():
    """cfn-lint skips its IAM action check (W3037) in SAM templates; this is that check, on
    cfn-lint's own table of IAM actions."""
    import cfnlint.data.AdditionalSpecs
    from cfnlint.helpers import load_resource

    services = load_resource(cfnlint.data.AdditionalSpecs, "Policies.json")
    unknown = []
    for owner, _, s in policy_statements(template()):
        for action in listed(s.get("Action", [])):
            service, _, name = action.partition(":")
            if "*" in name:
                continue  # Deny statements; Allow wildcards fail the test above
            known = services.get(service.lower(), {}).get("Actions", {})
            if name.lower() not in known:
                unknown.append(f"{owner} {s.get('Sid')}: {action}")
    assert not unknown, "actions IAM does not know:\n" + "\n".join(unknown)


def test_each_function_has_its_own_role_and_log_group():
    resources = template()["Resources"]
    functions = {k: r for k, r in resources.items() if isinstance(r, dict) and r.get("Type") == "AWS::Serverless::Function"}
    assert len(functions) == 10  # the nine activities and the approval service
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles), f"functions share a role: {roles}"
    for name, f in functions.items():
        role = resources[f["Properties"]["Role"]["Fn::GetAtt"][0]]
        assert role["Type"] == "AWS::IAM::Role"
        log_group = f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        log_statements = [
            s for s in listed(role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]) if s.get("Sid") == "OwnLogGroup"
        ]
        assert [s["Resource"] for s in log_statements] == [{"Fn::GetAtt": [log_group, "Arn"]}], name
        activity = f["Properties"]["Environment"]["Variables"].get("DQC_ACTIVITY", "dqc-approvals")
        assert resources[log_group]["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/dqc-${{Environment}}-{activity.removeprefix('dqc-')}"}
        assert f["Properties"]["FunctionName"] == {"Fn::Sub": f"dqc-${{Environment}}-{activity.removeprefix('dqc-')}"}


def test_the_approval_service_may_answer_only_the_onboard_machines_tasks():
    resources = template()["Resources"]
    role = resources["ApprovalServiceRole"]
    statements = listed(role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"])
    answering = [s for s in statements if any(a.startswith("states:") for a in listed(s["Action"]))]
    assert len(answering) == 1
    assert sorted(listed(answering[0]["Action"])) == ["states:SendTaskFailure", "states:SendTaskSuccess"]
    assert answering[0]["Resource"]["Fn::Sub"].endswith(":stateMachine:dqc-${Environment}-onboard")
    actions = sorted(a for s in statements for a in listed(s["Action"]))
    assert actions == sorted([
        "logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:GetItem", "dynamodb:PutItem", "s3:GetObject",
        "states:SendTaskSuccess", "states:SendTaskFailure",
    ])
    url = resources["ApprovalServiceFunction"]["Properties"]["FunctionUrlConfig"]
    assert url == {"AuthType": "NONE"}, "the signed link is the credential"


# --- substitutions --------------------------------------------------------------------------------


def test_substitutions_agree():
    tpl = template()
    machines = state_machines(tpl)
    local = local_substitutions()
    used_anywhere = set()
    assert {m["Properties"]["DefinitionUri"] for m in machines.values()} == {f"../statemachines/{p.name}" for p in MACHINE_FILES}
    for logical_id, machine in machines.items():
        path = (TEMPLATE.parent / machine["Properties"]["DefinitionUri"]).resolve()
        used = substitution_names(path)
        used_anywhere |= used
        defined = set(machine["Properties"]["DefinitionSubstitutions"])
        assert used - defined == set(), f"{logical_id}: {path.name} uses substitutions the template does not define"
        assert defined - used == set(), f"{logical_id}: the template defines substitutions {path.name} does not use"
    assert set(local) == used_anywhere, (
        f"{LOCAL_SUBSTITUTIONS.name}: missing {sorted(used_anywhere - set(local))}, unused {sorted(set(local) - used_anywhere)}"
    )


def test_substitutions_point_at_the_right_resources():
    tpl = template()
    resources = tpl["Resources"]
    local = local_substitutions()
    for logical_id, machine in state_machines(tpl).items():
        invoked = set()
        for name, value in machine["Properties"]["DefinitionSubstitutions"].items():
            if name == "NotificationTopicArn":
                assert value == {"Ref": "NotificationTopic"}
                assert local[name] == "arn:aws:sns:us-east-1:000000000000:dqc-notifications"
                continue
            assert name.endswith("FunctionArn"), name
            function = name.removesuffix("Arn")
            assert value == {"Fn::GetAtt": [function, "Arn"]}, f"{logical_id}: {name} = {value}"
            activity = "dqc-" + kebab(name.removesuffix("FunctionArn"))
            assert resources[function]["Properties"]["Environment"]["Variables"]["DQC_ACTIVITY"] == activity
            assert local[name] == f"arn:aws:lambda:us-east-1:000000000000:function:{activity}"
            invoked.add(function)
        # The machine's role may invoke exactly the functions its definition uses.
        role = resources[machine["Properties"]["Role"]["Fn::GetAtt"][0]]
        statements = listed(role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"])
        targets = [r for s in statements if "lambda:InvokeFunction" in listed(s["Action"]) for r in listed(s["Resource"])]
        expected = [x for f in sorted(invoked) for x in ({"Fn::GetAtt": [f, "Arn"]}, {"Fn::Sub": f"${{{f}.Arn}}:*"})]
        assert sorted(map(json.dumps, targets)) == sorted(map(json.dumps, expected)), logical_id


# --- the machines' shape --------------------------------------------------------------------------


def scopes(definition: dict, where: str = ""):
    """(where, StartAt, States) of the machine and of every Map and Parallel inside it."""
    yield where or "(machine)", definition["StartAt"], definition["States"]
    for name, state in definition["States"].items():
        for inner in [state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])]:
            if inner:
                yield from scopes(inner, f"{where}/{name}")


def transitions(state: dict) -> list:
    out = [state[k] for k in ("Next", "Default") if k in state]
    out += [c["Next"] for c in state.get("Choices", [])]
    out += [c["Next"] for c in state.get("Catch", [])]
    return out


def all_states(definition: dict):
    for where, _, states in scopes(definition):
        for name, state in states.items():
            yield f"{where}/{name}", state


@pytest.mark.parametrize("machine", MACHINE_FILES, ids=lambda p: p.name)
def test_transitions_exist_and_every_state_is_reachable(machine):
    definition = load_machine(machine)
    for where, start, states in scopes(definition):
        for name, state in states.items():
            for target in transitions(state):
                assert target in states, f"{machine.name} {where}/{name}: no state {target!r} in its scope"
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(transitions(states[name]))
        assert set(states) - seen == set(), f"{machine.name} {where}: unreachable states"


@pytest.mark.parametrize("machine", MACHINE_FILES, ids=lambda p: p.name)
def test_every_path_ends_in_succeed_or_fail(machine):
    definition = load_machine(machine)
    for name, state in definition["States"].items():
        if state["Type"] not in ("Succeed", "Fail"):
            assert "End" not in state, f"{machine.name} {name}: ends as a {state['Type']}, not in a Succeed or a Fail"


@pytest.mark.parametrize("machine", MACHINE_FILES, ids=lambda p: p.name)
def test_everything_has_a_comment(machine):
    definition = load_machine(machine)
    assert definition.get("Comment")
    missing = [name for name, state in all_states(definition) if not state.get("Comment")]
    assert not missing, f"{machine.name}: states without a Comment: {missing}"


@pytest.mark.parametrize("machine", MACHINE_FILES, ids=lambda p: p.name)
def test_every_fail_has_an_error_and_a_cause(machine):
    for name, state in all_states(load_machine(machine)):
        if state["Type"] == "Fail":
            assert ("Error" in state) != ("ErrorPath" in state), f"{machine.name} {name}: Error or ErrorPath"
            assert ("Cause" in state) != ("CausePath" in state), f"{machine.name} {name}: Cause or CausePath"


@pytest.mark.parametrize("machine", MACHINE_FILES, ids=lambda p: p.name)
def test_every_task_retries_and_catches(machine):
    for name, state in all_states(load_machine(machine)):
        if state["Type"] not in ("Task", "Map", "Parallel"):
            continue
        catchers = state.get("Catch", [])
        assert catchers, f"{machine.name} {name}: no Catch"
        assert catchers[-1]["ErrorEquals"] == ["States.ALL"], f"{machine.name} {name}: the last catcher must be States.ALL alone"
        assert all("States.ALL" not in c["ErrorEquals"] for c in catchers[:-1])
        for c in catchers:
            assert c.get("ResultPath") in ("$.error", "$.notification_error"), f"{machine.name} {name}: catchers keep the input"
        if state["Type"] != "Task":
            continue
        retriers = state.get("Retry", [])
        assert retriers, f"{machine.name} {name}: no Retry"
        for r in retriers:
            assert {k: r.get(k) for k in RETRY_POLICY} == RETRY_POLICY, f"{machine.name} {name}: retry policy {r}"
            assert "States.ALL" not in r["ErrorEquals"] and "States.Timeout" not in r["ErrorEquals"]
        errors = {e for r in retriers for e in r["ErrorEquals"]}
        if state["Resource"].startswith("arn:aws:states:::lambda:invoke"):
            assert {"DqcRetryable"} | LAMBDA_SERVICE_ERRORS <= errors, f"{machine.name} {name}: retries {sorted(errors)}"
        else:
            # Notifications: SNS errors arrive as States.TaskFailed; DqcRetryable is an activity's error.
            assert state["Resource"] == "arn:aws:states:::sns:publish", f"{machine.name} {name}: {state['Resource']}"
            assert errors == {"States.TaskFailed"}


def function_timeouts() -> dict:
    """Each function's Timeout (seconds), by the substitution name of its ARN."""
    tpl = template()
    default = tpl["Globals"]["Function"]["Timeout"]
    return {
        f"{k}Arn": r["Properties"].get("Timeout", default)
        for k, r in tpl["Resources"].items()
        if isinstance(r, dict) and r.get("Type") == "AWS::Serverless::Function"
    }


@pytest.mark.parametrize("machine", MACHINE_FILES, ids=lambda p: p.name)
def test_lambda_tasks_invoke_a_substituted_function_and_unwrap_its_payload(machine):
    timeouts = function_timeouts()
    for name, state in all_states(load_machine(machine)):
        if state.get("Type") != "Task" or not state["Resource"].startswith("arn:aws:states:::lambda:invoke"):
            continue
        function = state["Parameters"]["FunctionName"]
        m = re.fullmatch(r"\$\{(\w+FunctionArn)\}", function)
        assert m, f"{machine.name} {name}: FunctionName {function!r} is not a substitution"
        assert "Payload" in state["Parameters"]
        if state["Resource"].endswith(".waitForTaskToken"):
            assert state["Parameters"]["Payload"].get("task_token.$") == "$$.Task.Token"
            assert state.get("TimeoutSeconds") and state.get("HeartbeatSeconds")
            continue
        selector = state.get("ResultSelector", {})
        assert selector and all(v.startswith("$.Payload.") for v in selector.values()) or state.get("OutputPath") == "$.Payload", (
            f"{machine.name} {name}: the Lambda result is not unwrapped from Payload"
        )
        assert state.get("TimeoutSeconds", 0) > timeouts[m.group(1)], (
            f"{machine.name} {name}: TimeoutSeconds must exceed the function's Timeout ({timeouts[m.group(1)]} s)"
        )
