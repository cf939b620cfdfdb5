//! Ownership of a volume's tree by one mount session (write-back): granted while no one else
//! uses the volume, recalled as soon as someone does.
//!
//! The owner makes changes locally and ships them in [`Batch`]es, applied in order, each in
//! one transaction and checked as single calls are. Anyone else who is about to read or
//! change the volume (another session opening, the files API, a fork, a snapshot, a diff)
//! first calls [`recall`]: the owner, told through its waiting [`await_recall`], ships what
//! it has and gives the ownership back, and the caller goes on with everything the owner had
//! closed. An owner that does not answer within a lease loses the ownership; a batch it sends
//! later is refused.

use super::Session;
use super::service::SessionService;
use crate::state::AppState;
use std::time::Duration;
use strata_core::api::{AwaitRecall, Batch, Grant, NodeRef, Ownership};
use strata_core::{Error, Result};
use strata_meta::now_ns;
use tokio::time::Instant;
use uuid::Uuid;

/// Inode numbers granted at a time.
pub const GRANT_INODES: u64 = 8192;
/// The longest a recall is waited for in one call.
const MAX_WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks at the metadata for what another server changed.
const POLL: Duration = Duration::from_millis(100);
/// How long an owner may take between two waits for a recall before it counts as deaf.
const BETWEEN_WAITS: Duration = Duration::from_secs(2);

/// Grants the session its tree, with inode numbers to create with, if nobody else uses it.
pub async fn own(state: &AppState, session: &Session) -> Result<Grant> {
    let id = session.0.id;
    let first = state.meta(move |m| m.own(id, GRANT_INODES, now_ns())).await?;
    if first.is_some() {
        // Heard from just now: it starts waiting for recalls right after.
        let until = now_ns() + BETWEEN_WAITS.as_nanos() as i64;
        state.meta(move |m| m.listening(id, until)).await?;
    }
    let inodes = first.map_or_else(Vec::new, |first| {
        (first..first + GRANT_INODES)
            .map(|ino| NodeRef {
                ino,
                cap: session.cap(ino),
            })
            .collect()
    });
    Ok(Grant { inodes })
}

pub async fn disown(state: &AppState, session: &Session) -> Result<()> {
    let id = session.0.id;
    state.meta(move |m| m.disown(id)).await?;
    state.ownership_changed.notify_waiters();
    Ok(())
}

/// Answers once the session's ownership is recalled or gone, or after `wait_ms`. While it
/// waits, the session is known to listen; a wait that ends without an answer (the mount's
/// connection closed: it died) says at once that it listens no more.
pub async fn await_recall(state: &AppState, session: &Session, r: AwaitRecall) -> Result<Ownership> {
    let wait = Duration::from_millis(r.wait_ms).min(MAX_WAIT);
    let (deadline, id) = (Instant::now() + wait, session.0.id);
    let until = now_ns() + (wait + BETWEEN_WAITS).as_nanos() as i64;
    state.meta(move |m| m.listening(id, until)).await?;
    let mut gone = Deaf(Some((state.clone(), id)));
    let answer = loop {
        let changed = state.ownership_changed.notified();
        let (owner, recalled) = state
            .meta(move |m| m.ownership(id))
            .await?
            .ok_or_else(|| Error::not_found("no such mount session"))?;
        if !owner || recalled || Instant::now() >= deadline {
            break Ownership { owner, recalled };
        }
        let _ = tokio::time::timeout_at(deadline.min(Instant::now() + POLL), changed).await;
    };
    gone.0 = None;
    Ok(answer)
}

/// Says a session listens no more when its wait is dropped unanswered.
struct Deaf(Option<(AppState, Uuid)>);

impl Drop for Deaf {
    fn drop(&mut self) {
        if let Some((state, id)) = self.0.take() {
            tokio::spawn(async move {
                let _ = state.meta(move |m| m.listening(id, now_ns())).await;
                state.ownership_changed.notify_waiters();
            });
        }
    }
}

/// Applies a batch of the session's changes, if it still owns its tree.
pub async fn apply(service: &SessionService, state: &AppState, session: &Session, batch: Batch) -> Result<()> {
    let (durable, seq) = (batch.durable, batch.seq);
    if seq == 0 {
        return Err(Error::invalid("seq", "a session's batches are numbered from 1"));
    }
    let changes = batch
        .requests()?
        .into_iter()
        .map(|r| service.change(r))
        .collect::<Result<Vec<_>>>()?;
    let how = crate::files::Storing {
        compression: state.compression_of(&session.0.org, session.volume()).await?,
        domain: state.domain(&session.0.org).await?,
    };
    let changes = state.packs.pack(state, changes, how).await?;
    let (at, owner, count) = (service.reach(), session.0.id, changes.len() as u64);
    state
        .meta(move |m| {
            m.apply(at, Some((owner, seq)), &changes)?;
            if durable {
                m.sync()?;
            }
            Ok(())
        })
        .await?;
    state.metrics.batched_changes.inc_by(count);
    Ok(())
}

/// Makes sure nobody owns `vol` before its caller reads or changes it: recalls the owner
/// and waits until it has shipped its changes and given the ownership back. An owner that
/// does not answer within a lease, or that stopped listening for recalls (its mount died)
/// and does not start again within [`BETWEEN_WAITS`], has the ownership taken from it for
/// good: a session that keeps a tree it was asked for cannot make every caller wait again.
pub async fn recall(state: &AppState, vol: Uuid) -> Result<()> {
    recall_for(state, vol, None, None).await
}

/// [`recall`] for the session `by`, opening on the volume (it may own its tree at once),
/// and, given its `reach` (a directory), only of the owners whose trees overlap it: tenants
/// on folders apart keep theirs.
pub async fn recall_for(state: &AppState, vol: Uuid, by: Option<Uuid>, reach: Option<u64>) -> Result<()> {
    let lease = state.limits.session_lease;
    let mut waited_for: Option<(Uuid, Instant)> = None;
    loop {
        let changed = state.ownership_changed.notified();
        let Some((owner, listening_until)) = state.meta(move |m| m.recall(vol, now_ns(), by, reach)).await? else {
            return Ok(());
        };
        let since = match waited_for {
            Some((was, since)) if was == owner => since,
            _ => {
                state.ownership_changed.notify_waiters();
                Instant::now()
            }
        };
        waited_for = Some((owner, since));
        let deaf_for = Duration::from_nanos(now_ns().saturating_sub(listening_until).max(0) as u64);
        if since.elapsed() >= lease || deaf_for >= BETWEEN_WAITS {
            tracing::warn!(session = %owner, "a mount did not give its tree back: taken");
            state.meta(move |m| m.revoke_ownership(owner)).await?;
            continue;
        }
        let _ = tokio::time::timeout(POLL, changed).await;
    }
}
