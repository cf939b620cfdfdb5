use crate::CmdResult;
use crate::output::{Output, bytes, time};
use clap::Subcommand;
use strata_client::Client;
use strata_core::api::Volume;

/// `strata volume ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct VolumeArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: VolumeCommand,
}

#[derive(Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create {
        /// 1 to 63 characters of a-z, 0-9, '.', '_' and '-', not starting with '.' or '-'
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Show a volume by name or id
    Get {
        /// The volume: its name or id
        volume: String,
        /// Create it if it does not exist
        #[arg(long)]
        create: bool,
        /// Also show the blocks it names and the bytes the store keeps for them (reads all
        /// its chunks)
        #[arg(long)]
        usage: bool,
        #[command(flatten)]
        out: Output,
    },
    /// List volumes
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Give a volume a new name (its snapshots follow: OLD@s becomes NEW@s)
    Rename {
        /// The volume: its name or id
        volume: String,
        /// Its new name
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Set a volume's quota: writes that would pass it fail (EDQUOT on a mount)
    Set {
        /// The volume: its name or id
        volume: String,
        /// The most bytes its files may hold (e.g. 10G), or `none`
        #[arg(long, value_parser = bound_of_size)]
        quota: Option<Bound>,
        /// The most files, directories and links it may hold, or `none`
        #[arg(long, value_parser = bound_of_count)]
        max_files: Option<Bound>,
        /// How long it keeps its past (e.g. 24h, 7d; 0 for not at all; `default` for the server's)
        #[arg(long)]
        history: Option<String>,
        /// How the blocks it stores from now on are compressed: off, zstd, zstd:LEVEL (1 to 19), or `default` for the server's
        #[arg(long)]
        compression: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Return a volume to a moment of its history, in one change (mounts see it at once)
    Restore {
        /// The volume: its name or id
        volume: String,
        /// The moment: RFC 3339 (2026-12-04T05:00:00Z) or a time before now (-10m, -2h)
        #[arg(long)]
        to: String,
        #[command(flatten)]
        out: Output,
    },
    /// Delete a volume, its snapshots and everything in them (refused while mounted)
    Delete {
        /// The volume: its name or id
        volume: String,
        /// Delete even while mounted: its mounts fail from then on
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        out: Output,
    },
}

/// A bound given on the command line: a number, or `none` for no bound.
#[derive(Clone, Copy)]
pub struct Bound(pub Option<u64>);

pub fn bound_of_size(s: &str) -> Result<Bound, String> {
    match s {
        "none" => Ok(Bound(None)),
        _ => super::mount::parse_size(s).map(|n| Bound(Some(n))),
    }
}

fn bound_of_count(s: &str) -> Result<Bound, String> {
    match s {
        "none" => Ok(Bound(None)),
        _ => s
            .parse()
            .map(|n| Bound(Some(n)))
            .map_err(|_| format!("invalid count {s:?}: expected a whole number or `none`")),
    }
}

/// What of a quota there is: `of` a count, or `-`.
fn of(bound: Option<u64>, show: impl Fn(u64) -> String) -> String {
    bound.map_or_else(|| "-".to_owned(), show)
}

fn describe(v: &Volume) -> String {
    format!(
        "name:     {}\nid:       {}\nstate:    {:?}\nused:     {} of {}\nfiles:    {} of {}\ncompress: {}\ncreated:  {}\nupdated:  {}",
        v.name,
        v.id,
        v.state,
        bytes(v.used_bytes),
        of(v.quota_bytes, bytes),
        v.file_count,
        of(v.quota_files, |n| n.to_string()),
        v.compression.as_deref().unwrap_or("as the server says"),
        time(v.created_at),
        time(v.updated_at)
    )
}

/// A volume with what the store keeps for it (`volume get --usage`).
#[derive(serde::Serialize)]
struct WithUsage {
    #[serde(flatten)]
    volume: Volume,
    store: strata_core::api::StoreUsage,
}

pub async fn run(cmd: VolumeCommand, client: &Client) -> CmdResult {
    match cmd {
        VolumeCommand::Create { name, out } => {
            let v = client.create_volume(&name, false).await?;
            out.print(&v, || describe(&v))
        }
        VolumeCommand::Get {
            volume,
            create,
            usage,
            out,
        } => {
            let v = if create {
                client.create_volume(&volume, true).await?
            } else {
                client.get_volume(&volume).await?
            };
            if !usage {
                return out.print(&v, || describe(&v));
            }
            let store = client.volume_usage(&v.id.to_string()).await?;
            let shown = WithUsage { volume: v, store };
            out.print(&shown, || {
                let s = &shown.store;
                let ratio = if s.bytes == 0 {
                    1.0
                } else {
                    s.stored_bytes as f64 / s.bytes as f64
                };
                format!(
                    "{}\nstore:    {} blocks, {} uncompressed, {} stored ({ratio:.2}×)",
                    describe(&shown.volume),
                    s.blocks,
                    bytes(s.bytes),
                    bytes(s.stored_bytes)
                )
            })
        }
        VolumeCommand::List { out } => {
            let volumes = client.list_volumes().await?;
            out.print(&volumes, || {
                let mut text = format!(
                    "{:<24} {:<36} {:>10} {:>10} {:>8} {:>10}  CREATED",
                    "NAME", "ID", "USED", "QUOTA", "FILES", "MAX FILES"
                );
                for v in &volumes {
                    text += &format!(
                        "\n{:<24} {:<36} {:>10} {:>10} {:>8} {:>10}  {}",
                        v.name,
                        v.id,
                        bytes(v.used_bytes),
                        of(v.quota_bytes, bytes),
                        v.file_count,
                        of(v.quota_files, |n| n.to_string()),
                        time(v.created_at)
                    );
                }
                text
            })
        }
        VolumeCommand::Rename { volume, name, out } => {
            let v = client.rename_volume(&volume, &name).await?;
            out.print(&v, || describe(&v))
        }
        VolumeCommand::Set {
            volume,
            quota,
            max_files,
            history,
            compression,
            out,
        } => {
            if quota.is_none() && max_files.is_none() && history.is_none() && compression.is_none() {
                let msg = "say what to set: --quota, --max-files, --history and/or --compression";
                return Err(strata_core::Error::invalid("quota", msg).into());
            }
            let mut set = None;
            if let Some(keep) = &history {
                set = Some(
                    client
                        .set_history(&volume, (keep != "default").then_some(keep.as_str()))
                        .await?,
                );
            }
            if let Some(c) = &compression {
                set = Some(
                    client
                        .set_compression(&volume, (c != "default").then_some(c.as_str()))
                        .await?,
                );
            }
            if quota.is_none() && max_files.is_none() {
                let v = set.expect("something was set");
                return out.print(&v, || describe(&v));
            }
            // What is not given stays as it is.
            let current = client.get_volume(&volume).await?;
            let bounds = strata_core::api::Quota {
                bytes: quota.map_or(current.quota_bytes, |b| b.0),
                files: max_files.map_or(current.quota_files, |b| b.0),
            };
            let v = client.set_quota(&volume, bounds).await?;
            out.print(&v, || describe(&v))
        }
        VolumeCommand::Restore { volume, to, out } => {
            let v = client.restore_to(&volume, &to).await?;
            out.print(&v, || format!("restored {volume} to {to}"))
        }
        VolumeCommand::Delete { volume, force, out } => {
            client.delete_volume(&volume, force).await?;
            out.print(&serde_json::json!({ "deleted": volume }), || {
                format!("deleted volume {volume}")
            })
        }
    }
}
