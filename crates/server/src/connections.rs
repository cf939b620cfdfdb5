//! Accepting connections with limits, so that slow or idle clients cannot hold the server:
//! a request head (and an idle keep-alive connection) gets [`Limits::idle`], a request body
//! that stops arriving for as long, or arrives slower than [`Limits::min_rate`], is cut off,
//! and one client address holds at most [`Limits::per_client`] connections at once, all
//! clients together [`Limits::total`].

use axum::Router;
use axum::body::Body;
use axum::response::Response;
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
    /// Most connections open at once, from every client.
    pub total: usize,
    /// Bytes per second a request body must keep up on average, after `idle`.
    pub min_rate: u64,
}

/// Open connections per client address, and in all.
#[derive(Default)]
struct Counts(Mutex<(HashMap<IpAddr, usize>, usize)>);

/// One counted connection; uncounted when dropped.
struct Slot(Arc<Counts>, IpAddr);

impl Counts {
    /// A slot for a new connection of `ip`, or why there is none.
    fn enter(self: &Arc<Self>, ip: IpAddr, limits: &Limits) -> Result<Slot, &'static str> {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (per_client, total) = &mut *guard;
        if *total >= limits.total {
            return Err("too many connections in all");
        }
        let n = per_client.entry(ip).or_default();
        if *n >= limits.per_client {
            return Err("too many connections from one client");
        }
        *n += 1;
        *total += 1;
        Ok(Slot(self.clone(), ip))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut guard = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        let (per_client, total) = &mut *guard;
        *total -= 1;
        if let Some(n) = per_client.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                per_client.remove(&self.1);
            }
        }
    }
}

/// A request body that fails once no bytes arrived for `idle`, or once it falls behind
/// `min_rate`: by any moment it must have brought `min_rate` bytes for every second past
/// the first `idle` (so a trickle of a byte now and then is cut off, however steady).
fn with_deadlines(
    body: Body,
    idle: Duration,
    min_rate: u64,
) -> impl futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Send + 'static {
    let stream = body.into_data_stream();
    let start = tokio::time::Instant::now();
    let chunks = futures::stream::unfold((Some(stream), 0u64), move |(stream, received)| async move {
        let mut stream = stream?;
        let owed = Duration::from_secs_f64(received as f64 / min_rate.max(1) as f64);
        let deadline = (start + idle + owed).min(tokio::time::Instant::now() + idle);
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => {
                let received = received + chunk.len() as u64;
                Some((Ok(chunk), (Some(stream), received)))
            }
            Ok(Some(Err(e))) => Some((Err(e), (None, received))),
            Ok(None) => None,
            Err(_) => Some((
                Err(axum::Error::new(
                    "the request body stopped arriving, or came too slowly",
                )),
                (None, received),
            )),
        }
    });
    chunks.fuse()
}

/// The most of a request body read after its answer is ready.
const HEARD_OUT: usize = 8 << 20;

/// Runs the request with its body under deadlines, then reads what the handler left of the
/// body (up to [`HEARD_OUT`]) before the answer goes: a request refused before its body was
/// read (a bad key, a path in the way) would otherwise leave the connection unusable, and a
/// client still sending the body would get a broken pipe instead of the reason. A request
/// without a body goes straight through.
async fn hear_out(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    idle: Duration,
    min_rate: u64,
) -> Response {
    let (parts, body) = req.into_parts();
    if axum::body::HttpBody::is_end_stream(&body) {
        return next.run(axum::extract::Request::from_parts(parts, body)).await;
    }
    let rest = Arc::new(tokio::sync::Mutex::new(with_deadlines(body, idle, min_rate).boxed()));
    let handed = futures::stream::unfold(rest.clone(), |rest| async move {
        let next = rest.lock().await.next().await;
        next.map(|chunk| (chunk, rest))
    });
    let response = next
        .run(axum::extract::Request::from_parts(parts, Body::from_stream(handed)))
        .await;
    let mut rest = rest.lock().await;
    let mut left = HEARD_OUT;
    while let Some(Ok(chunk)) = rest.next().await {
        if chunk.len() >= left {
            break;
        }
        left -= chunk.len();
    }
    response
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
    let (idle, min_rate) = (limits.idle, limits.min_rate);
    let app = app.layer(axum::middleware::from_fn(move |req, next| {
        hear_out(req, next, idle, min_rate)
    }));
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
        let slot = match counts.enter(peer.ip(), &limits) {
            Ok(slot) => slot,
            Err(why) => {
                tracing::warn!(client = %peer.ip(), "{why}; closing the newest");
                continue;
            }
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
