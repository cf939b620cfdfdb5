//! The content of an open file, shared by every handle of it on this mount.
//!
//! Writes land in whole-block buffers in memory. A buffer is uploaded as soon as more than
//! [`MAX_DIRTY_BLOCKS`] are held, so memory stays bounded whatever the file size; uploaded
//! blocks are not visible to others until a commit (flush, fsync, close) switches the file's
//! chunk list in one metadata transaction. Files up to 64 KiB are committed inline, with no
//! block upload at all.

use crate::blocks::Blocks;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use std::collections::BTreeMap;
use strata_core::api::{ChunkRef, Content, NodeRef, Stat, WriteContent};
use strata_core::{BLOCK_SIZE, Error, INLINE_MAX, Result};

const MAX_DIRTY_BLOCKS: usize = 8;

pub struct FileState {
    pub node: NodeRef,
    /// Attributes when opened, kept for a file deleted while open.
    pub stat: Stat,
    pub size: u64,
    /// Chunks as the server has them.
    committed: BTreeMap<u64, ChunkRef>,
    /// Chunks uploaded but not yet committed.
    pending: BTreeMap<u64, ChunkRef>,
    /// Blocks changed in memory: the valid bytes of each.
    dirty: BTreeMap<u64, Vec<u8>>,
    size_changed: bool,
}

fn block_range(idx: u64) -> std::ops::Range<u64> {
    idx * BLOCK_SIZE..(idx + 1) * BLOCK_SIZE
}

impl FileState {
    pub fn new(node: NodeRef, content: Content) -> Self {
        let committed = content.chunks.into_iter().map(|c| (c.idx, c)).collect();
        FileState {
            node,
            size: content.stat.size,
            stat: content.stat,
            committed,
            pending: BTreeMap::new(),
            dirty: BTreeMap::new(),
            size_changed: false,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.size_changed || !self.dirty.is_empty() || !self.pending.is_empty()
    }

    /// The valid bytes of block `idx` (shorter than a block at the end or before a hole).
    async fn block(&self, blocks: &Blocks, idx: u64) -> Result<Bytes> {
        if let Some(buf) = self.dirty.get(&idx) {
            return Ok(Bytes::copy_from_slice(buf));
        }
        let Some(chunk) = self.pending.get(&idx).or_else(|| self.committed.get(&idx)) else {
            return Ok(Bytes::new());
        };
        let bytes = match (&chunk.hash, &chunk.data) {
            (Some(hash), _) => blocks.fetch(hash).await?,
            (None, Some(b64)) => Bytes::from(
                B64.decode(b64)
                    .map_err(|_| Error::internal("malformed inline chunk"))?,
            ),
            (None, None) => Bytes::new(),
        };
        Ok(bytes.slice(..(chunk.len as usize).min(bytes.len())))
    }

    pub async fn read(&self, blocks: &Blocks, offset: u64, len: u32) -> Result<Vec<u8>> {
        let end = (offset + len as u64).min(self.size);
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        let mut pos = offset;
        while pos < end {
            let idx = pos / BLOCK_SIZE;
            let range = block_range(idx);
            let stop = end.min(range.end);
            let block = self.block(blocks, idx).await?;
            let (from, to) = ((pos - range.start) as usize, (stop - range.start) as usize);
            if from < block.len() {
                out.extend_from_slice(&block[from..to.min(block.len())]);
            }
            out.resize((stop - offset) as usize, 0);
            pos = stop;
        }
        Ok(out)
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
        while self.dirty.len() > MAX_DIRTY_BLOCKS {
            let Some((&idx, _)) = self.dirty.iter().next() else {
                break;
            };
            self.upload(blocks, idx).await?;
        }
        Ok(())
    }

    async fn upload(&mut self, blocks: &Blocks, idx: u64) -> Result<()> {
        let Some(buf) = self.dirty.remove(&idx) else {
            return Ok(());
        };
        let len = buf.len() as u64;
        match blocks.upload(Bytes::from(buf.clone())).await {
            Ok(hash) => {
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
                self.dirty.insert(idx, buf);
                Err(e)
            }
        }
    }

    /// Cuts the content to `size` here; the caller tells the server.
    pub fn truncate(&mut self, size: u64) {
        let keep = size.div_ceil(BLOCK_SIZE);
        for map in [&mut self.committed, &mut self.pending] {
            map.retain(|&idx, _| idx < keep);
            if let Some(last) = map.get_mut(&(size / BLOCK_SIZE)) {
                last.len = last.len.min(size % BLOCK_SIZE);
            }
        }
        self.dirty.retain(|&idx, _| idx < keep);
        if let Some(buf) = self.dirty.get_mut(&(size / BLOCK_SIZE)) {
            buf.truncate((size % BLOCK_SIZE) as usize);
        }
        self.size = size;
        self.size_changed = true;
    }

    /// Makes every change so far visible to others and durable.
    pub async fn commit(&mut self, blocks: &Blocks) -> Result<()> {
        if !self.is_dirty() {
            return Ok(());
        }
        let chunks: Vec<ChunkRef> = if self.size <= INLINE_MAX && self.pending.is_empty() {
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
                self.upload(blocks, idx).await?;
            }
            self.pending.values().cloned().collect()
        };
        let replace_all = self.size <= INLINE_MAX && self.pending.is_empty();
        let req = WriteContent {
            node: self.node,
            size: self.size,
            chunks: chunks.clone(),
            replace_all,
        };
        blocks.session().write(&req).await?;
        if replace_all {
            self.committed.clear();
        }
        self.committed
            .extend(chunks.into_iter().map(|c| (c.idx, c)));
        self.pending.clear();
        self.dirty.clear();
        self.size_changed = false;
        Ok(())
    }
}
