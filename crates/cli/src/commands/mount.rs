//! `strata mount` and `strata umount`.

use crate::mounts::{MountRecord, mounted_at};
use crate::{CmdResult, Failure};
use clap::Args;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use strata_core::Error;
use strata_core::mounts::{check_mount_target, parse_subpath};
use strata_fuse::MountOptions;

/// Set in the environment of the background mount process: it reports readiness on stdout.
const NOTIFY_ENV: &str = "STRATA_MOUNT_NOTIFY";

#[derive(Args)]
pub struct MountArgs {
    /// VOLUME or VOLUME:SUBPATH (SUBPATH relative, e.g. users/alice; created if missing)
    source: String,
    /// An existing, empty directory
    mountpoint: String,
    /// Refuse every write (EROFS)
    #[arg(long)]
    read_only: bool,
    /// Let other users of this machine reach the mount too (their permissions still apply); else only the user who mounted it
    #[arg(long)]
    allow_other: bool,
    /// Stay in the foreground until unmounted
    #[arg(long)]
    foreground: bool,
    /// Folder of the local block cache [default: ~/.cache/strata]
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Most bytes the block cache keeps on disk (e.g. 512M, 10G)
    #[arg(long, default_value = "10G", value_parser = parse_size)]
    cache_size: u64,
    /// How long the kernel trusts attributes and directory entries
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    attr_timeout: Duration,
    /// How long operations retry while the server is unreachable before failing with EIO
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    retry_for: Duration,
    /// How long one call waits for the server's answer before the server counts as
    /// unreachable; a block transfer gets a second more per 64 KiB it carries
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    call_timeout: Duration,
    /// While no one else uses the volume, make changes here and ship them to the server at
    /// most this long after (fsync of a file or folder, `sync MOUNTPOINT` and unmount ship
    /// at once; `sync` alone does not reach a FUSE mount); 0s: every change waits
    /// for the server
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    write_back: Duration,
    /// Where a background mount writes its log [default: CACHE_DIR/logs/MOUNTPOINT.log]
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Serve the mount's metrics for Prometheus at http://ADDR/metrics (e.g. 127.0.0.1:9108)
    #[arg(long, value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    #[command(flatten)]
    remote: crate::remote::Remote,
}

#[derive(Args)]
pub struct UmountArgs {
    /// Where a strata volume is mounted
    mountpoint: PathBuf,
    /// Detach it now even while files are open under it; it goes (and its mount process
    /// ends, committing what was written) once the last of them is closed
    #[arg(long)]
    lazy: bool,
}

/// Parses `1024`, `512K`, `64M`, `10G`, `1T` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let shift = match unit.to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(format!("invalid size {s:?}: expected a number with K, M, G or T"));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size {s:?}: expected a number with K, M, G or T"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

fn check_target(mountpoint: &str) -> Result<PathBuf, Error> {
    check_mount_target(mountpoint)?;
    let path = PathBuf::from(mountpoint);
    let meta = std::fs::metadata(&path).map_err(|e| {
        if matches!(e.raw_os_error(), Some(libc::ENOTCONN | libc::ECONNABORTED)) {
            // "Transport endpoint is not connected" (or, while the kernel is still tearing the
            // connection down, "connection aborted"): a mount whose process is gone.
            return Error::new(
                strata_core::ErrorKind::Conflict,
                format!("{mountpoint} is a mount whose process died: run `strata umount {mountpoint}` first"),
            );
        }
        Error::invalid("mountpoint", format!("mount path {mountpoint}: {e}"))
    })?;
    if !meta.is_dir() {
        return Err(Error::invalid(
            "mountpoint",
            format!("mount path {mountpoint} is not a directory"),
        ));
    }
    if let Some(there) = crate::mounts::mounted_at(&path) {
        return Err(Error::new(
            strata_core::ErrorKind::Conflict,
            format!(
                "{mountpoint} is already a mount point ({} {}): unmount it first, or pick another folder",
                there.fstype, there.source
            ),
        ));
    }
    let mut entries =
        std::fs::read_dir(&path).map_err(|e| Error::invalid("mountpoint", format!("mount path {mountpoint}: {e}")))?;
    if entries.next().is_some() {
        return Err(Error::invalid(
            "mountpoint",
            format!("mount path {mountpoint} is not empty"),
        ));
    }
    Ok(path)
}

pub async fn mount(args: MountArgs) -> CmdResult {
    let (volume, subpath) = strata_core::names::split_volume(&args.source);
    let subpath = subpath.unwrap_or("");
    strata_core::names::VolumeRef::parse(volume)?;
    parse_subpath(subpath)?;
    let mountpoint = check_target(&args.mountpoint)?;
    if !args.foreground {
        return spawn_background(&log_file(&args, &mountpoint));
    }
    super::init_logging();
    let notify = std::env::var_os(NOTIFY_ENV).is_some();
    let result = serve(&args, volume, subpath, &mountpoint, notify).await;
    if let (true, Err(f)) = (notify, &result) {
        println!("error {} {}", f.code, f.message);
    }
    result
}

async fn serve(args: &MountArgs, volume: &str, subpath: &str, mountpoint: &Path, notify: bool) -> CmdResult {
    let client = args.remote.client()?;
    let options = MountOptions {
        volume: volume.to_owned(),
        subpath: subpath.to_owned(),
        // A snapshot never changes.
        read_only: args.read_only || volume.contains('@'),
        allow_other: args.allow_other,
        cache_dir: cache_dir(args),
        cache_size: args.cache_size,
        attr_timeout: args.attr_timeout,
        retry_for: args.retry_for,
        call_timeout: args.call_timeout,
        write_back: Some(args.write_back).filter(|w| !w.is_zero()),
    };
    let metrics =
        match args.metrics {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                Failure::from(anyhow::Error::from(e).context(format!("cannot serve metrics on {addr}")))
            })?),
            None => None,
        };
    // As the kernel's mount table will name it.
    let canonical = std::fs::canonicalize(mountpoint).unwrap_or_else(|_| mountpoint.to_owned());
    let mounted = strata_fuse::mount(&client, &options, mountpoint).await.map_err(|e| {
        match e.downcast::<strata_core::Error>() {
            // The server's answer keeps its kind, and so its exit code.
            Ok(e) => Failure::from(e.context("cannot mount")),
            Err(e) => Failure::from(e.context("cannot mount")),
        }
    })?;
    if let Some(listener) = metrics {
        tokio::spawn(serve_metrics(listener, mounted.metrics()));
    }
    let record = MountRecord {
        pid: std::process::id(),
        started: crate::mounts::start_time(std::process::id()).unwrap_or_default(),
        volume: volume.to_owned(),
        subpath: subpath.to_owned(),
        mountpoint: canonical,
        read_only: options.read_only,
        cache_dir: options.cache_dir.clone(),
        cache_size: options.cache_size,
        log_file: notify.then(|| log_file(args, mountpoint)),
    };
    // `strata status` reads it; a mount without one still works.
    let _record = record
        .write()
        .inspect_err(|e| tracing::warn!("cannot write the mount record: {e}"));
    if notify {
        println!("ready");
        let _ = std::io::stdout().flush();
        detach_stdout();
    } else {
        eprintln!("strata: mounted {} at {}", args.source, mountpoint.display());
    }
    let target = mountpoint.to_owned();
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        let _ = unmount(&target, libc::MNT_DETACH);
    });
    mounted.wait().await;
    Ok(())
}

/// Answers `GET /metrics` with the mount's metrics in the Prometheus text format.
async fn serve_metrics(listener: tokio::net::TcpListener, render: impl Fn() -> String + Send + Sync + 'static) {
    let render = std::sync::Arc::new(render);
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let text = render();
            async move {
                let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                ([(axum::http::header::CONTENT_TYPE, kind)], text)
            }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!("metrics endpoint stopped: {e}");
    }
}

/// Points stdout at /dev/null once the parent has read the readiness line.
fn detach_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto our own stdout with a valid, open descriptor.
        unsafe { libc::dup2(null.as_raw_fd(), 1) };
    }
}

/// Where mounts keep blocks unless told otherwise: `~/.cache/strata`.
pub fn default_cache_dir() -> PathBuf {
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("strata")
}

fn cache_dir(args: &MountArgs) -> PathBuf {
    args.cache_dir.clone().unwrap_or_else(default_cache_dir)
}

/// The log of a background mount: one file per mount point.
fn log_file(args: &MountArgs, mountpoint: &Path) -> PathBuf {
    args.log_file.clone().unwrap_or_else(|| {
        let name = mountpoint.to_string_lossy().trim_start_matches('/').replace('/', "_");
        cache_dir(args).join("logs").join(format!("{name}.log"))
    })
}

/// Runs this same command in the background, logging to `log`, and returns once its mount is
/// ready.
fn spawn_background(log: &Path) -> CmdResult {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let log_out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| anyhow::anyhow!("cannot open the mount log {}: {e}", log.display()))?;
    let exe = std::env::current_exe()?;
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    args.push("--foreground".into());
    let mut cmd = Command::new(exe);
    cmd.args(&args)
        .env(NOTIFY_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_out);
    // SAFETY: setsid is async-signal-safe; it detaches the mount from this terminal.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no pipe to the mount process"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    match line.trim_end().split_once(' ').unwrap_or((line.trim_end(), "")) {
        ("ready", _) => {
            eprintln!("strata: mounted (log: {})", log.display());
            Ok(())
        }
        ("error", failure) => {
            let _ = child.wait();
            let (code, message) = failure.split_once(' ').unwrap_or(("1", failure));
            Err(Failure {
                message: message.to_owned(),
                code: code.parse().unwrap_or(1),
            })
        }
        _ => {
            let status = child.wait()?;
            Err(Failure::from(anyhow::anyhow!(
                "the mount process ended before the mount was ready ({status}); see {}",
                log.display()
            )))
        }
    }
}

fn unmount(path: &Path, flags: i32) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: umount2 with a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), flags) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// How long `umount` waits for a busy mount to become free: right after a program exits,
/// the kernel may still be sending the releases of its files.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// How long `umount` waits for the mount's process to close its session and end.
const SESSION_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Unmounts, trying again while the mount is busy for at most [`BUSY_WAIT`].
fn unmount_when_free(path: &Path) -> std::io::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_WAIT;
    loop {
        match unmount(path, 0) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

pub fn umount(args: UmountArgs) -> CmdResult {
    match mounted_at(&args.mountpoint) {
        None => {
            return Err(Error::invalid(
                "mountpoint",
                format!("{} is not a mount point", args.mountpoint.display()),
            )
            .into());
        }
        Some(entry) if !entry.is_strata() => {
            return Err(Error::invalid(
                "mountpoint",
                format!(
                    "{} is not a strata mount (it is {}): strata umount leaves it alone",
                    args.mountpoint.display(),
                    entry.fstype
                ),
            )
            .into());
        }
        Some(_) => {}
    }
    let process = crate::mounts::process_serving(&args.mountpoint);
    let unmounted = if args.lazy {
        unmount(&args.mountpoint, libc::MNT_DETACH)
    } else {
        unmount_when_free(&args.mountpoint)
    };
    match unmounted {
        // A mount that is gone from the kernel closes its session on its way out: waited
        // for, so that what comes next (deleting the volume or snapshot) sees no mount. A
        // lazy unmount ends when its last file closes, which may be much later.
        Ok(()) => {
            if let Some(process) = process.filter(|_| !args.lazy)
                && !crate::mounts::wait_for_end(&process, SESSION_CLOSE_WAIT)
            {
                eprintln!(
                    "strata: unmounted; its process (pid {}) has not ended yet: its session closes within the server's lease",
                    process.pid
                );
            }
            Ok(())
        }
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Err(Failure::from(Error::new(
            strata_core::ErrorKind::Conflict,
            format!(
                "{} is busy: close the files and shells open under it first (or `strata umount --lazy` to detach it now)",
                args.mountpoint.display()
            ),
        ))),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Err(Error::invalid(
            "mountpoint",
            format!("{} is not a mount point", args.mountpoint.display()),
        )
        .into()),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            let flag = if args.lazy { "-uz" } else { "-u" };
            let status = Command::new("fusermount3").arg(flag).arg(&args.mountpoint).status()?;
            if status.success() {
                Ok(())
            } else {
                Err(Failure::from(anyhow::anyhow!("fusermount3 -u failed ({status})")))
            }
        }
        Err(e) => Err(Failure::from(anyhow::anyhow!(
            "cannot unmount {}: {e}",
            args.mountpoint.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
