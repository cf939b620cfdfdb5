//! Forks, snapshots, restore, flattening, history, promote and merge, against an in-memory
//! model of timestamps and trees.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use strata_core::api::{Change, FileKind, Prefer};
use strata_core::names::{VolumeName, VolumeRef};
use strata_meta::*;

mod common;
use common::Engine;
use uuid::Uuid;

const ORG: &str = "org";

/// Every file of a volume as `dir/file` → content.
type Files = BTreeMap<String, Vec<u8>>;

/// What a live volume of the model holds, its latest snapshot, what it held at each instant
/// after a step, and for a fork, its source and what it held when forked (its merge base).
#[derive(Clone)]
struct Model {
    id: Uuid,
    files: Files,
    snap: Option<(Uuid, Files)>,
    timeline: Vec<(i64, Files)>,
    source: Option<Uuid>,
    base: Files,
}

impl Model {
    fn new(id: Uuid, files: Files) -> Model {
        Model {
            id,
            files,
            snap: None,
            timeline: Vec::new(),
            source: None,
            base: Files::new(),
        }
    }
}

/// The three-way merge of `fork` into `volume` against `base` (trees of `DIR/` and
/// `DIR/FILE` keys): a directory on both sides is merged file by file, anything else is
/// taken or left whole. Returns the tree after it, and whether any path conflicts.
fn merged(base: &Files, fork: &Files, volume: &Files, prefer_fork: Option<bool>) -> (Files, bool) {
    let mut out = volume.clone();
    let mut conflict = false;
    // Decides one path (a file, or a whole directory as the map of its keys).
    let mut decide = |b: Files, f: Files, v: Files, out: &mut Files| {
        if f == b || f == v {
            return;
        }
        if v != b {
            conflict = true;
            if prefer_fork != Some(true) {
                return;
            }
        }
        for key in v.keys() {
            out.remove(key);
        }
        out.extend(f);
    };
    let within = |tree: &Files, prefix: &str| -> Files {
        tree.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let dirs: std::collections::BTreeSet<String> = [base, fork, volume]
        .iter()
        .flat_map(|t| t.keys().filter(|k| k.ends_with('/')).cloned())
        .collect();
    for dir in dirs {
        let (b, f, v) = (within(base, &dir), within(fork, &dir), within(volume, &dir));
        if !f.is_empty() && !v.is_empty() {
            let files: std::collections::BTreeSet<&String> = b
                .keys()
                .chain(f.keys())
                .chain(v.keys())
                .filter(|k| !k.ends_with('/'))
                .collect();
            for file in files {
                let one = |t: &Files| -> Files { t.get(file).map(|c| (file.clone(), c.clone())).into_iter().collect() };
                decide(one(&b), one(&f), one(&v), &mut out);
            }
        } else {
            decide(b, f, v, &mut out);
        }
    }
    (out, conflict)
}

/// The diff of two model trees: a directory on one side only is one entry.
fn model_diff(from: &Files, to: &Files) -> Vec<(String, Change)> {
    let keys: std::collections::BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let dir = key.split('/').next().unwrap_or_default();
        let one_sided = |t: &Files| !t.contains_key(&format!("{dir}/"));
        let is_dir = key.ends_with('/');
        if !is_dir && (one_sided(from) || one_sided(to)) {
            continue;
        }
        let change = match (from.get(key), to.get(key)) {
            (Some(_), None) => Change::Removed,
            (None, Some(_)) => Change::Added,
            (Some(x), Some(y)) if x != y => Change::Changed,
            _ => continue,
        };
        out.push((format!("/{}", key.trim_end_matches('/')), change));
    }
    out
}

fn diff_of(meta: &dyn MetaStore, from: Uuid, to: Uuid) -> Vec<(String, Change)> {
    meta.diff(from, to)
        .unwrap()
        .into_iter()
        .map(|e| (e.path, e.change))
        .collect()
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

/// [`tree`] with a `DIR/` key for every directory.
fn listing(meta: &dyn MetaStore, vol: Uuid) -> Files {
    let mut out = tree(meta, vol);
    for (dname, _) in meta.readdir(vol, ROOT_INO).unwrap() {
        out.insert(format!("{}/", String::from_utf8_lossy(&dname)), Vec::new());
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

/// Lookups ask only the layers whose filter may hold the key (`layer_filter.rs`); a layer
/// with more rows than a filter keeps (16,384) is asked for every key. Both kinds of layer,
/// under a small one that changed and removed a file, answer every lookup, and so does the
/// one layer a flatten merges them into, in steps of about 1,000 rows (inodes and chunks).
fn layers_too_big_to_filter_are_read_for_every_key(e: &Engine) {
    const FILES: u64 = 17_000;
    const BATCH: u64 = 1_000;
    let meta = &*e.meta;
    let vol = meta.create_volume(ORG, &name("big"), 100).unwrap().id;
    let session = common::session_on(vol, false);
    meta.add_session(&session, u64::MAX).unwrap();
    let dir = meta
        .create(vol.into(), ROOT_INO, b"d", &NewInode::new(FileKind::Directory, 0o755))
        .unwrap()
        .ino;
    for n in 0..FILES / BATCH {
        let first = meta.own(session.id, BATCH, now_ns()).unwrap().expect("owns its volume");
        let mut changes = Vec::new();
        for i in 0..BATCH {
            let (ino, file) = (first + i, n * BATCH + i);
            changes.push(strata_meta::Change::Create {
                parent: dir,
                name: format!("f{file}").into_bytes(),
                new: NewInode {
                    ino: Some(ino),
                    ..NewInode::new(FileKind::File, 0o644)
                },
                by: Some(session.id),
            });
            let data = format!("{file}").into_bytes();
            changes.push(strata_meta::Change::Write {
                ino,
                write: WriteChange {
                    size: data.len() as u64,
                    grow: true,
                    base: Some(Vec::new()),
                    uploader: Some(session.id),
                    chunks: vec![Chunk {
                        idx: 0,
                        len: data.len() as u64,
                        data: ChunkData::Inline(data),
                    }],
                    ..WriteChange::default()
                },
            });
        }
        meta.apply(vol.into(), Some((session.id, n + 1)), &changes).unwrap();
    }
    meta.remove_session(session.id).unwrap();
    // big (frozen, unfiltered) <- small (frozen, filtered: one chmod) <- head
    let small = meta.fork_volume(ORG, vol, &name("small"), 100).unwrap().id;
    let changed = meta.lookup(small.into(), dir, b"f16999").unwrap().ino;
    let chmod = AttrChanges {
        mode: Some(0o600),
        ..AttrChanges::default()
    };
    meta.setattr(small.into(), changed, &chmod).unwrap();
    meta.unlink(small.into(), dir, b"f5").unwrap();
    let top = meta.fork_volume(ORG, small, &name("top"), 100).unwrap().id;
    let check = |depth: usize| {
        assert_eq!(meta.chain_depth(top).unwrap(), depth);
        for (file, mode) in [("f0", 0o644), ("f8500", 0o644), ("f16998", 0o644), ("f16999", 0o600)] {
            let stat = meta.lookup(top.into(), dir, file.as_bytes()).unwrap();
            assert_eq!(stat.mode & 0o777, mode, "{file}");
            assert_eq!(meta.getattr(top.into(), stat.ino).unwrap().mode & 0o777, mode, "{file}");
            let chunks = meta.chunks(top.into(), stat.ino).unwrap().1;
            assert!(matches!(&chunks[..], [Chunk { data: ChunkData::Inline(d), .. }] if d == &file.as_bytes()[1..]));
        }
        assert!(meta.lookup(top.into(), dir, b"f5").is_err(), "f5 was removed");
        let listed = meta.readdir(top, dir).unwrap();
        assert_eq!(listed.len() as u64, FILES - 1);
        assert!(listed.iter().all(|(name, _)| name != b"f5"));
    };
    check(3);
    assert!(meta.flatten_volume(top, 2).unwrap());
    check(2);
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
    ReadMoment { vol: usize, back: usize },
    RestoreTo { vol: usize, back: usize },
    Promote { vol: usize },
    Merge { vol: usize, prefer: Option<bool> },
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
        1 => v.clone().prop_map(|vol| Op::DeleteVolume { vol }),
        1 => (v.clone(), 0usize..8).prop_map(|(vol, back)| Op::ReadMoment { vol, back }),
        1 => (v.clone(), 0usize..8).prop_map(|(vol, back)| Op::RestoreTo { vol, back }),
        1 => v.clone().prop_map(|vol| Op::Promote { vol }),
        1 => (v, proptest::option::of(any::<bool>())).prop_map(|(vol, prefer)| Op::Merge { vol, prefer }),
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
            // Every change a point of history.
            meta.set_history(3_600_000_000_000, 0);
            // The model: per live volume, its files; and its latest snapshot.
            let mut vols: Vec<Model> = Vec::new();
            let first = meta.create_volume(ORG, &name("root"), 1000).unwrap().id;
            vols.push(Model::new(first, Files::new()));
            for (step, op) in ops.iter().enumerate() {
                let pick = |i: usize| i % vols.len();
                match *op {
                    Op::Put { vol, file, byte } => {
                        let i = pick(vol);
                        let content = vec![byte; 1 + file];
                        put(meta, vols[i].id, "d", &format!("f{file}"), &content);
                        vols[i].files.insert(format!("d/f{file}"), content);
                        vols[i].files.insert("d/".into(), Vec::new());
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
                        let mut model = Model::new(fork, files.clone());
                        // A fork of a fork is merged into and promoted over its source.
                        model.source = Some(vols[i].id);
                        model.base = files;
                        vols.push(model);
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
                    Op::ReadMoment { vol, back } | Op::RestoreTo { vol, back } => {
                        let i = pick(vol);
                        let line = &vols[i].timeline;
                        if line.is_empty() {
                            continue;
                        }
                        let (at, files) = line[line.len() - 1 - back % line.len()].clone();
                        let vname = meta.get_volume(ORG, &VolumeRef::Id(vols[i].id)).unwrap().name;
                        let moment = VolumeRef::Moment(name(&vname), strata_core::names::Moment::At(at));
                        let pinned = meta.get_volume(ORG, &moment).unwrap();
                        prop_assert_eq!(
                            diff_of(meta, pinned.id, vols[i].id),
                            model_diff(&files, &vols[i].files),
                            "diff of moment {} and its volume at step {}",
                            at,
                            step
                        );
                        prop_assert_eq!(
                            &listing(meta, pinned.id),
                            &files,
                            "moment {} of {} at step {}",
                            at,
                            vname,
                            step
                        );
                        if matches!(op, Op::RestoreTo { .. }) {
                            meta.restore_volume(ORG, vols[i].id, pinned.id).unwrap();
                            vols[i].files = files;
                        }
                    }
                    Op::Promote { vol } => {
                        let i = pick(vol);
                        let Some(s) = vols[i].source.and_then(|s| vols.iter().position(|m| m.id == s)) else {
                            continue;
                        };
                        meta.promote_volume(ORG, vols[i].id, &name(&format!("p{step}")), u64::MAX)
                            .unwrap();
                        vols[s].files = vols[i].files.clone();
                        vols[i].base = vols[i].files.clone();
                    }
                    Op::Merge { vol, prefer } => {
                        let i = pick(vol);
                        let Some(s) = vols[i].source.and_then(|s| vols.iter().position(|m| m.id == s)) else {
                            continue;
                        };
                        let prefer_side = prefer.map(|fork| if fork { Prefer::Fork } else { Prefer::Volume });
                        let report = meta.merge_fork(ORG, vols[i].id, None, prefer_side, false).unwrap();
                        let (files, conflict) = merged(&vols[i].base, &vols[i].files, &vols[s].files, prefer);
                        prop_assert_eq!(!report.conflicts.is_empty(), conflict, "conflicts at step {}", step);
                        prop_assert_eq!(report.applied, !conflict || prefer.is_some());
                        if report.applied {
                            vols[s].files = files;
                        }
                    }
                    Op::DeleteVolume { vol } => {
                        if vols.len() > 1 {
                            let id = vols.remove(pick(vol)).id;
                            meta.delete_volume(ORG, id).unwrap();
                            meta.collect_layers().unwrap();
                        }
                    }
                }
                let now = now_ns();
                for model in &mut vols {
                    model.timeline.push((now, model.files.clone()));
                }
                for pair in vols.windows(2) {
                    prop_assert_eq!(
                        diff_of(meta, pair[0].id, pair[1].id),
                        model_diff(&pair[0].files, &pair[1].files),
                        "diff after step {} {:?}",
                        step,
                        op
                    );
                }
                for Model { id, files, snap, .. } in &vols {
                    prop_assert_eq!(&listing(meta, *id), files, "volume after step {} {:?}", step, op);
                    if let Some((snap, files)) = snap {
                        prop_assert_eq!(&listing(meta, *snap), files, "snapshot after step {} {:?}", step, op);
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
    layers_too_big_to_filter_are_read_for_every_key,
    random_operations_across_a_tree_of_forks_match_a_model
);
