//! Flattening: keeps the layer chain a lookup walks short, however deep forks go.
//!
//! The frozen layers under a volume's head are merged into one new layer (the topmost row of
//! each inode, entry, chunk list and xattr; whiteouts and what they hide are dropped, since
//! nothing lies below). Frozen layers never change, so the merge copies them, deepest first
//! (a layer above overwrites what it replaces), in steps of [`STEP`] rows, each its own short
//! transaction: no writer of any volume waits for more than one step, even on SQLite with
//! its one writer. A last short transaction makes the merged layer the parent of the
//! volume's head. Rows are copied, block data never is.

use super::tree::{chain_of, parent_of};
use super::{Engine, Isolation, R, SqlMeta, Tx, Value, vals, volumes};
use crate::{Error, Result};
use uuid::Uuid;

const INODE_FIELDS: &str =
    "ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent, target";

/// Rows of a layer a merge step copies.
const STEP: usize = 1_000;

pub fn flatten<E: Engine>(meta: &SqlMeta<E>, vol: Uuid, max_depth: usize) -> Result<bool> {
    flatten_with(meta, vol, max_depth, |_| Ok(()))
}

/// [`flatten`], running `between(built)` after each step of the merge (`built`: the last,
/// before the swap), where another server's collection pass may run.
fn flatten_with<E: Engine>(
    meta: &SqlMeta<E>,
    vol: Uuid,
    max_depth: usize,
    mut between: impl FnMut(bool) -> Result<()>,
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
    let Some(merged) = merge(meta, &chain[1..end], below, &mut between)? else {
        return Ok(false); // Collected while it was being built.
    };
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
/// at its moment, if any); `None` if a collection pass took it while it was being built.
fn merge<E: Engine>(
    meta: &SqlMeta<E>,
    below: &[i64],
    parent: Option<(i64, Option<i64>)>,
    between: &mut dyn FnMut(bool) -> Result<()>,
) -> Result<Option<i64>> {
    let merged = meta.engine.write(Isolation::Statement, &mut |tx| {
        let merged = volumes::new_layer(tx, parent.map(|(layer, _)| layer), true)?;
        if let Some((_, Some(at))) = parent {
            tx.exec("UPDATE layers SET parent_as_of = $2 WHERE id = $1", vals![merged, at])?;
        }
        Ok(merged)
    })?;
    // Whiteouts still hide what the layers below hold; with nothing below, they go.
    let drop_whiteouts = parent.is_none();
    for (n, &layer) in below.iter().rev().enumerate() {
        for rows in [Rows::Inodes, Rows::Entries] {
            let mut after: Option<Vec<Value>> = None;
            loop {
                let step = meta.engine.write(Isolation::Statement, &mut |tx| {
                    copy_step(tx, rows, layer, merged, after.as_deref(), drop_whiteouts)
                })?;
                let built = n + 1 == below.len() && matches!((rows, &step), (Rows::Entries, Step::Done));
                between(built)?;
                match step {
                    Step::Gone => return Ok(None),
                    Step::More(last) => after = Some(last),
                    Step::Done => break,
                }
            }
        }
    }
    Ok(Some(merged))
}

#[derive(Clone, Copy)]
enum Rows {
    /// Inodes, with their chunks and xattrs.
    Inodes,
    /// Directory entries.
    Entries,
}

enum Step {
    /// The merged layer is gone (collected: it was unreachable).
    Gone,
    /// Copied up to this key; more follow.
    More(Vec<Value>),
    Done,
}

/// Copies the next [`STEP`] rows of `layer` after `after` (a key in the order of the layer's
/// `*_by_born` index) into `merged`, overwriting what it holds of the same inodes or names.
fn copy_step(
    tx: &dyn Tx,
    rows: Rows,
    layer: i64,
    merged: i64,
    after: Option<&[Value]>,
    drop_whiteouts: bool,
) -> R<Step> {
    // A collection pass may have taken the merged layer while it was unreachable. Writing
    // its row finds out, and makes a pass that is deleting it now conflict and start over.
    if tx.exec("UPDATE layers SET frozen = 1 WHERE id = $1", vals![merged])? == 0 {
        return Ok(Step::Gone);
    }
    let (table, key) = match rows {
        Rows::Inodes => ("inodes", "born, ino"),
        Rows::Entries => ("dentries", "born, parent, name"),
    };
    let width = key.split(", ").count();
    // The page: the layer's rows after `after`, up to the STEP-th (or to the end).
    let mut params = vec![Value::from(layer)];
    let mut page = "layer = $1".to_string();
    if let Some(after) = after {
        page.push_str(&format!(" AND ({key}) > ({})", marks(2, width)));
        params.extend_from_slice(after);
    }
    let last = tx.query_opt(
        &format!(
            "SELECT {key} FROM {table} WHERE {page} ORDER BY {key} LIMIT 1 OFFSET {}",
            STEP - 1
        ),
        &params,
    )?;
    if let Some(last) = &last {
        page.push_str(&format!(" AND ({key}) <= ({})", marks(params.len() + 1, width)));
        params.extend(last.0.iter().cloned());
    }
    // Every statement below names every parameter (PostgreSQL needs each one's type).
    params.push(Value::from(merged));
    let into = format!("${}", params.len());
    match rows {
        Rows::Inodes => copy_inodes(tx, &page, &into, &params, drop_whiteouts)?,
        Rows::Entries => copy_entries(tx, &page, &into, &params, drop_whiteouts)?,
    }
    Ok(last.map_or(Step::Done, |row| Step::More(row.0)))
}

/// `$first, $first+1, ...`, `width` of them.
fn marks(first: usize, width: usize) -> String {
    (first..first + width)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inodes of a page of layer `$1` into layer `into`: each replaces the merged layer's row,
/// chunks and xattrs of the same inode.
fn copy_inodes(tx: &dyn Tx, page: &str, into: &str, params: &[Value], drop_whiteouts: bool) -> R<()> {
    let inos = format!("SELECT ino FROM inodes WHERE {page}");
    for table in ["chunks", "xattrs"] {
        tx.exec(
            &format!("DELETE FROM {table} WHERE layer = {into} AND ino IN ({inos})"),
            params,
        )?;
    }
    let live = if drop_whiteouts {
        tx.exec(
            &format!("DELETE FROM inodes WHERE layer = {into} AND ino IN ({inos} AND whiteout = 1)"),
            params,
        )?;
        " AND whiteout = 0"
    } else {
        ""
    };
    let update: Vec<String> = INODE_FIELDS
        .split(", ")
        .skip(1)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    tx.exec(
        &format!(
            "INSERT INTO inodes (layer, {INODE_FIELDS}) SELECT CAST({into} AS BIGINT), {INODE_FIELDS} FROM inodes
             WHERE {page}{live} ON CONFLICT (ino, layer) DO UPDATE SET {}",
            update.join(", ")
        ),
        params,
    )?;
    for (table, columns) in [("chunks", "idx, len, hash, data, pack_off"), ("xattrs", "name, value")] {
        tx.exec(
            &format!(
                "INSERT INTO {table} (layer, ino, {columns}) SELECT CAST({into} AS BIGINT), ino, {columns} FROM {table}
                 WHERE layer = $1 AND ino IN ({inos}{live})"
            ),
            params,
        )?;
    }
    Ok(())
}

/// Entries of a page of layer `$1` into layer `into`: each replaces the merged layer's entry
/// of the same name.
fn copy_entries(tx: &dyn Tx, page: &str, into: &str, params: &[Value], drop_whiteouts: bool) -> R<()> {
    let live = if drop_whiteouts {
        tx.exec(
            &format!(
                "DELETE FROM dentries WHERE layer = {into}
                 AND (parent, name) IN (SELECT parent, name FROM dentries WHERE {page} AND ino = 0)"
            ),
            params,
        )?;
        " AND ino != 0"
    } else {
        ""
    };
    tx.exec(
        &format!(
            "INSERT INTO dentries (layer, parent, name, ino) SELECT CAST({into} AS BIGINT), parent, name, ino
             FROM dentries WHERE {page}{live} ON CONFLICT (parent, name, layer) DO UPDATE SET ino = excluded.ino"
        ),
        params,
    )?;
    Ok(())
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

    /// A volume of six files, each made in a layer of its own.
    fn six_layers(meta: &SqliteMeta) -> uuid::Uuid {
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
        vol
    }

    /// A collection pass while the merged layer is unreachable (during the merge, or after
    /// it and before the swap) takes it; the flatten gives up and the volume stays whole.
    #[test]
    fn a_collection_during_a_flatten_leaves_the_volume_whole() {
        for collect_when_built in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
            let vol = six_layers(&meta);
            let depth = meta.chain_depth(vol).unwrap();
            let mut collected = 0;
            let swapped = flatten_with(&meta, vol, 2, |built| {
                if built == collect_when_built && collected == 0 {
                    collected = meta.collect_layers()?;
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(collected, 1, "the merged layer was collected");
            assert!(!swapped, "a collected layer is never attached");
            assert_eq!(meta.chain_depth(vol).unwrap(), depth);
            for i in 1..=6 {
                assert_eq!(read(&meta, vol, &format!("f{i}")), format!("f{i}").as_bytes());
            }
            assert!(
                flatten_with(&meta, vol, 2, |_| Ok(())).unwrap(),
                "a later flatten succeeds"
            );
            assert_eq!(meta.chain_depth(vol).unwrap(), 2);
            assert_eq!(read(&meta, vol, "f1"), b"f1");
        }
    }
}
