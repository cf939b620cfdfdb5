//! JSON bodies of the HTTP API (`/v1/...`), shared by the server and the clients.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeState {
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub id: Uuid,
    pub name: String,
    pub state: VolumeState,
    /// Nanoseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    pub used_bytes: u64,
    pub file_count: u64,
    /// For a snapshot (named `VOLUME@SNAPSHOT`), the volume it was taken of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_of: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fork {
    /// Name of the new volume.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateSnapshot {
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffEntry {
    pub path: String,
    pub change: Change,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateVolume {
    pub name: String,
    /// Return the existing volume of that name instead of failing.
    #[serde(default)]
    pub exist_ok: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

/// Attributes of one inode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    pub ino: u64,
    pub kind: FileKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub nlink: u32,
    pub rdev: u32,
    /// Nanoseconds since the Unix epoch.
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    pub name: String,
    pub stat: Stat,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mkdir {
    pub path: String,
    #[serde(default)]
    pub parents: bool,
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
    /// Fail if `to` exists instead of replacing it.
    #[serde(default)]
    pub no_replace: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Copy {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remove {
    pub path: String,
    #[serde(default)]
    pub recursive: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Symlink {
    pub path: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Chmod {
    pub path: String,
    pub mode: u32,
}

/// What a garbage collection pass reclaimed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcReport {
    pub layers_deleted: u64,
    pub blocks_deleted: u64,
    pub bytes_deleted: u64,
    /// True when nothing was deleted: the counts say what a real pass would delete now.
    #[serde(default)]
    pub dry_run: bool,
}

/// What `fsck` found (and, with `repair`, mended).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsckReport {
    /// Volumes and snapshots walked.
    pub volumes: u64,
    /// Inodes reached from the roots.
    pub inodes: u64,
    /// Blocks the trees name.
    pub blocks: u64,
    /// Layers no volume reaches: garbage collection deletes them.
    pub collectable_layers: u64,
    pub problems: Vec<FsckProblem>,
    /// Whether the problems found were mended.
    pub repaired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsckProblem {
    /// `dangling_chunk`, `missing_inode` or `counters`.
    pub kind: String,
    pub volume: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: crate::Error,
}

// Mount sessions: the inode-level API a mount uses.

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenSession {
    /// The volume folder the mount shows as its root, relative (`users/alice`); empty for all.
    #[serde(default)]
    pub subpath: String,
    #[serde(default)]
    pub read_only: bool,
}

/// An inode as a session names it: its number and the capability the server issued for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeRef {
    pub ino: u64,
    pub cap: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub node: NodeRef,
    pub stat: Stat,
    /// After a create or link: the directory's attributes as the change left them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Stat>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: Uuid,
    pub volume: Volume,
    pub read_only: bool,
    pub root: Node,
    /// How long the session's record locks count without a renewal, in milliseconds.
    #[serde(default = "default_lease_ms")]
    pub lease_ms: u64,
}

fn default_lease_ms() -> u64 {
    30_000
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedNode {
    pub name: String,
    pub node: NodeRef,
    pub stat: Stat,
    /// Whether it has extended attributes (a listing says, so that a mount answers "none"
    /// without asking for each file).
    #[serde(default)]
    pub xattrs: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeOnly {
    pub node: NodeRef,
}

/// The most entries one page of a directory listing holds.
pub const READDIR_PAGE_MAX: u32 = 1024;

/// One page of a directory: up to `limit` entries (at most [`READDIR_PAGE_MAX`], the
/// default) whose names sort after `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadDir {
    pub node: NodeRef,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl ReadDir {
    /// The page size asked for, checked: 1 to [`READDIR_PAGE_MAX`].
    pub fn checked_limit(&self) -> crate::Result<usize> {
        match self.limit.unwrap_or(READDIR_PAGE_MAX) {
            n @ 1..=READDIR_PAGE_MAX => Ok(n as usize),
            n => Err(crate::Error::invalid(
                "limit",
                format!("a directory page holds 1 to {READDIR_PAGE_MAX} entries, not {n}"),
            )),
        }
    }

    /// The name to continue after, checked as a file name.
    pub fn checked_after(&self) -> crate::Result<Option<&[u8]>> {
        let Some(after) = &self.after else {
            return Ok(None);
        };
        crate::paths::check_name(after.as_bytes()).map_err(|e| e.with_field("after"))?;
        Ok(Some(after.as_bytes()))
    }
}

/// A page of a directory listing, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirPage {
    pub entries: Vec<NamedNode>,
    /// Where the next page starts (its `after`); `None` on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeName {
    pub parent: NodeRef,
    pub name: String,
}

/// What a new inode starts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInode {
    pub kind: FileKind,
    pub mode: u32,
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    #[serde(default)]
    pub rdev: u32,
    /// The target, for a symlink.
    #[serde(default)]
    pub target: Option<String>,
}

impl NewInode {
    pub fn new(kind: FileKind, mode: u32) -> Self {
        NewInode {
            kind,
            mode,
            uid: 0,
            gid: 0,
            rdev: 0,
            target: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateNode {
    pub parent: NodeRef,
    pub name: String,
    #[serde(flatten)]
    pub new: NewInode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkNode {
    pub node: NodeRef,
    pub parent: NodeRef,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenameNode {
    pub parent: NodeRef,
    pub name: String,
    pub new_parent: NodeRef,
    pub new_name: String,
    #[serde(default)]
    pub no_replace: bool,
}

/// Attribute changes; `None` leaves a value as it is. A new `size` truncates or extends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttrChanges {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    /// Nanoseconds since the Unix epoch.
    pub atime: Option<i64>,
    pub mtime: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAttrNode {
    pub node: NodeRef,
    #[serde(flatten)]
    pub changes: AttrChanges,
}

/// One chunk of a file: a block by its hex BLAKE3 `hash`, or base64 `data` held inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRef {
    pub idx: u64,
    pub len: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Content {
    pub stat: Stat,
    pub chunks: Vec<ChunkRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteContent {
    pub node: NodeRef,
    /// The new size; with `grow`, the file becomes at least this long instead (a writer
    /// that only wrote sends the end of its writes, so it never undoes another's truncate).
    pub size: u64,
    #[serde(default)]
    pub grow: bool,
    pub chunks: Vec<ChunkRef>,
    #[serde(default)]
    pub replace_all: bool,
    /// Cut the content at this offset before storing `chunks` (the writer truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_at: Option<u64>,
    /// The chunks the writer read, for every index it replaces: when given, the write applies
    /// only if the file still has exactly these, and fails with 412 (`stale`) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Vec<ChunkRef>>,
    /// Durable (on stable storage) when the call returns, as `fsync` asks.
    #[serde(default)]
    pub durable: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XattrSetMode {
    #[default]
    Any,
    Create,
    Replace,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Xattr {
    pub node: NodeRef,
    /// Base64 of the attribute name's bytes.
    pub name: String,
    /// Base64 of the value, for set.
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub mode: XattrSetMode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct XattrValue {
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct XattrNames {
    /// Base64 of each name's bytes.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FsStats {
    pub used_bytes: u64,
    pub files: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    Read,
    Write,
    Unlock,
}

/// A byte range lock, `start..=end` (`end` is `u64::MAX` for "to the end of the file").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRange {
    pub start: u64,
    pub end: u64,
    pub kind: LockKind,
    /// The process that holds it, as its mount reported.
    #[serde(default)]
    pub pid: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockRequest {
    pub node: NodeRef,
    /// The lock owner the kernel names within the mount.
    pub owner: u64,
    pub range: LockRange,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockTest {
    /// The conflicting lock, if any.
    pub conflict: Option<LockRange>,
}
