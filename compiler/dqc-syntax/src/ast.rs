//! The spanned syntax tree of a contract file.
//!
//! The AST mirrors what was written (including parentheses and the order of properties), so
//! the formatter can print it back; meaning is assigned later, by `dqc-semantics`.

use dqc_diagnostics::Span;

/// One parsed source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Contracts in source order.
    pub contracts: Vec<Contract>,
    /// Every comment, in source order (kept for the formatter).
    pub comments: Vec<Comment>,
}

/// A `-- ...` comment; `text` excludes the leading `--` and trailing whitespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// The comment text after `--`.
    pub text: String,
    /// Where the comment is.
    pub span: Span,
}

/// A name: a column, table, database or struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name, with quotes removed and `""` unescaped.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A string literal, unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Str {
    /// The value.
    pub value: String,
    /// Where it was written, including quotes.
    pub span: Span,
}

/// `database.table` or `table`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableName {
    /// The database (Glue catalog database), when written.
    pub database: Option<Ident>,
    /// The table.
    pub table: Ident,
    /// The whole name.
    pub span: Span,
}

/// `contract db.table { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    /// The table the contract describes.
    pub name: TableName,
    /// Properties and blocks in source order.
    pub items: Vec<Item>,
    /// The whole contract.
    pub span: Span,
    /// The closing brace.
    pub close: Span,
}

/// One property or block of a contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// Where it is.
    pub span: Span,
}

/// The properties and blocks a contract can hold.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `owner '...'`
    Owner(Str),
    /// `description '...'`
    Description(Str),
    /// `layer curated`
    Layer(Ident),
    /// `location 's3://...'`
    Location(Str),
    /// `partitioned by (a, b)`
    PartitionedBy(Vec<Ident>),
    /// `grain (a, b)`
    Grain(Vec<Ident>),
    /// `sla daily by 06:00 utc`
    Sla(Sla),
    /// `columns { ... }`
    Columns(Block<Column>),
    /// `rules { ... }`
    Rules(Block<Rule>),
}

/// A braced block of entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Block<T> {
    /// The entries in source order.
    pub entries: Vec<T>,
    /// The closing brace.
    pub close: Span,
}

/// `sla <frequency> [by HH:MM utc]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sla {
    /// hourly, daily, weekly or monthly (checked later).
    pub frequency: Ident,
    /// The time of day, as written (`06:00`).
    pub by: Option<Str>,
}

/// One column declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: Ident,
    /// Declared type.
    pub ty: TypeExpr,
    /// Attributes in source order.
    pub attrs: Vec<ColumnAttr>,
    /// The whole declaration, without the separating comma.
    pub span: Span,
}

/// An attribute after a column type.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnAttr {
    /// `not null`
    NotNull(Span),
    /// `null` (explicitly nullable, the default)
    Null(Span),
    /// `pii`
    Pii(Span),
    /// `comment '...'`
    Comment(Str),
}

/// A column type as written.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    /// The type.
    pub kind: TypeExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms of a type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExprKind {
    /// A name without parameters, lowercased: `string`, `bigint`, ... (checked later).
    Named(String),
    /// A name with parameters: `varchar(10)`, `decimal(12, 2)`; parameters as written.
    Param(String, Vec<(String, Span)>),
    /// `array<t>`
    Array(Box<TypeExpr>),
    /// `struct<name: t, ...>`
    Struct(Vec<(Ident, TypeExpr)>),
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The explicit id, `id: ...`.
    pub id: Option<Ident>,
    /// What the rule requires.
    pub body: RuleBody,
    /// Modifiers in source order.
    pub modifiers: Vec<Modifier>,
    /// The whole rule.
    pub span: Span,
}

/// What a rule requires.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleBody {
    /// `not null c`
    NotNull(Ident),
    /// `unique c` or `unique (a, b) [keep first by c [asc|desc]]`
    Unique { columns: ColumnsRef, keep: Option<Keep> },
    /// `freshness c within N unit`
    Freshness { column: Ident, within: Duration },
    /// `row_count within N% of average over N days` or `within K stddev ...`
    Anomaly { band: AnomalyBand, window: Duration },
    /// `check <expr>`
    Check(Expr),
    /// `c references db.t (c2)` or `(a, b) references t (x, y)`
    ForeignKey { columns: ColumnsRef, table: TableName, ref_columns: Vec<Ident> },
    /// `subject matches 'regex'`
    Regex { subject: Subject, pattern: Str },
    /// `subject in (v, ...)`
    Allowed { subject: Subject, values: Vec<Literal> },
    /// `subject between lo and hi`
    Between { subject: Subject, low: Literal, high: Literal },
    /// `lo < subject <= hi`
    Chain { low: Literal, low_op: CmpOp, subject: Subject, high_op: CmpOp, high: Literal },
    /// `subject op literal` or `subject op column`
    Compare { subject: Subject, op: CmpOp, rhs: Operand },
}

/// A single column or a parenthesized list, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnsRef {
    /// The columns.
    pub columns: Vec<Ident>,
    /// Whether they were written in parentheses.
    pub parenthesized: bool,
}

/// `keep first by c [asc|desc]`: the duplicate policy of a uniqueness rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Keep {
    /// The ordering column.
    pub by: Ident,
    /// True for `desc`.
    pub descending: bool,
    /// Whether a direction was written.
    pub explicit_direction: bool,
    /// The whole clause.
    pub span: Span,
}

/// An amount of time as written: `26 hours`.
#[derive(Debug, Clone, PartialEq)]
pub struct Duration {
    /// The amount, as written.
    pub amount: (String, Span),
    /// The unit, as written (checked later).
    pub unit: Ident,
    /// The whole duration.
    pub span: Span,
}

/// The tolerated band of a row count anomaly rule.
#[derive(Debug, Clone, PartialEq)]
pub enum AnomalyBand {
    /// `N%` of the rolling average.
    Percent(Literal),
    /// `K stddev` of the rolling average.
    StdDev(Literal),
}

/// What a value rule constrains.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A column's value.
    Column(Ident),
    /// `length(c)`: the number of characters of a string column.
    Length(Ident, Span),
    /// `row_count`: the number of rows of the table.
    RowCount(Span),
    /// `mean(c)` and the other column aggregates: `function` is lower-case.
    Aggregate { function: String, column: Ident, span: Span },
}

impl Subject {
    /// Where the subject was written.
    pub fn span(&self) -> Span {
        match self {
            Subject::Column(id) => id.span,
            Subject::Length(_, span) | Subject::RowCount(span) | Subject::Aggregate { span, .. } => *span,
        }
    }
}

/// Right-hand side of a comparison rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A literal.
    Literal(Literal),
    /// Another column.
    Column(Ident),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A rule modifier.
#[derive(Debug, Clone, PartialEq)]
pub enum Modifier {
    /// `where <expr>`
    Where(Expr, Span),
    /// `severity error|warn` (the word is checked later)
    Severity(Ident, Span),
    /// `stage pre_load|post_load` (the word is checked later)
    Stage(Ident, Span),
    /// `at least N%`
    /// `at least N%`, and whether `of non-null` follows (the pass ratio counts only the rows
    /// whose value is not NULL).
    AtLeast(Literal, bool, Span),
    /// `because '...'`
    Because(Str, Span),
}

impl Modifier {
    /// Where the modifier was written.
    pub fn span(&self) -> Span {
        match self {
            Modifier::Where(_, s)
            | Modifier::Severity(_, s)
            | Modifier::Stage(_, s)
            | Modifier::AtLeast(_, _, s)
            | Modifier::Because(_, s) => *s,
        }
    }
}

/// A literal value as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The value.
    pub kind: LiteralKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of literal.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralKind {
    /// A number, exactly as written (`-12.50`, `1e3`).
    Number(String),
    /// A string, unescaped.
    String(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `date '...'`, the text inside the quotes.
    Date(String),
    /// `timestamp '...'`, the text inside the quotes.
    Timestamp(String),
}

/// An expression in a `check` rule or a `where` filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The expression.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Binary operators, in the expression language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// A comparison.
    Cmp(CmpOp),
    /// `||`
    Concat,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// The forms of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A column reference.
    Column(Ident),
    /// A literal.
    Literal(Literal),
    /// `(e)`, kept so the formatter prints what was written.
    Paren(Box<Expr>),
    /// `not e`, `-e`
    Unary(UnOp, Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `e is [not] null`
    IsNull { expr: Box<Expr>, negated: bool },
    /// `e [not] in (a, b)`
    InList { expr: Box<Expr>, list: Vec<Expr>, negated: bool },
    /// `e [not] like 'pattern'`
    Like { expr: Box<Expr>, pattern: Str, negated: bool },
    /// `e [not] between a and b`
    Between { expr: Box<Expr>, low: Box<Expr>, high: Box<Expr>, negated: bool },
    /// `case [operand] when .. then .. [else ..] end`
    Case { operand: Option<Box<Expr>>, whens: Vec<(Expr, Expr)>, otherwise: Option<Box<Expr>> },
    /// `cast(e as type)`
    Cast(Box<Expr>, TypeExpr),
    /// `name(args)`
    Call(Ident, Vec<Expr>),
}
