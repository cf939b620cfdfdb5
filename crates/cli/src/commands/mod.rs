pub mod ctx;
pub mod doctor;
pub mod forks;
pub mod fs;
pub mod keys;
pub mod login;
pub mod mount;
pub mod sandbox;
pub mod server;
pub mod status;
mod tree;
pub mod volume;
pub mod walk;

/// Log lines to stderr, as `STRATA_LOG` filters them (default: warnings, but none of the
/// FUSE library's notes about calls a file system leaves to the kernel).
pub fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG").unwrap_or_else(|_| "warn,fuser=error".into());
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
