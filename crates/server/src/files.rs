//! Path-level file operations over the metadata engine and the block store.
//!
//! Uploads are cut into blocks as they stream in, at most [`UPLOADS_IN_FLIGHT`] blocks in
//! memory at once, and the file's content is switched to the new blocks in one metadata
//! transaction at the end: a reader sees the old content or the new, never a mix.

use crate::state::AppState;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt, TryStreamExt};
use std::collections::VecDeque;
use strata_blocks::{Compression, Domain, Sealed};
use strata_core::api::{FileKind, Stat};
use strata_core::paths::FsPath;
use strata_core::{BLOCK_SIZE, Error, ErrorKind, INLINE_MAX, Result};
use strata_meta::{AttrChanges, Chunk, ChunkData, NewInode, RenameFlags};
use tokio::sync::OwnedSemaphorePermit;
use uuid::Uuid;

const UPLOADS_IN_FLIGHT: usize = 4;
const READ_AHEAD: usize = 2;

/// What is at `path`; an error names the path.
pub async fn stat(state: &AppState, vol: Uuid, path: &FsPath) -> Result<Stat> {
    let names = path.components().to_vec();
    state
        .meta(move |m| m.resolve(vol, &names))
        .await
        .map_err(|e| e.context(path))
}

/// The parent directory's inode and the last name of `path`.
async fn parent_of<'p>(state: &AppState, vol: Uuid, path: &'p FsPath) -> Result<(u64, &'p str)> {
    let (parent, name) = path
        .split_last()
        .ok_or_else(|| Error::invalid("path", "the volume root cannot be the target of this operation"))?;
    let parent = stat(state, vol, &parent).await?;
    if parent.kind != FileKind::Directory {
        return Err(Error::new(
            ErrorKind::NotADirectory,
            format!("parent of {path} is not a directory"),
        ));
    }
    Ok((parent.ino, name))
}

/// Fails early, before any byte is stored, if a file cannot go at `path`: some folder on the
/// way is a file. Missing folders are fine: the put or copy makes them.
async fn check_destination(state: &AppState, vol: Uuid, path: &FsPath) -> Result<()> {
    match parent_of(state, vol, path).await {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other.map(drop),
    }
}

pub async fn list(state: &AppState, vol: Uuid, path: &FsPath) -> Result<Vec<(String, Stat)>> {
    let dir = stat(state, vol, path).await?;
    let entries = state.meta(move |m| m.readdir(vol, dir.ino)).await?;
    Ok(entries
        .into_iter()
        .map(|(name, stat)| (String::from_utf8_lossy(&name).into_owned(), stat))
        .collect())
}

pub async fn mkdir(state: &AppState, vol: Uuid, path: &FsPath, parents: bool, mode: u32) -> Result<Stat> {
    if !parents {
        let (parent, name) = parent_of(state, vol, path).await?;
        let name = name.as_bytes().to_vec();
        return state
            .meta(move |m| m.create(vol.into(), parent, &name, &NewInode::new(FileKind::Directory, mode)))
            .await;
    }
    let names = path.components().to_vec();
    state.meta(move |m| m.mkdir_all(vol, &names, mode)).await
}

/// How the blocks of an upload are stored: compressed, and in whose domain.
#[derive(Clone)]
pub struct Storing {
    pub compression: Compression,
    pub domain: Domain,
}

/// Stores one block: registered in the metadata first, so collection leaves it alone.
/// `_room`, its share of the upload budget, is given back once it is stored.
async fn store_block(
    state: AppState,
    idx: u64,
    data: Bytes,
    how: Storing,
    _room: OwnedSemaphorePermit,
) -> Result<Chunk> {
    let len = data.len() as u64;
    let Storing { compression, domain } = how;
    let (hash, block, domain) = tokio::task::spawn_blocking(move || {
        let (hash, values) = strata_core::pieces::hash_block(&data);
        let hash = *hash.as_bytes();
        let block = Sealed::new(&hash, &data, &values, compression, &domain);
        (hash, block, domain)
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?;
    let stored = block.stored_len();
    let copy = domain.org().map(str::to_owned);
    state
        .meta(move |m| m.touch_block(&hash, len, stored, copy.as_deref()))
        .await?;
    state.blocks.put(&domain, &hash, &block).await?;
    state.metrics.stored(len, stored);
    Ok(Chunk {
        idx,
        len,
        data: ChunkData::Block(hash),
    })
}

/// Writes a whole file from a stream of bytes, creating it or replacing its content.
pub async fn put<S, E>(state: &AppState, vol: Uuid, path: &FsPath, mode: u32, how: Storing, body: S) -> Result<Stat>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    check_destination(state, vol, path).await?;
    let mut body = body.map_err(|e| Error::invalid("body", format!("upload interrupted: {e}")));
    let mut buf = BytesMut::new();
    let mut in_flight = VecDeque::new();
    let mut chunks = Vec::new();
    let mut size = 0u64;
    let mut idx = 0u64;
    // The budget's room for the block being received.
    let mut room = None;
    loop {
        let frame = body.try_next().await?;
        let end = frame.is_none();
        let mut frame = frame.unwrap_or_default();
        size += frame.len() as u64;
        while !frame.is_empty() || (end && !buf.is_empty()) {
            let held = match room.take() {
                Some(held) => held,
                None => {
                    let held = state.uploads.block().await?;
                    // One allocation of the block's size: growing by doubling would leave
                    // the smaller ones behind in the allocator.
                    buf.reserve(BLOCK_SIZE as usize);
                    held
                }
            };
            let take = frame.len().min(BLOCK_SIZE as usize - buf.len());
            buf.extend_from_slice(&frame.split_to(take));
            if buf.len() < BLOCK_SIZE as usize && !end {
                room = Some(held);
                break;
            }
            let data = buf.split().freeze();
            if idx == 0 && end && data.len() as u64 <= INLINE_MAX {
                chunks.push(Chunk {
                    idx,
                    len: data.len() as u64,
                    data: ChunkData::Inline(data.to_vec()),
                });
            } else {
                if in_flight.len() == UPLOADS_IN_FLIGHT {
                    chunks.push(join(in_flight.pop_front()).await?);
                }
                in_flight.push_back(tokio::spawn(store_block(state.clone(), idx, data, how.clone(), held)));
            }
            idx += 1;
        }
        if end {
            break;
        }
    }
    while let Some(task) = in_flight.pop_front() {
        chunks.push(join(Some(task)).await?);
    }
    // Again: a mount may have been granted the volume while the bytes streamed in.
    crate::sessions::ownership::recall(state, vol).await?;
    let names = path.components().to_vec();
    state
        .meta(move |m| {
            let stat = m.put_file(vol, &names, mode, size, &chunks)?;
            m.sync()?;
            Ok(stat)
        })
        .await
}

async fn join(task: Option<tokio::task::JoinHandle<Result<Chunk>>>) -> Result<Chunk> {
    let task = task.ok_or_else(|| Error::internal("no upload in flight"))?;
    task.await
        .map_err(|e| Error::internal(format!("upload task failed: {e}")))?
}

/// The content of a file as a stream of bytes, reading a few blocks ahead.
pub async fn get(
    state: &AppState,
    org: &str,
    vol: Uuid,
    path: &FsPath,
) -> Result<(u64, impl Stream<Item = Result<Bytes>> + use<>)> {
    let file = stat(state, vol, path).await?;
    // Keys that cannot be had fail the request before its first byte, not midway.
    state.domain(org).await?;
    let (stat, chunks) = state.meta(move |m| m.chunks(vol.into(), file.ino)).await?;
    let chunks = state.packs.inline(state, org, chunks).await?;
    let size = stat.size;
    let mut by_index: std::collections::HashMap<u64, Chunk> = chunks.into_iter().map(|c| (c.idx, c)).collect();
    let (state, org) = (state.clone(), org.to_owned());
    let stream = futures::stream::iter(0..size.div_ceil(BLOCK_SIZE))
        .map(move |idx| {
            let want = (size - idx * BLOCK_SIZE).min(BLOCK_SIZE) as usize;
            let chunk = by_index.remove(&idx);
            let (state, org) = (state.clone(), org.clone());
            async move {
                let stored = match chunk {
                    None => Bytes::new(),
                    Some(Chunk {
                        data: ChunkData::Packed { .. },
                        ..
                    }) => return Err(Error::internal("a packed chunk left packed")),
                    Some(Chunk {
                        data: ChunkData::Inline(bytes),
                        len,
                        ..
                    }) => {
                        let n = (len as usize).min(want).min(bytes.len());
                        Bytes::from(bytes).slice(..n)
                    }
                    Some(Chunk {
                        data: ChunkData::Block(hash),
                        len,
                        ..
                    }) => {
                        let bytes = state.read_block(&org, &hash).await?;
                        bytes.slice(..(len as usize).min(want).min(bytes.len()))
                    }
                    Some(Chunk {
                        data: ChunkData::Patched(hash, patches),
                        len,
                        ..
                    }) => {
                        let bytes = state.read_block(&org, &hash).await?;
                        Bytes::from(patches.apply(&bytes, (len as usize).min(want)))
                    }
                };
                if stored.len() == want {
                    return Ok(stored);
                }
                // Holes and the gap after a shortened chunk read as zeros.
                let mut data = BytesMut::from(&stored[..]);
                data.resize(want, 0);
                Ok(data.freeze())
            }
        })
        .buffered(READ_AHEAD);
    Ok((size, stream))
}

pub async fn rename(state: &AppState, vol: Uuid, from: &FsPath, to: &FsPath, no_replace: bool) -> Result<()> {
    if to.starts_with(from) && to != from {
        return Err(Error::invalid("to", format!("cannot move {from} into itself")));
    }
    let (from_parent, from_name) = parent_of(state, vol, from).await?;
    let (to_parent, to_name) = parent_of(state, vol, to).await?;
    let (from_name, to_name) = (from_name.as_bytes().to_vec(), to_name.as_bytes().to_vec());
    let flags = RenameFlags { no_replace };
    state
        .meta(move |m| m.rename(vol.into(), (from_parent, &from_name), (to_parent, &to_name), flags))
        .await
}

/// Copies a file by sharing its blocks: no data is read or written.
pub async fn copy(state: &AppState, vol: Uuid, from: &FsPath, to: &FsPath) -> Result<Stat> {
    let src = stat(state, vol, from).await.map_err(|e| e.with_field("from"))?;
    if src.kind != FileKind::File {
        return Err(Error::invalid(
            "from",
            format!("{from} is not a regular file; only files can be copied"),
        ));
    }
    check_destination(state, vol, to).await?;
    let (from_names, to_names) = (from.components().to_vec(), to.components().to_vec());
    state.meta(move |m| m.copy_file(vol, &from_names, &to_names)).await
}

/// Removes a file or an empty directory; with `recursive`, the whole tree, in one transaction.
pub async fn remove(state: &AppState, vol: Uuid, path: &FsPath, recursive: bool) -> Result<()> {
    parent_of(state, vol, path).await?;
    let names = path.components().to_vec();
    state.meta(move |m| m.remove_path(vol, &names, recursive)).await
}

pub async fn symlink(state: &AppState, vol: Uuid, path: &FsPath, target: String) -> Result<Stat> {
    let (parent, name) = parent_of(state, vol, path).await?;
    let name = name.as_bytes().to_vec();
    let new = NewInode {
        target: Some(target),
        ..NewInode::new(FileKind::Symlink, 0o777)
    };
    state.meta(move |m| m.create(vol.into(), parent, &name, &new)).await
}

pub async fn chmod(state: &AppState, vol: Uuid, path: &FsPath, mode: u32) -> Result<Stat> {
    strata_core::api::check_mode(mode, "mode")?;
    let target = stat(state, vol, path).await?;
    let changes = AttrChanges {
        mode: Some(mode),
        ..AttrChanges::default()
    };
    state.meta(move |m| m.setattr(vol.into(), target.ino, &changes)).await
}
