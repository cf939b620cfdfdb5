//! Keys go only where they belong: a key saved by `strata login` to the endpoint it was saved
//! with, the local admin key to the local server; any other endpoint gets none.

mod common;
use common::BIN;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// A stand-in server that answers one request with an empty volume list and returns the
/// request's head, as sent.
fn capture_one_request(listener: TcpListener) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut conn = conn;
        conn.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]",
        )
        .unwrap();
        head
    })
}

/// Runs `strata volume list` with the given endpoint flag (if any) and no key on the command
/// line; returns the request head the stand-in server received.
fn request_head(dirs: &Path, endpoint_flag: Option<&str>, listener: TcpListener) -> String {
    let server = capture_one_request(listener);
    let mut cmd = Command::new(BIN);
    cmd.args(["volume", "list"]);
    if let Some(endpoint) = endpoint_flag {
        cmd.args(["--endpoint", endpoint]);
    }
    let out = cmd
        .env_remove("STRATA_ENDPOINT")
        .env_remove("STRATA_TOKEN")
        .env("STRATA_CONFIG_DIR", dirs.join("config"))
        .env("STRATA_DATA_DIR", dirs.join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    server.join().unwrap()
}

fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

#[test]
fn keys_are_sent_only_to_their_own_endpoint() {
    let dirs = tempfile::tempdir().unwrap();
    let (local, local_url) = listener();
    let (saved, saved_url) = listener();
    let (foreign, foreign_url) = listener();
    // A local server's data folder (its address and admin key) and a saved login elsewhere.
    std::fs::create_dir_all(dirs.path().join("data")).unwrap();
    std::fs::write(dirs.path().join("data/admin.token"), "local-admin-key\n").unwrap();
    std::fs::write(dirs.path().join("data/endpoint"), format!("{local_url}\n")).unwrap();
    std::fs::create_dir_all(dirs.path().join("config")).unwrap();
    let login = serde_json::json!({ "endpoint": saved_url, "token": "saved-login-key" });
    std::fs::write(dirs.path().join("config/config.json"), login.to_string()).unwrap();

    let head = request_head(dirs.path(), Some(&foreign_url), foreign);
    assert!(
        !head.contains("local-admin-key"),
        "admin key sent to a foreign endpoint:\n{head}"
    );
    assert!(
        !head.contains("saved-login-key"),
        "login key sent to a foreign endpoint:\n{head}"
    );
    assert!(!head.to_ascii_lowercase().contains("authorization"), "{head}");

    // No flag: the saved login, with its key.
    let head = request_head(dirs.path(), None, saved);
    assert!(
        head.contains("saved-login-key") && !head.contains("local-admin-key"),
        "{head}"
    );

    // The local server, named explicitly: its admin key.
    let head = request_head(dirs.path(), Some(&local_url), local);
    assert!(
        head.contains("local-admin-key") && !head.contains("saved-login-key"),
        "{head}"
    );
}
