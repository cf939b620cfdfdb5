//! What a sandbox request may ask for: which volumes at which paths, and which files.

use crate::api::{SandboxLimits, SandboxLimitsSpec, SandboxVolumeSpec};
use crate::mounts::{check_mount_target, parse_subpath};
use crate::names::{VolumeRef, shorten};
use crate::paths::{PATH_MAX, check_name};
use crate::{Error, Result};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Most volumes one sandbox mounts.
pub const MAX_SANDBOX_VOLUMES: usize = 16;
/// Most variables a sandbox's environment holds, and most bytes of it in all.
pub const MAX_ENV_VARS: usize = 128;
pub const MAX_ENV_BYTES: usize = 64 << 10;
/// Most bytes of standard output, and of standard error, an exec returns.
pub const EXEC_OUTPUT_MAX: usize = 1 << 20;
/// Most bytes a download from a sandbox returns.
pub const DOWNLOAD_MAX: usize = 64 << 20;
/// Most bytes of an exec's command (the kernel takes at most 128 KiB as one argument).
pub const MAX_COMMAND_BYTES: usize = 64 << 10;

/// Each limit's default, and the most that may be asked for.
pub const DEFAULT_LIMITS: SandboxLimits = SandboxLimits {
    memory_mib: 512,
    processes: 256,
    millicpus: 1000,
    disk_mib: 256,
};
pub const MAX_LIMITS: SandboxLimits = SandboxLimits {
    memory_mib: 16 << 10,
    processes: 4096,
    millicpus: 16_000,
    disk_mib: 16 << 10,
};
/// The least of each: below these a shell does not start.
const MIN_LIMITS: SandboxLimits = SandboxLimits {
    memory_mib: 16,
    processes: 8,
    millicpus: 10,
    disk_mib: 1,
};

/// The limits a sandbox runs under: each one asked for, checked against its bounds, else
/// its default.
pub fn resolve_limits(spec: &SandboxLimitsSpec) -> Result<SandboxLimits> {
    let pick = |name: &str, asked: Option<u64>, default: u64, min: u64, max: u64| match asked {
        None => Ok(default),
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(v) => Err(Error::invalid(
            &format!("limits.{name}"),
            format!("limits.{name} must be {min} to {max}, not {v}"),
        )),
    };
    let (d, lo, hi) = (DEFAULT_LIMITS, MIN_LIMITS, MAX_LIMITS);
    Ok(SandboxLimits {
        memory_mib: pick(
            "memory_mib",
            spec.memory_mib,
            d.memory_mib,
            lo.memory_mib,
            hi.memory_mib,
        )?,
        processes: pick("processes", spec.processes, d.processes, lo.processes, hi.processes)?,
        millicpus: pick("millicpus", spec.millicpus, d.millicpus, lo.millicpus, hi.millicpus)?,
        disk_mib: pick("disk_mib", spec.disk_mib, d.disk_mib, lo.disk_mib, hi.disk_mib)?,
    })
}

/// Checks a sandbox's environment: names of letters, digits and `_` not starting with a
/// digit, values without NUL, `HOME` and `PATH` left to the sandbox, bounded in count and size.
pub fn check_env(env: &BTreeMap<String, String>) -> Result<()> {
    if env.len() > MAX_ENV_VARS {
        return Err(Error::invalid(
            "env",
            format!("at most {MAX_ENV_VARS} variables, not {}", env.len()),
        ));
    }
    let bytes: usize = env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    if bytes > MAX_ENV_BYTES {
        return Err(Error::new(
            crate::ErrorKind::TooLarge,
            format!("the environment is {bytes} bytes; at most {MAX_ENV_BYTES}"),
        )
        .with_field("env"));
    }
    for (name, value) in env {
        let field = format!("env.{}", shorten(name));
        let valid = name.len() <= 255
            && name
                .bytes()
                .enumerate()
                .all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()))
            && !name.is_empty();
        if !valid {
            return Err(Error::invalid(
                &field,
                format!(
                    "invalid variable name {:?}: letters, digits and _, not starting with a digit",
                    shorten(name)
                ),
            ));
        }
        if name == "HOME" || name == "PATH" {
            return Err(Error::invalid(&field, format!("{name} is set by the sandbox")));
        }
        if value.contains('\0') {
            return Err(Error::invalid(&field, "the value contains NUL"));
        }
    }
    Ok(())
}

/// Checks an exec's command: no NUL, at most [`MAX_COMMAND_BYTES`].
pub fn check_command(command: &str) -> Result<()> {
    if command.len() > MAX_COMMAND_BYTES {
        return Err(Error::new(
            crate::ErrorKind::TooLarge,
            format!(
                "the command is {} bytes; at most {MAX_COMMAND_BYTES} (upload a script instead)",
                command.len()
            ),
        )
        .with_field("command"));
    }
    if command.contains('\0') {
        return Err(Error::invalid("command", "the command contains NUL"));
    }
    Ok(())
}

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
    fn limits() {
        assert_eq!(resolve_limits(&SandboxLimitsSpec::default()).unwrap(), DEFAULT_LIMITS);
        let asked = SandboxLimitsSpec {
            memory_mib: Some(64),
            processes: Some(32),
            ..Default::default()
        };
        let got = resolve_limits(&asked).unwrap();
        assert_eq!(
            (got.memory_mib, got.processes, got.disk_mib),
            (64, 32, DEFAULT_LIMITS.disk_mib)
        );
        let bad = [
            (
                SandboxLimitsSpec {
                    memory_mib: Some(0),
                    ..Default::default()
                },
                "limits.memory_mib",
            ),
            (
                SandboxLimitsSpec {
                    memory_mib: Some(u64::MAX),
                    ..Default::default()
                },
                "limits.memory_mib",
            ),
            (
                SandboxLimitsSpec {
                    processes: Some(1_000_000),
                    ..Default::default()
                },
                "limits.processes",
            ),
            (
                SandboxLimitsSpec {
                    millicpus: Some(0),
                    ..Default::default()
                },
                "limits.millicpus",
            ),
            (
                SandboxLimitsSpec {
                    disk_mib: Some(1 << 40),
                    ..Default::default()
                },
                "limits.disk_mib",
            ),
        ];
        for (spec, field) in bad {
            assert_eq!(resolve_limits(&spec).unwrap_err().field.as_deref(), Some(field));
        }
    }

    #[test]
    fn environments() {
        let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        check_env(&env(&[("LANG", "C.UTF-8"), ("_X1", ""), ("MSG", "h\u{e9}llo = ok")])).unwrap();
        for (name, value, field) in [
            ("1X", "v", "env.1X"),
            ("A-B", "v", "env.A-B"),
            ("", "v", "env."),
            ("A=B", "v", "env.A=B"),
            ("PATH", "/evil", "env.PATH"),
            ("HOME", "/", "env.HOME"),
            ("V", "a\0b", "env.V"),
            ("\u{e9}", "v", "env.\u{e9}"),
        ] {
            let e = check_env(&env(&[(name, value)])).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{name:?}");
        }
        let huge = env(&[("BIG", &"x".repeat(MAX_ENV_BYTES))]);
        assert_eq!(check_env(&huge).unwrap_err().kind, crate::ErrorKind::TooLarge);
        let many: BTreeMap<String, String> = (0..=MAX_ENV_VARS).map(|i| (format!("V{i}"), String::new())).collect();
        assert_eq!(check_env(&many).unwrap_err().field.as_deref(), Some("env"));
    }

    #[test]
    fn commands() {
        check_command("echo hi; ls /").unwrap();
        assert_eq!(check_command("a\0b").unwrap_err().field.as_deref(), Some("command"));
        let e = check_command(&"x".repeat(MAX_COMMAND_BYTES + 1)).unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (crate::ErrorKind::TooLarge, Some("command"))
        );
    }

    #[test]
    fn sandbox_ids() {
        assert!(parse_sandbox_id("6f1c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f").is_ok());
        for bad in ["", "..", "../../etc", "x/y", "a\0", "\u{1f600}"] {
            assert_eq!(parse_sandbox_id(bad).unwrap_err().field.as_deref(), Some("sandbox"));
        }
    }
}
