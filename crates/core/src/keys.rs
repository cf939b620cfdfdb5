//! Organizations, API keys and scoped tokens: their names, roles and lifetimes.

use crate::names::shorten;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

pub const NAME_RULE: &str = "1 to 63 characters of a-z, 0-9, '.', '_' and '-', not starting with '.' or '-'";

/// The longest a key or token may live.
pub const MAX_TTL_SECS: u64 = 10 * 365 * 24 * 3600;

/// What a key may do beyond the volumes of its organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Manages organizations and the keys of every organization; runs gc and fsck.
    Admin,
    /// Manages the keys of its own organization.
    OrgAdmin,
    /// Works with the volumes of its organization and makes scoped tokens for them.
    Member,
}

impl Role {
    pub fn parse(role: &str) -> Result<Role> {
        match role {
            "admin" => Ok(Role::Admin),
            "org-admin" => Ok(Role::OrgAdmin),
            "member" => Ok(Role::Member),
            _ => Err(Error::invalid(
                "role",
                format!("invalid role {:?}: admin, org-admin or member", shorten(role)),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::OrgAdmin => "org-admin",
            Role::Member => "member",
        }
    }
}

/// Checks an organization or key name; `what` and `field` name it in the error.
fn parse_name(name: &str, what: &str, field: &str) -> Result<String> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let ok = !name.is_empty() && name.len() <= 63 && name.chars().all(allowed) && !name.starts_with(['.', '-']);
    if ok {
        Ok(name.to_owned())
    } else {
        Err(Error::invalid(
            field,
            format!("invalid {what} name {:?}: {NAME_RULE}", shorten(name)),
        ))
    }
}

/// An organization name that follows [`NAME_RULE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(name: &str) -> Result<Self> {
        parse_name(name, "organization", "org").map(OrgName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key name that follows [`NAME_RULE`], unique in its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(name: &str) -> Result<Self> {
        parse_name(name, "key", "name").map(KeyName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses how long a key lives: a whole number and a unit, `s`, `m`, `h` or `d` (`90s`,
/// `12h`, `30d`), from one second to ten years. Returns seconds.
pub fn parse_ttl(ttl: &str) -> Result<u64> {
    let err = || {
        Error::invalid(
            "ttl",
            format!(
                "invalid ttl {:?}: a whole number and s, m, h or d, like 90s or 12h, from 1s to 3650d",
                shorten(ttl)
            ),
        )
    };
    let digits = ttl.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (number, unit) = ttl.split_at(digits);
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(err()),
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(err)?;
    if secs == 0 || secs > MAX_TTL_SECS {
        return Err(err());
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("1s").unwrap(), 1);
        assert_eq!(parse_ttl("90m").unwrap(), 5400);
        assert_eq!(parse_ttl("12h").unwrap(), 43_200);
        assert_eq!(parse_ttl("3650d").unwrap(), MAX_TTL_SECS);
        let huge = "9".repeat(10_000);
        for bad in [
            "",
            "0s",
            "-1s",
            "+1s",
            "1",
            "h",
            "1x",
            "1 h",
            "1h\0",
            "1hh",
            "1.5h",
            "3651d",
            "١h",
            "1ｈ",
            "99999999999999999999h",
            "18446744073709551615d",
            &huge,
        ] {
            let e = parse_ttl(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("ttl"), "{bad:?}");
            assert!(e.message.len() < 400, "message echoes huge input");
        }
    }

    #[test]
    fn org_and_key_names() {
        assert!(OrgName::parse("acme-corp.eu_1").is_ok());
        assert!(KeyName::parse("ci").is_ok());
        let long = "a".repeat(64);
        for bad in [
            "",
            "..",
            "a/b",
            "a\0b",
            ".x",
            "-x",
            "UP",
            "é",
            "a b",
            long.as_str(),
            "x@y",
        ] {
            assert_eq!(
                OrgName::parse(bad).unwrap_err().field.as_deref(),
                Some("org"),
                "{bad:?}"
            );
            assert_eq!(
                KeyName::parse(bad).unwrap_err().field.as_deref(),
                Some("name"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn roles() {
        for role in [Role::Admin, Role::OrgAdmin, Role::Member] {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        for bad in ["", "Admin", "root", "admin\0", "org_admin"] {
            assert_eq!(Role::parse(bad).unwrap_err().field.as_deref(), Some("role"));
        }
    }
}
