//! `fs put -r` and `fs get -r`: whole folders, walked with a list of folders still to copy
//! (never recursion, so any depth fits in memory, not on the stack).

use super::fs::{download, put};
use crate::Failure;
use crate::target::Target;
use serde::Serialize;
use std::path::{Path, PathBuf};
use strata_client::Client;
use strata_core::Error;
use strata_core::api::FileKind;
use strata_core::paths::{FsPath, check_name};

/// What a folder copy made.
#[derive(Debug, Default, Serialize)]
pub struct Copied {
    pub folders: u64,
    pub files: u64,
    pub symlinks: u64,
    pub bytes: u64,
}

/// Uploads the folder `local` and all it holds to `target` (made if missing; what it already
/// holds stays unless a file of the same name replaces it).
pub async fn put_tree(client: &Client, local: &Path, target: &Target) -> Result<Copied, Failure> {
    let meta = std::fs::metadata(local).map_err(|e| Failure::local(local, e))?;
    if !meta.is_dir() {
        return Err(Error::invalid(
            "local",
            format!("{} is not a folder: drop -r to upload a file", local.display()),
        )
        .into());
    }
    let root = FsPath::parse(&target.path, "target")?;
    let mut copied = Copied::default();
    let mut pending = vec![(local.to_path_buf(), root)];
    while let Some((dir, remote)) = pending.pop() {
        if !remote.is_root() {
            client.mkdir(&target.volume, &remote.to_string(), true).await?;
        }
        copied.folders += 1;
        for entry in std::fs::read_dir(&dir).map_err(|e| Failure::local(&dir, e))? {
            let entry = entry.map_err(|e| Failure::local(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name
                .to_str()
                .ok_or_else(|| Error::invalid("local", format!("{}: the name is not UTF-8", path.display())))?;
            let child = Target {
                volume: target.volume.clone(),
                path: remote.join(name).to_string(),
            };
            let kind = entry.file_type().map_err(|e| Failure::local(&path, e))?;
            if kind.is_dir() {
                pending.push((path, remote.join(name)));
            } else if kind.is_file() {
                copied.bytes += put(client, &path, &child).await?.size;
                copied.files += 1;
            } else if kind.is_symlink() {
                let link = std::fs::read_link(&path).map_err(|e| Failure::local(&path, e))?;
                let link = link
                    .to_str()
                    .ok_or_else(|| Error::invalid("local", format!("{}: the link is not UTF-8", path.display())))?;
                client.symlink(&child.volume, &child.path, link).await?;
                copied.symlinks += 1;
            } else {
                return Err(Error::invalid(
                    "local",
                    format!(
                        "{} is not a file, folder or symlink: it cannot be uploaded",
                        path.display()
                    ),
                )
                .into());
            }
        }
    }
    Ok(copied)
}

/// Downloads the folder `target` and all it holds into the local folder `local` (made if
/// missing). Names come from the server and are checked before they touch the local disk.
pub async fn get_tree(client: &Client, target: &Target, local: &Path) -> Result<Copied, Failure> {
    let root = FsPath::parse(&target.path, "target")?;
    let stat = client.stat(&target.volume, &root.to_string()).await?;
    if stat.kind != FileKind::Directory {
        return Err(Error::invalid(
            "target",
            format!("{target} is not a folder: drop -r to download a file"),
        )
        .into());
    }
    let mut copied = Copied::default();
    std::fs::create_dir_all(local).map_err(|e| Failure::local(local, e))?;
    let mut pending: Vec<(FsPath, PathBuf)> = vec![(root, local.to_path_buf())];
    while let Some((remote, dir)) = pending.pop() {
        if dir != local {
            local_folder(&dir)?;
        }
        copied.folders += 1;
        for entry in client.list(&target.volume, &remote.to_string()).await? {
            check_name(entry.name.as_bytes())?;
            let (from, to) = (remote.join(&entry.name), dir.join(&entry.name));
            match entry.stat.kind {
                FileKind::Directory => pending.push((from, to)),
                FileKind::File => {
                    let (size, stream) = client.get(&target.volume, &from.to_string()).await?;
                    copied.bytes += download(size, stream, &to).await?;
                    copied.files += 1;
                }
                FileKind::Symlink => {
                    let link = entry.stat.target.unwrap_or_default();
                    std::os::unix::fs::symlink(&link, &to).map_err(|e| Failure::local(&to, e))?;
                    copied.symlinks += 1;
                }
                kind => {
                    return Err(Error::invalid(
                        "target",
                        format!(
                            "{}:{from} is a {kind:?}: only files, folders and symlinks are downloaded",
                            target.volume
                        ),
                    )
                    .into());
                }
            }
        }
    }
    Ok(copied)
}

/// Makes a folder inside the download, or takes an existing one, but never goes through a
/// symlink: one the download made could point anywhere.
fn local_folder(dir: &Path) -> Result<(), Failure> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::symlink_metadata(dir).map_err(|e| Failure::local(dir, e))?;
            if meta.is_dir() {
                Ok(())
            } else {
                Err(Error::new(
                    strata_core::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a folder", dir.display()),
                )
                .into())
            }
        }
        other => other.map_err(|e| Failure::local(dir, e)),
    }
}
