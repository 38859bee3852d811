//! Evaluation of Python expressions to abstract [`Value`]s.

use rustpython_parser::ast::{self, CmpOp, Operator, UnaryOp};

use super::value::{module_member, scalar_text, Api, Value};
use super::{CallArgs, Interp, MAX_EVAL_DEPTH, MAX_VALUE_LEN};
use crate::expr::{ColExpr, ColRef};
use crate::schema::FrameKind;

impl<'a> Interp<'a> {
    /// Evaluates an expression.
    pub(crate) fn eval(&mut self, e: &'a ast::Expr) -> Value<'a> {
        if self.eval_depth >= MAX_EVAL_DEPTH {
            let loc = self.loc(e);
            self.unresolved("limit", "expression is nested too deeply to follow".to_owned(), loc);
            return Value::Unknown;
        }
        self.eval_depth += 1;
        let v = self.eval_inner(e);
        self.eval_depth -= 1;
        if too_large(&v) {
            let loc = self.loc(e);
            self.unresolved("limit", "value is too large to follow".to_owned(), loc);
            return Value::Unknown;
        }
        v
    }

    fn eval_inner(&mut self, e: &'a ast::Expr) -> Value<'a> {
        use ast::Expr as E;
        match e {
            E::Constant(c) => {
                let v = constant(&c.value);
                if let Value::Str(s) = &v {
                    let loc = self.loc(e);
                    self.note_origin(s, loc);
                }
                v
            }
            E::Name(n) => self.lookup(n.id.as_str()),
            E::Attribute(a) => {
                let v = self.eval(&a.value);
                self.get_attr(v, a.attr.as_str())
            }
            E::Call(c) => self.eval_call(c),
            E::Subscript(s) => {
                let v = self.eval(&s.value);
                let k = self.eval(&s.slice);
                self.subscript(v, k)
            }
            E::List(ast::ExprList { elts, .. })
            | E::Tuple(ast::ExprTuple { elts, .. })
            | E::Set(ast::ExprSet { elts, .. }) => Value::List(self.eval_elements(elts)),
            E::Dict(d) => self.eval_dict(d),
            E::JoinedStr(j) => {
                let v = self.fstring(&j.values);
                if let Value::Str(s) = &v {
                    let loc = self.loc(e);
                    self.note_origin(s, loc);
                }
                v
            }
            E::FormattedValue(f) => self.formatted(f),
            E::BinOp(b) => {
                let l = self.eval(&b.left);
                let r = self.eval(&b.right);
                self.binop(l, &b.op, r)
            }
            E::UnaryOp(u) => {
                let v = self.eval(&u.operand);
                unary(u.op, v)
            }
            E::BoolOp(b) => self.boolop(b),
            E::Compare(c) => self.compare(c),
            E::Lambda(l) => Value::Lambda(l),
            E::IfExp(i) => match self.eval(&i.test) {
                Value::Bool(true) => self.eval(&i.body),
                Value::Bool(false) => self.eval(&i.orelse),
                _ => Value::Unknown,
            },
            E::Starred(s) => self.eval(&s.value),
            // What a comprehension iterates over is evaluated (its reads and calls are
            // recorded); its elements are not known.
            E::ListComp(ast::ExprListComp { generators, .. })
            | E::SetComp(ast::ExprSetComp { generators, .. })
            | E::GeneratorExp(ast::ExprGeneratorExp { generators, .. })
            | E::DictComp(ast::ExprDictComp { generators, .. }) => {
                for g in generators {
                    let _ = self.eval(&g.iter);
                }
                Value::Unknown
            }
            _ => Value::Unknown,
        }
    }

    fn eval_elements(&mut self, elts: &'a [ast::Expr]) -> Vec<Value<'a>> {
        let mut out = Vec::new();
        for el in elts {
            let v = self.eval(el);
            match (el, v) {
                (ast::Expr::Starred(_), Value::List(items)) => out.extend(items),
                (_, v) => out.push(v),
            }
        }
        out
    }

    fn eval_dict(&mut self, d: &'a ast::ExprDict) -> Value<'a> {
        let mut items = Vec::new();
        for (k, v) in d.keys.iter().zip(&d.values) {
            let val = self.eval(v);
            match k {
                Some(k) => {
                    let key = self.eval(k);
                    items.push((key, val));
                }
                None => {
                    if let Value::Dict(more) = val {
                        items.extend(more);
                    }
                }
            }
        }
        Value::Dict(items)
    }

    /// Attribute access that is not immediately called.
    fn get_attr(&mut self, v: Value<'a>, name: &str) -> Value<'a> {
        match (&v, name) {
            (Value::Module(m), _) => module_member(m, name),
            (Value::Instance(id), _) => self.instance_attr(*id, name),
            (Value::Class(class), _) => self.class_attr(class, name),
            (Value::Api(Api::GlueContext), "create_dynamic_frame") => Value::Api(Api::GlueRead(true)),
            (Value::Api(Api::GlueContext), "create_data_frame") => Value::Api(Api::GlueRead(false)),
            (Value::Api(Api::GlueContext), "write_dynamic_frame") => Value::Api(Api::GlueWrite(true)),
            (Value::Api(Api::GlueContext), "write_data_frame") => Value::Api(Api::GlueWrite(false)),
            (Value::Api(Api::GlueContext), "spark_session") => Value::Api(Api::SparkSession),
            (Value::Api(Api::SparkSessionClass), "builder") => Value::Api(Api::SparkBuilder),
            (Value::Api(Api::SparkSession), "read") => Value::Reader(Default::default()),
            (Value::Api(Api::SparkSession), "sparkContext") => Value::Api(Api::SparkContext),
            (Value::Frame(_) | Value::Unknown, "write") => Value::Writer(super::Writer {
                frame: v.as_frame(),
                format: None,
                mode: None,
                partition_keys: vec![],
                options: vec![],
                table: None,
            }),
            (Value::Frame(id), "na") => Value::Na(*id),
            (Value::Frame(_), "columns" | "schema" | "dtypes" | "rdd") => Value::Unknown,
            (Value::Frame(id), _) if self.frame(*id).kind == FrameKind::Data => Value::Column(bound_col(*id, name)),
            (Value::Row(id), _) => Value::Column(bound_col(*id, name)),
            (Value::Unknown, _) => Value::Unknown,
            _ => Value::Method(Box::new(v), name.to_owned()),
        }
    }

    fn subscript(&mut self, v: Value<'a>, k: Value<'a>) -> Value<'a> {
        match (&v, &k) {
            (Value::Args, Value::Str(key)) => Value::Str(format!("${{{key}}}")),
            (Value::Dict(_), Value::Str(key)) => v.dict_get(key).cloned().unwrap_or(Value::Unknown),
            (Value::List(items), Value::Int(i)) => {
                let idx = if *i < 0 { items.len() as i64 + i } else { *i };
                usize::try_from(idx).ok().and_then(|i| items.get(i).cloned()).unwrap_or(Value::Unknown)
            }
            (Value::Frame(id) | Value::Row(id), Value::Str(name)) => Value::Column(bound_col(*id, name)),
            _ => Value::Unknown,
        }
    }

    fn eval_call(&mut self, c: &'a ast::ExprCall) -> Value<'a> {
        if let ast::Expr::Attribute(a) = &*c.func {
            let recv = self.eval(&a.value);
            let args = self.eval_args(c);
            let result = self.call_method(recv.clone(), a.attr.as_str(), &args);
            // Reader, writer and sink builders mutate themselves in PySpark.
            if let ast::Expr::Name(n) = &*a.value {
                if is_builder_update(&recv, &result) {
                    self.assign_name(n.id.as_str(), result.clone());
                }
            }
            return result;
        }
        let f = self.eval(&c.func);
        let args = self.eval_args(c);
        self.call_value(f, &args)
    }

    fn eval_args(&mut self, c: &'a ast::ExprCall) -> CallArgs<'a> {
        let mut pos = Vec::new();
        let mut pos_text = Vec::new();
        for a in &c.args {
            let v = self.eval(a);
            match (a, v) {
                (ast::Expr::Starred(_), Value::List(items)) => {
                    pos_text.extend(std::iter::repeat_n(self.text(a), items.len()));
                    pos.extend(items);
                }
                (_, v) => {
                    pos_text.push(self.text(a));
                    pos.push(v);
                }
            }
        }
        let mut kw = Vec::new();
        let mut kw_text = Vec::new();
        for k in &c.keywords {
            let v = self.eval(&k.value);
            match (&k.arg, v) {
                (Some(name), v) => {
                    kw_text.push((name.as_str().to_owned(), self.text(&k.value)));
                    kw.push((name.as_str().to_owned(), v));
                }
                (None, Value::Dict(items)) => {
                    for (key, val) in items {
                        if let Some(s) = key.as_str() {
                            kw.push((s.to_owned(), val));
                        }
                    }
                }
                (None, _) => {}
            }
        }
        CallArgs { pos, kw, pos_text, kw_text, loc: self.call_loc(c), text: self.text(c) }
    }

    /// Where a call is reported: at the method name for `x.method(...)`, so
    /// that each step of a chain gets its own position.
    fn call_loc(&self, c: &ast::ExprCall) -> crate::model::Location {
        match &*c.func {
            ast::Expr::Attribute(a) => {
                let end = usize::from(a.range.end());
                self.loc_at(end.saturating_sub(a.attr.as_str().len()))
            }
            _ => self.loc(c),
        }
    }

    /// Python `%`, `+` and friends on abstract values.
    pub(crate) fn binop(&mut self, l: Value<'a>, op: &Operator, r: Value<'a>) -> Value<'a> {
        match (l, op, r) {
            (Value::Str(a), Operator::Add, Value::Str(b)) if a.len() + b.len() <= MAX_VALUE_LEN => Value::Str(a + &b),
            (Value::List(mut a), Operator::Add, Value::List(b)) if a.len() + b.len() <= MAX_VALUE_LEN / 64 => {
                a.extend(b);
                Value::List(a)
            }
            (Value::Int(a), Operator::Add, Value::Int(b)) => a.checked_add(b).map_or(Value::Unknown, Value::Int),
            (Value::Int(a), Operator::Sub, Value::Int(b)) => a.checked_sub(b).map_or(Value::Unknown, Value::Int),
            (Value::Int(a), Operator::Mult, Value::Int(b)) => a.checked_mul(b).map_or(Value::Unknown, Value::Int),
            (Value::Str(fmt), Operator::Mod, args) => percent_format(&fmt, &args),
            (l, op, r) => column_binop(l, op, r),
        }
    }

    fn boolop(&mut self, b: &'a ast::ExprBoolOp) -> Value<'a> {
        let vals: Vec<Value<'a>> = b.values.iter().map(|v| self.eval(v)).collect();
        let op = match b.op {
            ast::BoolOp::And => "AND",
            ast::BoolOp::Or => "OR",
        };
        if vals.iter().any(|v| matches!(v, Value::Column(_))) {
            let cols: Option<Vec<ColExpr>> = vals.iter().map(to_col).collect();
            return cols
                .and_then(|c| c.into_iter().reduce(|l, r| ColExpr::binary(op, l, r)))
                .map_or(Value::Unknown, Value::Column);
        }
        let bools: Option<Vec<bool>> = vals
            .iter()
            .map(|v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            })
            .collect();
        match (bools, op) {
            (Some(b), "AND") => Value::Bool(b.iter().all(|x| *x)),
            (Some(b), _) => Value::Bool(b.iter().any(|x| *x)),
            (None, _) => Value::Unknown,
        }
    }

    fn compare(&mut self, c: &'a ast::ExprCompare) -> Value<'a> {
        let (Some(op), Some(rhs), 1) = (c.ops.first(), c.comparators.first(), c.ops.len()) else {
            return Value::Unknown;
        };
        let l = self.eval(&c.left);
        let r = self.eval(rhs);
        if let (Value::Column(_), _) | (_, Value::Column(_)) = (&l, &r) {
            return column_compare(&l, *op, &r).map_or(Value::Unknown, Value::Column);
        }
        let known = |v: &Value<'_>| scalar_text(v).filter(|s| !s.contains("${"));
        match (op, known(&l), known(&r)) {
            (CmpOp::Eq, Some(a), Some(b)) => Value::Bool(a == b),
            (CmpOp::NotEq, Some(a), Some(b)) => Value::Bool(a != b),
            _ => Value::Unknown,
        }
    }

    /// An f-string; unknown pieces become `${?expr}`.
    fn fstring(&mut self, values: &'a [ast::Expr]) -> Value<'a> {
        let mut out = String::new();
        for v in values {
            match v {
                ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(s), .. }) => out.push_str(s),
                ast::Expr::FormattedValue(f) => match self.formatted(f) {
                    Value::Str(s) if fits(out.len() + s.len()) => out.push_str(&s),
                    _ => return Value::Unknown,
                },
                _ => return Value::Unknown,
            }
        }
        Value::Str(out)
    }

    fn formatted(&mut self, f: &'a ast::ExprFormattedValue) -> Value<'a> {
        let v = self.eval(&f.value);
        match scalar_text(&v) {
            Some(s) => Value::Str(s),
            None => Value::Str(format!("${{?{}}}", self.text(&*f.value))),
        }
    }

    /// Methods of known strings.
    pub(crate) fn str_method(&mut self, s: &str, name: &str, args: &CallArgs<'a>) -> Value<'a> {
        match name {
            "format" => brace_format(s, args),
            "join" => match args.pos.first().and_then(Value::as_str_list) {
                Some(items) if fits(items.iter().map(String::len).sum::<usize>() + s.len() * items.len()) => {
                    Value::Str(items.join(s))
                }
                _ => Value::Unknown,
            },
            "strip" if args.pos.is_empty() => Value::Str(s.trim().to_owned()),
            "lower" => Value::Str(s.to_lowercase()),
            "upper" => Value::Str(s.to_uppercase()),
            "replace" => match (args.pos.first().and_then(Value::as_str), args.pos.get(1).and_then(Value::as_str)) {
                (Some(a), Some(b)) if !a.is_empty() && fits(s.len() + s.matches(a).count() * b.len()) => {
                    Value::Str(s.replace(a, b))
                }
                _ => Value::Unknown,
            },
            _ => Value::Unknown,
        }
    }
}

/// Whether a string of `len` bytes is within the size limit.
fn fits(len: usize) -> bool {
    len <= MAX_VALUE_LEN
}

/// Values past the size limits are dropped rather than followed.
fn too_large(v: &Value<'_>) -> bool {
    match v {
        Value::Str(s) => s.len() > MAX_VALUE_LEN,
        Value::List(items) => items.len() > MAX_VALUE_LEN / 64,
        Value::Dict(items) => items.len() > MAX_VALUE_LEN / 64,
        Value::Column(c) => c.size() > crate::expr::MAX_NODES,
        _ => false,
    }
}

fn is_builder_update(recv: &Value<'_>, result: &Value<'_>) -> bool {
    matches!(
        (recv, result),
        (Value::Reader(_), Value::Reader(_)) | (Value::Writer(_), Value::Writer(_)) | (Value::Sink(_), Value::Sink(_))
    )
}

/// A column bound to a dataset (`df["x"]`, `df.x`, `row["x"]`).
pub(crate) fn bound_col(frame: usize, name: &str) -> ColExpr {
    ColExpr::Col(ColRef { frame: Some(frame), qualifier: None, name: name.to_owned() })
}

fn constant<'a>(c: &ast::Constant) -> Value<'a> {
    match c {
        ast::Constant::None => Value::None,
        ast::Constant::Bool(b) => Value::Bool(*b),
        ast::Constant::Str(s) => Value::Str(s.clone()),
        ast::Constant::Int(i) => i.to_string().parse().map_or(Value::Unknown, Value::Int),
        ast::Constant::Float(f) => Value::Float(*f),
        ast::Constant::Tuple(items) => Value::List(items.iter().map(constant).collect()),
        _ => Value::Unknown,
    }
}

fn unary(op: UnaryOp, v: Value<'_>) -> Value<'_> {
    match (op, v) {
        (UnaryOp::Not | UnaryOp::Invert, Value::Column(c)) => {
            Value::Column(ColExpr::Unary { op: "NOT".to_owned(), expr: Box::new(c) })
        }
        (UnaryOp::USub, Value::Column(c)) => Value::Column(ColExpr::Unary { op: "-".to_owned(), expr: Box::new(c) }),
        (UnaryOp::USub, Value::Int(i)) => i.checked_neg().map_or(Value::Unknown, Value::Int),
        (UnaryOp::USub, Value::Float(f)) => Value::Float(-f),
        (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
        _ => Value::Unknown,
    }
}

/// A Python value used where a column is expected: columns stay columns,
/// scalars become literals.
pub(crate) fn to_col(v: &Value<'_>) -> Option<ColExpr> {
    match v {
        Value::Column(c) => Some(c.clone()),
        Value::Str(s) => Some(ColExpr::str_lit(s)),
        Value::Int(i) => Some(ColExpr::Lit(i.to_string())),
        Value::Float(f) => Some(ColExpr::Lit(f.to_string())),
        Value::Bool(b) => Some(ColExpr::Lit(if *b { "TRUE" } else { "FALSE" }.to_owned())),
        Value::None => Some(ColExpr::Lit("NULL".to_owned())),
        _ => None,
    }
}

fn column_binop<'a>(l: Value<'a>, op: &Operator, r: Value<'a>) -> Value<'a> {
    if !matches!((&l, &r), (Value::Column(_), _) | (_, Value::Column(_))) {
        return Value::Unknown;
    }
    let sql = match op {
        Operator::Add => "+",
        Operator::Sub => "-",
        Operator::Mult => "*",
        Operator::Div => "/",
        Operator::Mod => "%",
        Operator::BitAnd => "AND",
        Operator::BitOr => "OR",
        _ => return Value::Unknown,
    };
    match (to_col(&l), to_col(&r)) {
        (Some(a), Some(b)) => Value::Column(ColExpr::binary(sql, a, b)),
        _ => Value::Unknown,
    }
}

fn column_compare(l: &Value<'_>, op: CmpOp, r: &Value<'_>) -> Option<ColExpr> {
    let left = to_col(l)?;
    let sql = match op {
        CmpOp::Eq => "=",
        CmpOp::NotEq => "<>",
        CmpOp::Lt => "<",
        CmpOp::LtE => "<=",
        CmpOp::Gt => ">",
        CmpOp::GtE => ">=",
        CmpOp::Is | CmpOp::IsNot if *r == Value::None => {
            return Some(ColExpr::IsNull { expr: Box::new(left), negated: op == CmpOp::IsNot })
        }
        CmpOp::In | CmpOp::NotIn => {
            let Value::List(items) = r else { return None };
            let list: Option<Vec<ColExpr>> = items.iter().map(to_col).collect();
            return Some(ColExpr::InList { expr: Box::new(left), list: list?, negated: op == CmpOp::NotIn });
        }
        _ => return None,
    };
    Some(ColExpr::binary(sql, left, to_col(r)?))
}

/// `"..." % args` with `%s`, `%d` and `%%`.
fn percent_format<'a>(fmt: &str, args: &Value<'_>) -> Value<'a> {
    let items: Vec<Value<'_>> = match args {
        Value::List(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut it = items.iter();
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s' | 'd' | 'i' | 'f') => match it.next().and_then(scalar_text) {
                Some(s) if fits(out.len() + s.len()) => out.push_str(&s),
                _ => return Value::Unknown,
            },
            _ => return Value::Unknown,
        }
    }
    Value::Str(out)
}

/// `"...".format(...)` with `{}`, `{0}`, `{name}`, `{{` and `}}`.
fn brace_format<'a>(fmt: &str, args: &CallArgs<'_>) -> Value<'a> {
    let mut out = String::new();
    let mut next_auto = 0;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let field: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let key = field.split([':', '!']).next().unwrap_or("");
                let v = if key.is_empty() {
                    next_auto += 1;
                    args.pos.get(next_auto - 1)
                } else if let Ok(i) = key.parse::<usize>() {
                    args.pos.get(i)
                } else {
                    args.kw(key)
                };
                match v.and_then(scalar_text) {
                    Some(s) if fits(out.len() + s.len()) => out.push_str(&s),
                    Some(_) => return Value::Unknown,
                    None => out.push_str(&format!("${{?{key}}}")),
                }
            }
            other => out.push(other),
        }
    }
    Value::Str(out)
}
