//! The OCI runtime (runc) that runs sandboxes from their bundles.
//!
//! Every command inside a sandbox goes through `runc exec`, which finds the sandbox's init by
//! the runtime's own state (its PID and start time), so a sandbox whose init ended is
//! `stopped` and nothing runs anywhere: no PID is ever saved and reused here.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use strata_core::{Error, ErrorKind, Result};

use super::bundle::HOME;

/// The runtime binary.
const RUNC: &str = "runc";
/// What every command inside starts with: the usual file mode mask (the runtime would pass on
/// the server's, which keeps everything it writes to itself).
const INSIDE: [&str; 4] = ["sh", "-c", "umask 022 && exec \"$@\"", "sh"];

/// What the runtime says of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    /// Its init ended, and every process inside with it.
    Stopped,
    /// The runtime does not know it.
    Missing,
}

/// The runtime with its state folder (one per server).
#[derive(Debug, Clone)]
pub struct Runtime {
    state_dir: PathBuf,
}

impl Runtime {
    pub fn new(state_dir: PathBuf) -> Self {
        Runtime { state_dir }
    }

    fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(RUNC);
        // The runtime needs nothing of the server's environment, and passes none of it on.
        cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        cmd.arg("--root").arg(&self.state_dir);
        cmd.kill_on_drop(true);
        cmd
    }

    /// Starts the container `id` from `bundle` in the background; returns once its init runs.
    pub async fn run(&self, id: &str, bundle: &Path) -> Result<()> {
        let log = bundle.join("runtime.log");
        // The init inherits runc's standard streams: nothing of the host's, not even a log
        // file (it could write to it through /proc/1/fd without end). runc's own messages go
        // to `--log`, which it does not hand on.
        let status = self
            .command()
            .arg("--log")
            .arg(&log)
            .args(["run", "--detach", "--bundle"])
            .arg(bundle)
            .arg(id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map_err(|e| unavailable(&e))?;
        if status.success() {
            return Ok(());
        }
        let why = std::fs::read_to_string(&log).unwrap_or_default();
        Err(Error::internal(format!(
            "the sandbox did not start: {}",
            last_message(&why)
        )))
    }

    /// A command that runs `argv` inside container `id`, in the home folder, with the
    /// sandbox's own environment, capabilities (none) and limits.
    pub fn exec(&self, id: &str, argv: &[&str]) -> tokio::process::Command {
        let mut cmd = self.command();
        cmd.args(["exec", "--cwd", HOME, id]).args(INSIDE).args(argv);
        cmd
    }

    /// Like [`Runtime::exec`], with `fds` as the command's fds 3, 4, ... The runtime copies
    /// the command's own output through pipes of its own and waits until every process
    /// holding them ended, background ones included: a command that wants to leave processes
    /// running writes to these instead.
    pub fn exec_with_fds(&self, id: &str, argv: &[&str], fds: Vec<OwnedFd>) -> tokio::process::Command {
        let mut cmd = self.command();
        cmd.args(["exec", "--preserve-fds", &fds.len().to_string(), "--cwd", HOME, id])
            .args(INSIDE)
            .args(argv);
        pass_fds(&mut cmd, fds);
        cmd
    }

    pub async fn status(&self, id: &str) -> Status {
        let out = self.command().args(["state", id]).output().await;
        let Ok(out) = out else { return Status::Missing };
        if !out.status.success() {
            return Status::Missing;
        }
        let state: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        match state["status"].as_str() {
            Some("running" | "created" | "paused") => Status::Running,
            _ => Status::Stopped,
        }
    }

    /// The host PID of container `id`'s init while it runs.
    pub async fn pid(&self, id: &str) -> Option<i32> {
        let out = self.command().args(["state", id]).output().await.ok()?;
        let state: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        if state["status"] != "running" {
            return None;
        }
        state["pid"].as_i64().and_then(|p| i32::try_from(p).ok())
    }

    /// Kills every process of container `id` and removes it with its cgroup.
    pub async fn delete(&self, id: &str) {
        let out = self.command().args(["delete", "--force", id]).output().await;
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                let why = String::from_utf8_lossy(&out.stderr);
                if !why.contains("does not exist") {
                    tracing::warn!(container = id, "cannot delete a sandbox: {}", last_message(&why));
                }
            }
            Err(e) => tracing::warn!(container = id, "cannot run {RUNC}: {e}"),
        }
    }

    /// The containers this runtime knows: after a restart, the ones a previous run left.
    pub async fn list(&self) -> Vec<String> {
        let out = self.command().args(["list", "--quiet"]).output().await;
        match out {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Hands `fds` to the command as its fds 3, 4, ... (and nothing else of ours: the rest are
/// closed on exec).
pub fn pass_fds(cmd: &mut tokio::process::Command, fds: Vec<OwnedFd>) {
    // SAFETY: fcntl/dup2 on descriptors we own, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // First out of the way of 3, 4, ..., which some of them may be; then into place
            // (dup2 leaves the copies open on exec).
            let mut high = Vec::with_capacity(fds.len());
            for fd in &fds {
                let copy = libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 100);
                if copy == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                high.push(copy);
            }
            for (i, copy) in high.into_iter().enumerate() {
                if libc::dup2(copy, 3 + i as i32) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

fn unavailable(e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!("cannot run {RUNC} (install the runc package to run sandboxes): {e}"),
    )
}

/// The last line runc wrote, without its log prefix.
fn last_message(text: &str) -> String {
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no reason given");
    match line.split_once("msg=") {
        Some((_, msg)) => msg.trim_matches('"').replace("\\\"", "\""),
        None => line.to_owned(),
    }
}
