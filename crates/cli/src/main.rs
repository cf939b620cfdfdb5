//! The `strata` command: wiring of the server, the client and the terminal.

mod commands;
mod output;
mod target;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use strata_core::ErrorKind;

#[derive(Parser)]
#[command(
    name = "strata",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("STRATA_COMMIT"), ")"),
    about = "Persistent, forkable, shareable volumes for ephemeral sandboxes"
)]
struct Cli {
    /// Server URL, or several separated by commas [default: from `strata login`, else the local server's address]
    #[arg(long, global = true, env = "STRATA_ENDPOINT")]
    endpoint: Option<String>,
    /// API key [default: from `strata login`, else the local server's admin.token]
    #[arg(long, global = true, env = "STRATA_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print results as JSON
    #[arg(long, global = true)]
    json: bool,
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
    #[command(subcommand)]
    Ctx(commands::ctx::CtxCommand),
    /// Create, find, list and delete volumes
    #[command(subcommand)]
    Volume(commands::volume::VolumeCommand),
    /// Work with files in a volume without mounting it (paths are VOLUME:/path)
    #[command(subcommand)]
    Fs(commands::fs::FsCommand),
    /// Make NEW a copy of SOURCE (a volume or VOLUME@SNAPSHOT) at once, at any size
    Fork {
        /// The volume or snapshot (VOLUME@NAME) to copy
        source: String,
        /// The new volume's name
        new: String,
    },
    /// Create, list, delete and restore read-only snapshots (VOLUME@NAME)
    #[command(subcommand)]
    Snapshot(commands::forks::SnapshotCommand),
    /// Paths added (+), removed (-) and changed (M) from A to B
    Diff {
        /// A volume or snapshot (VOLUME@NAME)
        from: String,
        /// Another volume or snapshot, compared with FROM
        to: String,
    },
    /// Mount a volume, VOLUME:SUBPATH or a snapshot VOLUME@NAME at an empty directory
    Mount(commands::mount::MountArgs),
    /// Unmount a strata mount
    Umount(commands::mount::UmountArgs),
    /// Start, use and delete sandboxes: process trees with volumes mounted in them
    #[command(subcommand)]
    Sandbox(commands::sandbox::SandboxCommand),
    /// Create and list organizations (admin keys only)
    #[command(subcommand)]
    Org(commands::keys::OrgCommand),
    /// Make, list and revoke API keys
    #[command(subcommand)]
    Key(commands::keys::KeyCommand),
    /// Make tokens that reach only one volume folder, perhaps only to read, for a while
    #[command(subcommand)]
    Token(commands::keys::TokenCommand),
    /// Reclaim storage no volume uses any more
    Gc {
        /// Only say what a pass would delete now
        #[arg(long)]
        dry_run: bool,
    },
    /// Check every volume's tree against the stored blocks and its counters
    Fsck {
        /// Mend what is found: broken entries go, chunks of missing blocks read as zeros,
        /// counters are recounted
        #[arg(long)]
        repair: bool,
    },
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

impl From<strata_core::Error> for Failure {
    fn from(e: strata_core::Error) -> Self {
        let code = match e.kind {
            ErrorKind::InvalidInput | ErrorKind::NameTooLong => 2,
            ErrorKind::NotFound | ErrorKind::NoSuchAttribute => 3,
            ErrorKind::AlreadyExists | ErrorKind::Conflict | ErrorKind::Stale | ErrorKind::Locked => 4,
            ErrorKind::Unauthorized | ErrorKind::PermissionDenied | ErrorKind::ReadOnly => 5,
            ErrorKind::Unavailable => 6,
            _ => 1,
        };
        Failure {
            message: e.message,
            code,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            message: format!("{e:#}"),
            code: 1,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let code = match e.kind() {
            Io::NotFound => 3,
            Io::AlreadyExists => 4,
            Io::PermissionDenied | Io::ReadOnlyFilesystem => 5,
            _ => 1,
        };
        Failure {
            message: e.to_string(),
            code,
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
    let client = || strata_client::Client::from_env(cli.endpoint.clone(), cli.token.clone());
    let out = output::Output { json: cli.json };
    match cli.command {
        Command::Server(args) => commands::server::run(args).await,
        Command::Login(args) => commands::login::run(args, cli.endpoint, cli.token, &out).await,
        Command::Fork { source, new } => commands::forks::fork(&client()?, &source, &new, &out).await,
        Command::Snapshot(cmd) => commands::forks::snapshot(cmd, &client()?, &out).await,
        Command::Diff { from, to } => commands::forks::diff(&client()?, &from, &to, &out).await,
        Command::Mount(args) => commands::mount::mount(args, cli.endpoint, cli.token).await,
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
        Command::Ctx(cmd) => commands::ctx::run(cmd, cli.endpoint, cli.token, &out).await,
        Command::Volume(cmd) => commands::volume::run(cmd, &client()?, &out).await,
        Command::Fs(cmd) => commands::fs::run(cmd, &client()?, &out).await,
        Command::Sandbox(cmd) => commands::sandbox::run(cmd, &client()?, &out).await,
        Command::Org(cmd) => commands::keys::org(cmd, &client()?, &out).await,
        Command::Key(cmd) => commands::keys::key(cmd, &client()?, &out).await,
        Command::Token(cmd) => commands::keys::token(cmd, &client()?, &out).await,
        Command::Gc { dry_run } => {
            let report = client()?.gc(dry_run).await?;
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
        Command::Fsck { repair } => {
            let report = client()?.fsck(repair).await?;
            out.print(&report, || {
                let mut text = format!(
                    "checked {} volumes, {} inodes, {} blocks: {} problems{}; {} layers to collect",
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
