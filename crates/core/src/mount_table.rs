//! The kernel's table of mounts (`/proc/self/mountinfo`): the one reader of it, which
//! undoes the kernel's escapes, so a mount point with a space in its path is seen as it is.

use std::path::{Path, PathBuf};

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

/// Whether any mount is at `folder` or below it.
pub fn any_mount_under(folder: &Path) -> bool {
    mount_table().iter().any(|e| e.mountpoint.starts_with(folder))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_undone() {
        assert_eq!(unescape(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape(r"/mnt/back\134slash"), r"/mnt/back\slash");
        assert_eq!(unescape(r"/mnt/not\09"), r"/mnt/not\09");
        assert_eq!(unescape(r"/mnt/end\"), r"/mnt/end\");
    }

    #[test]
    fn the_root_is_in_the_table() {
        assert!(mount_table().iter().any(|e| e.mountpoint == Path::new("/")));
        assert!(any_mount_under(Path::new("/")));
    }
}
