//! Volumes and API tokens.

use super::R;
use crate::{Error, ErrorKind, ROOT_INO, Role, TokenRecord, now_ns};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use strata_core::api::{Volume, VolumeState};
use strata_core::names::{VolumeName, VolumeRef};
use uuid::Uuid;

const VOLUME_COLUMNS: &str = "id, name, created_at, updated_at, used_bytes, file_count, snapshot_of";

fn volume_from_row(r: &Row) -> rusqlite::Result<Volume> {
    let id: String = r.get(0)?;
    Ok(Volume {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        name: r.get(1)?,
        state: VolumeState::Ready,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
        used_bytes: r.get::<_, i64>(4)?.max(0) as u64,
        file_count: r.get::<_, i64>(5)?.max(0) as u64,
        snapshot_of: r.get::<_, Option<String>>(6)?.and_then(|s| Uuid::parse_str(&s).ok()),
    })
}

pub fn new_layer(tx: &Transaction, parent: Option<i64>) -> R<i64> {
    tx.prepare_cached("INSERT INTO layers (parent, created_at) VALUES (?1, ?2)")?
        .execute(params![parent, now_ns()])?;
    Ok(tx.last_insert_rowid())
}

fn check_limit(tx: &Transaction, org: &str, limit: u64) -> R<()> {
    let count: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM volumes WHERE org = ?1 AND snapshot_of IS NULL")?
        .query_row([org], |r| r.get(0))?;
    if count as u64 >= limit {
        let msg =
            format!("this organization already has {count} volumes, the most allowed ({limit}); delete one first");
        return Err(Error::new(ErrorKind::LimitExceeded, msg).into());
    }
    Ok(())
}

/// What a new volume row starts from.
struct Origin {
    head: i64,
    next_ino: i64,
    used_bytes: i64,
    file_count: i64,
    snapshot_of: Option<Uuid>,
}

fn insert_volume(tx: &Transaction, org: &str, name: &str, origin: Origin) -> R<Volume> {
    let id = Uuid::new_v4();
    let now = now_ns();
    let inserted = tx
        .prepare_cached(
            "INSERT INTO volumes (id, org, name, head, next_ino, used_bytes, file_count, state, created_at, updated_at, snapshot_of)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ready', ?8, ?8, ?9)",
        )?
        .execute(params![
            id.to_string(),
            org,
            name,
            origin.head,
            origin.next_ino,
            origin.used_bytes,
            origin.file_count,
            now,
            origin.snapshot_of.map(|s| s.to_string())
        ]);
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(Error::new(ErrorKind::AlreadyExists, format!("{name} already exists"))
                .with_field("name")
                .into())
        }
        other => {
            other?;
            get(tx, org, &VolumeRef::Id(id))
        }
    }
}

pub fn create(tx: &Transaction, org: &str, name: &VolumeName, limit: u64) -> R<Volume> {
    check_limit(tx, org, limit)?;
    let head = new_layer(tx, None)?;
    let now = now_ns();
    tx.prepare_cached(
        "INSERT INTO inodes (layer, ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent)
         VALUES (?1, ?2, 0, 2, 493, 0, 0, 0, 2, 0, ?3, ?3, ?3, ?2)",
    )?
    .execute(params![head, ROOT_INO as i64, now])?;
    let origin = Origin {
        head,
        next_ino: ROOT_INO as i64 + 1,
        used_bytes: 0,
        file_count: 0,
        snapshot_of: None,
    };
    insert_volume(tx, org, name.as_str(), origin)
}

/// The row of a volume or snapshot of this organization.
fn row(tx: &Transaction, org: &str, id: Uuid) -> R<Origin> {
    tx.prepare_cached(
        "SELECT head, next_ino, used_bytes, file_count, snapshot_of FROM volumes WHERE org = ?1 AND id = ?2",
    )?
    .query_row(params![org, id.to_string()], |r| {
        Ok(Origin {
            head: r.get(0)?,
            next_ino: r.get(1)?,
            used_bytes: r.get(2)?,
            file_count: r.get(3)?,
            snapshot_of: r.get::<_, Option<String>>(4)?.and_then(|s| Uuid::parse_str(&s).ok()),
        })
    })
    .optional()?
    .ok_or_else(|| Error::not_found("volume not found").into())
}

/// Freezes a volume's head and gives it a new empty one on top; returns the frozen layer.
fn freeze_head(tx: &Transaction, id: Uuid, head: i64) -> R<i64> {
    tx.prepare_cached("UPDATE layers SET frozen = 1 WHERE id = ?1")?
        .execute([head])?;
    let new_head = new_layer(tx, Some(head))?;
    tx.prepare_cached("UPDATE volumes SET head = ?2 WHERE id = ?1")?
        .execute(params![id.to_string(), new_head])?;
    Ok(head)
}

/// A read-only, point-in-time copy of a volume, named `VOLUME@NAME`.
pub fn snapshot(tx: &Transaction, org: &str, volume: Uuid, name: &VolumeName) -> R<Volume> {
    let source = row(tx, org, volume)?;
    if source.snapshot_of.is_some() {
        return Err(Error::invalid("volume", "cannot snapshot a snapshot; fork it first").into());
    }
    let source_name: String = tx
        .prepare_cached("SELECT name FROM volumes WHERE id = ?1")?
        .query_row([volume.to_string()], |r| r.get(0))?;
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

pub fn list_snapshots(tx: &Transaction, org: &str, volume: Uuid) -> R<Vec<Volume>> {
    let sql = format!("SELECT {VOLUME_COLUMNS} FROM volumes WHERE org = ?1 AND snapshot_of = ?2 ORDER BY created_at");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![org, volume.to_string()], volume_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Returns a volume to a snapshot of it: a new empty head on the snapshot's frozen layer.
pub fn restore(tx: &Transaction, org: &str, volume: Uuid, snapshot: Uuid) -> R<Volume> {
    let target = row(tx, org, volume)?;
    let snap = row(tx, org, snapshot)?;
    if snap.snapshot_of != Some(volume) {
        return Err(Error::invalid("snapshot", "that snapshot was not taken of this volume").into());
    }
    let head = new_layer(tx, Some(snap.head))?;
    // Inode numbers are never reused, so mounts holding newer inodes cannot mistake them.
    let next_ino = target.next_ino.max(snap.next_ino);
    tx.prepare_cached(
        "UPDATE volumes SET head = ?2, next_ino = ?3, used_bytes = ?4, file_count = ?5, updated_at = ?6 WHERE id = ?1",
    )?
    .execute(params![
        volume.to_string(),
        head,
        next_ino,
        snap.used_bytes,
        snap.file_count,
        now_ns()
    ])?;
    get(tx, org, &VolumeRef::Id(volume))
}

/// A new volume sharing `source`'s tree: the source's head is frozen (a snapshot's already
/// is) and the new volume gets an empty head on top of it. Constant cost at any size.
pub fn fork(tx: &Transaction, org: &str, source: Uuid, name: &VolumeName, limit: u64) -> R<Volume> {
    check_limit(tx, org, limit)?;
    let origin = row(tx, org, source)?;
    let frozen = if origin.snapshot_of.is_some() {
        origin.head
    } else {
        freeze_head(tx, source, origin.head)?
    };
    let head = new_layer(tx, Some(frozen))?;
    insert_volume(
        tx,
        org,
        name.as_str(),
        Origin {
            head,
            snapshot_of: None,
            ..origin
        },
    )
}

pub fn get(tx: &Transaction, org: &str, volume: &VolumeRef) -> R<Volume> {
    let (column, value) = match volume {
        VolumeRef::Id(id) => ("id", id.to_string()),
        VolumeRef::Name(name) => ("name", name.to_string()),
        VolumeRef::Snapshot(volume, snapshot) => ("name", VolumeRef::snapshot_key(volume, snapshot)),
    };
    let sql = format!("SELECT {VOLUME_COLUMNS} FROM volumes WHERE org = ?1 AND {column} = ?2");
    tx.prepare_cached(&sql)?
        .query_row(params![org, value], volume_from_row)
        .optional()?
        .ok_or_else(|| {
            Error::not_found(format!("volume {value} not found"))
                .with_field("volume")
                .into()
        })
}

pub fn list(tx: &Transaction, org: &str) -> R<Vec<Volume>> {
    let sql = format!("SELECT {VOLUME_COLUMNS} FROM volumes WHERE org = ?1 AND snapshot_of IS NULL ORDER BY name");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map([org], volume_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a volume with its snapshots, or one snapshot. Forks live on.
pub fn delete(tx: &Transaction, org: &str, id: Uuid) -> R<()> {
    tx.prepare_cached("DELETE FROM volumes WHERE org = ?1 AND snapshot_of = ?2")?
        .execute(params![org, id.to_string()])?;
    let n = tx
        .prepare_cached("DELETE FROM volumes WHERE org = ?1 AND id = ?2")?
        .execute(params![org, id.to_string()])?;
    if n == 0 {
        return Err(Error::not_found("volume not found").into());
    }
    Ok(())
}

pub fn add_token(tx: &Transaction, t: &TokenRecord) -> R<()> {
    let role = match t.role {
        Role::Admin => "admin",
    };
    tx.prepare_cached("INSERT INTO tokens (id, org, name, hash, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![
            t.id.to_string(),
            t.org,
            t.name,
            &t.hash[..],
            role,
            t.created_at
        ])?;
    Ok(())
}

pub fn find_token(tx: &Transaction, hash: &[u8; 32]) -> R<Option<TokenRecord>> {
    let row = tx
        .prepare_cached("SELECT id, org, name, role, created_at FROM tokens WHERE hash = ?1")?
        .query_row([&hash[..]], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get(4)?,
            ))
        })
        .optional()?;
    Ok(row.and_then(|(id, org, name, role, created_at)| {
        let role = match role.as_str() {
            "admin" => Role::Admin,
            _ => return None,
        };
        Some(TokenRecord {
            id: Uuid::parse_str(&id).ok()?,
            org,
            name,
            hash: *hash,
            role,
            created_at,
        })
    }))
}

pub fn add_session(tx: &Transaction, s: &crate::SessionRecord) -> R<()> {
    tx.prepare_cached(
        "INSERT INTO sessions (id, org, volume, root_ino, read_only, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![s.id.to_string(), s.org, s.volume.to_string(), s.root_ino as i64, s.read_only, &s.secret[..], s.created_at])?;
    Ok(())
}

pub fn find_session(tx: &Transaction, id: Uuid) -> R<Option<crate::SessionRecord>> {
    let row = tx
        .prepare_cached("SELECT org, volume, root_ino, read_only, secret, created_at FROM sessions WHERE id = ?1")?
        .query_row([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .optional()?;
    Ok(row.and_then(|(org, volume, root_ino, read_only, secret, created_at)| {
        Some(crate::SessionRecord {
            id,
            org,
            volume: Uuid::parse_str(&volume).ok()?,
            root_ino: root_ino as u64,
            read_only,
            secret: secret.try_into().ok()?,
            created_at,
        })
    }))
}

pub fn remove_session(tx: &Transaction, id: Uuid) -> R<()> {
    tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
        .execute([id.to_string()])?;
    Ok(())
}
