//! Other users of the server's machine: they read nothing of the server's data folder, and
//! reach a mount only when its owner allowed it (`--allow-other`).

mod common;
use common::Server;
use std::os::unix::fs::PermissionsExt;

#[test]
fn the_data_folder_and_everything_in_it_are_the_servers_alone() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    std::fs::write(&big, vec![7u8; 300_000]).unwrap();
    server.ok(&["fs", "put", big.to_str().unwrap(), "v:/big"]);
    let data = server.data_dir();
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    let mut seen = 0;
    let mut stack = vec![data.clone()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let md = entry.metadata().unwrap();
            assert_eq!(
                md.permissions().mode() & 0o077,
                0,
                "{} is open to others",
                entry.path().display()
            );
            seen += 1;
            if md.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    // The metadata file, the admin key and a block at least.
    assert!(seen >= 3, "{seen}");
}

#[test]
fn a_mount_is_its_owners_unless_it_allows_others() {
    let server = Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let as_nobody = |path: &std::path::Path| {
        std::process::Command::new("runuser")
            .args(["-u", "nobody", "--", "cat"])
            .arg(path)
            .output()
            .unwrap()
    };
    let own = server.mount("v", &[]);
    std::fs::write(own.join("f"), b"shared").unwrap();
    std::fs::set_permissions(own.join("f"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = as_nobody(&own.join("f"));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Permission denied"));
    let open = server.mount("v", &["--allow-other"]);
    let read = as_nobody(&open.join("f"));
    assert_eq!(read.stdout, b"shared", "{}", String::from_utf8_lossy(&read.stderr));
    // The file's own permissions still apply to them.
    std::fs::set_permissions(open.join("f"), std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(!as_nobody(&open.join("f")).status.success());
}
