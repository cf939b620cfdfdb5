use super::volume_id;
use crate::access::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use strata_core::api::{CompressionSetting, CreateVolume, Quota, RenameVolume, StoreUsage, Volume};
use strata_core::names::{VolumeName, VolumeRef};
use strata_core::{Error, ErrorKind};
use uuid::Uuid;

type Out<T> = ApiResult<axum::Json<T>>;

#[utoipa::path(
    get,
    path = "/v1/volumes",
    tag = "volumes",
    summary = "The organization's volumes",
    responses((status = 200, description = "Done", body = Vec<Volume>))
)]
pub async fn list(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Out<Vec<Volume>> {
    Ok(axum::Json(state.meta(move |m| m.list_volumes(&caller.org)).await?))
}

#[utoipa::path(
    post,
    path = "/v1/volumes",
    tag = "volumes",
    summary = "Create a volume",
    request_body = CreateVolume,
    responses((status = 201, description = "Created", body = Volume), (status = 200, description = "It existed (exist_ok)", body = Volume))
)]
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

#[utoipa::path(
    get,
    path = "/v1/volumes/{volume}",
    tag = "volumes",
    summary = "One volume",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    responses((status = 200, description = "Done", body = Volume))
)]
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
            .map_err(Error::about_volume)?,
    ))
}

#[derive(serde::Deserialize)]
pub struct DeleteQuery {
    /// Delete even while mounts use it (they fail from then on).
    #[serde(default)]
    pub force: bool,
}

#[utoipa::path(
    delete,
    path = "/v1/volumes/{volume}",
    tag = "volumes",
    summary = "Delete a volume",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), ("force" = Option<bool>, Query, description = "Delete even while mounts use it")),
    responses((status = 204, description = "Done"))
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(volume): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<StatusCode> {
    let id = volume_id(&state, &caller.org, &volume).await?;
    delete_unless_mounted(&state, &caller.org, id, &volume, q.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/rename",
    tag = "volumes",
    summary = "Rename a volume (and its snapshots)",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = RenameVolume,
    responses((status = 200, description = "Done", body = Volume))
)]
pub async fn rename(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(volume): Path<String>,
    Json(r): Json<RenameVolume>,
) -> ApiResult<axum::Json<Volume>> {
    let id = volume_id(&state, &caller.org, &volume).await?;
    let name = VolumeName::parse(&r.name)?;
    let org = caller.org.clone();
    Ok(axum::Json(state.meta(move |m| m.rename_volume(&org, id, &name)).await?))
}

/// Sets a volume's quota; every change that would grow its bytes or files past it is then
/// refused (`quota_exceeded`, 403; EDQUOT on a mount).
#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/quota",
    tag = "volumes",
    summary = "Set a volume's quota of bytes and files",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Quota,
    responses((status = 200, description = "Done", body = Volume))
)]
pub async fn set_quota(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(volume): Path<String>,
    Json(quota): Json<Quota>,
) -> ApiResult<axum::Json<Volume>> {
    let id = volume_id(&state, &caller.org, &volume).await?;
    let org = caller.org.clone();
    Ok(axum::Json(state.meta(move |m| m.set_quota(&org, id, quota)).await?))
}

/// The highest zstd level a volume may ask for: level 19 costs about 30 times level 3.
const VOLUME_MAX_LEVEL: i32 = 9;

/// Sets how the blocks a volume stores from now on are compressed; blocks stored before
/// keep their form and are read alike.
#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/compression",
    tag = "volumes",
    summary = "Set how a volume's new blocks are compressed",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = CompressionSetting,
    responses((status = 200, description = "Done", body = Volume))
)]
pub async fn set_compression(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(volume): Path<String>,
    Json(setting): Json<CompressionSetting>,
) -> ApiResult<axum::Json<Volume>> {
    let id = volume_id(&state, &caller.org, &volume).await?;
    // Stored in the form it prints in, so every server reads it alike.
    let setting = match setting.compression.as_deref() {
        None => None,
        Some(given) => {
            let c = strata_blocks::Compression::parse(given).map_err(|e| Error::invalid("compression", e))?;
            if matches!(c, strata_blocks::Compression::Zstd(level) if level > VOLUME_MAX_LEVEL) {
                let msg = format!(
                    "a volume compresses at level {VOLUME_MAX_LEVEL} at most; higher ones cost the server's CPU for every tenant (the server's --compression may go higher)"
                );
                return Err(Error::invalid("compression", msg).into());
            }
            Some(c.to_string())
        }
    };
    let org = caller.org.clone();
    Ok(axum::Json(
        state
            .meta(move |m| m.set_compression(&org, id, setting.as_deref()))
            .await?,
    ))
}

/// The blocks a volume's layers name (its past, and the layers it shares with forks and
/// snapshots, included) and the bytes the store keeps for them. Reads every chunk of those
/// layers: a walk, unlike `GET /v1/volumes/{volume}`.
#[utoipa::path(
    get,
    path = "/v1/volumes/{volume}/usage",
    tag = "volumes",
    summary = "The blocks a volume names and what the store keeps for them",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    responses((status = 200, description = "Done", body = StoreUsage))
)]
pub async fn usage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(volume): Path<String>,
) -> ApiResult<axum::Json<StoreUsage>> {
    let id = volume_id(&state, &caller.org, &volume).await?;
    let org = caller.org.clone();
    Ok(axum::Json(state.meta(move |m| m.volume_usage(&org, id)).await?))
}

/// Deletes a volume or snapshot, refusing (409) while mounts use it unless `force`.
pub async fn delete_unless_mounted(state: &AppState, org: &str, id: Uuid, name: &str, force: bool) -> ApiResult<()> {
    let sandboxes = state.sandboxes.using(state, org, id).await?;
    if !sandboxes.is_empty() {
        let ids: Vec<String> = sandboxes.iter().map(Uuid::to_string).collect();
        return Err(Error::new(
            ErrorKind::Conflict,
            format!("{name} is in use by sandbox(es) {}: delete them first", ids.join(", ")),
        )
        .with_field("volume")
        .into());
    }
    let org = org.to_owned();
    let name = name.to_owned();
    state
        .meta(move |m| {
            let mounts = m.live_sessions(id, strata_meta::now_ns())?;
            // The count, never the sessions' ids: an id is enough to end a session.
            if !force && !mounts.is_empty() {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "{name} is mounted ({} mount session(s)): unmount it first, or delete with --force",
                        mounts.len()
                    ),
                )
                .with_field("volume"));
            }
            m.delete_volume(&org, id)
        })
        .await?;
    Ok(())
}
