//! Forks, snapshots, restore, history and diff.

use super::volume_id;
use crate::access::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use strata_core::api::{
    CreateSnapshot, DiffEntry, Fork, HistoryKeep, HistoryPoint, MergeReport, MergeRequest, RestoreTo, Volume,
};
use strata_core::names::{Moment, VolumeName, VolumeRef};
use uuid::Uuid;

type Created = ApiResult<(StatusCode, axum::Json<Volume>)>;

/// The longest layer chain a lookup walks before a volume is flattened.
pub const MAX_DEPTH: usize = 8;

/// Flattens volumes whose chain grew too long, off the request path.
fn flatten_later(state: &AppState, volumes: Vec<Uuid>) {
    let state = state.clone();
    tokio::spawn(async move {
        for vol in volumes {
            if let Err(e) = state.meta(move |m| m.flatten_volume(vol, MAX_DEPTH)).await {
                tracing::warn!(%vol, "flattening failed: {e}");
            }
        }
    });
}

/// Makes a mount that owns the volume ship what it made first: a fork, a snapshot or a
/// diff holds everything that mount had closed.
async fn recall(s: &AppState, vol: Uuid) -> ApiResult<()> {
    Ok(crate::sessions::ownership::recall(s, vol).await?)
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/fork",
    tag = "snapshots",
    summary = "Fork a volume",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = Fork,
    responses((status = 201, description = "Created", body = Volume))
)]
pub async fn fork(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<Fork>,
) -> Created {
    let source = volume_id(&s, &c.org, &v).await?;
    let name = VolumeName::parse(&r.name)?;
    recall(&s, source).await?;
    let limit = s.limits.volumes_per_org;
    let org = c.org.clone();
    let fork = s.meta(move |m| m.fork_volume(&org, source, &name, limit)).await?;
    flatten_later(&s, vec![source, fork.id]);
    Ok((StatusCode::CREATED, axum::Json(fork)))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/snapshots",
    tag = "snapshots",
    summary = "Take a snapshot",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = CreateSnapshot,
    responses((status = 201, description = "Created", body = Volume))
)]
pub async fn create_snapshot(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<CreateSnapshot>,
) -> Created {
    let vol = volume_id(&s, &c.org, &v).await?;
    let name = VolumeName::parse(&r.name)?;
    recall(&s, vol).await?;
    let org = c.org.clone();
    let limit = s.limits.snapshots_per_volume;
    let snap = s.meta(move |m| m.snapshot_volume(&org, vol, &name, limit)).await?;
    flatten_later(&s, vec![vol]);
    Ok((StatusCode::CREATED, axum::Json(snap)))
}

#[utoipa::path(
    get,
    path = "/v1/volumes/{volume}/snapshots",
    tag = "snapshots",
    summary = "A volume's snapshots",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    responses((status = 200, description = "Done", body = Vec<Volume>))
)]
pub async fn list_snapshots(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
) -> ApiResult<axum::Json<Vec<Volume>>> {
    let vol = volume_id(&s, &c.org, &v).await?;
    Ok(axum::Json(s.meta(move |m| m.list_snapshots(&c.org, vol)).await?))
}

/// The id of snapshot `name` of volume `v`.
async fn snapshot_id(s: &AppState, org: &str, v: &str, name: &str) -> ApiResult<(Uuid, Uuid)> {
    let vol = volume_id(s, org, v).await?;
    let volume_name = s.meta({
        let org = org.to_owned();
        move |m| m.get_volume(&org, &VolumeRef::Id(vol))
    });
    let volume_name = VolumeName::parse(&volume_name.await?.name)?;
    let snapshot = VolumeName::parse(name).map_err(|e| e.with_field("snapshot"))?;
    let key = VolumeRef::snapshot_key(&volume_name, &snapshot);
    Ok((
        vol,
        volume_id(s, org, &key)
            .await
            .map_err(|e| crate::error::ApiError(e.0.with_field("snapshot")))?,
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/volumes/{volume}/snapshots/{name}",
    tag = "snapshots",
    summary = "Delete a snapshot",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), ("name" = String, Path, description = "The snapshot's name", example = "v1"), ("force" = Option<bool>, Query, description = "Delete even while mounts use it")),
    responses((status = 204, description = "Done"))
)]
pub async fn delete_snapshot(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((v, name)): Path<(String, String)>,
    Query(q): Query<super::volumes::DeleteQuery>,
) -> ApiResult<StatusCode> {
    let (_, snap) = snapshot_id(&s, &c.org, &v, &name).await?;
    super::volumes::delete_unless_mounted(&s, &c.org, snap, &format!("{v}@{name}"), q.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/snapshots/{name}/restore",
    tag = "snapshots",
    summary = "Restore a volume to a snapshot",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), ("name" = String, Path, description = "The snapshot's name", example = "v1")),
    responses((status = 200, description = "Done", body = Volume))
)]
pub async fn restore(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path((v, name)): Path<(String, String)>,
) -> ApiResult<axum::Json<Volume>> {
    let (vol, snap) = snapshot_id(&s, &c.org, &v, &name).await?;
    recall(&s, vol).await?;
    let restored = s.meta(move |m| m.restore_volume(&c.org, vol, snap)).await?;
    flatten_later(&s, vec![vol]);
    Ok(axum::Json(restored))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/restore",
    tag = "history",
    summary = "Restore a volume to a moment of its history",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = RestoreTo,
    responses((status = 200, description = "Done", body = Volume))
)]
pub async fn restore_to(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<RestoreTo>,
) -> ApiResult<axum::Json<Volume>> {
    let vol = volume_id(&s, &c.org, &v).await?;
    let moment = Moment::parse(&r.to)?.ok_or_else(|| {
        strata_core::Error::invalid("to", "a moment is RFC 3339 (2026-12-04T05:00:00Z) or before now (-10m)")
    })?;
    // What an owning mount made before now is part of the volume's past.
    recall(&s, vol).await?;
    let org = c.org.clone();
    let restored = s
        .meta(move |m| {
            let name = VolumeName::parse(&m.get_volume(&org, &VolumeRef::Id(vol))?.name)?;
            let pinned = m
                .get_volume(&org, &VolumeRef::Moment(name, moment))
                .map_err(|e| e.with_field("to"))?;
            m.restore_volume(&org, vol, pinned.id)
        })
        .await?;
    flatten_later(&s, vec![vol]);
    Ok(axum::Json(restored))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// Most windows listed, newest first (1 to 10,000; 100 when unset).
    limit: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/v1/volumes/{volume}/history",
    tag = "history",
    summary = "List the windows of changes a volume's history keeps, newest first",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data"), HistoryQuery),
    responses((status = 200, description = "Done", body = Vec<HistoryPoint>))
)]
pub async fn history(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<axum::Json<Vec<HistoryPoint>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=10_000).contains(&limit) {
        return Err(strata_core::Error::invalid("limit", "from 1 to 10000").into());
    }
    let vol = volume_id(&s, &c.org, &v).await?;
    Ok(axum::Json(s.meta(move |m| m.history(&c.org, vol, limit)).await?))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/history",
    tag = "history",
    summary = "Set how long a volume keeps its past",
    params(("volume" = String, Path, description = "The volume's name or id", example = "data")),
    request_body = HistoryKeep,
    responses((status = 200, description = "Done", body = Volume))
)]
pub async fn set_history(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<HistoryKeep>,
) -> ApiResult<axum::Json<Volume>> {
    let keep = match r.keep.as_deref() {
        None => None,
        Some("0") => Some(0),
        Some(text) => {
            let d = humantime::parse_duration(text)
                .map_err(|_| strata_core::Error::invalid("keep", "a duration like 24h, 7d or 0 (none)"))?;
            Some(i64::try_from(d.as_nanos()).map_err(|_| strata_core::Error::invalid("keep", "too long"))?)
        }
    };
    let vol = volume_id(&s, &c.org, &v).await?;
    Ok(axum::Json(
        s.meta(move |m| m.set_volume_history(&c.org, vol, keep)).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/promote",
    tag = "history",
    summary = "Make a fork its source volume: the source takes the fork's tree and keeps its own as a snapshot",
    params(("volume" = String, Path, description = "The fork's name or id", example = "experiment")),
    responses((status = 200, description = "The source volume, now holding the fork's tree", body = Volume))
)]
pub async fn promote(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
) -> ApiResult<axum::Json<Volume>> {
    let fork = volume_id(&s, &c.org, &v).await?;
    let limit = s.limits.snapshots_per_volume;
    let found = s.meta({
        let org = c.org.clone();
        move |m| m.get_volume(&org, &VolumeRef::Id(fork))
    });
    // Every owning mount of both volumes ships first: what they made is part of both trees.
    if let Some(source) = found.await?.forked_from {
        recall(&s, source).await?;
    }
    recall(&s, fork).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let keep_as = VolumeName::parse(&format!("before-promote-{now}"))?;
    let org = c.org.clone();
    let promoted = s.meta(move |m| m.promote_volume(&org, fork, &keep_as, limit)).await?;
    flatten_later(&s, vec![promoted.id, fork]);
    Ok(axum::Json(promoted))
}

#[utoipa::path(
    post,
    path = "/v1/volumes/{volume}/merge",
    tag = "history",
    summary = "Merge a fork's changes since it was made into its source (or another volume)",
    params(("volume" = String, Path, description = "The fork's name or id", example = "experiment")),
    request_body = MergeRequest,
    responses((status = 200, description = "What was merged, or would be; conflicts", body = MergeReport))
)]
pub async fn merge(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(v): Path<String>,
    Json(r): Json<MergeRequest>,
) -> ApiResult<axum::Json<MergeReport>> {
    let fork = volume_id(&s, &c.org, &v).await?;
    let into = match &r.into {
        Some(into) => Some(
            volume_id(&s, &c.org, into)
                .await
                .map_err(|e| crate::error::ApiError(e.0.with_field("into")))?,
        ),
        None => None,
    };
    let found = s.meta({
        let org = c.org.clone();
        move |m| m.get_volume(&org, &VolumeRef::Id(fork))
    });
    // Owning mounts of both ship first; the volume's then see the merge as one change.
    if let Some(target) = into.or(found.await?.forked_from) {
        recall(&s, target).await?;
    }
    recall(&s, fork).await?;
    let org = c.org.clone();
    let (prefer, dry_run) = (r.prefer, r.dry_run);
    let report = s.meta(move |m| m.merge_fork(&org, fork, into, prefer, dry_run)).await?;
    Ok(axum::Json(report))
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: String,
    to: String,
}

#[utoipa::path(
    get,
    path = "/v1/diff",
    tag = "snapshots",
    summary = "What differs between two volumes or snapshots",
    params(("from" = String, Query, description = "A volume or VOLUME@SNAPSHOT", example = "data@v1"), ("to" = String, Query, description = "A volume or VOLUME@SNAPSHOT", example = "data")),
    responses((status = 200, description = "Done", body = Vec<DiffEntry>))
)]
pub async fn diff(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<axum::Json<Vec<DiffEntry>>> {
    let from = volume_id(&s, &c.org, &q.from)
        .await
        .map_err(|e| crate::error::ApiError(e.0.with_field("from")))?;
    let to = volume_id(&s, &c.org, &q.to)
        .await
        .map_err(|e| crate::error::ApiError(e.0.with_field("to")))?;
    recall(&s, from).await?;
    recall(&s, to).await?;
    Ok(axum::Json(s.meta(move |m| m.diff(from, to)).await?))
}
