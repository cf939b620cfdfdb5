//! Packs: the bytes of the small files of one batch, stored as one object.
//!
//! A mount that owns its tree ships the files it closed in batches, small ones inline. Kept
//! inline, their bytes would fill the metadata database (a `node_modules` of ten million
//! files in PostgreSQL); stored as an object each, they would cost a store request each. So
//! the server puts a batch's small files into one object, named by its hash like any block,
//! and each file's chunk names its slice. Only the server reads packs: a client is given the
//! slice inline, as before, and can never name a pack in a write.

use crate::files::Storing;
use crate::state::AppState;
use crate::vault::Vault;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use strata_blocks::{BlockStore, Sealed};
use strata_core::{BLOCK_SIZE, Error, Result};
use strata_meta::{BlockHash, Change, Chunk, ChunkData, MetaStore, PackReader};

/// Packs read or written lately, kept whole: files written together are read together.
const RECENT_BYTES: usize = 64 << 20;

pub struct Packs {
    /// Inline chunks shorter than this stay in the metadata: their reference would cost
    /// about as much as their bytes.
    from: u64,
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    packs: HashMap<BlockHash, Bytes>,
    order: VecDeque<BlockHash>,
    bytes: usize,
}

impl Recent {
    fn keep(&mut self, hash: BlockHash, bytes: Bytes) {
        if bytes.len() > RECENT_BYTES || self.packs.contains_key(&hash) {
            return;
        }
        self.bytes += bytes.len();
        self.packs.insert(hash, bytes);
        self.order.push_back(hash);
        while self.bytes > RECENT_BYTES {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(gone) = self.packs.remove(&old) {
                self.bytes -= gone.len();
            }
        }
    }
}

/// A pack made of a batch's small files, to store before the batch applies.
pub struct NewPack {
    hash: BlockHash,
    bytes: Bytes,
    sealed: Sealed,
}

impl Packs {
    /// Packs the inline chunks of `from` bytes or more; `from` over 64 KiB packs none.
    pub fn new(from: u64) -> Packs {
        Packs {
            from: from.max(1),
            recent: Mutex::default(),
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the small inline chunks that `changes` write into one pack (up to a block's
    /// size; the rest stay inline), and names its slices in their place.
    pub fn gather(&self, changes: &mut [Change], how: &Storing) -> Option<NewPack> {
        let mut bytes = Vec::new();
        let mut packed: Vec<&mut Chunk> = Vec::new();
        for change in changes.iter_mut() {
            let Change::Write { write, .. } = change else { continue };
            for chunk in &mut write.chunks {
                let Some(data) = chunk.small_bytes(None) else { continue };
                let len = data.len() as u64;
                if len < self.from || len < chunk.len || bytes.len() as u64 + len > BLOCK_SIZE {
                    continue;
                }
                bytes.extend_from_slice(data);
                packed.push(chunk);
            }
        }
        if packed.is_empty() {
            return None;
        }
        let bytes = Bytes::from(bytes);
        let hash = *strata_core::pieces::hash_block(&bytes).0.as_bytes();
        let mut off = 0;
        for chunk in packed {
            let sum = chunk.small_bytes(None).map(|b| *blake3::hash(b).as_bytes());
            chunk.data = ChunkData::Packed { pack: hash, off, sum };
            off += chunk.len;
        }
        // Without piece values: a pack is read whole, never in pieces.
        let sealed = Sealed::new(&hash, &bytes, &[], how.compression, &how.domain);
        Some(NewPack { hash, bytes, sealed })
    }

    /// `changes` with their small files packed, the pack stored: registered first, as every
    /// block is, so that collection leaves it alone until the batch names it (within the
    /// grace period), but not as the session's upload: no session is given a pack. Without
    /// piece values: a pack is read whole, never in pieces (one store request less).
    pub async fn pack(self: &Arc<Self>, state: &AppState, changes: Vec<Change>, how: Storing) -> Result<Vec<Change>> {
        let packs = self.clone();
        let domain = how.domain.clone();
        let (changes, pack) = tokio::task::spawn_blocking(move || {
            let mut changes = changes;
            let pack = packs.gather(&mut changes, &how);
            (changes, pack)
        })
        .await
        .map_err(|e| Error::internal(format!("packing a batch: {e}")))?;
        let Some(NewPack { hash, bytes, sealed }) = pack else {
            return Ok(changes);
        };
        let (len, stored) = (bytes.len() as u64, sealed.stored_len());
        let copy = domain.org().map(str::to_owned);
        state
            .meta(move |m| m.touch_block(&hash, len, stored, copy.as_deref()))
            .await?;
        state.blocks.put(&domain, &hash, &sealed).await?;
        state.metrics.packs_stored.inc();
        state.metrics.stored(len, stored);
        self.recent().keep(domain.name(&hash), bytes);
        Ok(changes)
    }

    /// A pack of organization `org`, from those kept (by store name: an organization's are
    /// its own) or from the store.
    pub async fn read(&self, from: Reading<'_>, org: &str, hash: &BlockHash) -> Result<Bytes> {
        let name = from.vault.domain(from.meta, org).await?.name(hash);
        if let Some(bytes) = self.recent().packs.get(&name) {
            return Ok(bytes.clone());
        }
        let read = |domain| async move { from.blocks.get(&domain, hash).await };
        let bytes = from.vault.reading(from.meta, org, read).await??;
        self.recent().keep(name, bytes.clone());
        Ok(bytes)
    }

    /// `chunks` with every packed one made inline, as clients take them.
    pub async fn inline(&self, state: &AppState, org: &str, mut chunks: Vec<Chunk>) -> Result<Vec<Chunk>> {
        let from = Reading {
            blocks: &state.blocks,
            vault: &state.vault,
            meta: &state.meta,
        };
        for chunk in &mut chunks {
            let ChunkData::Packed { pack, .. } = chunk.data else {
                continue;
            };
            let bytes = self.read(from, org, &pack).await?;
            let data = chunk
                .small_bytes(Some(&bytes))
                .ok_or_else(|| Error::internal("a pack is shorter than a chunk naming it"))?
                .to_vec();
            chunk.data = ChunkData::Inline(data);
        }
        Ok(chunks)
    }
}

/// What packs are read from: the store, with the keys of the organizations that encrypt.
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    pub blocks: &'a BlockStore,
    pub vault: &'a Vault,
    pub meta: &'a Arc<dyn MetaStore>,
}

/// The metadata engine's way to packs: it runs on the runtime's blocking threads
/// ([`AppState::meta`]), so it waits for the store there. It holds the metadata weakly: the
/// metadata holds it.
pub struct EngineReader {
    pub packs: Arc<Packs>,
    pub blocks: BlockStore,
    pub vault: Vault,
    pub meta: std::sync::Weak<dyn MetaStore>,
}

impl PackReader for EngineReader {
    fn read(&self, org: &str, pack: &BlockHash) -> Result<Bytes> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::internal("packs are read on the server's runtime"))?;
        let meta = self
            .meta
            .upgrade()
            .ok_or_else(|| Error::internal("the metadata is closed"))?;
        let from = Reading {
            blocks: &self.blocks,
            vault: &self.vault,
            meta: &meta,
        };
        runtime.block_on(self.packs.read(from, org, pack))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_meta::WriteChange;

    fn plain() -> Storing {
        Storing {
            compression: strata_blocks::Compression::DEFAULT,
            domain: strata_blocks::Domain::Plain,
        }
    }

    fn write(ino: u64, data: &[u8]) -> Change {
        Change::Write {
            ino,
            write: WriteChange {
                chunks: vec![Chunk {
                    idx: 0,
                    len: data.len() as u64,
                    data: ChunkData::Inline(data.to_vec()),
                }],
                size: data.len() as u64,
                ..WriteChange::default()
            },
        }
    }

    fn chunk(change: &Change) -> &Chunk {
        match change {
            Change::Write { write, .. } => &write.chunks[0],
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_batch_of_small_files_becomes_one_pack_and_its_slices() {
        let packs = Packs::new(512);
        let (a, b, tiny) = (vec![1u8; 600], vec![2u8; 4096], vec![3u8; 100]);
        let mut changes = vec![write(2, &a), write(3, &tiny), write(4, &b)];
        let pack = packs.gather(&mut changes, &plain()).expect("two chunks are packed");
        assert_eq!(pack.bytes.len(), a.len() + b.len());
        assert_eq!(chunk(&changes[0]).small_bytes(Some(&pack.bytes)), Some(&a[..]));
        assert_eq!(chunk(&changes[2]).small_bytes(Some(&pack.bytes)), Some(&b[..]));
        assert_eq!(
            chunk(&changes[1]).data,
            ChunkData::Inline(tiny),
            "a tiny file stays inline"
        );
        assert_eq!(pack.hash, *strata_core::pieces::hash_block(&pack.bytes).0.as_bytes());
    }

    #[test]
    fn nothing_to_pack_makes_no_pack() {
        let packs = Packs::new(65 * 1024);
        let mut changes = vec![write(2, &[5u8; 60_000])];
        assert!(packs.gather(&mut changes, &plain()).is_none());
        assert!(matches!(chunk(&changes[0]).data, ChunkData::Inline(_)));
    }

    #[test]
    fn recent_packs_stay_within_their_bound() {
        let mut recent = Recent::default();
        for n in 0..20u8 {
            recent.keep([n; 32], Bytes::from(vec![n; 4 << 20]));
        }
        assert!(recent.bytes <= RECENT_BYTES);
        assert!(!recent.packs.contains_key(&[0; 32]), "the oldest went first");
        assert!(recent.packs.contains_key(&[19; 32]));
    }
}
