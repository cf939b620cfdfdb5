//! Write-back through real mounts: a mount alone on its volume owns the tree, creates and
//! closes files without waiting for the server, ships them in batches, and gives the tree
//! back, with everything it had closed, as soon as anyone else uses the volume.

mod common;
use common::{Mount, Server, mount_pid, sample, scrape};
use std::path::Path;
use std::time::{Duration, Instant};

/// Waits (polling) until `ready` holds, for at most 30 s.
fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a mount process and waits until it has ended: the kernel lets go of its files, and
/// so of the lock on its journal, only as the process exits, after kill(2) returned; a mount
/// started before then finds the journal held by a live mount, and leaves it.
fn kill_and_wait(server: &Server, mount: &Mount) {
    // SAFETY: kill(2) of the mount process this test started.
    unsafe { libc::kill(mount_pid(mount.path()), libc::SIGKILL) };
    // Shown dead once its last thread has exited, its journal's lock with it.
    until("the killed mount has ended", || {
        server.mount_status(mount.path())["alive"] == false
    });
}

/// A mount with its metrics served, once it owns its tree.
fn owning_mount(server: &Server, source: &str) -> (Mount, String) {
    owning_mount_shipping_every(server, source, "1s")
}

/// [`owning_mount`] whose deferred changes wait up to `window`.
fn owning_mount_shipping_every(server: &Server, source: &str, window: &str) -> (Mount, String) {
    let addr = common::free_addr();
    let mount = server.mount(source, &["--metrics", &addr, "--write-back", window]);
    until("the mount owns its tree", || owns(&addr));
    (mount, addr)
}

fn owns(addr: &str) -> bool {
    sample(&scrape(addr), "strata_mount_owns_tree") == 1.0
}

/// The server's Prometheus page.
fn server_metrics(server: &Server) -> String {
    scrape(server.endpoint.trim_start_matches("http://"))
}

/// Requests the server answered on mount sessions for inode operations (not the lease's
/// renewals or the owner's waits for a recall).
fn session_calls(server: &Server) -> f64 {
    server_metrics(server)
        .lines()
        .filter(|l| l.starts_with("strata_http_requests_total{route=\"/v1/sessions/{id}/"))
        .filter(|l| !l.contains("/renew\"") && !l.contains("/recall\"") && !l.contains("/own\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// File `i`'s bytes: most are small (kept inline); every tenth is larger than 64 KiB, a
/// block the close leaves to upload behind it.
/// The warnings and errors in the logs of the mounts that used a cache folder.
fn warnings(cache: &Path) -> String {
    let mut said = Vec::new();
    for entry in std::fs::read_dir(cache.join("logs")).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        said.extend(
            text.lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .map(str::to_owned),
        );
    }
    said.join("\n")
}

fn content(i: usize) -> Vec<u8> {
    let lines = if i % 10 == 3 { 8_000 } else { 400 };
    format!("file {i:06}\n").repeat(lines).into_bytes()
}

#[test]
fn an_owning_mount_creates_files_without_a_request_each() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (mount, addr) = owning_mount(&server, "v");
    std::fs::create_dir(mount.join("d")).unwrap();
    let before = session_calls(&server);
    use std::os::unix::fs::PermissionsExt;
    for i in 0..1000 {
        let path = mount.join(&format!("d/f{i}"));
        std::fs::write(&path, content(i)).unwrap();
        // Mode changes of a closed file are answered here too (tar, cp -p, chmod -R).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::set_permissions(mount.join("d"), std::fs::Permissions::from_mode(0o750)).unwrap();
    let deferred = sample(&scrape(&addr), "strata_mount_deferred_changes");
    until("every change shipped", || {
        sample(&scrape(&addr), "strata_mount_deferred_changes") == 0.0
    });
    let calls = session_calls(&server) - before;
    assert!(
        calls <= 200.0,
        "{calls} session calls for 1,000 files and chmods ({deferred} deferred at the end)\n{}",
        server_metrics(&server)
            .lines()
            .filter(|l| l.starts_with("strata_http_requests_total{route=\"/v1/sessions/"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let batched = sample(&server_metrics(&server), "strata_batched_changes_total");
    assert!(batched >= 3000.0, "{batched} changes batched");
    // What the server holds: every file, with its bytes, through the files API.
    let listed = server.ok(&["fs", "ls", "v:/d"]);
    assert_eq!(listed.lines().count(), 1000, "{listed}");
    for i in [993, 999] {
        assert_eq!(
            server.ok(&["fs", "cat", &format!("v:/d/f{i}")]).into_bytes(),
            content(i)
        );
    }
    let stat = server.json(&["fs", "stat", "v:/d/f999"]);
    assert_eq!(stat["mode"], "0600", "{stat}");
    let dir = server.json(&["fs", "stat", "v:/d"]);
    assert_eq!(dir["mode"], "0750", "{dir}");
}

#[test]
fn an_owning_mount_renames_removes_and_reopens_without_a_request_each() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (mount, addr) = owning_mount(&server, "v");
    std::fs::create_dir(mount.join("d")).unwrap();
    let before = session_calls(&server);
    for i in 0..500 {
        // Written whole under another name, then put in place (pip's compiled files, git's
        // lock files), and read back (a compiler reading what an installer wrote).
        let tmp = mount.join(&format!("d/.f{i}.tmp"));
        std::fs::write(&tmp, content(i)).unwrap();
        std::fs::rename(&tmp, mount.join(&format!("d/f{i}"))).unwrap();
        assert_eq!(std::fs::read(mount.join(&format!("d/f{i}"))).unwrap(), content(i));
    }
    for i in 0..100 {
        std::fs::write(mount.join("d/new"), content(1000 + i)).unwrap();
        std::fs::rename(mount.join("d/new"), mount.join(&format!("d/f{i}"))).unwrap();
    }
    for i in 400..500 {
        std::fs::remove_file(mount.join(&format!("d/f{i}"))).unwrap();
    }
    std::fs::create_dir(mount.join("d/sub")).unwrap();
    std::fs::write(mount.join("d/sub/x"), b"x").unwrap();
    std::fs::remove_file(mount.join("d/sub/x")).unwrap();
    std::fs::rename(mount.join("d/sub"), mount.join("d/sub2")).unwrap();
    std::fs::create_dir(mount.join("d/gone")).unwrap();
    std::fs::remove_dir(mount.join("d/gone")).unwrap();
    std::os::unix::fs::symlink("f1", mount.join("d/link")).unwrap();
    for _ in 0..100 {
        assert_eq!(
            std::fs::read_link(mount.join("d/link")).unwrap(),
            std::path::Path::new("f1")
        );
    }
    // A closed file cut short by its path reads cut when opened again here.
    let path = std::ffi::CString::new(mount.join("d/f7").into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: truncate(2) of a path this test made, with a valid C string.
    assert_eq!(unsafe { libc::truncate(path.as_ptr(), 3) }, 0);
    assert_eq!(std::fs::read(mount.join("d/f7")).unwrap(), content(1007)[..3]);
    until("every change shipped", || {
        sample(&scrape(&addr), "strata_mount_deferred_changes") == 0.0
    });
    let calls = session_calls(&server) - before;
    assert!(calls <= 150.0, "{calls} session calls for 2,300 changes and 500 reads");
    // What the server holds: the files in place, with their last bytes, and nothing removed.
    let listed = server.ok(&["fs", "ls", "v:/d"]);
    let mut names: Vec<&str> = listed.lines().collect();
    names.sort();
    let mut want: Vec<String> = (0..400).map(|i| format!("f{i}")).collect();
    want.extend(["link".into(), "sub2".into()]);
    want.sort();
    assert_eq!(names, want);
    for (name, bytes) in [
        ("f0", content(1000)),
        ("f93", content(1093)),
        ("f103", content(103)),
        ("f399", content(399)),
    ] {
        assert_eq!(
            server.ok(&["fs", "cat", &format!("v:/d/{name}")]).into_bytes(),
            bytes,
            "{name}"
        );
    }
    assert_eq!(server.ok(&["fs", "cat", "v:/d/f7"]).into_bytes(), content(1007)[..3]);
    assert_eq!(server.ok(&["fs", "ls", "v:/d/sub2"]), "");
    assert_eq!(server.json(&["fs", "stat", "v:/d/link"])["target"], "f1");
}

/// The small files an owner ships go into packs, out of the metadata: read back whole by
/// another mount and the files API, and rewritten, cut and appended to over their packed form.
#[test]
fn small_files_an_owner_ships_are_packed_out_of_the_metadata() {
    // Every change a point of history, so that the removal below is kept in it.
    let server = Server::start(&["--history-step", "0s"]);
    server.ok(&["volume", "create", "v"]);
    let (mount, addr) = owning_mount(&server, "v");
    std::fs::create_dir(mount.join("d")).unwrap();
    let small = |i: usize| format!("small {i:05}\n").repeat(150).into_bytes();
    for i in 0..300 {
        std::fs::write(mount.join(&format!("d/f{i}")), small(i)).unwrap();
    }
    std::fs::write(mount.join("d/tiny"), b"tiny").unwrap();
    // Shipped and applied: the next writes are based on the packed form.
    std::fs::File::open(mount.join("d/f0")).unwrap().sync_all().unwrap();
    use std::io::Write;
    let mut appended = std::fs::OpenOptions::new()
        .append(true)
        .open(mount.join("d/f1"))
        .unwrap();
    appended.write_all(b"more\n").unwrap();
    drop(appended);
    let cut = std::fs::OpenOptions::new()
        .write(true)
        .open(mount.join("d/f2"))
        .unwrap();
    cut.set_len(10).unwrap();
    drop(cut);
    let mut rewritten = std::fs::OpenOptions::new()
        .write(true)
        .open(mount.join("d/f2"))
        .unwrap();
    rewritten.write_all(b"0123").unwrap();
    drop(rewritten);
    std::fs::File::open(mount.join("d/f0")).unwrap().sync_all().unwrap();
    until("every change shipped", || {
        sample(&scrape(&addr), "strata_mount_deferred_changes") == 0.0
    });

    let packed = server.metadata_number("SELECT COUNT(*) FROM chunks WHERE pack_off IS NOT NULL");
    assert!(packed >= 299, "{packed} chunks packed (f2 is cut to 10 bytes, inline)");
    let inline = server.metadata_number("SELECT SUM(LENGTH(data)) FROM chunks");
    assert!(
        inline < 20_000,
        "{inline} bytes inline in the metadata, for 540 KB of files"
    );
    let packs = sample(&server_metrics(&server), "strata_packs_stored_total");
    assert!((1.0..=20.0).contains(&packs), "{packs} packs for 300 files");

    let mut f1 = small(1);
    f1.extend_from_slice(b"more\n");
    let mut f2 = small(2)[..10].to_vec();
    f2[..4].copy_from_slice(b"0123");
    let other = server.mount("v", &[]);
    for (name, bytes) in [
        ("f0", small(0)),
        ("f1", f1),
        ("f2", f2),
        ("f299", small(299)),
        ("tiny", b"tiny".to_vec()),
    ] {
        assert_eq!(
            std::fs::read(other.join(&format!("d/{name}"))).unwrap(),
            bytes,
            "{name}"
        );
        assert_eq!(
            server.ok(&["fs", "cat", &format!("v:/d/{name}")]).into_bytes(),
            bytes,
            "{name}"
        );
    }
    assert_eq!(std::fs::read_dir(other.join("d")).unwrap().count(), 301);
    let fsck = server.cli(&["fsck", "--json"]);
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stdout));
    // A chunk damaged to name bytes past its pack is found.
    let damaged = server.damage_metadata(
        "UPDATE chunks SET pack_off = pack_off + 100000000 WHERE (layer, ino, idx) = \
         (SELECT layer, ino, idx FROM chunks WHERE pack_off IS NOT NULL ORDER BY ino, idx LIMIT 1)",
    );
    assert_eq!(damaged, 1);
    let problems = String::from_utf8_lossy(&server.cli(&["fsck", "--json"]).stdout).into_owned();
    assert!(
        problems.contains("dangling_chunk") && problems.contains("of pack"),
        "{problems}"
    );
    // A pack goes once no file names it (and the session that stored it is gone).
    common::umount(&other);
    common::umount(&mount);
    server.ok(&["fs", "rm", "-r", "v:/d"]);
    // While the volume's history holds the files, it holds their packs.
    let kept = server.json(&["gc"]);
    assert_eq!(kept["blocks_deleted"], 0, "{kept}");
    assert!(server.ok(&["fs", "ls", "v@-0s:/"]).is_empty());
    server.ok(&["volume", "set", "v", "--history", "0"]);
    let report = server.json(&["gc"]);
    let deleted = report["blocks_deleted"].as_f64().unwrap();
    assert!(deleted >= packs, "{report}: {packs} packs stored");
    assert_eq!(
        server.metadata_number("SELECT COUNT(*) FROM blocks"),
        0,
        "every pack and block is gone"
    );
}

/// `fsync` of the mount's folder (what `sync MOUNTPOINT` does) returns once everything the
/// owner deferred is applied; `syncfs` and `sync` with no file never reach a FUSE file
/// system (Linux sends them to virtiofs only), so they leave it to the window.
#[test]
fn fsync_of_the_mount_folder_ships_everything_deferred() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (mount, addr) = owning_mount_shipping_every(&server, "v", "1h");
    std::fs::create_dir(mount.join("d")).unwrap();
    for i in 0..100 {
        std::fs::write(mount.join(&format!("d/f{i}")), content(i)).unwrap();
    }
    let root = std::fs::File::open(mount.path()).unwrap();
    // SAFETY: syncfs(2) on a descriptor this test holds open.
    assert_eq!(unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&root)) }, 0);
    let deferred = sample(&scrape(&addr), "strata_mount_deferred_changes");
    assert!(deferred >= 200.0, "{deferred} changes deferred after syncfs");
    root.sync_all().unwrap();
    assert_eq!(sample(&scrape(&addr), "strata_mount_deferred_changes"), 0.0);
    let batched = sample(&server_metrics(&server), "strata_batched_changes_total");
    assert!(batched >= 200.0, "{batched} changes applied");
}

/// Tenants' mounts of folders apart in one volume each own their tree, and ship without
/// recalling each other; a mount of the whole volume recalls both.
#[test]
fn mounts_of_folders_apart_each_own_their_tree() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    server.ok(&["fs", "mkdir", "v:/a"]);
    server.ok(&["fs", "mkdir", "v:/b"]);
    let (a, addr_a) = owning_mount(&server, "v:a");
    let (b, addr_b) = owning_mount(&server, "v:b");
    assert!(owns(&addr_a), "the second tenant's mount did not recall the first");
    let before = session_calls(&server);
    for i in 0..300 {
        std::fs::write(a.join(&format!("f{i}")), content(i)).unwrap();
        std::fs::write(b.join(&format!("f{i}")), content(1000 + i)).unwrap();
    }
    for addr in [&addr_a, &addr_b] {
        until("every change shipped", || {
            sample(&scrape(addr), "strata_mount_deferred_changes") == 0.0
        });
    }
    let calls = session_calls(&server) - before;
    assert!(calls <= 120.0, "{calls} session calls for 600 files");
    assert!(owns(&addr_a) && owns(&addr_b), "neither recalled the other");
    // A mount of the whole volume overlaps both: it opens once both gave their trees back.
    let whole = server.mount("v", &[]);
    assert!(!owns(&addr_a) && !owns(&addr_b));
    for i in [0, 3, 299] {
        assert_eq!(std::fs::read(whole.join(&format!("a/f{i}"))).unwrap(), content(i));
        assert_eq!(
            std::fs::read(whole.join(&format!("b/f{i}"))).unwrap(),
            content(1000 + i)
        );
    }
    assert_eq!(std::fs::read_dir(whole.join("b")).unwrap().count(), 300);
}

#[test]
fn a_second_mount_sees_everything_the_owner_closed() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (owner, addr) = owning_mount(&server, "v");
    std::fs::create_dir_all(owner.join("a/b")).unwrap();
    for i in 0..500 {
        std::fs::write(owner.join(&format!("a/b/f{i}")), content(i)).unwrap();
    }
    std::os::unix::fs::symlink("b/f1", owner.join("a/link")).unwrap();
    assert!(sample(&scrape(&addr), "strata_mount_deferred_changes") > 0.0);
    // The second mount opens once the owner shipped all and gave the tree back.
    let other = server.mount("v", &[]);
    assert!(!owns(&addr), "the owner gave its tree back");
    let mut names: Vec<String> = std::fs::read_dir(other.join("a/b"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 500);
    for i in [0, 250, 493, 499] {
        assert_eq!(std::fs::read(other.join(&format!("a/b/f{i}"))).unwrap(), content(i));
    }
    assert_eq!(std::fs::read(other.join("a/link")).unwrap(), content(1));
    // From then on both go on as before: close-to-open between them.
    std::fs::write(owner.join("a/b/f7"), b"later").unwrap();
    assert_eq!(std::fs::read(other.join("a/b/f7")).unwrap(), b"later");
    std::fs::write(other.join("a/b/f8"), b"from the other").unwrap();
    assert_eq!(std::fs::read(owner.join("a/b/f8")).unwrap(), b"from the other");
}

#[test]
fn the_files_api_a_fork_and_a_snapshot_see_what_the_owner_closed() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (owner, addr) = owning_mount(&server, "v");
    std::fs::write(owner.join("one"), b"first").unwrap();
    assert_eq!(server.ok(&["fs", "cat", "v:/one"]), "first");
    // The owner asks again once nobody used the volume for a moment.
    until("the mount owns its tree again", || owns(&addr));
    std::fs::write(owner.join("two"), b"second").unwrap();
    server.ok(&["fork", "v", "f"]);
    assert_eq!(server.ok(&["fs", "cat", "f:/two"]), "second");
    until("the mount owns its tree again", || owns(&addr));
    std::fs::write(owner.join("three"), b"third").unwrap();
    server.ok(&["snapshot", "create", "v", "s"]);
    assert_eq!(server.ok(&["fs", "cat", "v@s:/three"]), "third");
}

#[test]
fn a_killed_owner_loses_at_most_its_last_changes_and_only_a_suffix() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (owner, _) = owning_mount(&server, "v");
    std::fs::create_dir(owner.join("d")).unwrap();
    let mut synced = 0;
    for i in 1..=3000 {
        let path = owner.join(&format!("d/g{i}"));
        std::fs::write(&path, content(i)).unwrap();
        if i % 700 == 0 {
            std::fs::File::open(&path).unwrap().sync_all().unwrap();
            synced = i;
        }
    }
    let pid = mount_pid(owner.path());
    // SAFETY: kill(2) of the mount process this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    drop(owner);

    // Its connection closed: the server knows it listens no more, and does not wait out
    // its lease (30 s) before the next mount opens.
    let began = Instant::now();
    let after = server.mount("v", &[]);
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "waited {:?}",
        began.elapsed()
    );
    let mut present: Vec<usize> = std::fs::read_dir(after.join("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap()[1..].parse().unwrap())
        .collect();
    present.sort();
    let n = present.len();
    assert!(n >= synced, "{n} files, {synced} fsync'd");
    assert_eq!(present, (1..=n).collect::<Vec<_>>(), "a prefix of the files made");
    for i in 1..=n {
        let bytes = std::fs::read(after.join(&format!("d/g{i}"))).unwrap();
        // The last one's write may not have shipped with its create.
        assert!(
            bytes == content(i) || (i == n && bytes.is_empty()),
            "g{i}: {} bytes",
            bytes.len()
        );
    }
}

/// A killed owner's journal, in its cache folder, holds what it had not shipped: the next
/// mount with that cache folder replays it, so nothing is lost.
#[test]
fn the_next_mount_replays_what_a_killed_owner_had_not_shipped() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    // A long window: only whole batches ship before the kill, the rest waits.
    let addr = common::free_addr();
    let owner = server.mount("v", &["--metrics", &addr, "--write-back", "60s"]);
    until("the mount owns its tree", || owns(&addr));
    std::fs::create_dir(owner.join("d")).unwrap();
    for i in 1..=2000 {
        let tmp = owner.join(&format!("d/.g{i}"));
        std::fs::write(&tmp, content(i)).unwrap();
        std::fs::rename(&tmp, owner.join(&format!("d/g{i}"))).unwrap();
    }
    std::fs::remove_file(owner.join("d/g1")).unwrap();
    let pending = sample(&scrape(&addr), "strata_mount_deferred_changes");
    assert!(pending > 0.0, "changes wait for the window");
    kill_and_wait(&server, &owner);

    let after = server.mount_sharing_cache("v", &owner, &[]);
    let names: Vec<String> = std::fs::read_dir(after.join("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let stray: Vec<&String> = names.iter().filter(|n| !n.starts_with('g')).collect();
    assert!(
        stray.is_empty(),
        "{pending} changes were pending; left behind: {stray:?}; {} names; the mounts said: {}",
        names.len(),
        warnings(owner.cache.path())
    );
    let mut present: Vec<usize> = names.iter().map(|n| n[1..].parse().unwrap()).collect();
    present.sort();
    assert_eq!(
        present,
        (2..=2000).collect::<Vec<_>>(),
        "{pending} changes were pending"
    );
    for i in [2, 3, 1000, 1993, 2000] {
        assert_eq!(std::fs::read(after.join(&format!("d/g{i}"))).unwrap(), content(i));
    }
    let journals = std::fs::read_dir(owner.cache.path().join("journal")).unwrap().count();
    assert_eq!(journals, 1, "the replayed journal is gone; the new mount's is there");
}

#[test]
fn a_silent_owner_loses_its_tree_within_a_lease() {
    let server = Server::start(&["--session-lease", "3s"]);
    server.ok(&["volume", "create", "v"]);
    let (owner, _) = owning_mount(&server, "v");
    let f = owner.join("kept");
    std::fs::write(&f, b"fsync'd").unwrap();
    std::fs::File::open(&f).unwrap().sync_all().unwrap();
    let pid = mount_pid(owner.path());
    // SAFETY: kill(2) of the mount process this test started.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let began = Instant::now();
    let other = server.mount("v", &[]);
    let waited = began.elapsed();
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
    assert_eq!(std::fs::read(other.join("kept")).unwrap(), b"fsync'd");
}
