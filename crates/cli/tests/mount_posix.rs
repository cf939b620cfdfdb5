//! POSIX semantics, checked with real system calls on a real mount.

mod common;
use common::Server;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn errno_of<T>(r: std::io::Result<T>) -> i32 {
    r.err().and_then(|e| e.raw_os_error()).expect("expected an error")
}

fn setup() -> (Server, common::Mount) {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let mount = server.mount("v", &[]);
    (server, mount)
}

#[test]
fn read_write_at_offsets_append_truncate_and_holes() {
    let (_server, m) = setup();
    let p = m.join("f");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&p)
        .unwrap();
    f.write_all(b"hello world").unwrap();
    f.seek(SeekFrom::Start(6)).unwrap();
    f.write_all(b"WORLD").unwrap();
    drop(f);
    assert_eq!(fs::read(&p).unwrap(), b"hello WORLD");

    let mut a = OpenOptions::new().append(true).open(&p).unwrap();
    a.write_all(b"!!").unwrap();
    drop(a);
    assert_eq!(fs::read(&p).unwrap(), b"hello WORLD!!");

    let f = OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(5).unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"hello");
    f.set_len(8).unwrap();
    drop(f);
    assert_eq!(fs::read(&p).unwrap(), b"hello\0\0\0");

    // A sparse file across a block boundary: the hole reads as zeros.
    let s = m.join("sparse");
    let mut f = File::create(&s).unwrap();
    f.seek(SeekFrom::Start(9 << 20)).unwrap();
    f.write_all(b"end").unwrap();
    drop(f);
    let data = fs::read(&s).unwrap();
    assert_eq!(data.len(), (9 << 20) + 3);
    assert!(data[..9 << 20].iter().all(|&b| b == 0));
    assert_eq!(&data[9 << 20..], b"end");

    // O_TRUNC empties, O_EXCL refuses an existing file.
    fs::write(&p, b"x").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"x");
    assert_eq!(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExists
    );
}

#[test]
fn rename_replaces_and_noreplace_refuses() {
    let (_server, m) = setup();
    fs::write(m.join("a"), b"A").unwrap();
    fs::write(m.join("b"), b"B").unwrap();
    fs::rename(m.join("a"), m.join("b")).unwrap();
    assert_eq!(fs::read(m.join("b")).unwrap(), b"A");
    assert!(!m.join("a").exists());

    fs::create_dir_all(m.join("d1/sub")).unwrap();
    fs::write(m.join("d1/sub/f"), b"deep").unwrap();
    fs::rename(m.join("d1"), m.join("d2")).unwrap();
    assert_eq!(fs::read(m.join("d2/sub/f")).unwrap(), b"deep");

    fs::write(m.join("c"), b"C").unwrap();
    let (from, to) = (cpath(&m.join("c")), cpath(&m.join("b")));
    // SAFETY: renameat2 with valid NUL-terminated paths.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    assert_eq!(rc, -1);
    assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EEXIST));
    assert_eq!(fs::read(m.join("b")).unwrap(), b"A");
}

#[test]
fn unlinked_open_file_stays_readable() {
    let (_server, m) = setup();
    let p = m.join("doomed");
    fs::write(&p, b"still here").unwrap();
    let mut f = File::open(&p).unwrap();
    fs::remove_file(&p).unwrap();
    assert!(!p.exists());
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "still here");
}

#[test]
fn directories_links_and_symlinks() {
    let (_server, m) = setup();
    fs::create_dir(m.join("d")).unwrap();
    fs::write(m.join("d/f"), b"1").unwrap();
    assert_eq!(errno_of(fs::remove_dir(m.join("d"))), libc::ENOTEMPTY);
    assert_eq!(errno_of(fs::create_dir(m.join("d"))), libc::EEXIST);
    assert_eq!(errno_of(fs::read_dir(m.join("d/f"))), libc::ENOTDIR);

    fs::hard_link(m.join("d/f"), m.join("h")).unwrap();
    assert_eq!(fs::metadata(m.join("h")).unwrap().nlink(), 2);
    assert_eq!(
        fs::metadata(m.join("d/f")).unwrap().ino(),
        fs::metadata(m.join("h")).unwrap().ino()
    );
    fs::remove_file(m.join("d/f")).unwrap();
    assert_eq!(fs::metadata(m.join("h")).unwrap().nlink(), 1);
    assert_eq!(fs::read(m.join("h")).unwrap(), b"1");
    fs::remove_dir(m.join("d")).unwrap();

    // A directory's attributes follow each change in it at once (the mount answers the
    // kernel's question right after a create from the create's own reply).
    fs::create_dir(m.join("p")).unwrap();
    let before = fs::metadata(m.join("p")).unwrap();
    fs::write(m.join("p/x"), b"").unwrap();
    let after = fs::metadata(m.join("p")).unwrap();
    assert!(after.mtime_nsec() != before.mtime_nsec() || after.mtime() != before.mtime());
    fs::create_dir(m.join("p/sub")).unwrap();
    assert_eq!(fs::metadata(m.join("p")).unwrap().nlink(), 3);
    fs::remove_dir(m.join("p/sub")).unwrap();
    assert_eq!(fs::metadata(m.join("p")).unwrap().nlink(), 2);
    fs::set_permissions(m.join("p"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(m.join("p/y"), b"").unwrap();
    assert_eq!(fs::metadata(m.join("p")).unwrap().permissions().mode() & 0o7777, 0o700);

    std::os::unix::fs::symlink("h", m.join("s")).unwrap();
    assert_eq!(fs::read_link(m.join("s")).unwrap(), Path::new("h"));
    assert_eq!(fs::read(m.join("s")).unwrap(), b"1");
    assert!(fs::symlink_metadata(m.join("s")).unwrap().file_type().is_symlink());

    let long = "n".repeat(256);
    assert_eq!(errno_of(fs::write(m.join(&long), b"")), libc::ENAMETOOLONG);
}

#[test]
fn attributes_xattrs_and_statfs() {
    let (_server, m) = setup();
    let p = m.join("f");
    fs::write(&p, b"data").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
    std::os::unix::fs::chown(&p, Some(1234), Some(5678)).unwrap();
    let md = fs::metadata(&p).unwrap();
    assert_eq!((md.uid(), md.gid()), (1234, 5678));

    let times = [
        libc::timespec {
            tv_sec: 1_000_000_000,
            tv_nsec: 5,
        },
        libc::timespec {
            tv_sec: 1_500_000_000,
            tv_nsec: 7,
        },
    ];
    // SAFETY: utimensat with a valid path and two timespecs.
    assert_eq!(
        unsafe { libc::utimensat(libc::AT_FDCWD, cpath(&p).as_ptr(), times.as_ptr(), 0) },
        0
    );
    let md = fs::metadata(&p).unwrap();
    assert_eq!(
        (md.atime(), md.mtime(), md.mtime_nsec()),
        (1_000_000_000, 1_500_000_000, 7)
    );

    let (c, name, value) = (cpath(&p), CString::new("user.color").unwrap(), b"blue");
    // SAFETY: xattr calls with valid paths and buffers of the given sizes.
    unsafe {
        assert_eq!(
            libc::setxattr(c.as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0),
            0
        );
        assert_eq!(
            libc::setxattr(
                c.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                libc::XATTR_CREATE
            ),
            -1
        );
        let mut buf = [0u8; 64];
        let n = libc::getxattr(c.as_ptr(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len());
        assert_eq!(&buf[..n as usize], value);
        let n = libc::listxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len());
        assert_eq!(&buf[..n as usize], b"user.color\0");
        assert_eq!(libc::removexattr(c.as_ptr(), name.as_ptr()), 0);
        assert_eq!(
            libc::getxattr(c.as_ptr(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()),
            -1
        );
        assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::ENODATA));

        let mut st: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(cpath(m.path()).as_ptr(), &mut st), 0);
        assert!(st.f_blocks > 0 && st.f_bavail > 0 && st.f_namemax == 255);
    }
}

/// The server's count of calls to one route of the session API.
fn calls_to(server: &Server, route: &str) -> f64 {
    let page = common::scrape(server.endpoint.trim_start_matches("http://"));
    let name = format!("strata_http_request_duration_seconds_count{{route=\"/v1/sessions/{{id}}/{route}\"}}");
    page.lines()
        .find(|l| l.starts_with(&name))
        .map_or(0.0, |l| l.rsplit(' ').next().unwrap().parse().unwrap())
}

/// tar, `cp -p` and rsync set times, owner and mode on the open file after writing it: they
/// reach the server with the data at close (no call of their own) and stay there, seen by
/// this mount at once, by another after the close, and after a remount.
#[test]
fn attributes_set_on_a_file_after_writing_it_stay() {
    use std::os::unix::io::AsRawFd;
    let (server, a) = setup();
    let b = server.mount("v", &[]);
    let times = |mtime: i64| {
        [
            libc::timespec {
                tv_sec: 1_000_000_000,
                tv_nsec: 5,
            },
            libc::timespec {
                tv_sec: mtime,
                tv_nsec: 7,
            },
        ]
    };
    let setattrs = calls_to(&server, "setattr");
    let mut f = File::create(a.join("x")).unwrap();
    f.write_all(b"data").unwrap();
    // As tar does: futimens, fchown, fchmod, then close.
    // SAFETY: futimens and fchown on a descriptor this test holds open.
    unsafe {
        assert_eq!(libc::futimens(f.as_raw_fd(), times(1_500_000_000).as_ptr()), 0);
        assert_eq!(libc::fchown(f.as_raw_fd(), 1234, 5678), 0);
    }
    f.set_permissions(fs::Permissions::from_mode(0o640)).unwrap();
    let expect = |md: fs::Metadata, at: &str| {
        assert_eq!(
            (md.len(), md.mode() & 0o7777, md.uid(), md.gid()),
            (4, 0o640, 1234, 5678),
            "{at}"
        );
        assert_eq!(
            (md.atime(), md.mtime(), md.mtime_nsec()),
            (1_000_000_000, 1_500_000_000, 7),
            "{at}"
        );
    };
    expect(f.metadata().unwrap(), "before the close");
    drop(f);
    assert_eq!(
        calls_to(&server, "setattr"),
        setattrs,
        "the attributes came with the data"
    );
    expect(fs::metadata(a.join("x")).unwrap(), "this mount");
    expect(fs::metadata(b.join("x")).unwrap(), "another mount");
    common::umount(&a);
    let again = server.mount("v", &[]);
    expect(fs::metadata(again.join("x")).unwrap(), "after a remount");

    // A write after the time was set makes the mtime now again, as on a local disk.
    let mut f = OpenOptions::new().append(true).open(again.join("x")).unwrap();
    f.write_all(b"more").unwrap();
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::futimens(f.as_raw_fd(), times(1_600_000_000).as_ptr()) },
        0
    );
    f.write_all(b"last").unwrap();
    drop(f);
    // Another mount sees it at its next open (close-to-open).
    let md = File::open(b.join("x")).unwrap().metadata().unwrap();
    assert_eq!((md.len(), md.mode() & 0o7777), (12, 0o640));
    assert!(md.mtime() > 1_700_000_000, "mtime {} is the last write's", md.mtime());

    // An existing file rewritten, its time set before the close (`cp -p` over a file).
    let mut f = File::create(again.join("x")).unwrap();
    f.write_all(b"rewritten").unwrap();
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::futimens(f.as_raw_fd(), times(1_600_000_000).as_ptr()) },
        0
    );
    drop(f);
    let md = File::open(b.join("x")).unwrap().metadata().unwrap();
    assert_eq!((md.len(), md.mtime(), md.mtime_nsec()), (9, 1_600_000_000, 7));

    // A new file: mode set, then a truncate (which goes to the server at once): the mode
    // stays, not undone by the commit.
    let mut f = File::create(again.join("y")).unwrap();
    f.write_all(b"abcdef").unwrap();
    f.set_permissions(fs::Permissions::from_mode(0o600)).unwrap();
    f.set_len(3).unwrap();
    assert_eq!(f.metadata().unwrap().mode() & 0o7777, 0o600);
    drop(f);
    let md = File::open(b.join("y")).unwrap().metadata().unwrap();
    assert_eq!((md.len(), md.mode() & 0o7777), (3, 0o600));
}

/// Names looked up in a directory this mount just made are answered by the mount (the
/// directory is known empty), as tar, git and npm fill new directories.
#[test]
fn a_new_directory_fills_without_lookups() {
    let (server, m) = setup();
    fs::create_dir(m.join("d")).unwrap();
    let lookups = calls_to(&server, "lookup");
    for i in 0..20 {
        fs::write(m.join(&format!("d/f{i}")), b"x").unwrap();
    }
    assert_eq!(calls_to(&server, "lookup"), lookups, "no lookup reached the server");
    assert_eq!(fs::read_dir(m.join("d")).unwrap().count(), 20);
    assert_eq!(fs::read(m.join("d/f7")).unwrap(), b"x");
}

#[test]
fn fsync_makes_data_visible_to_the_api() {
    let (server, m) = setup();
    let mut f = File::create(m.join("synced")).unwrap();
    f.write_all(b"durable").unwrap();
    f.sync_all().unwrap();
    // Still open: the server already has it.
    assert_eq!(server.ok(&["fs", "cat", "v:/synced"]), "durable");
    drop(f);
}

#[test]
fn large_directory_lists_every_entry() {
    let (server, m) = setup();
    let dir = m.join("many");
    fs::create_dir(&dir).unwrap();
    for i in 0..10_000 {
        File::create(dir.join(format!("f{i:05}"))).unwrap();
    }
    for i in (0..10_000).step_by(1000) {
        fs::write(dir.join(format!("f{i:05}")), vec![b'x'; i / 1000 + 1]).unwrap();
    }
    let mut names: Vec<String> = Vec::new();
    for e in fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        // Listings carry attributes (READDIRPLUS): right for files past the first page too.
        let i: usize = name[1..].parse().unwrap();
        let want = if i.is_multiple_of(1000) { i / 1000 + 1 } else { 0 };
        assert_eq!(e.metadata().unwrap().len(), want as u64, "{name}");
        names.push(name);
    }
    names.sort();
    assert_eq!(names.len(), 10_000);
    assert_eq!(names[0], "f00000");
    assert_eq!(names[9_999], "f09999");
    assert_eq!(server.json(&["volume", "get", "v"])["file_count"], 10_001);

    // Removing everything while a listing is half read (what `rm -rf` does): the listing
    // goes on without error and names no entry twice.
    let mut listing = fs::read_dir(&dir).unwrap();
    let mut seen: std::collections::HashSet<String> = (&mut listing)
        .take(3000)
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for name in &names {
        fs::remove_file(dir.join(name)).unwrap();
    }
    for e in listing {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(seen.insert(name.clone()), "{name} listed twice");
    }
    assert!(fs::read_dir(&dir).unwrap().next().is_none());
    fs::remove_dir(&dir).unwrap();
}

#[test]
fn locks_between_processes_of_one_mount() {
    use std::os::fd::AsRawFd;
    let (_server, m) = setup();
    let p = m.join("locked");
    fs::write(&p, b"x").unwrap();
    let (a, b) = (File::open(&p).unwrap(), File::open(&p).unwrap());
    // SAFETY: flock and fcntl on descriptors this test owns.
    unsafe {
        assert_eq!(libc::flock(a.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB), 0);
        assert_eq!(libc::flock(b.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB), -1);
        assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EWOULDBLOCK));
        assert_eq!(libc::flock(a.as_raw_fd(), libc::LOCK_UN), 0);
        assert_eq!(libc::flock(b.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB), 0);
    }
    // A POSIX record lock held by a child process is seen by this one.
    let w = OpenOptions::new().read(true).write(true).open(&p).unwrap();
    // SAFETY: a plain C struct for which all zeros is a valid value.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as i16;
    lock.l_whence = libc::SEEK_SET as i16;
    lock.l_len = 1;
    let mut holder = std::process::Command::new("python3")
        .args(["-c", "import fcntl,sys,time; f=open(sys.argv[1],'r+'); fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()"])
        .arg(&p)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), "held");
    // SAFETY: fcntl(F_GETLK) with a valid flock struct on an open descriptor.
    assert_eq!(unsafe { libc::fcntl(w.as_raw_fd(), libc::F_GETLK, &mut lock) }, 0);
    assert_eq!(lock.l_type, libc::F_WRLCK as i16, "the child's lock is visible");
    drop(holder.stdin.take());
    holder.wait().unwrap();
}

#[test]
fn shared_mmap_writes_and_fdatasync() {
    use std::os::fd::AsRawFd;
    let (server, m) = setup();
    let p = m.join("mapped");
    let f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&p)
        .unwrap();
    f.set_len(8192).unwrap();
    // SAFETY: a shared mapping of 8 KiB of a file this test opened read-write, unmapped below.
    unsafe {
        let addr = libc::mmap(
            std::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        assert_ne!(addr, libc::MAP_FAILED);
        let bytes = std::slice::from_raw_parts_mut(addr.cast::<u8>(), 8192);
        bytes[4096..4101].copy_from_slice(b"shard");
        assert_eq!(libc::msync(addr, 8192, libc::MS_SYNC), 0);
        assert_eq!(libc::munmap(addr, 8192), 0);
    }
    f.sync_data().unwrap();
    let data = fs::read(&p).unwrap();
    assert_eq!(&data[4096..4101], b"shard");
    // fdatasync returned: the server has the mapped write, while the file is still open.
    let fetched = server.cli(&["fs", "get", "v:/mapped", "-"]);
    assert!(fetched.status.success());
    assert_eq!(
        (fetched.stdout.len(), &fetched.stdout[4096..4101]),
        (8192, &b"shard"[..])
    );
    drop(f);
}

/// A removal that fails leaves its name: a listing the mount keeps of the folder must not
/// then say the name is gone (an rmdir of a folder that is not empty).
#[test]
fn a_failed_removal_leaves_the_name_in_the_mounts_listing() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &["--attr-timeout", "60s"]);
    let c = m.join("c");
    fs::create_dir_all(c.join("d")).unwrap();
    fs::write(c.join("d/a"), b"x").unwrap();
    // The kernel forgets its entries; two misses in `c` make the mount keep its listing.
    fs::write("/proc/sys/vm/drop_caches", "2").unwrap();
    assert!(fs::metadata(c.join("x")).is_err() && fs::metadata(c.join("y")).is_err());
    let refused = fs::remove_dir(c.join("d")).unwrap_err();
    assert_eq!(refused.raw_os_error(), Some(libc::ENOTEMPTY));
    fs::write("/proc/sys/vm/drop_caches", "2").unwrap();
    assert!(fs::metadata(c.join("d")).unwrap().is_dir(), "the folder is still there");
    assert_eq!(fs::read(c.join("d/a")).unwrap(), b"x");
}

/// `truncate -s 9223372036854775807 f; truncate -s 0 f` on a volume holding 1,000,000
/// bytes: the first is refused (EFBIG), and the volume's count stays exact throughout.
#[test]
fn a_size_the_volume_cannot_count_is_refused_and_counts_stay_exact() {
    let (server, m) = setup();
    // Counted once it reached the server: at the latest at its fsync (see the end).
    let mut f = File::create(m.join("data")).unwrap();
    f.write_all(&vec![1u8; 1_000_000]).unwrap();
    f.sync_all().unwrap();
    drop(f);
    let used = || server.json(&["volume", "get", "v"])["used_bytes"].as_u64().unwrap();
    assert_eq!(used(), 1_000_000);
    // Another file cannot grow to the largest size: the count would pass it.
    let f = File::create(m.join("new")).unwrap();
    let grown = f.set_len(i64::MAX as u64).and_then(|()| f.sync_all());
    assert_eq!(errno_of(grown), libc::EFBIG);
    drop(f);
    assert_eq!((fs::metadata(m.join("new")).unwrap().len(), used()), (0, 1_000_000));
    // The file that holds them all can: the count is then exactly the most it holds.
    let f = OpenOptions::new().write(true).open(m.join("data")).unwrap();
    f.set_len(i64::MAX as u64).unwrap();
    f.sync_all().unwrap();
    assert_eq!(used(), i64::MAX as u64);
    f.set_len(0).unwrap();
    f.sync_all().unwrap();
    assert_eq!(used(), 0);
    // A volume's counts show what reached the server: a close a mount that owns its tree
    // has not shipped yet is not counted until it ships (at the latest at an fsync).
    let mut f = File::create(m.join("data")).unwrap();
    f.write_all(&[2u8; 1234]).unwrap();
    f.sync_all().unwrap();
    assert_eq!(used(), 1234);
    let (_, out) = (server.ok(&["fsck"]), server.json(&["fsck"]));
    assert_eq!(out["problems"], serde_json::json!([]), "{out}");
}
