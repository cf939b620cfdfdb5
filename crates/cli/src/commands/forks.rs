use crate::CmdResult;
use crate::output::{Output, bytes, time};
use clap::Subcommand;
use strata_client::Client;
use strata_core::api::{Change, Volume};

/// `strata snapshot ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: SnapshotCommand,
}

#[derive(Subcommand)]
pub enum SnapshotCommand {
    /// Freeze the volume's current content as VOLUME@NAME (read-only)
    Create {
        /// The volume: its name or id
        volume: String,
        /// The snapshot's name (same rules as a volume name)
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// List a volume's snapshots
    List {
        /// The volume: its name or id
        volume: String,
        #[command(flatten)]
        out: Output,
    },
    /// Delete a snapshot (refused while mounted)
    Delete {
        /// The volume: its name or id
        volume: String,
        /// The snapshot's name
        name: String,
        /// Delete even while mounted: its mounts fail from then on
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Return the volume to the snapshot: later changes are gone
    Restore {
        /// The volume: its name or id
        volume: String,
        /// The snapshot's name
        name: String,
        #[command(flatten)]
        out: Output,
    },
}

fn describe(v: &Volume) -> String {
    format!("{} ({}, {} files, {})", v.name, v.id, v.file_count, bytes(v.used_bytes))
}

pub async fn fork(client: &Client, source: &str, name: &str, out: &Output) -> CmdResult {
    let v = client.fork(source, name).await?;
    out.print(&v, || format!("forked {source} as {}", describe(&v)))
}

pub async fn snapshot(cmd: SnapshotCommand, client: &Client) -> CmdResult {
    match cmd {
        SnapshotCommand::Create { volume, name, out } => {
            let v = client.create_snapshot(&volume, &name).await?;
            out.print(&v, || format!("snapshot {}", describe(&v)))
        }
        SnapshotCommand::List { volume, out } => {
            let snaps = client.list_snapshots(&volume).await?;
            out.print(&snaps, || {
                let mut text = format!("{:<40} {:>10} {:>8}  CREATED", "SNAPSHOT", "USED", "FILES");
                for s in &snaps {
                    text += &format!(
                        "\n{:<40} {:>10} {:>8}  {}",
                        s.name,
                        bytes(s.used_bytes),
                        s.file_count,
                        time(s.created_at)
                    );
                }
                text
            })
        }
        SnapshotCommand::Delete {
            volume,
            name,
            force,
            out,
        } => {
            client.delete_snapshot(&volume, &name, force).await?;
            out.print(&serde_json::json!({ "deleted": format!("{volume}@{name}") }), || {
                format!("deleted {volume}@{name}")
            })
        }
        SnapshotCommand::Restore { volume, name, out } => {
            let v = client.restore_snapshot(&volume, &name).await?;
            out.print(&v, || format!("restored {volume} to {volume}@{name}"))
        }
    }
}

pub async fn diff(client: &Client, from: &str, to: &str, out: &Output) -> CmdResult {
    let changes = client.diff(from, to).await?;
    out.print(&changes, || {
        let lines: Vec<String> = changes
            .iter()
            .map(|c| {
                let mark = match c.change {
                    Change::Added => '+',
                    Change::Removed => '-',
                    Change::Changed => 'M',
                };
                format!("{mark} {}", c.path)
            })
            .collect();
        lines.join("\n")
    })
}

pub async fn history(client: &Client, volume: &str, limit: u64, out: &Output) -> CmdResult {
    let points = client.history(volume, limit).await?;
    out.print(&points, || {
        let mut text = format!("{:<36} {:>8} {:>10}  LAST CHANGE", "BEFORE", "CHANGES", "BYTES");
        for p in &points {
            text += &format!(
                "\n{:<36} {:>8} {:>10}  {}",
                strata_core::names::format_moment(p.before),
                p.changes,
                crate::output::bytes(p.bytes),
                strata_core::names::format_moment(p.last_change)
            );
        }
        text
    })
}
