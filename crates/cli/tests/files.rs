//! The `fs` verbs and large-file streaming against a real server process.

mod common;
use common::{Server, hash_file, random_file};

#[test]
fn fs_verbs() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("hello.txt");
    std::fs::write(&local, b"hello strata\n").unwrap();

    server.ok(&["fs", "mkdir", "-p", "v:/a/b/c"]);
    server.ok(&["fs", "mkdir", "-p", "v:/a/b/c"]);
    assert_eq!(server.fails(&["fs", "mkdir", "v:/a/b"]).0, 4);
    assert_eq!(server.fails(&["fs", "mkdir", "v:/x/y"]).0, 3);
    server.ok(&["fs", "put", local.to_str().unwrap(), "v:/a/hello.txt"]);
    assert_eq!(server.ok(&["fs", "cat", "v:/a/hello.txt"]), "hello strata\n");

    let stat = server.json(&["fs", "stat", "v:/a/hello.txt"]);
    assert_eq!((stat["kind"].as_str(), stat["size"].as_u64()), (Some("file"), Some(13)));
    assert_eq!(server.ok(&["fs", "ls", "v:/a"]), "b\nhello.txt\n");
    let long = server.ok(&["fs", "ls", "-l", "v:/a"]);
    assert!(long.contains("drwxr-xr-x") && long.contains("-rw-r--r--"), "{long}");

    server.ok(&["fs", "cp", "v:/a/hello.txt", "v:/copy.txt"]);
    assert_eq!(server.ok(&["fs", "cat", "v:/copy.txt"]), "hello strata\n");
    server.ok(&["fs", "mv", "v:/copy.txt", "v:/a/b/moved.txt"]);
    assert_eq!(server.fails(&["fs", "stat", "v:/copy.txt"]).0, 3);
    // mv replaces an existing file, and moves whole directories.
    server.ok(&["fs", "mv", "v:/a/b/moved.txt", "v:/a/hello.txt"]);
    server.ok(&["fs", "mv", "v:/a/b", "v:/b2"]);
    assert_eq!(server.ok(&["fs", "ls", "v:/b2"]), "c\n");
    let (_, err) = server.fails(&["fs", "mv", "v:/a", "v:/a/inside"]);
    assert!(err.contains("into itself"), "{err}");

    server.ok(&["fs", "ln", "-s", "/a/hello.txt", "v:/link"]);
    assert_eq!(server.json(&["fs", "stat", "v:/link"])["target"], "/a/hello.txt");
    server.ok(&["fs", "chmod", "600", "v:/a/hello.txt"]);
    assert_eq!(server.json(&["fs", "stat", "v:/a/hello.txt"])["mode"], "0600");
    assert_eq!(server.fails(&["fs", "chmod", "99", "v:/a/hello.txt"]).0, 2);

    let (_, err) = server.fails(&["fs", "rm", "v:/a"]);
    assert!(err.contains("not empty"), "{err}");
    let (_, err) = server.fails(&["fs", "ls", "v:/a/hello.txt/x"]);
    assert!(err.contains("not a directory"), "{err}");
    // A put or copy makes missing folders, but never goes through a file.
    server.ok(&["fs", "put", local.to_str().unwrap(), "v:/new/deeper/hello.txt"]);
    server.ok(&["fs", "cp", "v:/new/deeper/hello.txt", "v:/other/copy.txt"]);
    assert_eq!(server.ok(&["fs", "cat", "v:/other/copy.txt"]), "hello strata\n");
    let (_, err) = server.fails(&["fs", "put", local.to_str().unwrap(), "v:/a/hello.txt/x/y"]);
    assert!(err.contains("not a directory"), "{err}");
    server.ok(&["fs", "rm", "-r", "v:/new"]);
    server.ok(&["fs", "rm", "-r", "v:/other"]);
    // Errors name what is missing, local or remote, and exit 3 for "not found".
    let (code, err) = server.fails(&["fs", "cat", "v:/missing"]);
    assert!(code == 3 && err.contains("/missing"), "{code}: {err}");
    let nowhere = dir.path().join("no/such/folder/file");
    let (code, err) = server.fails(&["fs", "get", "v:/a/hello.txt", nowhere.to_str().unwrap()]);
    assert!(code == 3 && err.contains(nowhere.to_str().unwrap()), "{code}: {err}");
    let (code, err) = server.fails(&["fs", "put", "/no/such/local/file", "v:/y"]);
    assert!(code == 3 && err.contains("/no/such/local/file"), "{code}: {err}");
    server.ok(&["fs", "rm", "-r", "v:/a"]);
    server.ok(&["fs", "rm", "v:/link"]);
    assert_eq!(server.ok(&["fs", "ls", "v:/"]), "b2\n");
    let vol = server.json(&["volume", "get", "v"]);
    assert_eq!(
        (vol["file_count"].as_u64(), vol["used_bytes"].as_u64()),
        (Some(2), Some(0))
    );
}

/// Every file, folder and symlink under `root`, with its content or target, walked without
/// recursion.
fn tree(root: &std::path::Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_symlink() {
                found.push((rel, format!("-> {}", std::fs::read_link(&path).unwrap().display())));
            } else if meta.is_dir() {
                found.push((rel, "/".into()));
                pending.push(path);
            } else {
                found.push((rel, hash_file(&path)));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn folders_go_up_and_come_back_whole() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    // Deeper than any sane recursion would like, with files at several levels.
    let mut deep = src.clone();
    for level in 0..300 {
        deep.push("d");
        if level % 100 == 0 {
            std::fs::create_dir_all(&deep).unwrap();
            std::fs::write(deep.join(format!("f{level}")), format!("level {level}")).unwrap();
        }
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("bottom"), b"the bottom").unwrap();
    random_file(&src, "big", 5 << 20, 7);
    std::fs::create_dir(src.join("empty")).unwrap();
    std::os::unix::fs::symlink("big", src.join("link")).unwrap();

    let copied = server.json(&["fs", "put", "-r", src.to_str().unwrap(), "v:/backup/src"]);
    assert_eq!(
        (copied["files"].as_u64(), copied["symlinks"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(copied["folders"].as_u64(), Some(302));
    let back = dir.path().join("back");
    server.ok(&["fs", "get", "-r", "v:/backup/src", back.to_str().unwrap()]);
    assert_eq!(tree(&back), tree(&src));

    // A download never writes through a symlink in the way of a folder.
    let (trap, outside) = (dir.path().join("trap"), dir.path().join("outside"));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir(&trap).unwrap();
    std::os::unix::fs::symlink(&outside, trap.join("d")).unwrap();
    let (code, err) = server.fails(&["fs", "get", "-r", "v:/backup/src", trap.to_str().unwrap()]);
    assert!(code == 4 && err.contains("exists and is not a folder"), "{code}: {err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);

    // A file where a folder is asked for, and the other way round, say so.
    let (code, err) = server.fails(&["fs", "put", "-r", src.join("big").to_str().unwrap(), "v:/x"]);
    assert!(code == 2 && err.contains("not a folder"), "{code}: {err}");
    let (code, err) = server.fails(&["fs", "get", "-r", "v:/backup/src/big", back.to_str().unwrap()]);
    assert!(
        code == 2 && err.contains("v:/backup/src/big is not a folder"),
        "{code}: {err}"
    );
    let (code, err) = server.fails(&["fs", "put", "-r", "/no/such/folder", "v:/x"]);
    assert!(code == 3 && err.contains("/no/such/folder"), "{code}: {err}");
}

#[test]
fn stdin_and_stdout() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (src, hash) = random_file(dir.path(), "src", 5 << 20, 9);
    let out = server.cli_with_input(&["fs", "put", "-", "v:/piped"], Some(&src));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = server.cli(&["fs", "get", "v:/piped", "-"]);
    assert!(got.status.success());
    assert_eq!(blake3::hash(&got.stdout).to_hex().to_string(), hash);
}

#[test]
fn large_file_round_trip_survives_sigkill() {
    let mut server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (src, hash) = random_file(dir.path(), "big", 200 << 20, 7);
    let rss_before = server.peak_rss_kib();
    server.ok(&["fs", "put", src.to_str().unwrap(), "v:/big.bin"]);
    let back = dir.path().join("back");
    server.ok(&["fs", "get", "v:/big.bin", back.to_str().unwrap()]);
    assert_eq!(hash_file(&back), hash);
    let rss_after = server.peak_rss_kib();
    eprintln!("server peak RSS: {rss_before} KiB before, {rss_after} KiB after streaming 200 MiB each way");
    assert!(
        rss_after < 160 * 1024,
        "server peak RSS {rss_after} KiB while streaming 200 MiB"
    );

    server.stop(libc::SIGKILL);
    server.restart();
    std::fs::remove_file(&back).unwrap();
    server.ok(&["fs", "get", "v:/big.bin", back.to_str().unwrap()]);
    assert_eq!(hash_file(&back), hash);
    assert_eq!(server.json(&["fs", "stat", "v:/big.bin"])["size"], 200u64 << 20);
}

#[test]
fn identical_files_are_stored_once() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = random_file(dir.path(), "f", 50 << 20, 3);
    server.ok(&["fs", "put", src.to_str().unwrap(), "v:/one"]);
    let once = server.store_usage();
    server.ok(&["fs", "put", src.to_str().unwrap(), "v:/two"]);
    server.ok(&["fs", "cp", "v:/one", "v:/three"]);
    let after = server.store_usage();
    eprintln!("store after one copy: {once:?}; after three: {after:?}");
    // Random bytes do not compress: each block is kept as it is, behind a header of 24
    // bytes and 4 a piece.
    assert_eq!(once.0, 13);
    assert!(
        once.1 >= 50 << 20 && once.1 <= (50 << 20) + 13 * (24 + 4 * 64),
        "{once:?}"
    );
    assert_eq!(after, once);
}

#[test]
fn small_files_stay_in_metadata() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let (small, hash) = random_file(dir.path(), "small", 64 << 10, 5);
    server.ok(&["fs", "put", small.to_str().unwrap(), "v:/small"]);
    assert_eq!(server.store_usage().0, 0);
    let back = dir.path().join("back");
    server.ok(&["fs", "get", "v:/small", back.to_str().unwrap()]);
    assert_eq!(hash_file(&back), hash);
}

/// The errors a new user meets name the path and say what to do instead; `fs put` into a
/// folder puts the file in it, as `cp` does.
#[test]
fn errors_name_the_path_and_say_what_to_do() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "work"]);
    server.ok(&["fs", "mkdir", "-p", "work:/dir/sub"]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("notes.txt");
    std::fs::write(&local, b"notes").unwrap();
    let back = dir.path().join("back");

    let (code, err) = server.fails(&["fs", "get", "work:/dir", back.to_str().unwrap()]);
    assert!(
        code == 4 && err.contains("work:/dir is a folder") && err.contains("fs get -r"),
        "{err}"
    );
    let (code, err) = server.fails(&["fs", "cat", "work:/dir"]);
    assert!(
        code == 4 && err.contains("work:/dir is a folder") && err.contains("fs ls"),
        "{err}"
    );
    let (code, err) = server.fails(&["fs", "rm", "work:/dir"]);
    assert!(
        code == 4 && err.contains("work:/dir is a folder that is not empty") && err.contains("rm -r"),
        "{err}"
    );
    let (code, err) = server.fails(&["fs", "cat", "work/notes.txt"]);
    assert!(code == 2 && err.contains("did you mean work:/notes.txt"), "{err}");

    // Into a folder, named or ending with a slash, under the local file's name.
    server.ok(&["fs", "put", local.to_str().unwrap(), "work:/"]);
    server.ok(&["fs", "put", local.to_str().unwrap(), "work:/dir"]);
    server.ok(&["fs", "put", local.to_str().unwrap(), "work:/new/"]);
    for path in ["work:/notes.txt", "work:/dir/notes.txt", "work:/new/notes.txt"] {
        assert_eq!(server.ok(&["fs", "cat", path]), "notes", "{path}");
    }
    let (code, err) = server.fails(&["fs", "put", "-", "work:/dir"]);
    assert!(code == 2 && err.contains("work:/dir is a folder"), "{err}");

    // A mount point already in use is named as such, not as a folder that is not empty.
    let mount = server.mount("work", &[]);
    let (code, err) = server.fails(&["mount", "work", mount.path().to_str().unwrap()]);
    assert!(code == 4 && err.contains("already a mount point"), "{err}");
}

/// `fs du`, `fs find`, `fs tree`, `fs touch`, and `fs stat` of a folder, at any depth.
#[test]
fn folders_are_counted_searched_and_drawn() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("f");
    std::fs::write(&local, vec![0u8; 1000]).unwrap();
    for path in [
        "v:/src/main.rs",
        "v:/src/lib.rs",
        "v:/src/deep/er/mod.rs",
        "v:/README.md",
    ] {
        server.ok(&["fs", "put", local.to_str().unwrap(), path]);
    }
    server.ok(&["fs", "ln", "-s", "src/main.rs", "v:/link"]);
    // A chain of folders deeper than any stack would like.
    let deep: String = (0..300).map(|i| format!("/d{i}")).collect();
    server.ok(&["fs", "mkdir", "-p", &format!("v:{deep}")]);
    server.ok(&["fs", "touch", &format!("v:{deep}/leaf")]);

    let du = server.json(&["fs", "du", "v:/"]);
    assert_eq!(
        (&du["bytes"], &du["files"], &du["folders"], &du["symlinks"]),
        (
            &serde_json::json!(4000),
            &serde_json::json!(5),
            &serde_json::json!(303),
            &serde_json::json!(1)
        )
    );
    assert!(
        server
            .ok(&["fs", "du", "v:/src"])
            .starts_with("2.9 KiB (3000 bytes) in 3 files, 2 folders")
    );
    let found = server.ok(&["fs", "find", "v:/", "--name", "*.rs"]);
    assert_eq!(
        found.lines().collect::<Vec<_>>(),
        ["v:/src/deep/er/mod.rs", "v:/src/lib.rs", "v:/src/main.rs"]
    );
    assert_eq!(
        server.ok(&["fs", "find", "v:/", "--name", "leaf"]).trim(),
        format!("v:{deep}/leaf")
    );
    let tree = server.ok(&["fs", "tree", "v:/src"]);
    assert_eq!(tree, "v:/src\n  deep/\n    er/\n      mod.rs\n  lib.rs\n  main.rs\n");
    // Touch makes an empty file, and leaves an existing one as it is.
    server.ok(&["fs", "touch", "v:/README.md"]);
    assert_eq!(server.json(&["fs", "stat", "v:/README.md"])["size"], 1000);
    assert_eq!(server.json(&["fs", "stat", &format!("v:{deep}/leaf")])["size"], 0);
    assert!(server.ok(&["fs", "stat", "v:/src"]).contains("entries: 3"));
}
