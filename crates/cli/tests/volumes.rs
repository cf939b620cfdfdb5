//! Volume lifecycle through the CLI against a real server process.

mod common;
use common::Server;

#[test]
fn volume_lifecycle() {
    let server = Server::start(&[]);
    let created = server.json(&["volume", "create", "data"]);
    assert_eq!(created["name"], "data");
    assert_eq!(created["state"], "ready");
    let id = created["id"].as_str().unwrap().to_owned();

    assert_eq!(server.json(&["volume", "get", "data"])["id"], id.as_str());
    assert_eq!(server.json(&["volume", "get", &id])["name"], "data");
    let (code, err) = server.fails(&["volume", "create", "data"]);
    assert_eq!(code, 4);
    assert!(err.contains("already exists"), "{err}");

    // get --create returns the existing volume, or a new ready one.
    assert_eq!(server.json(&["volume", "get", "data", "--create"])["id"], id.as_str());
    let fresh = server.json(&["volume", "get", "fresh", "--create"]);
    assert_eq!(
        (fresh["name"].as_str(), fresh["state"].as_str()),
        (Some("fresh"), Some("ready"))
    );
    let (code, err) = server.fails(&["volume", "get", "missing"]);
    assert_eq!(code, 3);
    assert!(err.contains("not found"), "{err}");

    let names: Vec<String> = server
        .json(&["volume", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["data", "fresh"]);
    let table = server.ok(&["volume", "list"]);
    assert!(table.contains("data") && table.contains(&id), "{table}");

    server.ok(&["volume", "delete", "data"]);
    assert_eq!(server.fails(&["volume", "get", "data"]).0, 3);
    assert_eq!(server.fails(&["volume", "delete", "data"]).0, 3);
}

#[test]
fn volume_limit_gives_a_clear_error() {
    let server = Server::start(&["--max-volumes", "2"]);
    server.ok(&["volume", "create", "one"]);
    server.ok(&["volume", "create", "two"]);
    let (_, err) = server.fails(&["volume", "create", "three"]);
    assert!(err.contains("the most allowed (2)"), "{err}");
    // get --create of an existing volume still works at the limit.
    assert_eq!(server.json(&["volume", "get", "two", "--create"])["name"], "two");
    server.ok(&["volume", "delete", "one"]);
    server.ok(&["volume", "create", "three"]);
}

#[test]
fn deleting_a_non_empty_volume_reclaims_its_data() {
    // The default grace period (an hour) protects uploads not yet committed, not what a
    // deleted volume's files named: that goes at the next collection.
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (big, _) = common::random_file(dir.path(), "big", 9 << 20, 1);
    server.ok(&["volume", "create", "keep"]);
    server.ok(&["volume", "create", "doomed"]);
    server.ok(&["fs", "put", big.to_str().unwrap(), "keep:/shared"]);
    server.ok(&["fs", "mkdir", "-p", "doomed:/a/b"]);
    server.ok(&["fs", "put", big.to_str().unwrap(), "doomed:/a/b/shared"]);
    let (own, _) = common::random_file(dir.path(), "own", 5 << 20, 2);
    server.ok(&["fs", "put", own.to_str().unwrap(), "doomed:/a/own"]);
    let (files_before, _) = server.store_usage();
    assert_eq!(files_before, 3 + 2, "9 MiB is 3 blocks, shared; 5 MiB is 2 more");

    server.ok(&["volume", "delete", "doomed"]);
    let report = server.json(&["gc"]);
    assert_eq!(report["blocks_deleted"], 2);
    assert_eq!(server.store_usage().0, 3, "blocks still used by 'keep' stay");

    server.ok(&["volume", "delete", "keep"]);
    server.json(&["gc"]);
    assert_eq!(server.store_usage(), (0, 0), "store is empty once every volume is gone");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let status = server.stop(libc::SIGTERM);
    assert!(status.success(), "{status:?}");
    server.restart();
    assert_eq!(server.json(&["volume", "get", "v"])["name"], "v");
}

#[test]
fn a_second_server_on_one_data_folder_is_refused() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "kept"]);
    let data = server.data_dir();
    let out = std::process::Command::new(common::BIN)
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the second server must not start: {err}");
    assert!(
        err.contains("another strata server") && err.contains(data.to_str().unwrap()),
        "{err}"
    );
    assert!(
        server.ok(&["volume", "list"]).contains("kept"),
        "the first one serves on"
    );
}

/// A server that cannot start (its port taken, its metadata unreachable) leaves no data folder
/// and no admin key behind, which a client would otherwise pick up.
#[test]
fn a_server_that_cannot_start_leaves_nothing_behind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let home = tempfile::tempdir().unwrap();
    for (data, extra) in [
        (home.path().join("port-taken"), vec!["--listen", port.as_str()]),
        (
            home.path().join("no-database"),
            vec![
                "--listen",
                "127.0.0.1:0",
                "--meta",
                "postgres://nobody@127.0.0.1:9/none",
            ],
        ),
    ] {
        let out = std::process::Command::new(common::BIN)
            .arg("server")
            .args(&extra)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(!data.exists(), "{} was left behind: {err}", data.display());
    }
    // A folder that was there before stays, with what it held.
    let kept = home.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    std::fs::write(kept.join("mine"), b"x").unwrap();
    let out = std::process::Command::new(common::BIN)
        .args(["server", "--listen", &port, "--data-dir"])
        .arg(&kept)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(std::fs::read(kept.join("mine")).unwrap(), b"x");
    assert!(!kept.join("admin.token").exists());
}

#[test]
fn a_mounted_volume_or_snapshot_is_not_deleted_unless_forced() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    server.ok(&["snapshot", "create", "v", "s"]);
    let snap = server.mount("v@s", &[]);
    let (code, err) = server.fails(&["snapshot", "delete", "v", "s"]);
    assert!(
        code == 4 && err.contains("v@s is mounted") && err.contains("--force"),
        "{code}: {err}"
    );
    // The refusal counts the mounts but never names a session (an id is enough to end one).
    let words = err.split(|c: char| !c.is_ascii_hexdigit() && c != '-');
    assert!(!words.into_iter().any(|w| uuid::Uuid::parse_str(w).is_ok()), "{err}");
    let (code, err) = server.fails(&["volume", "delete", "v"]);
    assert!(
        code == 4 && err.contains("v is mounted"),
        "a snapshot's mount counts: {code}: {err}"
    );
    common::umount(&snap);
    server.ok(&["snapshot", "delete", "v", "s"]);

    let m = server.mount("v", &[]);
    std::fs::write(m.join("f"), b"kept").unwrap();
    let (code, _) = server.fails(&["volume", "delete", "v"]);
    assert_eq!(code, 4);
    assert_eq!(std::fs::read(m.join("f")).unwrap(), b"kept", "nothing was deleted");
    server.ok(&["volume", "delete", "v", "--force"]);
    assert_eq!(server.fails(&["volume", "get", "v"]).0, 3);
}

#[test]
fn writes_to_a_deleted_volume_fail_instead_of_vanishing() {
    use std::io::Write;
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("mount.log");
    let m = server.mount("v", &["--log-file", log.to_str().unwrap()]);
    let mut f = std::fs::File::create(m.join("f")).unwrap();
    // Starting the CLI closes the child's copy of `f`, which commits: write after it.
    server.ok(&["volume", "delete", "v", "--force"]);
    f.write_all(b"never kept").unwrap();
    let synced = f.sync_all();
    assert!(synced.is_err(), "fsync after the volume was deleted must fail");
    assert!(std::fs::write(m.join("g"), b"x").is_err(), "so must a new file");
    // A background mount's errors are in its log, as plain text.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("it was deleted") && !text.contains('\x1b'), "{text}");
}

#[tokio::test]
async fn the_server_serves_prometheus_metrics() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "secret-project"]);
    let m = server.mount("secret-project", &[]);
    // Made durable, so it reaches the server at once (a close may wait for write-back).
    let mut big = std::fs::File::create(m.join("big")).unwrap();
    std::io::Write::write_all(&mut big, &vec![1u8; 300_000]).unwrap();
    big.sync_all().unwrap();
    server.ok(&["gc"]);
    let page = reqwest::get(format!("{}/metrics", server.endpoint)).await.unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    let value = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(value("strata_http_requests_total{route=\"/v1/volumes\",method=\"POST\",status=\"201\"}") >= 1.0);
    assert!(value("strata_http_request_duration_seconds_count{route=\"/v1/sessions/{id}/write\"}") >= 1.0);
    assert!(value("strata_blocks_stored_total") >= 1.0 && value("strata_blocks_stored_bytes_total") >= 300_000.0);
    // 300,000 equal bytes: the store is given a few hundred.
    let written = value("strata_store_written_bytes_total");
    assert!(written > 0.0 && written < 10_000.0, "{written}");
    assert_eq!(value("strata_gc_runs_total"), 1.0);
    assert_eq!((value("strata_volumes "), value("strata_sessions ")), (1.0, 1.0));
    assert!(
        !text.contains("secret-project") && !text.contains(&server.token()),
        "only numbers"
    );
}

/// A volume takes a new name, its snapshots with it; its mounts and keys (which name it by
/// id) go on; a name taken, or not valid, is refused and changes nothing.
#[test]
fn a_volume_is_renamed_with_its_snapshots() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "old_name"]);
    server.ok(&["volume", "create", "taken"]);
    server.ok(&["snapshot", "create", "old_name", "s1"]);
    let mount = server.mount("old_name", &[]);
    std::fs::write(mount.join("f"), b"kept").unwrap();
    let renamed = server.json(&["volume", "rename", "old_name", "new.name"]);
    assert_eq!(renamed["name"], "new.name");
    assert_eq!(server.ok(&["fs", "cat", "new.name:/f"]), "kept");
    let snapshots: Vec<String> = server
        .json(&["snapshot", "list", "new.name"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(snapshots, ["new.name@s1"]);
    std::fs::write(mount.join("g"), b"the mount goes on").unwrap();
    assert_eq!(server.ok(&["fs", "cat", "new.name:/g"]), "the mount goes on");
    assert_eq!(server.fails(&["fs", "cat", "old_name:/f"]).0, 3);
    let (code, err) = server.fails(&["volume", "rename", "new.name", "taken"]);
    assert!(code == 4 && err.contains("taken"), "{err}");
    let (code, err) = server.fails(&["volume", "rename", "new.name@s1", "snap"]);
    assert!(code == 2 && err.contains("snapshot"), "{err}");
    for bad in ["../x", "", "UPPER", "a@b"] {
        assert_eq!(server.fails(&["volume", "rename", "new.name", bad]).0, 2, "{bad}");
    }
    assert_eq!(server.json(&["volume", "get", "new.name"])["id"], renamed["id"]);
}

/// A quota set with `volume set` bounds every path that adds data: a mount (EDQUOT, and `df`
/// shows the quota as the size), the files API (exit 5 naming the quota); a refused write
/// leaves the file as it was. `none` lifts it.
#[test]
fn a_quota_bounds_mounts_and_the_files_api() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "q"]);
    let set = server.json(&["volume", "set", "q", "--quota", "64K", "--max-files", "3"]);
    assert_eq!(
        (set["quota_bytes"].as_u64(), set["quota_files"].as_u64()),
        (Some(65536), Some(3))
    );
    assert!(
        server.ok(&["volume", "get", "q"]).contains("of 64.0 KiB"),
        "quota shown"
    );
    // Only one bound given: the other stays.
    let set = server.json(&["volume", "set", "q", "--max-files", "4"]);
    assert_eq!(
        (set["quota_bytes"].as_u64(), set["quota_files"].as_u64()),
        (Some(65536), Some(4))
    );

    let m = server.mount("q", &[]);
    std::fs::write(m.join("small"), vec![1u8; 40_000]).unwrap();
    // The bytes go to the server at fsync or close (whose error `fs::write` would drop).
    let mut big = std::fs::File::create(m.join("big")).unwrap();
    std::io::Write::write_all(&mut big, &[2u8; 40_000]).unwrap();
    let err = big.sync_all().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EDQUOT), "{err}");
    drop(big);
    assert_eq!(df_size(m.path()), 65536);

    let data = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(data.path(), vec![3u8; 30_000]).unwrap();
    let (code, err) = server.fails(&["fs", "put", data.path().to_str().unwrap(), "q:/big"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("quota"), "{err}");
    assert_eq!(std::fs::metadata(m.join("big")).unwrap().len(), 0, "left as it was");
    // Shrinking is always allowed.
    server.ok(&["fs", "put", data.path().to_str().unwrap(), "q:/small"]);

    // A scoped token (a tenant's) cannot lift its own volume's quota.
    let tenant = server.ok(&["token", "create", "--volume", "q"]);
    let (code, err) = server.fails_as(tenant.trim(), &["volume", "set", "q", "--quota", "none"]);
    assert_eq!(code, 5, "{err}");
    let set = server.json(&["volume", "set", "q", "--quota", "none"]);
    assert!(set["quota_bytes"].is_null());
    server.ok(&["fs", "put", data.path().to_str().unwrap(), "q:/other"]);
    let (code, err) = server.fails(&["volume", "set", "q"]);
    assert_eq!(code, 2, "{err}");
    let (code, err) = server.fails(&["volume", "set", "q", "--quota", "lots"]);
    assert_eq!(code, 2, "{err}");
}

/// An organization's quota, set by an admin key, bounds its volumes together on every path
/// and through every server: the files API, a mount (EDQUOT; `df` shows the room left),
/// two mounts on two servers writing at once (together they never pass it, and each file
/// a writer was told is stored is whole), a sandbox's upload into its volume, and a fork
/// (it counts whole).
#[test]
fn an_organization_quota_bounds_every_path_on_two_servers() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["org", "create", "capped"]);
    let key = a.ok(&["key", "create", "k", "--org", "capped", "--role", "org-admin"]);
    let key = key.trim();
    a.ok_as(key, &["volume", "create", "one"]);
    a.ok_as(key, &["volume", "create", "two"]);
    let set = a.json(&["org", "set", "capped", "--quota", "200K"]);
    assert_eq!(
        (set["quota_bytes"].as_u64(), set["used_bytes"].as_u64()),
        (Some(204_800), Some(0))
    );
    // Only an admin key sets it; the organization's own key reads it.
    let (code, err) = b.fails_as(key, &["org", "set", "capped", "--quota", "none"]);
    assert_eq!(code, 5, "{err}");
    assert!(b.ok_as(key, &["org", "get"]).contains("of 200.0 KiB"));
    assert!(b.ok_as(key, &["status"]).contains("quota 200.0 KiB"));

    // The files API, through either server.
    let data = tempfile::tempdir().unwrap();
    let file = |n: usize| {
        let path = data.path().join(format!("f{n}"));
        std::fs::write(&path, vec![n as u8; n]).unwrap();
        path.to_str().unwrap().to_owned()
    };
    a.ok_as(key, &["fs", "put", &file(120_000), "one:/a"]);
    let (code, err) = b.fails_as(key, &["fs", "put", &file(90_000), "two:/b"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("organization capped"), "{err}");
    assert_eq!(b.fails_as(key, &["fs", "stat", "two:/b"]).0, 3, "nothing of it stored");

    // A mount shows the room left as its size and refuses what passes it.
    let m = b.mount_as(key, "two", &[]);
    assert_eq!(df_size(m.path()), (204_800 - 120_000) / 4096 * 4096);
    let mut big = std::fs::File::create(m.join("big")).unwrap();
    std::io::Write::write_all(&mut big, &[2u8; 90_000]).unwrap();
    assert_eq!(big.sync_all().unwrap_err().raw_os_error(), Some(libc::EDQUOT));
    drop(big);
    std::fs::remove_file(m.join("big")).unwrap();

    // Two mounts on two servers write 8 KiB files at once until refused.
    let n = a.mount_as(key, "one", &[]);
    let written: Vec<Vec<String>> = std::thread::scope(|s| {
        let writers: Vec<_> = [&m, &n]
            .into_iter()
            .enumerate()
            .map(|(w, mount)| {
                s.spawn(move || {
                    let mut kept = Vec::new();
                    for i in 0.. {
                        let name = format!("w{w}-{i}");
                        let mut f = std::fs::File::create(mount.join(&name)).unwrap();
                        std::io::Write::write_all(&mut f, &[w as u8 + 1; 8192]).unwrap();
                        match f.sync_all() {
                            Ok(()) => kept.push(name),
                            Err(e) => {
                                assert_eq!(e.raw_os_error(), Some(libc::EDQUOT), "{e}");
                                return kept;
                            }
                        }
                        assert!(i < 100, "never refused");
                    }
                    unreachable!()
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let org = a.json(&["org", "get", "capped"]);
    let used = org["used_bytes"].as_u64().unwrap();
    assert!(used <= 204_800 && used > 204_800 - 2 * 8192, "{org}");
    for (w, (names, volume)) in written.iter().zip(["two", "one"]).enumerate() {
        assert!(!names.is_empty());
        for name in names {
            let stat = a.ok_as(key, &["fs", "stat", &format!("{volume}:/{name}"), "--json"]);
            let stat: serde_json::Value = serde_json::from_str(&stat).unwrap();
            assert_eq!(stat["size"], 8192, "writer {w}: {name} whole");
        }
    }

    // A sandbox's upload into its volume, and a fork, are refused too.
    let sandbox = a.ok_as(key, &["sandbox", "create", "--volume", "two:/w"]);
    let sandbox = sandbox.trim();
    let (code, err) = a.fails_as(key, &["sandbox", "upload", sandbox, &file(50_000), "/w/up"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.to_lowercase().contains("quota"), "{err}");
    a.ok_as(key, &["sandbox", "delete", sandbox]);
    let (code, err) = b.fails_as(key, &["fork", "one", "copy"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("quota"), "{err}");
    a.ok(&["org", "set", "capped", "--quota", "none"]);
    b.ok_as(key, &["fork", "one", "copy"]);
}

/// The size `df` shows for the file system at `path`, in bytes.
fn df_size(path: &std::path::Path) -> u64 {
    let out = std::process::Command::new("df").arg("-B1").arg(path).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let size = text.lines().nth(1).and_then(|l| l.split_whitespace().nth(1));
    size.and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("df said: {text}"))
}
