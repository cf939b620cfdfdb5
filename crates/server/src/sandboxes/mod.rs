//! Sandboxes: process trees on this server's machine with volumes mounted at chosen paths.
//!
//! A sandbox is a bubblewrap jail ([`jail`]) whose volumes are `strata mount` processes on
//! the host ([`mounts`]), each holding a key limited to its volume folder
//! ([`mint_mount_credential`]), bound into the jail. Its record is kept in
//! `DATA_DIR/sandboxes/ID/sandbox.json`, so a restarted server reports a sandbox whose
//! processes went with the old one as `lost` and unmounts what they left.

mod jail;
mod mounts;

use crate::state::AppState;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use strata_core::api::{Exec, ExecResult, Sandbox, SandboxState, SandboxVolume, SandboxVolumeSpec};
use strata_core::mounts::parse_subpath;
use strata_core::names::VolumeRef;
use strata_core::sandboxes::check_volume_specs;
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

/// The sandboxes of this server.
#[derive(Clone)]
pub struct Sandboxes(Arc<Inner>);

struct Inner {
    /// `DATA_DIR/sandboxes`.
    root: PathBuf,
    /// What no sandbox may see: the server's data folder.
    hidden: Vec<PathBuf>,
    /// The URL mounts reach this server at, known once it listens.
    endpoint: OnceLock<String>,
    entries: Mutex<HashMap<Uuid, Arc<Entry>>>,
}

/// What is stored of a sandbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    org: String,
    sandbox: Sandbox,
    init_pid: Option<i32>,
    /// The keys its volumes' mounts hold: a killed server's successor revokes them, which
    /// ends their mount sessions, since the mounts cannot any more.
    #[serde(default)]
    keys: Vec<Uuid>,
}

/// A sandbox and the processes that make it.
struct Entry {
    record: Record,
    /// The host PID of the init of the sandbox's PID namespace, once it runs.
    init_pid: OnceLock<i32>,
    jail: tokio::sync::Mutex<Option<tokio::process::Child>>,
    mounts: tokio::sync::Mutex<Vec<mounts::VolumeMount>>,
}

impl Sandboxes {
    pub fn new(data_dir: &Path) -> Self {
        Sandboxes(Arc::new(Inner {
            root: data_dir.join("sandboxes"),
            hidden: vec![data_dir.to_owned()],
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

    /// Reads the records a previous run left: their processes are gone, so each is `lost`,
    /// and whatever they still had mounted is unmounted.
    pub fn recover(&self, meta: &dyn strata_meta::MetaStore, endpoint: String) -> anyhow::Result<()> {
        let _ = self.0.endpoint.set(endpoint);
        std::fs::create_dir_all(&self.0.root)?;
        for dir in std::fs::read_dir(&self.0.root)?.flatten() {
            let Ok(text) = std::fs::read(dir.path().join("sandbox.json")) else {
                continue;
            };
            let Ok(mut record) = serde_json::from_slice::<Record>(&text) else {
                continue;
            };
            if let Some(pid) = record.init_pid.take()
                && jail::is_bwrap(pid)
            {
                jail::kill(pid);
            }
            record.sandbox.state = SandboxState::Lost;
            let folder = dir.path();
            for i in 0..record.sandbox.volumes.len() {
                mounts::unmount(&folder.join("mnt").join(i.to_string()));
            }
            remove_leftovers(&folder);
            for key in std::mem::take(&mut record.keys) {
                match meta.revoke_token(key, strata_meta::now_ns()) {
                    Ok(()) => {}
                    Err(e) if e.kind == ErrorKind::NotFound => {} // Revoked before the crash.
                    Err(e) => tracing::warn!(%key, "cannot revoke a lost sandbox's mount key: {e}"),
                }
            }
            save(&folder, &record)?;
            tracing::warn!(sandbox = %record.sandbox.id, "sandbox lost with the previous server run");
            self.entries().insert(
                record.sandbox.id,
                Arc::new(Entry {
                    record,
                    init_pid: OnceLock::new(),
                    jail: Default::default(),
                    mounts: Default::default(),
                }),
            );
        }
        Ok(())
    }

    pub fn list(&self, org: &str) -> Vec<Sandbox> {
        let mut all: Vec<Sandbox> = self
            .entries()
            .values()
            .filter(|e| e.record.org == org)
            .map(|e| e.record.sandbox.clone())
            .collect();
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

    pub fn get(&self, org: &str, id: Uuid) -> Result<Sandbox> {
        Ok(self.entry(org, id)?.record.sandbox.clone())
    }

    /// The running sandboxes that mount `volume`.
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
    pub async fn create(&self, state: &AppState, org: &str, specs: &[SandboxVolumeSpec]) -> Result<Sandbox> {
        check_volume_specs(specs)?;
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
            },
            init_pid: None,
            keys: Vec::new(),
        };
        let entry = Arc::new(Entry {
            record,
            init_pid: OnceLock::new(),
            jail: Default::default(),
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

    /// Mounts the volumes and starts the jail; what it started is in `entry` either way.
    async fn start(&self, state: &AppState, entry: &Entry, endpoint: &str) -> Result<()> {
        let folder = self.folder(entry.record.sandbox.id);
        let io = |e: std::io::Error| Error::internal(format!("cannot prepare {}: {e}", folder.display()));
        std::fs::create_dir_all(folder.join("home")).map_err(io)?;
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
            binds.push((mount_folder, volume.mount_path.clone()));
        }
        let id = entry.record.sandbox.id.simple().to_string();
        let layout = jail::Layout {
            hostname: format!("sandbox-{}", &id[..8]),
            home: &folder.join("home"),
            hidden: &self.0.hidden,
            volumes: &binds,
        };
        let started = jail::start(&layout).await?;
        let _ = entry.init_pid.set(started.init_pid);
        *entry.jail.lock().await = Some(started.child);
        let mut record = entry.record.clone();
        record.init_pid = Some(started.init_pid);
        record.keys = entry.mounts.lock().await.iter().map(|m| m.key_id).collect();
        save(&folder, &record).map_err(|e| Error::internal(format!("cannot save the sandbox record: {e}")))
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
        if let Ok(logs) = std::fs::read_dir(&folder) {
            for log in logs
                .flatten()
                .filter(|f| f.file_name().to_string_lossy().ends_with(".log"))
            {
                let _ = std::fs::remove_file(log.path());
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

    /// Kills the jail, unmounts each volume and waits for its mount process to end.
    async fn stop(&self, state: &AppState, entry: &Entry) {
        if let Some(&pid) = entry.init_pid.get() {
            jail::kill(pid);
        }
        if let Some(mut child) = entry.jail.lock().await.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
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

    fn running(&self, org: &str, id: Uuid) -> Result<i32> {
        let entry = self.entry(org, id)?;
        match (entry.record.sandbox.state, entry.init_pid.get()) {
            (SandboxState::Running, Some(&pid)) => Ok(pid),
            _ => Err(Error::new(
                ErrorKind::Conflict,
                format!("sandbox {id} is lost (its processes ended with an earlier server run): delete it"),
            )
            .with_field("sandbox")),
        }
    }

    /// Runs `sh -c COMMAND` inside; its output is cut at [`EXEC_OUTPUT_MAX`] bytes each.
    pub async fn exec(&self, org: &str, id: Uuid, req: &Exec) -> Result<ExecResult> {
        let pid = self.running(org, id)?;
        if req.command.contains('\0') {
            return Err(Error::invalid("command", "the command contains NUL"));
        }
        let timeout = req.timeout_secs.unwrap_or(DEFAULT_TIMEOUT);
        if timeout == 0 || timeout > MAX_TIMEOUT {
            return Err(Error::invalid(
                "timeout_secs",
                format!("timeout_secs must be 1 to {MAX_TIMEOUT}, not {timeout}"),
            ));
        }
        let secs = timeout.to_string();
        let mut cmd = jail::enter(pid, &["timeout", "-k", "2", &secs, "sh", "-c", &req.command]);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let started = std::time::Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::internal(format!("cannot run nsenter: {e}")))?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let (mut stdout, mut stderr) = (Captured::default(), Captured::default());
        let status = {
            let reading = async { tokio::join!(stdout.read(out, EXEC_OUTPUT_MAX), stderr.read(err, EXEC_OUTPUT_MAX)) };
            tokio::pin!(reading);
            let mut read_all = false;
            let waiting = async {
                loop {
                    tokio::select! {
                        status = child.wait() => break status,
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
        let exit_code = exit_code(status.map_err(|e| Error::internal(e.to_string()))?);
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
        let pid = self.running(org, id)?;
        let script = r#"mkdir -p -- "$(dirname -- "$1")" && cat > "$1""#;
        let mut cmd = jail::enter(pid, &["sh", "-c", script, "sh", path]);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::internal(format!("cannot run nsenter: {e}")))?;
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

    /// The bytes of `path` inside the sandbox, at most [`DOWNLOAD_MAX`].
    pub async fn download(&self, org: &str, id: Uuid, path: &str) -> Result<Vec<u8>> {
        strata_core::sandboxes::check_sandbox_path(path)?;
        let pid = self.running(org, id)?;
        let mut cmd = jail::enter(pid, &["cat", "--", path]);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::internal(format!("cannot run nsenter: {e}")))?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let (mut data, mut stderr) = (Captured::default(), Captured::default());
        let (_, _, status) = tokio::join!(data.read(out, DOWNLOAD_MAX), stderr.read(err, 4096), child.wait());
        let (data, cut, stderr) = (data.data, data.cut, stderr.data);
        let status = status.map_err(|e| Error::internal(e.to_string()))?;
        if !status.success() {
            return Err(file_error(path, &stderr));
        }
        if cut {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!("{path} is larger than {DOWNLOAD_MAX} bytes: mount its volume to read it"),
            )
            .with_field("path"));
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

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
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

/// Removes a sandbox's home and mount folders; never descends into a folder that is still
/// a mount (it would delete a volume's files).
fn remove_leftovers(folder: &Path) {
    let _ = std::fs::remove_dir_all(folder.join("home"));
    if let Ok(mounts) = std::fs::read_dir(folder.join("mnt")) {
        for m in mounts.flatten() {
            let _ = std::fs::remove_dir(m.path());
        }
    }
    let _ = std::fs::remove_dir(folder.join("mnt"));
}
