//! Filesystem semantics of a mount, in terms of the session API. No FUSE calls here:
//! [`crate::adapter`] turns each result into a reply.
//!
//! Inode numbers are the volume's, except that the mount's root is always 1. Consistency is
//! close-to-open: `open` fetches the file's current chunk list, `flush` (every close) and
//! `fsync` commit local changes. Calls that fail because the server is unreachable are
//! retried for a bounded time before they fail.

use crate::blocks::Blocks;
use crate::dircache::{Cached, DirCache, MAX_LISTING_PAGES};
use crate::file::FileState;
use crate::inodes::{InodeTable, OpenFile};
use crate::retry::Backoff;
use crate::writeback::WriteBack;
use crate::xattrs::AbsentXattrs;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_core::api::{
    AttrChanges, Content, CreateNode, FileKind, LinkNode, LockKind, LockRange, LockRequest, NamedNode, NewInode,
    NodeName, NodeOnly, NodeRef, ReadDir, RemoveName, RenameNode, SetAttrNode, Stat, Xattr, XattrSetMode,
};
use strata_core::session::{Request, SessionApi};
use strata_core::{Error, ErrorKind, Result};
use tokio::sync::Mutex as AsyncMutex;
// Tokio's clock, so that tests can pause it; the same as the system's otherwise.
use tokio::time::Instant;

pub use crate::inodes::ROOT;

/// An open file or directory.
enum Handle {
    File(u64),
    Dir(Listing),
}

/// What an open directory holds of its listing: one page from the server at a time, so
/// memory stays bounded whatever the directory's size, and each kernel call costs the
/// entries it returns. Offsets count entries from the start (`.` and `..` are 0 and 1),
/// so they are stable per handle.
struct Listing {
    /// When the page was asked for.
    fetched_at: Instant,
    /// The offset of the page's first entry, counting from the first name (not the dots).
    start: u64,
    page: Vec<NamedNode>,
    /// Where the server's next page starts; `None` after the last page.
    next: Option<String>,
    /// Whether `page` holds anything fetched yet.
    fetched: bool,
}

/// One entry of a directory reply: the offset of the entry after it, and, for every name
/// but `.` and `..`, the node and its attributes (READDIRPLUS hands them to the kernel).
pub struct DirEntry {
    pub ino: u64,
    pub next: u64,
    pub kind: FileKind,
    pub name: String,
    pub node: Option<(NodeRef, Stat)>,
    /// Whether the listing said the node has extended attributes.
    pub xattrs: bool,
    /// When the listing was asked for.
    pub listed_at: Instant,
}

impl Default for Listing {
    fn default() -> Self {
        Listing {
            fetched_at: Instant::now(),
            start: 0,
            page: Vec::new(),
            next: None,
            fetched: false,
        }
    }
}

pub struct Vfs {
    blocks: Blocks,
    /// The session as this mount uses it: changes deferred while it owns its tree.
    write_back: Arc<WriteBack>,
    root: NodeRef,
    /// Everything known of each inode the kernel holds (see [`InodeTable`]). Attributes
    /// there are as this mount's last change of the inode left them (a create or link in a
    /// directory; a file's create, setattr or commit), trusted within the timeout; a change
    /// here whose result is not known drops them; a removal or rename drops them all.
    inodes: InodeTable,
    handles: Mutex<HashMap<u64, Handle>>,
    next_handle: AtomicU64,
    /// Listings of busy directories, for lookups without a round trip: they hold inodes the
    /// kernel has not been handed yet, so they live beside the table, keyed by directory.
    dirs: DirCache,
    /// Extended attributes known absent, of inodes listed or made here (also before the
    /// kernel holds them).
    absent_xattrs: AbsentXattrs,
    /// How long the kernel may trust entries and attributes.
    ttl: Duration,
    retry_for: Duration,
}

/// What a lookup found, and for how long the kernel may trust it.
pub enum Lookup {
    Found(Stat, Duration),
    Absent(Duration),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn name_str(name: &[u8]) -> Result<&str> {
    strata_core::paths::check_name(name)?;
    std::str::from_utf8(name).map_err(|_| Error::invalid("name", "file names must be UTF-8"))
}

impl Vfs {
    /// A mount of `session`; with a `write_back` window, one that asks to own its tree and
    /// then ships its changes at most that long after making them.
    pub fn new(
        session: Arc<dyn SessionApi>,
        cache: Arc<crate::cache::BlockCache>,
        ttl: Duration,
        retry_for: Duration,
        write_back: Option<Duration>,
    ) -> Self {
        let root = session.info().root.node;
        let write_back = Arc::new(WriteBack::new(session, write_back, retry_for));
        Vfs {
            blocks: Blocks::new(write_back.clone(), cache),
            dirs: DirCache::new(ttl, write_back.epoch.clone()),
            write_back,
            root,
            inodes: InodeTable::new(root),
            handles: Mutex::default(),
            next_handle: AtomicU64::new(1),
            absent_xattrs: AbsentXattrs::new(ttl),
            ttl,
            retry_for,
        }
    }

    fn session(&self) -> &dyn SessionApi {
        self.blocks.session()
    }

    /// Writes the changes the mount defers to `journal` as they are made.
    pub(crate) fn keep_journal(&self, journal: crate::journal::Journal) {
        self.write_back.keep_journal(journal);
    }

    /// Whether the mount owns its tree now (its changes are deferred).
    pub fn owns_tree(&self) -> bool {
        self.write_back.owns()
    }

    /// Runs for as long as the mount does (a task of its own): asks for the tree, ships
    /// deferred changes, gives the tree back when recalled (see [`WriteBack::run`]).
    pub fn run_write_back(&self, longest: Duration) -> impl Future<Output = ()> + Send + 'static {
        self.write_back.clone().run(longest)
    }

    /// Retries `call` while the server is unreachable, as [`Backoff`] says.
    async fn retry<T, F: Future<Output = Result<T>>>(&self, call: impl Fn() -> F) -> Result<T> {
        crate::retry::retried(self.retry_for, call).await
    }

    /// [`Vfs::retry`] for a call that changes something. An attempt that failed as
    /// unreachable may have applied all the same (its answer was lost); a later attempt then
    /// fails the way a repeat does. Such an error, when `repeat` recognises it, comes back as
    /// `Ok(None)`: the change was made.
    async fn retry_change<T, F: Future<Output = Result<T>>>(
        &self,
        call: impl Fn() -> F,
        repeat: impl Fn(&Error) -> bool,
    ) -> Result<Option<T>> {
        let mut backoff = Backoff::new(self.retry_for);
        let mut maybe_applied = false;
        loop {
            match call().await {
                Err(e) if backoff.retry_after(&e).await => maybe_applied = true,
                Err(e) if maybe_applied && repeat(&e) => return Ok(None),
                other => return other.map(Some),
            }
        }
    }

    /// After a `create` or `link` whose first answer was lost: the entry it made, if `name`
    /// now holds what it asked for.
    async fn made_before(&self, parent: NodeRef, name: &str, same: impl Fn(&Stat) -> bool) -> Result<Stat> {
        let found = self
            .retry(|| self.session().lookup(NodeName::new(parent, name)))
            .await?;
        self.refreshed(found.node);
        if !same(&found.stat) {
            return Err(Error::new(ErrorKind::AlreadyExists, "file exists"));
        }
        Ok(self.learn(found.node, found.stat))
    }

    fn node(&self, ino: u64) -> Result<NodeRef> {
        self.inodes.node(ino).ok_or_else(|| Error::not_found("unknown inode"))
    }

    /// Records a node about to be handed to the kernel in an entry reply (one lookup the
    /// kernel will forget), and gives its stat the mount's inode number.
    fn learn(&self, node: NodeRef, mut stat: Stat) -> Stat {
        stat.ino = self.fuse_ino(node.ino);
        self.inodes.learn(stat.ino, node);
        stat
    }

    /// The kernel dropped `count` lookups of an inode; with none left, this mount forgets it
    /// too, so memory follows what the kernel caches, not everything ever seen.
    pub fn forget(&self, ino: u64, count: u64) {
        if self.inodes.forget(ino, count) {
            self.gone(ino);
        }
    }

    /// The kernel holds `ino` no more: what the caches beside the table keep of it goes too
    /// (a directory's listing, the extended attributes it lacks).
    fn gone(&self, ino: u64) {
        self.dirs.drop_dir(ino);
        self.absent_xattrs.changed(ino);
    }

    /// How many inodes this mount keeps (besides its root).
    pub fn known_inodes(&self) -> usize {
        self.inodes.counts().0
    }

    pub fn open_files(&self) -> usize {
        self.inodes.counts().1
    }

    /// The state of the file `ino` while it is open here.
    fn open_state(&self, ino: u64) -> Option<std::sync::Arc<AsyncMutex<FileState>>> {
        self.inodes
            .with(ino, |i| i.open.as_ref().map(|f| f.state.clone()))
            .flatten()
    }

    pub fn metrics(&self) -> &crate::metrics::MountMetrics {
        self.blocks.metrics()
    }

    /// The mount's metrics, with what it holds counted now.
    pub fn render_metrics(&self) -> String {
        let m = self.metrics();
        m.inodes.set(self.known_inodes() as i64);
        m.open_files.set(self.open_files() as i64);
        m.cache_bytes.set(self.blocks.cache_bytes() as i64);
        m.owns_tree.set(i64::from(self.owns_tree()));
        m.deferred_changes.set(self.write_back.queued() as i64);
        m.render()
    }

    fn fuse_ino(&self, ino: u64) -> u64 {
        if ino == self.root.ino { ROOT } else { ino }
    }

    /// Local size, times and attribute changes of a file with uncommitted changes override
    /// the server's.
    async fn overlay(&self, ino: u64, stat: Stat) -> Stat {
        match self.open_state(ino) {
            Some(state) => state.lock().await.overlay(stat),
            None => stat,
        }
    }

    /// A lookup from the kernel answered at once, when this mount's listing of the directory
    /// knows it (and the file has no local changes to lay over); else what the listing said,
    /// for [`Vfs::lookup_entry`].
    pub(crate) fn lookup_known(&self, parent: u64, name: &[u8]) -> Result<std::result::Result<Lookup, Cached>> {
        let name = name_str(name)?;
        self.node(parent)?;
        Ok(match self.dirs.lookup(parent, name) {
            Cached::Found(node, stat, left) if self.open_state(self.fuse_ino(node.ino)).is_none() => {
                Ok(Lookup::Found(self.learn(node, stat), left))
            }
            Cached::Absent(left) => Ok(Lookup::Absent(left)),
            other => Err(other),
        })
    }

    /// The rest of a lookup [`Vfs::lookup_known`] could not answer: from the listing, fetched
    /// first when the directory is busy, else by the server.
    pub(crate) async fn lookup_entry(&self, parent: u64, name: &[u8], mut cached: Cached) -> Result<Lookup> {
        let (dir, name_s) = (self.node(parent)?, name_str(name)?);
        if let Cached::Unknown { fetch: true } = cached {
            self.fetch_listing(parent, dir).await;
            cached = self.dirs.lookup(parent, name_s);
        }
        match cached {
            Cached::Found(node, stat, left) => {
                let stat = self.learn(node, stat);
                Ok(Lookup::Found(self.overlay(stat.ino, stat).await, left))
            }
            Cached::Absent(left) => Ok(Lookup::Absent(left)),
            Cached::Unknown { .. } => match self.lookup(parent, name).await {
                Ok(stat) => Ok(Lookup::Found(stat, self.ttl)),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(Lookup::Absent(self.ttl)),
                Err(e) => Err(e),
            },
        }
    }

    /// Fetches a whole directory listing for [`DirCache`], if it takes few enough pages.
    async fn fetch_listing(&self, ino: u64, dir: NodeRef) {
        let began = self.dirs.begin_fetch(ino);
        let since = began.began;
        let mut entries = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_LISTING_PAGES {
            match self
                .session()
                .readdir(ReadDir {
                    node: dir,
                    after: after.clone(),
                    limit: None,
                })
                .await
            {
                Ok(page) => {
                    for e in page.entries.iter().filter(|e| !e.xattrs) {
                        self.absent_xattrs.none(e.node.ino, since);
                    }
                    entries.extend(page.entries);
                    match page.next {
                        Some(next) => after = Some(next),
                        None => return self.dirs.store(ino, began, Some(entries)),
                    }
                }
                Err(_) => break,
            }
        }
        self.dirs.store(ino, began, None);
    }

    /// A lookup at the server.
    pub async fn lookup(&self, parent: u64, name: &[u8]) -> Result<Stat> {
        let (parent, name) = (self.node(parent)?, name_str(name)?);
        let found = self
            .retry(|| self.session().lookup(NodeName::new(parent, name)))
            .await?;
        self.refreshed(found.node);
        let stat = self.learn(found.node, found.stat);
        Ok(self.overlay(stat.ino, stat).await)
    }

    /// Attributes for the kernel, and how long it may trust them.
    pub async fn getattr_entry(&self, ino: u64) -> Result<(Stat, Duration)> {
        let known = self
            .inodes
            .attrs(ino)
            .ok_or_else(|| Error::not_found("unknown inode"))?;
        if let Some((mut stat, at)) = known {
            let left = self.attrs_left(at);
            if !left.is_zero() {
                stat.ino = ino;
                return Ok((self.overlay(ino, stat).await, left));
            }
        }
        Ok((self.getattr(ino).await?, self.ttl))
    }

    /// How much longer attributes this mount's change left at `at` may be trusted: the
    /// attribute timeout from then, or, made in the grant of ownership that holds now, for
    /// as long as it does.
    fn attrs_left(&self, at: Instant) -> Duration {
        if self.write_back.owned_since().is_some_and(|granted| at >= granted) {
            return self.ttl;
        }
        self.ttl.saturating_sub(at.elapsed())
    }

    /// An inode's attributes as a change this mount made, begun at `since`, left them
    /// (`None`: unknown). What a newer change or a removal since then said stands.
    fn changed(&self, node: NodeRef, stat: Option<Stat>, since: Instant) {
        let stat = stat.filter(|_| !self.ttl.is_zero());
        self.inodes.changed(self.fuse_ino(node.ino), stat, since);
    }

    /// Drops every inode's known attributes: a removal or rename changed some this mount
    /// cannot name (the link count of the file removed or replaced).
    fn forget_attrs(&self) {
        self.inodes.forget_attrs();
    }

    /// Attributes were just read from the server: what this mount's own change left goes, as
    /// the read may be older or newer than that change.
    fn refreshed(&self, node: NodeRef) {
        self.inodes.with(self.fuse_ino(node.ino), |i| i.attrs = None);
    }

    /// [`Vfs::changed`] for a directory, whose attributes in the listing that holds it change
    /// too: to `stat` while this mount owns its tree (the listing keeps answering lookups of
    /// it: tar and git walk paths through directories they just filled), else asked again.
    fn dir_changed(&self, dir: NodeRef, stat: Option<Stat>, since: Instant) {
        match &stat {
            Some(stat) if self.write_back.owns() => self.dirs.learned(dir.ino, stat),
            _ => self.dirs.changed(dir.ino),
        }
        self.changed(dir, stat, since);
    }

    pub async fn getattr(&self, ino: u64) -> Result<Stat> {
        let node = self.node(ino)?;
        match self.retry(|| self.session().getattr(NodeOnly { node })).await {
            Ok(mut stat) => {
                self.refreshed(node);
                stat.ino = ino;
                Ok(self.overlay(ino, stat).await)
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                // Deleted while open here: it lives on, with no links, until the last close.
                let state = self.open_state(ino).ok_or(e)?;
                let state = state.lock().await;
                Ok(Stat {
                    ino,
                    size: state.size,
                    nlink: 0,
                    ..state.overlay(state.stat.clone())
                })
            }
            Err(e) => Err(e),
        }
    }

    pub async fn setattr(&self, ino: u64, mut changes: AttrChanges) -> Result<Stat> {
        let node = self.node(ino)?;
        if changes.size.is_some() {
            // Its content changes at the server, or in the open file's state.
            self.inodes.keep_closed_chunks(ino, None, Instant::now());
        }
        let state = self.open_state(ino);
        let mut guard = match &state {
            Some(s) => Some(s.lock().await),
            None => None,
        };
        let mut deferred = None;
        if let Some(state) = guard.as_mut() {
            // Mode, owner and times of a file just created here, with writes not yet
            // committed, go to the server with those writes, at close or fsync: one round
            // trip, not one each (tar sets all three on every file it extracts).
            if changes.size.is_none() && state.may_defer_attrs() {
                state.defer_attrs(&changes);
                let mut stat = state.overlay(state.stat.clone());
                stat.ino = ino;
                return Ok(stat);
            }
            // Changes kept for the commit go now, first: what this call sets wins.
            deferred = state.take_deferred();
            if let Some(mut kept) = deferred.clone() {
                kept.merge(&changes);
                changes = kept;
            }
            if let Some(size) = changes.size {
                state.truncate(size).await?;
            }
        }
        let clean = guard.as_ref().is_none_or(|state| !state.is_dirty());
        if changes.size.is_none()
            && clean
            && let Some(stat) = self.set_here(ino, node, &changes)?
        {
            if let Some(state) = guard.as_mut() {
                state.stat = stat.clone();
            }
            return Ok(stat);
        }
        let req = SetAttrNode {
            node,
            changes,
            at: None,
        };
        let since = Instant::now();
        self.dir_changed(node, None, since);
        let result = self.retry(|| self.session().setattr(req.clone())).await;
        let mut stat = match result {
            Ok(stat) => stat,
            Err(e) => {
                if let (Some(state), Some(kept)) = (guard.as_mut(), deferred) {
                    state.defer_attrs(&kept);
                }
                return Err(e);
            }
        };
        self.changed(node, Some(stat.clone()), since);
        if let Some(state) = guard.as_mut() {
            state.stat = stat.clone();
            state.keep_times(&req.changes);
            stat = state.overlay(stat);
        }
        stat.ino = ino;
        Ok(stat)
    }

    /// Changes mode, owner or times without waiting for the server, when this mount owns
    /// its tree and knows the inode's attributes: deferred, and answered here. `None`: make
    /// the change at the server.
    fn set_here(&self, ino: u64, node: NodeRef, changes: &AttrChanges) -> Result<Option<Stat>> {
        let epoch = self.write_back.epoch.now();
        if !crate::writeback::Epoch::owning(epoch) {
            return Ok(None);
        }
        let Some((mut stat, at)) = self.inodes.attrs(ino).flatten() else {
            return Ok(None);
        };
        if self.attrs_left(at).is_zero() {
            return Ok(None);
        }
        // What the server would refuse is refused now: a deferred change must not fail later.
        if let Some(mode) = changes.mode {
            strata_core::api::check_mode(mode, "mode")?;
        }
        let since = Instant::now();
        let now = crate::file::now_ns();
        changes.apply_to(&mut stat);
        stat.ctime = now;
        let req = SetAttrNode {
            node,
            changes: changes.clone(),
            at: Some(now),
        };
        if !self.write_back.defer(epoch, Request::SetAttr(req)) {
            return Ok(None);
        }
        stat.ino = ino;
        self.changed(node, Some(stat.clone()), since);
        self.dirs.learned(node.ino, &stat);
        Ok(Some(stat))
    }

    pub async fn readlink(&self, ino: u64) -> Result<String> {
        // A target never changes: one known here, however old, is the target.
        let known = self.inodes.attrs(ino).flatten().and_then(|(stat, _)| stat.target);
        if let Some(target) = known {
            return Ok(target);
        }
        let stat = self.getattr(ino).await?;
        stat.target.ok_or_else(|| Error::invalid("node", "not a symbolic link"))
    }

    pub async fn make(&self, parent: u64, name: &[u8], new: NewInode) -> Result<Stat> {
        Ok(self.make_node(parent, name, new, false).await?.0)
    }

    /// Creates a node; also says whether this call made it (not so when a retry found what
    /// a lost first attempt made, or what someone else made meanwhile). An `exclusive` create
    /// never takes an existing entry for its own: a lock file must not be shared.
    async fn make_node(&self, dir: u64, name: &[u8], new: NewInode, exclusive: bool) -> Result<(Stat, bool)> {
        let (parent, name) = (self.node(dir)?, name_str(name)?);
        let mut req = CreateNode {
            parent,
            name: name.to_owned(),
            new: NewInode {
                mode: new.mode & 0o7777,
                ..new
            },
            ino: None,
            at: None,
        };
        let since = Instant::now();
        if let Some(made) = self.make_here(dir, &mut req, since).await? {
            return Ok((made, true));
        }
        let exists = |e: &Error| e.kind == ErrorKind::AlreadyExists && !exclusive;
        let made = self.retry_change(|| self.session().create(req.clone()), exists).await;
        let dir_stat = made
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(|m| m.parent.clone());
        self.dir_changed(parent, dir_stat, since);
        match made? {
            Some(made) => {
                self.dirs.added(dir, name, made.node, None);
                if made.stat.kind == FileKind::Directory {
                    self.dirs.made_empty(self.fuse_ino(made.node.ino), since);
                }
                // New: no extended attributes.
                self.absent_xattrs.none(made.node.ino, since);
                let stat = self.learn(made.node, made.stat.clone());
                self.changed(made.node, Some(made.stat), since);
                Ok((stat, true))
            }
            None => Ok((self.made_before(parent, name, |s| s.kind == new.kind).await?, false)),
        }
    }

    /// Makes a node without waiting for the server, when this mount owns its tree and knows
    /// the name is free: the create is deferred (see [`crate::writeback`]) and answered here,
    /// with an inode number the server granted. `None`: make it at the server.
    async fn make_here(&self, dir: u64, req: &mut CreateNode, since: Instant) -> Result<Option<Stat>> {
        if !self.write_back.owns() || !self.dirs.surely_absent(dir, &req.name) {
            return Ok(None);
        }
        // The directory's attributes change with the create, and the kernel asks for them
        // right after: they must be known, to be answered here too.
        let dir_stat = match self.inodes.attrs(dir).flatten() {
            Some((stat, at)) if !self.attrs_left(at).is_zero() => stat,
            _ => self.getattr(dir).await?,
        };
        // Checked again after that wait, in one grant, and made only if that grant still
        // holds when deferred.
        let epoch = self.write_back.epoch.now();
        if !self.dirs.surely_absent(dir, &req.name) {
            return Ok(None);
        }
        let Some(node) = self.write_back.take_inode(epoch) else {
            return Ok(None);
        };
        let now = crate::file::now_ns();
        (req.ino, req.at) = (Some(node), Some(now));
        let new = &req.new;
        let is_dir = new.kind == FileKind::Directory;
        let stat = Stat {
            ino: node.ino,
            kind: new.kind,
            mode: new.mode & 0o7777,
            uid: new.uid,
            gid: new.gid,
            size: new.target.as_ref().map_or(0, |t| t.len() as u64),
            nlink: if is_dir { 2 } else { 1 },
            rdev: new.rdev,
            atime: now,
            mtime: now,
            ctime: now,
            target: new.target.clone(),
        };
        if !self.write_back.defer(epoch, Request::Create(req.clone())) {
            return Ok(None);
        }
        let dir_stat = Stat {
            nlink: dir_stat.nlink + u32::from(is_dir),
            mtime: now,
            ctime: now,
            ..dir_stat
        };
        self.dir_changed(req.parent, Some(dir_stat), since);
        self.dirs.added(dir, &req.name, node, Some(stat.clone()));
        if is_dir {
            self.dirs.made_empty(self.fuse_ino(node.ino), since);
        }
        self.absent_xattrs.none(node.ino, since);
        let out = self.learn(node, stat.clone());
        self.changed(node, Some(stat), since);
        Ok(Some(out))
    }

    pub async fn link(&self, ino: u64, dir: u64, name: &[u8]) -> Result<Stat> {
        let (node, parent, name) = (self.node(ino)?, self.node(dir)?, name_str(name)?);
        let exists = |e: &Error| e.kind == ErrorKind::AlreadyExists;
        let since = Instant::now();
        let linked = self
            .retry_change(
                || {
                    self.session().link(LinkNode {
                        node,
                        parent,
                        name: name.into(),
                    })
                },
                exists,
            )
            .await;
        let dir_stat = linked
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(|l| l.parent.clone());
        self.dir_changed(node, None, since);
        self.dir_changed(parent, dir_stat, since);
        match linked? {
            Some(linked) => {
                self.dirs.added(dir, name, linked.node, None);
                Ok(self.learn(linked.node, linked.stat))
            }
            None => self.made_before(parent, name, |s| s.ino == node.ino).await,
        }
    }

    pub async fn unlink(&self, dir: u64, name: &[u8]) -> Result<()> {
        self.remove(dir, name, false).await
    }

    pub async fn rmdir(&self, dir: u64, name: &[u8]) -> Result<()> {
        self.remove(dir, name, true).await
    }

    /// Removes a name: a file's (`unlink`) or an empty directory's (`rmdir`).
    async fn remove(&self, dir: u64, name: &[u8], directory: bool) -> Result<()> {
        let (parent, name) = (self.node(dir)?, name_str(name)?);
        if self.remove_here(dir, parent, name, directory).await? {
            return Ok(());
        }
        let gone = |e: &Error| e.kind == ErrorKind::NotFound;
        let call = || {
            let entry = RemoveName::new(parent, name);
            async move {
                match directory {
                    true => self.session().rmdir(entry).await,
                    false => self.session().unlink(entry).await,
                }
            }
        };
        let result = self.retry_change(call, gone).await;
        self.removed(dir, parent, name, result.is_ok());
        // What was removed (a file's link count, a directory) may be known here.
        self.forget_attrs();
        result.map(drop)
    }

    /// Removes a name without waiting for the server, when this mount owns its tree and
    /// knows what the name holds (a file, or a directory it knows is empty): the removal is
    /// deferred and answered here. False: remove it at the server (which also says what is
    /// wrong with a removal the kernel let through).
    async fn remove_here(&self, dir: u64, parent: NodeRef, name: &str, directory: bool) -> Result<bool> {
        let known = |epoch| matches!(self.dirs.entry_here(dir, name, epoch), Some(Some(_)));
        if !known(self.write_back.epoch.now()) {
            return Ok(false);
        }
        let dir_stat = self.dir_stat(dir).await?;
        // Checked again after that wait, in one grant, and made only if that grant still
        // holds when deferred.
        let epoch = self.write_back.epoch.now();
        let Some(Some((node, listed))) = self.dirs.entry_here(dir, name, epoch) else {
            return Ok(false);
        };
        let Some(mut stat) = self.known_stat(node, listed) else {
            return Ok(false);
        };
        let is_dir = stat.kind == FileKind::Directory;
        if is_dir != directory || (is_dir && !self.dirs.empty_here(self.fuse_ino(node.ino), epoch)) {
            return Ok(false);
        }
        let (since, now) = (Instant::now(), crate::file::now_ns());
        let req = RemoveName {
            parent,
            name: name.to_owned(),
            at: Some(now),
        };
        let request = match directory {
            true => Request::Rmdir(req),
            false => Request::Unlink(req),
        };
        if !self.write_back.defer(epoch, request) {
            return Ok(false);
        }
        self.dirs.removed(dir, name);
        if !is_dir {
            // Its other names, and open handles, see one link fewer.
            stat.nlink = stat.nlink.saturating_sub(1);
            stat.ctime = now;
            self.dirs.learned(node.ino, &stat);
            self.changed(node, Some(stat), since);
        }
        let dir_stat = Stat {
            nlink: dir_stat.nlink - u32::from(is_dir && dir_stat.nlink > 2),
            mtime: now,
            ctime: now,
            ..dir_stat
        };
        self.dir_changed(parent, Some(dir_stat), since);
        Ok(true)
    }

    /// The attributes of the directory `dir` as this mount knows them, asked of the server
    /// when not known: a change made here changes them, and the kernel asks right after.
    async fn dir_stat(&self, dir: u64) -> Result<Stat> {
        match self.inodes.attrs(dir).flatten() {
            Some((stat, at)) if !self.attrs_left(at).is_zero() => Ok(stat),
            _ => self.getattr(dir).await,
        }
    }

    /// An entry's attributes as this mount knows them for sure while it owns its tree: its
    /// own last change's, or those of the listing that holds it (`listed`).
    fn known_stat(&self, node: NodeRef, listed: Option<Stat>) -> Option<Stat> {
        let granted = self.write_back.owned_since()?;
        match self.inodes.attrs(self.fuse_ino(node.ino)).flatten() {
            Some((stat, at)) if at >= granted => Some(stat),
            _ => listed,
        }
    }

    /// A name went from a directory (`done`), or may have: its listing and attributes here
    /// too. A call that failed may have left the name (a directory not empty), so the listing
    /// is dropped rather than told the name is gone.
    fn removed(&self, dir: u64, parent: NodeRef, name: &str, done: bool) {
        if done {
            self.dirs.removed(dir, name);
        } else {
            self.dirs.forget(dir);
        }
        self.dir_changed(parent, None, Instant::now());
    }

    pub async fn rename(&self, from: (u64, &[u8]), to: (u64, &[u8]), no_replace: bool) -> Result<()> {
        let mut req = RenameNode {
            parent: self.node(from.0)?,
            name: name_str(from.1)?.to_owned(),
            new_parent: self.node(to.0)?,
            new_name: name_str(to.1)?.to_owned(),
            no_replace,
            at: None,
        };
        if self.rename_here(from.0, to.0, &mut req).await? {
            return Ok(());
        }
        let gone = |e: &Error| e.kind == ErrorKind::NotFound;
        let result = self.retry_change(|| self.session().rename(req.clone()), gone).await;
        // Both listings are dropped: a rename may also leave its source (two names of one
        // file, or a failure), which only the server knows.
        self.removed(from.0, req.parent, &req.name, false);
        self.dirs.forget(to.0);
        self.dir_changed(req.new_parent, None, Instant::now());
        // A directory moved or replaced has new attributes too (ctime, its `..`).
        self.forget_attrs();
        result.map(drop)
    }

    /// Renames without waiting for the server, when this mount owns its tree, knows both
    /// directories' listings and what they hold, and the rename is a plain one: a file or
    /// symlink to a free name or over another such, or a directory to a free name in the same
    /// directory (a move elsewhere needs the tree above, which the server checks). Deferred
    /// and answered here. False: rename at the server.
    async fn rename_here(&self, from: u64, to: u64, req: &mut RenameNode) -> Result<bool> {
        let epoch = self.write_back.epoch.now();
        let known = matches!(self.dirs.entry_here(from, &req.name, epoch), Some(Some(_)))
            && self.dirs.entry_here(to, &req.new_name, epoch).is_some();
        if !known || (from, &req.name) == (to, &req.new_name) {
            return Ok(false);
        }
        let from_stat = self.dir_stat(from).await?;
        let to_stat = if to == from {
            None
        } else {
            Some(self.dir_stat(to).await?)
        };
        let epoch = self.write_back.epoch.now();
        let (Some(Some((node, listed))), Some(target)) = (
            self.dirs.entry_here(from, &req.name, epoch),
            self.dirs.entry_here(to, &req.new_name, epoch),
        ) else {
            return Ok(false);
        };
        let Some(mut stat) = self.known_stat(node, listed) else {
            return Ok(false);
        };
        let is_dir = stat.kind == FileKind::Directory;
        let replaced = match target {
            None if !is_dir || from == to => None,
            Some((old, listed)) if !is_dir && !req.no_replace && old.ino != node.ino => {
                match self.known_stat(old, listed) {
                    Some(old_stat) if old_stat.kind != FileKind::Directory => Some((old, old_stat)),
                    _ => return Ok(false),
                }
            }
            _ => return Ok(false),
        };
        let (since, now) = (Instant::now(), crate::file::now_ns());
        req.at = Some(now);
        if !self.write_back.defer(epoch, Request::Rename(req.clone())) {
            req.at = None;
            return Ok(false);
        }
        if let Some((old, mut old_stat)) = replaced {
            self.dirs.removed(to, &req.new_name);
            old_stat.nlink = old_stat.nlink.saturating_sub(1);
            old_stat.ctime = now;
            self.dirs.learned(old.ino, &old_stat);
            self.changed(old, Some(old_stat), since);
        }
        stat.ctime = now;
        self.dirs.removed(from, &req.name);
        self.dirs.added(to, &req.new_name, node, Some(stat.clone()));
        self.changed(node, Some(stat), since);
        let touched = |stat: Stat| Stat {
            mtime: now,
            ctime: now,
            ..stat
        };
        self.dir_changed(req.parent, Some(touched(from_stat)), since);
        if let Some(to_stat) = to_stat {
            self.dir_changed(req.new_parent, Some(touched(to_stat)), since);
        }
        Ok(true)
    }

    fn new_handle(&self, handle: Handle) -> u64 {
        let fh = self.next_handle.fetch_add(1, Ordering::Relaxed);
        lock(&self.handles).insert(fh, handle);
        fh
    }

    /// Opens a file; returns its handle and whether the kernel may keep its cached pages.
    pub async fn open(&self, ino: u64) -> Result<(u64, bool)> {
        let existing = self
            .inodes
            .with(ino, |i| {
                i.open.as_mut().map(|f| {
                    f.handles += 1;
                    f.state.clone()
                })
            })
            .flatten();
        if let Some(state) = existing {
            // Close-to-open holds for a file already open here too: unless this mount has
            // changes of its own in it, take what others committed since.
            let fh = self.new_handle(Handle::File(ino));
            let mut state = state.lock().await;
            if state.is_dirty() {
                return Ok((fh, true));
            }
            let fresh = match self.node(ino) {
                Ok(node) => self
                    .retry(|| self.session().content(NodeOnly { node }))
                    .await
                    .map(|content| (node, content)),
                Err(e) => Err(e),
            };
            let (node, content) = match fresh {
                Ok(fresh) => fresh,
                Err(e) => {
                    // The release takes the file's lock: let go of it first.
                    drop(state);
                    let _ = self.release(fh).await;
                    return Err(e);
                }
            };
            let keep_cache = self.seen(ino, (content.stat.mtime, content.stat.size));
            self.refreshed(node);
            *state = FileState::new(node, content);
            return Ok((fh, keep_cache));
        }
        let node = self.node(ino)?;
        let content = match self.content_here(ino) {
            Some(content) => content,
            None => {
                let content = self.retry(|| self.session().content(NodeOnly { node })).await?;
                self.refreshed(node);
                content
            }
        };
        let keep_cache = self.seen(ino, (content.stat.mtime, content.stat.size));
        let state = std::sync::Arc::new(AsyncMutex::new(FileState::new(node, content)));
        self.opened(ino, state)?;
        Ok((self.new_handle(Handle::File(ino)), keep_cache))
    }

    /// A file's content as this mount's last close left it, when that is the truth: it owns
    /// its tree, and both the chunks and the attributes were known in this grant.
    fn content_here(&self, ino: u64) -> Option<Content> {
        let granted = self.write_back.owned_since()?;
        let (chunks, known) = self.inodes.closed_chunks(ino)?;
        let (stat, at) = self.inodes.attrs(ino).flatten()?;
        (known >= granted && at >= granted).then_some(Content { stat, chunks })
    }

    /// Creates a file and opens it. When another mount created the name since the kernel
    /// looked it up, the existing file is opened instead (and emptied for `O_TRUNC`), as
    /// POSIX has `open(O_CREAT)` do; only `O_EXCL` fails with "exists".
    pub async fn create_file(&self, parent: u64, name: &[u8], new: NewInode, flags: i32) -> Result<(Stat, u64)> {
        let exclusive = flags & libc::O_EXCL != 0;
        let (found, exists) = match self.make_node(parent, name, new, exclusive).await {
            Ok((made, true)) => return Ok((made.clone(), self.open_new(&made)?)),
            Ok((found, false)) => (found, Error::new(ErrorKind::AlreadyExists, "file exists")),
            Err(e) if e.kind == ErrorKind::AlreadyExists && !exclusive => (self.lookup(parent, name).await?, e),
            Err(e) => return Err(e),
        };
        match found.kind {
            FileKind::File => {}
            FileKind::Directory => return Err(Error::new(ErrorKind::IsADirectory, "is a directory")),
            _ => return Err(exists),
        }
        let (fh, _) = self.open(found.ino).await?;
        if flags & libc::O_TRUNC == 0 {
            return Ok((found, fh));
        }
        let emptied = AttrChanges {
            size: Some(0),
            ..AttrChanges::default()
        };
        match self.setattr(found.ino, emptied).await {
            Ok(stat) => Ok((stat, fh)),
            Err(e) => {
                let _ = self.release(fh).await;
                Err(e)
            }
        }
    }

    /// Opens a file this mount just created: its content is known to be empty.
    pub fn open_new(&self, stat: &Stat) -> Result<u64> {
        let node = self.node(stat.ino)?;
        let state = std::sync::Arc::new(AsyncMutex::new(FileState::created(node, stat.clone())));
        self.seen(stat.ino, (stat.mtime, stat.size));
        self.opened(stat.ino, state)?;
        Ok(self.new_handle(Handle::File(stat.ino)))
    }

    /// One more handle of `ino`, open with `state` unless another open raced this one (then
    /// they share the first one's state).
    fn opened(&self, ino: u64, state: std::sync::Arc<AsyncMutex<FileState>>) -> Result<()> {
        self.inodes
            .with(ino, |i| {
                i.open.get_or_insert(OpenFile { state, handles: 0 }).handles += 1
            })
            .ok_or_else(|| Error::not_found("unknown inode"))
    }

    /// Records what `ino` looks like as opened now; says whether it looked the same before.
    fn seen(&self, ino: u64, version: (i64, u64)) -> bool {
        self.inodes
            .with(ino, |i| i.seen.replace(version) == Some(version))
            .unwrap_or(false)
    }

    fn file_state(&self, fh: u64) -> Result<(u64, std::sync::Arc<AsyncMutex<FileState>>)> {
        let ino = match lock(&self.handles).get(&fh) {
            Some(Handle::File(ino)) => *ino,
            _ => return Err(Error::invalid("handle", "not an open file")),
        };
        let state = self
            .open_state(ino)
            .ok_or_else(|| Error::internal("open file without state"))?;
        Ok((ino, state))
    }

    pub async fn read(&self, fh: u64, offset: u64, size: u32) -> Result<Vec<u8>> {
        let (_, state) = self.file_state(fh)?;
        let mut state = state.lock().await;
        let mut backoff = Backoff::new(self.retry_for);
        loop {
            match state.read(&self.blocks, offset, size).await {
                Err(e) if backoff.retry_after(&e).await => {}
                other => return other,
            }
        }
    }

    /// Writes, waiting out a server outage like every other call: a write needs the server
    /// when it reads a block it changes in part, or when its memory is full and it must wait
    /// for an upload. A write that failed part way is repeated whole, which lands the same.
    pub async fn write(&self, fh: u64, offset: u64, data: &[u8]) -> Result<u32> {
        let (_, state) = self.file_state(fh)?;
        let mut state = state.lock().await;
        let mut backoff = Backoff::new(self.retry_for);
        loop {
            match state.write(&self.blocks, offset, data).await {
                Err(e) if backoff.retry_after(&e).await => {}
                other => return other.map(|()| data.len() as u32),
            }
        }
    }

    /// Commits an open file's changes: visible to every other open when it returns
    /// (close-to-open), and on stable storage too if `durable` (fsync). Returns true when
    /// other writers' changes were merged in: pages the kernel cached here are stale.
    pub async fn commit(&self, fh: u64, durable: bool) -> Result<bool> {
        let (ino, state) = self.file_state(fh)?;
        let mut state = state.lock().await;
        let merged = self.commit_locked(ino, &mut state, durable).await?;
        if durable {
            // What an earlier close committed, or deferred, must be durable too.
            self.write_back.sync_all().await?;
            self.deferred_ok()?;
        }
        Ok(merged)
    }

    /// [`Vfs::commit`] of a file whose lock the caller holds.
    async fn commit_locked(&self, ino: u64, state: &mut FileState, durable: bool) -> Result<bool> {
        if !state.is_dirty() {
            return Ok(false);
        }
        let since = Instant::now();
        let mut backoff = Backoff::new(self.retry_for);
        let result = loop {
            match state.commit(&self.blocks, durable, &self.write_back).await {
                Err(e) if backoff.retry_after(&e).await => {}
                other => break other,
            }
        };
        match result {
            // The whole volume was deleted: say so, never drop the writes silently.
            Err(e) if e.kind == ErrorKind::VolumeGone => Err(Error::new(
                ErrorKind::Conflict,
                format!("{}: this mount's changes cannot be kept", e.message),
            )),
            // The file was deleted while open: its content has no reader left to keep.
            Err(e) if e.kind == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
            Ok(None) => Ok(false),
            // Others may have committed other parts of the file before this commit, which
            // pages cached here would not show: the next open here starts afresh.
            Ok(Some((stat, merged))) => {
                self.inodes.with(ino, |i| i.seen = None);
                if self.write_back.owns() {
                    self.dirs.learned(state.node.ino, &stat);
                } else {
                    self.dirs.changed(state.node.ino);
                }
                self.changed(state.node, Some(stat), since);
                Ok(merged)
            }
        }
    }

    pub async fn release(&self, fh: u64) -> Result<bool> {
        // Every close already committed at its flush; a release commits only as the last
        // handle's fallback. A late release of an older handle must not commit what a newer
        // one is still writing: that writer's own close is its commit point. The handles are
        // counted under the file's lock: a newer handle is counted before its open returns,
        // and its writes wait for that lock, so none can slip in between count and commit
        // (tasks run on several threads, and one may stall between any two steps).
        let committed = match self.file_state(fh) {
            Ok((ino, state)) => {
                let mut state = state.lock().await;
                let handles = self.inodes.with(ino, |i| i.open.as_ref().map(|f| f.handles));
                let last = handles.flatten().is_none_or(|n| n <= 1);
                if last {
                    let committed = self.commit_locked(ino, &mut state, false).await;
                    if let Some((chunks, at)) = state.chunks().filter(|_| self.write_back.owns()) {
                        self.inodes.keep_closed_chunks(ino, Some(chunks), at);
                    }
                    committed
                } else {
                    Ok(false)
                }
            }
            Err(e) => Err(e),
        };
        if let Some(Handle::File(ino)) = lock(&self.handles).remove(&fh)
            && self.inodes.closed(ino)
        {
            self.gone(ino);
        }
        committed
    }

    pub async fn opendir(&self, ino: u64) -> Result<u64> {
        self.node(ino)?;
        Ok(self.new_handle(Handle::Dir(Listing::default())))
    }

    /// Entries from `offset` on, `.` and `..` first: the rest of the page that holds
    /// `offset`, the next page fetched when the kernel reached the end of this one.
    pub async fn readdir(&self, fh: u64, ino: u64, offset: u64) -> Result<Vec<DirEntry>> {
        let dot = |(at, name): (usize, &str)| DirEntry {
            ino,
            next: at as u64 + 1,
            kind: FileKind::Directory,
            name: name.to_owned(),
            node: None,
            xattrs: false,
            listed_at: Instant::now(),
        };
        let mut out: Vec<DirEntry> = [".", ".."]
            .into_iter()
            .enumerate()
            .skip(offset as usize)
            .map(dot)
            .collect();
        let want = offset.saturating_sub(2);
        let node = self.node(ino)?;
        // Offset 0 (a first read or a rewind) lists the directory as it is now.
        let mut restart = offset == 0;
        loop {
            // Which page to fetch, if the one held does not cover `want`.
            let fetch = {
                let handles = lock(&self.handles);
                let Some(Handle::Dir(l)) = handles.get(&fh) else {
                    return Err(Error::invalid("handle", "not an open directory"));
                };
                let end = l.start + l.page.len() as u64;
                if restart || !l.fetched || want < l.start {
                    Some((None, 0))
                } else if want < end {
                    let from = (want - l.start) as usize;
                    out.extend(l.page[from..].iter().enumerate().map(|(i, e)| DirEntry {
                        ino: self.fuse_ino(e.node.ino),
                        next: 2 + want + i as u64 + 1,
                        kind: e.stat.kind,
                        name: e.name.clone(),
                        node: Some((e.node, e.stat.clone())),
                        xattrs: e.xattrs,
                        listed_at: l.fetched_at,
                    }));
                    None
                } else {
                    l.next.clone().map(|after| (Some(after), end))
                }
            };
            let Some((after, start)) = fetch else {
                return Ok(out);
            };
            let fetched_at = Instant::now();
            let page = self
                .retry(|| {
                    self.session().readdir(ReadDir {
                        node,
                        after: after.clone(),
                        limit: None,
                    })
                })
                .await?;
            if let Some(Handle::Dir(l)) = lock(&self.handles).get_mut(&fh) {
                *l = Listing {
                    fetched_at,
                    start,
                    page: page.entries,
                    next: page.next,
                    fetched: true,
                };
            }
            restart = false;
        }
    }

    /// The attributes of a listed entry as this mount shows them (its own uncommitted
    /// writes count).
    pub async fn entry_stat(&self, stat: Stat) -> Stat {
        self.overlay(stat.ino, stat).await
    }

    /// Records a node the kernel took from a READDIRPLUS reply (one lookup it will forget)
    /// listed at `since`.
    pub fn learn_listed(&self, node: NodeRef, stat: Stat, xattrs: bool, since: Instant) {
        if !xattrs {
            self.absent_xattrs.none(node.ino, since);
        }
        self.learn(node, stat);
    }

    pub fn releasedir(&self, fh: u64) {
        lock(&self.handles).remove(&fh);
    }

    /// Makes every committed change of this volume durable (`fsync` of a directory,
    /// `sync MOUNTPOINT`); fails if the server refused a change this mount had deferred since the
    /// last such call.
    pub async fn sync(&self) -> Result<()> {
        // The call ships what was deferred first.
        self.retry(|| self.session().sync(())).await?;
        self.deferred_ok()
    }

    /// An error if the server refused a change this mount had deferred, since last asked.
    fn deferred_ok(&self) -> Result<()> {
        if self.write_back.take_refused() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "the server refused changes this mount had made while it owned its tree",
            ));
        }
        Ok(())
    }

    pub async fn statfs(&self) -> Result<strata_core::api::FsStats> {
        self.retry(|| self.session().statfs(())).await
    }

    fn xattr(&self, ino: u64, name: &[u8], value: Option<&[u8]>, mode: XattrSetMode) -> Result<Xattr> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(Xattr {
            node: self.node(ino)?,
            name: b64.encode(name),
            value: value.map(|v| b64.encode(v)),
            mode,
        })
    }

    /// Whether `name` is known absent from the inode (answered without the server).
    pub fn xattr_known_absent(&self, ino: u64, name: &[u8]) -> bool {
        self.node(ino)
            .is_ok_and(|node| self.absent_xattrs.absent(node.ino, Some(name)))
    }

    pub async fn getxattr(&self, ino: u64, name: &[u8]) -> Result<Vec<u8>> {
        use base64::Engine;
        let req = self.xattr(ino, name, None, XattrSetMode::Any)?;
        let no_such = || Error::new(ErrorKind::NoSuchAttribute, "no such extended attribute");
        if self.absent_xattrs.absent(req.node.ino, Some(name)) {
            return Err(no_such());
        }
        let since = Instant::now();
        let value = match self.retry(|| self.session().getxattr(req.clone())).await {
            Err(e) if e.kind == ErrorKind::NoSuchAttribute => {
                self.absent_xattrs.missing(req.node.ino, name, since);
                return Err(e);
            }
            other => other?,
        };
        base64::engine::general_purpose::STANDARD
            .decode(value.value)
            .map_err(|_| Error::internal("malformed xattr value"))
    }

    pub async fn setxattr(&self, ino: u64, name: &[u8], value: &[u8], mode: XattrSetMode) -> Result<()> {
        let req = self.xattr(ino, name, Some(value), mode)?;
        self.dir_changed(req.node, None, Instant::now());
        self.absent_xattrs.changed(req.node.ino);
        self.retry(|| self.session().setxattr(req.clone())).await
    }

    pub async fn listxattr(&self, ino: u64) -> Result<Vec<u8>> {
        use base64::Engine;
        let node = self.node(ino)?;
        if self.absent_xattrs.absent(node.ino, None) {
            return Ok(Vec::new());
        }
        let since = Instant::now();
        let names = self.retry(|| self.session().listxattr(NodeOnly { node })).await?;
        if names.names.is_empty() {
            self.absent_xattrs.none(node.ino, since);
        }
        let mut out = Vec::new();
        for name in names.names {
            out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(name)
                    .map_err(|_| Error::internal("malformed xattr name"))?,
            );
            out.push(0);
        }
        Ok(out)
    }

    pub async fn removexattr(&self, ino: u64, name: &[u8]) -> Result<()> {
        let req = self.xattr(ino, name, None, XattrSetMode::Any)?;
        self.dir_changed(req.node, None, Instant::now());
        self.absent_xattrs.changed(req.node.ino);
        self.retry(|| self.session().removexattr(req.clone())).await
    }

    /// The lock of another owner (on any mount) in the way of `range`, if any.
    pub async fn getlk(&self, ino: u64, owner: u64, range: LockRange) -> Result<Option<LockRange>> {
        let req = LockRequest {
            node: self.node(ino)?,
            owner,
            range,
        };
        Ok(self.retry(|| self.session().getlk(req.clone())).await?.conflict)
    }

    /// Takes or releases a lock; with `wait`, until no other owner is in the way.
    pub async fn setlk(&self, ino: u64, owner: u64, range: LockRange, wait: bool) -> Result<()> {
        if range.kind != LockKind::Unlock {
            self.inodes.with(ino, |i| i.locked = true);
        }
        let req = LockRequest {
            node: self.node(ino)?,
            owner,
            range,
        };
        loop {
            match self.retry(|| self.session().setlk(req.clone())).await {
                Err(e) if e.kind == ErrorKind::Locked && wait => tokio::time::sleep(Duration::from_millis(20)).await,
                other => return other,
            }
        }
    }

    /// Drops every record lock `owner` holds on `ino` (a close, in POSIX terms).
    pub async fn unlock_all(&self, ino: u64, owner: u64) -> Result<()> {
        if self.inodes.with(ino, |i| i.locked) != Some(true) {
            return Ok(());
        }
        self.setlk(
            ino,
            owner,
            LockRange {
                start: 0,
                end: u64::MAX,
                kind: LockKind::Unlock,
                pid: 0,
            },
            false,
        )
        .await
    }

    /// Keeps the session's lease (and so its record locks) alive.
    pub async fn renew_session(&self) -> Result<()> {
        self.session().renew().await
    }

    pub async fn close_session(&self) -> Result<()> {
        self.session().close().await
    }
}
