//! The block registry and garbage collection of layers and blocks.
//!
//! Safety against uploads in flight: a block is registered (`touch`) before it is stored and
//! before any chunk names it; collection only marks blocks untouched for the grace period and
//! named by no chunk, in one transaction, and a write naming a marked block fails. A marked
//! block cannot be touched until its deletion has finished and it is forgotten.

use super::R;
use crate::{BlockHash, Error, ErrorKind, now_ns};
use rusqlite::{Transaction, params};
use std::collections::{HashMap, HashSet};

pub fn touch(tx: &Transaction, hash: &BlockHash, size: u64) -> R<()> {
    tx.prepare_cached(
        "INSERT INTO blocks (hash, size, state, touched_at) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT (hash) DO UPDATE SET touched_at = excluded.touched_at WHERE state = 0",
    )?
    .execute(params![&hash[..], size as i64, now_ns()])?;
    let state: i64 = tx
        .prepare_cached("SELECT state FROM blocks WHERE hash = ?1")?
        .query_row([&hash[..]], |r| r.get(0))?;
    if state != 0 {
        return Err(Error::new(ErrorKind::Unavailable, "block is being collected; retry").into());
    }
    Ok(())
}

/// Deletes every layer that no volume head reaches through parent links.
pub fn collect_layers(tx: &Transaction) -> R<u64> {
    let parents: HashMap<i64, Option<i64>> = tx
        .prepare("SELECT id, parent FROM layers")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut live = HashSet::new();
    let heads: Vec<i64> = tx
        .prepare("SELECT head FROM volumes")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for head in heads {
        let mut layer = Some(head);
        while let Some(id) = layer {
            if !live.insert(id) {
                break;
            }
            layer = parents.get(&id).copied().flatten();
        }
    }
    let dead: Vec<i64> = parents.keys().filter(|id| !live.contains(id)).copied().collect();
    // Only dead layers can name a dead parent (a live layer's parents are live): unlink them
    // all first, so that they can go in any order.
    for id in &dead {
        tx.prepare_cached("UPDATE layers SET parent = NULL WHERE id = ?1")?
            .execute([id])?;
    }
    for id in &dead {
        for sql in [
            "DELETE FROM chunks WHERE layer = ?1",
            "DELETE FROM xattrs WHERE layer = ?1",
            "DELETE FROM dentries WHERE layer = ?1",
            "DELETE FROM inodes WHERE layer = ?1",
            "DELETE FROM layers WHERE id = ?1",
        ] {
            tx.prepare_cached(sql)?.execute([id])?;
        }
    }
    Ok(dead.len() as u64)
}

pub fn mark_unreferenced(tx: &Transaction, cutoff: i64) -> R<Vec<(BlockHash, u64)>> {
    tx.prepare_cached(
        "UPDATE blocks SET state = 1 WHERE state = 0 AND touched_at < ?1
         AND NOT EXISTS (SELECT 1 FROM chunks WHERE chunks.hash = blocks.hash)",
    )?
    .execute([cutoff])?;
    let mut stmt = tx.prepare_cached("SELECT hash, size FROM blocks WHERE state = 1")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
    let mut marked = Vec::new();
    for row in rows {
        let (hash, size) = row?;
        let hash = BlockHash::try_from(hash).map_err(|_| Error::internal("malformed block hash in registry"))?;
        marked.push((hash, size as u64));
    }
    Ok(marked)
}

pub fn forget(tx: &Transaction, hashes: &[BlockHash]) -> R<()> {
    let mut stmt = tx.prepare_cached("DELETE FROM blocks WHERE hash = ?1 AND state = 1")?;
    for hash in hashes {
        stmt.execute([&hash[..]])?;
    }
    Ok(())
}
