//! Blocks as a mount sees them: through the local cache, checked against their hash, and
//! downloaded once however many readers (or read-ahead) want them at the same time.

use crate::cache::BlockCache;
use crate::metrics::{InFlight, MountMetrics};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use strata_core::pieces::{self, PIECE};
use strata_core::session::SessionApi;
use strata_core::{Error, ErrorKind, Result};

#[derive(Clone)]
pub struct Blocks {
    session: Arc<dyn SessionApi>,
    cache: Arc<BlockCache>,
    downloads: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Downloaded blocks on their way to the disk cache.
    cache_writes: Arc<AtomicUsize>,
    /// Whole blocks downloaded in the background for random readers.
    behind_random: Arc<AtomicUsize>,
    metrics: Arc<MountMetrics>,
}

const MAX_CACHE_WRITES: usize = 8;
/// Blocks up to this long are hashed where they are, longer ones on a blocking thread.
const SHORT_HASH: usize = 256 << 10;
/// Whole blocks fetched at once behind random readers' pieces.
const MAX_BEHIND_RANDOM: usize = 2;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One of a bounded number of places, given back when dropped (also if its task panics).
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(taken: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        if taken.fetch_add(1, Ordering::AcqRel) < max {
            Some(Slot(taken.clone()))
        } else {
            taken.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Blocks {
    pub fn new(session: Arc<dyn SessionApi>, cache: Arc<BlockCache>) -> Self {
        Blocks {
            session,
            cache,
            downloads: Arc::default(),
            cache_writes: Arc::default(),
            behind_random: Arc::default(),
            metrics: Arc::default(),
        }
    }

    pub fn metrics(&self) -> &MountMetrics {
        &self.metrics
    }

    /// Bytes the local cache holds now.
    pub fn cache_bytes(&self) -> u64 {
        self.cache.size()
    }

    pub fn session(&self) -> &dyn SessionApi {
        &*self.session
    }

    pub async fn fetch(&self, hash: &str) -> Result<Bytes> {
        if let Some(bytes) = self.cache.get(hash).await {
            self.metrics.cache_hits.inc();
            return Ok(bytes);
        }
        let gate = self
            .downloads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(hash.to_owned())
            .or_default()
            .clone();
        let _one_download = gate.lock().await;
        // Another reader may have downloaded it meanwhile.
        let result = match self.cache.get(hash).await {
            Some(bytes) => {
                self.metrics.cache_hits.inc();
                Ok(bytes)
            }
            None => {
                self.metrics.cache_misses.inc();
                self.download(hash).await
            }
        };
        self.downloads.lock().unwrap_or_else(|p| p.into_inner()).remove(hash);
        result
    }

    /// Bytes `start..end` of a block (fewer past its end): from the local cache when it has
    /// the block, reading and checking only the pieces asked for; else, for a `random`
    /// reader, only the pieces that hold them are downloaded (checked against the block's
    /// name), and for any other the whole block is, as by [`Blocks::fetch`].
    pub async fn fetch_range(&self, hash: &str, start: usize, end: usize, random: bool) -> Result<Bytes> {
        if let Some(bytes) = self.cache.get_range(hash, start, end).await {
            self.metrics.cache_hits.inc();
            return Ok(bytes);
        }
        if random
            && start < end
            && let Some(bytes) = self.download_pieces(hash, start, end).await?
        {
            self.fetch_behind(hash);
            return Ok(bytes);
        }
        let block = self.fetch(hash).await?;
        let end = end.min(block.len());
        Ok(block.slice(start.min(end)..end))
    }

    /// Fetches a whole block into the cache behind a random reader, for the reads near its
    /// last one that are likely to come: a few at a time, none already under way.
    fn fetch_behind(&self, hash: &str) {
        if lock(&self.downloads).contains_key(hash) {
            return;
        }
        if let Some(slot) = Slot::take(&self.behind_random, MAX_BEHIND_RANDOM) {
            let (blocks, hash) = (self.clone(), hash.to_owned());
            tokio::spawn(async move {
                let _slot = slot;
                let _ = blocks.fetch(&hash).await;
            });
        }
    }

    /// The 64 KiB pieces of a block that hold bytes `start..end`, checked; `None` for a block
    /// of one piece, which is read whole.
    async fn download_pieces(&self, hash: &str, start: usize, end: usize) -> Result<Option<Bytes>> {
        let name = blake3::Hash::from_hex(hash).map_err(|_| Error::internal(format!("block name {hash}")))?;
        let (first, last) = (start / PIECE, end.div_ceil(PIECE));
        let reply = match self.session.get_pieces(hash, first, last).await {
            Err(e) if e.kind == ErrorKind::InvalidInput => return Ok(None),
            other => other?,
        };
        self.metrics.piece_downloads.inc();
        self.metrics.piece_bytes.inc_by(reply.len() as u64);
        let checked = pieces::check_reply(&name, first, last, &reply)
            .map_err(|why| Error::new(ErrorKind::Internal, format!("block {hash} arrived corrupted: {why}")))?;
        let data = reply.slice(checked.data_at..);
        let (from, to) = (start - first * PIECE, (end - first * PIECE).min(data.len()));
        Ok(Some(data.slice(from.min(to)..to)))
    }

    async fn download(&self, hash: &str) -> Result<Bytes> {
        let bytes = self.session.get_block(hash).await?;
        self.metrics.cache_fetched_bytes.inc_by(bytes.len() as u64);
        let want = hash.to_owned();
        let (bytes, intact, pieces) = tokio::task::spawn_blocking(move || {
            let (actual, pieces) = pieces::hash_block(&bytes);
            (bytes, actual.to_hex().as_str() == want, pieces)
        })
        .await
        .map_err(|e| Error::internal(format!("hash task: {e}")))?;
        if !intact {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("block {hash} arrived corrupted"),
            ));
        }
        // The reader goes on at once; the block reaches the disk cache in the background
        // (at most a few at a time, so memory stays bounded when the disk is slower).
        self.cache.remember(hash, &bytes);
        let Some(slot) = Slot::take(&self.cache_writes, MAX_CACHE_WRITES) else {
            self.cache.put_checked(hash, &bytes, pieces).await;
            return Ok(bytes);
        };
        let (cache, hash, kept) = (self.cache.clone(), hash.to_owned(), bytes.clone());
        tokio::spawn(async move {
            let _slot = slot;
            cache.put_checked(&hash, &kept, pieces).await;
        });
        Ok(bytes)
    }

    /// Fetches a block into the cache in the background.
    pub fn prefetch(&self, hash: String) {
        let blocks = self.clone();
        tokio::spawn(async move {
            let _ = blocks.fetch(&hash).await;
        });
    }

    /// Stores again a block this mount uploaded before, from the local cache: garbage
    /// collection may have taken it while nothing named it yet (a file open for long).
    pub async fn reupload(&self, hash: &str) -> Result<()> {
        let data = self.cache.get(hash).await.ok_or_else(|| {
            Error::new(
                ErrorKind::Conflict,
                format!("block {hash} was collected and is no longer in the local cache"),
            )
        })?;
        self.session.put_block(hash, data).await
    }

    /// A block's name: the hash of its bytes (computed off the runtime's threads when long).
    pub async fn name(data: Bytes) -> Result<String> {
        if data.len() <= SHORT_HASH {
            return Ok(blake3::hash(&data).to_hex().to_string());
        }
        tokio::task::spawn_blocking(move || blake3::hash(&data).to_hex().to_string())
            .await
            .map_err(|e| Error::internal(format!("hash task: {e}")))
    }

    /// Uploads a block; returns its hash.
    pub async fn upload(&self, data: Bytes) -> Result<String> {
        let _counted = InFlight::start(&self.metrics.uploads_in_flight);
        let hash = Self::name(data.clone()).await?;
        self.session.put_block(&hash, data.clone()).await?;
        self.keep_written(&hash, &data).await;
        Ok(hash)
    }

    /// Keeps a block in the disk cache, whole or not.
    pub async fn keep_on_disk(&self, hash: &str, data: &Bytes) {
        self.cache.put(hash, data).await;
    }

    /// Keeps a block this mount wrote for the reads that follow. A whole block is what a
    /// large write makes: a second copy on disk cost sequential writes about 40 % of their
    /// speed, so it is kept in memory among the last few blocks only, and read back from the
    /// server later (JuiceFS leaves large writes out of its cache too). A file's tail and
    /// small files go to the disk cache.
    pub async fn keep_written(&self, hash: &str, data: &Bytes) {
        if data.len() as u64 == strata_core::BLOCK_SIZE {
            self.cache.remember(hash, data);
        } else {
            self.cache.put(hash, data).await;
        }
    }
}
