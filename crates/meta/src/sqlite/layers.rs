//! The layered view of one volume inside a transaction.
//!
//! [`Tree`] answers "what does this volume hold" by walking the layer chain from the head,
//! and writes every change to the head, with whiteouts where a lower layer must be hidden.

use super::{Fail, R};
use crate::{Chunk, ChunkData, Error, ErrorKind, now_ns};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use strata_core::api::{FileKind, Stat};
use uuid::Uuid;

/// An inode as stored: its attributes, the layer holding them and, for a directory, its parent.
#[derive(Debug, Clone)]
pub(crate) struct Inode {
    pub layer: i64,
    pub stat: Stat,
    pub parent: u64,
}

pub(crate) struct Tree<'t> {
    tx: &'t Transaction<'t>,
    id: Uuid,
    chain: Arc<[i64]>,
    /// `(head, parent, ...)` as SQL, built from our own integer ids.
    in_chain: String,
    pub next_ino: u64,
    pub used_bytes: i64,
    pub file_count: i64,
    /// A snapshot: its tree never changes.
    pub snapshot: bool,
}

const INODE_COLUMNS: &str =
    "layer, ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent, target";

impl<'t> Tree<'t> {
    pub fn open(tx: &'t Transaction<'t>, chains: &Mutex<HashMap<i64, Arc<[i64]>>>, id: Uuid) -> R<Self> {
        let row = tx
            .prepare_cached(
                "SELECT head, next_ino, used_bytes, file_count, snapshot_of IS NOT NULL FROM volumes WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .optional()?;
        let (head, next_ino, used_bytes, file_count, snapshot) =
            row.ok_or_else(|| Error::not_found("volume not found"))?;
        let chain = chain_of(tx, chains, head)?;
        let in_chain = format!("({})", chain.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        Ok(Tree {
            tx,
            id,
            chain,
            in_chain,
            next_ino,
            used_bytes,
            file_count,
            snapshot,
        })
    }

    pub fn head(&self) -> i64 {
        self.chain[0]
    }

    fn depth_of(&self, layer: i64) -> usize {
        self.chain.iter().position(|&l| l == layer).unwrap_or(usize::MAX)
    }

    /// The live inode, or `None` if absent or hidden by a whiteout.
    pub fn inode(&self, ino: u64) -> R<Option<Inode>> {
        let sql = format!(
            "SELECT {INODE_COLUMNS} FROM inodes WHERE ino = ?1 AND layer IN {}",
            self.in_chain
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut best: Option<(usize, bool, Inode)> = None;
        for row in stmt.query_map([ino as i64], inode_from_row)? {
            let (whiteout, inode) = row?;
            let depth = self.depth_of(inode.layer);
            if best.as_ref().is_none_or(|(d, _, _)| depth < *d) {
                best = Some((depth, whiteout, inode));
            }
        }
        Ok(best.and_then(|(_, whiteout, inode)| (!whiteout).then_some(inode)))
    }

    pub fn need_inode(&self, ino: u64) -> R<Inode> {
        self.inode(ino)?
            .ok_or_else(|| Fail::Fs(Error::not_found(format!("inode {ino} not found"))))
    }

    /// A directory's inode; `NotADirectory` if it is something else.
    pub fn need_dir(&self, ino: u64) -> R<Inode> {
        let inode = self.need_inode(ino)?;
        if inode.stat.kind != FileKind::Directory {
            return Err(Error::new(ErrorKind::NotADirectory, "not a directory").into());
        }
        Ok(inode)
    }

    /// The inode an entry names, looking through `layers` (a suffix of the chain).
    fn dentry_in(&self, layers: &[i64], parent: u64, name: &[u8]) -> R<Option<u64>> {
        let sql = format!(
            "SELECT layer, ino FROM dentries WHERE parent = ?1 AND name = ?2 AND layer IN {}",
            self.in_chain
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut best: Option<(usize, u64)> = None;
        for row in stmt.query_map(params![parent as i64, name], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
        })? {
            let (layer, ino) = row?;
            let Some(depth) = layers.iter().position(|&l| l == layer) else {
                continue;
            };
            if best.is_none_or(|(d, _)| depth < d) {
                best = Some((depth, ino));
            }
        }
        Ok(best.map(|(_, ino)| ino).filter(|&ino| ino != 0))
    }

    pub fn dentry(&self, parent: u64, name: &[u8]) -> R<Option<u64>> {
        self.dentry_in(&self.chain.clone(), parent, name)
    }

    /// All live entries of a directory, sorted by name.
    pub fn entries(&self, parent: u64) -> R<Vec<(Vec<u8>, u64)>> {
        let sql = format!(
            "SELECT layer, name, ino FROM dentries WHERE parent = ?1 AND layer IN {}",
            self.in_chain
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut merged: BTreeMap<Vec<u8>, (usize, u64)> = BTreeMap::new();
        for row in stmt.query_map([parent as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?))
        })? {
            let (layer, name, ino) = row?;
            let depth = self.depth_of(layer);
            let slot = merged.entry(name).or_insert((depth, ino as u64));
            if depth < slot.0 {
                *slot = (depth, ino as u64);
            }
        }
        Ok(merged
            .into_iter()
            .filter(|(_, (_, ino))| *ino != 0)
            .map(|(name, (_, ino))| (name, ino))
            .collect())
    }

    pub fn set_dentry(&self, parent: u64, name: &[u8], ino: u64) -> R<()> {
        self.tx
            .prepare_cached("INSERT OR REPLACE INTO dentries (layer, parent, name, ino) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![self.head(), parent as i64, name, ino as i64])?;
        Ok(())
    }

    /// Removes an entry from the view: a whiteout if a lower layer still holds it.
    pub fn remove_dentry(&self, parent: u64, name: &[u8]) -> R<()> {
        if self.dentry_in(&self.chain[1..], parent, name)?.is_some() {
            self.set_dentry(parent, name, 0)
        } else {
            self.tx
                .prepare_cached("DELETE FROM dentries WHERE layer = ?1 AND parent = ?2 AND name = ?3")?
                .execute(params![self.head(), parent as i64, name])?;
            Ok(())
        }
    }

    /// Writes an inode to the head, first copying its chunks and xattrs up from a lower layer.
    pub fn put_inode(&self, inode: &mut Inode) -> R<()> {
        let head = self.head();
        if inode.layer != head {
            let ino = inode.stat.ino as i64;
            self.tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO chunks (layer, ino, idx, len, hash, data)
                     SELECT ?1, ino, idx, len, hash, data FROM chunks WHERE layer = ?2 AND ino = ?3",
                )?
                .execute(params![head, inode.layer, ino])?;
            self.tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO xattrs (layer, ino, name, value)
                     SELECT ?1, ino, name, value FROM xattrs WHERE layer = ?2 AND ino = ?3",
                )?
                .execute(params![head, inode.layer, ino])?;
            inode.layer = head;
        }
        let s = &inode.stat;
        self.tx
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO inodes ({INODE_COLUMNS}) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ))?
            .execute(params![
                head,
                s.ino as i64,
                kind_code(s.kind),
                s.mode,
                s.uid,
                s.gid,
                s.size as i64,
                s.nlink,
                s.rdev,
                s.atime,
                s.mtime,
                s.ctime,
                inode.parent as i64,
                s.target
            ])?;
        Ok(())
    }

    /// Deletes an inode with its content and xattrs from the view.
    pub fn remove_inode(&mut self, inode: &Inode) -> R<()> {
        let (head, ino) = (self.head(), inode.stat.ino as i64);
        for sql in [
            "DELETE FROM chunks WHERE layer = ?1 AND ino = ?2",
            "DELETE FROM xattrs WHERE layer = ?1 AND ino = ?2",
            "DELETE FROM inodes WHERE layer = ?1 AND ino = ?2",
        ] {
            self.tx.prepare_cached(sql)?.execute(params![head, ino])?;
        }
        if self.chain.len() > 1 && self.inode(inode.stat.ino)?.is_some() {
            self.tx
                .prepare_cached(&format!(
                    "INSERT INTO inodes ({INODE_COLUMNS}) VALUES (?1, ?2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL)"
                ))?
                .execute(params![head, ino])?;
        }
        self.used_bytes -= inode.stat.size as i64;
        self.file_count -= 1;
        Ok(())
    }

    pub fn chunks(&self, inode: &Inode) -> R<Vec<Chunk>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT idx, len, hash, data FROM chunks WHERE layer = ?1 AND ino = ?2 ORDER BY idx")?;
        let rows = stmt.query_map(params![inode.layer, inode.stat.ino as i64], |r| {
            let hash: Option<Vec<u8>> = r.get(2)?;
            let data = match hash.and_then(|h| <[u8; 32]>::try_from(h).ok()) {
                Some(h) => ChunkData::Block(h),
                None => ChunkData::Inline(r.get::<_, Option<Vec<u8>>>(3)?.unwrap_or_default()),
            };
            Ok(Chunk {
                idx: r.get::<_, i64>(0)? as u64,
                len: r.get::<_, i64>(1)? as u64,
                data,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores chunks of an inode already written to the head.
    pub fn put_chunk(&self, ino: u64, chunk: &Chunk) -> R<()> {
        let (hash, data): (Option<&[u8]>, Option<&[u8]>) = match &chunk.data {
            ChunkData::Block(h) => (Some(h), None),
            ChunkData::Inline(d) => (None, Some(d)),
        };
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO chunks (layer, ino, idx, len, hash, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                self.head(),
                ino as i64,
                chunk.idx as i64,
                chunk.len as i64,
                hash,
                data
            ])?;
        Ok(())
    }

    /// Drops the content of a head inode past `size`.
    pub fn truncate_chunks(&self, ino: u64, size: u64) -> R<()> {
        let bs = strata_core::BLOCK_SIZE;
        let (head, ino) = (self.head(), ino as i64);
        self.tx
            .prepare_cached("DELETE FROM chunks WHERE layer = ?1 AND ino = ?2 AND idx >= ?3")?
            .execute(params![head, ino, size.div_ceil(bs) as i64])?;
        if !size.is_multiple_of(bs) {
            self.tx
                .prepare_cached(
                    "UPDATE chunks SET len = MIN(len, ?4), data = CASE WHEN data IS NULL THEN NULL ELSE substr(data, 1, ?4) END
                     WHERE layer = ?1 AND ino = ?2 AND idx = ?3",
                )?
                .execute(params![head, ino, (size / bs) as i64, (size % bs) as i64])?;
        }
        Ok(())
    }

    pub fn remove_all_chunks(&self, ino: u64) -> R<()> {
        self.tx
            .prepare_cached("DELETE FROM chunks WHERE layer = ?1 AND ino = ?2")?
            .execute(params![self.head(), ino as i64])?;
        Ok(())
    }

    pub fn alloc_ino(&mut self) -> u64 {
        self.next_ino += 1;
        self.next_ino - 1
    }

    /// Saves the volume's counters; every write ends with it.
    pub fn finish(self) -> R<()> {
        self.tx
            .prepare_cached(
                "UPDATE volumes SET next_ino = ?2, used_bytes = ?3, file_count = ?4, updated_at = ?5 WHERE id = ?1",
            )?
            .execute(params![
                self.id.to_string(),
                self.next_ino as i64,
                self.used_bytes,
                self.file_count,
                now_ns()
            ])?;
        Ok(())
    }

    pub fn tx(&self) -> &Transaction<'t> {
        self.tx
    }
}

/// The layer chain from `head` down to the bottom layer.
pub(crate) fn chain_of(tx: &Transaction, chains: &Mutex<HashMap<i64, Arc<[i64]>>>, head: i64) -> R<Arc<[i64]>> {
    if let Some(chain) = chains.lock().unwrap_or_else(|p| p.into_inner()).get(&head) {
        return Ok(chain.clone());
    }
    let mut chain = vec![head];
    let mut stmt = tx.prepare_cached("SELECT parent FROM layers WHERE id = ?1")?;
    while let Some(parent) = stmt.query_row([chain[chain.len() - 1]], |r| r.get::<_, Option<i64>>(0))? {
        chain.push(parent);
    }
    let chain: Arc<[i64]> = chain.into();
    chains
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(head, chain.clone());
    Ok(chain)
}

fn inode_from_row(r: &Row) -> rusqlite::Result<(bool, Inode)> {
    let stat = Stat {
        ino: r.get::<_, i64>(1)? as u64,
        kind: kind_from_code(r.get(3)?),
        mode: r.get(4)?,
        uid: r.get(5)?,
        gid: r.get(6)?,
        size: r.get::<_, i64>(7)? as u64,
        nlink: r.get(8)?,
        rdev: r.get(9)?,
        atime: r.get(10)?,
        mtime: r.get(11)?,
        ctime: r.get(12)?,
        target: r.get(14)?,
    };
    Ok((
        r.get::<_, i64>(2)? != 0,
        Inode {
            layer: r.get(0)?,
            stat,
            parent: r.get::<_, i64>(13)? as u64,
        },
    ))
}

fn kind_code(kind: FileKind) -> i64 {
    match kind {
        FileKind::File => 1,
        FileKind::Directory => 2,
        FileKind::Symlink => 3,
        FileKind::Fifo => 4,
        FileKind::Socket => 5,
        FileKind::CharDevice => 6,
        FileKind::BlockDevice => 7,
    }
}

fn kind_from_code(code: i64) -> FileKind {
    match code {
        2 => FileKind::Directory,
        3 => FileKind::Symlink,
        4 => FileKind::Fifo,
        5 => FileKind::Socket,
        6 => FileKind::CharDevice,
        7 => FileKind::BlockDevice,
        _ => FileKind::File,
    }
}
