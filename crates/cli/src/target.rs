//! `VOLUME:/path` arguments.

use strata_core::Error;

/// A path in a volume, as the user wrote it: `VOLUME:/path`, or `VOLUME` for its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub volume: String,
    pub path: String,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if !s.contains(':')
            && let Some((volume, rest)) = s.split_once('/')
        {
            return Err(format!(
                "{s:?} is no VOLUME:/path: did you mean {volume}:/{}?",
                rest.trim_start_matches('/')
            ));
        }
        let (volume, path) = strata_core::names::split_volume(s);
        let path = path.unwrap_or("/");
        if volume.is_empty() {
            return Err(format!("{s:?} names no volume: write VOLUME:/path"));
        }
        let path = if path.is_empty() { "/" } else { path };
        Ok(Target {
            volume: volume.to_owned(),
            path: path.to_owned(),
        })
    }
}

impl Target {
    /// Rejects a second target in another volume, for operations inside one volume.
    pub fn same_volume(&self, other: &Target) -> Result<(), Error> {
        if self.volume == other.volume {
            Ok(())
        } else {
            Err(Error::invalid("to", "both paths must be in the same volume"))
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.volume, self.path)
    }
}
