//! Mount sessions over HTTP, `/v1/sessions/{id}/...`: each route decodes a call, hands it
//! to the session service (where the rules are) and encodes its answer.

use crate::access::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, JsonBody, Query};
use crate::sessions::service::SessionService;
use crate::sessions::{self, Session};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, MatchedPath, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use std::collections::HashMap;
use strata_core::api::*;
use strata_core::session::{OPERATIONS, Request};
use strata_core::{BLOCK_SIZE, Error, ErrorKind};

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
    let live = sessions::open(&s, &c.org, c.key_id, &volume, &root, read_only).await?;
    Ok((StatusCode::CREATED, axum::Json(live.info)))
}

/// The organization's live mounts: one session each. Only a key admin, or the key that opened
/// a session, sees its id (enough to end it) and the name of its key.
#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "sessions",
    summary = "List the organization's live mount sessions",
    responses((status = 200, description = "Done", body = Vec<LiveSession>))
)]
pub async fn list(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
) -> ApiResult<axum::Json<Vec<LiveSession>>> {
    let org = c.org.clone();
    let key_admin = c.role != strata_meta::Role::Member;
    let live = s
        .meta(move |m| {
            let now = strata_meta::now_ns();
            let keys: HashMap<_, _> = m.list_tokens(&org)?.into_iter().map(|t| (t.id, t.name)).collect();
            let mut names = HashMap::new();
            let mut shown = Vec::new();
            for r in m.org_sessions(&org, now)? {
                if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(r.volume) {
                    slot.insert(super::volume_name(m, &org, r.volume)?);
                }
                let told = key_admin || r.key == Some(c.key_id);
                shown.push(LiveSession {
                    id: told.then_some(r.id),
                    volume_id: r.volume,
                    volume: names[&r.volume].clone(),
                    read_only: r.read_only,
                    created_at: r.created_at,
                    alive_until: r.alive_until,
                    key: r.key.filter(|_| told).and_then(|k| keys.get(&k).cloned()),
                });
            }
            Ok(shown)
        })
        .await?;
    Ok(axum::Json(live))
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

/// Every inode operation, one route each (`/v1/sessions/{id}/lookup`, ...): the operation is
/// the last segment of the route, its request the JSON body.
pub fn operations() -> Router<AppState> {
    OPERATIONS.iter().fold(Router::new(), |router, op| {
        router.route(&format!("/v1/sessions/{{id}}/{}", op.name), post(operation))
    })
}

async fn operation(
    State(s): State<AppState>,
    CallerSession(sn): CallerSession,
    route: MatchedPath,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let name = route.as_str().rsplit('/').next().unwrap_or_default();
    let request = Request::from_json(name, &body)?;
    let reply = SessionService::new(s, sn).serve(request).await?.to_json();
    if reply.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], reply).into_response())
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
    // Refused before a byte of it is read.
    sessions::parse_hash(&hash)?;
    // Held until the block is stored.
    let _room = s.uploads.block().await?;
    let data = axum::body::to_bytes(body, BLOCK_SIZE as usize)
        .await
        .map_err(|_| Error::invalid("body", "a block is at most 4 MiB"))?;
    SessionService::new(s.clone(), sn).put_block(&hash, data).await?;
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
    Ok(SessionService::new(s, sn).get_block(&hash).await?)
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
) -> ApiResult<Bytes> {
    let service = SessionService::new(s, sn);
    Ok(service.get_pieces(&hash, range.first, range.last).await?)
}
