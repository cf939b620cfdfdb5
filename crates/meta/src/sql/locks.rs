//! Record locks shared by every mount of a volume, through any server (`fcntl` locks, and
//! `flock` as a lock over the whole file).
//!
//! Locks are rows beside the tree, held by a mount session and the lock owner the kernel
//! names in it. A session holds a lease that its mount renews; the locks of a session whose
//! lease ran out (a mount that died) no longer count, and go with the next change to that
//! file. Writers of one file take the volume's row first, so two servers never both grant.

use super::{R, Row, Tx, vals};
use strata_core::api::{LockKind, LockRange};
use uuid::Uuid;

/// Who holds a lock: a mount session and the lock owner the kernel names in it.
pub type Owner = (Uuid, u64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub owner: Owner,
    pub range: LockRange,
}

fn overlaps(a: &LockRange, b: &LockRange) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn conflicts(held: &Held, owner: Owner, want: &LockRange) -> bool {
    held.owner != owner
        && overlaps(&held.range, want)
        && (held.range.kind == LockKind::Write || want.kind == LockKind::Write)
}

/// The first lock of another owner that `want` conflicts with.
pub fn first_conflict(held: &[Held], owner: Owner, want: &LockRange) -> Option<LockRange> {
    held.iter().find(|h| conflicts(h, owner, want)).map(|h| h.range.clone())
}

/// The locks of a file after `owner` takes (or, with `LockKind::Unlock`, releases) `want`,
/// replacing what the owner held there; `Err` with the conflicting lock if another owner is
/// in the way.
pub fn apply(held: Vec<Held>, owner: Owner, want: LockRange) -> Result<Vec<Held>, LockRange> {
    if want.kind != LockKind::Unlock
        && let Some(conflict) = first_conflict(&held, owner, &want)
    {
        return Err(conflict);
    }
    // Cut the owner's locks around the range, keeping what lies outside it.
    let mut kept = Vec::with_capacity(held.len() + 2);
    for h in held {
        if h.owner != owner || !overlaps(&h.range, &want) {
            kept.push(h);
            continue;
        }
        if h.range.start < want.start {
            kept.push(Held {
                owner,
                range: LockRange {
                    end: want.start - 1,
                    ..h.range.clone()
                },
            });
        }
        if h.range.end > want.end {
            kept.push(Held {
                owner,
                range: LockRange {
                    start: want.end + 1,
                    ..h.range.clone()
                },
            });
        }
    }
    if want.kind != LockKind::Unlock {
        kept.push(Held { owner, range: want });
    }
    Ok(kept)
}

fn kind_code(kind: &LockKind) -> i64 {
    match kind {
        LockKind::Read => 1,
        LockKind::Write => 2,
        LockKind::Unlock => 0,
    }
}

fn held_from_row(r: &Row) -> R<Held> {
    Ok(Held {
        owner: (r.uuid(0)?, r.i64(1)? as u64),
        range: LockRange {
            // Stored as the same 64 bits in a signed column; compared only here.
            start: r.i64(2)? as u64,
            end: r.i64(3)? as u64,
            kind: if r.i64(4)? == 2 {
                LockKind::Write
            } else {
                LockKind::Read
            },
            pid: r.u32(5)?,
        },
    })
}

/// The locks on a file whose sessions are alive at `now`.
pub fn held(tx: &dyn Tx, vol: Uuid, ino: u64, now: i64) -> R<Vec<Held>> {
    let rows = tx.query(
        "SELECT l.session, l.owner, l.lock_start, l.lock_end, l.kind, l.pid FROM locks l
         JOIN sessions s ON s.id = l.session
         WHERE l.volume = $1 AND l.ino = $2 AND s.alive_until >= $3 ORDER BY l.lock_start",
        vals![vol, ino, now],
    )?;
    rows.iter().map(held_from_row).collect()
}

/// Most locks one file holds, and one session holds over all files: each change rewrites
/// the file's locks, and a session that never unlocks must not grow the table without end.
const MAX_LOCKS_PER_FILE: usize = 1024;
const MAX_LOCKS_PER_SESSION: i64 = 10_000;

/// Takes or releases a range; `Some(conflict)` if another owner is in the way.
pub fn set(tx: &dyn Tx, vol: Uuid, ino: u64, owner: Owner, want: LockRange, now: i64) -> R<Option<LockRange>> {
    // Writers of one volume's locks go one at a time on every engine.
    let sql = format!("SELECT id FROM volumes WHERE id = $1{}", tx.for_update());
    // A volume deleted with --force under a mount is gone, like its files.
    tx.query_opt(&sql, vals![vol])?.ok_or_else(super::tree::volume_gone)?;
    let before = held(tx, vol, ino, now)?;
    let count = before.len();
    let locks = match apply(before, owner, want) {
        Ok(locks) => locks,
        Err(conflict) => return Ok(Some(conflict)),
    };
    if locks.len() > count {
        let session = tx
            .query_one("SELECT COUNT(*) FROM locks WHERE session = $1", vals![owner.0])?
            .i64(0)?;
        if locks.len() > MAX_LOCKS_PER_FILE || session >= MAX_LOCKS_PER_SESSION {
            return Err(crate::Error::new(
                crate::ErrorKind::LimitExceeded,
                format!(
                    "too many record locks: at most {MAX_LOCKS_PER_FILE} per file and {MAX_LOCKS_PER_SESSION} per mount"
                ),
            )
            .into());
        }
    }
    // Rewrite the file's locks: this also drops those of expired sessions.
    tx.exec("DELETE FROM locks WHERE volume = $1 AND ino = $2", vals![vol, ino])?;
    for h in &locks {
        tx.exec(
            "INSERT INTO locks (volume, ino, session, owner, lock_start, lock_end, kind, pid)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vals![
                vol,
                ino,
                h.owner.0,
                h.owner.1 as i64,
                h.range.start as i64,
                h.range.end as i64,
                kind_code(&h.range.kind),
                h.range.pid
            ],
        )?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: u64, end: u64, kind: LockKind) -> LockRange {
        LockRange {
            start,
            end,
            kind,
            pid: 1,
        }
    }

    #[test]
    fn readers_share_writers_exclude_and_ranges_split() {
        let (a, b) = ((Uuid::nil(), 1), (Uuid::new_v4(), 1));
        let t = apply(Vec::new(), a, range(0, 99, LockKind::Read)).unwrap();
        let t = apply(t, b, range(50, 60, LockKind::Read)).unwrap();
        assert!(apply(t.clone(), b, range(0, 10, LockKind::Write)).is_err());
        // `a` unlocks the middle of its range: 20..=30 becomes free for a writer.
        let t = apply(t, a, range(20, 30, LockKind::Unlock)).unwrap();
        let t = apply(t, b, range(20, 30, LockKind::Write)).unwrap();
        assert_eq!(
            first_conflict(&t, a, &range(25, 25, LockKind::Read)).map(|r| r.start),
            Some(20)
        );
        assert!(
            first_conflict(&t, a, &range(0, 19, LockKind::Write)).is_none(),
            "a's own locks never conflict"
        );
        assert!(first_conflict(&t, b, &range(95, 99, LockKind::Write)).is_some());
        let t: Vec<Held> = t.into_iter().filter(|h| h.owner.0 != a.0).collect();
        assert!(first_conflict(&t, b, &range(95, 99, LockKind::Write)).is_none());
    }
}
