//! The content of an open file, shared by every handle of it on this mount.
//!
//! Writes land in whole-block buffers in memory. Once more than [`MAX_DIRTY_BLOCKS`] are held,
//! the oldest are uploaded in the background, at most [`MAX_UPLOADS`] at a time, so memory
//! stays bounded whatever the file size and the writer rarely waits. Uploaded blocks are not
//! visible to others until a commit (flush, fsync, close) switches the file's chunk list in one
//! metadata transaction. Files up to 64 KiB are committed inline, with no block upload at all.
//!
//! Several mounts may write one file at once. A commit names the chunks it was based on; when
//! another writer committed over them first, the server refuses it as stale, and the commit is
//! redone on top of the file as it now is: this writer's byte ranges and truncates ([`Edits`])
//! applied over the other's content, so each writer's bytes survive in commit order.

use crate::blocks::Blocks;
use crate::writeback::{Epoch, WriteBack};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use std::collections::BTreeMap;
use strata_core::api::{AttrChanges, ChunkRef, Content, NodeOnly, NodeRef, Stat, WriteContent};
use strata_core::patches::Patches;
use strata_core::session::Request;
use strata_core::{BLOCK_SIZE, Error, ErrorKind, INLINE_MAX, Result};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub(crate) fn now_ns() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_nanos() as i64)
}

const MAX_DIRTY_BLOCKS: usize = 4;
const MAX_UPLOADS: usize = 4;
/// Blocks fetched ahead of a sequential reader.
const READ_AHEAD: u64 = 2;
/// A read that starts farther than this from where each of the last few reads ended is
/// random access. Several, not one: the kernel's read-ahead sends a sequential reader's
/// requests several at a time, and they may arrive out of order.
const RANDOM_JUMP: u64 = BLOCK_SIZE;
/// How many recent reads' ends a read is compared with.
const RECENT_READS: usize = 8;

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
    /// The bytes of the block last committed as patches, while its chunk is unchanged: the
    /// next small write there (the next append) starts from them instead of laying the
    /// patches over the stored block again.
    clean: Option<(ChunkRef, Vec<u8>)>,
    edits: Edits,
    /// Others' changes were merged in since the last commit reported.
    merged: bool,
    /// When this mount last changed the content (ns), shown as mtime and ctime until the
    /// commit gives the server's.
    pub changed_at: Option<i64>,
    /// Changes of mode, owner and times made while the content had uncommitted changes, and
    /// when: they reach the server with the commit, applied after the content.
    attrs_after: Option<(AttrChanges, i64)>,
    /// This mount created the file and has not committed it yet: no other mount has seen
    /// its content, so its attribute changes can wait for the first commit too.
    created_here: bool,
    /// The server refused this file's last commit: the next one is not deferred, so that
    /// its caller hears the answer.
    refused: bool,
    /// The block the last read ended in, to fetch ahead of a sequential reader.
    last_read: Option<u64>,
    /// Where the last few successful reads ended, newest last.
    read_ends: std::collections::VecDeque<u64>,
    /// The read under way is far from where each of those ended: blocks not cached locally
    /// are read in pieces, not downloaded whole.
    random: bool,
    /// When `committed` was last known to be the server's chunk list, or what this mount
    /// deferred: fetched, created here, or committed.
    known_at: Instant,
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
            clean: None,
            edits: Edits::default(),
            merged: false,
            changed_at: None,
            attrs_after: None,
            created_here: false,
            refused: false,
            last_read: None,
            read_ends: std::collections::VecDeque::new(),
            random: false,
            known_at: Instant::now(),
        }
    }

    /// The content changed now: its mtime is now again, whatever was set before.
    fn content_changed(&mut self) {
        self.changed_at = Some(now_ns());
        if let Some((changes, _)) = self.attrs_after.as_mut() {
            changes.mtime = None;
        }
    }

    /// The state of a file this mount just created: empty.
    pub fn created(node: NodeRef, stat: Stat) -> Self {
        let content = Content {
            stat,
            chunks: Vec::new(),
        };
        FileState {
            created_here: true,
            ..FileState::new(node, content)
        }
    }

    /// Whether changes of mode, owner and times may wait for the next commit: the file is
    /// new here, has uncommitted writes (so a commit is due), and nobody else has seen it.
    pub fn may_defer_attrs(&self) -> bool {
        self.created_here && self.is_dirty()
    }

    /// Keeps changes of mode, owner and times for the next commit.
    pub fn defer_attrs(&mut self, changes: &AttrChanges) {
        let (kept, at) = self.attrs_after.get_or_insert_with(Default::default);
        kept.merge(changes);
        *at = now_ns();
    }

    /// The changes kept for the next commit, now sent otherwise.
    pub fn take_deferred(&mut self) -> Option<AttrChanges> {
        self.attrs_after.take().map(|(changes, _)| changes)
    }

    /// Times just set on the server for a file with uncommitted writes: the commit sets
    /// them again after its content, so the close does not make the mtime "now".
    pub fn keep_times(&mut self, changes: &AttrChanges) {
        if self.is_dirty() && (changes.atime.is_some() || changes.mtime.is_some()) {
            self.defer_attrs(&AttrChanges {
                atime: changes.atime,
                mtime: changes.mtime,
                ..AttrChanges::default()
            });
        }
    }

    /// `stat` (the server's) with this file's uncommitted changes laid over it.
    pub fn overlay(&self, mut stat: Stat) -> Stat {
        if self.is_dirty() {
            stat.size = self.size;
            if let Some(at) = self.changed_at {
                stat.mtime = stat.mtime.max(at);
                stat.ctime = stat.ctime.max(at);
            }
            if let Some((changes, at)) = &self.attrs_after {
                changes.apply_to(&mut stat);
                stat.ctime = stat.ctime.max(*at);
            }
        }
        stat
    }

    pub fn is_dirty(&self) -> bool {
        self.edits.replayed_cut().is_some()
            || !self.dirty.is_empty()
            || !self.pending.is_empty()
            || !self.uploading.is_empty()
    }

    fn stored(&self, idx: u64) -> Option<&ChunkRef> {
        self.pending.get(&idx).or_else(|| self.committed.get(&idx))
    }

    /// The valid bytes of block `idx` (shorter than a block at the end or before a hole),
    /// as [`FileState::fresh_range`] gives them.
    async fn fresh_block(&mut self, blocks: &Blocks, idx: u64) -> Result<Bytes> {
        self.fresh_range(blocks, idx, 0, BLOCK_SIZE as usize).await
    }

    /// Takes what others committed for the chunks this open has not changed; a changed
    /// chunk keeps the base it was changed from, so its commit still finds out.
    async fn refresh(&mut self, blocks: &Blocks) -> Result<()> {
        let current = blocks.session().content(NodeOnly { node: self.node }).await?;
        let mine: Vec<u64> = self
            .dirty
            .keys()
            .chain(self.pending.keys())
            .chain(self.uploading.keys())
            .copied()
            .collect();
        let mut fresh: BTreeMap<u64, ChunkRef> = current.chunks.into_iter().map(|c| (c.idx, c)).collect();
        for idx in mine {
            fresh.remove(&idx);
            if let Some(base) = self.committed.remove(&idx) {
                fresh.insert(idx, base);
            }
        }
        self.committed = fresh;
        self.known_at = Instant::now();
        if !self.is_dirty() {
            self.size = current.stat.size;
        }
        Ok(())
    }

    /// [`FileState::block_range`], taking the file's current chunk list from the server first
    /// when a block this open knew is gone (another mount replaced it, and it was collected or
    /// is no longer this volume's).
    async fn fresh_range(&mut self, blocks: &Blocks, idx: u64, from: usize, to: usize) -> Result<Bytes> {
        match self.block_range(blocks, idx, from, to).await {
            Err(e) if e.kind == ErrorKind::Stale => {
                self.refresh(blocks).await?;
                self.block_range(blocks, idx, from, to).await
            }
            other => other,
        }
    }

    /// Bytes `from..to` of block `idx`, fewer where its valid bytes end: only that part is
    /// copied, and a part of a stored block is read alone from the local cache.
    async fn block_range(&self, blocks: &Blocks, idx: u64, from: usize, to: usize) -> Result<Bytes> {
        let part = |len: usize| {
            let to = to.min(len);
            from.min(to)..to
        };
        if let Some(buf) = self.dirty.get(&idx).or_else(|| self.clean(idx)) {
            return Ok(Bytes::copy_from_slice(&buf[part(buf.len())]));
        }
        if let Some(upload) = self.uploading.get(&idx) {
            return Ok(upload.data.slice(part(upload.data.len())));
        }
        let Some(chunk) = self.stored(idx) else {
            return Ok(Bytes::new());
        };
        let range = part(chunk.len as usize);
        let bytes = match (&chunk.hash, &chunk.data) {
            (Some(hash), None) if range.len() < chunk.len as usize => {
                match blocks.fetch_range(hash, range.start, range.end, self.random).await {
                    Err(e) if e.kind == ErrorKind::NotFound => return Err(stale()),
                    other => other?,
                }
            }
            _ => {
                let all = chunk_bytes(blocks, chunk).await?;
                all.slice(range.start.min(all.len())..range.end.min(all.len()))
            }
        };
        // Metadata that promises more than the block holds is damage, not a reason to panic.
        if bytes.len() != range.len() {
            return Err(Error::internal(format!(
                "chunk {idx} says {} bytes, but its block holds fewer: the file's metadata is inconsistent",
                chunk.len
            )));
        }
        Ok(bytes)
    }

    /// The clean copy of block `idx`, if it still is the block's committed content.
    fn clean(&self, idx: u64) -> Option<&Vec<u8>> {
        self.clean
            .as_ref()
            .filter(|(chunk, _)| chunk.idx == idx && self.committed.get(&idx) == Some(chunk))
            .map(|(_, buf)| buf)
    }

    /// The valid bytes of block `idx` (shorter than a block at the end or before a hole).
    async fn block(&self, blocks: &Blocks, idx: u64) -> Result<Bytes> {
        self.block_range(blocks, idx, 0, BLOCK_SIZE as usize).await
    }

    pub async fn read(&mut self, blocks: &Blocks, offset: u64, len: u32) -> Result<Vec<u8>> {
        let end = (offset + len as u64).min(self.size);
        self.random = !self.read_ends.is_empty() && self.read_ends.iter().all(|e| e.abs_diff(offset) > RANDOM_JUMP);
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
            let (from, to) = ((pos - start) as usize, (stop - start) as usize);
            out.extend_from_slice(&self.fresh_range(blocks, idx, from, to).await?);
            out.resize((stop - offset) as usize, 0);
            pos = stop;
        }
        if self.read_ends.len() == RECENT_READS {
            self.read_ends.pop_front();
        }
        self.read_ends.push_back(end);
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
                let buf = match self.clean(idx) {
                    Some(_) => self.clean.take().map(|(_, buf)| buf).unwrap_or_default(),
                    None => {
                        let existing = self.fresh_block(blocks, idx).await?;
                        let mut buf = Vec::with_capacity(BLOCK_SIZE as usize);
                        buf.extend_from_slice(&existing);
                        buf
                    }
                };
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
            // Recorded part by part: a write that fails half way (the server unreachable for
            // the next block) has changed exactly what it recorded.
            self.size = self.size.max(pos + take as u64);
            self.edits.write(pos, pos + take as u64);
            self.content_changed();
            rest = &rest[take..];
            pos += take as u64;
        }
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
        cut_chunks(&mut self.committed, size);
        cut_chunks(&mut self.pending, size);
        self.dirty.retain(|&idx, _| idx < size.div_ceil(BLOCK_SIZE));
        if let Some(buf) = self.dirty.get_mut(&(size / BLOCK_SIZE)) {
            buf.truncate((size % BLOCK_SIZE) as usize);
        }
        self.size = size;
        self.edits.truncate(size);
        self.content_changed();
        Ok(())
    }

    /// Makes every change so far visible to others, and durable if asked. Returns the
    /// attributes the server now has, and whether others' changes were merged in (so pages
    /// cached from this mount's own view are stale). While the mount owns its tree, a commit
    /// that need not be durable is deferred, and its attributes are this mount's view.
    pub async fn commit(
        &mut self,
        blocks: &Blocks,
        durable: bool,
        write_back: &WriteBack,
    ) -> Result<Option<(Stat, bool)>> {
        if !self.is_dirty() {
            return Ok(None);
        }
        for attempt in 1.. {
            let epoch = write_back.epoch.now();
            // While the mount owns its tree a commit is deferred, and so are the uploads of the
            // blocks it makes now; one that names blocks uploaded earlier goes now: if the
            // server collected one meanwhile (the file stayed open past its grace period), it
            // is stored again from the local cache below, which a batch shipped later could
            // not do.
            let defer = !durable
                && !self.refused
                && Epoch::owning(epoch)
                && self.uploading.is_empty()
                && self.pending.values().all(|c| c.data.is_some());
            let mut behind = Vec::new();
            let (mut req, mut inline) = self.prepare(blocks, durable, defer.then_some(&mut behind)).await?;
            if defer {
                // Applied later, with the time of the last change here, which is what this
                // mount shows meanwhile.
                let at = self.changed_at.max(self.attrs_after.as_ref().map(|(_, at)| *at));
                let later = WriteContent {
                    at: Some(at.unwrap_or_else(now_ns)),
                    // Nobody else writes the file while the mount owns its tree: the write
                    // need not be conditional (a refusal as stale could not be redone once
                    // shipped).
                    base: None,
                    ..req.clone()
                };
                let mut stat = Stat {
                    size: self.size,
                    mtime: later.at.unwrap_or_default(),
                    ctime: later.at.unwrap_or_default(),
                    ..self.stat.clone()
                };
                if let Some(then) = &later.then {
                    then.apply_to(&mut stat);
                }
                let uploads: Vec<(String, Bytes)> = behind.iter().map(|(_, h, d)| (h.clone(), d.clone())).collect();
                // Kept on disk before the change is journalled: a mount killed before they
                // are stored replays them from there (see `crate::journal`).
                for (hash, data) in &uploads {
                    blocks.keep_on_disk(hash, data).await;
                }
                if write_back.defer_uploading(epoch, Request::Write(later.clone()), uploads) {
                    self.landed(later, stat.clone());
                    return Ok(Some((stat, false)));
                }
                if !behind.is_empty() {
                    // Not deferred after all: its blocks are uploaded first, as for any commit.
                    for (idx, _, data) in behind {
                        self.pending.remove(&idx);
                        self.dirty.insert(idx, data.to_vec());
                    }
                    (req, inline) = self.prepare(blocks, durable, None).await?;
                }
            }
            let result = match blocks.session().write(req.clone()).await {
                // Collected while nothing named them yet (the server keeps a session's uploads
                // a day): store again those the local cache still has, and commit again.
                Err(e) if e.kind == ErrorKind::Conflict && !inline => {
                    // Only blocks this writer uploaded: a patched chunk's block was stored before.
                    let uploaded = req.chunks.iter().filter(|c| c.data.is_none());
                    for hash in uploaded.filter_map(|c| c.hash.as_deref()) {
                        blocks.reupload(hash).await?;
                    }
                    blocks.session().write(req.clone()).await
                }
                other => other,
            };
            let stat = match result {
                Err(e) if e.kind == ErrorKind::Stale && attempt < MAX_REBASES => {
                    match self.rebase(blocks).await {
                        // Changed again while this one read it: read it again.
                        Err(e) if e.kind == ErrorKind::Stale => continue,
                        other => other?,
                    }
                    self.merged = true;
                    continue;
                }
                Err(e) => {
                    self.refused = e.kind != ErrorKind::Unavailable;
                    return Err(e);
                }
                Ok(stat) => stat,
            };
            self.refused = false;
            self.landed(req, stat.clone());
            // The server took it over the chunks it was based on: this is its list now. (A
            // deferred commit keeps the time its base was known: that base may be older
            // than the grant it is deferred in.)
            self.known_at = Instant::now();
            return Ok(Some((stat, std::mem::take(&mut self.merged))));
        }
        Err(Error::new(ErrorKind::Stale, "other writers kept changing the file"))
    }

    /// A commit `req` landed (or was deferred), leaving the attributes `stat`.
    /// The chunk list as the last commit (or the open) left it, and since when it is known
    /// so; `None` while there are changes not committed.
    pub fn chunks(&self) -> Option<(Vec<ChunkRef>, Instant)> {
        (!self.is_dirty()).then(|| (self.committed.values().cloned().collect(), self.known_at))
    }

    fn landed(&mut self, req: WriteContent, stat: Stat) {
        if req.replace_all {
            self.committed.clear();
        }
        if let Some(cut) = req.cut_at {
            cut_chunks(&mut self.committed, cut);
        }
        let patched = req.chunks.iter().rev().find(|c| c.hash.is_some() && c.data.is_some());
        self.clean = patched.and_then(|c| Some((c.clone(), self.dirty.remove(&c.idx)?)));
        self.committed.extend(req.chunks.into_iter().map(|c| (c.idx, c)));
        self.pending.clear();
        self.dirty.clear();
        self.edits = Edits::default();
        self.changed_at = None;
        self.attrs_after = None;
        self.created_here = false;
        self.size = stat.size;
        self.stat = stat;
    }

    /// Uploads what is still local and builds the commit request.
    /// The commit of this file's changes, and whether its content is inline. Blocks to store
    /// are uploaded first, or, given `behind`, only named and added there (hash and bytes)
    /// for the caller to upload.
    async fn prepare(
        &mut self,
        blocks: &Blocks,
        durable: bool,
        mut behind: Option<&mut Vec<(u64, String, Bytes)>>,
    ) -> Result<(WriteContent, bool)> {
        let inline = self.size <= INLINE_MAX && self.pending.is_empty() && self.uploading.is_empty();
        let chunks: Vec<ChunkRef> = if inline {
            let data = self.fresh_block(blocks, 0).await?;
            let data = &data[..(self.size as usize).min(data.len())];
            if data.is_empty() {
                Vec::new()
            } else {
                vec![inline_chunk(0, data)]
            }
        } else {
            let dirty: Vec<u64> = self.dirty.keys().copied().collect();
            for idx in dirty {
                if let Some(patched) = self.patch(idx)? {
                    // The buffer stays dirty until the commit lands (it becomes the clean copy).
                    self.pending.insert(idx, patched);
                } else if let Some(behind) = behind.as_deref_mut() {
                    let Some(buf) = self.dirty.remove(&idx) else { continue };
                    let data = Bytes::from(buf);
                    let hash = Blocks::name(data.clone()).await?;
                    let len = data.len() as u64;
                    let chunk = ChunkRef {
                        idx,
                        len,
                        hash: Some(hash.clone()),
                        data: None,
                    };
                    self.pending.insert(idx, chunk);
                    behind.push((idx, hash, data));
                } else {
                    self.start_upload(blocks, idx).await?;
                }
            }
            self.finish_uploads().await?;
            self.pending.values().cloned().collect()
        };
        let base = if inline {
            self.committed.values().cloned().collect()
        } else {
            chunks
                .iter()
                .filter_map(|c| self.committed.get(&c.idx).cloned())
                .collect()
        };
        // A writer that truncated sets the size; one that only wrote extends it to the end of
        // its writes at most, so a truncate committed meanwhile by another stands.
        let (size, grow) = match self.edits.replayed_cut() {
            Some(_) => (self.size, false),
            None => (self.edits.grown_to(), true),
        };
        let req = WriteContent {
            node: self.node,
            size,
            grow,
            chunks,
            replace_all: inline,
            cut_at: self.edits.replayed_cut(),
            base: Some(base),
            durable,
            then: self.attrs_after.as_ref().map(|(changes, _)| changes.clone()),
            at: None,
        };
        Ok((req, inline))
    }

    /// Block `idx` as its stored block with this writer's changes laid over it, when the
    /// changes are small enough to keep in metadata: a small write into a large file commits
    /// its own bytes, not the whole block again. `None`: upload the block whole.
    fn patch(&self, idx: u64) -> Result<Option<ChunkRef>> {
        let (Some(base), Some(buf)) = (self.committed.get(&idx), self.dirty.get(&idx)) else {
            return Ok(None);
        };
        if self.uploading.contains_key(&idx) {
            // An older version of the block is on its way: uploading this one whole waits for
            // it first, so the older cannot land last.
            return Ok(None);
        }
        let Some(hash) = base.hash.clone() else {
            return Ok(None);
        };
        let start = idx * BLOCK_SIZE;
        let parts: Vec<(usize, usize)> = self
            .edits
            .within(start, start + BLOCK_SIZE)
            .into_iter()
            .map(|(s, e)| {
                (
                    ((s - start) as usize).min(buf.len()),
                    ((e - start) as usize).min(buf.len()),
                )
            })
            .filter(|(s, e)| s < e)
            .collect();
        let mut patches = patches_of(base)?;
        let bytes = parts.iter().map(|(s, e)| e - s).sum();
        if parts.is_empty() || !patches.room_for(parts.len(), bytes) {
            return Ok(None);
        }
        for (s, e) in parts {
            patches.push(s as u64, buf[s..e].to_vec());
        }
        Ok(Some(patched_chunk(idx, buf.len() as u64, hash, &patches)))
    }

    /// Another writer committed first: takes the file as it now is and lays this writer's
    /// edits over it again. Blocks this writer wrote whole stay as they are; the others are
    /// merged one at a time, and uploaded as they go, so memory stays bounded.
    async fn rebase(&mut self, blocks: &Blocks) -> Result<()> {
        self.finish_uploads().await?;
        let current = blocks.session().content(NodeOnly { node: self.node }).await?;
        let mut theirs: BTreeMap<u64, ChunkRef> = current.chunks.into_iter().map(|c| (c.idx, c)).collect();
        if let Some(cut) = self.edits.replayed_cut() {
            cut_chunks(&mut theirs, cut);
        }
        let ours: std::collections::BTreeSet<u64> = self.dirty.keys().chain(self.pending.keys()).copied().collect();
        for idx in ours {
            let start = idx * BLOCK_SIZE;
            let parts = self.edits.within(start, start + BLOCK_SIZE);
            if parts == [(start, start + BLOCK_SIZE)] {
                continue; // All this writer's: nothing of theirs to keep.
            }
            let mine = self.block(blocks, idx).await?;
            let mut block = match theirs.get(&idx) {
                Some(chunk) => chunk_bytes(blocks, chunk).await?.to_vec(),
                None => Vec::new(),
            };
            block.resize(block.len().max(mine.len()), 0);
            for (from, to) in parts {
                let (from, to) = ((from - start) as usize, ((to - start) as usize).min(block.len()));
                for (at, byte) in block.iter_mut().enumerate().take(to).skip(from) {
                    *byte = mine.get(at).copied().unwrap_or(0);
                }
            }
            self.pending.remove(&idx);
            self.dirty.insert(idx, block);
            if self.dirty.len() > MAX_DIRTY_BLOCKS {
                self.start_upload(blocks, idx).await?;
            }
        }
        self.committed = theirs;
        if self.edits.replayed_cut().is_none() {
            self.size = current.stat.size.max(self.edits.grown_to());
        }
        Ok(())
    }
}

const MAX_REBASES: u32 = 20;

/// The valid bytes of a stored chunk. A block the server no longer has for this volume is
/// `Stale`: the file changed since its chunk list was read.
async fn chunk_bytes(blocks: &Blocks, chunk: &ChunkRef) -> Result<Bytes> {
    let bytes = match (&chunk.hash, &chunk.data) {
        (Some(hash), patched) => {
            let block = match blocks.fetch(hash).await {
                Err(e) if e.kind == ErrorKind::NotFound => return Err(stale()),
                other => other?,
            };
            match patched {
                Some(_) => Bytes::from(patches_of(chunk)?.apply(&block, chunk.len as usize)),
                None => block,
            }
        }
        (None, Some(b64)) => Bytes::from(B64.decode(b64).map_err(|_| Error::internal("malformed inline chunk"))?),
        (None, None) => Bytes::new(),
    };
    Ok(bytes.slice(..(chunk.len as usize).min(bytes.len())))
}

/// The patches of a chunk that has them (a block and data); else the whole block.
fn patches_of(chunk: &ChunkRef) -> Result<Patches> {
    match &chunk.data {
        Some(b64) => {
            let raw = B64
                .decode(b64)
                .map_err(|_| Error::internal("malformed chunk patches"))?;
            Patches::decode(&raw).map_err(|e| Error::internal(e.message))
        }
        None => Ok(Patches::new(chunk.len)),
    }
}

fn patched_chunk(idx: u64, len: u64, hash: String, patches: &Patches) -> ChunkRef {
    ChunkRef {
        idx,
        len,
        hash: Some(hash),
        data: Some(B64.encode(patches.encode())),
    }
}

fn stale() -> Error {
    Error::new(ErrorKind::Stale, "a block of this file was replaced")
}

fn inline_chunk(idx: u64, data: &[u8]) -> ChunkRef {
    ChunkRef {
        idx,
        len: data.len() as u64,
        hash: None,
        data: Some(B64.encode(data)),
    }
}

/// Drops chunk content past `size`, exactly as the server does on a truncate (so that the
/// chunks a commit names as its base match the server's).
fn cut_chunks(chunks: &mut BTreeMap<u64, ChunkRef>, size: u64) {
    chunks.retain(|&idx, _| idx < size.div_ceil(BLOCK_SIZE));
    let (last, keep) = (size / BLOCK_SIZE, size % BLOCK_SIZE);
    if let Some(chunk) = chunks.get_mut(&last)
        && chunk.len > keep
    {
        match (&chunk.hash, chunk.data.as_ref().and_then(|b64| B64.decode(b64).ok())) {
            (None, Some(data)) => *chunk = inline_chunk(last, &data[..(keep as usize).min(data.len())]),
            (Some(hash), Some(raw)) => {
                if let Ok(mut patches) = Patches::decode(&raw) {
                    patches.cut(keep);
                    *chunk = patched_chunk(last, keep, hash.clone(), &patches);
                }
            }
            _ => {}
        }
        chunk.len = keep;
    }
}

/// What this writer changed since its last commit, in terms that can be laid over another
/// writer's content: the byte ranges it wrote, and the lowest offset it truncated at (from
/// there on, the content is all its own).
#[derive(Debug, Default)]
struct Edits {
    /// Written ranges, start to end, disjoint and not touching.
    written: BTreeMap<u64, u64>,
    cut_at: Option<u64>,
    /// Whether a write came after the first truncate (a rewrite): only then is the cut laid
    /// over others' commits again; a truncate alone applied when it was issued.
    wrote_after_cut: bool,
    /// The end of the furthest write.
    end: u64,
}

impl Edits {
    fn write(&mut self, mut start: u64, mut end: u64) {
        if start == end {
            return;
        }
        self.end = self.end.max(end);
        self.wrote_after_cut |= self.cut_at.is_some();
        let touching: Vec<(u64, u64)> = self
            .written
            .range(..=end)
            .rev()
            .take_while(|&(_, &e)| e >= start)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in touching {
            self.written.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.written.insert(start, end);
    }

    fn truncate(&mut self, size: u64) {
        self.cut_at = Some(self.cut_at.map_or(size, |cut| cut.min(size)));
    }

    /// The cut to lay over others' commits: the lowest truncate, if this writer wrote after one.
    fn replayed_cut(&self) -> Option<u64> {
        self.cut_at.filter(|_| self.wrote_after_cut)
    }

    /// How far this writer's writes reach, those past a cut not laid again excepted.
    fn grown_to(&self) -> u64 {
        match self.cut_at {
            Some(cut) if !self.wrote_after_cut => self.end.min(cut),
            _ => self.end,
        }
    }

    /// The parts of `[start, end)` this writer changed, in order, merged.
    fn within(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut parts: Vec<(u64, u64)> = self
            .written
            .range(..end)
            .rev()
            .take_while(|&(_, &e)| e > start)
            .map(|(&s, &e)| (s.max(start), e.min(end)))
            .collect();
        parts.reverse();
        if let Some(cut) = self.cut_at.filter(|_| !self.wrote_after_cut) {
            // Bytes written past a cut that applied on its own are gone: not this writer's.
            parts.retain(|&(s, _)| s < cut);
            if let Some(last) = parts.last_mut() {
                last.1 = last.1.min(cut);
            }
            return parts;
        }
        if let Some(cut) = self.replayed_cut().filter(|&cut| cut < end) {
            parts.retain(|&(s, _)| s < cut.max(start));
            let from = cut.max(start);
            match parts.last_mut() {
                Some(last) if last.1 >= from => last.1 = end,
                _ => parts.push((from, end)),
            }
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::Edits;

    #[test]
    fn edits_merge_ranges() {
        let mut e = Edits::default();
        e.write(10, 20);
        e.write(30, 40);
        e.write(20, 25);
        assert_eq!(e.within(0, 100), [(10, 25), (30, 40)]);
        e.write(5, 35);
        assert_eq!(e.within(0, 100), [(5, 40)]);
        assert_eq!(e.within(12, 18), [(12, 18)]);
        assert_eq!(e.within(40, 100), []);
        assert_eq!((e.replayed_cut(), e.grown_to()), (None, 40));
    }

    #[test]
    fn a_truncate_alone_applies_once_and_clips_earlier_writes() {
        let mut e = Edits::default();
        e.write(5, 40);
        e.truncate(38);
        assert_eq!(e.within(0, 100), [(5, 38)], "bytes past the cut are gone, not ours");
        assert_eq!((e.replayed_cut(), e.grown_to()), (None, 38));
    }

    #[test]
    fn a_rewrite_after_a_truncate_owns_everything_past_the_lowest_cut() {
        let mut e = Edits::default();
        e.write(0, 4);
        e.truncate(50);
        e.write(60, 70);
        assert_eq!(e.within(0, 100), [(0, 4), (50, 100)]);
        e.truncate(20);
        assert_eq!(e.within(0, 100), [(0, 4), (20, 100)], "the lowest cut counts");
        assert_eq!(e.replayed_cut(), Some(20));
    }
}
