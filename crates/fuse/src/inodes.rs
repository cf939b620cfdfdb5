//! What this mount knows of each inode the kernel holds, in one table.
//!
//! An entry is made when the kernel is handed an inode (a lookup, a create, a listing) and
//! dropped in one place, [`InodeTable::forget`], when the kernel forgets it, so the mount's
//! memory follows the kernel's caches rather than everything ever seen. It holds the node
//! (number and capability), the attributes this mount's last change left, what the file
//! looked like when last opened here, whether this mount locked it, and the open file.
//! Keys are the kernel's inode numbers: the volume's, except the mount's root, always 1.

use crate::file::FileState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use strata_core::api::{ChunkRef, NodeRef, Stat};
use tokio::sync::Mutex as AsyncMutex;
use tokio::time::Instant;

/// The kernel's number of the mount's root.
pub const ROOT: u64 = 1;
/// Bytes of closed files' chunk lists kept at most (see [`Inode::closed_chunks`]).
const MAX_CLOSED_BYTES: usize = 64 << 20;

pub struct Inode {
    pub node: NodeRef,
    /// Lookups the kernel has not forgotten yet.
    lookups: u64,
    /// Attributes as this mount's last change of the inode left them, and when that change
    /// began: the kernel asks for them right after (its permission checks).
    pub attrs: Option<(Stat, Instant)>,
    /// Modification time and size when last opened or committed here: unchanged, the
    /// kernel may keep the pages it cached.
    pub seen: Option<(i64, u64)>,
    /// Whether this mount ever took a record lock on it: only then must a close unlock.
    pub locked: bool,
    pub open: Option<OpenFile>,
    /// A file's chunks as this mount's last close left them, and when, while it owned its
    /// tree: an open in the same grant starts from them instead of asking the server.
    closed_chunks: Option<(Vec<ChunkRef>, Instant)>,
}

/// A file open here, shared by its handles.
pub struct OpenFile {
    pub state: Arc<AsyncMutex<FileState>>,
    pub handles: u32,
}

pub struct InodeTable {
    inner: Mutex<Inner>,
}

struct Inner {
    inodes: HashMap<u64, Inode>,
    /// Bytes of the chunk lists kept in [`Inode::closed_chunks`].
    closed_bytes: usize,
    /// When every inode's attributes were last dropped: what a change that began before
    /// says may be older than what dropped them.
    attrs_cleared: Option<Instant>,
}

impl InodeTable {
    pub fn new(root: NodeRef) -> Self {
        let mut inodes = HashMap::new();
        // The kernel never forgets the root.
        inodes.insert(ROOT, Inode::new(root, 1));
        InodeTable {
            inner: Mutex::new(Inner {
                inodes,
                closed_bytes: 0,
                attrs_cleared: None,
            }),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the entry of `ino`, if the kernel holds it.
    pub fn with<T>(&self, ino: u64, f: impl FnOnce(&mut Inode) -> T) -> Option<T> {
        self.inner().inodes.get_mut(&ino).map(f)
    }

    pub fn node(&self, ino: u64) -> Option<NodeRef> {
        self.with(ino, |i| i.node)
    }

    /// The kernel is handed `node` as `ino` in an entry reply: one more lookup it will forget.
    pub fn learn(&self, ino: u64, node: NodeRef) {
        if ino == ROOT {
            return;
        }
        self.inner()
            .inodes
            .entry(ino)
            .and_modify(|i| {
                i.node = node;
                i.lookups += 1;
            })
            .or_insert_with(|| Inode::new(node, 1));
    }

    /// The kernel dropped `count` lookups of `ino`; with none left (and not open here) the
    /// entry goes, and with it everything known of the inode. Returns whether it went.
    pub fn forget(&self, ino: u64, count: u64) -> bool {
        if ino == ROOT {
            return false;
        }
        let mut inner = self.inner();
        let Some(inode) = inner.inodes.get_mut(&ino) else {
            return false;
        };
        inode.lookups = inode.lookups.saturating_sub(count);
        if inode.lookups == 0 && inode.open.is_none() {
            inner.remove(ino);
            return true;
        }
        false
    }

    /// A handle of `ino` closed; with none left the file is no longer open here (and goes
    /// if the kernel forgot it meanwhile). Returns whether the entry went.
    pub fn closed(&self, ino: u64) -> bool {
        let mut inner = self.inner();
        let Some(inode) = inner.inodes.get_mut(&ino) else {
            return false;
        };
        if let Some(open) = inode.open.as_mut() {
            open.handles = open.handles.saturating_sub(1);
            if open.handles == 0 {
                inode.open = None;
            }
        }
        if inode.open.is_none() && inode.lookups == 0 {
            inner.remove(ino);
            return true;
        }
        false
    }

    /// Keeps a closed file's chunks (`None`: forgets them), as this mount's close at `at`
    /// left them, if they fit in what is kept.
    pub fn keep_closed_chunks(&self, ino: u64, chunks: Option<Vec<ChunkRef>>, at: Instant) {
        let mut inner = self.inner();
        let inner = &mut *inner;
        let Some(inode) = inner.inodes.get_mut(&ino) else {
            return;
        };
        if let Some((old, _)) = inode.closed_chunks.take() {
            inner.closed_bytes -= chunk_bytes(&old);
        }
        let Some(chunks) = chunks else { return };
        let bytes = chunk_bytes(&chunks);
        if inner.closed_bytes + bytes <= MAX_CLOSED_BYTES {
            inner.closed_bytes += bytes;
            inode.closed_chunks = Some((chunks, at));
        }
    }

    /// The chunks kept for a closed file, and when its close was.
    pub fn closed_chunks(&self, ino: u64) -> Option<(Vec<ChunkRef>, Instant)> {
        self.inner().inodes.get(&ino)?.closed_chunks.clone()
    }

    /// How many inodes the kernel holds (besides the root), and how many are open here.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.inner();
        let open = inner.inodes.values().filter(|i| i.open.is_some()).count();
        (inner.inodes.len() - 1, open)
    }

    /// An inode's attributes as a change this mount made, begun at `since`, left them
    /// (`None`: unknown). What a newer change or a removal since then said stands.
    pub fn changed(&self, ino: u64, stat: Option<Stat>, since: Instant) {
        let mut inner = self.inner();
        let cleared = inner.attrs_cleared;
        let Some(inode) = inner.inodes.get_mut(&ino) else {
            return;
        };
        let Some(stat) = stat else {
            inode.attrs = None;
            return;
        };
        let newer = inode.attrs.as_ref().is_some_and(|(_, at)| *at > since);
        if newer || cleared.is_some_and(|at| at >= since) {
            return;
        }
        inode.attrs = Some((stat, since));
    }

    /// The attributes this mount's last change of `ino` left, and when that change began,
    /// unless dropped since; `None` when the kernel does not hold `ino`.
    pub fn attrs(&self, ino: u64) -> Option<Option<(Stat, Instant)>> {
        let inner = self.inner();
        let cleared = inner.attrs_cleared;
        let inode = inner.inodes.get(&ino)?;
        Some(inode.attrs.clone().filter(|(_, at)| cleared.is_none_or(|c| *at > c)))
    }

    /// Drops every inode's known attributes: a removal or rename changed some this mount
    /// cannot name (the link count of the file removed or replaced). One instant, not a walk
    /// of the table: attributes from a change that began before it no longer count.
    pub fn forget_attrs(&self) {
        self.inner().attrs_cleared = Some(Instant::now());
    }
}

impl Inner {
    /// The one place an entry goes.
    fn remove(&mut self, ino: u64) {
        if let Some((chunks, _)) = self.inodes.remove(&ino).and_then(|i| i.closed_chunks) {
            self.closed_bytes -= chunk_bytes(&chunks);
        }
    }
}

/// What a kept chunk list costs, about.
fn chunk_bytes(chunks: &[ChunkRef]) -> usize {
    chunks
        .iter()
        .map(|c| 64 + c.hash.as_ref().map_or(0, String::len) + c.data.as_ref().map_or(0, String::len))
        .sum()
}

impl Inode {
    fn new(node: NodeRef, lookups: u64) -> Self {
        Inode {
            node,
            lookups,
            attrs: None,
            seen: None,
            locked: false,
            open: None,
            closed_chunks: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn node(ino: u64) -> NodeRef {
        NodeRef { ino, cap: ino * 3 }
    }

    fn stat(ino: u64, size: u64) -> Stat {
        crate::testing::file_stat(ino, size)
    }

    #[test]
    fn an_entry_lives_as_long_as_the_kernels_lookups_and_opens() {
        let table = InodeTable::new(node(40));
        table.learn(5, node(5));
        table.learn(5, node(5));
        table.with(5, |i| i.seen = Some((1, 2)));
        table.forget(5, 1);
        assert_eq!(table.with(5, |i| i.seen), Some(Some((1, 2))), "one lookup left");
        table.with(5, |i| {
            i.open = Some(OpenFile {
                state: Arc::new(AsyncMutex::new(FileState::created(node(5), stat(5, 0)))),
                handles: 1,
            })
        });
        table.forget(5, 1);
        assert_eq!(table.counts(), (1, 1), "forgotten while open: kept until closed");
        table.closed(5);
        assert_eq!(table.counts(), (0, 0));
        assert!(table.node(5).is_none(), "everything known of it went at once");
        table.forget(ROOT, 100);
        assert_eq!(table.node(ROOT), Some(node(40)), "the root stays");
    }

    #[tokio::test(start_paused = true)]
    async fn attributes_known_from_a_change_yield_to_newer_news() {
        let table = InodeTable::new(node(1));
        table.learn(5, node(5));
        let early = Instant::now();
        tokio::time::advance(Duration::from_millis(10)).await;
        let late = Instant::now();
        table.changed(5, Some(stat(5, 2)), late);
        table.changed(5, Some(stat(5, 1)), early);
        assert_eq!(table.with(5, |i| i.attrs.clone().map(|a| a.0.size)), Some(Some(2)));
        // A removal elsewhere drops them all; a change that began before it does not return.
        tokio::time::advance(Duration::from_millis(1)).await;
        table.forget_attrs();
        table.changed(5, Some(stat(5, 3)), late);
        assert_eq!(table.attrs(5), Some(None));
        tokio::time::advance(Duration::from_millis(10)).await;
        table.changed(5, Some(stat(5, 4)), Instant::now());
        assert_eq!(table.attrs(5).flatten().map(|a| a.0.size), Some(4));
        // Unknown inodes are not kept.
        table.changed(9, Some(stat(9, 1)), Instant::now());
        assert!(table.node(9).is_none());
    }
}
