//! Merging a fork back: a three-way merge by path of the fork's tree and a volume's against
//! the tree the fork started from (its merge base, kept for it), in one transaction.
//!
//! A path changed on the fork's side only takes the fork's version (a file, link or special
//! file with its content, mode, owner, times and xattrs; a directory with all it holds); a
//! path changed on both sides the same way is left; a path changed differently is a
//! conflict, and nothing is applied unless a side is preferred. Directories on both sides
//! are merged entry by entry, their own mode, owner and xattrs like a path. A file with
//! several names in the fork arrives as one file per name. The walk visits only the paths
//! the rows written on either side since the fork point name (every path when a flatten
//! has merged the layers below the fork point away), so it costs what changed.

use super::diff::{self, Scope};
use super::tree::{Caches, Inode, Tree};
use super::{Fail, R, Tx, ops, paths, vals, volumes};
use crate::{Error, ErrorKind, NewInode, ROOT_INO, XattrMode};
use std::collections::{BTreeMap, BTreeSet};
use strata_core::api::{AttrChanges, Change, DiffEntry, FileKind, MergeConflict, MergeReport, Prefer};
use strata_core::names::VolumeRef;
use uuid::Uuid;

type Entries = BTreeMap<Vec<u8>, Inode>;

/// A directory to merge: its path, its inode on each side (base, fork, volume) and its node
/// in the scope (`None`: every path below it counts).
type Dir = (String, Option<u64>, u64, u64, Option<usize>);

/// What the merge does at one entry of a volume's directory.
enum Take {
    /// Puts the fork's version (or nothing) in place of the volume's.
    Entry {
        parent: u64,
        name: Vec<u8>,
        from: Option<Inode>,
    },
    /// Gives a directory on both sides the fork's mode, owner and xattrs.
    Attrs { dir: u64, from: Inode },
}

pub fn merge(
    tx: &dyn Tx,
    caches: &Caches,
    org: &str,
    fork: Uuid,
    into: Option<Uuid>,
    prefer: Option<Prefer>,
    dry_run: bool,
) -> R<MergeReport> {
    let row = tx
        .query_opt(
            "SELECT forked_from, fork_base FROM volumes WHERE org = $1 AND id = $2",
            vals![org, fork],
        )?
        .ok_or_else(|| Fail::Fs(Error::not_found("no such fork").with_field("fork")))?;
    let (Some(source), Some(base)) = (row.opt_uuid(0)?, row.opt_i64(1)?) else {
        let msg = "this volume is no fork (or was forked before forks could be merged)";
        return Err(Error::invalid("fork", msg).into());
    };
    let into = into.unwrap_or(source);
    if into == fork {
        return Err(Error::invalid("into", "a fork is not merged into itself").into());
    }
    volumes::get(tx, org, &VolumeRef::Id(into)).map_err(|e| match e {
        Fail::Fs(e) => Fail::Fs(e.with_field("into")),
        other => other,
    })?;
    let mut volume = Tree::open(tx, caches, into, true)?;
    if volume.snapshot {
        return Err(Error::new(ErrorKind::ReadOnly, "a snapshot is read-only")
            .with_field("into")
            .into());
    }
    let forked = Tree::open(tx, caches, fork, false)?;
    let base = Tree::of_layer(tx, caches, base)?;

    let mut report = MergeReport {
        applied: false,
        changes: Vec::new(),
        conflicts: Vec::new(),
    };
    // The paths either side changed since the fork point, or every path when the trees no
    // longer share the layers below it.
    let scope = match (diff::changed_rows(&base, &forked)?, diff::changed_rows(&base, &volume)?) {
        (Some(mut rows), Some(more)) => {
            rows.extend(more);
            Some(Scope::naming(&[&base, &forked, &volume], &rows)?)
        }
        _ => None,
    };
    let mut takes = Vec::new();
    let mut stack: Vec<Dir> = vec![(
        String::new(),
        Some(ROOT_INO),
        ROOT_INO,
        ROOT_INO,
        scope.as_ref().map(|_| 0),
    )];
    while let Some((prefix, b_dir, f_dir, v_dir, node)) = stack.pop() {
        let mut named = Vec::new();
        match (&scope, node) {
            (Some(scope), Some(node)) => {
                for (name, &child) in scope.children(node) {
                    let b = diff::entry(&base, b_dir, name)?;
                    let (f, v) = (
                        diff::entry(&forked, Some(f_dir), name)?,
                        diff::entry(&volume, Some(v_dir), name)?,
                    );
                    named.push((name.clone(), Some(child), b, f, v));
                }
            }
            _ => {
                let mut b_entries = match b_dir {
                    Some(dir) => entries(&base, dir)?,
                    None => Entries::new(),
                };
                let (mut f_entries, mut v_entries) = (entries(&forked, f_dir)?, entries(&volume, v_dir)?);
                let names: BTreeSet<Vec<u8>> = b_entries
                    .keys()
                    .chain(f_entries.keys())
                    .chain(v_entries.keys())
                    .cloned()
                    .collect();
                for name in names {
                    let (b, f, v) = (
                        b_entries.remove(&name),
                        f_entries.remove(&name),
                        v_entries.remove(&name),
                    );
                    named.push((name, None, b, f, v));
                }
            }
        }
        let mut dirs = Vec::new();
        for (name, node, b, f, v) in &named {
            let (b, f, v) = (b.as_ref(), f.as_ref(), v.as_ref());
            let path = format!("{prefix}/{}", String::from_utf8_lossy(name));
            if let (Some(fd), Some(vd)) = (dir_of(f), dir_of(v))
                && (b.is_none() || dir_of(b).is_some())
            {
                let cf = !same_attrs(&base, b, &forked, f)?;
                if cf && !same_attrs(&volume, v, &forked, f)? {
                    let cv = !same_attrs(&base, b, &volume, v)?;
                    if !cv || decide(&mut report, &path, b, f, v, prefer) {
                        report.changes.push(DiffEntry {
                            path: path.clone(),
                            change: Change::Changed,
                        });
                        takes.push(Take::Attrs {
                            dir: vd,
                            from: f.cloned().expect("a directory"),
                        });
                    }
                }
                // The scope names what changed in a directory all three share; below one
                // moved into another's place, every path counts.
                let same_dir = dir_of(b) == Some(fd) && fd == vd;
                dirs.push((path, dir_of(b), fd, vd, node.filter(|_| same_dir)));
                continue;
            }
            if same(&base, b, &forked, f)? {
                continue;
            }
            let take = if same(&base, b, &volume, v)? {
                true
            } else if same(&volume, v, &forked, f)? {
                false
            } else {
                decide(&mut report, &path, b, f, v, prefer)
            };
            if take {
                report.changes.push(DiffEntry {
                    path,
                    change: change(v, f),
                });
                takes.push(Take::Entry {
                    parent: v_dir,
                    name: name.clone(),
                    from: f.cloned(),
                });
            }
        }
        stack.extend(dirs.into_iter().rev());
    }
    report.changes.sort_by(|a, b| a.path.cmp(&b.path));
    report.conflicts.sort_by(|a, b| a.path.cmp(&b.path));
    if dry_run || (!report.conflicts.is_empty() && prefer.is_none()) {
        return Ok(report);
    }
    for take in takes {
        match take {
            Take::Entry { parent, name, from } => {
                if volume.dentry(parent, &name)?.is_some() {
                    paths::remove_entry(&mut volume, parent, &name, true)?;
                }
                if let Some(from) = from {
                    copy_in(&forked, from, &mut volume, parent, name)?;
                }
            }
            Take::Attrs { dir, from } => {
                let changes = AttrChanges {
                    mode: Some(from.stat.mode),
                    uid: Some(from.stat.uid),
                    gid: Some(from.stat.gid),
                    ..AttrChanges::default()
                };
                ops::setattr(&mut volume, dir, &changes, None)?;
                for name in ops::list_xattrs(&volume, dir)? {
                    ops::remove_xattr(&volume, dir, &name)?;
                }
                copy_xattrs(&forked, from.stat.ino, &volume, dir)?;
            }
        }
    }
    volume.check_quota()?;
    volume.finish()?;
    report.applied = true;
    Ok(report)
}

/// Records a conflict; whether the fork's side is taken.
fn decide(
    report: &mut MergeReport,
    path: &str,
    b: Option<&Inode>,
    f: Option<&Inode>,
    v: Option<&Inode>,
    prefer: Option<Prefer>,
) -> bool {
    report.conflicts.push(MergeConflict {
        path: path.to_owned(),
        fork: change(b, f),
        volume: change(b, v),
    });
    prefer == Some(Prefer::Fork)
}

/// What turned `from` into `to`.
fn change(from: Option<&Inode>, to: Option<&Inode>) -> Change {
    match (from, to) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        _ => Change::Changed,
    }
}

fn dir_of(inode: Option<&Inode>) -> Option<u64> {
    inode.filter(|i| i.stat.kind == FileKind::Directory).map(|i| i.stat.ino)
}

fn entries(tree: &Tree, dir: u64) -> R<Entries> {
    Ok(tree.entries_with_inodes(dir)?.into_iter().collect())
}

fn xattrs(tree: &Tree, ino: u64) -> R<Vec<(Vec<u8>, Vec<u8>)>> {
    ops::list_xattrs(tree, ino)?
        .into_iter()
        .map(|name| Ok((ops::get_xattr(tree, ino, &name)?, name)).map(|(value, name)| (name, value)))
        .collect()
}

/// Whether two entries have the same kind, mode, owner and xattrs.
fn same_attrs(ta: &Tree, a: Option<&Inode>, tb: &Tree, b: Option<&Inode>) -> R<bool> {
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(a.is_none() && b.is_none());
    };
    let (sa, sb) = (&a.stat, &b.stat);
    Ok((sa.kind, sa.mode, sa.uid, sa.gid) == (sb.kind, sb.mode, sb.uid, sb.gid)
        && xattrs(ta, sa.ino)? == xattrs(tb, sb.ino)?)
}

/// Whether two entries hold the same: attributes, content, link target and, for
/// directories, the same entries all the way down (times aside).
fn same(ta: &Tree, a: Option<&Inode>, tb: &Tree, b: Option<&Inode>) -> R<bool> {
    let mut pairs = vec![(a.cloned(), b.cloned())];
    while let Some((a, b)) = pairs.pop() {
        let (Some(a), Some(b)) = (&a, &b) else {
            if a.is_some() || b.is_some() {
                return Ok(false);
            }
            continue;
        };
        // One row of one layer both trees share: one version of one file.
        if a.same_row(b) && a.stat.kind != FileKind::Directory {
            continue;
        }
        let (sa, sb) = (&a.stat, &b.stat);
        if (sa.size, &sa.target, sa.rdev) != (sb.size, &sb.target, sb.rdev) || !same_attrs(ta, Some(a), tb, Some(b))? {
            return Ok(false);
        }
        match sa.kind {
            FileKind::Directory => {
                let (ea, mut eb) = (entries(ta, sa.ino)?, entries(tb, sb.ino)?);
                if ea.len() != eb.len() {
                    return Ok(false);
                }
                for (name, ia) in ea {
                    let ib = eb.remove(&name);
                    if ib.is_none() {
                        return Ok(false);
                    }
                    pairs.push((Some(ia), ib));
                }
            }
            FileKind::File => {
                let (ca, cb) = (ta.chunks(a)?, tb.chunks(b)?);
                if ca.len() != cb.len() {
                    return Ok(false);
                }
                for (x, y) in ca.iter().zip(&cb) {
                    if !ta.same_content(x, y)? {
                        return Ok(false);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(true)
}

fn copy_xattrs(from: &Tree, src: u64, to: &Tree, dst: u64) -> R<()> {
    for (name, value) in xattrs(from, src)? {
        ops::set_xattr(to, dst, &name, &value, XattrMode::Any)?;
    }
    Ok(())
}

/// Copies the fork's entry (a directory with all it holds) into the volume as `name` of
/// `parent`: new inodes, the same blocks.
fn copy_in(forked: &Tree, from: Inode, volume: &mut Tree, parent: u64, name: Vec<u8>) -> R<()> {
    let mut stack = vec![(from, parent, name)];
    while let Some((src, parent, name)) = stack.pop() {
        let s = &src.stat;
        let new = NewInode {
            uid: s.uid,
            gid: s.gid,
            rdev: s.rdev,
            target: s.target.clone(),
            ..NewInode::new(s.kind, s.mode)
        };
        let made = ops::create(volume, parent, &name, &new)?;
        if s.kind == FileKind::File {
            let chunks = forked.chunks(&src)?;
            ops::write_chunks(volume, made.ino, s.size, &chunks, true)?;
        }
        copy_xattrs(forked, s.ino, volume, made.ino)?;
        if s.kind == FileKind::Directory {
            for (child, inode) in forked.entries_with_inodes(s.ino)? {
                stack.push((inode, made.ino, child));
            }
        }
        let times = AttrChanges {
            atime: Some(s.atime),
            mtime: Some(s.mtime),
            ..AttrChanges::default()
        };
        ops::setattr(volume, made.ino, &times, None)?;
    }
    Ok(())
}
