//! The local notifier: each message on stderr and appended to a JSON-lines file.

use std::io::Write as _;
use std::path::PathBuf;

use dqc_activities::handlers::Notifier;
use dqc_activities::Error;

/// Writes messages to the console (stderr) and appends them to `path` as JSON lines.
#[derive(Debug, Clone)]
pub struct FileNotifier {
    path: PathBuf,
    /// Whether messages are also printed.
    pub echo: bool,
}

impl FileNotifier {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileNotifier { path: path.into(), echo: true }
    }

    /// Appends one message (a topic, a subject and the text) as one line.
    pub fn send(&self, topic: &str, subject: &str, message: &str) -> Result<(), Error> {
        let line = serde_json::json!({"topic": topic, "subject": subject, "message": message}).to_string();
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::fatal(format!("{}: {e}", dir.display())))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()))
            .map_err(|e| Error::retryable(format!("{}: {e}", self.path.display())))?;
        if self.echo {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "notification: {subject}");
            for l in message.lines() {
                let _ = writeln!(err, "  {l}");
            }
        }
        Ok(())
    }
}

impl Notifier for FileNotifier {
    fn notify(&self, subject: &str, message: &str) -> Result<(), Error> {
        self.send("local", subject, message)
    }
}
