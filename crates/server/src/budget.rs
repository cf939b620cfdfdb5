//! How many bytes of uploaded blocks the server holds in memory at once, over every request:
//! a block being received or stored holds its share until it is stored, so clients that
//! stall in the middle of their uploads cannot make the server hold more than this.

use std::sync::Arc;
use std::time::Duration;
use strata_core::{BLOCK_SIZE, Error, ErrorKind, Result};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The unit the budget counts in.
const UNIT: u64 = 64 << 10;

#[derive(Clone)]
pub struct UploadBudget {
    units: Arc<Semaphore>,
    /// All the units there are.
    total: usize,
    /// How long an upload waits for room before it is refused.
    wait: Duration,
}

impl UploadBudget {
    /// Room for `bytes` (at least one block).
    pub fn new(bytes: u64, wait: Duration) -> Self {
        let units = (bytes.max(BLOCK_SIZE) / UNIT).min(Semaphore::MAX_PERMITS as u64) as usize;
        UploadBudget {
            units: Arc::new(Semaphore::new(units)),
            total: units,
            wait,
        }
    }

    /// Bytes held by uploads now.
    pub fn held(&self) -> u64 {
        (self.total - self.units.available_permits()) as u64 * UNIT
    }

    /// Room for one block, held until the permit is dropped; 503 when there is none soon.
    pub async fn block(&self) -> Result<OwnedSemaphorePermit> {
        let units = (BLOCK_SIZE / UNIT) as u32;
        match tokio::time::timeout(self.wait, self.units.clone().acquire_many_owned(units)).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Error::new(
                ErrorKind::Unavailable,
                "the server holds as many uploads in memory as it may: try again shortly",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn room_runs_out_and_comes_back() {
        let budget = UploadBudget::new(2 * BLOCK_SIZE, Duration::from_secs(1));
        let (a, _b) = (budget.block().await.unwrap(), budget.block().await.unwrap());
        assert_eq!(budget.held(), 2 * BLOCK_SIZE);
        let refused = budget.block().await.unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Unavailable);
        drop(a);
        let _c = budget.block().await.unwrap();
        // Less than a block is a block.
        let _d = UploadBudget::new(1, Duration::from_secs(1)).block().await.unwrap();
    }
}
