//! The strata mounts of this machine: the kernel's mount table, and the record each mount
//! process keeps while it runs (what the table does not say: its pid, subpath and cache).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a running mount process says about itself, in [`records_dir`]`/PID.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MountRecord {
    pub pid: u32,
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
        // SAFETY: getuid cannot fail.
        None => std::env::temp_dir()
            .join(format!("strata-{}", unsafe { libc::getuid() }))
            .join("mounts"),
    }
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
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let dir = records_dir();
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
        let path = dir.join(format!("{}.json", self.pid));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        std::io::Write::write_all(&mut file, &serde_json::to_vec(self)?)?;
        Ok(RecordFile(path))
    }
}

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone)]
pub struct TableEntry {
    pub mountpoint: PathBuf,
    pub fstype: String,
    pub source: String,
    pub options: String,
}

impl TableEntry {
    /// Mounts made by strata are FUSE mounts named `strata:VOLUME`.
    pub fn is_strata(&self) -> bool {
        self.fstype.starts_with("fuse") && self.source.starts_with("strata:")
    }

    pub fn read_only(&self) -> bool {
        self.options.split(',').any(|o| o == "ro")
    }
}

/// Undoes the kernel's octal escapes (`\040` for a space) in a mount table field.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') << 6 | (d[1] - b'0') << 3 | (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The kernel's mount table, in mount order. No file system call touches a mount point, any
/// of which may be a dead mount.
pub fn mount_table() -> Vec<TableEntry> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let (fields, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = fields.split(' ').collect();
            let mut after = after.split(' ');
            Some(TableEntry {
                mountpoint: PathBuf::from(unescape(fields.get(4)?)),
                options: fields.get(5)?.to_string(),
                fstype: after.next()?.to_owned(),
                source: unescape(after.next()?),
            })
        })
        .collect()
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
    /// False when the mount is still listed but its process is gone (ENOTCONN).
    pub alive: bool,
    /// From the mount's record; unknown for a mount whose process is gone.
    pub subpath: Option<String>,
    pub pid: Option<u32>,
    pub cache_dir: Option<PathBuf>,
    pub cache_size: Option<u64>,
    pub cache_used: Option<u64>,
    pub log_file: Option<PathBuf>,
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
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

/// The records of live mount processes.
fn records() -> Vec<MountRecord> {
    let Ok(entries) = std::fs::read_dir(records_dir()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|bytes| serde_json::from_slice::<MountRecord>(&bytes).ok())
        .filter(|r| process_alive(r.pid))
        .collect()
}

/// Every strata mount in the kernel's table, with what its process recorded.
pub fn local_mounts() -> Vec<LocalMount> {
    let records = records();
    mount_table()
        .into_iter()
        .filter(TableEntry::is_strata)
        .map(|entry| {
            // A FUSE mount whose process died answers every call with ENOTCONN.
            let dead = std::fs::metadata(&entry.mountpoint).is_err_and(|e| e.raw_os_error() == Some(libc::ENOTCONN));
            let record = records
                .iter()
                .find(|r| r.mountpoint == entry.mountpoint)
                .filter(|_| !dead);
            LocalMount {
                volume: entry.source.trim_start_matches("strata:").to_owned(),
                read_only: entry.read_only(),
                alive: !dead,
                subpath: record.map(|r| r.subpath.clone()),
                pid: record.map(|r| r.pid),
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
    use super::unescape;

    #[test]
    fn mount_table_escapes() {
        assert_eq!(unescape(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape(r"/mnt/back\134slash"), r"/mnt/back\slash");
        assert_eq!(unescape(r"/mnt/not\09"), r"/mnt/not\09");
        assert_eq!(unescape(r"/mnt/end\"), r"/mnt/end\");
    }
}
