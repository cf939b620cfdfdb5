//! Volumes and API tokens.

use super::R;
use crate::{Error, ErrorKind, ROOT_INO, Role, TokenRecord, now_ns};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use strata_core::api::{Volume, VolumeState};
use strata_core::names::{VolumeName, VolumeRef};
use uuid::Uuid;

const VOLUME_COLUMNS: &str = "id, name, created_at, updated_at, used_bytes, file_count";

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
    })
}

pub fn new_layer(tx: &Transaction, parent: Option<i64>) -> R<i64> {
    tx.prepare_cached("INSERT INTO layers (parent, created_at) VALUES (?1, ?2)")?
        .execute(params![parent, now_ns()])?;
    Ok(tx.last_insert_rowid())
}

fn check_limit(tx: &Transaction, org: &str, limit: u64) -> R<()> {
    let count: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM volumes WHERE org = ?1")?
        .query_row([org], |r| r.get(0))?;
    if count as u64 >= limit {
        let msg = format!(
            "this organization already has {count} volumes, the most allowed ({limit}); delete one first"
        );
        return Err(Error::new(ErrorKind::LimitExceeded, msg).into());
    }
    Ok(())
}

fn insert_volume(
    tx: &Transaction,
    org: &str,
    name: &VolumeName,
    head: i64,
    next_ino: i64,
    counters: (i64, i64),
) -> R<Volume> {
    let id = Uuid::new_v4();
    let now = now_ns();
    let inserted = tx
        .prepare_cached(
            "INSERT INTO volumes (id, org, name, head, next_ino, used_bytes, file_count, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ready', ?8, ?8)",
        )?
        .execute(params![id.to_string(), org, name.as_str(), head, next_ino, counters.0, counters.1, now]);
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("volume {name} already exists"),
            )
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
    insert_volume(tx, org, name, head, ROOT_INO as i64 + 1, (0, 0))
}

/// A new volume sharing `source`'s tree: the source's head is frozen and both get a new head.
pub fn fork(tx: &Transaction, org: &str, source: Uuid, name: &VolumeName, limit: u64) -> R<Volume> {
    check_limit(tx, org, limit)?;
    let (head, next_ino, used, files): (i64, i64, i64, i64) = tx
        .prepare_cached(
            "SELECT head, next_ino, used_bytes, file_count FROM volumes WHERE org = ?1 AND id = ?2",
        )?
        .query_row(params![org, source.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
        .ok_or_else(|| Error::not_found("volume not found"))?;
    tx.prepare_cached("UPDATE layers SET frozen = 1 WHERE id = ?1")?
        .execute([head])?;
    let source_head = new_layer(tx, Some(head))?;
    tx.prepare_cached("UPDATE volumes SET head = ?2 WHERE id = ?1")?
        .execute(params![source.to_string(), source_head])?;
    let fork_head = new_layer(tx, Some(head))?;
    insert_volume(tx, org, name, fork_head, next_ino, (used, files))
}

pub fn get(tx: &Transaction, org: &str, volume: &VolumeRef) -> R<Volume> {
    let (column, value) = match volume {
        VolumeRef::Id(id) => ("id", id.to_string()),
        VolumeRef::Name(name) => ("name", name.to_string()),
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
    let sql = format!("SELECT {VOLUME_COLUMNS} FROM volumes WHERE org = ?1 ORDER BY name");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map([org], volume_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete(tx: &Transaction, org: &str, id: Uuid) -> R<()> {
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
        .execute(params![t.id.to_string(), t.org, t.name, &t.hash[..], role, t.created_at])?;
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
    Ok(
        row.and_then(|(org, volume, root_ino, read_only, secret, created_at)| {
            Some(crate::SessionRecord {
                id,
                org,
                volume: Uuid::parse_str(&volume).ok()?,
                root_ino: root_ino as u64,
                read_only,
                secret: secret.try_into().ok()?,
                created_at,
            })
        }),
    )
}

pub fn remove_session(tx: &Transaction, id: Uuid) -> R<()> {
    tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
        .execute([id.to_string()])?;
    Ok(())
}
