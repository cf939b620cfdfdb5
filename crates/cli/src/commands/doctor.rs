//! `strata doctor`: checks what mounts and commands need, one line each, with the fix.

use crate::output::{Output, bytes};
use crate::{CmdResult, Failure};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};
use strata_core::ErrorKind;

/// Clocks further apart than this make lease and collection times misleading.
const MAX_SKEW_SECS: f64 = 5.0;
/// Less free space than this under the cache folder leaves a mount little room for blocks.
const MIN_FREE_BYTES: u64 = 1 << 30;

#[derive(Args)]
pub struct DoctorArgs {
    /// The block cache folder to check [default: ~/.cache/strata, as `strata mount` uses]
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    out: Output,
    #[command(flatten)]
    remote: crate::remote::Remote,
}

#[derive(Serialize)]
struct Check {
    check: &'static str,
    ok: bool,
    detail: String,
    /// How to fix a failed check.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'static str>,
}

fn check(check: &'static str, result: Result<String, (String, &'static str)>) -> Check {
    match result {
        Ok(detail) => Check {
            check,
            ok: true,
            detail,
            fix: None,
        },
        Err((detail, fix)) => Check {
            check,
            ok: false,
            detail,
            fix: Some(fix),
        },
    }
}

fn fuse_device() -> Result<String, (String, &'static str)> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map(|_| "/dev/fuse opens".to_owned())
        .map_err(|e| {
            (
                format!("/dev/fuse: {e}"),
                "load the module (modprobe fuse); in a container, run it with --device /dev/fuse --cap-add SYS_ADMIN",
            )
        })
}

fn fusermount() -> Result<String, (String, &'static str)> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("fusermount3"))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .map(|p| format!("{}", p.display()))
        .ok_or_else(|| {
            (
                "fusermount3 is not on the PATH".to_owned(),
                "install fuse3 (apt-get install fuse3)",
            )
        })
}

fn cache_space(dir: &Path) -> Result<String, (String, &'static str)> {
    const FIX: &str = "free space there, or give mounts --cache-dir on a larger disk";
    // The folder may not exist before the first mount: check the nearest one that does.
    let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(Path::new("/"));
    let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(existing.as_os_str()))
        .map_err(|_| (format!("{} has a NUL byte", dir.display()), FIX))?;
    // SAFETY: statvfs on a NUL-terminated path into a zeroed struct it fills.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err((format!("{}: {e}", existing.display()), FIX));
    }
    let free = st.f_bavail as u64 * st.f_frsize as u64;
    let detail = format!("{} free under {}", bytes(free), dir.display());
    if free >= MIN_FREE_BYTES {
        Ok(detail)
    } else {
        Err((format!("only {detail}"), FIX))
    }
}

pub async fn run(args: DoctorArgs) -> CmdResult {
    let client = args.remote.client()?;
    const SERVER_FIX: &str = "start it (strata server), or point at it with --endpoint or STRATA_ENDPOINT";
    const KEY_FIX: &str = "set STRATA_TOKEN, or run strata login --endpoint URL --token KEY";
    let mut checks = vec![check("fuse device", fuse_device()), check("fusermount3", fusermount())];
    let asked = std::time::SystemTime::now();
    let health = client.health().await;
    let answered = std::time::SystemTime::now();
    let endpoint = client.endpoint().to_owned();
    match &health {
        Ok(h) => {
            checks.push(check(
                "server",
                Ok(format!("{endpoint} answers (strata {})", h.version)),
            ));
            // The server's clock against the middle of the request, seen from here.
            let ns = |t: std::time::SystemTime| {
                t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos() as f64
            };
            let skew = (h.time_ns as f64 - (ns(asked) + ns(answered)) / 2.0) / 1e9;
            let detail = format!("the server's clock is {skew:+.3} s from this machine's");
            checks.push(check(
                "clock",
                if skew.abs() <= MAX_SKEW_SECS {
                    Ok(detail)
                } else {
                    Err((detail, "synchronise both clocks (NTP, e.g. timedatectl set-ntp true)"))
                },
            ));
            let key = match client.whoami().await {
                Ok(w) => Ok(format!(
                    "key {} of organization {} ({})",
                    w.key_name, w.organization, w.role
                )),
                Err(e) if e.kind == ErrorKind::Unauthorized => Err((e.message, KEY_FIX)),
                Err(e) => Err((format!("cannot check the key: {}", e.message), SERVER_FIX)),
            };
            checks.push(check("key", key));
        }
        Err(e) => {
            checks.push(check("server", Err((e.message.clone(), SERVER_FIX))));
            let unknown = || (format!("cannot check: no answer from {endpoint}"), SERVER_FIX);
            checks.push(check("clock", Err(unknown())));
            checks.push(check("key", Err(unknown())));
        }
    }
    let cache = args.cache_dir.unwrap_or_else(super::mount::default_cache_dir);
    checks.push(check("cache space", cache_space(&cache)));
    let failed: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.check).collect();
    args.out.print(&checks, || {
        let lines: Vec<String> = checks
            .iter()
            .map(|c| match c.fix {
                None => format!("ok    {}: {}", c.check, c.detail),
                Some(fix) => format!("FAIL  {}: {}; fix: {fix}", c.check, c.detail),
            })
            .collect();
        lines.join("\n")
    })?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            message: format!("failed: {}", failed.join(", ")),
            code: 1,
        })
    }
}
