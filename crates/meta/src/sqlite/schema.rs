//! Schema of the SQLite engine, as migrations applied in order at open.
//!
//! Key layout:
//! - `layers(id, parent, frozen)`: the layer DAG. A layer's parent never changes.
//! - `volumes(id, org, name, head, next_ino, used_bytes, file_count, snapshot_of, ...)`:
//!   `head` is the writable top layer; counters are kept up to date by every transaction so
//!   that reading them never walks the tree. A snapshot is a row with `snapshot_of` set, named
//!   `VOLUME@SNAPSHOT`, whose head is frozen.
//! - `inodes(layer, ino, ...)`: attributes; `whiteout = 1` hides a lower layer's inode.
//!   `parent` is the directory that holds a directory (used to refuse moving a directory
//!   into itself).
//! - `dentries(layer, parent, name, ino)`: directory entries; `ino = 0` is a whiteout.
//! - `chunks(layer, ino, idx, len, hash, data)`: file content, beside its inode's layer;
//!   `hash` names a block in the object store, or `data` holds the bytes inline.
//! - `xattrs(layer, ino, name, value)`: extended attributes, beside their inode's layer.
//! - `blocks(hash, size, state, touched_at)`: every block the store holds or is about to;
//!   `state = 1` while its deletion is under way.
//! - `tokens(id, org, name, hash, role, created_at)`: API keys, by BLAKE3 of the secret.
//! - `sessions(id, org, volume, root_ino, read_only, secret)`: mounts; the secret keys the
//!   capabilities that let a session name only inodes below its root.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE layers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            parent INTEGER REFERENCES layers(id),
            frozen INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE volumes (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            name TEXT NOT NULL,
            head INTEGER NOT NULL REFERENCES layers(id),
            next_ino INTEGER NOT NULL,
            used_bytes INTEGER NOT NULL DEFAULT 0,
            file_count INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (org, name)
        );
        CREATE TABLE inodes (
            layer INTEGER NOT NULL,
            ino INTEGER NOT NULL,
            whiteout INTEGER NOT NULL DEFAULT 0,
            kind INTEGER NOT NULL,
            mode INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            gid INTEGER NOT NULL,
            size INTEGER NOT NULL,
            nlink INTEGER NOT NULL,
            rdev INTEGER NOT NULL,
            atime INTEGER NOT NULL,
            mtime INTEGER NOT NULL,
            ctime INTEGER NOT NULL,
            parent INTEGER NOT NULL,
            target TEXT,
            PRIMARY KEY (ino, layer)
        ) WITHOUT ROWID;
        CREATE TABLE dentries (
            layer INTEGER NOT NULL,
            parent INTEGER NOT NULL,
            name BLOB NOT NULL,
            ino INTEGER NOT NULL,
            PRIMARY KEY (parent, name, layer)
        ) WITHOUT ROWID;
        CREATE TABLE chunks (
            layer INTEGER NOT NULL,
            ino INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            len INTEGER NOT NULL,
            hash BLOB,
            data BLOB,
            PRIMARY KEY (layer, ino, idx)
        );
        CREATE INDEX chunks_by_hash ON chunks(hash) WHERE hash IS NOT NULL;
        CREATE TABLE xattrs (
            layer INTEGER NOT NULL,
            ino INTEGER NOT NULL,
            name BLOB NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (layer, ino, name)
        );
        CREATE TABLE blocks (
            hash BLOB PRIMARY KEY,
            size INTEGER NOT NULL,
            state INTEGER NOT NULL DEFAULT 0,
            touched_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            name TEXT NOT NULL,
            hash BLOB NOT NULL UNIQUE,
            role TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );",
        ),
        M::up(
            "CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            volume TEXT NOT NULL,
            root_ino INTEGER NOT NULL,
            read_only INTEGER NOT NULL,
            secret BLOB NOT NULL,
            created_at INTEGER NOT NULL
        );",
        ),
        M::up("ALTER TABLE volumes ADD COLUMN snapshot_of TEXT;"),
    ])
}
