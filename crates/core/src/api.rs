//! JSON bodies of the HTTP API (`/v1/...`), shared by the server and the clients.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenameVolume {
    /// The new name; the volume's snapshots are renamed with it.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VolumeState {
    Ready,
}

/// Returns a volume to a moment of its history (`to`: RFC 3339, or before now as `-10m`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreTo {
    pub to: String,
}

/// How long a volume keeps its past (`24h`, `0` for not at all); none: the server's setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryKeep {
    pub keep: Option<String>,
}

/// A window of changes in a volume's history: `before` names the volume as it was just
/// before them (`VOLUME@TIME` takes it), `changes` counts files changed, `bytes` bytes written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPoint {
    pub before: i64,
    pub first_change: i64,
    pub last_change: i64,
    pub changes: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Volume {
    pub id: Uuid,
    pub name: String,
    pub state: VolumeState,
    /// Nanoseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    pub used_bytes: u64,
    pub file_count: u64,
    /// The most bytes its files may hold, if it has a quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_bytes: Option<u64>,
    /// The most files, directories and links it may hold, if it has a quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_files: Option<u64>,
    /// For a snapshot (named `VOLUME@SNAPSHOT`), the volume it was taken of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_of: Option<Uuid>,
    /// For a fork, the volume it was forked from (what it is merged into or promoted over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<Uuid>,
    /// For a moment of a volume's history (named `VOLUME@TIME`), the instant it shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moment_at: Option<i64>,
    /// How long the volume keeps its past, if it says (else the server's setting), in ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_ns: Option<i64>,
    /// How the blocks it stores are compressed (`off`, `zstd:LEVEL`), if it says (else the
    /// server's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// When it was last used (ns): the later of its last change and the last mount opened on it.
    #[serde(default)]
    pub last_used_at: i64,
}

/// How a volume's new blocks are compressed: `off`, `zstd` (level 3) or `zstd:LEVEL` (1 to
/// 19); `null` (or absent): as the server says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompressionSetting {
    #[serde(default)]
    pub compression: Option<String>,
}

/// The blocks a volume's layers name and what the store keeps for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreUsage {
    /// Blocks named (each once, however many files, forks or past versions name it).
    pub blocks: u64,
    /// Their bytes, uncompressed.
    pub bytes: u64,
    /// The bytes the store keeps for them.
    pub stored_bytes: u64,
}

/// A volume's quota: each bound replaces the one it had; `null` (or absent) means none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quota {
    /// The most bytes its files may hold (their logical size, as `used_bytes` counts).
    #[serde(default)]
    pub bytes: Option<u64>,
    /// The most inodes (files, directories, links) it may hold, as `file_count` counts.
    #[serde(default)]
    pub files: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fork {
    /// Name of the new volume.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSnapshot {
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffEntry {
    pub path: String,
    pub change: Change,
}

/// Which side's version a merge takes where both the fork and the volume changed a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Prefer {
    Fork,
    Volume,
}

/// Merges a fork's changes since it was made into a volume (its source when unset).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeRequest {
    #[serde(default)]
    pub into: Option<String>,
    #[serde(default)]
    pub prefer: Option<Prefer>,
    /// Only report what the merge would do.
    #[serde(default)]
    pub dry_run: bool,
}

/// A path both sides changed since the fork was made, and what each did to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeConflict {
    pub path: String,
    pub fork: Change,
    pub volume: Change,
}

/// What a merge did (or, not applied, would do): the fork's changes it takes, as they change
/// the volume, and the conflicts. Nothing is applied on a dry run, nor when there are
/// conflicts and no side is preferred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeReport {
    pub applied: bool,
    pub changes: Vec<DiffEntry>,
    pub conflicts: Vec<MergeConflict>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateVolume {
    pub name: String,
    /// Return the existing volume of that name instead of failing.
    #[serde(default)]
    pub exist_ok: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirEntry {
    pub name: String,
    pub stat: Stat,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mkdir {
    pub path: String,
    #[serde(default)]
    pub parents: bool,
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rename {
    pub from: String,
    pub to: String,
    /// Fail if `to` exists instead of replacing it.
    #[serde(default)]
    pub no_replace: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Copy {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Remove {
    pub path: String,
    #[serde(default)]
    pub recursive: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Symlink {
    pub path: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Chmod {
    pub path: String,
    pub mode: u32,
}

/// `GET /v1/health`: the server is up; its version and clock, for `strata status` and
/// `strata doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
    /// The server's clock, nanoseconds since the Unix epoch.
    pub time_ns: i64,
}

/// `GET /v1/whoami`: the organization and API key a request was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Whoami {
    pub organization: String,
    pub key_name: String,
    pub role: String,
    /// For a scoped token: the one volume and folder it reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<TokenScope>,
}

/// What a garbage collection pass reclaimed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsckReport {
    /// Volumes and snapshots walked.
    pub volumes: u64,
    /// Inodes reached from the roots.
    pub inodes: u64,
    /// Blocks the trees name.
    pub blocks: u64,
    /// Layers no volume reaches: garbage collection deletes them.
    pub collectable_layers: u64,
    /// Blocks read back from the store and found whole (with `blocks`).
    #[serde(default)]
    pub blocks_read: u64,
    pub problems: Vec<FsckProblem>,
    /// Whether the problems found were mended.
    pub repaired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsckProblem {
    /// `dangling_chunk`, `missing_inode`, `counters` or `damaged_block`.
    pub kind: String,
    pub volume: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: crate::Error,
}

// Organizations, API keys and scoped tokens.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Org {
    pub name: String,
    pub created_at: i64,
    /// The bytes its volumes hold (their logical size; snapshots and history not counted).
    #[serde(default)]
    pub used_bytes: u64,
    /// The most bytes its volumes may hold together, if it has a quota.
    #[serde(default)]
    pub quota_bytes: Option<u64>,
    /// When it encrypts its blocks, the number of the data key new ones are encrypted with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<u32>,
}

/// What a re-encryption pass did: the blocks an organization keeps under its own names that
/// were rewritten with its current data key, and those already under it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reencrypted {
    pub data_key: u32,
    pub rewritten: u64,
    pub current: u64,
}

/// An organization's quota: `null` (or absent) means none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgQuota {
    /// The most bytes its volumes may hold together (a fork counts whole).
    #[serde(default)]
    pub bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOrg {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateKey {
    pub name: String,
    /// `admin`, `org-admin` or `member` (the default).
    #[serde(default)]
    pub role: Option<String>,
    /// The organization of the key; the caller's when absent (others: admin keys only).
    #[serde(default)]
    pub org: Option<String>,
    /// How long the key lives (`12h`, `30d`); forever when absent.
    #[serde(default)]
    pub ttl: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateToken {
    /// The one volume the token reaches.
    pub volume: String,
    /// The folder of the volume the token sees as its root, relative (`users/alice`).
    #[serde(default)]
    pub subpath: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub ttl: Option<String>,
    /// Unique in the organization; made up when absent.
    #[serde(default)]
    pub name: Option<String>,
}

/// What a scoped token reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenScope {
    pub volume_id: Uuid,
    /// The volume's name now; absent once the volume is deleted.
    pub volume: Option<String>,
    /// Absolute in the volume, `/` for all of it.
    pub subpath: String,
    pub read_only: bool,
}

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyInfo {
    pub id: Uuid,
    pub name: String,
    pub org: String,
    pub role: crate::keys::Role,
    pub created_at: i64,
    /// Nanoseconds since the Unix epoch; absent for a key that does not expire.
    pub expires_at: Option<i64>,
    pub scope: Option<TokenScope>,
}

/// A key just made: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewKey {
    pub key: KeyInfo,
    pub secret: String,
}

// Mount sessions: the inode-level API a mount uses.

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenSession {
    /// The volume folder the mount shows as its root, relative (`users/alice`); empty for all.
    #[serde(default)]
    pub subpath: String,
    #[serde(default)]
    pub read_only: bool,
}

/// An inode as a session names it: its number and the capability the server issued for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeRef {
    pub ino: u64,
    pub cap: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Node {
    pub node: NodeRef,
    pub stat: Stat,
    /// After a create or link: the directory's attributes as the change left them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Stat>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A live mount session, as `GET /v1/sessions` lists it: never its secret; its id and key
/// only to key admins and to the key that opened it (an id is enough to end a session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveSession {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub volume_id: Uuid,
    /// The volume's name now (`VOLUME@SNAPSHOT` for a snapshot); absent once it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    pub read_only: bool,
    /// When it was opened, nanoseconds since the Unix epoch.
    pub created_at: i64,
    /// When its lease ends unless the mount renews it (ns).
    pub alive_until: i64,
    /// The name of the key that opened it, if the key still exists and the caller may be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeOnly {
    pub node: NodeRef,
}

/// The most entries one page of a directory listing holds.
pub const READDIR_PAGE_MAX: u32 = 1024;

/// One page of a directory: up to `limit` entries (at most [`READDIR_PAGE_MAX`], the
/// default) whose names sort after `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirPage {
    pub entries: Vec<NamedNode>,
    /// Where the next page starts (its `after`); `None` on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeName {
    pub parent: NodeRef,
    pub name: String,
}

impl NodeName {
    /// The entry `name` of the directory `parent`.
    pub fn new(parent: NodeRef, name: &str) -> Self {
        NodeName {
            parent,
            name: name.to_owned(),
        }
    }
}

/// The removal of the entry `name` of the directory `parent` (`unlink`, `rmdir`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoveName {
    pub parent: NodeRef,
    pub name: String,
    /// When the mount made it (ns), for a removal shipped later: its directory's times.
    /// Taken if within the last hour, else now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

impl RemoveName {
    /// The removal of the entry `name` of the directory `parent`, now.
    pub fn new(parent: NodeRef, name: &str) -> Self {
        RemoveName {
            parent,
            name: name.to_owned(),
            at: None,
        }
    }
}

/// What a new inode starts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The inode number to give it, one the server granted to the creating session (see
    /// [`Grant`]); else the engine picks one. Set by the server from [`CreateNode::ino`].
    #[serde(skip)]
    pub ino: Option<u64>,
    /// When it was made (ns); else now. Set by the server from [`CreateNode::at`].
    #[serde(skip)]
    pub at: Option<i64>,
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
            ino: None,
            at: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateNode {
    pub parent: NodeRef,
    pub name: String,
    #[serde(flatten)]
    pub new: NewInode,
    /// An inode of the session's [`Grant`] to make it as, so a mount that owns its tree knows
    /// the number before the server does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ino: Option<NodeRef>,
    /// When the mount made it (ns), for a create shipped later: its times, and its
    /// directory's. Taken if within the last hour, else now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

/// Exclusive ownership of a session's tree, and inode numbers to create with: while it
/// lasts no other session uses the volume, so the mount may answer changes itself and ship
/// them later, in order, as [`Batch`]es. Empty `inodes`: not granted (another session uses
/// the volume, or the session's ownership is being recalled).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub inodes: Vec<NodeRef>,
}

/// How long to wait for a recall of the session's ownership.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AwaitRecall {
    /// At most this long (ms), bounded by the server.
    pub wait_ms: u64,
}

/// Whether the session still owns its tree, and whether the server asks it back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ownership {
    pub owner: bool,
    pub recalled: bool,
}

/// Changes a mount made while it owned its tree, in the order it made them: applied in one
/// transaction, each checked as the single call would be, all or none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Batch {
    /// Numbers the session's batches from 1: a repeat of one already applied (its answer was
    /// lost) is answered without applying it again.
    pub seq: u64,
    pub ops: Vec<BatchOp>,
    /// Durable when the call returns, as an fsync.
    #[serde(default)]
    pub durable: bool,
}

/// One change of a [`Batch`]: a session operation's name and its request body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchOp {
    pub op: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub args: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkNode {
    pub node: NodeRef,
    pub parent: NodeRef,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenameNode {
    pub parent: NodeRef,
    pub name: String,
    pub new_parent: NodeRef,
    pub new_name: String,
    #[serde(default)]
    pub no_replace: bool,
    /// When the mount made it (ns), for a rename shipped later: the times it sets. Taken if
    /// within the last hour, else now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

/// Attribute changes; `None` leaves a value as it is. A new `size` truncates or extends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttrChanges {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    /// Nanoseconds since the Unix epoch.
    pub atime: Option<i64>,
    pub mtime: Option<i64>,
}

impl AttrChanges {
    /// Lays the changes of mode, owner and times over `stat` (a new size is the caller's to
    /// make: it cuts or extends the content).
    pub fn apply_to(&self, stat: &mut Stat) {
        if let Some(mode) = self.mode {
            stat.mode = mode & 0o7777;
        }
        stat.uid = self.uid.unwrap_or(stat.uid);
        stat.gid = self.gid.unwrap_or(stat.gid);
        stat.atime = self.atime.unwrap_or(stat.atime);
        stat.mtime = self.mtime.unwrap_or(stat.mtime);
    }

    /// These changes, then `later`'s: what `later` sets wins.
    pub fn merge(&mut self, later: &AttrChanges) {
        self.mode = later.mode.or(self.mode);
        self.uid = later.uid.or(self.uid);
        self.gid = later.gid.or(self.gid);
        self.size = later.size.or(self.size);
        self.atime = later.atime.or(self.atime);
        self.mtime = later.mtime.or(self.mtime);
    }
}

/// A permission mode as a caller gives it: type bits and anything above `0o7777` refused.
pub fn check_mode(mode: u32, field: &str) -> crate::Result<u32> {
    if mode > 0o7777 {
        return Err(crate::Error::invalid(
            field,
            format!("mode {mode:o} has bits beyond 7777"),
        ));
    }
    Ok(mode)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetAttrNode {
    pub node: NodeRef,
    #[serde(flatten)]
    pub changes: AttrChanges,
    /// When the mount made the change (ns), for one shipped later by a mount that owns its
    /// tree: the inode's ctime. Taken if within the last hour, else now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

/// One chunk of a file: a block by its hex BLAKE3 `hash`, or base64 `data` held inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChunkRef {
    pub idx: u64,
    pub len: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Content {
    pub stat: Stat,
    pub chunks: Vec<ChunkRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Changes of mode, owner and times the writer made after its writes (no `size`):
    /// applied after the content, in the same transaction, so an mtime set after the last
    /// write stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<AttrChanges>,
    /// When the writer made the change (ns), for a change shipped later by a mount that owns
    /// its tree: its mtime and ctime. Taken if within the last hour, else now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum XattrSetMode {
    #[default]
    Any,
    Create,
    Replace,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct XattrValue {
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct XattrNames {
    /// Base64 of each name's bytes.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsStats {
    pub used_bytes: u64,
    pub files: u64,
    /// The volume's quota, or the room its organization's quota leaves it if less, which a
    /// mount shows as its size (`df`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_files: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    Read,
    Write,
    Unlock,
}

/// A byte range lock, `start..=end` (`end` is `u64::MAX` for "to the end of the file").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockRange {
    pub start: u64,
    pub end: u64,
    pub kind: LockKind,
    /// The process that holds it, as its mount reported.
    #[serde(default)]
    pub pid: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockRequest {
    pub node: NodeRef,
    /// The lock owner the kernel names within the mount.
    pub owner: u64,
    pub range: LockRange,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockTest {
    /// The conflicting lock, if any.
    pub conflict: Option<LockRange>,
}

/// One volume of a sandbox: which (id or name), which folder of it, where, how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxVolumeSpec {
    /// A volume's id or name.
    pub volume_id: String,
    /// Absolute path inside the sandbox.
    pub mount_path: String,
    /// A folder of the volume (relative, e.g. users/alice); the whole volume when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSandbox {
    #[serde(default)]
    pub volumes: Vec<SandboxVolumeSpec>,
    /// The environment of every process inside, beside `HOME` and `PATH`; nothing else of
    /// the server's is there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Resource limits; each one left out takes its default.
    #[serde(default)]
    pub limits: SandboxLimitsSpec,
    #[serde(default)]
    pub network: SandboxNetwork,
}

/// Limits asked for at create; a field left out takes the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxLimitsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    /// CPU time in thousandths of a core (1000 = one core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub millicpus: Option<u64>,
    /// Bytes each writable folder (`/root`, `/tmp`) holds, in MiB; they count as memory too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_mib: Option<u64>,
}

/// The limits a sandbox runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxLimits {
    pub memory_mib: u64,
    pub processes: u64,
    pub millicpus: u64,
    pub disk_mib: u64,
}

/// What a sandbox's network reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SandboxNetwork {
    /// A loopback of its own and nothing else.
    #[default]
    None,
    /// Also an interface whose connections leave through the host's network, as the
    /// server's own would, but never to the host's loopback; nothing comes in.
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SandboxState {
    Running,
    /// Its init ended (every process inside went with it); only deleting it is left.
    Stopped,
    /// Its processes are gone (the server restarted); only deleting it is left.
    Lost,
}

/// A volume as a sandbox mounts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxVolume {
    pub volume_id: Uuid,
    pub volume: String,
    pub mount_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    pub read_only: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sandbox {
    pub id: Uuid,
    pub state: SandboxState,
    /// Nanoseconds since the Unix epoch.
    pub created_at: i64,
    pub volumes: Vec<SandboxVolume>,
    pub limits: SandboxLimits,
    #[serde(default)]
    pub network: SandboxNetwork,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exec {
    /// Run as `sh -c COMMAND` inside the sandbox.
    pub command: String,
    /// Seconds before the command is killed (default 60, at most 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecResult {
    /// The command's exit status; 128 + N when signal N ended it.
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Output past the limit was dropped.
    pub truncated: bool,
    pub timed_out: bool,
}
