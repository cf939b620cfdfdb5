//! Immutable, content-addressed blocks on an object store.
//!
//! A block is stored under the BLAKE3 hash of its bytes, so identical data (in one file, in
//! two files, in a volume and its forks) is stored once, and a block never changes after it
//! is written. The store is any [`object_store::ObjectStore`]; a local folder by default.
//!
//! Key layout: `blocks/<first two hex digits>/<64 hex digits>`, under the store's prefix.
//! A block of two 64 KiB pieces or more has the values of its pieces beside it
//! (`pieces/<first two>/<64 hex digits>`: its size, then 32 bytes a piece; see
//! [`strata_core::pieces`]), so a reader can be sent a piece of it that it can check.
//!
//! Stores by URL ([`BlockStore::open_url`]): `file:///path` (written with fsync before a put
//! returns) or `s3://bucket/prefix` for any S3-compatible store, configured from the standard
//! AWS environment (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`), path-style. Every S3 request has a timeout;
//! 5xx answers and timeouts are retried with backoff for at most [`S3_RETRY_FOR`], 4xx never.

use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::prefix::PrefixStore;
use object_store::{ClientConfigKey, RetryConfig};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_core::pieces::{self, ChainingValue};

/// How long one S3 request may take before it is abandoned (and retried).
pub const S3_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a failing S3 call is retried before the error reaches the caller.
pub const S3_RETRY_FOR: Duration = Duration::from_secs(30);

pub type BlockHash = [u8; 32];

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("block {0} is missing from the object store")]
    Missing(String),
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("object store folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("invalid store URL {0:?}: expected file:///path or s3://bucket/prefix")]
    Url(String),
    #[error("block {0} in the object store does not match its name")]
    Damaged(String),
}

pub type Result<T> = std::result::Result<T, BlockError>;

/// The one mapping of store failures to the kinds every layer speaks: a store that does not
/// answer is `Unavailable` (retry later); a block missing or damaged is `Internal` (the
/// metadata names bytes the store does not hold: `strata fsck`).
impl From<BlockError> for strata_core::Error {
    fn from(e: BlockError) -> Self {
        use strata_core::ErrorKind;
        let kind = match e {
            BlockError::Missing(_) | BlockError::Damaged(_) => ErrorKind::Internal,
            BlockError::Url(_) => ErrorKind::InvalidInput,
            BlockError::Store(_) | BlockError::Folder { .. } => ErrorKind::Unavailable,
        };
        strata_core::Error::new(kind, e.to_string())
    }
}

#[derive(Debug, Clone)]
pub struct BlockStore {
    store: Arc<dyn ObjectStore>,
    /// Piece values of blocks read in pieces lately.
    recent: Arc<Mutex<RecentPieces>>,
}

/// A block's size and the values of its pieces.
pub type Pieces = Arc<(usize, Vec<ChainingValue>)>;

/// The most blocks whose piece values are kept in memory (2 KiB each for 4 MiB blocks).
const RECENT_PIECES: usize = 4096;

#[derive(Debug, Default)]
struct RecentPieces {
    by_hash: HashMap<BlockHash, Pieces>,
    order: VecDeque<BlockHash>,
}

impl RecentPieces {
    fn insert(&mut self, hash: BlockHash, pieces: Pieces) {
        if self.by_hash.insert(hash, pieces).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > RECENT_PIECES {
            if let Some(old) = self.order.pop_front() {
                self.by_hash.remove(&old);
            }
        }
    }
}

pub fn to_hex(hash: &BlockHash) -> String {
    blake3::Hash::from_bytes(*hash).to_hex().to_string()
}

fn key(hash: &BlockHash) -> StorePath {
    let hex = to_hex(hash);
    StorePath::from(format!("blocks/{}/{hex}", &hex[..2]))
}

fn pieces_key(hash: &BlockHash) -> StorePath {
    let hex = to_hex(hash);
    StorePath::from(format!("pieces/{}/{hex}", &hex[..2]))
}

impl BlockStore {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        BlockStore {
            store,
            recent: Arc::default(),
        }
    }

    /// The store a URL names: `file:///path` or `s3://bucket[/prefix]`.
    pub fn open_url(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(BlockError::Url(url.into()));
            }
            return Self::local(std::path::Path::new(path));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(BlockError::Url(url.into()));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlockError::Url(url.into()));
        }
        // Set key by key: client options as a whole would drop those the environment gave
        // (such as AWS_ALLOW_HTTP).
        let timeouts = [
            (ClientConfigKey::Timeout, format!("{}s", S3_REQUEST_TIMEOUT.as_secs())),
            (ClientConfigKey::ConnectTimeout, "5s".to_owned()),
        ];
        let retry = RetryConfig {
            max_retries: 8,
            retry_timeout: S3_RETRY_FOR,
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry);
        for (key, value) in timeouts {
            builder = builder.with_config(AmazonS3ConfigKey::Client(key), value);
        }
        let s3 = builder.build()?;
        let prefix = prefix.trim_matches('/');
        Ok(if prefix.is_empty() {
            BlockStore::new(Arc::new(s3))
        } else {
            BlockStore::new(Arc::new(PrefixStore::new(s3, prefix)))
        })
    }

    /// Blocks in a local folder, written durably (file and folder fsync before a put returns).
    pub fn local(dir: &std::path::Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| BlockError::Folder {
            path: dir.display().to_string(),
            source,
        })?;
        let fs = LocalFileSystem::new_with_prefix(dir)?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(BlockStore::new(Arc::new(fs)))
    }

    /// Stores a block unless the store already holds it, with its piece values (from
    /// [`pieces::hash_block`]; none are kept for a one-piece block). The caller names it by
    /// its hash.
    pub async fn put(&self, hash: &BlockHash, data: Bytes, values: &[ChainingValue]) -> Result<()> {
        let key = key(hash);
        match self.store.head(&key).await {
            Ok(meta) if meta.size == data.len() as u64 => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        // The values first: a block is never stored without them (unless a crash comes
        // between, and then they are worked out again when first asked for).
        if values.len() >= 2 {
            let head = pieces::encode_head(data.len(), values);
            self.store.put(&pieces_key(hash), PutPayload::from(head)).await?;
        }
        self.store.put(&key, PutPayload::from_bytes(data)).await?;
        Ok(())
    }

    /// A block's size and the values of its pieces (for a block of two pieces or more):
    /// those kept beside the block when they make its hash, else worked out from the whole
    /// block (for a block stored without them, or beside damaged ones). Not written back:
    /// a collection pass may be deleting the block meanwhile, and would leave them behind.
    pub async fn pieces(&self, hash: &BlockHash) -> Result<Pieces> {
        if let Some(found) = self.recent.lock().unwrap_or_else(|p| p.into_inner()).by_hash.get(hash) {
            return Ok(found.clone());
        }
        let stored = match self.store.get(&pieces_key(hash)).await {
            Ok(r) => pieces::decode_head(&r.bytes().await?)
                .filter(|(_, values, _)| pieces::root(values).is_some_and(|root| root.as_bytes() == hash))
                .map(|(size, values, _)| (size, values)),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let found = match stored {
            Some(found) => found,
            None => {
                let block = self.get(hash).await?;
                let (size, (actual, values)) =
                    tokio::task::spawn_blocking(move || (block.len(), pieces::hash_block(&block)))
                        .await
                        .map_err(|e| BlockError::Damaged(format!("{}: {e}", to_hex(hash))))?;
                if actual.as_bytes() != hash {
                    return Err(BlockError::Damaged(to_hex(hash)));
                }
                (size, values)
            }
        };
        let found = Arc::new(found);
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(*hash, found.clone());
        Ok(found)
    }

    pub async fn get(&self, hash: &BlockHash) -> Result<Bytes> {
        let key = key(hash);
        match self.store.get(&key).await {
            Ok(r) => Ok(r.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(BlockError::Missing(to_hex(hash))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_range(&self, hash: &BlockHash, range: Range<u64>) -> Result<Bytes> {
        match self.store.get_range(&key(hash), range).await {
            Ok(bytes) => Ok(bytes),
            Err(object_store::Error::NotFound { .. }) => Err(BlockError::Missing(to_hex(hash))),
            Err(e) => Err(e.into()),
        }
    }

    /// The hashes of every block the store holds.
    pub async fn list(&self) -> Result<std::collections::HashSet<BlockHash>> {
        use futures::TryStreamExt;
        let mut found = std::collections::HashSet::new();
        let mut objects = self.store.list(Some(&StorePath::from("blocks")));
        while let Some(object) = objects.try_next().await? {
            let name = object.location.filename().unwrap_or_default();
            if let Ok(hash) = blake3::Hash::from_hex(name) {
                found.insert(*hash.as_bytes());
            }
        }
        Ok(found)
    }

    /// Deletes a block and its piece values; deleting a block that is already gone succeeds.
    pub async fn delete(&self, hash: &BlockHash) -> Result<()> {
        for key in [pieces_key(hash), key(hash)] {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_by_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::local(dir.path()).unwrap();
        let data = Bytes::from_static(b"some block");
        let h = *blake3::hash(&data).as_bytes();
        store.put(&h, data.clone(), &[]).await.unwrap();
        store.put(&h, data.clone(), &[]).await.unwrap();
        assert_eq!(store.get(&h).await.unwrap(), data);
        assert_eq!(store.get_range(&h, 5..10).await.unwrap(), &b"block"[..]);
        let hex = to_hex(&h);
        assert!(dir.path().join("blocks").join(&hex[..2]).join(&hex).is_file());
        store.delete(&h).await.unwrap();
        store.delete(&h).await.unwrap();
        assert!(matches!(store.get(&h).await, Err(BlockError::Missing(_))));
    }

    #[tokio::test]
    async fn piece_values_are_kept_beside_their_block_and_go_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::local(dir.path()).unwrap();
        let data = Bytes::from((0..3 * pieces::PIECE + 5).map(|i| i as u8).collect::<Vec<u8>>());
        let (h, values) = pieces::hash_block(&data);
        let h = *h.as_bytes();
        store.put(&h, data.clone(), &values).await.unwrap();
        let sidecar = dir.path().join("pieces").join(&to_hex(&h)[..2]).join(to_hex(&h));
        assert!(sidecar.is_file());
        assert_eq!(*store.pieces(&h).await.unwrap(), (data.len(), values.clone()));
        store.delete(&h).await.unwrap();
        assert!(!sidecar.exists());
        assert!(store.list().await.unwrap().is_empty());

        // Stored without them (by an older server): worked out from the block.
        let fresh = BlockStore::local(dir.path()).unwrap();
        fresh.put(&h, data.clone(), &[]).await.unwrap();
        assert_eq!(*fresh.pieces(&h).await.unwrap(), (data.len(), values.clone()));
        assert!(!sidecar.exists(), "not written back");

        // Damaged ones beside the block are not believed.
        std::fs::create_dir_all(sidecar.parent().unwrap()).unwrap();
        let mut wrong = pieces::encode_head(data.len(), &values);
        wrong[8] ^= 1;
        std::fs::write(&sidecar, wrong).unwrap();
        let reopened = BlockStore::local(dir.path()).unwrap();
        assert_eq!(*reopened.pieces(&h).await.unwrap(), (data.len(), values));

        // A block whose bytes do not match its name is refused, not described.
        let other = *pieces::hash_block(b"other bytes").0.as_bytes();
        let lying = BlockStore::local(dir.path()).unwrap();
        lying.put(&other, data.clone(), &[]).await.unwrap();
        assert!(matches!(lying.pieces(&other).await, Err(BlockError::Damaged(_))));
    }
}
