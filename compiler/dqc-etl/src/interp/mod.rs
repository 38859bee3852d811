//! A small abstract interpreter over the Python AST of a job script.
//!
//! It runs the script's statements in order, tracking what each variable
//! holds (a string, a job argument, a dataset, a column expression, a Glue
//! or Spark API object) and recording reads, writes, joins, filters and
//! grains as the Glue and Spark calls are met. Anything it cannot follow is
//! recorded as unresolved rather than guessed.

mod args;
mod dispatch;
mod eval;
mod value;

pub(crate) use dispatch::short;
pub(crate) use eval::to_col;

use std::collections::BTreeMap;

use rustpython_parser::ast::{self, Ranged};

use crate::expr::FrameId;
use crate::findings::Recorder;
use crate::model::Location;
use crate::schema::Frame;
use crate::source::LineIndex;
use crate::AnalyzeOptions;

pub(crate) use args::CallArgs;
pub(crate) use value::{module_member, Grouped, Reader, Sink, Value, WindowSpec, Writer};

/// Deepest nesting of user functions the interpreter follows.
const MAX_CALL_DEPTH: usize = 8;
/// Deepest expression nesting the interpreter follows.
const MAX_EVAL_DEPTH: usize = 120;
/// Most iterations of a `for` loop over a known list that are unrolled.
const MAX_UNROLL: usize = 32;
/// Deepest nesting of blocks (`if`, `for`, `with`, ...) followed.
const MAX_BLOCK_DEPTH: usize = 100;
/// Most statements executed in one analysis, so that nested loops and
/// recursive helpers cannot make the analysis run away.
const MAX_STEPS: usize = 100_000;
/// Largest string or list value kept; larger ones become unknown.
pub(crate) const MAX_VALUE_LEN: usize = 1 << 20;

/// Variables of one scope.
type Scope<'a> = BTreeMap<String, Value<'a>>;

/// How a block finished.
enum Flow<'a> {
    Normal,
    Return(Value<'a>),
}

/// The interpreter state for one script.
pub(crate) struct Interp<'a> {
    pub src: &'a str,
    lines: LineIndex,
    pub opts: &'a AnalyzeOptions,
    pub(crate) scopes: Vec<BTreeMap<String, Value<'a>>>,
    star_modules: Vec<String>,
    pub frames: Vec<Frame>,
    /// Temp views by lower-cased name.
    pub views: BTreeMap<String, FrameId>,
    pub rec: Recorder,
    call_depth: usize,
    eval_depth: usize,
    /// Where each string literal's text first appears, so that SQL found in
    /// a helper function is reported where the query is written.
    str_origins: BTreeMap<String, Location>,
    block_depth: usize,
    steps: usize,
    /// Values returned on paths that ended early (a `return` under a condition not known
    /// statically), per function call being run: the call's value merges them with the rest.
    early_returns: Vec<Vec<Value<'a>>>,
    /// Objects of classes defined in the script: the class and its attributes.
    pub(crate) instances: Vec<(&'a ast::StmtClassDef, BTreeMap<String, Value<'a>>)>,
}

/// Most objects of script classes followed; more are unknown values.
const MAX_INSTANCES: usize = 1_000;

impl<'a> Interp<'a> {
    /// A fresh interpreter for `src`.
    pub(crate) fn new(src: &'a str, opts: &'a AnalyzeOptions) -> Self {
        Self {
            src,
            lines: LineIndex::new(src),
            opts,
            scopes: vec![BTreeMap::new()],
            star_modules: Vec::new(),
            frames: Vec::new(),
            views: BTreeMap::new(),
            rec: Recorder::default(),
            call_depth: 0,
            eval_depth: 0,
            str_origins: BTreeMap::new(),
            block_depth: 0,
            steps: 0,
            early_returns: Vec::new(),
            instances: Vec::new(),
        }
    }

    /// Runs a module body.
    pub(crate) fn run(&mut self, body: &'a [ast::Stmt]) {
        let _ = self.exec_block(body);
    }

    /// The location of a node.
    pub(crate) fn loc(&self, node: &impl Ranged) -> Location {
        self.loc_at(usize::from(node.start()))
    }

    /// The location of a byte offset.
    pub(crate) fn loc_at(&self, offset: usize) -> Location {
        self.lines.location(self.src, offset)
    }

    /// The source text of a node.
    pub(crate) fn text(&self, node: &impl Ranged) -> &'a str {
        let r = node.range();
        self.src.get(usize::from(r.start())..usize::from(r.end())).unwrap_or("")
    }

    /// Adds a dataset to the arena.
    pub(crate) fn add_frame(&mut self, f: Frame) -> FrameId {
        self.frames.push(f);
        self.frames.len() - 1
    }

    /// A copy of a dataset, to be modified into a new one.
    pub(crate) fn frame(&self, id: FrameId) -> Frame {
        self.frames
            .get(id)
            .cloned()
            .unwrap_or_else(|| Frame::opaque(crate::schema::FrameKind::Data, vec![], "unknown dataset".into()))
    }

    /// Remembers where a string value was written.
    pub(crate) fn note_origin(&mut self, text: &str, loc: Location) {
        if !text.is_empty() && !self.str_origins.contains_key(text) {
            self.str_origins.insert(text.to_owned(), loc);
        }
    }

    /// Where a string value was written, if it is a literal of the script.
    pub(crate) fn origin_of(&self, text: &str) -> Option<Location> {
        self.str_origins.get(text).copied()
    }

    /// Records something unresolved.
    pub(crate) fn unresolved(&mut self, code: &str, message: String, loc: Location) {
        self.rec.unresolved(code, message, loc);
    }

    fn lookup(&self, name: &str) -> Value<'a> {
        for scope in self.scopes.iter().rev() {
            if let Some(v) = scope.get(name) {
                return v.clone();
            }
        }
        for m in &self.star_modules {
            let v = module_member(m, name);
            if v != Value::Unknown {
                return v;
            }
        }
        match name {
            "True" => Value::Bool(true),
            "False" => Value::Bool(false),
            "None" => Value::None,
            _ => Value::Unknown,
        }
    }

    fn assign_name(&mut self, name: &str, v: Value<'a>) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_owned(), v);
        }
    }

    /// Binds an assignment target, unpacking tuples from known lists.
    fn bind(&mut self, target: &'a ast::Expr, v: Value<'a>) {
        match target {
            ast::Expr::Name(n) => self.assign_name(n.id.as_str(), v),
            ast::Expr::Tuple(ast::ExprTuple { elts, .. }) | ast::Expr::List(ast::ExprList { elts, .. }) => {
                let items = match v {
                    Value::List(items) if items.len() == elts.len() => items,
                    _ => vec![Value::Unknown; elts.len()],
                };
                for (t, item) in elts.iter().zip(items) {
                    self.bind(t, item);
                }
            }
            // `self.x = v` on an object of a script class.
            ast::Expr::Attribute(a) => {
                if let Value::Instance(id) = self.eval(&a.value) {
                    if let Some((_, attrs)) = self.instances.get_mut(id) {
                        attrs.insert(a.attr.as_str().to_owned(), v);
                    }
                }
            }
            _ => {}
        }
    }

    fn exec_block(&mut self, body: &'a [ast::Stmt]) -> Flow<'a> {
        if self.block_depth >= MAX_BLOCK_DEPTH {
            if let Some(first) = body.first() {
                let loc = self.loc(first);
                self.unresolved("limit", "blocks are nested too deeply to follow".to_owned(), loc);
            }
            return Flow::Normal;
        }
        self.block_depth += 1;
        let mut flow = Flow::Normal;
        for stmt in body {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                if self.steps == MAX_STEPS + 1 {
                    let loc = self.loc(stmt);
                    self.unresolved("limit", format!("analysis stopped after {MAX_STEPS} statements"), loc);
                }
                break;
            }
            if let Flow::Return(v) = self.exec_stmt(stmt) {
                flow = Flow::Return(v);
                break;
            }
        }
        self.block_depth -= 1;
        flow
    }

    fn exec_stmt(&mut self, stmt: &'a ast::Stmt) -> Flow<'a> {
        use ast::Stmt as S;
        match stmt {
            S::Expr(e) => {
                let _ = self.eval(&e.value);
            }
            S::Assign(a) => {
                let v = self.eval(&a.value);
                for t in &a.targets {
                    self.bind(t, v.clone());
                }
            }
            S::AnnAssign(a) => {
                if let Some(value) = &a.value {
                    let v = self.eval(value);
                    self.bind(&a.target, v);
                }
            }
            S::AugAssign(a) => {
                let cur = self.eval(&a.target);
                let rhs = self.eval(&a.value);
                let v = self.binop(cur, &a.op, rhs);
                self.bind(&a.target, v);
            }
            S::Return(r) => {
                let v = r.value.as_ref().map_or(Value::None, |e| self.eval(e));
                return Flow::Return(v);
            }
            S::FunctionDef(f) => self.assign_name(f.name.as_str(), Value::Function(f)),
            S::ClassDef(c) => self.assign_name(c.name.as_str(), Value::Class(c)),
            S::Import(i) => self.import(i),
            S::ImportFrom(i) => self.import_from(i),
            S::If(i) => return self.exec_if(i),
            S::For(f) => return self.exec_for(f),
            S::While(w) => return self.exec_block(&w.body),
            S::With(w) => {
                for item in &w.items {
                    let v = self.eval(&item.context_expr);
                    if let Some(t) = &item.optional_vars {
                        self.bind(t, v);
                    }
                }
                return self.exec_block(&w.body);
            }
            S::Try(t) => return self.exec_try(&t.body, &t.handlers, &t.orelse, &t.finalbody),
            S::TryStar(t) => return self.exec_try(&t.body, &t.handlers, &t.orelse, &t.finalbody),
            _ => {}
        }
        Flow::Normal
    }

    fn exec_try(
        &mut self,
        body: &'a [ast::Stmt],
        handlers: &'a [ast::ExceptHandler],
        orelse: &'a [ast::Stmt],
        finalbody: &'a [ast::Stmt],
    ) -> Flow<'a> {
        if let Flow::Return(v) = self.exec_block(body) {
            return Flow::Return(v);
        }
        for h in handlers {
            let ast::ExceptHandler::ExceptHandler(h) = h;
            let _ = self.exec_block(&h.body);
        }
        if let Flow::Return(v) = self.exec_block(orelse) {
            return Flow::Return(v);
        }
        self.exec_block(finalbody)
    }

    fn exec_if(&mut self, i: &'a ast::StmtIf) -> Flow<'a> {
        if is_main_guard(&i.test) {
            return self.exec_block(&i.body);
        }
        match self.eval(&i.test) {
            Value::Bool(true) => self.exec_block(&i.body),
            Value::Bool(false) => self.exec_block(&i.orelse),
            _ => {
                let loc = self.loc(&*i.test);
                let cond = self.text(&*i.test);
                self.unresolved(
                    "branch",
                    format!("condition `{cond}` is not known statically; both branches are analysed and what they assign differently is merged"),
                    loc,
                );
                let before = self.scopes.clone();
                let first = self.exec_block(&i.body);
                let after_body = std::mem::replace(&mut self.scopes, before);
                let second = self.exec_block(&i.orelse);
                let after_else = std::mem::take(&mut self.scopes);
                match (first, second) {
                    (Flow::Return(a), Flow::Return(b)) => {
                        self.scopes = self.merge_scopes(after_body, after_else, loc);
                        Flow::Return(self.merge_values(vec![a, b], loc))
                    }
                    // One branch returns early: the code after the `if` runs on the other
                    // branch's path (its writes are writes of the job), and the early value is
                    // one of the call's values.
                    (Flow::Return(v), Flow::Normal) => {
                        self.scopes = after_else;
                        self.early_return(v);
                        Flow::Normal
                    }
                    (Flow::Normal, Flow::Return(v)) => {
                        self.scopes = after_body;
                        self.early_return(v);
                        Flow::Normal
                    }
                    (Flow::Normal, Flow::Normal) => {
                        self.scopes = self.merge_scopes(after_body, after_else, loc);
                        Flow::Normal
                    }
                }
            }
        }
    }

    /// Keeps the value of a path that returned early, for the call being run.
    fn early_return(&mut self, v: Value<'a>) {
        if let Some(values) = self.early_returns.last_mut() {
            values.push(v);
        }
    }

    /// The value of a call that returns on several paths: `None` paths aside, one value when
    /// they agree, an "either" dataset when they are datasets, else unknown.
    fn merge_values(&mut self, values: Vec<Value<'a>>, loc: Location) -> Value<'a> {
        let mut some: Vec<Value<'a>> = values.into_iter().filter(|v| *v != Value::None).collect();
        some.dedup();
        match some.len() {
            0 => Value::None,
            1 => some.remove(0),
            _ if some.iter().all(|v| v.as_frame().is_some()) => {
                let mut frames = some.iter().filter_map(Value::as_frame);
                let first = frames.next().map(Value::Frame).unwrap_or(Value::Unknown);
                frames.fold(first, |acc, f| match acc {
                    Value::Frame(x) => self.combine(x, Some(&Value::Frame(f)), true, "either", loc),
                    other => other,
                })
            }
            _ => Value::Unknown,
        }
    }

    /// Variables after two branches: equal values stay, datasets become
    /// "either" datasets, anything else becomes unknown.
    fn merge_scopes(&mut self, a: Vec<Scope<'a>>, b: Vec<Scope<'a>>, loc: Location) -> Vec<Scope<'a>> {
        let mut merged = Vec::new();
        for (sa, mut sb) in a.into_iter().zip(b) {
            let mut out = BTreeMap::new();
            for (k, va) in sa {
                let v = match sb.remove(&k) {
                    None => va,
                    Some(vb) if vb == va => va,
                    Some(Value::Frame(y)) => match va {
                        Value::Frame(x) => self.combine(x, Some(&Value::Frame(y)), true, "either", loc),
                        _ => Value::Unknown,
                    },
                    Some(_) => Value::Unknown,
                };
                out.insert(k, v);
            }
            out.extend(sb);
            merged.push(out);
        }
        merged
    }

    fn exec_for(&mut self, f: &'a ast::StmtFor) -> Flow<'a> {
        let items = match self.eval(&f.iter) {
            Value::List(items) if items.len() <= MAX_UNROLL => items,
            _ => {
                let loc = self.loc(&*f.iter);
                let it = self.text(&*f.iter);
                self.unresolved(
                    "loop",
                    format!("loop over `{it}` is not a known list; its body is analysed once with unknown values"),
                    loc,
                );
                vec![Value::Unknown]
            }
        };
        for item in items {
            self.bind(&f.target, item);
            if let Flow::Return(v) = self.exec_block(&f.body) {
                return Flow::Return(v);
            }
        }
        self.exec_block(&f.orelse)
    }

    fn import(&mut self, i: &'a ast::StmtImport) {
        for alias in &i.names {
            let path = alias.name.as_str();
            match &alias.asname {
                Some(as_name) => self.assign_name(as_name.as_str(), Value::Module(path.to_owned())),
                None => {
                    let top = path.split('.').next().unwrap_or(path);
                    self.assign_name(top, Value::Module(top.to_owned()));
                }
            }
        }
    }

    fn import_from(&mut self, i: &'a ast::StmtImportFrom) {
        let Some(module) = &i.module else { return };
        let module = module.as_str();
        for alias in &i.names {
            let name = alias.name.as_str();
            if name == "*" {
                self.star_modules.push(module.to_owned());
                continue;
            }
            let bound = alias.asname.as_ref().map_or(name, |a| a.as_str());
            self.assign_name(bound, module_member(module, name));
        }
    }

    /// Calls a function defined in the script with evaluated arguments.
    pub(crate) fn call_function(&mut self, def: &'a ast::StmtFunctionDef, args: &CallArgs<'a>) -> Value<'a> {
        if self.call_depth >= MAX_CALL_DEPTH {
            self.unresolved(
                "limit",
                format!("call to `{}` is nested too deeply to follow", def.name.as_str()),
                args.loc,
            );
            return Value::Unknown;
        }
        let mut scope = BTreeMap::new();
        let params: Vec<&ast::ArgWithDefault> = def.args.posonlyargs.iter().chain(&def.args.args).collect();
        for (i, p) in params.iter().enumerate() {
            let name = p.def.arg.as_str();
            let v = match args.kw(name).or_else(|| args.pos.get(i)) {
                Some(v) => v.clone(),
                None => p.default.as_ref().map_or(Value::Unknown, |d| self.eval(d)),
            };
            scope.insert(name.to_owned(), v);
        }
        for p in &def.args.kwonlyargs {
            let name = p.def.arg.as_str();
            let v = match args.kw(name) {
                Some(v) => v.clone(),
                None => p.default.as_ref().map_or(Value::Unknown, |d| self.eval(d)),
            };
            scope.insert(name.to_owned(), v);
        }
        self.call_depth += 1;
        self.scopes.push(scope);
        self.early_returns.push(Vec::new());
        let flow = self.exec_block(&def.body);
        let mut values = self.early_returns.pop().unwrap_or_default();
        self.scopes.pop();
        self.call_depth -= 1;
        values.push(match flow {
            Flow::Return(v) => v,
            Flow::Normal => Value::None,
        });
        self.merge_values(values, args.loc)
    }

    /// `Class(args)` for a class of the script: a new object, set up by `__init__`.
    pub(crate) fn instantiate(&mut self, class: &'a ast::StmtClassDef, args: &CallArgs<'a>) -> Value<'a> {
        if self.instances.len() >= MAX_INSTANCES {
            return Value::Unknown;
        }
        let id = self.instances.len();
        self.instances.push((class, BTreeMap::new()));
        if let Some(init) = method_of(class, "__init__") {
            let _ = self.call_function(init, &args.with_receiver(Value::Instance(id)));
        }
        Value::Instance(id)
    }

    /// `obj.name` for an object of a script class: its attribute, else its method bound to it,
    /// else a class attribute.
    pub(crate) fn instance_attr(&mut self, id: usize, name: &str) -> Value<'a> {
        let Some((class, attrs)) = self.instances.get(id) else { return Value::Unknown };
        if let Some(v) = attrs.get(name) {
            return v.clone();
        }
        let class = *class;
        match method_of(class, name) {
            Some(def) if !has_decorator(def, "staticmethod") && !has_decorator(def, "classmethod") => {
                Value::BoundMethod(id, def)
            }
            _ => self.class_attr(class, name),
        }
    }

    /// `Class.name`: a function defined in the class body (a static method), or the value
    /// assigned to `name` there.
    pub(crate) fn class_attr(&mut self, class: &'a ast::StmtClassDef, name: &str) -> Value<'a> {
        if let Some(def) = method_of(class, name) {
            // A class method gets the class as its first argument; a static method nothing.
            return if has_decorator(def, "classmethod") {
                Value::ClassMethod(class, def)
            } else {
                Value::Function(def)
            };
        }
        let assigned = class.body.iter().rev().find_map(|stmt| match stmt {
            ast::Stmt::Assign(a)
                if a.targets.iter().any(|t| matches!(t, ast::Expr::Name(n) if n.id.as_str() == name)) =>
            {
                Some(&*a.value)
            }
            ast::Stmt::AnnAssign(a) if matches!(&*a.target, ast::Expr::Name(n) if n.id.as_str() == name) => {
                a.value.as_deref()
            }
            _ => None,
        });
        assigned.map_or(Value::Unknown, |e| self.eval(e))
    }
}

/// Whether a function is decorated `@name` (or `@something.name`).
fn has_decorator(def: &ast::StmtFunctionDef, name: &str) -> bool {
    def.decorator_list.iter().any(|d| match d {
        ast::Expr::Name(n) => n.id.as_str() == name,
        ast::Expr::Attribute(a) => a.attr.as_str() == name,
        _ => false,
    })
}

/// The function `name` defined in a class body.
fn method_of<'a>(class: &'a ast::StmtClassDef, name: &str) -> Option<&'a ast::StmtFunctionDef> {
    class.body.iter().find_map(|stmt| match stmt {
        ast::Stmt::FunctionDef(f) if f.name.as_str() == name => Some(f),
        _ => None,
    })
}

/// `if __name__ == "__main__":`
fn is_main_guard(test: &ast::Expr) -> bool {
    let ast::Expr::Compare(c) = test else {
        return false;
    };
    let is_name = |e: &ast::Expr| matches!(e, ast::Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &ast::Expr| matches!(e, ast::Expr::Constant(k) if matches!(&k.value, ast::Constant::Str(s) if s == "__main__"));
    match c.comparators.as_slice() {
        [rhs] => (is_name(&c.left) && is_main(rhs)) || (is_main(&c.left) && is_name(rhs)),
        _ => false,
    }
}
