"""Helpers shared by the tests: compiling with dqc, typing fixture tables from the IR, loading
them into DuckDB and Spark, running suites and generated modules."""

import datetime
import importlib.util
import json
import math
import struct
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def compile_project(dqc: Path, inputs: list, out: Path) -> Path:
    """Runs `dqc compile --target all` and fails with its diagnostics when it does not succeed."""
    result = subprocess.run(
        [str(dqc), "compile", *[str(p) for p in inputs], "--target", "all", "--out", str(out), "--color", "never"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"dqc compile {inputs} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return out


class Compiled:
    """One compiled project: its IR and its DuckDB suites, by qualified table name."""

    def __init__(self, out: Path):
        self.out = out
        self.ir = json.loads((out / "ir.json").read_text(encoding="utf-8"))
        self.stems = {}
        self.suites = {}
        self.partition_suites = {}
        for path in sorted((out / "sql" / "duckdb").glob("*.suite.json")):
            suite = json.loads(path.read_text(encoding="utf-8"))
            if path.name.endswith(".partition.suite.json"):
                self.partition_suites[suite["table"]] = suite
            else:
                self.suites[suite["table"]] = suite
                self.stems[suite["table"]] = path.name[: -len(".suite.json")]

    def contract(self, table: str) -> dict:
        for contract in self.ir["contracts"]:
            if qualified(contract) == table:
                return contract
        raise KeyError(table)

    def module_path(self, table: str) -> Path:
        return self.out / "pyspark" / f"{self.stems[table]}_preload.py"


def qualified(contract: dict) -> str:
    t = contract["table"]
    return f"{t['database']}.{t['table']}" if t["database"] else t["table"]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_table(contract: dict) -> str:
    t = contract["table"]
    return f"{quote(t['database'])}.{quote(t['table'])}" if t["database"] else quote(t["table"])


def duckdb_type(ty: dict) -> str:
    name = ty["name"]
    simple = {
        "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR", "tinyint": "TINYINT",
        "smallint": "SMALLINT", "int": "INTEGER", "bigint": "BIGINT", "float": "REAL",
        "double": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "timestamp_tz": "TIMESTAMPTZ",
    }
    if name in simple:
        return simple[name]
    if name == "decimal":
        return f"DECIMAL({ty['precision']}, {ty['scale']})"
    if name == "array":
        return duckdb_type(ty["element"]) + "[]"
    if name == "struct":
        return "STRUCT(" + ", ".join(f"{quote(f['name'])} {duckdb_type(f['type'])}" for f in ty["fields"]) + ")"
    raise ValueError(f"no DuckDB type for {ty}")


def spark_type(ty: dict):
    from pyspark.sql import types as T

    name = ty["name"]
    simple = {
        "string": T.StringType, "varchar": T.StringType, "char": T.StringType, "tinyint": T.ByteType,
        "smallint": T.ShortType, "int": T.IntegerType, "bigint": T.LongType, "float": T.FloatType,
        "double": T.DoubleType, "boolean": T.BooleanType, "date": T.DateType, "timestamp": T.TimestampType, "timestamp_tz": T.TimestampType,
    }
    if name in simple:
        return simple[name]()
    if name == "decimal":
        return T.DecimalType(ty["precision"], ty["scale"])
    if name == "array":
        return T.ArrayType(spark_type(ty["element"]))
    if name == "struct":
        return T.StructType([T.StructField(f["name"], spark_type(f["type"])) for f in ty["fields"]])
    raise ValueError(f"no Spark type for {ty}")


def spark_schema(contract: dict):
    from pyspark.sql import types as T

    return T.StructType([T.StructField(c["name"], spark_type(c["type"]), True) for c in contract["columns"]])


def load_duckdb(con, contract: dict, rows: list) -> None:
    db = contract["table"]["database"]
    if db:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(db)}")
    columns = ", ".join(f"{quote(c['name'])} {duckdb_type(c['type'])}" for c in contract["columns"])
    table = sql_table(contract)
    con.execute(f"CREATE TABLE {table} ({columns})")
    if rows:
        marks = ", ".join("?" for _ in contract["columns"])
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", [list(r) for r in rows])


def bind(params: list, run_time: str, partition_values: dict) -> list:
    values = []
    for p in params:
        if p["name"] == "run_time":
            values.append(run_time)
        elif p["name"].startswith("partition:"):
            values.append(partition_values[p["name"][len("partition:"):]])
        else:
            raise AssertionError(f"unknown parameter {p['name']}")
    return values


def run_suite(con, suite: dict, run_time: str, partition_values: dict) -> tuple:
    """Runs every query of a suite. Returns (row_count, violations from the check queries,
    violations from the standalone count queries)."""
    checks, counts, row_count = {}, {}, None
    for q in suite["queries"]:
        cur = con.execute(q["sql"], bind(q["params"], run_time, partition_values))
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        if q["kind"] == "sample":
            continue
        if q.get("sample_columns"):
            # Duplicate keys with the counts on every row: no row, no duplicate.
            assert len(rows) <= 20, f"{q['name']} returned {len(rows)} rows"
            result = dict(zip(names, rows[0])) if rows else {f"{r}__violations": 0 for r in q["rule_ids"]}
            target = counts if q["kind"] == "rule_count" else checks
            for rule_id in q["rule_ids"]:
                target[rule_id] = int(result[f"{rule_id}__violations"])
            continue
        assert len(rows) == 1, f"{q['name']} returned {len(rows)} rows"
        result = dict(zip(names, rows[0]))
        target = counts if q["kind"] == "rule_count" else checks
        if q["kind"] == "row_scan":
            row_count = result["row_count"]
        for rule_id in q["rule_ids"]:
            target[rule_id] = int(result[f"{rule_id}__violations"])
    return row_count, checks, counts


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def same_value(a, b, float32: bool = False) -> bool:
    """Equality for round-tripped values: NaN equals NaN, float columns compare as float32, and
    an instant Spark returns naive (in the session time zone, UTC) equals the same instant."""
    if isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime):
        utc = datetime.timezone.utc
        a, b = (x.replace(tzinfo=utc) if x.tzinfo is None and (a.tzinfo or b.tzinfo) else x for x in (a, b))
        return a == b
    if isinstance(a, float) and isinstance(b, float):
        if float32:
            a, b = (struct.unpack("f", struct.pack("f", x))[0] for x in (a, b))
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b
