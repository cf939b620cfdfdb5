//! Schema of the SQLite engine, as migrations applied in order at open (`PRAGMA user_version`
//! counts them). The key layout is in [`super`].

use rusqlite_migration::{M, Migrations};

/// How many migrations this program knows: the newest schema version it can serve.
pub const COUNT: usize = STEPS.len();

pub fn migrations() -> Migrations<'static> {
    Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect())
}

const STEPS: [&str; 21] = [
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
    "CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            org TEXT NOT NULL,
            volume TEXT NOT NULL,
            root_ino INTEGER NOT NULL,
            read_only INTEGER NOT NULL,
            secret BLOB NOT NULL,
            created_at INTEGER NOT NULL
        );",
    "ALTER TABLE volumes ADD COLUMN snapshot_of TEXT;",
    "UPDATE tokens SET name = name || '-' || id
         WHERE rowid NOT IN (SELECT MIN(rowid) FROM tokens GROUP BY org, name);
        CREATE UNIQUE INDEX tokens_by_name ON tokens(org, name);
        ALTER TABLE sessions ADD COLUMN alive_until INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE locks (
            volume TEXT NOT NULL,
            ino INTEGER NOT NULL,
            session TEXT NOT NULL,
            owner INTEGER NOT NULL,
            lock_start INTEGER NOT NULL,
            lock_end INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            pid INTEGER NOT NULL
        );
        CREATE INDEX locks_by_file ON locks(volume, ino);
        CREATE INDEX locks_by_session ON locks(session);
        CREATE INDEX inodes_by_layer ON inodes(layer);
        CREATE INDEX dentries_by_layer ON dentries(layer);",
    "ALTER TABLE blocks ADD COLUMN marked_by TEXT;
        ALTER TABLE blocks ADD COLUMN marked_at INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE blocks ADD COLUMN committed INTEGER NOT NULL DEFAULT 0;",
    "CREATE TABLE uploads (session TEXT NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (session, hash));
     CREATE INDEX uploads_by_hash ON uploads(hash);",
    "CREATE INDEX dentries_by_ino ON dentries(ino);",
    "CREATE TABLE orgs (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
     INSERT INTO orgs (name, created_at)
         SELECT 'default', 0 UNION SELECT org, 0 FROM tokens UNION SELECT org, 0 FROM volumes;
     ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
     ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
     ALTER TABLE tokens ADD COLUMN scope_volume TEXT;
     ALTER TABLE tokens ADD COLUMN scope_subpath TEXT;
     ALTER TABLE tokens ADD COLUMN scope_read_only INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE sessions ADD COLUMN key_id TEXT;
     CREATE INDEX sessions_by_key ON sessions(key_id);",
    "CREATE TABLE sandboxes (
         id TEXT PRIMARY KEY,
         org TEXT NOT NULL,
         server TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         body TEXT NOT NULL
     );
     CREATE INDEX sandboxes_by_org ON sandboxes(org);
     CREATE INDEX sandboxes_by_server ON sandboxes(server);",
    "ALTER TABLE tokens ADD COLUMN made_by TEXT;
     CREATE INDEX tokens_by_maker ON tokens(made_by);",
    "ALTER TABLE volumes ADD COLUMN moves INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE volumes ADD COLUMN quota_bytes INTEGER;
     ALTER TABLE volumes ADD COLUMN quota_files INTEGER;",
    "ALTER TABLE sessions ADD COLUMN owner INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE sessions ADD COLUMN recalled INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE sessions ADD COLUMN shipped INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE sessions ADD COLUMN listening_until INTEGER NOT NULL DEFAULT 0;
     CREATE INDEX sessions_by_volume ON sessions(volume);
     ALTER TABLE volumes ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN used_by TEXT;
     CREATE TABLE grants (session TEXT NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL);
     CREATE INDEX grants_by_session ON grants(session);",
    "ALTER TABLE chunks ADD COLUMN pack_off INTEGER;",
    HISTORY,
    "ALTER TABLE volumes ADD COLUMN forked_from TEXT;
     ALTER TABLE volumes ADD COLUMN fork_base INTEGER;
     ALTER TABLE volumes ADD COLUMN fork_ino INTEGER;
     CREATE TABLE ino_ranges (id INTEGER PRIMARY KEY, next INTEGER NOT NULL);
     CREATE INDEX layers_by_parent ON layers(parent);
     DROP INDEX inodes_by_layer;
     DROP INDEX dentries_by_layer;
     CREATE INDEX inodes_by_born ON inodes(layer, born);
     CREATE INDEX dentries_by_born ON dentries(layer, born);
     ALTER TABLE volumes ADD COLUMN window_last INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN window_changes INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN window_bytes INTEGER NOT NULL DEFAULT 0;",
    // A layer's rows in key order within each instant, and a lease on a layer being built:
    // flattening copies layers in steps.
    "DROP INDEX inodes_by_born;
     DROP INDEX dentries_by_born;
     CREATE INDEX inodes_by_born ON inodes(layer, born, ino);
     CREATE INDEX dentries_by_born ON dentries(layer, born, parent, name);
     ALTER TABLE layers ADD COLUMN building_until INTEGER;",
    // An organization's quota of bytes; how a volume's blocks are compressed, and the bytes
    // the store keeps for each block (NULL: stored before, as its size); the keys of the
    // organizations that encrypt (wrapped), and the copies of each block they hold.
    "ALTER TABLE orgs ADD COLUMN quota_bytes INTEGER;
     ALTER TABLE volumes ADD COLUMN compression TEXT;
     ALTER TABLE blocks ADD COLUMN stored INTEGER;
     ALTER TABLE orgs ADD COLUMN naming_key BLOB;
     ALTER TABLE orgs ADD COLUMN data_key INTEGER;
     CREATE TABLE org_keys (org TEXT NOT NULL, id INTEGER NOT NULL, wrapped BLOB NOT NULL, created_at INTEGER NOT NULL,
         PRIMARY KEY (org, id));
     CREATE TABLE block_copies (hash BLOB NOT NULL, org TEXT NOT NULL, PRIMARY KEY (hash, org));
     CREATE INDEX block_copies_by_org ON block_copies(org);",
    // When a mount session last opened on a volume (its last use, with its last change).
    "ALTER TABLE volumes ADD COLUMN last_mounted_at INTEGER;",
];

/// History: when a row was written (`born`), the versions a later window replaced (`past_*`,
/// until `died`), the windows of writes (`points`) and the heads a restore replaced.
const HISTORY: &str = "ALTER TABLE inodes ADD COLUMN born INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE dentries ADD COLUMN born INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE past_inodes (
         layer INTEGER NOT NULL, ino INTEGER NOT NULL, whiteout INTEGER NOT NULL, kind INTEGER NOT NULL,
         mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL, size INTEGER NOT NULL,
         nlink INTEGER NOT NULL, rdev INTEGER NOT NULL, atime INTEGER NOT NULL, mtime INTEGER NOT NULL,
         ctime INTEGER NOT NULL, parent INTEGER NOT NULL, target TEXT, born INTEGER NOT NULL, died INTEGER NOT NULL,
         PRIMARY KEY (ino, layer, born)) WITHOUT ROWID;
     CREATE INDEX past_inodes_by_layer ON past_inodes(layer, died);
     CREATE TABLE past_dentries (
         layer INTEGER NOT NULL, parent INTEGER NOT NULL, name BLOB NOT NULL, ino INTEGER NOT NULL,
         born INTEGER NOT NULL, died INTEGER NOT NULL,
         PRIMARY KEY (parent, name, layer, born)) WITHOUT ROWID;
     CREATE INDEX past_dentries_by_layer ON past_dentries(layer, died);
     CREATE TABLE past_chunks (
         layer INTEGER NOT NULL, ino INTEGER NOT NULL, born INTEGER NOT NULL, idx INTEGER NOT NULL,
         len INTEGER NOT NULL, hash BLOB, data BLOB, pack_off INTEGER,
         PRIMARY KEY (layer, ino, born, idx));
     CREATE INDEX past_chunks_by_hash ON past_chunks(hash) WHERE hash IS NOT NULL;
     CREATE TABLE past_xattrs (
         layer INTEGER NOT NULL, ino INTEGER NOT NULL, born INTEGER NOT NULL, name BLOB NOT NULL, value BLOB NOT NULL,
         PRIMARY KEY (layer, ino, born, name));
     CREATE TABLE points (
         volume TEXT NOT NULL, at INTEGER NOT NULL, last INTEGER NOT NULL, used_bytes INTEGER NOT NULL,
         file_count INTEGER NOT NULL, changes INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (volume, at));
     CREATE TABLE past_heads (volume TEXT NOT NULL, until INTEGER NOT NULL, head INTEGER NOT NULL,
         PRIMARY KEY (volume, until));
     ALTER TABLE layers ADD COLUMN parent_as_of INTEGER;
     ALTER TABLE volumes ADD COLUMN history_ns INTEGER;
     ALTER TABLE volumes ADD COLUMN window_at INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN moment_at INTEGER;";
