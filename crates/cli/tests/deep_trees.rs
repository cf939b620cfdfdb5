//! Trees as deep as a user can make them through a mount: every command that walks a tree
//! iterates, so none overflows a stack, and the server stays up for everyone.

mod common;
use common::Server;
use std::ffi::CString;
use std::time::Instant;

const DEPTH: usize = 20_000;

/// Builds `d/d/d/...` `depth` levels deep below `root`, one level at a time relative to the
/// level above (no path is ever longer than one name), with a file `leaf` at the bottom.
fn build_deep_tree(root: &std::path::Path, depth: usize) {
    let name = CString::new("d").unwrap();
    let root = CString::new(root.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: plain *at calls on descriptors this function owns, closed as it goes.
    unsafe {
        let mut fd = libc::open(root.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
        assert!(fd >= 0);
        for _ in 0..depth {
            assert_eq!(libc::mkdirat(fd, name.as_ptr(), 0o755), 0);
            let next = libc::openat(fd, name.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
            assert!(next >= 0);
            libc::close(fd);
            fd = next;
        }
        let leaf = CString::new("leaf").unwrap();
        let file = libc::openat(fd, leaf.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644);
        assert!(file >= 0);
        assert_eq!(libc::write(file, b"bottom".as_ptr().cast(), 6), 6);
        libc::close(file);
        libc::close(fd);
    }
}

#[test]
fn commands_walk_a_tree_twenty_thousand_levels_deep() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "deep"]);
    server.ok(&["volume", "create", "empty"]);
    let m = server.mount("deep", &[]);
    let started = Instant::now();
    build_deep_tree(m.path(), DEPTH);
    eprintln!("built {DEPTH} levels in {:?}", started.elapsed());
    // Unmounted as a user does: it returns once the mount shipped what it made.
    common::umount(&m);
    drop(m);

    // A directory found on one side only is one entry, however deep it goes.
    assert_eq!(server.ok(&["diff", "empty", "deep"]), "+ /d\n");
    server.ok(&["fork", "deep", "twin"]);
    assert_eq!(server.ok(&["diff", "deep", "twin"]), "");
    server.ok(&["fsck"]);
    server.ok(&["fs", "rm", "-r", "twin:/d"]);
    assert_eq!(server.ok(&["diff", "twin", "deep"]), "+ /d\n");
    server.ok(&["gc"]);
    // Still up and still whole.
    assert_eq!(server.ok(&["fs", "ls", "deep:/"]).trim(), "d");
    server.ok(&["fsck"]);
}
