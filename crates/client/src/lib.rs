//! Rust client for the strata HTTP API.

pub mod config;
mod session;

pub use session::SessionClient;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use strata_core::api::*;
use strata_core::keys::OrgName;
use strata_core::names::VolumeRef;
use strata_core::{Error, ErrorKind, Result};

/// A client of one server, or of several that share their stores (`URL1,URL2,...`): requests
/// go to one of them, and to the next when it cannot be reached.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    bases: Arc<[Url]>,
    /// Which of `bases` requests go to now.
    current: Arc<AtomicUsize>,
    token: Option<String>,
    /// What chose the endpoint, when it was not given outright.
    origin: Option<Arc<str>>,
}

fn parse_endpoint(endpoint: &str) -> Result<Url> {
    Url::parse(endpoint.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| {
            Error::invalid(
                "endpoint",
                format!("invalid endpoint {endpoint:?}: expected http(s)://HOST:PORT[,http(s)://HOST:PORT...]"),
            )
        })
}

impl Client {
    /// `endpoint` is one server URL, or several separated by commas.
    pub fn new(endpoint: &str, token: Option<String>) -> Result<Self> {
        let bases: Vec<Url> = endpoint.split(',').map(parse_endpoint).collect::<Result<_>>()?;
        let http = reqwest::Client::builder()
            // Below the server's idle timeout (30 s by default), so a pooled connection is never
            // reused just as the server closes it.
            .pool_idle_timeout(std::time::Duration::from_secs(20))
            .connect_timeout(std::time::Duration::from_secs(5))
            .tcp_nodelay(true)
            .tls_certs_merge(config::extra_roots()?)
            .build()
            .map_err(|e| Error::internal(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            bases: bases.into(),
            current: Arc::default(),
            token,
            origin: None,
        })
    }

    fn base(&self) -> &Url {
        &self.bases[self.current.load(Ordering::Relaxed) % self.bases.len()]
    }

    /// The endpoint a request URL went to: the longest one it starts with.
    fn endpoint_of(&self, url: &Url) -> Option<usize> {
        (0..self.bases.len())
            .filter(|&i| url.as_str().starts_with(self.bases[i].as_str()))
            .max_by_key(|&i| self.bases[i].as_str().len())
    }

    /// After the endpoint of `failed` could not be reached, sends later requests to the next
    /// one (unless another request already moved on).
    fn fail_over(&self, failed: &Url) {
        let Some(at) = self.endpoint_of(failed) else { return };
        let next = (at + 1) % self.bases.len();
        let _ = self
            .current
            .compare_exchange(at, next, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// A client configured from flags, environment, login file and local defaults.
    pub fn from_env(endpoint: Option<String>, token: Option<String>) -> Result<Self> {
        let resolved = config::resolve(endpoint, token);
        let mut client = Client::new(&resolved.endpoint, resolved.token)?;
        client.origin = resolved.origin.map(Into::into);
        Ok(client)
    }

    /// The endpoint requests go to now.
    pub fn endpoint(&self) -> &str {
        self.base().as_str()
    }

    /// A request about one volume, refused here if `volume` cannot name one.
    pub(crate) fn volume_request(&self, method: Method, volume: &str, rest: &[&str]) -> Result<RequestBuilder> {
        VolumeRef::parse(volume)?;
        let mut segments = vec!["volumes", volume];
        segments.extend_from_slice(rest);
        Ok(self.request(method, &segments))
    }

    /// A request to `/v1/<segments...>`, each segment percent-encoded.
    pub(crate) fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let mut url = self.base().clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v1").extend(segments);
        }
        let req = self.http.request(method, url);
        match &self.token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    pub(crate) async fn send(&self, req: RequestBuilder) -> Result<Response> {
        let mut request = req
            .build()
            .map_err(|e| Error::invalid("request", format!("cannot build the request: {e}")))?;
        let mut left = self.bases.len();
        let resp = loop {
            left -= 1;
            // A request that never reached a server may go to the next one as it is.
            let again = if left > 0 { request.try_clone() } else { None };
            let e = match self.http.execute(request).await {
                Ok(resp) => break resp,
                Err(e) => e,
            };
            let at = e.url().and_then(|u| self.endpoint_of(u));
            // The server could not be reached or went away mid-request; not a failure of the
            // caller's own upload stream.
            if (e.is_connect() || e.is_timeout() || e.is_request())
                && !e.is_body()
                && let Some(url) = e.url()
            {
                self.fail_over(url);
            }
            if let (true, Some(mut next), Some(from)) = (e.is_connect(), again, at) {
                let rest = next.url().as_str()[self.bases[from].as_str().len()..].to_owned();
                if let Ok(url) = self.base().join(&rest) {
                    *next.url_mut() = url;
                    request = next;
                    continue;
                }
            }
            // Every cause: a refused certificate is a few levels down.
            let mut causes = Vec::new();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                causes.push(c.to_string());
                cause = c.source();
            }
            let why = if causes.is_empty() {
                e.to_string()
            } else {
                causes.join(": ")
            };
            let at = at.map_or(self.base(), |i| &self.bases[i]);
            let chosen = self
                .origin
                .as_deref()
                .map(|o| format!(" (from {o})"))
                .unwrap_or_default();
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("cannot reach the strata server at {at}{chosen}: {why}"),
            ));
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) if b.error.kind == ErrorKind::Unauthorized && self.token.is_none() => Error::new(
                ErrorKind::Unauthorized,
                format!(
                    "no API key for {}: set STRATA_TOKEN, or run strata login --endpoint URL --token KEY",
                    self.base()
                ),
            ),
            Ok(b) => b.error,
            Err(_) => Error::new(
                ErrorKind::Internal,
                format!("server answered {status}: {}", String::from_utf8_lossy(&body)),
            ),
        })
    }

    pub(crate) async fn json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = self.send(req).await?;
        resp.json()
            .await
            .map_err(|e| Error::internal(format!("unexpected answer from the server: {e}")))
    }

    async fn fs_json<B: Serialize, T: DeserializeOwned>(&self, volume: &str, op: &str, body: &B) -> Result<T> {
        self.json(self.volume_request(Method::POST, volume, &["fs", op])?.json(body))
            .await
    }

    async fn fs_call<B: Serialize>(&self, volume: &str, op: &str, body: &B) -> Result<()> {
        self.send(self.volume_request(Method::POST, volume, &["fs", op])?.json(body))
            .await
            .map(drop)
    }

    /// The server's version and clock; needs no key.
    pub async fn health(&self) -> Result<Health> {
        self.json(self.request(Method::GET, &["health"])).await
    }

    /// The organization and key name this client's key stands for.
    pub async fn whoami(&self) -> Result<Whoami> {
        self.json(self.request(Method::GET, &["whoami"])).await
    }

    pub async fn list_volumes(&self) -> Result<Vec<Volume>> {
        self.json(self.request(Method::GET, &["volumes"])).await
    }

    pub async fn create_volume(&self, name: &str, exist_ok: bool) -> Result<Volume> {
        let body = CreateVolume {
            name: name.to_owned(),
            exist_ok,
        };
        self.json(self.request(Method::POST, &["volumes"]).json(&body)).await
    }

    pub async fn get_volume(&self, volume: &str) -> Result<Volume> {
        self.json(self.volume_request(Method::GET, volume, &[])?).await
    }

    /// Deletes a volume and its snapshots; refused while mounted, unless `force`.
    /// Renames a volume and its snapshots.
    pub async fn rename_volume(&self, volume: &str, name: &str) -> Result<Volume> {
        strata_core::names::VolumeName::parse(name).map_err(|e| e.with_field("name"))?;
        self.json(
            self.volume_request(Method::POST, volume, &["rename"])?
                .json(&strata_core::api::RenameVolume { name: name.to_owned() }),
        )
        .await
    }

    /// Sets a volume's quota of bytes and files (`None`: no bound).
    pub async fn set_quota(&self, volume: &str, quota: strata_core::api::Quota) -> Result<Volume> {
        self.json(self.volume_request(Method::POST, volume, &["quota"])?.json(&quota))
            .await
    }

    /// Sets how a volume's new blocks are compressed (`off`, `zstd`, `zstd:LEVEL`; `None`: as
    /// the server says).
    pub async fn set_compression(&self, volume: &str, compression: Option<&str>) -> Result<Volume> {
        let body = CompressionSetting {
            compression: compression.map(str::to_owned),
        };
        self.json(self.volume_request(Method::POST, volume, &["compression"])?.json(&body))
            .await
    }

    /// The blocks a volume's layers name and what the store keeps for them (a walk).
    pub async fn volume_usage(&self, volume: &str) -> Result<StoreUsage> {
        self.json(self.volume_request(Method::GET, volume, &["usage"])?).await
    }

    pub async fn delete_volume(&self, volume: &str, force: bool) -> Result<()> {
        self.send(
            self.volume_request(Method::DELETE, volume, &[])?
                .query(&[("force", force)]),
        )
        .await
        .map(drop)
    }

    pub async fn stat(&self, volume: &str, path: &str) -> Result<Stat> {
        self.json(
            self.volume_request(Method::GET, volume, &["fs", "stat"])?
                .query(&[("path", path)]),
        )
        .await
    }

    pub async fn list(&self, volume: &str, path: &str) -> Result<Vec<DirEntry>> {
        self.json(
            self.volume_request(Method::GET, volume, &["fs", "list"])?
                .query(&[("path", path)]),
        )
        .await
    }

    pub async fn mkdir(&self, volume: &str, path: &str, parents: bool) -> Result<Stat> {
        self.fs_json(
            volume,
            "mkdir",
            &Mkdir {
                path: path.into(),
                parents,
                mode: None,
            },
        )
        .await
    }

    /// Writes a whole file from a stream; the file changes at once when the stream ends.
    pub async fn put<S>(&self, volume: &str, path: &str, mode: Option<u32>, body: S) -> Result<Stat>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static,
    {
        let mut query = vec![("path", path.to_owned())];
        if let Some(mode) = mode {
            query.push(("mode", mode.to_string()));
        }
        let req = self
            .volume_request(Method::PUT, volume, &["fs", "content"])?
            .query(&query);
        self.json(req.body(reqwest::Body::wrap_stream(body))).await
    }

    /// A file's size and its content as a stream.
    pub async fn get(&self, volume: &str, path: &str) -> Result<(u64, impl Stream<Item = Result<Bytes>> + use<>)> {
        let resp = self
            .send(
                self.volume_request(Method::GET, volume, &["fs", "content"])?
                    .query(&[("path", path)]),
            )
            .await?;
        let size = resp.content_length().unwrap_or(0);
        let stream = resp
            .bytes_stream()
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("download interrupted: {e}")));
        Ok((size, stream))
    }

    pub async fn rename(&self, volume: &str, from: &str, to: &str, no_replace: bool) -> Result<()> {
        self.fs_call(
            volume,
            "rename",
            &Rename {
                from: from.into(),
                to: to.into(),
                no_replace,
            },
        )
        .await
    }

    pub async fn copy(&self, volume: &str, from: &str, to: &str) -> Result<Stat> {
        self.fs_json(
            volume,
            "copy",
            &Copy {
                from: from.into(),
                to: to.into(),
            },
        )
        .await
    }

    pub async fn remove(&self, volume: &str, path: &str, recursive: bool) -> Result<()> {
        self.fs_call(
            volume,
            "remove",
            &Remove {
                path: path.into(),
                recursive,
            },
        )
        .await
    }

    pub async fn symlink(&self, volume: &str, path: &str, target: &str) -> Result<Stat> {
        self.fs_json(
            volume,
            "symlink",
            &Symlink {
                path: path.into(),
                target: target.into(),
            },
        )
        .await
    }

    pub async fn chmod(&self, volume: &str, path: &str, mode: u32) -> Result<Stat> {
        self.fs_json(
            volume,
            "chmod",
            &Chmod {
                path: path.into(),
                mode,
            },
        )
        .await
    }

    /// A new volume with exactly `source`'s content (`source` may be `VOLUME@SNAPSHOT`).
    pub async fn fork(&self, source: &str, name: &str) -> Result<Volume> {
        self.json(
            self.volume_request(Method::POST, source, &["fork"])?
                .json(&Fork { name: name.into() }),
        )
        .await
    }

    pub async fn create_snapshot(&self, volume: &str, name: &str) -> Result<Volume> {
        let body = CreateSnapshot { name: name.into() };
        self.json(self.volume_request(Method::POST, volume, &["snapshots"])?.json(&body))
            .await
    }

    pub async fn list_snapshots(&self, volume: &str) -> Result<Vec<Volume>> {
        self.json(self.volume_request(Method::GET, volume, &["snapshots"])?)
            .await
    }

    /// Deletes a snapshot; refused while mounted, unless `force`.
    pub async fn delete_snapshot(&self, volume: &str, name: &str, force: bool) -> Result<()> {
        self.send(
            self.volume_request(Method::DELETE, volume, &["snapshots", name])?
                .query(&[("force", force)]),
        )
        .await
        .map(drop)
    }

    /// Returns a volume to a moment of its history (RFC 3339, or before now as `-10m`).
    pub async fn restore_to(&self, volume: &str, to: &str) -> Result<Volume> {
        let body = strata_core::api::RestoreTo { to: to.into() };
        self.json(self.volume_request(Method::POST, volume, &["restore"])?.json(&body))
            .await
    }

    /// Makes a fork its source volume; returns the source, now holding the fork's tree.
    pub async fn promote(&self, fork: &str) -> Result<Volume> {
        self.json(self.volume_request(Method::POST, fork, &["promote"])?).await
    }

    /// Merges a fork's changes since it was made into its source (or `into`).
    pub async fn merge(
        &self,
        fork: &str,
        request: &strata_core::api::MergeRequest,
    ) -> Result<strata_core::api::MergeReport> {
        self.json(self.volume_request(Method::POST, fork, &["merge"])?.json(request))
            .await
    }

    /// The windows of changes a volume's history keeps, newest first.
    pub async fn history(&self, volume: &str, limit: u64) -> Result<Vec<strata_core::api::HistoryPoint>> {
        self.json(
            self.volume_request(Method::GET, volume, &["history"])?
                .query(&[("limit", limit)]),
        )
        .await
    }

    /// Sets how long a volume keeps its past (`24h`, `0`); `None`: the server's setting.
    pub async fn set_history(&self, volume: &str, keep: Option<&str>) -> Result<Volume> {
        let body = strata_core::api::HistoryKeep {
            keep: keep.map(str::to_owned),
        };
        self.json(self.volume_request(Method::POST, volume, &["history"])?.json(&body))
            .await
    }

    pub async fn restore_snapshot(&self, volume: &str, name: &str) -> Result<Volume> {
        self.json(self.volume_request(Method::POST, volume, &["snapshots", name, "restore"])?)
            .await
    }

    /// Paths added, removed and changed from `from` to `to` (volumes, forks or snapshots).
    pub async fn diff(&self, from: &str, to: &str) -> Result<Vec<DiffEntry>> {
        VolumeRef::parse(from).map_err(|e| e.with_field("from"))?;
        VolumeRef::parse(to).map_err(|e| e.with_field("to"))?;
        self.json(
            self.request(Method::GET, &["diff"])
                .query(&[("from", from), ("to", to)]),
        )
        .await
    }

    pub async fn create_org(&self, name: &str) -> Result<Org> {
        let body = CreateOrg { name: name.to_owned() };
        self.json(self.request(Method::POST, &["orgs"]).json(&body)).await
    }

    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        self.json(self.request(Method::GET, &["orgs"])).await
    }

    /// An organization (the caller's own, or any for an admin key) with its usage and quota.
    pub async fn get_org(&self, name: &str) -> Result<Org> {
        OrgName::parse(name).map_err(|e| e.with_field("org"))?;
        self.json(self.request(Method::GET, &["orgs", name])).await
    }

    /// Makes an organization encrypt its new blocks (admin keys only).
    pub async fn encrypt_org(&self, name: &str) -> Result<Org> {
        OrgName::parse(name).map_err(|e| e.with_field("org"))?;
        self.json(self.request(Method::POST, &["orgs", name, "encryption"]))
            .await
    }

    /// Gives an organization a new data key for its new blocks (admin keys only).
    pub async fn rotate_org_key(&self, name: &str) -> Result<Org> {
        OrgName::parse(name).map_err(|e| e.with_field("org"))?;
        self.json(self.request(Method::POST, &["orgs", name, "rotate-key"]))
            .await
    }

    /// Rewrites an organization's blocks with its current data key (admin keys only).
    pub async fn reencrypt_org(&self, name: &str) -> Result<Reencrypted> {
        OrgName::parse(name).map_err(|e| e.with_field("org"))?;
        self.json(self.request(Method::POST, &["orgs", name, "reencrypt"]))
            .await
    }

    /// Sets an organization's quota of bytes (`None`: no bound; admin keys only).
    pub async fn set_org_quota(&self, name: &str, bytes: Option<u64>) -> Result<Org> {
        OrgName::parse(name).map_err(|e| e.with_field("org"))?;
        let body = strata_core::api::OrgQuota { bytes };
        self.json(self.request(Method::POST, &["orgs", name, "quota"]).json(&body))
            .await
    }

    pub async fn create_key(&self, key: &CreateKey) -> Result<NewKey> {
        self.json(self.request(Method::POST, &["keys"]).json(key)).await
    }

    /// The keys of the caller's organization, or of `org` (admin keys only).
    pub async fn list_keys(&self, org: Option<&str>) -> Result<Vec<KeyInfo>> {
        let mut req = self.request(Method::GET, &["keys"]);
        if let Some(org) = org {
            req = req.query(&[("org", org)]);
        }
        self.json(req).await
    }

    pub async fn revoke_key(&self, id: &str) -> Result<()> {
        self.send(self.request(Method::DELETE, &["keys", id])).await.map(drop)
    }

    pub async fn create_token(&self, token: &CreateToken) -> Result<NewKey> {
        VolumeRef::parse(&token.volume)?;
        self.json(self.request(Method::POST, &["tokens"]).json(token)).await
    }

    pub async fn gc(&self, dry_run: bool) -> Result<GcReport> {
        self.json(self.request(Method::POST, &["gc"]).query(&[("dry_run", dry_run)]))
            .await
    }

    /// Checks every tree (and mends what is found, with `repair`); with `blocks`, also reads
    /// every stored block back.
    pub async fn fsck(&self, repair: bool, blocks: bool) -> Result<FsckReport> {
        let query = [("repair", repair), ("blocks", blocks)];
        self.json(self.request(Method::POST, &["fsck"]).query(&query)).await
    }

    pub async fn create_sandbox(&self, req: &CreateSandbox) -> Result<Sandbox> {
        strata_core::sandboxes::check_volume_specs(&req.volumes)?;
        strata_core::sandboxes::check_env(&req.env)?;
        strata_core::sandboxes::resolve_limits(&req.limits)?;
        self.json(self.request(Method::POST, &["sandboxes"]).json(req)).await
    }

    pub async fn list_sandboxes(&self) -> Result<Vec<Sandbox>> {
        self.json(self.request(Method::GET, &["sandboxes"])).await
    }

    pub async fn get_sandbox(&self, id: &str) -> Result<Sandbox> {
        strata_core::sandboxes::parse_sandbox_id(id)?;
        self.json(self.request(Method::GET, &["sandboxes", id])).await
    }

    /// Kills the sandbox's processes and unmounts its volumes; their data stays.
    pub async fn delete_sandbox(&self, id: &str) -> Result<()> {
        strata_core::sandboxes::parse_sandbox_id(id)?;
        self.send(self.request(Method::DELETE, &["sandboxes", id]))
            .await
            .map(drop)
    }

    /// Runs `sh -c command` in the sandbox.
    pub async fn exec(&self, id: &str, command: &str, timeout_secs: Option<u64>) -> Result<ExecResult> {
        strata_core::sandboxes::parse_sandbox_id(id)?;
        let body = Exec {
            command: command.to_owned(),
            timeout_secs,
        };
        self.json(self.request(Method::POST, &["sandboxes", id, "exec"]).json(&body))
            .await
    }

    /// Writes `data` to `path` inside the sandbox (missing folders are made).
    pub async fn upload_to_sandbox(&self, id: &str, path: &str, data: Vec<u8>) -> Result<()> {
        strata_core::sandboxes::parse_sandbox_id(id)?;
        strata_core::sandboxes::check_sandbox_path(path)?;
        let req = self
            .request(Method::PUT, &["sandboxes", id, "files"])
            .query(&[("path", path)])
            .body(data);
        self.send(req).await.map(drop)
    }

    pub async fn download_from_sandbox(&self, id: &str, path: &str) -> Result<Bytes> {
        strata_core::sandboxes::parse_sandbox_id(id)?;
        strata_core::sandboxes::check_sandbox_path(path)?;
        let resp = self
            .send(
                self.request(Method::GET, &["sandboxes", id, "files"])
                    .query(&[("path", path)]),
            )
            .await?;
        resp.bytes()
            .await
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("download interrupted: {e}")))
    }
}
