//! Tree operations with POSIX semantics, each inside one transaction on a [`Tree`].

use super::tree::{Inode, Tree};
use super::{R, vals};
use crate::{
    AttrChanges, Change, Chunk, ChunkData, ContentWrite, DirPage, Error, ErrorKind, NewInode, ROOT_INO, RenameFlags,
    now_ns,
};
use std::collections::{BTreeMap, BTreeSet};
use strata_core::api::{FileKind, Stat};
use strata_core::paths::check_name;

pub(crate) fn fail(kind: ErrorKind, message: &str) -> super::Fail {
    Error::new(kind, message).into()
}

/// The inode an entry names; `NotFound` if there is none.
pub(crate) fn entry(tree: &Tree, parent: u64, name: &[u8]) -> R<Inode> {
    tree.need_dir(parent)?;
    let ino = tree
        .dentry(parent, name)?
        .ok_or_else(|| fail(ErrorKind::NotFound, "no such file or directory"))?;
    tree.inode(ino)?
        .ok_or_else(|| Error::internal(format!("entry names missing inode {ino}")).into())
}

/// Records a change to a directory's entries (and, for subdirectories, its link count).
pub(crate) fn touch_dir(tree: &Tree, dir: u64, nlink_delta: i32, now: i64) -> R<()> {
    let mut inode = tree.need_dir(dir)?;
    inode.stat.nlink = inode.stat.nlink.saturating_add_signed(nlink_delta);
    inode.stat.mtime = now;
    inode.stat.ctime = now;
    tree.touch_later(inode);
    Ok(())
}

pub fn lookup(tree: &Tree, parent: u64, name: &[u8]) -> R<Stat> {
    check_name(name)?;
    Ok(entry(tree, parent, name)?.stat)
}

pub fn readdir(tree: &Tree, ino: u64) -> R<Vec<(Vec<u8>, Stat)>> {
    tree.need_dir(ino)?;
    Ok(tree
        .entries_with_inodes(ino)?
        .into_iter()
        .map(|(name, inode)| (name, inode.stat))
        .collect())
}

/// Whether `ino` is `root` or lies below it now, by any of its names. Walks up iteratively:
/// a directory has one parent, so after the first step the walk is a single chain.
pub fn within(tree: &Tree, ino: u64, root: u64) -> R<bool> {
    if ino == root || root == ROOT_INO || tree.known_below(root, ino) {
        return Ok(true);
    }
    let Some(inode) = tree.inode(ino)? else {
        return Ok(false);
    };
    let starts = if inode.stat.kind == FileKind::Directory {
        vec![inode.parent]
    } else {
        tree.parents_of(ino)?
    };
    for mut dir in starts {
        // Walked up only as far as a directory known to lie below the root (kept by the
        // tree's caches, as of its count of moves), so a deep tree is walked once. Bounded by
        // the number of directories: a cycle cannot form (rename refuses one).
        let mut passed = if inode.stat.kind == FileKind::Directory {
            vec![ino]
        } else {
            Vec::new()
        };
        loop {
            if dir == root || tree.known_below(root, dir) {
                tree.note_below(root, &passed);
                return Ok(true);
            }
            if dir == ROOT_INO || dir == 0 {
                break;
            }
            match tree.inode(dir)? {
                Some(parent) if parent.stat.kind == FileKind::Directory => {
                    passed.push(dir);
                    dir = parent.parent;
                }
                _ => break,
            }
        }
    }
    Ok(false)
}

/// Up to `limit` entries after the name `after`, and the name to continue after when more
/// may follow.
pub fn readdir_page(tree: &Tree, ino: u64, after: Option<&[u8]>, limit: usize) -> R<DirPage> {
    tree.need_dir(ino)?;
    let end = tree.page_end(ino, after, limit.max(1))?;
    let entries = tree.entries_with_inodes_between(ino, after, end.as_deref())?;
    let rows: Vec<(u64, i64)> = entries.iter().map(|(_, i)| (i.stat.ino, i.layer)).collect();
    let with_xattrs = tree.with_xattrs(&rows)?;
    let entries = entries
        .into_iter()
        .map(|(name, inode)| {
            let xattrs = with_xattrs.contains(&inode.stat.ino);
            (name, inode.stat, xattrs)
        })
        .collect();
    Ok(DirPage { entries, next: end })
}

pub fn create(tree: &mut Tree, parent: u64, name: &[u8], new: &NewInode) -> R<Stat> {
    create_by(tree, parent, name, new, None)
}

/// [`create`] by a session, which may choose an inode number granted to it.
pub fn create_by(tree: &mut Tree, parent: u64, name: &[u8], new: &NewInode, by: Option<uuid::Uuid>) -> R<Stat> {
    check_name(name)?;
    tree.need_dir(parent)?;
    if tree.dentry(parent, name)?.is_some() {
        return Err(fail(ErrorKind::AlreadyExists, "file exists"));
    }
    let target = match (new.kind, &new.target) {
        (FileKind::Symlink, Some(t))
            if !t.is_empty() && t.len() <= strata_core::paths::PATH_MAX && !t.contains('\0') =>
        {
            Some(t.clone())
        }
        (FileKind::Symlink, _) => {
            return Err(Error::invalid("target", "a symlink needs a target of 1 to 4096 bytes without NUL").into());
        }
        _ => None,
    };
    let now = made_at(new.at);
    let is_dir = new.kind == FileKind::Directory;
    let ino = match new.ino {
        Some(ino) => granted_ino(tree, ino, by)?,
        None => tree.alloc_ino(),
    };
    let stat = Stat {
        ino,
        kind: new.kind,
        mode: new.mode & 0o7777,
        uid: new.uid,
        gid: new.gid,
        size: target.as_ref().map_or(0, |t| t.len() as u64),
        nlink: if is_dir { 2 } else { 1 },
        rdev: new.rdev,
        atime: now,
        mtime: now,
        ctime: now,
        target,
    };
    let mut inode = Inode {
        layer: tree.head(),
        stat,
        parent,
        born: tree.stamp,
        past: false,
    };
    tree.put_new_inode(&mut inode)?;
    tree.set_dentry(parent, name, inode.stat.ino)?;
    touch_dir(tree, parent, if is_dir { 1 } else { 0 }, now)?;
    tree.file_count += 1;
    tree.add_used(inode.stat.size as i128)?;
    Ok(inode.stat)
}

/// The time of a change a mount made earlier and ships now: what it says, if within the last
/// hour (and not in the future), else now.
fn made_at(at: Option<i64>) -> i64 {
    const HOUR: i64 = 3_600_000_000_000;
    let now = now_ns();
    at.filter(|&t| t <= now && t >= now - HOUR).unwrap_or(now)
}

/// One change of a batch, as its single call does it.
pub fn apply(tree: &mut Tree, change: &Change) -> R<Option<Stat>> {
    Ok(match change {
        Change::Create { parent, name, new, by } => Some(create_by(tree, *parent, name, new, *by)?),
        Change::Link { ino, parent, name } => Some(link(tree, *ino, *parent, name)?),
        Change::Unlink { parent, name, at } => unlink(tree, *parent, name, *at).map(|()| None)?,
        Change::Rmdir { parent, name, at } => rmdir(tree, *parent, name, *at).map(|()| None)?,
        Change::Rename { from, to, flags, at } => {
            rename(tree, (from.0, &from.1), (to.0, &to.1), *flags, *at).map(|()| None)?
        }
        Change::SetAttr { ino, changes, at } => Some(setattr(tree, *ino, changes, *at)?),
        Change::Write { ino, write } => Some(write_content(tree, *ino, &write.as_write())?),
        Change::SetXattr { ino, name, value, mode } => set_xattr(tree, *ino, name, value, *mode).map(|()| None)?,
        Change::RemoveXattr { ino, name } => remove_xattr(tree, *ino, name).map(|()| None)?,
    })
}

/// An inode number a session chose: one of those granted to it, and held by no layer of
/// the tree, so that it never names two inodes at once (the lower layers a fork shares
/// included).
fn granted_ino(tree: &Tree, ino: u64, by: Option<uuid::Uuid>) -> R<u64> {
    let refused = || Error::invalid("ino", "not an inode number granted to this session").into();
    let Some(session) = by else {
        return Err(refused());
    };
    if !tree.granted_to(session, ino)? || ino <= crate::ROOT_INO {
        return Err(refused());
    }
    let sql = format!(
        "SELECT 1 FROM inodes WHERE ino = $1 AND layer IN {} LIMIT 1",
        tree.in_chain()
    );
    if tree.tx().query_opt(&sql, vals![ino])?.is_some() {
        return Err(refused());
    }
    Ok(ino)
}

pub fn link(tree: &Tree, ino: u64, parent: u64, name: &[u8]) -> R<Stat> {
    check_name(name)?;
    let mut inode = tree.need_inode(ino)?;
    if inode.stat.kind == FileKind::Directory {
        return Err(fail(ErrorKind::PermissionDenied, "cannot hard-link a directory"));
    }
    tree.need_dir(parent)?;
    if tree.dentry(parent, name)?.is_some() {
        return Err(fail(ErrorKind::AlreadyExists, "file exists"));
    }
    let now = now_ns();
    inode.stat.nlink += 1;
    inode.stat.ctime = now;
    tree.put_inode(&mut inode)?;
    tree.set_dentry(parent, name, ino)?;
    touch_dir(tree, parent, 0, now)?;
    Ok(inode.stat)
}

/// Drops one link to a non-directory inode, deleting it with the last link.
pub(crate) fn drop_link(tree: &mut Tree, mut inode: Inode, now: i64) -> R<()> {
    inode.stat.nlink = inode.stat.nlink.saturating_sub(1);
    if inode.stat.nlink == 0 {
        tree.remove_inode(&inode)
    } else {
        inode.stat.ctime = now;
        tree.put_inode(&mut inode)
    }
}

/// Removes a file's name, as of `at` when the change was made earlier (see [`made_at`]).
pub fn unlink(tree: &mut Tree, parent: u64, name: &[u8], at: Option<i64>) -> R<()> {
    check_name(name)?;
    let inode = entry(tree, parent, name)?;
    if inode.stat.kind == FileKind::Directory {
        return Err(fail(ErrorKind::IsADirectory, "is a directory"));
    }
    let now = made_at(at);
    tree.remove_dentry(parent, name)?;
    drop_link(tree, inode, now)?;
    touch_dir(tree, parent, 0, now)
}

/// Deletes an empty directory that `parent` names `name`.
pub(crate) fn remove_dir(tree: &mut Tree, parent: u64, name: &[u8], inode: &Inode, now: i64) -> R<()> {
    if !tree.entries(inode.stat.ino)?.is_empty() {
        return Err(fail(ErrorKind::DirectoryNotEmpty, "directory not empty"));
    }
    tree.remove_dentry(parent, name)?;
    tree.remove_inode(inode)?;
    touch_dir(tree, parent, -1, now)
}

/// Removes an empty directory, as of `at` when the change was made earlier.
pub fn rmdir(tree: &mut Tree, parent: u64, name: &[u8], at: Option<i64>) -> R<()> {
    check_name(name)?;
    let inode = entry(tree, parent, name)?;
    if inode.stat.kind != FileKind::Directory {
        return Err(fail(ErrorKind::NotADirectory, "not a directory"));
    }
    remove_dir(tree, parent, name, &inode, made_at(at))
}

/// Moves an entry, as of `at` when the change was made earlier.
pub fn rename(tree: &mut Tree, from: (u64, &[u8]), to: (u64, &[u8]), flags: RenameFlags, at: Option<i64>) -> R<()> {
    check_name(from.1)?;
    check_name(to.1)?;
    let mut src = entry(tree, from.0, from.1)?;
    tree.need_dir(to.0)?;
    if from == to {
        return Ok(());
    }
    let src_is_dir = src.stat.kind == FileKind::Directory;
    if src_is_dir {
        // Refuse to move a directory below itself: walk up from the new parent.
        let mut dir = to.0;
        loop {
            if dir == src.stat.ino {
                return Err(Error::invalid("to", "cannot move a directory into itself").into());
            }
            if dir == ROOT_INO {
                break;
            }
            dir = tree.need_inode(dir)?.parent;
        }
    }
    let now = made_at(at);
    if let Some(dst_ino) = tree.dentry(to.0, to.1)? {
        if flags.no_replace {
            return Err(fail(ErrorKind::AlreadyExists, "file exists"));
        }
        if dst_ino == src.stat.ino {
            return Ok(()); // Two links to one inode: POSIX says do nothing.
        }
        let dst = tree.need_inode(dst_ino)?;
        match (src_is_dir, dst.stat.kind == FileKind::Directory) {
            (true, true) => remove_dir(tree, to.0, to.1, &dst, now)?,
            (true, false) => return Err(fail(ErrorKind::NotADirectory, "not a directory")),
            (false, true) => return Err(fail(ErrorKind::IsADirectory, "is a directory")),
            (false, false) => drop_link(tree, dst, now)?,
        }
    }
    tree.remove_dentry(from.0, from.1)?;
    tree.set_dentry(to.0, to.1, src.stat.ino)?;
    src.stat.ctime = now;
    if src_is_dir && from.0 != to.0 {
        // What servers remember of which directories lie below a subpath is now stale.
        tree.moves += 1;
        src.parent = to.0;
        tree.put_inode(&mut src)?;
        touch_dir(tree, from.0, -1, now)?;
        touch_dir(tree, to.0, 1, now)
    } else {
        tree.put_inode(&mut src)?;
        touch_dir(tree, from.0, 0, now)?;
        touch_dir(tree, to.0, 0, now)
    }
}

/// Changes attributes, as of `at` when the change was made earlier (see [`made_at`]).
pub fn setattr(tree: &mut Tree, ino: u64, changes: &AttrChanges, at: Option<i64>) -> R<Stat> {
    let mut inode = tree.need_inode(ino)?;
    let now = made_at(at);
    changes.apply_to(&mut inode.stat);
    inode.stat.ctime = now;
    let new_size = changes.size.filter(|&size| size != inode.stat.size);
    if let Some(size) = new_size {
        match inode.stat.kind {
            FileKind::File => {}
            FileKind::Directory => return Err(fail(ErrorKind::IsADirectory, "is a directory")),
            _ => return Err(Error::invalid("size", "only a regular file can be truncated").into()),
        }
        check_size(size)?;
        tree.add_used(size as i128 - inode.stat.size as i128)?;
        inode.stat.size = size;
        inode.stat.mtime = changes.mtime.unwrap_or(now);
    }
    tree.put_inode(&mut inode)?;
    if let Some(size) = new_size {
        tree.truncate_chunks(ino, size)?;
    }
    Ok(inode.stat)
}

pub fn chunks(tree: &Tree, ino: u64) -> R<(Stat, Vec<Chunk>)> {
    let inode = need_file(tree, ino)?;
    let chunks = tree.chunks(&inode)?;
    Ok((inode.stat, chunks))
}

fn need_file(tree: &Tree, ino: u64) -> R<Inode> {
    let inode = tree.need_inode(ino)?;
    match inode.stat.kind {
        FileKind::File => Ok(inode),
        FileKind::Directory => Err(fail(ErrorKind::IsADirectory, "is a directory")),
        _ => Err(Error::invalid("path", "not a regular file").into()),
    }
}

/// The largest file: what a signed 64-bit offset can reach (the counters saturate).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

fn check_size(size: u64) -> R<()> {
    if size > MAX_FILE_SIZE {
        return Err(Error::invalid("size", format!("a file is at most {MAX_FILE_SIZE} bytes")).into());
    }
    Ok(())
}

/// Replaces a file's whole content.
pub fn write_chunks(tree: &mut Tree, ino: u64, size: u64, chunks: &[Chunk], replace_all: bool) -> R<Stat> {
    let write = ContentWrite {
        chunks,
        replace_all,
        size,
        ..ContentWrite::default()
    };
    write_content(tree, ino, &write)
}

pub fn write_content(tree: &mut Tree, ino: u64, w: &ContentWrite) -> R<Stat> {
    let mut inode = need_file(tree, ino)?;
    if let Some(base) = w.base {
        check_base(tree, &inode, w, base)?;
    }
    let old_size = inode.stat.size;
    let size = if w.grow { w.size.max(old_size) } else { w.size };
    check_size(size)?;
    for chunk in w.chunks {
        if chunk.len > strata_core::BLOCK_SIZE || chunk.idx.saturating_mul(strata_core::BLOCK_SIZE) >= size.max(1) {
            return Err(Error::invalid(
                "chunks",
                format!("chunk {} does not fit a file of {size} bytes", chunk.idx),
            )
            .into());
        }
        if let Some(hash) = chunk.block() {
            // A session names only blocks it can show it has: the same answer as for a block
            // missing from the store, so a write reveals nothing about other volumes. A pack
            // is named only by the server (no client can send a packed chunk).
            let packed = matches!(chunk.data, ChunkData::Packed { .. });
            if let Some(session) = w.uploader
                && !packed
                && !tree.may_use(session, hash)?
            {
                return Err(fail(
                    ErrorKind::Conflict,
                    "a block of this write is missing from the store; upload it again",
                ));
            }
            let Some(stored) = tree.live_block(hash)? else {
                return Err(fail(
                    ErrorKind::Conflict,
                    "a block of this write is missing from the store; upload it again",
                ));
            };
            // A chunk reads its bytes from its block: it cannot be longer (patches may extend
            // it, and say with what).
            let end = match chunk.data {
                ChunkData::Packed { off, .. } => off.saturating_add(chunk.len),
                _ => chunk.len,
            };
            if matches!(chunk.data, ChunkData::Block(_) | ChunkData::Packed { .. }) && end > stored {
                return Err(Error::invalid(
                    "chunks",
                    format!(
                        "chunk {} is {} bytes, longer than its block ({stored})",
                        chunk.idx, chunk.len
                    ),
                )
                .into());
            }
        }
    }
    let now = made_at(w.at);
    inode.stat.size = size;
    inode.stat.mtime = now;
    inode.stat.ctime = now;
    if let Some(then) = w.then {
        then.apply_to(&mut inode.stat);
    }
    tree.put_inode(&mut inode)?;
    if w.replace_all {
        tree.remove_all_chunks(ino)?;
    } else {
        if let Some(cut) = w.cut_at {
            tree.truncate_chunks(ino, cut)?;
        }
        if size < old_size {
            tree.truncate_chunks(ino, size)?;
        }
    }
    for chunk in w.chunks {
        tree.put_chunk(ino, chunk)?;
    }
    // The writer's upload records stay until its session goes: another file open there may
    // still hold the same block unnamed (identical blocks are one), and would lose it if this
    // file let go of it and a collection pass came before that file's commit.
    tree.add_used(size as i128 - old_size as i128)?;
    Ok(inode.stat)
}

/// Refuses a write based on chunks the file no longer has: another writer committed first.
/// The writer's own cut comes first, so what lies past it is never a reason to refuse.
fn check_base(tree: &Tree, inode: &Inode, w: &ContentWrite, base: &[Chunk]) -> R<()> {
    let mut current: BTreeMap<u64, Chunk> = tree.chunks(inode)?.into_iter().map(|c| (c.idx, c)).collect();
    if let Some(cut) = w.cut_at {
        let bs = strata_core::BLOCK_SIZE;
        current.retain(|&idx, _| idx < cut.div_ceil(bs));
        if let Some(chunk) = current.get_mut(&(cut / bs)) {
            chunk.cut(cut % bs);
        }
    }
    let expected: BTreeMap<u64, &Chunk> = base.iter().map(|c| (c.idx, c)).collect();
    let mut idxs: BTreeSet<u64> = w.chunks.iter().map(|c| c.idx).chain(expected.keys().copied()).collect();
    if w.replace_all {
        idxs.extend(current.keys());
    }
    for idx in &idxs {
        let same = match (current.get(idx), expected.get(idx)) {
            (None, None) => true,
            (Some(now), Some(then)) => tree.same_content(now, then)?,
            _ => false,
        };
        if !same {
            return Err(fail(
                ErrorKind::Stale,
                "the file changed since this writer read it: read it again and redo the write",
            ));
        }
    }
    Ok(())
}

const XATTR_VALUE_MAX: usize = 64 * 1024;
/// Most bytes of all of one inode's extended attributes, names and values.
pub const XATTRS_TOTAL_MAX: u64 = 128 * 1024;

fn check_xattr_name(name: &[u8]) -> R<()> {
    if name.is_empty() || name.len() > 255 || name.contains(&0) {
        return Err(Error::invalid("name", "an extended attribute name is 1 to 255 bytes without NUL").into());
    }
    Ok(())
}

/// Where a version of an inode keeps its xattrs: the table, and the condition on `born` for
/// a past version (our own integer, so building the SQL text is safe).
fn xattrs_of(inode: &Inode) -> (&'static str, String) {
    match inode.past {
        true => ("past_xattrs", format!(" AND born = {}", inode.born)),
        false => ("xattrs", String::new()),
    }
}

fn xattr_value(tree: &Tree, inode: &Inode, name: &[u8]) -> R<Option<Vec<u8>>> {
    let (table, born) = xattrs_of(inode);
    tree.tx()
        .query_opt(
            &format!("SELECT value FROM {table} WHERE layer = $1 AND ino = $2 AND name = $3{born}"),
            vals![inode.layer, inode.stat.ino, name],
        )?
        .map(|r| r.blob(0))
        .transpose()
}

pub fn get_xattr(tree: &Tree, ino: u64, name: &[u8]) -> R<Vec<u8>> {
    check_xattr_name(name)?;
    let inode = tree.need_inode(ino)?;
    xattr_value(tree, &inode, name)?.ok_or_else(|| fail(ErrorKind::NoSuchAttribute, "no such extended attribute"))
}

pub fn set_xattr(tree: &Tree, ino: u64, name: &[u8], value: &[u8], mode: crate::XattrMode) -> R<()> {
    check_xattr_name(name)?;
    if value.len() > XATTR_VALUE_MAX {
        return Err(Error::invalid("value", "an extended attribute value is at most 64 KiB").into());
    }
    let mut inode = tree.need_inode(ino)?;
    let exists = xattr_value(tree, &inode, name)?.is_some();
    match mode {
        crate::XattrMode::Create if exists => {
            return Err(fail(ErrorKind::AlreadyExists, "extended attribute exists"));
        }
        crate::XattrMode::Replace if !exists => {
            return Err(fail(ErrorKind::NoSuchAttribute, "no such extended attribute"));
        }
        _ => {}
    }
    inode.stat.ctime = now_ns();
    tree.put_inode(&mut inode)?;
    // All of an inode's attributes together are bounded, as on local file systems (ENOSPC).
    let others = tree
        .tx()
        .query_one(
            "SELECT COALESCE(SUM(LENGTH(name) + LENGTH(value)), 0) FROM xattrs WHERE layer = $1 AND ino = $2 AND name <> $3",
            vals![tree.head(), ino, name],
        )?
        .i64(0)?;
    if others as u64 + (name.len() + value.len()) as u64 > XATTRS_TOTAL_MAX {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            format!("an inode's extended attributes hold at most {XATTRS_TOTAL_MAX} bytes, names included"),
        )
        .with_field("value")
        .into());
    }
    tree.tx().exec(
        "INSERT INTO xattrs (layer, ino, name, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (layer, ino, name) DO UPDATE SET value = excluded.value",
        vals![tree.head(), ino, name, value],
    )?;
    Ok(())
}

pub fn list_xattrs(tree: &Tree, ino: u64) -> R<Vec<Vec<u8>>> {
    let inode = tree.need_inode(ino)?;
    let (table, born) = xattrs_of(&inode);
    let rows = tree.tx().query(
        &format!("SELECT name FROM {table} WHERE layer = $1 AND ino = $2{born} ORDER BY name"),
        vals![inode.layer, ino],
    )?;
    rows.iter().map(|r| r.blob(0)).collect()
}

pub fn remove_xattr(tree: &Tree, ino: u64, name: &[u8]) -> R<()> {
    check_xattr_name(name)?;
    let mut inode = tree.need_inode(ino)?;
    if xattr_value(tree, &inode, name)?.is_none() {
        return Err(fail(ErrorKind::NoSuchAttribute, "no such extended attribute"));
    }
    inode.stat.ctime = now_ns();
    tree.put_inode(&mut inode)?;
    tree.tx().exec(
        "DELETE FROM xattrs WHERE layer = $1 AND ino = $2 AND name = $3",
        vals![tree.head(), ino, name],
    )?;
    Ok(())
}
