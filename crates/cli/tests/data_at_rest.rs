//! Data at rest: what the store keeps for the files written through mounts and the files
//! API, compressed or not, on the stack the run asks for.

mod common;
use common::{Server, random_file};
use std::path::{Path, PathBuf};

/// Every Rust source file of this repository (1.5 MB in about 150 files).
fn source_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (mut found, mut dirs) = (Vec::new(), vec![root]);
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("target") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Copies the source tree into a mount of `volume`, flat, each file starting with a line
/// naming the volume (so that two copies share no block), then makes every file durable
/// (fsync); returns its bytes.
fn copy_sources(server: &Server, volume: &str) -> u64 {
    let m = server.mount(volume, &[]);
    let mut total = 0;
    let files = source_files();
    for (i, path) in files.iter().enumerate() {
        let mut bytes = format!("// {volume}\n").into_bytes();
        bytes.extend(std::fs::read(path).unwrap());
        total += bytes.len() as u64;
        std::fs::write(m.join(&format!("{i}.rs")), &bytes).unwrap();
    }
    for i in 0..files.len() {
        std::fs::File::open(m.join(&format!("{i}.rs")))
            .unwrap()
            .sync_all()
            .unwrap();
    }
    total
}

/// A source tree written through a mount takes at most 0.4 of its size in the store (the
/// same tree takes all of it with compression off), and `volume get --usage` says so;
/// random bytes are kept as they are, not inflated. Small files go to the store too here
/// (`--pack-from 1`), so none hide in the metadata.
#[test]
fn a_source_tree_is_stored_compressed_and_random_bytes_are_not_inflated() {
    let server = Server::start(&["--pack-from", "1"]);
    server.ok(&["volume", "create", "plain"]);
    let set = server.json(&["volume", "set", "plain", "--compression", "off"]);
    assert_eq!(set["compression"], "off");
    let logical = copy_sources(&server, "plain");
    let (_, plain_stored) = server.store_usage();
    eprintln!("source tree: {logical} bytes, stored with compression off: {plain_stored}");
    // Most of it reaches the store: a small file a mount ships outside a batch, or past a
    // pack's 4 MiB, stays in the metadata.
    assert!(
        plain_stored as f64 >= 0.8 * logical as f64,
        "{plain_stored} of {logical}"
    );

    server.ok(&["volume", "create", "src"]);
    let logical = copy_sources(&server, "src");
    let (_, both) = server.store_usage();
    let stored = both - plain_stored;
    eprintln!("stored with zstd:3: {stored} ({:.2}×)", stored as f64 / logical as f64);
    assert!((stored as f64) <= 0.4 * logical as f64, "{stored} of {logical}");
    let shown = server.json(&["volume", "get", "src", "--usage"]);
    let (bytes, kept) = (
        shown["store"]["bytes"].as_u64().unwrap(),
        shown["store"]["stored_bytes"].as_u64().unwrap(),
    );
    assert!(
        bytes as f64 >= 0.8 * logical as f64 && (kept as f64) <= 0.4 * bytes as f64,
        "{shown}"
    );
    assert!(server.ok(&["volume", "get", "src", "--usage"]).contains("stored (0."));

    // Random bytes, through the files API and a mount: stored as they are.
    let dir = tempfile::tempdir().unwrap();
    let (random, hash) = random_file(dir.path(), "r", 9 << 20, 11);
    server.ok(&["fs", "put", random.to_str().unwrap(), "src:/random"]);
    let (_, with_random) = server.store_usage();
    let headers = 3 * (24 + 4 * 64);
    assert!(with_random - both <= (9 << 20) + headers, "{}", with_random - both);
    let back = dir.path().join("back");
    server.ok(&["fs", "get", "src:/random", back.to_str().unwrap()]);
    assert_eq!(common::hash_file(&back), hash);
    // Every block reads back whole; one damaged in the store is reported by its name.
    let report = server.json(&["fsck", "--blocks"]);
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
    let read = report["blocks_read"].as_u64().unwrap();
    assert!(read >= 3, "{report}");
    let objects = server.stored_objects();
    let (name, bytes) = objects
        .iter()
        .filter(|(name, _)| name.contains("blocks/"))
        .max_by_key(|(_, b)| b.len())
        .unwrap();
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x5a;
    server.overwrite_stored(name, damaged);
    let (code, err) = server.fails(&["fsck", "--blocks"]);
    assert_eq!(code, 1, "{err}");
    let out = server.cli(&["fsck", "--blocks", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    let hex = name.rsplit('/').next().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["kind"], "damaged_block", "{report}");
    assert!(problems[0]["detail"].as_str().unwrap().contains(hex), "{report}");
    assert_eq!(report["blocks_read"].as_u64(), Some(read - 1));
    server.overwrite_stored(name, bytes.clone());

    for bad in ["lz4", "zstd:10", "zstd:0", "zstd:-1", ""] {
        let (code, err) = server.fails(&["volume", "set", "src", "--compression", bad]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("compression"), "{err}");
    }
    // A tenant's scoped token neither sets a volume's compression nor walks its usage.
    let tenant = server.ok(&["token", "create", "--volume", "src"]);
    let attempts: [&[&str]; 2] = [
        &["volume", "set", "src", "--compression", "off"],
        &["volume", "get", "src", "--usage"],
    ];
    for args in attempts {
        let (code, err) = server.fails_as(tenant.trim(), args);
        assert_eq!(code, 5, "{args:?}: {err}");
    }
    assert_eq!(
        server.json(&["volume", "set", "src", "--compression", "zstd:9"])["compression"],
        "zstd:9"
    );
    assert!(server.json(&["volume", "set", "src", "--compression", "default"])["compression"].is_null());
}

/// An organization that encrypts keeps no byte of its files in clear in the store (blocks,
/// piece values and packs of small files alike), under names unrelated to another's for the
/// same file; its files read back through mounts and the files API. A new data key encrypts
/// new blocks while the old ones read on, and a re-encryption pass rewrites those. A server
/// without the master key, or with another, fails reads with an error that says so.
#[test]
fn an_organizations_blocks_are_encrypted_under_names_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, format!("{}\n", "3c".repeat(32))).unwrap();
    let key_arg = key_file.to_str().unwrap();
    let mut server = Server::start(&["--pack-from", "1", "--master-key-file", key_arg]);
    let marker = "STRATA-CLEAR-MARKER-0123456789";
    let content = format!("{marker}\n").repeat(20_000); // 620 KB: a block of 10 pieces
    let small = format!("{marker} small\n");
    let mut keys = Vec::new();
    for org in ["acme", "globex"] {
        server.ok(&["org", "create", org]);
        let encrypted = server.json(&["org", "encrypt", org]);
        assert_eq!(encrypted["data_key"], 1, "{encrypted}");
        let key = server.ok(&["key", "create", "k", "--org", org, "--role", "org-admin"]);
        let key = key.trim().to_owned();
        server.ok_as(&key, &["volume", "create", "v"]);
        let m = server.mount_as(&key, "v", &[]);
        std::fs::write(m.join("big.txt"), &content).unwrap();
        std::fs::write(m.join("small.txt"), &small).unwrap();
        for name in ["big.txt", "small.txt"] {
            std::fs::File::open(m.join(name)).unwrap().sync_all().unwrap();
        }
        assert_eq!(std::fs::read_to_string(m.join("big.txt")).unwrap(), content);
        common::umount(&m);
        keys.push(key);
    }
    let (code, err) = server.fails(&["org", "encrypt", "acme"]);
    assert_eq!(code, 4, "{err}");

    let objects = server.stored_objects();
    assert!(objects.len() >= 4, "{} objects", objects.len());
    for (name, bytes) in &objects {
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "{name} holds clear bytes"
        );
    }
    // The same file, in two organizations: two objects with unrelated names.
    let hash = blake3::hash(content.as_bytes()).to_hex().to_string();
    assert!(
        objects.iter().all(|(name, _)| !name.contains(&hash)),
        "no block is named by its hash"
    );

    // Read back: through the files API, a fresh mount, with `fsck --blocks`.
    let read = |server: &Server, key: &str| server.ok_as(key, &["fs", "cat", "v:/big.txt"]);
    assert_eq!(read(&server, &keys[0]), content);
    let report = server.json(&["fsck", "--blocks"]);
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");

    // A new data key: new blocks use it, old ones read on; the pass rewrites them.
    let rotated = server.json(&["org", "rotate-key", "acme"]);
    assert_eq!(rotated["data_key"], 2, "{rotated}");
    let file = dir.path().join("new.txt");
    std::fs::write(&file, format!("{marker} after rotation\n").repeat(10_000)).unwrap();
    server.ok_as(&keys[0], &["fs", "put", file.to_str().unwrap(), "v:/new.txt"]);
    assert_eq!(read(&server, &keys[0]), content);
    let pass = server.json(&["org", "reencrypt", "acme"]);
    assert_eq!(
        (pass["data_key"].as_u64(), pass["current"].as_u64()),
        (Some(2), Some(1)),
        "{pass}"
    );
    assert!(pass["rewritten"].as_u64().unwrap() >= 2, "{pass}");
    let again = server.json(&["org", "reencrypt", "acme"]);
    assert_eq!(again["rewritten"], 0, "{again}");
    assert_eq!(read(&server, &keys[0]), content);

    // Another master key, then none: reads fail, saying why; the right one reads again.
    std::fs::write(&key_file, "4d".repeat(32)).unwrap();
    server.stop(libc::SIGTERM);
    server.restart();
    let (code, err) = server.fails_as(&keys[0], &["fs", "cat", "v:/big.txt"]);
    assert_ne!(code, 0);
    assert!(err.contains("master key does not open organization acme"), "{err}");
    server.stop(libc::SIGTERM);
    server.restart_with(&["--pack-from", "1"]);
    let (code, err) = server.fails_as(&keys[1], &["fs", "cat", "v:/big.txt"]);
    assert_ne!(code, 0);
    assert!(err.contains("no master key"), "{err}");
    // Nor can it make an organization encrypt: a refusal, not a server error.
    server.ok(&["org", "create", "initech"]);
    let (code, err) = server.fails(&["org", "encrypt", "initech"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no master key"), "{err}");
    server.ok(&["volume", "list"]);
    std::fs::write(&key_file, "3c".repeat(32)).unwrap();
    server.stop(libc::SIGTERM);
    server.restart_with(&["--pack-from", "1", "--master-key-file", key_arg]);
    assert_eq!(read(&server, &keys[1]), content);
    let (code, err) = server.fails(&["server", "--master-key-file", "/nonexistent/key"]);
    assert_ne!(code, 0, "{err}");
}
