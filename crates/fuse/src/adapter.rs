//! The FUSE adapter: each operation hands its work to the runtime and replies with the
//! result or its errno. Semantics live in [`crate::vfs`].

use crate::errno::{errno, errno_of_found};
use crate::vfs::{Lookup, Vfs};
use fuser::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use strata_core::api::{AttrChanges, FileKind, LockKind, LockRange, NewInode, Stat, XattrSetMode};

pub struct FuseAdapter {
    pub vfs: Arc<Vfs>,
    pub rt: tokio::runtime::Handle,
    /// How long the kernel may trust attributes and entries.
    pub ttl: Duration,
    /// Tells the kernel to drop what it cached; set once the session runs.
    pub notifier: Arc<std::sync::OnceLock<fuser::Notifier>>,
}

/// Drops the kernel's cached pages and attributes of a file whose commit merged in other
/// writers' changes (after the reply: the kernel may hold the inode until then).
fn invalidate_if(notifier: &std::sync::OnceLock<fuser::Notifier>, ino: INodeNo, merged: bool) {
    if merged && let Some(notifier) = notifier.get() {
        let _ = notifier.inval_inode(ino, 0, 0);
    }
}

fn time(ns: i64) -> SystemTime {
    if ns >= 0 {
        UNIX_EPOCH + Duration::from_nanos(ns as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(ns.unsigned_abs())
    }
}

fn ns(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

fn kind(k: FileKind) -> FileType {
    match k {
        FileKind::File => FileType::RegularFile,
        FileKind::Directory => FileType::Directory,
        FileKind::Symlink => FileType::Symlink,
        FileKind::Fifo => FileType::NamedPipe,
        FileKind::Socket => FileType::Socket,
        FileKind::CharDevice => FileType::CharDevice,
        FileKind::BlockDevice => FileType::BlockDevice,
    }
}

pub fn attr(s: &Stat) -> FileAttr {
    FileAttr {
        ino: INodeNo(s.ino),
        size: s.size,
        blocks: s.size.div_ceil(512),
        atime: time(s.atime),
        mtime: time(s.mtime),
        ctime: time(s.ctime),
        crtime: time(s.ctime),
        kind: kind(s.kind),
        perm: (s.mode & 0o7777) as u16,
        nlink: s.nlink,
        uid: s.uid,
        gid: s.gid,
        rdev: s.rdev,
        blksize: 128 * 1024,
        flags: 0,
    }
}

fn reply_lookup(found: strata_core::Result<Lookup>, reply: ReplyEntry) {
    match found {
        Ok(Lookup::Found(s, ttl)) => reply.entry(&ttl, &attr(&s), Generation(0)),
        // Inode 0: the kernel keeps the name as absent for the entry timeout, so a repeated
        // miss (a search path, a create's own lookup) costs no round trip.
        Ok(Lookup::Absent(ttl)) if !ttl.is_zero() => reply.entry(&ttl, &absent_attr(), Generation(0)),
        Ok(Lookup::Absent(_)) => reply.error(Errno::from_i32(libc::ENOENT)),
        Err(e) => reply.error(errno(&e)),
    }
}

/// The attributes of a negative entry: only its inode number, 0, counts.
fn absent_attr() -> FileAttr {
    FileAttr {
        kind: FileType::RegularFile,
        ..dot_attr(0)
    }
}

/// Attributes sent with `.` and `..` in READDIRPLUS, which the kernel ignores.
fn dot_attr(ino: u64) -> FileAttr {
    FileAttr {
        ino: INodeNo(ino),
        size: 0,
        blocks: 0,
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        crtime: UNIX_EPOCH,
        kind: FileType::Directory,
        perm: 0o755,
        nlink: 2,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 128 * 1024,
        flags: 0,
    }
}

fn lock_range(start: u64, end: u64, typ: i32, pid: u32) -> Option<LockRange> {
    let kind = match typ {
        libc::F_RDLCK => LockKind::Read,
        libc::F_WRLCK => LockKind::Write,
        libc::F_UNLCK => LockKind::Unlock,
        _ => return None,
    };
    Some(LockRange { start, end, kind, pid })
}

fn lock_type(kind: LockKind) -> i32 {
    match kind {
        LockKind::Read => libc::F_RDLCK,
        LockKind::Write => libc::F_WRLCK,
        LockKind::Unlock => libc::F_UNLCK,
    }
}

fn time_or_now(t: Option<TimeOrNow>) -> Option<i64> {
    t.map(|t| match t {
        TimeOrNow::SpecificTime(t) => ns(t),
        TimeOrNow::Now => ns(SystemTime::now()),
    })
}

impl FuseAdapter {
    /// Runs the work of operation `op`, timing it for the mount's metrics: on this thread as
    /// far as it goes without waiting, then, if it must wait (for the server, a lock), as a
    /// task of the runtime. Most operations of a mount that owns its tree never wait, and a
    /// hop between threads costs more than they do (two context switches per operation:
    /// a third of the mount's time in a create-heavy profile).
    fn run<F: std::future::Future<Output = ()> + Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(Arc<Vfs>) -> F,
    ) {
        let vfs = self.vfs.clone();
        let work = f(vfs.clone());
        let started = std::time::Instant::now();
        let mut work = Box::pin(async move {
            work.await;
            vfs.metrics().observe(op, started.elapsed().as_secs_f64());
        });
        let _runtime = self.rt.enter();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        // A future that is pending has registered to be woken; polled again by the task, it
        // registers the task's waker instead (the contract every future keeps), so nothing
        // that happened in between is missed.
        // A panic stays in this operation, as it would in a task: its reply, dropped
        // unsent, answers EIO, and this thread goes on reading requests.
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work.as_mut().poll(&mut cx)));
        match polled {
            Ok(std::task::Poll::Pending) => drop(self.rt.spawn(work)),
            Ok(std::task::Poll::Ready(())) => {}
            Err(_) => tracing::error!("a {op} operation panicked"),
        }
    }

    fn entry(&self, op: &'static str, parent: INodeNo, name: &OsStr, new: NewInode, reply: ReplyEntry) {
        let (name, ttl) = (name.as_bytes().to_vec(), self.ttl);
        self.run(op, move |vfs| async move {
            match vfs.make(parent.0, &name, new).await {
                Ok(s) => reply.entry(&ttl, &attr(&s), Generation(0)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
}

fn new_entry(req: &Request, kind: FileKind, mode: u32, rdev: u32, target: Option<String>) -> NewInode {
    NewInode {
        kind,
        mode,
        uid: req.uid(),
        gid: req.gid(),
        rdev,
        target,
        ino: None,
        at: None,
    }
}

impl Filesystem for FuseAdapter {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        let _ = config.set_max_write(1024 * 1024);
        let _ = config.set_max_readahead(1024 * 1024);
        // Record locks go to the server, so that every mount of a volume sees them. `flock`
        // stays with the kernel (local to this mount): fuser does not say which kind a lock
        // request is, and Linux keeps the two kinds apart.
        let _ = config.add_capabilities(InitFlags::FUSE_POSIX_LOCKS);
        // Listings carry attributes (`ls -l` needs no lookup per name), always, not only
        // when the kernel guesses they will be used.
        let _ = config.add_capabilities(InitFlags::FUSE_DO_READDIRPLUS);
        // Before serving pages or a listing it keeps, the kernel asks for the attributes again
        // once they are older than the timeout, and drops what it kept if they changed.
        let _ = config.add_capabilities(InitFlags::FUSE_AUTO_INVAL_DATA);
        // A symbolic link's target never changes (a new target is a new inode): the kernel
        // may keep what it read.
        let _ = config.add_capabilities(InitFlags::FUSE_CACHE_SYMLINKS);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        // Answered here when the mount knows (no hop to the runtime), else by a task.
        let cached = match self.vfs.lookup_known(parent.0, name.as_bytes()) {
            Ok(Ok(found)) => return reply_lookup(Ok(found), reply),
            Ok(Err(cached)) => cached,
            Err(e) => return reply.error(errno(&e)),
        };
        let name = name.as_bytes().to_vec();
        self.run("lookup", move |vfs| async move {
            reply_lookup(vfs.lookup_entry(parent.0, &name, cached).await, reply)
        });
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        self.run("getattr", move |vfs| async move {
            match vfs.getattr_entry(ino.0).await {
                Ok((s, ttl)) => reply.attr(&ttl, &attr(&s)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let changes = AttrChanges {
            mode: mode.map(|m| m & 0o7777),
            uid,
            gid,
            size,
            atime: time_or_now(atime),
            mtime: time_or_now(mtime),
        };
        let ttl = self.ttl;
        self.run("setattr", move |vfs| async move {
            match vfs.setattr(ino.0, changes).await {
                Ok(s) => reply.attr(&ttl, &attr(&s)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        self.run("readlink", move |vfs| async move {
            match vfs.readlink(ino.0).await {
                Ok(target) => reply.data(target.as_bytes()),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn mknod(&self, req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, rdev: u32, reply: ReplyEntry) {
        let k = match mode & libc::S_IFMT {
            libc::S_IFREG | 0 => FileKind::File,
            libc::S_IFIFO => FileKind::Fifo,
            libc::S_IFSOCK => FileKind::Socket,
            libc::S_IFCHR => FileKind::CharDevice,
            libc::S_IFBLK => FileKind::BlockDevice,
            _ => return reply.error(Errno::from_i32(libc::EINVAL)),
        };
        self.entry(
            "mknod",
            parent,
            name,
            new_entry(req, k, mode & !umask, rdev, None),
            reply,
        );
    }

    fn mkdir(&self, req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        self.entry(
            "mkdir",
            parent,
            name,
            new_entry(req, FileKind::Directory, mode & !umask, 0, None),
            reply,
        );
    }

    fn symlink(&self, req: &Request, parent: INodeNo, link_name: &OsStr, target: &Path, reply: ReplyEntry) {
        let Some(target) = target.to_str().map(str::to_owned) else {
            return reply.error(Errno::from_i32(libc::EINVAL));
        };
        self.entry(
            "symlink",
            parent,
            link_name,
            new_entry(req, FileKind::Symlink, 0o777, 0, Some(target)),
            reply,
        );
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let name = name.as_bytes().to_vec();
        self.run("unlink", move |vfs| async move {
            match vfs.unlink(parent.0, &name).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let name = name.as_bytes().to_vec();
        self.run("rmdir", move |vfs| async move {
            match vfs.rmdir(parent.0, &name).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
            return reply.error(Errno::from_i32(libc::EINVAL));
        }
        let no_replace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        let (name, newname) = (name.as_bytes().to_vec(), newname.as_bytes().to_vec());
        self.run("rename", move |vfs| async move {
            match vfs.rename((parent.0, &name), (newparent.0, &newname), no_replace).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn link(&self, _req: &Request, ino: INodeNo, newparent: INodeNo, newname: &OsStr, reply: ReplyEntry) {
        let (name, ttl) = (newname.as_bytes().to_vec(), self.ttl);
        self.run("link", move |vfs| async move {
            match vfs.link(ino.0, newparent.0, &name).await {
                Ok(s) => reply.entry(&ttl, &attr(&s), Generation(0)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    /// `batch_forget` comes here too, once per inode (fuser's default).
    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.vfs.forget(ino.0, nlookup);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let notifier = self.notifier.clone();
        self.run("open", move |vfs| async move {
            match vfs.open(ino.0).await {
                Ok((fh, keep)) => {
                    if !keep && let Some(notifier) = notifier.get() {
                        // The content changed since the kernel last looked: its cached size is
                        // stale too (a negative offset drops attributes only, taking no lock).
                        let _ = notifier.inval_inode(ino, -1, 0);
                    }
                    reply.opened(
                        FileHandle(fh),
                        if keep {
                            FopenFlags::FOPEN_KEEP_CACHE
                        } else {
                            FopenFlags::empty()
                        },
                    );
                }
                Err(e) => reply.error(errno_of_found(&e)),
            }
        });
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let (name, ttl, new) = (
            name.as_bytes().to_vec(),
            self.ttl,
            new_entry(req, FileKind::File, mode & !umask, 0, None),
        );
        self.run("create", move |vfs| async move {
            match vfs.create_file(parent.0, &name, new, flags).await {
                Ok((stat, fh)) => reply.created(&ttl, &attr(&stat), Generation(0), FileHandle(fh), FopenFlags::empty()),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock: Option<LockOwner>,
        reply: ReplyData,
    ) {
        self.run("read", move |vfs| async move {
            match vfs.read(fh.0, offset, size).await {
                Ok(data) => reply.data(&data),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let data = data.to_vec();
        self.run("write", move |vfs| async move {
            match vfs.write(fh.0, offset, &data).await {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn flush(&self, _req: &Request, ino: INodeNo, fh: FileHandle, owner: LockOwner, reply: ReplyEmpty) {
        let notifier = self.notifier.clone();
        self.run("flush", move |vfs| async move {
            // A close drops the record locks its process holds on the file (POSIX), after
            // its data is committed: whoever takes the lock next must find the data.
            let committed = vfs.commit(fh.0, false).await;
            let unlocked = vfs.unlock_all(ino.0, owner.0).await;
            match committed.and_then(|merged| unlocked.map(|()| merged)) {
                Ok(merged) => {
                    reply.ok();
                    invalidate_if(&notifier, ino, merged);
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let notifier = self.notifier.clone();
        self.run("fsync", move |vfs| async move {
            match vfs.commit(fh.0, true).await {
                Ok(merged) => {
                    reply.ok();
                    invalidate_if(&notifier, ino, merged);
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let notifier = self.notifier.clone();
        self.run("release", move |vfs| async move {
            match vfs.release(fh.0).await {
                Ok(merged) => {
                    reply.ok();
                    invalidate_if(&notifier, ino, merged);
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn getlk(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
        reply: ReplyLock,
    ) {
        let Some(range) = lock_range(start, end, typ, pid) else {
            return reply.error(Errno::from_i32(libc::EINVAL));
        };
        self.run("getlk", move |vfs| async move {
            match vfs.getlk(ino.0, owner.0, range).await {
                Ok(Some(held)) => reply.locked(held.start, held.end, lock_type(held.kind), held.pid),
                Ok(None) => reply.locked(start, end, libc::F_UNLCK, 0),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setlk(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        owner: LockOwner,
        start: u64,
        end: u64,
        typ: i32,
        pid: u32,
        sleep: bool,
        reply: ReplyEmpty,
    ) {
        let Some(range) = lock_range(start, end, typ, pid) else {
            return reply.error(Errno::from_i32(libc::EINVAL));
        };
        self.run("setlk", move |vfs| async move {
            match vfs.setlk(ino.0, owner.0, range, sleep).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        // The kernel may keep listings, as it keeps names: until this mount changes the
        // directory, or its mtime, asked again after the attribute timeout, has changed.
        let keep = if self.ttl.is_zero() {
            FopenFlags::empty()
        } else {
            FopenFlags::FOPEN_CACHE_DIR | FopenFlags::FOPEN_KEEP_CACHE
        };
        self.run("opendir", move |vfs| async move {
            match vfs.opendir(ino.0).await {
                Ok(fh) => reply.opened(FileHandle(fh), keep),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        self.run("readdir", move |vfs| async move {
            match vfs.readdir(fh.0, ino.0, offset).await {
                Ok(entries) => {
                    for e in entries {
                        if reply.add(INodeNo(e.ino), e.next, kind(e.kind), e.name) {
                            break;
                        }
                    }
                    reply.ok()
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    /// Entries with their attributes: `ls -l` of a directory costs no lookup per name.
    fn readdirplus(&self, _req: &Request, ino: INodeNo, fh: FileHandle, offset: u64, mut reply: ReplyDirectoryPlus) {
        let ttl = self.ttl;
        self.run("readdirplus", move |vfs| async move {
            let entries = match vfs.readdir(fh.0, ino.0, offset).await {
                Ok(entries) => entries,
                Err(e) => return reply.error(errno(&e)),
            };
            for e in entries {
                let full = match e.node {
                    // `.` and `..`: the kernel takes neither attributes nor a lookup from them.
                    None => reply.add(
                        INodeNo(e.ino),
                        e.next,
                        &e.name,
                        &Duration::ZERO,
                        &dot_attr(e.ino),
                        Generation(0),
                    ),
                    Some((node, stat)) => {
                        let stat = vfs.entry_stat(stat).await;
                        // Trusted for the timeout from when the page was asked for.
                        let ttl = ttl.saturating_sub(e.listed_at.elapsed());
                        let full = reply.add(INodeNo(e.ino), e.next, &e.name, &ttl, &attr(&stat), Generation(0));
                        if !full {
                            vfs.learn_listed(node, stat, e.xattrs, e.listed_at);
                        }
                        full
                    }
                };
                if full {
                    break;
                }
            }
            reply.ok()
        });
    }

    fn releasedir(&self, _req: &Request, _ino: INodeNo, fh: FileHandle, _flags: OpenFlags, reply: ReplyEmpty) {
        self.vfs.releasedir(fh.0);
        reply.ok();
    }

    fn fsyncdir(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        self.run("fsyncdir", move |vfs| async move {
            match vfs.sync().await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        self.run("statfs", move |vfs| async move {
            const BSIZE: u64 = 4096;
            // An object store has no fixed size: 4 PiB and 2^40 files, unless a quota says.
            const BLOCKS: u64 = 1 << 40;
            const FILES: u64 = 1 << 40;
            match vfs.statfs().await {
                Ok(st) => {
                    let blocks = st.quota_bytes.map_or(BLOCKS, |q| q / BSIZE);
                    let files = st.quota_files.unwrap_or(FILES);
                    let free = blocks.saturating_sub(st.used_bytes.div_ceil(BSIZE));
                    reply.statfs(
                        blocks,
                        free,
                        free,
                        files,
                        files.saturating_sub(st.files),
                        BSIZE as u32,
                        255,
                        BSIZE as u32,
                    )
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let mode = match flags {
            0 => XattrSetMode::Any,
            libc::XATTR_CREATE => XattrSetMode::Create,
            libc::XATTR_REPLACE => XattrSetMode::Replace,
            _ => return reply.error(Errno::from_i32(libc::EINVAL)),
        };
        let (name, value) = (name.as_bytes().to_vec(), value.to_vec());
        self.run("setxattr", move |vfs| async move {
            match vfs.setxattr(ino.0, &name, &value, mode).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        // The kernel asks before every write, and `ls -l` for every file: answered here.
        if self.vfs.xattr_known_absent(ino.0, name.as_bytes()) {
            return reply.error(Errno::from_i32(libc::ENODATA));
        }
        let name = name.as_bytes().to_vec();
        self.run("getxattr", move |vfs| async move {
            match vfs.getxattr(ino.0, &name).await {
                Ok(v) if size == 0 => reply.size(v.len() as u32),
                Ok(v) if v.len() > size as usize => reply.error(Errno::from_i32(libc::ERANGE)),
                Ok(v) => reply.data(&v),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        self.run("listxattr", move |vfs| async move {
            match vfs.listxattr(ino.0).await {
                Ok(v) if size == 0 => reply.size(v.len() as u32),
                Ok(v) if v.len() > size as usize => reply.error(Errno::from_i32(libc::ERANGE)),
                Ok(v) => reply.data(&v),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let name = name.as_bytes().to_vec();
        self.run("removexattr", move |vfs| async move {
            match vfs.removexattr(ino.0, &name).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
}
