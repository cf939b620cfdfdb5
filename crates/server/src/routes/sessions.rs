//! The inode-level API of mount sessions, `/v1/sessions/{id}/...`.

use crate::access::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::sessions::{self, Session, decode, encode, parse_hash};
use crate::state::AppState;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use std::collections::HashMap;
use strata_core::api::*;
use strata_core::pieces::PIECE;
use strata_core::{BLOCK_SIZE, Error, ErrorKind};
use strata_meta::Chunk;
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
        let session = sessions::find(state, &caller.org, id).await?;
        // A scoped token uses only the sessions it opened (so only its volume's, below its
        // folder, read-only ones if it is read-only).
        if caller.scope.is_some() && session.0.key != Some(caller.key_id) {
            let why = "the session is not one this token may use";
            crate::audit::denied(
                Some((caller.key_id, &caller.key_name)),
                &parts.method,
                parts.uri.path(),
                why,
            );
            return Err(Error::not_found("no such mount session").into());
        }
        Ok(CallerSession(session))
    }
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/sessions",
    tag = "sessions",
    summary = "Open a mount session",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = OpenSession,
    responses((status = 201, description = "Opened", body = SessionInfo))
)]
pub async fn open(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(volume): Path<String>,
    Json(r): Json<OpenSession>,
) -> ApiResult<(StatusCode, axum::Json<SessionInfo>)> {
    let root = c.mount_root(&r.subpath)?;
    let read_only = r.read_only || c.read_only();
    let info = sessions::open(&s, &c.org, c.key_id, &volume, &root, read_only).await?;
    Ok((StatusCode::CREATED, axum::Json(info)))
}

/// Extends the session's lease: its record locks count while it runs.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/renew",
    tag = "sessions",
    summary = "Renew a session's lease",
    params(("id" = String, Path, description = "The mount session's id")),
    responses((status = 204, description = "Done"))
)]
pub async fn renew(State(s): State<AppState>, CallerSession(sn): CallerSession) -> ApiResult<StatusCode> {
    sessions::renew(&s, &sn).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/v1/sessions/{id}",
    tag = "sessions",
    summary = "Close a mount session",
    params(("id" = String, Path, description = "The mount session's id")),
    responses((status = 204, description = "Done"))
)]
pub async fn close(State(s): State<AppState>, CallerSession(sn): CallerSession) -> ApiResult<StatusCode> {
    sessions::close(&s, &sn).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The bytes of a name as the engine takes them.
fn name(name: &str) -> Vec<u8> {
    name.as_bytes().to_vec()
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/lookup",
    tag = "sessions",
    summary = "Inode operation `lookup`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = NodeName,
    responses((status = 200, description = "Done", body = Node))
)]
pub async fn lookup(State(s): State<AppState>, CallerSession(sn): CallerSession, Json(r): Json<NodeName>) -> Out<Node> {
    let (vol, parent, name) = (sn.volume(), sn.check(&s, &r.parent).await?, name(&r.name));
    let stat = s.meta(move |m| m.lookup(vol, parent, &name)).await?;
    Ok(axum::Json(sn.node(stat)))
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/getattr",
    tag = "sessions",
    summary = "Inode operation `getattr`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = NodeOnly,
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn getattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeOnly>,
) -> Out<Stat> {
    let (vol, ino) = (sn.volume(), sn.check(&s, &r.node).await?);
    Ok(axum::Json(s.meta(move |m| m.getattr(vol, ino)).await?))
}

/// One page of a directory: a listing of any size costs bounded memory on both sides.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/readdir",
    tag = "sessions",
    summary = "Inode operation `readdir`: one page of a directory, with each entry's attributes",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = ReadDir,
    responses((status = 200, description = "Done", body = DirPage))
)]
pub async fn readdir(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<ReadDir>,
) -> Out<DirPage> {
    let (vol, ino) = (sn.volume(), sn.check(&s, &r.node).await?);
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

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/create",
    tag = "sessions",
    summary = "Inode operation `create`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = CreateNode,
    responses((status = 200, description = "Done", body = Node))
)]
pub async fn create(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<CreateNode>,
) -> Out<Node> {
    sn.writable()?;
    let (vol, parent, name) = (sn.volume(), sn.check(&s, &r.parent).await?, name(&r.name));
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

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/link",
    tag = "sessions",
    summary = "Inode operation `link`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = LinkNode,
    responses((status = 200, description = "Done", body = Node))
)]
pub async fn link(State(s): State<AppState>, CallerSession(sn): CallerSession, Json(r): Json<LinkNode>) -> Out<Node> {
    sn.writable()?;
    let (vol, ino, parent, name) = (
        sn.volume(),
        sn.check(&s, &r.node).await?,
        sn.check(&s, &r.parent).await?,
        name(&r.name),
    );
    let (stat, dir) = s
        .meta(move |m| Ok((m.link(vol, ino, parent, &name)?, m.getattr(vol, parent).ok())))
        .await?;
    Ok(axum::Json(Node {
        parent: dir,
        ..sn.node(stat)
    }))
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/unlink",
    tag = "sessions",
    summary = "Inode operation `unlink`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = NodeName,
    responses((status = 204, description = "Done"))
)]
pub async fn unlink(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeName>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, parent, name) = (sn.volume(), sn.check(&s, &r.parent).await?, name(&r.name));
    s.meta(move |m| m.unlink(vol, parent, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/rmdir",
    tag = "sessions",
    summary = "Inode operation `rmdir`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = NodeName,
    responses((status = 204, description = "Done"))
)]
pub async fn rmdir(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeName>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, parent, name) = (sn.volume(), sn.check(&s, &r.parent).await?, name(&r.name));
    s.meta(move |m| m.rmdir(vol, parent, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/rename",
    tag = "sessions",
    summary = "Inode operation `rename`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = RenameNode,
    responses((status = 204, description = "Done"))
)]
pub async fn rename(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<RenameNode>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, from, to) = (
        sn.volume(),
        sn.check(&s, &r.parent).await?,
        sn.check(&s, &r.new_parent).await?,
    );
    let (name, new_name) = (name(&r.name), name(&r.new_name));
    let flags = RenameFlags {
        no_replace: r.no_replace,
    };
    s.meta(move |m| m.rename(vol, (from, &name), (to, &new_name), flags))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/setattr",
    tag = "sessions",
    summary = "Inode operation `setattr`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = SetAttrNode,
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn setattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<SetAttrNode>,
) -> Out<Stat> {
    sn.writable()?;
    let (vol, ino) = (sn.volume(), sn.check(&s, &r.node).await?);
    if r.changes.mode.is_some_and(|m| m > 0o7777) {
        return Err(Error::invalid("mode", "mode has bits beyond 7777").into());
    }
    let changes = r.changes;
    Ok(axum::Json(s.meta(move |m| m.setattr(vol, ino, &changes)).await?))
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/content",
    tag = "sessions",
    summary = "Inode operation `content`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = NodeOnly,
    responses((status = 200, description = "Done", body = Content))
)]
pub async fn content(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeOnly>,
) -> Out<Content> {
    let (vol, ino) = (sn.volume(), sn.check(&s, &r.node).await?);
    let (stat, chunks) = s.meta(move |m| m.chunks(vol, ino)).await?;
    Ok(axum::Json(Content {
        stat,
        chunks: chunks.iter().map(Chunk::to_wire).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/write",
    tag = "sessions",
    summary = "Inode operation `write`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = WriteContent,
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn write(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<WriteContent>,
) -> Out<Stat> {
    sn.writable()?;
    let (vol, ino, session) = (sn.volume(), sn.check(&s, &r.node).await?, sn.0.id);
    let chunks = r.chunks.iter().map(Chunk::from_wire).collect::<Result<Vec<_>, _>>()?;
    let base = match &r.base {
        Some(base) => Some(base.iter().map(Chunk::from_wire).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    if let Some(then) = &r.then {
        if then.size.is_some() {
            return Err(Error::invalid("then", "a new size is the write's `size`, not a change after it").into());
        }
        if then.mode.is_some_and(|m| m > 0o7777) {
            return Err(Error::invalid("then", "mode has bits beyond 7777").into());
        }
    }
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
                then: r.then.as_ref(),
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
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/sync",
    tag = "sessions",
    summary = "Inode operation `sync`",
    params(("id" = String, Path, description = "The mount session's id")),
    responses((status = 204, description = "Done"))
)]
pub async fn sync(State(s): State<AppState>, _session: CallerSession) -> ApiResult<StatusCode> {
    s.meta(|m| m.sync()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/getxattr",
    tag = "sessions",
    summary = "Inode operation `getxattr`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = Xattr,
    responses((status = 200, description = "Done", body = XattrValue))
)]
pub async fn getxattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<Xattr>,
) -> Out<XattrValue> {
    let (vol, ino, name) = (sn.volume(), sn.check(&s, &r.node).await?, decode(&r.name, "name")?);
    let value = s.meta(move |m| m.get_xattr(vol, ino, &name)).await?;
    Ok(axum::Json(XattrValue { value: encode(&value) }))
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/setxattr",
    tag = "sessions",
    summary = "Inode operation `setxattr`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = Xattr,
    responses((status = 204, description = "Done"))
)]
pub async fn setxattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<Xattr>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, ino, name) = (sn.volume(), sn.check(&s, &r.node).await?, decode(&r.name, "name")?);
    let value = decode(r.value.as_deref().unwrap_or(""), "value")?;
    let mode = match r.mode {
        XattrSetMode::Any => XattrMode::Any,
        XattrSetMode::Create => XattrMode::Create,
        XattrSetMode::Replace => XattrMode::Replace,
    };
    s.meta(move |m| m.set_xattr(vol, ino, &name, &value, mode)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/listxattr",
    tag = "sessions",
    summary = "Inode operation `listxattr`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = NodeOnly,
    responses((status = 200, description = "Done", body = XattrNames))
)]
pub async fn listxattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<NodeOnly>,
) -> Out<XattrNames> {
    let (vol, ino) = (sn.volume(), sn.check(&s, &r.node).await?);
    let names = s.meta(move |m| m.list_xattrs(vol, ino)).await?;
    Ok(axum::Json(XattrNames {
        names: names.iter().map(|n| encode(n)).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/removexattr",
    tag = "sessions",
    summary = "Inode operation `removexattr`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = Xattr,
    responses((status = 204, description = "Done"))
)]
pub async fn removexattr(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<Xattr>,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let (vol, ino, name) = (sn.volume(), sn.check(&s, &r.node).await?, decode(&r.name, "name")?);
    s.meta(move |m| m.remove_xattr(vol, ino, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The volume's usage; a subpath session sees none, since the rest of the volume is not its
/// business (it would tell one tenant how much the others store).
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/statfs",
    tag = "sessions",
    summary = "Inode operation `statfs`",
    params(("id" = String, Path, description = "The mount session's id")),
    responses((status = 200, description = "Done", body = FsStats))
)]
pub async fn statfs(State(s): State<AppState>, CallerSession(sn): CallerSession) -> Out<FsStats> {
    if sn.0.root_ino != strata_meta::ROOT_INO {
        return Ok(axum::Json(FsStats {
            used_bytes: 0,
            files: 0,
        }));
    }
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
#[utoipa::path(
    put,
    path = "/v1/sessions/{id}/blocks/{hash}",
    tag = "sessions",
    summary = "Store a block",
    params(("id" = String, Path, description = "The mount session's id"), ("hash" = String, Path, description = "The block's hex BLAKE3 hash")),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 204, description = "Done"))
)]
pub async fn put_block(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Path((_, hash)): Path<(String, String)>,
    body: Body,
) -> ApiResult<StatusCode> {
    sn.writable()?;
    let hash = parse_hash(&hash)?;
    // Held until the block is stored.
    let _room = s.uploads.block().await?;
    let data = axum::body::to_bytes(body, BLOCK_SIZE as usize)
        .await
        .map_err(|_| Error::invalid("body", "a block is at most 4 MiB"))?;
    let (data, (actual, values)) = tokio::task::spawn_blocking(move || {
        let hashed = strata_core::pieces::hash_block(&data);
        (data, hashed)
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?;
    if *actual.as_bytes() != hash {
        return Err(Error::invalid("body", "the block's bytes do not match its hash").into());
    }
    let (len, session) = (data.len() as u64, sn.0.id);
    s.meta(move |m| m.touch_session_block(session, &hash, len)).await?;
    s.blocks.put(&hash, data, &values).await?;
    s.metrics.blocks_stored.inc();
    s.metrics.block_bytes_stored.inc_by(len);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/blocks/{hash}",
    tag = "sessions",
    summary = "Read a block",
    params(("id" = String, Path, description = "The mount session's id"), ("hash" = String, Path, description = "The block's hex BLAKE3 hash")),
    responses((status = 200, description = "The bytes", body = String, content_type = "application/octet-stream"))
)]
pub async fn get_block(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Path((_, hash)): Path<(String, String)>,
) -> ApiResult<Bytes> {
    let hash = readable_block(&s, &sn, &hash).await?;
    let bytes = found(s.blocks.get(&hash).await)?;
    s.metrics.blocks_fetched.inc();
    s.metrics.block_bytes_fetched.inc_by(bytes.len() as u64);
    Ok(bytes)
}

/// The block a session names, if it may read it: only blocks of its volume (or its own
/// uploads), with one answer for "not yours" and "not there", so no session learns what
/// other volumes hold.
async fn readable_block(s: &AppState, sn: &Session, hex: &str) -> ApiResult<strata_meta::BlockHash> {
    let hash = parse_hash(hex)?;
    let (vol, session) = (sn.volume(), sn.0.id);
    if !s.meta(move |m| m.session_may_read(vol, session, &hash)).await? {
        return Err(no_such_block());
    }
    Ok(hash)
}

fn no_such_block() -> ApiError {
    Error::new(ErrorKind::NotFound, "no such block").into()
}

/// A read from the store, a block missing from it being one this session cannot read.
fn found<T>(read: Result<T, strata_blocks::BlockError>) -> ApiResult<T> {
    match read {
        Err(strata_blocks::BlockError::Missing(_)) => Err(no_such_block()),
        other => Ok(other?),
    }
}

/// Which pieces of a block to send.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PieceRange {
    /// The first piece (64 KiB each) to send.
    first: usize,
    /// The piece after the last one to send.
    last: usize,
}

/// Pieces `first..last` of a block, with the values of all its pieces so the reader can
/// check them against the block's name: the block's size (8 bytes, little-endian), 32 bytes
/// a piece, then the pieces' bytes. Only blocks of two pieces or more.
#[utoipa::path(
    get,
    path = "/v1/sessions/{id}/blocks/{hash}/pieces",
    tag = "sessions",
    summary = "Read pieces of a block",
    params(("id" = String, Path, description = "The mount session's id"), ("hash" = String, Path, description = "The block's hex BLAKE3 hash"), PieceRange),
    responses((status = 200, description = "Size, piece values, bytes", body = String, content_type = "application/octet-stream"))
)]
pub async fn get_pieces(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Path((_, hash)): Path<(String, String)>,
    Query(range): Query<PieceRange>,
) -> ApiResult<Vec<u8>> {
    if range.first >= range.last {
        return Err(Error::invalid("last", "the range of pieces is empty").into());
    }
    let hash = readable_block(&s, &sn, &hash).await?;
    let pieces = found(s.blocks.pieces(&hash).await)?;
    let (size, values) = (pieces.0, &pieces.1);
    if values.len() < 2 {
        return Err(Error::invalid("hash", "a block of one piece is read whole").into());
    }
    if range.last > values.len() {
        return Err(Error::invalid("last", format!("the block has {} pieces", values.len())).into());
    }
    let bytes = (range.first * PIECE) as u64..(range.last * PIECE).min(size) as u64;
    let data = found(s.blocks.get_range(&hash, bytes).await)?;
    s.metrics.blocks_fetched.inc();
    s.metrics.block_bytes_fetched.inc_by(data.len() as u64);
    let mut reply = strata_core::pieces::encode_head(size, values);
    reply.extend_from_slice(&data);
    Ok(reply)
}

/// The first lock of another owner in the way of the one described, if any.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/getlk",
    tag = "sessions",
    summary = "Inode operation `getlk`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = LockRequest,
    responses((status = 200, description = "Done", body = LockTest))
)]
pub async fn getlk(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    Json(r): Json<LockRequest>,
) -> Out<LockTest> {
    let (vol, ino, owner) = (sn.volume(), sn.check(&s, &r.node).await?, (sn.0.id, r.owner));
    let conflict = s.meta(move |m| m.test_lock(vol, ino, owner, &r.range)).await?;
    Ok(axum::Json(LockTest { conflict }))
}

/// Takes or releases a lock at once; `Locked` if another owner holds a conflicting one.
#[utoipa::path(
    post,
    path = "/v1/sessions/{id}/setlk",
    tag = "sessions",
    summary = "Inode operation `setlk`",
    params(("id" = String, Path, description = "The mount session's id")),
    request_body = LockRequest,
    responses((status = 204, description = "Done"))
)]
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
    let (vol, ino, owner) = (sn.volume(), sn.check(&s, &r.node).await?, (sn.0.id, r.owner));
    if let Some(held) = s.meta(move |m| m.set_lock(vol, ino, owner, r.range)).await? {
        return Err(Error::new(
            ErrorKind::Locked,
            format!("bytes {}..={} are locked by pid {}", held.start, held.end, held.pid),
        )
        .into());
    }
    Ok(StatusCode::NO_CONTENT)
}
