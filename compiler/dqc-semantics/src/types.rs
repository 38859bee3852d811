//! Column types: lowering written types, and reading Glue catalog type strings.

use dqc_diagnostics::{did_you_mean, Code, Diagnostic};
use dqc_ir::{Field, Type};
use dqc_syntax::ast::{TypeExpr, TypeExprKind};

const SIMPLE: &[(&str, Type)] = &[
    ("string", Type::String),
    ("tinyint", Type::Tinyint),
    ("smallint", Type::Smallint),
    ("int", Type::Int),
    ("integer", Type::Int),
    ("bigint", Type::Bigint),
    ("float", Type::Float),
    ("real", Type::Float),
    ("double", Type::Double),
    ("boolean", Type::Boolean),
    ("date", Type::Date),
    ("timestamp", Type::Timestamp),
    ("timestamptz", Type::TimestampTz),
];

const ALL_NAMES: &[&str] = &[
    "string",
    "varchar",
    "char",
    "tinyint",
    "smallint",
    "int",
    "integer",
    "bigint",
    "float",
    "real",
    "double",
    "decimal",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "array",
    "struct",
];

/// Lowers a written type; reports unknown names and invalid parameters.
pub fn lower_type(t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Option<Type> {
    match &t.kind {
        TypeExprKind::Named(name) => {
            if let Some((_, ty)) = SIMPLE.iter().find(|(n, _)| n == name) {
                return Some(ty.clone());
            }
            if name == "decimal" {
                return Some(Type::Decimal { precision: 10, scale: 0 });
            }
            let mut d = Diagnostic::new(Code::UnknownType, format!("unknown type `{name}`"), t.span)
                .with_primary_label("not a column type");
            if matches!(name.as_str(), "varchar" | "char") {
                d = d.with_help(format!("`{name}` needs a length, such as `{name}(50)`"));
            } else if let Some(s) = did_you_mean(name, ALL_NAMES.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
            None
        }
        TypeExprKind::Param(name, params) => lower_param(t, name, params, diags),
        TypeExprKind::Array(inner) => Some(Type::Array { element: Box::new(lower_type(inner, diags)?) }),
        TypeExprKind::Struct(fields) => {
            let mut out = Vec::new();
            for (name, ty) in fields {
                out.push(Field { name: name.name.clone(), ty: lower_type(ty, diags)? });
            }
            Some(Type::Struct { fields: out })
        }
    }
}

fn lower_param(
    t: &TypeExpr,
    name: &str,
    params: &[(String, dqc_diagnostics::Span)],
    diags: &mut Vec<Diagnostic>,
) -> Option<Type> {
    let numbers: Vec<Option<u32>> = params.iter().map(|(p, _)| p.parse::<u32>().ok()).collect();
    let bad = |message: String, span| Diagnostic::new(Code::InvalidTypeParameter, message, span);
    match (name, numbers.as_slice()) {
        ("varchar" | "char", [n]) => match n {
            Some(n) if *n >= 1 => {
                Some(if name == "varchar" { Type::Varchar { length: *n } } else { Type::Char { length: *n } })
            }
            _ => {
                diags.push(bad(format!("`{name}` length must be at least 1"), t.span));
                None
            }
        },
        ("decimal", [p]) | ("decimal", [p, _]) => {
            let s = numbers.get(1).copied().unwrap_or(Some(0));
            match (p, s) {
                (Some(p), Some(s)) if (1..=38).contains(p) && s <= *p => {
                    Some(Type::Decimal { precision: *p, scale: s })
                }
                (Some(p), _) if !(1..=38).contains(p) => {
                    let span = params.first().map(|(_, s)| *s).unwrap_or(t.span);
                    diags.push(
                        bad(format!("decimal precision {p} is outside 1..=38"), span)
                            .with_primary_label("precision")
                            .with_help("Athena and Spark support at most 38 digits"),
                    );
                    None
                }
                _ => {
                    let span = params.get(1).map(|(_, s)| *s).unwrap_or(t.span);
                    diags.push(
                        bad("decimal scale must not exceed its precision".to_string(), span)
                            .with_primary_label("scale")
                            .with_help("write decimal(p, s) with s <= p"),
                    );
                    None
                }
            }
        }
        _ => {
            let known = SIMPLE.iter().any(|(n, _)| *n == name);
            let message = if known {
                format!("type `{name}` takes no parameters")
            } else if ["varchar", "char", "decimal"].contains(&name) {
                format!("wrong number of parameters for `{name}`")
            } else {
                format!("unknown type `{name}`")
            };
            let code = if known || ["varchar", "char", "decimal"].contains(&name) {
                Code::InvalidTypeParameter
            } else {
                Code::UnknownType
            };
            diags.push(Diagnostic::new(code, message, t.span));
            None
        }
    }
}

/// Parses a Glue catalog type string (`decimal(12,2)`, `array<struct<a:int>>`).
pub fn parse_glue_type(text: &str) -> Option<Type> {
    let mut p = GlueTypeParser { s: text.trim().as_bytes(), pos: 0 };
    let t = p.ty()?;
    p.skip_ws();
    (p.pos == p.s.len()).then_some(t)
}

struct GlueTypeParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl GlueTypeParser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            self.pos += 1;
        }
        String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default()).to_ascii_lowercase()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn number(&mut self) -> Option<u32> {
        self.word().parse().ok()
    }

    fn ty(&mut self) -> Option<Type> {
        let name = self.word();
        match name.as_str() {
            "varchar" | "char" => {
                if !self.eat(b'(') {
                    return Some(Type::String);
                }
                let length = self.number()?;
                self.eat(b')').then_some(if name == "varchar" {
                    Type::Varchar { length }
                } else {
                    Type::Char { length }
                })
            }
            "decimal" => {
                if !self.eat(b'(') {
                    return Some(Type::Decimal { precision: 10, scale: 0 });
                }
                let precision = self.number()?;
                let scale = if self.eat(b',') { self.number()? } else { 0 };
                self.eat(b')').then_some(Type::Decimal { precision, scale })
            }
            "array" => {
                if !self.eat(b'<') {
                    return None;
                }
                let element = self.ty()?;
                self.eat(b'>').then_some(Type::Array { element: Box::new(element) })
            }
            "struct" => {
                if !self.eat(b'<') {
                    return None;
                }
                let mut fields = Vec::new();
                loop {
                    let name = self.word();
                    if name.is_empty() || !self.eat(b':') {
                        return None;
                    }
                    fields.push(Field { name, ty: self.ty()? });
                    if self.eat(b'>') {
                        return Some(Type::Struct { fields });
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            // `timestamp with time zone` (Trino, Hive 3 catalogs), `timestamp(3) with time zone`.
            "timestamp" => {
                if self.eat(b'(') && (self.number().is_none() || !self.eat(b')')) {
                    return None;
                }
                let rest = self.pos;
                if self.word() == "with" && self.word() == "time" && self.word() == "zone" {
                    return Some(Type::TimestampTz);
                }
                self.pos = rest;
                Some(Type::Timestamp)
            }
            other => SIMPLE.iter().find(|(n, _)| *n == other).map(|(_, t)| t.clone()),
        }
    }
}

/// Whether data of type `found` (`None`: a type no contract type holds) satisfies a column
/// declared `declared`. The one rule for both schema checks, against a catalog snapshot
/// (`dqc check`) and against the live table (`dqc test`): the types must be the same.
pub fn agrees(declared: &Type, found: Option<&Type>) -> bool {
    found == Some(declared)
}

/// An engine's type name as a contract type: DuckDB's (`VARCHAR`, `INTEGER`, `DECIMAL(12,2)`,
/// `VARCHAR[]`, `STRUCT(a INTEGER)`, `TIMESTAMP_NS`) or Athena's and Glue's (`varchar`,
/// `timestamp(3)`, `array<int>`); a timestamp with a time zone is `timestamptz`. `None` for
/// types no contract type holds exactly: unsigned and 128-bit integers, maps, intervals, times.
pub fn engine_type(text: &str) -> Option<Type> {
    let t = text.trim();
    if let Some(element) = t.strip_suffix("[]") {
        return Some(Type::Array { element: Box::new(engine_type(element)?) });
    }
    let upper = t.to_ascii_uppercase();
    if let Some(body) = upper.strip_prefix("STRUCT(").and_then(|b| b.strip_suffix(')')) {
        // Field names keep their spelling: cut the same range out of the original text.
        let body = t.get(7..7 + body.len()).unwrap_or(body);
        let mut fields = Vec::new();
        for field in split_top_level(body) {
            let field = field.trim();
            let (name, ty) = field.split_once(char::is_whitespace)?;
            fields.push(Field { name: name.trim_matches('"').to_ascii_lowercase(), ty: engine_type(ty)? });
        }
        return Some(Type::Struct { fields });
    }
    let simple = match upper.as_str() {
        "VARCHAR" | "STRING" | "TEXT" | "BPCHAR" => Some(Type::String),
        "BIGINT" | "INT8" | "LONG" => Some(Type::Bigint),
        "INTEGER" | "INT" | "INT4" | "SIGNED" => Some(Type::Int),
        "SMALLINT" | "INT2" | "SHORT" => Some(Type::Smallint),
        "TINYINT" | "INT1" => Some(Type::Tinyint),
        "DOUBLE" | "FLOAT8" | "DOUBLE PRECISION" => Some(Type::Double),
        "FLOAT" | "REAL" | "FLOAT4" => Some(Type::Float),
        "BOOLEAN" | "BOOL" | "LOGICAL" => Some(Type::Boolean),
        "DATE" => Some(Type::Date),
        "TIMESTAMP" | "DATETIME" | "TIMESTAMP_S" | "TIMESTAMP_MS" | "TIMESTAMP_US" | "TIMESTAMP_NS" => {
            Some(Type::Timestamp)
        }
        _ => None,
    };
    if simple.is_some() {
        return simple;
    }
    // DuckDB's TIMESTAMPTZ, Trino's `timestamp(3) with time zone`: an instant.
    if matches!(upper.as_str(), "TIMESTAMPTZ" | "TIMESTAMPTZ_NS" | "TIMESTAMP_TZ") {
        return Some(Type::TimestampTz);
    }
    if let Some(base) = upper.strip_suffix(" WITH TIME ZONE") {
        let precise = base.strip_prefix("TIMESTAMP(").and_then(|p| p.strip_suffix(')'));
        return (base == "TIMESTAMP" || precise.is_some_and(|p| p.trim().parse::<u8>().is_ok()))
            .then_some(Type::TimestampTz);
    }
    if upper.contains("TIME ZONE") {
        return None;
    }
    if let Some(precision) = upper.strip_prefix("TIMESTAMP(").and_then(|p| p.strip_suffix(')')) {
        return precision.trim().parse::<u8>().is_ok().then_some(Type::Timestamp);
    }
    let glue = t.to_ascii_lowercase().replacen("numeric", "decimal", 1);
    parse_glue_type(&glue)
}

/// Splits at commas outside parentheses and angle brackets.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(text.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text.get(start..).unwrap_or_default());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_types() {
        let shown = |t: &str| engine_type(t).map(|t| t.to_string());
        assert_eq!(shown("INTEGER").as_deref(), Some("int"));
        assert_eq!(shown("DOUBLE").as_deref(), Some("double"));
        assert_eq!(shown("DECIMAL(12,2)").as_deref(), Some("decimal(12,2)"));
        assert_eq!(shown("TIMESTAMP_NS").as_deref(), Some("timestamp"));
        assert_eq!(shown("timestamp(3)").as_deref(), Some("timestamp"));
        assert_eq!(shown("VARCHAR[]").as_deref(), Some("array<string>"));
        assert_eq!(shown("STRUCT(a INTEGER, \"B\" VARCHAR[])").as_deref(), Some("struct<a:int,b:array<string>>"));
        assert_eq!(shown("array<struct<a:int>>").as_deref(), Some("array<struct<a:int>>"));
        assert_eq!(shown("TIMESTAMP WITH TIME ZONE").as_deref(), Some("timestamptz"));
        assert_eq!(shown("timestamp(3) with time zone").as_deref(), Some("timestamptz"));
        assert_eq!(shown("TIMESTAMPTZ").as_deref(), Some("timestamptz"));
        assert_eq!(engine_type("TIME WITH TIME ZONE"), None);
        assert_eq!(engine_type("HUGEINT"), None);
        assert_eq!(engine_type("UBIGINT"), None);
        assert!(agrees(&Type::Int, engine_type("INTEGER").as_ref()));
        assert!(!agrees(&Type::Int, engine_type("DOUBLE").as_ref()));
        assert!(!agrees(&Type::Timestamp, engine_type("TIMESTAMP WITH TIME ZONE").as_ref()));
        assert!(agrees(&Type::TimestampTz, engine_type("TIMESTAMP WITH TIME ZONE").as_ref()));
    }

    #[test]
    fn glue_types() {
        assert_eq!(parse_glue_type("decimal(12,2)"), Some(Type::Decimal { precision: 12, scale: 2 }));
        assert_eq!(parse_glue_type("timestamp"), Some(Type::Timestamp));
        assert_eq!(parse_glue_type("timestamp with time zone"), Some(Type::TimestampTz));
        assert_eq!(parse_glue_type("timestamp(6) with time zone"), Some(Type::TimestampTz));
        assert_eq!(parse_glue_type("timestamptz"), Some(Type::TimestampTz));
        assert_eq!(parse_glue_type("timestamp with zone"), None);
        assert_eq!(parse_glue_type("INT"), Some(Type::Int));
        assert_eq!(
            parse_glue_type("array<struct<a:int,b:string>>").map(|t| t.to_string()).as_deref(),
            Some("array<struct<a:int,b:string>>")
        );
        assert_eq!(parse_glue_type("map<string,int>"), None);
        assert_eq!(parse_glue_type("varchar(10) x"), None);
    }
}
