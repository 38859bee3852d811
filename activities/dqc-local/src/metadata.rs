//! A local folder standing in for the metadata table: one JSON file per item,
//! `<root>/<partition key>/<sort key>.json`, keys percent-encoded into file names.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use dqc_activities::{Error, MetadataStore};
use serde_json::Value;

/// Items under a root folder (created on first write).
#[derive(Debug, Clone)]
pub struct FolderMetadata {
    root: PathBuf,
}

/// Bytes kept as they are in file names; everything else is `%XX`.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'#' | b'=')
}

/// A key as a file name: never empty, never hidden, never `.` or `..`.
fn encode(key: &str) -> Result<String, Error> {
    if key.is_empty() {
        return Err(Error::fatal("a metadata key cannot be empty"));
    }
    let mut out = String::with_capacity(key.len());
    for (i, b) in key.bytes().enumerate() {
        if plain(b) && !(i == 0 && b == b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

fn decode(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = name.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn io(e: std::io::Error, what: &Path) -> Error {
    Error::fatal(format!("{}: {e}", what.display()))
}

static TEMP: AtomicU64 = AtomicU64::new(0);

impl FolderMetadata {
    /// Items under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderMetadata { root: root.into() }
    }

    fn path(&self, pk: &str, sk: &str) -> Result<PathBuf, Error> {
        Ok(self.root.join(encode(pk)?).join(format!("{}.json", encode(sk)?)))
    }

    /// Writes the item to a temporary file of its own beside the item's file.
    fn temp(&self, pk: &str, sk: &str, item: &Value) -> Result<(PathBuf, PathBuf), Error> {
        let path = self.path(pk, sk)?;
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
        let n = TEMP.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        let mut text = serde_json::to_string_pretty(item).map_err(|e| Error::fatal(e.to_string()))?;
        text.push('\n');
        std::fs::write(&tmp, text).map_err(|e| io(e, &tmp))?;
        Ok((tmp, path))
    }

    fn read(path: &Path) -> Result<Option<Value>, Error> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::fatal(format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e, path)),
        }
    }
}

impl MetadataStore for FolderMetadata {
    fn put(&self, pk: &str, sk: &str, item: &Value) -> Result<(), Error> {
        let (tmp, path) = self.temp(pk, sk, item)?;
        std::fs::rename(&tmp, &path).map_err(|e| io(e, &path))
    }

    fn get(&self, pk: &str, sk: &str) -> Result<Option<Value>, Error> {
        Self::read(&self.path(pk, sk)?)
    }

    /// A complete temporary file hard-linked to the item's name: the link fails when the item
    /// exists, so the first writer wins and readers never see a partial item.
    fn put_if_absent(&self, pk: &str, sk: &str, item: &Value) -> Result<bool, Error> {
        let (tmp, path) = self.temp(pk, sk, item)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io(e, &path)),
        }
    }

    fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        let dir = self.root.join(encode(pk)?);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e, &dir)),
        };
        let mut items = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(sk) = name.strip_suffix(".json").filter(|_| !name.starts_with('.')).and_then(decode) else {
                continue;
            };
            if sk.starts_with(sk_prefix) {
                if let Some(item) = Self::read(&entry.path())? {
                    items.push((sk, item));
                }
            }
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code fails loudly")]

    use super::*;
    use serde_json::json;

    #[test]
    fn keys_round_trip_through_file_names() {
        for key in ["table#raw_db.raw_payments", "run#2024-01-21", "..", ".hidden", "a/b\\c", "ünï code", "%41"] {
            let name = encode(key).unwrap();
            assert!(!name.starts_with('.') && !name.contains('/') && !name.contains('\\'), "{name}");
            assert_eq!(decode(&name).as_deref(), Some(key));
        }
        assert!(encode("").is_err());
    }

    #[test]
    fn items_are_replaced_read_back_and_queried_in_order() {
        let root = std::env::temp_dir().join(format!("dqc-metadata-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let m = FolderMetadata::new(&root);
        assert_eq!(m.get("t", "run#1").unwrap(), None);
        assert!(m.query("t", "").unwrap().is_empty());
        m.put("t", "run#2024-01-02", &json!({"n": 1})).unwrap();
        m.put("t", "run#2024-01-01", &json!({"n": 2})).unwrap();
        m.put("t", "contract#current", &json!({"hash": "h"})).unwrap();
        m.put("t", "run#2024-01-02", &json!({"n": 3})).unwrap();
        m.put("other/table", "run#2024-01-01", &json!({})).unwrap();
        assert_eq!(m.get("t", "run#2024-01-02").unwrap(), Some(json!({"n": 3})));
        let runs: Vec<String> = m.query("t", "run#").unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(runs, ["run#2024-01-01", "run#2024-01-02"]);
        assert_eq!(m.query("t", "").unwrap().len(), 3);
        assert_eq!(m.query("other/table", "run#").unwrap().len(), 1);
        // No temporary files are left behind, and a damaged item is an error naming its file.
        let names: Vec<String> = std::fs::read_dir(root.join("t"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
        std::fs::write(root.join("t").join("run#2024-01-01.json"), "{ not json").unwrap();
        let err = m.get("t", "run#2024-01-01").unwrap_err();
        assert!(err.message.contains("run#2024-01-01.json:1:3"), "{}", err.message);
        let _ = std::fs::remove_dir_all(&root);
    }
}
