"""The local pre-load split (`dqc preload`, DuckDB) and the generated PySpark splitter decide
alike: on the example lake's landing zone, the same rows are quarantined with the same rule ids
and reasons, and the same rows carry the same warnings.

`dqc preload` reads the CSV itself (rejecting lines it cannot split, casting with TRY_CAST); the
PySpark module gets the typed rows `dqc preload` accepted, valid and quarantined together, which
is what a Glue job would hand it after reading the same file with the contract's schema. A value
that did not cast is NULL on both sides, so the only reasons Spark cannot give are the `cast_*`
ones, which are compared apart.
"""

import json
import subprocess
from pathlib import Path

from harness import REPO, load_module

ROWS = 3000
PAYMENTS = "raw_db.raw_payments"


def run(dqc: Path, args: list) -> subprocess.CompletedProcess:
    result = subprocess.run([str(dqc), *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"dqc {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def issues(row, column: str) -> list:
    return [(i["rule_id"], i["severity"], i["error_reason"]) for i in (row[column] or [])]


def test_local_split_and_pyspark_splitter_agree(dqc_bin, spark, tmp_path):
    lake = tmp_path / "lake"
    run(dqc_bin, ["example", "loans", "--rows", str(ROWS), "--out", str(lake)])
    contracts = REPO / "examples" / "loans" / "contracts"
    report = json.loads(
        run(
            dqc_bin,
            [
                "preload",
                "--contract", str(contracts / "raw_payments.dqc"),
                "--input", str(lake / "raw_db" / "raw_payments" / "payments.csv"),
                "--valid", str(tmp_path / "valid"),
                "--quarantine", str(tmp_path / "quarantine"),
                "--run-id", "agreement",
                "--format", "json",
            ],
        ).stdout
    )
    compiled = tmp_path / "compiled"
    run(dqc_bin, ["compile", str(contracts), "--target", "pyspark", "--out", str(compiled), "--color", "never"])
    module = load_module(compiled / "pyspark" / "raw_payments_preload.py", "raw_payments_preload_agreement")

    from pyspark.sql import functions as F

    local_valid = spark.read.parquet(str(tmp_path / "valid" / "raw_payments.parquet"))
    # Quarantined rows keep the values as read (text, so `abc` stays visible); typed the way a
    # Glue job's schema'd read types them, a value that does not cast is NULL.
    types = {field.name: field.dataType for field in local_valid.schema.fields}
    columns = [c for c in local_valid.columns if not c.startswith("_dq_")]
    local_quarantined = spark.read.parquet(str(tmp_path / "quarantine" / "raw_payments.parquet")).select(
        *[F.col(c).cast(types[c]).alias(c) for c in columns], "_dq_errors", "_dq_warnings", "_dq_contract_hash"
    )
    accepted = local_valid.select(*columns).unionByName(local_quarantined.select(*columns))
    assert accepted.count() == report["rows_valid"] + report["rows_quarantined"]

    valid, quarantined, metrics = module.split(accepted)

    # Keyed by the whole row (a payment delivered twice is two equal rows with equal verdicts).
    def key(row):
        return tuple(row[c] for c in columns)

    local_errors = {}
    for row in local_quarantined.collect():
        errors = issues(row, "_dq_errors")
        local_errors[key(row)] = sorted(e for e in errors if not e[0].startswith("cast_"))
        assert all(e[1] == "error" for e in errors), errors
    spark_errors = {key(row): sorted(issues(row, "_dq_errors")) for row in quarantined.collect()}
    # Rows quarantined only because a value did not cast are valid to a splitter that never saw
    # the text; every other quarantined row must match exactly, reasons included.
    cast_only = {k for k, errors in local_errors.items() if not errors}
    assert cast_only, "the example lake has cast failures"
    assert {k: v for k, v in local_errors.items() if k not in cast_only} == spark_errors

    local_warnings = {key(r): sorted(issues(r, "_dq_warnings")) for r in local_valid.collect()}
    spark_warnings = {key(r): sorted(issues(r, "_dq_warnings")) for r in valid.collect() if key(r) not in cast_only}
    assert local_warnings == spark_warnings
    assert any(local_warnings.values()), "the example lake has rows that only warn"

    # The same contract hash on both sides, and the same per-rule violation counts.
    assert {r["_dq_contract_hash"] for r in quarantined.select("_dq_contract_hash").distinct().collect()} == {
        report["contract_hash"]
    }
    local_counts = {r["rule_id"]: r["violations"] for r in report["rules"]}
    assert {k: v for k, v in metrics["violations"].items()} == {k: local_counts[k] for k in metrics["violations"]}
    assert metrics["rows_in"] == report["rows_valid"] + report["rows_quarantined"]
