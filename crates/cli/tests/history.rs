//! A volume's history through mounts, the CLI and the files API: an agent's destructive
//! command undone by restoring to just before it, and the moments around it read, mounted,
//! diffed and forked.

mod common;
use common::Server;
use std::fs;
use strata_core::names::format_moment;

fn now() -> String {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format_moment(ns as i64)
}

/// Ships what the mount deferred (fsync of its folder).
fn sync(mount: &std::path::Path) {
    fs::File::open(mount).unwrap().sync_all().unwrap();
}

#[test]
fn a_destructive_command_is_undone_by_restoring_to_just_before_it() {
    let server = Server::start(&["--history-step", "0s"]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &["--attr-timeout", "0s"]);
    fs::create_dir(m.join("src")).unwrap();
    fs::write(m.join("src/a.txt"), "alpha\n").unwrap();
    fs::write(m.join("src/b.txt"), "beta\n").unwrap();
    fs::write(m.join("notes.txt"), "keep\n").unwrap();
    sync(m.path());
    let before = now();

    // The agent's command.
    fs::remove_dir_all(m.join("src")).unwrap();
    fs::write(m.join("notes.txt"), "clobbered\n").unwrap();
    sync(m.path());
    let after = now();

    // History lists the window of the removal, newest first, and names the moment before it.
    let points = server.json(&["history", "v"]);
    let points = points.as_array().unwrap();
    assert!(points.len() >= 2, "{points:?}");
    assert!(points[0]["changes"].as_u64().unwrap() >= 1, "{points:?}");
    let text = server.ok(&["history", "v"]);
    assert!(text.starts_with("BEFORE"), "{text}");

    // The moment before it reads as it was: files API, diff, a read-only mount and a fork.
    let at = format!("v@{before}");
    assert_eq!(server.ok(&["fs", "ls", &format!("{at}:/src")]).lines().count(), 2);
    assert_eq!(server.ok(&["fs", "cat", &format!("{at}:/src/a.txt")]), "alpha\n");
    assert_eq!(server.ok(&["fs", "cat", &format!("{at}:/notes.txt")]), "keep\n");
    let diff = server.ok(&["diff", &at, "v"]);
    assert!(diff.contains("- /src") && diff.contains("M /notes.txt"), "{diff}");
    let old = server.mount(&at, &[]);
    assert_eq!(fs::read_to_string(old.join("src/b.txt")).unwrap(), "beta\n");
    assert_eq!(
        fs::write(old.join("new"), "x").unwrap_err().raw_os_error(),
        Some(libc::EROFS)
    );
    server.json(&["fork", &at, "experiment"]);
    assert_eq!(server.ok(&["fs", "cat", "experiment:/src/a.txt"]), "alpha\n");

    // Restoring is one change; the open mount sees it as after a snapshot's restore.
    server.ok(&["volume", "restore", "v", "--to", &before]);
    assert_eq!(fs::read_to_string(m.join("src/a.txt")).unwrap(), "alpha\n");
    assert_eq!(fs::read_to_string(m.join("notes.txt")).unwrap(), "keep\n");
    // What the command left stays in history.
    assert!(server.ok(&["fs", "ls", &format!("v@{after}:/")]).contains("notes.txt"));
    assert_eq!(
        server.ok(&["fs", "cat", &format!("v@{after}:/notes.txt")]),
        "clobbered\n"
    );
    assert!(server.fails(&["fs", "ls", &format!("v@{after}:/src")]).0 != 0);
    // The mount writes on after the restore.
    fs::write(m.join("src/c.txt"), "gamma\n").unwrap();
    sync(m.path());
    assert_eq!(server.ok(&["fs", "cat", "v:/src/c.txt"]), "gamma\n");
    common::umount(&old);
}

#[test]
fn moments_that_history_does_not_hold_are_refused_clearly() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    server.ok(&["volume", "create", "off"]);
    server.ok(&["volume", "set", "off", "--history", "0"]);
    for (source, why) in [
        ("v@2100-01-01T00:00:00Z:/", "not come yet"),
        ("v@2999-01-01T00:00:00Z:/", "out of range"),
        ("v@-1000d:/", "reaches back to"),
        ("v@-10x:/", "invalid moment"),
        ("v@2026-13-45T99:00:00Z:/", "invalid moment"),
        ("off@-1s:/", "keeps no history"),
    ] {
        let (code, err) = server.fails(&["fs", "ls", source]);
        assert_ne!(code, 0, "{source}");
        assert!(err.contains(why), "{source}: {err}");
    }
    let (code, err) = server.fails(&["volume", "restore", "v", "--to", "banana"]);
    assert_ne!(code, 0);
    assert!(err.contains("a moment is"), "{err}");
    let (code, err) = server.fails(&["volume", "set", "v", "--history", "forever"]);
    assert_ne!(code, 0);
    assert!(err.contains("a duration like"), "{err}");
    // A moment is read-only like a snapshot, and no snapshot: it is not listed as one.
    server.ok(&["fs", "ls", "v@-0s:/"]);
    assert!(server.ok(&["snapshot", "list", "v"]).trim().lines().count() <= 1);
}
