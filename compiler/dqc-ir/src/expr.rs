//! Typed row-level expressions (check rules and `where` filters).

use dqc_diagnostics::Span;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{CmpOp, Type, Value};

/// A typed expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Expr {
    /// The expression.
    pub kind: ExprKind,
    /// Its type; absent only for a bare `null`.
    #[serde(rename = "type")]
    pub ty: Option<Type>,
    /// Where it was written.
    pub span: Option<Span>,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    /// Boolean negation.
    Not,
    /// Arithmetic negation.
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    /// Boolean or.
    Or,
    /// Boolean and.
    And,
    /// Comparison.
    Cmp(CmpOp),
    /// String concatenation.
    Concat,
    /// Addition.
    Add,
    /// Subtraction.
    Sub,
    /// Multiplication.
    Mul,
    /// Division.
    Div,
    /// Remainder.
    Mod,
}

/// The allow-listed functions: each means the same on Athena, DuckDB and Spark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// `lower(s)`
    Lower,
    /// `upper(s)`
    Upper,
    /// `trim(s)`
    Trim,
    /// `ltrim(s)`
    Ltrim,
    /// `rtrim(s)`
    Rtrim,
    /// `length(s)` in code points
    Length,
    /// `substr(s, start[, length])`, 1-based
    Substr,
    /// `coalesce(a, b, ...)`
    Coalesce,
    /// `nullif(a, b)`
    Nullif,
    /// `abs(n)`
    Abs,
    /// `round(n[, digits])`
    Round,
    /// `floor(n)`
    Floor,
    /// `ceil(n)`
    Ceil,
    /// `greatest(a, b, ...)`
    Greatest,
    /// `least(a, b, ...)`
    Least,
    /// `date_trunc('unit', t)`
    DateTrunc,
    /// `date_diff('unit', a, b)`: whole units from a to b
    DateDiff,
    /// `year(t)`
    Year,
    /// `month(t)`
    Month,
    /// `day(t)`
    Day,
}

impl Function {
    /// Every function, for lookups and "did you mean".
    pub const ALL: &'static [Function] = &[
        Function::Lower,
        Function::Upper,
        Function::Trim,
        Function::Ltrim,
        Function::Rtrim,
        Function::Length,
        Function::Substr,
        Function::Coalesce,
        Function::Nullif,
        Function::Abs,
        Function::Round,
        Function::Floor,
        Function::Ceil,
        Function::Greatest,
        Function::Least,
        Function::DateTrunc,
        Function::DateDiff,
        Function::Year,
        Function::Month,
        Function::Day,
    ];

    /// The name in the contract language.
    pub fn name(self) -> &'static str {
        match self {
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Trim => "trim",
            Function::Ltrim => "ltrim",
            Function::Rtrim => "rtrim",
            Function::Length => "length",
            Function::Substr => "substr",
            Function::Coalesce => "coalesce",
            Function::Nullif => "nullif",
            Function::Abs => "abs",
            Function::Round => "round",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Greatest => "greatest",
            Function::Least => "least",
            Function::DateTrunc => "date_trunc",
            Function::DateDiff => "date_diff",
            Function::Year => "year",
            Function::Month => "month",
            Function::Day => "day",
        }
    }

    /// Looks a function up by name, ignoring case.
    pub fn lookup(name: &str) -> Option<Function> {
        Function::ALL.iter().copied().find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// A `when` arm of a `case`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct When {
    /// Condition (or value, for a simple case).
    pub condition: Expr,
    /// Result.
    pub result: Expr,
}

/// The forms of an expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum ExprKind {
    /// A column of the row.
    Column {
        /// Column name as declared.
        name: String,
    },
    /// A constant.
    Literal {
        /// The value.
        value: Value,
    },
    /// `op operand`
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// `left op right`
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `operand is [not] null`
    IsNull {
        /// Operand.
        operand: Box<Expr>,
        /// `is not null`.
        negated: bool,
    },
    /// `operand [not] in (list)`
    InList {
        /// Operand.
        operand: Box<Expr>,
        /// Candidates.
        list: Vec<Expr>,
        /// `not in`.
        negated: bool,
    },
    /// `operand [not] like pattern` (`%` and `_` wildcards, no escape character)
    Like {
        /// Operand.
        operand: Box<Expr>,
        /// Pattern.
        pattern: String,
        /// `not like`.
        negated: bool,
    },
    /// `operand [not] between low and high` (inclusive)
    Between {
        /// Operand.
        operand: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
        /// `not between`.
        negated: bool,
    },
    /// `case [operand] when .. then .. [else ..] end`
    Case {
        /// Simple-case operand.
        operand: Option<Box<Expr>>,
        /// Arms.
        whens: Vec<When>,
        /// Else result; NULL when absent.
        otherwise: Option<Box<Expr>>,
    },
    /// `cast(operand as to)`
    Cast {
        /// Operand.
        operand: Box<Expr>,
        /// Target type.
        to: Type,
    },
    /// An allow-listed function call.
    Call {
        /// Function.
        function: Function,
        /// Arguments.
        args: Vec<Expr>,
    },
}

impl Expr {
    /// The direct sub-expressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Column { .. } | ExprKind::Literal { .. } => Vec::new(),
            ExprKind::Unary { operand, .. }
            | ExprKind::IsNull { operand, .. }
            | ExprKind::Like { operand, .. }
            | ExprKind::Cast { operand, .. } => vec![operand],
            ExprKind::Binary { left, right, .. } => vec![left, right],
            ExprKind::InList { operand, list, .. } => std::iter::once(&**operand).chain(list).collect(),
            ExprKind::Between { operand, low, high, .. } => vec![operand, low, high],
            ExprKind::Case { operand, whens, otherwise } => {
                let arms = whens.iter().flat_map(|w| [&w.condition, &w.result]);
                operand.as_deref().into_iter().chain(arms).chain(otherwise.as_deref()).collect()
            }
            ExprKind::Call { args, .. } => args.iter().collect(),
        }
    }

    /// The columns the expression reads, each once, in order of first appearance.
    pub fn columns(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if let ExprKind::Column { name } = &e.kind {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
            stack.extend(e.children().into_iter().rev());
        }
        names
    }
}
