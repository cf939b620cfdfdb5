//! The engines: where the metadata is kept. Each supplies connections, transactions and its
//! schema; the rules live once in [`crate::sql`].
//!
//! | URL | engine |
//! |---|---|
//! | `sqlite:///path/meta.db` | [`sqlite`]: one file, one writer and several readers (WAL) |
//! | `postgres://user@host:port/db` | [`postgres`]: several servers at once |
//!
//! Key layout, the same tables on both (integers are 64-bit, booleans 0/1, ids text):
//! - `layers(id, parent, frozen)`: the layer DAG. A frozen layer's parent never changes; a
//!   head's parent changes only when its chain is flattened.
//! - `volumes(id, org, name, head, next_ino, used_bytes, file_count, snapshot_of, moves, ...)`:
//!   `head` is the writable top layer; counters are kept up to date by every transaction so
//!   that reading them never walks the tree. A snapshot is a row with `snapshot_of` set, named
//!   `VOLUME@SNAPSHOT`, whose head is frozen. `moves` counts the moves of directories, which
//!   keys what servers remember of which directories lie below a subpath.
//! - `inodes(layer, ino, ...)`: attributes; `whiteout = 1` hides a lower layer's inode.
//!   `parent` is the directory that holds a directory (used to refuse moving a directory
//!   into itself, and to tell whether an inode is below a subpath session's root).
//! - `dentries(layer, parent, name, ino)`: directory entries; `ino = 0` is a whiteout.
//!   Indexed by `ino` too: the names of a file, for the same subpath check.
//! - `chunks(layer, ino, idx, len, hash, data, pack_off)`: file content, beside its inode's
//!   layer; `hash` names a block in the object store, or `data` holds the bytes inline
//!   (both: a block and its patches); with `pack_off`, `hash` names a pack and `data` holds
//!   the BLAKE3 hash of the chunk's bytes there (none once a truncate cut it).
//! - `xattrs(layer, ino, name, value)`: extended attributes, beside their inode's layer.
//! - `blocks(hash, size, state, touched_at, marked_by, marked_at, committed)`: every block
//!   the store holds or is about to; `state = 1` while its deletion is under way, by the
//!   collection pass `marked_by`; `committed = 1` once a write named it and no upload of it
//!   started since.
//! - `uploads(session, hash)`: blocks a mount session stored; it may read them and name them
//!   in a write before its volume does. Kept until the session goes: collection leaves these
//!   blocks alone meanwhile (for 24 hours at most).
//! - `orgs(name, created_at)`: organizations; every volume and key belongs to one.
//! - `tokens(id, org, name, hash, role, created_at, expires_at, revoked_at, scope_volume,
//!   scope_subpath, scope_read_only, made_by)`: API keys, by BLAKE3 of the secret; a scoped
//!   token names one volume folder; `made_by` is the key that made it, whose revocation
//!   revokes it. A revoked key keeps its row (renamed) so logs can name it.
//! - `sessions(id, org, volume, root_ino, read_only, secret, alive_until, key_id)`: mounts;
//!   the secret keys the capabilities that let a session name only inodes below its root;
//!   `key_id` is the key that opened it, whose revocation ends it.
//! - `locks(volume, ino, session, owner, lock_start, lock_end, kind, pid)`: record locks,
//!   counted while their session's lease (`alive_until`) runs.
//! - `sandboxes(id, org, server, created_at, body)`: sandboxes, by the server that runs
//!   them; `body` is the server's JSON of the sandbox, opaque here.

pub mod postgres;
mod postgres_schema;
pub mod sqlite;
mod sqlite_schema;

use crate::{Error, MetaStore, Result};
use std::sync::Arc;

/// Opens the metadata engine a URL names: `sqlite:///path/meta.db` or `postgres://...`.
pub fn open_url(url: &str) -> Result<Arc<dyn MetaStore>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if !path.starts_with('/') {
            return Err(Error::invalid(
                "meta",
                "a SQLite URL names an absolute path: sqlite:///path/meta.db",
            ));
        }
        return Ok(Arc::new(sqlite::SqliteMeta::open(std::path::Path::new(path))?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PostgresMeta::connect(url)?));
    }
    Err(Error::invalid(
        "meta",
        "expected sqlite:///path/meta.db or postgres://user@host:port/db",
    ))
}

/// Refuses a database whose schema is newer than this program knows.
fn check_version(found: i64, known: usize, engine: &str) -> Result<()> {
    if found > known as i64 {
        return Err(Error::new(
            crate::ErrorKind::Unavailable,
            format!(
                "the {engine} metadata schema is at version {found}, newer than this strata knows ({known}): \
                 upgrade strata before serving this database"
            ),
        ));
    }
    Ok(())
}
