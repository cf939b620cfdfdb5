//! Record locks shared by every mount of a volume (`fcntl` locks, and `flock` as a lock over
//! the whole file). Held in this server's memory: they live as long as the sessions that
//! take them, and go when a session closes.

use std::collections::HashMap;
use std::sync::Mutex;
use strata_core::api::{LockKind, LockRange};
use uuid::Uuid;

/// Who holds a lock: a mount session and the lock owner the kernel names in it.
pub type Owner = (Uuid, u64);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    owner: Owner,
    range: LockRange,
}

/// Locks by (volume, inode).
#[derive(Default)]
pub struct LockTable(Mutex<HashMap<(Uuid, u64), Vec<Held>>>);

fn overlaps(a: &LockRange, b: &LockRange) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn conflicts(held: &Held, owner: Owner, want: &LockRange) -> bool {
    held.owner != owner
        && overlaps(&held.range, want)
        && (held.range.kind == LockKind::Write || want.kind == LockKind::Write)
}

impl LockTable {
    /// The first lock of another owner that `want` conflicts with.
    pub fn test(&self, file: (Uuid, u64), owner: Owner, want: &LockRange) -> Option<LockRange> {
        let table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        table
            .get(&file)?
            .iter()
            .find(|h| conflicts(h, owner, want))
            .map(|h| h.range.clone())
    }

    /// Takes (or, with `LockKind::Unlock`, releases) a range for `owner`, replacing what the
    /// owner held there; fails with the conflicting lock if another owner is in the way.
    pub fn set(&self, file: (Uuid, u64), owner: Owner, want: LockRange) -> Result<(), LockRange> {
        let mut table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let held = table.entry(file).or_default();
        if want.kind != LockKind::Unlock
            && let Some(h) = held.iter().find(|h| conflicts(h, owner, &want))
        {
            return Err(h.range.clone());
        }
        // Cut the owner's locks around the range, keeping what lies outside it.
        let mut kept = Vec::with_capacity(held.len() + 2);
        for h in held.drain(..) {
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
        *held = kept;
        if held.is_empty() {
            table.remove(&file);
        }
        Ok(())
    }

    /// Releases everything a session holds.
    pub fn release_session(&self, session: Uuid) {
        let mut table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        table.retain(|_, held| {
            held.retain(|h| h.owner.0 != session);
            !held.is_empty()
        });
    }
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
        let t = LockTable::default();
        let file = (Uuid::nil(), 7);
        let (a, b) = ((Uuid::nil(), 1), (Uuid::new_v4(), 1));
        t.set(file, a, range(0, 99, LockKind::Read)).unwrap();
        t.set(file, b, range(50, 60, LockKind::Read)).unwrap();
        assert!(t.set(file, b, range(0, 10, LockKind::Write)).is_err());
        // `a` unlocks the middle of its range: 20..=30 becomes free for a writer.
        t.set(file, a, range(20, 30, LockKind::Unlock)).unwrap();
        t.set(file, b, range(20, 30, LockKind::Write)).unwrap();
        assert_eq!(
            t.test(file, a, &range(25, 25, LockKind::Read)).map(|r| r.start),
            Some(20)
        );
        assert!(
            t.test(file, a, &range(0, 19, LockKind::Write)).is_none(),
            "a's own locks never conflict"
        );
        assert!(t.test(file, b, &range(95, 99, LockKind::Write)).is_some());
        t.release_session(a.0);
        assert!(t.test(file, b, &range(95, 99, LockKind::Write)).is_none());
    }
}
