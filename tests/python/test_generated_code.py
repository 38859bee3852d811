"""Static checks of every generated artifact (Athena SQL parses as Trino, PySpark modules compile
and lint clean) and the PySpark module's API around split(): errors, options, Glue wrapper."""

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from cases import CASES
from conftest import CONTRACTS, project_dirs
from harness import compile_project, load_module, spark_schema

LABELS = [label for label, _ in project_dirs()]


@pytest.mark.parametrize("label", LABELS)
def test_athena_sql_parses_as_trino(label, all_projects):
    import sqlglot

    out = all_projects[label]
    files = sorted((out / "sql" / "athena").glob("*.sql"))
    assert files, f"{label} produced no Athena SQL"
    for path in files:
        text = path.read_text(encoding="utf-8")
        # A trailing comment (rules evaluated from history) parses as a bare Semicolon.
        parsed = sqlglot.parse(text, read="trino")
        statements = [s for s in parsed if s is not None and not isinstance(s, sqlglot.exp.Semicolon)]
        suite = json.loads(path.with_name(path.name[: -len(".sql")] + ".suite.json").read_text(encoding="utf-8"))
        assert len(statements) == len(suite["queries"]), f"{path.name}: {len(statements)} statements parsed"
        for query in suite["queries"]:
            # Each query on its own, so an error names the query.
            assert sqlglot.parse_one(query["sql"], read="trino") is not None, f"{path.name}: {query['name']}"


@pytest.mark.parametrize("label", LABELS)
def test_pyspark_modules_compile_and_pass_ruff(label, all_projects):
    out = all_projects[label]
    modules = sorted((out / "pyspark").glob("*_preload.py"))
    assert modules, f"{label} produced no PySpark module"
    for path in modules:
        assert path.read_text(encoding="utf-8").isascii(), f"{path.name} is not ASCII"
    compiled = subprocess.run(
        [sys.executable, "-m", "py_compile", *map(str, modules)], capture_output=True, text=True, check=False
    )
    assert compiled.returncode == 0, compiled.stderr
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *map(str, modules)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_output_is_byte_identical_across_runs(dqc_bin, fixtures, tmp_path):
    again = compile_project(dqc_bin, [CONTRACTS], tmp_path / "again")
    first = {p.relative_to(fixtures.out): p.read_bytes() for p in fixtures.out.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second


def test_modules_import_without_glue(fixtures):
    assert importlib.util.find_spec("awsglue") is None, "awsglue is installed, so this test proves nothing"
    for table in fixtures.suites:
        module = load_module(fixtures.module_path(table), f"dqc_import_{fixtures.stems[table]}")
        assert module.TABLE == table
        assert module.CONTRACT_HASH == fixtures.contract(table)["hash"]
        assert callable(module.split) and callable(module.split_dynamic_frame)
        assert set(module.__all__) >= {"split", "split_dynamic_frame", "RULES", "TABLE", "CONTRACT_HASH"}


def frame(spark, fixtures, name, rows=None):
    case = CASES[name]
    return spark.createDataFrame(case.rows if rows is None else rows, spark_schema(fixtures.contract(case.table)))


def module_of(fixtures, name):
    return load_module(fixtures.module_path(CASES[name].table), f"dqc_api_{name}")


def test_missing_reference_is_a_clear_error(spark, fixtures):
    module = module_of(fixtures, "fact_orders")
    with pytest.raises(ValueError, match=r"needs the reference table fx\.dim_customer"):
        module.split(frame(spark, fixtures, "fact_orders"))
    with pytest.raises(ValueError, match=r"fx\.dim_customer"):
        module.split(frame(spark, fixtures, "fact_orders"), {"fx.other": frame(spark, fixtures, "dim_customer")})
    lacking = frame(spark, fixtures, "dim_customer").drop("seg")
    with pytest.raises(ValueError, match=r"lacks columns \['seg'\]"):
        module.split(frame(spark, fixtures, "fact_orders"), {"fx.dim_customer": lacking})
    # Reference names match without regard to case.
    _, _, metrics = module.split(frame(spark, fixtures, "fact_orders"), {"FX.Dim_Customer": frame(spark, fixtures, "dim_customer")})
    assert metrics["violations"]["fk_customer_id_dim_customer"] == 3


def test_missing_and_reserved_columns_are_clear_errors(spark, fixtures):
    module = module_of(fixtures, "codes")
    with pytest.raises(ValueError, match=r"lacks columns of the contract of fx\.codes: \['note'\]"):
        module.split(frame(spark, fixtures, "codes").drop("note"))
    with pytest.raises(ValueError, match=r"reserves: \['_dq_errors'\]"):
        module.split(frame(spark, fixtures, "codes").withColumnRenamed("note", "note").selectExpr("*", "1 AS _dq_errors"))


def test_extra_columns_are_carried_and_warnings_can_be_left_out(spark, fixtures):
    from pyspark.sql import functions as F

    module = module_of(fixtures, "shipments")
    df = frame(spark, fixtures, "shipments").withColumn("batch", F.lit("b1"))
    valid, quarantined, metrics = module.split(df, tag_warnings=False)
    assert valid.columns == list(CASES["shipments"].columns) + ["batch"]
    assert quarantined.columns == list(CASES["shipments"].columns) + ["batch", "_dq_errors", "_dq_warnings", "_dq_contract_hash"]
    assert valid.count() + quarantined.count() == metrics["rows_in"] == len(CASES["shipments"].rows)


def test_empty_batch(spark, fixtures):
    module = module_of(fixtures, "events")
    valid, quarantined, metrics = module.split(frame(spark, fixtures, "events", rows=[]))
    assert (valid.count(), quarantined.count()) == (0, 0)
    assert (metrics["rows_in"], metrics["rows_valid"], metrics["rows_quarantined"]) == (0, 0, 0)
    assert set(metrics["violations"].values()) == {0}


def test_split_dynamic_frame_converts_both_ways(spark, fixtures, monkeypatch):
    calls = []

    class DynamicFrame:
        def __init__(self, df, glue_context, name):
            self.df, self.glue_context, self.name = df, glue_context, name

        def toDF(self):
            return self.df

        @classmethod
        def fromDF(cls, df, glue_context, name):
            calls.append(name)
            return cls(df, glue_context, name)

    package = types.ModuleType("awsglue")
    submodule = types.ModuleType("awsglue.dynamicframe")
    submodule.DynamicFrame = DynamicFrame
    package.dynamicframe = submodule
    monkeypatch.setitem(sys.modules, "awsglue", package)
    monkeypatch.setitem(sys.modules, "awsglue.dynamicframe", submodule)

    module = module_of(fixtures, "fact_orders")
    context = object()
    dyf = DynamicFrame(frame(spark, fixtures, "fact_orders"), context, "in")
    parent = DynamicFrame(frame(spark, fixtures, "dim_customer"), context, "dim")
    valid, quarantined, metrics = module.split_dynamic_frame(context, dyf, {"fx.dim_customer": parent})
    assert isinstance(valid, DynamicFrame) and isinstance(quarantined, DynamicFrame)
    assert calls == ["fx.fact_orders_valid", "fx.fact_orders_quarantined"]
    assert valid.glue_context is context
    assert sorted(r["id"] for r in quarantined.toDF().collect()) == [2, 6, 8]
    assert metrics["rows_valid"] == 5
    module.split_dynamic_frame(context, dyf, {"fx.dim_customer": parent.toDF()}, name="orders")
    assert calls[-2:] == ["orders_valid", "orders_quarantined"]


def test_requirements_pin_every_package():
    lines = (Path(__file__).with_name("requirements.txt")).read_text(encoding="utf-8").splitlines()
    packages = [line for line in lines if line and not line.startswith("#")]
    assert all(line.count("==") == 1 and line.split("==")[1] for line in packages), packages
    pins = dict(line.split("==") for line in packages)
    assert {"duckdb", "pyspark", "sqlglot", "ruff", "pytest", "cfn-lint"} <= set(pins)
