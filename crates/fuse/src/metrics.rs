//! A mount's Prometheus metrics: FUSE operations by kind with their latency, the block
//! cache's hits, misses and size, and block uploads under way. Only numbers, never names.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    /// The FUSE operation: `lookup`, `read`, `write`, `fsync`, ...
    pub op: &'static str,
}

fn latency_histogram() -> Histogram {
    // 10 µs to about 2.6 s.
    Histogram::new(exponential_buckets(0.00001, 4.0, 10))
}

pub struct MountMetrics {
    registry: Registry,
    pub ops: Family<OpLabels, Histogram, fn() -> Histogram>,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub cache_fetched_bytes: Counter,
    pub piece_downloads: Counter,
    pub piece_bytes: Counter,
    pub cache_bytes: Gauge,
    pub uploads_in_flight: Gauge,
    pub inodes: Gauge,
    pub open_files: Gauge,
    /// 1 while the mount owns its tree (changes are deferred), else 0.
    pub owns_tree: Gauge,
    /// Changes made here and not yet shipped to the server.
    pub deferred_changes: Gauge,
}

impl Default for MountMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("strata_mount");
        let ops = Family::<OpLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let m = MountMetrics {
            ops,
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            cache_fetched_bytes: Counter::default(),
            piece_downloads: Counter::default(),
            piece_bytes: Counter::default(),
            cache_bytes: Gauge::default(),
            uploads_in_flight: Gauge::default(),
            inodes: Gauge::default(),
            open_files: Gauge::default(),
            owns_tree: Gauge::default(),
            deferred_changes: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "fuse_op_duration_seconds",
            "Time to answer a FUSE operation, by operation",
            m.ops.clone(),
        );
        registry.register("cache_hits", "Blocks read from the local cache", m.cache_hits.clone());
        registry.register(
            "cache_misses",
            "Blocks not in the local cache, downloaded from the server",
            m.cache_misses.clone(),
        );
        registry.register(
            "cache_fetched_bytes",
            "Bytes of blocks downloaded into the local cache",
            m.cache_fetched_bytes.clone(),
        );
        registry.register(
            "piece_downloads",
            "Downloads of pieces of a block for a random reader (not kept in the cache)",
            m.piece_downloads.clone(),
        );
        registry.register(
            "piece_bytes",
            "Bytes of those downloads, the pieces' values included",
            m.piece_bytes.clone(),
        );
        registry.register(
            "cache_bytes",
            "Bytes of blocks the local cache holds",
            m.cache_bytes.clone(),
        );
        registry.register(
            "uploads_in_flight",
            "Block uploads under way",
            m.uploads_in_flight.clone(),
        );
        registry.register("inodes", "Inodes the kernel holds through this mount", m.inodes.clone());
        registry.register("open_files", "Files open through this mount", m.open_files.clone());
        registry.register(
            "owns_tree",
            "1 while the mount owns its tree and defers its changes",
            m.owns_tree.clone(),
        );
        registry.register(
            "deferred_changes",
            "Changes made on this mount and not yet shipped to the server",
            m.deferred_changes.clone(),
        );
        MountMetrics { registry, ..m }
    }
}

impl MountMetrics {
    /// Counts one FUSE operation that took `seconds`.
    pub fn observe(&self, op: &'static str, seconds: f64) {
        self.ops.get_or_create(&OpLabels { op }).observe(seconds);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Counts an upload as under way until dropped.
pub struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    pub fn start(gauge: &'a Gauge) -> Self {
        gauge.inc();
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}
