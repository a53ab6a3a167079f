//! Log output: one tracing subscriber, filtered by NETRAVEN_LOG.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Safe to call more than once (tests start many apps).
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    // Colour codes only on a terminal: redirected logs stay plain text for files and grep.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
