//! Several servers on one PostgreSQL database and one S3 store (SeaweedFS), all real
//! processes on 127.0.0.1: whatever goes in through one comes out through any other.

mod common;
use common::{Server, hash_file, random_file};
use std::io::Write;
use strata_core::session::SessionApi;

#[test]
fn a_file_put_through_one_server_reads_back_through_another() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (src, want) = random_file(dir.path(), "big", 30 << 20, 7);
    a.ok(&["fs", "put", src.to_str().unwrap(), "v:/big"]);

    let (objects, bytes) = a.store_usage();
    assert!(
        objects >= 8 && bytes >= 30 << 20,
        "blocks are in the bucket: {objects} objects, {bytes} bytes"
    );
    assert!(
        !a.data_dir().join("blocks").exists(),
        "no local block folder on the S3 stack"
    );

    assert_eq!(b.token(), a.token(), "the second server made no key of its own");
    let back = dir.path().join("back");
    b.ok(&["fs", "get", "v:/big", back.to_str().unwrap()]);
    assert_eq!(hash_file(&back), want);
    assert_eq!(b.json(&["fsck"])["problems"], serde_json::json!([]));
}

#[test]
fn a_write_through_a_mount_on_one_server_is_seen_through_another() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let mount = a.mount("v", &[]);
    let mut f = std::fs::File::create(mount.join("note.txt")).unwrap();
    f.write_all(b"written on a").unwrap();
    f.sync_all().unwrap();
    drop(f);
    assert_eq!(b.ok(&["fs", "cat", "v:/note.txt"]), "written on a");
    // And back: a mount on b sees what a's mount wrote, and a lock taken through a.
    let other = b.mount("v", &[]);
    assert_eq!(std::fs::read_to_string(other.join("note.txt")).unwrap(), "written on a");
}

#[test]
fn renames_racing_through_two_servers_leave_a_consistent_tree() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    a.ok(&["fs", "mkdir", "-p", "v:/src"]);
    a.ok(&["fs", "mkdir", "-p", "v:/dst"]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("f");
    std::fs::write(&local, b"x").unwrap();
    for i in 0..40 {
        a.ok(&["fs", "put", local.to_str().unwrap(), &format!("v:/src/f{i}")]);
    }
    let (ca, cb) = (a.client(), b.client());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let moves = (0..40).map(|i| {
            let client = if i % 2 == 0 { ca.clone() } else { cb.clone() };
            async move {
                client
                    .rename("v", &format!("/src/f{i}"), &format!("/dst/f{i}"), false)
                    .await
            }
        });
        for result in futures::future::join_all(moves).await {
            result.unwrap();
        }
    });
    let listed = a.ok(&["fs", "ls", "v:/dst"]);
    assert_eq!(listed.lines().count(), 40, "{listed}");
    assert_eq!(b.ok(&["fs", "ls", "v:/src"]), "");
    let vol = b.json(&["volume", "get", "v"]);
    assert_eq!(vol["file_count"], 42, "40 files and 2 folders");
    assert_eq!(a.json(&["fsck"])["problems"], serde_json::json!([]));
}

#[test]
fn a_killed_server_loses_nothing_its_puts_returned() {
    let mut a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let mut hashes = Vec::new();
    for i in 0..5 {
        let (path, hash) = random_file(dir.path(), &format!("f{i}"), 300_000 * (i + 1), i);
        a.ok(&["fs", "put", path.to_str().unwrap(), &format!("v:/f{i}")]);
        hashes.push(hash);
    }
    a.stop(libc::SIGKILL);
    for (i, want) in hashes.iter().enumerate() {
        let back = dir.path().join(format!("back{i}"));
        b.ok(&["fs", "get", &format!("v:/f{i}"), back.to_str().unwrap()]);
        assert_eq!(&hash_file(&back), want, "f{i}");
    }
    assert_eq!(b.json(&["fsck"])["problems"], serde_json::json!([]));
}

#[test]
fn a_mount_fails_over_to_the_next_server() {
    let mut a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let endpoints = format!("{},{}", a.endpoint, b.endpoint);
    let mount = a.mount("v", &["--endpoint", &endpoints]);
    std::fs::write(mount.join("before"), b"through a").unwrap();
    a.stop(libc::SIGKILL);
    let mut f = std::fs::File::create(mount.join("after")).unwrap();
    f.write_all(b"through b").unwrap();
    f.sync_all().unwrap();
    drop(f);
    assert_eq!(std::fs::read(mount.join("before")).unwrap(), b"through a");
    assert_eq!(b.ok(&["fs", "cat", "v:/after"]), "through b");
    // A command given both, the dead one first, goes to the live one.
    assert_eq!(b.ok(&["fs", "cat", "v:/after", "--endpoint", &endpoints]), "through b");
}

/// Writes files through a mount and fsyncs each, reporting every one that is durable.
fn writer(
    dir: std::path::PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    done: std::sync::mpsc::Sender<(String, Vec<u8>)>,
) {
    let mut i = 0u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let name = format!("f{i}");
        // Sizes from inline (a few bytes) and packed (a few KiB) to several blocks.
        let len = [10usize, 2_000, 70_000, 5_000_000][(i % 4) as usize] + i as usize;
        let data: Vec<u8> = (0..len).map(|n| (n as u64 * 31 + i) as u8).collect();
        let written = std::fs::File::create(dir.join(&name)).and_then(|mut f| {
            f.write_all(&data)?;
            f.sync_all()
        });
        if written.is_ok() && done.send((name, data)).is_err() {
            return;
        }
        i += 1;
    }
}

#[test]
fn servers_killed_under_a_mount_lose_nothing_fsynced() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let mount = a.mount("v", &["--endpoint", &format!("{},{}", a.endpoint, b.endpoint)]);
    let mut servers = [a, b];
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let (dir, flag) = (mount.path().to_owned(), stop.clone());
    let writing = std::thread::spawn(move || writer(dir, flag, tx));
    let mut durable = Vec::new();
    // Ten in CI; bench/kill-servers.sh runs more.
    let cycles: usize = std::env::var("STRATA_KILL_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    for cycle in 0..cycles {
        // Kill after a varying number of durable files: at a different moment of the workload
        // (mid-upload, mid-commit, idle) each time. The servers take turns, so that every
        // kill hits the one the mount is using (it moved to the other at the last kill).
        for _ in 0..(1 + cycle % 4) {
            durable.push(rx.recv().unwrap());
        }
        let victim = &mut servers[cycle % 2];
        victim.stop(libc::SIGKILL);
        durable.push(rx.recv().unwrap()); // The mount goes on through the other server.
        victim.restart();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writing.join().unwrap();
    durable.extend(rx.try_iter());
    assert!(durable.len() >= 2 * cycles, "{} files", durable.len());
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in &durable {
        assert_eq!(
            &std::fs::read(mount.join(name)).unwrap(),
            data,
            "{name} through the mount"
        );
        let back = dir.path().join(name);
        servers[0].ok(&["fs", "get", &format!("v:/{name}"), back.to_str().unwrap()]);
        assert_eq!(&std::fs::read(&back).unwrap(), data, "{name} through the server");
    }
    assert_eq!(servers[1].json(&["fsck"])["problems"], serde_json::json!([]));
}

#[test]
fn locks_cross_servers_and_go_with_a_dead_mount() {
    let a = Server::start_shared(&["--session-lease", "1500ms"]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let (on_a, on_b) = (a.mount("v", &[]), b.mount("v", &[]));
    std::fs::write(on_a.join("db"), vec![0u8; 100]).unwrap();
    let other = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(on_b.join("db"))
        .unwrap();
    let mut holder = common::hold_lock(&on_a.join("db"), "fcntl.lockf(f, fcntl.LOCK_EX, 10, 10)");
    // Held past several leases: the live mount renews it.
    for _ in 0..3 {
        assert_eq!(
            common::try_write_lock(&other, 15, 1),
            Err(libc::EAGAIN),
            "through b, a's lock holds"
        );
        std::thread::sleep(std::time::Duration::from_millis(1000));
    }
    // The mount on a dies without a word: its lease runs out and its lock goes.
    let pid = common::mount_pid(on_a.path());
    // SAFETY: kill(2) on the mount daemon this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while common::try_write_lock(&other, 15, 1).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the dead mount's lock was never released"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn a_session_closed_through_one_server_is_refused_by_the_other() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = rt.block_on(a.client().open_session("v", "", false)).unwrap();
    let http = reqwest::Client::new();
    let statfs_on_b = || {
        let url = format!("{}/v1/sessions/{}/statfs", b.endpoint, session.id());
        let req = http.post(url).bearer_auth(b.token()).json(&());
        rt.block_on(async { req.send().await.unwrap().status().as_u16() })
    };
    assert_eq!(statfs_on_b(), 200, "b serves a's session");
    rt.block_on(SessionApi::close(&session)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while statfs_on_b() != 404 {
        assert!(std::time::Instant::now() < deadline, "b still serves a closed session");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Servers keep the keys they read for a few seconds; a key revoked through one server is
/// refused by the other within that time, and by the one that revoked it at once.
#[test]
fn a_key_revoked_through_one_server_is_refused_by_the_other() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let made: serde_json::Value =
        serde_json::from_str(&a.ok(&["token", "create", "--volume", "v", "--name", "t", "--json"])).unwrap();
    let (secret, id) = (made["secret"].as_str().unwrap(), made["key"]["id"].as_str().unwrap());
    assert_eq!(a.ok_as(secret, &["fs", "ls", "v:/"]), "");
    assert_eq!(b.ok_as(secret, &["fs", "ls", "v:/"]), "", "b has read the key now");
    a.ok(&["key", "revoke", id]);
    assert_eq!(
        a.fails_as(secret, &["fs", "ls", "v:/"]).0,
        5,
        "refused at once where revoked"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while b.cli_as(secret, &["fs", "ls", "v:/"]).status.success() {
        assert!(std::time::Instant::now() < deadline, "b still takes a revoked key");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// A mount that owns its tree through one server gives it back when another server is asked
/// about the volume: the files API and a new mount on the second server see every file the
/// owner had closed, though the recall was raised where the owner is not connected.
#[test]
fn a_recall_through_another_server_reaches_the_owner() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let addr = common::free_addr();
    let owner = a.mount("v", &["--metrics", &addr, "--write-back", "1s"]);
    let owns = || common::sample(&common::scrape(&addr), "strata_mount_owns_tree") == 1.0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !owns() {
        assert!(
            std::time::Instant::now() < deadline,
            "the mount owns its tree within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::create_dir(owner.join("d")).unwrap();
    for i in 0..200 {
        std::fs::write(owner.join(&format!("d/f{i}")), format!("file {i}")).unwrap();
    }
    assert_eq!(b.ok(&["fs", "cat", "v:/d/f199"]), "file 199");
    assert!(!owns(), "the owner gave its tree back");
    let other = b.mount("v", &[]);
    assert_eq!(std::fs::read_dir(other.join("d")).unwrap().count(), 200);
}
