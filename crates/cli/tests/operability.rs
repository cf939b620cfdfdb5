//! What an operator sees: status, doctor, the server's start and request logs, errors with
//! their exit codes, mount metrics, and `--json` only where a command prints data.

mod common;
use common::{BIN, Server, mount_pid, sample, scrape};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs the CLI with no key and no server of its own: only what `envs` says.
fn bare_cli(args: &[&str], envs: &[(&str, &str)], dirs: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("STRATA_ENDPOINT")
        .env_remove("STRATA_TOKEN")
        .env("STRATA_CONFIG_DIR", dirs.join("config"))
        .env("STRATA_DATA_DIR", dirs.join("no-local-server"))
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn status_shows_the_server_the_key_and_every_mount() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    // Without write-back: a close an owning mount defers keeps its blocks on disk whole, for
    // its journal (below, the cache's use is counted after a close made at once).
    let rw = server.mount("v:users/alice", &["--write-back", "0s"]);
    let ro = server.mount("v", &["--read-only", "--cache-size", "512M"]);

    let status = server.json(&["status"]);
    assert_eq!(status["server"]["status"], "ok", "{status:#}");
    assert_eq!(status["server"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["identity"]["key_name"], "admin");
    assert_eq!(status["identity"]["organization"], "default");

    let m = server.mount_status(rw.path());
    assert_eq!(m["volume"], "v");
    assert_eq!(m["subpath"], "users/alice");
    assert_eq!(m["read_only"], false);
    assert_eq!(m["alive"], true);
    assert_eq!(m["pid"], mount_pid(rw.path()));
    assert_eq!(m["cache_dir"], rw.cache.path().to_str().unwrap());
    assert_eq!(m["cache_size"], 10u64 << 30);
    // A background mount logs under its cache folder unless told otherwise.
    let log = m["log_file"].as_str().unwrap();
    assert!(
        log.starts_with(rw.cache.path().join("logs").to_str().unwrap()) && Path::new(log).exists(),
        "{log}"
    );

    // The cache's use is counted from its folder, where uploaded blocks shorter than a whole
    // one stay (a file's 1 MiB tail here).
    assert_eq!(m["cache_used"], 0);
    std::fs::write(rw.join("big"), vec![7u8; 5 << 20]).unwrap();
    let used = server.mount_status(rw.path())["cache_used"].as_u64().unwrap();
    let in_folder: u64 = std::fs::read_dir(rw.cache.path().join("blocks"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    // Counted before the folder is read here: a block still arriving counts only here.
    assert!(
        used >= 1 << 20 && used <= in_folder,
        "{used} bytes counted, {in_folder} in the folder"
    );

    let m = server.mount_status(ro.path());
    assert_eq!(
        (&m["read_only"], &m["cache_size"], &m["subpath"]),
        (&Value::Bool(true), &Value::from(512u64 << 20), &Value::from(""))
    );

    // A mount whose process died is still listed, as dead, with what to do.
    // SAFETY: a plain kill of the mount's own process.
    unsafe { libc::kill(mount_pid(ro.path()), libc::SIGKILL) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.mount_status(ro.path())["alive"] == true {
        assert!(
            std::time::Instant::now() < deadline,
            "the killed mount never showed as dead"
        );
        std::thread::yield_now();
    }
    let path = std::fs::canonicalize(ro.path()).unwrap();
    let stat = std::fs::metadata(&path).map(drop).map_err(|e| e.raw_os_error());
    assert_eq!(stat, Err(Some(libc::ENOTCONN)), "the mount shown dead is dead");
    let text = server.ok(&["status"]);
    let line = text.lines().find(|l| l.contains(path.to_str().unwrap())).unwrap();
    assert!(line.contains("DEAD") && line.contains("strata umount"), "{text}");
    assert!(text.contains("key:      admin (organization default"), "{text}");
    server.ok(&["umount", path.to_str().unwrap()]);
}

#[test]
fn whoami_names_the_key_and_needs_one() {
    let server = Server::start(&[]);
    let dirs = tempfile::tempdir().unwrap();
    let out = bare_cli(
        &["status", "--json"],
        &[("STRATA_ENDPOINT", &server.endpoint)],
        dirs.path(),
    );
    assert!(out.status.success());
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["server"]["status"], "ok", "health needs no key");
    assert!(status["identity"].is_null());
    let why = status["identity_error"].as_str().unwrap();
    assert!(why.contains("no API key") && why.contains("STRATA_TOKEN"), "{why}");
}

#[test]
fn doctor_passes_on_a_healthy_setup_and_names_what_fails() {
    let mut server = Server::start(&[]);
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("not-yet-made");
    let doctor = ["doctor", "--cache-dir", cache_dir.to_str().unwrap()];
    let text = server.ok(&doctor);
    let checks = ["fuse device", "fusermount3", "server", "clock", "key", "cache space"];
    for check in checks {
        assert!(text.contains(&format!("ok    {check}: ")), "{check}:\n{text}");
    }
    assert_eq!(text.lines().count(), checks.len(), "{text}");

    // A wrong key: only the key fails, and says what to do.
    let dirs = tempfile::tempdir().unwrap();
    let wrong = format!("stk_{}", "0".repeat(64));
    let out = bare_cli(
        &doctor,
        &[("STRATA_ENDPOINT", &server.endpoint), ("STRATA_TOKEN", &wrong)],
        dirs.path(),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        failed.len() == 1 && failed[0].starts_with("FAIL  key: ") && failed[0].contains("fix: set STRATA_TOKEN"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed: key"));

    // The server down: the server check fails, naming the endpoint and the fix.
    server.stop(libc::SIGTERM);
    let out = server.cli(&["doctor", "--cache-dir", cache_dir.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let server_check = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "server")
        .unwrap();
    assert_eq!(server_check["ok"], false);
    assert!(
        server_check["detail"].as_str().unwrap().contains(&server.endpoint),
        "{checks:#}"
    );
    assert!(server_check["fix"].as_str().unwrap().contains("strata server"));
    let fuse = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "fuse device")
        .unwrap();
    assert_eq!(fuse["ok"], true, "the local checks still pass");
}

#[test]
fn the_server_says_how_to_reach_it_and_logs_each_request_once() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("STRATA_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut export = String::new();
    while !export.starts_with("strata: to use it from elsewhere: export ") {
        export.clear();
        assert!(stderr.read_line(&mut export).unwrap() > 0, "the server ended");
    }
    let export = export.trim().trim_start_matches("strata: to use it from elsewhere: ");
    assert!(export.starts_with("export STRATA_ENDPOINT=http://127.0.0.1:") && export.contains(" STRATA_TOKEN=$(cat "));
    // The line, pasted into a shell anywhere else, is all a client needs.
    let dirs = tempfile::tempdir().unwrap();
    let script = format!("{export}\n{BIN} volume create from-the-export-line");
    let out = Command::new("bash")
        .args(["-euc", &script])
        .env_remove("STRATA_ENDPOINT")
        .env_remove("STRATA_TOKEN")
        .env("STRATA_CONFIG_DIR", dirs.path().join("config"))
        .env("STRATA_DATA_DIR", dirs.path().join("elsewhere"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // SAFETY: a plain SIGTERM to the server this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    child.wait().unwrap();
    let requests: Vec<&str> = rest.lines().filter(|l| l.contains("strata::request")).collect();
    assert_eq!(requests.len(), 1, "one line for the one request:\n{rest}");
    assert!(requests[0].contains("POST") && requests[0].contains("/v1/volumes") && requests[0].contains("201"));
    assert!(!rest.contains('\x1b'), "no colour codes off a terminal:\n{rest}");
}

#[test]
fn errors_exit_with_the_code_of_their_kind() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().to_str().unwrap();
    // Not found: the mount process's error comes back with its code.
    let (code, err) = server.fails(&["mount", "nosuch", target]);
    assert!(code == 3 && err.contains("nosuch"), "{code}: {err}");
    // Unreachable.
    let dirs = tempfile::tempdir().unwrap();
    let out = bare_cli(
        &["mount", "v", target],
        &[("STRATA_ENDPOINT", "http://127.0.0.1:9")],
        dirs.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(6) && err.contains("127.0.0.1:9"), "{err}");
    // No key.
    let out = bare_cli(
        &["volume", "list"],
        &[("STRATA_ENDPOINT", &server.endpoint)],
        dirs.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(5) && err.contains("no API key") && err.contains("strata login"),
        "{err}"
    );
    // Not a strata mount.
    let (code, err) = server.fails(&["umount", "/proc"]);
    assert!(
        code == 2 && err.contains("/proc is not a strata mount"),
        "{code}: {err}"
    );
}

#[test]
fn options_appear_only_where_they_apply() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().to_str().unwrap();
    for args in [
        vec!["mount", "v", target, "--json"],
        vec!["umount", target, "--json"],
        vec!["fs", "cat", "v:/x", "--json"],
        vec!["fs", "rm", "v:/x", "--json"],
        vec!["fs", "mv", "v:/x", "v:/y", "--json"],
        vec!["completions", "bash", "--json"],
        vec!["server", "--json"],
        vec!["--json", "volume", "list"],
        // Nor do the server, umount and completions talk to a server.
        vec!["server", "--endpoint", "http://127.0.0.1:9"],
        vec!["umount", target, "--token", "x"],
        vec!["completions", "bash", "--endpoint", "http://127.0.0.1:9"],
    ] {
        let (code, err) = server.fails(&args);
        let option = args.iter().find(|a| a.starts_with("--")).unwrap();
        assert!(
            code == 2 && err.contains(&format!("'{option}'")),
            "{args:?}: {code}: {err}"
        );
    }
    for page in [vec!["mount"], vec!["fs", "rm"], vec!["server"], vec!["umount"]] {
        let mut args = page.clone();
        args.push("--help");
        assert!(!server.ok(&args).contains("--json"), "{page:?} offers --json");
    }
    for page in [vec!["server"], vec!["umount"], vec!["completions"]] {
        let mut args = page.clone();
        args.push("--help");
        assert!(!server.ok(&args).contains("--endpoint"), "{page:?} offers --endpoint");
    }
    assert!(server.ok(&["volume", "list", "--help"]).contains("--json"));
    assert!(server.ok(&["fs", "cat", "--help"]).contains("--endpoint"));

    // Times are RFC 3339 and modes octal strings.
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    server.ok(&["fs", "put", file.to_str().unwrap(), "v:/f"]);
    let stat = server.json(&["fs", "stat", "v:/f"]);
    assert_eq!(stat["mode"], "0640");
    let mtime = stat["mtime"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(mtime).is_ok(), "{mtime}");
    let volumes = server.json(&["volume", "list"]);
    assert!(humantime::parse_rfc3339(volumes[0]["created_at"].as_str().unwrap()).is_ok());
}

#[test]
fn a_mount_serves_its_metrics() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let writer = server.mount("v", &[]);
    // Three different blocks (identical ones would be fetched once).
    let (file, _) = common::random_file(writer.cache.path(), "big", 9 << 20, 1);
    std::fs::copy(file, writer.join("big")).unwrap();
    let addr = common::free_addr();
    let m = server.mount("v", &["--metrics", &addr]);
    assert_eq!(std::fs::read(m.join("big")).unwrap().len(), 9 << 20);
    let page = scrape(&addr);
    assert!(
        sample(&page, "strata_mount_cache_misses_total") >= 3.0,
        "three blocks fetched:\n{page}"
    );
    // Whole blocks finish downloading, and reach the disk cache, in the background, a moment
    // after the read that needed only their pieces. (How the writer cut the file's tail
    // depends on when its buffers flushed: a last piece may sit in a pack, not a block.)
    let settled = |page: &str| {
        let fetched = sample(page, "strata_mount_cache_fetched_bytes_total");
        fetched >= (8 << 20) as f64 && sample(page, "strata_mount_cache_bytes") >= fetched
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut page = page;
    while !settled(&page) && std::time::Instant::now() < deadline {
        std::thread::yield_now();
        page = scrape(&addr);
    }
    assert!(settled(&page), "{page}");
    assert!(sample(&page, "strata_mount_fuse_op_duration_seconds_count{op=\"read\"}") >= 1.0);
    assert!(sample(&page, "strata_mount_fuse_op_duration_seconds_count{op=\"lookup\"}") >= 1.0);
    // Its own writes upload blocks, each counted while under way and no longer once done.
    let (mine, _) = common::random_file(m.cache.path(), "mine", 9 << 20, 2);
    std::fs::copy(mine, m.join("mine")).unwrap();
    let after_write = scrape(&addr);
    assert!(
        sample(
            &after_write,
            "strata_mount_fuse_op_duration_seconds_count{op=\"write\"}"
        ) >= 1.0
    );
    assert_eq!(sample(&after_write, "strata_mount_uploads_in_flight"), 0.0);
    // Read again: the blocks come from the cache now.
    let hits = sample(&page, "strata_mount_cache_hits_total");
    std::fs::write("/proc/sys/vm/drop_caches", "1").unwrap();
    assert_eq!(std::fs::read(m.join("big")).unwrap().len(), 9 << 20);
    assert!(sample(&scrape(&addr), "strata_mount_cache_hits_total") > hits);
    assert!(!page.contains("big"), "numbers only, no file names");
}

/// `strata volume list | head -0`: a reader that goes away ends the command quietly with the
/// shell's code for it, 141, as it ends any Unix tool (no panic, no message).
#[test]
fn a_closed_pipe_ends_a_printing_command_quietly() {
    let server = Server::start(&[]);
    for i in 0..5 {
        server.ok(&["volume", "create", &format!("v{i}")]);
    }
    let (read, write) = std::io::pipe().unwrap();
    drop(read);
    let out = Command::new(BIN)
        .args(["volume", "list"])
        .env("STRATA_ENDPOINT", &server.endpoint)
        .env("STRATA_TOKEN", server.token())
        .stdout(write)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(141), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A server that is gone: the error names the context (and the file) that chose it, and
/// `strata status` says so with its exit code.
#[test]
fn an_unreachable_server_is_named_with_what_chose_it() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dirs = tempfile::tempdir().unwrap();
    let env = |extra: &[(&str, String)]| -> Vec<(String, String)> {
        let mut all = vec![(
            "STRATA_CONFIG_DIR".to_owned(),
            dirs.path().join("config").display().to_string(),
        )];
        all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        all
    };
    let run = |args: &[&str], extra: &[(&str, String)]| {
        Command::new(BIN)
            .args(args)
            .env_remove("STRATA_ENDPOINT")
            .env_remove("STRATA_TOKEN")
            .env("STRATA_DATA_DIR", dirs.path().join("no-local-server"))
            .envs(env(extra))
            .output()
            .unwrap()
    };
    let made = run(
        &[
            "ctx",
            "create",
            "work",
            "--volume",
            "v",
            "--endpoint",
            "http://127.0.0.1:9",
            "--token",
            &server.token(),
        ],
        &[],
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(run(&["ctx", "use", "work"], &[]).status.success());
    let out = run(&["volume", "list"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    let file = dirs.path().join("config").join("config.json");
    assert!(
        err.contains("context work") && err.contains(file.to_str().unwrap()),
        "{err}"
    );
    // Given outright, the endpoint is its own explanation.
    let given = run(&["volume", "list"], &[("STRATA_ENDPOINT", "http://127.0.0.1:9".into())]);
    assert!(!String::from_utf8_lossy(&given.stderr).contains("context"));
    // `status` reports it, and exits 6 as any command that cannot reach its server.
    let status = run(&["status"], &[]);
    assert_eq!(status.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&status.stdout).contains("cannot reach"));
    let fine = run(&["status"], &[("STRATA_ENDPOINT", server.endpoint.clone())]);
    assert!(fine.status.success());
}
