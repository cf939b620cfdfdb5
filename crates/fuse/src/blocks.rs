//! Blocks as a mount sees them: through the local cache, checked against their hash.

use crate::cache::BlockCache;
use bytes::Bytes;
use std::sync::Arc;
use strata_client::SessionClient;
use strata_core::{Error, ErrorKind, Result};

#[derive(Clone)]
pub struct Blocks {
    session: SessionClient,
    cache: Arc<BlockCache>,
}

impl Blocks {
    pub fn new(session: SessionClient, cache: Arc<BlockCache>) -> Self {
        Blocks { session, cache }
    }

    pub fn session(&self) -> &SessionClient {
        &self.session
    }

    pub async fn fetch(&self, hash: &str) -> Result<Bytes> {
        if let Some(bytes) = self.cache.get(hash).await {
            return Ok(bytes);
        }
        let bytes = self.session.get_block(hash).await?;
        if blake3::hash(&bytes).to_hex().as_str() != hash {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("block {hash} arrived corrupted"),
            ));
        }
        self.cache.put(hash, &bytes).await;
        Ok(bytes)
    }

    /// Uploads a block; returns its hash.
    pub async fn upload(&self, data: Bytes) -> Result<String> {
        let hash = blake3::hash(&data).to_hex().to_string();
        self.session.put_block(&hash, data.clone()).await?;
        self.cache.put(&hash, &data).await;
        Ok(hash)
    }
}
