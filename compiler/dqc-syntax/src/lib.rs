//! Syntax of the dqc contract language.
//!
//! ```text
//! source text --parse--> ast::SourceFile (spanned, comments kept) --format--> canonical text
//! ```
//!
//! This is the only crate that knows pest. Parsing stops at the first syntax error and reports
//! it as a [`dqc_diagnostics::Diagnostic`] with code `E0001`; pest rule names never reach users.

pub mod ast;
mod errors;
mod format;
mod parser;

pub use format::{expr_text, format_file, quote_ident, quote_string};
pub use parser::{parse, parse_expr, MAX_EXPR_DEPTH};
