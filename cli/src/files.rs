//! Finding, reading and atomically writing project files.

use std::path::{Path, PathBuf};

use dqc_compiler::Source;

use crate::Fatal;

/// Contract files end in `.dqc`; catalog snapshots in `.catalog.json`.
fn wanted(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".dqc") || name.ends_with(".catalog.json")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Fatal> {
    let entries = std::fs::read_dir(dir).map_err(|e| Fatal(format!("cannot read directory {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') || n == "target");
        if p.is_dir() && !hidden {
            walk(&p, out)?;
        } else if p.is_file() && wanted(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Groups paths into projects: each directory is one project, and the files named directly
/// form one more. `.` when none given.
pub fn load_projects(paths: &[PathBuf]) -> Result<Vec<Vec<Source>>, Fatal> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() { &default[..] } else { paths };
    let (dirs, loose): (Vec<&PathBuf>, Vec<&PathBuf>) = paths.iter().partition(|p| p.is_dir());
    let mut projects = Vec::new();
    if !loose.is_empty() {
        projects.push(load(&loose.into_iter().cloned().collect::<Vec<_>>())?);
    }
    for d in dirs {
        projects.push(load(std::slice::from_ref(d))?);
    }
    // A directory without contracts (only JSON, say) is not a project.
    projects.retain(|p: &Vec<Source>| p.iter().any(|s| !s.is_catalog_snapshot()));
    if projects.is_empty() {
        return Err(Fatal("no contract files (*.dqc) found".to_string()));
    }
    Ok(projects)
}

/// Expands files and directories (recursively, sorted) into sources; `.` when none given.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Source>, Fatal> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() { &default[..] } else { paths };
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files)?;
        } else if p.exists() {
            files.push(p.clone());
        } else {
            return Err(Fatal(format!("no such file or directory: {}", p.display())));
        }
    }
    // Sources are ordered by absolute path, so the argument order and the working directory
    // never change what is compiled (file ids appear in the IR's spans).
    let mut keyed: Vec<(PathBuf, PathBuf)> =
        files.into_iter().map(|f| (f.canonicalize().unwrap_or_else(|_| f.clone()), f)).collect();
    keyed.sort();
    keyed.dedup_by(|a, b| a.0 == b.0);
    let files: Vec<PathBuf> = keyed.into_iter().map(|(_, f)| f).collect();
    files
        .into_iter()
        .map(|f| {
            let text = read_text(&f)?;
            let name = f.strip_prefix("./").unwrap_or(&f).display().to_string();
            Ok(Source::new(name, text))
        })
        .collect()
}

/// Reads a text file, or says where it stops being UTF-8 (line, column and byte offset).
pub fn read_text(path: &Path) -> Result<String, Fatal> {
    let bytes = std::fs::read(path).map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
    utf8(bytes, &path.display().to_string())
}

/// Text from bytes, or an error naming where the first invalid UTF-8 byte is.
pub fn utf8(bytes: Vec<u8>, name: &str) -> Result<String, Fatal> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let before = std::str::from_utf8(bytes.get(..at).unwrap_or_default()).unwrap_or_default();
        let (line, col) = crate::render::line_col(before, at);
        let shown: Vec<String> = bytes.iter().skip(at).take(4).map(|b| format!("{b:#04x}")).collect();
        Fatal(format!(
            "{name}:{line}:{col}: not UTF-8 text: invalid byte(s) {} at byte offset {at}; contracts and JSON must be UTF-8",
            shown.join(" ")
        ))
    })
}

/// Writes through a temporary file in the same directory and renames it into place, so a
/// reader never sees a half-written file.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), Fatal> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Fatal(format!("cannot create {}: {e}", dir.display())))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| Fatal(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Fatal(format!("cannot replace {}: {e}", path.display())))
}
