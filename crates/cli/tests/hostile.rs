//! Hostile input is refused with a 4xx and a JSON body naming the field, and changes nothing.

mod common;
use common::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// Stores `bytes` as block `hash` through mount session `session`; the status.
    async fn put_block(&self, session: &str, hash: &str, bytes: &[u8]) -> StatusCode {
        self.http
            .put(format!("{}/sessions/{session}/blocks/{hash}", self.base))
            .bearer_auth(&self.token)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Creates the file `name` in the directory `parent` through mount session `session`.
    async fn create_file(&self, session: &str, parent: &Value, name: &str) -> Value {
        let body = json!({"parent": parent, "name": name, "kind": "file", "mode": 0o644});
        let (status, file) = self
            .call(
                reqwest::Method::POST,
                &format!("/sessions/{session}/create"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{file}");
        file
    }

    fn clone_ref(&self) -> Api {
        Api {
            http: self.http.clone(),
            base: self.base.clone(),
            token: self.token.clone(),
        }
    }

    fn new(server: &Server) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("{}/v1", server.endpoint),
            token: server.token(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// Asserts a 400 whose body names `field`.
fn refused(result: (StatusCode, Value), field: &str) {
    let (status, body) = result;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        matches!(body["error"]["kind"].as_str(), Some("invalid_input" | "name_too_long")),
        "{body}"
    );
    assert_eq!(body["error"]["field"], field, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().len() < 500, "{body}");
}

#[tokio::test]
async fn hostile_volume_names() {
    let server = Server::start(&[]);
    let api = Api::new(&server);
    api.call(reqwest::Method::POST, "/volumes", Some(json!({"name": "good"})))
        .await;
    let long = "a".repeat(10_000);
    for name in ["../../..", "a/b", "", &long, "nul\0name", "..", "Ünïcode", "-dash"] {
        refused(
            api.call(reqwest::Method::POST, "/volumes", Some(json!({ "name": name })))
                .await,
            "name",
        );
    }
    // Through the URL: each value arrives percent-encoded as one path segment.
    let client = server.client();
    for name in ["..", "a/b", "nul\0x", &long] {
        let err = client.get_volume(name).await.unwrap_err();
        assert_eq!(
            (err.kind, err.field.as_deref()),
            (strata_core::ErrorKind::InvalidInput, Some("volume")),
            "{name:?}"
        );
    }
    // Straight to the server, percent-encoded past any client-side check.
    for raw in ["a%2Fb", "nul%00x", "%C3%9C"] {
        refused(
            api.call(reqwest::Method::GET, &format!("/volumes/{raw}"), None).await,
            "volume",
        );
        refused(
            api.call(reqwest::Method::DELETE, &format!("/volumes/{raw}"), None)
                .await,
            "volume",
        );
    }
    let (_, list) = api.call(reqwest::Method::GET, "/volumes", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // The CLI says what the rule is and exits non-zero.
    let (code, err) = server.fails(&["volume", "create", "../../.."]);
    assert_eq!(code, 2);
    assert!(err.contains("1 to 63 characters"), "{err}");
}

#[tokio::test]
async fn hostile_paths() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    server.ok(&["fs", "mkdir", "v:/dir"]);
    let client = server.client();
    let before = server.ok(&["fs", "ls", "v:/", "--json"]);
    let long_name = format!("/{}", "n".repeat(300));
    let huge = "/a".repeat(5000);
    for path in [
        "/../etc/passwd",
        "/dir/../../x",
        "/a\0b",
        &long_name,
        &huge,
        "relative",
        "",
    ] {
        let err = client.stat("v", path).await.unwrap_err();
        assert_eq!(err.field.as_deref(), Some("path"), "{path:?}: {err:?}");
        let err = client.mkdir("v", path, true).await.unwrap_err();
        assert_eq!(err.field.as_deref(), Some("path"), "{path:?}: {err:?}");
        let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"data"))]);
        let err = client.put("v", path, None, body).await.unwrap_err();
        assert_eq!(err.field.as_deref(), Some("path"), "{path:?}: {err:?}");
        let err = client.rename("v", "/dir", path, false).await.unwrap_err();
        assert_eq!(err.field.as_deref(), Some("to"), "{path:?}: {err:?}");
    }
    let err = client.put("v", "/", None, futures::stream::empty()).await.unwrap_err();
    assert_eq!(err.kind, strata_core::ErrorKind::InvalidInput);
    assert_eq!(server.ok(&["fs", "ls", "v:/", "--json"]), before, "nothing changed");
    assert_eq!(server.store_usage().0, 0);
    let (code, err) = server.fails(&["fs", "ls", "v:/../.."]);
    assert_eq!(code, 2);
    assert!(err.contains("above the volume root"), "{err}");
}

#[tokio::test]
async fn malformed_requests() {
    let server = Server::start(&[]);
    let api = Api::new(&server);
    let post_raw = |body: &'static str, content_type: &'static str| {
        api.http
            .post(format!("{}/volumes", api.base))
            .bearer_auth(&api.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, ctype) in [
        ("{\"name\":", "application/json"),
        ("[]", "application/json"),
        ("{}", "application/json"),
        ("{\"name\":\"x\"}", "text/plain"),
    ] {
        let resp = post_raw(body, ctype).await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"]["field"], "body", "{json}");
    }
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/volumes/nope/fs/mkdir",
            Some(json!({"path": "/x"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("volume")),
        "{body}"
    );
    api.call(reqwest::Method::POST, "/volumes", Some(json!({"name": "v"})))
        .await;
    refused(
        api.call(
            reqwest::Method::POST,
            "/volumes/v/fs/mkdir",
            Some(json!({"path": "/x", "mode": 99999})),
        )
        .await,
        "mode",
    );
    refused(
        api.call(reqwest::Method::GET, "/volumes/v/fs/stat", None).await,
        "query",
    );
    // Bytes that are not UTF-8 would all become U+FFFD, and two names one file.
    for raw in ["/a%FF", "/a%FE", "/%C3"] {
        refused(
            api.call(reqwest::Method::GET, &format!("/volumes/v/fs/stat?path={raw}"), None)
                .await,
            "query",
        );
    }
    let (status, body) = api.call(reqwest::Method::GET, "/no/such/endpoint", None).await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, list) = api.call(reqwest::Method::GET, "/volumes", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn tokens_are_required() {
    let server = Server::start(&[]);
    let url = format!("{}/v1/volumes", server.endpoint);
    let http = reqwest::Client::new();
    let unknown = format!("stk_{}", "0".repeat(64));
    let huge = "x".repeat(10_000);
    for token in [
        None,
        Some("wrong"),
        Some(unknown.as_str()),
        Some(huge.as_str()),
        Some("stk_gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"),
    ] {
        let mut req = http.get(&url);
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["kind"], "unauthorized");
    }
    assert_eq!(
        http.get(format!("{}/v1/health", server.endpoint))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let out = std::process::Command::new(common::BIN)
        .args(["volume", "list", "--endpoint", &server.endpoint, "--token", &unknown])
        .env("STRATA_CONFIG_DIR", server.dir.path().join("cfg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown API key"));
}

#[tokio::test]
async fn hostile_session_calls() {
    // Nothing renews these raw sessions: a lease longer than the test keeps their locks
    // counted however slowly a loaded machine runs it.
    let server = Server::start(&["--session-lease", "1h"]);
    let api = Api::new(&server);
    api.call(reqwest::Method::POST, "/volumes", Some(json!({"name": "v"})))
        .await;
    let open = |read_only: bool| {
        api.call(
            reqwest::Method::POST,
            "/volumes/v/sessions",
            Some(json!({"subpath": "", "read_only": read_only})),
        )
    };
    let (status, session) = open(false).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let (id, root) = (
        session["id"].as_str().unwrap().to_owned(),
        session["root"]["node"].clone(),
    );
    let api = &api;
    let call = |id: String, op: &'static str, body: Value| async move {
        api.call(reqwest::Method::POST, &format!("/sessions/{id}/{op}"), Some(body))
            .await
    };
    let create = json!({"parent": root, "name": "f", "kind": "file", "mode": 0o644});
    let (status, file) = call(id.clone(), "create", create).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let node = file["node"].clone();

    // Directory pages are bounded, and their cursor is a file name.
    for limit in [json!(0), json!(1025), json!(u32::MAX)] {
        refused(
            call(id.clone(), "readdir", json!({"node": root, "limit": limit})).await,
            "limit",
        );
    }
    for after in ["", "..", "a/b", "a\u{0}b", &"x".repeat(300)] {
        refused(
            call(id.clone(), "readdir", json!({"node": root, "after": after})).await,
            "after",
        );
    }
    let (status, page) = call(id.clone(), "readdir", json!({"node": root, "after": "é", "limit": 1})).await;
    assert_eq!(
        (status, page["entries"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0)),
        "{page}"
    );
    let (status, page) = call(id.clone(), "readdir", json!({"node": root, "limit": 1})).await;
    assert_eq!(
        (status, page["entries"][0]["name"].as_str()),
        (StatusCode::OK, Some("f")),
        "{page}"
    );

    // A size past the largest file is refused, and the volume's usage does not wrap.
    let huge = json!({"node": node, "size": u64::MAX});
    refused(call(id.clone(), "setattr", huge).await, "size");
    let (_, vol) = api.call(reqwest::Method::GET, "/volumes/v", None).await;
    assert_eq!(vol["used_bytes"], 0, "{vol}");

    // A read-only session takes no write lock (a read-only open cannot), but may read-lock.
    let (_, ro) = open(true).await;
    let ro_id = ro["id"].as_str().unwrap().to_owned();
    let (_, ro_file) = call(
        ro_id.clone(),
        "lookup",
        json!({"parent": ro["root"]["node"], "name": "f"}),
    )
    .await;
    let lock = |node: &Value, kind: &str, start: u64| json!({"node": node, "owner": 1, "range": {"start": start, "end": start, "kind": kind}});
    let (status, body) = call(ro_id.clone(), "setlk", lock(&ro_file["node"], "write", 0)).await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (StatusCode::FORBIDDEN, Some("read_only")),
        "{body}"
    );
    let (status, _) = call(ro_id, "setlk", lock(&ro_file["node"], "read", 1 << 40)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // One session cannot grow the lock table without end.
    let mut refused_at = None;
    for i in 0..1100u64 {
        let (status, body) = call(id.clone(), "setlk", lock(&node, "write", i * 2)).await;
        if status != StatusCode::NO_CONTENT {
            assert_eq!(body["error"]["kind"], "limit_exceeded", "{body}");
            refused_at = Some(i);
            break;
        }
    }
    assert_eq!(
        refused_at,
        Some(1023),
        "with the read lock above, the file's 1025th lock is refused"
    );
}

/// A volume deleted with `--force` under a mount: no call of the mount's session then fails
/// with a 5xx, and taking a lock says the volume is gone (found by tests/api-fuzz/run.sh:
/// setlk answered 500).
#[tokio::test]
async fn session_calls_after_a_forced_delete_are_refused() {
    let server = Server::start(&[]);
    let api = Api::new(&server);
    api.call(reqwest::Method::POST, "/volumes", Some(json!({"name": "v"})))
        .await;
    let (_, session) = api
        .call(reqwest::Method::POST, "/volumes/v/sessions", Some(json!({})))
        .await;
    let (id, root) = (session["id"].as_str().unwrap(), session["root"]["node"].clone());
    let api = &api;
    let call = |op: &'static str, body: Value| async move {
        api.call(reqwest::Method::POST, &format!("/sessions/{id}/{op}"), Some(body))
            .await
    };
    let (status, file) = call(
        "create",
        json!({"parent": root, "name": "f", "kind": "file", "mode": 0o644}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let node = file["node"].clone();
    let (status, _) = api.call(reqwest::Method::DELETE, "/volumes/v?force=true", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let lock = |kind: &str| json!({"node": node, "owner": 1, "range": {"start": 0, "end": 9, "kind": kind}});
    let xattr = json!({"node": node, "name": "dXNlci54", "value": "eQ=="});
    let calls = [
        ("setlk", lock("write")),
        ("setlk", lock("unlock")),
        ("getlk", lock("read")),
        ("getattr", json!({"node": node})),
        ("readdir", json!({"node": root})),
        ("lookup", json!({"parent": root, "name": "f"})),
        (
            "create",
            json!({"parent": root, "name": "g", "kind": "file", "mode": 0o644}),
        ),
        ("setattr", json!({"node": node, "size": 5})),
        ("content", json!({"node": node})),
        (
            "write",
            json!({"node": node, "size": 1, "chunks": [{"idx": 0, "len": 1, "data": "eA=="}]}),
        ),
        ("setxattr", xattr.clone()),
        ("getxattr", xattr.clone()),
        ("listxattr", json!({"node": node})),
        ("removexattr", xattr),
        ("unlink", json!({"parent": root, "name": "f"})),
        ("statfs", json!({})),
        ("sync", json!({})),
        ("renew", json!({})),
    ];
    for (op, body) in calls {
        let (status, answer) = call(op, body).await;
        assert!(!status.is_server_error(), "{op}: {status} {answer}");
        if !status.is_success() {
            assert!(
                status.is_client_error() && answer["error"]["kind"].is_string(),
                "{op}: {answer}"
            );
        }
    }
    let (status, answer) = call("setlk", lock("read")).await;
    assert_eq!(status, StatusCode::GONE, "{answer}");
    assert_eq!(
        (answer["error"]["kind"].as_str(), answer["error"]["field"].as_str()),
        (Some("volume_gone"), Some("volume"))
    );
}

/// The server's gauge of upload memory held, from its metrics.
fn upload_memory(addr: &str) -> u64 {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut page = String::new();
    conn.read_to_string(&mut page).unwrap();
    let line = page
        .lines()
        .find(|l| l.starts_with("strata_upload_memory_bytes "))
        .unwrap();
    line["strata_upload_memory_bytes ".len()..].parse().unwrap()
}

/// Reads from `conn` until the server closes it; false if it is still open after 10 s.
fn closed_by_server(conn: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn slow_and_greedy_clients_cannot_hold_the_server() {
    use std::io::Write;
    let server = Server::start(&["--idle-timeout", "1s", "--max-connections-per-client", "8"]);
    server.ok(&["volume", "create", "v"]);
    let addr = server.endpoint.trim_start_matches("http://").to_owned();
    let connect = || std::net::TcpStream::connect(&addr).unwrap();

    // A request head that never ends.
    let mut half = connect();
    half.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    assert!(closed_by_server(&mut half), "a half-sent head is dropped");

    // A body that stops arriving after 1 MiB of a declared 2 GB.
    let mut stalled = connect();
    let head = format!(
        "PUT /v1/volumes/v/fs/content?path=/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 2000000000\r\n\r\n",
        server.token()
    );
    stalled.write_all(head.as_bytes()).unwrap();
    stalled.write_all(&vec![7u8; 1 << 20]).unwrap();
    assert!(closed_by_server(&mut stalled), "a stalled body is dropped");

    // Connections beyond the cap are closed at once, idle ones after the idle timeout; then
    // the server answers again.
    let mut idle: Vec<_> = (0..8).map(|_| connect()).collect();
    let mut extra = connect();
    assert!(
        closed_by_server(&mut extra),
        "the ninth connection of one client is closed"
    );
    for conn in &mut idle {
        assert!(closed_by_server(conn), "an idle connection is closed");
    }
    assert!(server.ok(&["volume", "list"]).contains('v'));
    assert_eq!(
        server.fails(&["fs", "stat", "v:/big"]).0,
        3,
        "nothing of the stalled upload was kept"
    );
}

/// Sends `requests` on one connection and reads until the server closes it.
fn exchange(addr: &str, requests: &[Vec<u8>]) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    for request in requests {
        // A server that stopped reading shows in what was answered.
        if conn.write_all(request).is_err() {
            break;
        }
    }
    let mut answers = Vec::new();
    let _ = conn.read_to_end(&mut answers);
    String::from_utf8_lossy(&answers).into_owned()
}

#[test]
fn a_body_refused_before_it_is_read_is_heard_out_so_its_sender_gets_the_reason() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("f");
    std::fs::write(&local, "a file\n").unwrap();
    server.ok(&["fs", "put", local.to_str().unwrap(), "v:/file"]);
    let addr = server.endpoint.trim_start_matches("http://").to_owned();
    let put = |path: &str, key: &str| {
        let mut request = format!(
            "PUT /v1/volumes/v/fs/content?path={path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Length: 300000\r\n\r\n"
        )
        .into_bytes();
        request.extend(vec![7u8; 300_000]);
        request
    };
    let health = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec();
    // Refused by the handler (a file in the way) and by the key check, each before a byte of
    // the body is read: the body is still read, so the connection goes on to the next request.
    let answers = exchange(
        &addr,
        &[put("/file/x", &server.token()), put("/y", "not-a-key"), health],
    );
    assert!(answers.contains("not a directory"), "{answers}");
    assert!(answers.contains("HTTP/1.1 401"), "{answers}");
    assert!(answers.contains(r#""status":"ok""#), "{answers}");
    assert_eq!(server.ok(&["fs", "cat", "v:/file"]), "a file\n");
    assert_eq!(server.fails(&["fs", "stat", "v:/y"]).0, 3);
}

#[tokio::test]
async fn blocks_are_readable_and_claimable_only_by_their_volume() {
    let server = Server::start(&[]);
    let api = Api::new(&server);
    for name in ["mine", "theirs", "third"] {
        api.call(reqwest::Method::POST, "/volumes", Some(json!({ "name": name })))
            .await;
    }
    // Another volume's 200 kB file: stored as one block whose hash anyone can compute.
    let secret: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), &secret).unwrap();
    server.ok(&[
        "fs",
        "put",
        dir.path().join("secret").to_str().unwrap(),
        "theirs:/secret",
    ]);
    let hash = blake3::hash(&secret).to_hex().to_string();
    let never_stored = blake3::hash(b"nowhere").to_hex().to_string();

    let session = |volume: &'static str| {
        let api = &api;
        async move {
            let (_, s) = api
                .call(
                    reqwest::Method::POST,
                    &format!("/volumes/{volume}/sessions"),
                    Some(json!({"subpath": ""})),
                )
                .await;
            (s["id"].as_str().unwrap().to_owned(), s["root"]["node"].clone())
        }
    };
    let get_block = |id: &str, hash: &str| {
        let url = format!("{}/sessions/{id}/blocks/{hash}", api.base);
        let req = api.http.get(url).bearer_auth(&api.token);
        async move { req.send().await.unwrap().status() }
    };
    let (mine, root) = session("mine").await;
    assert_eq!(
        get_block(&mine, &hash).await,
        StatusCode::NOT_FOUND,
        "another volume's block"
    );
    assert_eq!(
        get_block(&mine, &never_stored).await,
        StatusCode::NOT_FOUND,
        "the same answer as for none"
    );

    // Naming it in a write without having uploaded it fails exactly as a missing block does.
    let file = api.create_file(&mine, &root, "stolen").await;
    let write = |hash: &str| json!({"node": file["node"], "size": secret.len(), "chunks": [{"idx": 0, "len": secret.len(), "hash": hash}]});
    let path = format!("/sessions/{mine}/write");
    let (claimed, body) = api.call(reqwest::Method::POST, &path, Some(write(&hash))).await;
    let (missing, _) = api.call(reqwest::Method::POST, &path, Some(write(&never_stored))).await;
    assert_eq!(
        (claimed, missing),
        (StatusCode::CONFLICT, StatusCode::CONFLICT),
        "{body}"
    );
    assert_eq!(
        server.json(&["fs", "stat", "mine:/stolen"])["size"],
        0,
        "nothing was claimed"
    );

    // With the bytes in hand (uploaded by this session), the same write works.
    assert_eq!(api.put_block(&mine, &hash, &secret).await, StatusCode::NO_CONTENT);
    let (status, body) = api.call(reqwest::Method::POST, &path, Some(write(&hash))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(get_block(&mine, &hash).await, StatusCode::OK);
    let (theirs, _) = session("theirs").await;
    assert_eq!(
        get_block(&theirs, &hash).await,
        StatusCode::OK,
        "the owner reads its own"
    );

    // Pieces of a block: the same rule, and ranges checked.
    let pieces = |id: &str, hash: &str, query: &str| {
        let (api, path) = (&api, format!("/sessions/{id}/blocks/{hash}/pieces?{query}"));
        async move { api.call(reqwest::Method::GET, &path, None).await }
    };
    let (other, _) = session("third").await;
    assert_eq!(pieces(&other, &hash, "first=0&last=1").await.0, StatusCode::NOT_FOUND);
    let url = format!("{}/sessions/{theirs}/blocks/{hash}/pieces?first=1&last=3", api.base);
    let reply = api.http.get(url).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let reply = reply.bytes().await.unwrap();
    let checked = strata_core::pieces::check_reply(&blake3::hash(&secret), 1, 3, &reply).unwrap();
    assert_eq!(&reply[checked.data_at..], &secret[65536..3 * 65536]);
    refused(pieces(&theirs, &hash, "first=2&last=2").await, "last");
    refused(pieces(&theirs, &hash, "first=0&last=5").await, "last");
    let small = blake3::hash(b"x").to_hex().to_string();
    assert_eq!(pieces(&theirs, &small, "first=0&last=1").await.0, StatusCode::NOT_FOUND);
    for query in ["first=-1&last=2", "first=0", "first=0&last=99999999999999999999999", ""] {
        assert_eq!(
            pieces(&theirs, &hash, query).await.0,
            StatusCode::BAD_REQUEST,
            "{query}"
        );
    }
}

/// A chunk that says it is longer than its block is refused; one that does anyway (damaged
/// metadata) reads as EIO on a mount, which goes on serving everything else.
#[tokio::test]
async fn a_chunk_longer_than_its_block_is_refused_and_damage_reads_as_eio() {
    let server = Server::start(&[]);
    let api = Api::new(&server);
    api.call(reqwest::Method::POST, "/volumes", Some(json!({ "name": "v" })))
        .await;
    let (_, session) = api
        .call(
            reqwest::Method::POST,
            "/volumes/v/sessions",
            Some(json!({"subpath": ""})),
        )
        .await;
    let (id, root) = (session["id"].as_str().unwrap(), session["root"]["node"].clone());
    let file = api.create_file(id, &root, "f").await;
    let block: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let hash = blake3::hash(&block).to_hex().to_string();
    assert_eq!(api.put_block(id, &hash, &block).await, StatusCode::NO_CONTENT);
    let write =
        |len: usize| json!({"node": file["node"], "size": len, "chunks": [{"idx": 0, "len": len, "hash": hash}]});
    let path = format!("/sessions/{id}/write");
    refused(
        api.call(reqwest::Method::POST, &path, Some(write(300_000))).await,
        "chunks",
    );
    let (status, body) = api.call(reqwest::Method::POST, &path, Some(write(100_000))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.ok(&["fs", "put", "-", "v:/other"]);

    // Damage: the stored chunk now promises three times its block.
    let changed = server.damage_metadata("UPDATE chunks SET len = 300000 WHERE len = 100000");
    assert_eq!(changed, 1);
    server.damage_metadata("UPDATE inodes SET size = 300000 WHERE size = 100000");
    let mount = server.mount("v", &[]);
    let read = std::fs::read(mount.join("f"));
    assert_eq!(
        read.map(|b| b.len()).map_err(|e| e.raw_os_error()),
        Err(Some(libc::EIO))
    );
    // The mount is alive: other files read, new ones are written.
    assert_eq!(std::fs::read(mount.join("other")).unwrap(), b"");
    std::fs::write(mount.join("new"), b"still serving").unwrap();
    assert_eq!(std::fs::read(mount.join("new")).unwrap(), b"still serving");
}

/// A pack holds the small files of every folder its batch touched: no session is given one,
/// not even the whole volume's, and none may name one in a write.
#[tokio::test]
async fn no_session_reads_or_names_a_pack() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let addr = common::free_addr();
    let mount = server.mount("v", &["--metrics", &addr, "--write-back", "1s"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while common::sample(&common::scrape(&addr), "strata_mount_owns_tree") != 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the mount owns its tree within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for user in ["alice", "bob"] {
        std::fs::create_dir_all(mount.join(&format!("users/{user}"))).unwrap();
        std::fs::write(
            mount.join(&format!("users/{user}/notes")),
            format!("{user}'s notes\n").repeat(100),
        )
        .unwrap();
    }
    std::fs::File::open(mount.path()).unwrap().sync_all().unwrap();
    let pack = server.metadata_bytes("SELECT hash FROM chunks WHERE pack_off IS NOT NULL ORDER BY ino LIMIT 1");
    let pack = blake3::Hash::from_bytes(pack.try_into().unwrap()).to_hex().to_string();
    let alice = server.ok(&["token", "create", "--volume", "v", "--subpath", "users/alice"]);
    for token in [alice.trim().to_owned(), server.token()] {
        let api = Api {
            http: reqwest::Client::new(),
            base: format!("{}/v1", server.endpoint),
            token,
        };
        let (status, s) = api
            .call(
                reqwest::Method::POST,
                "/volumes/v/sessions",
                Some(json!({"subpath": ""})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{s}");
        let (id, root) = (s["id"].as_str().unwrap().to_owned(), s["root"]["node"].clone());
        let got = api
            .http
            .get(format!("{}/sessions/{id}/blocks/{pack}", api.base))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(got, StatusCode::NOT_FOUND, "a session was given a pack");
        let file = api.create_file(&id, &root, "claimed").await;
        let write = json!({"node": file["node"], "size": 10, "chunks": [{"idx": 0, "len": 10, "hash": pack}]});
        let (status, body) = api
            .call(reqwest::Method::POST, &format!("/sessions/{id}/write"), Some(write))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "a session named a pack: {body}");
    }
}

/// Tenants of one volume through subpaths: a session of alice's folder neither reads nor
/// claims bob's block by its hash; a session of the whole volume, or one that uploaded the
/// bytes itself, does.
#[tokio::test]
async fn a_tenants_session_reaches_only_the_blocks_of_its_own_folder() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "tenants"]);
    let secret: Vec<u8> = (0..200_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), &secret).unwrap();
    server.ok(&[
        "fs",
        "put",
        dir.path().join("secret").to_str().unwrap(),
        "tenants:/users/bob/secret",
    ]);
    server.ok(&["fs", "mkdir", "-p", "tenants:/users/alice"]);
    let hash = blake3::hash(&secret).to_hex().to_string();
    let alice = server.ok(&["token", "create", "--volume", "tenants", "--subpath", "users/alice"]);
    let as_key = |token: &str| Api {
        http: reqwest::Client::new(),
        base: format!("{}/v1", server.endpoint),
        token: token.trim().to_owned(),
    };
    let (alice, admin) = (as_key(&alice), as_key(&server.token()));
    let session = |api: &Api| {
        let api = api.clone_ref();
        async move {
            let (status, s) = api
                .call(
                    reqwest::Method::POST,
                    "/volumes/tenants/sessions",
                    Some(json!({"subpath": ""})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{s}");
            (s["id"].as_str().unwrap().to_owned(), s["root"]["node"].clone())
        }
    };
    let get_block = |api: &Api, id: &str| {
        let req = api
            .http
            .get(format!("{}/sessions/{id}/blocks/{hash}", api.base))
            .bearer_auth(&api.token);
        async move { req.send().await.unwrap().status() }
    };
    let (mine, root) = session(&alice).await;
    assert_eq!(get_block(&alice, &mine).await, StatusCode::NOT_FOUND, "bob's block");
    let file = alice.create_file(&mine, &root, "claimed").await;
    let write =
        json!({"node": file["node"], "size": secret.len(), "chunks": [{"idx": 0, "len": secret.len(), "hash": hash}]});
    let (status, body) = alice
        .call(
            reqwest::Method::POST,
            &format!("/sessions/{mine}/write"),
            Some(write.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(server.json(&["fs", "stat", "tenants:/users/alice/claimed"])["size"], 0);
    // The whole volume's session reads it.
    let (whole, _) = session(&admin).await;
    assert_eq!(get_block(&admin, &whole).await, StatusCode::OK);
    // With the bytes in hand (uploaded by her session), alice names the same block.
    assert_eq!(alice.put_block(&mine, &hash, &secret).await, StatusCode::NO_CONTENT);
    let (status, body) = alice
        .call(reqwest::Method::POST, &format!("/sessions/{mine}/write"), Some(write))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(get_block(&alice, &mine).await, StatusCode::OK);
}

/// Uploads that stall after most of a block, a body that trickles in a byte at a time, and
/// connections past the total: the server holds at most its upload memory, cuts the trickle,
/// closes the excess, and serves on.
#[test]
fn stalled_uploads_trickles_and_floods_are_bounded() {
    use std::io::{Read, Write};
    let server = Server::start(&[
        "--idle-timeout",
        "1s",
        "--max-upload-memory",
        "8M",
        "--min-upload-rate",
        "64K",
        "--max-connections",
        "16",
        "--max-connections-per-client",
        "100",
    ]);
    server.ok(&["volume", "create", "v"]);
    let addr = server.endpoint.trim_start_matches("http://").to_owned();
    let connect = || std::net::TcpStream::connect(&addr).unwrap();
    let head = |path: &str, len: u64| {
        format!(
            "PUT /v1/volumes/v/fs/content?path={path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {len}\r\n\r\n",
            server.token()
        )
    };
    // Two uploads take all the room there is (a block each, short of its last bytes), and
    // keep it with a byte now and then while a third comes.
    let mut stalled = Vec::new();
    for i in 0..2 {
        let mut conn = connect();
        conn.write_all(head(&format!("/s{i}"), 100_000_000).as_bytes()).unwrap();
        conn.write_all(&vec![1u8; (4 << 20) - 100]).unwrap();
        stalled.push(conn);
    }
    // The server has read far enough into both to hold their room.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while upload_memory(&addr) < 8 << 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stalled uploads never took the room"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let holding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut writers: Vec<_> = stalled.iter().map(|c| c.try_clone().unwrap()).collect();
    let keep = holding.clone();
    let dribble = std::thread::spawn(move || {
        while keep.load(std::sync::atomic::Ordering::Relaxed) {
            for w in &mut writers {
                let _ = w.write_all(b"x");
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    });
    // A third finds no room, and is told to come back (503), not buffered.
    let mut third = connect();
    third.write_all(head("/third", 100_000_000).as_bytes()).unwrap();
    let _ = third.write_all(&vec![1u8; 1 << 20]);
    third
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = [0u8; 12];
    third.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 503");
    holding.store(false, std::sync::atomic::Ordering::Relaxed);
    dribble.join().unwrap();
    for conn in &mut stalled {
        assert!(closed_by_server(conn), "a stalled upload is dropped");
    }

    // A body that keeps coming, a byte at a time, slower than the least rate.
    let mut trickle = connect();
    trickle.write_all(head("/trickle", 1000).as_bytes()).unwrap();
    let mut writer = trickle.try_clone().unwrap();
    let dripping = std::thread::spawn(move || {
        for _ in 0..1000 {
            if writer.write_all(b"x").is_err() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        false
    });
    assert!(closed_by_server(&mut trickle), "a trickling body is cut off");
    assert!(dripping.join().unwrap(), "the server stopped taking it");

    // Past the total, new connections are closed at once, from any client address.
    let held: Vec<_> = (0..16).map(|_| connect()).collect();
    let mut extra = connect();
    assert!(closed_by_server(&mut extra), "the connection past the total is closed");
    drop(held);
    // And it serves on, having kept nothing of what it cut.
    let ls = server.ok(&["fs", "ls", "v:/"]);
    assert_eq!(ls, "", "{ls}");
}
