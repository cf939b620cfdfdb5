//! Behaviour of the metadata engine on both engines: a real SQLite file and a real
//! PostgreSQL server.

use strata_core::api::{FileKind, Stat};
use strata_core::names::{VolumeName, VolumeRef};
use strata_meta::*;

mod common;
use common::{Engine, session_on};
use uuid::Uuid;

const ORG: &str = "org";

fn name(s: &str) -> VolumeName {
    VolumeName::parse(s).unwrap()
}

fn file(meta: &dyn MetaStore, vol: Uuid, parent: u64, n: &str) -> u64 {
    meta.create(vol.into(), parent, n.as_bytes(), &NewInode::new(FileKind::File, 0o644))
        .unwrap()
        .ino
}

fn dir(meta: &dyn MetaStore, vol: Uuid, parent: u64, n: &str) -> u64 {
    meta.create(
        vol.into(),
        parent,
        n.as_bytes(),
        &NewInode::new(FileKind::Directory, 0o755),
    )
    .unwrap()
    .ino
}

fn names(meta: &dyn MetaStore, vol: Uuid, ino: u64) -> Vec<String> {
    meta.readdir(vol, ino)
        .unwrap()
        .into_iter()
        .map(|(n, _)| String::from_utf8(n).unwrap())
        .collect()
}

fn inline(idx: u64, bytes: &[u8]) -> Chunk {
    Chunk {
        idx,
        len: bytes.len() as u64,
        data: ChunkData::Inline(bytes.to_vec()),
    }
}

fn volumes_lifecycle_and_limit(e: &Engine) {
    let meta = &*e.meta;
    let a = meta.create_volume(ORG, &name("a"), 2).unwrap();
    assert_eq!(meta.get_volume(ORG, &VolumeRef::Id(a.id)).unwrap(), a);
    assert_eq!(meta.get_volume(ORG, &VolumeRef::Name(name("a"))).unwrap().id, a.id);
    assert_eq!(
        meta.create_volume(ORG, &name("a"), 2).unwrap_err().kind,
        ErrorKind::AlreadyExists
    );
    meta.create_volume(ORG, &name("b"), 2).unwrap();
    assert_eq!(
        meta.create_volume(ORG, &name("c"), 2).unwrap_err().kind,
        ErrorKind::LimitExceeded
    );
    assert_eq!(
        meta.get_volume("other", &VolumeRef::Id(a.id)).unwrap_err().kind,
        ErrorKind::NotFound
    );
    meta.delete_volume(ORG, a.id).unwrap();
    assert_eq!(
        meta.list_volumes(ORG)
            .unwrap()
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    assert_eq!(meta.delete_volume(ORG, a.id).unwrap_err().kind, ErrorKind::NotFound);
}

fn posix_errors(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let d = dir(meta, v, ROOT_INO, "d");
    let f = file(meta, v, d, "f");
    let kind = |r: Result<()>| r.unwrap_err().kind;
    assert_eq!(
        meta.create(v.into(), d, b"f", &NewInode::new(FileKind::File, 0o644))
            .unwrap_err()
            .kind,
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        meta.lookup(v.into(), f, b"x").unwrap_err().kind,
        ErrorKind::NotADirectory
    );
    assert_eq!(meta.lookup(v.into(), d, b"nope").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(kind(meta.rmdir(v.into(), ROOT_INO, b"d")), ErrorKind::DirectoryNotEmpty);
    assert_eq!(kind(meta.unlink(v.into(), ROOT_INO, b"d")), ErrorKind::IsADirectory);
    assert_eq!(kind(meta.rmdir(v.into(), d, b"f")), ErrorKind::NotADirectory);
    assert_eq!(
        kind(meta.rename(v.into(), (ROOT_INO, b"d"), (d, b"inner"), RenameFlags::default())),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        meta.lookup(v.into(), ROOT_INO, b"..").unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(meta.getattr(v.into(), ROOT_INO).unwrap().nlink, 3);
}

fn rename_replaces_atomically_and_keeps_links(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let a = file(meta, v, ROOT_INO, "a");
    let b = file(meta, v, ROOT_INO, "b");
    meta.link(v.into(), a, ROOT_INO, b"a2").unwrap();
    assert_eq!(meta.getattr(v.into(), a).unwrap().nlink, 2);
    let no_replace = RenameFlags { no_replace: true };
    assert_eq!(
        meta.rename(v.into(), (ROOT_INO, b"a"), (ROOT_INO, b"b"), no_replace)
            .unwrap_err()
            .kind,
        ErrorKind::AlreadyExists
    );
    meta.rename(v.into(), (ROOT_INO, b"a"), (ROOT_INO, b"b"), RenameFlags::default())
        .unwrap();
    assert_eq!(meta.lookup(v.into(), ROOT_INO, b"b").unwrap().ino, a);
    assert_eq!(
        meta.getattr(v.into(), b).unwrap_err().kind,
        ErrorKind::NotFound,
        "replaced inode is gone"
    );
    assert_eq!(names(meta, v, ROOT_INO), ["a2", "b"]);
    let vol = meta.get_volume(ORG, &VolumeRef::Id(v)).unwrap();
    assert_eq!(vol.file_count, 1);
}

fn content_truncate_and_accounting(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let f = file(meta, v, ROOT_INO, "f");
    meta.write_chunks(v, f, 5, &[inline(0, b"hello")], true).unwrap();
    let (stat, chunks) = meta.chunks(v.into(), f).unwrap();
    assert_eq!((stat.size, chunks), (5, vec![inline(0, b"hello")]));
    meta.setattr(
        v.into(),
        f,
        &AttrChanges {
            size: Some(2),
            ..AttrChanges::default()
        },
    )
    .unwrap();
    assert_eq!(meta.chunks(v.into(), f).unwrap().1, vec![inline(0, b"he")]);
    assert_eq!(meta.get_volume(ORG, &VolumeRef::Id(v)).unwrap().used_bytes, 2);
    let missing = Chunk {
        idx: 0,
        len: 3,
        data: ChunkData::Block([7; 32]),
    };
    assert_eq!(
        meta.write_chunks(v, f, 3, std::slice::from_ref(&missing), true)
            .unwrap_err()
            .kind,
        ErrorKind::Conflict
    );
    meta.touch_block(&[7; 32], 3, 3, None).unwrap();
    meta.write_chunks(v, f, 3, &[missing], true).unwrap();
}

/// The byte count stays exact at any size: a size the count cannot add is refused, and
/// what a fork and a snapshot inherit is the true count.
fn byte_counts_stay_exact_at_any_size(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let f = file(meta, v, ROOT_INO, "f");
    let size = |s: u64| AttrChanges {
        size: Some(s),
        ..AttrChanges::default()
    };
    meta.setattr(v.into(), f, &size(1_000_000)).unwrap();
    let used = |vol: Uuid| meta.get_volume(ORG, &VolumeRef::Id(vol)).unwrap().used_bytes;
    let g = file(meta, v, ROOT_INO, "g");
    let refused = meta.setattr(v.into(), g, &size(i64::MAX as u64)).unwrap_err();
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::TooLarge, Some("size"))
    );
    assert_eq!(meta.getattr(v.into(), g).unwrap().size, 0, "nothing changed");
    meta.setattr(v.into(), g, &size(0)).unwrap();
    assert_eq!(used(v), 1_000_000);
    // As large as the count can take, then back.
    meta.setattr(v.into(), g, &size(i64::MAX as u64 - 1_000_000)).unwrap();
    assert_eq!(used(v), i64::MAX as u64);
    meta.setattr(v.into(), g, &size(0)).unwrap();
    assert_eq!(used(v), 1_000_000);
    let fork = meta.fork_volume(ORG, v, &name("fork"), 10).unwrap();
    assert_eq!(fork.used_bytes, 1_000_000);
    meta.unlink(v.into(), ROOT_INO, b"f").unwrap();
    assert_eq!((used(v), used(fork.id)), (0, 1_000_000));
}

/// A write names the chunks it was based on: it applies only over exactly those, a writer that
/// only wrote never shrinks the file, and a writer's cut comes before its base is compared.
fn conditional_writes_refuse_a_stale_base(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let f = file(meta, v, ROOT_INO, "f");
    meta.write_chunks(v, f, 5, &[inline(0, b"hello")], true).unwrap();
    let write = |chunks: &[Chunk], base: &[Chunk], size: u64, grow: bool, cut_at: Option<u64>| {
        let w = ContentWrite {
            chunks,
            replace_all: true,
            cut_at,
            size,
            grow,
            base: Some(base),
            uploader: None,
            then: None,
            at: None,
        };
        meta.write_content(v.into(), f, &w)
    };
    let stale = write(&[inline(0, b"HELLO")], &[inline(0, b"other")], 5, true, None);
    assert_eq!(stale.unwrap_err().kind, ErrorKind::Stale);
    let stale = write(&[inline(0, b"HELLO")], &[], 5, true, None);
    assert_eq!(
        stale.unwrap_err().kind,
        ErrorKind::Stale,
        "an absent base chunk must be absent"
    );
    assert_eq!(
        meta.chunks(v.into(), f).unwrap().1,
        vec![inline(0, b"hello")],
        "nothing changed"
    );

    // Growing: the end of the writes, never less than the file is now.
    let stat = write(&[inline(0, b"Hello")], &[inline(0, b"hello")], 1, true, None).unwrap();
    assert_eq!(stat.size, 5);
    // A cut first: the base is compared with the content as cut.
    let stat = write(&[inline(0, b"Hi")], &[inline(0, b"He")], 2, false, Some(2)).unwrap();
    assert_eq!(stat.size, 2);
    assert_eq!(meta.chunks(v.into(), f).unwrap().1, vec![inline(0, b"Hi")]);
}

fn fork_isolates_both_sides(e: &Engine) {
    let meta = &*e.meta;
    let src = meta.create_volume(ORG, &name("src"), 10).unwrap().id;
    let d = dir(meta, src, ROOT_INO, "d");
    let f = file(meta, src, d, "f");
    meta.write_chunks(src, f, 3, &[inline(0, b"old")], true).unwrap();
    let fork = meta.fork_volume(ORG, src, &name("fork"), 10).unwrap();
    assert_eq!((fork.file_count, fork.used_bytes), (2, 3));
    let fork = fork.id;

    // Changes in the fork: overwrite, delete, create, rename.
    meta.write_chunks(fork, f, 3, &[inline(0, b"new")], true).unwrap();
    file(meta, fork, d, "only-in-fork");
    meta.rename(fork.into(), (d, b"f"), (ROOT_INO, b"moved"), RenameFlags::default())
        .unwrap();
    // Changes in the source after the fork.
    meta.unlink(src.into(), d, b"f").unwrap();
    file(meta, src, ROOT_INO, "only-in-src");

    assert_eq!(names(meta, fork, ROOT_INO), ["d", "moved"]);
    assert_eq!(names(meta, fork, d), ["only-in-fork"]);
    assert_eq!(meta.chunks(fork.into(), f).unwrap().1, vec![inline(0, b"new")]);
    assert_eq!(names(meta, src, ROOT_INO), ["d", "only-in-src"]);
    assert!(names(meta, src, d).is_empty());
    assert_eq!(meta.getattr(src.into(), f).unwrap_err().kind, ErrorKind::NotFound);

    // Deleting the source leaves the fork whole, even after collection.
    meta.delete_volume(ORG, src).unwrap();
    meta.collect_layers().unwrap();
    assert_eq!(meta.chunks(fork.into(), f).unwrap().1, vec![inline(0, b"new")]);
    assert_eq!(names(meta, fork, ROOT_INO), ["d", "moved"]);
}

fn collection_frees_blocks_of_deleted_volumes_only(e: &Engine) {
    let meta = &*e.meta;
    let keep = meta.create_volume(ORG, &name("keep"), 10).unwrap().id;
    let gone = meta.create_volume(ORG, &name("gone"), 10).unwrap().id;
    let block = |n: u8| Chunk {
        idx: 0,
        len: 10,
        data: ChunkData::Block([n; 32]),
    };
    for (vol, n) in [(keep, 1), (gone, 2), (gone, 1)] {
        meta.touch_block(&[n; 32], 10, 10, None).unwrap();
        let f = file(meta, vol, ROOT_INO, &format!("f{n}"));
        meta.write_chunks(vol, f, 10, &[block(n)], true).unwrap();
    }
    // An upload no write named yet: the grace period protects it.
    meta.touch_block(&[3; 32], 10, 10, None).unwrap();
    // A block another session is still uploading stays too, though a deleted file named it.
    meta.touch_session_block(Uuid::new_v4(), &[4; 32], 10, 10, None)
        .unwrap();
    let f = file(meta, gone, ROOT_INO, "f4");
    meta.write_chunks(gone, f, 10, &[block(4)], true).unwrap();
    meta.delete_volume(ORG, gone).unwrap();
    assert_eq!(meta.collect_layers().unwrap(), 1);
    let (pass, other) = (Uuid::new_v4(), Uuid::new_v4());
    // What only the deleted volume named goes at once, grace or not.
    let marked = meta.mark_unreferenced_blocks(at(0), pass).unwrap();
    assert_eq!(marked, vec![([2; 32], 10)]);
    // A second pass (another server) at the same time gets none of the first one's blocks,
    // and cannot forget them.
    assert!(meta.mark_unreferenced_blocks(at(0), other).unwrap().is_empty());
    meta.forget_blocks(&[[2; 32]], other).unwrap();
    assert_eq!(
        meta.touch_block(&[2; 32], 10, 10, None).unwrap_err().kind,
        ErrorKind::Unavailable
    );
    meta.forget_blocks(&[[2; 32]], pass).unwrap();
    meta.touch_block(&[2; 32], 10, 10, None).unwrap();
    // Uploaded again, so uncommitted again: it waits for the grace period too.
    assert!(meta.mark_unreferenced_blocks(at(0), Uuid::new_v4()).unwrap().is_empty());
    let mut late = meta.mark_unreferenced_blocks(at(now_ns() + 1), Uuid::new_v4()).unwrap();
    late.sort();
    assert_eq!(late, vec![([2; 32], 10), ([3; 32], 10), ([4; 32], 10)]);
}

fn survives_reopen(e: &Engine) {
    let v = e.meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    file(&*e.meta, v, ROOT_INO, "kept");
    let again = e.reopen();
    assert_eq!(names(&*again, v, ROOT_INO), ["kept"]);
}

fn xattrs_follow_their_inode_through_forks(e: &Engine) {
    let meta = &*e.meta;
    let src = meta.create_volume(ORG, &name("src"), 10).unwrap().id;
    let f = file(meta, src, ROOT_INO, "f");
    meta.set_xattr(src.into(), f, b"user.a", b"1", XattrMode::Create)
        .unwrap();
    assert_eq!(
        meta.set_xattr(src.into(), f, b"user.a", b"2", XattrMode::Create)
            .unwrap_err()
            .kind,
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        meta.set_xattr(src.into(), f, b"user.b", b"2", XattrMode::Replace)
            .unwrap_err()
            .kind,
        ErrorKind::NoSuchAttribute
    );
    let fork = meta.fork_volume(ORG, src, &name("fork"), 10).unwrap().id;
    meta.set_xattr(fork.into(), f, b"user.b", b"fork", XattrMode::Any)
        .unwrap();
    meta.remove_xattr(src.into(), f, b"user.a").unwrap();
    assert_eq!(
        meta.list_xattrs(fork.into(), f).unwrap(),
        [b"user.a".to_vec(), b"user.b".to_vec()]
    );
    assert!(meta.list_xattrs(src.into(), f).unwrap().is_empty());
    assert_eq!(meta.get_xattr(fork.into(), f, b"user.a").unwrap(), b"1");
    assert_eq!(
        meta.get_xattr(src.into(), f, b"user.a").unwrap_err().kind,
        ErrorKind::NoSuchAttribute
    );
}

/// Cutoffs that take every unnamed block touched before `t`, uploads not named yet too.
fn at(t: i64) -> Cutoffs {
    Cutoffs {
        touched: t,
        uploaded: t,
    }
}

/// A block a mount session uploaded and has not named yet outlives the grace period (its
/// file may still be open there, or the mount cut off for a while), up to the longer
/// `uploaded` cutoff; once the session is gone, the grace rules it again.
fn a_sessions_uploads_outlive_the_grace_period(e: &Engine) {
    let meta = &*e.meta;
    let vol = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let session = |alive_until| SessionRecord {
        id: Uuid::new_v4(),
        org: ORG.into(),
        volume: vol,
        root_ino: ROOT_INO,
        read_only: false,
        secret: [9; 32],
        created_at: 1,
        alive_until,
        key: None,
    };
    let (live, lapsed) = (session(i64::MAX), session(now_ns() - 1));
    meta.add_session(&live, u64::MAX).unwrap();
    meta.add_session(&lapsed, u64::MAX).unwrap();
    meta.touch_session_block(live.id, &[1; 32], 10, 10, None).unwrap();
    meta.touch_session_block(lapsed.id, &[2; 32], 10, 10, None).unwrap();
    meta.touch_block(&[3; 32], 10, 10, None).unwrap();
    // Past the grace, not past the uploads' longer hold: only the plain block goes.
    let late = now_ns() + 1;
    let grace_only = Cutoffs {
        touched: late,
        uploaded: 0,
    };
    assert_eq!(
        meta.mark_unreferenced_blocks(grace_only, Uuid::new_v4()).unwrap(),
        vec![([3; 32], 10)]
    );
    // A session removed (unmounted, or expired) leaves its uploads to the grace.
    meta.remove_session(live.id).unwrap();
    assert_eq!(
        meta.mark_unreferenced_blocks(grace_only, Uuid::new_v4()).unwrap(),
        vec![([1; 32], 10)]
    );
    // Past the hold too, a lapsed session's upload goes.
    assert_eq!(
        meta.mark_unreferenced_blocks(at(late), Uuid::new_v4()).unwrap(),
        vec![([2; 32], 10)]
    );

    // One block uploaded once for two files of a session (identical blocks are one): the
    // first file names it and is removed, the second has not named it yet. It stays.
    let mount = session(i64::MAX);
    meta.add_session(&mount, u64::MAX).unwrap();
    meta.touch_session_block(mount.id, &[4; 32], 10, 10, None).unwrap();
    let first = file(meta, vol, ROOT_INO, "first");
    let chunks = [Chunk {
        idx: 0,
        len: 10,
        data: ChunkData::Block([4; 32]),
    }];
    let named = ContentWrite {
        chunks: &chunks,
        replace_all: true,
        cut_at: None,
        size: 10,
        grow: true,
        base: None,
        uploader: Some(mount.id),
        then: None,
        at: None,
    };
    meta.write_content(vol.into(), first, &named).unwrap();
    meta.unlink(vol.into(), ROOT_INO, b"first").unwrap();
    assert!(
        meta.mark_unreferenced_blocks(grace_only, Uuid::new_v4())
            .unwrap()
            .is_empty()
    );
    let second = file(meta, vol, ROOT_INO, "second");
    meta.write_content(vol.into(), second, &named).unwrap();
}

fn sessions_round_trip(e: &Engine) {
    let meta = &*e.meta;
    let vol = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let s = SessionRecord {
        id: Uuid::new_v4(),
        org: ORG.into(),
        volume: vol,
        root_ino: 7,
        read_only: true,
        secret: [9; 32],
        created_at: 1,
        alive_until: 2,
        key: None,
    };
    let before = meta.get_volume(ORG, &VolumeRef::Id(vol)).unwrap();
    let s = SessionRecord {
        created_at: before.updated_at + 5,
        alive_until: before.updated_at + 6,
        ..s
    };
    meta.add_session(&s, u64::MAX).unwrap();
    assert_eq!(meta.find_session(s.id).unwrap(), Some(s.clone()));
    // Opening a mount is a use of the volume, not a change of it.
    let after = meta.get_volume(ORG, &VolumeRef::Id(vol)).unwrap();
    assert_eq!(
        (after.updated_at, after.last_used_at),
        (before.updated_at, s.created_at)
    );
    // An organization's live sessions, and no other's.
    assert_eq!(meta.org_sessions(ORG, s.created_at).unwrap(), vec![s.clone()]);
    assert_eq!(meta.org_sessions(ORG, s.alive_until).unwrap(), vec![]);
    assert_eq!(meta.org_sessions("elsewhere", s.created_at).unwrap(), vec![]);
    meta.remove_session(s.id).unwrap();
    assert_eq!(meta.find_session(s.id).unwrap(), None);

    // Sessions whose lease ended long ago expire; a live one stays.
    let dead = SessionRecord {
        id: Uuid::new_v4(),
        ..s.clone()
    };
    let live = SessionRecord {
        id: Uuid::new_v4(),
        alive_until: i64::MAX,
        ..s.clone()
    };
    meta.add_session(&dead, u64::MAX).unwrap();
    meta.add_session(&live, u64::MAX).unwrap();
    assert_eq!(meta.expire_sessions(now_ns()).unwrap(), 1);
    assert_eq!(meta.find_session(dead.id).unwrap(), None);
    assert_eq!(meta.find_session(live.id).unwrap(), Some(live));
}

/// A subpath's reach follows where things are now: moved out is out, by any name.
/// What a server remembers of which directories lie below a subpath never outlives a move,
/// made through it or through another server: a chain deep below a root, cut off from it
/// and put back, is out of reach and back at once, on both.
fn within_stays_true_to_moves_made_anywhere(e: &Engine) {
    let (here, there) = (&*e.meta, e.reopen());
    let v = here.create_volume(ORG, &name("v"), 10).unwrap().id;
    let root = dir(here, v, ROOT_INO, "tenant");
    let outside = dir(here, v, ROOT_INO, "outside");
    let mid = dir(here, v, root, "mid");
    let mut bottom = mid;
    for i in 0..200 {
        bottom = dir(here, v, bottom, &format!("d{i}"));
    }
    let leaf = file(here, v, bottom, "leaf");
    for meta in [here, &*there] {
        assert!(meta.within(v, leaf, root).unwrap() && meta.within(v, bottom, root).unwrap());
    }
    for (mover, name_there) in [(here, "a"), (&*there, "b")] {
        mover
            .rename(
                v.into(),
                (root, b"mid"),
                (outside, name_there.as_bytes()),
                RenameFlags::default(),
            )
            .unwrap();
        for meta in [here, &*there] {
            assert!(
                !meta.within(v, leaf, root).unwrap(),
                "moved out through one server, out of reach on both"
            );
            assert!(!meta.within(v, bottom, root).unwrap());
            assert!(meta.within(v, bottom, outside).unwrap());
        }
        mover
            .rename(
                v.into(),
                (outside, name_there.as_bytes()),
                (root, b"mid"),
                RenameFlags::default(),
            )
            .unwrap();
        for meta in [here, &*there] {
            assert!(meta.within(v, leaf, root).unwrap(), "and back");
        }
    }
}

fn within_follows_the_tree_as_it_is_now(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let alice = dir(meta, v, ROOT_INO, "alice");
    let bob = dir(meta, v, ROOT_INO, "bob");
    let docs = dir(meta, v, alice, "docs");
    let deep = dir(meta, v, docs, "deep");
    let f = file(meta, v, deep, "f");
    let shared = file(meta, v, bob, "shared");
    // Freeze what is there, so the checks below also read entries from a lower layer.
    meta.fork_volume(ORG, v, &name("v2"), 10).unwrap();
    for ino in [alice, docs, deep, f] {
        assert!(meta.within(v, ino, alice).unwrap(), "inode {ino} is below alice");
        assert!(!meta.within(v, ino, bob).unwrap(), "inode {ino} is not below bob");
    }
    assert!(meta.within(v, bob, ROOT_INO).unwrap());
    assert!(!meta.within(v, shared, alice).unwrap());
    // A hard link into alice's tree makes bob's file reachable from there too.
    meta.link(v.into(), shared, docs, b"link").unwrap();
    assert!(meta.within(v, shared, alice).unwrap() && meta.within(v, shared, bob).unwrap());
    meta.unlink(v.into(), bob, b"shared").unwrap();
    assert!(meta.within(v, shared, alice).unwrap() && !meta.within(v, shared, bob).unwrap());
    // Moving a directory out takes everything below it out, at once.
    meta.rename(v.into(), (alice, b"docs"), (bob, b"docs"), RenameFlags::default())
        .unwrap();
    for ino in [docs, deep, f, shared] {
        assert!(!meta.within(v, ino, alice).unwrap(), "inode {ino} moved out of alice");
        assert!(meta.within(v, ino, bob).unwrap(), "inode {ino} moved below bob");
    }
    // A file moved back is in again; a removed one is nowhere.
    meta.rename(v.into(), (deep, b"f"), (alice, b"f"), RenameFlags::default())
        .unwrap();
    assert!(meta.within(v, f, alice).unwrap() && !meta.within(v, f, bob).unwrap());
    meta.unlink(v.into(), alice, b"f").unwrap();
    assert!(!meta.within(v, f, alice).unwrap());
    // The fork kept the tree as it was.
    let v2 = meta.get_volume(ORG, &VolumeRef::parse("v2").unwrap()).unwrap().id;
    assert!(meta.within(v2, f, alice).unwrap() && !meta.within(v2, f, bob).unwrap());
}

/// Every operation on a [`Reach`] checks the inodes it names against the tree as it is
/// when it runs: a folder moved out takes its inodes out of reach for reads, writes and locks.
fn operations_stay_within_their_reach(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let (alice, bob) = (dir(meta, v, ROOT_INO, "alice"), dir(meta, v, ROOT_INO, "bob"));
    let docs = dir(meta, v, alice, "docs");
    let f = file(meta, v, docs, "f");
    let at = Reach::below(v, alice);
    let out = |r: Result<Stat>| r.map(drop).unwrap_err();
    let is_out = |e: Error| (e.kind, e.field.as_deref()) == (ErrorKind::NotFound, Some("node"));
    // Within: reads and writes go through.
    meta.getattr(at, f).unwrap();
    meta.create(at, docs, b"g", &NewInode::new(FileKind::File, 0o644))
        .unwrap();
    assert!(is_out(out(meta.getattr(at, bob))), "bob is not below alice");
    // Moved out by a wider reach: every inode below is out at once.
    meta.rename(v.into(), (alice, b"docs"), (bob, b"docs"), RenameFlags::default())
        .unwrap();
    let mode = AttrChanges {
        mode: Some(0o600),
        ..AttrChanges::default()
    };
    assert!(is_out(out(meta.getattr(at, f))));
    assert!(is_out(out(meta.lookup(at, docs, b"f"))));
    assert!(is_out(out(meta.setattr(at, f, &mode))));
    assert!(is_out(out(meta.create(
        at,
        docs,
        b"h",
        &NewInode::new(FileKind::File, 0o644)
    ))));
    assert!(is_out(meta.unlink(at, docs, b"g").unwrap_err()));
    let write = ContentWrite {
        chunks: &[inline(0, b"outside")],
        size: 7,
        ..ContentWrite::default()
    };
    assert!(is_out(out(meta.write_content(at, f, &write))));
    let rename = meta.rename(at, (docs, b"f"), (alice, b"f"), RenameFlags::default());
    assert!(
        is_out(rename.unwrap_err()),
        "nor can it be pulled back in from out of reach"
    );
    let lock = LockRange {
        start: 0,
        end: 9,
        kind: strata_core::api::LockKind::Write,
        pid: 1,
    };
    assert!(is_out(meta.set_lock(at, f, (Uuid::new_v4(), 1), lock).unwrap_err()));
    // Nothing of it landed, and the whole volume still reaches everything.
    assert_eq!(meta.getattr(v.into(), f).unwrap().size, 0);
    assert_eq!(names(meta, v, docs), ["f", "g"]);
    meta.rename(v.into(), (bob, b"docs"), (alice, b"docs"), RenameFlags::default())
        .unwrap();
    meta.write_content(at, f, &write).unwrap();
}

/// A quota refuses every change that would grow a count past it, whole, and never one that
/// shrinks; forks start with their source's counts and no quota; snapshots take none.
fn quotas_refuse_growth_past_them_whole(e: &Engine) {
    use strata_core::api::Quota;
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let f = file(meta, v, ROOT_INO, "f");
    let write = |bytes: &[u8]| {
        let chunks = [inline(0, bytes)];
        let write = ContentWrite {
            chunks: &chunks,
            replace_all: true,
            size: bytes.len() as u64,
            ..ContentWrite::default()
        };
        meta.write_content(v.into(), f, &write)
    };
    write(&[1; 100]).unwrap();
    let quota = Quota {
        bytes: Some(150),
        files: Some(2),
    };
    let set = meta.set_quota(ORG, v, quota).unwrap();
    assert_eq!((set.quota_bytes, set.quota_files), (Some(150), Some(2)));
    let refused = write(&[2; 151]).unwrap_err();
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::QuotaExceeded, Some("quota"))
    );
    assert_eq!(meta.chunks(v.into(), f).unwrap().0.size, 100, "nothing of it stored");
    write(&[3; 150]).unwrap();
    // Files: `f` counts (the root does not); one more fits, the next does not.
    file(meta, v, ROOT_INO, "g");
    let new = NewInode::new(FileKind::File, 0o644);
    let refused = meta.create(v.into(), ROOT_INO, b"h", &new).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::QuotaExceeded);
    assert!(meta.lookup(v.into(), ROOT_INO, b"h").is_err());
    // A quota set below what is held lets the volume shrink, never grow.
    meta.set_quota(
        ORG,
        v,
        Quota {
            bytes: Some(10),
            files: None,
        },
    )
    .unwrap();
    assert_eq!(write(&[4; 151]).unwrap_err().kind, ErrorKind::QuotaExceeded);
    write(&[5; 20]).unwrap();
    meta.create(v.into(), ROOT_INO, b"h", &new).unwrap();
    // A fork has its source's counts and no quota of its own; a snapshot takes none.
    let fork = meta.fork_volume(ORG, v, &name("fork"), 10).unwrap();
    assert_eq!((fork.used_bytes, fork.quota_bytes), (20, None));
    let snap = meta.snapshot_volume(ORG, v, &name("s"), 10).unwrap();
    assert_eq!(
        meta.set_quota(ORG, snap.id, quota).unwrap_err().field.as_deref(),
        Some("volume")
    );
    let none = meta.set_quota(ORG, v, Quota::default()).unwrap();
    assert_eq!((none.quota_bytes, none.quota_files), (None, None));
    write(&[6; 1000]).unwrap();
    let read = meta.get_volume(ORG, &VolumeRef::Id(v)).unwrap();
    assert_eq!((read.used_bytes, read.quota_bytes), (1000, None));
}

/// Writers racing for the last places of a quota: exactly as many get in as it allows
/// (the count is read and checked under the volume's lock), no overshoot.
fn concurrent_writers_never_pass_a_quota(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let quota = strata_core::api::Quota {
        bytes: None,
        files: Some(30),
    };
    meta.set_quota(ORG, v, quota).unwrap();
    let made = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for writer in 0..4 {
            let made = &made;
            s.spawn(move || {
                for i in 0..20 {
                    let new = NewInode::new(FileKind::File, 0o644);
                    match meta.create(v.into(), ROOT_INO, format!("w{writer}-{i}").as_bytes(), &new) {
                        Ok(_) => {
                            made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(e) => assert_eq!(e.kind, ErrorKind::QuotaExceeded, "{e}"),
                    }
                }
            });
        }
    });
    assert_eq!(made.into_inner(), 30);
    assert_eq!(meta.get_volume(ORG, &VolumeRef::Id(v)).unwrap().file_count, 30);
    assert_eq!(names(meta, v, ROOT_INO).len(), 30);
}

/// An organization's quota bounds its volumes together: writes to any of them, racing
/// writers on two volumes (exactly as many bytes get in as it allows), a fork (it counts
/// whole) and a restore; a volume may always shrink, and lifting the quota lets it grow.
fn an_organization_quota_bounds_its_volumes_together(e: &Engine) {
    let meta = &*e.meta;
    let org = "quota-org";
    meta.create_org(&strata_core::keys::OrgName::parse(org).unwrap())
        .unwrap();
    let (a, b) = (
        meta.create_volume(org, &name("a"), 10).unwrap().id,
        meta.create_volume(org, &name("b"), 10).unwrap().id,
    );
    let write = |vol: Uuid, f: u64, n: usize| {
        let chunks = [inline(0, &vec![7; n])];
        let write = ContentWrite {
            chunks: &chunks,
            replace_all: true,
            size: n as u64,
            ..ContentWrite::default()
        };
        meta.write_content(vol.into(), f, &write)
    };
    let fa = file(meta, a, ROOT_INO, "f");
    write(a, fa, 300).unwrap();
    let set = meta.set_org_quota(org, Some(1000)).unwrap();
    assert_eq!((set.quota_bytes, set.used_bytes), (Some(1000), 300));

    // Eight writers, each on a volume of its own (`a`, `b` and six more), start together
    // at each of 20 rounds to take the 10 bytes the quota has left: exactly one gets them.
    let mut volumes = vec![a, b];
    for i in 0..6 {
        volumes.push(meta.create_volume(org, &name(&format!("more{i}")), 10).unwrap().id);
    }
    let used = |vol: Uuid| meta.get_volume(org, &VolumeRef::Id(vol)).unwrap().used_bytes;
    for round in 0..20 {
        let quota = 300 + 10 * (round + 1);
        meta.set_org_quota(org, Some(quota)).unwrap();
        let files: Vec<u64> = (0..volumes.len())
            .map(|w| file(meta, volumes[w], ROOT_INO, &format!("r{round}-w{w}")))
            .collect();
        let (start, made) = (
            std::sync::Barrier::new(volumes.len()),
            std::sync::atomic::AtomicU64::new(0),
        );
        std::thread::scope(|s| {
            for (&vol, &f) in volumes.iter().zip(&files) {
                let (start, made) = (&start, &made);
                s.spawn(move || {
                    start.wait();
                    match write(vol, f, 10) {
                        Ok(_) => {
                            made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(e) => assert_eq!((e.kind, e.field.as_deref()), (ErrorKind::QuotaExceeded, Some("quota"))),
                    }
                });
            }
        });
        assert_eq!(made.into_inner(), 1, "round {round}");
        assert_eq!(volumes.iter().map(|&v| used(v)).sum::<u64>(), quota);
    }
    meta.set_org_quota(org, Some(500)).unwrap();
    assert_eq!(meta.get_org(org).unwrap().used_bytes, 500);
    let refused = write(a, fa, 301).unwrap_err();
    assert!(refused.message.contains("organization"), "{}", refused.message);

    // A volume may shrink; a snapshot costs nothing; a fork counts whole.
    write(a, fa, 100).unwrap();
    meta.set_org_quota(org, Some(300)).unwrap();
    let snap = meta.snapshot_volume(org, a, &name("s"), 10).unwrap();
    let refused = meta.fork_volume(org, a, &name("fork"), 10).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::QuotaExceeded);
    assert!(
        meta.get_volume(org, &VolumeRef::Name(name("fork"))).is_err(),
        "nothing of it made"
    );
    // A restore that would grow past it is refused too.
    write(a, fa, 0).unwrap();
    write(b, file(meta, b, ROOT_INO, "fill"), 100).unwrap();
    assert_eq!(meta.get_org(org).unwrap().used_bytes, 300);
    assert_eq!(
        meta.restore_volume(org, a, snap.id).unwrap_err().kind,
        ErrorKind::QuotaExceeded
    );
    meta.set_org_quota(org, None).unwrap();
    meta.restore_volume(org, a, snap.id).unwrap();
    let fork = meta.fork_volume(org, a, &name("fork"), 10).unwrap();
    let all = volumes.iter().map(|&v| used(v)).sum::<u64>();
    assert_eq!(meta.get_org(org).unwrap().used_bytes, all + fork.used_bytes);
    assert_eq!(
        meta.set_org_quota("no-such-org", Some(1)).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

fn key(org: &str, key_name: &str, scope: Option<ScopeRecord>) -> TokenRecord {
    TokenRecord {
        id: Uuid::new_v4(),
        org: org.into(),
        name: key_name.into(),
        hash: *Uuid::new_v4().as_bytes().repeat(2).first_chunk().unwrap(),
        role: Role::Member,
        created_at: now_ns(),
        expires_at: Some(now_ns() + 1_000_000_000),
        revoked_at: None,
        scope,
        made_by: None,
    }
}

/// Snapshots per volume, live sessions and keys per organization, and the bytes of one
/// inode's extended attributes are bounded, each refused naming its limit.
fn counts_are_bounded(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume("default", &name("v"), 10).unwrap().id;
    meta.snapshot_volume("default", v, &name("s1"), 2).unwrap();
    meta.snapshot_volume("default", v, &name("s2"), 2).unwrap();
    let refused = meta.snapshot_volume("default", v, &name("s3"), 2).unwrap_err();
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::LimitExceeded, Some("snapshots"))
    );

    let session = |alive_until: i64| SessionRecord {
        id: Uuid::new_v4(),
        org: "default".into(),
        volume: v,
        root_ino: ROOT_INO,
        read_only: false,
        secret: [1; 32],
        created_at: now_ns(),
        alive_until,
        key: None,
    };
    // A session whose lease ran out does not count.
    meta.add_session(&session(1), 1).unwrap();
    meta.add_session(&session(i64::MAX), 1).unwrap();
    let refused = meta.add_session(&session(i64::MAX), 1).unwrap_err();
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::LimitExceeded, Some("sessions"))
    );

    meta.add_token(&key("default", "a", None), AddKey::Within(2)).unwrap();
    let mut expired = key("default", "old", None);
    expired.expires_at = Some(1);
    meta.add_token(&expired, AddKey::Within(2)).unwrap();
    meta.add_token(&key("default", "b", None), AddKey::Within(2)).unwrap();
    let refused = meta
        .add_token(&key("default", "c", None), AddKey::Within(2))
        .unwrap_err();
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::LimitExceeded, Some("keys"))
    );

    let f = file(meta, v, ROOT_INO, "f");
    let value = vec![7u8; 60 * 1024];
    meta.set_xattr(v.into(), f, b"user.a", &value, XattrMode::Any).unwrap();
    meta.set_xattr(v.into(), f, b"user.b", &value, XattrMode::Any).unwrap();
    let refused = meta
        .set_xattr(v.into(), f, b"user.c", &value, XattrMode::Any)
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::LimitExceeded);
    // Replacing one in place fits again.
    meta.set_xattr(v.into(), f, b"user.b", &value, XattrMode::Any).unwrap();
    assert_eq!(meta.list_xattrs(v.into(), f).unwrap().len(), 2);
}

fn revoking_a_key_revokes_the_keys_it_made(e: &Engine) {
    let meta = &*e.meta;
    // A chain of keys, each made by the one before, and a key beside it.
    let mut chain = vec![key("default", "k0", None)];
    for i in 1..50 {
        let mut next = key("default", &format!("k{i}"), None);
        next.made_by = Some(chain[i - 1].id);
        chain.push(next);
    }
    let beside = key("default", "beside", None);
    for k in chain.iter().chain([&beside]) {
        meta.add_token(k, AddKey::Within(u64::MAX)).unwrap();
    }
    let revoked = meta.revoke_token(chain[10].id, 7).unwrap();
    assert_eq!(revoked.len(), 40);
    for (i, k) in chain.iter().enumerate() {
        let stored = meta.get_token(k.id).unwrap().unwrap();
        assert_eq!(stored.made_by, k.made_by);
        assert_eq!(stored.revoked_at.is_some(), i >= 10, "k{i}");
    }
    assert!(meta.get_token(beside.id).unwrap().unwrap().revoked_at.is_none());
}

fn orgs_and_keys_round_trip(e: &Engine) {
    use strata_core::keys::OrgName;
    let meta = &*e.meta;
    // The organization of the first admin key is there from the start.
    let orgs = |m: &dyn MetaStore| m.list_orgs().unwrap().into_iter().map(|o| o.name).collect::<Vec<_>>();
    assert_eq!(orgs(meta), ["default"]);
    meta.create_org(&OrgName::parse("acme").unwrap()).unwrap();
    let again = meta.create_org(&OrgName::parse("acme").unwrap()).unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyExists);
    assert_eq!(orgs(meta), ["acme", "default"]);

    // Keys go only into organizations that exist; names are unique per organization.
    assert_eq!(
        meta.add_token(&key("nowhere", "k", None), AddKey::Within(u64::MAX))
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    let plain = key("acme", "ci", None);
    meta.add_token(&plain, AddKey::Within(u64::MAX)).unwrap();
    assert_eq!(
        meta.add_token(&key("acme", "ci", None), AddKey::Within(u64::MAX))
            .unwrap_err()
            .kind,
        ErrorKind::AlreadyExists
    );
    meta.add_token(&key("default", "ci", None), AddKey::Within(u64::MAX))
        .unwrap();

    // Volume names are unique per organization too, and one organization does not see another's.
    let vol = meta.create_volume("acme", &name("data"), 10).unwrap();
    let theirs = meta.create_volume("default", &name("data"), 10).unwrap();
    assert_ne!(vol.id, theirs.id);
    assert_eq!(
        meta.get_volume("acme", &VolumeRef::Id(theirs.id)).unwrap_err().kind,
        ErrorKind::NotFound
    );

    let scoped = key(
        "acme",
        "sandbox",
        Some(ScopeRecord {
            volume: vol.id,
            subpath: "/users/alice".into(),
            read_only: true,
        }),
    );
    meta.add_token(&scoped, AddKey::Within(u64::MAX)).unwrap();
    assert_eq!(meta.find_token(&scoped.hash).unwrap(), Some(scoped.clone()));
    assert_eq!(meta.get_token(plain.id).unwrap(), Some(plain.clone()));
    assert_eq!(meta.list_tokens("acme").unwrap(), [plain.clone(), scoped.clone()]);

    // A revoked key stays findable (the audit log names it) but is listed no more, and its
    // name is free again; the mount sessions it opened end with it, others stay.
    let session = |key: Option<Uuid>| SessionRecord {
        id: Uuid::new_v4(),
        org: "acme".into(),
        volume: vol.id,
        root_ino: 1,
        read_only: true,
        secret: [1; 32],
        created_at: 1,
        alive_until: i64::MAX,
        key,
    };
    let (its, other) = (session(Some(scoped.id)), session(Some(plain.id)));
    meta.add_session(&its, u64::MAX).unwrap();
    meta.add_session(&other, u64::MAX).unwrap();
    assert_eq!(meta.find_session(its.id).unwrap(), Some(its.clone()));
    meta.revoke_token(scoped.id, 5).unwrap();
    assert_eq!(meta.find_session(its.id).unwrap(), None);
    assert_eq!(meta.find_session(other.id).unwrap(), Some(other));
    assert_eq!(meta.revoke_token(scoped.id, 6).unwrap_err().kind, ErrorKind::NotFound);
    let revoked = meta.find_token(&scoped.hash).unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(5));
    assert_eq!(meta.list_tokens("acme").unwrap(), [plain]);
    meta.add_token(&key("acme", "sandbox", None), AddKey::Within(u64::MAX))
        .unwrap();
    assert_eq!(
        meta.revoke_token(Uuid::new_v4(), 5).unwrap_err().kind,
        ErrorKind::NotFound
    );
    let reopened = e.reopen();
    assert_eq!(orgs(&*reopened), ["acme", "default"]);
    assert_eq!(reopened.list_tokens("acme").unwrap().len(), 2);
}

fn readdir_pages_list_every_entry_once_across_layers(e: &Engine) {
    let meta = &*e.meta;
    let src = meta.create_volume(ORG, &name("src"), 10).unwrap().id;
    let d = dir(meta, src, ROOT_INO, "d");
    for i in 0..30 {
        file(meta, src, d, &format!("f{i:02}"));
    }
    let fork = meta.fork_volume(ORG, src, &name("fork"), 10).unwrap().id;
    // Whiteouts, new names and a changed inode in the head, over the frozen layer.
    for i in (0..30).step_by(3) {
        meta.unlink(fork.into(), d, format!("f{i:02}").as_bytes()).unwrap();
    }
    for i in 0..5 {
        file(meta, fork, d, &format!("g{i}"));
    }
    let f01 = meta.lookup(fork.into(), d, b"f01").unwrap().ino;
    meta.set_xattr(fork.into(), f01, b"user.k", b"v", XattrMode::Any)
        .unwrap();

    let (mut paged, mut after, mut pages) = (Vec::new(), None::<Vec<u8>>, 0);
    loop {
        let page = meta.readdir_page(fork.into(), d, after.as_deref(), 4).unwrap();
        assert!(page.entries.len() <= 4, "a page holds at most its limit");
        pages += 1;
        paged.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let whole: Vec<(Vec<u8>, Stat)> = meta.readdir(fork, d).unwrap();
    assert_eq!(whole.len(), 25);
    assert_eq!(
        paged.iter().map(|(n, s, _)| (n.clone(), s.clone())).collect::<Vec<_>>(),
        whole,
        "pages together are the whole listing, in order, each entry once"
    );
    assert!(pages >= 25 / 4, "{pages} pages");
    let with_xattrs: Vec<&[u8]> = paged.iter().filter(|e| e.2).map(|e| e.0.as_slice()).collect();
    assert_eq!(with_xattrs, [b"f01".as_slice()]);
    // A page after the last name is empty and final.
    let end = meta.readdir_page(fork.into(), d, Some(b"zzz"), 4).unwrap();
    assert!(end.entries.is_empty() && end.next.is_none());
}

/// A block with small writes laid over it is stored, cut and forked as one chunk.
fn patched_chunks_keep_their_patches_through_truncates_and_forks(e: &Engine) {
    use strata_core::patches::Patches;
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let f = file(meta, v, ROOT_INO, "f");
    meta.touch_block(&[9; 32], 100, 100, None).unwrap();
    let mut patches = Patches::new(100);
    patches.push(90, b"0123456789".to_vec());
    patches.push(100, b"appended".to_vec());
    let patched = Chunk {
        idx: 0,
        len: 108,
        data: ChunkData::Patched([9; 32], patches.clone()),
    };
    meta.write_chunks(v, f, 108, std::slice::from_ref(&patched), true)
        .unwrap();
    assert_eq!(meta.chunks(v.into(), f).unwrap().1, vec![patched.clone()]);
    let fork = meta.fork_volume(ORG, v, &name("fork"), 10).unwrap().id;
    meta.setattr(
        fork.into(),
        f,
        &AttrChanges {
            size: Some(95),
            ..AttrChanges::default()
        },
    )
    .unwrap();
    patches.cut(95);
    let cut = Chunk {
        idx: 0,
        len: 95,
        data: ChunkData::Patched([9; 32], patches),
    };
    assert_eq!(meta.chunks(fork.into(), f).unwrap().1, vec![cut]);
    assert_eq!(
        meta.chunks(v.into(), f).unwrap().1,
        vec![patched],
        "the source keeps its patches"
    );
}

/// Reads packs from memory, as the server does from its store.
struct PacksInMemory(std::collections::HashMap<BlockHash, bytes::Bytes>);

impl PackReader for PacksInMemory {
    fn read(&self, _org: &str, pack: &BlockHash) -> Result<bytes::Bytes> {
        self.0
            .get(pack)
            .cloned()
            .ok_or_else(|| Error::not_found("no such pack"))
    }
}

/// A slice of a pack is stored, cut and forked as one chunk, and compares with a writer's
/// base by its bytes: the writer saw them inline.
fn packed_chunks_compare_with_an_inline_base_by_their_bytes(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let f = file(meta, v, ROOT_INO, "f");
    let pack = [7; 32];
    meta.read_packs_with(std::sync::Arc::new(PacksInMemory(
        [(pack, bytes::Bytes::from_static(b"..hello.."))].into(),
    )));
    meta.touch_block(&pack, 9, 9, None).unwrap();
    // Stored with the hash of its bytes; cut by a truncate, without.
    let packed = |len: u64| Chunk {
        idx: 0,
        len,
        data: ChunkData::Packed {
            pack,
            off: 2,
            sum: (len == 5).then(|| *blake3::hash(b"hello").as_bytes()),
        },
    };
    meta.write_chunks(v, f, 5, &[packed(5)], true).unwrap();
    assert_eq!(meta.chunks(v.into(), f).unwrap().1, vec![packed(5)]);
    // A pack holds other files' bytes too: a session is not given it for a file naming it.
    let reader = SessionRecord {
        id: Uuid::new_v4(),
        org: ORG.into(),
        volume: v,
        root_ino: ROOT_INO,
        read_only: true,
        secret: [9; 32],
        created_at: 1,
        alive_until: i64::MAX,
        key: None,
    };
    meta.add_session(&reader, u64::MAX).unwrap();
    assert!(!meta.session_may_read(v, reader.id, &pack).unwrap());
    let past_the_end = Chunk {
        data: ChunkData::Packed {
            pack,
            off: 6,
            sum: None,
        },
        ..packed(5)
    };
    let err = meta.write_chunks(v, f, 5, &[past_the_end], true).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{}", err.message);

    let write = |chunks: &[Chunk], base: &[Chunk], size: u64| {
        let w = ContentWrite {
            chunks,
            replace_all: true,
            size,
            base: Some(base),
            ..ContentWrite::default()
        };
        meta.write_content(v.into(), f, &w)
    };
    let stale = write(&[inline(0, b"HELLO")], &[inline(0, b"jello")], 5);
    assert_eq!(stale.unwrap_err().kind, ErrorKind::Stale);
    assert_eq!(meta.chunks(v.into(), f).unwrap().1, vec![packed(5)], "nothing changed");

    let fork = meta.fork_volume(ORG, v, &name("fork"), 10).unwrap().id;
    assert_eq!(
        meta.chunks(fork.into(), f).unwrap().1,
        vec![packed(5)],
        "a fork shares the slice"
    );
    meta.setattr(
        v.into(),
        f,
        &AttrChanges {
            size: Some(3),
            ..AttrChanges::default()
        },
    )
    .unwrap();
    assert_eq!(meta.chunks(v.into(), f).unwrap().1, vec![packed(3)]);
    write(&[inline(0, b"HEL")], &[inline(0, b"hel")], 3).expect("the base holds the same bytes");
    assert_eq!(meta.chunks(v.into(), f).unwrap().1, vec![inline(0, b"HEL")]);
    assert_eq!(
        meta.chunks(fork.into(), f).unwrap().1,
        vec![packed(5)],
        "the fork keeps its own"
    );
    let fork_write = ContentWrite {
        chunks: &[inline(0, b"HELLO")],
        replace_all: true,
        size: 5,
        base: Some(&[inline(0, b"hello")]),
        ..ContentWrite::default()
    };
    meta.write_content(fork.into(), f, &fork_write)
        .expect("the base has the bytes the sum names");
}

fn sandbox_records_are_counted_per_organization(e: &Engine) {
    let meta = &*e.meta;
    let record = |org: &str, at: i64| SandboxRecord {
        id: Uuid::new_v4(),
        org: org.into(),
        server: "server-a".into(),
        created_at: at,
        body: format!("{{\"at\":{at}}}"),
    };
    let (first, second) = (record(ORG, 1), record(ORG, 2));
    meta.add_sandbox(&first, 2).unwrap();
    meta.add_sandbox(&second, 2).unwrap();
    let refused = meta.add_sandbox(&record(ORG, 3), 2).unwrap_err();
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::LimitExceeded, Some("sandboxes"))
    );
    // Another organization counts its own.
    meta.add_sandbox(&record("other", 4), 2).unwrap();
    let ids = |org| {
        meta.list_sandboxes(org)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(Some(ORG)), [first.id, second.id]);
    assert_eq!(ids(None).len(), 3);
    meta.update_sandbox(first.id, "{\"state\":\"lost\"}").unwrap();
    assert_eq!(
        meta.get_sandbox(first.id).unwrap().unwrap().body,
        "{\"state\":\"lost\"}"
    );
    meta.remove_sandbox(first.id).unwrap();
    assert_eq!(meta.get_sandbox(first.id).unwrap(), None);
    assert_eq!(
        meta.update_sandbox(first.id, "{}").unwrap_err().kind,
        ErrorKind::NotFound
    );
    // A place freed is a place to take.
    meta.add_sandbox(&record(ORG, 5), 2).unwrap();
}

fn create_as(parent: u64, n: &str, kind: FileKind, ino: Option<u64>, by: Option<Uuid>) -> Change {
    Change::Create {
        parent,
        name: n.as_bytes().to_vec(),
        new: NewInode {
            ino,
            ..NewInode::new(kind, 0o755)
        },
        by,
    }
}

/// Ownership goes to a writable session alone on its volume, never beside another session,
/// and not again within a second of a recall; a recall ends it, and an owner whose lease
/// ran out loses it to the first recall.
fn ownership_goes_to_a_session_alone_on_its_volume(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let now = now_ns();
    let reader = session_on(v, true);
    meta.add_session(&reader, u64::MAX).unwrap();
    assert_eq!(
        meta.own(reader.id, 8, now).unwrap(),
        None,
        "a read-only session never owns"
    );
    let a = session_on(v, false);
    meta.add_session(&a, u64::MAX).unwrap();
    assert_eq!(meta.own(a.id, 8, now).unwrap(), None, "another session uses the volume");
    meta.remove_session(reader.id).unwrap();
    let first = meta.own(a.id, 8, now).unwrap().expect("alone: granted");
    assert_eq!(meta.ownership(a.id).unwrap(), Some((true, false)));
    let more = meta.own(a.id, 8, now).unwrap().expect("more numbers while owning");
    assert_eq!(more, first + 8, "ranges never overlap");
    // Inodes the engine picks come after every granted one.
    let f = file(meta, v, ROOT_INO, "f");
    assert!(f >= more + 8, "{f} after {more}+8");

    // Another session opening: no grant beside it; a recall asks the owner back.
    let b = session_on(v, false);
    meta.add_session(&b, u64::MAX).unwrap();
    assert_eq!(meta.own(b.id, 8, now).unwrap(), None);
    assert_eq!(meta.recall(v, now, None, None).unwrap().map(|(id, _)| id), Some(a.id));
    assert_eq!(meta.ownership(a.id).unwrap(), Some((true, true)));
    assert_eq!(meta.own(a.id, 8, now).unwrap(), None, "recalled: no more numbers");
    meta.disown(a.id).unwrap();
    assert_eq!(meta.ownership(a.id).unwrap(), Some((false, false)));
    assert_eq!(meta.recall(v, now, None, None).unwrap(), None);
    meta.remove_session(b.id).unwrap();
    assert_eq!(
        meta.own(a.id, 8, now).unwrap(),
        None,
        "within a second of the last recall"
    );
    let later = now + 2_000_000_000;
    assert!(meta.own(a.id, 8, later).unwrap().is_some());

    // An owner whose lease ran out loses the tree to the next recall.
    let short = SessionRecord {
        alive_until: later + 1,
        ..session_on(v, false)
    };
    meta.remove_session(a.id).unwrap();
    meta.add_session(&short, u64::MAX).unwrap();
    assert!(meta.own(short.id, 8, later).unwrap().is_some());
    assert_eq!(
        meta.recall(v, later + 2, None, None).unwrap(),
        None,
        "its lease ran out: no owner"
    );
    assert_eq!(meta.ownership(short.id).unwrap(), Some((false, false)));

    // An owner whose tree was taken, not given back, is not granted it again.
    let stubborn = session_on(v, false);
    meta.remove_session(short.id).unwrap();
    meta.add_session(&stubborn, u64::MAX).unwrap();
    let much_later = later + 4_000_000_000;
    assert!(meta.own(stubborn.id, 8, much_later).unwrap().is_some());
    meta.revoke_ownership(stubborn.id).unwrap();
    assert_eq!(meta.ownership(stubborn.id).unwrap(), Some((false, true)));
    assert_eq!(meta.own(stubborn.id, 8, much_later + 4_000_000_000).unwrap(), None);
}

/// Sessions on folders apart from each other (tenants of one volume) each own their tree; a
/// session whose tree overlaps an owner's (a folder within it, or one that holds it) is not
/// granted beside it, and its opening recalls only the owners it overlaps.
fn sessions_on_folders_apart_each_own_their_tree(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let (a, b) = (dir(meta, v, ROOT_INO, "a"), dir(meta, v, ROOT_INO, "b"));
    let c = dir(meta, v, a, "c");
    let on = |root| SessionRecord {
        root_ino: root,
        ..session_on(v, false)
    };
    let (sa, sb, sc, whole) = (on(a), on(b), on(c), on(ROOT_INO));
    let now = now_ns();
    meta.add_session(&sa, u64::MAX).unwrap();
    meta.add_session(&sb, u64::MAX).unwrap();
    let first = meta.own(sa.id, 8, now).unwrap().expect("a, beside b");
    let second = meta.own(sb.id, 8, now).unwrap().expect("b, beside a");
    assert!(second >= first + 8, "ranges never overlap");

    // A session on a folder within a's opens: it recalls a, and leaves b alone.
    meta.add_session(&sc, u64::MAX).unwrap();
    let recalled = meta.recall(v, now, Some(sc.id), Some(c)).unwrap();
    assert_eq!(recalled.map(|(id, _)| id), Some(sa.id));
    assert_eq!(meta.ownership(sa.id).unwrap(), Some((true, true)));
    assert_eq!(meta.ownership(sb.id).unwrap(), Some((true, false)));
    meta.disown(sa.id).unwrap();
    assert_eq!(
        meta.recall(v, now, Some(sc.id), Some(c)).unwrap(),
        None,
        "nobody left in its way"
    );
    assert_eq!(meta.own(sc.id, 8, now).unwrap(), None, "a is alive around it");
    let later = now + 2_000_000_000;
    assert_eq!(meta.own(sa.id, 8, later).unwrap(), None, "c is alive within it");

    // The volume's root holds every folder: a session on it recalls every owner.
    meta.add_session(&whole, u64::MAX).unwrap();
    let recalled = meta.recall(v, later, Some(whole.id), Some(ROOT_INO)).unwrap();
    assert_eq!(recalled.map(|(id, _)| id), Some(sb.id));
    meta.disown(sb.id).unwrap();
    for gone in [&sb, &sc, &whole] {
        meta.remove_session(gone.id).unwrap();
    }
    assert!(
        meta.own(sa.id, 8, later + 2_000_000_000).unwrap().is_some(),
        "alone again"
    );

    // A file named in both folders would be changed by both owners: neither owns beside the
    // other.
    let shared = file(meta, v, a, "shared");
    meta.link(v.into(), shared, b, b"shared").unwrap();
    meta.disown(sa.id).unwrap();
    let other = on(b);
    meta.add_session(&other, u64::MAX).unwrap();
    let much_later = later + 4_000_000_000;
    assert_eq!(meta.own(sa.id, 8, much_later).unwrap(), None, "linked across");
    assert_eq!(meta.own(other.id, 8, much_later).unwrap(), None, "linked across");
}

/// A batch applies whole or not at all, in order, each change checked as its single call;
/// only while its session owns the volume, and only once per number. A created inode takes
/// a granted number only if no layer holds it and it was allocated.
fn batches_apply_whole_once_and_only_for_their_owner(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let owner = session_on(v, false);
    meta.add_session(&owner, u64::MAX).unwrap();
    let first = meta.own(owner.id, 16, now_ns()).unwrap().unwrap();
    let (d, f) = (first, first + 1);
    let batch = [
        create_as(ROOT_INO, "d", FileKind::Directory, Some(d), Some(owner.id)),
        create_as(d, "f", FileKind::File, Some(f), Some(owner.id)),
        Change::Write {
            ino: f,
            write: WriteChange {
                chunks: vec![inline(0, b"hello")],
                size: 5,
                ..WriteChange::default()
            },
        },
        Change::Rename {
            from: (d, b"f".to_vec()),
            to: (ROOT_INO, b"g".to_vec()),
            flags: RenameFlags::default(),
            at: None,
        },
    ];
    let stats = meta.apply(v.into(), Some((owner.id, 1)), &batch).unwrap();
    assert_eq!(stats.len(), 4);
    assert_eq!(meta.lookup(v.into(), ROOT_INO, b"g").unwrap().ino, f);
    assert_eq!(meta.lookup(v.into(), ROOT_INO, b"g").unwrap().size, 5);
    assert!(names(meta, v, d).is_empty());
    // The same number again: answered, not applied again.
    assert!(meta.apply(v.into(), Some((owner.id, 1)), &batch).unwrap().is_empty());
    assert_eq!(names(meta, v, ROOT_INO), ["d", "g"]);

    // One refused change refuses the whole batch: the create before it does not land.
    let bad = [
        create_as(ROOT_INO, "h", FileKind::File, Some(first + 2), Some(owner.id)),
        create_as(ROOT_INO, "g", FileKind::File, Some(first + 3), Some(owner.id)),
    ];
    let e2 = meta.apply(v.into(), Some((owner.id, 2)), &bad).unwrap_err();
    assert_eq!(e2.kind, ErrorKind::AlreadyExists);
    assert_eq!(names(meta, v, ROOT_INO), ["d", "g"]);

    // Numbers not granted to the session, or in use, are refused; so is a number granted to
    // another session, and a chosen number without a session.
    let other = session_on(v, false);
    meta.add_session(&other, u64::MAX).unwrap();
    for (ino, by) in [(first + 11, Some(other.id)), (first + 11, None)] {
        let e3 = meta
            .apply(
                v.into(),
                None,
                &[create_as(ROOT_INO, "x", FileKind::File, Some(ino), by)],
            )
            .unwrap_err();
        assert_eq!(e3.field.as_deref(), Some("ino"));
    }
    meta.remove_session(other.id).unwrap();
    for ino in [ROOT_INO, f, first + 1000, u64::MAX] {
        let e3 = meta
            .apply(
                v.into(),
                None,
                &[create_as(ROOT_INO, "x", FileKind::File, Some(ino), Some(owner.id))],
            )
            .unwrap_err();
        assert_eq!(
            (e3.kind, e3.field.as_deref()),
            (ErrorKind::InvalidInput, Some("ino")),
            "{ino}"
        );
    }
    // A fork shares the lower layers: a number they hold is refused there too.
    let fork = meta.fork_volume(ORG, v, &name("fork"), 10).unwrap().id;
    let e4 = meta
        .apply(
            fork.into(),
            None,
            &[create_as(ROOT_INO, "x", FileKind::File, Some(d), Some(owner.id))],
        )
        .unwrap_err();
    assert_eq!(e4.field.as_deref(), Some("ino"));

    // A batch passes the quota and the subpath rules as single calls do, whole or not at all.
    let quota = strata_core::api::Quota {
        bytes: None,
        files: Some(4),
    };
    meta.set_quota(ORG, v, quota).unwrap();
    let over = [
        create_as(ROOT_INO, "q1", FileKind::File, Some(first + 4), Some(owner.id)),
        create_as(ROOT_INO, "q2", FileKind::File, Some(first + 5), Some(owner.id)),
        create_as(ROOT_INO, "q3", FileKind::File, Some(first + 6), Some(owner.id)),
    ];
    let e6 = meta.apply(v.into(), Some((owner.id, 3)), &over).unwrap_err();
    assert_eq!(e6.kind, ErrorKind::QuotaExceeded);
    assert_eq!(names(meta, v, ROOT_INO), ["d", "g"]);
    let below_d = Reach::below(v, d);
    let outside = [
        create_as(d, "inside", FileKind::File, Some(first + 7), Some(owner.id)),
        Change::Unlink {
            parent: ROOT_INO,
            name: b"g".to_vec(),
            at: None,
        },
    ];
    let e7 = meta.apply(below_d, Some((owner.id, 4)), &outside).unwrap_err();
    assert_eq!((e7.kind, e7.field.as_deref()), (ErrorKind::NotFound, Some("node")));
    assert!(names(meta, v, d).is_empty(), "nothing of the batch landed");

    // A change made earlier keeps its time, if within the last hour; else it is now.
    let unbounded = strata_core::api::Quota {
        bytes: None,
        files: None,
    };
    meta.set_quota(ORG, v, unbounded).unwrap();
    let made = |n: &str, ino: u64, at: i64| {
        let mut change = create_as(d, n, FileKind::File, Some(ino), Some(owner.id));
        if let Change::Create { new, .. } = &mut change {
            new.at = Some(at);
        }
        meta.apply(v.into(), None, &[change]).unwrap()[0].clone().unwrap()
    };
    let minute_ago = now_ns() - 60_000_000_000;
    assert_eq!(made("t1", first + 8, minute_ago).mtime, minute_ago);
    assert_eq!(
        meta.getattr(v.into(), d).unwrap().mtime,
        minute_ago,
        "its directory's too"
    );
    let before = now_ns();
    for (n, ino, at) in [("t2", first + 9, now_ns() + 3_600_000_000_000), ("t3", first + 10, 0)] {
        let stat = made(n, ino, at);
        assert!(stat.mtime >= before && stat.mtime <= now_ns(), "{n}: {}", stat.mtime);
    }
    for n in ["t1", "t2", "t3"] {
        meta.unlink(v.into(), d, n.as_bytes()).unwrap();
    }

    // Ownership gone: a batch is refused whole.
    meta.disown(owner.id).unwrap();
    let e5 = meta
        .apply(
            v.into(),
            Some((owner.id, 3)),
            &[create_as(ROOT_INO, "y", FileKind::File, None, Some(owner.id))],
        )
        .unwrap_err();
    assert_eq!(e5.kind, ErrorKind::Conflict);
    assert_eq!(names(meta, v, ROOT_INO), ["d", "g"]);
}

/// A change a mount made earlier and ships now keeps its time (the times it sets on its
/// inode and directory), if within the last hour and not in the future; else it is now.
fn changes_shipped_later_keep_the_time_they_were_made(e: &Engine) {
    let meta = &*e.meta;
    let v = meta.create_volume(ORG, &name("v"), 10).unwrap().id;
    let minute = 60_000_000_000i64;
    let then = now_ns() - 10 * minute;
    let apply = |change: Change| meta.apply(v.into(), None, &[change]).unwrap();
    let dir = |n: &str| meta.lookup(v.into(), ROOT_INO, n.as_bytes()).unwrap();
    apply(create_as(ROOT_INO, "d", FileKind::Directory, None, None));
    let d = dir("d").ino;
    let file = |n: &str, at: Option<i64>| Change::Create {
        parent: d,
        name: n.as_bytes().to_vec(),
        new: NewInode {
            at,
            ..NewInode::new(FileKind::File, 0o644)
        },
        by: None,
    };
    apply(file("a", Some(then)));
    let (made, d_stat) = (meta.lookup(v.into(), d, b"a").unwrap(), dir("d"));
    assert_eq!(
        (made.mtime, made.ctime, d_stat.mtime, d_stat.ctime),
        (then, then, then, then)
    );

    let renamed_at = then + minute;
    apply(Change::Rename {
        from: (d, b"a".to_vec()),
        to: (d, b"b".to_vec()),
        flags: RenameFlags::default(),
        at: Some(renamed_at),
    });
    let moved = meta.lookup(v.into(), d, b"b").unwrap();
    assert_eq!((moved.ctime, dir("d").mtime), (renamed_at, renamed_at));

    let removed_at = then + 2 * minute;
    apply(Change::Unlink {
        parent: d,
        name: b"b".to_vec(),
        at: Some(removed_at),
    });
    assert_eq!((dir("d").mtime, dir("d").ctime), (removed_at, removed_at));
    apply(create_as(d, "e", FileKind::Directory, None, None));
    let emptied_at = then + 3 * minute;
    apply(Change::Rmdir {
        parent: d,
        name: b"e".to_vec(),
        at: Some(emptied_at),
    });
    assert_eq!(dir("d").mtime, emptied_at);

    // Older than an hour, or in the future: now.
    for at in [now_ns() - 120 * minute, now_ns() + 10 * minute] {
        let before = now_ns();
        apply(file("late", Some(at)));
        apply(Change::Unlink {
            parent: d,
            name: b"late".to_vec(),
            at: Some(at),
        });
        let d_stat = dir("d");
        assert!(
            d_stat.mtime >= before && d_stat.mtime <= now_ns(),
            "{at}: {}",
            d_stat.mtime
        );
    }
}

on_every_engine!(
    ownership_goes_to_a_session_alone_on_its_volume,
    sessions_on_folders_apart_each_own_their_tree,
    changes_shipped_later_keep_the_time_they_were_made,
    batches_apply_whole_once_and_only_for_their_owner,
    volumes_lifecycle_and_limit,
    sandbox_records_are_counted_per_organization,
    posix_errors,
    rename_replaces_atomically_and_keeps_links,
    content_truncate_and_accounting,
    byte_counts_stay_exact_at_any_size,
    patched_chunks_keep_their_patches_through_truncates_and_forks,
    packed_chunks_compare_with_an_inline_base_by_their_bytes,
    conditional_writes_refuse_a_stale_base,
    fork_isolates_both_sides,
    collection_frees_blocks_of_deleted_volumes_only,
    survives_reopen,
    xattrs_follow_their_inode_through_forks,
    sessions_round_trip,
    a_sessions_uploads_outlive_the_grace_period,
    within_follows_the_tree_as_it_is_now,
    operations_stay_within_their_reach,
    quotas_refuse_growth_past_them_whole,
    concurrent_writers_never_pass_a_quota,
    an_organization_quota_bounds_its_volumes_together,
    within_stays_true_to_moves_made_anywhere,
    orgs_and_keys_round_trip,
    revoking_a_key_revokes_the_keys_it_made,
    counts_are_bounded,
    readdir_pages_list_every_entry_once_across_layers
);

#[test]
fn a_schema_newer_than_known_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.db");
    drop(SqliteMeta::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = SqliteMeta::open(&path).err().unwrap();
    assert!(err.message.contains("newer than this strata knows"), "{}", err.message);

    let url = strata_testkit::postgres().new_database();
    drop(open_url(&url).unwrap());
    let db = url.rsplit('/').next().unwrap();
    let mut client = strata_testkit::postgres().client(db).unwrap();
    client.batch_execute("UPDATE strata_schema SET version = 99").unwrap();
    let err = open_url(&url).err().unwrap();
    assert!(err.message.contains("newer than this strata knows"), "{}", err.message);
}
