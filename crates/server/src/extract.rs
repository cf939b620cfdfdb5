//! Extractors whose rejections are JSON errors naming what was wrong.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use strata_core::Error;

pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(Error::invalid("body", "the body must be JSON with Content-Type: application/json").into())
            }
            Err(e) => Err(Error::invalid("body", format!("malformed JSON body: {}", e.body_text())).into()),
        }
    }
}

pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(Error::invalid("query", format!("invalid query string: {}", e.body_text())).into())
            }
            Err(e) => Err(Error::invalid("query", e.body_text()).into()),
        }
    }
}
