//! The drafting loop: ask, read the answer tolerantly (`dqc import`), check the contract, and
//! when it does not compile send the diagnostics back and ask again, at most N times; then fall
//! back to the offline draft and say so. The LLM never decides structure alone: what it
//! returns is a draft only once the compiler accepts it.

use dqc_compiler::diagnostics::{Code, Diagnostic, FileId};
use dqc_compiler::Source;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::provider::{Message, Provider, ProviderError, Role};

/// The versioned prompt: its name and text (`prompts/draft-v1.md`).
pub const PROMPT_NAME: &str = "draft-v1";
/// The prompt's text.
pub const PROMPT: &str = include_str!("../prompts/draft-v1.md");

/// `sha256:<hex>` of the prompt, recorded in every draft's provenance.
pub fn prompt_hash() -> String {
    let digest = Sha256::digest(PROMPT.as_bytes());
    format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// What one attempt gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1-based.
    pub number: u32,
    /// HTTP requests it took (retries included).
    pub requests: u32,
    /// `compiled`, or why the answer was sent back.
    pub outcome: String,
}

/// A draft from an LLM, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LlmDraft {
    /// The formatted contract, headed by its provenance.
    pub text: String,
    /// `openai` or `gemini`.
    pub provider: String,
    /// The model.
    pub model: String,
    /// The prompt's name and hash.
    pub prompt: String,
    /// Every attempt.
    pub attempts: Vec<Attempt>,
    /// Prompt tokens over all attempts.
    pub prompt_tokens: u64,
    /// Answer tokens over all attempts.
    pub completion_tokens: u64,
    /// True when no answer compiled and the draft is the offline one.
    pub fell_back: bool,
}

/// Loop settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopOptions {
    /// Most answers asked for.
    pub max_attempts: u32,
}

impl Default for LoopOptions {
    fn default() -> Self {
        LoopOptions { max_attempts: 3 }
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Diagnostics as text for the model: code, message, where, the line itself, and help.
fn render(diagnostics: &[&Diagnostic], texts: &[&str]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let text = texts.get(d.primary.span.file.0 as usize).copied().unwrap_or("");
        let (line, col) = line_col(text, d.primary.span.start as usize);
        let shown = text.lines().nth(line.saturating_sub(1)).unwrap_or("").trim();
        out.push_str(&format!("error[{}]: {} (line {line}, column {col}: `{shown}`)\n", d.code.as_str(), d.message));
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

/// The table's name and columns (name, type) as the context describes them.
fn expected(context: &Value) -> (String, Vec<(String, String)>) {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let table = format!("{}.{}", text(context, "database"), text(context, "table_name"));
    let columns = context
        .get("schema")
        .and_then(Value::as_array)
        .map(|cols| cols.iter().map(|c| (text(c, "name"), text(c, "type"))).collect())
        .unwrap_or_default();
    (table, columns)
}

/// How a checked contract differs from the table it is for: its name, its columns and their
/// types. A contract that compiles but describes another table is not a draft of this one.
fn mismatches(project: &dqc_compiler::ir::Project, context: &Value) -> Vec<String> {
    let (table, columns) = expected(context);
    let Some(contract) = project.contracts.last() else { return vec!["the answer has no contract".to_string()] };
    let mut out = Vec::new();
    if !contract.table.qualified().eq_ignore_ascii_case(&table) {
        out.push(format!(
            "the contract is for `{}`, but the table is `{table}`: use that name",
            contract.table.qualified()
        ));
    }
    for c in &contract.columns {
        match columns.iter().find(|(n, _)| n.eq_ignore_ascii_case(&c.name)) {
            None => out.push(format!("column `{}` is not in the table's schema", c.name)),
            Some((_, ty)) if !ty.is_empty() && dqc_compiler::ir::Type::to_string(&c.ty) != *ty => {
                out.push(format!("column `{}` is `{}` in the schema, not `{}`", c.name, ty, c.ty))
            }
            Some(_) => {}
        }
    }
    for (n, _) in &columns {
        if !contract.columns.iter().any(|c| c.name.eq_ignore_ascii_case(n)) {
            out.push(format!("column `{n}` of the table's schema is missing"));
        }
    }
    out
}

/// Reads and checks an answer; the contract text, or the diagnostics to send back.
fn verify(answer: &str, known: &[Source], context: &Value) -> Result<String, String> {
    let (contract, diagnostics) = dqc_compiler::import_seed(answer, FileId(0));
    let import_errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    let Some(contract) = contract.filter(|_| import_errors.is_empty()) else {
        return Err(format!(
            "Your answer could not be read as the JSON object asked for:\n{}",
            render(&import_errors, &[answer])
        ));
    };
    let mut sources = known.to_vec();
    sources.push(Source::new("draft.dqc", contract.clone()));
    let checked = dqc_compiler::check(&sources);
    // References to tables without a contract yet are for the approver, not errors of the draft.
    let errors: Vec<&Diagnostic> =
        checked.diagnostics.iter().filter(|d| d.is_error() && d.code != Code::UnknownTable).collect();
    if errors.is_empty() {
        let differences = mismatches(&checked.project, context);
        if differences.is_empty() {
            return Ok(contract);
        }
        return Err(format!(
            "The contract drafted from your answer does not describe this table:\n{}\n",
            differences.iter().map(|d| format!("- {d}")).collect::<Vec<_>>().join("\n")
        ));
    }
    let texts: Vec<&str> = sources.iter().map(|s| s.text.as_str()).collect();
    Err(format!("The contract drafted from your answer does not compile:\n{}", render(&errors, &texts)))
}

/// Drafts with `provider` from `context` (the seed context JSON), checking against the
/// contracts in `known`. `offline` gives the offline draft, used when no answer compiles.
/// A provider that keeps failing (HTTP) is an error: never a half-written draft.
pub async fn draft(
    provider: &dyn Provider,
    context: &Value,
    known: &[Source],
    offline: impl FnOnce() -> Result<String, String>,
    options: LoopOptions,
) -> Result<LlmDraft, ProviderError> {
    let schema = crate::schema::answer_schema();
    let pretty = serde_json::to_string_pretty(context).unwrap_or_default();
    let mut messages = vec![
        Message { role: Role::System, content: PROMPT.to_string() },
        Message { role: Role::User, content: format!("Draft the data contract of this table.\n\nContext:\n{pretty}") },
    ];
    let prompt = format!("{PROMPT_NAME} ({})", prompt_hash());
    let mut out = LlmDraft {
        text: String::new(),
        provider: provider.name().to_string(),
        model: provider.model().to_string(),
        prompt: prompt.clone(),
        attempts: Vec::new(),
        prompt_tokens: 0,
        completion_tokens: 0,
        fell_back: false,
    };
    let mut last = String::new();
    for number in 1..=options.max_attempts.max(1) {
        let answer = provider.complete(&messages, &schema).await?;
        out.prompt_tokens += answer.prompt_tokens;
        out.completion_tokens += answer.completion_tokens;
        match verify(&answer.text, known, context) {
            Ok(contract) => {
                out.attempts.push(Attempt { number, requests: answer.requests, outcome: "compiled".to_string() });
                let header = format!(
                    "-- Drafted by {} model {} with prompt {prompt}: {} attempt(s), {} prompt and {} answer tokens. Review every rule before approving it.\n",
                    out.provider, out.model, number, out.prompt_tokens, out.completion_tokens
                );
                out.text =
                    dqc_compiler::format(&format!("{header}{contract}")).unwrap_or(format!("{header}{contract}"));
                return Ok(out);
            }
            Err(feedback) => {
                let first = feedback.lines().nth(1).unwrap_or(&feedback).to_string();
                out.attempts.push(Attempt { number, requests: answer.requests, outcome: first.clone() });
                last = first;
                messages.push(Message { role: Role::Assistant, content: answer.text });
                messages.push(Message {
                    role: Role::User,
                    content: format!("{feedback}\nFix exactly these and answer with the whole corrected JSON object."),
                });
            }
        }
    }
    out.fell_back = true;
    let offline = offline().map_err(|e| ProviderError { message: format!("the offline fallback failed: {e}") })?;
    let header = format!(
        "-- The {} answers (model {}, prompt {prompt}) did not compile in {} attempt(s) (last: {}); this is the offline draft.\n",
        out.provider,
        out.model,
        out.attempts.len(),
        last.replace('\n', " ")
    );
    out.text = format!("{header}{offline}");
    Ok(out)
}
