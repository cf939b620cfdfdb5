use crate::access::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Extension, Query, State};
use strata_core::api::{FsckReport, GcReport, Health, Whoami};
use strata_core::{Error, ErrorKind};

#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "admin",
    summary = "Liveness, the server's version and clock",
    responses((status = 200, description = "Done", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        time_ns: strata_meta::now_ns(),
    })
}

/// Who the caller's key says it is.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "admin",
    summary = "The caller's key: its name, organization and role",
    responses((status = 200, description = "Done", body = Whoami))
)]
pub async fn whoami(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult<Json<Whoami>> {
    let scope = match caller.scope.clone() {
        Some(s) => {
            let org = caller.org.clone();
            let subpath = s.root.to_string();
            let shown = state
                .meta(move |m| super::keys::scope_info(m, &org, s.volume, subpath, s.read_only))
                .await?;
            Some(shown)
        }
        None => None,
    };
    Ok(Json(Whoami {
        organization: caller.org,
        key_name: caller.key_name,
        role: caller.role.as_str().into(),
        scope,
    }))
}

/// Prometheus metrics; volumes, live sessions and upload memory are counted now.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "admin",
    summary = "Prometheus metrics",
    responses((status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text"))
)]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (volumes, sessions) = state.meta(|m| m.counts(strata_meta::now_ns())).await?;
    state.metrics.volumes.set(volumes as i64);
    state.metrics.sessions.set(sessions as i64);
    state.metrics.upload_memory.set(state.uploads.held() as i64);
    let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(axum::http::header::CONTENT_TYPE, kind)], state.metrics.render()).into_response())
}

pub async fn not_found() -> ApiError {
    Error::new(ErrorKind::NotFound, "no such API endpoint").into()
}

#[derive(serde::Deserialize)]
pub struct GcQuery {
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(
    post,
    path = "/v1/gc",
    tag = "admin",
    summary = "Collect garbage",
    params(("dry_run" = Option<bool>, Query, description = "Only count what would be deleted")),
    responses((status = 200, description = "Done", body = GcReport))
)]
pub async fn gc(State(state): State<AppState>, Query(q): Query<GcQuery>) -> ApiResult<Json<GcReport>> {
    let grace = state.limits.gc_grace;
    Ok(Json(if q.dry_run {
        crate::gc::dry_run(&state, grace).await?
    } else {
        crate::gc::collect(&state, grace).await?
    }))
}

#[derive(serde::Deserialize)]
pub struct FsckQuery {
    #[serde(default)]
    repair: bool,
    #[serde(default)]
    blocks: bool,
}

#[utoipa::path(
    post,
    path = "/v1/fsck",
    tag = "admin",
    summary = "Check (and repair) the metadata",
    params(
        ("repair" = Option<bool>, Query, description = "Mend what is found"),
        ("blocks" = Option<bool>, Query, description = "Also read every stored block back and check it against its name"),
    ),
    responses((status = 200, description = "Done", body = FsckReport))
)]
pub async fn fsck(State(state): State<AppState>, Query(q): Query<FsckQuery>) -> ApiResult<Json<FsckReport>> {
    Ok(Json(crate::fsck::check(&state, q.repair, q.blocks).await?))
}
