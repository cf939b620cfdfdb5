//! Organizations, API keys and scoped tokens, through the CLI and the HTTP API of a real
//! server, and mounts made with scoped tokens.

mod common;
use common::Server;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A call to `/v1/...` with a key, as any HTTP client would make it.
async fn call(server: &Server, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}/v1{path}", server.endpoint))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Makes a key or token with the CLI (`--json`); returns its secret and description.
fn made(server: &Server, token: &str, args: &[&str]) -> (String, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out: Value = serde_json::from_str(&server.ok_as(token, &all)).unwrap();
    (out["secret"].as_str().unwrap().to_owned(), out["key"].clone())
}

fn local_file(server: &Server, name: &str, text: &str) -> String {
    let path = server.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn organizations_see_only_their_own_volumes_and_keys() {
    let s = Server::start(&[]);
    let admin = s.token();
    s.ok(&["org", "create", "acme"]);
    s.ok(&["org", "create", "beta"]);
    assert_eq!(s.fails(&["org", "create", "acme"]).0, 4);
    let orgs = s.json(&["org", "list"]);
    let names: Vec<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme", "beta", "default"]);

    let (a, a_info) = made(
        &s,
        &admin,
        &["key", "create", "boss", "--role", "org-admin", "--org", "acme"],
    );
    let (b, _) = made(
        &s,
        &admin,
        &["key", "create", "boss", "--role", "org-admin", "--org", "beta"],
    );
    assert_eq!(a_info["org"], "acme");
    assert_eq!(a_info["role"], "org-admin");
    // The text form prints the secret alone, for `$(strata key create ...)`.
    let plain = s.ok_as(&a, &["key", "create", "ci"]);
    assert!(plain.trim().starts_with("stk_") && plain.trim().len() == 68, "{plain}");

    // Names are unique per organization, not across them.
    s.ok_as(&a, &["volume", "create", "data"]);
    s.ok_as(&b, &["volume", "create", "data"]);
    assert_eq!(s.fails_as(&a, &["volume", "create", "data"]).0, 4);
    s.ok_as(&a, &["fs", "put", &local_file(&s, "f", "acme's"), "data:/f"]);
    let a_vol: Value = serde_json::from_str(&s.ok_as(&a, &["volume", "get", "data", "--json"])).unwrap();
    let a_id = a_vol["id"].as_str().unwrap().to_owned();
    let b_list: Value = serde_json::from_str(&s.ok_as(&b, &["volume", "list", "--json"])).unwrap();
    assert_eq!(b_list.as_array().unwrap().len(), 1);
    assert_ne!(b_list[0]["id"], a_vol["id"]);
    assert_eq!(
        s.json(&["volume", "list"]),
        json!([]),
        "the admin's own organization has no volume"
    );

    // Another organization's volume answers exactly as a missing one.
    let missing = "00000000-0000-4000-8000-000000000000".to_owned();
    let (theirs, theirs_body) = call(&s, &b, Method::GET, &format!("/volumes/{a_id}"), None).await;
    let (none, none_body) = call(&s, &b, Method::GET, &format!("/volumes/{missing}"), None).await;
    assert_eq!((theirs, none), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(
        theirs_body.to_string().replace(&a_id, "ID"),
        none_body.to_string().replace(&missing, "ID")
    );
    let (status, _) = call(
        &s,
        &b,
        Method::GET,
        &format!("/volumes/{a_id}/fs/content?path=/f"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(s.fails_as(&b, &["fork", &a_id, "stolen"]).0, 3);

    // Only admin keys manage organizations and other organizations' keys.
    assert_eq!(s.fails_as(&a, &["org", "create", "mine"]).0, 5);
    assert_eq!(s.fails_as(&a, &["org", "list"]).0, 5);
    assert_eq!(s.fails_as(&a, &["key", "list", "--org", "beta"]).0, 5);
    assert_eq!(s.fails_as(&a, &["key", "create", "x", "--org", "beta"]).0, 5);
    assert_eq!(s.fails_as(&a, &["key", "create", "root", "--role", "admin"]).0, 5);
    assert_eq!(s.fails_as(&a, &["gc"]).0, 5);

    // Listing shows what a key is, never its secret.
    let (member, member_info) = made(&s, &a, &["key", "create", "worker", "--ttl", "30d"]);
    let listed = s.ok_as(&a, &["key", "list", "--json"]);
    for secret in [&a, &member, &admin] {
        assert!(!listed.contains(secret.as_str()));
    }
    assert!(!listed.contains("stk_") && !listed.contains("hash"), "{listed}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["boss", "ci", "worker"]);
    assert!(listed[2]["expires_at"].as_i64().is_some());
    let text = s.ok_as(&a, &["key", "list"]);
    assert!(
        text.contains("worker") && text.contains("member") && !text.contains("stk_"),
        "{text}"
    );

    // A member works with volumes but manages no keys.
    s.ok_as(&member, &["volume", "create", "scratch"]);
    assert_eq!(s.fails_as(&member, &["key", "list"]).0, 5);

    // An org admin cannot reach another organization's keys, nor the admin key.
    let admin_keys = s.json(&["key", "list", "--org", "beta"]);
    let b_key = admin_keys[0]["id"].as_str().unwrap();
    assert_eq!(s.fails_as(&a, &["key", "revoke", b_key]).0, 3);
    let admin_id = s.json(&["key", "list"])[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.fails_as(&a, &["key", "revoke", &admin_id]).0, 3);
    s.ok_as(&b, &["volume", "list"]);

    // Revoked: refused from the next request on.
    s.ok_as(&a, &["key", "revoke", member_info["id"].as_str().unwrap()]);
    let (code, err) = s.fails_as(&member, &["volume", "list"]);
    assert_eq!(code, 5);
    assert!(err.contains("revoked"), "{err}");
}

#[tokio::test]
async fn a_scoped_token_reaches_only_its_folder_and_denials_are_audited() {
    let s = Server::start(&[]);
    let admin = s.token();
    s.ok(&["volume", "create", "v"]);
    s.ok(&["volume", "create", "other"]);
    s.ok(&["fs", "put", &local_file(&s, "secret", "top secret"), "v:/secret.txt"]);
    s.ok(&["fs", "put", &local_file(&s, "in", "inside"), "v:/work/in.txt"]);
    s.ok(&["fs", "put", &local_file(&s, "x", "other"), "other:/x"]);
    let (t, info) = made(
        &s,
        &admin,
        &[
            "token",
            "create",
            "--volume",
            "v",
            "--subpath",
            "work",
            "--name",
            "sandbox",
        ],
    );
    assert_eq!(info["scope"]["subpath"], "/work");
    assert_eq!(info["scope"]["volume"], "v");

    // Paths are below the token's folder.
    assert_eq!(s.ok_as(&t, &["fs", "cat", "v:/in.txt"]), "inside");
    s.ok_as(&t, &["fs", "put", &local_file(&s, "n", "new"), "v:/sub/new.txt"]);
    assert_eq!(s.ok(&["fs", "cat", "v:/work/sub/new.txt"]), "new");
    s.ok_as(&t, &["fs", "mv", "v:/sub/new.txt", "v:/moved.txt"]);
    assert_eq!(s.ok(&["fs", "cat", "v:/work/moved.txt"]), "new");
    assert_eq!(s.fails_as(&t, &["fs", "cat", "v:/secret.txt"]).0, 3);
    let ls = s.ok_as(&t, &["fs", "ls", "v:/"]);
    assert!(
        ls.contains("in.txt") && !ls.contains("secret") && !ls.contains("work"),
        "{ls}"
    );

    // Nothing gets out of it through the API: `..` stops at the token's root, which cannot
    // itself be moved or removed.
    for (op, body, field) in [
        ("rename", json!({"from": "/in.txt", "to": "/../stolen.txt"}), "to"),
        ("rename", json!({"from": "/../secret.txt", "to": "/mine.txt"}), "from"),
        ("copy", json!({"from": "/../secret.txt", "to": "/mine.txt"}), "from"),
        ("remove", json!({"path": "/", "recursive": true}), "path"),
        ("rename", json!({"from": "/", "to": "/x"}), "from"),
        ("symlink", json!({"path": "/../l", "target": "/secret.txt"}), "path"),
    ] {
        let (status, out) = call(&s, &t, Method::POST, &format!("/volumes/v/fs/{op}"), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{op}: {out}");
        assert_eq!(out["error"]["field"], field, "{op}: {out}");
    }
    let (status, _) = call(&s, &t, Method::GET, "/volumes/v/fs/content?path=/../secret.txt", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s.ok(&["fs", "cat", "v:/secret.txt"]), "top secret");
    assert_eq!(s.ok(&["fs", "cat", "v:/work/in.txt"]), "inside");

    // No other volume, and nothing but files and mounts of its own.
    assert_eq!(s.fails_as(&t, &["fs", "cat", "other:/x"]).0, 3);
    assert_eq!(s.fails_as(&t, &["volume", "get", "other"]).0, 3);
    s.ok_as(&t, &["volume", "get", "v"]);
    for args in [
        &["volume", "list"][..],
        &["volume", "create", "mine"],
        &["volume", "delete", "v"],
        &["fork", "v", "copy"],
        &["snapshot", "create", "v", "snap"],
        &["snapshot", "list", "v"],
        &["diff", "v", "other"],
        &["token", "create", "--volume", "v"],
        &["key", "list"],
        &["org", "list"],
        &["gc"],
        &["fsck"],
    ] {
        let (code, err) = s.fails_as(&t, args);
        assert_eq!(code, 5, "{args:?}: {err}");
    }
    let volumes = s.json(&["volume", "list"]);
    assert_eq!(volumes.as_array().unwrap().len(), 2, "nothing was made or deleted");

    // Every denial is one audit line naming the key, never its secret.
    let deadline = Instant::now() + Duration::from_secs(10);
    let audit = loop {
        let log = s.log();
        let lines: Vec<String> = log.lines().filter(|l| l.contains("audit")).map(str::to_owned).collect();
        if lines.iter().any(|l| l.contains("/v1/fsck")) || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let id = info["id"].as_str().unwrap();
    let fsck = audit
        .iter()
        .find(|l| l.contains("/v1/fsck"))
        .expect("no audit line for fsck");
    assert!(
        fsck.contains(id) && fsck.contains("sandbox") && fsck.contains("POST"),
        "{fsck}"
    );
    assert!(
        audit.iter().any(|l| l.contains("/v1/volumes/other") && l.contains(id)),
        "{audit:?}"
    );
    for line in &audit {
        assert!(!line.contains(&t) && !line.contains(&admin), "{line}");
    }
    // An unknown key is audited too.
    let unknown = format!("stk_{}", "0".repeat(64));
    assert_eq!(s.fails_as(&unknown, &["volume", "list"]).0, 5);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.log().contains("unknown API key") {
        assert!(
            Instant::now() < deadline,
            "no audit line for an unknown key: {}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!s.log().contains(&unknown));
}

#[tokio::test]
async fn a_read_only_token_cannot_write_by_any_api() {
    let s = Server::start(&[]);
    s.ok(&["volume", "create", "v"]);
    s.ok(&["fs", "put", &local_file(&s, "in", "inside"), "v:/data/in.txt"]);
    let (t, info) = made(&s, &s.token(), &["token", "create", "--volume", "v", "--read-only"]);
    assert_eq!(info["scope"]["read_only"], true);
    assert_eq!(s.ok_as(&t, &["fs", "cat", "v:/data/in.txt"]), "inside");
    for args in [
        &["fs", "put", &local_file(&s, "n", "x"), "v:/new.txt"][..],
        &["fs", "mkdir", "v:/d"],
        &["fs", "rm", "-r", "v:/data"],
        &["fs", "mv", "v:/data/in.txt", "v:/in.txt"],
        &["fs", "cp", "v:/data/in.txt", "v:/copy.txt"],
        &["fs", "chmod", "600", "v:/data/in.txt"],
    ] {
        let (code, err) = s.fails_as(&t, args);
        assert_eq!(code, 5, "{args:?}: {err}");
        assert!(err.contains("read-only"), "{args:?}: {err}");
    }

    // A session it opens is read-only, whatever it asks for.
    let (status, session) = call(
        &s,
        &t,
        Method::POST,
        "/volumes/v/sessions",
        Some(json!({"read_only": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    assert_eq!(session["read_only"], true);
    let id = session["id"].as_str().unwrap();
    let root = session["root"]["node"].clone();
    let create = json!({"parent": root, "name": "f", "kind": "file", "mode": 420});
    let (status, _) = call(
        &s,
        &t,
        Method::POST,
        &format!("/sessions/{id}/create"),
        Some(create.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nor can it borrow a writable session of its volume.
    let (_, rw) = call(&s, &s.token(), Method::POST, "/volumes/v/sessions", Some(json!({}))).await;
    let create = json!({"parent": rw["root"]["node"], "name": "f", "kind": "file", "mode": 420});
    let (status, _) = call(
        &s,
        &t,
        Method::POST,
        &format!("/sessions/{}/create", rw["id"].as_str().unwrap()),
        Some(create),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor a read-only one another key opened at the volume's root, above the token's folder:
    // a scoped token uses only the sessions it opened.
    let (_, ro) = call(
        &s,
        &s.token(),
        Method::POST,
        "/volumes/v/sessions",
        Some(json!({"read_only": true})),
    )
    .await;
    let path = format!("/sessions/{}/readdir", ro["id"].as_str().unwrap());
    let (status, _) = call(&s, &t, Method::POST, &path, Some(json!({"node": ro["root"]["node"]}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Mounted: reads work, every write is EROFS.
    let mount = s.mount_as(&t, "v", &[]);
    assert_eq!(std::fs::read_to_string(mount.join("data/in.txt")).unwrap(), "inside");
    let erofs = |r: std::io::Result<()>| assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::EROFS));
    erofs(std::fs::write(mount.join("new.txt"), "x"));
    erofs(std::fs::create_dir(mount.join("d")));
    erofs(std::fs::remove_file(mount.join("data/in.txt")));
    erofs(std::fs::rename(mount.join("data/in.txt"), mount.join("in.txt")));
    erofs(std::fs::hard_link(mount.join("data/in.txt"), mount.join("link")));
    common::umount(&mount);
    let listed = s.ok(&["fs", "ls", "v:/"]);
    assert_eq!(listed.trim(), "data", "nothing was written");
}

#[tokio::test]
async fn a_scoped_token_mounts_only_its_folder() {
    let s = Server::start(&[]);
    let empty = tempfile::tempdir().unwrap();
    s.ok(&["volume", "create", "v"]);
    s.ok(&["volume", "create", "other"]);
    s.ok(&["fs", "put", &local_file(&s, "secret", "top secret"), "v:/secret.txt"]);
    s.ok(&["fs", "put", &local_file(&s, "in", "inside"), "v:/work/in.txt"]);
    let (t, _) = made(
        &s,
        &s.token(),
        &["token", "create", "--volume", "v", "--subpath", "work"],
    );

    let mount = s.mount_as(&t, "v", &[]);
    let names = |dir: &std::path::Path| {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(mount.path()), ["in.txt"]);
    std::fs::write(mount.join("made.txt"), "by the sandbox").unwrap();
    std::fs::create_dir(mount.join("sub")).unwrap();
    std::fs::rename(mount.join("made.txt"), mount.join("sub/made.txt")).unwrap();
    common::umount(&mount);
    assert_eq!(s.ok(&["fs", "cat", "v:/work/sub/made.txt"]), "by the sandbox");

    // VOLUME:SUBDIR is a folder below the token's own.
    let sub = s.mount_as(&t, "v:sub", &[]);
    assert_eq!(names(sub.path()), ["made.txt"]);
    common::umount(&sub);
    assert_eq!(s.fails_as(&t, &["mount", "other", empty.path().to_str().unwrap()]).0, 3);

    // A session of another volume is not the token's to use.
    let (_, theirs) = call(&s, &s.token(), Method::POST, "/volumes/other/sessions", Some(json!({}))).await;
    let body = json!({"node": theirs["root"]["node"]});
    let path = format!("/sessions/{}/readdir", theirs["id"].as_str().unwrap());
    let (status, _) = call(&s, &t, Method::POST, &path, Some(body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(s.ok(&["fs", "cat", "v:/secret.txt"]), "top secret");
}

#[tokio::test]
async fn expired_and_revoked_tokens_get_401() {
    let s = Server::start(&[]);
    s.ok(&["volume", "create", "v"]);
    let (lasting, _) = made(&s, &s.token(), &["token", "create", "--volume", "v", "--ttl", "1h"]);
    let empty = tempfile::tempdir().unwrap();
    s.ok_as(&lasting, &["volume", "get", "v"]);

    // A token of one second: refused once the second is over (polled, with a deadline).
    let (brief, _) = made(&s, &s.token(), &["token", "create", "--volume", "v", "--ttl", "1s"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, body) = loop {
        let (status, body) = call(&s, &brief, Method::GET, "/volumes/v", None).await;
        if status != StatusCode::OK || Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"), "{body}");
    assert_eq!(s.fails_as(&brief, &["mount", "v", empty.path().to_str().unwrap()]).0, 5);

    // Revoked: refused at once, mounts included.
    let (revoked, info) = made(&s, &s.token(), &["token", "create", "--volume", "v"]);
    let mount = s.mount_as(&revoked, "v", &[]);
    common::umount(&mount);
    s.ok(&["key", "revoke", info["id"].as_str().unwrap()]);
    let (status, body) = call(&s, &revoked, Method::GET, "/volumes/v", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        s.fails_as(&revoked, &["mount", "v", empty.path().to_str().unwrap()]).0,
        5
    );
    s.ok_as(&lasting, &["volume", "get", "v"]);
}

#[tokio::test]
async fn hostile_values_are_refused_and_change_nothing() {
    let s = Server::start(&[]);
    let admin = s.token();
    s.ok(&["volume", "create", "v"]);
    let huge = "a".repeat(100_000);
    let names = ["", "..", "a/b", "a\0b", ".x", "É", "x y", "../../etc", huge.as_str()];
    let refused = |(status, body): (StatusCode, Value), field: &str| {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().len() < 500);
    };
    for name in names {
        refused(
            call(&s, &admin, Method::POST, "/orgs", Some(json!({ "name": name }))).await,
            "name",
        );
        refused(
            call(&s, &admin, Method::POST, "/keys", Some(json!({ "name": name }))).await,
            "name",
        );
        refused(
            call(
                &s,
                &admin,
                Method::POST,
                "/keys",
                Some(json!({"name": "k", "org": name})),
            )
            .await,
            "org",
        );
        let token = json!({"volume": "v", "name": name});
        refused(call(&s, &admin, Method::POST, "/tokens", Some(token)).await, "name");
    }
    for role in ["", "root", "Admin", "admin\0", huge.as_str()] {
        let key = json!({"name": "k", "role": role});
        refused(call(&s, &admin, Method::POST, "/keys", Some(key)).await, "role");
    }
    for ttl in [
        "",
        "0s",
        "-1h",
        "1x",
        "1.5h",
        "1h\0",
        "99999999999999999999d",
        "3651d",
        huge.as_str(),
    ] {
        let key = json!({"name": "k", "ttl": ttl});
        refused(call(&s, &admin, Method::POST, "/keys", Some(key)).await, "ttl");
        let token = json!({"volume": "v", "ttl": ttl});
        refused(call(&s, &admin, Method::POST, "/tokens", Some(token)).await, "ttl");
    }
    for subpath in ["../x", "/abs", "a/../../b", "a\0b", "a//b", "./a", huge.as_str()] {
        let token = json!({"volume": "v", "subpath": subpath});
        refused(call(&s, &admin, Method::POST, "/tokens", Some(token)).await, "subpath");
    }
    for volume in ["..", "a/b", "x@", huge.as_str()] {
        let token = json!({"volume": volume});
        refused(call(&s, &admin, Method::POST, "/tokens", Some(token)).await, "volume");
    }
    for key in ["not-a-uuid", "%00", "x%2Fy"] {
        refused(
            call(&s, &admin, Method::DELETE, &format!("/keys/{key}"), None).await,
            "key",
        );
    }
    let (status, body) = call(
        &s,
        &admin,
        Method::POST,
        "/keys",
        Some(json!({"name": "k", "org": "nowhere"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["field"], "org");
    let (status, _) = call(&s, &admin, Method::POST, "/tokens", Some(json!({"volume": "missing"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(s.fails(&["token", "create", "--volume", "v", "--ttl", "forever"]).0, 2);
    assert_eq!(s.fails(&["token", "create", "--volume", "v", "--subpath", "../x"]).0, 2);

    // Nothing was stored.
    assert_eq!(s.json(&["org", "list"]).as_array().unwrap().len(), 1);
    let keys = s.json(&["key", "list"]);
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    assert_eq!(keys[0]["name"], "admin");
}

/// A key never makes a key that outlives it, and revoking a key revokes what it made.
#[test]
fn what_a_key_makes_ends_with_it() {
    let s = Server::start(&[]);
    s.ok(&["volume", "create", "v"]);
    let (brief, brief_info) = made(
        &s,
        &s.token(),
        &["key", "create", "brief", "--role", "org-admin", "--ttl", "1h"],
    );
    // Without a ttl, what it makes ends when it does; a longer ttl is refused.
    let (child, child_info) = made(&s, &brief, &["key", "create", "child", "--role", "org-admin"]);
    assert_eq!(child_info["expires_at"], brief_info["expires_at"]);
    for args in [
        &["key", "create", "longer", "--ttl", "2h"][..],
        &["key", "create", "forever", "--ttl", "3650d"][..],
        &["token", "create", "--volume", "v", "--ttl", "30d"][..],
    ] {
        let (code, err) = s.fails_as(&brief, args);
        assert!(code == 2 && err.contains("outlive"), "{args:?}: {err}");
    }
    let (token, token_info) = made(&s, &child, &["token", "create", "--volume", "v", "--ttl", "10m"]);
    assert!(token_info["expires_at"].as_i64() < brief_info["expires_at"].as_i64());
    let (grandchild, _) = made(&s, &child, &["key", "create", "grandchild"]);
    for key in [&child, &token, &grandchild] {
        s.ok_as(key, &["fs", "ls", "v:/"]);
    }
    // Revoking the first revokes the whole line it started, at once.
    s.ok(&["key", "revoke", brief_info["id"].as_str().unwrap()]);
    for key in [&brief, &child, &token, &grandchild] {
        let (code, err) = s.fails_as(key, &["fs", "ls", "v:/"]);
        assert!(code == 5 && err.contains("revoked"), "{err}");
    }
    // The admin key that made it is untouched.
    s.ok(&["fs", "ls", "v:/"]);
}

/// What one tenant can pile up is bounded: snapshots per volume, mounts and keys per
/// organization, and the extended attributes of one file (ENOSPC on a mount).
#[test]
fn a_tenant_cannot_pile_up_snapshots_sessions_keys_or_xattrs() {
    let s = Server::start(&["--max-snapshots", "2", "--max-sessions", "2", "--max-keys", "3"]);
    s.ok(&["volume", "create", "v"]);
    s.ok(&["snapshot", "create", "v", "a"]);
    s.ok(&["snapshot", "create", "v", "b"]);
    let (code, err) = s.fails(&["snapshot", "create", "v", "c"]);
    assert!(code == 5 && err.contains("2 snapshots"), "{err}");
    // The admin key is one of the organization's three.
    s.ok(&["key", "create", "k1"]);
    s.ok(&["token", "create", "--volume", "v"]);
    let (code, err) = s.fails(&["key", "create", "k3"]);
    assert!(code == 5 && err.contains("3 keys"), "{err}");
    let first = s.mount("v", &[]);
    let _second = s.mount("v", &[]);
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = s.fails(&["mount", "v", dir.path().to_str().unwrap()]);
    assert!(code == 5 && err.contains("mount sessions"), "{err}");
    // Extended attributes of one file: 128 KiB in all.
    let file = first.join("f");
    std::fs::write(&file, b"x").unwrap();
    let value = vec![b'v'; 60 * 1024];
    let set = |name: &str| {
        let (path, name) = (
            std::ffi::CString::new(file.to_str().unwrap()).unwrap(),
            std::ffi::CString::new(name).unwrap(),
        );
        // SAFETY: valid NUL-terminated strings and a live buffer.
        let r = unsafe { libc::setxattr(path.as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
        if r == 0 {
            0
        } else {
            std::io::Error::last_os_error().raw_os_error().unwrap()
        }
    };
    assert_eq!((set("user.a"), set("user.b")), (0, 0));
    assert_eq!(set("user.c"), libc::ENOSPC);
}
