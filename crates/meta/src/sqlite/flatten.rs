//! Flattening: keeps the layer chain a lookup walks short, however deep forks go.
//!
//! The frozen layers under a volume's head are merged into one new layer (the topmost row of
//! each inode, entry, chunk list and xattr; whiteouts and what they hide are dropped, since
//! nothing lies below). Frozen layers never change, so the merge runs in its own transaction
//! and no writer waits for it beyond that; a second, short transaction then makes the merged
//! layer the parent of the volume's head. Rows are copied, block data never is.

use super::{R, SqliteMeta, layers, volumes};
use crate::{Error, Result};
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

const INODE_FIELDS: &str =
    "ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent, target";

pub fn flatten(meta: &SqliteMeta, vol: Uuid, max_depth: usize) -> Result<bool> {
    let found = meta.read(|tx| {
        let row: Option<(i64, bool)> = tx
            .prepare_cached("SELECT head, snapshot_of IS NOT NULL FROM volumes WHERE id = ?1")?
            .query_row([vol.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (head, snapshot) = row.ok_or_else(|| Error::not_found("volume not found"))?;
        Ok((head, snapshot, layers::chain_of(tx, &meta.chains, head)?))
    })?;
    let (head, snapshot, chain) = found;
    // A snapshot's head is frozen and shared by its forks: those are flattened on their own.
    if snapshot || chain.len() <= max_depth.max(2) {
        return Ok(false);
    }
    let merged = meta.write(|tx| merge(tx, &chain[1..]))?;
    let swapped = meta.write(|tx| {
        let current: i64 = tx
            .prepare_cached("SELECT head FROM volumes WHERE id = ?1")?
            .query_row([vol.to_string()], |r| r.get(0))?;
        if current != head {
            return Ok(false); // Forked or restored meanwhile: the merged layer is left to GC.
        }
        tx.prepare_cached("UPDATE layers SET parent = ?2 WHERE id = ?1")?
            .execute(params![head, merged])?;
        Ok(true)
    })?;
    if swapped {
        meta.chains.lock().unwrap_or_else(|p| p.into_inner()).remove(&head);
    }
    Ok(swapped)
}

/// A new frozen layer holding the merged view of `below` (topmost first).
fn merge(tx: &Transaction, below: &[i64]) -> R<i64> {
    let merged = volumes::new_layer(tx, None)?;
    tx.prepare_cached("UPDATE layers SET frozen = 1 WHERE id = ?1")?
        .execute([merged])?;
    // Our own integer ids, so building the SQL text is safe.
    let depths: Vec<String> = below
        .iter()
        .enumerate()
        .map(|(depth, layer)| format!("({layer}, {depth})"))
        .collect();
    let with = format!("WITH d(layer, depth) AS (VALUES {})", depths.join(", "));
    let top_inodes = "top AS (SELECT i.*, ROW_NUMBER() OVER (PARTITION BY i.ino ORDER BY d.depth) AS rn
                      FROM inodes i JOIN d ON i.layer = d.layer)";
    tx.execute(
        &format!(
            "{with}, {top_inodes} INSERT INTO inodes (layer, {INODE_FIELDS})
             SELECT ?1, {INODE_FIELDS} FROM top WHERE rn = 1 AND whiteout = 0"
        ),
        [merged],
    )?;
    for (table, columns) in [("chunks", "idx, len, hash, data"), ("xattrs", "name, value")] {
        let select: Vec<String> = columns.split(", ").map(|c| format!("x.{c}")).collect();
        tx.execute(
            &format!(
                "{with}, {top_inodes} INSERT INTO {table} (layer, ino, {columns})
                 SELECT ?1, x.ino, {} FROM {table} x JOIN top t ON x.layer = t.layer AND x.ino = t.ino
                 WHERE t.rn = 1 AND t.whiteout = 0",
                select.join(", ")
            ),
            [merged],
        )?;
    }
    tx.execute(
        &format!(
            "{with}, top AS (SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.parent, e.name ORDER BY d.depth) AS rn
                             FROM dentries e JOIN d ON e.layer = d.layer)
             INSERT INTO dentries (layer, parent, name, ino) SELECT ?1, parent, name, ino FROM top WHERE rn = 1 AND ino != 0"
        ),
        [merged],
    )?;
    Ok(merged)
}
