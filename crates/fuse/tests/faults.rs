//! The mount's file-system core ([`Vfs`]) over the server's real session service, in this
//! process, failing calls the way a network and a restarting server do: refused before they apply (503, connection
//! refused, a server down for a while) and lost after they applied (a timeout). Random
//! operation sequences must leave the same files, with the same errors, as a local folder.
//! Failing cases are kept in `proptest-regressions/` and replayed first.

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_core::api::*;
use strata_core::paths::FsPath;
use strata_core::session::{Reply, Request, SessionApi};
use strata_core::{Error, ErrorKind, Result};
use strata_fuse::cache::BlockCache;
use strata_fuse::vfs::{ROOT, Vfs};
use strata_meta::ChunkData;
use strata_server::ServerConfig;
use strata_server::sessions::LiveSession;
use strata_server::state::AppState;

/// What happens to the next call.
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// Refused before it applies (a 503, a connection refused).
    Refuse,
    /// Applied, but the answer never comes back (a timeout).
    LoseReply,
    /// The server goes away for this many calls (a restart).
    Outage(u8),
}

/// The server's session service, on a real SQLite file and block folder in this process,
/// behind a fault plan: every rule a server applies to a mount's calls applies here.
struct InProcess {
    state: AppState,
    live: LiveSession,
    vol: uuid::Uuid,
    faults: Mutex<(Vec<Fault>, usize, u8)>,
    _dir: tempfile::TempDir,
}

impl InProcess {
    async fn new(faults: Vec<Fault>) -> InProcess {
        let dir = tempfile::tempdir().unwrap();
        let state = strata_server::open_state(&ServerConfig::in_folder(dir.path())).unwrap();
        let name = strata_core::names::VolumeName::parse("v").unwrap();
        let vol = state.meta.create_volume("org", &name, 1000).unwrap().id;
        let key = uuid::Uuid::new_v4();
        let live = strata_server::sessions::open(&state, "org", key, "v", &FsPath::root(), false)
            .await
            .unwrap();
        InProcess {
            state,
            live,
            vol,
            faults: Mutex::new((faults, 0, 0)),
            _dir: dir,
        }
    }

    fn next_fault(&self) -> Fault {
        let mut f = self.faults.lock().unwrap();
        let (plan, at, down) = &mut *f;
        if *down > 0 {
            *down -= 1;
            return Fault::Refuse;
        }
        // The plan covers the first calls only: a plan that cycled could refuse every call
        // for ever, past any retry window, which no server outage does.
        let fault = plan.get(*at).copied().unwrap_or(Fault::None);
        *at += 1;
        if let Fault::Outage(calls) = fault {
            *down = calls;
            return Fault::Refuse;
        }
        fault
    }

    /// Runs one call under the fault plan.
    async fn faulty<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let unavailable = || Error::new(ErrorKind::Unavailable, "injected: the server cannot be reached");
        match self.next_fault() {
            Fault::Refuse | Fault::Outage(_) => Err(unavailable()),
            Fault::LoseReply => {
                let _ = call.await;
                Err(unavailable())
            }
            Fault::None => call.await,
        }
    }
}

#[async_trait::async_trait]
impl SessionApi for InProcess {
    fn info(&self) -> &SessionInfo {
        &self.live.info
    }
    async fn call(&self, request: Request) -> Result<Reply> {
        let request = match request {
            // Small pages, so that listings here span several.
            Request::ReadDir(r) => Request::ReadDir(ReadDir { limit: Some(3), ..r }),
            other => other,
        };
        self.faulty(self.live.call(request)).await
    }
    async fn renew(&self) -> Result<()> {
        self.live.renew().await
    }
    async fn close(&self) -> Result<()> {
        self.live.close().await
    }
    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()> {
        self.faulty(self.live.put_block(hash, data)).await
    }
    async fn get_block(&self, hash: &str) -> Result<Bytes> {
        self.faulty(self.live.get_block(hash)).await
    }
    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        self.faulty(self.live.get_pieces(hash, first, last)).await
    }
}

const FILES: [&str; 4] = ["a", "b", "d/a", "d/b"];

#[derive(Debug, Clone)]
enum Op {
    Write {
        file: usize,
        offset: u64,
        len: usize,
        byte: u8,
    },
    Truncate {
        file: usize,
        size: u64,
    },
    Rename {
        from: usize,
        to: usize,
    },
    Link {
        from: usize,
        to: usize,
    },
    Unlink {
        file: usize,
    },
}

fn offset() -> impl Strategy<Value = u64> {
    // Inline files, block-stored ones, and writes across a block boundary.
    prop_oneof![0..70_000u64, Just((4 << 20) - 1000), 4_000_000..4_300_000u64]
}

fn op() -> impl Strategy<Value = Op> {
    let file = 0..FILES.len();
    prop_oneof![
        3 => (file.clone(), offset(), 1..50_000usize, any::<u8>())
            .prop_map(|(file, offset, len, byte)| Op::Write { file, offset, len, byte }),
        1 => (file.clone(), offset()).prop_map(|(file, size)| Op::Truncate { file, size }),
        1 => (file.clone(), file.clone()).prop_map(|(from, to)| Op::Rename { from, to }),
        1 => (file.clone(), file.clone()).prop_map(|(from, to)| Op::Link { from, to }),
        1 => file.prop_map(|file| Op::Unlink { file }),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        20 => Just(Fault::None),
        2 => Just(Fault::Refuse),
        2 => Just(Fault::LoseReply),
        1 => (1..3u8).prop_map(Fault::Outage),
    ]
}

/// The errno a result stands for, as the kernel would report it: 0 for success.
fn errno_of<T>(r: &Result<T>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => match e.kind {
            ErrorKind::NotFound => libc::ENOENT,
            ErrorKind::AlreadyExists => libc::EEXIST,
            ErrorKind::IsADirectory => libc::EISDIR,
            ErrorKind::NotADirectory => libc::ENOTDIR,
            _ => panic!("unexpected error: {e:?}"),
        },
    }
}

fn local_errno<T>(r: std::io::Result<T>) -> i32 {
    r.map_or_else(|e| e.raw_os_error().unwrap(), |_| 0)
}

/// Parent inode and name of one of [`FILES`].
async fn parent(vfs: &Vfs, path: &str) -> Result<(u64, String)> {
    match path.split_once('/') {
        Some((dir, name)) => Ok((vfs.lookup(ROOT, dir.as_bytes()).await?.ino, name.to_owned())),
        None => Ok((ROOT, path.to_owned())),
    }
}

async fn apply(vfs: &Vfs, op: &Op) -> Result<()> {
    match *op {
        Op::Write {
            file,
            offset,
            len,
            byte,
        } => {
            let (dir, name) = parent(vfs, FILES[file]).await?;
            let new = NewInode::new(FileKind::File, 0o644);
            let (_, fh) = vfs.create_file(dir, name.as_bytes(), new, libc::O_RDWR).await?;
            let written = vfs.write(fh, offset, &vec![byte; len]).await;
            let closed = vfs.release(fh).await;
            written.and(closed).map(drop)
        }
        Op::Truncate { file, size } => {
            let (dir, name) = parent(vfs, FILES[file]).await?;
            let ino = vfs.lookup(dir, name.as_bytes()).await?.ino;
            let (fh, _) = vfs.open(ino).await?;
            let changes = AttrChanges {
                size: Some(size),
                ..AttrChanges::default()
            };
            let cut = vfs.setattr(ino, changes).await;
            let closed = vfs.release(fh).await;
            cut.and(closed).map(drop)
        }
        Op::Rename { from, to } => {
            let ((fd, fname), (td, tname)) = (parent(vfs, FILES[from]).await?, parent(vfs, FILES[to]).await?);
            vfs.lookup(fd, fname.as_bytes()).await?;
            vfs.rename((fd, fname.as_bytes()), (td, tname.as_bytes()), false).await
        }
        Op::Link { from, to } => {
            let ((fd, fname), (td, tname)) = (parent(vfs, FILES[from]).await?, parent(vfs, FILES[to]).await?);
            let ino = vfs.lookup(fd, fname.as_bytes()).await?.ino;
            // The kernel refuses a link onto an existing name itself.
            if vfs.lookup(td, tname.as_bytes()).await.is_ok() {
                return Err(Error::new(ErrorKind::AlreadyExists, "exists"));
            }
            vfs.link(ino, td, tname.as_bytes()).await.map(drop)
        }
        Op::Unlink { file } => {
            // As the kernel does: a lookup first.
            let (dir, name) = parent(vfs, FILES[file]).await?;
            vfs.lookup(dir, name.as_bytes()).await?;
            vfs.unlink(dir, name.as_bytes()).await
        }
    }
}

fn apply_local(root: &Path, op: &Op) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    match *op {
        Op::Write {
            file,
            offset,
            len,
            byte,
        } => {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(root.join(FILES[file]))?;
            f.write_all_at(&vec![byte; len], offset)
        }
        Op::Truncate { file, size } => std::fs::OpenOptions::new()
            .write(true)
            .open(root.join(FILES[file]))?
            .set_len(size),
        Op::Rename { from, to } => std::fs::rename(root.join(FILES[from]), root.join(FILES[to])),
        Op::Link { from, to } => std::fs::hard_link(root.join(FILES[from]), root.join(FILES[to])),
        Op::Unlink { file } => std::fs::remove_file(root.join(FILES[file])),
    }
}

async fn read_all(vfs: &Vfs) -> BTreeMap<&'static str, Vec<u8>> {
    let mut out = BTreeMap::new();
    for path in FILES {
        let (dir, name) = parent(vfs, path).await.unwrap();
        let Ok(stat) = vfs.lookup(dir, name.as_bytes()).await else {
            continue;
        };
        let (fh, _) = vfs.open(stat.ino).await.unwrap();
        let data = vfs.read(fh, 0, stat.size as u32).await.unwrap();
        vfs.release(fh).await.unwrap();
        out.insert(path, data);
    }
    out
}

fn read_local(root: &Path) -> BTreeMap<&'static str, Vec<u8>> {
    FILES
        .iter()
        .filter_map(|p| std::fs::read(root.join(p)).ok().map(|d| (*p, d)))
        .collect()
}

/// How the mount under test runs: every change at the server at once, or with write-back
/// (changes deferred while it owns its tree, which it asks for at once).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Direct,
    WriteBack,
}

fn check(ops: Vec<Op>, faults: Vec<Fault>, mode: Mode) -> std::result::Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir(local.path().join("d")).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let backend = Arc::new(InProcess::new(faults).await);
        let d = backend.state.meta.create(
            backend.vol.into(),
            strata_meta::ROOT_INO,
            b"d",
            &NewInode::new(FileKind::Directory, 0o755),
        );
        d.unwrap();
        let cache = Arc::new(BlockCache::open(cache_dir.path().join("blocks"), 1 << 30).unwrap());
        let vfs = match mode {
            Mode::Direct => Vfs::new(backend, cache, Duration::ZERO, Duration::from_secs(10), None),
            Mode::WriteBack => {
                let window = Some(Duration::from_millis(50));
                Vfs::new(backend, cache, Duration::from_secs(1), Duration::from_secs(10), window)
            }
        };
        let _write_back = AbortOnDrop(tokio::spawn(vfs.run_write_back(Duration::from_millis(100))));
        // Wait for the tree (asked at once; an injected fault may delay the grant).
        for _ in 0..100 {
            if mode == Mode::Direct || vfs.owns_tree() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for (step, op) in ops.iter().enumerate() {
            let strata = errno_of(&apply(&vfs, op).await);
            let expected = local_errno(apply_local(local.path(), op));
            prop_assert_eq!(strata, expected, "step {}: {:?}", step, op);
        }
        let (found, expected) = (read_all(&vfs).await, read_local(local.path()));
        prop_assert_eq!(found.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
        for (path, data) in &expected {
            let first = found[path].iter().zip(data).position(|(a, b)| a != b);
            prop_assert_eq!((found[path].len(), first), (data.len(), None), "{}", path);
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        // One seed, so every run tries the same cases.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5747_4154),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("tests/faults.proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_core_over_a_failing_backend_matches_a_local_folder(
        ops in proptest::collection::vec(op(), 1..20),
        faults in proptest::collection::vec(fault(), 0..40),
    ) {
        check(ops, faults, Mode::Direct)?;
    }

    /// The same with write-back: changes answered by the mount and shipped in batches
    /// (whose answers may be lost too) end as a local folder does, errors included.
    #[test]
    fn a_mount_owning_its_tree_over_a_failing_backend_matches_a_local_folder(
        ops in proptest::collection::vec(op(), 1..20),
        faults in proptest::collection::vec(fault(), 0..40),
    ) {
        check(ops, faults, Mode::WriteBack)?;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The file's bytes as the backend has them.
fn stored(backend: &InProcess, ino: u64) -> Vec<u8> {
    let (_, chunks) = backend.state.meta.chunks(backend.vol.into(), ino).unwrap();
    match chunks.first().map(|c| &c.data) {
        Some(ChunkData::Inline(data)) => data.clone(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_release_of_an_older_handle_leaves_a_newer_ones_writes_to_its_close() {
    let backend = Arc::new(InProcess::new(Vec::new()).await);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(BlockCache::open(cache_dir.path().join("blocks"), 1 << 30).unwrap());
    let vfs = Vfs::new(backend.clone(), cache, Duration::ZERO, Duration::from_secs(10), None);
    let new = NewInode::new(FileKind::File, 0o644);
    let (stat, first) = vfs.create_file(ROOT, b"f", new, libc::O_RDWR).await.unwrap();
    vfs.write(first, 0, b"first").await.unwrap();
    vfs.commit(first, false).await.unwrap(); // its close
    let (second, _) = vfs.open(stat.ino).await.unwrap();
    vfs.write(second, 0, b"second").await.unwrap();
    // The kernel's release of the first handle may come this late.
    vfs.release(first).await.unwrap();
    assert_eq!(
        stored(&backend, stat.ino),
        b"first",
        "not committed before its own close"
    );
    vfs.commit(second, false).await.unwrap();
    vfs.release(second).await.unwrap();
    assert_eq!(stored(&backend, stat.ino), b"second");
}
