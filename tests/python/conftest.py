"""Session fixtures: the dqc binary, compiled projects, one DuckDB database with every fixture
table, and one local SparkSession.

Run from the repository root:

    pip install -r tests/python/requirements.txt
    cargo build -p dqc-cli
    python -m pytest tests/python

`DQC_BIN` overrides the binary (default `target/debug/dqc`). Nothing here is skipped: a missing
binary, PySpark or Java fails the run with a message saying what to install.
"""

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

# Timestamps are naive on both engines; PySpark converts naive datetimes with the process's
# local zone, so pin every zone involved to UTC before Spark starts.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

from cases import CASES, RUN_TIME
from harness import REPO, Compiled, compile_project, load_duckdb

CONTRACTS = Path(__file__).resolve().parent / "contracts"


@pytest.fixture(scope="session")
def dqc_bin() -> Path:
    path = Path(os.environ.get("DQC_BIN", "target/debug/dqc"))
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        pytest.fail(f"the dqc binary {path} does not exist: run `cargo build -p dqc-cli` or set DQC_BIN")
    return path


@pytest.fixture(scope="session")
def fixtures(dqc_bin, tmp_path_factory) -> Compiled:
    """The fixture contracts, compiled as one project."""
    return Compiled(compile_project(dqc_bin, [CONTRACTS], tmp_path_factory.mktemp("fixtures")))


def project_dirs() -> list:
    """Every project whose generated code is checked: the fixtures, each golden ok case, and the
    loans example."""
    dirs = [("fixtures", CONTRACTS)]
    # Golden cases without contract files test `dqc import` only; they have nothing to compile.
    golden = [d for d in sorted((REPO / "golden" / "ok").iterdir()) if d.is_dir() and any(d.glob("*.dqc"))]
    dirs += [(f"golden/ok/{d.name}", d) for d in golden]
    dirs.append(("examples/loans", REPO / "examples" / "loans" / "contracts"))
    return dirs


@pytest.fixture(scope="session")
def all_projects(dqc_bin, tmp_path_factory) -> dict:
    out = {}
    for label, path in project_dirs():
        target = tmp_path_factory.mktemp(label.replace("/", "_"))
        out[label] = compile_project(dqc_bin, [path], target)
    return out


@pytest.fixture(scope="session")
def duck(fixtures):
    """An in-memory DuckDB database holding every fixture table."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for case in CASES.values():
        load_duckdb(con, fixtures.contract(case.table), case.rows)
    yield con
    con.close()


@pytest.fixture(scope="session")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        pytest.fail(f"PySpark is required ({error}): pip install -r tests/python/requirements.txt")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("PySpark needs a Java runtime (17): none on PATH and JAVA_HOME is unset")
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("dqc-pyspark-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            # AWS Glue's default, which the generated conditions assume.
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate()
        )
    except Exception as error:  # noqa: BLE001 - any launch failure means the same thing here
        pytest.fail(f"could not start a local SparkSession (is Java 17 installed?): {error}")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def run_time() -> str:
    return RUN_TIME
