//! Mermaid diagrams and Markdown documents: structure, escaping and determinism, on small
//! projects written in the contract language and checked into IR.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails loudly")]

use dqc_codegen::markdown;
use dqc_codegen::mermaid::{self, diagram, escape};
use dqc_codegen::sql::{self, Athena};
use dqc_diagnostics::FileId;
use dqc_ir::{Contract, Project};

/// A fact with two foreign keys, its dimensions, a partition, a grain and warn rules.
const LOANS: &str = r#"
contract db.dim_customer {
  grain (customer_id)
  columns { customer_id string not null, segment string, }
  rules { unique customer_id }
}
contract db.dim_loan {
  columns { loan_id string not null, customer_id string not null, }
  rules {
    unique loan_id
    customer_id references db.dim_customer (customer_id)
  }
}
contract db.fact {
  owner 'team'
  layer curated
  partitioned by (day)
  grain (loan_id, day)
  sla daily by 06:00 utc
  columns {
    loan_id     string not null,
    customer_id string,
    day         date   not null,
    amount      double comment 'EMI | amount',
  }
  rules {
    loan_id references db.dim_loan (loan_id)
    customer_id references db.dim_customer (customer_id)
    soft: amount <= 100 severity warn because 'profile: p95 = 90'
    check amount > 0 where day > date '2024-01-01'
  }
}
"#;

/// The nasty name, as written in the language (`""` is a quote inside a quoted name).
const NASTY_DSL: &str = r#""a""b[c]|d#e;""#;
/// The nasty name itself.
const NASTY: &str = r#"a"b[c]|d#e;"#;

/// A table and a column with the nasty name, texts with HTML, pipes, math and unicode.
fn nasty_source() -> String {
    format!(
        r#"
contract "x y".{NASTY_DSL} {{
  owner 'o | <b>x</b>'
  description 'two
lines with `ticks`, $$x$$ and naïve ✓'
  columns {{
    {NASTY_DSL} string not null comment '<script>alert(1)</script> | #1;',
    kind string,
  }}
  rules {{
    kind in ('fa:fa-car', 'x|y', '$$m$$') severity warn
  }}
}}
contract "x y".child {{
  columns {{ ref string, }}
  rules {{ ref references "x y".{NASTY_DSL} ({NASTY_DSL}) }}
}}
"#
    )
}

/// Parses and checks one file; panics on any error diagnostic.
fn project(text: &str) -> Project {
    let ast = match dqc_syntax::parse(text, FileId(0)) {
        Ok(ast) => ast,
        Err(d) => panic!("syntax error: {d:?}"),
    };
    let files = [dqc_semantics::ParsedFile { file: FileId(0), source: text, ast: &ast }];
    let (project, diags) = dqc_semantics::check_project(&files, &[]);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "check errors: {errors:?}");
    project
}

fn contract<'a>(p: &'a Project, table: &str) -> &'a Contract {
    match p.contracts.iter().find(|c| c.table.table == table) {
        Some(c) => c,
        None => panic!("no contract {table}"),
    }
}

fn doc(p: &Project, c: &Contract) -> String {
    markdown::document(p, c, &sql::suite(&Athena, p, c, false))
}

/// Every `["..."]` label holds only safe characters, entities and `<br/>` line breaks.
fn assert_labels_safe(d: &str) {
    for (n, line) in d.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("[\"") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("\"]") else { panic!("line {n}: unterminated label: {line}") };
            assert_safe_text(&after[..end].replace("<br/>", ""), line);
            rest = &after[end + 2..];
        }
        if let Some(start) = line.find("|\"") {
            let after = &line[start + 2..];
            let Some(end) = after.find("\"|") else { panic!("line {n}: unterminated edge label: {line}") };
            assert_safe_text(&after[..end], line);
        }
    }
}

/// Text with no raw quote, bracket, pipe, `<`, `>`, `:` or `$`, where `#` only opens an entity
/// and `;` only closes one.
fn assert_safe_text(text: &str, line: &str) {
    let mut in_entity = false;
    for c in text.chars() {
        match c {
            '#' => {
                assert!(!in_entity, "nested entity in {line}");
                in_entity = true;
            }
            ';' => {
                assert!(in_entity, "raw ';' in {line}");
                in_entity = false;
            }
            c if in_entity => assert!(c.is_ascii_alphanumeric(), "bad entity in {line}"),
            c => assert!(c.is_ascii_alphanumeric() || " _.,-/'=+?!".contains(c), "raw {c:?} in label of {line}"),
        }
    }
    assert!(!in_entity, "unterminated entity in {line}");
}

/// Node and subgraph ids: the token that opens each statement line is a plain identifier.
fn assert_ids_generated(d: &str) {
    for line in d.lines().map(str::trim) {
        let first = line.split([' ', '[']).next().unwrap_or("");
        let token = if first == "subgraph" { line.split([' ', '[']).nth(1).unwrap_or("") } else { first };
        if token.starts_with("%%") {
            continue;
        }
        assert!(
            !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "unsafe id {token:?} in {line}"
        );
    }
}

#[test]
fn fact_diagram_shows_fks_keys_stages_and_severities() {
    let p = project(LOANS);
    let d = diagram(&p, contract(&p, "fact"));
    assert!(d.starts_with("flowchart LR\n"));
    assert!(d.contains("tbl0[\"db.fact<br/>layer curated #183; owner team<br/>"), "{d}");
    assert!(d.contains("tbl1[\"db.dim_loan\"]"), "{d}");
    assert!(d.contains("tbl0 -->|\"loan_id\"| tbl1"), "{d}");
    assert!(d.contains("tbl0 -->|\"customer_id\"| tbl2"), "{d}");
    assert!(d.contains("keys[\"partitioned by day<br/>grain loan_id, day<br/>SLA daily by 06#58;00 UTC\"]"), "{d}");
    assert!(d.contains("subgraph stage_pre_load[\""), "{d}");
    assert!(d.contains("subgraph stage_post_load__foreign_key[\"foreign_key\"]"), "{d}");
    assert!(d.contains("stage_pre_load -->|"), "{d}");
    assert!(d.contains("tbl0 -->|\"verify after load\"| stage_post_load"), "{d}");
    // Rules: 2 implicit not-null, 2 FKs, `soft` (warn), the check (with its expression).
    assert!(d.contains("rule4[\"soft<br/>warn #183; amount must be at most 100\"]"), "{d}");
    assert!(d.contains("class rule0,rule1,rule2,rule3,rule5 error\n"), "{d}");
    assert!(d.contains("class rule4 warn\n"), "{d}");
    assert!(d.contains("classDef error ") && d.contains("classDef warn "), "{d}");
    assert!(d.contains("error #183; amount #gt; 0 must hold #40;where the rule's filter holds#41;\"]"), "{d}");
    assert_labels_safe(&d);
    assert_ids_generated(&d);
}

#[test]
fn dimension_diagram_shows_the_tables_that_reference_it() {
    let p = project(LOANS);
    let d = diagram(&p, contract(&p, "dim_customer"));
    assert!(d.contains("subgraph referenced_by[\"Referenced by\"]"), "{d}");
    assert!(d.contains("tbl1[\"db.dim_loan\"]") && d.contains("tbl2[\"db.fact<br/>layer curated\"]"), "{d}");
    assert!(d.contains("tbl1 -->|\"customer_id\"| tbl0"), "{d}");
    assert!(d.contains("tbl2 -->|\"customer_id\"| tbl0"), "{d}");
    assert!(!d.contains("subgraph references"), "{d}");
    assert!(d.contains("keys[\"grain customer_id\"]"), "{d}");
}

#[test]
fn self_reference_and_differing_key_names() {
    let p = project(
        "contract hr.emp { columns { id bigint not null, manager_id bigint, } \
         rules { manager_id references hr.emp (id) } }",
    );
    let d = diagram(&p, &p.contracts[0]);
    assert!(d.contains("tbl0 -->|\"manager_id #8594; id\"| tbl0"), "{d}");
    assert!(!d.contains("tbl1"), "{d}");
    assert!(!d.contains("subgraph referenced_by"), "{d}");
}

#[test]
fn escape_writes_entities_for_everything_mermaid_could_misread() {
    assert_eq!(escape(NASTY), "a#quot;b#91;c#93;#124;d#35;e#59;");
    assert_eq!(escape("<b> & {x} (y) 50% `t`"), "#lt;b#gt; #amp; #123;x#125; #40;y#41; 50#37; #96;t#96;");
    assert_eq!(escape("naïve ✓\nnext\ttab"), "na#239;ve #10003; next tab");
    assert_eq!(escape("$$x$$ a:fa-car b:c"), "#36;#8203;#36;x#36;#8203;#36; a#58;#8203;fa-car b#58;c");
    assert_eq!(mermaid::label(&["a\"", "b"]), "[\"a#quot;<br/>b\"]");
}

#[test]
fn nasty_names_are_escaped_in_the_diagram() {
    let p = project(&nasty_source());
    let parent = contract(&p, NASTY);
    let d = diagram(&p, parent);
    let escaped = escape(NASTY);
    assert!(!d.contains(NASTY), "{d}");
    assert!(d.contains(&format!("tbl0[\"x y.{escaped}<br/>owner o #124; #lt;b#gt;x#lt;/b#gt;<br/>")), "{d}");
    assert!(d.contains(&format!("tbl1 -->|\"ref #8594; {escaped}\"| tbl0")), "{d}");
    assert!(d.contains("'fa#58;#8203;fa-car', 'x#124;y', '#36;#8203;#36;m#36;#8203;#36;'"), "{d}");
    assert_labels_safe(&d);
    assert_ids_generated(&d);
    let child = diagram(&p, contract(&p, "child"));
    assert!(child.contains(&format!("tbl1[\"x y.{escaped}\"]")), "{child}");
    assert_labels_safe(&child);
    assert_ids_generated(&child);
}

#[test]
fn output_is_deterministic() {
    let text = format!("{LOANS}\n{}", nasty_source());
    let (a, b) = (project(&text), project(&text));
    for (x, y) in a.contracts.iter().zip(&b.contracts) {
        assert_eq!(diagram(&a, x), diagram(&b, y));
        assert_eq!(diagram(&a, x), diagram(&a, x));
        assert_eq!(doc(&a, x), doc(&b, y));
    }
}

/// Pipes that split cells: those not escaped with a backslash.
fn cell_pipes(line: &str) -> usize {
    let bytes = line.as_bytes();
    (0..bytes.len()).filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\')).count()
}

#[test]
fn document_has_summary_columns_rules_queries_diagram_and_hash() {
    let p = project(LOANS);
    let c = contract(&p, "fact");
    let md = doc(&p, c);
    assert!(md.starts_with("# db.fact\n"), "{md}");
    for row in [
        "| Owner | team |",
        "| Layer | curated |",
        "| Partitioned by | `day` |",
        "| Grain | `loan_id`, `day` |",
        "| SLA | daily by 06:00 UTC |",
    ] {
        assert!(md.contains(row), "missing {row} in {md}");
    }
    assert!(md.contains("| `amount` | `double` | yes | no | EMI \\| amount | `soft`, `check_"), "{md}");
    assert!(
        md.contains(
            "| `soft` | `range` | `pre_load` (inferred) | warn | amount must be at most 100 | profile: p95 = 90 |  |"
        ),
        "{md}"
    );
    // Expressions are shown as written in the contract language.
    assert!(md.contains("| `amount > 0` must hold |  | `day > date '2024-01-01'` |"), "{md}");
    assert!(md.contains("| `day > date '2024-01-01'` |"), "{md}");
    assert!(md.contains("| references | `db.dim_loan` | `loan_id` | `loan_id` |"), "{md}");
    assert!(md.contains(&format!("```mermaid\n{}```\n", diagram(&p, c))), "{md}");
    let scan = md.find("#### `row_scan`\n\n```sql\nSELECT");
    let fk = md.find("#### `foreign_key__");
    assert!(scan.is_some() && fk.is_some() && scan < fk, "{md}");
    assert!(md.ends_with(&format!("Contract hash: `{}`\n", c.hash)), "{md}");
}

#[test]
fn document_escapes_cells_and_html() {
    let p = project(&nasty_source());
    let md = doc(&p, contract(&p, NASTY));
    assert!(!md.contains("<script>") && !md.contains("<b>"), "{md}");
    assert!(md.contains("two<br>lines with \\`ticks\\`, \\$\\$x\\$\\$ and naïve ✓"), "{md}");
    assert!(
        md.contains("| `a\"b[c]\\|d#e;` | `string` | no | no | &lt;script&gt;alert(1)&lt;/script&gt; \\| \\#1; |"),
        "{md}"
    );
    // Every table row has as many cell-splitting pipes as its header.
    let mut expected = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            expected = None;
            continue;
        }
        let n = cell_pipes(line);
        assert_eq!(n, *expected.get_or_insert(n), "row splits differently from its header: {line}");
    }
}
