//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;
use strata_blocks::BlockStore;
use strata_core::Result;
use strata_meta::MetaStore;

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
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub volumes_per_org: u64,
    /// How long a stored block is safe from collection before anything references it.
    pub gc_grace: Duration,
    /// How long a mount session's record locks count without a renewal.
    pub session_lease: Duration,
}

impl AppState {
    /// Runs a metadata call (the engine blocks on its database).
    pub async fn meta<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn MetaStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        // On this thread, which hands its other tasks to another worker meanwhile: a metadata
        // call is short, and a hop to the blocking pool and back cost more than the call.
        tokio::task::block_in_place(|| f(&*self.meta))
    }
}
