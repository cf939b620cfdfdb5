//! Sandboxes: containers on a server's machine with volumes mounted at chosen paths.
//!
//! A sandbox runs on an OCI runtime ([`runtime`]) from a bundle strata writes ([`bundle`]):
//! a root file system of its own, its own namespaces (network included), no capabilities,
//! cgroup limits. Its volumes are `strata mount` processes on the host ([`mounts`]), each
//! holding a key limited to its volume folder ([`mint_mount_credential`]), bound into it.
//!
//! Its record is in the metadata engine, with the server that runs it, so every server
//! lists it, counts it against the organization's limit and refuses to delete a volume it
//! uses; commands for it go to the server that runs it ([`forward`]). A server that starts
//! again reports the sandboxes of its previous run as `lost` and removes what they left.

mod bundle;
mod commands;
pub mod forward;
mod mounts;
mod network;
mod runtime;

pub use bundle::Image;

use crate::state::AppState;
use runtime::{Runtime, Status};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use strata_core::api::{CreateSandbox, Sandbox, SandboxNetwork, SandboxState, SandboxVolume};
use strata_core::mounts::parse_subpath;
use strata_core::names::VolumeRef;
use strata_core::sandboxes::{check_env, check_volume_specs, resolve_limits};
use strata_core::{Error, ErrorKind, Result};
use strata_meta::{AddKey, SandboxRecord};
use uuid::Uuid;

/// The sandboxes this server runs, and the records of every server's.
#[derive(Clone)]
pub struct Sandboxes(Arc<Inner>);

struct Inner {
    /// `DATA_DIR/sandboxes`.
    root: PathBuf,
    /// This server's id in the records (kept in `DATA_DIR/server.id`).
    server_id: String,
    runtime: Runtime,
    image: Image,
    /// Where this server is reached, known once it listens.
    endpoint: OnceLock<Endpoints>,
    /// The mounts of the sandboxes this server runs.
    live: Mutex<HashMap<Uuid, Arc<Live>>>,
    forwarder: forward::Forwarder,
}

/// What the metadata engine keeps of a sandbox, beside its organization and server.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Body {
    sandbox: Sandbox,
    /// The keys its volumes' mounts hold: a killed server's successor revokes them, which
    /// ends their mount sessions, since the mounts cannot any more.
    keys: Vec<Uuid>,
    /// Where the server that runs it is reached.
    server_url: String,
}

/// The URLs this server is reached at.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// By its sandboxes' mounts, on this machine.
    pub local: String,
    /// By the other servers of the deployment.
    pub advertised: String,
    /// The CA the mounts trust the local URL's certificate by, if it is a private one.
    pub ca_file: Option<PathBuf>,
}

/// A sandbox this server runs: the mount processes of its volumes.
#[derive(Default)]
struct Live {
    mounts: tokio::sync::Mutex<Vec<mounts::VolumeMount>>,
}

/// Which server a sandbox's commands go to.
pub enum Owner {
    Here,
    /// Another server, at this URL.
    There(String),
}

fn container_id(id: Uuid) -> String {
    format!("strata-{}", id.simple())
}

fn decode(record: &SandboxRecord) -> Result<Body> {
    serde_json::from_str(&record.body)
        .map_err(|e| Error::internal(format!("the record of sandbox {} cannot be read: {e}", record.id)))
}

fn encode(body: &Body) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

impl Sandboxes {
    pub fn new(data_dir: &Path, image: Image) -> anyhow::Result<Self> {
        let root = data_dir.join("sandboxes");
        Ok(Sandboxes(Arc::new(Inner {
            runtime: Runtime::new(root.join("runtime")),
            server_id: server_id(data_dir)?,
            root,
            image,
            endpoint: OnceLock::new(),
            live: Mutex::default(),
            forwarder: forward::Forwarder::new()?,
        })))
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Live>>> {
        self.0.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn folder(&self, id: Uuid) -> PathBuf {
        self.0.root.join(id.to_string())
    }

    /// Marks the sandboxes of this server's previous run `lost`: their processes are gone
    /// (or are ended here), whatever they had mounted is unmounted, their keys revoked.
    pub async fn recover(&self, state: &AppState, endpoint: Endpoints) -> anyhow::Result<()> {
        let _ = self.0.endpoint.set(endpoint);
        std::fs::create_dir_all(&self.0.root)?;
        // A container the runtime still runs is ended, recorded or not.
        for container in self.0.runtime.list().await {
            self.0.runtime.delete(&container).await;
        }
        let mine: Vec<SandboxRecord> = state
            .meta(|m| m.list_sandboxes(None))
            .await?
            .into_iter()
            .filter(|r| r.server == self.0.server_id)
            .collect();
        for record in &mine {
            let mut body = decode(record)?;
            // The keys first: a mount the previous run left ends with its key.
            for key in std::mem::take(&mut body.keys) {
                revoke_mount_credential(state, key).await;
            }
            let folder = self.folder(record.id);
            for i in 0..body.sandbox.volumes.len() {
                mounts::unmount(&folder.join("mnt").join(i.to_string()));
            }
            remove_folder(&folder);
            if body.sandbox.state != SandboxState::Lost {
                tracing::warn!(sandbox = %record.id, "sandbox lost with the previous server run");
            }
            body.sandbox.state = SandboxState::Lost;
            let (id, text) = (record.id, encode(&body));
            state.meta(move |m| m.update_sandbox(id, &text)).await?;
        }
        // Folders of sandboxes whose record is gone (a crash during create or delete).
        for dir in std::fs::read_dir(&self.0.root)?.flatten() {
            let id = dir.file_name().to_str().and_then(|n| Uuid::parse_str(n).ok());
            if id.is_some_and(|id| !mine.iter().any(|r| r.id == id)) {
                for mount in std::fs::read_dir(dir.path().join("mnt"))
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    mounts::unmount(&mount.path());
                }
                remove_folder(&dir.path());
            }
        }
        Ok(())
    }

    /// The organization's sandboxes; those of this server in the state its runtime reports.
    pub async fn list(&self, state: &AppState, org: &str) -> Result<Vec<Sandbox>> {
        let org = org.to_owned();
        let records = state.meta(move |m| m.list_sandboxes(Some(&org))).await?;
        let mut all = Vec::with_capacity(records.len());
        for record in &records {
            all.push(self.observe(record).await?);
        }
        Ok(all)
    }

    async fn record(&self, state: &AppState, org: &str, id: Uuid) -> Result<SandboxRecord> {
        state
            .meta(move |m| m.get_sandbox(id))
            .await?
            .filter(|r| r.org == org)
            .ok_or_else(|| Error::not_found(format!("sandbox {id} not found")).with_field("sandbox"))
    }

    pub async fn get(&self, state: &AppState, org: &str, id: Uuid) -> Result<Sandbox> {
        let record = self.record(state, org, id).await?;
        self.observe(&record).await
    }

    /// The sandbox as it is now: a running one of this server whose init ended reads
    /// `stopped`.
    async fn observe(&self, record: &SandboxRecord) -> Result<Sandbox> {
        let mut sandbox = decode(record)?.sandbox;
        if record.server == self.0.server_id
            && sandbox.state == SandboxState::Running
            && self.0.runtime.status(&container_id(record.id)).await != Status::Running
        {
            sandbox.state = SandboxState::Stopped;
        }
        Ok(sandbox)
    }

    /// Which server runs the sandbox (`Here` too when there is no such sandbox: the
    /// request then fails here, naming it).
    pub async fn owner(&self, state: &AppState, org: &str, id: Uuid) -> Result<Owner> {
        let Ok(record) = self.record(state, org, id).await else {
            return Ok(Owner::Here);
        };
        if record.server == self.0.server_id {
            return Ok(Owner::Here);
        }
        Ok(Owner::There(decode(&record)?.server_url))
    }

    pub fn forwarder(&self) -> &forward::Forwarder {
        &self.0.forwarder
    }

    /// The organization's sandboxes that mount `volume`, on any server (a `lost` one no
    /// longer does).
    pub async fn using(&self, state: &AppState, org: &str, volume: Uuid) -> Result<Vec<Uuid>> {
        let org = org.to_owned();
        let records = state.meta(move |m| m.list_sandboxes(Some(&org))).await?;
        let mut ids = Vec::new();
        for record in &records {
            let sandbox = decode(record)?.sandbox;
            if sandbox.state != SandboxState::Lost && sandbox.volumes.iter().any(|v| v.volume_id == volume) {
                ids.push(record.id);
            }
        }
        Ok(ids)
    }

    /// Starts a sandbox with its volumes mounted; returns once every volume is.
    pub async fn create(&self, state: &AppState, org: &str, req: &CreateSandbox) -> Result<Sandbox> {
        let specs = &req.volumes;
        check_volume_specs(specs)?;
        check_env(&req.env)?;
        let limits = resolve_limits(&req.limits)?;
        for (i, spec) in specs.iter().enumerate() {
            if let Some(reserved) = self.0.image.reserved(spec.mount_path.trim_end_matches('/')) {
                return Err(Error::invalid(
                    &format!("volumes[{i}].mount_path"),
                    format!("the sandbox's own {reserved} is there: mount the volume elsewhere"),
                ));
            }
        }
        let endpoint = self
            .0
            .endpoint
            .get()
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::Unavailable, "sandboxes need the server to be listening"))?;
        let mut volumes = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let vref = VolumeRef::parse(&spec.volume_id)?;
            let org = org.to_owned();
            let volume = state
                .meta(move |m| m.get_volume(&org, &vref))
                .await
                .map_err(|e| e.with_field(&format!("volumes[{i}].volume_id")))?;
            let subpath = parse_subpath(spec.subpath.as_deref().unwrap_or(""))?;
            volumes.push(SandboxVolume {
                volume_id: volume.id,
                read_only: spec.read_only || volume.snapshot_of.is_some(),
                volume: volume.name,
                mount_path: spec.mount_path.trim_end_matches('/').to_owned(),
                subpath: (!subpath.is_root()).then(|| subpath.to_string().trim_start_matches('/').to_owned()),
            });
        }
        let sandbox = Sandbox {
            id: Uuid::new_v4(),
            state: SandboxState::Running,
            created_at: strata_meta::now_ns(),
            volumes,
            limits,
            network: req.network,
        };
        let body = Body {
            sandbox: sandbox.clone(),
            keys: Vec::new(),
            server_url: endpoint.advertised.clone(),
        };
        let record = SandboxRecord {
            id: sandbox.id,
            org: org.to_owned(),
            server: self.0.server_id.clone(),
            created_at: sandbox.created_at,
            body: encode(&body),
        };
        // Recorded first: it counts against the organization's limit on every server.
        let limit = state.limits.sandboxes_per_org;
        state.meta(move |m| m.add_sandbox(&record, limit)).await?;
        let live = Arc::new(Live::default());
        self.live().insert(sandbox.id, live.clone());
        match self.start(state, org, body, &endpoint, &req.env, &live).await {
            Ok(()) => Ok(sandbox),
            Err(e) => {
                self.tear_down(state, sandbox.id).await;
                Err(e)
            }
        }
    }

    /// Mounts the volumes and starts the container; what it started is in `live` either way.
    async fn start(
        &self,
        state: &AppState,
        org: &str,
        mut body: Body,
        endpoint: &Endpoints,
        env: &BTreeMap<String, String>,
        live: &Live,
    ) -> Result<()> {
        let id = body.sandbox.id;
        let folder = self.folder(id);
        let io = |e: std::io::Error| Error::internal(format!("cannot prepare {}: {e}", folder.display()));
        std::fs::create_dir_all(&folder).map_err(io)?;
        let cache_dir = self.0.root.join("cache");
        let mut binds = Vec::new();
        for (i, volume) in body.sandbox.volumes.clone().iter().enumerate() {
            let mount_folder = folder.join("mnt").join(i.to_string());
            std::fs::create_dir_all(&mount_folder).map_err(io)?;
            let subpath = volume.subpath.clone().unwrap_or_default();
            let (key_id, key) =
                mint_mount_credential(state, org, (id, i), volume.volume_id, &subpath, volume.read_only).await?;
            // Recorded before the mount starts, so a crash from here on still revokes it.
            body.keys.push(key_id);
            let text = encode(&body);
            state.meta(move |m| m.update_sandbox(id, &text)).await?;
            // The key's scope is the folder: the mount names the volume alone, and its root is
            // that folder.
            let spec = mounts::MountSpec {
                source: volume.volume_id.to_string(),
                folder: &mount_folder,
                read_only: volume.read_only,
                endpoint: &endpoint.local,
                ca_file: endpoint.ca_file.as_deref(),
                key: &key,
                cache_dir: &cache_dir,
                log_file: &folder.join(format!("mount-{i}.log")),
            };
            let child = match mounts::mount(&spec).await {
                Ok(child) => child,
                Err(e) => {
                    revoke_mount_credential(state, key_id).await;
                    return Err(e.context(format!("volume {}", volume.volume)));
                }
            };
            live.mounts.lock().await.push(mounts::VolumeMount { child, key_id });
            binds.push((mount_folder, volume.mount_path.clone(), volume.read_only));
        }
        let container = container_id(id);
        let spec = bundle::Spec {
            hostname: &format!("sandbox-{}", &id.simple().to_string()[..8]),
            image: &self.0.image,
            volumes: &binds,
            env,
            limits: body.sandbox.limits,
            cgroup: &format!("/strata/{container}"),
            network: body.sandbox.network,
        };
        bundle::write(&folder, &spec)?;
        self.0.runtime.run(&container, &folder).await?;
        if body.sandbox.network == SandboxNetwork::Outbound {
            let netns = self.netns(&container).await?;
            network::connect_outbound(netns, &folder.join("network.log")).await?;
        }
        Ok(())
    }

    /// The network namespace of a running container, opened while its init is the PID the
    /// runtime names before and after: never another process's that took a reused PID.
    async fn netns(&self, container: &str) -> Result<std::os::fd::OwnedFd> {
        let gone = || Error::internal("the sandbox ended as it started");
        let pid = self.0.runtime.pid(container).await.ok_or_else(gone)?;
        let netns = std::fs::File::open(format!("/proc/{pid}/ns/net")).map_err(|_| gone())?;
        if self.0.runtime.pid(container).await != Some(pid) {
            return Err(gone());
        }
        Ok(netns.into())
    }

    /// Kills every process of the sandbox, unmounts its volumes, removes its files and its
    /// record.
    pub async fn delete(&self, state: &AppState, org: &str, id: Uuid) -> Result<()> {
        let record = self.record(state, org, id).await?;
        if record.server != self.0.server_id {
            return Err(elsewhere(id));
        }
        self.tear_down(state, id).await;
        Ok(())
    }

    async fn tear_down(&self, state: &AppState, id: Uuid) {
        self.stop(state, id).await;
        remove_folder(&self.folder(id));
        if let Err(e) = state.meta(move |m| m.remove_sandbox(id)).await {
            tracing::warn!(sandbox = %id, "cannot remove a sandbox's record: {e}");
        }
    }

    /// Before the server stops: every sandbox's processes end and its volumes are unmounted
    /// while the server still answers their mounts' last calls; the records stay, and the
    /// next start reports them `lost`.
    pub async fn stop_all(&self, state: &AppState) {
        let all: Vec<Uuid> = self.live().keys().copied().collect();
        for id in all {
            self.stop(state, id).await;
        }
    }

    /// Ends the container, unmounts each volume and waits for its mount process to end.
    async fn stop(&self, state: &AppState, id: Uuid) {
        self.0.runtime.delete(&container_id(id)).await;
        let folder = self.folder(id);
        let live = self.live().remove(&id);
        if let Some(live) = live {
            let mut started = live.mounts.lock().await;
            for (i, mount) in started.iter_mut().enumerate() {
                mounts::unmount(&folder.join("mnt").join(i.to_string()));
                // The mount closes its session with its key before it ends.
                mounts::wait_for_exit(&mut mount.child).await;
                revoke_mount_credential(state, mount.key_id).await;
            }
            started.clear();
        }
    }

    /// The runtime's name of a sandbox of this server that runs, or why nothing can run in it.
    async fn running(&self, state: &AppState, org: &str, id: Uuid) -> Result<String> {
        let record = self.record(state, org, id).await?;
        let gone = |why: &str| {
            Error::new(ErrorKind::Conflict, format!("sandbox {id} is {why}: delete it")).with_field("sandbox")
        };
        if record.server != self.0.server_id {
            return Err(elsewhere(id));
        }
        match self.observe(&record).await?.state {
            SandboxState::Running => Ok(container_id(id)),
            SandboxState::Stopped => Err(gone("stopped (its init ended, and every process with it)")),
            SandboxState::Lost => Err(gone("lost (its processes ended with an earlier server run)")),
        }
    }
}

/// The answer for a sandbox another server runs, when the request reached this one anyway
/// (the forwarding layer sends them on; this is what is left if it could not).
fn elsewhere(id: Uuid) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!("sandbox {id} runs on another server, which did not take the request"),
    )
}

/// This server's id in sandbox records: made once, kept in the data folder.
fn server_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("server.id");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(id) = Uuid::parse_str(text.trim())
    {
        return Ok(id.to_string());
    }
    let id = Uuid::new_v4().to_string();
    std::fs::write(&path, format!("{id}\n"))?;
    Ok(id)
}

/// The key of one sandbox mount: a token of the sandbox's organization that reaches only that
/// volume folder, read-only if asked, and only the sessions it opens — never the
/// organization's key. Every mount key is made here, and revoked by
/// [`revoke_mount_credential`] when the sandbox goes, which ends its mount session.
pub async fn mint_mount_credential(
    state: &AppState,
    org: &str,
    (sandbox, index): (Uuid, usize),
    volume: Uuid,
    subpath: &str,
    read_only: bool,
) -> Result<(Uuid, String)> {
    let subpath = strata_core::mounts::parse_subpath(subpath)?.to_string();
    let scope = strata_meta::ScopeRecord {
        volume,
        subpath,
        read_only,
    };
    let name = format!("sandbox-{}-{index}", sandbox.simple());
    let (record, secret) = crate::auth::new_token(org.to_owned(), name, strata_meta::Role::Member, None, Some(scope))?;
    let id = record.id;
    // The server's own keys for its sandboxes count no more than the sandboxes do.
    state
        .meta(move |m| m.add_token(&record, AddKey::Within(u64::MAX)))
        .await?;
    Ok((id, secret))
}

/// Revokes a sandbox mount's key; a failure is logged (the key then ends with its sandbox's
/// record at the next start).
pub async fn revoke_mount_credential(state: &AppState, key: Uuid) {
    let revoked = state.meta(move |m| m.revoke_token(key, strata_meta::now_ns())).await;
    for key in revoked.iter().flatten() {
        state.keys.forget(*key);
    }
    state.keys.forget(key);
    if let Err(e) = revoked
        && e.kind != ErrorKind::NotFound
    {
        tracing::warn!(%key, "cannot revoke a sandbox mount's key: {e}");
    }
}

/// Removes a sandbox's folder (bundle, logs, mount points) unless anything is still
/// mounted in it, by the kernel's mount table or by a mount point on another device (or one
/// that does not answer): that would delete a volume's files.
fn remove_folder(folder: &Path) {
    use std::os::unix::fs::MetadataExt;
    let device = std::fs::symlink_metadata(folder).map(|m| m.dev());
    let on_other_device = std::fs::read_dir(folder.join("mnt"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|m| std::fs::symlink_metadata(m.path()).map(|md| md.dev()).ok() != device.as_ref().ok().copied());
    if mounts::any_mount_under(folder) || on_other_device {
        tracing::warn!(folder = %folder.display(), "a sandbox's folder still holds a mount: left in place");
        return;
    }
    let _ = std::fs::remove_dir_all(folder);
}

fn runtime_error(e: &std::io::Error) -> Error {
    Error::new(ErrorKind::Unavailable, format!("cannot run the container runtime: {e}"))
}
