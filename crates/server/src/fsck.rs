//! `strata fsck`: the trees checked against the block registry and the store itself, and,
//! asked to, every stored block read back (decoded and checked against its name).

use crate::state::AppState;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use strata_blocks::{BlockError, Domain};
use strata_core::Result;
use strata_core::api::{FsckProblem, FsckReport};

/// How many blocks are read at once when every block is checked.
const READS_IN_FLIGHT: usize = 8;

/// Lists the store, finds registered blocks it lacks, then checks every tree. An upload that
/// completes after the listing touches its block after `since`, so it is never taken for
/// missing. With `read_blocks`, reads every registered block the store holds and reports each
/// one that does not decode to its name (`damaged_block`); those are reported, never
/// repaired: a block read with the wrong key looks damaged too.
pub async fn check(state: &AppState, repair: bool, read_blocks: bool) -> Result<FsckReport> {
    let since = strata_meta::now_ns();
    let stored = state.blocks.list().await?;
    let registered = state.meta(|m| m.stored_blocks()).await?;
    let copies = {
        let registered = registered.clone();
        state.meta(move |m| m.block_copies(&registered)).await?
    };
    // Every stored form of each registered block: under its hash, or an organization's name.
    let mut problems = Vec::new();
    let mut domains: HashMap<String, Option<Domain>> = HashMap::new();
    let (mut present, mut missing) = (Vec::new(), HashSet::new());
    for hash in registered {
        let mut forms = Vec::new();
        if stored.contains(&hash) {
            forms.push(Domain::Plain);
        }
        for org in copies.get(&hash).into_iter().flatten() {
            if !domains.contains_key(org) {
                // Read now, not as kept: an organization that began to encrypt a moment ago
                // on another server has blocks under its names already.
                let domain = match state.vault.load(&state.meta, org).await {
                    Ok(domain) => Some(domain),
                    Err(e) => {
                        problems.push(problem("unreadable_org", org, e.message));
                        None
                    }
                };
                domains.insert(org.clone(), domain);
            }
            match &domains[org] {
                Some(domain) if stored.contains(&domain.name(&hash)) => forms.push(domain.clone()),
                Some(_) => {}
                // Cannot be told: not taken for missing.
                None => forms.push(Domain::Plain),
            }
        }
        if forms.is_empty() {
            missing.insert(hash);
        }
        present.extend(forms.into_iter().map(|d| (hash, d)));
    }
    let mut report = state.meta(move |m| m.fsck(&missing, since, repair)).await?;
    report.problems.extend(problems);
    if read_blocks {
        let reads = futures::stream::iter(present)
            .map(|(hash, domain)| async move { (hash, state.blocks.get(&domain, &hash).await) })
            .buffer_unordered(READS_IN_FLIGHT);
        futures::pin_mut!(reads);
        while let Some((hash, read)) = reads.next().await {
            let block = strata_blocks::to_hex(&hash);
            match read {
                Ok(_) => report.blocks_read += 1,
                // Deleted by a collection pass since the listing.
                Err(BlockError::Missing(_)) => {}
                Err(e @ (BlockError::Damaged(_) | BlockError::Locked { .. })) => {
                    report
                        .problems
                        .push(problem("damaged_block", "-", format!("block {block}: {e}")))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(report)
}

fn problem(kind: &str, volume: &str, detail: String) -> FsckProblem {
    FsckProblem {
        kind: kind.into(),
        volume: volume.into(),
        detail,
    }
}
