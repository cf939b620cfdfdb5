//! The OpenAPI document of the HTTP API, made from the handlers' `#[utoipa::path]` attributes
//! and served at `GET /v1/openapi.json`.

use super::{admin, files, forks, keys, sandboxes, sessions, volumes};
use crate::access;
use axum::http::Method;
use strata_core::api::ErrorBody;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "strata", description = "Persistent, forkable, shareable volumes for sandboxes."),
    paths(
        volumes::list,
        volumes::create,
        volumes::get,
        volumes::delete,
        volumes::rename,
        volumes::set_quota,
        volumes::set_compression,
        volumes::usage,
        files::stat,
        files::list,
        files::get,
        files::put,
        files::mkdir,
        files::rename,
        files::copy,
        files::remove,
        files::symlink,
        files::chmod,
        forks::fork,
        forks::list_snapshots,
        forks::create_snapshot,
        forks::delete_snapshot,
        forks::restore,
        forks::restore_to,
        forks::history,
        forks::set_history,
        forks::promote,
        forks::merge,
        forks::diff,
        sessions::open,
        sessions::list,
        sessions::close,
        sessions::renew,
        sessions::put_block,
        sessions::get_block,
        sessions::get_pieces,
        sandboxes::list,
        sandboxes::create,
        sandboxes::get,
        sandboxes::delete,
        sandboxes::exec,
        sandboxes::download,
        sandboxes::upload,
        keys::list_orgs,
        keys::get_org,
        keys::set_org_quota,
        keys::encrypt_org,
        keys::rotate_key,
        keys::reencrypt,
        keys::create_org,
        keys::list_keys,
        keys::create_key,
        keys::revoke_key,
        keys::create_token,
        admin::health,
        admin::whoami,
        admin::metrics,
        admin::gc,
        admin::fsck,
        document
    ),
    components(schemas(ErrorBody)),
    modifiers(&SessionOperations, &Conventions)
)]
pub struct ApiDoc;

/// The document, as served.
pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "admin",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI document", body = serde_json::Value))
)]
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(spec())
}

/// The inode operations of the session API, one path each, from their one list
/// ([`strata_core::session`]) rather than a handler apiece.
struct SessionOperations;

impl Modify for SessionOperations {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
        use utoipa::openapi::request_body::RequestBodyBuilder;
        let json = |schema: &str| {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build()
        };
        let (schemas, bodies) = strata_core::session::schemas();
        let components = doc.components.get_or_insert_with(Default::default);
        components.schemas.extend(schemas);
        for (op, (request, reply)) in strata_core::session::OPERATIONS.iter().zip(bodies) {
            let id = ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .description(Some("The mount session's id"))
                .schema(Some(<String as utoipa::PartialSchema>::schema()))
                .build();
            let response = match &reply {
                Some(schema) => (
                    "200",
                    ResponseBuilder::new()
                        .description("Done")
                        .content("application/json", json(schema)),
                ),
                None => ("204", ResponseBuilder::new().description("Done")),
            };
            let operation = OperationBuilder::new()
                .tag("sessions")
                .summary(Some(op.summary))
                .operation_id(Some(op.name))
                .parameter(id)
                .request_body(request.map(|schema| {
                    RequestBodyBuilder::new()
                        .content("application/json", json(&schema))
                        .build()
                }))
                .response(response.0, response.1.build());
            doc.paths.add_path_operation(
                format!("/v1/sessions/{{id}}/{}", op.name),
                vec![utoipa::openapi::HttpMethod::Post],
                operation,
            );
        }
    }
}

/// What every operation shares, added once rather than on each handler: the error body of
/// 4xx and 5xx answers, the bearer key of the routes that need one (`access::needs_key`), and
/// an operation id unique in the document, `TAG_HANDLER` (handlers of several modules share
/// names such as `get` and `list`; generators of clients need them apart).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let operations = [
                (Method::GET, &mut item.get),
                (Method::PUT, &mut item.put),
                (Method::POST, &mut item.post),
                (Method::DELETE, &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                if let (Some(tag), Some(id)) =
                    (operation.tags.as_ref().and_then(|t| t.first()), &operation.operation_id)
                {
                    operation.operation_id = Some(format!("{tag}_{id}"));
                }
                let responses = &mut operation.responses.responses;
                responses.insert(
                    "4XX".into(),
                    error("The request was refused; `error.field` names the input at fault").into(),
                );
                responses.insert("5XX".into(), error("The server or its storage failed").into());
                if access::needs_key(&method, path) {
                    operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use std::collections::{BTreeMap, BTreeSet};
    use tower::ServiceExt;

    /// The server's router on a fresh data folder, and its admin key.
    fn router(data_dir: &std::path::Path) -> (axum::Router, String) {
        let config = crate::ServerConfig::in_folder(data_dir);
        let state = crate::open_state(&config).unwrap();
        crate::auth::bootstrap_admin(&state, data_dir).unwrap();
        let key = std::fs::read_to_string(data_dir.join("admin.token")).unwrap();
        (super::super::router(state), key.trim().to_owned())
    }

    /// The route templates the router holds, read from its debug form (axum lists them
    /// there and nowhere public), without the two that axum adds for the fallback.
    fn router_paths(router: &axum::Router) -> BTreeSet<String> {
        let debug = format!("{router:?}");
        debug
            .split('"')
            .filter(|s| s.starts_with('/') && !s.contains(' '))
            .filter(|s| *s != "/" && !s.starts_with("/ui/") && !s.contains("__private__axum_fallback"))
            .map(str::to_owned)
            .collect()
    }

    /// The methods a route answers, as its 405 answer to a method none of them use lists.
    async fn served_methods(router: &axum::Router, key: &str, template: &str) -> BTreeSet<String> {
        let uri = template.replace('{', "x").replace('}', "");
        let request = Request::builder()
            .method("PATCH")
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{template}");
        let allow = response.headers()[header::ALLOW].to_str().unwrap().to_owned();
        allow
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| m != "HEAD")
            .collect()
    }

    fn documented(doc: &utoipa::openapi::OpenApi) -> BTreeMap<String, BTreeSet<String>> {
        let json = serde_json::to_value(doc).unwrap();
        json["paths"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(path, item)| {
                let methods = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
                (path.clone(), methods)
            })
            .collect()
    }

    #[tokio::test]
    async fn every_route_is_documented_with_its_methods() {
        let dir = tempfile::tempdir().unwrap();
        let (router, key) = router(dir.path());
        let doc = documented(&spec());
        let paths = router_paths(&router);
        assert!(
            paths.contains("/v1/volumes") && paths.len() > 40,
            "routes not found: {paths:?}"
        );
        let doc_paths: BTreeSet<String> = doc.keys().cloned().collect();
        assert_eq!(paths, doc_paths, "routes and documented paths differ");
        for path in &paths {
            assert_eq!(
                served_methods(&router, &key, path).await,
                doc[path],
                "methods of {path}"
            );
        }
    }

    #[tokio::test]
    async fn the_served_document_parses_and_says_who_needs_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let request = Request::get("/v1/openapi.json").body(Body::empty()).unwrap();
        let response = router(dir.path()).0.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        assert_eq!(json["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        let list = &json["paths"]["/v1/volumes"]["get"];
        assert_eq!(list["security"][0]["bearer"], serde_json::json!([]));
        assert!(list["responses"]["200"].is_object() && list["responses"]["4XX"].is_object());
        assert!(json["paths"]["/v1/health"]["get"]["security"].is_null());
        assert!(json["components"]["schemas"]["ErrorBody"].is_object());
        let mut ids = BTreeSet::new();
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} has no id"));
                assert!(ids.insert(id.to_owned()), "{method} {path}: operation id {id} twice");
            }
        }
        assert_eq!(
            json["paths"]["/v1/volumes/{volume}/fs/content"]["get"]["operationId"],
            "files_get"
        );
        // The session operations, made from core's list, say what a handler's attributes say.
        let params = |op: &str| json["paths"][format!("/v1/sessions/{{id}}/{op}")]["post"]["parameters"].clone();
        assert_eq!(params("lookup"), params("renew"));
        assert_eq!(params("lookup")[0]["schema"]["type"], "string");
        let mut refs = Vec::new();
        collect_refs(&json, &mut refs);
        assert!(refs.len() > 100, "too few references: {}", refs.len());
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
            assert!(json["components"]["schemas"][name].is_object(), "{r} is not defined");
        }
    }

    /// Every `$ref` in a JSON document.
    fn collect_refs(value: &serde_json::Value, refs: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    refs.push(r.clone());
                }
                map.values().for_each(|v| collect_refs(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
            _ => {}
        }
    }
}
