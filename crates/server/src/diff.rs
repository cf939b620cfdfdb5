//! What differs between two volumes, forks or snapshots: paths added, removed and changed.

use crate::state::AppState;
use std::collections::BTreeMap;
use strata_core::Result;
use strata_core::api::{Change, DiffEntry, FileKind, Stat};
use strata_meta::{MetaStore, ROOT_INO};
use uuid::Uuid;

/// Changes that turn `from` into `to`, in path order. A directory found on one side only is
/// one entry (its contents are not listed), so the answer grows with the changes, not with
/// the size of what was added or removed.
pub async fn diff(state: &AppState, from: Uuid, to: Uuid) -> Result<Vec<DiffEntry>> {
    state.meta(move |m| walk(m, from, to)).await
}

/// A path to compare: its stat on each side, if it exists there.
struct Pending {
    path: String,
    left: Option<Stat>,
    right: Option<Stat>,
}

/// Depth first with an explicit stack: trees may be as deep as users make them.
fn walk(m: &dyn MetaStore, a: Uuid, b: Uuid) -> Result<Vec<DiffEntry>> {
    let mut out = Vec::new();
    let mut stack = Vec::new();
    push_children(m, (a, Some(ROOT_INO)), (b, Some(ROOT_INO)), "", &mut stack)?;
    while let Some(Pending { path, left, right }) = stack.pop() {
        let change = match (&left, &right) {
            (Some(_), None) => Change::Removed,
            (None, Some(_)) => Change::Added,
            (Some(l), Some(r)) if l.kind != r.kind => Change::Changed,
            (Some(l), Some(r)) => {
                if l.kind == FileKind::Directory {
                    push_children(m, (a, Some(l.ino)), (b, Some(r.ino)), &path, &mut stack)?;
                }
                if !differs(m, (a, l), (b, r))? {
                    continue;
                }
                Change::Changed
            }
            (None, None) => continue,
        };
        out.push(DiffEntry { path, change });
    }
    Ok(out)
}

/// Queues the entries of a directory on both sides, so that they pop in name order.
fn push_children(m: &dyn MetaStore, a: Side, b: Side, prefix: &str, stack: &mut Vec<Pending>) -> Result<()> {
    let (mut left, mut right) = (entries(m, a)?, entries(m, b)?);
    let mut names: Vec<String> = left.keys().chain(right.keys()).cloned().collect();
    names.sort();
    names.dedup();
    for name in names.into_iter().rev() {
        stack.push(Pending {
            path: format!("{prefix}/{name}"),
            left: left.remove(&name),
            right: right.remove(&name),
        });
    }
    Ok(())
}

type Side = (Uuid, Option<u64>);

fn entries(m: &dyn MetaStore, side: Side) -> Result<BTreeMap<String, Stat>> {
    let Some(ino) = side.1 else { return Ok(BTreeMap::new()) };
    Ok(m.readdir(side.0, ino)?
        .into_iter()
        .map(|(n, s)| (String::from_utf8_lossy(&n).into_owned(), s))
        .collect())
}

/// Whether two entries of the same kind differ in content, permissions, owner or target.
fn differs(m: &dyn MetaStore, (va, a): (Uuid, &Stat), (vb, b): (Uuid, &Stat)) -> Result<bool> {
    if (a.mode, a.uid, a.gid, a.size, &a.target) != (b.mode, b.uid, b.gid, b.size, &b.target) {
        return Ok(true);
    }
    if a.kind != FileKind::File {
        return Ok(false);
    }
    let (ca, cb) = (m.chunks(va.into(), a.ino)?.1, m.chunks(vb.into(), b.ino)?.1);
    Ok(ca.len() != cb.len() || ca.iter().zip(&cb).any(|(x, y)| !x.same_bytes(y)))
}
