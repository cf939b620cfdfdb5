//! The metadata engine: every volume is an inode/dentry tree, kept in layers.
//!
//! A volume points at a *head* layer. A layer may have a parent; frozen layers never change
//! again, so several volumes (a volume and its forks, or a volume and its snapshots) can share
//! them. A lookup walks the chain from the head down and takes the first answer it finds;
//! deletions of something a lower layer holds are written to the head as *whiteouts*.
//! Forking therefore costs a constant number of rows: freeze the head, give both sides a new
//! empty head on top of it.
//!
//! An inode's attributes, its chunk list and its xattrs always live together in the topmost
//! layer that holds the inode: changing an inode held only by a frozen layer first copies
//! that inode (not the tree) up into the head.
//!
//! File content is a list of chunks: chunk `i` covers `len` bytes from `i * BLOCK_SIZE`
//! and is either a content-addressed block in the object store or, for small files,
//! bytes inline in the metadata or a slice of a *pack* (one stored object holding the bytes
//! of many small files shipped together). Missing chunks read as zeros (sparse files).
//!
//! Blocks are reclaimed by mark-and-sweep, see [`MetaStore::mark_unreferenced_blocks`].

mod engines;
mod sql;
mod types;

pub use engines::open_url;
pub use engines::postgres::PostgresMeta;
pub use engines::sqlite::SqliteMeta;
pub use sql::SqlMeta;
pub use strata_core::api::{AttrChanges, FsckReport, LockRange, NewInode, StoreUsage};
pub use strata_core::{Error, ErrorKind, Result};
pub use types::*;

use strata_core::api::{HistoryPoint, Org, Quota, Stat, Volume};
use strata_core::keys::OrgName;
use strata_core::names::{VolumeName, VolumeRef};
use uuid::Uuid;

/// Inode number of every volume's root directory.
pub const ROOT_INO: u64 = 1;

/// Reads packs from the object store, for the rare check that needs a packed chunk's bytes:
/// whether a writer's base, inline as the writer saw it, is what the file still holds.
pub trait PackReader: Send + Sync {
    /// A pack of organization `org`.
    fn read(&self, org: &str, pack: &BlockHash) -> Result<bytes::Bytes>;
}

/// An organization's keys as the metadata keeps them, wrapped by the server's master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKeys {
    pub naming: Vec<u8>,
    /// The data key new blocks are encrypted with.
    pub current: u32,
    pub data: Vec<(u32, Vec<u8>)>,
}

/// The one interface every metadata backend implements.
///
/// Each method is one transaction: it happens wholly or not at all.
pub trait MetaStore: Send + Sync + 'static {
    /// Makes every committed transaction durable. Transactions are atomic and survive a
    /// crash of the process as soon as they commit; this also makes them survive power loss.
    fn sync(&self) -> Result<()>;
    /// Gives the engine its way to read packs (once, at start; before it, a packed chunk
    /// never equals a base sent inline).
    fn read_packs_with(&self, reader: std::sync::Arc<dyn PackReader>);

    // Tokens.
    /// Stores a key as `rule` says; returns whether it did.
    fn add_token(&self, token: &TokenRecord, rule: AddKey) -> Result<bool>;
    /// The key with that hash, revoked and expired ones included.
    fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>>;
    fn get_token(&self, id: Uuid) -> Result<Option<TokenRecord>>;
    /// The keys of an organization that are not revoked, oldest first.
    fn list_tokens(&self, org: &str) -> Result<Vec<TokenRecord>>;
    /// Revokes a key for good, and the keys it made (and theirs), ending the mount sessions
    /// they opened; returns every key revoked (`NotFound` if there is no such key not yet
    /// revoked).
    fn revoke_token(&self, id: Uuid, now: i64) -> Result<Vec<Uuid>>;

    // Organizations.
    fn create_org(&self, name: &OrgName) -> Result<Org>;
    fn list_orgs(&self) -> Result<Vec<Org>>;
    /// An organization with the bytes its volumes hold and its quota.
    fn get_org(&self, name: &str) -> Result<Org>;
    /// Sets an organization's quota of bytes (`None`: no bound): from then on no change may
    /// grow its volumes past it together (`sql/quotas.rs`).
    fn set_org_quota(&self, name: &str, bytes: Option<u64>) -> Result<Org>;

    // Sandboxes.
    /// Stores a new sandbox unless its organization has `limit` already (`LimitExceeded`).
    fn add_sandbox(&self, sandbox: &SandboxRecord, limit: u64) -> Result<()>;
    /// Replaces a sandbox's body (`NotFound` if it is gone).
    fn update_sandbox(&self, id: Uuid, body: &str) -> Result<()>;
    fn get_sandbox(&self, id: Uuid) -> Result<Option<SandboxRecord>>;
    /// An organization's sandboxes, or every one (`None`), oldest first.
    fn list_sandboxes(&self, org: Option<&str>) -> Result<Vec<SandboxRecord>>;
    fn remove_sandbox(&self, id: Uuid) -> Result<()>;

    // Mount sessions.
    /// Opens a session unless its organization has `limit` live ones already (`LimitExceeded`).
    fn add_session(&self, session: &SessionRecord, limit: u64) -> Result<()>;
    fn find_session(&self, id: Uuid) -> Result<Option<SessionRecord>>;
    /// An organization's sessions (mounts) alive at `now`, oldest first.
    fn org_sessions(&self, org: &str, now: i64) -> Result<Vec<SessionRecord>>;
    /// The sessions (mounts) alive at `now` on a volume or one of its snapshots, oldest first.
    fn live_sessions(&self, vol: Uuid, now: i64) -> Result<Vec<Uuid>>;
    /// Extends a session's lease to `alive_until` (ns); its record locks count until then.
    fn renew_session(&self, id: Uuid, alive_until: i64) -> Result<()>;
    /// How many volumes (snapshots included) there are, and sessions whose lease runs at `now`.
    fn counts(&self, now: i64) -> Result<(u64, u64)>;
    /// Removes sessions whose lease ended before `before`, with their locks; returns how many.
    fn expire_sessions(&self, before: i64) -> Result<u64>;
    /// Closes a session and releases its record locks.
    fn remove_session(&self, id: Uuid) -> Result<()>;

    // Ownership of a session's tree (its root and all below) by a mount session, which then
    // makes changes locally and ships them in batches (see [`MetaStore::apply`]).
    /// Grants a writable session exclusive ownership of its tree and `inodes` new inode
    /// numbers to create with (returns the first), unless another session alive at `now`
    /// has a tree that overlaps it (one lies within the other), the volume was used by
    /// someone else less than a second before, or the session's ownership is being
    /// recalled (`None`). Sessions on folders apart (tenants) may each own theirs.
    fn own(&self, session: Uuid, inodes: u64, now: i64) -> Result<Option<u64>>;
    /// Ends a session's ownership.
    fn disown(&self, session: Uuid) -> Result<()>;
    /// Takes the ownership from a session that did not give it back when recalled; it is
    /// not granted again to that session.
    fn revoke_ownership(&self, session: Uuid) -> Result<()>;
    /// Notes that `vol` is used at `now` by someone other than its owners (`by` a session
    /// opening on it, else by a caller of no session), and asks the owners whose trees the
    /// caller may touch (all, or, given its `reach`, a directory, those whose tree overlaps
    /// it) to give their ownership back (an owner whose lease ran out loses it at once);
    /// returns one of them with the time until which it listens for a recall, to wait for.
    fn recall(&self, vol: Uuid, now: i64, by: Option<Uuid>, reach: Option<u64>) -> Result<Option<(Uuid, i64)>>;
    /// Records until when (ns) a session is waiting to hear of a recall; `now` once it stopped.
    fn listening(&self, session: Uuid, until: i64) -> Result<()>;
    /// Whether a session owns its tree, and whether its ownership is recalled (`None`: no
    /// such session).
    fn ownership(&self, session: Uuid) -> Result<Option<(bool, bool)>>;
    /// Applies `changes` in order in one transaction, each as its single call would, all or
    /// none. With `owner`, a session and the number of this batch of its changes: only while
    /// that session owns the volume (`Conflict` otherwise), and only once (a batch numbered
    /// no higher than one applied is answered with nothing, unapplied). Returns what each
    /// change left of the inode it made or changed, where there is one.
    fn apply(&self, at: Reach, owner: Option<(Uuid, u64)>, changes: &[Change]) -> Result<Vec<Option<Stat>>>;

    // Record locks, shared by every mount and every server.
    /// The first lock of another owner that `want` conflicts with, among live sessions' locks.
    fn test_lock(&self, at: Reach, ino: u64, owner: (Uuid, u64), want: &LockRange) -> Result<Option<LockRange>>;
    /// Takes (or releases) a range for `owner`; `Some(conflict)` if another owner is in the way.
    fn set_lock(&self, at: Reach, ino: u64, owner: (Uuid, u64), want: LockRange) -> Result<Option<LockRange>>;

    // Volumes.
    fn create_volume(&self, org: &str, name: &VolumeName, limit: u64) -> Result<Volume>;
    fn get_volume(&self, org: &str, volume: &VolumeRef) -> Result<Volume>;
    fn list_volumes(&self, org: &str) -> Result<Vec<Volume>>;
    fn delete_volume(&self, org: &str, id: Uuid) -> Result<()>;
    /// Gives a volume a new name, its snapshots too (`VOLUME@NAME`); `AlreadyExists` if
    /// that name, or one of the snapshots' new names, is taken.
    fn rename_volume(&self, org: &str, id: Uuid, name: &VolumeName) -> Result<Volume>;
    /// Sets a volume's quota of bytes and files (`None`: no bound). From then on every change
    /// that would grow a count past its bound fails whole with `QuotaExceeded`; the counts are
    /// the volume's own (a fork starts with its source's counts and no quota).
    fn set_quota(&self, org: &str, id: Uuid, quota: Quota) -> Result<Volume>;
    /// Sets how the blocks a volume stores from now on are compressed (`None`: as the
    /// server says). The setting is stored as given; the server checks it first.
    fn set_compression(&self, org: &str, id: Uuid, compression: Option<&str>) -> Result<Volume>;
    /// The blocks a volume's layers name (its past, forks' shared layers and snapshots'
    /// included), with their bytes and the bytes the store keeps for them. Reads every
    /// chunk of those layers.
    fn volume_usage(&self, org: &str, id: Uuid) -> Result<StoreUsage>;
    /// A new volume holding exactly what `source` holds now; its cost does not grow with size.
    fn fork_volume(&self, org: &str, source: Uuid, name: &VolumeName, limit: u64) -> Result<Volume>;

    /// Paths added, removed and changed from `from` to `to`, in path order, from one read:
    /// see `sql/diff.rs` (the cost follows the changes when they share layers).
    fn diff(&self, from: Uuid, to: Uuid) -> Result<Vec<strata_core::api::DiffEntry>>;
    /// Merges a fork's changes since it was made into `into` (its source when `None`): see
    /// `sql/merge.rs`. One transaction; nothing is applied on a dry run or on conflicts with
    /// no side preferred.
    fn merge_fork(
        &self,
        org: &str,
        fork: Uuid,
        into: Option<Uuid>,
        prefer: Option<strata_core::api::Prefer>,
        dry_run: bool,
    ) -> Result<strata_core::api::MergeReport>;
    /// Makes a fork's tree its source's (same id and name), keeping the source's last tree as
    /// the snapshot `SOURCE@KEEP_AS`; returns the source.
    fn promote_volume(&self, org: &str, fork: Uuid, keep_as: &VolumeName, limit: u64) -> Result<Volume>;
    /// Freezes a volume's tree as the snapshot `VOLUME@NAME` (a read-only volume), unless the
    /// volume has `limit` snapshots already (`LimitExceeded`).
    fn snapshot_volume(&self, org: &str, volume: Uuid, name: &VolumeName, limit: u64) -> Result<Volume>;
    fn list_snapshots(&self, org: &str, volume: Uuid) -> Result<Vec<Volume>>;
    /// Returns a volume to one of its snapshots; later changes are gone.
    fn restore_volume(&self, org: &str, volume: Uuid, snapshot: Uuid) -> Result<Volume>;
    /// Merges the frozen layers under a volume's head into one when the chain a lookup walks
    /// is longer than `max_depth`; returns whether it did. Copies rows, never block data.
    fn flatten_volume(&self, vol: Uuid, max_depth: usize) -> Result<bool>;

    // History (see `sql/history.rs`): how long volumes keep their past unless they say, and
    // how far apart its points are at least; a volume's own keep (`None`: the server's);
    // its windows of changes, newest first. A moment is named by `VolumeRef::Moment`.
    fn set_history(&self, keep_ns: i64, step_ns: i64);
    fn set_volume_history(&self, org: &str, id: Uuid, keep_ns: Option<i64>) -> Result<Volume>;
    fn history(&self, org: &str, id: Uuid, limit: u64) -> Result<Vec<HistoryPoint>>;
    /// How many layers a lookup in this volume may walk.
    fn chain_depth(&self, vol: Uuid) -> Result<usize>;

    // The tree of one volume. Operations that take a [`Reach`] fail with `NotFound` (field
    // `node`) when an inode they name lies outside it.
    fn lookup(&self, at: Reach, parent: u64, name: &[u8]) -> Result<Stat>;
    fn getattr(&self, at: Reach, ino: u64) -> Result<Stat>;
    /// Whether `ino` is `root` or below it in the tree as it is now (a subpath session's reach).
    fn within(&self, vol: Uuid, ino: u64, root: u64) -> Result<bool>;
    fn readdir(&self, vol: Uuid, ino: u64) -> Result<Vec<(Vec<u8>, Stat)>>;
    /// A directory in pages of names: up to `limit` entries after `after`.
    fn readdir_page(&self, at: Reach, ino: u64, after: Option<&[u8]>, limit: usize) -> Result<DirPage>;
    fn create(&self, at: Reach, parent: u64, name: &[u8], new: &NewInode) -> Result<Stat>;
    fn link(&self, at: Reach, ino: u64, parent: u64, name: &[u8]) -> Result<Stat>;
    fn unlink(&self, at: Reach, parent: u64, name: &[u8]) -> Result<()>;
    fn rmdir(&self, at: Reach, parent: u64, name: &[u8]) -> Result<()>;
    fn rename(&self, at: Reach, from: (u64, &[u8]), to: (u64, &[u8]), flags: RenameFlags) -> Result<()>;
    fn setattr(&self, at: Reach, ino: u64, changes: &AttrChanges) -> Result<Stat>;

    // Extended attributes.
    fn get_xattr(&self, at: Reach, ino: u64, name: &[u8]) -> Result<Vec<u8>>;
    fn set_xattr(&self, at: Reach, ino: u64, name: &[u8], value: &[u8], mode: XattrMode) -> Result<()>;
    fn list_xattrs(&self, at: Reach, ino: u64) -> Result<Vec<Vec<u8>>>;
    fn remove_xattr(&self, at: Reach, ino: u64, name: &[u8]) -> Result<()>;

    // File content.
    fn chunks(&self, at: Reach, ino: u64) -> Result<(Stat, Vec<Chunk>)>;
    /// Stores `chunks` (replacing chunks of the same index, or all chunks when `replace_all`)
    /// and sets the file's size. Every block named must have been registered with
    /// [`MetaStore::touch_block`].
    fn write_chunks(&self, vol: Uuid, ino: u64, size: u64, chunks: &[Chunk], replace_all: bool) -> Result<Stat> {
        let write = ContentWrite {
            chunks,
            replace_all,
            size,
            ..ContentWrite::default()
        };
        self.write_content(vol.into(), ino, &write)
    }
    /// Changes a file's content as `write` says; every block named must have been registered
    /// with [`MetaStore::touch_block`].
    fn write_content(&self, at: Reach, ino: u64, write: &ContentWrite) -> Result<Stat>;

    // Whole paths and subtrees, each one transaction.
    /// Resolves a path of names from the root directory.
    fn resolve(&self, vol: Uuid, path: &[String]) -> Result<Stat>;
    /// Creates the file at `path` if missing (with `mode`, and its missing parent folders)
    /// and replaces its content.
    fn put_file(&self, vol: Uuid, path: &[String], mode: u32, size: u64, chunks: &[Chunk]) -> Result<Stat>;
    /// Makes `to` a file with the content of the file `from`, sharing its blocks.
    fn copy_file(&self, vol: Uuid, from: &[String], to: &[String]) -> Result<Stat>;
    /// Creates every missing directory of `path` (`mkdir -p`).
    fn mkdir_all(&self, vol: Uuid, path: &[String], mode: u32) -> Result<Stat>;
    /// Removes a file or an empty directory; with `recursive`, a directory and all below it.
    fn remove_path(&self, vol: Uuid, path: &[String], recursive: bool) -> Result<()>;

    // Blocks and garbage collection.
    /// Registers a block that is about to be stored (or already is), protecting it from
    /// collection for the grace period. Fails with `Unavailable` while the block is being deleted.
    /// `stored` is the bytes the store keeps for it (compressed), kept from its first touch;
    /// `copy`, the organization that keeps it under a name of its own (it encrypts).
    fn touch_block(&self, hash: &BlockHash, size: u64, stored: u64, copy: Option<&str>) -> Result<()>;
    /// Registers a block a mount session is storing (as [`MetaStore::touch_block`]) and
    /// remembers that the session has it.
    fn touch_session_block(
        &self,
        session: Uuid,
        hash: &BlockHash,
        size: u64,
        stored: u64,
        copy: Option<&str>,
    ) -> Result<()>;
    /// The organizations keeping a copy of each of `hashes` under names of their own (a
    /// block missing here is kept only under its hash).
    fn block_copies(&self, hashes: &[BlockHash]) -> Result<std::collections::HashMap<BlockHash, Vec<String>>>;
    /// Every block an organization keeps a copy of.
    fn org_block_copies(&self, org: &str) -> Result<Vec<BlockHash>>;

    // Keys of organizations that encrypt (wrapped: the metadata never holds one in clear).
    /// An organization's keys, if it encrypts.
    fn org_keys(&self, org: &str) -> Result<Option<WrappedKeys>>;
    /// Makes an organization encrypt from now on, with these keys (its data key is number 1).
    /// Fails if it already does.
    fn encrypt_org(&self, org: &str, naming: &[u8], data: &[u8]) -> Result<()>;
    /// Adds data key `id` (the next number, which the caller wrapped for) and makes it the one
    /// new blocks are encrypted with; fails if another was added meanwhile.
    fn add_data_key(&self, org: &str, id: u32, wrapped: &[u8]) -> Result<()>;
    /// Whether a mount session of `vol` may read a block: its volume names it, or it uploaded it.
    fn session_may_read(&self, vol: Uuid, session: Uuid, hash: &BlockHash) -> Result<bool>;
    /// Deletes layers that no volume can reach any more; returns how many.
    fn collect_layers(&self) -> Result<u64>;
    /// Marks for deletion by collection pass `pass` the blocks that no chunk references and
    /// that were committed or last touched before `cutoffs`, and takes over the marks of a
    /// pass that died; returns this pass's blocks. Passes on several servers never share a block.
    fn mark_unreferenced_blocks(&self, cutoffs: Cutoffs, pass: Uuid) -> Result<Vec<(BlockHash, u64)>>;
    /// Forgets blocks that pass `pass` marked, once their objects are gone.
    fn forget_blocks(&self, hashes: &[BlockHash], pass: Uuid) -> Result<()>;
    /// What a collection pass with these `cutoffs` would delete now: layers, and blocks with sizes.
    fn collectable(&self, cutoffs: Cutoffs) -> Result<(u64, Vec<(BlockHash, u64)>)>;
    /// Every block the registry holds as stored (not being collected).
    fn stored_blocks(&self) -> Result<Vec<BlockHash>>;
    /// Checks every tree; chunks naming a block in `missing` (the store lacks it, as listed
    /// from `since`, ns) count as dangling unless it was touched after `since`. With `repair`,
    /// mends what it finds (see `strata fsck`), one volume per transaction.
    fn fsck(&self, missing: &std::collections::HashSet<BlockHash>, since: i64, repair: bool) -> Result<FsckReport>;
}
