//! The web dashboard: `GET /` and its files under `/ui/`, built into the binary. The pages
//! (`dashboard/app/`) are plain modules on the TypeScript SDK (`sdk/typescript/dist/`,
//! served as `/ui/sdk/`); they call the API with the key the user signs in with. The
//! content security policy keeps every request on the server's own origin.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Each served file: its name under `/ui/` and its bytes.
macro_rules! files {
    ($($name:literal => $path:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../", $path)) as &[u8])),*]
    };
}

const FILES: &[(&str, &[u8])] = files![
    "index.html" => "dashboard/app/index.html",
    "style.css" => "dashboard/app/style.css",
    "main.js" => "dashboard/app/main.js",
    "ui.js" => "dashboard/app/ui.js",
    "format.js" => "dashboard/app/format.js",
    "zip.js" => "dashboard/app/zip.js",
    "pages/overview.js" => "dashboard/app/pages/overview.js",
    "pages/volumes.js" => "dashboard/app/pages/volumes.js",
    "pages/volume.js" => "dashboard/app/pages/volume.js",
    "pages/mounts.js" => "dashboard/app/pages/mounts.js",
    "pages/sandboxes.js" => "dashboard/app/pages/sandboxes.js",
    "pages/access.js" => "dashboard/app/pages/access.js",
    "sdk/index.js" => "sdk/typescript/dist/index.js",
    "sdk/client.js" => "sdk/typescript/dist/client.js",
    "sdk/errors.js" => "sdk/typescript/dist/errors.js",
    "sdk/config.js" => "sdk/typescript/dist/config.js",
    "sdk/openapi.js" => "sdk/typescript/dist/openapi.js",
];

/// Where every request of a page may go: this server, nowhere else.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(|| async { serve("index.html") })).route(
        "/ui/{*file}",
        get(|Path(file): Path<String>| async move { serve(&file) }),
    )
}

fn serve(name: &str) -> Response {
    let Some((_, bytes)) = FILES.iter().find(|(n, _)| *n == name) else {
        return crate::error::ApiError(strata_core::Error::not_found("no such dashboard file")).into_response();
    };
    let kind = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/javascript; charset=utf-8",
    };
    let mut response = (StatusCode::OK, *bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // A page that opened the dashboard keeps no handle on it (it could steer its address),
    // and browsers without `frame-ancestors` do not frame it either.
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn files_under(root: &Path, dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }

    #[test]
    fn every_file_of_the_dashboard_and_the_sdk_build_is_served() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut on_disk = Vec::new();
        let app = repo.join("dashboard/app");
        files_under(&app, &app, &mut on_disk);
        let dist = repo.join("sdk/typescript/dist");
        let mut sdk = Vec::new();
        files_under(&dist, &dist, &mut sdk);
        on_disk.extend(
            sdk.into_iter()
                .filter(|f| f.ends_with(".js"))
                .map(|f| format!("sdk/{f}")),
        );
        on_disk.sort();
        let mut served: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        served.sort();
        assert_eq!(served, on_disk);
    }

    #[test]
    fn names_outside_the_list_are_not_found() {
        for name in ["../Cargo.toml", "/etc/passwd", "sdk/../main.js", "", "index.html\0"] {
            assert_eq!(serve(name).status(), StatusCode::NOT_FOUND, "{name:?}");
        }
        assert_eq!(serve("main.js").status(), StatusCode::OK);
    }

    /// Through the server's whole router: the page, a module, a name outside the list, and an
    /// API call with no key (which the dashboard's routes must not open).
    #[tokio::test]
    async fn the_router_serves_the_dashboard_without_a_key_and_nothing_else() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let state = crate::open_state(&crate::ServerConfig::in_folder(dir.path())).unwrap();
        let router = super::super::router(state);
        let get = |uri: &str| axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap();
        for uri in ["/", "/ui/main.js", "/ui/sdk/index.js"] {
            let response = router.clone().oneshot(get(uri)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            let policy = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(policy.contains("connect-src 'self'"), "{uri}: {policy}");
        }
        for (uri, status) in [
            ("/ui/../Cargo.toml", StatusCode::NOT_FOUND),
            ("/ui/%2e%2e/Cargo.toml", StatusCode::NOT_FOUND),
            ("/ui/", StatusCode::NOT_FOUND),
            ("/v1/volumes", StatusCode::UNAUTHORIZED),
        ] {
            assert_eq!(
                router.clone().oneshot(get(uri)).await.unwrap().status(),
                status,
                "{uri}"
            );
        }
    }

    #[test]
    fn every_file_keeps_the_page_on_its_origin() {
        for (name, _) in FILES {
            let response = serve(name);
            let headers = response.headers();
            let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            for rule in [
                "default-src 'none'",
                "script-src 'self'",
                "connect-src 'self'",
                "frame-ancestors 'none'",
            ] {
                assert!(policy.contains(rule), "{name}: {policy}");
            }
            assert!(!policy.contains("unsafe-"), "{name}: {policy}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{name}");
            assert_eq!(headers["cross-origin-opener-policy"], "same-origin", "{name}");
            assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{name}");
            let kind = headers[header::CONTENT_TYPE].to_str().unwrap();
            let expected = if name.ends_with(".js") {
                "text/javascript"
            } else if name.ends_with(".css") {
                "text/css"
            } else {
                "text/html"
            };
            assert!(kind.starts_with(expected), "{name}: {kind}");
        }
    }
}
