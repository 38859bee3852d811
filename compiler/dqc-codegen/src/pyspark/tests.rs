//! Structure and escaping of the generated module. The module is executed on Spark by the
//! Python suite in `tests/python/`.

use dqc_ir::{Contract, Project};
use serde_json::{json, Value};

use super::{module, rules::ratio, str_literal};

fn rule(id: &str, kind: Value, severity: &str, stage: &str) -> Value {
    json!({
        "id": id, "kind": kind, "severity": severity, "stage": stage, "stage_inferred": false,
        "filter": null, "min_pass_percent": null, "because": null, "implicit": false, "span": null
    })
}

fn column(name: &str, ty: &str) -> Value {
    json!({"name": name, "type": {"name": ty}, "nullable": true, "pii": false, "description": null, "span": null})
}

fn contract(db: &str, table: &str, columns: Vec<Value>, rules: Vec<Value>) -> Value {
    json!({
        "table": {"database": db, "table": table}, "owner": null, "description": null, "layer": null,
        "location": null, "partitions": [], "grain": [], "sla": null, "columns": columns, "rules": rules,
        "hash": "sha256:00ff", "span": null
    })
}

fn project(contracts: Vec<Value>) -> Project {
    let names: Vec<String> = contracts
        .iter()
        .map(|c| format!("{}.{}", c["table"]["database"].as_str().unwrap(), c["table"]["table"].as_str().unwrap()))
        .collect();
    serde_json::from_value(json!({"ir_version": 1, "contracts": contracts, "load_order": names})).unwrap()
}

fn orders() -> Project {
    let mut ratio_rule = rule("not_null_email", json!({"type": "not_null", "column": "email"}), "error", "pre_load");
    ratio_rule["min_pass_percent"] = json!("99.5");
    let mut filtered = rule(
        "min_amount",
        json!({"type": "range", "column": "amount", "measure": "value",
               "min": {"value": {"type": "number", "value": "0"}, "inclusive": false}, "max": null}),
        "warn",
        "pre_load",
    );
    filtered["filter"] = json!({"kind": {"form": "column", "name": "ok"}, "type": {"name": "boolean"}, "span": null});
    let child = contract(
        "sales",
        "orders",
        vec![
            column("id", "bigint"),
            column("email", "string"),
            column("amount", "double"),
            column("customer_id", "string"),
            column("ok", "boolean"),
        ],
        vec![
            rule("not_null_id", json!({"type": "not_null", "column": "id"}), "error", "pre_load"),
            ratio_rule,
            filtered,
            rule(
                "unique_id",
                json!({"type": "unique", "columns": ["id"], "keep": {"order_by": "amount", "descending": true}}),
                "error",
                "pre_load",
            ),
            rule("unique_email", json!({"type": "unique", "columns": ["email"], "keep": null}), "error", "post_load"),
            rule(
                "fk_customer_id_customers",
                json!({"type": "foreign_key", "columns": ["customer_id"],
                       "table": {"database": "sales", "table": "customers"}, "ref_columns": ["customer_id"]}),
                "error",
                "pre_load",
            ),
            rule("late_email", json!({"type": "not_null", "column": "email"}), "error", "post_load"),
        ],
    );
    let parent = contract("sales", "customers", vec![column("customer_id", "string")], vec![]);
    project(vec![parent, child])
}

fn generate(p: &Project, index: usize) -> String {
    let c: &Contract = &p.contracts[index];
    module(p, c)
}

#[test]
fn module_has_the_public_api_and_only_pre_load_rules() {
    let p = orders();
    let text = generate(&p, 1);
    assert!(text.starts_with("\"\"\"Pre-load data quality checks for `sales.orders`"), "{text}");
    assert!(text.contains("\nfrom pyspark.sql import Window\nfrom pyspark.sql import functions as F\n"));
    assert!(text.contains("\ndef split(df, references=None, *, tag_warnings=True):\n"));
    assert!(text
        .contains("\ndef split_dynamic_frame(glue_context, dyf, references=None, name=None, *, tag_warnings=True):\n"));
    assert!(text.contains("TABLE = \"sales.orders\"\n"));
    assert!(text.contains("CONTRACT_HASH = \"sha256:00ff\"\n"));
    assert!(text.contains("COLUMNS = (\"id\", \"email\", \"amount\", \"customer_id\", \"ok\")\n"));
    for id in ["not_null_id", "not_null_email", "min_amount", "unique_id", "fk_customer_id_customers"] {
        assert!(text.contains(&format!("\"rule_id\": \"{id}\",")), "{id} missing");
    }
    for id in ["unique_email", "late_email"] {
        assert!(!text.contains(&format!("\"rule_id\": \"{id}\",")), "{id} is post-load");
    }
    assert!(text.contains("Post-load only (run by the SQL suite, not here): unique_email, late_email.\n"));
    assert!(text.contains("Foreign keys look keys up in references: sales.customers.\n"));
    // awsglue is imported lazily, inside the wrapper only.
    let glue_import = text.find("from awsglue.dynamicframe import DynamicFrame").unwrap();
    assert!(glue_import > text.find("def split_dynamic_frame").unwrap());
    assert!(text.ends_with("    return metrics\n"));
}

#[test]
fn rule_entries_carry_conditions_and_policies() {
    let p = orders();
    let text = generate(&p, 1);
    assert!(text.contains("\"violating_row\": \"`id` IS NULL\",\n"), "{text}");
    assert!(text.contains("\"checked\": \"COALESCE(`ok`, FALSE)\",\n"));
    assert!(text.contains(
        "\"violating_row\": \"COALESCE(`ok`, FALSE) AND (`amount` IS NOT NULL AND (isnan(`amount`) OR NOT (`amount` > CAST(0 AS DOUBLE))))\",\n"
    ));
    assert!(text.contains("\"keep\": {\"order_by\": \"amount\", \"descending\": True},\n"));
    assert!(text.contains("\"error_reason\": \"(id) must be unique; the first row by amount desc is kept\",\n"));
    assert!(text.contains("\"reference\": \"sales.customers\",\n        \"ref_columns\": (\"customer_id\",),\n"));
    assert!(text.contains("\"min_pass_percent\": \"99.5\",\n        \"min_pass\": (995, 10),\n"));
}

#[test]
fn only_unconditional_error_rules_quarantine() {
    let p = orders();
    let text = generate(&p, 1);
    let quarantine_of = |id: &str| {
        let start = text.find(&format!("\"rule_id\": \"{id}\",")).unwrap();
        let rest = &text[start..];
        let at = rest.find("\"quarantine\": ").unwrap() + "\"quarantine\": ".len();
        rest[at..].split(',').next().unwrap().to_string()
    };
    assert_eq!(quarantine_of("not_null_id"), "True");
    assert_eq!(quarantine_of("not_null_email"), "False", "an `at least` rule tags");
    assert_eq!(quarantine_of("min_amount"), "False", "a warn rule tags");
    assert_eq!(quarantine_of("unique_id"), "True");
}

#[test]
fn output_is_deterministic() {
    let p = orders();
    assert_eq!(generate(&p, 1), generate(&p, 1));
    assert_eq!(generate(&p, 0), generate(&orders(), 0));
}

#[test]
fn contract_without_pre_load_rules_has_empty_rules() {
    let p = orders();
    let text = generate(&p, 0);
    assert!(text.contains("\nRULES = ()\n"), "{text}");
    assert!(text.contains("Applies 0 pre-load rule(s) of RULES."));
}

#[test]
fn user_text_is_never_spliced_raw() {
    let nasty = "x\"\"\"); import os; (\"\n\u{202e}";
    let values = json!([{"type": "string", "value": "it's \\ \"q\" 日本"}]);
    let p = project(vec![contract(
        "db\"\"\"",
        "t\nx",
        vec![column(nasty, "string")],
        vec![
            rule(
                "allowed_values_x",
                json!({"type": "allowed_values", "column": nasty, "values": values}),
                "error",
                "pre_load",
            ),
            rule(
                "u",
                json!({"type": "unique", "columns": [nasty], "keep": {"order_by": nasty, "descending": false}}),
                "warn",
                "pre_load",
            ),
        ],
    )]);
    let text = generate(&p, 0);
    assert!(text.chars().all(|c| c == '\n' || (' '..='~').contains(&c)), "non-ASCII or control character in output");
    // The raw name would close a docstring or string; only its escaped form may appear.
    assert!(!text.contains("x\"\"\")"), "{text}");
    assert!(text.lines().all(|l| !l.trim_start().starts_with("import os")));
    assert!(text.contains("the table named in TABLE"), "an unsafe name stays out of the docstring");
    assert!(text.contains(&format!("COLUMNS = ({},)\n", str_literal(nasty))));
    assert!(text.contains(&format!("\"columns\": ({},),\n", str_literal(nasty))));
    assert!(text.contains(&format!("TABLE = {}\n", str_literal("db\"\"\".t\nx"))));
    // The Spark SQL (backquoted identifier, backslash-escaped literal) is itself escaped for Python.
    let sql = format!("`{nasty}` IS NOT NULL AND (`{nasty}` NOT IN ('it\\'s \\\\ \"q\" 日本'))");
    assert!(text.contains(&format!("\"violating_row\": {},\n", str_literal(&sql))), "{text}");
}

#[test]
fn ratios_are_exact() {
    assert_eq!(ratio("99.5"), Some((995, 10)));
    assert_eq!(ratio("100"), Some((100, 1)));
    assert_eq!(ratio("0.001"), Some((1, 1000)));
    assert_eq!(ratio("75"), Some((75, 1)));
    assert_eq!(ratio(""), None);
    assert_eq!(ratio("1e2"), None);
    assert_eq!(ratio("-5"), None);
}
