//! Organizations and API keys (scoped tokens are keys with a scope).

use super::{DbError, Fail, R, Row, Tx, vals};
use crate::{AddKey, Error, ErrorKind, Role, ScopeRecord, TokenRecord};
use strata_core::api::Org;
use uuid::Uuid;

pub fn create_org(tx: &dyn Tx, name: &str, now: i64) -> R<Org> {
    let n = tx.exec(
        "INSERT INTO orgs (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        vals![name, now],
    )?;
    if n == 0 {
        let msg = format!("an organization named {name} exists");
        return Err(Error::new(ErrorKind::AlreadyExists, msg).with_field("name").into());
    }
    get_org(tx, name)
}

const ORG_COLUMNS: &str = "o.name, o.created_at, o.quota_bytes,
     (SELECT CAST(COALESCE(SUM(v.used_bytes), 0) AS BIGINT) FROM volumes v WHERE v.org = o.name AND v.snapshot_of IS NULL),
     o.data_key";

fn org_from_row(r: &Row) -> R<Org> {
    Ok(Org {
        name: r.text(0)?,
        created_at: r.i64(1)?,
        quota_bytes: r.opt_i64(2)?.map(|q| q.max(0) as u64),
        used_bytes: r.i64(3)?.max(0) as u64,
        data_key: r.opt_i64(4)?.map(|k| k as u32),
    })
}

pub fn list_orgs(tx: &dyn Tx) -> R<Vec<Org>> {
    tx.query(&format!("SELECT {ORG_COLUMNS} FROM orgs o ORDER BY o.name"), vals![])?
        .iter()
        .map(org_from_row)
        .collect()
}

pub fn get_org(tx: &dyn Tx, name: &str) -> R<Org> {
    match tx.query_opt(
        &format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.name = $1"),
        vals![name],
    )? {
        Some(row) => org_from_row(&row),
        None => Err(Error::not_found(format!("no organization named {name}"))
            .with_field("org")
            .into()),
    }
}

/// Sets an organization's quota of bytes (`None`: no bound). A quota below what its volumes
/// hold already is kept: from then on they may shrink, never grow.
pub fn set_org_quota(tx: &dyn Tx, name: &str, bytes: Option<u64>) -> R<Org> {
    let bytes = bytes
        .map(|b| i64::try_from(b).map_err(|_| Error::invalid("bytes", "more than an organization can count")))
        .transpose()?;
    if tx.exec("UPDATE orgs SET quota_bytes = $2 WHERE name = $1", vals![name, bytes])? == 0 {
        return Err(Error::not_found(format!("no organization named {name}"))
            .with_field("org")
            .into());
    }
    get_org(tx, name)
}

/// An organization's keys, wrapped, if it encrypts.
pub fn org_keys(tx: &dyn Tx, org: &str) -> R<Option<crate::WrappedKeys>> {
    let Some(row) = tx.query_opt("SELECT naming_key, data_key FROM orgs WHERE name = $1", vals![org])? else {
        return Ok(None);
    };
    let (Some(naming), Some(current)) = (row.opt_blob(0)?, row.opt_i64(1)?) else {
        return Ok(None);
    };
    let data = tx
        .query(
            "SELECT id, wrapped FROM org_keys WHERE org = $1 ORDER BY id",
            vals![org],
        )?
        .iter()
        .map(|r| Ok((r.u32(0)?, r.blob(1)?)))
        .collect::<R<Vec<_>>>()?;
    Ok(Some(crate::WrappedKeys {
        naming,
        current: current as u32,
        data,
    }))
}

pub fn encrypt_org(tx: &dyn Tx, org: &str, naming: &[u8], data: &[u8], now: i64) -> R<()> {
    let n = tx.exec(
        "UPDATE orgs SET naming_key = $2, data_key = 1 WHERE name = $1 AND naming_key IS NULL",
        vals![org, naming],
    )?;
    if n == 0 {
        return Err(match tx.query_opt("SELECT 1 FROM orgs WHERE name = $1", vals![org])? {
            Some(_) => Error::new(ErrorKind::AlreadyExists, format!("organization {org} already encrypts")),
            None => Error::not_found(format!("no organization named {org}")).with_field("org"),
        }
        .into());
    }
    tx.exec(
        "INSERT INTO org_keys (org, id, wrapped, created_at) VALUES ($1, 1, $2, $3)",
        vals![org, data, now],
    )?;
    Ok(())
}

pub fn add_data_key(tx: &dyn Tx, org: &str, id: u32, wrapped: &[u8], now: i64) -> R<()> {
    let sql = format!("SELECT data_key FROM orgs WHERE name = $1{}", tx.for_update());
    let current = tx
        .query_opt(&sql, vals![org])?
        .and_then(|r| r.opt_i64(0).ok().flatten());
    match current {
        None => Err(Error::invalid("org", format!("organization {org} does not encrypt")).into()),
        Some(current) if current + 1 != id as i64 => {
            Err(Error::new(ErrorKind::Conflict, "another data key was added meanwhile; try again").into())
        }
        Some(_) => {
            tx.exec(
                "INSERT INTO org_keys (org, id, wrapped, created_at) VALUES ($1, $2, $3, $4)",
                vals![org, id, wrapped, now],
            )?;
            tx.exec("UPDATE orgs SET data_key = $2 WHERE name = $1", vals![org, id])?;
            Ok(())
        }
    }
}

const TOKEN_COLUMNS: &str = "id, org, name, hash, role, created_at, expires_at, revoked_at, \
     scope_volume, scope_subpath, scope_read_only, made_by";

fn token_from_row(r: &Row) -> R<Option<TokenRecord>> {
    let Ok(hash) = r.blob(3)?.try_into() else {
        return Ok(None);
    };
    // A role this program does not know grants nothing.
    let Ok(role) = Role::parse(&r.text(4)?) else {
        return Ok(None);
    };
    let scope = match (r.opt_uuid(8)?, r.opt_text(9)?) {
        (Some(volume), Some(subpath)) => Some(ScopeRecord {
            volume,
            subpath,
            read_only: r.bool(10)?,
        }),
        _ => None,
    };
    Ok(Some(TokenRecord {
        id: r.uuid(0)?,
        org: r.text(1)?,
        name: r.text(2)?,
        hash,
        role,
        created_at: r.i64(5)?,
        expires_at: r.opt_i64(6)?,
        revoked_at: r.opt_i64(7)?,
        scope,
        made_by: r.opt_uuid(11)?,
    }))
}

/// Stores a key in an existing organization; with `only_first`, only if its organization has
/// no key of that name yet (several servers starting on shared metadata create one admin
/// key). Returns whether stored.
pub fn add_token(tx: &dyn Tx, t: &TokenRecord, rule: AddKey) -> R<bool> {
    if tx
        .query_opt("SELECT name FROM orgs WHERE name = $1", vals![t.org.as_str()])?
        .is_none()
    {
        let msg = format!("no organization named {}", t.org);
        return Err(Error::not_found(msg).with_field("org").into());
    }
    // A key made by a key that was revoked (or expired) in the meantime is not made: the
    // maker's row is locked until this transaction ends, so a revocation comes before or
    // after, and its cascade finds this one.
    if let Some(maker) = t.made_by {
        let live = tx.query_opt(
            &format!(
                "SELECT 1 FROM tokens WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2){}",
                tx.for_update()
            ),
            vals![maker, t.created_at],
        )?;
        if live.is_none() {
            return Err(Error::new(
                ErrorKind::Unauthorized,
                "the key making this one was revoked or expired",
            )
            .into());
        }
    }
    if let AddKey::Within(limit) = rule {
        tx.lock_org(&t.org)?;
        let live = tx
            .query_one(
                "SELECT COUNT(*) FROM tokens WHERE org = $1 AND revoked_at IS NULL
                 AND (expires_at IS NULL OR expires_at > $2)",
                vals![t.org.as_str(), t.created_at],
            )?
            .i64(0)?;
        if live as u64 >= limit {
            let msg = format!(
                "this organization already has {live} keys and tokens, the most allowed ({limit}); revoke one first"
            );
            return Err(Error::new(ErrorKind::LimitExceeded, msg).with_field("keys").into());
        }
    }
    let sql = format!(
        "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12){}",
        if rule == AddKey::First {
            " ON CONFLICT (org, name) DO NOTHING"
        } else {
            ""
        }
    );
    let scope = t.scope.as_ref();
    let stored = tx.exec(
        &sql,
        vals![
            t.id,
            t.org.as_str(),
            t.name.as_str(),
            &t.hash,
            t.role.as_str(),
            t.created_at,
            t.expires_at,
            t.revoked_at,
            scope.map(|s| s.volume),
            scope.map(|s| s.subpath.as_str()),
            scope.is_some_and(|s| s.read_only),
            t.made_by
        ],
    );
    match stored {
        Ok(n) => Ok(n > 0),
        Err(Fail::Db(DbError::Duplicate)) => {
            let msg = format!("a key named {} exists in organization {}", t.name, t.org);
            Err(Error::new(ErrorKind::AlreadyExists, msg).with_field("name").into())
        }
        Err(e) => Err(e),
    }
}

/// The key with that hash, revoked and expired ones included (the caller says why they fail).
pub fn find_token(tx: &dyn Tx, hash: &[u8; 32]) -> R<Option<TokenRecord>> {
    match tx.query_opt(
        &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1"),
        vals![hash],
    )? {
        Some(r) => token_from_row(&r),
        None => Ok(None),
    }
}

pub fn get_token(tx: &dyn Tx, id: Uuid) -> R<Option<TokenRecord>> {
    match tx.query_opt(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1"), vals![id])? {
        Some(r) => token_from_row(&r),
        None => Ok(None),
    }
}

/// The keys of an organization that are not revoked, oldest first.
pub fn list_tokens(tx: &dyn Tx, org: &str) -> R<Vec<TokenRecord>> {
    let rows = tx.query(
        &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE org = $1 AND revoked_at IS NULL ORDER BY created_at, name"),
        vals![org],
    )?;
    Ok(rows
        .iter()
        .map(token_from_row)
        .collect::<R<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// Revokes a key for good, and every key it made, and every key those made; returns them
/// all. Walked with a work list, never by recursion: a chain of keys can be long.
pub fn revoke_token(tx: &dyn Tx, id: Uuid, now: i64) -> R<Vec<Uuid>> {
    if !revoke_one(tx, id, now)? {
        return Err(Error::not_found("no such key").with_field("key").into());
    }
    let (mut revoked, mut makers) = (vec![id], vec![id]);
    while let Some(maker) = makers.pop() {
        let made = tx.query(
            "SELECT id FROM tokens WHERE made_by = $1 AND revoked_at IS NULL",
            vals![maker],
        )?;
        for row in made {
            let key = row.uuid(0)?;
            if revoke_one(tx, key, now)? {
                revoked.push(key);
                makers.push(key);
            }
        }
    }
    Ok(revoked)
}

/// Revokes one key and ends the mount sessions it opened; false if it was not live. Its
/// name is free again: the revoked row is renamed to a name no valid key name can be.
fn revoke_one(tx: &dyn Tx, id: Uuid, now: i64) -> R<bool> {
    // An UPDATE takes the row lock a key being made by this one waits on (see `add_token`).
    let n = tx.exec(
        "UPDATE tokens SET revoked_at = $2, name = name || ' (revoked ' || id || ')'
         WHERE id = $1 AND revoked_at IS NULL",
        vals![id, now],
    )?;
    // The mount sessions the key opened end with it, with their locks and upload records.
    let opened = "SELECT id FROM sessions WHERE key_id = $1";
    tx.exec(&format!("DELETE FROM locks WHERE session IN ({opened})"), vals![id])?;
    tx.exec(&format!("DELETE FROM uploads WHERE session IN ({opened})"), vals![id])?;
    tx.exec("DELETE FROM sessions WHERE key_id = $1", vals![id])?;
    Ok(n > 0)
}
