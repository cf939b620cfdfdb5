//! The `strata` command: wiring of the server, the client and the terminal.

mod commands;
mod mounts;
mod output;
mod remote;
mod target;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use strata_core::ErrorKind;

/// This binary's version and the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("STRATA_COMMIT"), ")");

#[derive(Parser)]
#[command(
    name = "strata",
    version = VERSION,
    about = "Persistent, forkable, shareable volumes for ephemeral sandboxes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server on the embedded defaults (SQLite and a local block folder)
    Server(commands::server::ServerArgs),
    /// Remember a server and an API key for later commands
    Login(commands::login::LoginArgs),
    /// Named volumes to work on, each maybe on its own server; `use` makes one current
    Ctx(commands::ctx::CtxArgs),
    /// Create, find, list and delete volumes
    Volume(commands::volume::VolumeArgs),
    /// Work with files in a volume without mounting it (paths are VOLUME:/path)
    Fs(commands::fs::FsArgs),
    /// Make NEW a copy of SOURCE (a volume or VOLUME@SNAPSHOT) at once, at any size
    Fork {
        /// The volume or snapshot (VOLUME@NAME) to copy
        source: String,
        /// The new volume's name
        new: String,
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// Create, list, delete and restore read-only snapshots (VOLUME@NAME)
    Snapshot(commands::forks::SnapshotArgs),
    /// Make a fork its source volume (same name and id: its mounts see the fork's tree); the
    /// source's last tree is kept as the snapshot SOURCE@before-promote-SECONDS
    Promote {
        /// The fork
        fork: String,
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// Apply a fork's changes since it was made to its source as it is now, in one change;
    /// paths both changed are conflicts, listed, and nothing is applied unless --prefer says
    Merge {
        /// The fork
        fork: String,
        /// The volume to merge into (default: the one it was forked from)
        #[arg(long)]
        into: Option<String>,
        /// Where both changed a path, take the fork's side or the volume's
        #[arg(long, value_enum)]
        prefer: Option<commands::forks::Side>,
        /// Only report what would be merged and the conflicts
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// The windows of changes a volume's history keeps, newest first: each BEFORE time names
    /// the volume just before them (VOLUME@TIME: mount, fork, diff, fs, `volume restore --to`)
    History {
        /// The volume: its name or id
        volume: String,
        /// Most windows shown
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// Paths added (+), removed (-) and changed (M) from A to B
    Diff {
        /// A volume or snapshot (VOLUME@NAME)
        from: String,
        /// Another volume or snapshot, compared with FROM
        to: String,
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// Mount a volume, VOLUME:SUBPATH or a snapshot VOLUME@NAME at an empty directory
    Mount(commands::mount::MountArgs),
    /// Unmount a strata mount
    Umount(commands::mount::UmountArgs),
    /// Start, use and delete sandboxes: process trees with volumes mounted in them
    Sandbox(commands::sandbox::SandboxArgs),
    /// Create and list organizations (admin keys only)
    Org(commands::keys::OrgArgs),
    /// Make, list and revoke API keys
    Key(commands::keys::KeyArgs),
    /// Make tokens that reach only one volume folder, perhaps only to read, for a while
    Token(commands::keys::TokenArgs),
    /// Reclaim storage no volume uses any more
    Gc {
        /// Only say what a pass would delete now
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// Check every volume's tree against the stored blocks and its counters
    Fsck {
        /// Mend what is found: broken entries go, chunks of missing blocks read as zeros,
        /// counters are recounted
        #[arg(long)]
        repair: bool,
        /// Also read every stored block back, decode it and check it against its name
        /// (reports damage per block; never repaired)
        #[arg(long)]
        blocks: bool,
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// The server, this key's identity, and the strata mounts of this machine
    Status {
        #[command(flatten)]
        out: output::Output,
        #[command(flatten)]
        remote: crate::remote::Remote,
    },
    /// Check what mounts and commands need, and say how to fix what is missing
    Doctor(commands::doctor::DoctorArgs),
    /// Print a completion script for a shell, e.g. `strata completions bash > /etc/bash_completion.d/strata`
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

/// What the command failed with, and how it exits.
pub struct Failure {
    message: String,
    code: u8,
}

/// The exit code of each error kind: the same for every command.
fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::NameTooLong | ErrorKind::TooLarge => 2,
        ErrorKind::NotFound | ErrorKind::NoSuchAttribute | ErrorKind::VolumeGone => 3,
        ErrorKind::AlreadyExists
        | ErrorKind::Conflict
        | ErrorKind::Stale
        | ErrorKind::Locked
        | ErrorKind::NotADirectory
        | ErrorKind::IsADirectory
        | ErrorKind::DirectoryNotEmpty => 4,
        ErrorKind::Unauthorized
        | ErrorKind::PermissionDenied
        | ErrorKind::ReadOnly
        | ErrorKind::LimitExceeded
        | ErrorKind::QuotaExceeded => 5,
        ErrorKind::Unavailable => 6,
        ErrorKind::Internal => 1,
    }
}

fn io_exit_code(e: &std::io::Error) -> u8 {
    use std::io::ErrorKind as Io;
    match e.kind() {
        Io::NotFound => 3,
        Io::AlreadyExists => 4,
        Io::PermissionDenied | Io::ReadOnlyFilesystem => 5,
        _ => 1,
    }
}

impl From<strata_core::Error> for Failure {
    fn from(e: strata_core::Error) -> Self {
        Failure {
            code: exit_code(e.kind),
            message: e.message,
        }
    }
}

impl From<anyhow::Error> for Failure {
    /// The code of the first error of a known kind in the chain (e.g. under "cannot mount").
    fn from(e: anyhow::Error) -> Self {
        let code = e
            .chain()
            .find_map(|cause| {
                cause
                    .downcast_ref::<strata_core::Error>()
                    .map(|e| exit_code(e.kind))
                    .or_else(|| cause.downcast_ref::<std::io::Error>().map(io_exit_code))
            })
            .unwrap_or(1);
        Failure {
            message: format!("{e:#}"),
            code,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure {
            code: io_exit_code(&e),
            message: e.to_string(),
        }
    }
}

impl Failure {
    /// Exits with `code` (clamped to 1..=255) and no message: the command said why.
    pub fn exit_quietly(code: i32) -> Self {
        Failure {
            message: String::new(),
            code: code.clamp(1, 255) as u8,
        }
    }

    /// A local file error, naming the file, with the exit code of its kind.
    pub fn local(path: &std::path::Path, e: std::io::Error) -> Self {
        let mut failure = Failure::from(e);
        failure.message = format!("{}: {}", path.display(), failure.message);
        failure
    }
}

pub type CmdResult = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strata: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("strata: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

async fn run(cli: Cli) -> CmdResult {
    match cli.command {
        Command::Server(args) => commands::server::run(args).await,
        Command::Login(args) => commands::login::run(args).await,
        Command::Fork {
            source,
            new,
            out,
            remote,
        } => commands::forks::fork(&remote.client()?, &source, &new, &out).await,
        Command::Snapshot(args) => commands::forks::snapshot(args.command, &args.remote.client()?).await,
        Command::Promote { fork, out, remote } => commands::forks::promote(&remote.client()?, &fork, &out).await,
        Command::Merge {
            fork,
            into,
            prefer,
            dry_run,
            out,
            remote,
        } => commands::forks::merge(&remote.client()?, &fork, into, prefer, dry_run, &out).await,
        Command::History {
            volume,
            limit,
            out,
            remote,
        } => commands::forks::history(&remote.client()?, &volume, limit, &out).await,
        Command::Diff { from, to, out, remote } => commands::forks::diff(&remote.client()?, &from, &to, &out).await,
        Command::Status { out, remote } => commands::status::run(&remote.client()?, &out).await,
        Command::Doctor(args) => commands::doctor::run(args).await,
        Command::Mount(args) => commands::mount::mount(args).await,
        Command::Umount(args) => commands::mount::umount(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            use std::io::Write;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "strata", &mut script);
            // A closed pipe (`| head`) is no failure worth a message.
            let _ = std::io::stdout().write_all(&script);
            Ok(())
        }
        Command::Ctx(args) => commands::ctx::run(args).await,
        Command::Volume(args) => commands::volume::run(args.command, &args.remote.client()?).await,
        Command::Fs(args) => commands::fs::run(args.command, &args.remote.client()?).await,
        Command::Sandbox(args) => commands::sandbox::run(args.command, &args.remote.client()?).await,
        Command::Org(args) => commands::keys::org(args.command, &args.remote.client()?).await,
        Command::Key(args) => commands::keys::key(args.command, &args.remote.client()?).await,
        Command::Token(args) => commands::keys::token(args.command, &args.remote.client()?).await,
        Command::Gc { dry_run, out, remote } => {
            let report = remote.client()?.gc(dry_run).await?;
            out.print(&report, || {
                format!(
                    "{} {} blocks ({}) and {} layers",
                    if dry_run { "would delete" } else { "deleted" },
                    report.blocks_deleted,
                    output::bytes(report.bytes_deleted),
                    report.layers_deleted
                )
            })
        }
        Command::Fsck {
            repair,
            blocks,
            out,
            remote,
        } => {
            let report = remote.client()?.fsck(repair, blocks).await?;
            out.print(&report, || {
                let read = if blocks {
                    format!(" ({} read back whole)", report.blocks_read)
                } else {
                    String::new()
                };
                let mut text = format!(
                    "checked {} volumes, {} inodes, {} blocks{read}: {} problems{}; {} layers to collect",
                    report.volumes,
                    report.inodes,
                    report.blocks,
                    report.problems.len(),
                    if report.repaired && !report.problems.is_empty() {
                        " (repaired)"
                    } else {
                        ""
                    },
                    report.collectable_layers
                );
                for p in &report.problems {
                    text.push_str(&format!("\n{} {}: {}", p.kind, p.volume, p.detail));
                }
                text
            })?;
            if report.problems.is_empty() || report.repaired {
                Ok(())
            } else {
                Err(Failure {
                    message: format!(
                        "{} problems found; `strata fsck --repair` mends them",
                        report.problems.len()
                    ),
                    code: 1,
                })
            }
        }
    }
}
