//! Flattening: keeps the layer chain a lookup walks short, however deep forks go.
//!
//! The frozen layers under a volume's head are merged into one new layer (the topmost row of
//! each inode, entry, chunk list and xattr; whiteouts and what they hide are dropped, since
//! nothing lies below). Frozen layers never change, so the merge copies them topmost first,
//! each row whose key no layer above gave, in steps of about [`STEP`] rows, each its own short
//! transaction: no writer of any volume waits for more than one step, even on SQLite with
//! its one writer. Until it is attached the merged layer is reached by nothing; a lease that
//! every step renews keeps collection from taking it. A last short transaction freezes it
//! and makes it the parent of the volume's head. Rows are copied, block data never is.

use super::tree::{chain_of, parent_of};
use super::{Engine, Isolation, R, SqlMeta, Tx, Value, vals, volumes};
use crate::{Error, Result, now_ns};
use uuid::Uuid;

const INODE_FIELDS: &str =
    "ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent, target";

/// Rows a merge step copies: inodes and their chunks, or entries (a step copies at least one
/// inode with all its chunks).
const STEP: usize = 1_000;

/// How long after a step a layer being built is kept from collection.
const LEASE_NS: i64 = 10 * 60 * 1_000_000_000;

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
        let current = tx.query_opt(&sql, vals![vol])?.map(|row| row.i64(0)).transpose()?;
        if current != Some(head) || parent_of(tx, head)? != Some(chain[1]) {
            // Deleted, forked, restored or flattened meanwhile: the merged layer is left to GC.
            return Ok(false);
        }
        // A collection pass may have taken the merged layer once its lease ran out. Writing
        // its row finds out, and makes a pass that is deleting it now conflict and start over.
        let frozen = "UPDATE layers SET frozen = 1, building_until = NULL WHERE id = $1";
        if tx.exec(frozen, vals![merged])? == 0 {
            return Ok(false);
        }
        tx.exec("UPDATE layers SET parent = $2 WHERE id = $1", vals![head, merged])?;
        Ok(true)
    })?;
    Ok(swapped)
}

/// A new layer holding the merged view of `below` (topmost first), on `parent` (read at its
/// moment, if any); `None` if a collection pass took it while it was being built.
fn merge<E: Engine>(
    meta: &SqlMeta<E>,
    below: &[i64],
    parent: Option<(i64, Option<i64>)>,
    between: &mut dyn FnMut(bool) -> Result<()>,
) -> Result<Option<i64>> {
    let merged = meta.engine.write(Isolation::Statement, &mut |tx| {
        let merged = volumes::new_layer(tx, parent.map(|(layer, _)| layer), false)?;
        renew(tx, merged)?;
        if let Some((_, Some(at))) = parent {
            tx.exec("UPDATE layers SET parent_as_of = $2 WHERE id = $1", vals![merged, at])?;
        }
        Ok(merged)
    })?;
    // Layers are copied topmost first: a row is copied unless the merged layer holds its key
    // already (from a layer above). Whiteouts are copied too, to hide what lies under them;
    // with nothing below the merged layer, they go at the end.
    let mut whiteouts = 0;
    for &layer in below {
        for rows in [Rows::Inodes, Rows::Entries] {
            let copied = each_page(meta, rows, layer, merged, between, &|tx, page| copy(tx, rows, page))?;
            let Some(copied) = copied else {
                return Ok(None);
            };
            whiteouts += copied;
        }
    }
    if parent.is_none() && whiteouts > 0 {
        for rows in [Rows::Inodes, Rows::Entries] {
            let hidden = match rows {
                Rows::Inodes => "DELETE FROM inodes WHERE {page} AND whiteout = 1 AND layer = {into}",
                Rows::Entries => "DELETE FROM dentries WHERE {page} AND ino = 0 AND layer = {into}",
            };
            let sweep = |tx: &dyn Tx, page: &Page| {
                let sql = hidden.replace("{page}", &page.cond).replace("{into}", &page.into);
                tx.exec(&sql, &page.params)
            };
            if each_page(meta, rows, merged, merged, between, &sweep)?.is_none() {
                return Ok(None);
            }
        }
    }
    between(true)?;
    Ok(Some(merged))
}

/// One page of a layer's rows: the condition naming them (`layer = $1` and a range of keys),
/// its parameters, and the merged layer as SQL (the last parameter).
struct Page {
    cond: String,
    params: Vec<Value>,
    into: String,
}

/// Runs `act` on each page of about [`STEP`] rows of one kind in `layer`, in key order, each
/// in a transaction of its own that first renews the lease on `merged`. Returns what the acts
/// counted, or `None` if a collection pass took `merged` (its lease ran out).
fn each_page<E: Engine>(
    meta: &SqlMeta<E>,
    rows: Rows,
    layer: i64,
    merged: i64,
    between: &mut dyn FnMut(bool) -> Result<()>,
    act: &dyn Fn(&dyn Tx, &Page) -> R<u64>,
) -> Result<Option<u64>> {
    let (mut after, mut total): (Option<Vec<Value>>, u64) = (None, 0);
    loop {
        let step = meta.engine.write(Isolation::Statement, &mut |tx| {
            page_step(tx, rows, layer, merged, after.as_deref(), act)
        })?;
        between(false)?;
        match step {
            Step::Gone => return Ok(None),
            Step::More(last, n) => (after, total) = (Some(last), total + n),
            Step::Done(n) => return Ok(Some(total + n)),
        }
    }
}

/// Renews the lease on a layer being built: also finds out whether a collection pass took it
/// (its lease ran out), and makes a pass deleting it now conflict and start over.
fn renew(tx: &dyn Tx, layer: i64) -> R<bool> {
    let lease = "UPDATE layers SET building_until = $2 WHERE id = $1";
    Ok(tx.exec(lease, vals![layer, now_ns() + LEASE_NS])? > 0)
}

/// The page of `layer` after `after` (a key in the order of the layer's `*_by_born` index),
/// and `act` on it.
fn page_step(
    tx: &dyn Tx,
    rows: Rows,
    layer: i64,
    merged: i64,
    after: Option<&[Value]>,
    act: &dyn Fn(&dyn Tx, &Page) -> R<u64>,
) -> R<Step> {
    if !renew(tx, merged)? {
        return Ok(Step::Gone);
    }
    let key = match rows {
        Rows::Inodes => "born, ino",
        Rows::Entries => "born, parent, name",
    };
    let width = key.split(", ").count();
    let mut params = vec![Value::from(layer)];
    let mut cond = "layer = $1".to_string();
    if let Some(after) = after {
        cond.push_str(&format!(" AND ({key}) > ({})", marks(2, width)));
        params.extend_from_slice(after);
    }
    let last = page_end(tx, rows, &cond, &params)?;
    if let Some(last) = &last {
        cond.push_str(&format!(" AND ({key}) <= ({})", marks(params.len() + 1, width)));
        params.extend(last.iter().cloned());
    }
    // Every statement names every parameter (PostgreSQL needs each one's type).
    params.push(Value::from(merged));
    let into = format!("CAST(${} AS BIGINT)", params.len());
    let n = act(tx, &Page { cond, params, into })?;
    Ok(match last {
        Some(last) => Step::More(last, n),
        None => Step::Done(n),
    })
}

/// Copies the rows of a page whose keys the merged layer does not hold yet; returns how many
/// of them are whiteouts.
fn copy(tx: &dyn Tx, rows: Rows, page: &Page) -> R<u64> {
    let (table, held, whiteout) = match rows {
        Rows::Inodes => ("inodes", "u.ino = src.ino", "src.whiteout = 1"),
        Rows::Entries => ("dentries", "u.parent = src.parent AND u.name = src.name", "src.ino = 0"),
    };
    let Page { cond, params, into } = page;
    let cond = format!("{cond} AND NOT EXISTS (SELECT 1 FROM {table} u WHERE u.layer = {into} AND {held})");
    let whiteouts = tx
        .query_one(
            &format!("SELECT COUNT(*) FROM {table} src WHERE {cond} AND {whiteout}"),
            params,
        )?
        .i64(0)?;
    match rows {
        Rows::Inodes => {
            // Chunks and xattrs first: once the inode rows are in, the page names none.
            let inos = format!("SELECT src.ino FROM inodes src WHERE {cond}");
            for (table, columns) in [("chunks", "idx, len, hash, data, pack_off"), ("xattrs", "name, value")] {
                tx.exec(
                    &format!(
                        "INSERT INTO {table} (layer, ino, {columns}) SELECT {into}, ino, {columns} FROM {table}
                         WHERE layer = $1 AND ino IN ({inos})"
                    ),
                    params,
                )?;
            }
            tx.exec(
                &format!("INSERT INTO inodes (layer, {INODE_FIELDS}) SELECT {into}, {INODE_FIELDS} FROM inodes src WHERE {cond}"),
                params,
            )?;
        }
        Rows::Entries => {
            tx.exec(
                &format!(
                    "INSERT INTO dentries (layer, parent, name, ino) SELECT {into}, parent, name, ino FROM dentries src
                     WHERE {cond}"
                ),
                params,
            )?;
        }
    }
    Ok(whiteouts as u64)
}

/// The key of the last row of the page that starts where `page` does: about [`STEP`] rows
/// (an inode counts with its chunks), or `None` if the rest of the layer fits.
fn page_end(tx: &dyn Tx, rows: Rows, page: &str, params: &[Value]) -> R<Option<Vec<Value>>> {
    let sql = match rows {
        Rows::Inodes => format!(
            "SELECT born, ino, (SELECT COUNT(*) FROM chunks c WHERE c.layer = src.layer AND c.ino = src.ino)
             FROM inodes src WHERE {page} ORDER BY born, ino LIMIT {STEP}"
        ),
        Rows::Entries => {
            format!(
                "SELECT born, parent, name, 0 FROM dentries src WHERE {page} ORDER BY born, parent, name LIMIT {STEP}"
            )
        }
    };
    let found = tx.query(&sql, params)?;
    let mut count = 0;
    for (i, row) in found.iter().enumerate() {
        count += 1 + row.i64(row.0.len() - 1)? as usize;
        if count >= STEP || i + 1 == STEP {
            return Ok(Some(row.0[..row.0.len() - 1].to_vec()));
        }
    }
    Ok(None)
}

#[derive(Clone, Copy)]
enum Rows {
    /// Inodes, with their chunks and xattrs.
    Inodes,
    /// Directory entries.
    Entries,
}

enum Step {
    /// The merged layer is gone (collected: its lease ran out).
    Gone,
    /// Done up to this key, and what the act counted; more follow.
    More(Vec<Value>, u64),
    Done(u64),
}

/// `$first, $first+1, ...`, `width` of them.
fn marks(first: usize, width: usize) -> String {
    (first..first + width)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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

    /// The merged layer is reached by nothing until it is attached: a collection pass keeps
    /// it while its lease lasts, and takes it once the lease ran out (the flatten was stuck);
    /// the flatten then gives up, during the merge or at the swap, and the volume stays whole.
    #[test]
    fn a_collection_during_a_flatten_takes_the_layer_only_once_its_lease_ran_out() {
        use crate::sql::{Engine, Isolation, blocks};
        for (expired, collect_when_built) in [(false, false), (true, false), (true, true)] {
            let dir = tempfile::tempdir().unwrap();
            let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
            let vol = six_layers(&meta);
            let depth = meta.chain_depth(vol).unwrap();
            let at = crate::now_ns() + if expired { 2 * super::LEASE_NS } else { 0 };
            let mut collected = None;
            let swapped = flatten_with(&meta, vol, 2, |built| {
                if built == collect_when_built && collected.is_none() {
                    let pass = meta
                        .engine
                        .write(Isolation::Snapshot, &mut |tx| blocks::collect_layers(tx, at));
                    collected = Some(pass?);
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(collected, Some(expired as u64), "collected only once the lease ran out");
            assert_eq!(swapped, !expired);
            assert_eq!(meta.chain_depth(vol).unwrap(), if expired { depth } else { 2 });
            for i in 1..=6 {
                assert_eq!(read(&meta, vol, &format!("f{i}")), format!("f{i}").as_bytes());
            }
            if expired {
                assert!(
                    flatten_with(&meta, vol, 2, |_| Ok(())).unwrap(),
                    "a later flatten succeeds"
                );
                assert_eq!(meta.chain_depth(vol).unwrap(), 2);
                assert_eq!(read(&meta, vol, "f1"), b"f1");
            }
        }
    }

    /// With nothing below the merged layer, the whiteouts of the layers it merges hide
    /// nothing: they are copied while it is built (to hide lower rows) and then swept.
    #[test]
    fn whiteouts_over_nothing_are_swept() {
        use crate::sql::{Engine, vals};
        let dir = tempfile::tempdir().unwrap();
        let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
        let vol = six_layers(&meta);
        meta.unlink(vol.into(), ROOT_INO, b"f3").unwrap();
        let org = "org";
        let top = meta
            .fork_volume(org, vol, &VolumeName::parse("top").unwrap(), 100)
            .unwrap()
            .id;
        let count = |sql: &str| meta.engine.read(&mut |tx| tx.query_one(sql, vals![])?.i64(0)).unwrap();
        let whiteouts = "SELECT (SELECT COUNT(*) FROM inodes i JOIN layers l ON l.id = i.layer WHERE i.whiteout = 1 AND l.parent IS NULL)
                         + (SELECT COUNT(*) FROM dentries d JOIN layers l ON l.id = d.layer WHERE d.ino = 0 AND l.parent IS NULL)";
        assert!(flatten_with(&meta, top, 2, |_| Ok(())).unwrap());
        assert_eq!(meta.chain_depth(top).unwrap(), 2);
        assert_eq!(count(whiteouts), 0, "no whiteout in a bottom layer");
        assert!(meta.lookup(top.into(), ROOT_INO, b"f3").is_err());
        assert_eq!(read(&meta, top, "f4"), b"f4");
    }
}
