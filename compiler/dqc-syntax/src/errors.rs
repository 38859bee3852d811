//! Conversion of pest errors into diagnostics, with friendly names for grammar rules.

use std::collections::BTreeSet;

use dqc_diagnostics::{Code, Diagnostic, FileId, Span};
use pest::error::{Error, ErrorVariant, InputLocation};

use crate::parser::Rule;

/// The phrase a user sees for a grammar rule the parser expected; `None` hides the rule.
fn friendly(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        contract | kw_contract => "`contract`",
        owner | kw_owner => "`owner`",
        description | kw_description => "`description`",
        layer | kw_layer => "`layer`",
        location | kw_location => "`location`",
        partitioned_by | kw_partitioned => "`partitioned by`",
        grain | kw_grain => "`grain`",
        sla | kw_sla => "`sla`",
        columns | kw_columns => "`columns`",
        rules | kw_rules => "`rules`",
        column => "a column declaration",
        col_type | named_type | param_type | array_type | struct_type => "a column type",
        struct_field => "a struct field",
        not_null_attr | kw_not => "`not`",
        null_attr | kw_null | null_lit => "`null`",
        pii_attr | kw_pii => "`pii`",
        comment_attr | kw_comment => "`comment`",
        rule_def | rule_id => "a rule",
        not_null_rule | unique_rule | freshness_rule | anomaly_rule | check_rule | fk_rule | regex_rule
        | allowed_rule | between_rule | chain_rule | compare_rule => "a rule",
        keep_clause | kw_keep => "`keep first by`",
        order_dir | kw_asc | kw_desc => "`asc` or `desc`",
        duration => "a duration such as `26 hours`",
        anomaly_band => "a band such as `20%` or `3 stddev`",
        subject | row_count_subject | length_subject => "a column",
        lt_op => "`<` or `<=`",
        cmp_op => "a comparison operator",
        where_clause | kw_where => "`where`",
        severity_clause | kw_severity => "`severity`",
        stage_clause | kw_stage => "`stage`",
        ratio_clause | kw_at => "`at least`",
        of_non_null => "`of non-null`",
        because_clause | kw_because => "`because`",
        percent => "a percentage such as `99%`",
        expr | operand | standalone_expr => "an expression",
        op_or | op_and | op_concat | op_ge | op_le | op_ne | op_eq | op_gt | op_lt | op_add | op_sub | op_mul
        | op_div | op_mod => "an operator",
        op_not | op_neg => "an expression",
        is_null | kw_is => "`is`",
        in_list | kw_in => "`in`",
        like | kw_like => "`like`",
        between | kw_between => "`between`",
        paren => "`(`",
        case_expr | kw_case => "`case`",
        case_operand => "an expression",
        when_clause | kw_when => "`when`",
        else_clause | kw_else => "`else`",
        kw_end => "`end`",
        kw_then => "`then`",
        cast_expr | kw_cast => "`cast`",
        kw_as => "`as`",
        call => "a function call",
        column_ref | ident | quoted_ident | columns_ref => "a name",
        name => "a name",
        literal => "a literal",
        date_lit | kw_date => "a date literal",
        timestamp_lit | kw_timestamp => "a timestamp literal",
        bool_lit | kw_true | kw_false => "`true` or `false`",
        number => "a number",
        unsigned => "a whole number",
        string => "a string in single quotes",
        time_of_day => "a time such as `06:00`",
        table_name => "a table name",
        ident_list => "a parenthesized list of columns",
        kw_and => "`and`",
        kw_or => "`or`",
        kw_by => "`by`",
        kw_utc => "`utc`",
        kw_within => "`within`",
        kw_of => "`of`",
        kw_average => "`average`",
        kw_over => "`over`",
        kw_stddev => "`stddev`",
        kw_least => "`least`",
        kw_first => "`first`",
        kw_matches => "`matches`",
        kw_references => "`references`",
        kw_unique => "`unique`",
        kw_freshness => "`freshness`",
        kw_check => "`check`",
        kw_row_count => "`row_count`",
        kw_length => "`length`",
        kw_array => "`array`",
        kw_struct => "`struct`",
        EOI => "end of input",
        _ => return None,
    })
}

/// Turns a pest error into a syntax diagnostic with a span in `file`.
pub(crate) fn convert_pest_error(error: &Error<Rule>, source: &str, file: FileId) -> Diagnostic {
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = found_at(source, pos);
    let end = (pos + found.len().max(1)).min(source.len()).max(pos);
    let span = Span::new(file, pos, end);
    let (message, label) = match &error.variant {
        ErrorVariant::ParsingError { positives, negatives } => {
            let expected: BTreeSet<&str> = positives.iter().filter_map(|r| friendly(*r)).collect();
            let unexpected: BTreeSet<&str> = negatives.iter().filter_map(|r| friendly(*r)).collect();
            let found_text = describe_found(&found);
            if !expected.is_empty() {
                (
                    format!("expected {}, found {found_text}", join_or(&expected)),
                    format!("expected {}", join_or(&expected)),
                )
            } else if !unexpected.is_empty() {
                (format!("unexpected {}", join_or(&unexpected)), "not allowed here".to_string())
            } else {
                (format!("unexpected {found_text}"), "not allowed here".to_string())
            }
        }
        ErrorVariant::CustomError { message } if message == "stack limit reached" => {
            // pest's own guard on grammar recursion: far deeper than any expression accepted.
            return Diagnostic::new(
                Code::ExpressionTooDeep,
                format!("expression is too deep: more than {} levels of nesting", crate::MAX_EXPR_DEPTH),
                span,
            )
            .with_primary_label("nesting goes on past here");
        }
        ErrorVariant::CustomError { message } => (message.clone(), String::new()),
    };
    let mut diagnostic = Diagnostic::new(Code::SyntaxError, message, span).with_primary_label(label);
    if let Some(help) = help_for(source, pos) {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

/// The token at `pos`: a word, a quoted string start, or one character.
fn found_at(source: &str, pos: usize) -> String {
    let rest = source.get(pos..).unwrap_or("");
    let mut chars = rest.chars();
    match chars.next() {
        None => String::new(),
        Some(c) if c.is_alphanumeric() || c == '_' => {
            rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
        }
        Some(c) => c.to_string(),
    }
}

fn describe_found(found: &str) -> String {
    match found {
        "" => "end of input".to_string(),
        "\n" | "\r" => "end of line".to_string(),
        other => format!("`{other}`"),
    }
}

fn join_or(items: &BTreeSet<&str>) -> String {
    let items: Vec<&str> = items.iter().copied().collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Hints for the most common slips of SQL writers.
fn help_for(source: &str, pos: usize) -> Option<String> {
    let rest = source.get(pos..).unwrap_or("");
    if rest.starts_with('"') {
        return Some("strings use single quotes ('text'); double quotes are for names".to_string());
    }
    if rest.starts_with(';') {
        return Some("rules and properties are not terminated by `;`".to_string());
    }
    None
}
