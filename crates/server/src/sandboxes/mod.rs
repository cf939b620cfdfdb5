//! Sandboxes: containers on this server's machine with volumes mounted at chosen paths.
//!
//! A sandbox runs on an OCI runtime ([`runtime`]) from a bundle strata writes ([`bundle`]):
//! a root file system of its own, its own namespaces (network included), no capabilities,
//! cgroup limits. Its volumes are `strata mount` processes on the host ([`mounts`]), each
//! holding a key limited to its volume folder ([`mint_mount_credential`]), bound into it.
//! Its record is kept in `DATA_DIR/sandboxes/ID/sandbox.json`, so a restarted server
//! reports a sandbox whose processes went with the old one as `lost` and removes what they
//! left.

mod bundle;
mod mounts;
mod runtime;

pub use bundle::Image;

use crate::state::AppState;
use runtime::{Runtime, Status};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use strata_core::api::{CreateSandbox, Exec, ExecResult, Sandbox, SandboxState, SandboxVolume};
use strata_core::mounts::parse_subpath;
use strata_core::names::VolumeRef;
use strata_core::sandboxes::{check_command, check_env, check_volume_specs, resolve_limits};
use strata_core::{Error, ErrorKind, Result};
use tokio::io::{AsyncRead, AsyncReadExt};
use uuid::Uuid;

/// Most bytes of standard output, and of standard error, an exec returns.
pub const EXEC_OUTPUT_MAX: usize = 1 << 20;
/// Most bytes a download returns.
pub const DOWNLOAD_MAX: usize = 64 << 20;
const DEFAULT_TIMEOUT: u64 = 60;
/// How long an exec reads output after its command ended.
const OUTPUT_GRACE: Duration = Duration::from_millis(200);
const MAX_TIMEOUT: u64 = 3600;
/// Seconds a download may take (a FIFO or a device never ends by itself).
const DOWNLOAD_TIMEOUT: &str = "60";

/// The sandboxes of this server.
#[derive(Clone)]
pub struct Sandboxes(Arc<Inner>);

struct Inner {
    /// `DATA_DIR/sandboxes`.
    root: PathBuf,
    runtime: Runtime,
    image: Image,
    /// The URL mounts reach this server at, known once it listens.
    endpoint: OnceLock<String>,
    entries: Mutex<HashMap<Uuid, Arc<Entry>>>,
}

/// What is stored of a sandbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    org: String,
    sandbox: Sandbox,
    /// The keys its volumes' mounts hold: a killed server's successor revokes them, which
    /// ends their mount sessions, since the mounts cannot any more.
    #[serde(default)]
    keys: Vec<Uuid>,
}

/// A sandbox and the mounts of its volumes.
struct Entry {
    record: Record,
    env: std::collections::BTreeMap<String, String>,
    mounts: tokio::sync::Mutex<Vec<mounts::VolumeMount>>,
}

impl Entry {
    fn new(record: Record) -> Arc<Entry> {
        Arc::new(Entry {
            record,
            env: Default::default(),
            mounts: Default::default(),
        })
    }

    /// The runtime's name of the sandbox.
    fn container(&self) -> String {
        container_id(self.record.sandbox.id)
    }
}

fn container_id(id: Uuid) -> String {
    format!("strata-{}", id.simple())
}

impl Sandboxes {
    pub fn new(data_dir: &Path, image: Image) -> Self {
        let root = data_dir.join("sandboxes");
        Sandboxes(Arc::new(Inner {
            runtime: Runtime::new(root.join("runtime")),
            root,
            image,
            endpoint: OnceLock::new(),
            entries: Mutex::default(),
        }))
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Entry>>> {
        self.0.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn folder(&self, id: Uuid) -> PathBuf {
        self.0.root.join(id.to_string())
    }

    /// Reads the records a previous run left: their processes are gone, so each is `lost`;
    /// whatever they still had running or mounted is removed, and their mount keys revoked.
    pub async fn recover(&self, state: &AppState, endpoint: String) -> anyhow::Result<()> {
        let _ = self.0.endpoint.set(endpoint);
        std::fs::create_dir_all(&self.0.root)?;
        // A container the runtime still runs is ended, recorded or not.
        for container in self.0.runtime.list().await {
            self.0.runtime.delete(&container).await;
        }
        for dir in std::fs::read_dir(&self.0.root)?.flatten() {
            let Ok(text) = std::fs::read(dir.path().join("sandbox.json")) else {
                continue;
            };
            let Ok(mut record) = serde_json::from_slice::<Record>(&text) else {
                continue;
            };
            record.sandbox.state = SandboxState::Lost;
            let folder = dir.path();
            for i in 0..record.sandbox.volumes.len() {
                mounts::unmount(&folder.join("mnt").join(i.to_string()));
            }
            remove_leftovers(&folder);
            for key in std::mem::take(&mut record.keys) {
                revoke_mount_credential(state, key).await;
            }
            save(&folder, &record)?;
            tracing::warn!(sandbox = %record.sandbox.id, "sandbox lost with the previous server run");
            self.entries().insert(record.sandbox.id, Entry::new(record));
        }
        Ok(())
    }

    /// The organization's sandboxes, each in the state the runtime reports.
    pub async fn list(&self, org: &str) -> Vec<Sandbox> {
        let mine: Vec<Arc<Entry>> = self
            .entries()
            .values()
            .filter(|e| e.record.org == org)
            .cloned()
            .collect();
        let mut all = Vec::with_capacity(mine.len());
        for entry in mine {
            all.push(self.observe(&entry).await);
        }
        all.sort_by_key(|s| (s.created_at, s.id));
        all
    }

    fn entry(&self, org: &str, id: Uuid) -> Result<Arc<Entry>> {
        self.entries()
            .get(&id)
            .filter(|e| e.record.org == org)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("sandbox {id} not found")).with_field("sandbox"))
    }

    pub async fn get(&self, org: &str, id: Uuid) -> Result<Sandbox> {
        let entry = self.entry(org, id)?;
        Ok(self.observe(&entry).await)
    }

    /// The sandbox as it is now: a running one whose init ended reads `stopped`.
    async fn observe(&self, entry: &Entry) -> Sandbox {
        let mut sandbox = entry.record.sandbox.clone();
        if sandbox.state == SandboxState::Running && self.0.runtime.status(&entry.container()).await != Status::Running
        {
            sandbox.state = SandboxState::Stopped;
        }
        sandbox
    }

    /// The sandboxes (running or stopped, not yet deleted) that mount `volume`.
    pub fn using(&self, volume: Uuid) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .entries()
            .values()
            .filter(|e| e.record.sandbox.state == SandboxState::Running)
            .filter(|e| e.record.sandbox.volumes.iter().any(|v| v.volume_id == volume))
            .map(|e| e.record.sandbox.id)
            .collect();
        ids.sort();
        ids
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
        let id = Uuid::new_v4();
        let record = Record {
            org: org.to_owned(),
            sandbox: Sandbox {
                id,
                state: SandboxState::Running,
                created_at: strata_meta::now_ns(),
                volumes,
                limits,
                network: req.network,
            },
            keys: Vec::new(),
        };
        let entry = Arc::new(Entry {
            record,
            env: req.env.clone(),
            mounts: Default::default(),
        });
        match self.start(state, &entry, &endpoint).await {
            Ok(()) => {
                let sandbox = entry.record.sandbox.clone();
                self.entries().insert(id, entry);
                Ok(sandbox)
            }
            Err(e) => {
                self.tear_down(state, &entry).await;
                Err(e)
            }
        }
    }

    /// Mounts the volumes and starts the container; what it started is in `entry` either way.
    async fn start(&self, state: &AppState, entry: &Entry, endpoint: &str) -> Result<()> {
        let folder = self.folder(entry.record.sandbox.id);
        let io = |e: std::io::Error| Error::internal(format!("cannot prepare {}: {e}", folder.display()));
        std::fs::create_dir_all(&folder).map_err(io)?;
        let cache_dir = self.0.root.join("cache");
        let mut binds = Vec::new();
        for (i, volume) in entry.record.sandbox.volumes.iter().enumerate() {
            let mount_folder = folder.join("mnt").join(i.to_string());
            std::fs::create_dir_all(&mount_folder).map_err(io)?;
            let subpath = volume.subpath.clone().unwrap_or_default();
            let (key_id, key) = mint_mount_credential(
                state,
                &entry.record.org,
                (entry.record.sandbox.id, i),
                volume.volume_id,
                &subpath,
                volume.read_only,
            )
            .await?;
            // Recorded before the mount starts, so a crash from here on still revokes it.
            let mut record = entry.record.clone();
            record.keys = entry
                .mounts
                .lock()
                .await
                .iter()
                .map(|m| m.key_id)
                .chain([key_id])
                .collect();
            save(&folder, &record).map_err(|e| Error::internal(format!("cannot save the sandbox record: {e}")))?;
            // The key's scope is the folder: the mount names the volume alone, and its root is
            // that folder.
            let source = volume.volume_id.to_string();
            let spec = mounts::MountSpec {
                source,
                folder: &mount_folder,
                read_only: volume.read_only,
                endpoint,
                key: &key,
                cache_dir: &cache_dir,
                log_file: &folder.join(format!("mount-{i}.log")),
            };
            let child = mounts::mount(&spec).await;
            let child = match child {
                Ok(child) => child,
                Err(e) => {
                    revoke_mount_credential(state, key_id).await;
                    return Err(e.context(format!("volume {}", volume.volume)));
                }
            };
            entry.mounts.lock().await.push(mounts::VolumeMount { child, key_id });
            binds.push((mount_folder, volume.mount_path.clone(), volume.read_only));
        }
        let container = entry.container();
        let spec = bundle::Spec {
            hostname: &format!("sandbox-{}", &entry.record.sandbox.id.simple().to_string()[..8]),
            image: &self.0.image,
            volumes: &binds,
            env: &entry.env,
            limits: entry.record.sandbox.limits,
            cgroup: &format!("/strata/{container}"),
        };
        bundle::write(&folder, &spec)?;
        self.0.runtime.run(&container, &folder).await
    }

    /// Kills every process of the sandbox, unmounts its volumes and removes its files.
    pub async fn delete(&self, state: &AppState, org: &str, id: Uuid) -> Result<()> {
        let entry = self.entry(org, id)?;
        self.entries().remove(&id);
        self.tear_down(state, &entry).await;
        Ok(())
    }

    async fn tear_down(&self, state: &AppState, entry: &Entry) {
        self.stop(state, entry).await;
        let folder = self.folder(entry.record.sandbox.id);
        let _ = std::fs::remove_file(folder.join("sandbox.json"));
        if let Ok(files) = std::fs::read_dir(&folder) {
            for file in files.flatten().filter(|f| f.path().is_file()) {
                let _ = std::fs::remove_file(file.path());
            }
        }
        let _ = std::fs::remove_dir(&folder);
    }

    /// Before the server stops: every sandbox's processes end and its volumes are unmounted
    /// while the server still answers their mounts' last calls; the records stay, and the
    /// next start reports them `lost`.
    pub async fn stop_all(&self, state: &AppState) {
        let all: Vec<Arc<Entry>> = self.entries().values().cloned().collect();
        for entry in all {
            self.stop(state, &entry).await;
        }
    }

    /// Ends the container, unmounts each volume and waits for its mount process to end.
    async fn stop(&self, state: &AppState, entry: &Entry) {
        self.0.runtime.delete(&entry.container()).await;
        let folder = self.folder(entry.record.sandbox.id);
        let mut started = entry.mounts.lock().await;
        for (i, mount) in started.iter_mut().enumerate() {
            mounts::unmount(&folder.join("mnt").join(i.to_string()));
            // The mount closes its session with its key before it ends.
            mounts::wait_for_exit(&mut mount.child).await;
            revoke_mount_credential(state, mount.key_id).await;
        }
        started.clear();
        remove_leftovers(&folder);
    }

    /// The runtime's name of a sandbox that runs, or why nothing can run in it.
    async fn running(&self, org: &str, id: Uuid) -> Result<String> {
        let entry = self.entry(org, id)?;
        let gone = |why: &str| {
            Error::new(ErrorKind::Conflict, format!("sandbox {id} is {why}: delete it")).with_field("sandbox")
        };
        match self.observe(&entry).await.state {
            SandboxState::Running => Ok(entry.container()),
            SandboxState::Stopped => Err(gone("stopped (its init ended, and every process with it)")),
            SandboxState::Lost => Err(gone("lost (its processes ended with an earlier server run)")),
        }
    }

    /// Runs `sh -c COMMAND` inside; its output is cut at [`EXEC_OUTPUT_MAX`] bytes each.
    pub async fn exec(&self, org: &str, id: Uuid, req: &Exec) -> Result<ExecResult> {
        check_command(&req.command)?;
        let timeout = req.timeout_secs.unwrap_or(DEFAULT_TIMEOUT);
        if timeout == 0 || timeout > MAX_TIMEOUT {
            return Err(Error::invalid(
                "timeout_secs",
                format!("timeout_secs must be 1 to {MAX_TIMEOUT}, not {timeout}"),
            ));
        }
        let container = self.running(org, id).await?;
        let secs = timeout.to_string();
        let (status_read, status_write) =
            std::io::pipe().map_err(|e| Error::internal(format!("cannot make a pipe: {e}")))?;
        // The command's exit status comes back on fd 3, which the command itself does not
        // get; its output may stay open in processes it left running.
        let script = r#"timeout -k 2 "$1" sh -c "$2" 3>&-; echo $? >&3"#;
        let argv = ["sh", "-c", script, "sh", &secs, &req.command];
        let mut cmd = self.0.runtime.exec_detached(&container, &argv, status_write.into());
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let started = std::time::Instant::now();
        let mut runtime = cmd.spawn().map_err(|e| runtime_error(&e))?;
        // Our copy of the status pipe's write end goes with the command's setup.
        drop(cmd);
        let (out, err) = (runtime.stdout.take(), runtime.stderr.take());
        let (mut stdout, mut stderr) = (Captured::default(), Captured::default());
        let launched = runtime.wait().await.map_err(|e| runtime_error(&e))?;
        if !launched.success() {
            stderr.read(err, 4096).await;
            let why = String::from_utf8_lossy(&stderr.data);
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("cannot run the command in sandbox {id}: {}", why.trim()),
            )
            .with_field("sandbox"));
        }
        let status = tokio::net::unix::pipe::Receiver::from_owned_fd(status_read.into())
            .map_err(|e| Error::internal(format!("cannot read the command's status: {e}")))?;
        let status = {
            let reading = async { tokio::join!(stdout.read(out, EXEC_OUTPUT_MAX), stderr.read(err, EXEC_OUTPUT_MAX)) };
            tokio::pin!(reading);
            let mut read_all = false;
            let exited = read_status(status);
            tokio::pin!(exited);
            let waiting = async {
                loop {
                    tokio::select! {
                        status = &mut exited => break status,
                        _ = &mut reading, if !read_all => read_all = true,
                    }
                }
            };
            let status = tokio::time::timeout(Duration::from_secs(timeout + 10), waiting)
                .await
                .map_err(|_| Error::new(ErrorKind::Unavailable, "the command did not end after its timeout"))?;
            // Processes the command left running may hold its output open: take what is
            // there and stop reading soon after it ended.
            if !read_all {
                let _ = tokio::time::timeout(OUTPUT_GRACE, &mut reading).await;
            }
            status
        };
        let (stdout, cut_out, stderr, cut_err) = (stdout.data, stdout.cut, stderr.data, stderr.cut);
        // No status: the sandbox ended under the command, which was killed with it.
        let exit_code = status.unwrap_or(128 + libc::SIGKILL);
        Ok(ExecResult {
            exit_code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            truncated: cut_out || cut_err,
            timed_out: exit_code == 124 && started.elapsed() >= Duration::from_secs(timeout),
        })
    }

    /// Writes `body` to `path` inside the sandbox, making its missing folders.
    pub async fn upload<R: AsyncRead + Unpin>(&self, org: &str, id: Uuid, path: &str, mut body: R) -> Result<()> {
        strata_core::sandboxes::check_sandbox_path(path)?;
        let container = self.running(org, id).await?;
        let script = r#"mkdir -p -- "$(dirname -- "$1")" && cat > "$1""#;
        let mut cmd = self.0.runtime.exec(&container, &["sh", "-c", script, "sh", path]);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| runtime_error(&e))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| Error::internal("no pipe to the sandbox"))?;
        let copied = tokio::io::copy(&mut body, &mut stdin).await;
        drop(stdin);
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        if !out.status.success() {
            return Err(file_error(path, &out.stderr));
        }
        copied.map_err(|e| Error::invalid("body", format!("upload of {path} interrupted: {e}")))?;
        Ok(())
    }

    /// The bytes of `path` inside the sandbox, at most [`DOWNLOAD_MAX`]; a larger file, or
    /// one that never ends (`/dev/zero`), is refused as too large.
    pub async fn download(&self, org: &str, id: Uuid, path: &str) -> Result<Vec<u8>> {
        strata_core::sandboxes::check_sandbox_path(path)?;
        let container = self.running(org, id).await?;
        // One byte past the limit tells a file at the limit from a larger one; `head` stops
        // there by itself, and `timeout` ends a FIFO nobody writes to.
        let most = (DOWNLOAD_MAX + 1).to_string();
        let argv = ["timeout", DOWNLOAD_TIMEOUT, "head", "-c", &most, "--", path];
        let mut cmd = self.0.runtime.exec(&container, &argv);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| runtime_error(&e))?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let (mut data, mut stderr) = (Captured::default(), Captured::default());
        let (_, _, status) = tokio::join!(data.read(out, DOWNLOAD_MAX), stderr.read(err, 4096), child.wait());
        let (data, cut, stderr) = (data.data, data.cut, stderr.data);
        let status = status.map_err(|e| Error::internal(e.to_string()))?;
        if cut {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!("{path} is larger than {DOWNLOAD_MAX} bytes: mount its volume to read it"),
            )
            .with_field("path"));
        }
        if !status.success() {
            return Err(file_error(path, &stderr));
        }
        Ok(data)
    }
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
    state.meta(move |m| m.add_token(&record, false)).await?;
    Ok((id, secret))
}

/// Revokes a sandbox mount's key; a failure is logged (the key then ends with its sandbox's
/// record at the next start).
pub async fn revoke_mount_credential(state: &AppState, key: Uuid) {
    let revoked = state.meta(move |m| m.revoke_token(key, strata_meta::now_ns())).await;
    state.keys.forget(key);
    if let Err(e) = revoked
        && e.kind != ErrorKind::NotFound
    {
        tracing::warn!(%key, "cannot revoke a sandbox mount's key: {e}");
    }
}

/// Output read so far, and whether some was dropped past the limit.
#[derive(Default)]
struct Captured {
    data: Vec<u8>,
    cut: bool,
}

impl Captured {
    /// Keeps at most `max` bytes, then drains the rest so that the writer never blocks.
    async fn read<R: AsyncRead + Unpin>(&mut self, reader: Option<R>, max: usize) {
        let Some(mut reader) = reader else { return };
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = reader.read(&mut buf).await {
            let room = max.saturating_sub(self.data.len());
            self.data.extend_from_slice(&buf[..n.min(room)]);
            self.cut |= n > room;
        }
    }
}

/// The exit status the command's wrapper writes on its status pipe: one line, a number.
async fn read_status(mut pipe: tokio::net::unix::pipe::Receiver) -> Option<i32> {
    let mut line = Vec::new();
    let mut buf = [0u8; 16];
    while line.len() < 16 && !line.contains(&b'\n') {
        match pipe.read(&mut buf).await {
            Ok(n @ 1..) => line.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&line);
    text.lines().next()?.trim().parse().ok()
}

/// An error of a file operation inside a sandbox, of the kind its message says.
fn file_error(path: &str, stderr: &[u8]) -> Error {
    let text = String::from_utf8_lossy(stderr);
    let kind = if text.contains("No such file") {
        ErrorKind::NotFound
    } else if text.contains("Read-only file system") {
        ErrorKind::ReadOnly
    } else if text.contains("Permission denied") {
        ErrorKind::PermissionDenied
    } else if text.contains("Is a directory") {
        ErrorKind::IsADirectory
    } else if text.contains("Not a directory") || text.contains("File exists") {
        ErrorKind::NotADirectory
    } else {
        ErrorKind::InvalidInput
    };
    let why = text
        .lines()
        .last()
        .unwrap_or("failed")
        .rsplit(": ")
        .next()
        .unwrap_or("failed");
    Error::new(kind, format!("{path}: {why}")).with_field("path")
}

fn save(folder: &Path, record: &Record) -> std::io::Result<()> {
    let tmp = folder.join("sandbox.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(record)?)?;
    std::fs::rename(tmp, folder.join("sandbox.json"))
}

/// Removes a sandbox's root skeleton and mount folders; never descends into a folder that
/// is still a mount (it would delete a volume's files).
fn remove_leftovers(folder: &Path) {
    if let Ok(mounts) = std::fs::read_dir(folder.join("mnt")) {
        for m in mounts.flatten() {
            let _ = std::fs::remove_dir(m.path());
        }
    }
    let _ = std::fs::remove_dir(folder.join("mnt"));
    let rootfs = folder.join("rootfs");
    if !mounts::any_mount_under(&rootfs) {
        let _ = std::fs::remove_dir_all(rootfs);
    }
}

fn runtime_error(e: &std::io::Error) -> Error {
    Error::new(ErrorKind::Unavailable, format!("cannot run the container runtime: {e}"))
}
