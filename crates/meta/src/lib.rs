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
//! bytes inline in the metadata. Missing chunks read as zeros (sparse files).
//!
//! Blocks are reclaimed by mark-and-sweep, see [`MetaStore::mark_unreferenced_blocks`].

mod sqlite;
mod types;

pub use sqlite::SqliteMeta;
pub use strata_core::api::{AttrChanges, NewInode};
pub use strata_core::{Error, ErrorKind, Result};
pub use types::*;

use strata_core::api::{Stat, Volume};
use strata_core::names::{VolumeName, VolumeRef};
use uuid::Uuid;

/// Inode number of every volume's root directory.
pub const ROOT_INO: u64 = 1;

/// The one interface every metadata backend implements.
///
/// Each method is one transaction: it happens wholly or not at all.
pub trait MetaStore: Send + Sync + 'static {
    /// Makes every committed transaction durable. Transactions are atomic and survive a
    /// crash of the process as soon as they commit; this also makes them survive power loss.
    fn sync(&self) -> Result<()>;

    // Tokens.
    fn add_token(&self, token: &TokenRecord) -> Result<()>;
    fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>>;

    // Mount sessions.
    fn add_session(&self, session: &SessionRecord) -> Result<()>;
    fn find_session(&self, id: Uuid) -> Result<Option<SessionRecord>>;
    fn remove_session(&self, id: Uuid) -> Result<()>;

    // Volumes.
    fn create_volume(&self, org: &str, name: &VolumeName, limit: u64) -> Result<Volume>;
    fn get_volume(&self, org: &str, volume: &VolumeRef) -> Result<Volume>;
    fn list_volumes(&self, org: &str) -> Result<Vec<Volume>>;
    fn delete_volume(&self, org: &str, id: Uuid) -> Result<()>;
    /// A new volume holding exactly what `source` holds now; its cost does not grow with size.
    fn fork_volume(&self, org: &str, source: Uuid, name: &VolumeName, limit: u64) -> Result<Volume>;

    /// Freezes a volume's tree as the snapshot `VOLUME@NAME` (a read-only volume).
    fn snapshot_volume(&self, org: &str, volume: Uuid, name: &VolumeName) -> Result<Volume>;
    fn list_snapshots(&self, org: &str, volume: Uuid) -> Result<Vec<Volume>>;
    /// Returns a volume to one of its snapshots; later changes are gone.
    fn restore_volume(&self, org: &str, volume: Uuid, snapshot: Uuid) -> Result<Volume>;
    /// Merges the frozen layers under a volume's head into one when the chain a lookup walks
    /// is longer than `max_depth`; returns whether it did. Copies rows, never block data.
    fn flatten_volume(&self, vol: Uuid, max_depth: usize) -> Result<bool>;
    /// How many layers a lookup in this volume may walk.
    fn chain_depth(&self, vol: Uuid) -> Result<usize>;

    // The tree of one volume.
    fn lookup(&self, vol: Uuid, parent: u64, name: &[u8]) -> Result<Stat>;
    fn getattr(&self, vol: Uuid, ino: u64) -> Result<Stat>;
    fn readdir(&self, vol: Uuid, ino: u64) -> Result<Vec<(Vec<u8>, Stat)>>;
    fn create(&self, vol: Uuid, parent: u64, name: &[u8], new: &NewInode) -> Result<Stat>;
    fn link(&self, vol: Uuid, ino: u64, parent: u64, name: &[u8]) -> Result<Stat>;
    fn unlink(&self, vol: Uuid, parent: u64, name: &[u8]) -> Result<()>;
    fn rmdir(&self, vol: Uuid, parent: u64, name: &[u8]) -> Result<()>;
    fn rename(&self, vol: Uuid, from: (u64, &[u8]), to: (u64, &[u8]), flags: RenameFlags) -> Result<()>;
    fn setattr(&self, vol: Uuid, ino: u64, changes: &AttrChanges) -> Result<Stat>;

    // Extended attributes.
    fn get_xattr(&self, vol: Uuid, ino: u64, name: &[u8]) -> Result<Vec<u8>>;
    fn set_xattr(&self, vol: Uuid, ino: u64, name: &[u8], value: &[u8], mode: XattrMode) -> Result<()>;
    fn list_xattrs(&self, vol: Uuid, ino: u64) -> Result<Vec<Vec<u8>>>;
    fn remove_xattr(&self, vol: Uuid, ino: u64, name: &[u8]) -> Result<()>;

    // File content.
    fn chunks(&self, vol: Uuid, ino: u64) -> Result<(Stat, Vec<Chunk>)>;
    /// Stores `chunks` (replacing chunks of the same index, or all chunks when `replace_all`)
    /// and sets the file's size. Every block named must have been registered with
    /// [`MetaStore::touch_block`].
    fn write_chunks(&self, vol: Uuid, ino: u64, size: u64, chunks: &[Chunk], replace_all: bool) -> Result<Stat>;

    // Blocks and garbage collection.
    /// Registers a block that is about to be stored (or already is), protecting it from
    /// collection for the grace period. Fails with `Unavailable` while the block is being deleted.
    fn touch_block(&self, hash: &BlockHash, size: u64) -> Result<()>;
    /// Deletes layers that no volume can reach any more; returns how many.
    fn collect_layers(&self) -> Result<u64>;
    /// Marks for deletion the blocks that no chunk references and that were last touched
    /// before `cutoff` (ns); returns them, including ones marked by an earlier, unfinished pass.
    fn mark_unreferenced_blocks(&self, cutoff: i64) -> Result<Vec<(BlockHash, u64)>>;
    /// Forgets blocks marked for deletion once their objects are gone.
    fn forget_blocks(&self, hashes: &[BlockHash]) -> Result<()>;

    /// Resolves a path of names from the root directory.
    fn resolve(&self, vol: Uuid, names: &[String]) -> Result<Stat> {
        let mut stat = self.getattr(vol, ROOT_INO)?;
        for name in names {
            stat = self.lookup(vol, stat.ino, name.as_bytes())?;
        }
        Ok(stat)
    }
}
