//! Organizations, API keys and scoped tokens. Who may call each route is decided in
//! `access::need`; these handlers check what the body asks for (another organization, a role).

use crate::access::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use strata_core::api::{CreateKey, CreateOrg, CreateToken, KeyInfo, NewKey, Org, OrgQuota, Reencrypted, TokenScope};
use strata_core::keys::{KeyName, OrgName, Role, parse_ttl};
use strata_core::mounts::parse_subpath;
use strata_core::names::VolumeRef;
use strata_core::{Error, ErrorKind};
use strata_meta::{AddKey, MetaStore, ScopeRecord, TokenRecord, now_ns};
use uuid::Uuid;

type Created<T> = ApiResult<(StatusCode, axum::Json<T>)>;

#[utoipa::path(
    post,
    path = "/v1/orgs",
    tag = "keys",
    summary = "Create an organization",
    request_body = CreateOrg,
    responses((status = 201, description = "Created", body = Org))
)]
pub async fn create_org(State(s): State<AppState>, Json(r): Json<CreateOrg>) -> Created<Org> {
    let name = OrgName::parse(&r.name).map_err(|e| e.with_field("name"))?;
    let org = s.meta(move |m| m.create_org(&name)).await?;
    Ok((StatusCode::CREATED, axum::Json(org)))
}

#[utoipa::path(
    get,
    path = "/v1/orgs",
    tag = "keys",
    summary = "Organizations",
    responses((status = 200, description = "Done", body = Vec<Org>))
)]
pub async fn list_orgs(State(s): State<AppState>) -> ApiResult<axum::Json<Vec<Org>>> {
    Ok(axum::Json(s.meta(|m| m.list_orgs()).await?))
}

#[utoipa::path(
    get,
    path = "/v1/orgs/{org}",
    tag = "keys",
    summary = "An organization: the bytes its volumes hold and its quota",
    params(("org" = String, Path, description = "The organization (another than the key's: admin keys only)")),
    responses((status = 200, description = "Done", body = Org))
)]
pub async fn get_org(
    State(s): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<Org>> {
    let org = target_org(&caller, Some(&org))?;
    Ok(axum::Json(s.meta(move |m| m.get_org(&org)).await?))
}

/// Sets an organization's quota of bytes: from then on no change may grow its volumes past
/// it together (a fork counts whole; snapshots and history do not count).
#[utoipa::path(
    post,
    path = "/v1/orgs/{org}/quota",
    tag = "keys",
    summary = "Set an organization's quota of bytes (admin keys only)",
    params(("org" = String, Path, description = "The organization")),
    request_body = OrgQuota,
    responses((status = 200, description = "Done", body = Org))
)]
pub async fn set_org_quota(
    State(s): State<AppState>,
    Path(org): Path<String>,
    Json(quota): Json<OrgQuota>,
) -> ApiResult<axum::Json<Org>> {
    let org = OrgName::parse(&org).map_err(|e| e.with_field("org"))?;
    Ok(axum::Json(
        s.meta(move |m| m.set_org_quota(org.as_str(), quota.bytes)).await?,
    ))
}

/// Makes an organization encrypt the blocks it stores from now on, under names keyed by it
/// (admin keys; the server needs a master key). Blocks it stored before stay as they are,
/// and readable.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org}/encryption",
    tag = "keys",
    summary = "Encrypt an organization's blocks from now on (admin keys only)",
    params(("org" = String, Path, description = "The organization")),
    responses((status = 200, description = "Done", body = Org))
)]
pub async fn encrypt_org(State(s): State<AppState>, Path(org): Path<String>) -> ApiResult<axum::Json<Org>> {
    let org = OrgName::parse(&org).map_err(|e| e.with_field("org"))?;
    s.vault.encrypt(&s.meta, org.as_str()).await?;
    Ok(axum::Json(s.meta(move |m| m.get_org(org.as_str())).await?))
}

/// Gives an organization a new data key: its new blocks are encrypted with it, older ones
/// stay readable with theirs (admin keys).
#[utoipa::path(
    post,
    path = "/v1/orgs/{org}/rotate-key",
    tag = "keys",
    summary = "Give an organization a new data key (admin keys only)",
    params(("org" = String, Path, description = "The organization")),
    responses((status = 200, description = "Done", body = Org))
)]
pub async fn rotate_key(State(s): State<AppState>, Path(org): Path<String>) -> ApiResult<axum::Json<Org>> {
    let org = OrgName::parse(&org).map_err(|e| e.with_field("org"))?;
    s.vault.rotate(&s.meta, org.as_str()).await?;
    Ok(axum::Json(s.meta(move |m| m.get_org(org.as_str())).await?))
}

/// Rewrites every block of an organization that is not under its current data key (admin
/// keys): once it is done, older data keys encrypt nothing stored.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org}/reencrypt",
    tag = "keys",
    summary = "Rewrite an organization's blocks with its current data key (admin keys only)",
    params(("org" = String, Path, description = "The organization")),
    responses((status = 200, description = "Done", body = Reencrypted))
)]
pub async fn reencrypt(State(s): State<AppState>, Path(org): Path<String>) -> ApiResult<axum::Json<Reencrypted>> {
    let org = OrgName::parse(&org).map_err(|e| e.with_field("org"))?;
    Ok(axum::Json(crate::vault::reencrypt(&s, org.as_str()).await?))
}

/// The organization a key-management request is about: the caller's own unless an admin
/// key names another.
fn target_org(caller: &Caller, org: Option<&str>) -> Result<String, Error> {
    match org {
        None => Ok(caller.org.clone()),
        Some(org) => {
            let org = OrgName::parse(org)?;
            if org.as_str() != caller.org && caller.role != Role::Admin {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    "only an admin key may manage the keys of another organization",
                )
                .with_field("org"));
            }
            Ok(org.as_str().to_owned())
        }
    }
}

/// A new key's record and its secret, made by `maker`: it never outlives the key that made
/// it (without a ttl it ends when its maker does; a longer one is refused), and revoking the
/// maker revokes it.
fn new_key(
    maker: &Caller,
    org: String,
    name: KeyName,
    role: Role,
    ttl: Option<&str>,
    scope: Option<ScopeRecord>,
) -> ApiResult<(TokenRecord, String)> {
    let ttl = ttl.map(parse_ttl).transpose()?;
    let asked = ttl.map(|secs| now_ns().saturating_add((secs as i64).saturating_mul(1_000_000_000)));
    let expires_at = match (asked, maker.expires_at) {
        (Some(asked), Some(limit)) if asked > limit => {
            return Err(Error::invalid(
                "ttl",
                format!(
                    "a key cannot outlive the key that makes it, which expires in {} s",
                    (limit - now_ns()).max(0) / 1_000_000_000
                ),
            )
            .into());
        }
        (Some(asked), _) => Some(asked),
        (None, limit) => limit,
    };
    let (mut record, secret) = crate::auth::new_token(org, name.as_str().to_owned(), role, expires_at, scope)?;
    record.made_by = Some(maker.key_id);
    Ok((record, secret))
}

/// A key as shown: never its hash or secret; a scope names its volume as it is called now.
fn info(m: &dyn MetaStore, t: TokenRecord) -> strata_core::Result<KeyInfo> {
    let scope = match t.scope {
        Some(s) => Some(scope_info(m, &t.org, s.volume, s.subpath, s.read_only)?),
        None => None,
    };
    Ok(KeyInfo {
        id: t.id,
        name: t.name,
        org: t.org,
        role: t.role,
        created_at: t.created_at,
        expires_at: t.expires_at,
        scope,
    })
}

async fn store(s: &AppState, record: TokenRecord, secret: String) -> Created<NewKey> {
    let limit = s.limits.keys_per_org;
    let key = s
        .meta(move |m| {
            m.add_token(&record, AddKey::Within(limit))?;
            info(m, record)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(NewKey { key, secret })))
}

#[utoipa::path(
    post,
    path = "/v1/keys",
    tag = "keys",
    summary = "Make an API key",
    request_body = CreateKey,
    responses((status = 201, description = "Created", body = NewKey))
)]
pub async fn create_key(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(r): Json<CreateKey>,
) -> Created<NewKey> {
    let name = KeyName::parse(&r.name)?;
    let role = r.role.as_deref().map(Role::parse).transpose()?.unwrap_or(Role::Member);
    let org = target_org(&c, r.org.as_deref())?;
    if role == Role::Admin && c.role != Role::Admin {
        return Err(
            Error::new(ErrorKind::PermissionDenied, "only an admin key may make admin keys")
                .with_field("role")
                .into(),
        );
    }
    let (record, secret) = new_key(&c, org, name, role, r.ttl.as_deref(), None)?;
    store(&s, record, secret).await
}

#[derive(serde::Deserialize)]
pub struct OrgQuery {
    org: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/keys",
    tag = "keys",
    summary = "An organization's keys",
    params(("org" = Option<String>, Query, description = "Another organization (admin keys only)")),
    responses((status = 200, description = "Done", body = Vec<KeyInfo>))
)]
pub async fn list_keys(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Query(q): Query<OrgQuery>,
) -> ApiResult<axum::Json<Vec<KeyInfo>>> {
    let org = target_org(&c, q.org.as_deref())?;
    let keys = s
        .meta(move |m| m.list_tokens(&org)?.into_iter().map(|t| info(m, t)).collect())
        .await?;
    Ok(axum::Json(keys))
}

#[utoipa::path(
    delete,
    path = "/v1/keys/{key}",
    tag = "keys",
    summary = "Revoke a key",
    params(("key" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Done"))
)]
pub async fn revoke_key(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&key).map_err(|_| Error::invalid("key", "a key is named by its id, a UUID"))?;
    let missing = || Error::not_found(format!("no key {id}")).with_field("key");
    let found = s.meta(move |m| m.get_token(id)).await?;
    // Another organization's key does not exist for an org admin.
    let key = found
        .filter(|k| k.revoked_at.is_none() && (k.org == c.org || c.role == Role::Admin))
        .ok_or_else(missing)?;
    if key.role == Role::Admin && c.role != Role::Admin {
        return Err(Error::new(ErrorKind::PermissionDenied, "only an admin key may revoke an admin key").into());
    }
    // The keys it made go with it, here at once (other servers within their recheck).
    for revoked in s.meta(move |m| m.revoke_token(id, now_ns())).await? {
        s.keys.forget(revoked);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v1/tokens",
    tag = "keys",
    summary = "Make a scoped token for one volume",
    request_body = CreateToken,
    responses((status = 201, description = "Created", body = NewKey))
)]
pub async fn create_token(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(r): Json<CreateToken>,
) -> Created<NewKey> {
    let vref = VolumeRef::parse(&r.volume)?;
    let subpath = parse_subpath(&r.subpath)?;
    let id = Uuid::new_v4();
    let name = match &r.name {
        Some(name) => KeyName::parse(name)?,
        None => KeyName::parse(&format!("token-{}", &id.simple().to_string()[..12]))?,
    };
    let org = c.org.clone();
    let volume = s.meta(move |m| m.get_volume(&org, &vref)).await?;
    let scope = ScopeRecord {
        volume: volume.id,
        subpath: subpath.to_string(),
        // A snapshot never changes: its tokens read only.
        read_only: r.read_only || volume.snapshot_of.is_some(),
    };
    let (mut record, secret) = new_key(&c, c.org.clone(), name, Role::Member, r.ttl.as_deref(), Some(scope))?;
    record.id = id;
    store(&s, record, secret).await
}

/// A token's scope as shown, naming its volume as it is called now (absent once deleted).
pub(super) fn scope_info(
    m: &dyn MetaStore,
    org: &str,
    volume_id: Uuid,
    subpath: String,
    read_only: bool,
) -> strata_core::Result<TokenScope> {
    Ok(TokenScope {
        volume_id,
        volume: super::volume_name(m, org, volume_id)?,
        subpath,
        read_only,
    })
}
