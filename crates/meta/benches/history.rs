//! What history, diff and merge cost, on a real SQLite file.
//!
//!     cargo bench -p strata-meta --bench history
//!
//! Prints markdown tables: diff (a fork against its source, and a moment against now), merge
//! (dry run and applied) and the history listing, with 1 and with 1,000 files changed on
//! each side of a 100,000-file volume; then writes per second with history kept for 24 h
//! and with history off, for three patterns of writes, and the rows history keeps for them.
//! `-- diff` or `-- writes` runs one part.

mod common;
use common::*;
use std::time::Duration;
use strata_core::names::{Moment, VolumeRef};
use strata_meta::*;
use uuid::Uuid;

const DAY_NS: i64 = 86_400_000_000_000;
const STEP_NS: i64 = 100_000_000;
const FILES: u64 = 100_000;

/// Rewrites `count` files of the volume, spread over its directories, from file `first` on.
fn change(meta: &SqliteMeta, vol: Uuid, dirs: &[(u64, String)], first: u64, count: u64, round: u64) {
    for k in 0..count {
        let i = (first + k * 97) % FILES;
        let ino = file(meta, vol, dirs, i);
        write_text(meta, vol, ino, &format!("file {i}, round {round}"));
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    percentile(&mut samples, 0.5)
}

fn main() {
    let part = part();
    if part.as_deref() != Some("writes") {
        diff_and_merge();
    }
    if part.as_deref() != Some("diff") {
        writes();
    }
}

fn diff_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
    meta.set_history(DAY_NS, STEP_NS);
    let src = meta.create_volume(ORG, &name("src"), 10_000).unwrap().id;
    let (dirs, took) = ms(|| populate(&meta, src, FILES));
    eprintln!("{FILES} files in {:.1} s", took / 1000.0);

    println!(
        "| files changed on each side | diff fork/source, ms | diff moment/now, ms | merge dry run, ms | merge, ms | history, ms |"
    );
    println!("|---|---|---|---|---|---|");
    let mut round = 0;
    for (count, rounds) in [(1u64, 15), (1_000, 3)] {
        let mut t: [Vec<f64>; 5] = Default::default();
        for _ in 0..rounds {
            round += 1;
            let fork = meta
                .fork_volume(ORG, src, &name(&format!("fork{round}")), 10_000)
                .unwrap()
                .id;
            // A moment in a window of its own, then changes on both sides.
            std::thread::sleep(Duration::from_nanos(2 * STEP_NS as u64));
            let before = now_ns();
            std::thread::sleep(Duration::from_nanos(2 * STEP_NS as u64));
            change(&meta, fork, &dirs, round * 7, count, round);
            change(&meta, src, &dirs, round * 7 + 50_000, count, round);
            let (d, took) = ms(|| meta.diff(src, fork).unwrap());
            assert_eq!(d.len() as u64, 2 * count);
            t[0].push(took);
            let (d, took) = ms(|| {
                let moment = VolumeRef::Moment(name("src"), Moment::At(before));
                let then = meta.get_volume(ORG, &moment).unwrap();
                meta.diff(then.id, src).unwrap()
            });
            assert_eq!(d.len() as u64, count);
            t[1].push(took);
            let (report, took) = ms(|| meta.merge_fork(ORG, fork, None, None, true).unwrap());
            assert_eq!(report.changes.len() as u64, count);
            t[2].push(took);
            let (report, took) = ms(|| meta.merge_fork(ORG, fork, None, None, false).unwrap());
            assert!(report.applied && report.conflicts.is_empty());
            t[3].push(took);
            let (points, took) = ms(|| meta.history(ORG, src, 100).unwrap());
            assert!(!points.is_empty());
            t[4].push(took);
            meta.delete_volume(ORG, fork).unwrap();
        }
        let [a, b, c, d, e] = t.map(median);
        println!("| {count} | {a:.2} | {b:.2} | {c:.2} | {d:.2} | {e:.2} |");
    }
}

fn writes() {
    println!("\n| writes | history off, /s | kept 24 h, /s | on / off | past rows kept |");
    println!("|---|---|---|---|---|");
    for workload in [Workload::Create, Workload::HotFile, Workload::EveryFile] {
        let mut rates = [Vec::new(), Vec::new()];
        let mut kept = 0;
        // Alternating runs, each on a file of its own, so that neither side gets a warmer disk.
        for run in 0..6 {
            let on = run % 2 == 1;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("meta.db");
            let meta = SqliteMeta::open(&path).unwrap();
            meta.set_history(if on { DAY_NS } else { 0 }, STEP_NS);
            let (writes, took) = workload.run(&meta);
            rates[on as usize].push(writes as f64 / took * 1000.0);
            drop(meta);
            if on {
                let db = rusqlite::Connection::open(&path).unwrap();
                let sql = "SELECT (SELECT count(*) FROM past_inodes) + (SELECT count(*) FROM past_chunks)";
                kept = db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
            }
        }
        let [off, on] = rates.map(median);
        println!(
            "| {} | {off:.0} | {on:.0} | {:.2} | {kept} |",
            workload.describe(),
            on / off
        );
    }
}

#[derive(Clone, Copy)]
enum Workload {
    /// New small files.
    Create,
    /// One file rewritten again and again (a log, a database).
    HotFile,
    /// Every file of a tree rewritten in turn: each write replaces a version an earlier
    /// window wrote, so each one is kept (the most history can cost).
    EveryFile,
}

impl Workload {
    fn describe(self) -> &'static str {
        match self {
            Workload::Create => "create 10,000 files of 20 bytes",
            Workload::HotFile => "rewrite one file 10,000 times",
            Workload::EveryFile => "rewrite each of 2,000 files 5 times in turn",
        }
    }

    /// How many writes it made and in how many milliseconds.
    fn run(self, meta: &SqliteMeta) -> (u64, f64) {
        let vol = meta.create_volume(ORG, &name("w"), 10_000).unwrap().id;
        let took = match self {
            Workload::Create => ms(|| populate(meta, vol, 10_000)).1,
            Workload::HotFile => {
                let dirs = populate(meta, vol, 1);
                let ino = file(meta, vol, &dirs, 0);
                ms(|| (0..10_000).for_each(|w| write_text(meta, vol, ino, &format!("write {w}")))).1
            }
            Workload::EveryFile => {
                let dirs = populate(meta, vol, 2_000);
                let inos: Vec<u64> = (0..2_000).map(|i| file(meta, vol, &dirs, i)).collect();
                ms(|| (0..10_000).for_each(|w| write_text(meta, vol, inos[w % 2_000], &format!("write {w}")))).1
            }
        };
        (10_000, took)
    }
}
