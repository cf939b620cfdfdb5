//! Mount sessions: what a mount may reach, enforced by the server.
//!
//! Opening a session fixes its volume, its root inode (the subpath) and whether it may write,
//! and draws a random secret. Every inode the server hands to the session carries a
//! capability, a keyed BLAKE3 MAC of its number under that secret; every call must present
//! one. A session can therefore only name inodes it reached by lookups from its root:
//! `..` is never a name, and a guessed inode number has no valid capability.
//!
//! [`service`] holds the rules of every call a session makes; the HTTP routes only carry them.

pub mod ownership;
pub mod service;

use crate::files;
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use strata_core::api::{FileKind, Node, NodeRef, SessionInfo, Stat};
use strata_core::names::VolumeRef;
use strata_core::paths::FsPath;
use strata_core::{Error, ErrorKind, Result};
use strata_meta::{SessionRecord, now_ns};
use uuid::Uuid;

/// Sessions by id, with when each was read. A session never changes once opened, but another
/// server may close it: entries are read again after [`SESSION_RECHECK`].
#[derive(Default, Clone)]
pub struct SessionCache(Arc<RwLock<HashMap<Uuid, Cached>>>);

/// A session as read, and when.
type Cached = (Arc<SessionRecord>, std::time::Instant);

/// How long a server trusts a session it read without reading it again.
pub const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// A session checked against the caller, ready to check capabilities.
#[derive(Clone)]
pub struct Session(pub Arc<SessionRecord>);

impl Session {
    pub fn cap(&self, ino: u64) -> u64 {
        let mac = blake3::keyed_hash(&self.0.secret, &ino.to_le_bytes());
        u64::from_le_bytes(mac.as_bytes()[..8].try_into().unwrap_or_default())
    }

    pub fn node(&self, stat: Stat) -> Node {
        Node {
            node: NodeRef {
                ino: stat.ino,
                cap: self.cap(stat.ino),
            },
            stat,
            parent: None,
        }
    }

    /// The inode a reference names, if the session was handed it (the capability shows it).
    /// Whether it still lies below the session's root is the engine's to check, in the
    /// transaction of the operation that uses it (see [`strata_meta::Reach`]).
    pub fn check(&self, node: &NodeRef) -> Result<u64> {
        if node.cap != self.cap(node.ino) {
            return Err(Error::not_found("no such node in this mount session").with_field("node"));
        }
        Ok(node.ino)
    }

    pub fn writable(&self) -> Result<()> {
        if self.0.read_only {
            return Err(Error::new(ErrorKind::ReadOnly, "this mount is read-only"));
        }
        Ok(())
    }

    pub fn volume(&self) -> Uuid {
        self.0.volume
    }
}

/// An open session with what it was told when it opened: the session API in this process.
pub struct LiveSession {
    state: AppState,
    session: Session,
    pub info: SessionInfo,
}

impl LiveSession {
    fn service(&self) -> service::SessionService {
        service::SessionService::new(self.state.clone(), self.session.clone())
    }
}

/// Opens a session showing the folder `subpath` of a volume (made if missing, unless read-only),
/// for the key `key` of `org`.
pub async fn open(
    state: &AppState,
    org: &str,
    key: Uuid,
    volume: &str,
    subpath: &FsPath,
    read_only: bool,
) -> Result<LiveSession> {
    let vref = VolumeRef::parse(volume)?;
    let org_owned = org.to_owned();
    let volume = state
        .meta(move |m| m.get_volume(&org_owned, &vref))
        .await
        .map_err(Error::about_volume)?;
    // A snapshot never changes: its mounts are read-only whatever they asked for.
    let read_only = read_only || volume.snapshot_of.is_some();
    // Before the subpath is looked up or made, and again once this session counts (it keeps
    // new grants to others away from then on), as this session: it may own its tree next.
    // Only owners whose trees overlap the subpath are recalled (when it exists already; else
    // every owner): what an owner of a folder apart has not shipped cannot touch it.
    let id = Uuid::new_v4();
    let known = files::stat(state, volume.id, subpath).await.ok();
    let reach = known.filter(|s| s.kind == FileKind::Directory).map(|s| s.ino);
    ownership::recall_for(state, volume.id, Some(id), reach).await?;
    let root = if read_only || subpath.is_root() {
        files::stat(state, volume.id, subpath)
            .await
            .map_err(|e| e.context(format!("subpath {subpath}")))?
    } else {
        files::mkdir(state, volume.id, subpath, true, 0o755)
            .await
            .map_err(|e| e.context(format!("subpath {subpath}")))?
    };
    if root.kind != FileKind::Directory {
        return Err(Error::invalid("subpath", format!("{subpath} is not a directory")));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
    let record = SessionRecord {
        id,
        org: org.to_owned(),
        volume: volume.id,
        root_ino: root.ino,
        read_only,
        secret,
        created_at: now_ns(),
        alive_until: lease_end(state),
        key: Some(key),
    };
    let stored = record.clone();
    let limit = state.limits.sessions_per_org;
    state.meta(move |m| m.add_session(&stored, limit)).await?;
    // A mount that owned a tree overlapping this one has shipped what it made and given it
    // back.
    ownership::recall_for(state, volume.id, Some(id), Some(root.ino)).await?;
    let session = Session(Arc::new(record));
    let info = SessionInfo {
        id: session.0.id,
        volume,
        read_only,
        root: session.node(root),
        lease_ms: state.limits.session_lease.as_millis() as u64,
    };
    Ok(LiveSession {
        state: state.clone(),
        session,
        info,
    })
}

/// The caller's session of that id.
pub async fn find(state: &AppState, org: &str, id: &str) -> Result<Session> {
    let id = Uuid::parse_str(id).map_err(|_| Error::invalid("session", "a session id is a UUID"))?;
    let cached = state
        .sessions
        .0
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .filter(|(_, read)| read.elapsed() < SESSION_RECHECK)
        .map(|(record, _)| record.clone());
    let record = match cached {
        Some(record) => record,
        None => {
            let found = state.meta(move |m| m.find_session(id)).await?;
            let mut cache = state.sessions.0.write().unwrap_or_else(|p| p.into_inner());
            let Some(record) = found else {
                cache.remove(&id); // Closed, perhaps through another server.
                return Err(Error::not_found("no such mount session"));
            };
            let record = Arc::new(record);
            if cache.len() >= 100_000 {
                cache.retain(|_, (_, read)| read.elapsed() < SESSION_RECHECK);
            }
            cache.insert(id, (record.clone(), std::time::Instant::now()));
            record
        }
    };
    if record.org != org {
        return Err(Error::not_found("no such mount session"));
    }
    Ok(Session(record))
}

/// When a session's lease, renewed now, runs out: a mount renews every third of it, so the
/// record locks of a mount that died go within the lease.
fn lease_end(state: &AppState) -> i64 {
    now_ns() + state.limits.session_lease.as_nanos() as i64
}

pub async fn renew(state: &AppState, session: &Session) -> Result<()> {
    let id = session.0.id;
    let until = lease_end(state);
    state.meta(move |m| m.renew_session(id, until)).await
}

pub async fn close(state: &AppState, session: &Session) -> Result<()> {
    let id = session.0.id;
    state.sessions.0.write().unwrap_or_else(|p| p.into_inner()).remove(&id);
    state.meta(move |m| m.remove_session(id)).await
}

pub fn parse_hash(hex: &str) -> Result<strata_meta::BlockHash> {
    blake3::Hash::from_hex(hex)
        .map(|h| *h.as_bytes())
        .map_err(|_| Error::invalid("hash", "a block hash is 64 hex digits"))
}

pub fn decode(b64: &str, field: &str) -> Result<Vec<u8>> {
    B64.decode(b64).map_err(|_| Error::invalid(field, "not valid base64"))
}

pub fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}
