//! Volume names and references.

use crate::{Error, Result};
use uuid::Uuid;

pub const VOLUME_NAME_RULE: &str = "a volume name is 1 to 63 characters of a-z, 0-9, '.', '_' and '-', \
     does not start with '.' or '-', and is not a UUID";

/// A volume name that follows [`VOLUME_NAME_RULE`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VolumeName(String);

impl VolumeName {
    pub fn parse(name: &str) -> Result<Self> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        let ok = !name.is_empty()
            && name.len() <= 63
            && name.chars().all(allowed)
            && !name.starts_with(['.', '-'])
            && Uuid::parse_str(name).is_err();
        if ok {
            Ok(VolumeName(name.to_owned()))
        } else {
            Err(Error::invalid(
                "name",
                format!("invalid volume name {:?}: {VOLUME_NAME_RULE}", shorten(name)),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for VolumeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a request names a volume: by id, by name, or a snapshot as `VOLUME@SNAPSHOT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeRef {
    Id(Uuid),
    Name(VolumeName),
    Snapshot(VolumeName, VolumeName),
    /// `VOLUME@TIME`: the volume as it was then, from its history.
    Moment(VolumeName, Moment),
}

/// Splits `VOLUME[@SNAPSHOT|@TIME][:REST]` at the colon that ends the volume: the first whose
/// left side names a volume (an RFC 3339 time holds colons of its own).
pub fn split_volume(s: &str) -> (&str, Option<&str>) {
    s.match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| VolumeRef::parse(&s[..i]).is_ok())
        .map_or((s, None), |i| (&s[..i], Some(&s[i + 1..])))
}

/// A moment of a volume's history: an instant (RFC 3339), or a time before now (`-10m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    At(i64),
    Ago(i64),
}

impl Moment {
    /// `None` when `s` is no time (then it is a snapshot's name: a name has no ':' and
    /// does not start with '-').
    pub fn parse(s: &str) -> Result<Option<Moment>> {
        let bad = |why: &str| Error::invalid("time", format!("invalid moment {:?}: {why}", shorten(s)));
        if let Some(ago) = s.strip_prefix('-') {
            let d = humantime::parse_duration(ago).map_err(|_| bad("a time before now is like -10m, -2h or -1d"))?;
            let ns = i64::try_from(d.as_nanos()).map_err(|_| bad("too long ago"))?;
            return Ok(Some(Moment::Ago(ns)));
        }
        if !s.contains(':') {
            return Ok(None);
        }
        let t =
            humantime::parse_rfc3339_weak(s).map_err(|_| bad("an instant is RFC 3339, like 2026-12-04T05:00:00Z"))?;
        let ns = t
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .ok_or_else(|| bad("out of range"))?;
        Ok(Some(Moment::At(ns)))
    }

    /// The instant, given the time now (nanoseconds since the epoch).
    pub fn at(self, now: i64) -> i64 {
        match self {
            Moment::At(t) => t,
            Moment::Ago(d) => now.saturating_sub(d),
        }
    }
}

/// An instant as RFC 3339 with nanoseconds, in UTC: how a moment is named.
pub fn format_moment(ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns.max(0) as u64);
    humantime::format_rfc3339_nanos(t).to_string()
}

impl VolumeRef {
    pub fn parse(s: &str) -> Result<Self> {
        if let Ok(id) = Uuid::parse_str(s) {
            return Ok(VolumeRef::Id(id));
        }
        let named = |n: &str| VolumeName::parse(n).map_err(|e| e.with_field("volume"));
        match s.split_once('@') {
            Some((volume, at)) => match Moment::parse(at)? {
                Some(moment) => Ok(VolumeRef::Moment(named(volume)?, moment)),
                None => Ok(VolumeRef::Snapshot(named(volume)?, named(at)?)),
            },
            None => named(s).map(VolumeRef::Name),
        }
    }

    /// The one answer for a volume that is missing or not the caller's to see.
    pub fn not_found(&self) -> Error {
        let shown = match self {
            VolumeRef::Id(id) => id.to_string(),
            VolumeRef::Name(name) => name.to_string(),
            VolumeRef::Snapshot(volume, snapshot) => VolumeRef::snapshot_key(volume, snapshot),
            VolumeRef::Moment(volume, _) => format!("{volume}@..."),
        };
        Error::not_found(format!("volume {shown} not found")).with_field("volume")
    }

    /// The name a snapshot is stored under: never a valid volume name, so never a clash.
    pub fn snapshot_key(volume: &VolumeName, snapshot: &VolumeName) -> String {
        format!("{volume}@{snapshot}")
    }
}

/// A string cut to a length that is safe to echo back in an error message.
pub fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_parse_and_split_from_paths() {
        assert_eq!(split_volume("v:/a"), ("v", Some("/a")));
        assert_eq!(split_volume("v@s:sub"), ("v@s", Some("sub")));
        let at = "v@2026-12-04T05:00:00Z";
        assert_eq!(split_volume(&format!("{at}:/src")), (at, Some("/src")));
        assert_eq!(split_volume(at), (at, None));
        let offset = "v@2026-12-04T05:00:00.5+01:00";
        assert_eq!(split_volume(&format!("{offset}:/x")), (offset, Some("/x")));
        assert_eq!(split_volume("v@-10m:/x"), ("v@-10m", Some("/x")));
        let Ok(VolumeRef::Moment(_, Moment::At(ns))) = VolumeRef::parse(at) else {
            panic!("{at} is a moment")
        };
        assert_eq!(format_moment(ns), "2026-12-04T05:00:00.000000000Z");
        assert_eq!(Moment::parse("-10m").unwrap(), Some(Moment::Ago(600_000_000_000)));
        assert_eq!(Moment::parse("mon").unwrap(), None);
        for bad in [
            "-",
            "-10x",
            "2026-13-99T99:00:00Z",
            "12:00",
            "-99999999999999999999h",
            "\0:",
            "-\u{0}",
        ] {
            let e = Moment::parse(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("time"), "{bad}");
        }
    }

    #[test]
    fn accepts_documented_names() {
        for name in ["a", "my-volume", "v1.2_x", &"a".repeat(63)] {
            assert!(VolumeName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_hostile_names() {
        let long = "a".repeat(10_000);
        for name in [
            "", "../../..", "a/b", "a\0b", ".hidden", "-x", "UPPER", "é", &long, "a b", "x:y", "x@y",
        ] {
            let err = VolumeName::parse(name).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("name"));
            assert!(err.message.contains("1 to 63"), "{}", err.message);
            assert!(err.message.len() < 400, "message echoes huge input");
        }
        assert!(VolumeName::parse(&Uuid::new_v4().to_string()).is_err());
    }

    #[test]
    fn refs_are_ids_or_names() {
        let id = Uuid::new_v4();
        assert_eq!(VolumeRef::parse(&id.to_string()).unwrap(), VolumeRef::Id(id));
        assert!(matches!(VolumeRef::parse("data").unwrap(), VolumeRef::Name(_)));
        assert_eq!(VolumeRef::parse("a/b").unwrap_err().field.as_deref(), Some("volume"));
        assert!(matches!(
            VolumeRef::parse("data@monday").unwrap(),
            VolumeRef::Snapshot(..)
        ));
        for bad in ["@x", "x@", "a@b@c", "a@B", "../a@b"] {
            assert!(VolumeRef::parse(bad).is_err(), "{bad}");
        }
    }
}
