//! What a sandbox request may ask for: which volumes at which paths, and which files.

use crate::api::SandboxVolumeSpec;
use crate::mounts::{check_mount_target, parse_subpath};
use crate::names::{VolumeRef, shorten};
use crate::paths::{PATH_MAX, check_name};
use crate::{Error, Result};
use uuid::Uuid;

/// Most volumes one sandbox mounts.
pub const MAX_SANDBOX_VOLUMES: usize = 16;

/// Checks the volumes of a sandbox: each reference, subpath and mount path valid, at most
/// [`MAX_SANDBOX_VOLUMES`], and no mount path equal to or inside another.
pub fn check_volume_specs(specs: &[SandboxVolumeSpec]) -> Result<()> {
    if specs.len() > MAX_SANDBOX_VOLUMES {
        return Err(Error::invalid(
            "volumes",
            format!(
                "a sandbox mounts at most {MAX_SANDBOX_VOLUMES} volumes, not {}",
                specs.len()
            ),
        ));
    }
    for (i, spec) in specs.iter().enumerate() {
        let field = |name: &str| format!("volumes[{i}].{name}");
        VolumeRef::parse(&spec.volume_id).map_err(|e| e.with_field(&field("volume_id")))?;
        parse_subpath(spec.subpath.as_deref().unwrap_or("")).map_err(|e| e.with_field(&field("subpath")))?;
        check_mount_target(&spec.mount_path).map_err(|e| e.with_field(&field("mount_path")))?;
        let here = spec.mount_path.trim_end_matches('/');
        for other in &specs[..i] {
            let there = other.mount_path.trim_end_matches('/');
            let nested = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/"));
            if nested(here, there) || nested(there, here) {
                return Err(Error::invalid(
                    &field("mount_path"),
                    format!("mount paths {here} and {there} overlap: give each volume its own folder"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks a path inside a sandbox for upload and download: absolute, without NUL, `.` or
/// `..` components or empty names, each name at most 255 bytes.
pub fn check_sandbox_path(path: &str) -> Result<()> {
    let err = |why: &str| Error::invalid("path", format!("invalid sandbox path {:?}: {why}", shorten(path)));
    if path.len() > PATH_MAX {
        return Err(err(&format!("longer than {PATH_MAX} bytes")));
    }
    if path.contains('\0') {
        return Err(err("contains NUL"));
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(err("must be an absolute path"));
    };
    if rest.is_empty() || rest.ends_with('/') {
        return Err(err("must name a file"));
    }
    for part in rest.split('/') {
        if part.is_empty() {
            return Err(err("must not contain '//'"));
        }
        if part == "." || part == ".." {
            return Err(err("must not contain '.' or '..' components"));
        }
        check_name(part.as_bytes()).map_err(|e| e.with_field("path"))?;
    }
    Ok(())
}

/// Parses a sandbox id (a UUID), so that hostile values never reach a file name.
pub fn parse_sandbox_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| Error::invalid("sandbox", format!("invalid sandbox id {:?}", shorten(id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(volume: &str, mount_path: &str, subpath: Option<&str>) -> SandboxVolumeSpec {
        SandboxVolumeSpec {
            volume_id: volume.into(),
            mount_path: mount_path.into(),
            subpath: subpath.map(Into::into),
            read_only: false,
        }
    }

    #[test]
    fn volume_specs() {
        check_volume_specs(&[spec("work", "/home/w", None), spec("t", "/data", Some("users/alice"))]).unwrap();
        let long = format!("/{}", "a".repeat(5000));
        let cases = [
            (vec![spec("../x", "/a", None)], "volumes[0].volume_id"),
            (vec![spec("v", "/a", Some("../bob"))], "volumes[0].subpath"),
            (vec![spec("v", "/a", Some("/abs"))], "volumes[0].subpath"),
            (vec![spec("v", "/a", Some("a\0b"))], "volumes[0].subpath"),
            (vec![spec("v", "/", None)], "volumes[0].mount_path"),
            (
                vec![spec("v", "/ok", None), spec("v", "/proc/x", None)],
                "volumes[1].mount_path",
            ),
            (vec![spec("v", "/a/../etc", None)], "volumes[0].mount_path"),
            (vec![spec("v", "a", None)], "volumes[0].mount_path"),
            (vec![spec("v", "/a//b", None)], "volumes[0].mount_path"),
            (vec![spec("v", &long, None)], "volumes[0].mount_path"),
            (
                vec![spec("v", "/a", None), spec("w", "/a/b", None)],
                "volumes[1].mount_path",
            ),
            (
                vec![spec("v", "/a/b", None), spec("w", "/a/", None)],
                "volumes[1].mount_path",
            ),
            (vec![spec("v", "/\u{e9}t\u{e9}\0", None)], "volumes[0].mount_path"),
        ];
        for (specs, field) in cases {
            let e = check_volume_specs(&specs).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{specs:?}: {}", e.message);
        }
        let many: Vec<_> = (0..17).map(|i| spec("v", &format!("/m{i}"), None)).collect();
        assert_eq!(check_volume_specs(&many).unwrap_err().field.as_deref(), Some("volumes"));
        // Neighbours that share a prefix of characters, not of components, do not overlap.
        check_volume_specs(&[spec("v", "/data", None), spec("w", "/data2", None)]).unwrap();
    }

    #[test]
    fn sandbox_paths() {
        for ok in ["/root/a.txt", "/home/w/deep/f", "/tmp/\u{fc}n\u{ef}"] {
            check_sandbox_path(ok).unwrap();
        }
        let long_name = format!("/{}", "n".repeat(300));
        let long_path = "/a".repeat(3000);
        for bad in [
            "",
            "/",
            "rel/x",
            "/a/../etc/passwd",
            "/a/./b",
            "/a//b",
            "/a/",
            "/a\0b",
            "..",
            "/..",
            &long_name,
            &long_path,
        ] {
            let e = check_sandbox_path(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("path"), "{bad:?}");
        }
    }

    #[test]
    fn sandbox_ids() {
        assert!(parse_sandbox_id("6f1c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f").is_ok());
        for bad in ["", "..", "../../etc", "x/y", "a\0", "\u{1f600}"] {
            assert_eq!(parse_sandbox_id(bad).unwrap_err().field.as_deref(), Some("sandbox"));
        }
    }
}
