//! Printing results for people or, with `--json`, for programs.

use serde::Serialize;
use strata_core::api::{FileKind, Stat};

/// `--json`, on the commands that print data (and only there: elsewhere it is refused as
/// an unknown option).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct Output {
    /// Print the result as JSON (times in RFC 3339, modes as octal strings)
    #[arg(long)]
    pub json: bool,
}

/// Keys whose integer values are nanoseconds since the Unix epoch.
const TIME_KEYS: [&str; 6] = ["created_at", "updated_at", "last_used_at", "atime", "mtime", "ctime"];

/// Makes the JSON of API bodies readable: times as RFC 3339, modes as octal strings.
fn readable(value: &mut serde_json::Value) {
    use serde_json::Value;
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            Value::Array(items) => pending.extend(items.iter_mut()),
            Value::Object(fields) => {
                for (key, field) in fields.iter_mut() {
                    match (key.as_str(), field.as_i64()) {
                        (k, Some(ns)) if TIME_KEYS.contains(&k) => *field = Value::String(rfc3339(ns)),
                        ("mode", Some(mode)) => *field = Value::String(format!("{mode:04o}")),
                        _ => pending.push(field),
                    }
                }
            }
            _ => {}
        }
    }
}

/// A time in nanoseconds since the Unix epoch as RFC 3339, to the nanosecond.
fn rfc3339(ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns.max(0) as u64);
    humantime::format_rfc3339_nanos(t).to_string()
}

impl Output {
    /// Prints `value` as JSON, or the text `human` makes.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> crate::CmdResult {
        if self.json {
            let mut value = serde_json::to_value(value).map_err(anyhow::Error::from)?;
            readable(&mut value);
            say(&serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)?)
        } else {
            let text = human();
            if text.is_empty() { Ok(()) } else { say(&text) }
        }
    }
}

/// Prints a line to standard output. A reader that went away (`| head`) ends the command
/// quietly with the shell's code for it (141), as it ends any Unix tool, instead of Rust's
/// panic. (SIGPIPE stays ignored: a server closing an upload early must not kill the CLI.)
pub fn say(text: &str) -> crate::CmdResult {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(crate::Failure::exit_quietly(141)),
        Err(e) => Err(anyhow::Error::from(e).into()),
    }
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn time(ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// `drwxr-xr-x`-style mode string.
pub fn mode(stat: &Stat) -> String {
    let kind = match stat.kind {
        FileKind::Directory => 'd',
        FileKind::Symlink => 'l',
        FileKind::Fifo => 'p',
        FileKind::Socket => 's',
        FileKind::CharDevice => 'c',
        FileKind::BlockDevice => 'b',
        FileKind::File => '-',
    };
    let mut s = String::from(kind);
    for shift in [6, 3, 0] {
        let bits = (stat.mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_times_and_modes_are_readable() {
        let mut v = serde_json::json!([{ "mode": 420, "mtime": 1_500_000_000_123_456_789_i64,
            "stat": { "created_at": 0, "size": 7 } }]);
        super::readable(&mut v);
        assert_eq!(v[0]["mode"], "0644");
        assert_eq!(v[0]["mtime"], "2017-07-14T02:40:00.123456789Z");
        assert_eq!(v[0]["stat"]["created_at"], "1970-01-01T00:00:00.000000000Z");
        assert_eq!(v[0]["stat"]["size"], 7);
    }
}
