//! A real `strata server` process on a temporary data folder, and the CLI pointed at it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_strata");

pub struct Server {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    child: Option<Child>,
    extra: Vec<String>,
    /// `--meta URL --store URL` on the shared stack (PostgreSQL and S3), else empty.
    stores: Vec<String>,
    /// The S3 prefix of the store, on the shared stack.
    s3_prefix: Option<String>,
    /// The admin key, when another server on the same metadata made it.
    shared_token: Option<String>,
}

impl Server {
    /// A server on the stack the run asks for (`STRATA_TEST_STACK`).
    pub fn start(extra: &[&str]) -> Server {
        if strata_testkit::shared_stack() {
            Self::start_shared(extra)
        } else {
            Self::start_with(extra, Vec::new(), None, None)
        }
    }

    /// A server on a new PostgreSQL database and a new S3 prefix, whatever the run asks for.
    pub fn start_shared(extra: &[&str]) -> Server {
        let meta = strata_testkit::postgres().new_database();
        let store = strata_testkit::s3().new_store();
        let prefix = store
            .trim_start_matches("s3://")
            .split_once('/')
            .map(|(_, prefix)| prefix.to_owned());
        Self::start_with(
            extra,
            vec!["--meta".into(), meta, "--store".into(), store],
            prefix,
            None,
        )
    }

    /// Another server on this one's metadata and store (several servers behind one balancer).
    pub fn another(&self) -> Server {
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        Self::start_with(&extra, self.stores.clone(), self.s3_prefix.clone(), Some(self.token()))
    }

    fn start_with(
        extra: &[&str],
        stores: Vec<String>,
        s3_prefix: Option<String>,
        shared_token: Option<String>,
    ) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server {
            dir,
            endpoint: String::new(),
            child: None,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            stores,
            s3_prefix,
            shared_token,
        };
        server.launch("127.0.0.1:0");
        server
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `sql` on the server's metadata database behind its back: `pg` on its PostgreSQL
    /// database, or `lite` on the SQLite file of its data folder.
    fn on_metadata<T: Send + 'static>(
        &self,
        sql: &str,
        pg: fn(&mut postgres::Client, &str) -> T,
        lite: fn(&rusqlite::Connection, &str) -> T,
    ) -> T {
        match self.stores.iter().position(|s| s == "--meta") {
            Some(i) => {
                // Its own thread: the synchronous client starts a runtime, which a test's own
                // runtime would refuse.
                let (url, sql) = (self.stores[i + 1].clone(), sql.to_owned());
                std::thread::spawn(move || {
                    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    pg(&mut db, &sql)
                })
                .join()
                .unwrap()
            }
            None => lite(
                &rusqlite::Connection::open(self.data_dir().join("meta.db")).unwrap(),
                sql,
            ),
        }
    }

    /// One number the metadata database answers `sql` with (e.g. a count).
    pub fn metadata_number(&self, sql: &str) -> i64 {
        self.on_metadata(
            sql,
            |db, sql| db.query_one(sql, &[]).unwrap().get::<_, Option<i64>>(0).unwrap_or(0),
            |db, sql| {
                db.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
                    .unwrap()
                    .unwrap_or(0)
            },
        )
    }

    /// The bytes of the first column of the first row the metadata database answers `sql` with.
    pub fn metadata_bytes(&self, sql: &str) -> Vec<u8> {
        self.on_metadata(
            sql,
            |db, sql| db.query_one(sql, &[]).unwrap().get(0),
            |db, sql| db.query_row(sql, [], |r| r.get(0)).unwrap(),
        )
    }

    /// Runs a statement on the metadata database, as damage would; how many rows it changed.
    pub fn damage_metadata(&self, sql: &str) -> u64 {
        self.on_metadata(
            sql,
            |db, sql| db.execute(sql, &[]).unwrap(),
            |db, sql| db.execute(sql, []).unwrap() as u64,
        )
    }

    /// Starts the process and waits for the line that says where it listens.
    fn launch(&mut self, listen: &str) {
        let mut child = Command::new(BIN)
            .args(["server", "--listen", listen, "--data-dir"])
            .arg(self.data_dir())
            .args(&self.extra)
            .args(&self.stores)
            .envs(if self.stores.is_empty() {
                Vec::new()
            } else {
                strata_testkit::s3().env()
            })
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = Vec::new();
        let endpoint = loop {
            let Some(line) = lines.next() else {
                panic!("server exited before listening: {}", said.join("\n"));
            };
            let line = line.unwrap();
            said.push(line.clone());
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // The rest of what the server says goes to DIR/server.log, for failures to point at.
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            for line in lines.map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
            }
        });
        self.endpoint = endpoint;
        self.child = Some(child);
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    pub fn token(&self) -> String {
        if let Some(token) = &self.shared_token {
            return token.clone();
        }
        std::fs::read_to_string(self.data_dir().join("admin.token"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// What the server wrote to its standard error since it started listening.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Runs `strata ARGS...` against this server.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_input(args, None)
    }

    pub fn cli_with_input(&self, args: &[&str], input: Option<&Path>) -> Output {
        let mut cmd = self.command(&self.token(), args);
        if let Some(input) = input {
            cmd.stdin(std::fs::File::open(input).unwrap());
        }
        cmd.output().unwrap()
    }

    /// `strata ARGS...` against this server with the API key `token`, not yet run.
    fn command(&self, token: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("STRATA_ENDPOINT", &self.endpoint)
            .env("STRATA_TOKEN", token)
            .env("STRATA_CONFIG_DIR", self.dir.path().join("config"))
            .env("STRATA_DATA_DIR", self.dir.path().join("no-local-server"));
        cmd
    }

    /// Runs `strata ARGS...` against this server with another API key.
    pub fn cli_as(&self, token: &str, args: &[&str]) -> Output {
        self.command(token, args).output().unwrap()
    }

    /// As [`Server::ok`], with another API key.
    pub fn ok_as(&self, token: &str, args: &[&str]) -> String {
        self.succeeded(self.cli_as(token, args), args)
    }

    /// As [`Server::fails`], with another API key: the exit code and standard error.
    pub fn fails_as(&self, token: &str, args: &[&str]) -> (i32, String) {
        failed(self.cli_as(token, args), args)
    }

    /// Mounts `source` with another API key; returns once the mount is ready.
    pub fn mount_as(&self, token: &str, source: &str, extra: &[&str]) -> Mount {
        let cache = tempfile::tempdir().unwrap();
        let path = cache.path().to_owned();
        self.mount_with_cache(token, source, cache, &path, extra)
    }

    /// Runs the CLI and expects success; returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        self.succeeded(self.cli(args), args)
    }

    fn succeeded(&self, out: Output, args: &[&str]) -> String {
        assert!(
            out.status.success(),
            "strata {args:?} failed: {}\nserver log: {}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs the CLI and expects failure; returns the exit code and standard error.
    pub fn fails(&self, args: &[&str]) -> (i32, String) {
        failed(self.cli(args), args)
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// What `strata status` says of the mount at `mountpoint`.
    pub fn mount_status(&self, mountpoint: &Path) -> serde_json::Value {
        let status = self.json(&["status"]);
        let want = std::fs::canonicalize(mountpoint).unwrap();
        status["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| Path::new(m["mountpoint"].as_str().unwrap()) == want)
            .unwrap_or_else(|| panic!("{} in {status:#}", want.display()))
            .clone()
    }

    pub fn client(&self) -> strata_client::Client {
        strata_client::Client::new(&self.endpoint, Some(self.token())).unwrap()
    }

    /// Sends a signal and waits for the process to end; returns its exit status.
    pub fn stop(&mut self, signal: i32) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        unsafe { libc::kill(child.id() as i32, signal) };
        child.wait().unwrap()
    }

    /// Starts the server again on the same data folder and address.
    pub fn restart(&mut self) {
        let listen = self.endpoint.trim_start_matches("http://").to_owned();
        self.launch(&listen);
    }

    /// Starts the server again on the same data folder and address, with other options.
    pub fn restart_with(&mut self, extra: &[&str]) {
        self.extra = extra.iter().map(|s| s.to_string()).collect();
        self.restart();
    }

    /// Peak resident memory of the server so far, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Blocks and their total size in the block store (a local folder or an S3 prefix); the
    /// piece values kept beside them are not counted.
    pub fn store_usage(&self) -> (usize, u64) {
        self.usage_under("blocks")
    }

    /// Every object in the block store, blocks or not.
    pub fn store_objects(&self) -> usize {
        self.usage_under("").0
    }

    /// The name and bytes of every object in the block store.
    pub fn stored_objects(&self) -> Vec<(String, Vec<u8>)> {
        if let Some(prefix) = &self.s3_prefix {
            return s3_objects(prefix);
        }
        let (mut found, mut dirs) = (Vec::new(), vec![self.data_dir().join("blocks")]);
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if e.metadata().unwrap().is_dir() {
                    dirs.push(e.path());
                } else {
                    found.push((e.path().display().to_string(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        found
    }

    /// Replaces the bytes of an object `stored_objects` named.
    pub fn overwrite_stored(&self, name: &str, bytes: Vec<u8>) {
        if self.s3_prefix.is_none() {
            return std::fs::write(name, bytes).unwrap();
        }
        use object_store::ObjectStoreExt;
        let store = s3_client();
        let put = || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(store.put(&object_store::path::Path::from(name), bytes.into()))
                .unwrap();
        };
        std::thread::scope(|scope| scope.spawn(put).join().unwrap());
    }

    fn usage_under(&self, folder: &str) -> (usize, u64) {
        if let Some(prefix) = &self.s3_prefix {
            return s3_usage([prefix.as_str(), folder].join("/").trim_end_matches('/'));
        }
        fn walk(dir: &Path, acc: &mut (usize, u64)) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let meta = e.metadata().unwrap();
                if meta.is_dir() {
                    walk(&e.path(), acc);
                } else {
                    acc.0 += 1;
                    acc.1 += meta.len();
                }
            }
        }
        let mut acc = (0, 0);
        walk(&self.data_dir().join("blocks").join(folder), &mut acc);
        acc
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the server's log ends:\n{}", strata_testkit::tail(&self.log(), 40));
            if strata_testkit::shared_stack() {
                eprintln!("weed's log ends:\n{}", strata_testkit::s3().log_tail(40));
            }
        }
        let Some(mut child) = self.child.take() else {
            return;
        };
        // A server with sandboxes running is stopped, so that it ends them (their containers,
        // mounts and cgroups would outlive a killed one); any other is killed at once.
        let runtime = self.data_dir().join("sandboxes").join("runtime");
        let running = Command::new("runc")
            .arg("--root")
            .arg(&runtime)
            .args(["list", "--quiet"])
            .output()
            .is_ok_and(|out| !out.stdout.is_empty());
        if running {
            // SAFETY: a signal to the child this struct started.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::time::Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A file of `len` deterministic pseudo-random bytes; returns its path and BLAKE3 hash.
/// A loopback address with a port nothing listens on now, for a server to bind.
pub fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

pub fn random_file(dir: &Path, name: &str, len: u64, seed: u64) -> (PathBuf, String) {
    use std::io::Write;
    let path = dir.join(name);
    let mut xof = blake3::Hasher::new().update(&seed.to_le_bytes()).finalize_xof();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        xof.fill(&mut buf[..n]);
        out.write_all(&buf[..n]).unwrap();
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    out.flush().unwrap();
    (path, hasher.finalize().to_hex().to_string())
}

pub fn hash_file(path: &Path) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path).unwrap()).unwrap();
    hasher.finalize().to_hex().to_string()
}

/// A real `strata mount` of this server's volume, unmounted when dropped.
pub struct Mount {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl Mount {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

impl Server {
    /// Mounts `source` (VOLUME or VOLUME:SUBPATH) with extra flags; returns once it is ready.
    pub fn mount(&self, source: &str, extra: &[&str]) -> Mount {
        self.mount_as(&self.token(), source, extra)
    }

    /// Mounts with the API key `token` and the block cache in `cache_dir` (`cache` is kept
    /// by the returned mount).
    fn mount_with_cache(
        &self,
        token: &str,
        source: &str,
        cache: tempfile::TempDir,
        cache_dir: &Path,
        extra: &[&str],
    ) -> Mount {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "mount",
            source,
            dir.path().to_str().unwrap(),
            "--cache-dir",
            cache_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.ok_as(token, &args);
        Mount { dir, cache }
    }

    /// Mounts with the block cache of another mount.
    pub fn mount_sharing_cache(&self, source: &str, other: &Mount, extra: &[&str]) -> Mount {
        self.mount_with_cache(
            &self.token(),
            source,
            tempfile::tempdir().unwrap(),
            other.cache.path(),
            extra,
        )
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let c = std::ffi::CString::new(self.dir.path().to_str().unwrap()).unwrap();
        // SAFETY: umount2 on a NUL-terminated path this test mounted.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Asserts that a CLI run failed; returns its exit code and standard error.
fn failed(out: Output, args: &[&str]) -> (i32, String) {
    assert!(!out.status.success(), "strata {args:?} should have failed");
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stderr).unwrap())
}

/// Unmounts through the CLI, as a user would.
pub fn umount(mount: &Mount) {
    let out = Command::new(BIN).arg("umount").arg(mount.path()).output().unwrap();
    assert!(out.status.success(), "umount: {}", String::from_utf8_lossy(&out.stderr));
}

/// Peak resident memory (KiB) of the mount daemon serving `mountpoint`.
pub fn mount_peak_rss_kib(mountpoint: &Path) -> u64 {
    let pid = mount_pid(mountpoint);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The process id of the mount daemon serving `mountpoint`.
pub fn mount_pid(mountpoint: &Path) -> i32 {
    let needle = mountpoint.to_str().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_daemon =
            args.contains(&&b"mount"[..]) && args.contains(&needle.as_bytes()) && args.contains(&&b"--foreground"[..]);
        if is_daemon {
            return entry.file_name().to_str().unwrap().parse().unwrap();
        }
    }
    panic!("no mount process for {needle}");
}

/// Objects and bytes under a prefix of the test S3 bucket.
fn s3_objects(prefix: &str) -> Vec<(String, Vec<u8>)> {
    use futures::TryStreamExt;
    use object_store::{ObjectStore, ObjectStoreExt};
    let store = s3_client();
    let read = || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listed: Vec<_> = store
                .list(Some(&object_store::path::Path::from(prefix)))
                .try_collect()
                .await
                .unwrap_or_default();
            let mut found = Vec::new();
            for object in listed {
                let bytes = store.get(&object.location).await.unwrap().bytes().await.unwrap();
                found.push((object.location.to_string(), bytes.to_vec()));
            }
            found
        })
    };
    std::thread::scope(|scope| scope.spawn(read).join().unwrap())
}

fn s3_client() -> object_store::aws::AmazonS3 {
    let s3 = strata_testkit::s3();
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(s3.endpoint())
        .with_bucket_name(&s3.bucket)
        .with_region("us-east-1")
        .with_access_key_id(strata_testkit::S3_KEY)
        .with_secret_access_key(strata_testkit::S3_SECRET)
        .with_allow_http(true)
        .build()
        .unwrap()
}

fn s3_usage(prefix: &str) -> (usize, u64) {
    use futures::TryStreamExt;
    use object_store::ObjectStore;
    let store = s3_client();
    // A runtime of its own, on a thread of its own: the caller may be an async test.
    let list = || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listed: Result<Vec<_>, _> = store
                .list(Some(&object_store::path::Path::from(prefix)))
                .try_collect()
                .await;
            // SeaweedFS makes the bucket at its first write: none yet holds nothing.
            let objects = match listed {
                Err(e) if e.to_string().contains("NoSuchBucket") => Vec::new(),
                other => other.unwrap(),
            };
            (objects.len(), objects.iter().map(|o| o.size).sum())
        })
    };
    std::thread::scope(|scope| scope.spawn(list).join().unwrap())
}

/// Runs a Python snippet against `path` that takes a lock, says so, and holds it until its
/// stdin closes.
pub fn hold_lock(path: &std::path::Path, code: &str) -> std::process::Child {
    let mut child = Command::new("python3")
        .args([
            "-c",
            &format!("import fcntl,sys\nf=open(sys.argv[1],'r+')\n{code}\nprint('held', flush=True)\nsys.stdin.read()"),
        ])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), "held");
    child
}

/// Tries to take a write lock on `len` bytes from `start` of an open file: `Ok` or the errno.
pub fn try_write_lock(file: &std::fs::File, start: i64, len: i64) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain C struct, all zeros valid; fcntl on a descriptor the caller owns.
    let mut l: libc::flock = unsafe { std::mem::zeroed() };
    l.l_type = libc::F_WRLCK as i16;
    l.l_whence = libc::SEEK_SET as i16;
    (l.l_start, l.l_len) = (start, len);
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &l) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// The value of a sample line of a Prometheus page.
pub fn sample(page: &str, name: &str) -> f64 {
    let line = page
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("{name} in\n{page}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// The Prometheus page served at `addr` (a mount's `--metrics`).
pub fn scrape(addr: &str) -> String {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut page = String::new();
    conn.read_to_string(&mut page).unwrap();
    page
}
