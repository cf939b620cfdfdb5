//! History: every volume keeps its past for a while, in points at least a step apart.
//!
//! Writes go to the head layer in place, as ever; what a write replaces or deletes is kept in
//! the `past_` tables (with when it was written, `born`, and replaced, `died`) when it was
//! written before the volume's current *window*. A window opens at the first write at least
//! a step after the last one opened (`points`), so a row is kept at most once a window, and
//! the volume as it was just before any window began, or at any instant no window was being
//! written, can be read again: each layer's rows born by then and not yet replaced.
//!
//! A moment is read like a snapshot: naming it (`VOLUME@TIME`) pins it as a read-only
//! volume row whose head is an empty frozen layer linked to the head of that time *at* that
//! time (`layers.parent_as_of`); mounts, forks, diffs and restores then take it as they take
//! a snapshot. The heads a volume had before a restore or a freeze are kept in `past_heads`.

use super::volumes::{self, Origin};
use super::{Fail, R, Tx, vals};
use crate::{Error, now_ns};
use std::collections::HashMap;
use strata_core::api::{HistoryPoint, Volume};
use strata_core::names::{VolumeRef, format_moment};
use uuid::Uuid;

/// How long volumes keep their past unless they say (0: not at all), and how far apart its
/// points are at least.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub keep_ns: i64,
    pub step_ns: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            keep_ns: 0,
            step_ns: 100_000_000,
        }
    }
}

/// The window a volume is writing: when it began (0: none), and its last write, changes and
/// bytes so far. They are kept in the volume's row, which every write updates anyway, and
/// reach the window's point when the next window begins, or when the history is read
/// ([`WINDOWS`]) or collected ([`settle`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub at: i64,
    pub last: i64,
    pub changes: i64,
    pub bytes: i64,
}

/// The points of history, the window each volume is writing read from its row.
const WINDOWS: &str = "(SELECT p.volume, p.at, p.used_bytes, p.file_count,
     CASE WHEN p.at = v.window_at THEN v.window_last ELSE p.last END AS last,
     CASE WHEN p.at = v.window_at THEN v.window_changes ELSE p.changes END AS changes,
     CASE WHEN p.at = v.window_at THEN v.window_bytes ELSE p.bytes END AS bytes
     FROM points p JOIN volumes v ON v.id = p.volume)";

/// The stamp of a write transaction (later than every earlier write of the volume) and its
/// window of history, a new one when a step has passed since the last began (`at` 0: no
/// history).
pub fn open_window(
    tx: &dyn Tx,
    vol: Uuid,
    settings: &Settings,
    last_write: i64,
    window: Window,
    keep: Option<i64>,
    counts: (i64, i64),
) -> R<(i64, Window)> {
    let stamp = now_ns().max(last_write + 1);
    if keep.unwrap_or(settings.keep_ns) <= 0 {
        return Ok((stamp, Window::default()));
    }
    if window.at != 0 && stamp - window.at < settings.step_ns {
        return Ok((stamp, window));
    }
    if window.at != 0 {
        tx.exec(
            "UPDATE points SET last = $3, changes = $4, bytes = $5 WHERE volume = $1 AND at = $2",
            vals![vol, window.at, window.last, window.changes, window.bytes],
        )?;
    }
    tx.exec(
        "INSERT INTO points (volume, at, last, used_bytes, file_count) VALUES ($1, $2, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        vals![vol, stamp, counts.0, counts.1],
    )?;
    let opened = Window {
        at: stamp,
        last: stamp,
        changes: 0,
        bytes: 0,
    };
    Ok((stamp, opened))
}

/// Writes the window a volume is writing (every volume's when `vol` is `None`) into its point.
pub fn settle(tx: &dyn Tx, vol: Option<Uuid>) -> R<()> {
    let which = if vol.is_some() { " AND points.volume = $1" } else { "" };
    let of = |column: &str| format!("(SELECT v.{column} FROM volumes v WHERE v.id = points.volume)");
    let sql = format!(
        "UPDATE points SET last = {}, changes = {}, bytes = {}
         WHERE EXISTS (SELECT 1 FROM volumes v WHERE v.id = points.volume AND v.window_at = points.at){which}",
        of("window_last"),
        of("window_changes"),
        of("window_bytes")
    );
    match vol {
        Some(vol) => tx.exec(&sql, vals![vol])?,
        None => tx.exec(&sql, &[])?,
    };
    Ok(())
}

/// Remembers that `head` stops being the volume's head now (a freeze, or a restore or
/// promote: `replaced`), so that its moments before now are read through it, and makes now
/// a point of its history (a replaced tree counts as one change); returns when.
pub fn retire_head(tx: &dyn Tx, vol: Uuid, head: i64, replaced: bool) -> R<i64> {
    settle(tx, Some(vol))?;
    let row = tx.query_one(
        "SELECT updated_at, used_bytes, file_count FROM volumes WHERE id = $1",
        vals![vol],
    )?;
    let until = now_ns().max(row.i64(0)? + 1);
    tx.exec(
        "INSERT INTO past_heads (volume, until, head) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        vals![vol, until, head],
    )?;
    tx.exec(
        "INSERT INTO points (volume, at, last, used_bytes, file_count, changes) VALUES ($1, $2, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
        vals![vol, until, row.i64(1)?, row.i64(2)?, i64::from(replaced)],
    )?;
    tx.exec(
        "UPDATE volumes SET updated_at = $2, window_at = 0 WHERE id = $1",
        vals![vol, until],
    )?;
    Ok(until)
}

/// Most moments of one volume pinned at once (each one named is a read-only volume row).
const MOMENTS_PER_VOLUME: i64 = 1024;

fn invalid(msg: impl Into<String>) -> Fail {
    Error::invalid("time", msg).into()
}

/// The volume as it was at `t`, pinned as a read-only volume row named `VOLUME@TIME` (the
/// instant it shows): the newest instant at or before `t` whose tree history holds whole.
pub fn moment(tx: &dyn Tx, settings: &Settings, org: &str, vol: Uuid, t: i64, now: i64) -> R<Volume> {
    let sql = format!(
        "SELECT name, head, history_ns, created_at, snapshot_of, next_ino, used_bytes, file_count, updated_at
         FROM volumes WHERE org = $1 AND id = $2{}",
        tx.for_update()
    );
    let row = tx
        .query_opt(&sql, vals![org, vol])?
        .ok_or_else(|| Fail::Fs(Error::not_found("volume not found").with_field("volume")))?;
    let (name, head) = (row.text(0)?, row.i64(1)?);
    if row.opt_uuid(4)?.is_some() {
        return Err(Error::invalid("volume", "a snapshot has no history of its own; name its volume").into());
    }
    let keep = row.opt_i64(2)?.unwrap_or(settings.keep_ns);
    if keep <= 0 {
        return Err(invalid(
            "this volume keeps no history (turn it on with `strata volume set VOLUME --history 24h`)",
        ));
    }
    if t > now {
        return Err(invalid("that moment has not come yet"));
    }
    let oldest = (now - keep).max(row.i64(3)?);
    // The window holding `t`: if it was still being written at `t`, the moment before it;
    // else its last write (nothing changed from then to `t`), so that every name of one
    // state pins one moment.
    let window = tx.query_opt(
        &format!("SELECT at, last FROM {WINDOWS} w WHERE volume = $1 AND at <= $2 ORDER BY at DESC LIMIT 1"),
        vals![vol, t],
    )?;
    let at = match window {
        Some(w) if w.i64(1)? > t => w.i64(0)? - 1,
        Some(w) => w.i64(1)?,
        None => {
            let next = tx.query_opt(
                "SELECT at FROM points WHERE volume = $1 AND at > $2 ORDER BY at LIMIT 1",
                vals![vol, t],
            )?;
            match next {
                Some(n) => n.i64(0)? - 1,
                None => t.min(row.i64(8)?),
            }
        }
    };
    if t.min(at) < oldest {
        let msg = format!("this volume's history reaches back to {}", format_moment(oldest));
        return Err(invalid(msg));
    }
    let key = format!("{name}@{}", format_moment(at));
    if let Some(found) = tx.query_opt("SELECT id FROM volumes WHERE org = $1 AND name = $2", vals![org, &key])? {
        return volumes::get(tx, org, &VolumeRef::Id(found.uuid(0)?));
    }
    let pinned = tx
        .query_one(
            "SELECT COUNT(*) FROM volumes WHERE snapshot_of = $1 AND moment_at IS NOT NULL",
            vals![vol],
        )?
        .i64(0)?;
    if pinned >= MOMENTS_PER_VOLUME {
        let msg = format!(
            "this volume already has {pinned} moments in use, the most allowed; they are forgotten with its history"
        );
        return Err(Error::new(crate::ErrorKind::LimitExceeded, msg)
            .with_field("time")
            .into());
    }
    let retired = tx.query_opt(
        "SELECT head FROM past_heads WHERE volume = $1 AND until > $2 ORDER BY until LIMIT 1",
        vals![vol, at],
    )?;
    let head_then = match retired {
        Some(r) => r.i64(0)?,
        None => head,
    };
    if head_then == head {
        // Nothing written from now on changes what the moment shows.
        volumes::freeze_head(tx, vol, head)?;
    }
    let layer = volumes::new_layer(tx, Some(head_then), true)?;
    tx.exec("UPDATE layers SET parent_as_of = $2 WHERE id = $1", vals![layer, at])?;
    // The counts when the next window began, or now if none has.
    let next = tx.query_opt(
        "SELECT used_bytes, file_count FROM points WHERE volume = $1 AND at > $2 ORDER BY at LIMIT 1",
        vals![vol, at],
    )?;
    let (used_bytes, file_count) = match next {
        Some(r) => (r.i64(0)?, r.i64(1)?),
        None => (row.i64(6)?, row.i64(7)?),
    };
    let origin = Origin {
        head: layer,
        next_ino: row.i64(5)?,
        used_bytes,
        file_count,
        snapshot_of: Some(vol),
    };
    let pinned = volumes::insert_volume(tx, org, &key, origin)?;
    tx.exec("UPDATE volumes SET moment_at = $2 WHERE id = $1", vals![pinned.id, at])?;
    volumes::get(tx, org, &VolumeRef::Id(pinned.id))
}

/// The windows of changes a volume kept, newest first (at most `limit`).
pub fn points(tx: &dyn Tx, org: &str, vol: Uuid, limit: u64) -> R<Vec<HistoryPoint>> {
    volumes::get(tx, org, &VolumeRef::Id(vol))?;
    let rows = tx.query(
        &format!(
            "SELECT at, last, changes, bytes FROM {WINDOWS} w WHERE volume = $1 AND changes > 0 ORDER BY at DESC LIMIT $2"
        ),
        vals![vol, limit as i64],
    )?;
    rows.iter()
        .map(|r| {
            Ok(HistoryPoint {
                before: r.i64(0)? - 1,
                first_change: r.i64(0)?,
                last_change: r.i64(1)?,
                changes: r.u64(2)?,
                bytes: r.u64(3)?,
            })
        })
        .collect()
}

/// Sets how long a volume keeps its past (`None`: the server's setting; 0: not at all).
pub fn set_keep(tx: &dyn Tx, org: &str, vol: Uuid, keep: Option<i64>) -> R<Volume> {
    settle(tx, Some(vol))?;
    let changed = tx.exec(
        "UPDATE volumes SET history_ns = $3, window_at = 0 WHERE org = $1 AND id = $2 AND snapshot_of IS NULL",
        vals![org, vol, keep],
    )?;
    if changed == 0 {
        volumes::get(tx, org, &VolumeRef::Id(vol))?;
        return Err(Error::invalid("volume", "a snapshot has no history of its own").into());
    }
    volumes::get(tx, org, &VolumeRef::Id(vol))
}

/// Forgets the windows, retired heads and pinned moments past their volume's keep.
pub fn forget(tx: &dyn Tx, settings: &Settings, now: i64) -> R<()> {
    settle(tx, None)?;
    let keep = "COALESCE((SELECT v.history_ns FROM volumes v WHERE v.id = {t}.volume), $2)";
    for table in ["points", "past_heads"] {
        let time = if table == "points" { "last" } else { "until" };
        tx.exec(
            &format!(
                "DELETE FROM {table} WHERE {time} < $1 - {}
                 OR NOT EXISTS (SELECT 1 FROM volumes v WHERE v.id = {table}.volume)",
                keep.replace("{t}", table)
            ),
            vals![now, settings.keep_ns],
        )?;
    }
    tx.exec(
        "DELETE FROM volumes WHERE moment_at IS NOT NULL
         AND moment_at < $1 - COALESCE((SELECT v.history_ns FROM volumes v WHERE v.id = volumes.snapshot_of), $2)
         AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.volume = volumes.id AND s.alive_until > $1)",
        vals![now, settings.keep_ns],
    )?;
    Ok(())
}

/// Deletes the past rows no volume's history reaches any more: a layer keeps the rows
/// replaced within the longest keep of the volumes whose heads (now, or retired and still
/// kept) reach it, and those a link to a moment reads. Run after [`forget`] and the
/// collection of dead layers, in the same transaction.
pub fn prune_past(tx: &dyn Tx, settings: &Settings, now: i64) -> R<()> {
    let parents = super::blocks::layer_parents(tx)?;
    let mut keep_of: HashMap<i64, i64> = HashMap::new();
    let roots = tx.query(
        "SELECT v.head, v.history_ns FROM volumes v WHERE v.snapshot_of IS NULL
         UNION ALL SELECT p.head, v.history_ns FROM past_heads p JOIN volumes v ON v.id = p.volume",
        vals![],
    )?;
    for root in roots {
        let keep = root.opt_i64(1)?.unwrap_or(settings.keep_ns).max(0);
        let mut layer = Some(root.i64(0)?);
        while let Some(id) = layer {
            let slot = keep_of.entry(id).or_insert(-1);
            if *slot >= keep {
                break;
            }
            *slot = keep;
            layer = parents.get(&id).copied().flatten();
        }
    }
    let pinned = |t: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM layers l WHERE l.parent = {t}.layer AND l.parent_as_of >= {t}.born
             AND l.parent_as_of < {t}.died)"
        )
    };
    let layers = tx.query(
        "SELECT DISTINCT layer FROM past_inodes UNION SELECT DISTINCT layer FROM past_dentries",
        vals![],
    )?;
    for row in layers {
        let layer = row.i64(0)?;
        let cutoff = match keep_of.get(&layer) {
            Some(&keep) if keep > 0 => now - keep,
            _ => i64::MAX,
        };
        for table in ["past_inodes", "past_dentries"] {
            tx.exec(
                &format!(
                    "DELETE FROM {table} WHERE layer = $1 AND died < $2 AND {}",
                    pinned(table)
                ),
                vals![layer, cutoff],
            )?;
        }
    }
    for table in ["past_chunks", "past_xattrs"] {
        tx.exec(
            &format!(
                "DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM past_inodes p
                 WHERE p.layer = {table}.layer AND p.ino = {table}.ino AND p.born = {table}.born)"
            ),
            vals![],
        )?;
    }
    Ok(())
}
