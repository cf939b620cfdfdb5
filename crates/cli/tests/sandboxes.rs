//! Sandboxes across servers: two servers on one PostgreSQL database and one S3 store, all
//! real processes on 127.0.0.1, each running sandboxes on its own runtime (runc).

mod common;
use common::Server;

/// A sandbox made through one server is listed, used and deleted through another, which
/// sends the requests that act on it to the server that runs it.
#[test]
fn a_sandbox_made_through_one_server_is_used_and_deleted_through_another() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let id = a.ok(&["sandbox", "create", "--volume", "v:/home/w", "--env", "WHO=through a"]);
    let id = id.trim();
    let listed = b.json(&["sandbox", "list"]);
    assert_eq!(listed[0]["id"], id, "{listed}");
    assert_eq!(b.json(&["sandbox", "get", id])["volumes"][0]["mount_path"], "/home/w");
    assert_eq!(
        b.ok(&["sandbox", "exec", id, "echo $WHO > /home/w/who; hostname"])
            .trim()
            .len(),
        16
    );
    assert_eq!(a.ok(&["fs", "cat", "v:/who"]), "through a\n");
    let local = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(local.path(), b"uploaded through b").unwrap();
    b.ok(&["sandbox", "upload", id, local.path().to_str().unwrap(), "/root/up.txt"]);
    assert_eq!(
        b.ok(&["sandbox", "download", id, "/root/up.txt", "-"]),
        "uploaded through b"
    );
    // The volume it uses cannot be deleted through either server.
    for server in [&a, &b] {
        let (code, err) = server.fails(&["volume", "delete", "v", "--force"]);
        assert_eq!(code, 4, "{err}");
        assert!(err.contains(id), "{err}");
    }
    b.ok(&["sandbox", "delete", id]);
    assert_eq!(a.json(&["sandbox", "list"]), serde_json::json!([]));
    let (code, _) = a.fails(&["sandbox", "get", id]);
    assert_eq!(code, 3);
    // Its container and its mount are gone from a's machine.
    let runtime = a.data_dir().join("sandboxes").join("runtime");
    let containers = std::process::Command::new("runc")
        .arg("--root")
        .arg(&runtime)
        .args(["list", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&containers.stdout).trim(), "");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(a.data_dir().to_str().unwrap()), "{mounts}");
    a.ok(&["volume", "delete", "v"]);
}

/// The organization's limit counts its sandboxes on every server.
#[test]
fn an_organization_has_at_most_its_limit_of_sandboxes_on_all_servers() {
    let a = Server::start_shared(&["--max-sandboxes", "2"]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let first = a.ok(&["sandbox", "create", "--volume", "v:/v"]);
    let second = b.ok(&["sandbox", "create", "--volume", "v:/v"]);
    for server in [&a, &b] {
        let (code, err) = server.fails(&["sandbox", "create", "--volume", "v:/v"]);
        assert_eq!(code, 5, "{err}");
        assert!(err.contains("2 sandboxes"), "{err}");
    }
    // Another organization has its own count.
    a.ok(&["org", "create", "other"]);
    let key = a.ok(&["key", "create", "k", "--org", "other", "--role", "org-admin"]);
    a.ok_as(key.trim(), &["volume", "create", "theirs"]);
    let theirs = b.ok_as(key.trim(), &["sandbox", "create", "--volume", "theirs:/t"]);
    // Nor does one organization see, use or delete another's.
    let (code, _) = a.fails_as(key.trim(), &["sandbox", "exec", first.trim(), "true"]);
    assert_eq!(code, 3);
    assert_eq!(b.json(&["sandbox", "list"]).as_array().unwrap().len(), 2);
    b.ok(&["sandbox", "delete", first.trim()]);
    let third = a.ok(&["sandbox", "create", "--volume", "v:/v"]);
    a.ok(&["sandbox", "delete", third.trim()]);
    a.ok(&["sandbox", "delete", second.trim()]);
    a.ok_as(key.trim(), &["sandbox", "delete", theirs.trim()]);
}
