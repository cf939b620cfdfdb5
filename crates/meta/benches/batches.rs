//! The cost of an owner's batch on each engine: what a mount that owns its tree pays the
//! metadata per file it creates and closes (a create and a write of inline bytes).
//!
//!     cargo bench -p strata-meta --bench batches
//!
//! Prints µs per change for batches of 2,048 changes into one directory, on a real SQLite
//! file and on the PostgreSQL server of `strata_testkit` (the machine's packages).

use std::time::Instant;
use strata_core::api::FileKind;
use strata_core::names::VolumeName;
use strata_meta::*;
use uuid::Uuid;

const BATCHES: u64 = 8;
const FILES_PER_BATCH: u64 = 1024;

fn batch(dir: u64, first_ino: u64, n: u64, by: Uuid) -> Vec<Change> {
    let mut changes = Vec::new();
    for i in 0..FILES_PER_BATCH {
        let ino = first_ino + i;
        changes.push(Change::Create {
            parent: dir,
            name: format!("f{n}-{i}").into_bytes(),
            new: NewInode {
                ino: Some(ino),
                ..NewInode::new(FileKind::File, 0o644)
            },
            by: Some(by),
        });
        let data = vec![b'x'; 200];
        changes.push(Change::Write {
            ino,
            write: WriteChange {
                chunks: vec![Chunk {
                    idx: 0,
                    len: data.len() as u64,
                    data: ChunkData::Inline(data),
                }],
                size: 200,
                grow: true,
                base: Some(Vec::new()),
                uploader: Some(by),
                ..WriteChange::default()
            },
        });
    }
    changes
}

fn run(label: &str, meta: &dyn MetaStore) {
    let vol = meta
        .create_volume("bench", &VolumeName::parse("v").unwrap(), 10)
        .unwrap()
        .id;
    let session = SessionRecord {
        id: Uuid::new_v4(),
        org: "bench".into(),
        volume: vol,
        root_ino: ROOT_INO,
        read_only: false,
        secret: [7; 32],
        created_at: now_ns(),
        alive_until: i64::MAX,
        key: None,
    };
    meta.add_session(&session, u64::MAX).unwrap();
    let dir = meta
        .create(vol.into(), ROOT_INO, b"d", &NewInode::new(FileKind::Directory, 0o755))
        .unwrap()
        .ino;
    let mut per_change = Vec::new();
    for n in 0..BATCHES {
        let first = meta
            .own(session.id, FILES_PER_BATCH, now_ns())
            .unwrap()
            .expect("the session alone on its volume owns it");
        let changes = batch(dir, first, n, session.id);
        let start = Instant::now();
        meta.apply(vol.into(), Some((session.id, n + 1)), &changes).unwrap();
        per_change.push(start.elapsed().as_secs_f64() * 1e6 / changes.len() as f64);
    }
    per_change.sort_by(f64::total_cmp);
    println!(
        "| {label} | {:.1} | {:.1} |",
        per_change[per_change.len() / 2],
        per_change[per_change.len() - 1]
    );
}

fn main() {
    println!("| engine | µs per change, median batch | slowest batch |\n|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &SqliteMeta::open(&dir.path().join("meta.db")).unwrap());
    let url = strata_testkit::postgres().new_database();
    run("PostgreSQL", &*open_url(&url).unwrap());
}
