"""NULL semantics on every golden case and the loans example (the fixtures have their own rows):
on a row whose every column is NULL, the PySpark module flags exactly the pre-load rules whose
DuckDB violation condition selects the row, and the DuckDB suite runs."""

import duckdb
import pytest
from cases import RUN_TIME
from conftest import project_dirs
from harness import (
    Compiled,
    load_duckdb,
    load_module,
    qualified,
    run_suite,
    spark_schema,
    sql_table,
)

LABELS = [label for label, _ in project_dirs() if label != "fixtures"]
SET_BASED = {"unique", "foreign_key"}


@pytest.mark.parametrize("label", LABELS)
def test_all_null_row_is_flagged_alike(label, all_projects, spark):
    compiled = Compiled(all_projects[label])
    con = duckdb.connect()
    frames = {}
    for contract in compiled.ir["contracts"]:
        row = tuple(None for _ in contract["columns"])
        load_duckdb(con, contract, [row])
        frames[qualified(contract)] = spark.createDataFrame([row], spark_schema(contract))
    problems = []
    for contract in compiled.ir["contracts"]:
        table = qualified(contract)
        suite = compiled.suites[table]
        row_count, checks, counts = run_suite(con, suite, RUN_TIME, {})
        assert row_count == 1 and checks == counts, f"{table}: the suite's two counts disagree"
        parents = [qualified(r["kind"]) for r in contract["rules"] if r["kind"]["type"] == "foreign_key"]
        references = {name: frames[name] for name in parents}
        module = load_module(compiled.module_path(table), f"dqc_null_{compiled.stems[table]}")
        # The metrics alone (one Spark action): their per-rule counts are the rows tagged, as
        # test_semantics checks on the fixtures.
        _, _, metrics = module.split(frames[table], references or None)
        assert metrics["rows_in"] == 1 and metrics["rows_valid"] + metrics["rows_quarantined"] == 1
        spark_flags = {rule_id for rule_id, count in metrics["violations"].items() if count}
        for rule in suite["rules"]:
            if rule["stage"] != "pre_load" or rule["id"] not in metrics["violations"]:
                continue
            if rule["type"] in SET_BASED:
                duck_flag = checks[rule["id"]] > 0
            else:
                sql = f"SELECT count(*) FROM {sql_table(contract)} WHERE {rule['violating_row']}"
                duck_flag = con.execute(sql).fetchone()[0] == 1
            if duck_flag != (rule["id"] in spark_flags):
                problems.append(f"{table} {rule['id']}: DuckDB {duck_flag}, Spark {rule['id'] in spark_flags}")
    con.close()
    assert not problems, "\n".join(problems)
