//! `strata status`: the server, who this key is, and the strata mounts of this machine.

use crate::mounts::{LocalMount, local_mounts};
use crate::output::{Output, bytes};
use crate::{CmdResult, Failure};
use serde::Serialize;
use strata_client::Client;
use strata_core::api::{Health, Org, Whoami};

#[derive(Serialize)]
struct Status {
    endpoint: String,
    client_version: &'static str,
    /// The server's answer to `GET /v1/health`, or why there was none.
    server: Option<Health>,
    server_error: Option<String>,
    identity: Option<Whoami>,
    identity_error: Option<String>,
    /// The key's organization with its usage and quota (not for a scoped token).
    organization: Option<Org>,
    mounts: Vec<LocalMount>,
}

fn describe(s: &Status) -> String {
    let mut text = match (&s.server, &s.server_error) {
        (Some(h), _) => format!("server:   {} (strata {}), reachable", s.endpoint, h.version),
        (None, e) => format!("server:   {}", e.as_deref().unwrap_or_default()),
    };
    text += &match (&s.identity, &s.identity_error) {
        (Some(w), _) => format!(
            "\nkey:      {} (organization {}, role {})",
            w.key_name, w.organization, w.role
        ),
        (None, e) => format!("\nkey:      {}", e.as_deref().unwrap_or_default()),
    };
    if let Some(o) = &s.organization {
        let quota = o
            .quota_bytes
            .map_or_else(|| "no quota".to_owned(), |q| format!("quota {}", bytes(q)));
        text += &format!("\nusage:    {} in volumes of {}, {quota}", bytes(o.used_bytes), o.name);
    }
    text += &format!("\nclient:   strata {}", s.client_version);
    if s.mounts.is_empty() {
        text += "\nmounts:   none";
    }
    for m in &s.mounts {
        let source = match &m.subpath {
            Some(sub) if !sub.is_empty() => format!("{}:{sub}", m.volume),
            _ => m.volume.clone(),
        };
        let mode = if m.read_only { "ro" } else { "rw" };
        text += &format!("\nmount:    {} {source} {mode}", m.mountpoint.display());
        match m.alive {
            Some(false) => {
                text += &format!(
                    " DEAD: its process is gone; run `strata umount {}`",
                    m.mountpoint.display()
                );
                continue;
            }
            None => text += " (no record: made by another strata version)",
            Some(true) => {}
        }
        if let Some(pid) = m.pid {
            text += &format!(" pid {pid}");
        }
        if let (Some(dir), Some(size), Some(used)) = (&m.cache_dir, m.cache_size, m.cache_used) {
            text += &format!(" cache {} of {} in {}", bytes(used), bytes(size), dir.display());
        }
    }
    text
}

pub async fn run(client: &Client, out: &Output) -> CmdResult {
    let (health, whoami) = tokio::join!(client.health(), client.whoami());
    let status = Status {
        endpoint: client.endpoint().to_owned(),
        client_version: crate::VERSION,
        server_error: health.as_ref().err().map(|e| e.message.clone()),
        server: health.ok(),
        identity_error: whoami.as_ref().err().map(|e| e.message.clone()),
        organization: match &whoami {
            Ok(w) => client.get_org(&w.organization).await.ok(),
            Err(_) => None,
        },
        identity: whoami.ok(),
        mounts: local_mounts(),
    };
    out.print(&status, || describe(&status))?;
    // Scripts ask `strata status` whether the server answers: the exit says so (the output
    // already said why).
    match status.server_error {
        Some(_) => Err(Failure::exit_quietly(6)),
        None => Ok(()),
    }
}
