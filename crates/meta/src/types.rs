/// BLAKE3 hash of a block's bytes: its name in the object store.
pub type BlockHash = [u8; 32];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkData {
    Block(BlockHash),
    Inline(Vec<u8>),
}

/// Bytes `[idx * BLOCK_SIZE, idx * BLOCK_SIZE + len)` of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub idx: u64,
    pub len: u64,
    pub data: ChunkData,
}

/// A change of a file's content, applied in one transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContentWrite<'a> {
    /// Replace the chunks of these indexes.
    pub chunks: &'a [Chunk],
    /// Drop every chunk not in `chunks` first.
    pub replace_all: bool,
    /// Cut the content at this offset first (the writer truncated the file).
    pub cut_at: Option<u64>,
    /// The new size; with `grow`, the file becomes at least this long instead.
    pub size: u64,
    pub grow: bool,
    /// The chunks the writer based this change on, for every index it replaces: when given,
    /// the write applies only if the file still has exactly these (absent ones absent), and
    /// fails with [`crate::ErrorKind::Stale`] otherwise.
    pub base: Option<&'a [Chunk]>,
    /// The mount session writing: then every block named must be one the volume already
    /// names or one this session uploaded (proof that the writer has its bytes).
    pub uploader: Option<uuid::Uuid>,
}

/// One page of a directory listing, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirPage {
    /// Name, attributes, and whether the inode has extended attributes.
    pub entries: Vec<(Vec<u8>, strata_core::api::Stat, bool)>,
    /// The name to continue after; `None` when the listing is complete.
    pub next: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenameFlags {
    /// Fail with `AlreadyExists` instead of replacing the target.
    pub no_replace: bool,
}

pub use strata_core::keys::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: uuid::Uuid,
    pub org: String,
    pub name: String,
    /// BLAKE3 of the secret; the secret itself is never stored.
    pub hash: [u8; 32],
    pub role: Role,
    pub created_at: i64,
    /// When the key stops working (ns); `None` for never.
    pub expires_at: Option<i64>,
    /// When the key was revoked (ns); a revoked key never works again.
    pub revoked_at: Option<i64>,
    /// For a scoped token: the one volume folder it reaches.
    pub scope: Option<ScopeRecord>,
}

/// What a scoped token reaches: one folder of one volume, perhaps only to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRecord {
    pub volume: uuid::Uuid,
    /// Absolute in the volume, as `FsPath` prints it (`/` for all of it).
    pub subpath: String,
    pub read_only: bool,
}

pub fn now_ns() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

/// A mount of one volume folder. Its secret keys the capabilities of the inodes it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: uuid::Uuid,
    pub org: String,
    pub volume: uuid::Uuid,
    pub root_ino: u64,
    pub read_only: bool,
    pub secret: [u8; 32],
    pub created_at: i64,
    /// End of the session's lease (ns): its record locks count until then; the mount renews it.
    pub alive_until: i64,
    /// The key that opened it: revoking the key ends the session.
    pub key: Option<uuid::Uuid>,
}

/// How `set_xattr` treats an existing attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum XattrMode {
    #[default]
    Any,
    /// Fail with `AlreadyExists` if it exists (`XATTR_CREATE`).
    Create,
    /// Fail with `NotFound` if it does not (`XATTR_REPLACE`).
    Replace,
}
