use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use strata_core::api::ChunkRef;
use strata_core::patches::Patches;

/// BLAKE3 hash of a block's bytes: its name in the object store.
pub type BlockHash = [u8; 32];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkData {
    Block(BlockHash),
    Inline(Vec<u8>),
    /// A block with small writes laid over it.
    Patched(BlockHash, Patches),
    /// Bytes `[off, off + len)` of a pack: one stored object holding the bytes of many small
    /// files shipped together. Only the server reads packs: to a client the chunk is inline.
    /// `sum` is the BLAKE3 hash of those bytes, which a writer's base is compared with
    /// (none once a truncate cut the chunk: then the pack is read to compare).
    Packed {
        pack: BlockHash,
        off: u64,
        sum: Option<BlockHash>,
    },
}

/// Bytes `[idx * BLOCK_SIZE, idx * BLOCK_SIZE + len)` of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub idx: u64,
    pub len: u64,
    pub data: ChunkData,
}

impl Chunk {
    /// The stored block the chunk reads from, if any.
    pub fn block(&self) -> Option<&BlockHash> {
        match &self.data {
            ChunkData::Block(hash) | ChunkData::Patched(hash, _) | ChunkData::Packed { pack: hash, .. } => Some(hash),
            ChunkData::Inline(_) => None,
        }
    }

    /// Drops the bytes at or past `keep`, as a truncate does.
    pub fn cut(&mut self, keep: u64) {
        if self.len <= keep {
            return;
        }
        self.len = keep;
        match &mut self.data {
            ChunkData::Inline(data) => data.truncate(keep as usize),
            ChunkData::Patched(_, patches) => patches.cut(keep),
            ChunkData::Packed { sum, .. } => *sum = None,
            ChunkData::Block(_) => {}
        }
    }

    /// The chunk as the HTTP API carries it: a hex hash, base64 data, or both (a patched
    /// block). `None` for a packed chunk: its bytes go inline, read from the pack first.
    pub fn to_wire(&self) -> Option<ChunkRef> {
        let hex = |h: &BlockHash| blake3::Hash::from_bytes(*h).to_hex().to_string();
        let (hash, data) = match &self.data {
            ChunkData::Block(h) => (Some(hex(h)), None),
            ChunkData::Inline(d) => (None, Some(B64.encode(d))),
            ChunkData::Patched(h, patches) => (Some(hex(h)), Some(B64.encode(patches.encode()))),
            ChunkData::Packed { .. } => return None,
        };
        Some(ChunkRef {
            idx: self.idx,
            len: self.len,
            hash,
            data,
        })
    }

    /// Whether two chunks surely hold the same bytes, without reading any pack: the same
    /// stored form, or inline and packed ones whose bytes hash alike (a file written again
    /// with the same bytes lands in another pack).
    pub fn same_bytes(&self, other: &Chunk) -> bool {
        if self == other {
            return true;
        }
        if (self.idx, self.len) != (other.idx, other.len) {
            return false;
        }
        let sum = |c: &Chunk| match &c.data {
            ChunkData::Packed { sum, .. } => *sum,
            ChunkData::Inline(_) => c.small_bytes(None).map(|b| *blake3::hash(b).as_bytes()),
            _ => None,
        };
        matches!((sum(self), sum(other)), (Some(a), Some(b)) if a == b)
    }

    /// The bytes of an inline or packed chunk, given its pack's bytes for a packed one.
    pub fn small_bytes<'a>(&'a self, pack: Option<&'a [u8]>) -> Option<&'a [u8]> {
        match (&self.data, pack) {
            (ChunkData::Inline(d), _) => Some(&d[..(self.len as usize).min(d.len())]),
            (ChunkData::Packed { off, .. }, Some(pack)) => {
                let start = usize::try_from(*off).ok()?;
                pack.get(start..start.checked_add(self.len as usize)?)
            }
            _ => None,
        }
    }

    /// A chunk from the HTTP API, checked: inline data is at most 64 KiB and as long as the
    /// chunk; patches lie within the block.
    pub fn from_wire(chunk: &ChunkRef) -> strata_core::Result<Chunk> {
        let bad = |why: &str| strata_core::Error::invalid("chunks", why);
        let data = |b64: &str| B64.decode(b64).map_err(|_| bad("chunk data is not valid base64"));
        let hash = |hex: &str| {
            blake3::Hash::from_hex(hex)
                .map(|h| *h.as_bytes())
                .map_err(|_| strata_core::Error::invalid("hash", "a block hash is 64 hex digits"))
        };
        if chunk.len > strata_core::BLOCK_SIZE {
            return Err(bad("a chunk is at most one block long"));
        }
        let data = match (&chunk.hash, &chunk.data) {
            (Some(hex), None) => ChunkData::Block(hash(hex)?),
            (Some(hex), Some(b64)) => ChunkData::Patched(hash(hex)?, Patches::decode_within_limits(&data(b64)?)?),
            (None, Some(b64)) => {
                let bytes = data(b64)?;
                if bytes.len() as u64 > strata_core::INLINE_MAX || (bytes.len() as u64) < chunk.len {
                    return Err(bad("inline chunk data is at most 64 KiB and as long as the chunk"));
                }
                ChunkData::Inline(bytes)
            }
            (None, None) => return Err(bad("a chunk has a hash, inline data, or both")),
        };
        Ok(Chunk {
            idx: chunk.idx,
            len: chunk.len,
            data,
        })
    }
}

/// Which blocks no file names a collection pass may take, by when they were last touched
/// (ns): any touched before `touched`; but one a mount session uploaded (its file may still
/// be open there) only if touched before `uploaded`, no later than `touched`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub touched: i64,
    pub uploaded: i64,
}

/// The part of a volume's tree an operation may touch: all of it, or what lies below `root`
/// (a mount of a subpath). The engine checks every inode an operation names against it in
/// the transaction that runs the operation, so a directory moved out is out of reach at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub volume: uuid::Uuid,
    pub root: u64,
}

impl Reach {
    /// A folder of a volume and what lies below it.
    pub fn below(volume: uuid::Uuid, root: u64) -> Reach {
        Reach { volume, root }
    }
}

/// The whole tree of a volume.
impl From<uuid::Uuid> for Reach {
    fn from(volume: uuid::Uuid) -> Reach {
        Reach {
            volume,
            root: crate::ROOT_INO,
        }
    }
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
    /// Changes of mode, owner and times made after the writes, applied after them.
    pub then: Option<&'a strata_core::api::AttrChanges>,
    /// When the writer made the change (ns): its mtime and ctime, if within the last hour.
    pub at: Option<i64>,
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

/// How [`crate::MetaStore::add_token`] stores a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddKey {
    /// Only if its organization has no key of that name yet (servers starting together make
    /// one admin key).
    First,
    /// Unless its organization has this many live keys (neither revoked nor expired) already.
    Within(u64),
}

/// A sandbox as every server can read it: which organization, which server runs it, and
/// the server's own description (JSON, opaque to the metadata engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxRecord {
    pub id: uuid::Uuid,
    pub org: String,
    /// The id of the server whose runtime runs it.
    pub server: String,
    pub created_at: i64,
    pub body: String,
}

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
    /// The key that made this one, if a key did: revoking it revokes this one too.
    pub made_by: Option<uuid::Uuid>,
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

/// One change of a tree, as a batch of a mount that owns its tree carries it (see
/// [`crate::MetaStore::apply`]): the same operations, with the same checks, as the single calls.
#[derive(Debug, Clone)]
pub enum Change {
    Create {
        parent: u64,
        name: Vec<u8>,
        new: strata_core::api::NewInode,
        /// The session making it: an inode number it chose (`new.ino`) must be one granted
        /// to it.
        by: Option<uuid::Uuid>,
    },
    Link {
        ino: u64,
        parent: u64,
        name: Vec<u8>,
    },
    Unlink {
        parent: u64,
        name: Vec<u8>,
        /// When it was made (ns), if earlier than now.
        at: Option<i64>,
    },
    Rmdir {
        parent: u64,
        name: Vec<u8>,
        /// When it was made (ns), if earlier than now.
        at: Option<i64>,
    },
    Rename {
        from: (u64, Vec<u8>),
        to: (u64, Vec<u8>),
        flags: RenameFlags,
        /// When it was made (ns), if earlier than now.
        at: Option<i64>,
    },
    SetAttr {
        ino: u64,
        changes: strata_core::api::AttrChanges,
        /// When it was made (ns), if earlier than now.
        at: Option<i64>,
    },
    Write {
        ino: u64,
        write: WriteChange,
    },
    SetXattr {
        ino: u64,
        name: Vec<u8>,
        value: Vec<u8>,
        mode: XattrMode,
    },
    RemoveXattr {
        ino: u64,
        name: Vec<u8>,
    },
}

impl Change {
    /// The inodes the change names, which must lie within the reach it runs on.
    pub fn inodes(&self) -> Vec<u64> {
        match self {
            Change::Create { parent, .. } | Change::Unlink { parent, .. } | Change::Rmdir { parent, .. } => {
                vec![*parent]
            }
            Change::Link { ino, parent, .. } => vec![*ino, *parent],
            Change::Rename { from, to, .. } => vec![from.0, to.0],
            Change::SetAttr { ino, .. }
            | Change::Write { ino, .. }
            | Change::SetXattr { ino, .. }
            | Change::RemoveXattr { ino, .. } => vec![*ino],
        }
    }
}

/// [`ContentWrite`] as an owned value, for a change that travels in a batch.
#[derive(Debug, Clone, Default)]
pub struct WriteChange {
    pub chunks: Vec<Chunk>,
    pub replace_all: bool,
    pub cut_at: Option<u64>,
    pub size: u64,
    pub grow: bool,
    pub base: Option<Vec<Chunk>>,
    pub uploader: Option<uuid::Uuid>,
    pub then: Option<strata_core::api::AttrChanges>,
    pub at: Option<i64>,
}

impl WriteChange {
    pub fn as_write(&self) -> ContentWrite<'_> {
        ContentWrite {
            chunks: &self.chunks,
            replace_all: self.replace_all,
            cut_at: self.cut_at,
            size: self.size,
            grow: self.grow,
            base: self.base.as_deref(),
            uploader: self.uploader,
            then: self.then.as_ref(),
            at: self.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_the_same_bytes_by_their_hash_whatever_pack_holds_them() {
        let inline = Chunk {
            idx: 0,
            len: 5,
            data: ChunkData::Inline(b"hello".to_vec()),
        };
        let packed = |pack: u8, bytes: &[u8]| Chunk {
            idx: 0,
            len: 5,
            data: ChunkData::Packed {
                pack: [pack; 32],
                off: 7,
                sum: Some(*blake3::hash(bytes).as_bytes()),
            },
        };
        assert!(packed(1, b"hello").same_bytes(&packed(2, b"hello")));
        assert!(inline.same_bytes(&packed(2, b"hello")));
        assert!(!inline.same_bytes(&packed(2, b"jello")));
        let cut = Chunk {
            data: ChunkData::Packed {
                pack: [1; 32],
                off: 7,
                sum: None,
            },
            ..inline.clone()
        };
        assert!(!inline.same_bytes(&cut), "unknown bytes are not the same");
        assert!(!inline.same_bytes(&Chunk {
            len: 4,
            ..inline.clone()
        }));
    }
}
