//! `/v1/sandboxes`: containers with volumes mounted, on a server's machine. Any server lists
//! and describes them; the routes that act on one are served by the server that runs it
//! (`sandboxes::forward`).

use crate::access::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::state::AppState;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use futures::TryStreamExt;
use strata_core::api::{CreateSandbox, Exec, ExecResult, Sandbox};
use strata_core::sandboxes::parse_sandbox_id;

type Out<T> = ApiResult<axum::Json<T>>;

#[utoipa::path(
    post,
    path = "/v1/sandboxes",
    tag = "sandboxes",
    summary = "Start a sandbox",
    request_body = CreateSandbox,
    responses((status = 201, description = "Started", body = Sandbox))
)]
pub async fn create(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(r): Json<CreateSandbox>,
) -> ApiResult<(StatusCode, axum::Json<Sandbox>)> {
    let sandbox = s.sandboxes.create(&s, &c.org, &r).await?;
    Ok((StatusCode::CREATED, axum::Json(sandbox)))
}

#[utoipa::path(
    get,
    path = "/v1/sandboxes",
    tag = "sandboxes",
    summary = "The organization's sandboxes",
    responses((status = 200, description = "Done", body = Vec<Sandbox>))
)]
pub async fn list(State(s): State<AppState>, Extension(c): Extension<Caller>) -> Out<Vec<Sandbox>> {
    Ok(axum::Json(s.sandboxes.list(&s, &c.org).await?))
}

#[utoipa::path(
    get,
    path = "/v1/sandboxes/{id}",
    tag = "sandboxes",
    summary = "One sandbox",
    params(("id" = String, Path, description = "The sandbox's id")),
    responses((status = 200, description = "Done", body = Sandbox))
)]
pub async fn get(State(s): State<AppState>, Extension(c): Extension<Caller>, Path(id): Path<String>) -> Out<Sandbox> {
    Ok(axum::Json(s.sandboxes.get(&s, &c.org, parse_sandbox_id(&id)?).await?))
}

#[utoipa::path(
    delete,
    path = "/v1/sandboxes/{id}",
    tag = "sandboxes",
    summary = "Stop and delete a sandbox",
    params(("id" = String, Path, description = "The sandbox's id")),
    responses((status = 204, description = "Done"))
)]
pub async fn delete(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.sandboxes.delete(&s, &c.org, parse_sandbox_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/sandboxes/{id}/exec",
    tag = "sandboxes",
    summary = "Run a command in a sandbox",
    params(("id" = String, Path, description = "The sandbox's id")),
    request_body = Exec,
    responses((status = 200, description = "Done", body = ExecResult))
)]
pub async fn exec(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(r): Json<Exec>,
) -> Out<ExecResult> {
    Ok(axum::Json(
        s.sandboxes.exec(&s, &c.org, parse_sandbox_id(&id)?, &r).await?,
    ))
}

#[derive(serde::Deserialize)]
pub struct FileQuery {
    path: String,
}

#[utoipa::path(
    put,
    path = "/v1/sandboxes/{id}/files",
    tag = "sandboxes",
    summary = "Write a file into a sandbox",
    params(("id" = String, Path, description = "The sandbox's id"), ("path" = String, Query, description = "An absolute path inside the sandbox")),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 204, description = "Done"))
)]
pub async fn upload(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
    body: Body,
) -> ApiResult<StatusCode> {
    let id = parse_sandbox_id(&id)?;
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    s.sandboxes.upload(&s, &c.org, id, &q.path, reader).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/v1/sandboxes/{id}/files",
    tag = "sandboxes",
    summary = "Read a file of a sandbox",
    params(("id" = String, Path, description = "The sandbox's id"), ("path" = String, Query, description = "An absolute path inside the sandbox")),
    responses((status = 200, description = "The bytes", body = String, content_type = "application/octet-stream"))
)]
pub async fn download(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Vec<u8>> {
    Ok(s.sandboxes
        .download(&s, &c.org, parse_sandbox_id(&id)?, &q.path)
        .await?)
}
