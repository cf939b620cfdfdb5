use super::volume_id;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use strata_core::api::{CreateVolume, Volume};
use strata_core::names::{VolumeName, VolumeRef};
use strata_core::{Error, ErrorKind};

type Out<T> = ApiResult<axum::Json<T>>;

pub async fn list(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Out<Vec<Volume>> {
    Ok(axum::Json(state.meta(move |m| m.list_volumes(&caller.org)).await?))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<CreateVolume>,
) -> ApiResult<(StatusCode, axum::Json<Volume>)> {
    let name = VolumeName::parse(&req.name)?;
    let limit = state.limits.volumes_per_org;
    let created = state
        .meta(move |m| match m.create_volume(&caller.org, &name, limit) {
            Ok(v) => Ok((StatusCode::CREATED, v)),
            Err(e) if req.exist_ok && matches!(e.kind, ErrorKind::AlreadyExists | ErrorKind::LimitExceeded) => m
                .get_volume(&caller.org, &VolumeRef::Name(name))
                .map(|v| (StatusCode::OK, v))
                .map_err(|_| e),
            Err(e) => Err(e),
        })
        .await?;
    Ok((created.0, axum::Json(created.1)))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(volume): Path<String>,
) -> Out<Volume> {
    let vref = VolumeRef::parse(&volume)?;
    Ok(axum::Json(
        state
            .meta(move |m| m.get_volume(&caller.org, &vref))
            .await
            .map_err(|e: Error| e.with_field("volume"))?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(volume): Path<String>,
) -> ApiResult<StatusCode> {
    let id = volume_id(&state, &caller.org, &volume).await?;
    state.meta(move |m| m.delete_volume(&caller.org, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
