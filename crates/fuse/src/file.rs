//! The content of an open file, shared by every handle of it on this mount.
//!
//! Writes land in whole-block buffers in memory. Once more than [`MAX_DIRTY_BLOCKS`] are held,
//! the oldest are uploaded in the background, at most [`MAX_UPLOADS`] at a time, so memory
//! stays bounded whatever the file size and the writer rarely waits. Uploaded blocks are not
//! visible to others until a commit (flush, fsync, close) switches the file's chunk list in one
//! metadata transaction. Files up to 64 KiB are committed inline, with no block upload at all.

use crate::blocks::Blocks;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use std::collections::BTreeMap;
use strata_core::api::{ChunkRef, Content, NodeRef, Stat, WriteContent};
use strata_core::{BLOCK_SIZE, Error, ErrorKind, INLINE_MAX, Result};
use tokio::task::JoinHandle;

fn now_ns() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_nanos() as i64)
}

const MAX_DIRTY_BLOCKS: usize = 4;
const MAX_UPLOADS: usize = 4;
/// Blocks fetched ahead of a sequential reader.
const READ_AHEAD: u64 = 2;

struct Upload {
    data: Bytes,
    task: JoinHandle<Result<String>>,
}

pub struct FileState {
    pub node: NodeRef,
    /// Attributes as last seen from the server (kept for a file deleted while open).
    pub stat: Stat,
    pub size: u64,
    /// Chunks as the server has them.
    committed: BTreeMap<u64, ChunkRef>,
    /// Chunks uploaded but not yet committed.
    pending: BTreeMap<u64, ChunkRef>,
    /// Blocks on their way to the server.
    uploading: BTreeMap<u64, Upload>,
    /// Blocks changed in memory: the valid bytes of each.
    dirty: BTreeMap<u64, Vec<u8>>,
    size_changed: bool,
    /// When this mount last changed the content (ns), shown as mtime and ctime until the
    /// commit gives the server's.
    pub changed_at: Option<i64>,
    last_read: Option<u64>,
}

impl FileState {
    pub fn new(node: NodeRef, content: Content) -> Self {
        FileState {
            node,
            size: content.stat.size,
            stat: content.stat,
            committed: content.chunks.into_iter().map(|c| (c.idx, c)).collect(),
            pending: BTreeMap::new(),
            uploading: BTreeMap::new(),
            dirty: BTreeMap::new(),
            size_changed: false,
            changed_at: None,
            last_read: None,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.size_changed || !self.dirty.is_empty() || !self.pending.is_empty() || !self.uploading.is_empty()
    }

    fn stored(&self, idx: u64) -> Option<&ChunkRef> {
        self.pending.get(&idx).or_else(|| self.committed.get(&idx))
    }

    /// The valid bytes of block `idx` (shorter than a block at the end or before a hole).
    async fn block(&self, blocks: &Blocks, idx: u64) -> Result<Bytes> {
        if let Some(buf) = self.dirty.get(&idx) {
            return Ok(Bytes::copy_from_slice(buf));
        }
        if let Some(upload) = self.uploading.get(&idx) {
            return Ok(upload.data.clone());
        }
        let Some(chunk) = self.stored(idx) else {
            return Ok(Bytes::new());
        };
        let bytes = match (&chunk.hash, &chunk.data) {
            (Some(hash), _) => blocks.fetch(hash).await?,
            (None, Some(b64)) => Bytes::from(B64.decode(b64).map_err(|_| Error::internal("malformed inline chunk"))?),
            (None, None) => Bytes::new(),
        };
        Ok(bytes.slice(..(chunk.len as usize).min(bytes.len())))
    }

    pub async fn read(&mut self, blocks: &Blocks, offset: u64, len: u32) -> Result<Vec<u8>> {
        let end = (offset + len as u64).min(self.size);
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        let mut pos = offset;
        while pos < end {
            let idx = pos / BLOCK_SIZE;
            let start = idx * BLOCK_SIZE;
            let stop = end.min(start + BLOCK_SIZE);
            if self.last_read.is_some_and(|last| last + 1 == idx) {
                self.read_ahead(blocks, idx);
            }
            self.last_read = Some(idx);
            let block = self.block(blocks, idx).await?;
            let (from, to) = ((pos - start) as usize, (stop - start) as usize);
            if from < block.len() {
                out.extend_from_slice(&block[from..to.min(block.len())]);
            }
            out.resize((stop - offset) as usize, 0);
            pos = stop;
        }
        Ok(out)
    }

    fn read_ahead(&self, blocks: &Blocks, idx: u64) {
        for next in idx + 1..=idx + READ_AHEAD {
            if let Some(hash) = self.stored(next).and_then(|c| c.hash.clone()) {
                blocks.prefetch(hash);
            }
        }
    }

    pub async fn write(&mut self, blocks: &Blocks, offset: u64, data: &[u8]) -> Result<()> {
        let mut pos = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let idx = pos / BLOCK_SIZE;
            let at = (pos - idx * BLOCK_SIZE) as usize;
            let take = rest.len().min(BLOCK_SIZE as usize - at);
            if !self.dirty.contains_key(&idx) {
                let existing = self.block(blocks, idx).await?;
                let mut buf = Vec::with_capacity(BLOCK_SIZE as usize);
                buf.extend_from_slice(&existing);
                self.dirty.insert(idx, buf);
            }
            let buf = self
                .dirty
                .get_mut(&idx)
                .ok_or_else(|| Error::internal("dirty block vanished"))?;
            if buf.len() < at + take {
                buf.resize(at + take, 0);
            }
            buf[at..at + take].copy_from_slice(&rest[..take]);
            rest = &rest[take..];
            pos += take as u64;
        }
        self.size = self.size.max(offset + data.len() as u64);
        self.changed_at = Some(now_ns());
        while self.dirty.len() > MAX_DIRTY_BLOCKS {
            let Some((&idx, _)) = self.dirty.iter().next() else {
                break;
            };
            self.start_upload(blocks, idx).await?;
        }
        Ok(())
    }

    /// Sends a dirty block to the server in the background.
    async fn start_upload(&mut self, blocks: &Blocks, idx: u64) -> Result<()> {
        if self.uploading.contains_key(&idx) {
            self.finish_upload(idx).await?;
        }
        while self.uploading.len() >= MAX_UPLOADS {
            let Some(&oldest) = self.uploading.keys().next() else {
                break;
            };
            self.finish_upload(oldest).await?;
        }
        let Some(buf) = self.dirty.remove(&idx) else {
            return Ok(());
        };
        let data = Bytes::from(buf);
        let (blocks, sent) = (blocks.clone(), data.clone());
        let task = tokio::spawn(async move { blocks.upload(sent).await });
        self.uploading.insert(idx, Upload { data, task });
        Ok(())
    }

    /// Waits for a block's upload; on failure its bytes go back to the dirty set.
    async fn finish_upload(&mut self, idx: u64) -> Result<()> {
        let Some(upload) = self.uploading.remove(&idx) else {
            return Ok(());
        };
        let result = upload
            .task
            .await
            .map_err(|e| Error::internal(format!("upload task: {e}")))?;
        match result {
            Ok(hash) => {
                let len = upload.data.len() as u64;
                self.pending.insert(
                    idx,
                    ChunkRef {
                        idx,
                        len,
                        hash: Some(hash),
                        data: None,
                    },
                );
                Ok(())
            }
            Err(e) => {
                self.dirty.entry(idx).or_insert_with(|| upload.data.to_vec());
                Err(e)
            }
        }
    }

    async fn finish_uploads(&mut self) -> Result<()> {
        let in_flight: Vec<u64> = self.uploading.keys().copied().collect();
        for idx in in_flight {
            self.finish_upload(idx).await?;
        }
        Ok(())
    }

    /// Cuts the content to `size` here; the caller tells the server.
    pub async fn truncate(&mut self, size: u64) -> Result<()> {
        self.finish_uploads().await?;
        let keep = size.div_ceil(BLOCK_SIZE);
        let (last, cut) = (size / BLOCK_SIZE, size % BLOCK_SIZE);
        for map in [&mut self.committed, &mut self.pending] {
            map.retain(|&idx, _| idx < keep);
            if let Some(chunk) = map.get_mut(&last) {
                chunk.len = chunk.len.min(cut);
            }
        }
        self.dirty.retain(|&idx, _| idx < keep);
        if let Some(buf) = self.dirty.get_mut(&last) {
            buf.truncate(cut as usize);
        }
        self.size = size;
        self.size_changed = true;
        self.changed_at = Some(now_ns());
        Ok(())
    }

    /// Makes every change so far visible to others, and durable if asked; returns the
    /// attributes the server now has.
    pub async fn commit(&mut self, blocks: &Blocks, durable: bool) -> Result<Option<Stat>> {
        if !self.is_dirty() {
            return Ok(None);
        }
        let inline = self.size <= INLINE_MAX && self.pending.is_empty() && self.uploading.is_empty();
        let chunks: Vec<ChunkRef> = if inline {
            let data = self.block(blocks, 0).await?;
            let data = &data[..(self.size as usize).min(data.len())];
            if data.is_empty() {
                Vec::new()
            } else {
                vec![ChunkRef {
                    idx: 0,
                    len: data.len() as u64,
                    hash: None,
                    data: Some(B64.encode(data)),
                }]
            }
        } else {
            let dirty: Vec<u64> = self.dirty.keys().copied().collect();
            for idx in dirty {
                self.start_upload(blocks, idx).await?;
            }
            self.finish_uploads().await?;
            self.pending.values().cloned().collect()
        };
        let req = WriteContent {
            node: self.node,
            size: self.size,
            chunks: chunks.clone(),
            replace_all: inline,
            durable,
        };
        let stat = match blocks.session().write(&req).await {
            // Collected while nothing named them yet (the file stayed open past the
            // server's grace period): store them again and commit again.
            Err(e) if e.kind == ErrorKind::Conflict && !inline => {
                for hash in chunks.iter().filter_map(|c| c.hash.as_deref()) {
                    blocks.reupload(hash).await?;
                }
                blocks.session().write(&req).await?
            }
            other => other?,
        };
        if inline {
            self.committed.clear();
        }
        self.committed.extend(chunks.into_iter().map(|c| (c.idx, c)));
        self.pending.clear();
        self.dirty.clear();
        self.size_changed = false;
        self.changed_at = None;
        self.stat = stat.clone();
        Ok(Some(stat))
    }
}
