//! A local folder with the layout of the artifact bucket.

use std::path::{Path, PathBuf};

use dqc_activities::{ArtifactStore, Error};

/// Artifacts under a root folder; keys are `/`-separated relative paths.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderStore { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, Error> {
        let bad = key.split('/').any(|p| p.is_empty() || p == "." || p == "..");
        if bad || key.starts_with('/') {
            return Err(Error::fatal(format!("invalid artifact key `{key}`")));
        }
        Ok(self.root.join(key))
    }
}

fn io(e: std::io::Error, what: &Path) -> Error {
    Error::fatal(format!("{}: {e}", what.display()))
}

static TEMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl FolderStore {
    /// Writes `bytes` to a temporary file of its own beside the key's file.
    fn temp(&self, key: &str, bytes: &[u8]) -> Result<(PathBuf, PathBuf), Error> {
        let path = self.path(key)?;
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("artifact");
        let n = TEMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(|e| io(e, &tmp))?;
        Ok((tmp, path))
    }
}

impl ArtifactStore for FolderStore {
    /// A complete temporary file renamed over the key's file: readers see old or new.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), Error> {
        let (tmp, path) = self.temp(key, bytes)?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e, &path)
        })
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = self.path(key)?;
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e, &path)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let p = e.path();
                let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
                if hidden {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(&self.root) {
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) {
                        out.push(key);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// A complete temporary file hard-linked to the key's name: the link fails when the key
    /// exists, so of two racing writers exactly one wins, and the file is never partial.
    fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool, Error> {
        if self.path(key)?.exists() {
            return Ok(false);
        }
        let (tmp, path) = self.temp(key, bytes)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io(e, &path)),
        }
    }
}
