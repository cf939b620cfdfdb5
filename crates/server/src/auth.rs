//! API keys: how they are made, checked and bootstrapped.
//!
//! A key is `stk_` and 64 hex digits of randomness. The server keeps only its BLAKE3 hash.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use strata_core::{Error, ErrorKind};
use strata_meta::{Role, TokenRecord, now_ns};

/// The organization of the first admin key.
pub const DEFAULT_ORG: &str = "default";
const PREFIX: &str = "stk_";

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: String,
    /// The name the key was given (`admin` for the first one).
    pub key_name: String,
    pub role: Role,
}

pub fn new_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(format!(
        "{PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Checks the shape of a presented key, so that hostile values never reach the database.
pub fn parse_secret(secret: &str) -> Result<&str, Error> {
    let hex = secret.strip_prefix(PREFIX).unwrap_or("");
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(secret)
    } else {
        Err(Error::new(
            ErrorKind::Unauthorized,
            "malformed API key: expected 'stk_' and 64 hex digits",
        ))
    }
}

pub fn hash_secret(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

/// Creates the admin key at first start and writes it to `data_dir/admin.token` (mode 0600).
/// On shared metadata only the first server to start makes one; the others write no key
/// (every key works on every server).
pub fn bootstrap_admin(state: &AppState, data_dir: &Path) -> anyhow::Result<()> {
    let path = data_dir.join("admin.token");
    if path.exists() {
        return Ok(());
    }
    let secret = new_secret()?;
    let record = TokenRecord {
        id: uuid::Uuid::new_v4(),
        org: DEFAULT_ORG.into(),
        name: "admin".into(),
        hash: hash_secret(&secret),
        role: Role::Admin,
        created_at: now_ns(),
    };
    if !state.meta.add_token(&record, true)? {
        eprintln!(
            "strata: the metadata already holds an admin key (made by the first server on it); \
             use that key here too"
        );
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    writeln!(file, "{secret}")?;
    file.sync_all()?;
    tracing::info!("created the admin API key in {}", path.display());
    eprintln!("strata: admin API key written to {}", path.display());
    Ok(())
}

/// Middleware: every request needs `Authorization: Bearer <key>` of a known key.
pub async fn require_key(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let header = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let secret = header.and_then(|h| h.strip_prefix("Bearer ")).ok_or_else(|| {
        Error::new(
            ErrorKind::Unauthorized,
            "missing 'Authorization: Bearer <API key>' header",
        )
    })?;
    let hash = hash_secret(parse_secret(secret.trim())?);
    let record = state
        .meta(move |m| m.find_token(&hash))
        .await?
        .ok_or_else(|| Error::new(ErrorKind::Unauthorized, "unknown API key"))?;
    req.extensions_mut().insert(Caller {
        org: record.org,
        key_name: record.name,
        role: record.role,
    });
    Ok(next.run(req).await)
}
