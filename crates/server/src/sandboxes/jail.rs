//! The process tree of a sandbox: bubblewrap with its own mount, PID, IPC and UTS
//! namespaces, the host's root read-only, a private home and `/tmp`, and each volume's
//! mount bound at its path. Commands join those namespaces through `nsenter` and drop every
//! capability with `setpriv` before they run.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use strata_core::{Error, Result};
use tokio::io::AsyncBufReadExt;

/// The home folder inside every sandbox.
pub const HOME: &str = "/root";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a sandbox is made of.
pub struct Layout<'a> {
    pub hostname: String,
    /// The host folder that is the sandbox's home.
    pub home: &'a Path,
    /// Host folders no sandbox may see (the server's data folder).
    pub hidden: &'a [PathBuf],
    /// (host mount folder, path inside the sandbox) per volume.
    pub volumes: &'a [(PathBuf, String)],
}

/// A started sandbox: the bubblewrap process and the host PID of its namespace's init.
pub struct Jail {
    pub child: tokio::process::Child,
    pub init_pid: i32,
}

/// Top-level host entries the sandbox gets its own version of.
const OWN: [&str; 5] = ["proc", "dev", "tmp", "run", "root"];

fn bwrap_args(layout: &Layout, info_fd: i32) -> Result<Vec<OsString>> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |items: &[&dyn AsRef<std::ffi::OsStr>]| args.extend(items.iter().map(|i| i.as_ref().to_owned()));
    push(&[
        &"--die-with-parent",
        &"--new-session",
        &"--unshare-pid",
        &"--unshare-ipc",
        &"--unshare-uts",
    ]);
    push(&[&"--hostname", &layout.hostname]);
    // The host's root, read-only, one top-level entry at a time, so that a mount path
    // under a top-level folder the host lacks can be made in the sandbox's own root.
    let entries = std::fs::read_dir("/").map_err(|e| Error::internal(format!("cannot list /: {e}")))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if OWN.iter().any(|own| name == *own) {
            continue;
        }
        let path = Path::new("/").join(&name);
        match std::fs::read_link(&path) {
            Ok(target) => push(&[&"--symlink", &target, &path]),
            Err(_) => push(&[&"--ro-bind", &path, &path]),
        }
    }
    push(&[
        &"--proc", &"/proc", &"--dev", &"/dev", &"--tmpfs", &"/tmp", &"--tmpfs", &"/run",
    ]);
    push(&[&"--bind", &layout.home, &HOME]);
    for hidden in hidden_paths(layout.hidden) {
        push(&[&"--tmpfs", &hidden]);
    }
    for parent in volume_parents(layout.volumes) {
        push(&[&"--tmpfs", &parent]);
    }
    for (source, path) in layout.volumes {
        push(&[&"--bind", source, path]);
    }
    push(&[
        &"--chdir",
        &HOME,
        &"--clearenv",
        &"--setenv",
        &"HOME",
        &HOME,
        &"--setenv",
        &"PATH",
        &PATH,
    ]);
    push(&[&"--info-fd", &info_fd.to_string()]);
    push(&[&"--", &"sh", &"-c", &"echo ready; exec sleep infinity"]);
    Ok(args)
}

/// What the sandbox must not see of the host: the given folders and every FUSE mount of the
/// host (other sandboxes' volumes, users' mounts), unless a folder the sandbox gets its own
/// version of already covers it.
fn hidden_paths(hidden: &[PathBuf]) -> BTreeSet<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let fuse = table.lines().filter_map(|line| {
        let (fields, after) = line.split_once(" - ")?;
        let point = fields.split(' ').nth(4)?;
        (after.starts_with("fuse") && !point.contains('\\')).then(|| PathBuf::from(point))
    });
    let covered = |p: &Path| OWN.iter().any(|own| p.starts_with(Path::new("/").join(own)));
    let mut all: BTreeSet<PathBuf> = hidden.iter().cloned().chain(fuse).filter(|p| !covered(p)).collect();
    // A folder inside another hidden one is hidden already.
    let snapshot = all.clone();
    all.retain(|p| !snapshot.iter().any(|q| q != p && p.starts_with(q)));
    all
}

/// The host folders to replace by an empty tmpfs so that each volume's mount path can be
/// made in a read-only root: the deepest folder the path already has on the host, unless
/// that is `/` or a folder the sandbox owns, or the path exists itself.
fn volume_parents(volumes: &[(PathBuf, String)]) -> BTreeSet<PathBuf> {
    let mut parents = BTreeSet::new();
    for (_, path) in volumes {
        let path = Path::new(path);
        if path.is_dir()
            || path
                .components()
                .nth(1)
                .is_some_and(|c| OWN.iter().any(|own| c.as_os_str() == *own))
        {
            continue;
        }
        if let Some(parent) = path.ancestors().skip(1).find(|a| a.is_dir())
            && parent != Path::new("/")
        {
            parents.insert(parent.to_owned());
        }
    }
    let snapshot = parents.clone();
    parents.retain(|p| !snapshot.iter().any(|q| q != p && p.starts_with(q)));
    parents
}

/// Starts the sandbox and returns once it is ready to run commands.
pub async fn start(layout: &Layout<'_>) -> Result<Jail> {
    let (mut info_read, info_write) =
        std::io::pipe().map_err(|e| Error::internal(format!("cannot make a pipe: {e}")))?;
    let info_fd = info_write.as_raw_fd();
    let mut cmd = tokio::process::Command::new("bwrap");
    cmd.args(bwrap_args(layout, info_fd)?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: fcntl on a descriptor we own, between fork and exec: bubblewrap inherits it.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(info_fd, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        Error::new(
            strata_core::ErrorKind::Unavailable,
            format!("cannot run bwrap (is bubblewrap installed?): {e}"),
        )
    })?;
    drop(info_write);
    let info = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        info_read.read_to_string(&mut text).map(|_| text)
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?
    .unwrap_or_default();
    let stdout = child.stdout.take().ok_or_else(|| Error::internal("no pipe to bwrap"))?;
    let mut line = String::new();
    let _ = tokio::io::BufReader::new(stdout).read_line(&mut line).await;
    let init_pid = serde_json::from_str::<serde_json::Value>(&info)
        .ok()
        .and_then(|v| v["child-pid"].as_i64())
        .and_then(|p| i32::try_from(p).ok());
    match (line.trim(), init_pid) {
        ("ready", Some(init_pid)) => Ok(Jail { child, init_pid }),
        _ => {
            let _ = child.start_kill();
            let out = child
                .wait_with_output()
                .await
                .map_err(|e| Error::internal(e.to_string()))?;
            Err(Error::internal(format!(
                "the sandbox did not start: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

/// A command that runs `argv` inside the sandbox whose init is `init_pid`, with no
/// capabilities and a clean environment, in the home folder.
pub fn enter(init_pid: i32, argv: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("nsenter");
    cmd.arg(format!("--target={init_pid}"))
        .args(["--mount", "--uts", "--ipc", "--pid", "--root"])
        .args([
            "--",
            "setpriv",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ])
        .args(["env", "--chdir", HOME])
        .args(argv)
        .env_clear()
        .env("HOME", HOME)
        .env("PATH", PATH)
        .kill_on_drop(true);
    cmd
}

/// Kills every process of the sandbox: the init of its PID namespace takes them all along.
pub fn kill(init_pid: i32) {
    // SAFETY: kill(2) with a PID we started (and checked is still bubblewrap, when recovering).
    unsafe { libc::kill(init_pid, libc::SIGKILL) };
}

/// Whether `pid` is still a bubblewrap process (after a restart, PIDs may have been reused).
pub fn is_bwrap(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "bwrap")
}
