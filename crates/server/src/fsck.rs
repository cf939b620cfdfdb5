//! `strata fsck`: the trees checked against the block registry and the store itself.

use crate::state::AppState;
use std::collections::HashSet;
use strata_core::Result;
use strata_core::api::FsckReport;

/// Lists the store, finds registered blocks it lacks, then checks every tree. An upload that
/// completes after the listing touches its block after `since`, so it is never taken for missing.
pub async fn check(state: &AppState, repair: bool) -> Result<FsckReport> {
    let since = strata_meta::now_ns();
    let stored = state.blocks.list().await?;
    let registered = state.meta(|m| m.stored_blocks()).await?;
    let missing: HashSet<_> = registered.into_iter().filter(|h| !stored.contains(h)).collect();
    state.meta(move |m| m.fsck(&missing, since, repair)).await
}
