//! `fs du`, `fs find` and `fs tree`: a folder and all below it, walked through the files API
//! with a list of folders still to visit (never recursion, so any depth fits in memory).

use crate::target::Target;
use serde::Serialize;
use strata_client::Client;
use strata_core::api::{FileKind, Stat};
use strata_core::paths::FsPath;

/// One entry below the folder walked: its path in the volume and how deep it lies (1 for
/// the folder's own entries).
pub struct Found {
    pub path: FsPath,
    pub depth: usize,
    pub stat: Stat,
}

/// Every entry below `target`, folders before what they hold, each folder's entries in name
/// order; `target` itself when it is not a folder.
pub async fn walk(client: &Client, target: &Target) -> strata_core::Result<Vec<Found>> {
    let root = FsPath::parse(&target.path, "target")?;
    let stat = client.stat(&target.volume, &target.path).await?;
    if stat.kind != FileKind::Directory {
        return Ok(vec![Found {
            path: root,
            depth: 0,
            stat,
        }]);
    }
    // Entries still to visit, the next one last: a folder's entries go on top of the stack
    // when the folder is visited, so each comes right after its folder, in name order.
    let mut stack = list(client, &target.volume, &root, 1).await?;
    let mut found = Vec::new();
    while let Some(entry) = stack.pop() {
        if entry.stat.kind == FileKind::Directory {
            stack.extend(list(client, &target.volume, &entry.path, entry.depth + 1).await?);
        }
        found.push(entry);
    }
    Ok(found)
}

/// A folder's entries at `depth`, in reverse name order (for the stack).
async fn list(client: &Client, volume: &str, dir: &FsPath, depth: usize) -> strata_core::Result<Vec<Found>> {
    let mut entries = client.list(volume, &dir.to_string()).await?;
    entries.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(entries
        .into_iter()
        .map(|e| Found {
            path: dir.join(&e.name),
            depth,
            stat: e.stat,
        })
        .collect())
}

/// What `fs du` counts.
#[derive(Debug, Default, Serialize)]
pub struct Usage {
    pub bytes: u64,
    pub files: u64,
    pub folders: u64,
    pub symlinks: u64,
}

pub fn usage(found: &[Found]) -> Usage {
    let mut u = Usage::default();
    for f in found {
        match f.stat.kind {
            FileKind::Directory => u.folders += 1,
            FileKind::Symlink => u.symlinks += 1,
            _ => {
                u.files += 1;
                u.bytes += f.stat.size;
            }
        }
    }
    u
}

/// Whether `name` matches a shell pattern of `*` (any run of characters) and `?` (one).
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and the name position it stands for so far.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        for (p, n) in [
            ("*.rs", "main.rs"),
            ("*", ""),
            ("a?c", "abc"),
            ("*a*b*", "xxaxxbxx"),
            ("main.rs", "main.rs"),
        ] {
            assert!(matches(p, n), "{p} {n}");
        }
        for (p, n) in [("*.rs", "main.rc"), ("a?c", "ac"), ("abc", "abcd"), ("*a*b", "ba")] {
            assert!(!matches(p, n), "{p} {n}");
        }
    }
}
