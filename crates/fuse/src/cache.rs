//! A local, size-bounded cache of blocks on disk, keyed by hash.
//!
//! Blocks never change, so the cache needs no invalidation and one cache serves every volume
//! and mount that shares its folder. When it grows past its limit, the least recently used
//! blocks go first. A few recent blocks are also kept in memory.
//!
//! A file in the folder is never trusted: every block read from disk is checked against its
//! name (a BLAKE3 hash) and dropped if it does not match, so a damaged or tampered cache costs
//! a download, never wrong bytes. Each write goes to a temporary file of its own, renamed
//! into place, so mounts sharing the folder never see half a block.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const MEMORY_BLOCKS: usize = 4;
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

pub struct BlockCache {
    dir: PathBuf,
    limit: u64,
    index: Mutex<Index>,
    memory: Mutex<VecDeque<(String, Bytes)>>,
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
        if let Some(bytes) = self
            .memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(h, _)| h == hash)
        {
            return Some(bytes.1.clone());
        }
        {
            let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            index.clock += 1;
            let clock = index.clock;
            index.entries.get_mut(hash)?.1 = clock;
        }
        let path = self.dir.join(hash);
        let bytes = Bytes::from(tokio::fs::read(&path).await.ok()?);
        let (bytes, intact) = {
            let want = hash.to_owned();
            tokio::task::spawn_blocking(move || {
                let intact = blake3::hash(&bytes).to_hex().as_str() == want;
                (bytes, intact)
            })
            .await
            .ok()?
        };
        if !intact {
            tracing::warn!(block = hash, "cached block is damaged; fetching it again");
            self.forget(hash);
            let _ = tokio::fs::remove_file(&path).await;
            return None;
        }
        self.remember(hash, &bytes);
        Some(bytes)
    }

    fn forget(&self, hash: &str) {
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((size, _)) = index.entries.remove(hash) {
            index.total -= size;
        }
    }

    fn remember(&self, hash: &str, bytes: &Bytes) {
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
