//! The strata mounts of this machine: the kernel's mount table, and the record each mount
//! process keeps while it runs (what the table does not say: its pid, subpath and cache).
//!
//! Whether a mount's process lives is read from its record (pid and start time), never by a
//! call on the mount: a stat of a mount waiting out an outage of its server would block for
//! `--retry-for`, and a thread blocked in it would hold up this process's exit.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
pub use strata_core::mount_table::{TableEntry, mount_table};

/// What a running mount process says about itself, in [`records_dir`]`/PID.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MountRecord {
    pub pid: u32,
    /// When the process started (clock ticks after boot): with the pid, it names the process
    /// even once the pid is reused.
    pub started: u64,
    pub volume: String,
    pub subpath: String,
    pub mountpoint: PathBuf,
    pub read_only: bool,
    pub cache_dir: PathBuf,
    pub cache_size: u64,
    pub log_file: Option<PathBuf>,
}

/// Where mount processes keep their records: `$XDG_RUNTIME_DIR/strata/mounts`, else a
/// folder of this user's under the temporary folder.
pub fn records_dir() -> PathBuf {
    match dirs::runtime_dir() {
        Some(dir) => dir.join("strata").join("mounts"),
        None => std::env::temp_dir().join(format!("strata-{}", uid())).join("mounts"),
    }
}

fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

/// Makes the records folder (and its parent) if needed, and checks that both are this user's
/// own, not symlinks, and closed to others: in a shared temporary folder another user could
/// have made them first, to read or plant records.
fn private_records_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let dir = records_dir();
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    for d in [dir.as_path(), dir.parent().unwrap_or(&dir)] {
        let meta = std::fs::symlink_metadata(d)?;
        if !meta.is_dir() || meta.uid() != uid() || meta.mode() & 0o077 != 0 {
            return Err(std::io::Error::other(format!(
                "{} is not a private folder of this user",
                d.display()
            )));
        }
    }
    Ok(dir)
}

/// Removes the record when the mount ends.
pub struct RecordFile(PathBuf);

impl Drop for RecordFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl MountRecord {
    /// Writes the record (readable by this user only); it goes when the result is dropped.
    pub fn write(&self) -> std::io::Result<RecordFile> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = private_records_dir()?.join(format!("{}.json", self.pid));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)?;
        std::io::Write::write_all(&mut file, &serde_json::to_vec(self)?)?;
        Ok(RecordFile(path))
    }
}

/// The topmost mount at `path`, if any.
pub fn mounted_at(path: &Path) -> Option<TableEntry> {
    let path = std::path::absolute(path).ok()?;
    mount_table().into_iter().rev().find(|e| e.mountpoint == path)
}

/// A strata mount of this machine, as `strata status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LocalMount {
    pub volume: String,
    pub mountpoint: PathBuf,
    pub read_only: bool,
    /// False when the mount is still listed but its process is gone (calls on it fail with
    /// ENOTCONN); unknown (null) for a mount without a record.
    pub alive: Option<bool>,
    /// From the mount's record.
    pub subpath: Option<String>,
    pub pid: Option<u32>,
    pub cache_dir: Option<PathBuf>,
    pub cache_size: Option<u64>,
    pub cache_used: Option<u64>,
    pub log_file: Option<PathBuf>,
}

/// When a process started, in clock ticks after boot, if it runs. A zombie nobody reaped
/// has ended once it is its only thread left: a killed process's first thread turns zombie
/// while the others are still exiting, holding its files (and their locks) open.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `PID (COMMAND) STATE PPID ...`: the command may hold spaces and parentheses; after it
    // come the state (field 3), the thread count (20) and the start time (22).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let (state, threads) = (*fields.first()?, fields.get(17)?.parse::<u64>().ok()?);
    if matches!(state, "Z" | "X") && threads <= 1 {
        return None;
    }
    fields.get(19)?.parse().ok()
}

impl MountRecord {
    fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.started)
    }
}

/// The running process that serves the mount at `mountpoint`, by its record.
pub fn process_serving(mountpoint: &Path) -> Option<MountRecord> {
    let path = std::path::absolute(mountpoint).ok()?;
    records()
        .into_iter()
        .map(|(_, r)| r)
        .find(|r| r.mountpoint == path && r.alive())
}

/// Waits, for at most `limit`, until the process of `record` has ended; says whether it did.
pub fn wait_for_end(record: &MountRecord, limit: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while record.alive() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

/// Bytes of blocks in a mount's cache folder.
fn cache_used(cache_dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(cache_dir.join("blocks")) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Every record, with the file it is in.
fn records() -> Vec<(PathBuf, MountRecord)> {
    let Ok(entries) = private_records_dir().and_then(std::fs::read_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| Some((e.path(), serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?)))
        .collect()
}

/// Every strata mount in the kernel's table, with what its process recorded.
pub fn local_mounts() -> Vec<LocalMount> {
    let table = mount_table();
    let mut records = records();
    // A record of a process that is gone and whose mount went too is of no more use.
    records.retain(|(path, r)| {
        let stale = !r.alive() && !table.iter().any(|e| e.mountpoint == r.mountpoint);
        if stale {
            let _ = std::fs::remove_file(path);
        }
        !stale
    });
    table
        .into_iter()
        .filter(TableEntry::is_strata)
        .map(|entry| {
            // The newest record for the mount point (an older one may be of a dead mount
            // that was there before).
            let record = records
                .iter()
                .map(|(_, r)| r)
                .filter(|r| r.mountpoint == entry.mountpoint)
                .max_by_key(|r| (r.alive(), r.started));
            let alive = record.map(MountRecord::alive);
            let live = record.filter(|r| r.alive());
            LocalMount {
                volume: entry.source.trim_start_matches("strata:").to_owned(),
                read_only: entry.read_only(),
                alive,
                subpath: record.map(|r| r.subpath.clone()),
                pid: live.map(|r| r.pid),
                cache_dir: record.map(|r| r.cache_dir.clone()),
                cache_size: record.map(|r| r.cache_size),
                cache_used: record.map(|r| cache_used(&r.cache_dir)),
                log_file: record.and_then(|r| r.log_file.clone()),
                mountpoint: entry.mountpoint,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::start_time;

    #[test]
    fn this_process_has_a_start_time() {
        let mine = start_time(std::process::id()).unwrap();
        assert!(mine > 0);
        assert_eq!(start_time(std::process::id()), Some(mine));
        assert_eq!(start_time(u32::MAX), None);
    }
}
