use crate::CmdResult;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use strata_server::{DEFAULT_LISTEN, ServerConfig};

#[derive(Args)]
pub struct ServerArgs {
    /// Folder for metadata (meta.db), blocks and the admin key [default: $STRATA_DATA_DIR, else ~/.local/share/strata]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Metadata engine: sqlite:///path/meta.db or postgres://user@host:port/db [default: DATA_DIR/meta.db]
    #[arg(long, env = "STRATA_META")]
    meta: Option<String>,
    /// Block store: file:///path or s3://bucket/prefix (credentials from the AWS_* environment) [default: DATA_DIR/blocks]
    #[arg(long, env = "STRATA_STORE")]
    store: Option<String>,
    /// Address to listen on
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Most volumes one organization may have
    #[arg(long, default_value_t = 100)]
    max_volumes: u64,
    /// How long an unreferenced new block is kept before collection (e.g. 1h, 30s, 0s)
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    gc_grace: Duration,
    /// How often garbage collection runs in the background
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    gc_interval: Duration,
    /// How long a mount's record locks outlive its last sign of life (a mount renews every third of it)
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    session_lease: Duration,
    /// How long a client may take to send a request head or the next piece of a body, and how long an idle connection stays open
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    idle_timeout: Duration,
    /// Most connections one client address may hold open at once
    #[arg(long, default_value_t = 1024)]
    max_connections_per_client: usize,
    /// Most connections open at once, from all clients together
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Bytes per second a request body must keep up on average after --idle-timeout (e.g. 16K); slower ones are cut off
    #[arg(long, default_value = "16K", value_parser = super::mount::parse_size)]
    min_upload_rate: u64,
    /// Most bytes of uploads held in memory at once, all requests together (e.g. 256M); an upload that finds no room within --idle-timeout gets 503
    #[arg(long, default_value = "256M", value_parser = super::mount::parse_size)]
    max_upload_memory: u64,
    /// Small files of this size or more (e.g. 512, 4K) that a mount ships in one batch are stored together in one object, not in the metadata; over 64K, none are
    #[arg(long, default_value_t = strata_server::DEFAULT_PACK_FROM, value_parser = super::mount::parse_size)]
    pack_from: u64,
    /// How long a volume keeps its past unless it says (`0`: not at all): any moment of it
    /// can be read, forked or restored as `VOLUME@TIME`.
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    history: Duration,
    /// How far apart the points of history are at least (`0`: every change is one).
    #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
    history_step: Duration,
    /// How blocks are compressed unless their volume says (`strata volume set --compression`): off, zstd (level 3) or zstd:LEVEL (1 to 19); blocks already stored are read whatever they were stored with
    #[arg(long, env = "STRATA_COMPRESSION", default_value = "zstd:3", value_parser = strata_server::Compression::parse)]
    compression: strata_server::Compression,
    /// A file holding the master key (64 hex digits, e.g. from `openssl rand -hex 32`) that wraps the keys of organizations that encrypt (`strata org encrypt`); or the key itself in $STRATA_MASTER_KEY
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key)
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The private CA (PEM) that signed --tls-cert: the mounts of this server's sandboxes trust it
    #[arg(long, requires = "tls_cert")]
    tls_ca: Option<PathBuf>,
    /// A root file system for sandboxes (e.g. made with debootstrap): its folders, read-only, are each sandbox's [default: the host's /usr with an /etc of strata's]
    #[arg(long)]
    sandbox_image: Option<PathBuf>,
    /// Most sandboxes one organization may have at once
    #[arg(long, default_value_t = 20)]
    max_sandboxes: u64,
    /// Most snapshots of one volume
    #[arg(long, default_value_t = 256)]
    max_snapshots: u64,
    /// Most mount sessions one organization may have open at once
    #[arg(long, default_value_t = 1000)]
    max_sessions: u64,
    /// Most keys and tokens one organization may have live at once
    #[arg(long, default_value_t = 1000)]
    max_keys: u64,
    /// The URL other servers of the deployment reach this one at (they send it the requests for the sandboxes it runs) [default: the --listen address]
    #[arg(long, value_name = "URL")]
    advertise_url: Option<String>,
}

pub async fn run(args: ServerArgs) -> CmdResult {
    super::init_logging();
    if args.idle_timeout.is_zero()
        || args.max_connections_per_client == 0
        || args.max_connections == 0
        || args.min_upload_rate == 0
    {
        return Err(strata_core::Error::invalid(
            "idle-timeout",
            "--idle-timeout, --max-connections-per-client, --max-connections and --min-upload-rate must be more than zero",
        )
        .into());
    }
    if let Some(url) = &args.advertise_url {
        let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
        if !scheme_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(strata_core::Error::invalid(
                "advertise-url",
                format!("invalid --advertise-url {url:?}: expected http://HOST:PORT or https://HOST:PORT"),
            )
            .into());
        }
    }
    let config = ServerConfig {
        connections: strata_server::connections::Limits {
            idle: args.idle_timeout,
            per_client: args.max_connections_per_client,
            total: args.max_connections,
            min_rate: args.min_upload_rate,
        },
        data_dir: args.data_dir.unwrap_or_else(strata_client::config::default_data_dir),
        meta_url: args.meta,
        store_url: args.store,
        listen: args.listen,
        volumes_per_org: args.max_volumes,
        sandboxes_per_org: args.max_sandboxes,
        snapshots_per_volume: args.max_snapshots,
        sessions_per_org: args.max_sessions,
        keys_per_org: args.max_keys,
        sandbox_image: args.sandbox_image,
        advertise_url: args.advertise_url,
        upload_memory: args.max_upload_memory,
        pack_from: args.pack_from,
        history: args.history,
        history_step: args.history_step,
        compression: args.compression,
        master_key: master_key(args.master_key_file.as_deref())?,
        gc_grace: args.gc_grace,
        session_lease: args.session_lease.max(Duration::from_millis(300)),
        gc_interval: args.gc_interval.max(Duration::from_secs(1)),
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| strata_server::tls::TlsFiles {
                cert,
                key,
                ca: args.tls_ca,
            }),
    };
    Ok(strata_server::run(config).await?)
}

/// The master key from `--master-key-file`, else `$STRATA_MASTER_KEY`, if either is given.
fn master_key(
    file: Option<&std::path::Path>,
) -> Result<Option<std::sync::Arc<dyn strata_server::KeyWrap>>, crate::Failure> {
    let text = match (file, std::env::var("STRATA_MASTER_KEY")) {
        (Some(path), _) => std::fs::read_to_string(path).map_err(|e| crate::Failure::local(path, e))?,
        (None, Ok(text)) => text,
        (None, Err(_)) => return Ok(None),
    };
    let key = strata_server::MasterKey::parse(&text).map_err(|e| strata_core::Error::invalid("master-key-file", e))?;
    Ok(Some(std::sync::Arc::new(key)))
}
