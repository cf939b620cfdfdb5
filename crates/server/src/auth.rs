//! API keys: how they are made, checked and bootstrapped.
//!
//! A key is `stk_` and 64 hex digits of randomness. The server keeps only its BLAKE3 hash.

use crate::state::AppState;
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use strata_core::{Error, ErrorKind};
use strata_meta::{Role, TokenRecord, now_ns};

/// The organization of the first admin key.
pub const DEFAULT_ORG: &str = "default";
const PREFIX: &str = "stk_";

pub fn new_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(format!(
        "{PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// A new key's record and its secret: `expires_at` in ns, `scope` for a scoped token.
pub fn new_token(
    org: String,
    name: String,
    role: Role,
    expires_at: Option<i64>,
    scope: Option<strata_meta::ScopeRecord>,
) -> Result<(TokenRecord, String), Error> {
    let secret = new_secret().map_err(|e| Error::internal(e.to_string()))?;
    let record = TokenRecord {
        id: uuid::Uuid::new_v4(),
        org,
        name,
        hash: hash_secret(&secret),
        role,
        created_at: now_ns(),
        expires_at,
        revoked_at: None,
        scope,
        made_by: None,
    };
    Ok((record, secret))
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
    let (record, secret) = new_token(DEFAULT_ORG.into(), "admin".into(), Role::Admin, None, None)?;
    if !state.meta.add_token(&record, strata_meta::AddKey::First)? {
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

/// The id and name of a key, for the audit log to name it.
pub type KeyLabel = (uuid::Uuid, String);

/// Keys by the hash of their secret, with when each was read, so that a request costs no
/// database read. An entry is read again after [`KEY_RECHECK`]: a key revoked through another
/// server stops working within that time, one revoked through this server at once.
#[derive(Default, Clone)]
pub struct KeyCache(Arc<RwLock<HashMap<[u8; 32], CachedKey>>>);

/// A key as read, and when.
type CachedKey = (Arc<TokenRecord>, Instant);

/// How long a server trusts a key it read without reading it again.
pub const KEY_RECHECK: Duration = Duration::from_secs(5);

impl KeyCache {
    fn get(&self, hash: &[u8; 32]) -> Option<Arc<TokenRecord>> {
        let cache = self.0.read().unwrap_or_else(|p| p.into_inner());
        let (record, read) = cache.get(hash)?;
        (read.elapsed() < KEY_RECHECK).then(|| record.clone())
    }

    fn put(&self, record: Arc<TokenRecord>) {
        let mut cache = self.0.write().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= 100_000 {
            cache.retain(|_, (_, read)| read.elapsed() < KEY_RECHECK);
        }
        cache.insert(record.hash, (record, Instant::now()));
    }

    /// Drops a key that was just revoked here.
    pub fn forget(&self, id: uuid::Uuid) {
        let mut cache = self.0.write().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (record, _)| record.id != id);
    }
}

/// A known key by the hash of its secret, from the cache or the database.
async fn find_key(state: &AppState, hash: [u8; 32]) -> Result<Option<Arc<TokenRecord>>, Error> {
    if let Some(record) = state.keys.get(&hash) {
        return Ok(Some(record));
    }
    let Some(record) = state.meta(move |m| m.find_token(&hash)).await? else {
        return Ok(None);
    };
    let record = Arc::new(record);
    state.keys.put(record.clone());
    Ok(Some(record))
}

/// The key a request presents, checked: known, not revoked, not expired. A failure comes
/// with the key's id and name when it is a known key.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<TokenRecord, (Option<KeyLabel>, Error)> {
    let unauthorized = |msg: &str| (None, Error::new(ErrorKind::Unauthorized, msg));
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let secret = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("missing 'Authorization: Bearer <API key>' header"))?;
    let hash = hash_secret(parse_secret(secret.trim()).map_err(|e| (None, e))?);
    let record = find_key(state, hash)
        .await
        .map_err(|e| (None, e))?
        .ok_or_else(|| unauthorized("unknown API key"))?;
    let failed = |msg: &str| {
        Err((
            Some((record.id, record.name.clone())),
            Error::new(ErrorKind::Unauthorized, msg),
        ))
    };
    if record.revoked_at.is_some() {
        return failed("this API key was revoked");
    }
    if record.expires_at.is_some_and(|t| t <= now_ns()) {
        return failed("this API key has expired");
    }
    Ok(Arc::unwrap_or_clone(record))
}
