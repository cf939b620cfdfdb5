//! Volumes, snapshots, forks and mount sessions.

use super::tree::{Caches, Tree};
use super::{Fail, R, Row, Tx, ops, vals};
use crate::{Error, ErrorKind, ROOT_INO, SessionRecord, now_ns};
use strata_core::api::{Volume, VolumeState};
use strata_core::names::{VolumeName, VolumeRef};
use uuid::Uuid;

const VOLUME_COLUMNS: &str =
    "id, name, created_at, updated_at, used_bytes, file_count, snapshot_of, quota_bytes, quota_files, forked_from,
     moment_at, history_ns, compression, last_mounted_at";

fn volume_from_row(r: &Row) -> R<Volume> {
    Ok(Volume {
        id: r.uuid(0)?,
        name: r.text(1)?,
        state: VolumeState::Ready,
        created_at: r.i64(2)?,
        updated_at: r.i64(3)?,
        used_bytes: r.i64(4)?.max(0) as u64,
        file_count: r.i64(5)?.max(0) as u64,
        snapshot_of: r.opt_uuid(6)?,
        quota_bytes: r.opt_i64(7)?.map(|q| q.max(0) as u64),
        quota_files: r.opt_i64(8)?.map(|q| q.max(0) as u64),
        forked_from: r.opt_uuid(9)?,
        moment_at: r.opt_i64(10)?,
        history_ns: r.opt_i64(11)?,
        compression: r.opt_text(12)?,
        last_used_at: r.i64(3)?.max(r.opt_i64(13)?.unwrap_or(0)),
    })
}

/// Sets a volume's quota (not a snapshot's: it never grows).
pub fn set_quota(tx: &dyn Tx, org: &str, id: Uuid, quota: strata_core::api::Quota) -> R<Volume> {
    let as_count = |v: Option<u64>, field: &str| -> R<Option<i64>> {
        v.map(|v| i64::try_from(v).map_err(|_| Error::invalid(field, "more than the volume can count").into()))
            .transpose()
    };
    let (bytes, files) = (as_count(quota.bytes, "bytes")?, as_count(quota.files, "files")?);
    let sql = format!(
        "UPDATE volumes SET quota_bytes = $3, quota_files = $4 WHERE org = $1 AND id = $2 AND snapshot_of IS NULL
         RETURNING {VOLUME_COLUMNS}"
    );
    match tx.query_opt(&sql, vals![org, id, bytes, files])? {
        Some(row) => volume_from_row(&row),
        None => {
            let snapshot = tx.query_opt("SELECT 1 FROM volumes WHERE org = $1 AND id = $2", vals![org, id])?;
            Err(match snapshot {
                Some(_) => Error::invalid("volume", "a snapshot never grows: it has no quota"),
                None => Error::not_found("no such volume").with_field("volume"),
            }
            .into())
        }
    }
}

/// Sets how a volume's new blocks are compressed (not a snapshot's: it stores none).
pub fn set_compression(tx: &dyn Tx, org: &str, id: Uuid, compression: Option<&str>) -> R<Volume> {
    let sql = format!(
        "UPDATE volumes SET compression = $3 WHERE org = $1 AND id = $2 AND snapshot_of IS NULL
         RETURNING {VOLUME_COLUMNS}"
    );
    match tx.query_opt(&sql, vals![org, id, compression])? {
        Some(row) => volume_from_row(&row),
        None => Err(Error::not_found("no such volume").with_field("volume").into()),
    }
}

pub fn new_layer(tx: &dyn Tx, parent: Option<i64>, frozen: bool) -> R<i64> {
    tx.query_one(
        "INSERT INTO layers (parent, frozen, created_at) VALUES ($1, $2, $3) RETURNING id",
        vals![parent, frozen, now_ns()],
    )?
    .i64(0)
}

fn check_limit(tx: &dyn Tx, org: &str, limit: u64) -> R<()> {
    tx.lock_org(org)?;
    let count = tx
        .query_one(
            "SELECT COUNT(*) FROM volumes WHERE org = $1 AND snapshot_of IS NULL",
            vals![org],
        )?
        .i64(0)?;
    if count as u64 >= limit {
        let msg =
            format!("this organization already has {count} volumes, the most allowed ({limit}); delete one first");
        return Err(Error::new(ErrorKind::LimitExceeded, msg).into());
    }
    Ok(())
}

/// What a new volume row starts from.
pub(super) struct Origin {
    pub head: i64,
    pub next_ino: i64,
    pub used_bytes: i64,
    pub file_count: i64,
    pub snapshot_of: Option<Uuid>,
}

pub(super) fn insert_volume(tx: &dyn Tx, org: &str, name: &str, origin: Origin) -> R<Volume> {
    let id = Uuid::new_v4();
    let now = now_ns();
    // `DO NOTHING` keeps the transaction usable on every engine when the name is taken.
    let inserted = tx.exec(
        "INSERT INTO volumes (id, org, name, head, next_ino, used_bytes, file_count, state, created_at, updated_at, snapshot_of)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'ready', $8, $8, $9) ON CONFLICT (org, name) DO NOTHING",
        vals![
            id,
            org,
            name,
            origin.head,
            origin.next_ino,
            origin.used_bytes,
            origin.file_count,
            now,
            origin.snapshot_of
        ],
    )?;
    if inserted == 0 {
        return Err(Error::new(ErrorKind::AlreadyExists, format!("{name} already exists"))
            .with_field("name")
            .into());
    }
    get(tx, org, &VolumeRef::Id(id))
}

pub fn create(tx: &dyn Tx, org: &str, name: &VolumeName, limit: u64) -> R<Volume> {
    check_limit(tx, org, limit)?;
    let head = new_layer(tx, None, false)?;
    tx.exec(
        "INSERT INTO inodes (layer, ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent)
         VALUES ($1, $2, 0, 2, 493, 0, 0, 0, 2, 0, $3, $3, $3, $2)",
        vals![head, ROOT_INO, now_ns()],
    )?;
    let origin = Origin {
        head,
        next_ino: ROOT_INO as i64 + 1,
        used_bytes: 0,
        file_count: 0,
        snapshot_of: None,
    };
    insert_volume(tx, org, name.as_str(), origin)
}

/// The row of a volume or snapshot of this organization, locked until the transaction ends.
fn row(tx: &dyn Tx, org: &str, id: Uuid) -> R<Origin> {
    let sql = format!(
        "SELECT head, next_ino, used_bytes, file_count, snapshot_of FROM volumes WHERE org = $1 AND id = $2{}",
        tx.for_update()
    );
    let r = tx
        .query_opt(&sql, vals![org, id])?
        .ok_or_else(|| Fail::Fs(Error::not_found("volume not found")))?;
    Ok(Origin {
        head: r.i64(0)?,
        next_ino: r.i64(1)?,
        used_bytes: r.i64(2)?,
        file_count: r.i64(3)?,
        snapshot_of: r.opt_uuid(4)?,
    })
}

/// Freezes a volume's head and gives it a new empty one on top; returns the frozen layer.
pub(super) fn freeze_head(tx: &dyn Tx, id: Uuid, head: i64) -> R<i64> {
    super::history::retire_head(tx, id, head, false)?;
    tx.exec("UPDATE layers SET frozen = 1 WHERE id = $1", vals![head])?;
    let new_head = new_layer(tx, Some(head), false)?;
    tx.exec("UPDATE volumes SET head = $2 WHERE id = $1", vals![id, new_head])?;
    Ok(head)
}

/// A read-only, point-in-time copy of a volume, named `VOLUME@NAME`.
pub fn snapshot(tx: &dyn Tx, org: &str, volume: Uuid, name: &VolumeName, limit: u64) -> R<Volume> {
    let source = row(tx, org, volume)?;
    if source.snapshot_of.is_some() {
        return Err(Error::invalid("volume", "cannot snapshot a snapshot; fork it first").into());
    }
    tx.lock_org(org)?;
    let count = tx
        .query_one(
            "SELECT COUNT(*) FROM volumes WHERE snapshot_of = $1 AND moment_at IS NULL",
            vals![volume],
        )?
        .i64(0)?;
    if count as u64 >= limit {
        let msg = format!("this volume already has {count} snapshots, the most allowed ({limit}); delete one first");
        return Err(Error::new(ErrorKind::LimitExceeded, msg).with_field("snapshots").into());
    }
    let source_name = tx
        .query_one("SELECT name FROM volumes WHERE id = $1", vals![volume])?
        .text(0)?;
    let frozen = freeze_head(tx, volume, source.head)?;
    let key = format!("{source_name}@{name}");
    insert_volume(
        tx,
        org,
        &key,
        Origin {
            head: frozen,
            snapshot_of: Some(volume),
            ..source
        },
    )
}

pub fn list_snapshots(tx: &dyn Tx, org: &str, volume: Uuid) -> R<Vec<Volume>> {
    let sql = format!(
        "SELECT {VOLUME_COLUMNS} FROM volumes WHERE org = $1 AND snapshot_of = $2 AND moment_at IS NULL ORDER BY created_at"
    );
    tx.query(&sql, vals![org, volume])?
        .iter()
        .map(volume_from_row)
        .collect()
}

/// Returns a volume to a snapshot of it: a new empty head on the snapshot's frozen layer.
pub fn restore(tx: &dyn Tx, org: &str, volume: Uuid, snapshot: Uuid) -> R<Volume> {
    let target = row(tx, org, volume)?;
    let snap = row(tx, org, snapshot)?;
    if snap.snapshot_of != Some(volume) {
        return Err(Error::invalid("snapshot", "that snapshot was not taken of this volume").into());
    }
    // The tree before the restore stays in the volume's history.
    super::history::retire_head(tx, volume, target.head, true)?;
    tx.exec("UPDATE layers SET frozen = 1 WHERE id = $1", vals![target.head])?;
    let head = new_layer(tx, Some(snap.head), false)?;
    // Inode numbers are never reused, so mounts holding newer inodes cannot mistake them.
    let next_ino = target.next_ino.max(snap.next_ino);
    let (found, now) = (
        (target.used_bytes, target.file_count),
        (snap.used_bytes, snap.file_count),
    );
    super::quotas::check_counts(tx, volume, found, now)?;
    tx.exec(
        "UPDATE volumes SET head = $2, next_ino = $3, used_bytes = $4, file_count = $5, window_at = 0 WHERE id = $1",
        vals![volume, head, next_ino, snap.used_bytes, snap.file_count],
    )?;
    get(tx, org, &VolumeRef::Id(volume))
}

/// How many inode numbers each fork has for the files it makes: every fork makes them in a
/// range no other fork shares (ranges are counted once for the whole database), so that
/// once a fork takes its source's place (promote) a mount never finds one number naming two
/// files. A volume made anew starts in range 0.
const RANGE_BITS: u32 = 36;

/// The first inode number of a range no volume has used.
fn new_range(tx: &dyn Tx) -> R<i64> {
    let range = tx
        .query_one(
            "INSERT INTO ino_ranges (id, next) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET next = ino_ranges.next + 1
             RETURNING next - 1",
            vals![],
        )?
        .i64(0)?;
    if range >= 1 << (63 - RANGE_BITS) {
        return Err(Error::new(ErrorKind::LimitExceeded, "this database has made all the forks it can").into());
    }
    Ok(range << RANGE_BITS)
}

/// A new volume sharing `source`'s tree: the source's head is frozen (a snapshot's already
/// is) and the new volume gets an empty head on top of it. Constant cost at any size. The
/// fork remembers its source volume and the layer it started from (its merge base).
pub fn fork(tx: &dyn Tx, org: &str, source: Uuid, name: &VolumeName, limit: u64) -> R<Volume> {
    let origin = row(tx, org, source)?;
    check_limit(tx, org, limit)?;
    let frozen = if origin.snapshot_of.is_some() {
        origin.head
    } else {
        freeze_head(tx, source, origin.head)?
    };
    let head = new_layer(tx, Some(frozen), false)?;
    let next_ino = new_range(tx)?;
    let from = origin.snapshot_of.unwrap_or(source);
    let counts = (origin.used_bytes, origin.file_count);
    let fork = insert_volume(
        tx,
        org,
        name.as_str(),
        Origin {
            head,
            next_ino,
            snapshot_of: None,
            ..origin
        },
    )?;
    tx.exec(
        "UPDATE volumes SET forked_from = $2, fork_base = $3, fork_ino = $4 WHERE id = $1",
        vals![fork.id, from, frozen, next_ino],
    )?;
    // A new volume holding the source's files: it counts whole against the organization.
    super::quotas::check_counts(tx, fork.id, (0, 0), counts)?;
    get(tx, org, &VolumeRef::Id(fork.id))
}

/// Makes a fork's tree its source volume's (same id and name: its mounts see the fork's tree
/// as after a restore), keeping the source's last tree as a snapshot `SOURCE@NAME` and in
/// its history. The fork lives on, as a fresh fork of its source. Returns the source.
pub fn promote(tx: &dyn Tx, org: &str, fork: Uuid, name: &VolumeName, limit: u64) -> R<Volume> {
    let f = row(tx, org, fork)?;
    let link = tx.query_one("SELECT forked_from, fork_ino FROM volumes WHERE id = $1", vals![fork])?;
    let (Some(source), Some(_)) = (link.opt_uuid(0)?, link.opt_i64(1)?) else {
        let msg = "this volume is no fork (or was forked before forks could be promoted)";
        return Err(Error::invalid("fork", msg).into());
    };
    if row(tx, org, source).is_err() {
        return Err(Error::invalid("fork", "the volume this was forked from no longer exists").into());
    }
    snapshot(tx, org, source, name, limit)?;
    // The fork's tree, frozen, under both: a new head for the source, one for the fork.
    let frozen = freeze_head(tx, fork, f.head)?;
    let current = tx.query_one(
        "SELECT head, used_bytes, file_count FROM volumes WHERE id = $1",
        vals![source],
    )?;
    let found = (current.i64(1)?, current.i64(2)?);
    super::quotas::check_counts(tx, source, found, (f.used_bytes, f.file_count))?;
    let current = current.i64(0)?;
    super::history::retire_head(tx, source, current, true)?;
    let head = new_layer(tx, Some(frozen), false)?;
    // Each goes on making files in its own range of numbers.
    tx.exec(
        "UPDATE volumes SET head = $2, used_bytes = $3, file_count = $4, window_at = 0 WHERE id = $1",
        vals![source, head, f.used_bytes, f.file_count],
    )?;
    tx.exec("UPDATE volumes SET fork_base = $2 WHERE id = $1", vals![fork, frozen])?;
    get(tx, org, &VolumeRef::Id(source))
}

pub fn get(tx: &dyn Tx, org: &str, volume: &VolumeRef) -> R<Volume> {
    let (column, value) = match volume {
        VolumeRef::Id(id) => ("id", id.to_string()),
        VolumeRef::Name(name) => ("name", name.to_string()),
        VolumeRef::Snapshot(volume, snapshot) => ("name", VolumeRef::snapshot_key(volume, snapshot)),
        // Pinned first, in a transaction that writes (`history::moment`).
        VolumeRef::Moment(..) => return Err(Error::internal("a moment is read once pinned").into()),
    };
    let sql = format!("SELECT {VOLUME_COLUMNS} FROM volumes WHERE org = $1 AND {column} = $2");
    match tx.query_opt(&sql, vals![org, &value])? {
        Some(r) => volume_from_row(&r),
        None => Err(volume.not_found().into()),
    }
}

pub fn list(tx: &dyn Tx, org: &str) -> R<Vec<Volume>> {
    let sql = format!("SELECT {VOLUME_COLUMNS} FROM volumes WHERE org = $1 AND snapshot_of IS NULL ORDER BY name");
    tx.query(&sql, vals![org])?.iter().map(volume_from_row).collect()
}

/// Deletes a volume with its snapshots, or one snapshot. Forks live on.
pub fn rename(tx: &dyn Tx, org: &str, id: Uuid, name: &VolumeName) -> R<Volume> {
    let source = row(tx, org, id)?;
    if source.snapshot_of.is_some() {
        return Err(Error::invalid("volume", "a snapshot keeps its name; rename its volume").into());
    }
    let old = tx
        .query_one("SELECT name FROM volumes WHERE id = $1", vals![id])?
        .text(0)?;
    let new = name.as_str();
    if old == new {
        return get(tx, org, &VolumeRef::Id(id));
    }
    // The name, or any snapshot name under it, taken: checked first, so that no statement
    // fails half way (PostgreSQL would abort the transaction).
    let prefix = format!("{new}@");
    let taken = tx.query_opt(
        "SELECT name FROM volumes WHERE org = $1 AND (name = $2 OR substr(name, 1, $3) = $4)",
        vals![org, new, prefix.len() as i64, prefix.as_str()],
    )?;
    if let Some(row) = taken {
        let msg = format!("{} already exists", row.text(0)?);
        return Err(Error::new(ErrorKind::AlreadyExists, msg).with_field("name").into());
    }
    tx.exec(
        "UPDATE volumes SET name = $3, updated_at = $4 WHERE org = $1 AND id = $2",
        vals![org, id, new, now_ns()],
    )?;
    tx.exec(
        "UPDATE volumes SET name = $3 || substr(name, $4) WHERE org = $1 AND snapshot_of = $2",
        vals![org, id, new, old.len() as i64 + 1],
    )?;
    get(tx, org, &VolumeRef::Id(id))
}

pub fn delete(tx: &dyn Tx, org: &str, id: Uuid) -> R<()> {
    row(tx, org, id)?;
    tx.exec(
        "DELETE FROM volumes WHERE org = $1 AND snapshot_of = $2",
        vals![org, id],
    )?;
    tx.exec("DELETE FROM volumes WHERE org = $1 AND id = $2", vals![org, id])?;
    Ok(())
}

pub fn add_session(tx: &dyn Tx, s: &SessionRecord, limit: u64) -> R<()> {
    // After a grant of ownership of this volume, or before it: never beside one (see `own`).
    // The volume before the organization, as every writer takes them (`quotas::check`).
    lock_volume(tx, s.volume)?;
    tx.lock_org(&s.org)?;
    let live = tx
        .query_one(
            "SELECT COUNT(*) FROM sessions WHERE org = $1 AND alive_until >= $2",
            vals![s.org.as_str(), s.created_at],
        )?
        .i64(0)?;
    if live as u64 >= limit {
        let msg = format!(
            "this organization already has {live} mount sessions open, the most allowed ({limit}); unmount one first"
        );
        return Err(Error::new(ErrorKind::LimitExceeded, msg).with_field("sessions").into());
    }
    tx.exec(
        "INSERT INTO sessions (id, org, volume, root_ino, read_only, secret, created_at, alive_until, key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vals![
            s.id,
            s.org.as_str(),
            s.volume,
            s.root_ino,
            s.read_only,
            &s.secret,
            s.created_at,
            s.alive_until,
            s.key
        ],
    )?;
    tx.exec(
        "UPDATE volumes SET last_mounted_at = $2 WHERE id = $1",
        vals![s.volume, s.created_at],
    )?;
    Ok(())
}

/// Ids of the sessions whose lease runs at `now` on a volume or on one of its snapshots.
pub fn live_sessions(tx: &dyn Tx, vol: Uuid, now: i64) -> R<Vec<Uuid>> {
    tx.query(
        "SELECT id FROM sessions WHERE alive_until > $2
         AND (volume = $1 OR volume IN (SELECT id FROM volumes WHERE snapshot_of = $1)) ORDER BY created_at",
        vals![vol, now],
    )?
    .iter()
    .map(|r| r.uuid(0))
    .collect()
}

/// Locks a volume's row until the transaction ends (PostgreSQL; SQLite has one writer).
fn lock_volume(tx: &dyn Tx, vol: Uuid) -> R<()> {
    tx.query_opt(
        &format!("SELECT id FROM volumes WHERE id = $1{}", tx.for_update()),
        vals![vol],
    )?;
    Ok(())
}

/// How long after a recall (a use of the volume by anyone but its owner) no other session is
/// granted ownership: a caller that recalls right before its change is not overtaken by a
/// new grant. A session opening recalls too, as itself: it may own the volume at once.
pub const QUIET_NS: i64 = 1_000_000_000;

/// How long an owner that shipped a batch counts as listening for a recall.
const HEARD_NS: i64 = 2_000_000_000;

/// Whether two sessions' trees (their roots) overlap: one lies within the other.
fn overlap(tree: &Tree, a: u64, b: u64) -> R<bool> {
    Ok(ops::within(tree, a, b)? || ops::within(tree, b, a)?)
}

/// Grants `session` the ownership of its tree (its root and all below), with `inodes` new
/// inode numbers, unless another live session's tree overlaps it or someone else used the
/// volume in the last [`QUIET_NS`]. Sessions on folders apart from each other (tenants of
/// one volume) may each own theirs. Returns the first granted number.
pub fn own(tx: &dyn Tx, caches: &Caches, session: Uuid, inodes: u64, now: i64) -> R<Option<u64>> {
    let Some(row) = tx.query_opt(
        "SELECT volume, read_only, recalled, alive_until, root_ino FROM sessions WHERE id = $1",
        vals![session],
    )?
    else {
        return Err(Error::not_found("no such mount session").into());
    };
    let (vol, root) = (row.uuid(0)?, row.u64(4)?);
    if row.bool(1)? || row.bool(2)? || row.i64(3)? <= now {
        return Ok(None);
    }
    // The volume's row first, as every writer of it and `add_session` take it: no session
    // opens on the volume between this count and the grant.
    let sql = format!(
        "SELECT next_ino, used_at, used_by FROM volumes WHERE id = $1{}",
        tx.for_update()
    );
    let row = tx.query_one(&sql, vals![vol])?;
    if row.i64(1)? > now - QUIET_NS && row.opt_uuid(2)? != Some(session) {
        return Ok(None);
    }
    let first = row.u64(0)?;
    let others = tx.query(
        "SELECT root_ino FROM sessions WHERE volume = $1 AND id <> $2 AND alive_until > $3",
        vals![vol, session, now],
    )?;
    if !others.is_empty() {
        let tree = Tree::open(tx, caches, vol, false)?;
        // A file with names in two folders would be changed by both owners, each trusting
        // what it knows of it: beside anyone, a tree is owned only in a volume without such
        // files.
        if tree.may_hold_links()? {
            return Ok(None);
        }
        for other in &others {
            if overlap(&tree, other.u64(0)?, root)? {
                return Ok(None);
            }
        }
    }
    tx.exec(
        "UPDATE volumes SET next_ino = next_ino + $2 WHERE id = $1",
        vals![vol, inodes],
    )?;
    tx.exec("UPDATE sessions SET owner = 1 WHERE id = $1", vals![session])?;
    tx.exec(
        "INSERT INTO grants (session, first, count) VALUES ($1, $2, $3)",
        vals![session, first, inodes],
    )?;
    Ok(Some(first))
}

pub fn disown(tx: &dyn Tx, session: Uuid) -> R<()> {
    tx.exec(
        "UPDATE sessions SET owner = 0, recalled = 0 WHERE id = $1",
        vals![session],
    )?;
    Ok(())
}

/// Marks recalled every owner of `vol` whose tree the caller may touch: all of them, or,
/// given the caller's `reach` (a directory), those whose tree overlaps it. Returns one
/// still owning, and until when it counts as listening, for the caller to wait for.
pub fn recall(
    tx: &dyn Tx,
    caches: &Caches,
    vol: Uuid,
    now: i64,
    by: Option<Uuid>,
    reach: Option<u64>,
) -> R<Option<(Uuid, i64)>> {
    tx.exec(
        "UPDATE volumes SET used_at = $2, used_by = $3 WHERE id = $1",
        vals![vol, now, by],
    )?;
    // An owner whose lease ran out is gone as if it had crashed: what it did not ship is lost.
    tx.exec(
        "UPDATE sessions SET owner = 0, recalled = 0 WHERE volume = $1 AND owner = 1 AND alive_until <= $2",
        vals![vol, now],
    )?;
    let owners = tx.query(
        "SELECT id, listening_until, root_ino FROM sessions WHERE volume = $1 AND owner = 1 ORDER BY id",
        vals![vol],
    )?;
    if owners.is_empty() {
        return Ok(None);
    }
    let tree = reach.map(|_| Tree::open(tx, caches, vol, false)).transpose()?;
    let mut waited = None;
    for row in &owners {
        let id = row.uuid(0)?;
        if let (Some(reach), Some(tree)) = (reach, &tree)
            && !overlap(tree, row.u64(2)?, reach)?
        {
            continue;
        }
        tx.exec("UPDATE sessions SET recalled = 1 WHERE id = $1", vals![id])?;
        waited.get_or_insert((id, row.i64(1)?));
    }
    Ok(waited)
}

pub fn listening(tx: &dyn Tx, session: Uuid, until: i64) -> R<()> {
    tx.exec(
        "UPDATE sessions SET listening_until = $2 WHERE id = $1",
        vals![session, until],
    )?;
    Ok(())
}

pub fn ownership(tx: &dyn Tx, session: Uuid) -> R<Option<(bool, bool)>> {
    tx.query_opt("SELECT owner, recalled FROM sessions WHERE id = $1", vals![session])?
        .map(|r| Ok((r.bool(0)?, r.bool(1)?)))
        .transpose()
}

/// Fails unless `session` owns its volume, holding its row so that no recall takes the
/// ownership away before the transaction ends. Returns whether batch `seq` is new (a batch
/// is numbered by its session, and a repeat of one applied is answered without applying it
/// again), and records it as applied.
pub fn check_owner(tx: &dyn Tx, session: Uuid, seq: u64) -> R<bool> {
    let sql = format!("SELECT owner, shipped FROM sessions WHERE id = $1{}", tx.for_update());
    match tx.query_opt(&sql, vals![session])? {
        Some(row) if row.u64(1)? >= seq => Ok(false),
        Some(row) if row.bool(0)? => {
            // An owner shipping is alive: it counts as listening for a recall a while longer.
            let heard = now_ns() + HEARD_NS;
            tx.exec(
                "UPDATE sessions SET shipped = $2,
                 listening_until = CASE WHEN listening_until > $3 THEN listening_until ELSE $3 END
                 WHERE id = $1",
                vals![session, seq, heard],
            )?;
            Ok(true)
        }
        _ => Err(Error::new(ErrorKind::Conflict, "this mount no longer owns its tree").into()),
    }
}

pub fn find_session(tx: &dyn Tx, id: Uuid) -> R<Option<SessionRecord>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
    match tx.query_opt(&sql, vals![id])? {
        Some(r) => session_record(&r),
        None => Ok(None),
    }
}

/// An organization's sessions whose lease runs at `now`, oldest first.
pub fn org_sessions(tx: &dyn Tx, org: &str, now: i64) -> R<Vec<SessionRecord>> {
    let sql =
        format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE org = $1 AND alive_until > $2 ORDER BY created_at, id");
    let mut live = Vec::new();
    for r in tx.query(&sql, vals![org, now])?.iter() {
        live.extend(session_record(r)?);
    }
    Ok(live)
}

const SESSION_COLUMNS: &str = "id, org, volume, root_ino, read_only, secret, created_at, alive_until, key_id";

/// A row of [`SESSION_COLUMNS`]; `None` for a secret of the wrong size (never written).
fn session_record(r: &Row) -> R<Option<SessionRecord>> {
    let Ok(secret) = r.blob(5)?.try_into() else {
        return Ok(None);
    };
    Ok(Some(SessionRecord {
        id: r.uuid(0)?,
        org: r.text(1)?,
        volume: r.uuid(2)?,
        root_ino: r.u64(3)?,
        read_only: r.bool(4)?,
        secret,
        created_at: r.i64(6)?,
        alive_until: r.i64(7)?,
        key: r.opt_uuid(8)?,
    }))
}

/// Extends a session's lease (and so its record locks); `NotFound` if it is gone.
pub fn renew_session(tx: &dyn Tx, id: Uuid, alive_until: i64) -> R<()> {
    let n = tx.exec(
        "UPDATE sessions SET alive_until = $2 WHERE id = $1",
        vals![id, alive_until],
    )?;
    if n == 0 {
        return Err(Error::not_found("no such mount session").into());
    }
    Ok(())
}

/// Removes the sessions whose lease ended before `before` (mounts that died or were cut off
/// for that long), with their locks and upload records; returns how many.
pub fn expire_sessions(tx: &dyn Tx, before: i64) -> R<u64> {
    let dead = "SELECT id FROM sessions WHERE alive_until < $1";
    tx.exec(&format!("DELETE FROM locks WHERE session IN ({dead})"), vals![before])?;
    tx.exec(&format!("DELETE FROM uploads WHERE session IN ({dead})"), vals![before])?;
    tx.exec(&format!("DELETE FROM grants WHERE session IN ({dead})"), vals![before])?;
    tx.exec("DELETE FROM sessions WHERE alive_until < $1", vals![before])
}

pub fn remove_session(tx: &dyn Tx, id: Uuid) -> R<()> {
    tx.exec("DELETE FROM locks WHERE session = $1", vals![id])?;
    tx.exec("DELETE FROM uploads WHERE session = $1", vals![id])?;
    tx.exec("DELETE FROM grants WHERE session = $1", vals![id])?;
    tx.exec("DELETE FROM sessions WHERE id = $1", vals![id])?;
    Ok(())
}
