#![allow(dead_code)] // each benchmark uses part of it
//! What the metadata benchmarks share: a SQLite file of small files, and timings.

use std::time::Instant;
use strata_core::api::FileKind;
use strata_core::names::VolumeName;
use strata_meta::*;
use uuid::Uuid;

pub const ORG: &str = "bench";
pub const FILES_PER_DIR: u64 = 1000;

pub fn name(s: &str) -> VolumeName {
    VolumeName::parse(s).unwrap()
}

/// The one part of a benchmark its arguments name (`cargo bench ... -- PART`), if any.
pub fn part() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}

pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1]
}

/// Milliseconds `f` takes.
pub fn ms<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64() * 1000.0)
}

/// Replaces file `ino`'s content with `text`, inline.
pub fn write_text(meta: &SqliteMeta, vol: Uuid, ino: u64, text: &str) {
    let data = text.as_bytes().to_vec();
    let chunk = Chunk {
        idx: 0,
        len: data.len() as u64,
        data: ChunkData::Inline(data),
    };
    meta.write_chunks(vol, ino, chunk.len, &[chunk], true).unwrap();
}

/// A volume of `files` small inline files, `FILES_PER_DIR` per directory: the directories'
/// inodes and names.
pub fn populate(meta: &SqliteMeta, vol: Uuid, files: u64) -> Vec<(u64, String)> {
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
        write_text(meta, vol, f.ino, &format!("file {i}"));
    }
    dirs
}

/// File `i` of a populated volume.
pub fn file(meta: &SqliteMeta, vol: Uuid, dirs: &[(u64, String)], i: u64) -> u64 {
    let (dir, _) = &dirs[(i / FILES_PER_DIR) as usize];
    meta.lookup(vol.into(), *dir, format!("f{i}").as_bytes()).unwrap().ino
}

/// Microseconds per lookup + getattr + chunk list of a file, averaged over many files.
pub fn read_latency_us(meta: &SqliteMeta, vol: Uuid, dirs: &[(u64, String)], files: u64) -> f64 {
    let rounds = 20_000u64;
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

/// Microseconds to list a directory of `FILES_PER_DIR` entries with their attributes, one page.
pub fn list_latency_us(meta: &SqliteMeta, vol: Uuid, dirs: &[(u64, String)]) -> f64 {
    let rounds = 50;
    let start = Instant::now();
    for r in 0..rounds {
        let (dir, _) = &dirs[r % dirs.len()];
        let page = meta
            .readdir_page(vol.into(), *dir, None, FILES_PER_DIR as usize)
            .unwrap();
        assert_eq!(page.entries.len() as u64, FILES_PER_DIR);
    }
    start.elapsed().as_secs_f64() * 1e6 / rounds as f64
}
