//! Column lookup within one contract, with "did you mean" suggestions.

use dqc_diagnostics::{did_you_mean, Code, Diagnostic};
use dqc_ir::{Column, Type};
use dqc_syntax::ast::Ident;

/// The columns a rule can see.
#[derive(Debug)]
pub struct Scope<'a> {
    /// Columns in declaration order.
    pub columns: &'a [Column],
    /// The contract's table name, for messages.
    pub table: &'a str,
}

impl<'a> Scope<'a> {
    /// Finds a column by name, ignoring case.
    pub fn find(&self, name: &str) -> Option<&'a Column> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Resolves a column or reports E0101.
    pub fn resolve(&self, ident: &Ident, diags: &mut Vec<Diagnostic>) -> Option<&'a Column> {
        let found = self.find(&ident.name);
        if found.is_none() {
            diags.push(unknown_column(ident, self.table, self.columns));
        }
        found
    }

    /// The declared type of a resolved column.
    pub fn type_of(&self, ident: &Ident, diags: &mut Vec<Diagnostic>) -> Option<(&'a str, &'a Type)> {
        self.resolve(ident, diags).map(|c| (c.name.as_str(), &c.ty))
    }
}

/// E0101 with a suggestion.
pub fn unknown_column(ident: &Ident, table: &str, columns: &[Column]) -> Diagnostic {
    let mut d =
        Diagnostic::new(Code::UnknownColumn, format!("unknown column `{}` in `{table}`", ident.name), ident.span)
            .with_primary_label("not a declared column");
    if let Some(s) = did_you_mean(&ident.name, columns.iter().map(|c| c.name.as_str())) {
        d = d.with_help(format!("did you mean `{s}`?"));
    } else if columns.is_empty() {
        d = d.with_help("declare the table's columns in a `columns { ... }` block");
    }
    d
}
