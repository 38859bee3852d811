//! Shared helpers for the workspace's golden and property tests.
//!
//! Golden cases live in `golden/ok/<case>/` and `golden/err/<case>/`; expected outputs are
//! plain files in each case's `expected/` folder. Set `UPDATE_EXPECT=1` to re-bless them.

use std::path::{Path, PathBuf};

use dqc_compiler::Source;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// True when expected files should be rewritten instead of compared.
pub fn blessing() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Reads the inputs of a case: `*.dqc` and `*.catalog.json` files, sorted, named by their
/// path relative to the repository root so rendered diagnostics are stable.
pub fn case_sources(dir: &Path) -> Vec<Source> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.is_file() && (name.ends_with(".dqc") || name.ends_with(".catalog.json"))
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            Source::new(relative(&p), text)
        })
        .collect()
}

/// A path relative to the repository root, with forward slashes.
pub fn relative(p: &Path) -> String {
    let root = root().canonicalize().unwrap_or_else(|_| root());
    let full = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    full.strip_prefix(&root).unwrap_or(&full).to_string_lossy().replace('\\', "/")
}

/// Compares `actual` with the file at `path`, or writes it when blessing. Returns a readable
/// diff on mismatch.
pub fn expect_file(path: &Path, actual: &str) -> Result<(), String> {
    if blessing() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current != actual || !path.exists() {
            std::fs::write(path, actual).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|_| format!("missing expected file {}; run with UPDATE_EXPECT=1 to create it", relative(path)))?;
    if expected == actual {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual);
    let mut out = format!("{} differs (- expected, + actual); UPDATE_EXPECT=1 re-blesses\n", relative(path));
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        out.push_str(&format!("{sign}{change}"));
    }
    Err(out)
}

/// Diagnostics rendered as in the goldens: plain text, no colour.
pub fn render(diagnostics: &[dqc_compiler::diagnostics::Diagnostic], sources: &[Source]) -> String {
    if diagnostics.is_empty() {
        return "no diagnostics\n".to_string();
    }
    let mut text = dqc_cli::render::human(diagnostics, sources, false);
    text.push_str(&dqc_cli::render::summary(diagnostics));
    text.push('\n');
    text
}

/// Every case folder under `golden/<kind>/`, sorted.
pub fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = root().join("golden").join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    out.sort();
    out
}
