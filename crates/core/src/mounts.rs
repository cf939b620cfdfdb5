//! Where a volume may be mounted, and which part of it.

use crate::names::shorten;
use crate::paths::{FsPath, PATH_MAX, check_name};
use crate::{Error, Result};

/// System folders a volume may never cover, nor anything below them.
pub const FORBIDDEN_MOUNT_ROOTS: [&str; 9] = [
    "/proc", "/sys", "/dev", "/boot", "/etc", "/bin", "/sbin", "/lib", "/lib64",
];

/// Checks a mount target by the rules sandbox users know; says which rule a path breaks.
pub fn check_mount_target(path: &str) -> Result<()> {
    let err = |why: &str| Error::invalid("mountpoint", format!("invalid mount path {:?}: {why}", shorten(path)));
    if path.len() > PATH_MAX {
        return Err(err(&format!("longer than {PATH_MAX} bytes")));
    }
    if path.contains('\0') {
        return Err(err("contains NUL"));
    }
    if !path.starts_with('/') {
        return Err(err("must be an absolute path"));
    }
    if path.trim_end_matches('/').is_empty() {
        return Err(err("cannot mount over the root directory"));
    }
    if path.contains("//") {
        return Err(err("must not contain '//'"));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.split('/').any(|c| c == "." || c == "..") {
        return Err(err("must not contain '.' or '..' components"));
    }
    for root in FORBIDDEN_MOUNT_ROOTS {
        if trimmed == root || trimmed.starts_with(&format!("{root}/")) {
            return Err(err(&format!("cannot mount in the system directory {root}")));
        }
    }
    Ok(())
}

/// Parses the folder of a volume a mount shows: relative, without `..`, `.` or `//`.
/// The empty string is the whole volume.
pub fn parse_subpath(subpath: &str) -> Result<FsPath> {
    let err = |why: &str| Error::invalid("subpath", format!("invalid subpath {:?}: {why}", shorten(subpath)));
    if subpath.is_empty() {
        return Ok(FsPath::root());
    }
    if subpath.len() > PATH_MAX {
        return Err(err(&format!("longer than {PATH_MAX} bytes")));
    }
    if subpath.starts_with('/') {
        return Err(err("must be relative, like users/alice"));
    }
    if subpath.contains("//") {
        return Err(err("must not contain '//'"));
    }
    let trimmed = subpath.strip_suffix('/').unwrap_or(subpath);
    for part in trimmed.split('/') {
        if part == ".." || part == "." {
            return Err(err("must not contain '.' or '..'"));
        }
        check_name(part.as_bytes()).map_err(|e| e.with_field("subpath"))?;
    }
    FsPath::parse(&format!("/{trimmed}"), "subpath")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_targets() {
        for ok in ["/home/daytona/volume", "/mnt/x/", "/workspace", "/procfs", "/ünï"] {
            assert!(check_mount_target(ok).is_ok(), "{ok}");
        }
        let cases = [
            ("relative/x", "absolute"),
            ("/", "root"),
            ("//", "root"),
            ("/a//b", "'//'"),
            ("/a/./b", "'.'"),
            ("/a/../b", "'..'"),
            ("/a/..", "'..'"),
            ("/a/.", "'.'"),
            ("/proc", "/proc"),
            ("/etc/x", "/etc"),
            ("/lib64/y", "/lib64"),
            ("/dev/", "/dev"),
            ("/a\0b", "NUL"),
        ];
        for (path, why) in cases {
            let e = check_mount_target(path).unwrap_err();
            assert!(e.message.contains(why), "{path:?}: {}", e.message);
            assert_eq!(e.field.as_deref(), Some("mountpoint"));
        }
        assert!(check_mount_target(&format!("/{}", "a".repeat(5000))).is_err());
    }

    #[test]
    fn subpaths() {
        assert_eq!(parse_subpath("users/alice").unwrap().to_string(), "/users/alice");
        assert_eq!(parse_subpath("users/alice/").unwrap().to_string(), "/users/alice");
        assert!(parse_subpath("").unwrap().is_root());
        let long = "a".repeat(300);
        for bad in ["/abs", "a/../b", "..", "a//b", "./a", "a\0b", long.as_str()] {
            let e = parse_subpath(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("subpath"), "{bad:?}");
        }
    }
}
