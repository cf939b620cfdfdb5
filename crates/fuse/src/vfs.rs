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
use crate::retry::Backoff;
use crate::xattrs::AbsentXattrs;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use strata_core::api::{
    AttrChanges, CreateNode, FileKind, LinkNode, LockKind, LockRange, LockRequest, NamedNode, NewInode, NodeName,
    NodeOnly, NodeRef, ReadDir, RenameNode, SetAttrNode, Stat, Xattr, XattrSetMode,
};
use strata_core::session::SessionApi;
use strata_core::{Error, ErrorKind, Result};
use tokio::sync::Mutex as AsyncMutex;

pub const ROOT: u64 = 1;

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

struct Known {
    node: NodeRef,
    lookups: u64,
}

struct OpenFile {
    state: std::sync::Arc<AsyncMutex<FileState>>,
    handles: u32,
}

pub struct Vfs {
    blocks: Blocks,
    root: NodeRef,
    /// Every inode the kernel holds, with how many lookups it has not yet forgotten.
    nodes: Mutex<HashMap<u64, Known>>,
    files: Mutex<HashMap<u64, OpenFile>>,
    handles: Mutex<HashMap<u64, Handle>>,
    next_handle: AtomicU64,
    /// What each inode looked like when last opened or committed here, to keep the kernel's
    /// page cache across opens when nothing changed.
    seen: Mutex<HashMap<u64, (i64, u64)>>,
    /// Inodes this mount ever took a record lock on: only their closes need to unlock.
    locked: Mutex<std::collections::HashSet<u64>>,
    /// Listings of busy directories, for lookups without a round trip.
    dirs: DirCache,
    absent_xattrs: AbsentXattrs,
    /// Attributes of inodes as this mount's last change of them left them (a create or link
    /// in a directory; a file's create, setattr or commit), with when: the kernel asks for
    /// them right after (its permission checks), within the timeout. A change here whose
    /// result is not known drops them; a removal or rename drops them all.
    attrs: Mutex<KnownAttrs>,
    /// How long the kernel may trust entries and attributes.
    ttl: Duration,
    retry_for: Duration,
}

/// Attributes of inodes as this mount's own changes left them, each with when its change
/// began.
#[derive(Default)]
struct KnownAttrs {
    by_ino: HashMap<u64, (Stat, Instant)>,
    /// When they were last all dropped: what a change that began before says may be older.
    cleared: Option<Instant>,
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
    pub fn new(
        session: std::sync::Arc<dyn SessionApi>,
        cache: std::sync::Arc<crate::cache::BlockCache>,
        ttl: Duration,
        retry_for: Duration,
    ) -> Self {
        let root = session.info().root.node;
        Vfs {
            blocks: Blocks::new(session, cache),
            root,
            nodes: Mutex::default(),
            files: Mutex::default(),
            handles: Mutex::default(),
            next_handle: AtomicU64::new(1),
            seen: Mutex::default(),
            locked: Mutex::default(),
            dirs: DirCache::new(ttl),
            absent_xattrs: AbsentXattrs::new(ttl),
            attrs: Mutex::default(),
            ttl,
            retry_for,
        }
    }

    fn session(&self) -> &dyn SessionApi {
        self.blocks.session()
    }

    /// Retries `call` while the server is unreachable, as [`Backoff`] says.
    async fn retry<T, F: Future<Output = Result<T>>>(&self, call: impl Fn() -> F) -> Result<T> {
        let mut backoff = Backoff::new(self.retry_for);
        loop {
            match call().await {
                Err(e) if backoff.retry_after(&e).await => {}
                other => return other,
            }
        }
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
        if ino == ROOT {
            return Ok(self.root);
        }
        lock(&self.nodes)
            .get(&ino)
            .map(|known| known.node)
            .ok_or_else(|| Error::not_found("unknown inode"))
    }

    /// Records a node about to be handed to the kernel in an entry reply (one lookup the
    /// kernel will forget), and gives its stat the mount's inode number.
    fn learn(&self, node: NodeRef, mut stat: Stat) -> Stat {
        if node.ino == self.root.ino {
            stat.ino = ROOT;
        } else {
            lock(&self.nodes)
                .entry(node.ino)
                .and_modify(|known| {
                    known.node = node;
                    known.lookups += 1;
                })
                .or_insert(Known { node, lookups: 1 });
        }
        stat
    }

    /// The kernel dropped `count` lookups of an inode; with none left, this mount forgets it
    /// too, so memory follows what the kernel caches, not everything ever seen.
    pub fn forget(&self, ino: u64, count: u64) {
        let mut nodes = lock(&self.nodes);
        let Some(known) = nodes.get_mut(&ino) else {
            return;
        };
        known.lookups = known.lookups.saturating_sub(count);
        if known.lookups == 0 {
            nodes.remove(&ino);
            drop(nodes);
            lock(&self.seen).remove(&ino);
            lock(&self.locked).remove(&ino);
        }
    }

    /// How many inodes this mount keeps (besides its root).
    pub fn known_inodes(&self) -> usize {
        lock(&self.nodes).len()
    }

    pub fn open_files(&self) -> usize {
        lock(&self.files).len()
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
        m.render()
    }

    fn fuse_ino(&self, ino: u64) -> u64 {
        if ino == self.root.ino { ROOT } else { ino }
    }

    /// Local size, times and attribute changes of a file with uncommitted changes override
    /// the server's.
    async fn overlay(&self, ino: u64, stat: Stat) -> Stat {
        let state = lock(&self.files).get(&ino).map(|f| f.state.clone());
        match state {
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
            Cached::Found(node, stat, left) if !lock(&self.files).contains_key(&self.fuse_ino(node.ino)) => {
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
        let since = began.0;
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
        let node = self.node(ino)?;
        let known = lock(&self.attrs).by_ino.get(&node.ino).cloned();
        if let Some((mut stat, at)) = known {
            let left = self.ttl.saturating_sub(at.elapsed());
            if !left.is_zero() {
                stat.ino = ino;
                return Ok((self.overlay(ino, stat).await, left));
            }
        }
        Ok((self.getattr(ino).await?, self.ttl))
    }

    /// An inode's attributes as a change this mount made, begun at `since`, left them
    /// (`None`: unknown). What a newer change or a removal since then said stands.
    fn changed(&self, node: NodeRef, stat: Option<Stat>, since: Instant) {
        let mut attrs = lock(&self.attrs);
        let Some(stat) = stat.filter(|_| !self.ttl.is_zero()) else {
            attrs.by_ino.remove(&node.ino);
            return;
        };
        let newer = attrs.by_ino.get(&node.ino).is_some_and(|(_, at)| *at > since);
        if newer || attrs.cleared.is_some_and(|at| at > since) {
            return;
        }
        if attrs.by_ino.len() >= 10_000 {
            attrs.by_ino.clear();
        }
        attrs.by_ino.insert(node.ino, (stat, since));
    }

    /// Drops every inode's known attributes: a removal or rename changed some this mount
    /// cannot name (the link count of the file removed or replaced).
    fn forget_attrs(&self) {
        let mut attrs = lock(&self.attrs);
        attrs.by_ino.clear();
        attrs.cleared = Some(Instant::now());
    }

    /// Attributes were just read from the server: what this mount's own change left goes, as
    /// the read may be older or newer than that change.
    fn refreshed(&self, node: NodeRef) {
        lock(&self.attrs).by_ino.remove(&node.ino);
    }

    /// [`Vfs::changed`] for a directory, whose listing here is dropped too.
    fn dir_changed(&self, dir: NodeRef, stat: Option<Stat>, since: Instant) {
        self.changed(dir, stat, since);
        self.dirs.changed(dir.ino);
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
                let state = lock(&self.files).get(&ino).map(|f| f.state.clone()).ok_or(e)?;
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
        let state = lock(&self.files).get(&ino).map(|f| f.state.clone());
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
        let req = SetAttrNode { node, changes };
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

    pub async fn readlink(&self, ino: u64) -> Result<String> {
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
        let req = CreateNode {
            parent,
            name: name.to_owned(),
            new: NewInode {
                mode: new.mode & 0o7777,
                ..new
            },
        };
        let exists = |e: &Error| e.kind == ErrorKind::AlreadyExists && !exclusive;
        let since = Instant::now();
        let made = self.retry_change(|| self.session().create(req.clone()), exists).await;
        let dir_stat = made
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(|m| m.parent.clone());
        self.dir_changed(parent, dir_stat, since);
        match made? {
            Some(made) => {
                self.dirs.added(dir, name, made.node);
                if made.stat.kind == FileKind::Directory {
                    self.dirs.made_empty(self.fuse_ino(made.node.ino), since);
                }
                // New: no extended attributes.
                self.absent_xattrs.none(made.node.ino, since);
                self.changed(made.node, Some(made.stat.clone()), since);
                Ok((self.learn(made.node, made.stat), true))
            }
            None => Ok((self.made_before(parent, name, |s| s.kind == new.kind).await?, false)),
        }
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
                self.dirs.added(dir, name, linked.node);
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
        let gone = |e: &Error| e.kind == ErrorKind::NotFound;
        let call = || {
            let entry = NodeName::new(parent, name);
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
        let req = RenameNode {
            parent: self.node(from.0)?,
            name: name_str(from.1)?.to_owned(),
            new_parent: self.node(to.0)?,
            new_name: name_str(to.1)?.to_owned(),
            no_replace,
        };
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

    fn new_handle(&self, handle: Handle) -> u64 {
        let fh = self.next_handle.fetch_add(1, Ordering::Relaxed);
        lock(&self.handles).insert(fh, handle);
        fh
    }

    /// Opens a file; returns its handle and whether the kernel may keep its cached pages.
    pub async fn open(&self, ino: u64) -> Result<(u64, bool)> {
        let existing = lock(&self.files).get_mut(&ino).map(|f| {
            f.handles += 1;
            f.state.clone()
        });
        if let Some(state) = existing {
            // Close-to-open holds for a file already open here too: unless this mount has
            // changes of its own in it, take what others committed since.
            let fh = self.new_handle(Handle::File(ino));
            let mut state = state.lock().await;
            if state.is_dirty() {
                return Ok((fh, true));
            }
            let node = self.node(ino)?;
            let content = match self.retry(|| self.session().content(NodeOnly { node })).await {
                Ok(content) => content,
                Err(e) => {
                    let _ = self.release(fh).await;
                    return Err(e);
                }
            };
            let version = (content.stat.mtime, content.stat.size);
            let keep_cache = lock(&self.seen).insert(ino, version) == Some(version);
            self.refreshed(node);
            *state = FileState::new(node, content);
            return Ok((fh, keep_cache));
        }
        let node = self.node(ino)?;
        let content = self.retry(|| self.session().content(NodeOnly { node })).await?;
        self.refreshed(node);
        let version = (content.stat.mtime, content.stat.size);
        let keep_cache = lock(&self.seen).insert(ino, version) == Some(version);
        let state = std::sync::Arc::new(AsyncMutex::new(FileState::new(node, content)));
        {
            let mut files = lock(&self.files);
            match files.get_mut(&ino) {
                // Another open raced with this one: share its state.
                Some(f) => f.handles += 1,
                None => {
                    files.insert(ino, OpenFile { state, handles: 1 });
                }
            }
        }
        Ok((self.new_handle(Handle::File(ino)), keep_cache))
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
        lock(&self.files)
            .entry(stat.ino)
            .or_insert(OpenFile { state, handles: 0 })
            .handles += 1;
        lock(&self.seen).insert(stat.ino, (stat.mtime, stat.size));
        Ok(self.new_handle(Handle::File(stat.ino)))
    }

    fn file_state(&self, fh: u64) -> Result<(u64, std::sync::Arc<AsyncMutex<FileState>>)> {
        let ino = match lock(&self.handles).get(&fh) {
            Some(Handle::File(ino)) => *ino,
            _ => return Err(Error::invalid("handle", "not an open file")),
        };
        let state = lock(&self.files)
            .get(&ino)
            .map(|f| f.state.clone())
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
        self.commit_locked(ino, &mut state, durable).await
    }

    /// [`Vfs::commit`] of a file whose lock the caller holds.
    async fn commit_locked(&self, ino: u64, state: &mut FileState, durable: bool) -> Result<bool> {
        if !state.is_dirty() {
            return Ok(false);
        }
        let since = Instant::now();
        let mut backoff = Backoff::new(self.retry_for);
        let result = loop {
            match state.commit(&self.blocks, durable).await {
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
                lock(&self.seen).remove(&ino);
                self.dirs.changed(state.node.ino);
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
                let last = lock(&self.files).get(&ino).is_none_or(|f| f.handles <= 1);
                if last {
                    self.commit_locked(ino, &mut state, false).await
                } else {
                    Ok(false)
                }
            }
            Err(e) => Err(e),
        };
        if let Some(Handle::File(ino)) = lock(&self.handles).remove(&fh) {
            let mut files = lock(&self.files);
            if let Some(f) = files.get_mut(&ino) {
                f.handles -= 1;
                if f.handles == 0 {
                    files.remove(&ino);
                }
            }
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

    /// Makes every committed change of this volume durable (`fsync` of a directory).
    pub async fn sync(&self) -> Result<()> {
        self.retry(|| self.session().sync(())).await
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
            lock(&self.locked).insert(ino);
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
        if !lock(&self.locked).contains(&ino) {
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
