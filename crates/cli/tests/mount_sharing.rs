//! Mounts over time and side by side: persistence, consistency, isolation, read-only.

mod common;
use common::{Mount, Server, free_addr, hash_file, hold_lock, random_file, sample, scrape, try_write_lock, umount};
use std::fs;
use std::io::Write;
use std::process::Command;
use strata_core::api::{NodeName, NodeOnly, ReadDir, RemoveName};
use strata_core::session::SessionApi;

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=strata",
            "-c",
            "user.email=strata@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn data_survives_unmount_and_server_sigkill() {
    let mut server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let scratch = tempfile::tempdir().unwrap();
    let (src, hash) = random_file(scratch.path(), "src", 9 << 20, 11);
    let m = server.mount("v", &[]);
    fs::copy(&src, m.join("big")).unwrap();
    fs::write(m.join("small"), b"small file").unwrap();
    umount(&m);
    server.stop(libc::SIGKILL);
    server.restart();
    let m = server.mount("v", &[]);
    assert_eq!(hash_file(&m.join("big")), hash);
    assert_eq!(fs::read(m.join("small")).unwrap(), b"small file");
}

#[test]
fn two_mounts_see_each_other() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let a = server.mount("v", &[]);
    let b = server.mount("v", &["--attr-timeout", "0s"]);
    fs::write(a.join("note"), b"first").unwrap();
    assert_eq!(fs::read(b.join("note")).unwrap(), b"first");
    // Close-to-open: a rewrite closed on one mount is what the next open sees on the other.
    let mut f = fs::File::create(a.join("note")).unwrap();
    f.write_all(b"second, longer").unwrap();
    drop(f);
    assert_eq!(fs::read(b.join("note")).unwrap(), b"second, longer");
    fs::create_dir(a.join("dir")).unwrap();
    fs::rename(a.join("note"), a.join("dir/moved")).unwrap();
    assert!(!b.join("note").exists());
    assert_eq!(fs::read(b.join("dir/moved")).unwrap(), b"second, longer");
    fs::remove_file(b.join("dir/moved")).unwrap();
    assert!(fs::read_dir(a.join("dir")).unwrap().next().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn subpath_mounts_cannot_reach_outside() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "tenants"]);
    server.ok(&["fs", "mkdir", "-p", "tenants:/users/bob"]);
    let secret = tempfile::NamedTempFile::new().unwrap();
    fs::write(secret.path(), b"bob's secret").unwrap();
    server.ok(&[
        "fs",
        "put",
        secret.path().to_str().unwrap(),
        "tenants:/users/bob/secret",
    ]);
    let alice = server.mount("tenants:users/alice", &[]);
    fs::write(alice.join("notes.txt"), b"alice's data").unwrap();
    let names: Vec<_> = fs::read_dir(alice.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["notes.txt"]);
    assert_eq!(
        server.ok(&["fs", "cat", "tenants:/users/alice/notes.txt"]),
        "alice's data"
    );
    // `..` at the mount root is the host's parent folder, not the volume's.
    assert!(!alice.join("../bob/secret").exists());
    std::os::unix::fs::symlink("../bob/secret", alice.join("link")).unwrap();
    assert!(fs::read(alice.join("link")).is_err());

    // Crafted calls with a session of users/alice: guessed inodes and `..` are refused.
    let session = server
        .client()
        .open_session("tenants", "users/alice", false)
        .await
        .unwrap();
    let session: &dyn SessionApi = &session;
    let root = session.info().root.node;
    let err = session.lookup(NodeName::new(root, "..")).await.unwrap_err();
    assert_eq!(err.kind, strata_core::ErrorKind::InvalidInput);
    let bob = server.client().stat("tenants", "/users/bob/secret").await.unwrap();
    for cap in [0, 1, root.cap, u64::MAX] {
        let forged = strata_core::api::NodeRef { ino: bob.ino, cap };
        assert_eq!(
            session.getattr(NodeOnly { node: forged }).await.unwrap_err().kind,
            strata_core::ErrorKind::NotFound
        );
        assert!(session.content(NodeOnly { node: forged }).await.is_err());
        assert!(session.unlink(RemoveName::new(forged, "secret")).await.is_err());
    }
    assert_eq!(server.ok(&["fs", "cat", "tenants:/users/bob/secret"]), "bob's secret");
}

/// A directory moved out of a subpath is out of reach at once: by path and by an open file of
/// the mount, and by the session's own capabilities over raw HTTP, even for files added later.
#[tokio::test(flavor = "multi_thread")]
async fn a_directory_moved_out_of_a_subpath_is_out_of_reach() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "tenants"]);
    server.ok(&["fs", "mkdir", "-p", "tenants:/users/bob"]);
    let alice = server.mount("tenants:users/alice", &[]);
    fs::create_dir(alice.join("docs")).unwrap();
    fs::write(alice.join("docs/plan.txt"), b"alice's plan").unwrap();
    let mut open_file = fs::OpenOptions::new()
        .write(true)
        .open(alice.join("docs/plan.txt"))
        .unwrap();
    let session = server
        .client()
        .open_session("tenants", "users/alice", false)
        .await
        .unwrap();
    let session: &dyn SessionApi = &session;
    let docs = session
        .lookup(NodeName::new(session.info().root.node, "docs"))
        .await
        .unwrap()
        .node;
    let plan = session.lookup(NodeName::new(docs, "plan.txt")).await.unwrap().node;

    server.ok(&["fs", "mv", "tenants:/users/alice/docs", "tenants:/users/bob/docs"]);
    let later = tempfile::NamedTempFile::new().unwrap();
    fs::write(later.path(), b"bob's later file").unwrap();
    server.ok(&[
        "fs",
        "put",
        later.path().to_str().unwrap(),
        "tenants:/users/bob/docs/later.txt",
    ]);

    // Through the mount: by path, by listing, by the file opened before the move.
    assert!(fs::read(alice.join("docs/later.txt")).is_err());
    // The folder's entry may still be in the kernel's cache; listing it yields nothing then
    // (the mount answers ENOENT, which the C library reports as the end of the directory).
    let listing = fs::read_dir(alice.join("docs")).and_then(|d| d.collect::<Result<Vec<_>, _>>());
    match listing {
        Ok(entries) => assert!(entries.is_empty(), "{entries:?}"),
        Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ENOENT)),
    }
    assert!(fs::write(alice.join("docs/new.txt"), b"x").is_err());
    let names: Vec<_> = fs::read_dir(alice.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // To this mount the file is gone, as if deleted while open: what is written through it
    // never reaches the file (checked below, on bob's side).
    open_file.write_all(b"overwritten").unwrap();
    let _ = open_file.sync_all();
    drop(open_file);

    // Over raw HTTP with capabilities handed out before the move.
    for node in [docs, plan] {
        assert_eq!(
            session.getattr(NodeOnly { node }).await.unwrap_err().kind,
            strata_core::ErrorKind::NotFound
        );
        assert!(session.content(NodeOnly { node }).await.is_err());
        assert!(
            session
                .readdir(ReadDir {
                    node,
                    after: None,
                    limit: None
                })
                .await
                .is_err()
        );
    }
    assert!(session.lookup(NodeName::new(docs, "later.txt")).await.is_err());
    assert!(session.unlink(RemoveName::new(docs, "later.txt")).await.is_err());

    // Usage of the rest of the volume is not shown to a subpath session either.
    let stats = session.statfs(()).await.unwrap();
    assert_eq!((stats.used_bytes, stats.files), (0, 0));

    // Bob's side is whole, and moving it back brings it in reach again.
    assert_eq!(
        server.ok(&["fs", "cat", "tenants:/users/bob/docs/plan.txt"]),
        "alice's plan"
    );
    assert_eq!(
        server.ok(&["fs", "cat", "tenants:/users/bob/docs/later.txt"]),
        "bob's later file"
    );
    // (The mount itself may answer from its cache of absent names for `--attr-timeout`.)
    server.ok(&["fs", "mv", "tenants:/users/bob/docs", "tenants:/users/alice/docs"]);
    assert_eq!(session.getattr(NodeOnly { node: plan }).await.unwrap().size, 12);
    let later = session.lookup(NodeName::new(docs, "later.txt")).await.unwrap().node;
    assert_eq!(session.getattr(NodeOnly { node: later }).await.unwrap().size, 16);
}

/// A mount of a subpath keeps writing into a folder while another client moves that folder
/// out, round after round: no byte written after the move lands outside the subpath, since
/// the server checks the subpath in the transaction that writes.
#[test]
fn writes_racing_a_move_out_of_the_subpath_never_land_outside() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "t"]);
    server.ok(&["fs", "mkdir", "-p", "t:/users/bob"]);
    let alice = server.mount("t:users/alice", &[]);
    let whole = server.mount("t", &[]);
    for round in 0..20 {
        let folder = alice.join(&format!("d{round}"));
        fs::create_dir(&folder).unwrap();
        let moved = AtomicBool::new(false);
        // Each file: (name, whether its write began after the move, whether its close succeeded).
        let written = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut files = Vec::new();
                let mut failures_after_move = 0;
                for i in 0..2000 {
                    let after = moved.load(Ordering::SeqCst);
                    let name = format!("f{i}");
                    let done = fs::write(folder.join(&name), format!("alice {round} {i}")).is_ok();
                    files.push((name, after, done));
                    if after && !done {
                        failures_after_move += 1;
                    }
                    if failures_after_move >= 3 || (after && i > 200) {
                        break;
                    }
                }
                files
            });
            // Let some files land first, then move the folder out from under the writer.
            while !writer.is_finished() && fs::read_dir(&folder).map_or(0, |d| d.count()) < 3 {
                std::thread::yield_now();
            }
            server.ok(&[
                "fs",
                "mv",
                &format!("t:/users/alice/d{round}"),
                &format!("t:/users/bob/d{round}"),
            ]);
            moved.store(true, Ordering::SeqCst);
            writer.join().unwrap()
        });
        let outside = whole.join(&format!("users/bob/d{round}"));
        for (name, after, done) in &written {
            let landed = fs::read(outside.join(name)).unwrap_or_default();
            assert!(
                !*after || landed.is_empty(),
                "round {round}: {name}, written after the move, landed outside: {landed:?}"
            );
            if !landed.is_empty() {
                assert!(*done, "round {round}: {name} landed although its close failed");
                assert_eq!(landed, format!("alice {round} {}", &name[1..]).as_bytes());
            }
        }
        assert!(
            written.iter().any(|(_, after, _)| *after),
            "round {round}: the writer outran the move"
        );
    }
}

#[test]
fn read_only_mounts_refuse_every_write() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    server.ok(&["fs", "mkdir", "v:/d"]);
    let src = tempfile::NamedTempFile::new().unwrap();
    fs::write(src.path(), b"keep").unwrap();
    server.ok(&["fs", "put", src.path().to_str().unwrap(), "v:/f"]);
    let m = server.mount("v", &["--read-only"]);
    assert_eq!(fs::read(m.join("f")).unwrap(), b"keep");
    let erofs = |r: std::io::Result<()>| assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::EROFS));
    erofs(fs::write(m.join("new"), b"x"));
    erofs(fs::OpenOptions::new().write(true).open(m.join("f")).map(drop));
    erofs(fs::create_dir(m.join("d2")));
    erofs(fs::remove_file(m.join("f")));
    erofs(fs::remove_dir(m.join("d")));
    erofs(fs::rename(m.join("f"), m.join("g")));
    erofs(fs::set_permissions(
        m.join("f"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    ));
    erofs(std::os::unix::fs::symlink("f", m.join("s")));
    assert_eq!(server.ok(&["fs", "cat", "v:/f"]), "keep");
}

#[test]
fn mount_targets_follow_the_rules() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let full = tempfile::tempdir().unwrap();
    fs::write(full.path().join("x"), b"").unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    let cases = [
        ("relative/dir", "absolute"),
        ("/", "root"),
        ("//", "root"),
        ("/tmp//x", "'//'"),
        ("/tmp/./x", "'.'"),
        ("/tmp/../tmp", "'..'"),
        ("/proc", "/proc"),
        ("/etc/strata", "/etc"),
        ("/dev/shm", "/dev"),
        ("/lib64/x", "/lib64"),
        (full.path().to_str().unwrap(), "not empty"),
        (file.path().to_str().unwrap(), "not a directory"),
        ("/tmp/strata-does-not-exist", "No such file"),
    ];
    for (target, why) in cases {
        let (code, err) = server.fails(&["mount", "v", target]);
        assert_eq!(code, 2, "{target}: {err}");
        assert!(err.contains(why), "{target}: {err}");
    }
    let (code, err) = server.fails(&["mount", "v:../escape", "/tmp"]);
    assert_eq!(code, 2);
    assert!(err.contains("subpath"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (_, err) = server.fails(&[
        "mount",
        "v",
        dir.path().to_str().unwrap(),
        "--endpoint",
        "http://127.0.0.1:9",
    ]);
    assert!(err.contains("cannot reach"), "{err}");
    let (_, err) = server.fails(&["umount", dir.path().to_str().unwrap()]);
    assert!(err.contains("not a mount point"), "{err}");
}

#[test]
fn busy_mounts_are_not_unmounted() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &[]);
    let mut open = fs::File::create(m.join("held")).unwrap();
    let (code, err) = server.fails(&["umount", m.path().to_str().unwrap()]);
    assert!(err.contains("busy") && err.contains("--lazy"), "{code}: {err}");
    // --lazy detaches it at once; the open file still works, and its close commits.
    let pid = common::mount_pid(m.path());
    server.ok(&["umount", "--lazy", m.path().to_str().unwrap()]);
    let table = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!table.contains(m.path().to_str().unwrap()), "detached");
    open.write_all(b"written after the detach").unwrap();
    drop(open);
    assert_eq!(server.ok(&["fs", "cat", "v:/held"]), "written after the detach");
    // With its last file closed, the mount process ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(std::time::Instant::now() < deadline, "the mount process ended");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_dead_mount_says_how_to_clear_it() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &[]);
    let path = m.path().to_str().unwrap().to_owned();
    // SAFETY: a plain kill of the mount's own process.
    unsafe { libc::kill(common::mount_pid(m.path()), libc::SIGKILL) };
    let mut tries = 0;
    let (code, err) = loop {
        let out = server.cli(&["mount", "v", &path]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        // Until the kernel notices the process is gone, the mount is merely not empty.
        tries += 1;
        if !err.contains("not empty") || tries == 200 {
            break (out.status.code().unwrap_or(-1), err);
        }
    };
    assert!(
        code == 4 && err.contains(&format!("strata umount {path}")),
        "{code}: {err}"
    );
    server.ok(&["umount", &path]);
    drop(m);
}

#[test]
fn umount_leaves_what_strata_did_not_mount_alone() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let tmpfs = dir.path().join("tmpfs");
    fs::create_dir(&tmpfs).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&tmpfs)
        .status()
        .unwrap();
    assert!(mounted.success());
    fs::write(tmpfs.join("kept"), b"x").unwrap();
    let (code, err) = server.fails(&["umount", tmpfs.to_str().unwrap()]);
    let still_there = tmpfs.join("kept").exists();
    let _ = Command::new("umount").arg(&tmpfs).status();
    assert!(err.contains("not a strata mount") && code == 2, "{code}: {err}");
    assert!(still_there, "the tmpfs stayed mounted");
    let (code, err) = server.fails(&["umount", dir.path().to_str().unwrap()]);
    assert!(err.contains("not a mount point") && code == 2, "{code}: {err}");
}

#[test]
fn three_sandboxes_share_a_git_repository() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "work"]);
    let first = server.mount("work", &[]);
    git(first.path(), &["init", "-q", "repo"]);
    let repo = first.join("repo");
    fs::write(repo.join("a.txt"), "one\n").unwrap();
    git(&repo, &["add", "a.txt"]);
    git(&repo, &["commit", "-qm", "first"]);
    umount(&first);
    drop(first);

    let second = server.mount("work", &[]);
    let repo = second.join("repo");
    assert!(git(&repo, &["log", "--oneline"]).contains("first"));
    fs::write(repo.join("b.txt"), "two\n").unwrap();
    git(&repo, &["add", "b.txt"]);
    git(&repo, &["commit", "-qm", "second"]);
    umount(&second);
    drop(second);

    let third = server.mount("work", &[]);
    let repo = third.join("repo");
    let log = git(&repo, &["log", "--format=%s"]);
    assert_eq!(log, "second\nfirst\n");
    git(&repo, &["fsck", "--full", "--strict"]);
    assert_eq!(fs::read_to_string(repo.join("a.txt")).unwrap(), "one\n");
}

#[test]
fn locks_are_shared_between_mounts() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    fs::write(a.join("db"), vec![0u8; 100]).unwrap();
    let other = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(b.join("db"))
        .unwrap();

    // A record lock on bytes 10..20 taken on mount A.
    let mut holder = hold_lock(&a.join("db"), "fcntl.lockf(f, fcntl.LOCK_EX, 10, 10)");
    assert_eq!(
        try_write_lock(&other, 15, 1),
        Err(libc::EAGAIN),
        "mount B sees mount A's record lock"
    );
    assert_eq!(try_write_lock(&other, 50, 10), Ok(()), "other ranges stay free");
    drop(holder.stdin.take());
    holder.wait().unwrap();
    assert_eq!(try_write_lock(&other, 15, 1), Ok(()), "released when the holder exits");
}

#[test]
fn two_mounts_creating_one_name_at_once_both_open_it() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    for round in 0..20 {
        let name = format!("f{round}");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let writers: Vec<_> = [(a.join(&name), b'a'), (b.join(&name), b'b')]
            .into_iter()
            .map(|(path, byte)| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut f = fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .open(&path)?;
                    f.write_all(&[byte; 10_000])
                })
            })
            .collect();
        for w in writers {
            w.join()
                .unwrap()
                .expect("open(O_CREAT|O_TRUNC) without O_EXCL never fails with EEXIST");
        }
        let content = fs::read(a.join(&name)).unwrap();
        assert!(
            content == [b'a'; 10_000] || content == [b'b'; 10_000],
            "round {round}: one writer's whole file, not {} bytes starting {:?}",
            content.len(),
            content.first()
        );
    }
}

#[test]
fn a_damaged_block_cache_never_yields_wrong_bytes() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (src, want) = random_file(dir.path(), "f", 9 << 20, 11);
    let first = server.mount("v", &[]);
    fs::copy(&src, first.join("f")).unwrap();
    umount(&first);
    // A reader fills the cache (a writer caches only its file's tail).
    let reader = server.mount_sharing_cache("v", &first, &[]);
    assert_eq!(hash_file(&reader.join("f")), want);
    umount(&reader);
    // Every cached block overwritten with garbage of the same length.
    let mut damaged = 0;
    for entry in fs::read_dir(first.cache.path().join("blocks")).unwrap().flatten() {
        let len = entry.metadata().unwrap().len() as usize;
        fs::write(entry.path(), vec![0x5a; len]).unwrap();
        damaged += 1;
    }
    assert!(damaged >= 3, "the read filled the cache ({damaged} blocks)");
    let again = server.mount_sharing_cache("v", &first, &[]);
    assert_eq!(hash_file(&again.join("f")), want);
}

/// A random reader of a file no mount has cached: the first read of an open downloads its
/// block whole; a read far from the last one waits only for the 64 KiB pieces that hold it
/// (its whole block follows into the cache behind it), each checked against the block's
/// name, so a damaged piece in the store is refused alone.
#[test]
fn random_reads_wait_only_for_the_pieces_they_read() {
    use std::os::unix::fs::FileExt;
    use std::os::unix::io::AsRawFd;
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = random_file(dir.path(), "f", 32 << 20, 21);
    server.ok(&["fs", "put", src.to_str().unwrap(), "v:/f"]);
    let want = fs::read(&src).unwrap();
    let addr = free_addr();
    let m = server.mount("v", &["--metrics", &addr]);
    let metric = |name: &str| sample(&scrape(&addr), &format!("strata_mount_{name}")) as usize;
    let file = fs::File::open(m.join("f")).unwrap();
    // SAFETY: posix_fadvise on a descriptor this test holds open.
    assert_eq!(
        unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_RANDOM) },
        0
    );
    let read_at = |file: &fs::File, at: usize| {
        let mut buf = vec![0; 4096];
        file.read_exact_at(&mut buf, at as u64)
            .map(|()| buf == want[at..at + 4096])
    };
    assert!(read_at(&file, 9 << 20).unwrap());
    assert_eq!(
        metric("piece_downloads_total"),
        0,
        "the first read fetched its block whole"
    );
    // Each far from the one before; the last spans two pieces.
    for at in [(1 << 20) + 70_000, (6 << 20) + 3, 130_000] {
        assert!(read_at(&file, at).unwrap(), "bytes at {at}");
    }
    let (downloads, bytes) = (metric("piece_downloads_total"), metric("piece_bytes_total"));
    // The first of them at least (its block cannot be cached yet); the others may find
    // their block cached by then.
    assert!(downloads >= 1, "random reads downloaded pieces");
    assert!(
        bytes <= downloads * (2 * 65536 + 2048 + 8),
        "{downloads} piece downloads of {bytes} bytes: two pieces at most each"
    );
    drop(file);
    umount(&m);

    // One byte of piece 30 of the first block damaged in the store (a local folder here).
    let name = blake3::hash(&want[..4 << 20]).to_hex().to_string();
    let stored = server.data_dir().join("blocks/blocks").join(&name[..2]).join(&name);
    if !stored.exists() {
        return;
    }
    let mut block = fs::read(&stored).unwrap();
    // Random bytes are kept as they are, each piece behind the block's header (24 bytes and
    // 4 a piece).
    let header = 24 + 4 * 64;
    assert_eq!(block.len(), header + (4 << 20));
    block[header + 30 * 65536 + 5] ^= 0xff;
    fs::write(&stored, &block).unwrap();
    let m = server.mount("v", &[]);
    let file = fs::File::open(m.join("f")).unwrap();
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_RANDOM) },
        0
    );
    assert!(read_at(&file, 29 << 20).unwrap());
    let err = read_at(&file, 30 * 65536).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO), "{err}");
    // A failed read counts for nothing: this one is far from every read that succeeded.
    assert!(read_at(&file, 31 * 65536 + 9).unwrap(), "the other pieces still read");
    assert_eq!(
        fs::read(m.join("f")).unwrap_err().raw_os_error(),
        Some(libc::EIO),
        "a whole read of the damaged block is refused too"
    );
}

#[test]
fn umount_right_after_git_commit_succeeds() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    for round in 0..10 {
        let m = server.mount("v", &[]);
        if round == 0 {
            git(m.path(), &["init", "-q", "repo"]);
        }
        let repo = m.join("repo");
        fs::write(repo.join(format!("f{round}")), format!("{round}\n")).unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", &format!("round {round}")]);
        // The kernel may still be sending the releases of git's files: umount waits for them.
        umount(&m);
    }
    let m = server.mount("v", &[]);
    assert_eq!(git(&m.join("repo"), &["rev-list", "--count", "HEAD"]).trim(), "10");
}

#[test]
fn a_lock_released_by_a_close_comes_after_the_data() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    fs::write(a.join("db"), b"old").unwrap();
    // On mount A: lock, then on a word from the test write 5 MiB of new data and close.
    let mut writer = hold_lock(
        &a.join("db"),
        "fcntl.lockf(f, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.readline()\nf.write('n' * (5 << 20))\nf.close()\nsys.exit(0)",
    );
    // On mount B: wait for the lock, then read the file anew.
    let mut reader = Command::new("python3")
        .args([
            "-c",
            "import fcntl,sys\nf=open(sys.argv[1],'r+')\n\
             try:\n    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n    print('waiting', flush=True)\n\
             fcntl.lockf(f, fcntl.LOCK_EX)\nd=open(sys.argv[1],'rb').read()\nprint(len(d), d[:1].decode())",
        ])
        .arg(b.join("db"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(reader.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line.trim(), "waiting", "b finds the lock taken");
    writer.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    assert!(writer.wait().unwrap().success());
    line.clear();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let done = reader.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "reader: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(
        line.trim(),
        format!("{} n", 5 << 20),
        "the reader that got the lock sees the data"
    );
}

fn set_xattr(path: &std::path::Path, name: &str, value: &[u8]) {
    let (c, n) = (cstr(path), std::ffi::CString::new(name).unwrap());
    // SAFETY: a valid path, name and value buffer of the given length.
    let r = unsafe { libc::setxattr(c.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    assert_eq!(r, 0, "setxattr {name}: {}", std::io::Error::last_os_error());
}

/// The value, or the errno.
fn get_xattr(path: &std::path::Path, name: &str) -> Result<Vec<u8>, i32> {
    let (c, n) = (cstr(path), std::ffi::CString::new(name).unwrap());
    let mut buf = [0u8; 256];
    // SAFETY: a valid path and name, and a buffer of the given size.
    let r = unsafe { libc::getxattr(c.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    Ok(buf[..r as usize].to_vec())
}

fn cstr(path: &std::path::Path) -> std::ffi::CString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// Polls `check` until it holds; returns how long that took (at most `limit`).
fn within(limit: std::time::Duration, check: impl Fn() -> bool) -> std::time::Duration {
    let start = std::time::Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "still not so after {limit:?}");
        std::thread::sleep(std::time::Duration::from_millis(10)); // a poll interval
    }
    start.elapsed()
}

#[test]
fn what_another_mount_changes_shows_within_the_attr_timeout() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let a = server.mount("v", &[]); // --attr-timeout 1s
    let b = server.mount("v", &[]);
    let at_once = server.mount("v", &["--attr-timeout", "0s"]);
    fs::create_dir(b.join("d")).unwrap();
    fs::write(b.join("d/listed"), b"x").unwrap();
    // Misses in one directory: `a` answers the next ones from a whole listing it fetched,
    // the absent names included.
    for i in 0..20 {
        assert!(!a.join(&format!("d/miss{i}")).exists());
    }
    assert!(!a.join("d/late").exists());
    assert!(!at_once.join("d/late").exists());
    fs::write(b.join("d/late"), b"theirs").unwrap();
    // Without caching, at once; with the 1 s default, within it (and a little slack).
    assert!(at_once.join("d/late").exists());
    let took = within(std::time::Duration::from_secs(3), || a.join("d/late").exists());
    assert!(took < std::time::Duration::from_millis(2500), "{took:?}");
    assert_eq!(fs::read(a.join("d/late")).unwrap(), b"theirs");

    // open(O_CREAT) of a name this mount still takes for absent opens the other's file.
    assert!(!a.join("d/late2").exists());
    fs::write(b.join("d/late2"), b"theirs").unwrap();
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(a.join("d/late2"))
        .unwrap();
    f.write_all(b" and mine").unwrap();
    drop(f);
    assert_eq!(fs::read(b.join("d/late2")).unwrap(), b"theirs and mine");

    // This mount's own changes show at once, whatever it keeps.
    fs::write(a.join("d/mine"), b"1").unwrap();
    assert_eq!(fs::metadata(a.join("d/mine")).unwrap().len(), 1);
    fs::rename(a.join("d/mine"), a.join("d/renamed")).unwrap();
    assert!(!a.join("d/mine").exists());
    assert_eq!(fs::read(a.join("d/renamed")).unwrap(), b"1");
    fs::remove_file(a.join("d/renamed")).unwrap();
    assert!(!a.join("d/renamed").exists());

    // Listings: the kernel keeps them, as it keeps names. A name another mount adds shows
    // within the timeout; one this mount adds, at once.
    let listed = |m: &Mount| {
        let mut names: Vec<String> = fs::read_dir(m.join("d"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(listed(&a), ["late", "late2", "listed"]);
    fs::write(b.join("d/added"), b"").unwrap();
    assert_eq!(listed(&at_once), ["added", "late", "late2", "listed"]);
    let took = within(std::time::Duration::from_secs(3), || listed(&a).len() == 4);
    assert!(took < std::time::Duration::from_millis(2500), "{took:?}");
    fs::write(a.join("d/own"), b"").unwrap();
    assert_eq!(listed(&a), ["added", "late", "late2", "listed", "own"]);
    fs::remove_file(a.join("d/own")).unwrap();
    fs::remove_file(a.join("d/added")).unwrap();
    assert_eq!(listed(&a), ["late", "late2", "listed"]);

    // Extended attributes: a listing tells `a` that `listed` has none; one set elsewhere
    // shows within the timeout, one set here at once.
    assert_eq!(fs::read_dir(a.join("d")).unwrap().count(), 3);
    assert_eq!(get_xattr(&a.join("d/listed"), "user.k"), Err(libc::ENODATA));
    set_xattr(&b.join("d/listed"), "user.k", b"v");
    assert_eq!(get_xattr(&at_once.join("d/listed"), "user.k"), Ok(b"v".to_vec()));
    let took = within(std::time::Duration::from_secs(3), || {
        get_xattr(&a.join("d/listed"), "user.k").is_ok()
    });
    assert!(took < std::time::Duration::from_millis(2500), "{took:?}");
    set_xattr(&a.join("d/listed"), "user.own", b"o");
    assert_eq!(get_xattr(&a.join("d/listed"), "user.own"), Ok(b"o".to_vec()));
}

/// `echo one > m/f; rm m3/f; echo two > m/f`: a name another mount removed a moment ago,
/// still in this mount's kernel cache, is created again by `open(O_CREAT)`, never ENOENT.
/// A file open here, removed through the files API, opened again by the name the kernel
/// still trusts: the open fails with ENOENT (it used to wait forever on the file's own lock).
#[test]
fn reopening_a_file_removed_elsewhere_while_open_here_fails_cleanly() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &["--attr-timeout", "1h"]);
    std::fs::write(m.join("f"), "one").unwrap();
    let held = std::fs::File::open(m.join("f")).unwrap();
    server.ok(&["fs", "rm", "v:/f"]);
    let path = m.join("f");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(std::fs::File::open(path).map(drop)));
    let answer = rx.recv_timeout(std::time::Duration::from_secs(30));
    if answer.is_err() {
        // Unstick the open, so the failure is reported rather than hung.
        // SAFETY: kill(2) of the mount process this test started.
        unsafe { libc::kill(common::mount_pid(m.path()), libc::SIGKILL) };
    }
    let err = answer.expect("the open is answered").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{err}");
    drop(held);
    assert_eq!(server.ok(&["fs", "ls", "v:/"]), "");
}

#[test]
fn a_create_over_a_name_another_mount_just_removed_succeeds() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (m, other) = (server.mount("v", &[]), server.mount("v", &[]));
    std::fs::write(m.join("f"), "one").unwrap();
    assert_eq!(std::fs::read_to_string(other.join("f")).unwrap(), "one");
    std::fs::remove_file(other.join("f")).unwrap();
    std::fs::write(m.join("f"), "two").unwrap();
    assert_eq!(std::fs::read_to_string(m.join("f")).unwrap(), "two");
    // Many times over, removed through the files API (the other mount now caches the name
    // as absent for its attribute timeout).
    for i in 0..50 {
        server.ok(&["fs", "rm", "v:/f"]);
        std::fs::write(m.join("f"), format!("again {i}")).unwrap();
        assert_eq!(std::fs::read_to_string(m.join("f")).unwrap(), format!("again {i}"));
    }
    assert_eq!(server.ok(&["fs", "cat", "v:/f"]), "again 49");
}
