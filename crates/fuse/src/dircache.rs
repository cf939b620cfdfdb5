//! Whole listings of busy directories, kept for the attribute timeout, so that lookups in
//! them (a name found absent included) cost no round trip: `stat` of every file of a
//! directory, or creating many files in one, asks the server a page of names at a time
//! instead of once per name.
//!
//! A listing is trusted for the attribute timeout from when its fetch began, as the kernel
//! trusts an entry; this mount's own changes are applied to it, and a listing whose fetch
//! overlapped such a change is not kept. What other mounts change shows once it expires.
//! While the mount owns its tree (see [`crate::writeback`]) nobody else changes it: a
//! listing fetched or made in that grant of ownership is the truth until the grant ends.

use crate::writeback::Epoch;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_core::api::{NamedNode, NodeRef, Stat};
use tokio::time::Instant;

/// Lookups that miss in one directory within the timeout before its listing is fetched.
const MISSES_BEFORE_LISTING: u32 = 2;
/// The most pages one listing may take; a bigger directory is looked up name by name.
pub const MAX_LISTING_PAGES: usize = 16;
/// The most entries kept over all listings.
const MAX_ENTRIES: usize = 100_000;
/// The most directories whose misses are counted.
const MAX_DIRS: usize = 10_000;

pub enum Cached {
    /// The entry, and how much longer it may be trusted.
    Found(NodeRef, Stat, Duration),
    /// No such name, for this much longer.
    Absent(Duration),
    /// Not known here; with `fetch`, the caller should fetch the listing (with
    /// [`DirCache::begin_fetch`]) since the directory is busy.
    Unknown { fetch: bool },
}

#[derive(Default)]
struct Dir {
    /// Bumped by every change this mount makes in the directory.
    version: u64,
    /// When counting misses began.
    since: Option<Instant>,
    misses: u32,
    fetching: bool,
    /// Fetched too big to keep: ask name by name until then.
    too_big_until: Option<Instant>,
    listing: Option<Listing>,
}

struct Listing {
    fetched: Instant,
    /// The epoch of ownership it was fetched (or made) in.
    epoch: u64,
    entries: HashMap<String, NodeRef>,
}

/// A fetch of a listing under way: when it began, the directory's version and the epoch,
/// and the count of attribute changes made here then.
pub struct Fetch {
    pub began: Instant,
    version: u64,
    epoch: u64,
    stamp: u64,
}

#[derive(Default)]
struct State {
    dirs: HashMap<u64, Dir>,
    /// Attributes from listings, by inode; dropped when this mount changes the inode.
    stats: HashMap<u64, Stat>,
    entries: usize,
    /// Fetches of listings under way.
    fetches: usize,
    /// Changes of attributes made here, counted, and the count at each inode's last one,
    /// while fetches are under way: a listing fetched across one brings older attributes.
    stamp: u64,
    touched: HashMap<u64, u64>,
}

impl State {
    /// This mount changed the attributes of `ino`.
    fn touch(&mut self, ino: u64) {
        if self.fetches > 0 {
            self.stamp += 1;
            self.touched.insert(ino, self.stamp);
        }
    }
}

pub struct DirCache {
    ttl: Duration,
    epoch: Arc<Epoch>,
    state: Mutex<State>,
}

impl DirCache {
    pub fn new(ttl: Duration, epoch: Arc<Epoch>) -> Self {
        DirCache {
            ttl,
            epoch,
            state: Mutex::default(),
        }
    }

    /// How much longer a listing may be trusted: until the timeout, or, fetched in the
    /// grant of ownership that holds now, for as long as it does.
    fn left(&self, listing: &Listing, now: Instant) -> Duration {
        if listing.epoch == self.epoch.now() && Epoch::owning(listing.epoch) {
            return self.ttl;
        }
        (listing.fetched + self.ttl).saturating_duration_since(now)
    }

    /// Whether `dir` surely has no entry `name`: its listing here is the truth (this mount
    /// owns its tree) and lacks it. A create there may be answered here.
    pub fn surely_absent(&self, dir: u64, name: &str) -> bool {
        matches!(self.entry_here(dir, name, self.epoch.now()), Some(None))
    }

    /// What `dir` holds as `name`, with its attributes if known, when the listing here is the
    /// truth: this mount owns its tree in the grant `epoch` and fetched or made the listing
    /// in it (then every change since is applied to it). `Some(None)`: nothing. `None`: the
    /// listing is not the truth.
    pub fn entry_here(&self, dir: u64, name: &str, epoch: u64) -> Option<Option<(NodeRef, Option<Stat>)>> {
        let state = self.state();
        let listing = state.dirs.get(&dir)?.listing.as_ref()?;
        if listing.epoch != epoch || !Epoch::owning(epoch) || self.epoch.now() != epoch {
            return None;
        }
        let node = listing.entries.get(name);
        Some(node.map(|node| (*node, state.stats.get(&node.ino).cloned())))
    }

    /// Whether `dir` surely is empty: its listing here is the truth (see
    /// [`DirCache::entry_here`]) and holds nothing.
    pub fn empty_here(&self, dir: u64, epoch: u64) -> bool {
        let state = self.state();
        let listing = state.dirs.get(&dir).and_then(|d| d.listing.as_ref());
        listing.is_some_and(|l| l.epoch == epoch && Epoch::owning(epoch) && l.entries.is_empty())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lookup(&self, dir: u64, name: &str) -> Cached {
        if self.ttl.is_zero() {
            return Cached::Unknown { fetch: false };
        }
        let now = Instant::now();
        let mut state = self.state();
        let state = &mut *state;
        let d = state.dirs.entry(dir).or_default();
        if let Some(listing) = &d.listing {
            let left = self.left(listing, now);
            if !left.is_zero() {
                return match listing.entries.get(name) {
                    None => Cached::Absent(left),
                    Some(node) => match state.stats.get(&node.ino) {
                        Some(stat) => Cached::Found(*node, stat.clone(), left),
                        None => Cached::Unknown { fetch: false },
                    },
                };
            }
            drop_listing(state, dir);
        }
        if state.dirs.len() > MAX_DIRS {
            state.dirs.retain(|_, d| d.listing.is_some() || d.fetching);
        }
        let d = state.dirs.entry(dir).or_default();
        if d.since.is_none_or(|since| now - since > self.ttl) {
            (d.since, d.misses) = (Some(now), 0);
        }
        d.misses += 1;
        let fetch =
            d.misses >= MISSES_BEFORE_LISTING && !d.fetching && d.too_big_until.is_none_or(|until| now >= until);
        Cached::Unknown { fetch }
    }

    /// Starts fetching a listing: when it began and the directory's version, to give back
    /// to [`DirCache::store`].
    pub fn begin_fetch(&self, dir: u64) -> Fetch {
        let epoch = self.epoch.now();
        let mut state = self.state();
        state.fetches += 1;
        let stamp = state.stamp;
        let d = state.dirs.entry(dir).or_default();
        d.fetching = true;
        Fetch {
            began: Instant::now(),
            version: d.version,
            epoch,
            stamp,
        }
    }

    /// Keeps a complete listing (`None`: too big, or its fetch failed), unless this mount
    /// changed the directory meanwhile.
    pub fn store(&self, dir: u64, fetch: Fetch, listing: Option<Vec<NamedNode>>) {
        let Fetch {
            began: fetched,
            version,
            epoch,
            stamp,
        } = fetch;
        let mut state = self.state();
        let state = &mut *state;
        state.fetches = state.fetches.saturating_sub(1);
        // Attributes this mount changed since the fetch began are newer than the listing's.
        let newer: std::collections::HashSet<u64> = (state.touched.iter())
            .filter(|&(_, &at)| at > stamp)
            .map(|(&ino, _)| ino)
            .collect();
        if state.fetches == 0 {
            state.touched.clear();
        }
        let Some(d) = state.dirs.get_mut(&dir) else {
            return;
        };
        d.fetching = false;
        let Some(listing) = listing else {
            d.too_big_until = Some(fetched + self.ttl);
            return;
        };
        if d.version != version {
            return;
        }
        if state.entries + listing.len() > MAX_ENTRIES {
            let now = Instant::now();
            let expired: Vec<u64> = state
                .dirs
                .iter()
                .filter(|(_, d)| d.listing.as_ref().is_some_and(|l| self.left(l, now).is_zero()))
                .map(|(&dir, _)| dir)
                .collect();
            for dir in expired {
                drop_listing(state, dir);
            }
            if state.entries + listing.len() > MAX_ENTRIES {
                return;
            }
        }
        let Some(d) = state.dirs.get_mut(&dir) else {
            return;
        };
        let mut entries = HashMap::with_capacity(listing.len());
        for e in listing {
            if !newer.contains(&e.node.ino) {
                state.stats.insert(e.node.ino, e.stat);
            }
            entries.insert(e.name, e.node);
        }
        state.entries += entries.len();
        d.listing = Some(Listing {
            fetched,
            epoch,
            entries,
        });
    }

    /// This mount made the directory `dir` (the call began at `since`): its listing is known,
    /// empty, so the names looked up in it while it fills (tar, git, npm) are answered
    /// absent here, as in a listing fetched then.
    pub fn made_empty(&self, dir: u64, since: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let epoch = self.epoch.now();
        let mut state = self.state();
        let d = state.dirs.entry(dir).or_default();
        d.version += 1;
        d.listing = Some(Listing {
            fetched: since,
            epoch,
            entries: HashMap::new(),
        });
    }

    /// This mount made `name` in `dir`, with the attributes `stat` if it knows them for sure
    /// (else they come from the server at its next lookup).
    pub fn added(&self, dir: u64, name: &str, node: NodeRef, stat: Option<Stat>) {
        let mut state = self.state();
        state.touch(node.ino);
        match stat {
            Some(stat) => state.stats.insert(node.ino, stat),
            None => state.stats.remove(&node.ino),
        };
        let d = state.dirs.entry(dir).or_default();
        d.version += 1;
        let grew = d
            .listing
            .as_mut()
            .is_some_and(|l| l.entries.insert(name.to_owned(), node).is_none());
        if grew {
            state.entries += 1;
        }
    }

    /// This mount removed `name` from `dir`.
    pub fn removed(&self, dir: u64, name: &str) {
        let mut state = self.state();
        let d = state.dirs.entry(dir).or_default();
        d.version += 1;
        if let Some(node) = d.listing.as_mut().and_then(|l| l.entries.remove(name)) {
            state.entries -= 1;
            state.stats.remove(&node.ino);
            state.touch(node.ino);
        }
    }

    /// This mount changed `dir` in ways not applied here (a rename into it): list it again.
    pub fn forget(&self, dir: u64) {
        let mut state = self.state();
        state.dirs.entry(dir).or_default().version += 1;
        drop_listing(&mut state, dir);
    }

    /// The kernel forgot the directory `dir`: nothing is kept of it.
    pub fn drop_dir(&self, dir: u64) {
        let mut state = self.state();
        drop_listing(&mut state, dir);
        state.dirs.remove(&dir);
    }

    /// This mount changed an inode's attributes: they are asked again.
    pub fn changed(&self, ino: u64) {
        let mut state = self.state();
        state.touch(ino);
        state.stats.remove(&ino);
    }

    /// This mount changed an inode's attributes and knows them for sure (it owns its tree):
    /// a listing that holds the inode answers with them.
    pub fn learned(&self, ino: u64, stat: &Stat) {
        let mut state = self.state();
        state.touch(ino);
        if let Some(known) = state.stats.get_mut(&ino) {
            *known = stat.clone();
        }
    }
}

/// Drops a directory's listing and the attributes it brought.
fn drop_listing(state: &mut State, dir: u64) {
    if let Some(listing) = state.dirs.get_mut(&dir).and_then(|d| d.listing.take()) {
        state.entries -= listing.entries.len();
        for node in listing.entries.values() {
            state.stats.remove(&node.ino);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(1);

    fn entry(name: &str, ino: u64) -> NamedNode {
        let stat = crate::testing::file_stat(ino, 0);
        NamedNode {
            name: name.into(),
            node: NodeRef { ino, cap: 0 },
            stat,
            xattrs: false,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_directorys_listing_answers_until_the_timeout() {
        let cache = DirCache::new(TTL, Arc::default());
        assert!(matches!(cache.lookup(7, "a"), Cached::Unknown { fetch: false }));
        // The second miss within the timeout makes the directory busy: fetch its listing.
        assert!(matches!(cache.lookup(7, "b"), Cached::Unknown { fetch: true }));
        let began = cache.begin_fetch(7);
        cache.store(7, began, Some(vec![entry("a", 10)]));
        tokio::time::advance(TTL - Duration::from_millis(1)).await;
        assert!(
            matches!(cache.lookup(7, "a"), Cached::Found(node, _, left) if node.ino == 10 && left == Duration::from_millis(1))
        );
        assert!(matches!(cache.lookup(7, "b"), Cached::Absent(_)));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(
            matches!(cache.lookup(7, "a"), Cached::Unknown { .. }),
            "trusted no longer than the timeout"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_listing_fetched_across_a_change_here_is_not_kept() {
        let cache = DirCache::new(TTL, Arc::default());
        let began = cache.begin_fetch(7);
        cache.added(7, "new", NodeRef { ino: 11, cap: 0 }, None);
        cache.store(7, began, Some(vec![entry("a", 10)]));
        assert!(matches!(cache.lookup(7, "new"), Cached::Unknown { .. }));
        // A directory made here is known empty at once, and what this mount adds shows.
        cache.made_empty(8, Instant::now());
        assert!(matches!(cache.lookup(8, "x"), Cached::Absent(_)));
        cache.added(8, "x", NodeRef { ino: 12, cap: 0 }, None);
        assert!(
            matches!(cache.lookup(8, "x"), Cached::Unknown { fetch: false }),
            "its attributes come from the server"
        );
        cache.removed(8, "x");
        assert!(matches!(cache.lookup(8, "x"), Cached::Absent(_)));
        // Forgotten by the kernel: nothing of it stays.
        cache.drop_dir(8);
        assert!(matches!(cache.lookup(8, "x"), Cached::Unknown { fetch: false }));
        assert_eq!(cache.state().entries, 0, "no listing is left: 7's was never kept");

        // Attributes changed here while a listing was on its way are not taken from it.
        cache.made_empty(9, Instant::now());
        cache.added(
            9,
            "f",
            NodeRef { ino: 13, cap: 0 },
            Some(crate::testing::file_stat(13, 0)),
        );
        let began = cache.begin_fetch(10);
        cache.learned(13, &crate::testing::file_stat(13, 5));
        cache.store(10, began, Some(vec![entry("f", 13)]));
        assert!(matches!(cache.lookup(9, "f"), Cached::Found(_, stat, _) if stat.size == 5));
        assert!(matches!(cache.lookup(10, "f"), Cached::Found(_, stat, _) if stat.size == 5));
    }
}
