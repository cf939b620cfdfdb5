//! The SQLite backend: one database file, written through one connection in WAL mode.

mod blocks;
mod flatten;
mod layers;
mod ops;
mod schema;
mod volumes;

use crate::{Error, ErrorKind, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What the engine's inner functions fail with: a database error or a filesystem error.
#[derive(Debug)]
pub(crate) enum Fail {
    Db(rusqlite::Error),
    Fs(Error),
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Fs(e)
    }
}

impl From<Fail> for Error {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Fs(e) => e,
            Fail::Db(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => {
                Error::new(ErrorKind::Unavailable, "metadata database is busy")
            }
            Fail::Db(e) => Error::internal(format!("metadata database: {e}")),
        }
    }
}

pub(crate) type R<T> = std::result::Result<T, Fail>;

pub struct SqliteMeta {
    conn: Mutex<Connection>,
    path: std::path::PathBuf,
    /// Layer chains by head layer: a layer's parent never changes, so entries never go stale.
    chains: Mutex<HashMap<i64, Arc<[i64]>>>,
}

impl SqliteMeta {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path).map_err(|e| Error::internal(format!("open {}: {e}", path.display())))?;
        Self::configure(&mut conn).map_err(Error::from)?;
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|e| Error::internal(format!("migrate {}: {e}", path.display())))?;
        Ok(SqliteMeta {
            conn: Mutex::new(conn),
            path: path.to_owned(),
            chains: Mutex::default(),
        })
    }

    fn configure(conn: &mut Connection) -> R<()> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL lets readers run beside the writer. NORMAL: a commit survives a crash of the
        // process at once and power loss after the next `sync` (an fsync of the WAL).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    /// Runs `f` in one write transaction: committed if it returns `Ok`, rolled back otherwise.
    fn write<T>(&self, f: impl FnOnce(&Transaction) -> R<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Fail::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(Fail::from)?;
        Ok(out)
    }

    /// Runs `f` in one read transaction, so that it sees a single state.
    fn read<T>(&self, f: impl FnOnce(&Transaction) -> R<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(Fail::from)?;
        Ok(f(&tx)?)
    }
}

use crate::{AttrChanges, BlockHash, Chunk, MetaStore, NewInode, RenameFlags, SessionRecord, TokenRecord, XattrMode};
use layers::Tree;
use strata_core::api::{Stat, Volume};
use strata_core::names::{VolumeName, VolumeRef};
use uuid::Uuid;

impl SqliteMeta {
    fn read_tree<T>(&self, vol: Uuid, f: impl FnOnce(&Tree) -> R<T>) -> Result<T> {
        self.read(|tx| f(&Tree::open(tx, &self.chains, vol)?))
    }

    fn write_tree<T>(&self, vol: Uuid, f: impl FnOnce(&mut Tree) -> R<T>) -> Result<T> {
        self.write(|tx| {
            let mut tree = Tree::open(tx, &self.chains, vol)?;
            if tree.snapshot {
                return Err(Error::new(ErrorKind::ReadOnly, "a snapshot is read-only").into());
            }
            let out = f(&mut tree)?;
            tree.finish()?;
            Ok(out)
        })
    }
}

impl MetaStore for SqliteMeta {
    fn sync(&self) -> Result<()> {
        // Hold the writer so that no commit is half-written into the WAL while it syncs.
        let _writer = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        match std::fs::File::open(&wal) {
            Ok(f) => f
                .sync_data()
                .map_err(|e| Error::internal(format!("sync metadata log: {e}"))),
            // No log: everything is checkpointed (and synced) into the database file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::internal(format!("sync metadata log: {e}"))),
        }
    }

    fn add_token(&self, token: &TokenRecord) -> Result<()> {
        self.write(|tx| volumes::add_token(tx, token))
    }

    fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        self.read(|tx| volumes::find_token(tx, hash))
    }

    fn add_session(&self, session: &SessionRecord) -> Result<()> {
        self.write(|tx| volumes::add_session(tx, session))
    }

    fn find_session(&self, id: Uuid) -> Result<Option<SessionRecord>> {
        self.read(|tx| volumes::find_session(tx, id))
    }

    fn remove_session(&self, id: Uuid) -> Result<()> {
        self.write(|tx| volumes::remove_session(tx, id))
    }

    fn create_volume(&self, org: &str, name: &VolumeName, limit: u64) -> Result<Volume> {
        self.write(|tx| volumes::create(tx, org, name, limit))
    }

    fn get_volume(&self, org: &str, volume: &VolumeRef) -> Result<Volume> {
        self.read(|tx| volumes::get(tx, org, volume))
    }

    fn list_volumes(&self, org: &str) -> Result<Vec<Volume>> {
        self.read(|tx| volumes::list(tx, org))
    }

    fn delete_volume(&self, org: &str, id: Uuid) -> Result<()> {
        self.write(|tx| volumes::delete(tx, org, id))
    }

    fn fork_volume(&self, org: &str, source: Uuid, name: &VolumeName, limit: u64) -> Result<Volume> {
        self.write(|tx| volumes::fork(tx, org, source, name, limit))
    }

    fn snapshot_volume(&self, org: &str, volume: Uuid, name: &VolumeName) -> Result<Volume> {
        self.write(|tx| volumes::snapshot(tx, org, volume, name))
    }

    fn list_snapshots(&self, org: &str, volume: Uuid) -> Result<Vec<Volume>> {
        self.read(|tx| volumes::list_snapshots(tx, org, volume))
    }

    fn restore_volume(&self, org: &str, volume: Uuid, snapshot: Uuid) -> Result<Volume> {
        self.write(|tx| volumes::restore(tx, org, volume, snapshot))
    }

    fn flatten_volume(&self, vol: Uuid, max_depth: usize) -> Result<bool> {
        flatten::flatten(self, vol, max_depth)
    }

    fn chain_depth(&self, vol: Uuid) -> Result<usize> {
        self.read(|tx| {
            let head: i64 = tx
                .prepare_cached("SELECT head FROM volumes WHERE id = ?1")?
                .query_row([vol.to_string()], |r| r.get(0))
                .optional()?
                .ok_or_else(|| Error::not_found("volume not found"))?;
            Ok(layers::chain_of(tx, &self.chains, head)?.len())
        })
    }

    fn lookup(&self, vol: Uuid, parent: u64, name: &[u8]) -> Result<Stat> {
        self.read_tree(vol, |t| ops::lookup(t, parent, name))
    }

    fn getattr(&self, vol: Uuid, ino: u64) -> Result<Stat> {
        self.read_tree(vol, |t| Ok(t.need_inode(ino)?.stat))
    }

    fn readdir(&self, vol: Uuid, ino: u64) -> Result<Vec<(Vec<u8>, Stat)>> {
        self.read_tree(vol, |t| ops::readdir(t, ino))
    }

    fn create(&self, vol: Uuid, parent: u64, name: &[u8], new: &NewInode) -> Result<Stat> {
        self.write_tree(vol, |t| ops::create(t, parent, name, new))
    }

    fn link(&self, vol: Uuid, ino: u64, parent: u64, name: &[u8]) -> Result<Stat> {
        self.write_tree(vol, |t| ops::link(t, ino, parent, name))
    }

    fn unlink(&self, vol: Uuid, parent: u64, name: &[u8]) -> Result<()> {
        self.write_tree(vol, |t| ops::unlink(t, parent, name))
    }

    fn rmdir(&self, vol: Uuid, parent: u64, name: &[u8]) -> Result<()> {
        self.write_tree(vol, |t| ops::rmdir(t, parent, name))
    }

    fn rename(&self, vol: Uuid, from: (u64, &[u8]), to: (u64, &[u8]), flags: RenameFlags) -> Result<()> {
        self.write_tree(vol, |t| ops::rename(t, from, to, flags))
    }

    fn setattr(&self, vol: Uuid, ino: u64, changes: &AttrChanges) -> Result<Stat> {
        self.write_tree(vol, |t| ops::setattr(t, ino, changes))
    }

    fn get_xattr(&self, vol: Uuid, ino: u64, name: &[u8]) -> Result<Vec<u8>> {
        self.read_tree(vol, |t| ops::get_xattr(t, ino, name))
    }

    fn set_xattr(&self, vol: Uuid, ino: u64, name: &[u8], value: &[u8], mode: XattrMode) -> Result<()> {
        self.write_tree(vol, |t| ops::set_xattr(t, ino, name, value, mode))
    }

    fn list_xattrs(&self, vol: Uuid, ino: u64) -> Result<Vec<Vec<u8>>> {
        self.read_tree(vol, |t| ops::list_xattrs(t, ino))
    }

    fn remove_xattr(&self, vol: Uuid, ino: u64, name: &[u8]) -> Result<()> {
        self.write_tree(vol, |t| ops::remove_xattr(t, ino, name))
    }

    fn chunks(&self, vol: Uuid, ino: u64) -> Result<(Stat, Vec<Chunk>)> {
        self.read_tree(vol, |t| ops::chunks(t, ino))
    }

    fn write_chunks(&self, vol: Uuid, ino: u64, size: u64, chunks: &[Chunk], replace_all: bool) -> Result<Stat> {
        self.write_tree(vol, |t| ops::write_chunks(t, ino, size, chunks, replace_all))
    }

    fn touch_block(&self, hash: &BlockHash, size: u64) -> Result<()> {
        self.write(|tx| blocks::touch(tx, hash, size))
    }

    fn collect_layers(&self) -> Result<u64> {
        let collected = self.write(blocks::collect_layers)?;
        if collected > 0 {
            self.chains.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        Ok(collected)
    }

    fn mark_unreferenced_blocks(&self, cutoff: i64) -> Result<Vec<(BlockHash, u64)>> {
        self.write(|tx| blocks::mark_unreferenced(tx, cutoff))
    }

    fn forget_blocks(&self, hashes: &[BlockHash]) -> Result<()> {
        self.write(|tx| blocks::forget(tx, hashes))
    }
}
