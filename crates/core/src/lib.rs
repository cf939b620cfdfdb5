//! Shared vocabulary of strata.
//!
//! Everything that crosses a trust boundary (volume names, file paths, tokens) is validated
//! here and only here, so the server, the client and the CLI agree on one set of rules.
//! The API shapes in [`api`] are the JSON bodies of the HTTP interface.

pub mod api;
pub mod error;
pub mod keys;
pub mod mount_table;
pub mod mounts;
pub mod names;
pub mod patches;
pub mod paths;
pub mod pieces;
pub mod sandboxes;
pub mod session;

pub use error::{Error, ErrorKind, Result};

/// Largest block a file is cut into. Blocks are stored once per distinct content.
pub const BLOCK_SIZE: u64 = 4 * 1024 * 1024;

/// Files up to this size keep their bytes in the metadata engine instead of the object store.
pub const INLINE_MAX: u64 = 64 * 1024;

/// The file in a server's data folder where it writes the URL it serves on, for clients on
/// the same machine.
pub const ENDPOINT_FILE: &str = "endpoint";
