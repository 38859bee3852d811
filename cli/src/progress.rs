//! Progress bars on stderr, drawn only when stderr is a terminal (pipes and CI logs stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar for byte-counted phases and a spinner for the others.
#[derive(Debug)]
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar on stderr; hidden unless stderr is a terminal.
    pub fn stderr() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Bar(bar)
    }
}

impl dqc_local::Progress for Bar {
    fn phase(&self, name: &str, total: Option<u64>) {
        let style = match total {
            Some(_) => ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})"),
            None => ProgressStyle::with_template("{spinner} {msg} ({elapsed})"),
        };
        if let Ok(style) = style {
            self.0.set_style(style.progress_chars("=> "));
        }
        self.0.set_length(total.unwrap_or(0));
        self.0.set_position(0);
        self.0.set_message(name.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn percent_phase(&self, name: &str) {
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos:>3}% ({elapsed})") {
            self.0.set_style(style.progress_chars("=> "));
        }
        self.0.set_length(100);
        self.0.set_position(0);
        self.0.set_message(name.to_string());
    }

    fn set(&self, done: u64) {
        self.0.set_position(done);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
