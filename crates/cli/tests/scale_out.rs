//! Several servers on one PostgreSQL database and one S3 store (SeaweedFS), all real
//! processes on 127.0.0.1: whatever goes in through one comes out through any other.

mod common;
use common::{Server, hash_file, random_file};
use std::io::Write;

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
