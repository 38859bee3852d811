"""Executed semantics: the DuckDB suite against hand-computed counts, and the PySpark module
against DuckDB on the same rows (a differential test)."""

import math
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from cases import CASES, RUN_TIME
from harness import load_module, quote, run_suite, same_value, spark_schema, sql_table

ISSUE_FIELDS = ["rule_id", "rule_name", "severity", "stage", "error_reason"]


def applied(rule: dict) -> bool:
    """Whether the pre-load module applies an IR rule."""
    kinds = {"not_null", "allowed_values", "range", "compare", "regex", "check", "unique", "foreign_key"}
    return rule["stage"] == "pre_load" and rule["kind"]["type"] in kinds


def quarantines(rule: dict) -> bool:
    return applied(rule) and rule["severity"] == "error" and rule["min_pass_percent"] is None


def test_every_fixture_contract_has_a_case(fixtures):
    assert sorted(fixtures.suites) == sorted(c.table for c in CASES.values())
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", list(CASES))
def test_duckdb_suite_counts_match_hand_computed(name, fixtures, duck):
    case = CASES[name]
    suite = fixtures.suites[case.table]
    contract = fixtures.contract(case.table)
    assert tuple(c["name"] for c in contract["columns"]) == case.columns, "fixture columns differ from the contract"
    assert all(len(row) == len(case.columns) for row in case.rows)
    history = tuple(h["rule_id"] for h in suite["history_rules"])
    assert history == case.history_rules
    assert sorted(case.expected) == sorted(r["id"] for r in suite["rules"] if r["id"] not in history)
    row_count, checks, counts = run_suite(duck, suite, RUN_TIME, {})
    assert row_count == len(case.rows)
    assert checks == case.expected, "row scan and set-based queries"
    assert counts == case.expected, "standalone count queries"


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.partition is not None])
def test_duckdb_partition_suite_counts_match_hand_computed(name, fixtures, duck):
    case = CASES[name]
    suite = fixtures.partition_suites[case.table]
    assert suite["partition_restricted"]
    column = next(iter(case.partition.values))
    in_partition = [r for r in case.rows if r[case.columns.index(column)] is not None and str(r[case.columns.index(column)]) == case.partition.values[column]]
    row_count, checks, counts = run_suite(duck, suite, RUN_TIME, case.partition.values)
    assert row_count == len(in_partition)
    assert checks == case.partition.expected
    assert counts == case.partition.expected


@dataclass
class Outcome:
    module: object
    valid_columns: list
    valid: list
    quarantined_columns: list
    quarantined: list
    metrics: dict

    def flagged(self) -> dict:
        """Rule id -> ids of the rows whose error or warning arrays name the rule."""
        out = {}
        for row in self.valid:
            for issue in row["_dq_warnings"]:
                out.setdefault(issue["rule_id"], set()).add(row["id"])
        for row in self.quarantined:
            for issue in row["_dq_errors"] + row["_dq_warnings"]:
                out.setdefault(issue["rule_id"], set()).add(row["id"])
        return out


@pytest.fixture(scope="session")
def spark_runs(fixtures, spark):
    """Runs each case's generated module once per session."""
    cache = {}

    def run(name: str) -> Outcome:
        if name not in cache:
            case = CASES[name]
            df = spark.createDataFrame(case.rows, spark_schema(fixtures.contract(case.table)))
            references = {}
            for table in case.references:
                parent = next(c for c in CASES.values() if c.table == table)
                if parent is case:
                    references[table] = df
                else:
                    references[table] = spark.createDataFrame(parent.rows, spark_schema(fixtures.contract(table)))
            module = load_module(fixtures.module_path(case.table), f"dqc_preload_{name}")
            valid, quarantined, metrics = module.split(df, references or None)
            cache[name] = Outcome(
                module,
                valid.columns,
                [r.asDict(recursive=True) for r in valid.collect()],
                quarantined.columns,
                [r.asDict(recursive=True) for r in quarantined.collect()],
                metrics,
            )
        return cache[name]

    return run


@pytest.mark.parametrize("name", list(CASES))
def test_spark_flags_the_rows_duckdb_flags(name, fixtures, duck, spark_runs):
    case = CASES[name]
    suite = fixtures.suites[case.table]
    contract = fixtures.contract(case.table)
    ir_rules = {r["id"]: r for r in contract["rules"]}
    outcome = spark_runs(name)
    flagged = outcome.flagged()
    _, checks, _ = run_suite(duck, suite, RUN_TIME, {})
    problems = []
    for rule in suite["rules"]:
        rule_id = rule["id"]
        got = flagged.get(rule_id, set())
        if not applied(ir_rules[rule_id]):
            if got or rule_id in outcome.metrics["violations"]:
                problems.append(f"{rule_id} is {rule['stage']} {rule['type']} but the module applied it")
            continue
        if rule["violating_row"] is not None:
            sql = f"SELECT {quote('id')} FROM {sql_table(contract)} WHERE {rule['violating_row']}"
            want = {row[0] for row in duck.execute(sql).fetchall()}
        else:
            if len(got) != checks[rule_id]:
                problems.append(f"{rule_id}: Spark flags {len(got)} rows, the DuckDB {rule['type']} query counts {checks[rule_id]}")
            if rule_id not in case.spark_flagged:
                problems.append(f"{rule_id}: the case does not pin the rows a {rule['type']} rule flags")
                continue
            want = case.spark_flagged[rule_id]
        if got != want:
            problems.append(f"{rule_id}: Spark flags ids {sorted(got)}, expected {sorted(want)} ({rule['violating_row']})")
        if outcome.metrics["violations"].get(rule_id) != len(got):
            problems.append(f"{rule_id}: metrics count {outcome.metrics['violations'].get(rule_id)}, rows tagged {len(got)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", list(CASES))
def test_spark_split_keeps_every_row_once_with_reasons(name, fixtures, spark_runs):
    case = CASES[name]
    suite = fixtures.suites[case.table]
    contract = fixtures.contract(case.table)
    ir_rules = {r["id"]: r for r in contract["rules"]}
    described = {r["id"]: r["description"] for r in suite["rules"]}
    outcome = spark_runs(name)
    m = outcome.metrics

    assert m["table"] == case.table and m["contract_hash"] == contract["hash"]
    assert m["rows_in"] == len(case.rows)
    assert m["rows_valid"] + m["rows_quarantined"] == m["rows_in"]
    assert (len(outcome.valid), len(outcome.quarantined)) == (m["rows_valid"], m["rows_quarantined"])
    valid_ids = [r["id"] for r in outcome.valid]
    quarantined_ids = [r["id"] for r in outcome.quarantined]
    assert sorted(valid_ids + quarantined_ids) == sorted(r[0] for r in case.rows), "every input row exactly once"

    columns = list(case.columns)
    assert outcome.valid_columns == columns + ["_dq_warnings"]
    assert outcome.quarantined_columns == columns + ["_dq_errors", "_dq_warnings", "_dq_contract_hash"]
    floats = {c["name"] for c in contract["columns"] if c["type"]["name"] == "float"}
    by_id = {r[0]: r for r in case.rows}
    for row in outcome.valid + outcome.quarantined:
        source = by_id[row["id"]]
        for index, column in enumerate(columns):
            assert same_value(row[column], source[index], column in floats), f"row {row['id']} column {column!r} changed"

    assert list(m["violations"]) == [r["id"] for r in contract["rules"] if applied(r)]
    flagged = outcome.flagged()
    should_quarantine = set()
    for rule_id, ids in flagged.items():
        if quarantines(ir_rules[rule_id]):
            should_quarantine |= ids
    assert set(quarantined_ids) == should_quarantine

    for row in outcome.valid + outcome.quarantined:
        arrays = [("_dq_warnings", False)] + ([("_dq_errors", True)] if "_dq_errors" in row else [])
        for column, quarantining in arrays:
            ids = [issue["rule_id"] for issue in row[column]]
            assert ids == [r for r in m["violations"] if r in ids], f"{column} of row {row['id']} is not in rule order"
            for issue in row[column]:
                rule = ir_rules[issue["rule_id"]]
                assert list(issue) == ISSUE_FIELDS
                assert quarantines(rule) == quarantining, f"{issue['rule_id']} in {column}"
                assert issue["rule_name"] == rule["kind"]["type"]
                assert issue["severity"] == rule["severity"]
                assert issue["stage"] == "pre_load"
                assert issue["error_reason"].startswith(described[issue["rule_id"]])
                if rule["kind"]["type"] == "foreign_key":
                    # The missing key, as the DuckDB split words it.
                    keys = ", ".join(str(row[column]) for column in rule["kind"]["columns"])
                    assert issue["error_reason"] == f"{described[issue['rule_id']]}: missing key {keys}"
    assert all(row["_dq_contract_hash"] == contract["hash"] for row in outcome.quarantined)

    thresholds = {
        rule_id: (t["checked"], t["violations"], t["passed"]) for rule_id, t in m["thresholds"].items()
    }
    assert thresholds == case.thresholds


def same_aggregate(got, want) -> bool:
    """Hand-computed aggregates: doubles to 12 significant digits (engines sum in different
    orders), infinities and None exactly, the rest by value."""
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, float):
        return math.isclose(float(got), want, rel_tol=1e-12) if math.isfinite(want) else float(got) == want
    if isinstance(want, datetime) and want.tzinfo is not None and got.tzinfo is None:
        # Spark returns instants as naive datetimes in the session time zone, UTC here.
        got = got.replace(tzinfo=timezone.utc)
    return got == want


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.aggregates])
def test_aggregates_have_the_hand_computed_values_on_duckdb_and_spark(name, fixtures, duck, spark_runs):
    case = CASES[name]
    suite = fixtures.suites[case.table]
    scan = next(q for q in suite["queries"] if q["kind"] == "row_scan")
    cur = duck.execute(scan["sql"], [])
    result = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    spark = spark_runs(name).metrics["aggregates"]
    problems = []
    for rule_id, want in case.aggregates.items():
        duck_value = result[f"{rule_id}__value"]
        if not same_aggregate(duck_value, want):
            problems.append(f"{rule_id}: DuckDB computes {duck_value!r}, by hand {want!r}")
        if not same_aggregate(spark[rule_id]["value"], want):
            problems.append(f"{rule_id}: Spark computes {spark[rule_id]['value']!r}, by hand {want!r}")
        passed = case.expected[rule_id] == 0
        if spark[rule_id]["passed"] != passed:
            problems.append(f"{rule_id}: Spark says passed={spark[rule_id]['passed']}, by hand {passed}")
    assert sorted(spark) == sorted(case.aggregates), "the module reports every pre-load aggregate rule"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.key_ratios])
def test_key_ratios_count_the_rows_with_a_key(name, fixtures, duck):
    """`unique ... at least N%` and foreign keys `at least N%`: the rows checked are those with
    a complete key; the verdict is (checked - violations) / checked against N%."""
    case = CASES[name]
    suite = fixtures.suites[case.table]
    percent = {r["id"]: r["min_pass_percent"] for r in suite["rules"]}
    got = {}
    for q in suite["queries"]:
        if q["kind"] not in ("duplicates", "foreign_key"):
            continue
        cur = duck.execute(q["sql"], [])
        result = dict(zip([d[0] for d in cur.description], cur.fetchone()))
        for rule_id in q["rule_ids"]:
            checked = int(result[f"{rule_id}__checked"])
            violations = int(result[f"{rule_id}__violations"])
            passed = (checked - violations) * 100 >= float(percent[rule_id]) * checked
            got[rule_id] = (checked, violations, passed)
    assert got == case.key_ratios
