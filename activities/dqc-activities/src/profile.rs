//! Profiling (in progress).
