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
            .map(|c| format!("{} {}", diff_mark(&c.change), c.path))
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

/// Which side a merge takes where both changed a path.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Side {
    Fork,
    Volume,
}

pub async fn promote(client: &Client, fork: &str, out: &Output) -> CmdResult {
    let v = client.promote(fork).await?;
    out.print(&v, || {
        format!(
            "{} now holds the tree of {fork}; its own last tree is kept as a snapshot (strata snapshot list {})",
            v.name, v.name
        )
    })
}

pub async fn merge(
    client: &Client,
    fork: &str,
    into: Option<String>,
    prefer: Option<Side>,
    dry_run: bool,
    out: &Output,
) -> CmdResult {
    let request = strata_core::api::MergeRequest {
        into,
        prefer: prefer.map(|p| match p {
            Side::Fork => strata_core::api::Prefer::Fork,
            Side::Volume => strata_core::api::Prefer::Volume,
        }),
        dry_run,
    };
    let report = client.merge(fork, &request).await?;
    let mark = |c: &Change| match c {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
    };
    out.print(&report, || {
        let mut lines: Vec<String> = report
            .changes
            .iter()
            .map(|c| format!("{} {}", diff_mark(&c.change), c.path))
            .collect();
        for c in &report.conflicts {
            lines.push(format!(
                "! {}: the fork {} it, the volume {} it",
                c.path,
                mark(&c.fork),
                mark(&c.volume)
            ));
        }
        lines.push(match (report.applied, dry_run, report.conflicts.is_empty()) {
            (true, _, _) => format!("merged {} change(s)", report.changes.len()),
            (false, true, _) => "dry run: nothing applied".to_owned(),
            (false, false, _) => {
                "nothing applied: paths both sides changed; choose with --prefer fork or --prefer volume".to_owned()
            }
        });
        lines.join("\n")
    })?;
    if !report.applied && !dry_run {
        return Err(strata_core::Error::new(
            strata_core::ErrorKind::Conflict,
            format!("{} conflict(s); nothing merged", report.conflicts.len()),
        )
        .into());
    }
    Ok(())
}

fn diff_mark(change: &Change) -> char {
    match change {
        Change::Added => '+',
        Change::Removed => '-',
        Change::Changed => 'M',
    }
}
