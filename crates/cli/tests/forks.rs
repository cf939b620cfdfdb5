//! Forks and snapshots end to end: CLI, API and real mounts.

mod common;
use common::{Server, hash_file, random_file};
use std::fs;
use std::io::Write;

#[test]
fn an_agent_forks_breaks_and_discards() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "work"]);
    let scratch = tempfile::tempdir().unwrap();
    let (data, hash) = random_file(scratch.path(), "data", 9 << 20, 21);
    server.ok(&["fs", "mkdir", "-p", "work:/src"]);
    server.ok(&["fs", "put", data.to_str().unwrap(), "work:/src/data.bin"]);
    let notes = scratch.path().join("notes");
    fs::write(&notes, "keep me\n").unwrap();
    server.ok(&["fs", "put", notes.to_str().unwrap(), "work:/notes.txt"]);
    let blocks_before = server.store_usage();

    let fork = server.json(&["fork", "work", "experiment"]);
    assert_eq!(fork["name"], "experiment");
    assert_eq!(server.store_usage(), blocks_before, "a fork stores no data");
    let m = server.mount("experiment", &[]);
    assert_eq!(hash_file(&m.join("src/data.bin")), hash);
    fs::remove_file(m.join("notes.txt")).unwrap();
    fs::write(m.join("src/new.txt"), "experiment\n").unwrap();
    let mut f = fs::OpenOptions::new().write(true).open(m.join("src/data.bin")).unwrap();
    f.write_all(b"broken").unwrap();
    drop(f);

    let diff = server.ok(&["diff", "work", "experiment"]);
    assert_eq!(diff, "- /notes.txt\nM /src/data.bin\n+ /src/new.txt\n");
    let json = server.json(&["diff", "work", "experiment"]);
    assert_eq!(json.as_array().unwrap().len(), 3);

    // The original is untouched; discarding the fork leaves it whole.
    assert_eq!(server.ok(&["fs", "cat", "work:/notes.txt"]), "keep me\n");
    common::umount(&m);
    drop(m);
    server.ok(&["volume", "delete", "experiment"]);
    let back = scratch.path().join("back");
    server.ok(&["fs", "get", "work:/src/data.bin", back.to_str().unwrap()]);
    assert_eq!(hash_file(&back), hash);
    assert!(server.ok(&["diff", "work", "work"]).is_empty());
}

#[test]
fn snapshots_mount_read_only_restore_and_fork() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &["--attr-timeout", "0s"]);
    fs::write(m.join("state"), "monday\n").unwrap();
    let snap = server.json(&["snapshot", "create", "v", "mon"]);
    assert_eq!(snap["name"], "v@mon");
    fs::write(m.join("state"), "tuesday\n").unwrap();
    fs::write(m.join("extra"), "x").unwrap();
    assert!(server.ok(&["snapshot", "list", "v"]).contains("v@mon"));

    let sm = server.mount("v@mon", &[]);
    assert_eq!(fs::read_to_string(sm.join("state")).unwrap(), "monday\n");
    assert_eq!(
        fs::write(sm.join("state"), "x").unwrap_err().raw_os_error(),
        Some(libc::EROFS)
    );

    server.json(&["fork", "v@mon", "from-monday"]);
    assert_eq!(server.ok(&["fs", "cat", "from-monday:/state"]), "monday\n");

    server.ok(&["snapshot", "restore", "v", "mon"]);
    // The open mount sees the restored tree.
    assert_eq!(fs::read_to_string(m.join("state")).unwrap(), "monday\n");
    assert!(!m.join("extra").exists());
    common::umount(&sm);
    drop(sm);
    server.ok(&["snapshot", "delete", "v", "mon"]);
    assert_eq!(server.fails(&["snapshot", "delete", "v", "mon"]).0, 3);
    assert_eq!(server.ok(&["fs", "cat", "from-monday:/state"]), "monday\n");
    let (code, err) = server.fails(&["snapshot", "create", "v", "Bad/Name"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_mounted_source_keeps_working_while_forked() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &[]);
    let mut f = fs::File::create(m.join("log")).unwrap();
    f.write_all(b"before\n").unwrap();
    f.sync_all().unwrap();
    server.ok(&["fork", "v", "copy"]);
    f.write_all(b"after\n").unwrap();
    drop(f);
    assert_eq!(fs::read_to_string(m.join("log")).unwrap(), "before\nafter\n");
    assert_eq!(server.ok(&["fs", "cat", "copy:/log"]), "before\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fork_racing_writes_holds_whole_versions() {
    let server = Server::start(&[]);
    let client = server.client();
    client.create_volume("v", false).await.unwrap();
    // Each version spans two blocks, so a torn write would show.
    async fn put(client: strata_client::Client, n: u8) {
        let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(vec![n; 5 << 20]))]);
        client.put("v", "/file", None, body).await.unwrap();
    }
    put(client.clone(), 0).await;
    let writer = tokio::spawn({
        let client = client.clone();
        async move {
            for n in 1..=12u8 {
                put(client.clone(), n).await;
            }
        }
    });
    let mut forks = Vec::new();
    for i in 0..10 {
        forks.push(client.fork("v", &format!("f{i}")).await.unwrap().name);
    }
    writer.await.unwrap();
    for name in forks {
        let (size, stream) = client.get(&name, "/file").await.unwrap();
        let data: Vec<bytes::Bytes> = futures::TryStreamExt::try_collect(stream).await.unwrap();
        let data = data.concat();
        assert_eq!(size, 5 << 20);
        let first = data[0];
        assert!(data.iter().all(|&b| b == first), "fork {name} holds a torn write");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gc_under_concurrent_writes_keeps_every_live_block() {
    // A short grace and no history, so that overwritten blocks really are collected while
    // writes go on.
    let server = Server::start(&["--gc-grace", "200ms", "--history", "0s"]);
    let client = server.client();
    client.create_volume("v", false).await.unwrap();
    let content = |n: u32| {
        bytes::Bytes::from(
            (0..(1 << 20) + 7)
                .map(|i: u32| (i.wrapping_mul(n + 1) >> 3) as u8)
                .collect::<Vec<u8>>(),
        )
    };
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            for n in 0..60u32 {
                loop {
                    let body = futures::stream::iter([Ok::<_, std::io::Error>(content(n))]);
                    match client.put("v", &format!("/f{}", n % 10), None, body).await {
                        Ok(_) => break,
                        // An upload that outlived the grace period is refused, never half-kept.
                        Err(e) if e.kind == strata_core::ErrorKind::Conflict => continue,
                        Err(e) => panic!("put {n}: {e}"),
                    }
                }
            }
        })
    };
    let mut collected = 0;
    while !writer.is_finished() {
        collected += client.gc(false).await.unwrap().blocks_deleted;
    }
    writer.await.unwrap();
    collected += client.gc(false).await.unwrap().blocks_deleted;
    eprintln!("blocks collected while writing: {collected}");
    assert!(collected > 0, "overwritten blocks were collected");
    for n in 50..60u32 {
        let (_, stream) = client.get("v", &format!("/f{}", n % 10)).await.unwrap();
        let data: Vec<bytes::Bytes> = futures::TryStreamExt::try_collect(stream).await.unwrap();
        assert_eq!(
            blake3::hash(&data.concat()),
            blake3::hash(&content(n)),
            "file f{}",
            n % 10
        );
    }
}

#[test]
fn deleting_everything_empties_the_store() {
    let server = Server::start(&["--gc-grace", "0s"]);
    server.ok(&["volume", "create", "v"]);
    let scratch = tempfile::tempdir().unwrap();
    let (data, _) = random_file(scratch.path(), "data", 12 << 20, 5);
    server.ok(&["fs", "put", data.to_str().unwrap(), "v:/data"]);
    let used = server.store_usage();
    server.ok(&["snapshot", "create", "v", "s1"]);
    server.ok(&["fork", "v", "f1"]);
    server.ok(&["fork", "v@s1", "f2"]);
    assert_eq!(server.store_usage(), used, "forks and snapshots share every block");
    let (other, _) = random_file(scratch.path(), "other", 4 << 20, 6);
    server.ok(&["fs", "put", other.to_str().unwrap(), "f1:/data"]);
    server.ok(&["volume", "delete", "v"]);
    server.json(&["gc"]);
    assert_eq!(
        server.json(&["fs", "stat", "f2:/data"])["size"],
        12 << 20,
        "a fork outlives its source"
    );
    server.ok(&["volume", "delete", "f1"]);
    server.ok(&["volume", "delete", "f2"]);
    server.json(&["gc"]);
    assert_eq!(server.store_usage(), (0, 0));
    assert_eq!(server.store_objects(), 0, "nothing kept beside the blocks either");
}
