//! An S3 store that stops answering (SIGSTOP of SeaweedFS): a put fails within bounded time
//! instead of hanging, nothing in the metadata names a block that was not stored, and puts
//! work again once the store resumes. Its own test binary: it freezes the process's S3 server.

mod common;
use common::{Server, hash_file, random_file};
use std::time::{Duration, Instant};

#[test]
fn a_frozen_store_fails_puts_then_recovers() {
    let server = Server::start_shared(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (src, want) = random_file(dir.path(), "f", 5 << 20, 3);
    let src = src.to_str().unwrap();
    server.ok(&["fs", "put", src, "v:/before"]);

    let s3 = strata_testkit::s3();
    s3.signal(libc::SIGSTOP);
    let started = Instant::now();
    let (code, err) = server.fails(&["fs", "put", src, "v:/during"]);
    let took = started.elapsed();
    s3.signal(libc::SIGCONT);
    assert_eq!(code, 6, "unavailable: {err}");
    assert!(err.contains("object store"), "{err}");
    // 20 s per request, retried for at most 30 s: well under two minutes, never forever.
    assert!(took < Duration::from_secs(120), "the put took {took:?}");
    assert_eq!(
        server.fails(&["fs", "stat", "v:/during"]).0,
        3,
        "no file names the lost blocks"
    );

    server.ok(&["fs", "put", src, "v:/after"]);
    let back = dir.path().join("back");
    server.ok(&["fs", "get", "v:/after", back.to_str().unwrap()]);
    assert_eq!(hash_file(&back), want);
    assert_eq!(server.json(&["fsck"])["problems"], serde_json::json!([]));
}
