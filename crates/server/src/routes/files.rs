use super::volume_id;
use crate::access::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::files;
use crate::state::AppState;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use strata_core::api::{Chmod, Copy, DirEntry, Mkdir, Remove, Rename, Stat, Symlink};
use uuid::Uuid;

type Out<T> = ApiResult<axum::Json<T>>;

#[derive(Deserialize)]
pub struct PathQuery {
    path: String,
    mode: Option<u32>,
}

/// The volume named in the URL and the caller's organization, which no mount owns once
/// this returns: one that did has shipped what it made, so the call sees what it closed.
async fn vol(state: &AppState, caller: &Caller, volume: &str) -> ApiResult<Uuid> {
    let id = volume_id(state, &caller.org, volume).await?;
    crate::sessions::ownership::recall(state, id).await?;
    Ok(id)
}

#[utoipa::path(
    get,
    path = "/v1/volumes/{volume}/fs/stat",
    tag = "files",
    summary = "A file's attributes",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), ("path" = String, Query, description = "A path in the volume", example = "/notes.txt")),
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn stat(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Query(q): Query<PathQuery>,
) -> Out<Stat> {
    let path = c.path(&q.path, "path")?;
    Ok(axum::Json(files::stat(&s, vol(&s, &c, &v).await?, &path).await?))
}

#[utoipa::path(
    get,
    path = "/v1/volumes/{volume}/fs/list",
    tag = "files",
    summary = "The entries of a directory",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), ("path" = String, Query, description = "A path in the volume", example = "/notes.txt")),
    responses((status = 200, description = "Done", body = Vec<DirEntry>))
)]
pub async fn list(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Query(q): Query<PathQuery>,
) -> Out<Vec<DirEntry>> {
    let path = c.path(&q.path, "path")?;
    let entries = files::list(&s, vol(&s, &c, &v).await?, &path).await?;
    Ok(axum::Json(
        entries
            .into_iter()
            .map(|(name, stat)| DirEntry { name, stat })
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/volumes/{volume}/fs/content",
    tag = "files",
    summary = "A file's bytes",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), ("path" = String, Query, description = "A path in the volume", example = "/notes.txt")),
    responses((status = 200, description = "The bytes", body = String, content_type = "application/octet-stream"))
)]
pub async fn get(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Query(q): Query<PathQuery>,
) -> ApiResult<Response> {
    let path = c.path(&q.path, "path")?;
    let (size, stream) = files::get(&s, &c.org, vol(&s, &c, &v).await?, &path).await?;
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (header::CONTENT_LENGTH, size.to_string()),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

#[utoipa::path(
    put,
    path = "/v1/volumes/{volume}/fs/content",
    tag = "files",
    summary = "Write a whole file",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), ("path" = String, Query, description = "A path in the volume", example = "/notes.txt"), ("mode" = Option<u32>, Query, description = "Permission bits, 0644 by default")),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn put(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Query(q): Query<PathQuery>,
    body: Body,
) -> Out<Stat> {
    let path = c.target(&q.path, "path")?;
    let mode = strata_core::api::check_mode(q.mode.unwrap_or(0o644), "mode")?;
    let id = vol(&s, &c, &v).await?;
    let how = files::Storing {
        compression: s.compression_of(&c.org, id).await?,
        domain: s.domain(&c.org).await?,
    };
    Ok(axum::Json(
        files::put(&s, id, &path, mode, how, body.into_data_stream()).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/fs/mkdir",
    tag = "files",
    summary = "Make a directory",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Mkdir,
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn mkdir(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<Mkdir>,
) -> Out<Stat> {
    let path = c.path(&r.path, "path")?;
    let mode = strata_core::api::check_mode(r.mode.unwrap_or(0o755), "mode")?;
    Ok(axum::Json(
        files::mkdir(&s, vol(&s, &c, &v).await?, &path, r.parents, mode).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/fs/rename",
    tag = "files",
    summary = "Rename a file or directory",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Rename,
    responses((status = 204, description = "Done"))
)]
pub async fn rename(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<Rename>,
) -> ApiResult<StatusCode> {
    let (from, to) = (c.target(&r.from, "from")?, c.target(&r.to, "to")?);
    files::rename(&s, vol(&s, &c, &v).await?, &from, &to, r.no_replace).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/fs/copy",
    tag = "files",
    summary = "Copy a file or directory",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Copy,
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn copy(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<Copy>,
) -> Out<Stat> {
    let (from, to) = (c.path(&r.from, "from")?, c.target(&r.to, "to")?);
    Ok(axum::Json(files::copy(&s, vol(&s, &c, &v).await?, &from, &to).await?))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/fs/remove",
    tag = "files",
    summary = "Remove a file or directory",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Remove,
    responses((status = 204, description = "Done"))
)]
pub async fn remove(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<Remove>,
) -> ApiResult<StatusCode> {
    let path = c.target(&r.path, "path")?;
    files::remove(&s, vol(&s, &c, &v).await?, &path, r.recursive).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/fs/symlink",
    tag = "files",
    summary = "Make a symbolic link",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Symlink,
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn symlink(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<Symlink>,
) -> Out<Stat> {
    let path = c.target(&r.path, "path")?;
    Ok(axum::Json(
        files::symlink(&s, vol(&s, &c, &v).await?, &path, r.target).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/fs/chmod",
    tag = "files",
    summary = "Change permission bits",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Chmod,
    responses((status = 200, description = "Done", body = Stat))
)]
pub async fn chmod(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<Chmod>,
) -> Out<Stat> {
    let path = c.path(&r.path, "path")?;
    Ok(axum::Json(
        files::chmod(&s, vol(&s, &c, &v).await?, &path, r.mode).await?,
    ))
}
