//! Commands and files inside a running sandbox, all through the runtime's `exec`.

use super::{Sandboxes, runtime_error};
use crate::state::AppState;
use std::time::Duration;
use strata_core::api::{Exec, ExecResult};
use strata_core::sandboxes::{DOWNLOAD_MAX, EXEC_OUTPUT_MAX, check_command};
use strata_core::{Error, ErrorKind, Result};
use tokio::io::{AsyncRead, AsyncReadExt};
use uuid::Uuid;

const DEFAULT_TIMEOUT: u64 = 60;
/// How long an exec reads output after its command ended.
const OUTPUT_GRACE: Duration = Duration::from_millis(200);
const MAX_TIMEOUT: u64 = 3600;
/// Seconds a download may take (a FIFO or a device never ends by itself).
const DOWNLOAD_TIMEOUT: &str = "60";

impl Sandboxes {
    /// Runs `sh -c COMMAND` inside; its output is cut at [`EXEC_OUTPUT_MAX`] bytes each.
    pub async fn exec(&self, state: &AppState, org: &str, id: Uuid, req: &Exec) -> Result<ExecResult> {
        check_command(&req.command)?;
        let timeout = req.timeout_secs.unwrap_or(DEFAULT_TIMEOUT);
        if timeout == 0 || timeout > MAX_TIMEOUT {
            return Err(Error::invalid(
                "timeout_secs",
                format!("timeout_secs must be 1 to {MAX_TIMEOUT}, not {timeout}"),
            ));
        }
        let container = self.running(state, org, id).await?;
        let secs = timeout.to_string();
        let pipe = || std::io::pipe().map_err(|e| Error::internal(format!("cannot make a pipe: {e}")));
        let ((out_read, out_write), (err_read, err_write)) = (pipe()?, pipe()?);
        // The command writes to our pipes (fds 3 and 4), so that processes it leaves running
        // hold them, and not the runtime's, which waits for its own to close.
        let script = r#"exec timeout -k 2 "$1" sh -c "$2" >&3 2>&4 3>&- 4>&-"#;
        let argv = ["sh", "-c", script, "sh", &secs, &req.command];
        let mut cmd = self
            .0
            .runtime
            .exec_with_fds(&container, &argv, vec![out_write.into(), err_write.into()]);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let started = std::time::Instant::now();
        let mut runtime = cmd.spawn().map_err(|e| runtime_error(&e))?;
        // Our copies of the pipes' write ends go with the command's setup.
        drop(cmd);
        let receiver = |r: std::io::PipeReader| {
            tokio::net::unix::pipe::Receiver::from_owned_fd(r.into())
                .map_err(|e| Error::internal(format!("cannot read the command's output: {e}")))
        };
        let (out, err) = (receiver(out_read)?, receiver(err_read)?);
        let said = runtime.stderr.take();
        let (mut stdout, mut stderr, mut runtime_said) =
            (Captured::default(), Captured::default(), Captured::default());
        let status = {
            let reading = async {
                tokio::join!(
                    stdout.read(Some(out), EXEC_OUTPUT_MAX),
                    stderr.read(Some(err), EXEC_OUTPUT_MAX)
                )
            };
            tokio::pin!(reading);
            let mut read_all = false;
            let waiting = async {
                let (status, _) = tokio::join!(runtime.wait(), runtime_said.read(said, 4096));
                status
            };
            tokio::pin!(waiting);
            let ended = async {
                loop {
                    tokio::select! {
                        status = &mut waiting => break status,
                        _ = &mut reading, if !read_all => read_all = true,
                    }
                }
            };
            let status = tokio::time::timeout(Duration::from_secs(timeout + 10), ended)
                .await
                .map_err(|_| Error::new(ErrorKind::Unavailable, "the command did not end after its timeout"))?;
            // Processes the command left running may hold its output open: take what is
            // there and stop reading soon after it ended.
            if !read_all {
                let _ = tokio::time::timeout(OUTPUT_GRACE, &mut reading).await;
            }
            status.map_err(|e| runtime_error(&e))?
        };
        if !status.success() && self.running(state, org, id).await.is_err() {
            let why = String::from_utf8_lossy(&runtime_said.data);
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("sandbox {id} ended under the command: {}", why.trim()),
            )
            .with_field("sandbox"));
        }
        let (stdout, cut_out, mut stderr, cut_err) = (stdout.data, stdout.cut, stderr.data, stderr.cut);
        // What the shell said before the command ran (a program the image lacks).
        stderr.extend_from_slice(&runtime_said.data);
        let exit_code = exit_code(status);
        Ok(ExecResult {
            exit_code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            truncated: cut_out || cut_err,
            timed_out: exit_code == 124 && started.elapsed() >= Duration::from_secs(timeout),
        })
    }

    /// Writes `body` to `path` inside the sandbox, making its missing folders.
    pub async fn upload<R: AsyncRead + Unpin>(
        &self,
        state: &AppState,
        org: &str,
        id: Uuid,
        path: &str,
        mut body: R,
    ) -> Result<()> {
        strata_core::sandboxes::check_sandbox_path(path)?;
        let container = self.running(state, org, id).await?;
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
    pub async fn download(&self, state: &AppState, org: &str, id: Uuid, path: &str) -> Result<Vec<u8>> {
        strata_core::sandboxes::check_sandbox_path(path)?;
        let container = self.running(state, org, id).await?;
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
