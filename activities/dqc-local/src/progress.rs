//! Progress of long work, reported to whoever runs it (the CLI draws bars; tests stay silent).

/// What a long operation reports as it goes. Implementations must be cheap: `advance` is called
/// about once per mebibyte of input.
pub trait Progress: std::fmt::Debug + Send + Sync {
    /// A new phase starts; `total` is its size in bytes when known.
    fn phase(&self, name: &str, total: Option<u64>);
    /// `bytes` more of the phase are done.
    fn advance(&self, bytes: u64);
    /// A new phase measured in percent (0 to 100, reported with [`Progress::set`]).
    fn percent_phase(&self, name: &str) {
        self.phase(name, Some(100));
    }
    /// The phase is `done` of its total (for phases whose engine reports a position).
    fn set(&self, _done: u64) {}
    /// The work is over (successfully or not).
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn phase(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
}
