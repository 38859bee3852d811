//! pest binding: the grammar in `grammar/contract.pest`, and the walk from pest pairs to the AST.
//!
//! Nothing in this module is public beyond [`parse`]; pest types never leave the crate.

use dqc_diagnostics::{Code, Diagnostic, FileId, Span};
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::errors::convert_pest_error;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/contract.pest"]
pub(crate) struct ContractParser;

/// Rebuilds the crate when the grammar changes.
const _GRAMMAR: &str = include_str!("../../../grammar/contract.pest");

type Result<T> = std::result::Result<T, Diagnostic>;

/// Parses one source file. Parsing stops at the first syntax error.
pub fn parse(source: &str, file: FileId) -> Result<SourceFile> {
    let mut pairs = ContractParser::parse(Rule::file, source).map_err(|e| convert_pest_error(&e, source, file))?;
    let first = pairs.next();
    let mut comments = Vec::new();
    if let Some(p) = &first {
        collect_comments(p.clone(), file, &mut comments);
    }
    comments.sort_by_key(|c: &Comment| c.span.start);
    comments.dedup_by_key(|c| c.span.start);
    let walker = Walker { file, source, comments: &comments, depth: std::cell::Cell::new(0) };
    let file_pair = walker.next(&mut first.into_iter(), "file")?;
    let mut contracts = Vec::new();
    for pair in file_pair.into_inner() {
        match pair.as_rule() {
            Rule::contract => contracts.push(walker.contract(pair)?),
            Rule::EOI | Rule::COMMENT => {}
            _ => return Err(walker.unexpected(&pair)),
        }
    }
    Ok(SourceFile { contracts, comments })
}

/// Collects every comment in the tree, with an explicit stack: deeply nested input must not
/// exhaust the thread's stack.
fn collect_comments(pair: Pair<'_, Rule>, file: FileId, out: &mut Vec<Comment>) {
    let mut stack = vec![pair];
    while let Some(pair) = stack.pop() {
        if pair.as_rule() == Rule::COMMENT {
            let text = pair.as_str().trim_start_matches("--").trim_end().to_string();
            let span = pair.as_span();
            out.push(Comment { text, span: Span::new(file, span.start(), span.end()) });
        } else {
            stack.extend(pair.into_inner());
        }
    }
}

/// The deepest expression tree the parser builds: every operator (`+`, `and`, `not`, `is null`,
/// `in`, ...) and every parenthesis, call, cast or `case` adds one level. Later stages (lowering,
/// type checking, formatting, SQL and Python emitters) recurse over the tree, so this bound is
/// what keeps every one of them within its stack; it is also well under DuckDB's expression
/// depth limit (1,000), so a contract that checks also runs.
pub const MAX_EXPR_DEPTH: usize = 256;

static PRATT: std::sync::LazyLock<PrattParser<Rule>> = std::sync::LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::postfix(Rule::is_null)
            | Op::postfix(Rule::in_list)
            | Op::postfix(Rule::like)
            | Op::postfix(Rule::between))
        .op(Op::infix(Rule::op_concat, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_mod, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

struct Walker<'s> {
    file: FileId,
    source: &'s str,
    comments: &'s [Comment],
    /// Levels of expression tree above the expression being walked.
    depth: std::cell::Cell<usize>,
}

/// Pairs without comments: comments are collected separately and would otherwise appear
/// wherever whitespace is allowed.
fn inner(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| p.as_rule() != Rule::COMMENT)
}

/// E0004 for `in ()`.
fn empty_list(span: Span) -> Diagnostic {
    Diagnostic::new(Code::EmptyValueList, "`in ()` lists no value: no row could pass it", span)
        .with_primary_label("an empty list")
        .with_help("list the allowed values, or write `is null` if only NULL is allowed")
}

/// The depth of the tree a flat expression (operands with the operators between them) parses
/// into, computed without building it: operands nested inside (parentheses, calls) count their
/// own levels when they are walked. A run of prefix operators longer than the limit is not
/// handed to the Pratt parser at all, since it recurses once per prefix operator.
fn tree_depth(pairs: &[Pair<'_, Rule>]) -> usize {
    let (mut run, mut longest) = (0usize, 0usize);
    for p in pairs {
        if matches!(p.as_rule(), Rule::op_not | Rule::op_neg) {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    if longest >= MAX_EXPR_DEPTH {
        return longest + 1;
    }
    PRATT
        // A parenthesis, call, cast or `case` is a node above the expressions inside it.
        .map_primary(|p| {
            if matches!(p.as_rule(), Rule::paren | Rule::call | Rule::cast_expr | Rule::case_expr) {
                2
            } else {
                1
            }
        })
        .map_prefix(|_, d| d + 1)
        .map_postfix(|d, _| d + 1)
        .map_infix(|l, _, r| 1 + l.max(r))
        .parse(pairs.iter().cloned())
}

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

impl Walker<'_> {
    /// The span of a pair without the whitespace and comments pest attaches to its end when
    /// a trailing repetition matches nothing.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let (start, mut end) = (s.start(), s.end());
        let bytes = self.source.as_bytes();
        while end > start {
            if bytes.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
                end -= 1;
            } else if let Some(c) =
                self.comments.iter().find(|c| c.span.end as usize == end && c.span.start as usize >= start)
            {
                end = c.span.start as usize;
            } else {
                break;
            }
        }
        Span::new(self.file, start, end)
    }

    fn unexpected(&self, pair: &Pair<'_, Rule>) -> Diagnostic {
        Diagnostic::new(Code::SyntaxError, "internal parser error: unexpected syntax node", self.span(pair))
            .with_note("this is a bug in dqc; please report it with the input")
    }

    fn next<'i>(&self, pairs: &mut impl Iterator<Item = Pair<'i, Rule>>, what: &str) -> Result<Pair<'i, Rule>> {
        pairs.next().ok_or_else(|| {
            Diagnostic::new(Code::SyntaxError, format!("internal parser error: missing {what}"), Span::default())
                .with_note("this is a bug in dqc; please report it with the input")
        })
    }

    /// The non-keyword children of a pair.
    fn parts<'i>(&self, pair: Pair<'i, Rule>) -> Vec<Pair<'i, Rule>> {
        inner(pair).filter(|p| !is_keyword(p.as_rule())).collect()
    }

    fn contract(&self, pair: Pair<'_, Rule>) -> Result<Contract> {
        let span = self.span(&pair);
        let close = Span::new(self.file, pair.as_span().end().saturating_sub(1), pair.as_span().end());
        let mut parts = self.parts(pair).into_iter();
        let name = self.table_name(self.next(&mut parts, "table name")?)?;
        let items = parts.map(|p| self.item(p)).collect::<Result<Vec<_>>>()?;
        Ok(Contract { name, items, span, close })
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Result<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let close = Span::new(self.file, pair.as_span().end().saturating_sub(1), pair.as_span().end());
        let mut parts = self.parts(pair).into_iter();
        let kind = match rule {
            Rule::owner => ItemKind::Owner(self.string(self.next(&mut parts, "owner")?)),
            Rule::description => ItemKind::Description(self.string(self.next(&mut parts, "description")?)),
            Rule::layer => ItemKind::Layer(self.name(&self.next(&mut parts, "layer")?)),
            Rule::location => ItemKind::Location(self.string(self.next(&mut parts, "location")?)),
            Rule::partitioned_by => ItemKind::PartitionedBy(self.ident_list(self.next(&mut parts, "columns")?)?),
            Rule::grain => ItemKind::Grain(self.ident_list(self.next(&mut parts, "columns")?)?),
            Rule::sla => {
                let frequency = self.name(&self.next(&mut parts, "frequency")?);
                let by = parts.next().map(|p| Str { value: p.as_str().to_string(), span: self.span(&p) });
                ItemKind::Sla(Sla { frequency, by })
            }
            Rule::columns => {
                let entries = parts.map(|p| self.column(p)).collect::<Result<Vec<_>>>()?;
                ItemKind::Columns(Block { entries, close })
            }
            Rule::rules => {
                let entries = parts.map(|p| self.rule(p)).collect::<Result<Vec<_>>>()?;
                ItemKind::Rules(Block { entries, close })
            }
            _ => return Err(Diagnostic::new(Code::SyntaxError, "internal parser error: unknown item", span)),
        };
        Ok(Item { kind, span })
    }

    fn column(&self, pair: Pair<'_, Rule>) -> Result<Column> {
        let span = self.span(&pair);
        let mut parts = self.parts(pair).into_iter();
        let name = self.ident(self.next(&mut parts, "column name")?)?;
        let ty = self.col_type(self.next(&mut parts, "column type")?)?;
        let mut attrs = Vec::new();
        for p in parts {
            let s = self.span(&p);
            attrs.push(match p.as_rule() {
                Rule::not_null_attr => ColumnAttr::NotNull(s),
                Rule::null_attr => ColumnAttr::Null(s),
                Rule::pii_attr => ColumnAttr::Pii(s),
                Rule::comment_attr => {
                    let mut c = self.parts(p).into_iter();
                    ColumnAttr::Comment(self.string(self.next(&mut c, "comment")?))
                }
                _ => return Err(self.unexpected(&p)),
            });
        }
        Ok(Column { name, ty, attrs, span })
    }

    fn col_type(&self, pair: Pair<'_, Rule>) -> Result<TypeExpr> {
        let span = self.span(&pair);
        let mut parts = self.parts(pair).into_iter();
        let form = self.next(&mut parts, "type")?;
        let kind = match form.as_rule() {
            Rule::named_type => TypeExprKind::Named(form.as_str().trim().to_ascii_lowercase()),
            Rule::param_type => {
                let mut ps = self.parts(form).into_iter();
                let name = self.next(&mut ps, "type name")?.as_str().to_ascii_lowercase();
                let params = ps.map(|p| (p.as_str().to_string(), self.span(&p))).collect();
                TypeExprKind::Param(name, params)
            }
            Rule::array_type => {
                let mut ps = self.parts(form).into_iter();
                TypeExprKind::Array(Box::new(self.col_type(self.next(&mut ps, "element type")?)?))
            }
            Rule::struct_type => {
                let mut fields = Vec::new();
                for field in self.parts(form) {
                    let mut fs = self.parts(field).into_iter();
                    let name = self.ident(self.next(&mut fs, "field name")?)?;
                    let ty = self.col_type(self.next(&mut fs, "field type")?)?;
                    fields.push((name, ty));
                }
                TypeExprKind::Struct(fields)
            }
            _ => return Err(self.unexpected(&form)),
        };
        Ok(TypeExpr { kind, span })
    }

    fn rule(&self, pair: Pair<'_, Rule>) -> Result<crate::ast::Rule> {
        let span = self.span(&pair);
        let mut parts = self.parts(pair).into_iter().peekable();
        let id = match parts.peek() {
            Some(p) if p.as_rule() == Rule::rule_id => {
                let p = self.next(&mut parts, "rule id")?;
                let mut ps = self.parts(p).into_iter();
                Some(self.name(&self.next(&mut ps, "rule id")?))
            }
            _ => None,
        };
        let body = self.rule_body(self.next(&mut parts, "rule")?)?;
        let modifiers = parts.map(|p| self.modifier(p)).collect::<Result<Vec<_>>>()?;
        Ok(crate::ast::Rule { id, body, modifiers, span })
    }

    fn rule_body(&self, pair: Pair<'_, Rule>) -> Result<RuleBody> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut p = self.parts(pair).into_iter();
        Ok(match rule {
            Rule::not_null_rule => RuleBody::NotNull(self.ident(self.next(&mut p, "column")?)?),
            Rule::unique_rule => {
                let columns = self.columns_ref(self.next(&mut p, "columns")?)?;
                let keep = p.next().map(|k| self.keep(k)).transpose()?;
                RuleBody::Unique { columns, keep }
            }
            Rule::freshness_rule => {
                let column = self.ident(self.next(&mut p, "column")?)?;
                let within = self.duration(self.next(&mut p, "duration")?)?;
                RuleBody::Freshness { column, within }
            }
            Rule::anomaly_rule => {
                let band_pair = self.next(&mut p, "band")?;
                let mut bp = self.parts(band_pair).into_iter();
                let first = self.next(&mut bp, "band")?;
                let band = if first.as_rule() == Rule::percent {
                    AnomalyBand::Percent(self.percent(first)?)
                } else {
                    AnomalyBand::StdDev(self.number(&first))
                };
                let window = self.duration(self.next(&mut p, "window")?)?;
                RuleBody::Anomaly { band, window }
            }
            Rule::check_rule => RuleBody::Check(self.expr(self.next(&mut p, "expression")?)?),
            Rule::fk_rule => {
                let columns = self.columns_ref(self.next(&mut p, "columns")?)?;
                let table = self.table_name(self.next(&mut p, "table")?)?;
                let ref_columns = self.ident_list(self.next(&mut p, "columns")?)?;
                RuleBody::ForeignKey { columns, table, ref_columns }
            }
            Rule::regex_rule => {
                let subject = self.subject(self.next(&mut p, "subject")?)?;
                let pattern = self.string(self.next(&mut p, "pattern")?);
                RuleBody::Regex { subject, pattern }
            }
            Rule::allowed_rule => {
                let subject = self.subject(self.next(&mut p, "subject")?)?;
                let values = p.map(|v| self.literal(v)).collect::<Result<Vec<_>>>()?;
                if values.is_empty() {
                    return Err(empty_list(span));
                }
                RuleBody::Allowed { subject, values }
            }
            Rule::between_rule => {
                let subject = self.subject(self.next(&mut p, "subject")?)?;
                let low = self.literal(self.next(&mut p, "low")?)?;
                let high = self.literal(self.next(&mut p, "high")?)?;
                RuleBody::Between { subject, low, high }
            }
            Rule::chain_rule => {
                let low = self.literal(self.next(&mut p, "low")?)?;
                let low_op = cmp_op(self.next(&mut p, "operator")?.as_str());
                let subject = self.subject(self.next(&mut p, "subject")?)?;
                let high_op = cmp_op(self.next(&mut p, "operator")?.as_str());
                let high = self.literal(self.next(&mut p, "high")?)?;
                RuleBody::Chain { low, low_op, subject, high_op, high }
            }
            Rule::compare_rule => {
                let subject = self.subject(self.next(&mut p, "subject")?)?;
                let op = cmp_op(self.next(&mut p, "operator")?.as_str());
                let rhs_pair = self.next(&mut p, "operand")?;
                let rhs = match rhs_pair.as_rule() {
                    Rule::literal => Operand::Literal(self.literal(rhs_pair)?),
                    _ => Operand::Column(self.ident(rhs_pair)?),
                };
                RuleBody::Compare { subject, op, rhs }
            }
            _ => {
                return Err(Diagnostic::new(Code::SyntaxError, "internal parser error: unknown rule", Span::default()))
            }
        })
    }

    fn keep(&self, pair: Pair<'_, Rule>) -> Result<Keep> {
        let span = self.span(&pair);
        let mut p = self.parts(pair).into_iter();
        let by = self.ident(self.next(&mut p, "order column")?)?;
        let dir = p.next();
        let descending = dir.as_ref().is_some_and(|d| d.as_str().eq_ignore_ascii_case("desc"));
        Ok(Keep { by, descending, explicit_direction: dir.is_some(), span })
    }

    fn duration(&self, pair: Pair<'_, Rule>) -> Result<Duration> {
        let span = self.span(&pair);
        let mut p = self.parts(pair).into_iter();
        let amount = self.next(&mut p, "amount")?;
        let unit = self.name(&self.next(&mut p, "unit")?);
        Ok(Duration { amount: (amount.as_str().to_string(), self.span(&amount)), unit, span })
    }

    fn percent(&self, pair: Pair<'_, Rule>) -> Result<Literal> {
        let span = self.span(&pair);
        let mut p = self.parts(pair).into_iter();
        let number = self.next(&mut p, "number")?;
        Ok(Literal { kind: LiteralKind::Number(number.as_str().to_string()), span })
    }

    fn subject(&self, pair: Pair<'_, Rule>) -> Result<Subject> {
        let mut p = self.parts(pair).into_iter();
        let s = self.next(&mut p, "subject")?;
        let span = self.span(&s);
        Ok(match s.as_rule() {
            Rule::row_count_subject => Subject::RowCount(span),
            Rule::length_subject => {
                let mut lp = self.parts(s).into_iter();
                Subject::Length(self.ident(self.next(&mut lp, "column")?)?, span)
            }
            Rule::aggregate_subject => {
                let mut ap = self.parts(s).into_iter();
                let function = self.next(&mut ap, "aggregate")?.as_str().to_ascii_lowercase();
                let column = self.ident(self.next(&mut ap, "column")?)?;
                Subject::Aggregate { function, column, span }
            }
            _ => Subject::Column(self.ident(s)?),
        })
    }

    fn columns_ref(&self, pair: Pair<'_, Rule>) -> Result<ColumnsRef> {
        let mut p = self.parts(pair).into_iter();
        let first = self.next(&mut p, "columns")?;
        if first.as_rule() == Rule::ident_list {
            Ok(ColumnsRef { columns: self.ident_list(first)?, parenthesized: true })
        } else {
            Ok(ColumnsRef { columns: vec![self.ident(first)?], parenthesized: false })
        }
    }

    fn modifier(&self, pair: Pair<'_, Rule>) -> Result<Modifier> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut p = self.parts(pair).into_iter();
        let value = self.next(&mut p, "modifier value")?;
        Ok(match rule {
            Rule::where_clause => Modifier::Where(self.expr(value)?, span),
            Rule::severity_clause => Modifier::Severity(self.name(&value), span),
            Rule::stage_clause => Modifier::Stage(self.name(&value), span),
            Rule::ratio_clause => {
                let non_null = p.any(|rest| rest.as_rule() == Rule::of_non_null);
                Modifier::AtLeast(self.percent(value)?, non_null, span)
            }
            Rule::because_clause => Modifier::Because(self.string(value), span),
            _ => return Err(self.unexpected(&value)),
        })
    }

    fn table_name(&self, pair: Pair<'_, Rule>) -> Result<TableName> {
        let span = self.span(&pair);
        let mut ids = self.parts(pair).into_iter().map(|p| self.ident(p)).collect::<Result<Vec<_>>>()?;
        let table = ids.pop().ok_or_else(|| Diagnostic::new(Code::SyntaxError, "expected a table name", span))?;
        Ok(TableName { database: ids.pop(), table, span })
    }

    fn ident_list(&self, pair: Pair<'_, Rule>) -> Result<Vec<Ident>> {
        self.parts(pair).into_iter().map(|p| self.ident(p)).collect()
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Result<Ident> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let name = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\"\"", "\""),
            None => text.to_string(),
        };
        Ok(Ident { name, span })
    }

    fn name(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(pair) }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> Str {
        Str { value: unquote(pair.as_str()), span: self.span(&pair) }
    }

    fn number(&self, pair: &Pair<'_, Rule>) -> Literal {
        Literal { kind: LiteralKind::Number(pair.as_str().to_string()), span: self.span(pair) }
    }

    fn literal(&self, pair: Pair<'_, Rule>) -> Result<Literal> {
        let span = self.span(&pair);
        let mut p = inner(pair);
        let lit = self.next(&mut p, "literal")?;
        let kind = match lit.as_rule() {
            Rule::number => LiteralKind::Number(lit.as_str().to_string()),
            Rule::string => LiteralKind::String(unquote(lit.as_str())),
            Rule::bool_lit => LiteralKind::Bool(lit.as_str().eq_ignore_ascii_case("true")),
            Rule::null_lit => LiteralKind::Null,
            Rule::date_lit | Rule::timestamp_lit => {
                let is_date = lit.as_rule() == Rule::date_lit;
                let mut s = self.parts(lit).into_iter();
                let text = unquote(self.next(&mut s, "literal text")?.as_str());
                if is_date {
                    LiteralKind::Date(text)
                } else {
                    LiteralKind::Timestamp(text)
                }
            }
            _ => return Err(self.unexpected(&lit)),
        };
        Ok(Literal { kind, span })
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        self.expr_pairs(inner(pair).collect::<Vec<_>>().into_iter())
    }

    fn expr_pairs<'i>(&self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> Result<Expr> {
        let pairs: Vec<Pair<'i, Rule>> = pairs.collect();
        let outer = self.depth.get();
        let levels = tree_depth(&pairs);
        if outer + levels > MAX_EXPR_DEPTH {
            // The start of the expression: underlining all of it would print it whole.
            let span = pairs.first().map(|first| self.span(first)).unwrap_or_default();
            return Err(Diagnostic::new(
                Code::ExpressionTooDeep,
                format!("expression is too deep: more than {MAX_EXPR_DEPTH} levels of operators and nesting"),
                span,
            )
            .with_primary_label(format!("an expression {} levels deep starts here", outer + levels))
            .with_help("split the check into several rules, or use `in (...)` instead of a chain of `or` equalities"));
        }
        self.depth.set(outer + levels);
        let expr = self.expr_pratt(pairs);
        self.depth.set(outer);
        expr
    }

    fn expr_pratt(&self, pairs: Vec<Pair<'_, Rule>>) -> Result<Expr> {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = self.span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::op_not { UnOp::Not } else { UnOp::Neg };
                Ok(Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span })
            })
            .map_postfix(|lhs, op| self.postfix(lhs?, op))
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let span = lhs.span.to(rhs.span);
                Ok(Expr { kind: ExprKind::Binary(bin_op(op.as_rule()), Box::new(lhs), Box::new(rhs)), span })
            })
            .parse(pairs.into_iter())
    }

    fn postfix(&self, lhs: Expr, op: Pair<'_, Rule>) -> Result<Expr> {
        let span = lhs.span.to(self.span(&op));
        let negated = inner(op.clone()).any(|p| p.as_rule() == Rule::kw_not);
        let rule = op.as_rule();
        let mut parts = self.parts(op).into_iter();
        let expr = Box::new(lhs);
        let kind = match rule {
            Rule::is_null => ExprKind::IsNull { expr, negated },
            Rule::in_list => {
                let list: Vec<Expr> = parts.map(|p| self.expr(p)).collect::<Result<_>>()?;
                if list.is_empty() {
                    return Err(empty_list(span));
                }
                ExprKind::InList { expr, list, negated }
            }
            Rule::like => ExprKind::Like { expr, pattern: self.string(self.next(&mut parts, "pattern")?), negated },
            Rule::between => {
                let low = self.expr_pairs(inner(self.next(&mut parts, "low")?))?;
                let high = self.expr_pairs(inner(self.next(&mut parts, "high")?))?;
                ExprKind::Between { expr, low: Box::new(low), high: Box::new(high), negated }
            }
            _ => return Err(Diagnostic::new(Code::SyntaxError, "internal parser error: postfix", span)),
        };
        Ok(Expr { kind, span })
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let kind = match rule {
            Rule::literal => ExprKind::Literal(self.literal(pair)?),
            Rule::column_ref => {
                let mut p = self.parts(pair).into_iter();
                ExprKind::Column(self.ident(self.next(&mut p, "column")?)?)
            }
            Rule::paren => {
                let mut p = self.parts(pair).into_iter();
                ExprKind::Paren(Box::new(self.expr(self.next(&mut p, "expression")?)?))
            }
            Rule::call => {
                let mut p = self.parts(pair).into_iter();
                let name = self.name(&self.next(&mut p, "function")?);
                ExprKind::Call(name, p.map(|a| self.expr(a)).collect::<Result<_>>()?)
            }
            Rule::cast_expr => {
                let mut p = self.parts(pair).into_iter();
                let e = self.expr(self.next(&mut p, "expression")?)?;
                ExprKind::Cast(Box::new(e), self.col_type(self.next(&mut p, "type")?)?)
            }
            Rule::case_expr => self.case(pair)?,
            _ => return Err(self.unexpected(&pair)),
        };
        Ok(Expr { kind, span })
    }

    fn case(&self, pair: Pair<'_, Rule>) -> Result<ExprKind> {
        let mut operand = None;
        let mut whens = Vec::new();
        let mut otherwise = None;
        for part in self.parts(pair) {
            match part.as_rule() {
                Rule::case_operand => {
                    let mut p = self.parts(part).into_iter();
                    operand = Some(Box::new(self.expr(self.next(&mut p, "operand")?)?));
                }
                Rule::when_clause => {
                    let mut p = self.parts(part).into_iter();
                    let cond = self.expr(self.next(&mut p, "condition")?)?;
                    let then = self.expr(self.next(&mut p, "result")?)?;
                    whens.push((cond, then));
                }
                Rule::else_clause => {
                    let mut p = self.parts(part).into_iter();
                    otherwise = Some(Box::new(self.expr(self.next(&mut p, "result")?)?));
                }
                _ => return Err(self.unexpected(&part)),
            }
        }
        Ok(ExprKind::Case { operand, whens, otherwise })
    }
}

fn unquote(text: &str) -> String {
    let inner = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).unwrap_or(text);
    inner.replace("''", "'")
}

fn cmp_op(text: &str) -> CmpOp {
    match text {
        "=" => CmpOp::Eq,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => CmpOp::Ne,
    }
}

fn bin_op(rule: Rule) -> BinOp {
    match rule {
        Rule::op_or => BinOp::Or,
        Rule::op_and => BinOp::And,
        Rule::op_concat => BinOp::Concat,
        Rule::op_eq => BinOp::Cmp(CmpOp::Eq),
        Rule::op_ne => BinOp::Cmp(CmpOp::Ne),
        Rule::op_lt => BinOp::Cmp(CmpOp::Lt),
        Rule::op_le => BinOp::Cmp(CmpOp::Le),
        Rule::op_gt => BinOp::Cmp(CmpOp::Gt),
        Rule::op_ge => BinOp::Cmp(CmpOp::Ge),
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        _ => BinOp::Mod,
    }
}

/// Parses a standalone expression (used by the JSON importer for `check` rules).
pub fn parse_expr(source: &str, file: FileId) -> Result<Expr> {
    let mut pairs =
        ContractParser::parse(Rule::standalone_expr, source).map_err(|e| convert_pest_error(&e, source, file))?;
    let walker = Walker { file, source, comments: &[], depth: std::cell::Cell::new(0) };
    let top = walker.next(&mut pairs, "expression")?;
    let mut p = walker.parts(top).into_iter();
    walker.expr(walker.next(&mut p, "expression")?)
}
