//! The block registry and garbage collection of layers and blocks.
//!
//! Safety against uploads in flight: a block is registered (`touch`) before it is stored and
//! before any chunk names it; collection only marks blocks named by no chunk that are either
//! committed (a write named them and no session holds an upload of them not yet committed:
//! what a deleted file or volume leaves, reclaimed at once) or untouched for the grace period, in one transaction, and a write naming a block touches its row, which
//! fails for a marked block. A marked block cannot be touched until its deletion has finished
//! and it is forgotten. On PostgreSQL the row lock that the touch and the mark both take
//! orders them: whichever comes second sees the other's change.

use super::tree::Tree;
use super::{R, Tx, vals};
use crate::{BlockHash, Cutoffs, Error, ErrorKind, StoreUsage, now_ns};
use std::collections::{HashMap, HashSet};

/// Remembers that organization `org` keeps a copy of `hash` under a name of its own.
pub fn note_copy(tx: &dyn Tx, hash: &BlockHash, org: &str) -> R<()> {
    tx.exec(
        "INSERT INTO block_copies (hash, org) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        vals![hash, org],
    )?;
    Ok(())
}

/// The organizations keeping a copy of each of `hashes` under names of their own.
pub fn copies(tx: &dyn Tx, hashes: &[BlockHash]) -> R<HashMap<BlockHash, Vec<String>>> {
    let mut found: HashMap<BlockHash, Vec<String>> = HashMap::new();
    for hash in hashes {
        for row in tx.query("SELECT org FROM block_copies WHERE hash = $1", vals![hash])? {
            found.entry(*hash).or_default().push(row.text(0)?);
        }
    }
    Ok(found)
}

pub fn touch(tx: &dyn Tx, hash: &BlockHash, size: u64, stored: u64) -> R<()> {
    // `stored` stays as first given: a block already in the store is not stored again.
    tx.exec(
        "INSERT INTO blocks (hash, size, state, touched_at, committed, stored) VALUES ($1, $2, 0, $3, 0, $4)
         ON CONFLICT (hash) DO UPDATE SET touched_at = excluded.touched_at, committed = 0 WHERE blocks.state = 0",
        vals![hash, size, now_ns(), stored],
    )?;
    let state = tx
        .query_one("SELECT state FROM blocks WHERE hash = $1", vals![hash])?
        .i64(0)?;
    if state != 0 {
        return Err(Error::new(ErrorKind::Unavailable, "block is being collected; retry").into());
    }
    Ok(())
}

/// Remembers that `session` stored `hash`.
pub fn note_upload(tx: &dyn Tx, session: uuid::Uuid, hash: &BlockHash) -> R<()> {
    tx.exec(
        "INSERT INTO uploads (session, hash) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        vals![session, hash],
    )?;
    Ok(())
}

/// Whether a session may read or name a block: it uploaded it, or a file it can reach names
/// it (one below its root, in its volume's layers): a session of one tenant's folder does not
/// get another tenant's blocks by knowing their hash.
pub fn may_use(tree: &Tree, session: uuid::Uuid, hash: &BlockHash) -> R<bool> {
    let tx = tree.tx();
    if tx
        .query_opt(
            "SELECT 1 FROM uploads WHERE session = $1 AND hash = $2",
            vals![session, hash],
        )?
        .is_some()
    {
        return Ok(true);
    }
    let Some(root) = tx.query_opt("SELECT root_ino FROM sessions WHERE id = $1", vals![session])? else {
        return Ok(false);
    };
    let root = root.u64(0)?;
    let in_chain = tree.in_chain();
    // `+layer`: look the block up by its hash. Given `layer IN (...)`, SQLite walks every
    // chunk of the layer instead (the inline data of every small file: 5 ms an fsync'd
    // append on a volume of 10,000 small files, against 0.05 ms this way). A pack is not
    // given out by being named: it holds other files' bytes, which only the server reads.
    let files = tx.query(
        &format!("SELECT DISTINCT ino FROM chunks WHERE hash = $1 AND pack_off IS NULL AND +layer IN {in_chain}"),
        vals![hash],
    )?;
    for file in files {
        if super::ops::within(tree, file.u64(0)?, root)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The blocks the layers of `tree`'s chain name, with their bytes and the bytes the store
/// keeps for them (a block registered before this was recorded counts as its size).
pub fn usage(tree: &Tree) -> R<StoreUsage> {
    let sql = format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT), CAST(COALESCE(SUM(COALESCE(stored, size)), 0) AS BIGINT)
         FROM blocks WHERE hash IN (SELECT hash FROM chunks WHERE layer IN {0} AND hash IS NOT NULL
                                    UNION SELECT hash FROM past_chunks WHERE layer IN {0} AND hash IS NOT NULL)",
        tree.in_chain()
    );
    let row = tree.tx().query_one(&sql, vals![])?;
    Ok(StoreUsage {
        blocks: row.u64(0)?,
        bytes: row.u64(1)?,
        stored_bytes: row.u64(2)?,
    })
}

/// Every layer id with its parent.
pub fn layer_parents(tx: &dyn Tx) -> R<HashMap<i64, Option<i64>>> {
    tx.query("SELECT id, parent FROM layers", vals![])?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.opt_i64(1)?)))
        .collect()
}

/// The layers some volume head, a head its history keeps, or a fork's merge base reaches
/// through parent links.
pub fn live_layers(tx: &dyn Tx, parents: &HashMap<i64, Option<i64>>, now: i64) -> R<HashSet<i64>> {
    let mut live = HashSet::new();
    // A layer a flatten is building is reached by nothing yet: its lease keeps it.
    let roots = "SELECT head FROM volumes UNION SELECT head FROM past_heads
                 UNION SELECT fork_base FROM volumes WHERE fork_base IS NOT NULL
                 UNION SELECT id FROM layers WHERE building_until > $1";
    for row in tx.query(roots, vals![now])? {
        let mut layer = Some(row.i64(0)?);
        while let Some(id) = layer {
            if !live.insert(id) {
                break;
            }
            layer = parents.get(&id).copied().flatten();
        }
    }
    Ok(live)
}

/// Layers no volume can reach any more (at `now`). Must run on one snapshot of the database.
pub fn dead_layers(tx: &dyn Tx, now: i64) -> R<Vec<i64>> {
    let parents = layer_parents(tx)?;
    let live = live_layers(tx, &parents, now)?;
    let mut dead: Vec<i64> = parents.keys().filter(|id| !live.contains(id)).copied().collect();
    dead.sort_unstable();
    Ok(dead)
}

/// Deletes every layer that no volume head reaches through parent links.
pub fn collect_layers(tx: &dyn Tx, now: i64) -> R<u64> {
    let dead = dead_layers(tx, now)?;
    // Only dead layers can name a dead parent (a live layer's parents are live): unlink them
    // all first, so that they can go in any order.
    for id in &dead {
        tx.exec("UPDATE layers SET parent = NULL WHERE id = $1", vals![*id])?;
    }
    for id in &dead {
        for sql in [
            "DELETE FROM past_chunks WHERE layer = $1",
            "DELETE FROM past_xattrs WHERE layer = $1",
            "DELETE FROM past_dentries WHERE layer = $1",
            "DELETE FROM past_inodes WHERE layer = $1",
            "DELETE FROM chunks WHERE layer = $1",
            "DELETE FROM xattrs WHERE layer = $1",
            "DELETE FROM dentries WHERE layer = $1",
            "DELETE FROM inodes WHERE layer = $1",
            "DELETE FROM layers WHERE id = $1",
        ] {
            tx.exec(sql, vals![*id])?;
        }
    }
    Ok(dead.len() as u64)
}

/// Blocks that no chunk names and that nobody touched since the `uploaded` placeholder, or
/// that no mount session holds as its upload and were committed or untouched since the
/// `touched` placeholder (a later time). The conditions sit on the block row itself, so that
/// PostgreSQL checks them again on a row a concurrent write touched before this pass could
/// mark it.
fn unreferenced_where(touched: &str, uploaded: &str) -> String {
    format!(
        "state = 0
     AND (touched_at < {uploaded}
          OR ((committed = 1 OR touched_at < {touched})
              AND NOT EXISTS (SELECT 1 FROM uploads WHERE uploads.hash = blocks.hash)))
     AND NOT EXISTS (SELECT 1 FROM chunks WHERE chunks.hash = blocks.hash)
     AND NOT EXISTS (SELECT 1 FROM past_chunks WHERE past_chunks.hash = blocks.hash)"
    )
}

fn hashes(rows: Vec<super::Row>) -> R<Vec<(BlockHash, u64)>> {
    rows.iter()
        .map(|r| {
            let hash =
                BlockHash::try_from(r.blob(0)?).map_err(|_| Error::internal("malformed block hash in registry"))?;
            Ok((hash, r.u64(1)?))
        })
        .collect()
}

/// A pass that has not finished its deletions after this long is taken to have died; another
/// pass takes over its marked blocks.
const STALE_MARK_NS: i64 = 3600 * 1_000_000_000;

/// Marks, for collection pass `pass`, the blocks nothing references that were committed or
/// that nobody touched since `cutoffs`, and takes over the marks of passes that died; returns this pass's blocks. Passes
/// on several servers at once each delete only what they marked.
pub fn mark_unreferenced(tx: &dyn Tx, cutoffs: Cutoffs, pass: uuid::Uuid) -> R<Vec<(BlockHash, u64)>> {
    let now = now_ns();
    tx.exec(
        &format!(
            "UPDATE blocks SET state = 1, marked_by = $2, marked_at = $3 WHERE {}",
            unreferenced_where("$1", "$4")
        ),
        vals![cutoffs.touched, pass, now, cutoffs.uploaded],
    )?;
    tx.exec(
        "UPDATE blocks SET marked_by = $1, marked_at = $2 WHERE state = 1 AND marked_at < $3",
        vals![pass, now, now - STALE_MARK_NS],
    )?;
    hashes(tx.query(
        "SELECT hash, size FROM blocks WHERE state = 1 AND marked_by = $1",
        vals![pass],
    )?)
}

/// What [`mark_unreferenced`] would mark now, without marking anything.
pub fn unreferenced(tx: &dyn Tx, cutoffs: Cutoffs) -> R<Vec<(BlockHash, u64)>> {
    hashes(tx.query(
        &format!("SELECT hash, size FROM blocks WHERE {}", unreferenced_where("$1", "$2")),
        vals![cutoffs.touched, cutoffs.uploaded],
    )?)
}

pub fn forget(tx: &dyn Tx, hashes: &[BlockHash], pass: uuid::Uuid) -> R<()> {
    for hash in hashes {
        let gone = tx.exec(
            "DELETE FROM blocks WHERE hash = $1 AND state = 1 AND marked_by = $2",
            vals![hash, pass],
        )?;
        if gone > 0 {
            tx.exec("DELETE FROM block_copies WHERE hash = $1", vals![hash])?;
        }
    }
    Ok(())
}
