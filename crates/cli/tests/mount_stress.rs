//! Large files with bounded memory, and a server that goes away while mounted.

mod common;
use common::{Server, hash_file, mount_peak_rss_kib};
use std::fs;
use std::io::{Read, Write};

#[test]
fn one_gib_through_the_mount_in_bounded_memory() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &[]);
    let mut hasher = blake3::Hasher::new();
    let mut xof = blake3::Hasher::new().update(b"one gib").finalize_xof();
    let mut buf = vec![0u8; 1 << 20];
    let mut f = fs::File::create(m.join("big")).unwrap();
    for _ in 0..1024 {
        xof.fill(&mut buf);
        hasher.update(&buf);
        f.write_all(&buf).unwrap();
    }
    f.sync_all().unwrap();
    drop(f);
    let written = hasher.finalize().to_hex().to_string();
    let peak = mount_peak_rss_kib(m.path());
    eprintln!("mount peak RSS after writing 1 GiB: {peak} KiB");
    assert!(peak < 256 * 1024, "mount peak RSS {peak} KiB");

    let mut reader = fs::File::open(m.join("big")).unwrap();
    let mut back = blake3::Hasher::new();
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        back.update(&buf[..n]);
    }
    assert_eq!(back.finalize().to_hex().to_string(), written);
    let peak = mount_peak_rss_kib(m.path());
    eprintln!("mount peak RSS after reading it back: {peak} KiB");
    assert!(peak < 256 * 1024, "mount peak RSS {peak} KiB");

    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("big");
    server.ok(&["fs", "get", "v:/big", local.to_str().unwrap()]);
    assert_eq!(hash_file(&local), written);
}

#[test]
fn server_outage_fails_with_eio_then_recovers() {
    let mut server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &["--retry-for", "1s", "--attr-timeout", "0s"]);
    fs::write(m.join("before"), b"kept").unwrap();
    server.stop(libc::SIGKILL);
    let err = fs::metadata(m.join("anything")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO), "{err}");
    server.restart();
    assert_eq!(fs::read(m.join("before")).unwrap(), b"kept");
    fs::write(m.join("after"), b"written after the outage").unwrap();
    assert_eq!(server.ok(&["fs", "cat", "v:/after"]), "written after the outage");
}

/// A server that stops answering without closing its connections (frozen, or cut off
/// without a reset): each call gives up after `--call-timeout`, and the mount answers EIO
/// once `--retry-for` has passed, instead of hanging.
#[test]
fn a_frozen_server_fails_with_eio_then_recovers() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let flags = ["--retry-for", "1s", "--call-timeout", "1s", "--attr-timeout", "0s"];
    let m = server.mount("v", &flags);
    fs::write(m.join("before"), b"kept").unwrap();
    // SAFETY: kill(2) of the server process this test started.
    unsafe { libc::kill(server.pid(), libc::SIGSTOP) };
    let path = m.join("anything");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(fs::metadata(path).map(drop)));
    let answer = rx.recv_timeout(std::time::Duration::from_secs(30));
    // SAFETY: as above.
    unsafe { libc::kill(server.pid(), libc::SIGCONT) };
    let err = answer
        .expect("the mount answers while the server is frozen")
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO), "{err}");
    assert_eq!(fs::read(m.join("before")).unwrap(), b"kept");
}

#[test]
fn a_file_open_longer_than_the_gc_grace_keeps_its_data() {
    let server = Server::start(&["--gc-grace", "1s", "--gc-interval", "1s"]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &[]);
    let mut hasher = blake3::Hasher::new();
    let mut f = fs::File::create(m.join("slow")).unwrap();
    // 27 MiB: past four dirty blocks the first ones upload in the background, known to the
    // server only as blocks nothing names yet.
    for i in 0..27u8 {
        let chunk = vec![i; 1 << 20];
        hasher.update(&chunk);
        f.write_all(&chunk).unwrap();
    }
    // Several collection passes run while the file is still open (grace 1 s, every 1 s).
    std::thread::sleep(std::time::Duration::from_secs(4));
    f.sync_all().expect("fsync after the grace period");
    drop(f);
    assert_eq!(hash_file(&m.join("slow")), hasher.finalize().to_hex().to_string());
}

#[test]
fn writes_wait_out_a_short_outage() {
    let mut server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &["--retry-for", "30s"]);
    let src = m.cache.path().join("src");
    let mut data = Vec::with_capacity(40 << 20);
    for i in 0..40u8 {
        data.extend_from_slice(&[i; 1 << 20]);
    }
    fs::write(&src, &data).unwrap();
    // The writer is another process, holding the only descriptor of the open file: this one
    // forks to start the server again, and a fork's copy of the descriptor would be closed,
    // and so committed, at its exec.
    let mut writer = std::process::Command::new("sh")
        .args(["-c", "read go && exec dd if=\"$0\" bs=1M conv=fsync status=none"])
        .arg(&src)
        .stdin(std::process::Stdio::piped())
        .stdout(fs::File::create(m.join("big")).unwrap())
        .spawn()
        .unwrap();
    server.stop(libc::SIGKILL);
    // The server comes back a moment later, while the writes below need it for their uploads.
    let back = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        server.restart();
        server
    });
    writer.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let status = writer.wait().unwrap();
    assert!(
        status.success(),
        "a write waits for the server like every other call: {status}"
    );
    let server = back.join().unwrap();
    let local = m.cache.path().join("copy");
    server.ok(&["fs", "get", "v:/big", local.to_str().unwrap()]);
    assert_eq!(hash_file(&local), hash_file(&src));
}

/// The mount's gauge of inodes it keeps, from its metrics endpoint.
fn mount_inodes(addr: &str) -> u64 {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut page = String::new();
    conn.read_to_string(&mut page).unwrap();
    let line = page.lines().find(|l| l.starts_with("strata_mount_inodes ")).unwrap();
    line["strata_mount_inodes ".len()..].parse().unwrap()
}

/// Waits (bounded) until the kernel's forgets bring the gauge under `limit`.
fn wait_for_forgets(addr: &str, limit: u64) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        fs::write("/proc/sys/vm/drop_caches", "2").unwrap();
        let known = mount_inodes(addr);
        if known < limit || std::time::Instant::now() > deadline {
            return known;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_mount_forgets_the_inodes_the_kernel_forgets() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let addr = common::free_addr();
    let m = server.mount("v", &["--metrics", &addr]);
    const FILES: u64 = 2000;
    fs::create_dir(m.join("many")).unwrap();
    for i in 0..FILES {
        fs::write(m.join(&format!("many/f{i}")), b"x").unwrap();
    }
    for round in 0..2 {
        for entry in fs::read_dir(m.join("many")).unwrap() {
            assert_eq!(entry.unwrap().metadata().unwrap().len(), 1);
        }
        let walked = mount_inodes(&addr);
        assert!(walked >= FILES, "round {round}: {walked} inodes known after a walk");
        let left = wait_for_forgets(&addr, 100);
        assert!(
            left < 100,
            "round {round}: {left} inodes still known after the kernel dropped its caches"
        );
    }
}
