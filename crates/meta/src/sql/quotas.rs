//! The one rule of quotas: a change may not grow a volume's bytes or files past the volume's
//! quota, nor its organization's bytes past the organization's.
//!
//! What counts is what `used_bytes` and `file_count` count: the logical size of the files a
//! volume holds now. A fork counts whole against its organization (it is a volume holding
//! those files, even while it shares their blocks); a snapshot and a volume's past count
//! for nothing, since they never grow. A count already over its bound may shrink, never
//! grow, so a change that frees space always goes through.
//!
//! Exact under concurrent writers: a change that grows a volume of an organization with a
//! quota takes the organization's lock (`Tx::lock_org`, held until commit) before it adds up
//! the organization's volumes, so every such change sees the ones before it committed.
//! Changes that only shrink take no lock; a reader that missed one only refuses sooner.

use super::{R, Tx, vals};
use crate::{Error, ErrorKind};
use uuid::Uuid;

/// A volume's counts when its transaction began and as it would leave them, with its own
/// bounds (bytes, files).
pub struct Growth {
    pub volume: Uuid,
    pub found: (i64, i64),
    pub now: (i64, i64),
    pub quota: (Option<i64>, Option<i64>),
}

/// Fails, naming the quota, when `g` passes a bound it was within or grows a count already
/// past one.
pub fn check(tx: &dyn Tx, g: &Growth) -> R<()> {
    let over = |now: i64, found: i64, quota: Option<i64>| quota.filter(|&q| now > q && now > found);
    if let Some(quota) = over(g.now.0, g.found.0, g.quota.0) {
        let msg = format!(
            "the volume's quota is {quota} bytes; this change would make its files hold {}",
            g.now.0
        );
        return Err(exceeded(msg));
    }
    if let Some(quota) = over(g.now.1, g.found.1, g.quota.1) {
        let msg = format!(
            "the volume's quota is {quota} files; this change would make it hold {}",
            g.now.1
        );
        return Err(exceeded(msg));
    }
    if g.now.0 <= g.found.0 {
        return Ok(());
    }
    let Some(row) = tx.query_opt(
        "SELECT o.name, o.quota_bytes FROM volumes v JOIN orgs o ON o.name = v.org WHERE v.id = $1",
        vals![g.volume],
    )?
    else {
        return Ok(());
    };
    let (org, quota) = (row.text(0)?, row.opt_i64(1)?);
    let Some(quota) = quota else { return Ok(()) };
    tx.lock_org(&org)?;
    let others = org_bytes(tx, &org, Some(g.volume))?;
    let total = others.saturating_add(g.now.0);
    if total > quota && total > others.saturating_add(g.found.0) {
        let msg =
            format!("the organization {org}'s quota is {quota} bytes; this change would make its volumes hold {total}");
        return Err(exceeded(msg));
    }
    Ok(())
}

/// [`check`] for a change of a volume's counts made outside its tree (a fork, a restore, a
/// promote), with the volume's own bounds read from its row.
pub fn check_counts(tx: &dyn Tx, volume: Uuid, found: (i64, i64), now: (i64, i64)) -> R<()> {
    let row = tx.query_one(
        "SELECT quota_bytes, quota_files FROM volumes WHERE id = $1",
        vals![volume],
    )?;
    let quota = (row.opt_i64(0)?, row.opt_i64(1)?);
    check(
        tx,
        &Growth {
            volume,
            found,
            now,
            quota,
        },
    )
}

fn exceeded(msg: String) -> super::Fail {
    Error::new(ErrorKind::QuotaExceeded, msg).with_field("quota").into()
}

/// The bytes an organization's volumes hold (snapshots not counted), but for `except`.
pub fn org_bytes(tx: &dyn Tx, org: &str, except: Option<Uuid>) -> R<i64> {
    let except = except.map(|id| id.to_string()).unwrap_or_default();
    tx.query_one(
        "SELECT CAST(COALESCE(SUM(used_bytes), 0) AS BIGINT) FROM volumes WHERE org = $1 AND snapshot_of IS NULL AND id <> $2",
        vals![org, except],
    )?
    .i64(0)
}
