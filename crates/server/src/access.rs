//! Who may do what. Every request passes [`authorize`], which lets the public routes
//! (health, metrics, the OpenAPI document) through and for the others checks the key, then what its route asks of a caller ([`need`]: routes not named there are
//! for admin keys only), then, for a scoped token, that the volume the path names is its
//! volume. Handlers then reach files only through [`Caller::path`], which puts a scoped
//! token's paths below its folder, and sessions only through their own checks.

use crate::audit;
use crate::error::{ApiError, ErrorMessage};
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use strata_core::mounts::parse_subpath;
use strata_core::names::VolumeRef;
use strata_core::paths::FsPath;
use strata_core::{Error, ErrorKind, Result};
use strata_meta::{Role, TokenRecord};
use uuid::Uuid;

/// The key that made a request, as checked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: Uuid,
    pub key_name: String,
    pub org: String,
    pub role: Role,
    /// For a scoped token: all it may reach.
    pub scope: Option<Scope>,
    /// When the key stops working (ns): no key it makes outlives it.
    pub expires_at: Option<i64>,
}

/// One folder of one volume, perhaps only to read.
#[derive(Debug, Clone)]
pub struct Scope {
    pub volume: Uuid,
    pub root: FsPath,
    pub read_only: bool,
}

impl Caller {
    fn from_record(record: TokenRecord) -> Result<Caller> {
        let scope = match record.scope {
            Some(s) => Some(Scope {
                volume: s.volume,
                root: FsPath::parse(&s.subpath, "subpath")?,
                read_only: s.read_only,
            }),
            None => None,
        };
        Ok(Caller {
            key_id: record.id,
            key_name: record.name,
            org: record.org,
            role: record.role,
            scope,
            expires_at: record.expires_at,
        })
    }

    /// A path of the request as it lies in the volume: below a scoped token's folder, which
    /// it cannot leave (`..` never goes above the root it names).
    pub fn path(&self, raw: &str, field: &str) -> Result<FsPath> {
        let path = FsPath::parse(raw, field)?;
        Ok(match &self.scope {
            Some(scope) => scope.root.concat(&path),
            None => path,
        })
    }

    /// As [`Caller::path`], for what an operation moves, replaces or removes: never the root
    /// the caller sees, so a scoped token cannot remove or move its own folder.
    pub fn target(&self, raw: &str, field: &str) -> Result<FsPath> {
        if FsPath::parse(raw, field)?.is_root() {
            return Err(Error::invalid(
                field,
                "the volume root cannot be the target of this operation",
            ));
        }
        self.path(raw, field)
    }

    /// The folder a mount asked for (`users/alice`, empty for all), as it lies in the volume.
    pub fn mount_root(&self, subpath: &str) -> Result<FsPath> {
        let path = parse_subpath(subpath)?;
        Ok(match &self.scope {
            Some(scope) => scope.root.concat(&path),
            None => path,
        })
    }

    /// Whether everything this caller does must leave the volume as it is.
    pub fn read_only(&self) -> bool {
        self.scope.as_ref().is_some_and(|s| s.read_only)
    }
}

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Anyone, without a key: health, metrics and the OpenAPI document.
    Public,
    /// Reading a volume (files, the volume itself, opening a mount): scoped tokens too.
    Read,
    /// Changing a volume's files: scoped tokens that are not read-only too.
    Write,
    /// Calls of a mount session, bound by the session's own limits: scoped tokens too.
    Session,
    /// Any key of the organization that is not a scoped token.
    Org,
    /// Managing the keys of an organization: org-admin and admin keys.
    KeyAdmin,
    /// Organizations, gc, fsck, and every route not named in [`need`].
    Admin,
}

fn need(method: &Method, route: &str) -> Need {
    let files = route.starts_with("/v1/volumes/{volume}/fs/");
    match (method.as_str(), route) {
        ("GET", "/v1/health" | "/v1/openapi.json" | "/metrics") => Need::Public,
        // Who a key is, its volume, a mount of it: open to every key, scoped tokens too.
        ("GET", "/v1/whoami" | "/v1/volumes/{volume}") | ("POST", "/v1/volumes/{volume}/sessions") => Need::Read,
        ("GET", _) if files => Need::Read,
        _ if files => Need::Write,
        _ if route.starts_with("/v1/sessions/{id}") => Need::Session,
        (_, "/v1/volumes" | "/v1/volumes/{volume}" | "/v1/diff" | "/v1/tokens")
        | ("GET", "/v1/orgs/{org}" | "/v1/sessions") => Need::Org,
        _ if route.starts_with("/v1/volumes/{volume}/") => Need::Org,
        _ if route.starts_with("/v1/sandboxes") => Need::Org,
        _ if route.starts_with("/v1/keys") => Need::KeyAdmin,
        _ => Need::Admin,
    }
}

/// Whether a route asks for an API key (for the OpenAPI document's security requirements).
pub fn needs_key(method: &Method, route: &str) -> bool {
    need(method, route) != Need::Public
}

/// Whether a caller may use a route that asks for `need`.
fn permit(caller: &Caller, need: Need) -> Result<()> {
    let denied = |msg: &str| Err(Error::new(ErrorKind::PermissionDenied, msg));
    match (&caller.scope, need) {
        (Some(scope), Need::Write) if scope.read_only => {
            Err(Error::new(ErrorKind::ReadOnly, "this token is read-only"))
        }
        (Some(_), Need::Read | Need::Write | Need::Session) => Ok(()),
        (Some(_), _) => denied("a scoped token may only mount its volume or use its files"),
        (None, Need::KeyAdmin) if caller.role == Role::Member => {
            denied("only an org-admin or admin key may manage keys")
        }
        (None, Need::Admin) if caller.role != Role::Admin => denied("only an admin key may do this"),
        (_, Need::Public) | (None, _) => Ok(()),
    }
}

/// A scoped token sees its own volume only; any other is missing, with the same answer.
async fn check_volume(state: &AppState, caller: &Caller, parts: &mut Parts) -> Result<()> {
    let Some(scope) = &caller.scope else {
        return Ok(());
    };
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| Error::invalid("path", e.body_text()))?;
    let Some((_, raw)) = params.iter().find(|(k, _)| *k == "volume") else {
        return Ok(());
    };
    let vref = VolumeRef::parse(raw)?;
    let org = caller.org.clone();
    let lookup = vref.clone();
    let volume = state.meta(move |m| m.get_volume(&org, &lookup)).await?;
    if volume.id == scope.volume {
        Ok(())
    } else {
        Err(vref.not_found())
    }
}

/// Middleware: authenticates, checks the route and the scope, logs every denial (`audit`).
/// Answers a request refused before its handler ran, once the body it is sending is read and
/// dropped (up to [`DRAIN_MAX`] bytes within [`DRAIN_FOR`]): a client still writing an upload
/// when the answer came would otherwise see its connection break, not the answer.
async fn refuse(e: Error, body: axum::body::Body) -> Response {
    use futures::StreamExt;
    let drain = async {
        let mut stream = body.into_data_stream();
        let mut read = 0;
        while let Some(Ok(chunk)) = stream.next().await {
            read += chunk.len();
            if read > DRAIN_MAX {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_FOR, drain).await;
    ApiError(e).into_response()
}

/// How much of a refused request's body is read before the answer, and for how long.
const DRAIN_MAX: usize = 8 << 20;
const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let route = parts.extensions.get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let need = need(&method, route.as_deref().unwrap_or(""));
    if need == Need::Public {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let record = match crate::auth::authenticate(&state, &parts.headers).await {
        Ok(record) => record,
        Err((key, e)) => {
            if e.kind == ErrorKind::Unauthorized {
                audit::denied(
                    key.as_ref().map(|(id, name)| (*id, name.as_str())),
                    &method,
                    &path,
                    &e.message,
                );
            }
            return refuse(e, body).await;
        }
    };
    let who = (record.id, record.name.clone());
    let checked = async {
        let caller = Caller::from_record(record)?;
        permit(&caller, need)?;
        check_volume(&state, &caller, &mut parts).await?;
        Ok::<_, Error>(caller)
    };
    let caller = match checked.await {
        Ok(caller) => caller,
        Err(e) => {
            if matches!(
                e.kind,
                ErrorKind::PermissionDenied | ErrorKind::ReadOnly | ErrorKind::NotFound
            ) {
                audit::denied(Some((who.0, &who.1)), &method, &path, &e.message);
            }
            return refuse(e, body).await;
        }
    };
    parts.extensions.insert(caller);
    let response = next.run(Request::from_parts(parts, body)).await;
    let status = response.status().as_u16();
    if status == 401 || status == 403 {
        let why = response.extensions().get::<ErrorMessage>().map_or("", |m| m.0.as_str());
        audit::denied(Some((who.0, &who.1)), &method, &path, why);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, scope: Option<bool>) -> Caller {
        Caller {
            key_id: Uuid::new_v4(),
            key_name: "k".into(),
            org: "o".into(),
            role,
            scope: scope.map(|read_only| Scope {
                volume: Uuid::new_v4(),
                root: FsPath::parse("/a", "p").unwrap(),
                read_only,
            }),
            expires_at: None,
        }
    }

    #[test]
    fn routes_ask_what_they_need() {
        let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
        assert_eq!(need(&get, "/v1/health"), Need::Public);
        assert_eq!(need(&get, "/v1/openapi.json"), Need::Public);
        assert_eq!(need(&get, "/metrics"), Need::Public);
        assert!(needs_key(&get, "/v1/volumes"));
        assert_eq!(need(&get, "/v1/sessions"), Need::Org);
        assert_eq!(need(&get, "/v1/volumes/{volume}/fs/content"), Need::Read);
        assert_eq!(need(&put, "/v1/volumes/{volume}/fs/content"), Need::Write);
        assert_eq!(need(&post, "/v1/volumes/{volume}/fs/rename"), Need::Write);
        assert_eq!(need(&post, "/v1/sessions/{id}/write"), Need::Session);
        assert_eq!(need(&delete, "/v1/volumes/{volume}"), Need::Org);
        assert_eq!(need(&post, "/v1/volumes/{volume}/fork"), Need::Org);
        assert_eq!(need(&get, "/v1/volumes/{volume}/snapshots"), Need::Org);
        assert_eq!(need(&post, "/v1/tokens"), Need::Org);
        assert_eq!(need(&delete, "/v1/keys/{key}"), Need::KeyAdmin);
        assert_eq!(need(&post, "/v1/orgs"), Need::Admin);
        assert_eq!(need(&post, "/v1/gc"), Need::Admin);
        assert_eq!(need(&get, "/v1/some/new/route"), Need::Admin);
    }

    #[test]
    fn scoped_tokens_reach_only_files_and_mounts() {
        let rw = caller(Role::Member, Some(false));
        let ro = caller(Role::Member, Some(true));
        for n in [Need::Read, Need::Write, Need::Session] {
            assert!(permit(&rw, n).is_ok());
        }
        assert_eq!(permit(&ro, Need::Write).unwrap_err().kind, ErrorKind::ReadOnly);
        for n in [Need::Org, Need::KeyAdmin, Need::Admin] {
            assert_eq!(permit(&rw, n).unwrap_err().kind, ErrorKind::PermissionDenied);
        }
        assert_eq!(rw.path("/x/../y", "path").unwrap().to_string(), "/a/y");
        assert!(rw.path("/../x", "path").is_err());
        assert!(rw.target("/", "path").is_err());
        assert_eq!(rw.mount_root("b").unwrap().to_string(), "/a/b");
    }

    #[test]
    fn roles_reach_what_they_manage() {
        assert!(permit(&caller(Role::Member, None), Need::Org).is_ok());
        assert!(permit(&caller(Role::Member, None), Need::KeyAdmin).is_err());
        assert!(permit(&caller(Role::OrgAdmin, None), Need::KeyAdmin).is_ok());
        assert!(permit(&caller(Role::OrgAdmin, None), Need::Admin).is_err());
        assert!(permit(&caller(Role::Admin, None), Need::Admin).is_ok());
    }
}
