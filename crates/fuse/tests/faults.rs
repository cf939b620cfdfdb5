//! The mount's file-system core ([`Vfs`]) over an in-process backend that fails calls the
//! way a network and a restarting server do: refused before they apply (503, connection
//! refused, a server down for a while) and lost after they applied (a timeout). Random
//! operation sequences must leave the same files, with the same errors, as a local folder.
//! Failing cases are kept in `proptest-regressions/` and replayed first.

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_core::api::*;
use strata_core::{Error, ErrorKind, Result};
use strata_fuse::cache::BlockCache;
use strata_fuse::session::SessionApi;
use strata_fuse::vfs::{ROOT, Vfs};
use strata_meta::{Chunk, ChunkData, ContentWrite, MetaStore, RenameFlags, SqliteMeta};

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

/// A volume's metadata engine and block store in this process, behind the session API.
struct InProcess {
    meta: SqliteMeta,
    vol: uuid::Uuid,
    info: SessionInfo,
    blocks: Mutex<HashMap<String, Bytes>>,
    faults: Mutex<(Vec<Fault>, usize, u8)>,
    _dir: tempfile::TempDir,
}

impl InProcess {
    fn new(faults: Vec<Fault>) -> InProcess {
        let dir = tempfile::tempdir().unwrap();
        let meta = SqliteMeta::open(&dir.path().join("meta.db")).unwrap();
        let name = strata_core::names::VolumeName::parse("v").unwrap();
        let volume = meta.create_volume("org", &name, 1000).unwrap();
        let root = meta.getattr(volume.id, strata_meta::ROOT_INO).unwrap();
        let info = SessionInfo {
            id: uuid::Uuid::new_v4(),
            volume: volume.clone(),
            read_only: false,
            root: node(root),
            lease_ms: 30_000,
        };
        InProcess {
            meta,
            vol: volume.id,
            info,
            blocks: Mutex::default(),
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
    fn call<T>(&self, apply: impl FnOnce() -> Result<T>) -> Result<T> {
        let unavailable = || Error::new(ErrorKind::Unavailable, "injected: the server cannot be reached");
        match self.next_fault() {
            Fault::Refuse | Fault::Outage(_) => Err(unavailable()),
            Fault::LoseReply => {
                let _ = apply();
                Err(unavailable())
            }
            Fault::None => apply(),
        }
    }
}

fn node(stat: Stat) -> Node {
    Node {
        parent: None,
        node: NodeRef { ino: stat.ino, cap: 0 },
        stat,
    }
}

fn absent() -> Error {
    Error::internal("not offered by the test backend")
}

#[async_trait::async_trait]
impl SessionApi for InProcess {
    fn info(&self) -> &SessionInfo {
        &self.info
    }
    async fn renew(&self) -> Result<()> {
        Ok(())
    }
    async fn close(&self) -> Result<()> {
        Ok(())
    }
    async fn lookup(&self, parent: NodeRef, name: &str) -> Result<Node> {
        self.call(|| self.meta.lookup(self.vol, parent.ino, name.as_bytes()).map(node))
    }
    async fn getattr(&self, n: NodeRef) -> Result<Stat> {
        self.call(|| self.meta.getattr(self.vol, n.ino))
    }
    async fn readdir(&self, n: NodeRef, after: Option<&str>) -> Result<DirPage> {
        self.call(|| {
            // Small pages, so that listings here span several.
            let page = self.meta.readdir_page(self.vol, n.ino, after.map(str::as_bytes), 3)?;
            let entries = page
                .entries
                .into_iter()
                .map(|(name, stat, xattrs)| NamedNode {
                    name: String::from_utf8(name).unwrap(),
                    node: node(stat.clone()).node,
                    stat,
                    xattrs,
                })
                .collect();
            Ok(DirPage {
                entries,
                next: page.next.map(|n| String::from_utf8(n).unwrap()),
            })
        })
    }
    async fn create(&self, req: &CreateNode) -> Result<Node> {
        self.call(|| {
            self.meta
                .create(self.vol, req.parent.ino, req.name.as_bytes(), &req.new)
                .map(node)
        })
    }
    async fn link(&self, n: NodeRef, parent: NodeRef, name: &str) -> Result<Node> {
        self.call(|| self.meta.link(self.vol, n.ino, parent.ino, name.as_bytes()).map(node))
    }
    async fn unlink(&self, parent: NodeRef, name: &str) -> Result<()> {
        self.call(|| self.meta.unlink(self.vol, parent.ino, name.as_bytes()))
    }
    async fn rmdir(&self, parent: NodeRef, name: &str) -> Result<()> {
        self.call(|| self.meta.rmdir(self.vol, parent.ino, name.as_bytes()))
    }
    async fn rename(&self, r: &RenameNode) -> Result<()> {
        let flags = RenameFlags {
            no_replace: r.no_replace,
        };
        let (from, to) = (
            (r.parent.ino, r.name.as_bytes()),
            (r.new_parent.ino, r.new_name.as_bytes()),
        );
        self.call(|| self.meta.rename(self.vol, from, to, flags))
    }
    async fn setattr(&self, r: &SetAttrNode) -> Result<Stat> {
        self.call(|| self.meta.setattr(self.vol, r.node.ino, &r.changes))
    }
    async fn content(&self, n: NodeRef) -> Result<Content> {
        self.call(|| {
            let (stat, chunks) = self.meta.chunks(self.vol, n.ino)?;
            Ok(Content {
                stat,
                chunks: chunks.iter().map(Chunk::to_wire).collect(),
            })
        })
    }
    async fn write(&self, r: &WriteContent) -> Result<Stat> {
        let chunks = r.chunks.iter().map(Chunk::from_wire).collect::<Result<Vec<_>>>()?;
        let base = r
            .base
            .as_ref()
            .map(|b| b.iter().map(Chunk::from_wire).collect::<Result<Vec<_>>>())
            .transpose()?;
        let write = ContentWrite {
            chunks: &chunks,
            replace_all: r.replace_all,
            cut_at: r.cut_at,
            size: r.size,
            grow: r.grow,
            base: base.as_deref(),
            uploader: None,
            then: r.then.as_ref(),
        };
        self.call(|| self.meta.write_content(self.vol, r.node.ino, &write))
    }
    async fn getxattr(&self, _: &Xattr) -> Result<XattrValue> {
        Err(absent())
    }
    async fn setxattr(&self, _: &Xattr) -> Result<()> {
        Err(absent())
    }
    async fn listxattr(&self, _: NodeRef) -> Result<XattrNames> {
        Err(absent())
    }
    async fn removexattr(&self, _: &Xattr) -> Result<()> {
        Err(absent())
    }
    async fn sync(&self) -> Result<()> {
        self.call(|| self.meta.sync())
    }
    async fn getlk(&self, _: &LockRequest) -> Result<LockTest> {
        Err(absent())
    }
    async fn setlk(&self, _: &LockRequest) -> Result<()> {
        Err(absent())
    }
    async fn statfs(&self) -> Result<FsStats> {
        Err(absent())
    }
    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()> {
        let key = *blake3::Hash::from_hex(hash).unwrap().as_bytes();
        self.call(|| {
            self.meta.touch_block(&key, data.len() as u64)?;
            self.blocks.lock().unwrap().insert(hash.to_owned(), data.clone());
            Ok(())
        })
    }
    async fn get_block(&self, hash: &str) -> Result<Bytes> {
        self.call(|| {
            self.blocks
                .lock()
                .unwrap()
                .get(hash)
                .cloned()
                .ok_or_else(|| Error::not_found("no such block"))
        })
    }
    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        let block = self.get_block(hash).await?;
        let values = strata_core::pieces::piece_values(&block);
        if values.len() < 2 || first >= last || last > values.len() {
            return Err(Error::invalid("last", "not pieces of this block"));
        }
        let mut reply = strata_core::pieces::encode_head(block.len(), &values);
        reply.extend_from_slice(
            &block[first * strata_core::pieces::PIECE..(last * strata_core::pieces::PIECE).min(block.len())],
        );
        Ok(reply.into())
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

fn check(ops: Vec<Op>, faults: Vec<Fault>) -> std::result::Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir(local.path().join("d")).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let backend = Arc::new(InProcess::new(faults));
        let d = backend.meta.create(
            backend.vol,
            strata_meta::ROOT_INO,
            b"d",
            &NewInode::new(FileKind::Directory, 0o755),
        );
        d.unwrap();
        let cache = Arc::new(BlockCache::open(cache_dir.path().join("blocks"), 1 << 30).unwrap());
        let vfs = Vfs::new(backend, cache, Duration::ZERO, Duration::from_secs(10));
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
        check(ops, faults)?;
    }
}

/// The file's bytes as the backend has them.
fn stored(backend: &InProcess, ino: u64) -> Vec<u8> {
    let (_, chunks) = backend.meta.chunks(backend.vol, ino).unwrap();
    match chunks.first().map(|c| &c.data) {
        Some(ChunkData::Inline(data)) => data.clone(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_release_of_an_older_handle_leaves_a_newer_ones_writes_to_its_close() {
    let backend = Arc::new(InProcess::new(Vec::new()));
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(BlockCache::open(cache_dir.path().join("blocks"), 1 << 30).unwrap());
    let vfs = Vfs::new(backend.clone(), cache, Duration::ZERO, Duration::from_secs(10));
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
