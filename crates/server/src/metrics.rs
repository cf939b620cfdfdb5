//! Prometheus metrics at `GET /metrics`: requests by route and status with their latency,
//! blocks (and packs of small files) stored and fetched, collection passes, and, counted at each scrape, volumes,
//! live mount sessions and upload memory held. Only numbers: no names, keys or paths.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's template, e.g. `/v1/sessions/{id}/write`: never a volume or file name.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 26 s.
    Histogram::new(exponential_buckets(0.0001, 4.0, 10))
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub blocks_stored: Counter,
    pub block_bytes_stored: Counter,
    /// The bytes the store keeps for the blocks stored (compressed).
    pub store_bytes_written: Counter,
    pub blocks_fetched: Counter,
    pub block_bytes_fetched: Counter,
    pub gc_runs: Counter,
    pub gc_blocks_reclaimed: Counter,
    pub gc_bytes_reclaimed: Counter,
    pub volumes: Gauge,
    pub sessions: Gauge,
    pub upload_memory: Gauge,
    /// Changes that mounts owning their trees shipped in batches.
    pub batched_changes: Counter,
    /// Packs of small files stored (each also counts as a block stored).
    pub packs_stored: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("strata");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let (blocks_stored, block_bytes_stored) = (Counter::default(), Counter::default());
        let (blocks_fetched, block_bytes_fetched) = (Counter::default(), Counter::default());
        let (gc_runs, gc_blocks_reclaimed, gc_bytes_reclaimed) =
            (Counter::default(), Counter::default(), Counter::default());
        let (volumes, sessions, upload_memory) = (Gauge::default(), Gauge::default(), Gauge::default());
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request",
            latency.clone(),
        );
        registry.register(
            "blocks_stored",
            "Blocks stored (by mounts, the files API and packs of small files)",
            blocks_stored.clone(),
        );
        registry.register(
            "blocks_stored_bytes",
            "Bytes of the blocks stored, uncompressed",
            block_bytes_stored.clone(),
        );
        let store_bytes_written = Counter::default();
        registry.register(
            "store_written_bytes",
            "Bytes the object store was given for the blocks stored (compressed)",
            store_bytes_written.clone(),
        );
        registry.register("blocks_fetched", "Blocks read by mounts", blocks_fetched.clone());
        registry.register(
            "blocks_fetched_bytes",
            "Bytes of blocks read by mounts",
            block_bytes_fetched.clone(),
        );
        registry.register("gc_runs", "Garbage collection passes finished", gc_runs.clone());
        registry.register(
            "gc_blocks_reclaimed",
            "Blocks deleted by garbage collection",
            gc_blocks_reclaimed.clone(),
        );
        registry.register(
            "gc_reclaimed_bytes",
            "Bytes deleted by garbage collection",
            gc_bytes_reclaimed.clone(),
        );
        registry.register("volumes", "Volumes and snapshots", volumes.clone());
        registry.register("sessions", "Mount sessions whose lease runs", sessions.clone());
        registry.register(
            "upload_memory_bytes",
            "Bytes of uploaded blocks held in memory",
            upload_memory.clone(),
        );
        let batched_changes = Counter::default();
        registry.register(
            "batched_changes",
            "Changes that mounts owning their trees shipped in batches",
            batched_changes.clone(),
        );
        let packs_stored = Counter::default();
        registry.register(
            "packs_stored",
            "Objects holding the small files of one batch",
            packs_stored.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            requests,
            latency,
            blocks_stored,
            block_bytes_stored,
            store_bytes_written,
            blocks_fetched,
            block_bytes_fetched,
            gc_runs,
            gc_blocks_reclaimed,
            gc_bytes_reclaimed,
            volumes,
            sessions,
            upload_memory,
            batched_changes,
            packs_stored,
        }
    }
}

impl Metrics {
    /// Counts a block stored: its bytes, and the bytes the store was given for it.
    pub fn stored(&self, bytes: u64, stored: u64) {
        self.blocks_stored.inc();
        self.block_bytes_stored.inc_by(bytes);
        self.store_bytes_written.inc_by(stored);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
