//! The write-back journal: every change a mount that owns its tree defers is written to a
//! local file as it is made, so that a mount killed before shipping its changes loses none
//! of them when its machine survives: the next mount of the volume with the same cache
//! folder replays them, under the killed mount's session while its lease lasts, before it
//! opens its own.
//!
//! One file per mount process (`CACHE/journal/SESSION.jsonl`), locked (`flock`) while the
//! process lives, so only a dead mount's journal is taken. Lines, in the order things
//! happen: the session first, then `change` (a deferred request and the blocks it names),
//! `stored` (a block the server has), `batch` (the changes up to a number went in batch
//! `seq`), `applied` (the changes up to a number are at the server). Nothing is synced: a
//! killed process's writes are in the kernel's page cache; a machine that crashes loses
//! the journal with everything else local.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use strata_core::api::SessionInfo;
use strata_core::session::Request;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Session(Box<SessionInfo>),
    Change {
        n: u64,
        op: String,
        args: serde_json::Value,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        blocks: Vec<String>,
    },
    Stored(String),
    Batch {
        seq: u64,
        upto: u64,
    },
    Applied(u64),
}

/// The journal a mount writes while it runs.
pub struct Journal {
    path: PathBuf,
    file: Mutex<Open>,
    header: String,
}

/// The journal's file, locked for as long as the mount runs (also once it cannot be written:
/// then it is emptied, and no other mount takes it for a dead one's).
struct Open {
    file: File,
    /// Bytes written since it last started again.
    written: u64,
    /// A write failed: the mount goes on without a journal.
    broken: bool,
}

/// A journal this long is started again with only what is not applied yet.
const LONG: u64 = 64 << 20;

/// Takes an exclusive `flock` on `file` without waiting; says whether it got it.
fn lock_file(file: &File) -> bool {
    // SAFETY: flock(2) on a descriptor this process owns.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

impl Journal {
    /// Starts the journal of the session `info` in `dir`: made under another name, locked
    /// and given its first line before it takes its own, so no other mount ever sees it
    /// unlocked or empty.
    pub fn create(dir: &Path, info: &SessionInfo) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.jsonl", info.id));
        let making = dir.join(format!("{}.new", info.id));
        // Appending: every write lands at the end, also after the file is emptied.
        let mut file = File::options().create(true).append(true).open(&making)?;
        if !lock_file(&file) {
            return Err(std::io::Error::other("the journal is locked"));
        }
        file.set_len(0)?;
        let header = line(&Line::Session(Box::new(info.clone())));
        file.write_all(header.as_bytes())?;
        std::fs::rename(&making, &path)?;
        Ok(Journal {
            path,
            file: Mutex::new(Open {
                file,
                written: header.len() as u64,
                broken: false,
            }),
            header,
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, what: &Line) {
        let mut open = self.open();
        if open.broken {
            return;
        }
        let text = line(what);
        match open.file.write_all(text.as_bytes()) {
            Ok(()) => open.written += text.len() as u64,
            Err(e) => self.break_off(&mut open, e),
        }
    }

    /// A write failed: what the journal holds is no longer all that is not applied, so it
    /// is emptied (a mount that finds it after this one died takes nothing from it).
    fn break_off(&self, open: &mut Open, e: std::io::Error) {
        tracing::warn!("cannot write the write-back journal {}: {e}", self.path.display());
        let _ = open.file.set_len(0);
        open.broken = true;
    }

    /// Change `n`, `request` (its arguments already encoded as JSON, `args`), deferred; it
    /// names `blocks`.
    pub fn change(&self, n: u64, request: &Request, args: &str, blocks: &[String]) {
        let mut open = self.open();
        if open.broken {
            return;
        }
        let text = change_line(n, request, args, blocks);
        match open.file.write_all(text.as_bytes()) {
            Ok(()) => open.written += text.len() as u64,
            Err(e) => self.break_off(&mut open, e),
        }
    }

    /// The server has the block `hash`.
    pub fn stored(&self, hash: &str) {
        self.write(&Line::Stored(hash.to_owned()));
    }

    /// The changes up to `upto` not yet applied went in batch `seq`.
    pub fn batch(&self, seq: u64, upto: u64) {
        self.write(&Line::Batch { seq, upto });
    }

    /// The changes up to `upto` are at the server.
    pub fn applied(&self, upto: u64) {
        self.write(&Line::Applied(upto));
    }

    /// Whether the journal grew long enough to start again (see [`Journal::restart`]).
    pub fn is_long(&self) -> bool {
        self.open().written > LONG
    }

    /// Starts the journal again with only what is not applied: the changes up to `applied`
    /// are, the last batch number is `seq`, which took the changes up to `upto`, and
    /// `pending` (number, request, blocks named) are not applied yet.
    pub fn restart(&self, seq: u64, upto: u64, applied: u64, pending: &[(u64, &Request, &[String])]) {
        let mut text = format!(
            "{}{}{}",
            self.header,
            line(&Line::Batch { seq, upto }),
            line(&Line::Applied(applied))
        );
        for (n, request, blocks) in pending {
            text.push_str(&change_line(*n, request, &request.to_value().to_string(), blocks));
        }
        let mut open = self.open();
        if open.broken {
            return;
        }
        match self.replace(&text) {
            Ok(file) => {
                open.file = file;
                open.written = text.len() as u64;
            }
            Err(e) => self.break_off(&mut open, e),
        }
    }

    /// A file holding `text`, made under another name and locked, then put in the journal's
    /// place: a mount killed at any moment leaves the old journal or the new one, whole
    /// (emptying the file in place lost every change not applied to a kill in between).
    fn replace(&self, text: &str) -> std::io::Result<File> {
        let making = self.path.with_extension("new");
        let mut file = File::options().create(true).append(true).open(&making)?;
        if !lock_file(&file) {
            return Err(std::io::Error::other("the journal is locked"));
        }
        file.set_len(0)?;
        file.write_all(text.as_bytes())?;
        std::fs::rename(&making, &self.path)?;
        Ok(file)
    }

    /// The mount ended with everything shipped: no journal is left.
    pub fn remove(&self) {
        let _held = self.open();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A [`Line::Change`], written around arguments already encoded: the requests a mount
/// defers are encoded once, to size them (a 64 KiB inline write is not encoded again).
fn change_line(n: u64, request: &Request, args: &str, blocks: &[String]) -> String {
    let blocks = serde_json::to_string(blocks).unwrap_or_else(|_| "[]".into());
    format!(
        "{{\"change\":{{\"n\":{n},\"op\":\"{}\",\"args\":{args},\"blocks\":{blocks}}}}}\n",
        request.name()
    )
}

fn line(what: &Line) -> String {
    let mut s = serde_json::to_string(what).unwrap_or_default();
    s.push('\n');
    s
}

/// A change from a journal: its number, the request, and the blocks it names.
pub type Journalled = (u64, Request, Vec<String>);

/// What a dead mount's journal holds that the server may not have yet.
pub struct Orphan {
    pub path: PathBuf,
    pub session: SessionInfo,
    /// The last batch number the dead mount used.
    pub last_seq: u64,
    /// The batch that was under way, if any: its number and changes.
    pub shipment: Option<(u64, Vec<Journalled>)>,
    /// The changes after it, in order.
    pub queued: Vec<Journalled>,
    /// The blocks the server is known to have.
    pub stored: HashSet<String>,
    /// Keeps the dead mount's journal locked while it is replayed.
    _lock: File,
}

impl Orphan {
    /// The journal is replayed (or cannot be): it goes.
    pub fn done(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The journals in `dir` of dead mounts of the volume `volume` (those nobody holds locked).
pub fn orphans(dir: &Path, volume: &str) -> Vec<Orphan> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(ext) = path.extension().filter(|e| *e == "jsonl" || *e == "new") else {
            continue;
        };
        let Ok(file) = File::open(&path) else { continue };
        if !lock_file(&file) {
            continue; // its mount is alive
        }
        if ext == "new" {
            // A mount died making its journal: nothing was journalled yet.
            let _ = std::fs::remove_file(&path);
            continue;
        }
        match read(&file, &path) {
            Some(orphan) if orphan.session.volume.name == volume || orphan.session.volume.id.to_string() == volume => {
                found.push(orphan)
            }
            Some(_) => {}
            None => {
                tracing::warn!("{}: not a write-back journal; removed", path.display());
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    found
}

/// Reads a journal; `None` if it does not start with its session.
fn read(file: &File, path: &Path) -> Option<Orphan> {
    let mut lines = std::io::BufReader::new(file).lines().map_while(Result::ok);
    let Ok(Line::Session(session)) = serde_json::from_str(&lines.next()?) else {
        return None;
    };
    let (mut changes, mut stored, mut batch) = (Vec::new(), HashSet::new(), None);
    let (mut applied, mut last_seq) = (0, 0);
    // A torn last line (the process died while writing it) ends the journal.
    for line in lines.map_while(|l| serde_json::from_str::<Line>(&l).ok()) {
        match line {
            Line::Session(_) => return None,
            Line::Change { n, op, args, blocks } => {
                if let Ok(request) = Request::from_value(&op, args) {
                    changes.push((n, request, blocks));
                }
            }
            Line::Stored(hash) => {
                stored.insert(hash);
            }
            Line::Batch { seq, upto } => {
                batch = Some((seq, upto));
                last_seq = last_seq.max(seq);
            }
            Line::Applied(upto) => applied = upto,
        }
    }
    changes.retain(|(n, _, _)| *n > applied);
    let mut queued = changes;
    let shipment = batch.filter(|&(_, upto)| upto > applied).map(|(seq, upto)| {
        let rest = queued.split_off(queued.iter().position(|(n, _, _)| *n > upto).unwrap_or(queued.len()));
        (seq, std::mem::replace(&mut queued, rest))
    });
    Some(Orphan {
        path: path.to_owned(),
        session: *session,
        last_seq,
        shipment: shipment.filter(|(_, changes)| !changes.is_empty()),
        queued,
        stored,
        _lock: file.try_clone().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::api::{NodeRef, RemoveName};

    fn info(id: u128) -> SessionInfo {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::from_u128(id),
            "volume": {"id": uuid::Uuid::from_u128(99), "name": "v", "state": "ready", "created_at": 0,
                       "updated_at": 0, "used_bytes": 0, "file_count": 0},
            "read_only": false,
            "root": {"node": {"ino": 1, "cap": 0}, "stat": crate::testing::file_stat(1, 0)},
        }))
        .unwrap()
    }

    fn unlink(name: &str) -> Request {
        Request::Unlink(RemoveName::new(NodeRef { ino: 1, cap: 0 }, name))
    }

    fn names(changes: &[Journalled]) -> Vec<(u64, String)> {
        let name = |r: &Request| match r {
            Request::Unlink(r) => r.name.clone(),
            _ => String::new(),
        };
        changes.iter().map(|(n, r, _)| (*n, name(r))).collect()
    }

    #[test]
    fn a_dead_mounts_journal_says_what_the_server_may_lack() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), &info(1)).unwrap();
        let change = |n: u64, name: &str, blocks: &[String]| {
            let request = unlink(name);
            journal.change(n, &request, &request.to_value().to_string(), blocks);
        };
        change(1, "a", &[]);
        change(2, "b", &["h1".into()]);
        journal.stored("h1");
        journal.batch(5, 2);
        journal.applied(1);
        change(3, "c", &["h2".into()]);
        // A mount alive holds its journal: it is nobody's to replay.
        let alive = Journal::create(dir.path(), &info(2)).unwrap();
        alive.restart(0, 0, 0, &[]);
        drop(journal);
        // The process died while writing a line: the journal ends before it.
        let path = dir.path().join(format!("{}.jsonl", uuid::Uuid::from_u128(1)));
        let mut file = File::options().append(true).open(&path).unwrap();
        file.write_all(b"{\"change\":{\"n\":4,\"op\":\"unl").unwrap();

        assert!(orphans(dir.path(), "other").is_empty(), "another volume's");
        let mut found = orphans(dir.path(), "v");
        assert_eq!(found.len(), 1, "the live mount's journal is not taken");
        let orphan = found.pop().unwrap();
        assert_eq!((orphan.session.id, orphan.last_seq), (uuid::Uuid::from_u128(1), 5));
        let (seq, shipment) = orphan.shipment.as_ref().unwrap();
        assert_eq!((*seq, names(shipment)), (5, vec![(2, "b".into())]), "1 was applied");
        assert_eq!(names(&orphan.queued), vec![(3, "c".into())]);
        assert!(orphan.stored.contains("h1") && !orphan.stored.contains("h2"));
        orphan.done();
        assert!(orphans(dir.path(), "v").is_empty(), "replayed once");

        // Started again: the last batch number and what is not applied stay.
        let (d, e) = (unlink("d"), unlink("e"));
        alive.change(1, &d, &d.to_value().to_string(), &[]);
        alive.change(2, &e, &e.to_value().to_string(), &[]);
        alive.batch(8, 2);
        alive.restart(8, 2, 1, &[(2, &e, &[])]);
        drop(alive);
        let orphan = orphans(dir.path(), "v").pop().unwrap();
        let (seq, shipment) = orphan.shipment.as_ref().unwrap();
        assert_eq!((*seq, names(shipment)), (8, vec![(2, "e".into())]));
        assert!(orphan.queued.is_empty());
        assert_eq!(orphan.last_seq, 8);
    }
}
