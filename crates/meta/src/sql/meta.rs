//! [`MetaStore`] over any [`Engine`]: each method is one transaction of the shared policy.

use super::tree::{Caches, Tree};
use super::{
    Engine, Isolation, R, Tx, blocks, diff, flatten, fsck, history, keys, locks, merge, ops, paths, sandboxes, vals,
    volumes,
};
use crate::{
    AddKey, AttrChanges, BlockHash, Change, Chunk, ContentWrite, Cutoffs, DirPage, Error, ErrorKind, FsckReport,
    LockRange, MetaStore, NewInode, Reach, RenameFlags, Result, SandboxRecord, SessionRecord, TokenRecord, WrappedKeys,
    XattrMode, now_ns,
};
use std::collections::HashSet;
use strata_core::api::{DiffEntry, HistoryPoint, MergeReport, Org, Prefer, Quota, Stat, StoreUsage, Volume};
use strata_core::keys::OrgName;
use strata_core::names::{VolumeName, VolumeRef};
use uuid::Uuid;

pub struct SqlMeta<E> {
    pub(crate) engine: E,
    pub(crate) caches: Caches,
}

impl<E: Engine> SqlMeta<E> {
    pub fn with_engine(engine: E) -> Self {
        SqlMeta {
            engine,
            caches: Caches::default(),
        }
    }

    fn history_settings(&self) -> history::Settings {
        *self.caches.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read<T>(&self, mut f: impl FnMut(&dyn Tx) -> R<T>) -> Result<T> {
        Ok(self.engine.read(&mut f)?)
    }

    fn write<T>(&self, mut f: impl FnMut(&dyn Tx) -> R<T>) -> Result<T> {
        Ok(self.engine.write(Isolation::Statement, &mut f)?)
    }

    fn read_tree<T>(&self, vol: Uuid, mut f: impl FnMut(&Tree) -> R<T>) -> Result<T> {
        self.read(|tx| f(&Tree::open(tx, &self.caches, vol, false)?))
    }

    /// A read of the tree that `at` reaches, naming the inodes `inos`.
    fn read_in<T>(&self, at: Reach, inos: &[u64], mut f: impl FnMut(&Tree) -> R<T>) -> Result<T> {
        self.read_tree(at.volume, |t| {
            in_reach(t, at, inos)?;
            f(t)
        })
    }

    /// A change of the tree that `at` reaches, naming the inodes `inos`: checked in the
    /// transaction that makes the change, after the volume's row is locked.
    fn write_in<T>(&self, at: Reach, inos: &[u64], mut f: impl FnMut(&mut Tree) -> R<T>) -> Result<T> {
        self.write_tree(at.volume, |t| {
            in_reach(t, at, inos)?;
            f(t)
        })
    }

    fn write_tree<T>(&self, vol: Uuid, mut f: impl FnMut(&mut Tree) -> R<T>) -> Result<T> {
        self.write(|tx| {
            let mut tree = Tree::open(tx, &self.caches, vol, true)?;
            if tree.snapshot {
                return Err(Error::new(ErrorKind::ReadOnly, "a snapshot is read-only").into());
            }
            let out = f(&mut tree)?;
            tree.check_quota()?;
            tree.finish()?;
            Ok(out)
        })
    }
}

/// Fails unless every inode of `inos` lies within `at` as the tree is now.
fn in_reach(tree: &Tree, at: Reach, inos: &[u64]) -> R<()> {
    for &ino in inos {
        if !ops::within(tree, ino, at.root)? {
            return Err(Error::not_found("no such node in this mount's folder")
                .with_field("node")
                .into());
        }
    }
    Ok(())
}

impl<E: Engine> MetaStore for SqlMeta<E> {
    fn sync(&self) -> Result<()> {
        Ok(self.engine.sync()?)
    }

    fn read_packs_with(&self, reader: std::sync::Arc<dyn crate::PackReader>) {
        let _ = self.caches.packs.set(reader);
    }

    fn add_token(&self, token: &TokenRecord, rule: AddKey) -> Result<bool> {
        self.write(|tx| keys::add_token(tx, token, rule))
    }

    fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>> {
        self.read(|tx| keys::find_token(tx, hash))
    }

    fn get_token(&self, id: Uuid) -> Result<Option<TokenRecord>> {
        self.read(|tx| keys::get_token(tx, id))
    }

    fn list_tokens(&self, org: &str) -> Result<Vec<TokenRecord>> {
        self.read(|tx| keys::list_tokens(tx, org))
    }

    fn revoke_token(&self, id: Uuid, now: i64) -> Result<Vec<Uuid>> {
        self.write(|tx| keys::revoke_token(tx, id, now))
    }

    fn create_org(&self, name: &OrgName) -> Result<Org> {
        let now = now_ns();
        self.write(|tx| keys::create_org(tx, name.as_str(), now))
    }

    fn list_orgs(&self) -> Result<Vec<Org>> {
        self.read(keys::list_orgs)
    }

    fn get_org(&self, name: &str) -> Result<Org> {
        self.read(|tx| keys::get_org(tx, name))
    }

    fn set_org_quota(&self, name: &str, bytes: Option<u64>) -> Result<Org> {
        self.write(|tx| keys::set_org_quota(tx, name, bytes))
    }

    fn add_sandbox(&self, sandbox: &SandboxRecord, limit: u64) -> Result<()> {
        self.write(|tx| sandboxes::add(tx, sandbox, limit))
    }

    fn update_sandbox(&self, id: Uuid, body: &str) -> Result<()> {
        self.write(|tx| sandboxes::update(tx, id, body))
    }

    fn get_sandbox(&self, id: Uuid) -> Result<Option<SandboxRecord>> {
        self.read(|tx| sandboxes::get(tx, id))
    }

    fn list_sandboxes(&self, org: Option<&str>) -> Result<Vec<SandboxRecord>> {
        self.read(|tx| sandboxes::list(tx, org))
    }

    fn remove_sandbox(&self, id: Uuid) -> Result<()> {
        self.write(|tx| sandboxes::remove(tx, id))
    }

    fn add_session(&self, session: &SessionRecord, limit: u64) -> Result<()> {
        self.write(|tx| volumes::add_session(tx, session, limit))
    }

    fn find_session(&self, id: Uuid) -> Result<Option<SessionRecord>> {
        self.read(|tx| volumes::find_session(tx, id))
    }

    fn org_sessions(&self, org: &str, now: i64) -> Result<Vec<SessionRecord>> {
        self.read(|tx| volumes::org_sessions(tx, org, now))
    }

    fn live_sessions(&self, vol: Uuid, now: i64) -> Result<Vec<Uuid>> {
        self.read(|tx| volumes::live_sessions(tx, vol, now))
    }

    fn renew_session(&self, id: Uuid, alive_until: i64) -> Result<()> {
        self.write(|tx| volumes::renew_session(tx, id, alive_until))
    }

    fn counts(&self, now: i64) -> Result<(u64, u64)> {
        self.read(|tx| {
            let volumes = tx.query_one("SELECT COUNT(*) FROM volumes", vals![])?.u64(0)?;
            let sessions = tx
                .query_one("SELECT COUNT(*) FROM sessions WHERE alive_until > $1", vals![now])?
                .u64(0)?;
            Ok((volumes, sessions))
        })
    }

    fn expire_sessions(&self, before: i64) -> Result<u64> {
        self.write(|tx| volumes::expire_sessions(tx, before))
    }

    fn remove_session(&self, id: Uuid) -> Result<()> {
        self.write(|tx| volumes::remove_session(tx, id))
    }

    fn own(&self, session: Uuid, inodes: u64, now: i64) -> Result<Option<u64>> {
        self.write(|tx| volumes::own(tx, &self.caches, session, inodes, now))
    }

    fn disown(&self, session: Uuid) -> Result<()> {
        self.write(|tx| volumes::disown(tx, session))
    }

    fn revoke_ownership(&self, session: Uuid) -> Result<()> {
        self.write(|tx| {
            // `recalled` stays set: `own` refuses a recalled session.
            tx.exec(
                "UPDATE sessions SET owner = 0, recalled = 1 WHERE id = $1",
                vals![session],
            )?;
            Ok(())
        })
    }

    fn recall(&self, vol: Uuid, now: i64, by: Option<Uuid>, reach: Option<u64>) -> Result<Option<(Uuid, i64)>> {
        self.write(|tx| volumes::recall(tx, &self.caches, vol, now, by, reach))
    }

    fn listening(&self, session: Uuid, until: i64) -> Result<()> {
        self.write(|tx| volumes::listening(tx, session, until))
    }

    fn ownership(&self, session: Uuid) -> Result<Option<(bool, bool)>> {
        self.read(|tx| volumes::ownership(tx, session))
    }

    fn apply(&self, at: Reach, owner: Option<(Uuid, u64)>, changes: &[Change]) -> Result<Vec<Option<Stat>>> {
        self.write_tree(at.volume, |t| {
            if let Some((owner, seq)) = owner
                && !volumes::check_owner(t.tx(), owner, seq)?
            {
                return Ok(Vec::new());
            }
            changes
                .iter()
                .map(|change| {
                    in_reach(t, at, &change.inodes())?;
                    ops::apply(t, change)
                })
                .collect()
        })
    }

    fn test_lock(&self, at: Reach, ino: u64, owner: (Uuid, u64), want: &LockRange) -> Result<Option<LockRange>> {
        self.read(|tx| {
            in_reach(&Tree::open(tx, &self.caches, at.volume, false)?, at, &[ino])?;
            let held = locks::held(tx, at.volume, ino, now_ns())?;
            Ok(locks::first_conflict(&held, owner, want))
        })
    }

    fn set_lock(&self, at: Reach, ino: u64, owner: (Uuid, u64), want: LockRange) -> Result<Option<LockRange>> {
        self.write(|tx| {
            // Read, not written: a lock changes no tree, and a snapshot's readers lock too.
            in_reach(&Tree::open(tx, &self.caches, at.volume, false)?, at, &[ino])?;
            locks::set(tx, at.volume, ino, owner, want.clone(), now_ns())
        })
    }

    fn create_volume(&self, org: &str, name: &VolumeName, limit: u64) -> Result<Volume> {
        self.write(|tx| volumes::create(tx, org, name, limit))
    }

    fn get_volume(&self, org: &str, volume: &VolumeRef) -> Result<Volume> {
        let VolumeRef::Moment(name, moment) = volume else {
            return self.read(|tx| volumes::get(tx, org, volume));
        };
        let settings = self.history_settings();
        self.write(|tx| {
            let vol = volumes::get(tx, org, &VolumeRef::Name(name.clone()))?;
            let now = now_ns();
            history::moment(tx, &settings, org, vol.id, moment.at(now), now)
        })
    }

    fn set_history(&self, keep_ns: i64, step_ns: i64) {
        *self.caches.history.lock().unwrap_or_else(|p| p.into_inner()) = history::Settings { keep_ns, step_ns };
    }

    fn set_volume_history(&self, org: &str, id: Uuid, keep_ns: Option<i64>) -> Result<Volume> {
        self.write(|tx| history::set_keep(tx, org, id, keep_ns))
    }

    fn history(&self, org: &str, id: Uuid, limit: u64) -> Result<Vec<HistoryPoint>> {
        self.read(|tx| history::points(tx, org, id, limit))
    }

    fn list_volumes(&self, org: &str) -> Result<Vec<Volume>> {
        self.read(|tx| volumes::list(tx, org))
    }

    fn delete_volume(&self, org: &str, id: Uuid) -> Result<()> {
        self.write(|tx| volumes::delete(tx, org, id))
    }

    fn set_quota(&self, org: &str, id: Uuid, quota: Quota) -> Result<Volume> {
        self.write(|tx| volumes::set_quota(tx, org, id, quota))
    }

    fn set_compression(&self, org: &str, id: Uuid, compression: Option<&str>) -> Result<Volume> {
        self.write(|tx| volumes::set_compression(tx, org, id, compression))
    }

    fn volume_usage(&self, org: &str, id: Uuid) -> Result<StoreUsage> {
        self.read(|tx| {
            volumes::get(tx, org, &VolumeRef::Id(id))?;
            let tree = Tree::open(tx, &self.caches, id, false)?;
            blocks::usage(&tree)
        })
    }

    fn rename_volume(&self, org: &str, id: Uuid, name: &VolumeName) -> Result<Volume> {
        self.write(|tx| volumes::rename(tx, org, id, name))
    }

    fn fork_volume(&self, org: &str, source: Uuid, name: &VolumeName, limit: u64) -> Result<Volume> {
        self.write(|tx| volumes::fork(tx, org, source, name, limit))
    }

    fn diff(&self, from: Uuid, to: Uuid) -> Result<Vec<DiffEntry>> {
        self.read(|tx| diff::volumes(tx, &self.caches, from, to))
    }

    fn merge_fork(
        &self,
        org: &str,
        fork: Uuid,
        into: Option<Uuid>,
        prefer: Option<Prefer>,
        dry_run: bool,
    ) -> Result<MergeReport> {
        self.write(|tx| merge::merge(tx, &self.caches, org, fork, into, prefer, dry_run))
    }

    fn promote_volume(&self, org: &str, fork: Uuid, keep_as: &VolumeName, limit: u64) -> Result<Volume> {
        self.write(|tx| volumes::promote(tx, org, fork, keep_as, limit))
    }

    fn snapshot_volume(&self, org: &str, volume: Uuid, name: &VolumeName, limit: u64) -> Result<Volume> {
        self.write(|tx| volumes::snapshot(tx, org, volume, name, limit))
    }

    fn list_snapshots(&self, org: &str, volume: Uuid) -> Result<Vec<Volume>> {
        self.read(|tx| volumes::list_snapshots(tx, org, volume))
    }

    fn restore_volume(&self, org: &str, volume: Uuid, snapshot: Uuid) -> Result<Volume> {
        self.write(|tx| volumes::restore(tx, org, volume, snapshot))
    }

    fn flatten_volume(&self, vol: Uuid, max_depth: usize) -> Result<bool> {
        flatten::flatten(self, vol, max_depth)
    }

    fn chain_depth(&self, vol: Uuid) -> Result<usize> {
        self.read_tree(vol, |t| Ok(t.depth()))
    }

    fn lookup(&self, at: Reach, parent: u64, name: &[u8]) -> Result<Stat> {
        self.read_in(at, &[parent], |t| ops::lookup(t, parent, name))
    }

    fn getattr(&self, at: Reach, ino: u64) -> Result<Stat> {
        self.read_in(at, &[ino], |t| Ok(t.need_inode(ino)?.stat))
    }

    fn within(&self, vol: Uuid, ino: u64, root: u64) -> Result<bool> {
        self.read_tree(vol, |t| ops::within(t, ino, root))
    }

    fn readdir(&self, vol: Uuid, ino: u64) -> Result<Vec<(Vec<u8>, Stat)>> {
        self.read_tree(vol, |t| ops::readdir(t, ino))
    }

    fn readdir_page(&self, at: Reach, ino: u64, after: Option<&[u8]>, limit: usize) -> Result<DirPage> {
        self.read_in(at, &[ino], |t| ops::readdir_page(t, ino, after, limit))
    }

    fn create(&self, at: Reach, parent: u64, name: &[u8], new: &NewInode) -> Result<Stat> {
        self.write_in(at, &[parent], |t| ops::create(t, parent, name, new))
    }

    fn link(&self, at: Reach, ino: u64, parent: u64, name: &[u8]) -> Result<Stat> {
        self.write_in(at, &[ino, parent], |t| ops::link(t, ino, parent, name))
    }

    fn unlink(&self, at: Reach, parent: u64, name: &[u8]) -> Result<()> {
        self.write_in(at, &[parent], |t| ops::unlink(t, parent, name, None))
    }

    fn rmdir(&self, at: Reach, parent: u64, name: &[u8]) -> Result<()> {
        self.write_in(at, &[parent], |t| ops::rmdir(t, parent, name, None))
    }

    fn rename(&self, at: Reach, from: (u64, &[u8]), to: (u64, &[u8]), flags: RenameFlags) -> Result<()> {
        self.write_in(at, &[from.0, to.0], |t| ops::rename(t, from, to, flags, None))
    }

    fn setattr(&self, at: Reach, ino: u64, changes: &AttrChanges) -> Result<Stat> {
        self.write_in(at, &[ino], |t| ops::setattr(t, ino, changes, None))
    }

    fn get_xattr(&self, at: Reach, ino: u64, name: &[u8]) -> Result<Vec<u8>> {
        self.read_in(at, &[ino], |t| ops::get_xattr(t, ino, name))
    }

    fn set_xattr(&self, at: Reach, ino: u64, name: &[u8], value: &[u8], mode: XattrMode) -> Result<()> {
        self.write_in(at, &[ino], |t| ops::set_xattr(t, ino, name, value, mode))
    }

    fn list_xattrs(&self, at: Reach, ino: u64) -> Result<Vec<Vec<u8>>> {
        self.read_in(at, &[ino], |t| ops::list_xattrs(t, ino))
    }

    fn remove_xattr(&self, at: Reach, ino: u64, name: &[u8]) -> Result<()> {
        self.write_in(at, &[ino], |t| ops::remove_xattr(t, ino, name))
    }

    fn chunks(&self, at: Reach, ino: u64) -> Result<(Stat, Vec<Chunk>)> {
        self.read_in(at, &[ino], |t| ops::chunks(t, ino))
    }

    fn write_content(&self, at: Reach, ino: u64, write: &ContentWrite) -> Result<Stat> {
        self.write_in(at, &[ino], |t| ops::write_content(t, ino, write))
    }

    fn resolve(&self, vol: Uuid, path: &[String]) -> Result<Stat> {
        self.read_tree(vol, |t| paths::resolve(t, path))
    }

    fn put_file(&self, vol: Uuid, path: &[String], mode: u32, size: u64, chunks: &[Chunk]) -> Result<Stat> {
        self.write_tree(vol, |t| paths::put_file(t, path, mode, size, chunks))
    }

    fn copy_file(&self, vol: Uuid, from: &[String], to: &[String]) -> Result<Stat> {
        self.write_tree(vol, |t| paths::copy_file(t, from, to))
    }

    fn mkdir_all(&self, vol: Uuid, path: &[String], mode: u32) -> Result<Stat> {
        self.write_tree(vol, |t| paths::mkdir_all(t, path, mode))
    }

    fn remove_path(&self, vol: Uuid, path: &[String], recursive: bool) -> Result<()> {
        self.write_tree(vol, |t| paths::remove(t, path, recursive))
    }

    fn touch_block(&self, hash: &BlockHash, size: u64, stored: u64, copy: Option<&str>) -> Result<()> {
        self.write(|tx| {
            blocks::touch(tx, hash, size, stored)?;
            copy.map_or(Ok(()), |org| blocks::note_copy(tx, hash, org))
        })
    }

    fn block_copies(&self, hashes: &[BlockHash]) -> Result<std::collections::HashMap<BlockHash, Vec<String>>> {
        self.read(|tx| blocks::copies(tx, hashes))
    }

    fn org_block_copies(&self, org: &str) -> Result<Vec<BlockHash>> {
        self.read(|tx| {
            tx.query("SELECT hash FROM block_copies WHERE org = $1 ORDER BY hash", vals![org])?
                .iter()
                .map(|r| BlockHash::try_from(r.blob(0)?).map_err(|_| Error::internal("malformed block hash").into()))
                .collect()
        })
    }

    fn org_keys(&self, org: &str) -> Result<Option<WrappedKeys>> {
        self.read(|tx| keys::org_keys(tx, org))
    }

    fn encrypt_org(&self, org: &str, naming: &[u8], data: &[u8]) -> Result<()> {
        self.write(|tx| keys::encrypt_org(tx, org, naming, data, now_ns()))
    }

    fn add_data_key(&self, org: &str, id: u32, wrapped: &[u8]) -> Result<()> {
        self.write(|tx| keys::add_data_key(tx, org, id, wrapped, now_ns()))
    }

    fn touch_session_block(
        &self,
        session: Uuid,
        hash: &BlockHash,
        size: u64,
        stored: u64,
        copy: Option<&str>,
    ) -> Result<()> {
        self.write(|tx| {
            blocks::touch(tx, hash, size, stored)?;
            if let Some(org) = copy {
                blocks::note_copy(tx, hash, org)?;
            }
            blocks::note_upload(tx, session, hash)
        })
    }

    fn session_may_read(&self, vol: Uuid, session: Uuid, hash: &BlockHash) -> Result<bool> {
        self.read_tree(vol, |t| blocks::may_use(t, session, hash))
    }

    fn collect_layers(&self) -> Result<u64> {
        let settings = self.history_settings();
        let collected = self.engine.write(Isolation::Snapshot, &mut |tx| {
            let now = now_ns();
            history::forget(tx, &settings, now)?;
            let collected = blocks::collect_layers(tx, now)?;
            history::prune_past(tx, &settings, now)?;
            Ok(collected)
        })?;
        if collected > 0 {
            // Chains of deleted heads would never be asked for again: let them go.
            self.caches.forget_chains();
        }
        Ok(collected)
    }

    fn mark_unreferenced_blocks(&self, cutoffs: Cutoffs, pass: Uuid) -> Result<Vec<(BlockHash, u64)>> {
        self.write(|tx| blocks::mark_unreferenced(tx, cutoffs, pass))
    }

    fn forget_blocks(&self, hashes: &[BlockHash], pass: Uuid) -> Result<()> {
        self.write(|tx| blocks::forget(tx, hashes, pass))
    }

    fn collectable(&self, cutoffs: Cutoffs) -> Result<(u64, Vec<(BlockHash, u64)>)> {
        self.read(|tx| {
            Ok((
                blocks::dead_layers(tx, now_ns())?.len() as u64,
                blocks::unreferenced(tx, cutoffs)?,
            ))
        })
    }

    fn stored_blocks(&self) -> Result<Vec<BlockHash>> {
        self.read(|tx| {
            tx.query("SELECT hash FROM blocks WHERE state = 0", vals![])?
                .iter()
                .map(|r| BlockHash::try_from(r.blob(0)?).map_err(|_| Error::internal("malformed block hash").into()))
                .collect()
        })
    }

    fn fsck(&self, missing: &HashSet<BlockHash>, since: i64, repair: bool) -> Result<FsckReport> {
        let (collectable, volumes) =
            self.read(|tx| Ok((blocks::dead_layers(tx, now_ns())?.len() as u64, fsck::volumes(tx)?)))?;
        let store = fsck::StoreView { missing, since };
        let mut report = FsckReport {
            collectable_layers: collectable,
            repaired: repair,
            ..FsckReport::default()
        };
        let mut blocks = HashSet::new();
        // One transaction per volume: a repair holds one volume's writers at a time.
        for (id, name) in &volumes {
            let check = |tx: &dyn Tx| fsck::check_volume(tx, &self.caches, (*id, name), &store, repair);
            let found = match if repair { self.write(check) } else { self.read(check) } {
                Err(e) if e.kind == ErrorKind::NotFound => continue, // Deleted meanwhile.
                other => other?,
            };
            report.volumes += 1;
            report.inodes += found.inodes;
            report.problems.extend(found.problems);
            blocks.extend(found.blocks);
        }
        report.blocks = blocks.len() as u64;
        Ok(report)
    }
}
