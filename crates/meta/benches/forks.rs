//! Fork cost by volume size, and lookup cost by fork depth, on a real SQLite file.
//!
//!     cargo bench -p strata-meta --bench forks
//!
//! Prints markdown tables: fork time p50/p99 for volumes of 1,000, 10,000 and 100,000 files,
//! and the latency of a lookup + getattr + chunk list at fork depth 1, 8 and 32, before
//! and after flattening.

use std::time::Instant;
use strata_core::api::FileKind;
use strata_core::names::VolumeName;
use strata_meta::*;
use uuid::Uuid;

const ORG: &str = "bench";
const FILES_PER_DIR: u64 = 1000;

fn name(s: &str) -> VolumeName {
    VolumeName::parse(s).unwrap()
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1]
}

/// A volume of `files` small inline files, `FILES_PER_DIR` per directory.
fn populate(meta: &SqliteMeta, vol: Uuid, files: u64) -> Vec<(u64, String)> {
    let mut dirs = Vec::new();
    let mut dir = ROOT_INO;
    for i in 0..files {
        if i % FILES_PER_DIR == 0 {
            let d = format!("d{}", i / FILES_PER_DIR);
            dir = meta
                .create(
                    vol.into(),
                    ROOT_INO,
                    d.as_bytes(),
                    &NewInode::new(FileKind::Directory, 0o755),
                )
                .unwrap()
                .ino;
            dirs.push((dir, d));
        }
        let f = meta
            .create(
                vol.into(),
                dir,
                format!("f{i}").as_bytes(),
                &NewInode::new(FileKind::File, 0o644),
            )
            .unwrap();
        let data = format!("file {i}").into_bytes();
        let chunk = Chunk {
            idx: 0,
            len: data.len() as u64,
            data: ChunkData::Inline(data),
        };
        meta.write_chunks(vol, f.ino, chunk.len, &[chunk], true).unwrap();
    }
    dirs
}

/// Microseconds per lookup + getattr + chunk list of a file, averaged over many files.
fn read_latency_us(meta: &SqliteMeta, vol: Uuid, dirs: &[(u64, String)], files: u64) -> f64 {
    let rounds = 2000u64;
    let start = Instant::now();
    for r in 0..rounds {
        let i = (r * 7919) % files;
        let (dir, _) = &dirs[(i / FILES_PER_DIR) as usize];
        let stat = meta.lookup(vol.into(), *dir, format!("f{i}").as_bytes()).unwrap();
        meta.getattr(vol.into(), stat.ino).unwrap();
        meta.chunks(vol.into(), stat.ino).unwrap();
    }
    start.elapsed().as_secs_f64() * 1e6 / rounds as f64
}

fn main() {
    println!("| volume size | fork p50, ms | fork p99, ms |");
    println!("|---|---|---|");
    let mut p50s = Vec::new();
    for files in [1_000u64, 10_000, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
        let src = meta.create_volume(ORG, &name("src"), 10_000).unwrap().id;
        populate(&meta, src, files);
        let mut samples: Vec<f64> = (0..100)
            .map(|i| {
                let start = Instant::now();
                meta.fork_volume(ORG, src, &name(&format!("fork{i}")), 10_000).unwrap();
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        let p50 = percentile(&mut samples, 0.5);
        p50s.push(p50);
        println!("| {files} files | {p50:.3} | {:.3} |", percentile(&mut samples, 0.99));
    }
    println!("\nfork p50 of 100,000 files / 1,000 files: {:.2}\n", p50s[2] / p50s[0]);

    println!("| fork depth | layers walked | lookup + getattr + chunks, µs | vs depth 1 |");
    println!("|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
    let files = 10_000;
    let mut vol = meta.create_volume(ORG, &name("d0"), 10_000).unwrap().id;
    let dirs = populate(&meta, vol, files);
    let base = read_latency_us(&meta, vol, &dirs, files);
    println!("| 1 | {} | {base:.1} | 1.00 |", meta.chain_depth(vol).unwrap());
    for depth in 1..=32u64 {
        let fork = meta
            .fork_volume(ORG, vol, &name(&format!("d{depth}")), 10_000)
            .unwrap()
            .id;
        // Each generation changes a few files, so every layer holds rows.
        for k in 0..5 {
            let i = (depth * 31 + k * 997) % files;
            let (d, _) = &dirs[(i / FILES_PER_DIR) as usize];
            let stat = meta.lookup(fork.into(), *d, format!("f{i}").as_bytes()).unwrap();
            meta.setattr(
                fork.into(),
                stat.ino,
                &AttrChanges {
                    mode: Some(0o600),
                    ..AttrChanges::default()
                },
            )
            .unwrap();
        }
        vol = fork;
        if depth == 8 || depth == 32 {
            let walked = meta.chain_depth(vol).unwrap();
            let t = read_latency_us(&meta, vol, &dirs, files);
            println!("| {depth} | {walked} | {t:.1} | {:.2} |", t / base);
        }
    }
    meta.flatten_volume(vol, 8).unwrap();
    let t = read_latency_us(&meta, vol, &dirs, files);
    println!(
        "| 32, flattened | {} | {t:.1} | {:.2} |",
        meta.chain_depth(vol).unwrap(),
        t / base
    );
}
