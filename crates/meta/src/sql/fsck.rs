//! A consistency check of every volume's tree against the block registry and its counters.
//!
//! Each tree is walked breadth first from its root with a work list (no recursion). Findings:
//! an entry naming an inode that does not exist, a chunk naming a block that is not stored
//! (unregistered, being collected, or missing from the store as the caller found), and usage
//! counters that differ from the tree. `repair` drops broken entries, turns dangling chunks
//! into holes (they read as zeros) and resets counters; snapshots are only reported.

use super::tree::{Caches, Tree};
use super::{R, Tx, vals};
use crate::{BlockHash, ChunkData, ROOT_INO};
use std::collections::{HashMap, HashSet};
use strata_core::api::{FileKind, FsckProblem};
use uuid::Uuid;

/// What checking one volume found.
#[derive(Default)]
pub struct VolumeReport {
    pub inodes: u64,
    pub blocks: HashSet<BlockHash>,
    pub problems: Vec<FsckProblem>,
}

/// Every volume and snapshot, by name.
pub fn volumes(tx: &dyn Tx) -> R<Vec<(Uuid, String)>> {
    tx.query("SELECT id, name FROM volumes ORDER BY name", vals![])?
        .iter()
        .map(|r| Ok((r.uuid(0)?, r.text(1)?)))
        .collect()
}

/// What the caller found of the store: blocks it lacks, and when it started looking. A
/// block touched since then (an upload that finished after the listing) is never missing.
pub struct StoreView<'a> {
    pub missing: &'a HashSet<BlockHash>,
    pub since: i64,
}

/// Checks one volume's tree; with `repair` (in a write transaction), mends what it finds.
pub fn check_volume(
    tx: &dyn Tx,
    caches: &Caches,
    (id, name): (Uuid, &str),
    store: &StoreView,
    repair: bool,
) -> R<VolumeReport> {
    let mut tree = Tree::open(tx, caches, id, repair)?;
    let mend = repair && !tree.snapshot;
    let mut report = VolumeReport::default();
    let mut problem = |kind: &str, detail: String| {
        report.problems.push(FsckProblem {
            kind: kind.into(),
            volume: name.to_owned(),
            detail,
        })
    };
    let mut live_blocks: HashMap<BlockHash, Option<u64>> = HashMap::new();
    let (mut seen, mut used, mut dirs) = (HashSet::from([ROOT_INO]), 0i64, vec![ROOT_INO]);
    while let Some(dir) = dirs.pop() {
        for (entry, ino) in tree.entries(dir)? {
            let Some(mut inode) = tree.stored_inode(ino)? else {
                let entry_name = String::from_utf8_lossy(&entry).into_owned();
                problem(
                    "missing_inode",
                    format!("entry {entry_name:?} of directory {dir} names no inode ({ino})"),
                );
                if mend {
                    tree.remove_dentry(dir, &entry)?;
                }
                continue;
            };
            if !seen.insert(ino) {
                continue; // Another hard link to a file already counted.
            }
            used += inode.stat.size as i64;
            match inode.stat.kind {
                FileKind::Directory => dirs.push(ino),
                FileKind::File => {
                    for chunk in tree.chunks(&inode)? {
                        let Some(&hash) = chunk.block() else { continue };
                        // The stored size of a live block.
                        let live = match live_blocks.get(&hash) {
                            Some(live) => *live,
                            None => {
                                let row = tx.query_opt(
                                    "SELECT state, touched_at, size FROM blocks WHERE hash = $1",
                                    vals![&hash],
                                )?;
                                let live = match row {
                                    Some(r)
                                        if r.i64(0)? == 0
                                            && !(store.missing.contains(&hash) && r.i64(1)? < store.since) =>
                                    {
                                        Some(r.i64(2)?.max(0) as u64)
                                    }
                                    _ => None,
                                };
                                live_blocks.insert(hash, live);
                                live
                            }
                        };
                        let hex = blake3::Hash::from_bytes(hash).to_hex();
                        match (live, &chunk.data) {
                            (Some(size), ChunkData::Packed { off, .. }) if off.saturating_add(chunk.len) > size => {
                                problem(
                                    "dangling_chunk",
                                    format!(
                                        "inode {ino}, chunk {} names bytes {off}..{} of pack {hex}, which holds {size}",
                                        chunk.idx,
                                        off.saturating_add(chunk.len)
                                    ),
                                )
                            }
                            (Some(_), _) => continue,
                            (None, _) => problem(
                                "dangling_chunk",
                                format!("inode {ino}, chunk {} names block {hex} that is not stored", chunk.idx),
                            ),
                        }
                        if mend {
                            tree.put_inode(&mut inode)?;
                            tx.exec(
                                "DELETE FROM chunks WHERE layer = $1 AND ino = $2 AND idx = $3",
                                vals![tree.head(), ino, chunk.idx],
                            )?;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    report.inodes = seen.len() as u64;
    report.blocks = live_blocks.into_keys().collect();
    let files = seen.len() as i64 - 1;
    if (tree.file_count, tree.used_bytes) != (files, used) {
        problem(
            "counters",
            format!(
                "counted {files} files and {used} bytes, recorded {} and {}",
                tree.file_count, tree.used_bytes
            ),
        );
        tree.file_count = files;
        tree.used_bytes = used;
    }
    if mend {
        tree.finish()?;
    }
    Ok(report)
}
