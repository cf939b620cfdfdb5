//! Keys that can open mount sessions on one volume folder and nothing else.
//!
//! A sandbox's mounts run as separate processes; they must never hold the organization's
//! key. Each gets a key minted here, valid for one volume, one subpath and, if asked,
//! read-only sessions only. The key can open sessions of exactly that shape and use the
//! sessions it opened; every other route answers 403. Keys live in this server's memory
//! and go when the sandbox does (or with the server, whose restart unmounts what they
//! served).

use crate::auth::{self, Caller};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use strata_core::mounts::parse_subpath;
use strata_core::{Error, ErrorKind, Result};
use uuid::Uuid;

/// What a mount key may do.
#[derive(Debug)]
pub struct MountScope {
    pub volume: Uuid,
    /// The normalized subpath, e.g. `/users/alice` (`/` for the whole volume).
    pub subpath: String,
    pub read_only: bool,
    /// The sessions this key opened: the only ones it may use.
    sessions: Mutex<HashSet<Uuid>>,
}

impl MountScope {
    /// Refuses a session open that is not exactly the scope's volume and folder, or that
    /// would write where the scope may only read.
    pub fn check_open(&self, volume: Uuid, subpath: &str, read_only: bool) -> Result<()> {
        let subpath = parse_subpath(subpath)?.to_string();
        if volume != self.volume || subpath != self.subpath || (self.read_only && !read_only) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "this key may only mount its own volume folder",
            ));
        }
        Ok(())
    }

    pub fn opened(&self, session: Uuid) {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(session);
    }

    /// The sessions this key opened so far.
    pub fn sessions(&self) -> Vec<Uuid> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect()
    }

    pub fn owns(&self, session: Uuid) -> bool {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&session)
    }
}

/// The organization of a mount key and what it may do.
type Grant = (String, Arc<MountScope>);

/// Mount keys by the hash of their secret.
#[derive(Default, Clone)]
pub struct MountKeys(Arc<RwLock<HashMap<[u8; 32], Grant>>>);

impl MountKeys {
    /// A new key for `org` limited to `volume`, `subpath` (already valid) and `read_only`.
    pub fn mint(&self, org: &str, volume: Uuid, subpath: &str, read_only: bool) -> Result<(String, Arc<MountScope>)> {
        let secret = auth::new_secret().map_err(|e| Error::internal(e.to_string()))?;
        let scope = Arc::new(MountScope {
            volume,
            subpath: parse_subpath(subpath)?.to_string(),
            read_only,
            sessions: Mutex::default(),
        });
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(auth::hash_secret(&secret), (org.to_owned(), scope.clone()));
        Ok((secret, scope))
    }

    pub fn revoke(&self, secret: &str) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&auth::hash_secret(secret));
    }

    /// The caller a mount key stands for, if `hash` is one.
    pub fn caller(&self, hash: &[u8; 32]) -> Option<Caller> {
        let keys = self.0.read().unwrap_or_else(|e| e.into_inner());
        keys.get(hash).map(|(org, scope)| Caller {
            org: org.clone(),
            scope: Some(scope.clone()),
        })
    }
}

/// The routes a mount key may call: opening a session and the session's own calls.
pub fn route_allowed(route: &str) -> bool {
    route == "/v1/volumes/{volume}/sessions" || route == "/v1/sessions/{id}" || route.starts_with("/v1/sessions/{id}/")
}
