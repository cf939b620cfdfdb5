//! Random operation sequences applied to a strata mount and to a local directory: every
//! step must fail or succeed alike (same errno), and the trees must end up identical.

mod common;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

const NAMES: [&str; 6] = ["a", "b", "d/a", "d/b", "d/e/a", "e"];
const DIRS: [&str; 3] = ["d", "d/e", "e"];

#[derive(Debug, Clone)]
enum Op {
    Write {
        file: usize,
        offset: u64,
        len: usize,
        byte: u8,
    },
    Append {
        file: usize,
        len: usize,
        byte: u8,
    },
    Truncate {
        file: usize,
        size: u64,
    },
    Rename {
        from: usize,
        to: usize,
    },
    Link {
        from: usize,
        to: usize,
    },
    Unlink {
        file: usize,
    },
    Mkdir {
        dir: usize,
    },
    Rmdir {
        dir: usize,
    },
    RenameDir {
        from: usize,
        to: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let file = 0..NAMES.len();
    let dir = 0..DIRS.len();
    prop_oneof![
        (
            file.clone(),
            prop_oneof![0u64..70_000, (4u64 << 20) - 3000..(4 << 20) + 3000],
            0usize..9000,
            any::<u8>()
        )
            .prop_map(|(file, offset, len, byte)| Op::Write {
                file,
                offset,
                len,
                byte
            }),
        (file.clone(), 0usize..70_000, any::<u8>()).prop_map(|(file, len, byte)| Op::Append { file, len, byte }),
        (
            file.clone(),
            prop_oneof![0u64..70_000, (4u64 << 20) - 10..(4 << 20) + 10]
        )
            .prop_map(|(file, size)| Op::Truncate { file, size }),
        (file.clone(), file.clone()).prop_map(|(from, to)| Op::Rename { from, to }),
        (file.clone(), file.clone()).prop_map(|(from, to)| Op::Link { from, to }),
        file.prop_map(|file| Op::Unlink { file }),
        dir.clone().prop_map(|dir| Op::Mkdir { dir }),
        dir.clone().prop_map(|dir| Op::Rmdir { dir }),
        (dir.clone(), dir).prop_map(|(from, to)| Op::RenameDir { from, to }),
    ]
}

/// Applies one operation under `root`; returns the errno it failed with, if any.
fn apply(root: &Path, op: &Op) -> Option<i32> {
    let p = |rel: &str| root.join(rel);
    let result: std::io::Result<()> = match op {
        Op::Write {
            file,
            offset,
            len,
            byte,
        } => (|| {
            let mut f = fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(p(NAMES[*file]))?;
            f.seek(SeekFrom::Start(*offset))?;
            f.write_all(&vec![*byte; *len])
        })(),
        Op::Append { file, len, byte } => (|| {
            let mut f = fs::OpenOptions::new().create(true).append(true).open(p(NAMES[*file]))?;
            f.write_all(&vec![*byte; *len])
        })(),
        Op::Truncate { file, size } => fs::OpenOptions::new()
            .write(true)
            .open(p(NAMES[*file]))
            .and_then(|f| f.set_len(*size)),
        Op::Rename { from, to } => fs::rename(p(NAMES[*from]), p(NAMES[*to])),
        Op::Link { from, to } => fs::hard_link(p(NAMES[*from]), p(NAMES[*to])),
        Op::Unlink { file } => fs::remove_file(p(NAMES[*file])),
        Op::Mkdir { dir } => fs::create_dir(p(DIRS[*dir])),
        Op::Rmdir { dir } => fs::remove_dir(p(DIRS[*dir])),
        Op::RenameDir { from, to } => fs::rename(p(DIRS[*from]), p(DIRS[*to])),
    };
    result.err().map(|e| e.raw_os_error().unwrap_or(-1))
}

/// Every path below `root` with its type, link count and content hash.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let rel = entry.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let md = fs::symlink_metadata(entry.path()).unwrap();
            if md.is_dir() {
                out.insert(rel, "dir".into());
                walk(root, &entry.path(), out);
            } else {
                let data = fs::read(entry.path()).unwrap();
                let nlink = std::os::unix::fs::MetadataExt::nlink(&md);
                out.insert(
                    rel,
                    format!(
                        "file {} bytes, {nlink} links, {}",
                        data.len(),
                        blake3::hash(&data).to_hex()
                    ),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn mount_behaves_like_a_local_directory() {
    let server = common::Server::start(&[]);
    server.ok(&["volume", "create", "v"]);
    let m = server.mount("v", &[]);
    let local = tempfile::tempdir().unwrap();
    let case = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        // One seed, so every run tries the same cases.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6d6f_756e),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..30), |ops| {
            let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (a, b) = (local.path().join(format!("c{case}")), m.join(&format!("c{case}")));
            fs::create_dir(&a).unwrap();
            fs::create_dir(&b).unwrap();
            for (i, op) in ops.iter().enumerate() {
                prop_assert_eq!(apply(&a, op), apply(&b, op), "step {} {:?}", i, op);
            }
            prop_assert_eq!(snapshot(&a), snapshot(&b));
            Ok(())
        })
        .unwrap();
}
