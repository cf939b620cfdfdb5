//! A local, size-bounded cache of blocks on disk, keyed by hash.
//!
//! Blocks never change, so the cache needs no invalidation and one cache serves every volume
//! and mount that shares its folder. When it grows past its limit, the least recently used
//! blocks go first. A few recent blocks are also kept in memory.
//!
//! A file in the folder is never trusted: every block read from disk is checked against its
//! name (a BLAKE3 hash) and dropped if it does not match, so a damaged or tampered cache costs
//! a download, never wrong bytes. A read of part of a block checks only the 64 KiB pieces it
//! reads, against the pieces' values taken when the whole block was last checked, so a small
//! random read costs a small read, not the whole block. Each write goes to a temporary file of its own, renamed
//! into place, so mounts sharing the folder never see half a block.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use strata_core::pieces::{ChainingValue, PIECE, hash_block, piece_value};

const MEMORY_BLOCKS: usize = 4;
/// The most blocks whose pieces' values are kept (2 KiB for a 4 MiB block).
const MAX_CHECKED: usize = 2048;
/// A temporary file older than this is left over from a writer that died.
const LEFTOVER_AGE: Duration = Duration::from_secs(600);

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

#[derive(Default)]
struct Index {
    /// Size and last use of every block on disk.
    entries: HashMap<String, (u64, u64)>,
    total: u64,
    clock: u64,
}

/// The values of each piece of blocks checked whole since this mount started.
#[derive(Default)]
struct Checked {
    pieces: HashMap<String, std::sync::Arc<[ChainingValue]>>,
    order: VecDeque<String>,
}

pub struct BlockCache {
    dir: PathBuf,
    limit: u64,
    index: Mutex<Index>,
    memory: Mutex<VecDeque<(String, Bytes)>>,
    checked: Mutex<Checked>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `bytes[start..end]`, clipped to its length.
fn clip(bytes: &Bytes, start: usize, end: usize) -> Bytes {
    let end = end.min(bytes.len());
    bytes.slice(start.min(end)..end)
}

/// True for a well-formed block name: 64 lowercase hex digits.
pub fn is_block_name(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlockCache {
    pub fn open(dir: PathBuf, limit: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let mut index = Index::default();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_block_name(&name) {
                let size = entry.metadata()?.len();
                index.clock += 1;
                index.entries.insert(name, (size, index.clock));
                index.total += size;
            } else {
                // Another mount sharing the folder may be writing it right now: only old
                // leftovers of an interrupted write go.
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > LEFTOVER_AGE);
                if old {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(BlockCache {
            dir,
            limit,
            index: Mutex::new(index),
            memory: Mutex::default(),
            checked: Mutex::default(),
        })
    }

    /// Bytes of blocks on disk.
    pub fn size(&self) -> u64 {
        self.index.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    pub async fn get(&self, hash: &str) -> Option<Bytes> {
        if !is_block_name(hash) {
            return None;
        }
        match self.in_memory(hash) {
            Some(bytes) => Some(bytes),
            None => self.load(hash, false).await,
        }
    }

    /// Bytes `start..end` of a block (fewer past its end).
    pub async fn get_range(&self, hash: &str, start: usize, end: usize) -> Option<Bytes> {
        if !is_block_name(hash) {
            return None;
        }
        if let Some(bytes) = self.in_memory(hash) {
            return Some(clip(&bytes, start, end));
        }
        let pieces = lock(&self.checked).pieces.get(hash).cloned();
        let Some(pieces) = pieces else {
            return Some(clip(&self.load(hash, true).await?, start, end));
        };
        let size = self.touch(hash)? as usize;
        let end = end.min(size);
        let start = start.min(end);
        if start == end {
            return Some(Bytes::new());
        }
        let (first, last) = (start / PIECE, end.div_ceil(PIECE));
        let (from, to) = (first * PIECE, (last * PIECE).min(size));
        let path = self.dir.join(hash);
        let read = tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::FileExt;
            let mut buf = vec![0; to - from];
            std::fs::File::open(&path).and_then(|f| f.read_exact_at(&mut buf, from as u64))?;
            let intact = buf
                .chunks(PIECE)
                .zip(first..last)
                .all(|(piece, i)| pieces.get(i) == Some(&piece_value(i, piece)));
            Ok::<_, std::io::Error>((buf, intact))
        })
        .await
        .ok()?;
        match read {
            Ok((buf, true)) => Some(Bytes::from(buf).slice(start - from..end - from)),
            Ok((_, false)) => {
                self.drop_damaged(hash).await;
                None
            }
            // Gone (another mount sharing the folder evicted it): downloaded again.
            Err(_) => {
                self.forget(hash);
                None
            }
        }
    }

    fn in_memory(&self, hash: &str) -> Option<Bytes> {
        lock(&self.memory)
            .iter()
            .find(|(h, _)| h == hash)
            .map(|(_, bytes)| bytes.clone())
    }

    /// Marks a block used now; returns its size, if the cache has it.
    fn touch(&self, hash: &str) -> Option<u64> {
        let mut index = lock(&self.index);
        index.clock += 1;
        let clock = index.clock;
        let entry = index.entries.get_mut(hash)?;
        entry.1 = clock;
        Some(entry.0)
    }

    /// Reads a whole block from disk and checks it; with `pieces`, keeps its pieces' values
    /// for later reads of parts of it.
    async fn load(&self, hash: &str, pieces: bool) -> Option<Bytes> {
        self.touch(hash)?;
        let path = self.dir.join(hash);
        let bytes = Bytes::from(tokio::fs::read(&path).await.ok()?);
        let (bytes, intact, hashes) = {
            let want = hash.to_owned();
            tokio::task::spawn_blocking(move || {
                let (intact, hashes) = if pieces {
                    let (actual, values) = hash_block(&bytes);
                    (actual.to_hex().as_str() == want, Some(values))
                } else {
                    (blake3::hash(&bytes).to_hex().as_str() == want, None)
                };
                let hashes = hashes.filter(|_| intact);
                (bytes, intact, hashes)
            })
            .await
            .ok()?
        };
        if !intact {
            self.drop_damaged(hash).await;
            return None;
        }
        if let Some(hashes) = hashes {
            self.keep_pieces(hash, hashes);
        }
        self.remember(hash, &bytes);
        Some(bytes)
    }

    fn keep_pieces(&self, hash: &str, hashes: Vec<ChainingValue>) {
        let mut checked = lock(&self.checked);
        if checked.order.len() >= MAX_CHECKED
            && let Some(oldest) = checked.order.pop_front()
        {
            checked.pieces.remove(&oldest);
        }
        if checked.pieces.insert(hash.to_owned(), hashes.into()).is_none() {
            checked.order.push_back(hash.to_owned());
        }
    }

    /// [`BlockCache::put`] of a block just checked whole, with its pieces' values
    /// ([`strata_core::pieces::piece_values`]), so that reads of parts of it need not check it whole again.
    pub async fn put_checked(&self, hash: &str, bytes: &Bytes, pieces: Vec<ChainingValue>) {
        self.put(hash, bytes).await;
        if lock(&self.index).entries.contains_key(hash) {
            self.keep_pieces(hash, pieces);
        }
    }

    async fn drop_damaged(&self, hash: &str) {
        tracing::warn!(block = hash, "cached block is damaged; fetching it again");
        self.forget(hash);
        let _ = tokio::fs::remove_file(self.dir.join(hash)).await;
    }

    fn forget(&self, hash: &str) {
        let mut index = lock(&self.index);
        if let Some((size, _)) = index.entries.remove(hash) {
            index.total -= size;
        }
        drop(index);
        let mut checked = lock(&self.checked);
        if checked.pieces.remove(hash).is_some() {
            checked.order.retain(|h| h != hash);
        }
    }

    /// Keeps a block among the few held in memory.
    pub fn remember(&self, hash: &str, bytes: &Bytes) {
        let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        if memory.iter().any(|(h, _)| h == hash) {
            return;
        }
        if memory.len() == MEMORY_BLOCKS {
            memory.pop_front();
        }
        memory.push_back((hash.to_owned(), bytes.clone()));
    }

    /// Keeps a block; failures only cost a later download.
    pub async fn put(&self, hash: &str, bytes: &Bytes) {
        if !is_block_name(hash) || bytes.len() as u64 > self.limit {
            return;
        }
        self.remember(hash, bytes);
        if self
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .contains_key(hash)
        {
            return;
        }
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".{hash}.{}.{n}", std::process::id()));
        if tokio::fs::write(&tmp, bytes).await.is_err() || tokio::fs::rename(&tmp, self.dir.join(hash)).await.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
            return;
        }
        let evicted = {
            let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            index.clock += 1;
            let clock = index.clock;
            if index
                .entries
                .insert(hash.to_owned(), (bytes.len() as u64, clock))
                .is_none()
            {
                index.total += bytes.len() as u64;
            }
            let mut evicted = Vec::new();
            while index.total > self.limit {
                let Some(oldest) = index
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(h, _)| h.clone())
                else {
                    break;
                };
                if let Some((size, _)) = index.entries.remove(&oldest) {
                    index.total -= size;
                }
                evicted.push(oldest);
            }
            evicted
        };
        for hash in evicted {
            self.forget(&hash);
            let _ = tokio::fs::remove_file(self.dir.join(hash)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name of the block of 100 bytes `n`.
    fn name(n: u8) -> String {
        blake3::hash(&[n; 100]).to_hex().to_string()
    }

    #[tokio::test]
    async fn evicts_least_recently_used_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlockCache::open(dir.path().to_path_buf(), 250).unwrap();
        for n in 0..3 {
            cache.put(&name(n), &Bytes::from(vec![n; 100])).await;
        }
        assert!(!dir.path().join(name(0)).exists(), "oldest block evicted");
        assert!(dir.path().join(name(2)).exists());
        assert_eq!(cache.get(&name(1)).await.unwrap(), vec![1u8; 100]);
        assert!(cache.get("../../etc/passwd").await.is_none());
        let reopened = BlockCache::open(dir.path().to_path_buf(), 250).unwrap();
        assert_eq!(reopened.get(&name(2)).await.unwrap(), vec![2u8; 100]);
    }

    #[tokio::test]
    async fn a_damaged_block_on_disk_is_never_served() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlockCache::open(dir.path().to_path_buf(), 1 << 20).unwrap();
        let data = Bytes::from(vec![7u8; 1000]);
        let hash = blake3::hash(&data).to_hex().to_string();
        cache.put(&hash, &data).await;
        // Another process overwrites the file with garbage of the same length.
        std::fs::write(dir.path().join(&hash), vec![0u8; 1000]).unwrap();
        let reopened = BlockCache::open(dir.path().to_path_buf(), 1 << 20).unwrap();
        assert_eq!(reopened.get(&hash).await, None, "garbage is not served");
        assert!(!dir.path().join(&hash).exists(), "and is dropped");
        reopened.put(&hash, &data).await;
        assert_eq!(reopened.get(&hash).await.unwrap(), data);
    }

    #[tokio::test]
    async fn reads_of_parts_of_a_block_check_the_pieces_they_read() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..(PIECE * 3 + 100)).map(|i| (i % 251) as u8).collect();
        let hash = blake3::hash(&data).to_hex().to_string();
        BlockCache::open(dir.path().to_path_buf(), 1 << 30)
            .unwrap()
            .put(&hash, &Bytes::from(data.clone()))
            .await;
        // A fresh cache (nothing in memory): the first part read checks the whole block.
        let cache = BlockCache::open(dir.path().to_path_buf(), 1 << 30).unwrap();
        let part = |s: usize, e: usize| data[s..e.min(data.len())].to_vec();
        assert_eq!(cache.get_range(&hash, 10, 20).await.unwrap(), part(10, 20));
        lock(&cache.memory).clear();
        for (s, e) in [(PIECE - 5, PIECE + 5), (PIECE * 3, PIECE * 4), (0, PIECE * 4), (50, 50)] {
            assert_eq!(cache.get_range(&hash, s, e).await.unwrap(), part(s, e), "{s}..{e}");
        }
        // One byte of the third piece damaged on disk: reads of other pieces still check out,
        // a read of that piece is refused and the block dropped.
        let mut damaged = data.clone();
        damaged[PIECE * 2 + 7] ^= 1;
        std::fs::write(dir.path().join(&hash), &damaged).unwrap();
        assert_eq!(cache.get_range(&hash, 0, 100).await.unwrap(), part(0, 100));
        assert_eq!(cache.get_range(&hash, PIECE * 2, PIECE * 2 + 10).await, None);
        assert!(!dir.path().join(&hash).exists(), "the damaged block is dropped");
        assert_eq!(cache.get_range(&hash, 0, 100).await, None, "and no longer served");
    }

    #[tokio::test]
    async fn concurrent_puts_of_one_block_each_write_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = std::sync::Arc::new(BlockCache::open(dir.path().to_path_buf(), 64 << 20).unwrap());
        let data = Bytes::from(vec![9u8; 4 << 20]);
        let hash = blake3::hash(&data).to_hex().to_string();
        let puts: Vec<_> = (0..8)
            .map(|_| {
                let (cache, data, hash) = (cache.clone(), data.clone(), hash.clone());
                tokio::spawn(async move { cache.put(&hash, &data).await })
            })
            .collect();
        for p in puts {
            p.await.unwrap();
        }
        assert_eq!(std::fs::read(dir.path().join(&hash)).unwrap(), data);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }
}
