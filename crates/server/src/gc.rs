//! Garbage collection: unreachable layers first, then the blocks nothing references.

use crate::state::AppState;
use std::time::Duration;
use strata_core::Result;
use strata_core::api::GcReport;
use strata_meta::{Cutoffs, now_ns};

/// What a pass would delete now, deleting nothing.
pub async fn dry_run(state: &AppState, grace: Duration) -> Result<GcReport> {
    let cutoffs = cutoffs(grace);
    let (layers, blocks) = state.meta(move |m| m.collectable(cutoffs)).await?;
    Ok(GcReport {
        layers_deleted: layers,
        blocks_deleted: blocks.len() as u64,
        bytes_deleted: blocks.iter().map(|(_, size)| size).sum(),
        dry_run: true,
    })
}

fn cutoff(grace: Duration) -> i64 {
    now_ns() - i64::try_from(grace.as_nanos()).unwrap_or(i64::MAX)
}

/// A mount cut off from every server for this long has its session removed: its next call
/// fails, and it must mount again.
const SESSION_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// Blocks nothing names go once untouched for `grace`; those a mount session uploaded and has
/// not named yet (a file open there a long time) are kept as long as a session is.
fn cutoffs(grace: Duration) -> Cutoffs {
    Cutoffs {
        touched: cutoff(grace),
        uploaded: cutoff(grace.max(SESSION_EXPIRY)),
    }
}

/// One full pass. Blocks touched within `grace` are kept (uploads in flight).
pub async fn collect(state: &AppState, grace: Duration) -> Result<GcReport> {
    let _one_at_a_time = state.gc_lock.lock().await;
    let expired = cutoff(SESSION_EXPIRY);
    state.meta(move |m| m.expire_sessions(expired)).await?;
    let layers_deleted = state.meta(|m| m.collect_layers()).await?;
    let cutoffs = cutoffs(grace);
    let pass = uuid::Uuid::new_v4();
    let marked = state.meta(move |m| m.mark_unreferenced_blocks(cutoffs, pass)).await?;
    let mut report = GcReport {
        layers_deleted,
        ..GcReport::default()
    };
    let mut deleted = Vec::with_capacity(marked.len());
    let hashes: Vec<_> = marked.iter().map(|(hash, _)| *hash).collect();
    let copies = state.meta(move |m| m.block_copies(&hashes)).await?;
    for (hash, size) in marked {
        match delete_every_form(state, &hash, copies.get(&hash)).await {
            Ok(()) => {
                deleted.push(hash);
                report.blocks_deleted += 1;
                report.bytes_deleted += size;
            }
            // Left marked: the next pass tries again.
            Err(e) => {
                tracing::warn!(block = %strata_blocks::to_hex(&hash), "cannot delete block: {e}")
            }
        }
    }
    state.meta(move |m| m.forget_blocks(&deleted, pass)).await?;
    state.metrics.gc_runs.inc();
    state.metrics.gc_blocks_reclaimed.inc_by(report.blocks_deleted);
    state.metrics.gc_bytes_reclaimed.inc_by(report.bytes_deleted);
    Ok(report)
}

/// Deletes a block under its hash and under the names of the organizations that keep a
/// copy of it.
async fn delete_every_form(
    state: &AppState,
    hash: &strata_meta::BlockHash,
    copies: Option<&Vec<String>>,
) -> Result<()> {
    for org in copies.into_iter().flatten() {
        // Read now, not as kept: a copy is under the organization's names.
        let strata_blocks::Domain::Org(keys) = state.vault.load(&state.meta, org).await? else {
            return Err(strata_core::Error::internal(format!(
                "organization {org} keeps a copy but has no keys"
            )));
        };
        state.blocks.delete(&keys.store_name(hash)).await?;
    }
    Ok(state.blocks.delete(hash).await?)
}

/// Runs a pass every `interval` until the process ends.
pub fn spawn_background(state: AppState, interval: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match collect(&state, state.limits.gc_grace).await {
                Ok(report) if report.blocks_deleted > 0 || report.layers_deleted > 0 => {
                    tracing::info!(?report, "garbage collected")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("garbage collection failed: {e}"),
            }
        }
    });
}
