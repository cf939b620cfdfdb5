//! Schema of the PostgreSQL engine, as migrations applied in order at connect; the table
//! `strata_schema` records how many ran. The key layout is in [`super`].

/// How many migrations this program knows: the newest schema version it can serve.
pub const COUNT: usize = STEPS.len();

pub const STEPS: [&str; 18] = [
    "
CREATE TABLE layers (
    id BIGSERIAL PRIMARY KEY,
    parent BIGINT REFERENCES layers(id),
    frozen BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE volumes (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    head BIGINT NOT NULL REFERENCES layers(id),
    next_ino BIGINT NOT NULL,
    used_bytes BIGINT NOT NULL DEFAULT 0,
    file_count BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    snapshot_of TEXT,
    UNIQUE (org, name)
);
CREATE TABLE inodes (
    layer BIGINT NOT NULL,
    ino BIGINT NOT NULL,
    whiteout BIGINT NOT NULL DEFAULT 0,
    kind BIGINT NOT NULL,
    mode BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    gid BIGINT NOT NULL,
    size BIGINT NOT NULL,
    nlink BIGINT NOT NULL,
    rdev BIGINT NOT NULL,
    atime BIGINT NOT NULL,
    mtime BIGINT NOT NULL,
    ctime BIGINT NOT NULL,
    parent BIGINT NOT NULL,
    target TEXT,
    PRIMARY KEY (ino, layer)
);
CREATE INDEX inodes_by_layer ON inodes(layer);
CREATE TABLE dentries (
    layer BIGINT NOT NULL,
    parent BIGINT NOT NULL,
    name BYTEA NOT NULL,
    ino BIGINT NOT NULL,
    PRIMARY KEY (parent, name, layer)
);
CREATE INDEX dentries_by_layer ON dentries(layer);
CREATE TABLE chunks (
    layer BIGINT NOT NULL,
    ino BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    len BIGINT NOT NULL,
    hash BYTEA,
    data BYTEA,
    PRIMARY KEY (layer, ino, idx)
);
CREATE INDEX chunks_by_hash ON chunks(hash) WHERE hash IS NOT NULL;
CREATE TABLE xattrs (
    layer BIGINT NOT NULL,
    ino BIGINT NOT NULL,
    name BYTEA NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (layer, ino, name)
);
CREATE TABLE blocks (
    hash BYTEA PRIMARY KEY,
    size BIGINT NOT NULL,
    state BIGINT NOT NULL DEFAULT 0,
    touched_at BIGINT NOT NULL
);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    hash BYTEA NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org, name)
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    volume TEXT NOT NULL,
    root_ino BIGINT NOT NULL,
    read_only BIGINT NOT NULL,
    secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    alive_until BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE locks (
    volume TEXT NOT NULL,
    ino BIGINT NOT NULL,
    session TEXT NOT NULL,
    owner BIGINT NOT NULL,
    lock_start BIGINT NOT NULL,
    lock_end BIGINT NOT NULL,
    kind BIGINT NOT NULL,
    pid BIGINT NOT NULL
);
CREATE INDEX locks_by_file ON locks(volume, ino);
CREATE INDEX locks_by_session ON locks(session);
",
    "ALTER TABLE blocks ADD COLUMN marked_by TEXT;
     ALTER TABLE blocks ADD COLUMN marked_at BIGINT NOT NULL DEFAULT 0;",
    "ALTER TABLE blocks ADD COLUMN committed BIGINT NOT NULL DEFAULT 0;",
    "CREATE TABLE uploads (session TEXT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (session, hash));
     CREATE INDEX uploads_by_hash ON uploads(hash);",
    "CREATE INDEX dentries_by_ino ON dentries(ino);",
    "CREATE TABLE orgs (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);
     INSERT INTO orgs (name, created_at)
         SELECT 'default', 0 UNION SELECT org, 0 FROM tokens UNION SELECT org, 0 FROM volumes;
     ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
     ALTER TABLE tokens ADD COLUMN revoked_at BIGINT;
     ALTER TABLE tokens ADD COLUMN scope_volume TEXT;
     ALTER TABLE tokens ADD COLUMN scope_subpath TEXT;
     ALTER TABLE tokens ADD COLUMN scope_read_only BIGINT NOT NULL DEFAULT 0;",
    "ALTER TABLE sessions ADD COLUMN key_id TEXT;
     CREATE INDEX sessions_by_key ON sessions(key_id);",
    "CREATE TABLE sandboxes (
         id TEXT PRIMARY KEY,
         org TEXT NOT NULL,
         server TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         body TEXT NOT NULL
     );
     CREATE INDEX sandboxes_by_org ON sandboxes(org);
     CREATE INDEX sandboxes_by_server ON sandboxes(server);",
    "ALTER TABLE tokens ADD COLUMN made_by TEXT;
     CREATE INDEX tokens_by_maker ON tokens(made_by);",
    "ALTER TABLE volumes ADD COLUMN moves BIGINT NOT NULL DEFAULT 0;",
    "ALTER TABLE volumes ADD COLUMN quota_bytes BIGINT;
     ALTER TABLE volumes ADD COLUMN quota_files BIGINT;",
    "ALTER TABLE sessions ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE sessions ADD COLUMN recalled BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE sessions ADD COLUMN shipped BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE sessions ADD COLUMN listening_until BIGINT NOT NULL DEFAULT 0;
     CREATE INDEX sessions_by_volume ON sessions(volume);
     ALTER TABLE volumes ADD COLUMN used_at BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN used_by TEXT;
     CREATE TABLE grants (session TEXT NOT NULL, first BIGINT NOT NULL, count BIGINT NOT NULL);
     CREATE INDEX grants_by_session ON grants(session);",
    "ALTER TABLE chunks ADD COLUMN pack_off BIGINT;",
    HISTORY,
    "ALTER TABLE volumes ADD COLUMN forked_from TEXT;
     ALTER TABLE volumes ADD COLUMN fork_base BIGINT;
     ALTER TABLE volumes ADD COLUMN fork_ino BIGINT;
     CREATE TABLE ino_ranges (id BIGINT PRIMARY KEY, next BIGINT NOT NULL);
     CREATE INDEX layers_by_parent ON layers(parent);
     DROP INDEX inodes_by_layer;
     DROP INDEX dentries_by_layer;
     CREATE INDEX inodes_by_born ON inodes(layer, born);
     CREATE INDEX dentries_by_born ON dentries(layer, born);
     ALTER TABLE volumes ADD COLUMN window_last BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN window_changes BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN window_bytes BIGINT NOT NULL DEFAULT 0;",
    // A layer's rows in key order within each instant, and a lease on a layer being built:
    // flattening copies layers in steps.
    "DROP INDEX inodes_by_born;
     DROP INDEX dentries_by_born;
     CREATE INDEX inodes_by_born ON inodes(layer, born, ino);
     CREATE INDEX dentries_by_born ON dentries(layer, born, parent, name);
     ALTER TABLE layers ADD COLUMN building_until BIGINT;",
    // An organization's quota of bytes; how a volume's blocks are compressed, and the bytes
    // the store keeps for each block (NULL: stored before, as its size); the keys of the
    // organizations that encrypt (wrapped), and the copies of each block they hold.
    "ALTER TABLE orgs ADD COLUMN quota_bytes BIGINT;
     ALTER TABLE volumes ADD COLUMN compression TEXT;
     ALTER TABLE blocks ADD COLUMN stored BIGINT;
     ALTER TABLE orgs ADD COLUMN naming_key BYTEA;
     ALTER TABLE orgs ADD COLUMN data_key BIGINT;
     CREATE TABLE org_keys (org TEXT NOT NULL, id BIGINT NOT NULL, wrapped BYTEA NOT NULL, created_at BIGINT NOT NULL,
         PRIMARY KEY (org, id));
     CREATE TABLE block_copies (hash BYTEA NOT NULL, org TEXT NOT NULL, PRIMARY KEY (hash, org));
     CREATE INDEX block_copies_by_org ON block_copies(org);",
    "ALTER TABLE volumes ADD COLUMN last_mounted_at BIGINT;",
];

/// History: see the SQLite schema.
const HISTORY: &str = "ALTER TABLE inodes ADD COLUMN born BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE dentries ADD COLUMN born BIGINT NOT NULL DEFAULT 0;
     CREATE TABLE past_inodes (
         layer BIGINT NOT NULL, ino BIGINT NOT NULL, whiteout BIGINT NOT NULL, kind BIGINT NOT NULL,
         mode BIGINT NOT NULL, uid BIGINT NOT NULL, gid BIGINT NOT NULL, size BIGINT NOT NULL,
         nlink BIGINT NOT NULL, rdev BIGINT NOT NULL, atime BIGINT NOT NULL, mtime BIGINT NOT NULL,
         ctime BIGINT NOT NULL, parent BIGINT NOT NULL, target TEXT, born BIGINT NOT NULL, died BIGINT NOT NULL,
         PRIMARY KEY (ino, layer, born));
     CREATE INDEX past_inodes_by_layer ON past_inodes(layer, died);
     CREATE TABLE past_dentries (
         layer BIGINT NOT NULL, parent BIGINT NOT NULL, name BYTEA NOT NULL, ino BIGINT NOT NULL,
         born BIGINT NOT NULL, died BIGINT NOT NULL,
         PRIMARY KEY (parent, name, layer, born));
     CREATE INDEX past_dentries_by_layer ON past_dentries(layer, died);
     CREATE TABLE past_chunks (
         layer BIGINT NOT NULL, ino BIGINT NOT NULL, born BIGINT NOT NULL, idx BIGINT NOT NULL,
         len BIGINT NOT NULL, hash BYTEA, data BYTEA, pack_off BIGINT,
         PRIMARY KEY (layer, ino, born, idx));
     CREATE INDEX past_chunks_by_hash ON past_chunks(hash) WHERE hash IS NOT NULL;
     CREATE TABLE past_xattrs (
         layer BIGINT NOT NULL, ino BIGINT NOT NULL, born BIGINT NOT NULL, name BYTEA NOT NULL, value BYTEA NOT NULL,
         PRIMARY KEY (layer, ino, born, name));
     CREATE TABLE points (
         volume TEXT NOT NULL, at BIGINT NOT NULL, last BIGINT NOT NULL, used_bytes BIGINT NOT NULL,
         file_count BIGINT NOT NULL, changes BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY (volume, at));
     CREATE TABLE past_heads (volume TEXT NOT NULL, until BIGINT NOT NULL, head BIGINT NOT NULL,
         PRIMARY KEY (volume, until));
     ALTER TABLE layers ADD COLUMN parent_as_of BIGINT;
     ALTER TABLE volumes ADD COLUMN history_ns BIGINT;
     ALTER TABLE volumes ADD COLUMN window_at BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE volumes ADD COLUMN moment_at BIGINT;";
