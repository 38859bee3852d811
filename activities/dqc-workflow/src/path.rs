//! Paths, reference paths and payload templates.
//!
//! A *path* selects from the state's input (`$...`) or the context object (`$$...`). Paths
//! that name one place (names and indexes only) select that value, and fail when it is
//! missing; other paths (wildcards, filters, slices, descendants) are RFC 9535 JSONPath
//! queries, evaluated by `serde_json_path`, and select the array of the values they match.
//! A *reference path* (`ResultPath`, a Choice rule's `Variable`) names one place.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::intrinsics::{self, Call};
use crate::Failure;

/// One step of a reference path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Name(String),
    Index(usize),
}

/// A path naming one place: `$`, `$.a.b`, `$['a b'][0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefPath {
    pub steps: Vec<Step>,
}

impl RefPath {
    /// Parses a reference path (`$` first, then `.name`, `['name']`, `["name"]` or `[n]`).
    pub fn parse(s: &str) -> Result<RefPath, String> {
        let b = s.as_bytes();
        if b.first() != Some(&b'$') {
            return Err(format!("`{s}` is not a path: paths start with `$`"));
        }
        let mut i = 1;
        let mut steps = Vec::new();
        while i < b.len() {
            match b[i] {
                b'.' => {
                    let start = i + 1;
                    let mut j = start;
                    while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                        if matches!(b[j], b'*' | b'?' | b'@' | b'(' | b')' | b' ' | b'\'' | b'"' | b']') {
                            return Err(format!("`{s}` does not name one place (at byte {j})"));
                        }
                        j += 1;
                    }
                    if j == start {
                        return Err(format!("`{s}` has an empty name at byte {start}"));
                    }
                    steps.push(Step::Name(s[start..j].to_owned()));
                    i = j;
                }
                b'[' => {
                    let close = |from: usize, q: u8| -> Result<(String, usize), String> {
                        let mut name = String::new();
                        let mut j = from;
                        let chars = &s[from..];
                        let mut it = chars.char_indices();
                        while let Some((k, c)) = it.next() {
                            if c == '\\' {
                                if let Some((_, e)) = it.next() {
                                    name.push(e);
                                }
                                continue;
                            }
                            if c as u32 == u32::from(q) {
                                j = from + k + 1;
                                return Ok((name, j));
                            }
                            name.push(c);
                        }
                        Err(format!("`{s}` has an unclosed quote at byte {j}"))
                    };
                    match b.get(i + 1) {
                        Some(&q @ (b'\'' | b'"')) => {
                            let (name, j) = close(i + 2, q)?;
                            if b.get(j) != Some(&b']') {
                                return Err(format!("`{s}`: expected `]` at byte {j}"));
                            }
                            steps.push(Step::Name(name));
                            i = j + 1;
                        }
                        _ => {
                            let end =
                                s[i..].find(']').map(|k| i + k).ok_or_else(|| format!("`{s}` has an unclosed `[`"))?;
                            let inner = &s[i + 1..end];
                            let n: usize =
                                inner.parse().map_err(|_| format!("`{s}` does not name one place (`[{inner}]`)"))?;
                            steps.push(Step::Index(n));
                            i = end + 1;
                        }
                    }
                }
                _ => return Err(format!("`{s}`: unexpected `{}` at byte {i}", char::from(b[i]))),
            }
        }
        Ok(RefPath { steps })
    }

    /// The value at this place, if there is one.
    pub fn get<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        let mut cur = v;
        for s in &self.steps {
            cur = match s {
                Step::Name(n) => cur.as_object()?.get(n)?,
                Step::Index(i) => cur.as_array()?.get(*i)?,
            };
        }
        Some(cur)
    }

    /// `target` with `value` put at this place; missing objects on the way are created.
    pub fn set(&self, target: Value, value: Value) -> Result<Value, String> {
        fn put(cur: Value, steps: &[Step], value: Value) -> Result<Value, String> {
            let Some((first, rest)) = steps.split_first() else { return Ok(value) };
            match (first, cur) {
                (Step::Name(n), Value::Object(mut o)) => {
                    let inner = o.remove(n).unwrap_or(Value::Object(Map::new()));
                    o.insert(n.clone(), put(inner, rest, value)?);
                    Ok(Value::Object(o))
                }
                (Step::Index(i), Value::Array(mut a)) if *i < a.len() => {
                    let inner = std::mem::take(&mut a[*i]);
                    a[*i] = put(inner, rest, value)?;
                    Ok(Value::Array(a))
                }
                (Step::Name(n), other) => Err(format!("cannot set field `{n}` on {}", kind(&other))),
                (Step::Index(i), other) => Err(format!("cannot set index {i} on {}", kind(&other))),
            }
        }
        put(target, &self.steps, value)
    }
}

/// The JSON type of a value, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A path over the input (`$`) or the context object (`$$`).
#[derive(Debug, Clone)]
pub struct PathExpr {
    pub text: String,
    pub context: bool,
    form: Form,
}

#[derive(Debug, Clone)]
enum Form {
    Ref(RefPath),
    Query(JsonPath),
}

impl PathExpr {
    /// Parses a path; `$$...` reads the context object.
    pub fn parse(s: &str) -> Result<PathExpr, String> {
        let (context, body) = match s.strip_prefix("$$") {
            Some(rest) => (true, format!("${rest}")),
            None => (false, s.to_owned()),
        };
        if !body.starts_with('$') {
            return Err(format!("`{s}` is not a path: paths start with `$`"));
        }
        let form = match RefPath::parse(&body) {
            Ok(r) => Form::Ref(r),
            Err(_) => Form::Query(JsonPath::parse(&body).map_err(|e| {
                format!("`{s}` is not a JSONPath (RFC 9535): {} at byte {}", e.message(), e.position())
            })?),
        };
        Ok(PathExpr { text: s.to_owned(), context, form })
    }

    /// Whether the path names one place.
    pub fn reference(&self) -> Option<&RefPath> {
        match &self.form {
            Form::Ref(r) => Some(r),
            Form::Query(_) => None,
        }
    }

    /// The selected value: the one value at a reference path (`None` when missing), or the
    /// array of every match of a query.
    pub fn select(&self, input: &Value, context: &Value) -> Option<Value> {
        let root = if self.context { context } else { input };
        match &self.form {
            Form::Ref(r) => r.get(root).cloned(),
            Form::Query(q) => Some(Value::Array(q.query(root).all().into_iter().cloned().collect())),
        }
    }
}

/// A dynamic value: a path or an intrinsic function call.
#[derive(Debug, Clone)]
pub enum Expr {
    Path(PathExpr),
    Call(Call),
}

impl Expr {
    pub fn parse(s: &str) -> Result<Expr, String> {
        if s.starts_with("States.") {
            intrinsics::parse(s).map(Expr::Call)
        } else {
            PathExpr::parse(s).map(Expr::Path)
        }
    }

    /// Evaluates the expression; `error` names the failure a missing path raises.
    pub fn eval(
        &self,
        input: &Value,
        context: &Value,
        env: &intrinsics::Env<'_>,
        error: &str,
        field: &str,
    ) -> Result<Value, Failure> {
        match self {
            Expr::Path(p) => p.select(input, context).ok_or_else(|| {
                Failure::new(
                    error,
                    format!(
                        "The JSONPath '{}' specified for the field '{field}' could not be found in the input",
                        p.text
                    ),
                )
            }),
            Expr::Call(c) => c.eval(input, context, env),
        }
    }
}

/// A payload template (`Parameters`, `ResultSelector`, `ItemSelector`): JSON whose fields
/// named `key.$` take their value from a path or an intrinsic function.
#[derive(Debug, Clone)]
pub enum Template {
    Object(Vec<(String, Field)>),
    Array(Vec<Template>),
    Literal(Value),
}

#[derive(Debug, Clone)]
pub enum Field {
    Dynamic(String, Expr),
    Static(Template),
}

impl Template {
    pub fn parse(v: &Value) -> Result<Template, String> {
        Ok(match v {
            Value::Object(o) => {
                let mut fields = Vec::new();
                for (k, v) in o {
                    if let Some(name) = k.strip_suffix(".$") {
                        let Some(s) = v.as_str() else {
                            return Err(format!(
                                "`{k}` ends in `.$`, so its value must be a path or an intrinsic function (a string)"
                            ));
                        };
                        if o.contains_key(name) {
                            return Err(format!("both `{name}` and `{k}` are given"));
                        }
                        let e = Expr::parse(s).map_err(|e| format!("`{k}`: {e}"))?;
                        fields.push((name.to_owned(), Field::Dynamic(k.clone(), e)));
                    } else {
                        fields.push((k.clone(), Field::Static(Template::parse(v)?)));
                    }
                }
                Template::Object(fields)
            }
            Value::Array(a) => Template::Array(a.iter().map(Template::parse).collect::<Result<_, _>>()?),
            other => Template::Literal(other.clone()),
        })
    }

    /// A top-level field of an object template: `Some(Some(text))` when it is a literal string,
    /// `Some(None)` when it comes from a path or an intrinsic (`key.$`), `None` when it is
    /// absent or any other literal.
    pub fn field(&self, key: &str) -> Option<Option<&str>> {
        let Template::Object(fields) = self else { return None };
        fields.iter().find(|(k, _)| k == key).and_then(|(_, f)| match f {
            Field::Static(Template::Literal(Value::String(s))) => Some(Some(s.as_str())),
            Field::Dynamic(..) => Some(None),
            Field::Static(_) => None,
        })
    }

    /// Fills the template from the input and the context object.
    pub fn render(&self, input: &Value, context: &Value, env: &intrinsics::Env<'_>) -> Result<Value, Failure> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Array(a) => {
                Value::Array(a.iter().map(|t| t.render(input, context, env)).collect::<Result<_, _>>()?)
            }
            Template::Object(fields) => {
                let mut out = Map::new();
                for (name, f) in fields {
                    let v = match f {
                        Field::Static(t) => t.render(input, context, env)?,
                        Field::Dynamic(key, e) => e.eval(input, context, env, "States.ParameterPathFailure", key)?,
                    };
                    out.insert(name.clone(), v);
                }
                Value::Object(out)
            }
        })
    }
}
