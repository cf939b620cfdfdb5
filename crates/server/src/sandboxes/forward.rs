//! Requests for a sandbox that another server runs go to that server: the same method, path,
//! query, body and key, sent on once (a forwarded request is never forwarded again, so two
//! servers that disagree cannot bounce it between them).

use super::Owner;
use crate::access::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use strata_core::sandboxes::parse_sandbox_id;
use strata_core::{Error, ErrorKind};

/// Marks a request one server sent on to another.
const FORWARDED: &str = "x-strata-forwarded";
/// Headers a forwarded request keeps: the key and what describes the body.
const KEPT: [header::HeaderName; 3] = [header::AUTHORIZATION, header::CONTENT_TYPE, header::CONTENT_LENGTH];

/// The HTTP client servers reach each other with.
#[derive(Clone)]
pub struct Forwarder(reqwest::Client);

impl Forwarder {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Callers' keys go to the other server and nowhere else, whatever the environment
            // says of proxies.
            .no_proxy()
            // The longest exec, and its margin.
            .timeout(Duration::from_secs(3700))
            .build()?;
        Ok(Forwarder(client))
    }

    async fn send(&self, base: &str, req: Request) -> Result<Response, Error> {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut out = self
            .0
            .request(parts.method, format!("{}{path}", base.trim_end_matches('/')))
            .header(FORWARDED, "1");
        for name in KEPT {
            if let Some(value) = parts.headers.get(&name) {
                out = out.header(name, value);
            }
        }
        let answer = out
            .body(reqwest::Body::wrap_stream(body.into_data_stream()))
            .send()
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!("the sandbox runs on the server at {base}, which does not answer: {e}"),
                )
            })?;
        let mut response = Response::builder().status(answer.status());
        if let Some(kind) = answer.headers().get(header::CONTENT_TYPE) {
            response = response.header(header::CONTENT_TYPE, kind);
        }
        response
            .body(Body::from_stream(answer.bytes_stream()))
            .map_err(|e| Error::internal(e.to_string()))
    }
}

/// Middleware of the routes of one sandbox (`/v1/sandboxes/{id}/...`) that act on it: sent
/// to the server that runs it, or served here.
pub async fn to_its_server(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    // The id is the third segment: "", "v1", "sandboxes", ID.
    let Some(Ok(id)) = req.uri().path().split('/').nth(3).map(parse_sandbox_id) else {
        return next.run(req).await;
    };
    match state.sandboxes.owner(&state, &caller.org, id).await {
        Ok(Owner::Here) => next.run(req).await,
        Ok(Owner::There(_)) if req.headers().contains_key(FORWARDED) => ApiError(Error::new(
            ErrorKind::Unavailable,
            format!("sandbox {id} runs on another server than the one this request was sent to"),
        ))
        .into_response(),
        Ok(Owner::There(base)) => match state.sandboxes.forwarder().send(&base, req).await {
            Ok(response) => response,
            Err(e) => ApiError(e).into_response(),
        },
        Err(e) => ApiError(e).into_response(),
    }
}
