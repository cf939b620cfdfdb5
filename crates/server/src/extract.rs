//! Extractors whose rejections are JSON errors naming what was wrong.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use strata_core::{Error, ErrorKind};

pub struct Json<T>(pub T);

fn not_json() -> ApiError {
    Error::invalid("body", "the body must be JSON with Content-Type: application/json").into()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(not_json()),
            Err(e) => Err(Error::invalid("body", format!("malformed JSON body: {}", e.body_text())).into()),
        }
    }
}

/// A JSON body as its bytes, for a handler that decodes it itself (the session operations,
/// whose type the route names). Refused as [`Json`] refuses: not JSON, or too large.
pub struct JsonBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                Error::new(ErrorKind::TooLarge, "the body is larger than the server takes").with_field("body")
            }
            e => Error::invalid("body", e.body_text()),
        })?;
        if !bytes.is_empty() && !json {
            return Err(not_json());
        }
        Ok(JsonBody(bytes))
    }
}

pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // Decoding would turn bytes that are not UTF-8 into U+FFFD, so that two different
        // names meet in one: refuse them instead.
        if !percent_decodes_to_utf8(parts.uri.query().unwrap_or("")) {
            return Err(Error::invalid("query", "the query string is not UTF-8 once percent-decoded").into());
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(Error::invalid("query", format!("invalid query string: {}", e.body_text())).into())
            }
            Err(e) => Err(Error::invalid("query", e.body_text()).into()),
        }
    }
}

/// Whether `%XX` escapes in `raw` decode to valid UTF-8 (a malformed escape stays as it is).
fn percent_decodes_to_utf8(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|&b| hex(b)),
            bytes.get(i + 2).and_then(|&b| hex(b)),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                decoded.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decodes_to_utf8;

    #[test]
    fn queries_that_are_not_utf8_are_found() {
        assert!(percent_decodes_to_utf8("path=/a%20b&x=%C3%9C"));
        assert!(percent_decodes_to_utf8("path=%zz%"));
        assert!(!percent_decodes_to_utf8("path=/a%FF"));
        assert!(!percent_decodes_to_utf8("path=%C3"));
    }
}
