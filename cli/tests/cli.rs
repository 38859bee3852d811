//! The `dqc` binary: exit codes, output streams, help, and file handling.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;

fn dqc(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dqc")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().expect("run dqc")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dqc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn version_says_how_the_binary_was_built() {
    let long = dqc(&["--version"], &root());
    assert_eq!(long.status.code(), Some(0), "{}", text(&long.stderr));
    let expected = match (dqc_local::BUNDLED_DUCKDB, cfg!(feature = "aws")) {
        (true, true) => "(DuckDB compiled from source; with the AWS adapters)",
        (true, false) => "(DuckDB compiled from source; without the AWS adapters)",
        (false, true) => "(DuckDB linked from a prebuilt library; with the AWS adapters)",
        (false, false) => "(DuckDB linked from a prebuilt library; without the AWS adapters)",
    };
    assert_eq!(text(&long.stdout), format!("dqc {} {expected}\n", env!("CARGO_PKG_VERSION")));
    let short = dqc(&["-V"], &root());
    assert_eq!(text(&short.stdout), format!("dqc {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn check_clean_project_exits_zero() {
    let out = dqc(&["check", "examples/loans/contracts"], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("checked 4 contract(s) in 4 file(s): 0 errors, 0 warnings"));
}

#[test]
fn check_errors_exit_one_with_location_and_help() {
    let out = dqc(&["check", "golden/err/e0101_unknown_column"], &root());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error[E0101]: unknown column `emi_amout`"), "{err}");
    assert!(err.contains("golden/err/e0101_unknown_column/contract.dqc:9:14"), "{err}");
    assert!(err.contains("help: did you mean `emi_amount`?"), "{err}");
    assert!(!err.contains('\u{1b}'), "no colour when NO_COLOR is set or output is piped");
}

#[test]
fn check_json_format_is_machine_readable() {
    let out = dqc(&["check", "--format", "json", "golden/err/e0101_unknown_column"], &root());
    assert_eq!(out.status.code(), Some(1));
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    let first = &items[0];
    assert_eq!(first["code"], "E0101");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["primary"]["line"], 2);
    assert_eq!(first["help"], "did you mean `payment_date`?");
}

#[test]
fn missing_path_is_an_io_error() {
    let out = dqc(&["check", "no/such/dir"], &root());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such file or directory: no/such/dir"));
}

#[test]
fn usage_errors_exit_two() {
    let out = dqc(&["check", "--format", "yaml"], &root());
    assert_eq!(out.status.code(), Some(2));
    let out = dqc(&["frobnicate"], &root());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_command_has_help() {
    for cmd in [
        &["--help"][..],
        &["check", "--help"],
        &["fmt", "--help"],
        &["ir", "--help"],
        &["import", "--help"],
        &["export", "json", "--help"],
        &["explain", "--help"],
        &["workflow", "--help"],
        &["workflow", "run", "--help"],
        &["workflow", "validate", "--help"],
        &["workflow", "resume", "--help"],
        &["workflow", "send-success", "--help"],
        &["workflow", "send-failure", "--help"],
        &["workflow", "demo", "--help"],
    ] {
        let out = dqc(cmd, &root());
        assert_eq!(out.status.code(), Some(0), "{cmd:?}");
        assert!(text(&out.stdout).contains("Usage: dqc"), "{cmd:?}: {}", text(&out.stdout));
    }
}

#[test]
fn fmt_check_then_fix() {
    let dir = scratch("fmt");
    let file = dir.join("t.dqc");
    std::fs::write(&file, "CONTRACT t { COLUMNS { id BIGINT NOT NULL } -- keep me\n}\n").unwrap();
    let out = dqc(&["fmt", "--check", "t.dqc"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("would reformat t.dqc"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "CONTRACT t { COLUMNS { id BIGINT NOT NULL } -- keep me\n}\n");
    let out = dqc(&["fmt", "t.dqc"], &dir);
    assert_eq!(out.status.code(), Some(0));
    let formatted = std::fs::read_to_string(&file).unwrap();
    assert_eq!(formatted, "contract t {\n  columns {\n    id bigint not null,\n  } -- keep me\n}\n");
    let out = dqc(&["fmt", "--check", "t.dqc"], &dir);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn fmt_reports_syntax_errors_without_touching_the_file() {
    let dir = scratch("fmt-bad");
    std::fs::write(dir.join("bad.dqc"), "contract t { columns { id } }\n").unwrap();
    let out = dqc(&["fmt", "bad.dqc"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error[E0001]"));
    assert_eq!(std::fs::read_to_string(dir.join("bad.dqc")).unwrap(), "contract t { columns { id } }\n");
}

#[test]
fn ir_prints_json_with_hashes_and_schema() {
    let out = dqc(&["ir", "examples/loans/contracts"], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ir: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ir["contracts"].as_array().unwrap().len(), 4);
    assert!(ir["contracts"][0]["hash"].as_str().unwrap().starts_with("sha256:"));
    let order: Vec<&str> = ir["load_order"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let pos = |t: &str| order.iter().position(|o| *o == t).unwrap();
    assert!(pos("analytics_db.dim_customer") < pos("analytics_db.dim_loan"));
    assert!(pos("analytics_db.dim_loan") < pos("analytics_db.loan_repayment_fact"));
    let out = dqc(&["ir", "--schema"], &root());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["title"], "Project");
}

#[test]
fn explain_known_and_unknown_codes() {
    let out = dqc(&["explain", "e0302"], &root());
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("E0302 (error): regex feature not portable across engines"));
    let out = dqc(&["explain", "E9999"], &root());
    assert_eq!(out.status.code(), Some(2));
    let out = dqc(&["explain", "--list"], &root());
    assert!(text(&out.stdout).lines().count() >= 40);
}

#[test]
fn import_then_export_round_trips() {
    let dir = scratch("import");
    let out = dqc(
        &["import", "golden/ok/seed_llm_output/input.json", "--out", dir.join("fact.dqc").to_str().unwrap()],
        &root(),
    );
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", text(&out.stderr));
    let contract = std::fs::read_to_string(dir.join("fact.dqc")).unwrap();
    assert!(contract.contains("contract loan_repayment_fact {"), "{contract}");
    std::fs::copy(root().join("golden/ok/seed_llm_output/dims.dqc"), dir.join("dims.dqc")).unwrap();
    let out = dqc(&["export", "json", "."], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(export.as_array().unwrap().len(), 3);
}

/// All files under `dir`, relative path -> contents.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn compile_is_deterministic_across_order_and_working_directory() {
    let contracts = ["dim_customer.dqc", "dim_loan.dqc", "loan_repayment_fact.dqc", "raw_payments.dqc"];
    let a = scratch("det-a");
    let b = scratch("det-b");
    let forward: Vec<String> = contracts.iter().map(|c| format!("examples/loans/contracts/{c}")).collect();
    let mut args: Vec<&str> = vec!["compile", "--target", "all", "--out", a.to_str().unwrap()];
    args.extend(forward.iter().map(String::as_str));
    let out = dqc(&args, &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let backward: Vec<String> = contracts.iter().rev().map(|c| format!("contracts/{c}")).collect();
    let mut args: Vec<&str> = vec!["compile", "--out", b.to_str().unwrap()];
    args.extend(backward.iter().map(String::as_str));
    let out = dqc(&args, &root().join("examples/loans"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 20, "expected every backend's files, got {:?}", ta.keys().collect::<Vec<_>>());
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(tb.get(path) == Some(bytes), "{path} differs between the two runs");
    }
}

#[test]
fn compile_refuses_contracts_with_errors() {
    let dir = scratch("compile-bad");
    let out = dqc(&["compile", "golden/err/e0101_unknown_column", "--out", dir.to_str().unwrap()], &root());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not compiled: 3 errors"), "{}", text(&out.stderr));
    assert!(tree(&dir).is_empty());
}

#[test]
fn demo_runs_the_whole_cycle_and_checks_every_documented_defect() {
    let dir = scratch("demo");
    let out = dqc(&["demo", "--rows", "3000", "--out", "demo"], &dir);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("every injected defect was caught with its documented count"), "{stdout}");
    assert!(stderr.contains("invariant holds"), "{stderr}");
    for step in [
        "1/7 generate",
        "2/7 profile",
        "3/7 draft",
        "4/7 compile",
        "5/7 pre-load split",
        "6/7 load",
        "7/7 post-load test",
    ] {
        assert!(stderr.contains(step), "{step}: {stderr}");
    }
    let demo = dir.join("demo");
    for path in [
        "lake/_defects.json",
        "profile.loan_repayment_fact.json",
        "drafts/loan_repayment_fact.dqc",
        "staging/raw_payments/raw_payments.parquet",
        "artifacts/quarantine/raw_payments/raw_payments.parquet",
        "artifacts/quarantine/raw_payments/raw_payments.rejected_lines.parquet",
        "artifacts/sql/duckdb/loan_repayment_fact.sql",
        "artifacts/results/loan_repayment_fact/2024-01-20.json",
        "artifacts/stats-history/loan_repayment_fact/2024-01-20.json",
        "metadata/table#analytics_db.loan_repayment_fact/run#2024-01-20.json",
        "metadata/table#analytics_db.loan_repayment_fact/contract#current.json",
    ] {
        assert!(demo.join(path).is_file(), "{path} is written");
    }
    // Post-load failures are the documented defects, so the run's verdict is in the summary.
    assert!(stdout.contains("analytics_db.loan_repayment_fact: 3003 row(s)"), "{stdout}");
    // The loaded landing zone is the split's valid rows, partitioned by ingest date, and it
    // passes its contract post-load.
    let metrics = std::fs::read(demo.join("artifacts/quarantine/raw_payments/2024-01-20/metrics.json")).unwrap();
    let valid = serde_json::from_slice::<serde_json::Value>(&metrics).unwrap()["rows_valid"].as_u64().unwrap();
    assert!(stderr.contains(&format!("    {valid} rows, partitioned by ingest_date")), "{stderr}");
    let loaded_table = demo.join("loaded/raw_db/raw_payments");
    let partitions = std::fs::read_dir(&loaded_table).unwrap().flatten().map(|e| e.file_name()).collect::<Vec<_>>();
    assert!(partitions.iter().all(|p| p.to_string_lossy().starts_with("ingest_date=")), "{partitions:?}");
    assert!(partitions.len() > 1, "{partitions:?}");
    let summary = format!("raw_db.raw_payments: {valid} row(s)");
    let loaded_run = stdout.split(&summary).nth(1).unwrap_or_else(|| panic!("{summary} in {stdout}"));
    assert!(loaded_run.contains("PASSED: 0 failed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn local_commands_name_what_is_wrong() {
    let dir = scratch("local-errors");
    let out = dqc(&["profile", "analytics_db.fact", "--lake", "no-such-lake"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no-such-lake"), "{}", text(&out.stderr));
    let out = dqc(&["profile", "fact", "--lake", "."], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("must be written database.table"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_refuses_a_folder_it_did_not_write() {
    let dir = scratch("demo-refuse");
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let out = dqc(&["demo", "--rows", "100", "--out", "."], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("was not written by `dqc demo`"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("precious.txt")).unwrap(), "keep me");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::process::Stdio;
    // The reader goes away before dqc writes: every write after that meets a closed pipe.
    for args in [&["explain", "--list"][..], &["check", "golden/err/e0101_unknown_column"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dqc"))
            .args(args)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_ne!(status.code(), Some(101), "{args:?} panicked");
        assert!(matches!(status.code(), Some(0 | 1 | 141)), "{args:?}: {status:?}");
    }
}

#[test]
fn invalid_utf8_in_a_contract_is_located() {
    let dir = scratch("utf8");
    std::fs::write(dir.join("bad.dqc"), b"contract db.t {\n  columns { caf\xe9 int }\n}\n").unwrap();
    let out = dqc(&["check", "bad.dqc"], &dir);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.dqc:2:16: not UTF-8 text: invalid byte(s) 0xe9"), "{err}");
    assert!(err.contains("at byte offset 31"), "{err}");
}

#[test]
fn dates_and_sizes_are_validated_before_any_work() {
    let root = root();
    let out = dqc(
        &[
            "test",
            "analytics_db.loan_repayment_fact",
            "--lake",
            "no-lake",
            "--contracts",
            "examples/loans/contracts",
            "--artifacts",
            "no-artifacts",
            "--date",
            "2024-13-45",
        ],
        &root,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--date `2024-13-45` is not a date"), "{err}");
    let out = dqc(&["demo", "--rows", "0", "--out", "never-written"], &root);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--rows"), "{}", text(&out.stderr));
    assert!(!root.join("never-written").exists());
}

#[test]
fn preload_refuses_one_folder_for_valid_and_quarantined_rows() {
    let dir = scratch("same-out");
    std::fs::write(dir.join("t.dqc"), "contract db.t {\n  columns {\n    id bigint not null,\n  }\n}\n").unwrap();
    std::fs::write(dir.join("t.csv"), "id\n1\n2\n").unwrap();
    let out =
        dqc(&["preload", "--contract", "t.dqc", "--input", "t.csv", "--valid", "out", "--quarantine", "out/"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("give --valid and --quarantine different folders"), "{}", text(&out.stderr));
    assert!(!dir.join("out").exists());
}

#[test]
fn draft_prints_a_checked_contract_with_evidence_and_never_replaces_a_file() {
    let dir = scratch("draft");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", "lake"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = dqc(&["draft", "analytics_db.dim_loan", "--lake", "lake"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let contract = text(&out.stdout);
    assert!(contract.contains("contract analytics_db.dim_loan {"), "{contract}");
    assert!(contract.contains("unique loan_id because 'profile: "), "{contract}");
    assert!(
        contract.contains("customer_id references analytics_db.dim_customer (customer_id) because 'data: "),
        "{contract}"
    );
    assert!(text(&out.stderr).contains("drafted "), "{}", text(&out.stderr));
    // Formatted: `dqc fmt --check` has nothing to change.
    std::fs::write(dir.join("draft.dqc"), &contract).unwrap();
    let fmt = dqc(&["fmt", "--check", "draft.dqc"], &dir);
    assert_eq!(fmt.status.code(), Some(0), "{}", text(&fmt.stderr));
    let again = dqc(&["draft", "analytics_db.dim_loan", "--lake", "lake", "--out", "draft.dqc"], &dir);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("never replaces a file"), "{}", text(&again.stderr));
    let unknown = dqc(&["draft", "analytics_db.nope", "--lake", "lake"], &dir);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("analytics_db.nope"), "{}", text(&unknown.stderr));
}

#[test]
fn draft_takes_the_jobs_grain_and_not_null_hints_with_their_lines() {
    let dir = scratch("draft-job");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", "lake"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(
        dir.join("fact_job.py"),
        "from pyspark.sql import SparkSession\nfrom pyspark.sql import functions as F\n\n\
         spark = SparkSession.builder.getOrCreate()\n\
         payments = spark.table(\"raw_db.raw_payments\")\n\
         loans = spark.table(\"analytics_db.dim_loan\")\n\
         fact = (\n    payments.join(loans.select(\"loan_id\"), \"loan_id\", \"inner\")\n\
         \x20   .withColumn(\"status\", F.coalesce(F.col(\"payment_status\"), F.lit(\"PENDING\")))\n\
         \x20   .dropDuplicates([\"loan_id\", \"payment_date\"])\n)\n\
         fact.write.mode(\"overwrite\").saveAsTable(\"analytics_db.loan_repayment_fact\")\n",
    )
    .unwrap();
    let out = dqc(&["draft", "analytics_db.loan_repayment_fact", "--lake", "lake", "--script", "fact_job.py"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let draft = text(&out.stdout);
    // The example lake repeats 2 grain keys and has orphan loan ids: the job's grain is drafted
    // with today's disagreement, the join is a comment.
    assert!(
        draft.contains("unique (loan_id, payment_date) because 'job: dropDuplicates at fact_job.py:10; data: 2 key(s) repeat today'"),
        "{draft}"
    );
    assert!(draft.contains("not null status because 'job: coalesce("), "{draft}");
    assert!(draft.contains("-- fact_job.py:8 joins on loan_id"), "{draft}");
    // The context a drafter gets: the profile and the job summary, in the seed's shape.
    let out = dqc(
        &["draft", "analytics_db.loan_repayment_fact", "--lake", "lake", "--script", "fact_job.py", "--context"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let context: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(context["table_name"], "loan_repayment_fact");
    assert_eq!(context["row_count"], 2002);
    assert_eq!(context["job_summary"]["grain"], serde_json::json!(["loan_id", "payment_date"]));
    assert_eq!(context["schema"].as_array().unwrap().len(), 6);
    assert!(context["column_stats"]["status"]["top_values"].is_array(), "{context}");
}

#[test]
fn draft_with_an_openai_compatible_endpoint_checks_the_answer_and_records_provenance() {
    let dir = scratch("draft-llm");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", "lake"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let contract = support::dim_customer(
        serde_json::json!({"type": "allowed_values", "values": ["RETAIL", "SME", "CORPORATE"], "because": "profile: top values"}),
    );
    let (url, seen) = support::loopback_llm(vec![support::chat(&contract)]);
    let url = format!("{url}/v1");
    let out = dqc(
        &[
            "draft",
            "analytics_db.dim_customer",
            "--lake",
            "lake",
            "--provider",
            "openai",
            "--model",
            "local-model",
            "--endpoint",
            &url,
        ],
        &dir,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("-- Drafted by openai model local-model with prompt draft-v1 (sha256:"), "{stdout}");
    assert!(stdout.contains("segment in ('RETAIL', 'SME', 'CORPORATE') because 'profile: top values'"), "{stdout}");
    assert!(stderr.contains("1 attempt(s), 321 prompt and 54 answer tokens"), "{stderr}");
    let request = seen.lock().unwrap()[0].json();
    assert_eq!(request["model"], "local-model");
    assert!(request["messages"][1]["content"].as_str().unwrap().contains("\"table_name\": \"dim_customer\""));
    let missing = dqc(&["draft", "analytics_db.dim_customer", "--lake", "lake", "--provider", "gemini"], &dir);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("--provider gemini needs --model"), "{}", text(&missing.stderr));
}

#[test]
fn draft_with_bedrock_signs_with_the_aws_chain_and_offline_rules_stand_in_for_what_never_compiles() {
    let dir = scratch("draft-bedrock");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", "lake"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // An invalid regex never compiles: with one attempt, it is left out.
    let contract = support::dim_customer(serde_json::json!({"type": "regex", "pattern": "([", "because": "a guess"}));
    let answer = serde_json::json!({
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "t1", "name": "contract_draft", "input": contract}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 400, "outputTokens": 90, "totalTokens": 490}
    });
    let (url, seen) = support::loopback_llm(vec![answer.to_string()]);
    let out = Command::new(env!("CARGO_BIN_EXE_dqc"))
        .args(["draft", "analytics_db.dim_customer", "--lake", "lake", "--provider", "bedrock"])
        .args(["--model", "anthropic.claude-test-v1:0", "--attempts", "1"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &url)
        .env("AWS_ACCESS_KEY_ID", "AKIDCLITEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", "us-west-2")
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let request = &seen.lock().unwrap()[0];
    assert!(request.head.starts_with("POST /model/anthropic.claude-test-v1%3A0/converse "), "{}", request.head);
    let auth = request.header("authorization");
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDCLITEST/"), "{auth}");
    assert!(auth.contains("/us-west-2/bedrock/aws4_request"), "{auth}");
    assert_eq!(request.json()["toolConfig"]["toolChoice"]["tool"]["name"], "contract_draft");
    assert!(stdout.starts_with("-- Drafted by bedrock model anthropic.claude-test-v1:0"), "{stdout}");
    assert!(stdout.contains("1 rule(s) of the last answer never compiled and are left out"), "{stdout}");
    assert!(stdout.contains("email matches '^[^@]+@[^@]+$'"), "the answer's good rules are kept: {stdout}");
    assert!(stdout.contains("-- offline stand-in for a rule of the answer that never compiled:"), "{stdout}");
    assert!(stdout.contains("segment in ("), "the offline rule on segment stands in: {stdout}");
    assert!(stderr.contains("left out (never compiled): segment matches '(['"), "{stderr}");
    assert!(stderr.contains("offline stand-in: segment in ("), "{stderr}");
    std::fs::write(dir.join("d.dqc"), &stdout).unwrap();
    let check = dqc(&["check", "d.dqc"], &dir);
    assert_eq!(check.status.code(), Some(0), "the draft checks: {}", text(&check.stderr));
}

#[test]
fn draft_with_gemini_sends_the_key_and_the_schema_and_checks_the_answer() {
    let dir = scratch("draft-gemini");
    let out = dqc(&["example", "loans", "--rows", "2000", "--out", "lake"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let contract = support::dim_customer(
        serde_json::json!({"type": "allowed_values", "values": ["RETAIL", "SME", "CORPORATE"], "because": "profile: top values"}),
    );
    let answer = serde_json::json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": contract.to_string()}]}}],
        "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 70}
    });
    let (url, seen) = support::loopback_llm(vec![answer.to_string()]);
    let out = Command::new(env!("CARGO_BIN_EXE_dqc"))
        .args([
            "draft",
            "analytics_db.dim_customer",
            "--lake",
            "lake",
            "--provider",
            "gemini",
            "--model",
            "gemini-test",
        ])
        .args(["--endpoint", &format!("{url}/v1beta")])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("GEMINI_API_KEY", "g-cli-key")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let request = &seen.lock().unwrap()[0];
    assert!(request.head.starts_with("POST /v1beta/models/gemini-test:generateContent "), "{}", request.head);
    assert_eq!(request.header("x-goog-api-key"), "g-cli-key");
    let body = request.json();
    assert!(body["generationConfig"]["responseJsonSchema"]["properties"]["data_quality"].is_object(), "{body}");
    assert!(stdout.starts_with("-- Drafted by gemini model gemini-test"), "{stdout}");
    assert!(stdout.contains("segment in ('RETAIL', 'SME', 'CORPORATE')"), "{stdout}");
    assert!(stderr.contains("1 attempt(s), 300 prompt and 70 answer tokens"), "{stderr}");
    assert!(!stdout.contains("-- the importer:"), "nothing was approximated: {stdout}");
}

#[test]
fn preload_reads_an_instant_column_in_utc() {
    let dir = scratch("instants");
    std::fs::write(
        dir.join("events.csv"),
        "id,seen_at\n1,2024-01-01 04:00:00+05:00\n2,2024-01-01 00:00:00\n3,2024-01-01 00:00:00 Europe/Paris\n4,2024-01-01 00:30:00Z\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("events.dqc"),
        "contract raw_db.events {\n  columns {\n    id      bigint not null,\n    seen_at timestamptz,\n  }\n\n  rules {\n    seen_at >= timestamp '2024-01-01 00:00:00'\n    max(seen_at) <= timestamp '2024-01-01 00:10:00' stage pre_load\n  }\n}\n",
    )
    .unwrap();
    let out = dqc(
        &["preload", "--contract", "events.dqc", "--input", "events.csv", "--valid", "valid", "--quarantine", "q"],
        &dir,
    );
    let err = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    // 1 is 2023-12-31 23:00 UTC (before the bound), 3 names a zone (a cast failure), 2 is UTC,
    // 4 is 00:30 UTC.
    assert!(err.contains("min_seen_at   error     quarantine           1"), "{err}");
    assert!(err.contains("cast_seen_at  error     quarantine           1"), "{err}");
    assert!(err.contains("invariant: 2 valid + 2 quarantined + 0 rejected = 4 of 4 input rows: holds"), "{err}");
    // The batch aggregate sees every value that casts: the newest is 00:30 UTC.
    assert!(err.contains("aggregate max_of_seen_at (error): 2024-01-01 00:30:00"), "{err}");
    assert!(err.contains("OUT of bounds"), "{err}");
}
