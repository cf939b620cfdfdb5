//! The inode-level API of mount sessions, `/v1/sessions/{id}/...`.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::sessions::{self, Session, chunk_from_wire, chunk_to_wire, decode, encode, parse_hash};
use crate::state::AppState;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use std::collections::HashMap;
use strata_core::api::*;
use strata_core::{BLOCK_SIZE, Error, ErrorKind};
use strata_meta::ContentWrite;
use strata_meta::{RenameFlags, XattrMode};

type Out<T> = ApiResult<axum::Json<T>>;

/// The caller's mount session named by the `{id}` of the path.
pub struct CallerSession(Session);

impl FromRequestParts<AppState> for CallerSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::Unauthorized, "missing API key"))?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::invalid("session", e.body_text()))?;
        let id = params
            .get("id")
            .ok_or_else(|| Error::invalid("session", "missing session id"))?;
        Ok(CallerSession(sessions::find(state, &caller.org, id).await?))
    }
}

pub async fn open(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(volume): Path<String>,
    Json(r): Json<OpenSession>,
) -> ApiResult<(StatusCode, axum::Json<SessionInfo>)> {
    let info = sessions::open(&s, &c.org, &volume, &r.subpath, r.read_only).await?;
    Ok((StatusCode::CREATED, axum::Json(info)))
}

/// Extends the session's lease: its record locks count while it runs.
pub async fn renew(State(s): State<AppState>, CallerSession(sn): CallerSession) -> ApiResult<StatusCode> {
    sessions::renew(&s, &sn).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn close(State(s): State<AppState>, CallerSession(sn): CallerSession) -> ApiResult<StatusCode> {
    sessions::close(&s, &sn).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The bytes of a name as the engine takes them.
fn name(name: &str) -> Vec<u8> {
    name.as_bytes().to_vec()
}

pub async fn lookup(State(s): State<AppState>, CallerSession(sn): CallerSession, Json(r): Json<NodeName>) -> Out<Node> {
    let (vol, parent, name) = (sn.volume(), sn.check(&r.parent)?, name(&r.name));
    let stat = s.meta(move |m| m.lookup(vol, parent, &name)).await?;
    Ok(axum::Json(sn.node(stat)))
}

pub async fn getattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeOnly>,
) -> Out<Stat> {
    let (vol, ino) = (sn.volume(), sn.check(&r.node)?);
    Ok(axum::Json(s.meta(move |m| m.getattr(vol, ino)).await?))
}

/// One page of a directory: a listing of any size costs bounded memory on both sides.
pub async fn readdir(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<ReadDir>,
) -> Out<DirPage> {
    let (vol, ino) = (sn.volume(), sn.check(&r.node)?);
    let (limit, after) = (r.checked_limit()?, r.checked_after()?.map(<[u8]>::to_vec));
    let page = s
        .meta(move |m| m.readdir_page(vol, ino, after.as_deref(), limit))
        .await?;
    let entries = page
        .entries
        .into_iter()
        .map(|(name, stat, xattrs)| {
            let node = sn.node(stat);
            NamedNode {
                name: String::from_utf8_lossy(&name).into_owned(),
                node: node.node,
                stat: node.stat,
                xattrs,
            }
        })
        .collect();
    let next = page.next.map(|n| String::from_utf8_lossy(&n).into_owned());
    Ok(axum::Json(DirPage { entries, next }))
}

pub async fn create(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<CreateNode>,
) -> Out<Node> {
    sn.writable()?;
    let (vol, parent, name) = (sn.volume(), sn.check(&r.parent)?, name(&r.name));
    let new = r.new;
    // The directory's new attributes too: the kernel asks for them right after a create.
    let (stat, dir) = s
        .meta(move |m| Ok((m.create(vol, parent, &name, &new)?, m.getattr(vol, parent).ok())))
        .await?;
    Ok(axum::Json(Node {
        parent: dir,
        ..sn.node(stat)
    }))
}

pub async fn link(State(s): State<AppState>, CallerSession(sn): CallerSession, Json(r): Json<LinkNode>) -> Out<Node> {
    sn.writable()?;
    let (vol, ino, parent, name) = (sn.volume(), sn.check(&r.node)?, sn.check(&r.parent)?, name(&r.name));
    let (stat, dir) = s
        .meta(move |m| Ok((m.link(vol, ino, parent, &name)?, m.getattr(vol, parent).ok())))
        .await?;
    Ok(axum::Json(Node {
        parent: dir,
        ..sn.node(stat)
    }))
}

pub async fn unlink(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeName>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, parent, name) = (sn.volume(), sn.check(&r.parent)?, name(&r.name));
    s.meta(move |m| m.unlink(vol, parent, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn rmdir(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeName>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, parent, name) = (sn.volume(), sn.check(&r.parent)?, name(&r.name));
    s.meta(move |m| m.rmdir(vol, parent, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn rename(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<RenameNode>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, from, to) = (sn.volume(), sn.check(&r.parent)?, sn.check(&r.new_parent)?);
    let (name, new_name) = (name(&r.name), name(&r.new_name));
    let flags = RenameFlags {
        no_replace: r.no_replace,
    };
    s.meta(move |m| m.rename(vol, (from, &name), (to, &new_name), flags))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn setattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<SetAttrNode>,
) -> Out<Stat> {
    sn.writable()?;
    let (vol, ino) = (sn.volume(), sn.check(&r.node)?);
    if r.changes.mode.is_some_and(|m| m > 0o7777) {
        return Err(Error::invalid("mode", "mode has bits beyond 7777").into());
    }
    let changes = r.changes;
    Ok(axum::Json(s.meta(move |m| m.setattr(vol, ino, &changes)).await?))
}

pub async fn content(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeOnly>,
) -> Out<Content> {
    let (vol, ino) = (sn.volume(), sn.check(&r.node)?);
    let (stat, chunks) = s.meta(move |m| m.chunks(vol, ino)).await?;
    Ok(axum::Json(Content {
        stat,
        chunks: chunks.iter().map(chunk_to_wire).collect(),
    }))
}

pub async fn write(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<WriteContent>,
) -> Out<Stat> {
    sn.writable()?;
    let (vol, ino, session) = (sn.volume(), sn.check(&r.node)?, sn.0.id);
    let chunks = r.chunks.iter().map(chunk_from_wire).collect::<Result<Vec<_>, _>>()?;
    let base = match &r.base {
        Some(base) => Some(base.iter().map(chunk_from_wire).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    let stat = s
        .meta(move |m| {
            let write = ContentWrite {
                chunks: &chunks,
                replace_all: r.replace_all,
                cut_at: r.cut_at,
                size: r.size,
                grow: r.grow,
                base: base.as_deref(),
                uploader: Some(session),
            };
            let stat = m.write_content(vol, ino, &write)?;
            if r.durable {
                m.sync()?;
            }
            Ok(stat)
        })
        .await?;
    Ok(axum::Json(stat))
}

/// Makes everything committed durable (`fsync` of a directory on a mount).
pub async fn sync(State(s): State<AppState>, _session: CallerSession) -> ApiResult<StatusCode> {
    s.meta(|m| m.sync()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn getxattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<Xattr>,
) -> Out<XattrValue> {
    let (vol, ino, name) = (sn.volume(), sn.check(&r.node)?, decode(&r.name, "name")?);
    let value = s.meta(move |m| m.get_xattr(vol, ino, &name)).await?;
    Ok(axum::Json(XattrValue { value: encode(&value) }))
}

pub async fn setxattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<Xattr>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, ino, name) = (sn.volume(), sn.check(&r.node)?, decode(&r.name, "name")?);
    let value = decode(r.value.as_deref().unwrap_or(""), "value")?;
    let mode = match r.mode {
        XattrSetMode::Any => XattrMode::Any,
        XattrSetMode::Create => XattrMode::Create,
        XattrSetMode::Replace => XattrMode::Replace,
    };
    s.meta(move |m| m.set_xattr(vol, ino, &name, &value, mode)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn listxattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeOnly>,
) -> Out<XattrNames> {
    let (vol, ino) = (sn.volume(), sn.check(&r.node)?);
    let names = s.meta(move |m| m.list_xattrs(vol, ino)).await?;
    Ok(axum::Json(XattrNames {
        names: names.iter().map(|n| encode(n)).collect(),
    }))
}

pub async fn removexattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<Xattr>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, ino, name) = (sn.volume(), sn.check(&r.node)?, decode(&r.name, "name")?);
    s.meta(move |m| m.remove_xattr(vol, ino, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn statfs(State(s): State<AppState>, CallerSession(sn): CallerSession) -> Out<FsStats> {
    let (org, vol) = (sn.0.org.clone(), sn.volume());
    let v = s
        .meta(move |m| m.get_volume(&org, &strata_core::names::VolumeRef::Id(vol)))
        .await?;
    Ok(axum::Json(FsStats {
        used_bytes: v.used_bytes,
        files: v.file_count,
    }))
}

/// Stores one block; the server checks that the bytes hash to the name.
pub async fn put_block(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Path((_, hash)): Path<(String, String)>,
    body: Body,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let hash = parse_hash(&hash)?;
    let data = axum::body::to_bytes(body, BLOCK_SIZE as usize)
        .await
        .map_err(|_| Error::invalid("body", "a block is at most 4 MiB"))?;
    let (data, actual) = tokio::task::spawn_blocking(move || {
        let actual = strata_blocks::hash(&data);
        (data, actual)
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?;
    if actual != hash {
        return Err(Error::invalid("body", "the block's bytes do not match its hash").into());
    }
    let (len, session) = (data.len() as u64, sn.0.id);
    s.meta(move |m| m.touch_session_block(session, &hash, len)).await?;
    s.blocks.put(&hash, data).await?;
    s.metrics.blocks_stored.inc();
    s.metrics.block_bytes_stored.inc_by(len);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_block(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Path((_, hash)): Path<(String, String)>,
) -> ApiResult<Bytes> {
    let hash = parse_hash(&hash)?;
    let (vol, session) = (sn.volume(), sn.0.id);
    // Only blocks of this session's volume (or its own uploads): one answer for "not yours"
    // and "not there", so no session learns what other volumes hold.
    if !s.meta(move |m| m.session_may_read(vol, session, &hash)).await? {
        return Err(Error::new(ErrorKind::NotFound, "no such block").into());
    }
    match s.blocks.get(&hash).await {
        Ok(bytes) => {
            s.metrics.blocks_fetched.inc();
            s.metrics.block_bytes_fetched.inc_by(bytes.len() as u64);
            Ok(bytes)
        }
        Err(strata_blocks::BlockError::Missing(_)) => Err(Error::new(ErrorKind::NotFound, "no such block").into()),
        Err(e) => Err(e.into()),
    }
}

/// The first lock of another owner in the way of the one described, if any.
pub async fn getlk(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<LockRequest>,
) -> Out<LockTest> {
    let (vol, ino, owner) = (sn.volume(), sn.check(&r.node)?, (sn.0.id, r.owner));
    let conflict = s.meta(move |m| m.test_lock(vol, ino, owner, &r.range)).await?;
    Ok(axum::Json(LockTest { conflict }))
}

/// Takes or releases a lock at once; `Locked` if another owner holds a conflicting one.
pub async fn setlk(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<LockRequest>,
) -> ApiResult<StatusCode> {
    if r.range.start > r.range.end {
        return Err(Error::invalid("range", "a lock range starts before it ends").into());
    }
    if r.range.kind == LockKind::Write {
        // As a file open read-only cannot be write-locked.
        sn.writable()?;
    }
    let (vol, ino, owner) = (sn.volume(), sn.check(&r.node)?, (sn.0.id, r.owner));
    if let Some(held) = s.meta(move |m| m.set_lock(vol, ino, owner, r.range)).await? {
        return Err(Error::new(
            ErrorKind::Locked,
            format!("bytes {}..={} are locked by pid {}", held.start, held.end, held.pid),
        )
        .into());
    }
    Ok(StatusCode::NO_CONTENT)
}
