//! Extended attributes this mount knows to be absent, for the attribute timeout: `ls -l`
//! asks for the ACLs and security label of every file, and the kernel for
//! `security.capability` before every write, nearly always in vain. Listings and creates say
//! which inodes have none; a name found missing is remembered too. This mount's own changes of an inode's attributes drop what is known
//! of it; what other mounts set shows once the timeout passes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The most inodes remembered.
const MAX_INODES: usize = 100_000;

#[derive(Default)]
struct Known {
    /// The inode has no extended attributes at all until then.
    none_until: Option<Instant>,
    /// Names it lacks, each until when.
    missing: HashMap<Vec<u8>, Instant>,
}

pub struct AbsentXattrs {
    ttl: Duration,
    inodes: Mutex<HashMap<u64, Known>>,
}

impl AbsentXattrs {
    pub fn new(ttl: Duration) -> Self {
        AbsentXattrs {
            ttl,
            inodes: Mutex::default(),
        }
    }

    fn inodes(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Known>> {
        self.inodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `name` is known to be absent from the inode (`None`: whether it has none).
    pub fn absent(&self, ino: u64, name: Option<&[u8]>) -> bool {
        let now = Instant::now();
        let inodes = self.inodes();
        let Some(known) = inodes.get(&ino) else {
            return false;
        };
        known.none_until.is_some_and(|until| now < until)
            || name
                .and_then(|n| known.missing.get(n))
                .is_some_and(|&until| now < until)
    }

    /// The inode has no extended attributes (as of a reply that began at `since`).
    pub fn none(&self, ino: u64, since: Instant) {
        self.remember(ino, |known, until| known.none_until = Some(until), since);
    }

    /// The inode lacks `name`.
    pub fn missing(&self, ino: u64, name: &[u8], since: Instant) {
        self.remember(
            ino,
            |known, until| {
                known.missing.insert(name.to_vec(), until);
            },
            since,
        );
    }

    fn remember(&self, ino: u64, set: impl FnOnce(&mut Known, Instant), since: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inodes = self.inodes();
        if inodes.len() >= MAX_INODES {
            let now = Instant::now();
            inodes.retain(|_, k| {
                k.missing.retain(|_, until| now < *until);
                k.none_until.is_some_and(|until| now < until) || !k.missing.is_empty()
            });
            if inodes.len() >= MAX_INODES {
                inodes.clear();
            }
        }
        set(inodes.entry(ino).or_default(), since + self.ttl);
    }

    /// This mount changes the inode's extended attributes: nothing is known of them.
    pub fn changed(&self, ino: u64) {
        self.inodes().remove(&ino);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn absence_is_trusted_for_the_timeout_from_the_reply() {
        let known = AbsentXattrs::new(TTL);
        let asked = Instant::now();
        tokio::time::advance(Duration::from_millis(400)).await;
        known.none(1, asked);
        known.missing(2, b"user.a", Instant::now());
        assert!(known.absent(1, Some(b"user.x")) && known.absent(1, None));
        assert!(known.absent(2, Some(b"user.a")) && !known.absent(2, Some(b"user.b")));
        // Counted from when the reply was asked for, not when it came.
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(!known.absent(1, None));
        assert!(known.absent(2, Some(b"user.a")));
        known.changed(2);
        assert!(!known.absent(2, Some(b"user.a")), "a change here forgets");
    }
}
