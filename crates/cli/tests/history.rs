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

#[test]
fn an_agents_fork_merges_back_while_the_original_changed_with_one_conflict() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "app"]);
    let m = server.mount("app", &["--attr-timeout", "0s"]);
    fs::create_dir(m.join("src")).unwrap();
    fs::write(m.join("src/main.py"), "print('v1')\n").unwrap();
    fs::write(m.join("README"), "app\n").unwrap();
    fs::write(m.join("old.txt"), "old\n").unwrap();
    sync(m.path());
    server.ok(&["fork", "app", "agent"]);

    // The agent works on its fork...
    let a = server.mount("agent", &[]);
    fs::write(a.join("src/main.py"), "print('v2')\n").unwrap();
    fs::write(a.join("src/util.py"), "def f(): pass\n").unwrap();
    fs::remove_file(a.join("old.txt")).unwrap();
    fs::write(a.join("README"), "app, by the agent\n").unwrap();
    std::os::unix::fs::symlink("src/main.py", a.join("entry")).unwrap();
    sync(a.path());
    // ...while someone changes the original.
    fs::write(m.join("README"), "app, by a person\n").unwrap();
    fs::write(m.join("NOTES"), "notes\n").unwrap();
    sync(m.path());

    let report = server.json(&["merge", "agent", "--dry-run"]);
    assert_eq!(report["applied"], false);
    assert_eq!(report["conflicts"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["conflicts"][0]["path"], "/README");
    let (code, err) = server.fails(&["merge", "agent"]);
    assert_ne!(code, 0);
    assert!(err.contains("1 conflict"), "{err}");
    assert_eq!(fs::read_to_string(m.join("src/main.py")).unwrap(), "print('v1')\n");

    let text = server.ok(&["merge", "agent", "--prefer", "volume"]);
    assert!(text.contains("M /src/main.py") && text.contains("! /README"), "{text}");
    // The open mount of the original sees the whole merge.
    assert_eq!(fs::read_to_string(m.join("src/main.py")).unwrap(), "print('v2')\n");
    assert_eq!(fs::read_to_string(m.join("src/util.py")).unwrap(), "def f(): pass\n");
    assert!(!m.join("old.txt").exists());
    assert_eq!(fs::read_link(m.join("entry")).unwrap().to_str(), Some("src/main.py"));
    assert_eq!(fs::read_to_string(m.join("README")).unwrap(), "app, by a person\n");
    assert_eq!(fs::read_to_string(m.join("NOTES")).unwrap(), "notes\n");

    // Promote: the original takes the fork's tree (its README too), keeping its own.
    server.ok(&["promote", "agent"]);
    assert_eq!(fs::read_to_string(m.join("README")).unwrap(), "app, by the agent\n");
    assert!(!m.join("NOTES").exists());
    let snaps = server.ok(&["snapshot", "list", "app"]);
    let kept = snaps.lines().find(|l| l.contains("app@before-promote-")).unwrap();
    let kept = kept.split_whitespace().next().unwrap();
    assert_eq!(server.ok(&["fs", "cat", &format!("{kept}:/NOTES")]), "notes\n");
    common::umount(&a);
}
