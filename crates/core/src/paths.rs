//! File paths inside a volume.
//!
//! A path is absolute inside its volume. `.` and repeated slashes are dropped, `..` steps up
//! but never above the root, and every component is a valid [`check_name`].

use crate::names::shorten;
use crate::{Error, Result};

pub const NAME_MAX: usize = 255;
pub const PATH_MAX: usize = 4096;

/// Checks one directory entry name, as bytes (the mount passes names that need not be UTF-8).
pub fn check_name(name: &[u8]) -> Result<()> {
    let shown = || shorten(&String::from_utf8_lossy(name));
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Error::invalid("name", format!("invalid file name {:?}", shown())));
    }
    if name.contains(&0) || name.contains(&b'/') {
        return Err(Error::invalid(
            "name",
            format!("file name {:?} contains NUL or '/'", shown()),
        ));
    }
    if name.len() > NAME_MAX {
        let msg = format!("file name {:?} is longer than {NAME_MAX} bytes", shown());
        return Err(Error::new(crate::ErrorKind::NameTooLong, msg).with_field("name"));
    }
    Ok(())
}

/// A normalized absolute path inside a volume.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FsPath {
    components: Vec<String>,
}

impl FsPath {
    pub fn root() -> Self {
        FsPath { components: Vec::new() }
    }

    /// Parses a path given by a user; `field` names the input in errors.
    pub fn parse(path: &str, field: &str) -> Result<Self> {
        let err = |why: &str| Error::invalid(field, format!("invalid path {:?}: {why}", shorten(path)));
        if path.len() > PATH_MAX {
            return Err(err(&format!("longer than {PATH_MAX} bytes")));
        }
        if path.contains('\0') {
            return Err(err("contains NUL"));
        }
        if !path.starts_with('/') {
            return Err(err("must start with '/'"));
        }
        let mut components: Vec<String> = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if components.pop().is_none() {
                        return Err(err("'..' goes above the volume root"));
                    }
                }
                name => {
                    check_name(name.as_bytes()).map_err(|e| e.with_field(field))?;
                    components.push(name.to_owned());
                }
            }
        }
        Ok(FsPath { components })
    }

    pub fn components(&self) -> &[String] {
        &self.components
    }

    pub fn is_root(&self) -> bool {
        self.components.is_empty()
    }

    /// The parent directory and the last name; `None` for the root.
    pub fn split_last(&self) -> Option<(FsPath, &str)> {
        let (last, parent) = self.components.split_last()?;
        Some((
            FsPath {
                components: parent.to_vec(),
            },
            last,
        ))
    }

    pub fn join(&self, name: &str) -> FsPath {
        let mut components = self.components.clone();
        components.push(name.to_owned());
        FsPath { components }
    }

    /// `rest`, taken as relative to `self`: how a path below a folder lies in the volume.
    pub fn concat(&self, rest: &FsPath) -> FsPath {
        let mut components = self.components.clone();
        components.extend_from_slice(&rest.components);
        FsPath { components }
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &FsPath) -> bool {
        self.components.starts_with(&other.components)
    }
}

impl std::fmt::Display for FsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.components.is_empty() {
            return f.write_str("/");
        }
        for c in &self.components {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<String> {
        FsPath::parse(s, "path").map(|p| p.to_string())
    }

    #[test]
    fn normalizes() {
        assert_eq!(p("/").unwrap(), "/");
        assert_eq!(p("//a///b/./c/").unwrap(), "/a/b/c");
        assert_eq!(p("/a/../b").unwrap(), "/b");
        assert_eq!(p("/ünï/cödé").unwrap(), "/ünï/cödé");
        let root = FsPath::parse("/users/alice", "path").unwrap();
        let rest = FsPath::parse("/a/../b", "path").unwrap();
        assert_eq!(root.concat(&rest).to_string(), "/users/alice/b");
        assert_eq!(root.concat(&FsPath::root()), root);
    }

    #[test]
    fn refuses_hostile_paths() {
        let long_name = format!("/{}", "x".repeat(300));
        let huge = "/a".repeat(3000);
        for bad in [
            "",
            "a/b",
            "/..",
            "/a/../..",
            "/../etc/passwd",
            "/a\0b",
            &long_name,
            &huge,
        ] {
            let err = p(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("path"), "{bad:?}");
            assert!(err.message.len() < 400);
        }
    }

    #[test]
    fn checks_names() {
        assert!(check_name(b"ok").is_ok());
        assert!(check_name(&[0xff, 0xfe]).is_ok());
        for bad in [&b""[..], b".", b"..", b"a/b", b"a\0", &[b'x'; 256]] {
            assert!(check_name(bad).is_err());
        }
    }
}
