use crate::output::{Output, bytes, mode, time};
use crate::target::Target;
use crate::{CmdResult, Failure};
use bytes::Bytes;
use clap::Subcommand;
use futures::{Stream, StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use strata_client::Client;
use strata_core::api::{DirEntry, FileKind, Stat};
use strata_core::{Error, ErrorKind};
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

/// `strata fs ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct FsArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: FsCommand,
}

#[derive(Subcommand)]
pub enum FsCommand {
    /// List a directory
    Ls {
        /// VOLUME:/path
        target: Target,
        /// Long format: mode, links, owner, size, time
        #[arg(short = 'l')]
        long: bool,
        #[command(flatten)]
        out: Output,
    },
    /// A folder's bytes, files, folders and symlinks, all below it counted
    Du {
        /// VOLUME:/path
        target: Target,
        #[command(flatten)]
        out: Output,
    },
    /// Every path below a folder, or those whose name matches --name
    Find {
        /// VOLUME:/path
        target: Target,
        /// A shell pattern for the last name: * and ? (e.g. '*.rs')
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// A folder and all below it, indented by depth
    Tree {
        /// VOLUME:/path
        target: Target,
    },
    /// Make an empty file if there is none (an existing one is left as it is)
    Touch {
        /// VOLUME:/path
        target: Target,
    },
    /// Show a file's attributes (a folder's: how many entries it holds)
    Stat {
        /// VOLUME:/path
        target: Target,
        #[command(flatten)]
        out: Output,
    },
    /// Make a directory
    Mkdir {
        /// VOLUME:/path
        target: Target,
        /// Make missing parents too, and accept an existing directory
        #[arg(short = 'p', long)]
        parents: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Upload a local file (or - for standard input, or a folder with -r) to VOLUME:/path
    Put {
        /// A local file, - for standard input, or a folder with -r
        local: PathBuf,
        /// VOLUME:/path (missing folders are made)
        target: Target,
        /// Upload a folder and all it holds; VOLUME:/path becomes that folder
        #[arg(short = 'r', long)]
        recursive: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Download VOLUME:/path to a local file (or - for standard output, or a folder with -r)
    Get {
        /// VOLUME:/path
        target: Target,
        /// A local file (replaced once the download is complete), - for standard output, or a
        /// folder with -r
        local: PathBuf,
        /// Download a folder and all it holds; LOCAL becomes that folder
        #[arg(short = 'r', long)]
        recursive: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Print a file
    Cat {
        /// VOLUME:/path
        target: Target,
    },
    /// Copy a file (in one volume without moving any data)
    Cp {
        /// VOLUME:/path of a file
        from: Target,
        /// VOLUME:/path (missing folders are made)
        to: Target,
        #[command(flatten)]
        out: Output,
    },
    /// Rename a file or directory atomically, replacing an existing target
    Mv {
        /// VOLUME:/path
        from: Target,
        /// VOLUME:/path in the same volume
        to: Target,
    },
    /// Remove a file, or a directory with -r
    Rm {
        /// VOLUME:/path
        target: Target,
        /// A directory and everything in it
        #[arg(short = 'r', long)]
        recursive: bool,
    },
    /// Make a symbolic link: ln -s TARGET VOLUME:/link
    Ln {
        /// Make it symbolic (required: hard links are made through a mount)
        #[arg(short = 's', required = true)]
        symbolic: bool,
        /// What the link points to, kept as written
        link_target: String,
        /// VOLUME:/path of the new link
        link: Target,
        #[command(flatten)]
        out: Output,
    },
    /// Change a file's permission bits (octal, e.g. 755)
    Chmod {
        /// Octal permission bits, e.g. 755
        mode: String,
        /// VOLUME:/path
        target: Target,
        #[command(flatten)]
        out: Output,
    },
}

fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}") {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

fn long_line(e: &DirEntry) -> String {
    let s = &e.stat;
    let mut line = format!(
        "{} {:>3} {:>5} {:>5} {:>12} {} {}",
        mode(s),
        s.nlink,
        s.uid,
        s.gid,
        s.size,
        time(s.mtime),
        e.name
    );
    if let Some(target) = &s.target {
        line += &format!(" -> {target}");
    }
    line
}

fn describe(t: &Target, s: &Stat) -> String {
    let mut text = format!(
        "path:   {t}\nkind:   {:?}\nmode:   {:o} ({})\nsize:   {} ({})\nlinks:  {}\nowner:  {}:{}\ninode:  {}\nmtime:  {}\nctime:  {}",
        s.kind,
        s.mode,
        mode(s),
        s.size,
        bytes(s.size),
        s.nlink,
        s.uid,
        s.gid,
        s.ino,
        time(s.mtime),
        time(s.ctime)
    );
    if let Some(target) = &s.target {
        text += &format!("\ntarget: {target}");
    }
    text
}

pub async fn run(cmd: FsCommand, client: &Client) -> CmdResult {
    match cmd {
        FsCommand::Ls { target, long, out } => {
            let stat = client.stat(&target.volume, &target.path).await?;
            let entries = if stat.kind == FileKind::Directory {
                client.list(&target.volume, &target.path).await?
            } else {
                let name = target.path.rsplit('/').next().unwrap_or_default().to_owned();
                vec![DirEntry { name, stat }]
            };
            out.print(&entries, || {
                let lines: Vec<String> = entries
                    .iter()
                    .map(|e| if long { long_line(e) } else { e.name.clone() })
                    .collect();
                lines.join("\n")
            })
        }
        FsCommand::Stat { target, out } => {
            let stat = client.stat(&target.volume, &target.path).await?;
            let entries = match stat.kind {
                FileKind::Directory => Some(client.list(&target.volume, &target.path).await?.len()),
                _ => None,
            };
            out.print(&stat, || {
                let mut text = describe(&target, &stat);
                if let Some(n) = entries {
                    text += &format!("\nentries: {n} (`strata fs du {target}` counts all below)");
                }
                text
            })
        }
        FsCommand::Du { target, out } => {
            let usage = super::walk::usage(&super::walk::walk(client, &target).await?);
            out.print(&usage, || {
                format!(
                    "{} ({} bytes) in {} files, {} folders, {} symlinks: {target}",
                    bytes(usage.bytes),
                    usage.bytes,
                    usage.files,
                    usage.folders,
                    usage.symlinks
                )
            })
        }
        FsCommand::Find { target, name, out } => {
            let found = super::walk::walk(client, &target).await?;
            let paths: Vec<String> = found
                .iter()
                .filter(|f| {
                    let last = f.path.components().last().map(String::as_str).unwrap_or("");
                    name.as_deref().is_none_or(|p| super::walk::matches(p, last))
                })
                .map(|f| format!("{}:{}", target.volume, f.path))
                .collect();
            out.print(&paths, || paths.join("\n"))
        }
        FsCommand::Tree { target } => {
            let found = super::walk::walk(client, &target).await?;
            let mut text = target.to_string();
            for f in &found {
                let name = f.path.components().last().cloned().unwrap_or_default();
                let mark = if f.stat.kind == FileKind::Directory { "/" } else { "" };
                text += &format!("\n{}{name}{mark}", "  ".repeat(f.depth));
            }
            crate::output::say(&text)
        }
        FsCommand::Touch { target } => {
            match client.stat(&target.volume, &target.path).await {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::NotFound => {
                    let empty = futures::stream::empty::<std::io::Result<Bytes>>();
                    client.put(&target.volume, &target.path, None, empty).await?;
                }
                Err(e) => return Err(e.into()),
            }
            Ok(())
        }
        FsCommand::Mkdir { target, parents, out } => {
            let stat = client.mkdir(&target.volume, &target.path, parents).await?;
            out.print(&stat, String::new)
        }
        FsCommand::Put {
            local,
            target,
            recursive: true,
            out,
        } => {
            let copied = super::tree::put_tree(client, &local, &target).await?;
            out.print(&copied, String::new)
        }
        FsCommand::Get {
            target,
            local,
            recursive: true,
            out,
        } => {
            let copied = super::tree::get_tree(client, &target, &local).await?;
            out.print(&copied, String::new)
        }
        FsCommand::Put { local, target, out, .. } => {
            let target = into_folder(client, &local, target).await?;
            let stat = put(client, &local, &target).await?;
            out.print(&stat, String::new)
        }
        FsCommand::Get { target, local, out, .. } => {
            let (size, stream) = client
                .get(&target.volume, &target.path)
                .await
                .map_err(|e| folder_hint(e, &target, &format!("`strata fs get -r {target} DIR` copies a folder")))?;
            let written = download(size, stream, &local).await?;
            out.print(&serde_json::json!({ "bytes": written }), String::new)
        }
        FsCommand::Cat { target } => {
            let (size, stream) = client
                .get(&target.volume, &target.path)
                .await
                .map_err(|e| folder_hint(e, &target, &format!("`strata fs ls {target}` lists it")))?;
            download(size, stream, Path::new("-")).await?;
            Ok(())
        }
        FsCommand::Cp { from, to, out } => {
            let stat = if from.volume == to.volume {
                client.copy(&from.volume, &from.path, &to.path).await?
            } else {
                let (_, stream) = client.get(&from.volume, &from.path).await?;
                let stream = stream.map_err(std::io::Error::other);
                client.put(&to.volume, &to.path, None, stream).await?
            };
            out.print(&stat, String::new)
        }
        FsCommand::Mv { from, to } => {
            from.same_volume(&to)?;
            client.rename(&from.volume, &from.path, &to.path, false).await?;
            Ok(())
        }
        FsCommand::Rm { target, recursive } => {
            client
                .remove(&target.volume, &target.path, recursive)
                .await
                .map_err(|e| match e.kind {
                    ErrorKind::DirectoryNotEmpty => Error::new(
                        e.kind,
                        format!("{target} is a folder that is not empty: `strata fs rm -r {target}` removes it and all it holds"),
                    ),
                    _ => e,
                })?;
            Ok(())
        }
        FsCommand::Ln {
            link_target, link, out, ..
        } => {
            let stat = client.symlink(&link.volume, &link.path, &link_target).await?;
            out.print(&stat, String::new)
        }
        FsCommand::Chmod { mode, target, out } => {
            let bits = u32::from_str_radix(&mode, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| {
                    Error::invalid(
                        "mode",
                        format!("invalid mode {mode:?}: expected octal digits up to 7777"),
                    )
                })?;
            let stat = client.chmod(&target.volume, &target.path, bits).await?;
            out.print(&stat, String::new)
        }
    }
}

/// A folder where a file was asked for, said with what to do instead.
fn folder_hint(e: Error, target: &Target, instead: &str) -> Error {
    match e.kind {
        ErrorKind::IsADirectory => Error::new(e.kind, format!("{target} is a folder: {instead}")),
        _ => e,
    }
}

/// Where `fs put LOCAL TARGET` writes, as `cp` would: into TARGET when it ends with `/` or is
/// a folder, under LOCAL's name.
async fn into_folder(client: &Client, local: &Path, target: Target) -> Result<Target, Failure> {
    let is_folder = target.path.ends_with('/')
        || matches!(client.stat(&target.volume, &target.path).await, Ok(s) if s.kind == FileKind::Directory);
    if !is_folder {
        return Ok(target);
    }
    let name = local.file_name().filter(|_| local != Path::new("-")).ok_or_else(|| {
        Error::invalid(
            "target",
            format!("{target} is a folder: name the file to write standard input to"),
        )
    })?;
    let path = format!("{}/{}", target.path.trim_end_matches('/'), name.to_string_lossy());
    Ok(Target { path, ..target })
}

pub(super) async fn put(client: &Client, local: &Path, target: &Target) -> Result<Stat, Failure> {
    if local == Path::new("-") {
        let stdin = ReaderStream::with_capacity(tokio::io::stdin(), 1 << 20);
        return Ok(client.put(&target.volume, &target.path, None, stdin).await?);
    }
    let file = tokio::fs::File::open(local)
        .await
        .map_err(|e| Failure::local(local, e))?;
    let meta = file.metadata().await?;
    if !meta.is_file() {
        return Err(Error::invalid("local", format!("{} is not a regular file", local.display())).into());
    }
    let bar = progress(meta.len(), "upload");
    let counted = bar.clone();
    let stream = ReaderStream::with_capacity(file, 1 << 20).inspect_ok(move |b| counted.inc(b.len() as u64));
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
    let stat = client.put(&target.volume, &target.path, Some(mode), stream).await;
    bar.finish_and_clear();
    Ok(stat?)
}

/// Writes a download to `local` (or standard output for `-`); a file appears only when complete.
pub(super) async fn download(
    size: u64,
    stream: impl Stream<Item = strata_core::Result<Bytes>>,
    local: &Path,
) -> Result<u64, Failure> {
    let mut stream = std::pin::pin!(stream);
    if local == Path::new("-") {
        let mut stdout = tokio::io::stdout();
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            stdout.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        stdout.flush().await?;
        return Ok(written);
    }
    let name = local
        .file_name()
        .ok_or_else(|| Error::invalid("local", format!("{} names no file", local.display())))?;
    let partial = local.with_file_name(format!(".{}.strata-partial", name.to_string_lossy()));
    let bar = progress(size, "download");
    let result = async {
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| Failure::local(local, e))?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
            bar.set_position(written);
        }
        if written != size {
            return Err(Error::new(strata_core::ErrorKind::Unavailable, "download ended early").into());
        }
        file.sync_all().await?;
        tokio::fs::rename(&partial, local)
            .await
            .map_err(|e| Failure::local(local, e))?;
        Ok::<u64, Failure>(written)
    }
    .await;
    bar.finish_and_clear();
    if result.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}
