//! Outbound network for the sandboxes that ask for it (`network: outbound`): pasta (from
//! passt) gives the sandbox's own network namespace an interface whose traffic leaves through
//! the host's sockets, as the server's user's connections would.
//!
//! What that exposes, and what it does not: connections go out to any address the host
//! reaches (other machines, the host's other interfaces, private networks); the host's
//! loopback is not reachable (`--no-map-gw`), nor are link-local addresses (cloud metadata
//! services hand out the host's credentials there: blackhole routes the sandbox, without
//! capabilities, cannot remove), the host's own address is the sandbox's own inside, and no
//! port of the host is forwarded in or out (`-t/-u/-T/-U none`). pasta ends by itself when
//! the namespace does.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;
use strata_core::{Error, ErrorKind, Result};

/// Routes the sandbox's namespace never takes: link-local (169.254.169.254 and the like) and
/// the IPv6 metadata address.
const BLACKHOLES: [&str; 2] = ["169.254.0.0/16", "fd00:ec2::254/128"];

/// Connects the network namespace `netns` (an open `/proc/PID/ns/net`) to the outside.
pub async fn connect_outbound(netns: OwnedFd, log: &Path) -> Result<()> {
    let routes = netns
        .try_clone()
        .map_err(|e| Error::internal(format!("cannot reach the sandbox's network: {e}")))?;
    let stderr =
        std::fs::File::create(log).map_err(|e| Error::internal(format!("cannot open {}: {e}", log.display())))?;
    let mut cmd = tokio::process::Command::new("pasta");
    cmd.env_clear()
        .args(["--runas", "0", "--quiet", "--config-net", "--netns", "/proc/self/fd/3"])
        .args(["--no-map-gw", "-t", "none", "-u", "none", "-T", "none", "-U", "none"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    super::runtime::pass_fds(&mut cmd, vec![netns]);
    // pasta returns once the interface is up and goes on in the background.
    let status = cmd.status().await.map_err(|e| {
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot run pasta (install the passt package for outbound networks): {e}"),
        )
    })?;
    if !status.success() {
        let why = std::fs::read_to_string(log).unwrap_or_default();
        return Err(Error::internal(format!(
            "cannot give the sandbox a network: {}",
            why.trim()
        )));
    }
    for (i, prefix) in BLACKHOLES.iter().enumerate() {
        let mut ip = tokio::process::Command::new("nsenter");
        ip.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .args(["--net=/proc/self/fd/3", "--", "ip", "route", "add", "blackhole", prefix])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let fd = routes.try_clone().map_err(|e| Error::internal(e.to_string()))?;
        super::runtime::pass_fds(&mut ip, vec![fd]);
        let added = ip
            .status()
            .await
            .map_err(|e| Error::internal(format!("cannot run nsenter: {e}")))?;
        // IPv6 may be off in the namespace; the IPv4 route must be there.
        if !added.success() && i == 0 {
            return Err(Error::internal(
                "cannot close the sandbox's network to link-local addresses",
            ));
        }
    }
    Ok(())
}
