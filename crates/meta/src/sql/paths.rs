//! Operations on whole paths and subtrees, each one transaction: a put, a copy, `mkdir -p`
//! and `rm -r` happen wholly or not at all, on every engine.
//!
//! Trees are walked with explicit work lists, never by recursion: a user can make a tree
//! as deep as they like.

use super::R;
use super::ops::{self, entry, fail};
use super::tree::{Inode, Tree};
use crate::{Chunk, ErrorKind, NewInode, ROOT_INO, now_ns};
use strata_core::api::{FileKind, Stat};

/// The directory that holds the last name of `path`, and that name.
fn parent_of<'p>(tree: &Tree, path: &'p [String]) -> R<(u64, &'p [u8])> {
    let (name, dirs) = path
        .split_last()
        .ok_or_else(|| crate::Error::invalid("path", "the volume root cannot be the target of this operation"))?;
    let dir = resolve(tree, dirs)?;
    if dir.kind != FileKind::Directory {
        return Err(fail(ErrorKind::NotADirectory, "not a directory"));
    }
    Ok((dir.ino, name.as_bytes()))
}

pub fn resolve(tree: &Tree, path: &[String]) -> R<Stat> {
    let mut stat = tree.need_inode(ROOT_INO)?.stat;
    for name in path {
        stat = ops::lookup(tree, stat.ino, name.as_bytes())?;
    }
    Ok(stat)
}

/// The file `name` in `parent`, created with `mode` if missing.
fn open_or_create(tree: &mut Tree, parent: u64, name: &[u8], mode: u32) -> R<Stat> {
    match tree.dentry(parent, name)? {
        Some(ino) => Ok(tree.need_inode(ino)?.stat),
        None => ops::create(tree, parent, name, &NewInode::new(FileKind::File, mode)),
    }
}

/// The folder that is to hold the last name of `path`, made (with its parents) if missing,
/// and that name.
fn make_parent_of<'p>(tree: &mut Tree, path: &'p [String]) -> R<(u64, &'p [u8])> {
    let (name, dirs) = path
        .split_last()
        .ok_or_else(|| crate::Error::invalid("path", "the volume root cannot be the target of this operation"))?;
    Ok((mkdir_all(tree, dirs, 0o755)?.ino, name.as_bytes()))
}

/// Creates the file at `path` (with `mode`, and its missing parent folders) if missing and
/// replaces its content.
pub fn put_file(tree: &mut Tree, path: &[String], mode: u32, size: u64, chunks: &[Chunk]) -> R<Stat> {
    let (parent, name) = make_parent_of(tree, path)?;
    let file = open_or_create(tree, parent, name, mode)?;
    ops::write_chunks(tree, file.ino, size, chunks, true)
}

/// Makes `to` a file with the content of `from`, sharing its blocks.
pub fn copy_file(tree: &mut Tree, from: &[String], to: &[String]) -> R<Stat> {
    let src = resolve(tree, from)?;
    if src.kind != FileKind::File {
        return Err(crate::Error::invalid("from", "not a regular file; only files can be copied").into());
    }
    let (_, chunks) = ops::chunks(tree, src.ino)?;
    let (parent, name) = make_parent_of(tree, to)?;
    let dst = open_or_create(tree, parent, name, src.mode)?;
    if dst.ino == src.ino {
        return Ok(dst);
    }
    ops::write_chunks(tree, dst.ino, src.size, &chunks, true)
}

/// Every directory of `path`, created with `mode` where missing.
pub fn mkdir_all(tree: &mut Tree, path: &[String], mode: u32) -> R<Stat> {
    let mut dir = tree.need_inode(ROOT_INO)?.stat;
    for name in path {
        let name = name.as_bytes();
        dir = match tree.dentry(dir.ino, name)? {
            Some(ino) => tree.need_inode(ino)?.stat,
            None => ops::create(tree, dir.ino, name, &NewInode::new(FileKind::Directory, mode))?,
        };
        if dir.kind != FileKind::Directory {
            return Err(fail(ErrorKind::NotADirectory, "exists and is not a directory"));
        }
    }
    Ok(dir)
}

/// Removes the file or empty directory at `path`; with `recursive`, a directory and all it holds.
pub fn remove(tree: &mut Tree, path: &[String], recursive: bool) -> R<()> {
    let (parent, name) = parent_of(tree, path)?;
    remove_entry(tree, parent, name, recursive)
}

/// Removes the entry `name` of `parent`: see [`remove`].
pub fn remove_entry(tree: &mut Tree, parent: u64, name: &[u8], recursive: bool) -> R<()> {
    let target = entry(tree, parent, name)?;
    if target.stat.kind != FileKind::Directory {
        return ops::unlink(tree, parent, name, None);
    }
    if !recursive {
        return ops::rmdir(tree, parent, name, None);
    }
    let now = now_ns();
    // Breadth first: every directory after its parent. Files go as they are found; the
    // directories then go deepest first, each empty by then.
    let mut dirs: Vec<(u64, Vec<u8>, Inode)> = vec![(parent, name.to_vec(), target)];
    let mut next = 0;
    while next < dirs.len() {
        let dir_ino = dirs[next].2.stat.ino;
        for (child_name, child) in tree.entries_with_inodes(dir_ino)? {
            if child.stat.kind == FileKind::Directory {
                dirs.push((dir_ino, child_name, child));
            } else {
                tree.remove_dentry(dir_ino, &child_name)?;
                ops::drop_link(tree, child, now)?;
            }
        }
        next += 1;
    }
    for (parent, name, dir) in dirs.iter().rev() {
        ops::remove_dir(tree, *parent, name, dir, now)?;
    }
    Ok(())
}
