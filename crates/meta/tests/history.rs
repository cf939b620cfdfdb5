//! A volume's history on both engines: moments read as they were, restored, forked, kept
//! through flattening and collection, and forgotten when the volume keeps none.

use strata_core::api::{AttrChanges, Change, FileKind, Prefer};
use strata_core::names::{Moment, VolumeName, VolumeRef};
use strata_meta::*;
use uuid::Uuid;

mod common;
use common::Engine;

const ORG: &str = "org";
const HOUR: i64 = 3_600_000_000_000;

fn name(s: &str) -> VolumeName {
    VolumeName::parse(s).unwrap()
}

/// The bytes of `/NAME`, or `None` when there is no such file.
fn read(meta: &dyn MetaStore, vol: Uuid, file: &str) -> Option<Vec<u8>> {
    let ino = meta.lookup(vol.into(), ROOT_INO, file.as_bytes()).ok()?.ino;
    let (_, chunks) = meta.chunks(vol.into(), ino).unwrap();
    Some(chunks.iter().fold(Vec::new(), |mut all, c| {
        if let ChunkData::Inline(d) = &c.data {
            all.extend_from_slice(d)
        }
        all
    }))
}

fn write(meta: &dyn MetaStore, vol: Uuid, file: &str, bytes: &[u8]) {
    let ino = match meta.lookup(vol.into(), ROOT_INO, file.as_bytes()) {
        Ok(stat) => stat.ino,
        Err(_) => {
            meta.create(
                vol.into(),
                ROOT_INO,
                file.as_bytes(),
                &NewInode::new(FileKind::File, 0o644),
            )
            .unwrap()
            .ino
        }
    };
    let chunk = Chunk {
        idx: 0,
        len: bytes.len() as u64,
        data: ChunkData::Inline(bytes.to_vec()),
    };
    meta.write_chunks(vol, ino, chunk.len, &[chunk], true).unwrap();
}

fn moment(meta: &dyn MetaStore, vol: &str, at: i64) -> Result<Volume> {
    meta.get_volume(ORG, &VolumeRef::Moment(name(vol), Moment::At(at)))
}

fn names(meta: &dyn MetaStore, vol: Uuid) -> Vec<String> {
    meta.readdir(vol, ROOT_INO)
        .unwrap()
        .into_iter()
        .map(|(n, _)| String::from_utf8(n).unwrap())
        .collect()
}

use strata_core::api::Volume;

fn moments_read_as_they_were_and_restore_atomically(e: &Engine) {
    let meta = &*e.meta;
    meta.set_history(HOUR, 0);
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    write(meta, v, "a", b"one");
    let t1 = now_ns();
    write(meta, v, "a", b"two");
    write(meta, v, "b", b"bee");
    let a = meta.lookup(v.into(), ROOT_INO, b"a").unwrap().ino;
    meta.set_xattr(v.into(), a, b"user.k", b"x", XattrMode::Any).unwrap();
    let t2 = now_ns();
    meta.unlink(v.into(), ROOT_INO, b"a").unwrap();
    meta.create(v.into(), ROOT_INO, b"d", &NewInode::new(FileKind::Directory, 0o755))
        .unwrap();
    let t3 = now_ns();

    let m1 = moment(meta, "v", t1).unwrap();
    assert!(m1.moment_at.is_some_and(|at| at <= t1), "{m1:?}");
    assert!(m1.name.starts_with("v@") && m1.name.len() > 20, "{}", m1.name);
    assert_eq!(read(meta, m1.id, "a").as_deref(), Some(&b"one"[..]));
    assert_eq!(names(meta, m1.id), ["a"]);
    assert_eq!((m1.used_bytes, m1.file_count), (3, 1));
    let m2 = moment(meta, "v", t2).unwrap();
    assert_eq!(read(meta, m2.id, "a").as_deref(), Some(&b"two"[..]));
    assert_eq!(names(meta, m2.id), ["a", "b"]);
    let a2 = meta.lookup(m2.id.into(), ROOT_INO, b"a").unwrap().ino;
    assert_eq!(meta.get_xattr(m2.id.into(), a2, b"user.k").unwrap(), b"x");
    assert!(meta.get_xattr(m1.id.into(), a2, b"user.k").is_err());
    assert_eq!(names(meta, v), ["b", "d"]);
    // Naming the same instant again finds the same pinned moment; moments are no snapshots.
    assert_eq!(moment(meta, "v", t1).unwrap().id, m1.id);
    assert!(meta.list_snapshots(ORG, v).unwrap().is_empty());
    // A moment is read-only.
    let refused = meta.create(m1.id.into(), ROOT_INO, b"x", &NewInode::new(FileKind::File, 0o644));
    assert_eq!(refused.unwrap_err().kind, ErrorKind::ReadOnly);

    // Restoring to t1 is one change; the tree before it stays in history.
    meta.restore_volume(ORG, v, m1.id).unwrap();
    assert_eq!(read(meta, v, "a").as_deref(), Some(&b"one"[..]));
    assert_eq!(names(meta, v), ["a"]);
    let m3 = moment(meta, "v", t3).unwrap();
    assert_eq!(names(meta, m3.id), ["b", "d"]);
    assert_eq!(read(meta, m3.id, "b").as_deref(), Some(&b"bee"[..]));

    // A fork of a moment is a volume like any other, apart from its source.
    let f = meta.fork_volume(ORG, m2.id, &name("f"), 10).unwrap().id;
    write(meta, f, "a", b"fork");
    assert_eq!(read(meta, f, "a").as_deref(), Some(&b"fork"[..]));
    assert_eq!(read(meta, m2.id, "a").as_deref(), Some(&b"two"[..]));
    assert_eq!(read(meta, v, "a").as_deref(), Some(&b"one"[..]));

    // The windows of changes, newest first.
    let points = meta.history(ORG, v, 100).unwrap();
    assert!(points.len() >= 5, "{points:?}");
    assert!(points.windows(2).all(|w| w[0].before > w[1].before));
    assert!(points.iter().any(|p| p.bytes == 3 && p.changes >= 1));
}

fn moments_survive_flattening_and_collection(e: &Engine) {
    let meta = &*e.meta;
    meta.set_history(HOUR, 0);
    let v = meta.create_volume(ORG, &name("v"), 100).unwrap().id;
    let mut times = Vec::new();
    for i in 0..6 {
        write(meta, v, "f", format!("v{i}").as_bytes());
        write(meta, v, &format!("g{i}"), b"g");
        times.push(now_ns());
        // Forks freeze the head under the volume, so its chain grows.
        meta.fork_volume(ORG, v, &name(&format!("fork{i}")), 100).unwrap();
    }
    assert!(meta.flatten_volume(v, 2).unwrap());
    meta.collect_layers().unwrap();
    for (i, t) in times.iter().enumerate() {
        let m = moment(meta, "v", *t).unwrap();
        assert_eq!(read(meta, m.id, "f"), Some(format!("v{i}").into_bytes()), "moment {i}");
        assert_eq!(names(meta, m.id).len(), i + 2, "moment {i}");
    }
    // A volume that keeps no history forgets it at the next collection.
    meta.set_volume_history(ORG, v, Some(0)).unwrap();
    let refused = moment(meta, "v", times[0]).unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("time"), "{refused:?}");
    meta.collect_layers().unwrap();
    assert!(meta.history(ORG, v, 100).unwrap().is_empty());
    assert_eq!(read(meta, v, "f").as_deref(), Some(&b"v5"[..]));
}

fn a_moment_inside_a_window_reads_as_the_window_began(e: &Engine) {
    let meta = &*e.meta;
    // One window for everything this test writes.
    meta.set_history(HOUR, HOUR);
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    write(meta, v, "a", b"one");
    let t0 = now_ns();
    write(meta, v, "a", b"two");
    let t1 = now_ns();
    // Between two writes of a window: the volume as the window began, before both.
    let m = moment(meta, "v", t0).unwrap();
    assert_eq!(read(meta, m.id, "a"), None);
    // After its last write: the volume as it is.
    let m = moment(meta, "v", t1).unwrap();
    assert_eq!(read(meta, m.id, "a").as_deref(), Some(&b"two"[..]));
    // Pinning froze the head: later writes leave the moment alone.
    write(meta, v, "a", b"three");
    assert_eq!(read(meta, m.id, "a").as_deref(), Some(&b"two"[..]));
    // Bad moments are refused with the field named.
    for bad in [now_ns() + HOUR, now_ns() - 2 * HOUR] {
        let e = moment(meta, "v", bad).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("time"), "{e:?}");
    }
}

fn mkdir(meta: &dyn MetaStore, vol: Uuid, parent: u64, n: &str) -> u64 {
    meta.create(
        vol.into(),
        parent,
        n.as_bytes(),
        &NewInode::new(FileKind::Directory, 0o755),
    )
    .unwrap()
    .ino
}

fn read_in(meta: &dyn MetaStore, vol: Uuid, path: &[&str]) -> Option<Vec<u8>> {
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    let stat = meta.resolve(vol, &path).ok()?;
    let (_, chunks) = meta.chunks(vol.into(), stat.ino).unwrap();
    Some(chunks.iter().fold(Vec::new(), |mut all, c| {
        if let ChunkData::Inline(d) = &c.data {
            all.extend_from_slice(d)
        }
        all
    }))
}

fn put(meta: &dyn MetaStore, vol: Uuid, path: &[&str], bytes: &[u8]) {
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    let chunk = Chunk {
        idx: 0,
        len: bytes.len() as u64,
        data: ChunkData::Inline(bytes.to_vec()),
    };
    meta.put_file(vol, &path, 0o644, chunk.len, &[chunk]).unwrap();
}

fn a_promoted_fork_becomes_its_source(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    write(meta, v, "a", b"1");
    let f = meta.fork_volume(ORG, v, &name("f"), 10).unwrap();
    assert_eq!(f.forked_from, Some(v));
    let f = f.id;
    write(meta, f, "a", b"2");
    write(meta, f, "c", b"c");
    write(meta, v, "d", b"d");
    let c = meta.lookup(f.into(), ROOT_INO, b"c").unwrap().ino;
    let d = meta.lookup(v.into(), ROOT_INO, b"d").unwrap().ino;
    assert_ne!(c, d, "a fork makes its files in inode numbers of its own");

    let promoted = meta.promote_volume(ORG, f, &name("before"), 10).unwrap();
    assert_eq!((promoted.id, promoted.name.as_str()), (v, "v"));
    assert_eq!(read(meta, v, "a").as_deref(), Some(&b"2"[..]));
    assert_eq!(names(meta, v), ["a", "c"]);
    assert_eq!((promoted.used_bytes, promoted.file_count), (2, 2));
    let kept = meta.get_volume(ORG, &VolumeRef::parse("v@before").unwrap()).unwrap();
    assert_eq!(names(meta, kept.id), ["a", "d"]);
    // Both live on apart, and the fork can be promoted again.
    write(meta, v, "a", b"3");
    write(meta, f, "e", b"e");
    assert_eq!(read(meta, f, "a").as_deref(), Some(&b"2"[..]));
    assert_eq!(names(meta, v), ["a", "c"]);
    let e_ino = meta.lookup(f.into(), ROOT_INO, b"e").unwrap().ino;
    write(meta, v, "g", b"g");
    assert_ne!(meta.lookup(v.into(), ROOT_INO, b"g").unwrap().ino, e_ino);
    meta.promote_volume(ORG, f, &name("before2"), 10).unwrap();
    assert_eq!(names(meta, v), ["a", "c", "e"]);
    // What is no fork is refused, naming the field.
    let refused = meta.promote_volume(ORG, v, &name("x"), 10).unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("fork"), "{refused:?}");
}

fn a_fork_merges_back_by_path_against_where_it_began(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    put(meta, v, &["a"], b"1");
    put(meta, v, &["b"], b"b");
    let src = mkdir(meta, v, ROOT_INO, "src");
    put(meta, v, &["src", "x"], b"x");
    mkdir(meta, v, ROOT_INO, "keep");
    let f = meta.fork_volume(ORG, v, &name("f"), 10).unwrap().id;
    // The fork's side.
    put(meta, f, &["a"], b"2");
    meta.remove_path(f, &["b".into()], false).unwrap();
    put(meta, f, &["src", "y"], b"y");
    let new = mkdir(meta, f, ROOT_INO, "new");
    put(meta, f, &["new", "z"], b"z");
    meta.set_xattr(f.into(), new, b"user.tag", b"t", XattrMode::Any)
        .unwrap();
    let keep = meta.lookup(f.into(), ROOT_INO, b"keep").unwrap().ino;
    let mode = AttrChanges {
        mode: Some(0o700),
        ..AttrChanges::default()
    };
    meta.setattr(f.into(), keep, &mode).unwrap();
    let x = meta.lookup(f.into(), src, b"x").unwrap().ino;
    meta.set_xattr(f.into(), x, b"user.k", b"fork", XattrMode::Any).unwrap();
    // The volume's side, meanwhile: one path both changed.
    put(meta, v, &["w"], b"w");
    put(meta, v, &["src", "x"], b"vx");

    let dry = meta.merge_fork(ORG, f, None, None, true).unwrap();
    assert!(!dry.applied);
    let paths: Vec<&str> = dry.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["/a", "/b", "/keep", "/new", "/src/y"], "{dry:?}");
    assert_eq!(dry.conflicts.len(), 1, "{dry:?}");
    assert_eq!(dry.conflicts[0].path, "/src/x");
    // With a conflict and no side preferred, nothing is applied.
    let refused = meta.merge_fork(ORG, f, None, None, false).unwrap();
    assert!(!refused.applied);
    assert_eq!(read_in(meta, v, &["a"]).as_deref(), Some(&b"1"[..]));

    let merged = meta.merge_fork(ORG, f, None, Some(Prefer::Volume), false).unwrap();
    assert!(merged.applied);
    assert_eq!(read_in(meta, v, &["a"]).as_deref(), Some(&b"2"[..]));
    assert_eq!(read_in(meta, v, &["b"]), None);
    assert_eq!(read_in(meta, v, &["src", "y"]).as_deref(), Some(&b"y"[..]));
    assert_eq!(read_in(meta, v, &["new", "z"]).as_deref(), Some(&b"z"[..]));
    assert_eq!(read_in(meta, v, &["src", "x"]).as_deref(), Some(&b"vx"[..]));
    assert_eq!(read_in(meta, v, &["w"]).as_deref(), Some(&b"w"[..]));
    let keep = meta.lookup(v.into(), ROOT_INO, b"keep").unwrap();
    assert_eq!(keep.mode & 0o777, 0o700);
    let new = meta.lookup(v.into(), ROOT_INO, b"new").unwrap().ino;
    assert_eq!(meta.get_xattr(v.into(), new, b"user.tag").unwrap(), b"t");
    // Merged again, only the conflict is left; preferring the fork takes its side of it.
    let again = meta.merge_fork(ORG, f, None, None, true).unwrap();
    assert!(again.changes.is_empty(), "{again:?}");
    let taken = meta.merge_fork(ORG, f, None, Some(Prefer::Fork), false).unwrap();
    assert!(taken.applied);
    assert_eq!(read_in(meta, v, &["src", "x"]).as_deref(), Some(&b"x"[..]));
    let x = meta.resolve(v, &["src".into(), "x".into()]).unwrap().ino;
    assert_eq!(meta.get_xattr(v.into(), x, b"user.k").unwrap(), b"fork");
    // The counts stay exact.
    let after = meta.get_volume(ORG, &VolumeRef::Id(v)).unwrap();
    assert_eq!((after.used_bytes, after.file_count), (1 + 1 + 1 + 1 + 1, 8));
    // Bad requests name their field.
    let e = meta.merge_fork(ORG, v, None, None, true).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("fork"));
    let e = meta.merge_fork(ORG, f, Some(f), None, true).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("into"));
}

fn windows_count_their_changes_and_bytes(e: &Engine) {
    let meta = &*e.meta;
    // Windows an hour apart: every write below falls in the first.
    meta.set_history(HOUR, HOUR);
    let v = meta.create_volume(ORG, &name("w"), 10).unwrap().id;
    write(meta, v, "a", b"12345");
    write(meta, v, "b", b"678");
    write(meta, v, "a", b"9");
    let open = meta.history(ORG, v, 10).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].bytes, 5 + 3 + 1);
    assert!(
        open[0].changes >= 3 && open[0].last_change > open[0].first_change,
        "{open:?}"
    );
    // A snapshot ends the window: its point keeps what it counted.
    meta.snapshot_volume(ORG, v, &name("s"), 10).unwrap();
    assert_eq!(meta.history(ORG, v, 10).unwrap(), open);
    write(meta, v, "c", b"xy");
    let later = meta.history(ORG, v, 10).unwrap();
    assert_eq!(later.len(), 2, "{later:?}");
    assert_eq!(later[0].bytes, 2);
    assert_eq!(later[1], open[0]);
    // So does a collection.
    meta.collect_layers().unwrap();
    assert_eq!(meta.history(ORG, v, 10).unwrap(), later);
}

/// A directory moved over another's place brings entries written where it was made: diff
/// and merge see them though no row of the move names them.
fn a_directory_moved_over_another_is_diffed_and_merged_whole(e: &Engine) {
    let meta = &*e.meta;
    meta.set_history(0, 0);
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    mkdir(meta, v, ROOT_INO, "x");
    put(meta, v, &["z", "z1"], b"zed");
    let f = meta.fork_volume(ORG, v, &name("f"), 10).unwrap().id;
    meta.rename(f.into(), (ROOT_INO, b"z"), (ROOT_INO, b"x"), RenameFlags::default())
        .unwrap();
    let changes: Vec<(String, Change)> = meta
        .diff(v, f)
        .unwrap()
        .into_iter()
        .map(|d| (d.path, d.change))
        .collect();
    assert_eq!(
        changes,
        [
            ("/x/z1".to_string(), Change::Added),
            ("/z".to_string(), Change::Removed)
        ]
    );
    let report = meta.merge_fork(ORG, f, None, None, false).unwrap();
    assert!(report.applied && report.conflicts.is_empty(), "{report:?}");
    assert_eq!(read_in(meta, v, &["x", "z1"]).as_deref(), Some(&b"zed"[..]));
    assert_eq!(read_in(meta, v, &["z", "z1"]), None);
    assert!(meta.diff(v, f).unwrap().is_empty());
}

/// A fork of a moment changes the file the moment shows: its content then, not the
/// volume's now.
fn a_fork_of_a_moment_copies_up_the_moments_version(e: &Engine) {
    let meta = &*e.meta;
    meta.set_history(HOUR, 0);
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    write(meta, v, "a", b"old");
    let a = meta.lookup(v.into(), ROOT_INO, b"a").unwrap().ino;
    meta.set_xattr(v.into(), a, b"user.k", b"then", XattrMode::Any).unwrap();
    let t = now_ns();
    write(meta, v, "a", b"new");
    meta.set_xattr(v.into(), a, b"user.k", b"now", XattrMode::Any).unwrap();
    let m = moment(meta, "v", t).unwrap();
    let f = meta.fork_volume(ORG, m.id, &name("f"), 10).unwrap().id;
    let chmod = AttrChanges {
        mode: Some(0o600),
        ..AttrChanges::default()
    };
    meta.setattr(f.into(), a, &chmod).unwrap();
    assert_eq!(read(meta, f, "a").as_deref(), Some(&b"old"[..]));
    assert_eq!(meta.get_xattr(f.into(), a, b"user.k").unwrap(), b"then");
    assert_eq!(read(meta, v, "a").as_deref(), Some(&b"new"[..]));
}

on_every_engine!(
    a_fork_of_a_moment_copies_up_the_moments_version,
    a_directory_moved_over_another_is_diffed_and_merged_whole,
    windows_count_their_changes_and_bytes,
    a_promoted_fork_becomes_its_source,
    a_fork_merges_back_by_path_against_where_it_began,
    moments_read_as_they_were_and_restore_atomically,
    moments_survive_flattening_and_collection,
    a_moment_inside_a_window_reads_as_the_window_began,
);
