//! The States Language's intrinsic functions (`States.Format('{}', $.x)`, ...).
//!
//! Randomness (`States.MathRandom`, `States.UUID`) comes from the execution's seed and the
//! place of the call, so a replayed or seeded execution draws the same values.

use std::cell::Cell;

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use sha2::Digest as _;

use crate::path::{kind, PathExpr};
use crate::Failure;

/// An intrinsic function call.
#[derive(Debug, Clone)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
}

/// An argument: a literal, a path or a nested call.
#[derive(Debug, Clone)]
pub enum Arg {
    /// A string literal: its source text between the quotes (escapes kept) and its value.
    Str {
        raw: String,
        value: String,
    },
    Value(Value),
    Path(PathExpr),
    Call(Call),
}

const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("States.Format", 1, usize::MAX),
    ("States.StringToJson", 1, 1),
    ("States.JsonToString", 1, 1),
    ("States.Array", 0, usize::MAX),
    ("States.ArrayPartition", 2, 2),
    ("States.ArrayContains", 2, 2),
    ("States.ArrayRange", 3, 3),
    ("States.ArrayGetItem", 2, 2),
    ("States.ArrayLength", 1, 1),
    ("States.ArrayUnique", 1, 1),
    ("States.Base64Encode", 1, 1),
    ("States.Base64Decode", 1, 1),
    ("States.Hash", 2, 2),
    ("States.JsonMerge", 3, 3),
    ("States.MathRandom", 2, 3),
    ("States.MathAdd", 2, 2),
    ("States.StringSplit", 2, 2),
    ("States.UUID", 0, 0),
];

/// Parses an intrinsic function call.
pub fn parse(s: &str) -> Result<Call, String> {
    let mut p = Parser { s, i: 0 };
    let call = p.call()?;
    p.ws();
    if p.i != s.len() {
        return Err(format!("`{s}`: unexpected text after the call at byte {}", p.i));
    }
    Ok(call)
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s[self.i..].starts_with([' ', '\t', '\n']) {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("`{}`: {what} at byte {}", self.s, self.i)
    }

    fn call(&mut self) -> Result<Call, String> {
        self.ws();
        let rest = &self.s[self.i..];
        let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.')).unwrap_or(rest.len());
        let name = rest[..len].to_owned();
        let Some(&(_, min, max)) = FUNCTIONS.iter().find(|(n, _, _)| *n == name) else {
            return Err(self.err(&format!("`{name}` is not an intrinsic function")));
        };
        self.i += len;
        self.ws();
        if !self.s[self.i..].starts_with('(') {
            return Err(self.err("expected `(`"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.s[self.i..].starts_with(')') {
            self.i += 1;
        } else {
            loop {
                args.push(self.arg()?);
                self.ws();
                match self.s[self.i..].chars().next() {
                    Some(',') => self.i += 1,
                    Some(')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.err("expected `,` or `)`")),
                }
            }
        }
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(format!("`{}`: {name} takes {want} argument(s), got {}", self.s, args.len()));
        }
        Ok(Call { name, args })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        self.ws();
        let rest = &self.s[self.i..];
        if rest.starts_with('\'') {
            let mut value = String::new();
            let mut chars = rest.char_indices().skip(1);
            while let Some((k, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, e @ ('\'' | '\\' | '{' | '}'))) => value.push(e),
                        Some((_, e)) => {
                            return Err(self.err(&format!(
                                "`\\{e}` escapes nothing: only `\\'`, `\\{{`, `\\}}` and `\\\\` are escapes"
                            )));
                        }
                        None => break,
                    },
                    '\'' => {
                        let raw = rest[1..k].to_owned();
                        self.i += k + 1;
                        return Ok(Arg::Str { raw, value });
                    }
                    c => value.push(c),
                }
            }
            return Err(self.err("unclosed string literal"));
        }
        if rest.starts_with("States.") {
            return self.call().map(Arg::Call);
        }
        if rest.starts_with('$') {
            // A path runs to the next `,` or `)` outside brackets and quotes.
            let mut depth = 0usize;
            let mut quote: Option<char> = None;
            let mut end = rest.len();
            for (k, c) in rest.char_indices() {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '\'' | '"') => quote = Some(c),
                    (None, '[' | '(') if k > 0 && (depth > 0 || c == '[') => depth += 1,
                    (None, ']' | ')') if depth > 0 => depth -= 1,
                    (None, ',' | ')') if depth == 0 => {
                        end = k;
                        break;
                    }
                    _ => {}
                }
            }
            let text = rest[..end].trim_end();
            let path = PathExpr::parse(text)?;
            self.i += end;
            return Ok(Arg::Path(path));
        }
        for (word, v) in [("true", Value::Bool(true)), ("false", Value::Bool(false)), ("null", Value::Null)] {
            if rest.starts_with(word) {
                self.i += word.len();
                return Ok(Arg::Value(v));
            }
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(rest.len());
        if len > 0 {
            if let Ok(v) = serde_json::from_str::<Value>(&rest[..len]) {
                if v.is_number() {
                    self.i += len;
                    return Ok(Arg::Value(v));
                }
            }
        }
        Err(self.err("expected a string, number, boolean, null, path or intrinsic function"))
    }
}

/// Where a call is evaluated: the seed of its random draws.
#[derive(Debug)]
pub struct Env<'a> {
    /// The execution's seed and the key of the state visit.
    pub seed: &'a str,
    draws: Cell<u64>,
}

impl<'a> Env<'a> {
    pub fn new(seed: &'a str) -> Self {
        Env { seed, draws: Cell::new(0) }
    }

    fn random_bytes(&self, salt: &str) -> [u8; 32] {
        let n = self.draws.get();
        self.draws.set(n + 1);
        let mut h = sha2::Sha256::new();
        h.update(self.seed.as_bytes());
        h.update([0]);
        h.update(salt.as_bytes());
        h.update(n.to_le_bytes());
        h.finalize().into()
    }
}

fn fail(call: &Call, message: impl std::fmt::Display) -> Failure {
    Failure::new("States.IntrinsicFailure", format!("{}: {message}", call.name))
}

fn int(call: &Call, v: &Value, what: &str) -> Result<i64, Failure> {
    match v.as_i64() {
        Some(n) => Ok(n),
        None => match v.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => Err(fail(call, format!("{what} must be an integer, not {}", kind(v)))),
        },
    }
}

/// A number rounded to the nearest integer, halves up (as AWS's math functions read them).
fn rounded(call: &Call, v: &Value, what: &str) -> Result<i64, Failure> {
    match v.as_f64() {
        Some(f) if f.abs() < 9.0e15 => Ok((f + 0.5).floor() as i64),
        _ => Err(fail(call, format!("{what} must be a number, not {}", kind(v)))),
    }
}

fn string<'v>(call: &Call, v: &'v Value, what: &str) -> Result<&'v str, Failure> {
    v.as_str().ok_or_else(|| fail(call, format!("{what} must be a string, not {}", kind(v))))
}

fn array<'v>(call: &Call, v: &'v Value, what: &str) -> Result<&'v Vec<Value>, Failure> {
    v.as_array().ok_or_else(|| fail(call, format!("{what} must be an array, not {}", kind(v))))
}

const MAX_STRING: usize = 10_000;

impl Call {
    /// Evaluates the call.
    pub fn eval(&self, input: &Value, context: &Value, env: &Env<'_>) -> Result<Value, Failure> {
        let mut args = Vec::with_capacity(self.args.len());
        for a in &self.args {
            args.push(match a {
                Arg::Str { value, .. } => Value::String(value.clone()),
                Arg::Value(v) => v.clone(),
                Arg::Path(p) => p.select(input, context).ok_or_else(|| {
                    Failure::new(
                        "States.IntrinsicFailure",
                        format!("{}: the JSONPath '{}' could not be found in the input", self.name, p.text),
                    )
                })?,
                Arg::Call(c) => c.eval(input, context, env)?,
            });
        }
        self.apply(&args, env)
    }

    #[allow(clippy::too_many_lines, reason = "one arm per function of the States Language")]
    fn apply(&self, args: &[Value], env: &Env<'_>) -> Result<Value, Failure> {
        let a = |i: usize| &args[i];
        Ok(match self.name.as_str() {
            "States.Format" => {
                // A literal template keeps its escapes (`\{` is a brace, not a placeholder);
                // a template from a path or a call is taken as it is.
                let raw = match self.args.first() {
                    Some(Arg::Str { raw, .. }) => raw.clone(),
                    _ => string(self, a(0), "the template")?.replace('\\', "\\\\"),
                };
                let mut out = String::new();
                let mut next = 1;
                let mut chars = raw.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                out.push(e);
                            }
                        }
                        '{' if chars.peek() == Some(&'}') => {
                            chars.next();
                            let Some(v) = args.get(next) else {
                                return Err(fail(
                                    self,
                                    format!(
                                        "the template has more `{{}}` than the {} argument(s) given",
                                        args.len() - 1
                                    ),
                                ));
                            };
                            match v {
                                Value::String(s) => out.push_str(s),
                                other => out.push_str(&other.to_string()),
                            }
                            next += 1;
                        }
                        c => out.push(c),
                    }
                }
                if next != args.len() {
                    return Err(fail(
                        self,
                        format!("the template has {} `{{}}` for {} argument(s)", next - 1, args.len() - 1),
                    ));
                }
                Value::String(out)
            }
            "States.StringToJson" => {
                let s = string(self, a(0), "the argument")?;
                serde_json::from_str(s).map_err(|e| fail(self, format!("the string is not JSON: {e}")))?
            }
            "States.JsonToString" => Value::String(a(0).to_string()),
            "States.Array" => Value::Array(args.to_vec()),
            "States.ArrayPartition" => {
                let items = array(self, a(0), "the first argument")?;
                let size = int(self, a(1), "the chunk size")?;
                if size < 1 {
                    return Err(fail(self, "the chunk size must be at least 1"));
                }
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                Value::Array(items.chunks(size).map(|c| Value::Array(c.to_vec())).collect())
            }
            "States.ArrayContains" => Value::Bool(array(self, a(0), "the first argument")?.contains(a(1))),
            "States.ArrayRange" => {
                let (start, end, step) =
                    (int(self, a(0), "the start")?, int(self, a(1), "the end")?, int(self, a(2), "the step")?);
                if step == 0 {
                    return Err(fail(self, "the step must not be 0"));
                }
                let mut out = Vec::new();
                let mut x = start;
                while (step > 0 && x <= end) || (step < 0 && x >= end) {
                    if out.len() == 1000 {
                        return Err(fail(self, "the range has more than 1000 items"));
                    }
                    out.push(Value::from(x));
                    x += step;
                }
                Value::Array(out)
            }
            "States.ArrayGetItem" => {
                let items = array(self, a(0), "the first argument")?;
                let i = int(self, a(1), "the index")?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .ok_or_else(|| fail(self, format!("index {i} is outside the array of {} item(s)", items.len())))?
            }
            "States.ArrayLength" => Value::from(array(self, a(0), "the argument")?.len()),
            "States.ArrayUnique" => {
                let mut out: Vec<Value> = Vec::new();
                for v in array(self, a(0), "the argument")? {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                Value::Array(out)
            }
            "States.Base64Encode" => {
                let s = string(self, a(0), "the argument")?;
                if s.chars().count() > MAX_STRING {
                    return Err(fail(self, "the string has more than 10000 characters"));
                }
                Value::String(base64::engine::general_purpose::STANDARD.encode(s))
            }
            "States.Base64Decode" => {
                let s = string(self, a(0), "the argument")?;
                if s.chars().count() > MAX_STRING {
                    return Err(fail(self, "the string has more than 10000 characters"));
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| fail(self, format!("not base64: {e}")))?;
                Value::String(String::from_utf8(bytes).map_err(|_| fail(self, "the decoded bytes are not UTF-8"))?)
            }
            "States.Hash" => {
                let data = match a(0) {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if data.chars().count() > MAX_STRING {
                    return Err(fail(self, "the data has more than 10000 characters"));
                }
                let algorithm = string(self, a(1), "the algorithm")?;
                let digest: Vec<u8> = match algorithm {
                    "MD5" => md5::Md5::digest(&data).to_vec(),
                    "SHA-1" => sha1::Sha1::digest(&data).to_vec(),
                    "SHA-256" => sha2::Sha256::digest(&data).to_vec(),
                    "SHA-384" => sha2::Sha384::digest(&data).to_vec(),
                    "SHA-512" => sha2::Sha512::digest(&data).to_vec(),
                    other => {
                        return Err(fail(self, format!("`{other}` is not MD5, SHA-1, SHA-256, SHA-384 or SHA-512")))
                    }
                };
                Value::String(digest.iter().map(|b| format!("{b:02x}")).collect())
            }
            "States.JsonMerge" => {
                let (Value::Object(left), Value::Object(right)) = (a(0), a(1)) else {
                    return Err(fail(self, "both values to merge must be objects"));
                };
                if a(2) != &Value::Bool(false) {
                    return Err(fail(self, "only a shallow merge is supported: the third argument must be false"));
                }
                let mut out: Map<String, Value> = left.clone();
                for (k, v) in right {
                    out.insert(k.clone(), v.clone());
                }
                Value::Object(out)
            }
            "States.MathRandom" => {
                let (start, end) = (rounded(self, a(0), "the start")?, rounded(self, a(1), "the end")?);
                if end <= start {
                    return Err(fail(self, "the end must be greater than the start"));
                }
                let salt = match args.get(2) {
                    Some(seed) => format!("seed:{}", int(self, seed, "the seed")?),
                    None => String::new(),
                };
                let bytes = if salt.is_empty() {
                    env.random_bytes("MathRandom")
                } else {
                    let mut h = sha2::Sha256::new();
                    h.update(salt.as_bytes());
                    h.finalize().into()
                };
                let mut word = [0u8; 8];
                word.copy_from_slice(&bytes[..8]);
                let span = u64::try_from(i128::from(end) - i128::from(start)).unwrap_or(u64::MAX);
                let r = u64::from_le_bytes(word) % span;
                Value::from(i128::from(start) as i64 + r as i64)
            }
            "States.MathAdd" => {
                let (x, y) = (rounded(self, a(0), "the first number")?, rounded(self, a(1), "the second number")?);
                let range = -2_147_483_648..=2_147_483_647;
                if !range.contains(&x) || !range.contains(&y) {
                    return Err(fail(self, "the numbers must be 32-bit integers"));
                }
                Value::Number(Number::from(x + y))
            }
            "States.StringSplit" => {
                let s = string(self, a(0), "the string")?;
                let delims: Vec<char> = string(self, a(1), "the delimiter")?.chars().collect();
                Value::Array(
                    s.split(|c| delims.contains(&c))
                        .filter(|p| !p.is_empty())
                        .map(|p| Value::String(p.to_owned()))
                        .collect(),
                )
            }
            "States.UUID" => {
                let bytes = env.random_bytes("UUID");
                let mut b = [0u8; 16];
                b.copy_from_slice(&bytes[..16]);
                Value::String(uuid::Builder::from_random_bytes(b).into_uuid().hyphenated().to_string())
            }
            other => {
                return Err(Failure::new("States.IntrinsicFailure", format!("`{other}` is not an intrinsic function")))
            }
        })
    }
}
