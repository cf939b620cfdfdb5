//! The audit log: one line (tracing target `audit`, at warn) for every request refused for
//! want of a valid key, a role or a scope. It names the key by id and name, never its secret.

use axum::http::Method;
use uuid::Uuid;

/// Logs a denied request: `key` is the key presented, when it was a known one.
pub fn denied(key: Option<(Uuid, &str)>, method: &Method, path: &str, why: &str) {
    let (key_id, key_name) = match key {
        Some((id, name)) => (id.to_string(), name),
        None => ("none".to_owned(), "none"),
    };
    tracing::warn!(target: "audit", %key_id, key_name, %method, path, why, "request denied");
}
