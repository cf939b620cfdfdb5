//! A sandbox's volumes, each through its own `strata mount` process on the host.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
pub use strata_core::mount_table::any_mount_under;
use strata_core::mount_table::mount_table;
use strata_core::{Error, ErrorKind, Result};
use tokio::io::AsyncBufReadExt;

/// A running mount process and the id of the key it holds.
pub struct VolumeMount {
    pub child: tokio::process::Child,
    pub key_id: uuid::Uuid,
}

/// What one mount process needs.
pub struct MountSpec<'a> {
    pub source: String,
    pub folder: &'a Path,
    pub read_only: bool,
    pub endpoint: &'a str,
    /// A private CA to trust the server's certificate by.
    pub ca_file: Option<&'a Path>,
    pub key: &'a str,
    pub cache_dir: &'a Path,
    pub log_file: &'a Path,
}

/// Runs `strata mount` (this same binary) in the foreground and returns once it is ready.
pub async fn mount(spec: &MountSpec<'_>) -> Result<tokio::process::Child> {
    let exe = std::env::current_exe().map_err(|e| Error::internal(format!("cannot find the strata binary: {e}")))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(spec.log_file)
        .map_err(|e| Error::internal(format!("cannot open {}: {e}", spec.log_file.display())))?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("mount")
        .arg(&spec.source)
        .arg(spec.folder)
        .arg("--foreground")
        .arg("--cache-dir")
        .arg(spec.cache_dir);
    if spec.read_only {
        cmd.arg("--read-only");
    }
    // The key goes in the environment, never on the command line others can read; nothing
    // else of the server's environment (its store's credentials) goes along.
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("STRATA_ENDPOINT", spec.endpoint)
        .env("STRATA_TOKEN", spec.key)
        .env("STRATA_MOUNT_NOTIFY", "1")
        .envs(
            ["STRATA_CA_FILE", "STRATA_LOG"]
                .iter()
                .filter_map(|k| Some((k, std::env::var_os(k)?))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    if let Some(ca) = spec.ca_file {
        cmd.env("STRATA_CA_FILE", ca);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::internal(format!("cannot run strata mount: {e}")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::internal("no pipe to strata mount"))?;
    let mut line = String::new();
    let _ = tokio::io::BufReader::new(stdout).read_line(&mut line).await;
    match line.trim_end().split_once(' ').unwrap_or((line.trim_end(), "")) {
        ("ready", _) => Ok(child),
        (_, why) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            let why = if why.is_empty() {
                "the mount process ended early"
            } else {
                why
            };
            Err(Error::new(
                ErrorKind::Unavailable,
                format!("cannot mount {}: {why}", spec.source),
            ))
        }
    }
}

/// Unmounts `folder` if something is mounted there: at once if it is free, else detached.
pub fn unmount(folder: &Path) {
    if !is_mount_point(folder) {
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(folder.as_os_str().as_bytes()) else {
        return;
    };
    // SAFETY: umount2 with a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), 0) } != 0 {
        // SAFETY: as above.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Waits for a mount process to end after its unmount (it closes its session first), and
/// kills it if it takes too long.
pub async fn wait_for_exit(child: &mut tokio::process::Child) {
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}

/// Whether the kernel's mount table has a mount at `path`.
pub fn is_mount_point(path: &Path) -> bool {
    mount_table().iter().any(|e| e.mountpoint == path)
}
