use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use strata_core::api::GcReport;
use strata_core::{Error, ErrorKind};

pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

pub async fn not_found() -> ApiError {
    Error::new(ErrorKind::NotFound, "no such API endpoint").into()
}

pub async fn gc(State(state): State<AppState>) -> ApiResult<Json<GcReport>> {
    Ok(Json(crate::gc::collect(&state, state.limits.gc_grace).await?))
}
