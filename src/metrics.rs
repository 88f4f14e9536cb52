//! Prometheus metrics of one application instance, in a registry of its own (so that several
//! instances in one process, as in tests, never share counters). Rendered by `GET /metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The figures every actor reports, labelled with its name.
#[derive(Clone)]
pub struct ActorStats {
    /// Messages (or jobs) waiting to be handled.
    pub depth: IntGauge,
    pub capacity: IntGauge,
    pub handled: IntCounter,
    pub failures: IntCounter,
    pub restarts: IntCounter,
}

pub struct Metrics {
    registry: Registry,
    actor_depth: IntGaugeVec,
    actor_capacity: IntGaugeVec,
    actor_handled: IntCounterVec,
    actor_failures: IntCounterVec,
    actor_restarts: IntCounterVec,
    pub image_queue_wait: Histogram,
    pub image_processing: HistogramVec,
    pub uploads: IntCounterVec,
    pub cache_hits: IntCounter,
    pub cache_misses: IntCounter,
    pub cache_fallbacks: IntCounter,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
}

const SECONDS_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            let counter = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(counter.clone()))
                .expect("unique metric");
            counter
        };
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("unique metric");
            vec
        };
        let gauge_vec = |name: &str, help: &str| {
            let vec = IntGaugeVec::new(Opts::new(name, help), &["actor"]).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("unique metric");
            vec
        };
        let histogram_vec = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(SECONDS_BUCKETS.to_vec());
            let vec = HistogramVec::new(opts, labels).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("unique metric");
            vec
        };
        let queue_wait = Histogram::with_opts(
            HistogramOpts::new(
                "image_job_queue_wait_seconds",
                "Time an image job waited for a worker",
            )
            .buckets(SECONDS_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        registry
            .register(Box::new(queue_wait.clone()))
            .expect("unique metric");
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "The running build; always 1"),
            &["version"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(build_info.clone()))
            .expect("unique metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        Self {
            actor_depth: gauge_vec(
                "actor_mailbox_depth",
                "Messages waiting in the actor's mailbox",
            ),
            actor_capacity: gauge_vec(
                "actor_mailbox_capacity",
                "Messages the actor's mailbox holds",
            ),
            actor_handled: counter_vec(
                "actor_messages_handled_total",
                "Messages the actor handled",
                &["actor"],
            ),
            actor_failures: counter_vec(
                "actor_failures_total",
                "Messages the actor failed or refused",
                &["actor"],
            ),
            actor_restarts: counter_vec(
                "actor_restarts_total",
                "Times the actor was replaced after a panic",
                &["actor"],
            ),
            image_queue_wait: queue_wait,
            image_processing: histogram_vec(
                "image_job_processing_seconds",
                "Time a worker spent on an image job",
                &["job"],
            ),
            uploads: counter_vec(
                "avatar_uploads_total",
                "Avatar uploads by outcome: success or the error code",
                &["outcome"],
            ),
            cache_hits: counter("cache_hits_total", "Employee lists served from the cache"),
            cache_misses: counter(
                "cache_misses_total",
                "Employee lists computed from the database and offered to the cache",
            ),
            cache_fallbacks: counter(
                "cache_fallbacks_total",
                "Employee lists served from the database because Redis was unavailable",
            ),
            http_requests: counter_vec(
                "http_requests_total",
                "HTTP requests by route pattern and status",
                &["route", "status"],
            ),
            http_duration: histogram_vec(
                "http_request_duration_seconds",
                "HTTP request duration by route pattern",
                &["route"],
            ),
            registry,
        }
    }

    /// The figures of one actor, registered under its name.
    pub fn actor(&self, name: &str, capacity: usize) -> ActorStats {
        let stats = ActorStats {
            depth: self.actor_depth.with_label_values(&[name]),
            capacity: self.actor_capacity.with_label_values(&[name]),
            handled: self.actor_handled.with_label_values(&[name]),
            failures: self.actor_failures.with_label_values(&[name]),
            restarts: self.actor_restarts.with_label_values(&[name]),
        };
        stats.capacity.set(capacity as i64);
        stats
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("metrics encode");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
