//! The HTTP API, `/v1/...`.

mod admin;
mod files;
mod volumes;

use crate::auth;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use strata_core::Error;
use strata_core::names::VolumeRef;
use uuid::Uuid;

pub fn router(state: AppState) -> Router {
    let authed = Router::new()
        .route("/v1/volumes", get(volumes::list).post(volumes::create))
        .route(
            "/v1/volumes/{volume}",
            get(volumes::get).delete(volumes::delete),
        )
        .route("/v1/volumes/{volume}/fs/stat", get(files::stat))
        .route("/v1/volumes/{volume}/fs/list", get(files::list))
        .route(
            "/v1/volumes/{volume}/fs/content",
            get(files::get).put(files::put),
        )
        .route("/v1/volumes/{volume}/fs/mkdir", post(files::mkdir))
        .route("/v1/volumes/{volume}/fs/rename", post(files::rename))
        .route("/v1/volumes/{volume}/fs/copy", post(files::copy))
        .route("/v1/volumes/{volume}/fs/remove", post(files::remove))
        .route("/v1/volumes/{volume}/fs/symlink", post(files::symlink))
        .route("/v1/volumes/{volume}/fs/chmod", post(files::chmod))
        .route("/v1/gc", post(admin::gc))
        .route_layer(from_fn_with_state(state.clone(), auth::require_key));
    Router::new()
        .route("/v1/health", get(admin::health))
        .merge(authed)
        .fallback(admin::not_found)
        .with_state(state)
}

/// The id of the caller's volume that a path segment names.
async fn volume_id(state: &AppState, org: &str, volume: &str) -> ApiResult<Uuid> {
    let vref = VolumeRef::parse(volume)?;
    let org = org.to_owned();
    Ok(state
        .meta(move |m| m.get_volume(&org, &vref))
        .await
        .map_err(|e: Error| e.with_field("volume"))?
        .id)
}
