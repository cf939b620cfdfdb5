//! Forks, snapshots, restore and flattening, against an in-memory model.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use strata_core::api::FileKind;
use strata_core::names::{VolumeName, VolumeRef};
use strata_meta::*;

mod common;
use common::Engine;
use uuid::Uuid;

const ORG: &str = "org";

/// Every file of a volume as `dir/file` → content.
type Files = BTreeMap<String, Vec<u8>>;

/// What a live volume of the model holds, and its latest snapshot.
struct Model {
    id: Uuid,
    files: Files,
    snap: Option<(Uuid, Files)>,
}

fn name(s: &str) -> VolumeName {
    VolumeName::parse(s).unwrap()
}

/// Creates or overwrites `/dir/file` with inline `content`.
fn put(meta: &dyn MetaStore, vol: Uuid, dir: &str, file: &str, content: &[u8]) {
    let d = match meta.lookup(vol.into(), ROOT_INO, dir.as_bytes()) {
        Ok(s) => s.ino,
        Err(_) => {
            meta.create(
                vol.into(),
                ROOT_INO,
                dir.as_bytes(),
                &NewInode::new(FileKind::Directory, 0o755),
            )
            .unwrap()
            .ino
        }
    };
    let f = match meta.lookup(vol.into(), d, file.as_bytes()) {
        Ok(s) => s.ino,
        Err(_) => {
            meta.create(vol.into(), d, file.as_bytes(), &NewInode::new(FileKind::File, 0o644))
                .unwrap()
                .ino
        }
    };
    let chunk = Chunk {
        idx: 0,
        len: content.len() as u64,
        data: ChunkData::Inline(content.to_vec()),
    };
    meta.write_chunks(vol, f, content.len() as u64, &[chunk], true).unwrap();
}

fn tree(meta: &dyn MetaStore, vol: Uuid) -> Files {
    let mut out = BTreeMap::new();
    for (dname, dstat) in meta.readdir(vol, ROOT_INO).unwrap() {
        for (fname, fstat) in meta.readdir(vol, dstat.ino).unwrap() {
            let (_, chunks) = meta.chunks(vol.into(), fstat.ino).unwrap();
            let data = match chunks.first().map(|c| &c.data) {
                Some(ChunkData::Inline(d)) => d.clone(),
                _ => Vec::new(),
            };
            out.insert(
                format!(
                    "{}/{}",
                    String::from_utf8_lossy(&dname),
                    String::from_utf8_lossy(&fname)
                ),
                data,
            );
        }
    }
    out
}

fn snapshots_restore_and_stay_read_only(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap();
    put(meta, v.id, "d", "f", b"monday");
    let snap = meta.snapshot_volume(ORG, v.id, &name("mon"), u64::MAX).unwrap();
    assert_eq!((snap.name.as_str(), snap.snapshot_of), ("v@mon", Some(v.id)));
    put(meta, v.id, "d", "f", b"tuesday");
    put(meta, v.id, "d", "g", b"new");
    assert_eq!(
        tree(meta, snap.id),
        BTreeMap::from([("d/f".into(), b"monday".to_vec())])
    );
    let err = meta
        .create(snap.id.into(), ROOT_INO, b"x", &NewInode::new(FileKind::File, 0o644))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ReadOnly);
    let by_name = VolumeRef::Snapshot(name("v"), name("mon"));
    assert_eq!(meta.get_volume(ORG, &by_name).unwrap().id, snap.id);
    assert_eq!(
        meta.list_volumes(ORG).unwrap().len(),
        1,
        "snapshots are not listed as volumes"
    );
    assert_eq!(meta.list_snapshots(ORG, v.id).unwrap().len(), 1);

    // A fork of the snapshot is writable and independent.
    let f = meta.fork_volume(ORG, snap.id, &name("from-mon"), 10).unwrap();
    put(meta, f.id, "d", "f", b"forked");
    assert_eq!(tree(meta, snap.id)["d/f"], b"monday");

    let restored = meta.restore_volume(ORG, v.id, snap.id).unwrap();
    assert_eq!(tree(meta, v.id), tree(meta, snap.id));
    assert_eq!(restored.file_count, snap.file_count);
    put(meta, v.id, "d", "f", b"after restore");
    assert_eq!(tree(meta, snap.id)["d/f"], b"monday");

    meta.delete_volume(ORG, v.id).unwrap();
    assert_eq!(
        meta.get_volume(ORG, &by_name).unwrap_err().kind,
        ErrorKind::NotFound,
        "snapshots go with their volume"
    );
    meta.collect_layers().unwrap();
    assert_eq!(tree(meta, f.id)["d/f"], b"forked", "forks live on");
}

fn flattening_keeps_chains_short_and_content_equal(e: &Engine) {
    let meta = &*e.meta;
    let mut vol = meta.create_volume(ORG, &name("v0"), 100).unwrap().id;
    put(meta, vol, "d", "keep", b"0");
    put(meta, vol, "d", "gone", b"0");
    for i in 1..=32 {
        let fork = meta.fork_volume(ORG, vol, &name(&format!("v{i}")), 100).unwrap().id;
        put(meta, fork, "d", &format!("f{i}"), format!("{i}").as_bytes());
        if i == 10 {
            let d = meta.lookup(fork.into(), ROOT_INO, b"d").unwrap().ino;
            meta.unlink(fork.into(), d, b"gone").unwrap();
        }
        vol = fork;
    }
    assert_eq!(meta.chain_depth(vol).unwrap(), 33);
    let before = tree(meta, vol);
    assert!(!before.contains_key("d/gone"));
    assert!(meta.flatten_volume(vol, 8).unwrap());
    assert_eq!(meta.chain_depth(vol).unwrap(), 2);
    assert_eq!(tree(meta, vol), before);
    assert!(!meta.flatten_volume(vol, 8).unwrap(), "nothing left to do");
    put(meta, vol, "d", "later", b"x");
    assert_eq!(tree(meta, vol).len(), before.len() + 1);
}

#[derive(Debug, Clone)]
enum Op {
    Put { vol: usize, file: usize, byte: u8 },
    Delete { vol: usize, file: usize },
    Fork { vol: usize },
    Snapshot { vol: usize },
    Restore { vol: usize },
    Flatten { vol: usize },
    DeleteVolume { vol: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let v = 0usize..6;
    prop_oneof![
        4 => (v.clone(), 0usize..4, any::<u8>()).prop_map(|(vol, file, byte)| Op::Put { vol, file, byte }),
        2 => (v.clone(), 0usize..4).prop_map(|(vol, file)| Op::Delete { vol, file }),
        2 => v.clone().prop_map(|vol| Op::Fork { vol }),
        1 => v.clone().prop_map(|vol| Op::Snapshot { vol }),
        1 => v.clone().prop_map(|vol| Op::Restore { vol }),
        1 => v.clone().prop_map(|vol| Op::Flatten { vol }),
        1 => v.prop_map(|vol| Op::DeleteVolume { vol }),
    ]
}

fn random_operations_across_a_tree_of_forks_match_a_model(e: &Engine) {
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..60), |ops| {
            let fresh = e.fresh();
            let meta = &*fresh.meta;
            // The model: per live volume, its files; and its latest snapshot.
            let mut vols: Vec<Model> = Vec::new();
            let first = meta.create_volume(ORG, &name("root"), 1000).unwrap().id;
            vols.push(Model {
                id: first,
                files: BTreeMap::new(),
                snap: None,
            });
            for (step, op) in ops.iter().enumerate() {
                let pick = |i: usize| i % vols.len();
                match *op {
                    Op::Put { vol, file, byte } => {
                        let i = pick(vol);
                        let content = vec![byte; 1 + file];
                        put(meta, vols[i].id, "d", &format!("f{file}"), &content);
                        vols[i].files.insert(format!("d/f{file}"), content);
                    }
                    Op::Delete { vol, file } => {
                        let i = pick(vol);
                        let removed = vols[i].files.remove(&format!("d/f{file}")).is_some();
                        if removed {
                            let d = meta.lookup(Reach::from(vols[i].id), ROOT_INO, b"d").unwrap().ino;
                            meta.unlink(Reach::from(vols[i].id), d, format!("f{file}").as_bytes())
                                .unwrap();
                        }
                    }
                    Op::Fork { vol } => {
                        let i = pick(vol);
                        let fork = meta
                            .fork_volume(ORG, vols[i].id, &name(&format!("s{step}")), 1000)
                            .unwrap()
                            .id;
                        let files = vols[i].files.clone();
                        vols.push(Model {
                            id: fork,
                            files,
                            snap: None,
                        });
                    }
                    Op::Snapshot { vol } => {
                        let i = pick(vol);
                        let snap = meta
                            .snapshot_volume(ORG, vols[i].id, &name(&format!("s{step}")), u64::MAX)
                            .unwrap()
                            .id;
                        vols[i].snap = Some((snap, vols[i].files.clone()));
                    }
                    Op::Restore { vol } => {
                        let i = pick(vol);
                        if let Some((snap, files)) = vols[i].snap.clone() {
                            meta.restore_volume(ORG, vols[i].id, snap).unwrap();
                            vols[i].files = files;
                        }
                    }
                    Op::Flatten { vol } => {
                        meta.flatten_volume(vols[pick(vol)].id, 3).unwrap();
                    }
                    Op::DeleteVolume { vol } => {
                        if vols.len() > 1 {
                            let id = vols.remove(pick(vol)).id;
                            meta.delete_volume(ORG, id).unwrap();
                            meta.collect_layers().unwrap();
                        }
                    }
                }
                for Model { id, files, snap } in &vols {
                    prop_assert_eq!(&tree(meta, *id), files, "volume after step {} {:?}", step, op);
                    if let Some((snap, files)) = snap {
                        prop_assert_eq!(&tree(meta, *snap), files, "snapshot after step {} {:?}", step, op);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

on_every_engine!(
    snapshots_restore_and_stay_read_only,
    flattening_keeps_chains_short_and_content_equal,
    random_operations_across_a_tree_of_forks_match_a_model
);
