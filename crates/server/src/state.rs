//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;
use strata_blocks::{BlockStore, Compression};
use strata_core::names::VolumeRef;
use strata_core::{Error, Result};
use strata_meta::MetaStore;
use uuid::Uuid;

#[derive(Clone)]
pub struct AppState {
    pub meta: Arc<dyn MetaStore>,
    pub blocks: BlockStore,
    pub limits: Limits,
    pub sessions: crate::sessions::SessionCache,
    pub keys: crate::auth::KeyCache,
    /// One garbage collection pass at a time.
    pub gc_lock: Arc<tokio::sync::Mutex<()>>,
    pub metrics: crate::metrics::Metrics,
    pub sandboxes: crate::sandboxes::Sandboxes,
    /// Room for uploaded blocks in memory, over every request.
    pub uploads: crate::budget::UploadBudget,
    /// Wakes the calls of this server that wait on an ownership: a recall raised, an
    /// ownership given back (another server's are seen by polling).
    pub ownership_changed: Arc<tokio::sync::Notify>,
    /// Where batches' small files go, and the packs read lately.
    pub packs: Arc<crate::packs::Packs>,
    /// How the blocks of volumes that do not say are compressed.
    pub compression: Compression,
    /// The keys of the organizations that encrypt.
    pub vault: crate::vault::Vault,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub volumes_per_org: u64,
    pub sandboxes_per_org: u64,
    pub snapshots_per_volume: u64,
    /// Live mount sessions of one organization.
    pub sessions_per_org: u64,
    /// Live keys and tokens of one organization.
    pub keys_per_org: u64,
    /// How long a stored block is safe from collection before anything references it.
    pub gc_grace: Duration,
    /// How long a mount session's record locks count without a renewal.
    pub session_lease: Duration,
}

impl AppState {
    /// Runs a metadata call off the async workers (the engine blocks on its database).
    pub async fn meta<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn MetaStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        on_meta(&self.meta, f).await
    }

    /// Whose blocks an organization's are: plain, or its own, encrypted.
    pub async fn domain(&self, org: &str) -> Result<strata_blocks::Domain> {
        self.vault.domain(&self.meta, org).await
    }

    /// A whole block of organization `org`, with its keys read again if it names a data key
    /// not seen yet.
    pub async fn read_block(&self, org: &str, hash: &strata_meta::BlockHash) -> Result<bytes::Bytes> {
        let blocks = &self.blocks;
        let read = |domain| async move { blocks.get(&domain, hash).await };
        Ok(self.vault.reading(&self.meta, org, read).await??)
    }

    /// How the blocks a volume stores now are compressed: as it says, else as the server does.
    pub async fn compression_of(&self, org: &str, vol: Uuid) -> Result<Compression> {
        let org = org.to_owned();
        let volume = self.meta(move |m| m.get_volume(&org, &VolumeRef::Id(vol))).await?;
        let own = volume.compression.as_deref().and_then(|c| Compression::parse(c).ok());
        Ok(own.unwrap_or(self.compression))
    }
}

/// Runs a metadata call off the async workers, on `meta` (for what holds the metadata but
/// not the whole state, as the vault does).
pub async fn on_meta<T: Send + 'static>(
    meta: &Arc<dyn MetaStore>,
    f: impl FnOnce(&dyn MetaStore) -> Result<T> + Send + 'static,
) -> Result<T> {
    let meta = meta.clone();
    tokio::task::spawn_blocking(move || f(&*meta))
        .await
        .map_err(|e| Error::internal(format!("metadata task failed: {e}")))?
}
