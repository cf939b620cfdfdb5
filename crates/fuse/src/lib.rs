//! The strata FUSE client: a volume (or one of its folders) as a local directory.
//!
//! Layers: [`vfs`] holds the semantics over the session API, [`inodes`] what it knows of each
//! inode the kernel holds, [`file`] buffers open files,
//! [`cache`] keeps blocks on local disk, [`adapter`] is the thin FUSE binding and [`errno`]
//! maps errors once, [`retry`] says how long a call waits out an unreachable server, and
//! [`writeback`] defers changes while the mount owns its tree.

mod adapter;
mod blocks;
pub mod cache;
mod dircache;
mod errno;
mod file;
mod inodes;
mod journal;
mod metrics;
mod retry;
pub mod vfs;
mod writeback;
mod xattrs;

/// What the unit tests of several modules share.
#[cfg(test)]
mod testing {
    use strata_core::api::{FileKind, Stat};

    /// The attributes of a plain file.
    pub fn file_stat(ino: u64, size: u64) -> Stat {
        Stat {
            ino,
            kind: FileKind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            nlink: 1,
            rdev: 0,
            atime: 0,
            mtime: 0,
            ctime: 0,
            target: None,
        }
    }
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use strata_client::Client;

#[derive(Debug, Clone)]
pub struct MountOptions {
    pub volume: String,
    pub subpath: String,
    pub read_only: bool,
    /// Other users of the machine may reach the mount (`allow_other`); else only its owner.
    pub allow_other: bool,
    pub cache_dir: PathBuf,
    pub cache_size: u64,
    /// How long the kernel may trust attributes and directory entries.
    pub attr_timeout: Duration,
    /// How long calls retry while the server is unreachable before failing with EIO.
    pub retry_for: Duration,
    /// How long one call waits for the server's whole answer before it counts as unreachable.
    pub call_timeout: Duration,
    /// With a window, the mount asks to own its tree and, while it does, makes changes
    /// locally and ships them at most this long after; `None`: every change waits for the
    /// server.
    pub write_back: Option<Duration>,
}

/// A mounted volume; dropping it unmounts.
pub struct Mounted {
    session: fuser::BackgroundSession,
    vfs: Arc<vfs::Vfs>,
    renewer: tokio::task::JoinHandle<()>,
    write_back: tokio::task::JoinHandle<()>,
}

impl Mounted {
    /// A way to read the mount's metrics, in the Prometheus text format, while it runs.
    pub fn metrics(&self) -> impl Fn() -> String + Send + Sync + 'static {
        let vfs = self.vfs.clone();
        move || vfs.render_metrics()
    }

    /// Waits until the mount goes away (unmounted from outside), then ends the session.
    pub async fn wait(self) {
        let vfs = self.vfs.clone();
        let _ = tokio::task::spawn_blocking(move || self.session.join()).await;
        // Ship and close first, still answering recalls (and keeping the lease) meanwhile:
        // a caller recalling the tree now gets everything this mount made.
        let _ = vfs.close_session().await;
        self.renewer.abort();
        self.write_back.abort();
    }
}

/// Replays what dead mounts of the volume that used the same cache folder had not shipped
/// (see [`journal`]), each under its own session.
async fn replay_journals(
    client: &Client,
    options: &MountOptions,
    cache: &cache::BlockCache,
    dir: &Path,
) -> anyhow::Result<()> {
    for mut orphan in journal::orphans(dir, &options.volume) {
        let session = client
            .resume_session(orphan.session.clone())
            .answering_within(options.call_timeout);
        let (replayed, lost) = writeback::replay(&mut orphan, Arc::new(session), cache, options.retry_for).await?;
        if replayed > 0 || lost > 0 {
            tracing::warn!(
                "replayed {replayed} changes a mount of this volume made and had not shipped when it ended; {lost} could not be"
            );
        }
        orphan.done();
    }
    Ok(())
}

/// Opens a session and mounts it at `mountpoint`; returns once the mount is ready.
pub async fn mount(client: &Client, options: &MountOptions, mountpoint: &Path) -> anyhow::Result<Mounted> {
    let cache = Arc::new(cache::BlockCache::open(
        options.cache_dir.join("blocks"),
        options.cache_size,
    )?);
    let journals = options.cache_dir.join("journal");
    if !options.read_only {
        replay_journals(client, options, &cache, &journals).await?;
    }
    let session = client
        .open_session(&options.volume, &options.subpath, options.read_only)
        .await?
        .answering_within(options.call_timeout);
    let lease_ms = session.info.lease_ms;
    // The server may make a session read-only (a snapshot, a read-only token): so is the mount.
    let read_only = options.read_only || session.info.read_only;
    let journal = match options.write_back.filter(|w| !read_only && !w.is_zero()) {
        Some(_) => journal::Journal::create(&journals, &session.info)
            .map_err(|e| tracing::warn!("no write-back journal in {}: {e}", journals.display()))
            .ok(),
        None => None,
    };
    let vfs = Arc::new(vfs::Vfs::new(
        Arc::new(session),
        cache,
        options.attr_timeout,
        options.retry_for,
        options.write_back.filter(|_| !read_only),
    ));
    if let Some(journal) = journal {
        vfs.keep_journal(journal);
    }
    let notifier = Arc::new(std::sync::OnceLock::new());
    let adapter = adapter::FuseAdapter {
        notifier: notifier.clone(),
        vfs: vfs.clone(),
        rt: tokio::runtime::Handle::current(),
        ttl: options.attr_timeout,
    };
    let mut config = fuser::Config::default();
    config.mount_options = vec![
        fuser::MountOption::FSName(format!("strata:{}", options.volume)),
        fuser::MountOption::Subtype("strata".into()),
        fuser::MountOption::DefaultPermissions,
        if read_only {
            fuser::MountOption::RO
        } else {
            fuser::MountOption::RW
        },
    ];
    config.acl = if options.allow_other {
        fuser::SessionACL::All
    } else {
        fuser::SessionACL::Owner
    };
    config.n_threads = Some(2);
    config.clone_fd = true;
    let mountpoint = mountpoint.to_owned();
    let session = tokio::task::spawn_blocking(move || fuser::spawn_mount(adapter, &mountpoint, &config)).await??;
    let _ = notifier.set(session.notifier());
    // Renew three times per lease, so that one lost renewal costs nothing.
    let every = Duration::from_millis((lease_ms / 3).max(100));
    let renewing = vfs.clone();
    let renewer = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            if let Err(e) = renewing.renew_session().await {
                tracing::warn!("cannot renew the mount session: {e}");
            }
        }
    });
    let write_back = tokio::spawn(vfs.run_write_back(every));
    Ok(Mounted {
        session,
        vfs,
        renewer,
        write_back,
    })
}
