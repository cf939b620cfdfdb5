//! `strata server`: a stateless HTTP/JSON API over the metadata engine and the block store.
//!
//! The server owns authorization and every credential of the stores: clients hold only an
//! API key. Layout: [`routes`] maps HTTP to calls, [`files`] holds path-level file semantics,
//! [`gc`] reclaims storage, [`auth`] checks keys, [`access`] decides what
//! a key may do, [`audit`] logs what it was refused, [`error`] maps errors to statuses once.

pub mod access;
pub mod audit;
pub mod auth;
pub mod budget;
pub mod connections;
pub mod error;
mod extract;
pub mod files;
pub mod fsck;
pub mod gc;
pub mod metrics;
pub mod packs;
pub mod routes;
pub mod sandboxes;
pub mod sessions;
pub mod state;
pub mod tls;
pub mod vault;

use anyhow::Context;
use state::{AppState, Limits};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
pub use strata_blocks::Compression;
pub use strata_blocks::keys::{KeyWrap, MasterKey};

/// Where the server listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// A batch's inline chunks of this many bytes or more are packed: below, a chunk's
/// reference in the metadata costs about as much as its bytes.
pub const DEFAULT_PACK_FROM: u64 = 512;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    /// Metadata engine URL; `sqlite://DATA_DIR/meta.db` when unset.
    pub meta_url: Option<String>,
    /// Block store URL; `DATA_DIR/blocks` when unset.
    pub store_url: Option<String>,
    pub listen: SocketAddr,
    pub volumes_per_org: u64,
    pub gc_grace: Duration,
    /// How long a mount session's record locks count without a renewal.
    pub session_lease: Duration,
    pub gc_interval: Duration,
    pub connections: connections::Limits,
    /// Serve HTTPS with this certificate and key instead of HTTP.
    pub tls: Option<tls::TlsFiles>,
    /// The root file system sandboxes run on; the host's `/usr` with strata's `/etc` when unset.
    pub sandbox_image: Option<PathBuf>,
    /// Most sandboxes one organization may have at once.
    pub sandboxes_per_org: u64,
    pub snapshots_per_volume: u64,
    pub sessions_per_org: u64,
    pub keys_per_org: u64,
    /// Where the other servers of the deployment reach this one; the listen address when unset.
    pub advertise_url: Option<String>,
    /// Most bytes of uploaded blocks held in memory at once, over every request.
    pub upload_memory: u64,
    /// A batch's inline chunks of this many bytes or more go into one pack object.
    pub pack_from: u64,
    /// How long a volume keeps its past unless it says (zero: not at all), and how far apart
    /// its points are at least (zero: every change is one).
    pub history: Duration,
    pub history_step: Duration,
    /// How blocks are compressed unless their volume says.
    pub compression: strata_blocks::Compression,
    /// What wraps the keys of the organizations that encrypt (the master key), if any.
    pub master_key: Option<Arc<dyn strata_blocks::keys::KeyWrap>>,
}

impl ServerConfig {
    /// A server on `data_dir` with the embedded stores and the CLI's default limits.
    pub fn in_folder(data_dir: &std::path::Path) -> ServerConfig {
        ServerConfig {
            data_dir: data_dir.to_owned(),
            meta_url: None,
            store_url: None,
            listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            volumes_per_org: 100,
            gc_grace: Duration::from_secs(3600),
            session_lease: Duration::from_secs(30),
            gc_interval: Duration::from_secs(600),
            connections: connections::Limits {
                idle: Duration::from_secs(30),
                per_client: 1024,
                total: 4096,
                min_rate: 16 << 10,
            },
            tls: None,
            sandbox_image: None,
            sandboxes_per_org: 20,
            snapshots_per_volume: 256,
            sessions_per_org: 1000,
            keys_per_org: 1000,
            advertise_url: None,
            upload_memory: 256 << 20,
            pack_from: DEFAULT_PACK_FROM,
            history: Duration::from_secs(24 * 3600),
            history_step: Duration::from_millis(100),
            compression: strata_blocks::Compression::DEFAULT,
            master_key: None,
        }
    }
}

/// Opens the stores under the data folder, ready to serve.
pub fn open_state(config: &ServerConfig) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
    let meta = match &config.meta_url {
        Some(url) => strata_meta::open_url(url).with_context(|| format!("metadata {}", redact(url)))?,
        None => Arc::new(strata_meta::SqliteMeta::open(&config.data_dir.join("meta.db"))?),
    };
    let blocks = match &config.store_url {
        Some(url) => strata_blocks::BlockStore::open_url(url)?,
        None => strata_blocks::BlockStore::local(&config.data_dir.join("blocks"))?,
    };
    let image = match &config.sandbox_image {
        Some(dir) => sandboxes::Image::folder(dir)?,
        None => sandboxes::Image::host_usr(),
    };
    let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    meta.set_history(nanos(config.history), nanos(config.history_step));
    let packs = Arc::new(packs::Packs::new(config.pack_from));
    let vault = vault::Vault::new(config.master_key.clone());
    meta.read_packs_with(Arc::new(packs::EngineReader {
        packs: packs.clone(),
        blocks: blocks.clone(),
        vault: vault.clone(),
        meta: Arc::downgrade(&meta),
    }));
    Ok(AppState {
        meta,
        blocks,
        limits: Limits {
            volumes_per_org: config.volumes_per_org,
            gc_grace: config.gc_grace,
            session_lease: config.session_lease,
            sandboxes_per_org: config.sandboxes_per_org,
            snapshots_per_volume: config.snapshots_per_volume,
            sessions_per_org: config.sessions_per_org,
            keys_per_org: config.keys_per_org,
        },
        sessions: Default::default(),
        keys: Default::default(),
        gc_lock: Arc::default(),
        metrics: Default::default(),
        sandboxes: sandboxes::Sandboxes::new(&config.data_dir, image)?,
        uploads: budget::UploadBudget::new(config.upload_memory, config.connections.idle),
        ownership_changed: Arc::default(),
        packs,
        compression: config.compression,
        vault,
    })
}

/// Takes the data folder for this server alone: a second server on it would write the same
/// SQLite file, blocks folder and admin key. The lock goes with the process, however it ends.
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create data folder {}", data_dir.display()))?;
    // The metadata, the blocks and the admin key are this server's alone.
    std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", data_dir.display()))?;
    let path = data_dir.join("server.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another strata server is using the data folder {}: stop it, or give this one its own --data-dir",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
    }
}

/// Takes the data folder for this server and opens its stores, with the admin key made.
async fn open_data_dir(config: &ServerConfig) -> anyhow::Result<(std::fs::File, AppState)> {
    let lock = lock_data_dir(&config.data_dir)?;
    // Opening the engines blocks (connections, migrations): off the async workers.
    let mut opening = config.clone();
    // The path the kernel's mount table shows for what is mounted in it: a relative or
    // symlinked one would not be recognised there, and a mount taken for a folder.
    opening.data_dir = std::fs::canonicalize(&config.data_dir)
        .with_context(|| format!("cannot resolve the data folder {}", config.data_dir.display()))?;
    let state = tokio::task::spawn_blocking(move || {
        let state = open_state(&opening)?;
        auth::bootstrap_admin(&state, &opening.data_dir)?;
        anyhow::Ok(state)
    })
    .await??;
    Ok((lock, state))
}

/// Serves until SIGTERM or SIGINT, then finishes the requests under way and returns.
pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    // Whatever the server writes (metadata, blocks, keys, sandbox bundles) is its own: no
    // other user of the machine reads it.
    // SAFETY: umask(2) only sets this process's file mode mask.
    unsafe { libc::umask(0o077) };
    // What needs nothing written comes first: a server that cannot listen leaves no data
    // folder and no key behind for clients to find.
    let acceptor = config.tls.as_ref().map(tls::acceptor).transpose()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let fresh = !config.data_dir.exists();
    let opened = open_data_dir(&config).await;
    if opened.is_err() && fresh {
        let _ = std::fs::remove_dir_all(&config.data_dir);
    }
    let (_only_server_here, state) = opened?;
    let addr = listener.local_addr()?;
    gc::spawn_background(state.clone(), config.gc_interval);
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "strata server listening");
    let url = local_url(addr, acceptor.is_some());
    let endpoints = sandboxes::Endpoints {
        local: url.clone(),
        advertised: config.advertise_url.clone().unwrap_or_else(|| url.clone()),
        ca_file: config.tls.as_ref().and_then(|t| t.ca.clone()),
    };
    state
        .sandboxes
        .recover(&state, endpoints)
        .await
        .context("cannot read the sandbox records")?;
    // Clients on this machine find the server (and send it the admin key) by this file.
    let endpoint_file = config.data_dir.join(strata_core::ENDPOINT_FILE);
    if let Err(e) = std::fs::write(&endpoint_file, format!("{url}\n")) {
        tracing::warn!("cannot write {}: {e}", endpoint_file.display());
    }
    eprintln!(
        "strata: listening on {}://{addr} (data in {})",
        if acceptor.is_some() { "https" } else { "http" },
        config.data_dir.display()
    );
    eprintln!(
        "strata: to use it from elsewhere: export STRATA_ENDPOINT={url} STRATA_TOKEN=$(cat {})",
        config.data_dir.join("admin.token").display()
    );
    eprintln!("strata: the dashboard is at {url}/ (sign in with an API key)");
    let stopping = state.clone();
    let shutdown = async move {
        shutdown_signal().await;
        stopping.sandboxes.stop_all(&stopping).await;
    };
    connections::serve(listener, routes::router(state), config.connections, acceptor, shutdown).await?;
    eprintln!("strata: stopped");
    Ok(())
}

/// How a client on this machine reaches a server listening on `addr`.
fn local_url(addr: std::net::SocketAddr, tls: bool) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
