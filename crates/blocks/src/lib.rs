//! Immutable, content-addressed blocks on an object store.
//!
//! A block is stored under the BLAKE3 hash of its bytes, so identical data (in one file, in
//! two files, in a volume and its forks) is stored once, and a block never changes after it
//! is written. The store is any [`object_store::ObjectStore`]; a local folder by default.
//!
//! A block is stored in an envelope ([`envelope`]) that records, per 64 KiB piece, whether
//! it is compressed (zstd, when that saves anything), so that blocks stored with any
//! setting, and those stored before envelopes existed, are all read alike; a block's name
//! stays the hash of its plain bytes.
//!
//! Key layout: `blocks/<first two hex digits>/<64 hex digits>`, under the store's prefix.
//! A block of two 64 KiB pieces or more has the values of its pieces beside it
//! (`pieces/<first two>/<64 hex digits>`: its size, then 32 bytes a piece; see
//! [`strata_core::pieces`]), so a reader can be sent a piece of it that it can check.
//!
//! The 64 hex digits are the block's store name: its hash, or for an organization that
//! encrypts ([`Domain::Org`], [`keys`]) a hash of it keyed by the organization, with every
//! piece and the piece values encrypted. A block such an organization stored before it
//! encrypted is still read under its hash.
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
use strata_core::pieces::{self, ChainingValue, PIECE};

pub mod envelope;
pub mod keys;
pub use envelope::Compression;
use envelope::{Cipher, Layout, Opened};
pub use keys::OrgKeys;

/// Whose blocks: stored under their hash as they are, or an organization's, under keyed
/// names and encrypted.
#[derive(Debug, Clone)]
pub enum Domain {
    Plain,
    Org(Arc<OrgKeys>),
}

impl Domain {
    /// The name the store keeps a block under.
    pub fn name(&self, hash: &BlockHash) -> BlockHash {
        match self {
            Domain::Plain => *hash,
            Domain::Org(keys) => keys.store_name(hash),
        }
    }

    /// The organization whose domain it is, if it encrypts.
    pub fn org(&self) -> Option<&str> {
        self.keys().map(|k| k.org.as_str())
    }

    fn keys(&self) -> Option<&OrgKeys> {
        match self {
            Domain::Plain => None,
            Domain::Org(keys) => Some(keys),
        }
    }
}

/// What the encryption of a block's piece values authenticates besides them.
fn pieces_aad(name: &BlockHash) -> Vec<u8> {
    [&b"strata piece values "[..], &name[..]].concat()
}

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
    #[error(
        "block {block} of organization {org} is encrypted with its data key {key}, which this server does not hold"
    )]
    Locked { block: String, org: String, key: u32 },
}

pub type Result<T> = std::result::Result<T, BlockError>;

/// The one mapping of store failures to the kinds every layer speaks: a store that does not
/// answer is `Unavailable` (retry later); a block missing or damaged is `Internal` (the
/// metadata names bytes the store does not hold: `strata fsck`).
impl From<BlockError> for strata_core::Error {
    fn from(e: BlockError) -> Self {
        use strata_core::ErrorKind;
        let kind = match e {
            BlockError::Missing(_) | BlockError::Damaged(_) | BlockError::Locked { .. } => ErrorKind::Internal,
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
    recent: Arc<Mutex<Recent<Pieces>>>,
    /// Where the frames of blocks read in pieces lately lie: the object that holds it, and
    /// its layout (`None`: stored without an envelope). By store name.
    layouts: Arc<Mutex<Recent<Located>>>,
}

/// The object that holds a block, and its layout (`None`: stored without an envelope).
type Located = (BlockHash, Option<Arc<Layout>>);

/// A block's size and the values of its pieces.
pub type Pieces = Arc<(usize, Vec<ChainingValue>)>;

/// The most blocks whose piece values, or layouts, are kept in memory (2 KiB each for 4 MiB
/// blocks).
const RECENT_PIECES: usize = 4096;

#[derive(Debug)]
struct Recent<V> {
    by_hash: HashMap<BlockHash, V>,
    order: VecDeque<BlockHash>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            by_hash: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<V: Clone> Recent<V> {
    fn get(cell: &Mutex<Self>, hash: &BlockHash) -> Option<V> {
        cell.lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .get(hash)
            .cloned()
    }

    fn insert(cell: &Mutex<Self>, hash: BlockHash, value: V) {
        let mut this = cell.lock().unwrap_or_else(|p| p.into_inner());
        if this.by_hash.insert(hash, value).is_none() {
            this.order.push_back(hash);
        }
        while this.order.len() > RECENT_PIECES {
            if let Some(old) = this.order.pop_front() {
                this.by_hash.remove(&old);
            }
        }
    }
}

/// A block ready to be stored: its piece values and the bytes the store keeps.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// What the store keeps beside it: its piece values (none for a one-piece block).
    pieces: Option<Bytes>,
    stored: Bytes,
}

impl Sealed {
    /// Seals the block named `hash` with its piece values ([`pieces::hash_block`]'s) for
    /// `domain`: compressed as `compression` says, and encrypted with the organization's
    /// current data key when it encrypts. CPU work: run it off the runtime's threads.
    pub fn new(
        hash: &BlockHash,
        plain: &[u8],
        values: &[ChainingValue],
        compression: Compression,
        domain: &Domain,
    ) -> Sealed {
        let head = (values.len() >= 2).then(|| pieces::encode_head(plain.len(), values));
        let (stored, pieces) = match domain.keys() {
            None => (envelope::seal(plain, compression, None), head),
            Some(keys) => {
                let name = keys.store_name(hash);
                let (key_id, key) = keys.current_key();
                let cipher = Cipher {
                    name: &name,
                    key_id,
                    key,
                };
                let pieces = head.map(|head| {
                    let mut sealed = key_id.to_le_bytes().to_vec();
                    sealed.extend(keys::encrypt(key, &pieces_aad(&name), &head));
                    sealed
                });
                (envelope::seal(plain, compression, Some(cipher)), pieces)
            }
        };
        Sealed {
            pieces: pieces.map(Bytes::from),
            stored: stored.into(),
        }
    }

    /// The bytes the store keeps for it.
    pub fn stored_len(&self) -> u64 {
        self.stored.len() as u64
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
            layouts: Arc::default(),
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

    /// Stores a block of `domain` unless the store already holds it (in any form: a block
    /// never changes once stored, but by [`BlockStore::rewrite`]). The caller names it by the
    /// hash of its plain bytes.
    pub async fn put(&self, domain: &Domain, hash: &BlockHash, block: &Sealed) -> Result<()> {
        let name = domain.name(hash);
        match self.store.head(&key(&name)).await {
            Ok(meta) if meta.size > 0 => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.write(&name, block).await
    }

    /// Stores a block in a new form (another data key) in place of the one it has: readers
    /// of the old form that fail to decrypt read its header again.
    pub async fn rewrite(&self, domain: &Domain, hash: &BlockHash, block: &Sealed) -> Result<()> {
        self.write(&domain.name(hash), block).await
    }

    async fn write(&self, name: &BlockHash, block: &Sealed) -> Result<()> {
        self.forget(name);
        // The values first: a block is never stored without them (unless a crash comes
        // between, and then they are worked out again when first asked for).
        if let Some(head) = &block.pieces {
            self.store
                .put(&pieces_key(name), PutPayload::from_bytes(head.clone()))
                .await?;
        }
        self.store
            .put(&key(name), PutPayload::from_bytes(block.stored.clone()))
            .await?;
        Ok(())
    }

    /// A block's size and the values of its pieces (for a block of two pieces or more):
    /// those kept beside the block when they make its hash, else worked out from the whole
    /// block (for a block stored without them, or beside damaged ones). Not written back:
    /// a collection pass may be deleting the block meanwhile, and would leave them behind.
    pub async fn pieces(&self, domain: &Domain, hash: &BlockHash) -> Result<Pieces> {
        let name = domain.name(hash);
        if let Some(found) = Recent::get(&self.recent, &name) {
            return Ok(found);
        }
        let stored = match self.store.get(&pieces_key(&name)).await {
            Ok(r) => {
                let bytes = r.bytes().await?;
                let head = match domain.keys() {
                    None => Some(bytes.to_vec()),
                    Some(keys) => bytes.get(..4).and_then(|id| {
                        let id = u32::from_le_bytes(id.try_into().ok()?);
                        keys::decrypt(keys.data.get(&id)?, &pieces_aad(&name), &bytes[4..])
                    }),
                };
                head.and_then(|head| pieces::decode_head(&head))
                    .filter(|(_, values, _)| pieces::root(values).is_some_and(|root| root.as_bytes() == hash))
                    .map(|(size, values, _)| (size, values))
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let found = match stored {
            Some(found) => found,
            None => {
                let block = self.get(domain, hash).await?;
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
        Recent::insert(&self.recent, name, found.clone());
        Ok(found)
    }

    /// A whole block, decoded from its envelope (or stored before envelopes, as the store
    /// holds it), and checked against its name: damaged bytes are never given out.
    pub async fn get(&self, domain: &Domain, hash: &BlockHash) -> Result<Bytes> {
        Ok(self.get_keyed(domain, hash).await?.0)
    }

    /// [`BlockStore::get`], with the data key the block is encrypted with, from its header
    /// (`None`: not encrypted, or stored before its organization encrypted).
    pub async fn get_keyed(&self, domain: &Domain, hash: &BlockHash) -> Result<(Bytes, Option<u32>)> {
        let (name, object) = self.object(domain, hash).await?;
        let (hash, keys) = (*hash, domain.keys().cloned());
        let opened = tokio::task::spawn_blocking(move || {
            let key = |id: u32| keys.as_ref().and_then(|k| k.data.get(&id));
            let opened = envelope::open(&object, &hash, &name, key);
            // A block stored as it is, before envelopes, may start like one.
            if !matches!(opened, Opened::Sealed(..)) && blake3::hash(&object).as_bytes() == &hash {
                return Ok((object, None));
            }
            match opened {
                Opened::Sealed(plain, key_id) => Ok((Bytes::from(plain), key_id)),
                Opened::Locked(key) => Err(BlockError::Locked {
                    block: to_hex(&hash),
                    org: keys.map(|k| k.org.clone()).unwrap_or_default(),
                    key,
                }),
                Opened::Plain | Opened::Undecryptable(_) => Err(BlockError::Damaged(to_hex(&hash))),
            }
        });
        opened.await.map_err(|e| BlockError::Damaged(e.to_string()))?
    }

    /// The stored object of a block, as it is, with the name it is kept under: an
    /// organization's block it stored before it encrypted is found under its hash.
    async fn object(&self, domain: &Domain, hash: &BlockHash) -> Result<(BlockHash, Bytes)> {
        let name = domain.name(hash);
        match self.store.get(&key(&name)).await {
            Ok(r) => Ok((name, r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) if name != *hash => {
                Box::pin(self.object(&Domain::Plain, hash)).await
            }
            Err(object_store::Error::NotFound { .. }) => Err(BlockError::Missing(to_hex(hash))),
            Err(e) => Err(e.into()),
        }
    }

    /// Pieces `first..last` of a block of two pieces or more, with its size and piece values:
    /// only their frames are read from the store (once the block's header is known), and
    /// they are checked against their values before they are given out.
    pub async fn get_pieces(
        &self,
        domain: &Domain,
        hash: &BlockHash,
        first: usize,
        last: usize,
    ) -> Result<(Pieces, Bytes)> {
        let pieces = self.pieces(domain, hash).await?;
        // A layout kept from before the block was stored again (in another form, with
        // another data key) reads wrong bytes or none: read its header again, once.
        for fresh in [false, true] {
            match self.read_pieces(domain, hash, &pieces, first..last, fresh).await {
                Ok(Some(plain)) => return Ok((pieces, plain)),
                Ok(None) | Err(BlockError::Store(_)) if !fresh => continue,
                Ok(None) => return Err(BlockError::Damaged(to_hex(hash))),
                Err(e) => return Err(e),
            }
        }
        unreachable!("the second round returns")
    }

    /// Pieces `range` read through the block's layout (kept, unless `fresh`), checked against
    /// their values: `None` if they do not match them.
    async fn read_pieces(
        &self,
        domain: &Domain,
        hash: &BlockHash,
        pieces: &Pieces,
        range: Range<usize>,
        fresh: bool,
    ) -> Result<Option<Bytes>> {
        let (object, layout) = self.layout(domain, hash, pieces.0, fresh).await?;
        let span = match &layout {
            Some(layout) => layout.span(range.clone()),
            None => (range.start * PIECE) as u64..(range.end * PIECE).min(pieces.0) as u64,
        };
        let bytes = match self.range(&object, span).await {
            Err(BlockError::Missing(_)) if !fresh => return Ok(None),
            read => read?,
        };
        let (keys, values) = (domain.keys().cloned(), pieces.clone());
        let opened = tokio::task::spawn_blocking(move || {
            let plain = match layout {
                None => bytes.to_vec(),
                Some(layout) => {
                    let cipher = match (layout.key_id, &keys) {
                        (None, _) => None,
                        (Some(key_id), Some(keys)) => match keys.data.get(&key_id) {
                            Some(key) => Some(Cipher {
                                name: &object,
                                key_id,
                                key,
                            }),
                            None => return Err(key_id),
                        },
                        (Some(key_id), None) => return Err(key_id),
                    };
                    match layout.open(range.clone(), &bytes, cipher) {
                        Some(plain) => plain,
                        None => return Ok(None),
                    }
                }
            };
            let whole = plain
                .chunks(PIECE)
                .zip(range)
                .all(|(piece, i)| values.1.get(i) == Some(&pieces::piece_value(i, piece)));
            Ok(whole.then(|| Bytes::from(plain)))
        });
        match opened.await.map_err(|e| BlockError::Damaged(e.to_string()))? {
            Ok(read) => Ok(read),
            Err(_) if !fresh => Ok(None),
            Err(key) => Err(BlockError::Locked {
                block: to_hex(hash),
                org: domain.org().unwrap_or_default().to_owned(),
                key,
            }),
        }
    }

    /// Where a block's frames lie, from its header (read once, then kept unless `fresh`):
    /// the object that holds it, and `None` for a block stored as it is. A header is
    /// believed when it describes a block of the size its piece values give; the pieces
    /// read through it are checked against their values.
    async fn layout(&self, domain: &Domain, hash: &BlockHash, size: usize, fresh: bool) -> Result<Located> {
        let name = domain.name(hash);
        if !fresh && let Some(found) = Recent::get(&self.layouts, &name) {
            return Ok(found);
        }
        let head_len = 0..envelope::header_len(size) as u64;
        let (object, head) = match self.range(&name, head_len.clone()).await {
            Err(BlockError::Missing(_)) if name != *hash => (*hash, self.range(hash, head_len).await?),
            read => (name, read?),
        };
        let layout = Layout::parse(&head).filter(|l| l.size == size).map(Arc::new);
        Recent::insert(&self.layouts, name, (object, layout.clone()));
        Ok((object, layout))
    }

    /// Bytes `range` of the object stored under `name`.
    async fn range(&self, name: &BlockHash, range: Range<u64>) -> Result<Bytes> {
        match self.store.get_range(&key(name), range).await {
            Ok(bytes) => Ok(bytes),
            Err(object_store::Error::NotFound { .. }) => Err(BlockError::Missing(to_hex(name))),
            Err(e) => Err(e.into()),
        }
    }

    /// The store names of every block the store holds.
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

    /// Deletes the block stored under `name` and its piece values; deleting a block that is
    /// already gone succeeds.
    /// Forgets what is kept of a block stored under `name`: it is stored anew, or deleted.
    fn forget(&self, name: &BlockHash) {
        self.layouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .remove(name);
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_hash
            .remove(name);
    }

    pub async fn delete(&self, name: &BlockHash) -> Result<()> {
        self.forget(name);
        for key in [pieces_key(name), key(name)] {
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

    fn sealed(data: &[u8], compression: Compression) -> (BlockHash, Sealed) {
        let (hash, values) = pieces::hash_block(data);
        let hash = *hash.as_bytes();
        (hash, Sealed::new(&hash, data, &values, compression, &Domain::Plain))
    }

    const PLAIN: &Domain = &Domain::Plain;

    #[tokio::test]
    async fn stores_by_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::local(dir.path()).unwrap();
        let data = Bytes::from_static(b"some block");
        let (h, block) = sealed(&data, Compression::DEFAULT);
        store.put(PLAIN, &h, &block).await.unwrap();
        store.put(PLAIN, &h, &block).await.unwrap();
        assert_eq!(store.get(PLAIN, &h).await.unwrap(), data);
        let hex = to_hex(&h);
        assert!(dir.path().join("blocks").join(&hex[..2]).join(&hex).is_file());
        store.delete(&h).await.unwrap();
        store.delete(&h).await.unwrap();
        assert!(matches!(store.get(PLAIN, &h).await, Err(BlockError::Missing(_))));
    }

    /// Blocks compressed, stored as they are, and stored before envelopes (the plain bytes
    /// under their name) are read alike, whole and in pieces; the store keeps text smaller.
    #[tokio::test]
    async fn every_stored_form_reads_alike_whole_and_in_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::local(dir.path()).unwrap();
        let text: Vec<u8> = b"let x = 1; // some source\n"
            .iter()
            .copied()
            .cycle()
            .take(3 * PIECE + 7)
            .collect();
        let mut x = 7u32;
        let noise: Vec<u8> = (0..3 * PIECE + 7)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        for (data, compression) in [
            (&text, Compression::DEFAULT),
            (&text, Compression::Off),
            (&noise, Compression::Zstd(19)),
        ] {
            let (h, block) = sealed(data, compression);
            store.put(PLAIN, &h, &block).await.unwrap();
            let on_disk = std::fs::metadata(dir.path().join("blocks").join(&to_hex(&h)[..2]).join(to_hex(&h)))
                .unwrap()
                .len();
            assert_eq!(on_disk, block.stored_len());
            if compression == Compression::DEFAULT {
                assert!(on_disk < data.len() as u64 / 4, "{on_disk}");
            } else {
                assert!(on_disk <= data.len() as u64 + 24 + 16, "{on_disk}");
            }
            let fresh = BlockStore::local(dir.path()).unwrap();
            assert_eq!(fresh.get(PLAIN, &h).await.unwrap(), &data[..]);
            let (pieces, bytes) = fresh.get_pieces(PLAIN, &h, 1, 4).await.unwrap();
            assert_eq!((pieces.0, &bytes[..]), (data.len(), &data[PIECE..]));
            store.delete(&h).await.unwrap();
        }
        // Stored before envelopes: the plain bytes, and their piece values beside them.
        let (h, _) = sealed(&text, Compression::Off);
        let hex = to_hex(&h);
        std::fs::create_dir_all(dir.path().join("blocks").join(&hex[..2])).unwrap();
        std::fs::write(dir.path().join("blocks").join(&hex[..2]).join(&hex), &text).unwrap();
        let fresh = BlockStore::local(dir.path()).unwrap();
        assert_eq!(fresh.get(PLAIN, &h).await.unwrap(), &text[..]);
        assert_eq!(
            &fresh.get_pieces(PLAIN, &h, 0, 2).await.unwrap().1[..],
            &text[..2 * PIECE]
        );
        // Damaged frames are refused, never given out.
        let (h, block) = sealed(&text, Compression::DEFAULT);
        store.put(PLAIN, &h, &block).await.unwrap();
        let path = dir.path().join("blocks").join(&to_hex(&h)[..2]).join(to_hex(&h));
        let mut object = std::fs::read(&path).unwrap();
        let last = object.len() - 3;
        object[last] ^= 0x55;
        std::fs::write(&path, object).unwrap();
        let fresh = BlockStore::local(dir.path()).unwrap();
        assert!(matches!(fresh.get(PLAIN, &h).await, Err(BlockError::Damaged(_))));
    }

    /// A block stored anew in another form by another server (deleted, then written with
    /// another setting) reads right through a layout kept from before: the pieces read
    /// through it do not match their values, so the header is read again.
    #[tokio::test]
    async fn a_layout_kept_from_an_older_form_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let (reader, other) = (
            BlockStore::local(dir.path()).unwrap(),
            BlockStore::local(dir.path()).unwrap(),
        );
        // Random bytes: kept as they are in an envelope, so the old layout reads within it.
        let mut x = 11u32;
        let data: Vec<u8> = (0..3 * PIECE)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let (h, values) = pieces::hash_block(&data);
        let h = *h.as_bytes();
        // Stored as it is, before envelopes; read in pieces, so its layout is kept.
        let hex = to_hex(&h);
        std::fs::create_dir_all(dir.path().join("blocks").join(&hex[..2])).unwrap();
        std::fs::write(dir.path().join("blocks").join(&hex[..2]).join(&hex), &data).unwrap();
        assert_eq!(
            &reader.get_pieces(PLAIN, &h, 1, 2).await.unwrap().1[..],
            &data[PIECE..2 * PIECE]
        );
        other.delete(&h).await.unwrap();
        let block = Sealed::new(&h, &data, &values, Compression::DEFAULT, PLAIN);
        other.put(PLAIN, &h, &block).await.unwrap();
        assert_eq!(&reader.get_pieces(PLAIN, &h, 1, 3).await.unwrap().1[..], &data[PIECE..]);
        // And once more, compressed otherwise.
        other.delete(&h).await.unwrap();
        let block = Sealed::new(&h, &data, &values, Compression::Off, PLAIN);
        other.put(PLAIN, &h, &block).await.unwrap();
        assert_eq!(
            &reader.get_pieces(PLAIN, &h, 2, 3).await.unwrap().1[..],
            &data[2 * PIECE..]
        );
    }

    fn org(name: &str, current: u32) -> Domain {
        let data = (1..=current).map(|id| (id, keys::random_key())).collect();
        Domain::Org(Arc::new(OrgKeys {
            org: name.into(),
            naming: keys::random_key(),
            current,
            data,
        }))
    }

    /// An organization's blocks are kept under names keyed by it, with no byte of them or of
    /// their piece values in clear; they read back whole and in pieces with its keys, after
    /// a rewrite with a newer key too, and never without them. A block it stored before it
    /// encrypted is read under its hash.
    #[tokio::test]
    async fn an_organizations_blocks_are_encrypted_under_names_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::local(dir.path()).unwrap();
        let data: Vec<u8> = b"MARKER-in-clear "
            .iter()
            .copied()
            .cycle()
            .take(3 * PIECE + 9)
            .collect();
        let (hash, values) = pieces::hash_block(&data);
        let hash = *hash.as_bytes();
        let (acme, other) = (org("acme", 1), org("other", 1));
        for domain in [&acme, &other] {
            let block = Sealed::new(&hash, &data, &values, Compression::DEFAULT, domain);
            store.put(domain, &hash, &block).await.unwrap();
        }
        let names = store.list().await.unwrap();
        assert_eq!(names.len(), 2);
        assert!(!names.contains(&hash), "not under its hash");
        assert!(names.contains(&acme.name(&hash)) && names.contains(&other.name(&hash)));
        let mut files = vec![dir.path().to_path_buf()];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(6).any(|w| w == b"MARKER"),
                    "{} holds clear bytes",
                    path.display()
                );
                assert!(
                    !bytes.windows(32).any(|w| w == values[0]),
                    "{} holds a piece value",
                    path.display()
                );
            }
        }
        let fresh = BlockStore::local(dir.path()).unwrap();
        assert_eq!(fresh.get(&acme, &hash).await.unwrap(), data);
        assert_eq!(*fresh.pieces(&acme, &hash).await.unwrap(), (data.len(), values.clone()));
        assert_eq!(
            &fresh.get_pieces(&acme, &hash, 1, 3).await.unwrap().1[..],
            &data[PIECE..3 * PIECE]
        );
        assert_eq!(fresh.get_keyed(&acme, &hash).await.unwrap().1, Some(1));
        // Without its keys (another organization's, or a plain read): never the bytes.
        let stranger = org("acme", 1);
        assert!(fresh.get(&stranger, &hash).await.is_err());
        assert!(fresh.get(PLAIN, &hash).await.is_err());
        // A newer data key: the block rewritten with it reads on, even through a layout
        // read before the rewrite; the old key alone no longer opens it.
        let Domain::Org(keys) = &acme else { unreachable!() };
        let mut newer = (**keys).clone();
        newer.current = 2;
        newer.data.insert(2, keys::random_key());
        let newer = Domain::Org(Arc::new(newer));
        let block = Sealed::new(&hash, &data, &values, Compression::DEFAULT, &newer);
        store.rewrite(&newer, &hash, &block).await.unwrap();
        assert_eq!(fresh.get_keyed(&newer, &hash).await.unwrap().1, Some(2));
        assert_eq!(
            &fresh.get_pieces(&newer, &hash, 0, 1).await.unwrap().1[..],
            &data[..PIECE]
        );
        let err = BlockStore::local(dir.path())
            .unwrap()
            .get(&acme, &hash)
            .await
            .unwrap_err();
        assert!(matches!(&err, BlockError::Locked { key: 2, .. }), "{err}");
        assert!(err.to_string().contains("data key 2"), "{err}");
        // Stored plain before the organization encrypted: found under its hash.
        let (old, block) = sealed(b"written before encryption", Compression::DEFAULT);
        store.put(PLAIN, &old, &block).await.unwrap();
        assert_eq!(&store.get(&acme, &old).await.unwrap()[..], b"written before encryption");
    }

    #[tokio::test]
    async fn piece_values_are_kept_beside_their_block_and_go_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::local(dir.path()).unwrap();
        let data = Bytes::from((0..3 * pieces::PIECE + 5).map(|i| i as u8).collect::<Vec<u8>>());
        let (h, values) = pieces::hash_block(&data);
        let h = *h.as_bytes();
        store
            .put(PLAIN, &h, &Sealed::new(&h, &data, &values, Compression::DEFAULT, PLAIN))
            .await
            .unwrap();
        let sidecar = dir.path().join("pieces").join(&to_hex(&h)[..2]).join(to_hex(&h));
        assert!(sidecar.is_file());
        assert_eq!(*store.pieces(PLAIN, &h).await.unwrap(), (data.len(), values.clone()));
        store.delete(&h).await.unwrap();
        assert!(!sidecar.exists());
        assert!(store.list().await.unwrap().is_empty());

        // Stored without them (by an older server): worked out from the block.
        let fresh = BlockStore::local(dir.path()).unwrap();
        fresh
            .put(PLAIN, &h, &Sealed::new(&h, &data, &[], Compression::DEFAULT, PLAIN))
            .await
            .unwrap();
        assert_eq!(*fresh.pieces(PLAIN, &h).await.unwrap(), (data.len(), values.clone()));
        assert!(!sidecar.exists(), "not written back");

        // Damaged ones beside the block are not believed.
        std::fs::create_dir_all(sidecar.parent().unwrap()).unwrap();
        let mut wrong = pieces::encode_head(data.len(), &values);
        wrong[8] ^= 1;
        std::fs::write(&sidecar, wrong).unwrap();
        let reopened = BlockStore::local(dir.path()).unwrap();
        assert_eq!(*reopened.pieces(PLAIN, &h).await.unwrap(), (data.len(), values));

        // A block whose bytes do not match its name is refused, not described.
        let other = *pieces::hash_block(b"other bytes").0.as_bytes();
        let lying = BlockStore::local(dir.path()).unwrap();
        lying
            .put(
                PLAIN,
                &other,
                &Sealed::new(&other, &data, &[], Compression::DEFAULT, PLAIN),
            )
            .await
            .unwrap();
        assert!(matches!(lying.pieces(PLAIN, &other).await, Err(BlockError::Damaged(_))));
    }
}
