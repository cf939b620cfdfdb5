//! Fork cost by volume size, and lookup cost by fork depth, on a real SQLite file.
//!
//!     cargo bench -p strata-meta --bench forks
//!
//! Prints markdown tables: fork time p50/p99 for volumes of 1,000, 10,000 and 100,000 files,
//! and the latency of a lookup + getattr + chunk list at fork depth 1, 8, 32 and 64, before
//! and after flattening. `-- size` or `-- depth` runs one table.

mod common;
use common::*;
use std::time::Instant;
use strata_core::api::FileKind;
use strata_meta::*;
use uuid::Uuid;

fn main() {
    let part = part();
    if part.as_deref() != Some("depth") {
        fork_cost_by_size();
    }
    if part.as_deref() != Some("size") {
        read_cost_by_depth();
    }
}

fn fork_cost_by_size() {
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
}

fn read_cost_by_depth() {
    println!(
        "| fork depth | layers walked | lookup + getattr + chunks, µs | vs depth 1 | list 1,000 entries, µs | vs depth 1 |"
    );
    println!("|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
    let files = 10_000;
    let mut vol = meta.create_volume(ORG, &name("d0"), 10_000).unwrap().id;
    let dirs = populate(&meta, vol, files);
    let measure = |vol: Uuid| {
        (
            read_latency_us(&meta, vol, &dirs, files),
            list_latency_us(&meta, vol, &dirs),
        )
    };
    measure(vol); // warms the caches
    let base = measure(vol);
    let row = |label: &str, vol: Uuid, t: (f64, f64)| {
        println!(
            "| {label} | {} | {:.1} | {:.2} | {:.0} | {:.2} |",
            meta.chain_depth(vol).unwrap(),
            t.0,
            t.0 / base.0,
            t.1,
            t.1 / base.1
        );
    };
    row("1", vol, base);
    for depth in 1..=64u64 {
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
        if [8, 32, 64].contains(&depth) {
            row(&depth.to_string(), vol, measure(vol));
        }
    }
    // Another volume's writer, timed while the flatten runs: how long compaction stalls it.
    let other = meta.create_volume(ORG, &name("other"), 10_000).unwrap().id;
    let done = std::sync::atomic::AtomicBool::new(false);
    let (flatten_ms, (writes, longest_ms)) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let (mut writes, mut longest) = (0u64, 0f64);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let file = format!("w{writes}");
                let new = NewInode::new(FileKind::File, 0o644);
                let (_, took) = ms(|| meta.create(other.into(), ROOT_INO, file.as_bytes(), &new).unwrap());
                (writes, longest) = (writes + 1, longest.max(took));
            }
            (writes, longest)
        });
        let (_, took) = ms(|| meta.flatten_volume(vol, 8).unwrap());
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (took, writer.join().unwrap())
    });
    row("64, flattened", vol, measure(vol));
    println!(
        "\nflatten of 64 layers over {files} files: {flatten_ms:.0} ms; another volume's writer made {writes} files meanwhile, the slowest in {longest_ms:.1} ms"
    );
}
