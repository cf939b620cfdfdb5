//! Several mounts writing one file at once: each writer's byte ranges land in commit order
//! (later commit wins per byte), sizes change only as writes and truncates say, and no byte
//! a truncate deleted comes back. One test thread drives both mounts, so every interleaving
//! here is exact.

mod common;
use common::Server;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::IntoRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The tests here run one at a time. A test thread that starts a process (a server, a mount,
/// the CLI) forks: until the child execs, it holds a copy of every descriptor another test
/// has open, and its exec closes them, which commits those files (each close of a descriptor
/// is a commit point) in an order no test chose.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn open_rw(path: &Path) -> File {
    OpenOptions::new().read(true).write(true).open(path).unwrap()
}

/// The file as a fresh open on each mount sees it.
fn assert_everywhere(mounts: &[&Path], name: &str, expected: &[u8]) {
    for m in mounts {
        let found = fs::read(m.join(name)).unwrap();
        assert_eq!(
            found.len(),
            expected.len(),
            "size of {name} seen through {}",
            m.display()
        );
        let first = found.iter().zip(expected).position(|(f, e)| f != e);
        assert_eq!(first, None, "first wrong byte of {name} seen through {}", m.display());
    }
}

#[test]
fn writers_of_different_ranges_of_one_file_keep_each_others_bytes() {
    let _serial = one_at_a_time();
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    // A block-stored file and an inline one.
    for (name, size) in [("big", 4 << 20), ("small", 16 << 10)] {
        let mut expected = pattern(size, 1);
        fs::write(a.join(name), &expected).unwrap();
        let (fa, fb) = (open_rw(&a.join(name)), open_rw(&b.join(name)));
        fa.write_all_at(&[b'A'; 4096], 0).unwrap();
        fb.write_all_at(&[b'B'; 4096], 8192).unwrap();
        // Overlapping ranges: the later commit (B's) wins where both wrote.
        fa.write_all_at(&[b'a'; 2048], 10_000).unwrap();
        assert_eq!(fb.metadata().unwrap().len(), size as u64, "unchanged until a commit");
        fb.write_all_at(&[b'b'; 2048], 11_000).unwrap();
        drop(fa);
        drop(fb);
        // A commits first, then B.
        expected[..4096].fill(b'A');
        expected[10_000..12_048].fill(b'a');
        expected[8192..12_288].fill(b'B');
        expected[11_000..13_048].fill(b'b');
        assert_everywhere(&[a.path(), b.path()], name, &expected);
    }
}

#[test]
fn a_write_after_another_mounts_truncate_resurrects_nothing() {
    let _serial = one_at_a_time();
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    let original = pattern(4 << 20, 7);
    fs::write(a.join("f"), &original).unwrap();
    let fa = open_rw(&a.join("f"));
    let fb = open_rw(&b.join("f"));
    fb.set_len(1 << 20).unwrap();
    drop(fb);
    fa.write_all_at(b"A", 0).unwrap();
    drop(fa);
    let mut expected = original[..1 << 20].to_vec();
    expected[0] = b'A';
    assert_everywhere(&[a.path(), b.path()], "f", &expected);

    // A write past the new end extends the file to its own end only; the gap reads as zeros.
    let fa = open_rw(&a.join("f"));
    let fb = open_rw(&b.join("f"));
    fb.set_len(4096).unwrap();
    drop(fb);
    fa.write_all_at(b"tail", 2 << 20).unwrap();
    drop(fa);
    let mut expected = expected[..4096].to_vec();
    expected.resize(2 << 20, 0);
    expected.extend_from_slice(b"tail");
    assert_everywhere(&[a.path(), b.path()], "f", &expected);
}

/// Closes a file and says whether the close (the commit) succeeded.
fn close(file: File) {
    let fd = file.into_raw_fd();
    assert_eq!(
        unsafe { libc::close(fd) },
        0,
        "close: {}",
        std::io::Error::last_os_error()
    );
}

#[test]
fn two_mounts_rewriting_one_file_leave_one_whole_file() {
    let _serial = one_at_a_time();
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    fs::write(a.join("f"), pattern(5 << 20, 3)).unwrap();
    // Block-stored, inline, and a large file against a small one; the close order alternates.
    let rounds = [(100_000, 300_000), (3_000, 1_000), (5 << 20, 70_000)];
    for (round, (len_a, len_b)) in rounds.into_iter().enumerate() {
        let (data_a, data_b) = (pattern(len_a, 10 + round as u8), pattern(len_b, 20 + round as u8));
        let mut fa = File::create(a.join("f")).unwrap();
        let mut fb = File::create(b.join("f")).unwrap();
        fa.write_all(&data_a).unwrap();
        fb.write_all(&data_b).unwrap();
        let last = if round % 2 == 0 {
            close(fa);
            close(fb);
            &data_b
        } else {
            close(fb);
            close(fa);
            &data_a
        };
        let stored = server.cli(&["fs", "cat", "v:/f"]).stdout;
        assert_eq!((round, stored.len()), (round, last.len()), "size the server keeps");
        assert!(stored == *last, "round {round}: the server keeps another file");
        assert_everywhere(&[a.path(), b.path()], "f", last);
    }
}

#[test]
fn closing_a_copy_of_a_descriptor_commits() {
    let _serial = one_at_a_time();
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    let mut file = File::create(a.join("f")).unwrap();
    file.write_all(b"written before the copy closed").unwrap();
    close(file.try_clone().unwrap());
    assert_eq!(fs::read(b.join("f")).unwrap(), b"written before the copy closed");
    file.write_all(b"; and after").unwrap();
    close(file);
    assert_eq!(
        fs::read(b.join("f")).unwrap(),
        b"written before the copy closed; and after"
    );
}

#[test]
fn small_writes_into_a_large_file_commit_only_their_bytes() {
    let _serial = one_at_a_time();
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    let mut expected = pattern(3 << 20, 5);
    fs::write(a.join("log"), &expected).unwrap();
    let stored = server.store_usage();
    // Appends and a rewrite in the middle, each made durable: no block is stored again.
    let mut file = OpenOptions::new().append(true).open(a.join("log")).unwrap();
    for round in 0..12u8 {
        let line = vec![b'a' + round; 4000];
        file.write_all(&line).unwrap();
        file.sync_all().unwrap();
        expected.extend_from_slice(&line);
    }
    drop(file);
    // (A positioned write through an O_APPEND descriptor appends, on Linux.)
    let file = open_rw(&a.join("log"));
    file.write_all_at(b"rewritten", 1_000_000).unwrap();
    file.sync_all().unwrap();
    expected[1_000_000..1_000_009].copy_from_slice(b"rewritten");
    assert_eq!(server.store_usage(), stored, "the small writes are kept in metadata");
    assert_everywhere(&[a.path(), b.path()], "log", &expected);
    let copy = a.cache.path().join("copy");
    server.ok(&["fs", "get", "v:/log", copy.to_str().unwrap()]);
    assert!(
        fs::read(&copy).unwrap() == expected,
        "the server reads the patched file whole"
    );
    // A truncate into the patched bytes, then a write past the end: the gap reads as zeros,
    // and nothing cut comes back.
    file.set_len(3_000_000).unwrap();
    file.write_all_at(b"end", 3_100_000).unwrap();
    drop(file);
    expected.truncate(3_000_000);
    expected.resize(3_100_000, 0);
    expected.extend_from_slice(b"end");
    assert_everywhere(&[a.path(), b.path()], "log", &expected);
    // Past the limit of patched bytes, the block is stored again, whole.
    let mut file = OpenOptions::new().append(true).open(b.join("log")).unwrap();
    for _ in 0..20 {
        file.write_all(&[b'z'; 4096]).unwrap();
        file.sync_all().unwrap();
        expected.extend_from_slice(&[b'z'; 4096]);
    }
    drop(file);
    assert!(
        server.store_usage().0 > stored.0,
        "the patches were folded into a new block"
    );
    assert_everywhere(&[a.path(), b.path()], "log", &expected);
}

#[test]
fn an_open_file_reads_on_after_another_mount_replaced_and_collected_its_blocks() {
    let _serial = one_at_a_time();
    // No history: what a rewrite replaces is collected at once.
    let server = Server::start(&["--history", "0s"]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    // Stored through the files API: no mount session holds its blocks.
    let first = a.cache.path().join("first");
    fs::write(&first, pattern(8 << 20, 1)).unwrap();
    server.ok(&["fs", "put", first.to_str().unwrap(), "v:/f"]);
    let fb = open_rw(&b.join("f"));
    let mut head = [0u8; 16];
    fb.read_exact_at(&mut head, 0).unwrap();
    // Rewritten through the other mount; the old blocks go at once.
    let new = pattern(8 << 20, 2);
    fs::write(a.join("f"), &new).unwrap();
    let report = server.json(&["gc"]);
    // The old version's one block (its two halves are alike) is gone from the store.
    assert_eq!(report["blocks_deleted"], 1, "{report}");
    let mut tail = vec![0u8; 4096];
    fb.read_exact_at(&mut tail, 6 << 20)
        .expect("a block gone from the store is read anew");
    // The bytes this open read from (if its block is still anywhere), or the current ones.
    let (old, at) = (pattern(8 << 20, 1), 6 << 20..(6 << 20) + 4096);
    assert!(tail == new[at.clone()] || tail == old[at], "whole bytes of one version");
    // And a write into such a block merges with what is there now.
    fb.write_all_at(b"B", (6 << 20) + 1).unwrap();
    drop(fb);
    let mut expected = new;
    expected[(6 << 20) + 1] = b'B';
    assert_everywhere(&[a.path(), b.path()], "f", &expected);
}

#[test]
fn a_truncate_with_no_write_after_it_does_not_undo_a_later_commit() {
    let _serial = one_at_a_time();
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let (a, b) = (server.mount("v", &[]), server.mount("v", &[]));
    fs::write(a.join("f"), b"old content").unwrap();
    let emptied = File::create(a.join("f")).unwrap();
    fs::write(b.join("f"), b"written after the truncate").unwrap();
    drop(emptied);
    assert_everywhere(&[a.path(), b.path()], "f", b"written after the truncate");
}
