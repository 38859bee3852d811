//! Choice rules: comparisons of a `Variable` with a literal or a path, `And`, `Or`, `Not`,
//! and the type tests.

use std::cmp::Ordering;

use serde_json::Value;

use crate::path::PathExpr;
use crate::Failure;

/// A Choice rule.
#[derive(Debug, Clone)]
pub enum ChoiceRule {
    And(Vec<ChoiceRule>),
    Or(Vec<ChoiceRule>),
    Not(Box<ChoiceRule>),
    Compare { variable: PathExpr, op: Op, operand: Operand },
}

/// What a comparison compares with.
#[derive(Debug, Clone)]
pub enum Operand {
    Literal(Value),
    Path(PathExpr),
}

/// The comparison operators, by the type they compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    String(Cmp),
    StringMatches,
    Numeric(Cmp),
    Boolean,
    Timestamp(Cmp),
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        }
    }
}

fn operator(name: &str) -> Option<(Op, bool)> {
    let (base, path) = match name.strip_suffix("Path") {
        Some(b) if !b.starts_with("Is") && b != "Timestamp" => (b, true),
        _ => (name, false),
    };
    let cmp = |suffix: &str| match suffix {
        "Equals" => Some(Cmp::Eq),
        "LessThan" => Some(Cmp::Lt),
        "GreaterThan" => Some(Cmp::Gt),
        "LessThanEquals" => Some(Cmp::Le),
        "GreaterThanEquals" => Some(Cmp::Ge),
        _ => None,
    };
    let op = if base == "StringMatches" {
        if path {
            return None;
        }
        Op::StringMatches
    } else if base == "BooleanEquals" {
        Op::Boolean
    } else if let Some(s) = base.strip_prefix("String") {
        Op::String(cmp(s)?)
    } else if let Some(s) = base.strip_prefix("Numeric") {
        Op::Numeric(cmp(s)?)
    } else if let Some(s) = base.strip_prefix("Timestamp") {
        Op::Timestamp(cmp(s)?)
    } else {
        match base {
            "IsNull" => Op::IsNull,
            "IsPresent" => Op::IsPresent,
            "IsNumeric" => Op::IsNumeric,
            "IsString" => Op::IsString,
            "IsBoolean" => Op::IsBoolean,
            "IsTimestamp" => Op::IsTimestamp,
            _ => return None,
        }
    };
    Some((op, path))
}

impl ChoiceRule {
    /// Parses a top-level rule, which also has its `Next`.
    pub fn parse_top(v: &Value) -> Result<(ChoiceRule, String), String> {
        let next = v.get("Next").and_then(Value::as_str).ok_or("a top-level Choice rule needs a `Next`")?;
        Ok((ChoiceRule::parse(v, true)?, next.to_owned()))
    }

    fn parse(v: &Value, top: bool) -> Result<ChoiceRule, String> {
        let o = v.as_object().ok_or("a Choice rule is a JSON object")?;
        let mut variable = None;
        let mut ops = Vec::new();
        for (k, val) in o {
            match k.as_str() {
                "Next" if top => {}
                "Next" => return Err("only top-level Choice rules have `Next`".into()),
                "Comment" => {}
                "Variable" => variable = Some(val),
                "And" | "Or" => {
                    let items = val
                        .as_array()
                        .filter(|a| !a.is_empty())
                        .ok_or_else(|| format!("`{k}` takes a non-empty array of rules"))?;
                    let rules = items.iter().map(|r| ChoiceRule::parse(r, false)).collect::<Result<Vec<_>, _>>()?;
                    ops.push(if k == "And" { ChoiceRule::And(rules) } else { ChoiceRule::Or(rules) });
                }
                "Not" => ops.push(ChoiceRule::Not(Box::new(ChoiceRule::parse(val, false)?))),
                "Condition" => {
                    return Err(
                        "`Condition` belongs to the JSONata query language, which the local runner does not support"
                            .into(),
                    )
                }
                name => {
                    let (op, by_path) = operator(name).ok_or_else(|| format!("`{name}` is not a Choice operator"))?;
                    let operand = if by_path {
                        let p = val.as_str().ok_or_else(|| format!("`{name}` takes a path"))?;
                        Operand::Path(PathExpr::parse(p)?)
                    } else {
                        let ok = match op {
                            Op::String(_) | Op::StringMatches => val.is_string(),
                            Op::Numeric(_) => val.is_number(),
                            Op::Timestamp(_) => val.as_str().is_some_and(|s| strict_timestamp(s).is_some()),
                            _ => val.is_boolean(),
                        };
                        if !ok {
                            return Err(format!("`{name}` does not take {val}"));
                        }
                        Operand::Literal(val.clone())
                    };
                    let var = PathExpr::parse(
                        v.get("Variable")
                            .and_then(Value::as_str)
                            .ok_or_else(|| format!("`{name}` needs a `Variable` path"))?,
                    )?;
                    ops.push(ChoiceRule::Compare { variable: var, op, operand });
                }
            }
        }
        if ops.len() != 1 {
            return Err(format!("a Choice rule has exactly one operator (found {})", ops.len()));
        }
        if variable.is_some() && matches!(ops[0], ChoiceRule::And(_) | ChoiceRule::Or(_) | ChoiceRule::Not(_)) {
            return Err("`And`, `Or` and `Not` take no `Variable`".into());
        }
        Ok(ops.remove(0))
    }

    /// A short text of the rule for diagrams.
    pub fn describe(&self) -> String {
        match self {
            ChoiceRule::And(r) => r.iter().map(ChoiceRule::describe).collect::<Vec<_>>().join(" and "),
            ChoiceRule::Or(r) => r.iter().map(ChoiceRule::describe).collect::<Vec<_>>().join(" or "),
            ChoiceRule::Not(r) => format!("not {}", r.describe()),
            ChoiceRule::Compare { variable, op, operand } => {
                let rhs = match operand {
                    Operand::Literal(v) => v.to_string(),
                    Operand::Path(p) => p.text.clone(),
                };
                let sym = |c: &Cmp| match c {
                    Cmp::Eq => "==",
                    Cmp::Lt => "<",
                    Cmp::Gt => ">",
                    Cmp::Le => "<=",
                    Cmp::Ge => ">=",
                };
                match op {
                    Op::String(c) | Op::Numeric(c) | Op::Timestamp(c) => format!("{} {} {rhs}", variable.text, sym(c)),
                    Op::Boolean => format!("{} == {rhs}", variable.text),
                    Op::StringMatches => format!("{} matches {rhs}", variable.text),
                    Op::IsNull | Op::IsPresent | Op::IsNumeric | Op::IsString | Op::IsBoolean | Op::IsTimestamp => {
                        let what = match op {
                            Op::IsNull => "null",
                            Op::IsPresent => "present",
                            Op::IsNumeric => "a number",
                            Op::IsString => "a string",
                            Op::IsBoolean => "a boolean",
                            _ => "a timestamp",
                        };
                        let not = if rhs == "false" { "not " } else { "" };
                        format!("{} is {not}{what}", variable.text)
                    }
                }
            }
        }
    }

    /// Evaluates the rule on the state's input.
    pub fn eval(&self, input: &Value, context: &Value) -> Result<bool, Failure> {
        match self {
            ChoiceRule::And(rules) => {
                for r in rules {
                    if !r.eval(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            ChoiceRule::Or(rules) => {
                for r in rules {
                    if r.eval(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            ChoiceRule::Not(r) => Ok(!r.eval(input, context)?),
            ChoiceRule::Compare { variable, op, operand } => {
                let value = variable.select(input, context);
                if *op == Op::IsPresent {
                    let want = matches!(operand, Operand::Literal(Value::Bool(true)));
                    return Ok(value.is_some() == want);
                }
                let Some(value) = value else {
                    return Err(Failure::new(
                        "States.Runtime",
                        format!(
                            "Invalid path '{}': The choice state's condition path references an invalid value.",
                            variable.text
                        ),
                    ));
                };
                let rhs = match operand {
                    Operand::Literal(v) => v.clone(),
                    Operand::Path(p) => p.select(input, context).ok_or_else(|| {
                        Failure::new(
                            "States.Runtime",
                            format!("Invalid path '{}': the choice rule's path references an invalid value.", p.text),
                        )
                    })?,
                };
                let want = rhs.as_bool() == Some(true);
                Ok(match op {
                    // Java's `compareTo`, as on AWS: by UTF-16 code unit, not by code point.
                    Op::String(c) => match (value.as_str(), rhs.as_str()) {
                        (Some(a), Some(b)) => c.holds(a.encode_utf16().cmp(b.encode_utf16())),
                        _ => false,
                    },
                    Op::StringMatches => match (value.as_str(), rhs.as_str()) {
                        (Some(a), Some(pattern)) => wildcard(pattern, a),
                        _ => false,
                    },
                    Op::Numeric(c) => match (value.as_f64(), rhs.as_f64()) {
                        (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| c.holds(o)),
                        _ => false,
                    },
                    Op::Boolean => value.is_boolean() && value == rhs,
                    Op::Timestamp(c) => match (timestamp(&value), timestamp(&rhs)) {
                        (Some(a), Some(b)) => c.holds(a.cmp(&b)),
                        _ => false,
                    },
                    Op::IsNull => value.is_null() == want,
                    Op::IsNumeric => value.is_number() == want,
                    Op::IsString => value.is_string() == want,
                    Op::IsBoolean => value.is_boolean() == want,
                    Op::IsTimestamp => timestamp(&value).is_some() == want,
                    // Answered above, before the variable was required.
                    Op::IsPresent => true,
                })
            }
        }
    }
}

fn timestamp(v: &Value) -> Option<jiff::Timestamp> {
    strict_timestamp(v.as_str()?)
}

/// An RFC 3339 timestamp as AWS reads one: `YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)`, with
/// an uppercase `T` and `Z` (the profile of RFC 3339 the States Language requires).
pub fn strict_timestamp(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let zone = &b[i..];
    let ok = zone == b"Z"
        || (zone.len() == 6
            && matches!(zone[0], b'+' | b'-')
            && digits(i + 1..i + 3)
            && zone[3] == b':'
            && digits(i + 4..i + 6));
    if !ok {
        return None;
    }
    s.parse().ok()
}

/// `StringMatches`: `*` matches any run of characters; `\*` is a star and `\\` a backslash.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    enum Tok {
        Char(char),
        Star,
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => toks.push(Tok::Char(it.next().unwrap_or('\\'))),
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with backtracking to the last star: linear in practice.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Char(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| matches!(t, Tok::Star))
}
