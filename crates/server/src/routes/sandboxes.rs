//! `/v1/sandboxes`: process trees with volumes mounted, on this server's machine.

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

pub async fn create(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(r): Json<CreateSandbox>,
) -> ApiResult<(StatusCode, axum::Json<Sandbox>)> {
    let sandbox = s.sandboxes.create(&s, &c.org, &r.volumes).await?;
    Ok((StatusCode::CREATED, axum::Json(sandbox)))
}

pub async fn list(State(s): State<AppState>, Extension(c): Extension<Caller>) -> Out<Vec<Sandbox>> {
    Ok(axum::Json(s.sandboxes.list(&c.org)))
}

pub async fn get(State(s): State<AppState>, Extension(c): Extension<Caller>, Path(id): Path<String>) -> Out<Sandbox> {
    Ok(axum::Json(s.sandboxes.get(&c.org, parse_sandbox_id(&id)?)?))
}

pub async fn delete(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.sandboxes.delete(&s, &c.org, parse_sandbox_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn exec(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Json(r): Json<Exec>,
) -> Out<ExecResult> {
    Ok(axum::Json(s.sandboxes.exec(&c.org, parse_sandbox_id(&id)?, &r).await?))
}

#[derive(serde::Deserialize)]
pub struct FileQuery {
    path: String,
}

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
    s.sandboxes.upload(&c.org, id, &q.path, reader).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn download(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Vec<u8>> {
    Ok(s.sandboxes.download(&c.org, parse_sandbox_id(&id)?, &q.path).await?)
}
