//! Flattening: keeps the layer chain a lookup walks short, however deep forks go.
//!
//! The frozen layers under a volume's head are merged into one new layer (the topmost row of
//! each inode, entry, chunk list and xattr; whiteouts and what they hide are dropped, since
//! nothing lies below). Frozen layers never change, so the merge runs in its own transaction
//! and no writer waits for it beyond that; a second, short transaction then makes the merged
//! layer the parent of the volume's head. Rows are copied, block data never is.

use super::tree::{chain_of, parent_of};
use super::{Engine, Isolation, R, SqlMeta, Tx, vals, volumes};
use crate::{Error, Result};
use uuid::Uuid;

const INODE_FIELDS: &str =
    "ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent, target";

pub fn flatten<E: Engine>(meta: &SqlMeta<E>, vol: Uuid, max_depth: usize) -> Result<bool> {
    flatten_with(meta, vol, max_depth, || Ok(()))
}

/// [`flatten`], running `between` after the merge and before the swap (where another server's
/// collection pass may run).
fn flatten_with<E: Engine>(
    meta: &SqlMeta<E>,
    vol: Uuid,
    max_depth: usize,
    between: impl FnOnce() -> Result<()>,
) -> Result<bool> {
    let (head, snapshot, chain) = meta.engine.read(&mut |tx| {
        let row = tx
            .query_opt(
                "SELECT head, snapshot_of IS NOT NULL FROM volumes WHERE id = $1",
                vals![vol],
            )?
            .ok_or_else(|| Error::not_found("volume not found"))?;
        let head = row.i64(0)?;
        let chain = chain_of(tx, &meta.caches, head, parent_of(tx, head)?)?;
        Ok((head, row.bool(1)?, chain))
    })?;
    let (chain, as_of) = (chain.layers, chain.as_of);
    // A snapshot's head is frozen and shared by its forks: those are flattened on their own.
    if snapshot || chain.len() <= max_depth.max(2) {
        return Ok(false);
    }
    // Layers read at a moment of history stay as they are: the merge takes the layers above
    // them, and the merged layer reads them at that moment as the layer it replaces did.
    let end = as_of.iter().position(Option::is_some).unwrap_or(chain.len());
    if end <= 2 {
        return Ok(false);
    }
    let below = chain.get(end).map(|&layer| (layer, as_of[end]));
    let merged = meta
        .engine
        .write(Isolation::Statement, &mut |tx| merge(tx, &chain[1..end], below))?;
    between()?;
    let swapped = meta.engine.write(Isolation::Statement, &mut |tx| {
        let sql = format!("SELECT head FROM volumes WHERE id = $1{}", tx.for_update());
        let current = tx.query_one(&sql, vals![vol])?.i64(0)?;
        if current != head || parent_of(tx, head)? != Some(chain[1]) {
            return Ok(false); // Forked, restored or flattened meanwhile: the merged layer is left to GC.
        }
        // A collection pass may have taken the merged layer while it was unreachable. Writing
        // its row finds out, and makes a pass that is deleting it now conflict and start over.
        if tx.exec("UPDATE layers SET frozen = 1 WHERE id = $1", vals![merged])? == 0 {
            return Ok(false);
        }
        tx.exec("UPDATE layers SET parent = $2 WHERE id = $1", vals![head, merged])?;
        Ok(true)
    })?;
    Ok(swapped)
}

/// A new frozen layer holding the merged view of `below` (topmost first), on `parent` (read
/// at its moment, if any).
fn merge(tx: &dyn Tx, below: &[i64], parent: Option<(i64, Option<i64>)>) -> R<i64> {
    let merged = volumes::new_layer(tx, parent.map(|(layer, _)| layer), true)?;
    // Whiteouts still hide what the layers below hold; with nothing below, they go.
    let (keep_inode, keep_entry) = match parent {
        Some(_) => ("", ""),
        None => (" AND whiteout = 0", " AND ino != 0"),
    };
    if let Some((_, Some(at))) = parent {
        tx.exec("UPDATE layers SET parent_as_of = $2 WHERE id = $1", vals![merged, at])?;
    }
    // Our own integer ids, so building the SQL text is safe.
    let depths: Vec<String> = below
        .iter()
        .enumerate()
        .map(|(depth, layer)| format!("({layer}, {depth})"))
        .collect();
    let with = format!("WITH d(layer, depth) AS (VALUES {})", depths.join(", "));
    let top_inodes = "top AS (SELECT i.*, ROW_NUMBER() OVER (PARTITION BY i.ino ORDER BY d.depth) AS rn
                      FROM inodes i JOIN d ON i.layer = d.layer)";
    tx.exec(
        &format!(
            "{with}, {top_inodes} INSERT INTO inodes (layer, {INODE_FIELDS})
             SELECT CAST($1 AS BIGINT), {INODE_FIELDS} FROM top WHERE rn = 1{keep_inode}"
        ),
        vals![merged],
    )?;
    for (table, columns) in [("chunks", "idx, len, hash, data, pack_off"), ("xattrs", "name, value")] {
        let select: Vec<String> = columns.split(", ").map(|c| format!("x.{c}")).collect();
        tx.exec(
            &format!(
                "{with}, {top_inodes} INSERT INTO {table} (layer, ino, {columns})
                 SELECT CAST($1 AS BIGINT), x.ino, {} FROM {table} x JOIN top t ON x.layer = t.layer AND x.ino = t.ino
                 WHERE t.rn = 1 AND t.whiteout = 0",
                select.join(", ")
            ),
            vals![merged],
        )?;
    }
    tx.exec(
        &format!(
            "{with}, top AS (SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.parent, e.name ORDER BY d.depth) AS rn
                             FROM dentries e JOIN d ON e.layer = d.layer)
             INSERT INTO dentries (layer, parent, name, ino)
             SELECT CAST($1 AS BIGINT), parent, name, ino FROM top WHERE rn = 1{keep_entry}"
        ),
        vals![merged],
    )?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::flatten_with;
    use crate::engines::sqlite::SqliteMeta;
    use crate::{Chunk, ChunkData, MetaStore, NewInode, ROOT_INO, VolumeName};
    use strata_core::api::FileKind;

    fn read(meta: &SqliteMeta, vol: uuid::Uuid, name: &str) -> Vec<u8> {
        let ino = meta.lookup(vol.into(), ROOT_INO, name.as_bytes()).unwrap().ino;
        match meta.chunks(vol.into(), ino).unwrap().1.first().map(|c| &c.data) {
            Some(ChunkData::Inline(d)) => d.clone(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_collection_between_merge_and_swap_leaves_the_volume_whole() {
        let dir = tempfile::tempdir().unwrap();
        let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
        let org = "org";
        let mut vol = meta
            .create_volume(org, &VolumeName::parse("v0").unwrap(), 100)
            .unwrap()
            .id;
        for i in 1..=6 {
            let name = format!("f{i}");
            let ino = meta
                .create(
                    vol.into(),
                    ROOT_INO,
                    name.as_bytes(),
                    &NewInode::new(FileKind::File, 0o644),
                )
                .unwrap()
                .ino;
            let data = ChunkData::Inline(name.clone().into_bytes());
            let chunk = Chunk { idx: 0, len: 2, data };
            meta.write_chunks(vol, ino, 2, &[chunk], true).unwrap();
            let fork = VolumeName::parse(&format!("v{i}")).unwrap();
            vol = meta.fork_volume(org, vol, &fork, 100).unwrap().id;
        }
        let depth = meta.chain_depth(vol).unwrap();
        let swapped = flatten_with(&meta, vol, 2, || meta.collect_layers().map(drop)).unwrap();
        assert!(!swapped, "the merged layer was collected before it was attached");
        assert_eq!(meta.chain_depth(vol).unwrap(), depth);
        for i in 1..=6 {
            assert_eq!(read(&meta, vol, &format!("f{i}")), format!("f{i}").as_bytes());
        }
        assert!(
            flatten_with(&meta, vol, 2, || Ok(())).unwrap(),
            "a later flatten succeeds"
        );
        assert_eq!(read(&meta, vol, "f1"), b"f1");
    }
}
