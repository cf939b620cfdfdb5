//! The HTTP API, `/v1/...`.

mod admin;
mod dashboard;
mod files;
mod forks;
mod keys;
mod openapi;
mod sandboxes;
mod sessions;
mod volumes;

use crate::access;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use strata_core::Error;
use strata_core::names::VolumeRef;
use uuid::Uuid;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", get(admin::health))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/metrics", get(admin::metrics))
        .route("/v1/volumes", get(volumes::list).post(volumes::create))
        .route("/v1/volumes/{volume}", get(volumes::get).delete(volumes::delete))
        .route("/v1/volumes/{volume}/fs/stat", get(files::stat))
        .route("/v1/volumes/{volume}/fs/list", get(files::list))
        .route("/v1/volumes/{volume}/fs/content", get(files::get).put(files::put))
        .route("/v1/volumes/{volume}/fs/mkdir", post(files::mkdir))
        .route("/v1/volumes/{volume}/fs/rename", post(files::rename))
        .route("/v1/volumes/{volume}/fs/copy", post(files::copy))
        .route("/v1/volumes/{volume}/fs/remove", post(files::remove))
        .route("/v1/volumes/{volume}/fs/symlink", post(files::symlink))
        .route("/v1/volumes/{volume}/fs/chmod", post(files::chmod))
        .route("/v1/volumes/{volume}/rename", post(volumes::rename))
        .route("/v1/volumes/{volume}/quota", post(volumes::set_quota))
        .route("/v1/volumes/{volume}/compression", post(volumes::set_compression))
        .route("/v1/volumes/{volume}/usage", get(volumes::usage))
        .route("/v1/volumes/{volume}/fork", post(forks::fork))
        .route(
            "/v1/volumes/{volume}/snapshots",
            get(forks::list_snapshots).post(forks::create_snapshot),
        )
        .route(
            "/v1/volumes/{volume}/snapshots/{name}",
            axum::routing::delete(forks::delete_snapshot),
        )
        .route("/v1/volumes/{volume}/snapshots/{name}/restore", post(forks::restore))
        .route("/v1/volumes/{volume}/restore", post(forks::restore_to))
        .route("/v1/volumes/{volume}/promote", post(forks::promote))
        .route("/v1/volumes/{volume}/merge", post(forks::merge))
        .route(
            "/v1/volumes/{volume}/history",
            get(forks::history).post(forks::set_history),
        )
        .route("/v1/diff", get(forks::diff))
        .route("/v1/volumes/{volume}/sessions", post(sessions::open))
        .route("/v1/sessions", get(sessions::list))
        .route("/v1/sessions/{id}", axum::routing::delete(sessions::close))
        .route("/v1/sessions/{id}/renew", post(sessions::renew))
        .merge(sessions::operations())
        .route(
            "/v1/sessions/{id}/blocks/{hash}",
            get(sessions::get_block).put(sessions::put_block),
        )
        .route("/v1/sessions/{id}/blocks/{hash}/pieces", get(sessions::get_pieces))
        .route("/v1/sandboxes", get(sandboxes::list).post(sandboxes::create))
        .route("/v1/sandboxes/{id}", get(sandboxes::get))
        .merge(served_by_the_sandboxs_server(&state))
        .route("/v1/orgs", get(keys::list_orgs).post(keys::create_org))
        .route("/v1/orgs/{org}", get(keys::get_org))
        .route("/v1/orgs/{org}/quota", post(keys::set_org_quota))
        .route("/v1/orgs/{org}/encryption", post(keys::encrypt_org))
        .route("/v1/orgs/{org}/rotate-key", post(keys::rotate_key))
        .route("/v1/orgs/{org}/reencrypt", post(keys::reencrypt))
        .route("/v1/keys", get(keys::list_keys).post(keys::create_key))
        .route("/v1/keys/{key}", axum::routing::delete(keys::revoke_key))
        .route("/v1/tokens", post(keys::create_token))
        .route("/v1/whoami", get(admin::whoami))
        .route("/v1/gc", post(admin::gc))
        .route("/v1/fsck", post(admin::fsck))
        .route_layer(from_fn_with_state(state.clone(), access::authorize))
        .merge(dashboard::router())
        .fallback(admin::not_found)
        .layer(from_fn_with_state(state.clone(), observe_request))
        .with_state(state)
}

/// The routes that act on one sandbox: the server that runs it serves them.
fn served_by_the_sandboxs_server(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/sandboxes/{id}", axum::routing::delete(sandboxes::delete))
        .route("/v1/sandboxes/{id}/exec", post(sandboxes::exec))
        .route(
            "/v1/sandboxes/{id}/files",
            get(sandboxes::download).put(sandboxes::upload),
        )
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::sandboxes::forward::to_its_server,
        ))
}

/// Counts every request by route template and status, with its latency, and logs one line
/// per request at `info` (`STRATA_LOG=info`). The query (which may name files) and headers
/// (which hold keys) are left out.
async fn observe_request(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let (status, seconds) = (response.status().as_u16(), started.elapsed().as_secs_f64());
    let labels = crate::metrics::RequestLabels {
        route: route.clone(),
        method: method.to_string(),
        status,
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&crate::metrics::RouteLabels { route })
        .observe(seconds);
    tracing::info!(target: "strata::request", %method, path, status, ms = seconds * 1000.0);
    response
}

/// A volume's name now, by its id; `None` once it is deleted (for records that outlive it:
/// a token's scope, a mount session).
fn volume_name(m: &dyn strata_meta::MetaStore, org: &str, id: Uuid) -> strata_core::Result<Option<String>> {
    match m.get_volume(org, &VolumeRef::Id(id)) {
        Ok(v) => Ok(Some(v.name)),
        Err(e) if e.kind == strata_core::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The id of the caller's volume that a path segment names.
async fn volume_id(state: &AppState, org: &str, volume: &str) -> ApiResult<Uuid> {
    let vref = VolumeRef::parse(volume)?;
    let org = org.to_owned();
    Ok(state
        .meta(move |m| m.get_volume(&org, &vref))
        .await
        .map_err(Error::about_volume)?
        .id)
}
