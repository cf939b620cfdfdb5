//! What differs between two volumes, forks or snapshots: paths added, removed and changed.

use crate::state::AppState;
use std::collections::BTreeMap;
use strata_core::Result;
use strata_core::api::{Change, DiffEntry, FileKind, Stat};
use strata_meta::{MetaStore, ROOT_INO};
use uuid::Uuid;

/// Changes that turn `from` into `to`, in path order.
pub async fn diff(state: &AppState, from: Uuid, to: Uuid) -> Result<Vec<DiffEntry>> {
    state
        .meta(move |m| {
            let mut out = Vec::new();
            walk(m, (from, Some(ROOT_INO)), (to, Some(ROOT_INO)), "", &mut out)?;
            Ok(out)
        })
        .await
}

type Side = (Uuid, Option<u64>);

fn entries(m: &dyn MetaStore, side: Side) -> Result<BTreeMap<String, Stat>> {
    let Some(ino) = side.1 else { return Ok(BTreeMap::new()) };
    Ok(m.readdir(side.0, ino)?
        .into_iter()
        .map(|(n, s)| (String::from_utf8_lossy(&n).into_owned(), s))
        .collect())
}

fn walk(m: &dyn MetaStore, a: Side, b: Side, prefix: &str, out: &mut Vec<DiffEntry>) -> Result<()> {
    let (left, right) = (entries(m, a)?, entries(m, b)?);
    let mut names: Vec<&String> = left.keys().chain(right.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let path = format!("{prefix}/{name}");
        let (l, r) = (left.get(name), right.get(name));
        let change = match (l, r) {
            (Some(_), None) => Some(Change::Removed),
            (None, Some(_)) => Some(Change::Added),
            (Some(l), Some(r)) if l.kind != r.kind => Some(Change::Changed),
            (Some(l), Some(r)) => differs(m, (a.0, l), (b.0, r))?.then_some(Change::Changed),
            (None, None) => None,
        };
        if let Some(change) = change {
            out.push(DiffEntry {
                path: path.clone(),
                change,
            });
        }
        // Below a directory on either side; one that appeared or vanished is listed whole.
        let dir = |s: Option<&Stat>| s.filter(|s| s.kind == FileKind::Directory).map(|s| s.ino);
        if dir(l).is_some() || dir(r).is_some() {
            walk(m, (a.0, dir(l)), (b.0, dir(r)), &path, out)?;
        }
    }
    Ok(())
}

/// Whether two entries of the same kind differ in content, permissions, owner or target.
fn differs(m: &dyn MetaStore, (va, a): (Uuid, &Stat), (vb, b): (Uuid, &Stat)) -> Result<bool> {
    if (a.mode, a.uid, a.gid, a.size, &a.target) != (b.mode, b.uid, b.gid, b.size, &b.target) {
        return Ok(true);
    }
    if a.kind != FileKind::File {
        return Ok(false);
    }
    Ok(m.chunks(va, a.ino)?.1 != m.chunks(vb, b.ino)?.1)
}
