//! Sandbox records: which server runs each sandbox, so that every server can list them,
//! count them against the organization's limit and find the one to ask.

use super::{R, Row, Tx, vals};
use crate::{Error, ErrorKind, SandboxRecord};
use uuid::Uuid;

const COLUMNS: &str = "id, org, server, created_at, body";

fn from_row(r: &Row) -> R<SandboxRecord> {
    Ok(SandboxRecord {
        id: r.uuid(0)?,
        org: r.text(1)?,
        server: r.text(2)?,
        created_at: r.i64(3)?,
        body: r.text(4)?,
    })
}

/// Stores a new sandbox, counted with the organization's others under its lock.
pub fn add(tx: &dyn Tx, s: &SandboxRecord, limit: u64) -> R<()> {
    tx.lock_org(&s.org)?;
    let count = tx
        .query_one("SELECT COUNT(*) FROM sandboxes WHERE org = $1", vals![s.org.as_str()])?
        .i64(0)?;
    if count as u64 >= limit {
        let msg =
            format!("this organization already has {count} sandboxes, the most allowed ({limit}); delete one first");
        return Err(Error::new(ErrorKind::LimitExceeded, msg).with_field("sandboxes").into());
    }
    tx.exec(
        &format!("INSERT INTO sandboxes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
        vals![s.id, s.org.as_str(), s.server.as_str(), s.created_at, s.body.as_str()],
    )?;
    Ok(())
}

pub fn update(tx: &dyn Tx, id: Uuid, body: &str) -> R<()> {
    if tx.exec("UPDATE sandboxes SET body = $2 WHERE id = $1", vals![id, body])? == 0 {
        return Err(Error::not_found(format!("sandbox {id} not found"))
            .with_field("sandbox")
            .into());
    }
    Ok(())
}

pub fn get(tx: &dyn Tx, id: Uuid) -> R<Option<SandboxRecord>> {
    let row = tx.query_opt(&format!("SELECT {COLUMNS} FROM sandboxes WHERE id = $1"), vals![id])?;
    row.as_ref().map(from_row).transpose()
}

pub fn list(tx: &dyn Tx, org: Option<&str>) -> R<Vec<SandboxRecord>> {
    let rows = match org {
        Some(org) => tx.query(
            &format!("SELECT {COLUMNS} FROM sandboxes WHERE org = $1 ORDER BY created_at, id"),
            vals![org],
        )?,
        None => tx.query(
            &format!("SELECT {COLUMNS} FROM sandboxes ORDER BY created_at, id"),
            vals![],
        )?,
    };
    rows.iter().map(from_row).collect()
}

pub fn remove(tx: &dyn Tx, id: Uuid) -> R<()> {
    tx.exec("DELETE FROM sandboxes WHERE id = $1", vals![id])?;
    Ok(())
}
