//! Accepting connections with limits, so that slow or idle clients cannot hold the server:
//! a request head (and an idle keep-alive connection) gets [`Limits::idle`], a request body
//! that stops arriving for as long is cut off, and one client address holds at most
//! [`Limits::per_client`] connections at once.

use axum::Router;
use axum::body::Body;
use futures::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send a request head or the next piece of a body, and
    /// how long an idle connection stays open.
    pub idle: Duration,
    pub per_client: usize,
}

/// Open connections per client address.
#[derive(Default)]
struct Counts(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; uncounted when dropped.
struct Slot(Arc<Counts>, IpAddr);

impl Counts {
    fn enter(self: &Arc<Self>, ip: IpAddr, most: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(ip).or_default();
        if *n >= most {
            return None;
        }
        *n += 1;
        Some(Slot(self.clone(), ip))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.1);
            }
        }
    }
}

/// A request body that fails once no bytes arrived for `idle`.
fn with_idle_timeout(body: Body, idle: Duration) -> Body {
    let stream = body.into_data_stream();
    let chunks = futures::stream::unfold(Some(stream), move |stream| async move {
        let mut stream = stream?;
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(stream))),
            Ok(None) => None,
            Err(_) => Some((Err(axum::Error::new("the request body stopped arriving")), None)),
        }
    });
    Body::from_stream(chunks)
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests under way
/// finish (for at most `idle`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let idle = limits.idle;
    let app = app.layer(axum::middleware::map_request(
        move |req: axum::extract::Request| async move { req.map(|body| with_idle_timeout(body, idle)) },
    ));
    let counts = Arc::new(Counts::default());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.idle);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = counts.enter(peer.ip(), limits.per_client) else {
            tracing::warn!(client = %peer.ip(), "too many connections from one client; closing the newest");
            continue;
        };
        // Mounts make many small request/response exchanges: send each reply at once.
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let Some(tls) = &tls else {
            let conn = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
            tokio::spawn(async move {
                let _ = conn.await;
                drop(slot);
            });
            continue;
        };
        // The handshake, like a request head, gets `idle`; off the accepting loop.
        let (tls, http, watcher) = (tls.clone(), http.clone(), graceful.watcher());
        tokio::spawn(async move {
            if let Ok(Ok(stream)) = tokio::time::timeout(idle, tls.accept(tcp)).await {
                let _ = watcher
                    .watch(http.serve_connection(TokioIo::new(stream), service))
                    .await;
            }
            drop(slot);
        });
    }
    let _ = tokio::time::timeout(limits.idle, graceful.shutdown()).await;
    Ok(())
}
