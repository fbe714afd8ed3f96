//! The gateway's metric instruments.
//!
//! Instruments come from the global meter provider, which
//! [`super::Telemetry::init`] installs before anything records; without
//! OTLP export they are no-ops. Attribute values are bounded sets (methods,
//! route templates, status codes, outcome and rule names, signal numbers),
//! never ids, so the number of time series stays small.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableGauge};

use super::INSTRUMENTATION_SCOPE;
use crate::runs::RunSlots;

/// Bucket bounds in seconds that the HTTP semantic conventions advise for
/// `http.server.request.duration`; plugin run durations use them too.
const DURATION_BUCKETS_SECONDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Fuel bucket bounds, up to ten times the default budget of 1e9.
const FUEL_BUCKETS: [f64; 9] = [1e4, 1e5, 1e6, 1e7, 1e8, 2.5e8, 5e8, 1e9, 1e10];

/// Peak memory bucket bounds in bytes, from one 64 KiB wasm page to twice
/// the default 64 MiB limit.
const MEMORY_BUCKETS_BYTES: [f64; 9] = [
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    8_388_608.0,
    16_777_216.0,
    33_554_432.0,
    67_108_864.0,
    134_217_728.0,
];

/// Every instrument the gateway records to.
pub struct Metrics {
    http_request_duration: Histogram<f64>,
    plugin_runs: Counter<u64>,
    run_duration: Histogram<f64>,
    run_fuel: Histogram<u64>,
    run_memory_peak: Histogram<u64>,
    sandbox_kills: Counter<u64>,
    upload_rejections: Counter<u64>,
    login_failures: Counter<u64>,
}

/// Returns the instruments, creating them on first use from the global
/// meter provider.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics::new(&opentelemetry::global::meter(INSTRUMENTATION_SCOPE)))
}

impl Metrics {
    fn new(meter: &Meter) -> Self {
        Self {
            http_request_duration: meter
                .f64_histogram("http.server.request.duration")
                .with_description("Duration of HTTP server requests.")
                .with_unit("s")
                .with_boundaries(DURATION_BUCKETS_SECONDS.to_vec())
                .build(),
            plugin_runs: meter
                .u64_counter("sandnotes.plugin.runs")
                .with_description("Plugin runs that ended, by `run.outcome`.")
                .with_unit("{run}")
                .build(),
            run_duration: meter
                .f64_histogram("sandnotes.plugin.run.duration")
                .with_description(
                    "Time a plugin ran inside its worker, from instantiation to the end of the call.",
                )
                .with_unit("s")
                .with_boundaries(DURATION_BUCKETS_SECONDS.to_vec())
                .build(),
            run_fuel: meter
                .u64_histogram("sandnotes.plugin.run.fuel")
                .with_description("Fuel a plugin run consumed, about one unit per wasm instruction.")
                .with_unit("{fuel}")
                .with_boundaries(FUEL_BUCKETS.to_vec())
                .build(),
            run_memory_peak: meter
                .u64_histogram("sandnotes.plugin.run.memory.peak")
                .with_description("Highest linear memory of a plugin run.")
                .with_unit("By")
                .with_boundaries(MEMORY_BUCKETS_BYTES.to_vec())
                .build(),
            sandbox_kills: meter
                .u64_counter("sandnotes.sandbox.kills")
                .with_description(
                    "Sandbox workers that ended by a signal, by `signal` number; the \
                     wall-clock deadline kill counts as signal 9.",
                )
                .with_unit("{worker}")
                .build(),
            upload_rejections: meter
                .u64_counter("sandnotes.plugin.upload.rejections")
                .with_description("Plugin uploads rejected, by validation `rule`.")
                .with_unit("{upload}")
                .build(),
            login_failures: meter
                .u64_counter("sandnotes.auth.login.failures")
                .with_description(
                    "Failed logins, by `reason`: invalid_credentials or throttled.",
                )
                .with_unit("{attempt}")
                .build(),
        }
    }

    /// Records one HTTP request. `route` is the matched route template, or
    /// `None` when no route matched (then `http.route` is left out, as the
    /// semantic conventions require).
    pub fn record_request(
        &self,
        method: &'static str,
        route: Option<String>,
        status: u16,
        elapsed: Duration,
    ) {
        let method = KeyValue::new("http.request.method", method);
        let status = KeyValue::new("http.response.status_code", i64::from(status));
        let seconds = elapsed.as_secs_f64();
        match route {
            Some(route) => self.http_request_duration.record(
                seconds,
                &[method, status, KeyValue::new("http.route", route)],
            ),
            None => self
                .http_request_duration
                .record(seconds, &[method, status]),
        }
    }

    /// Records a run that ended with `outcome`, with its figures when the
    /// worker reported them.
    pub fn record_run(&self, outcome: &'static str, figures: Option<RunFigures>) {
        let attributes = [KeyValue::new("run.outcome", outcome)];
        self.plugin_runs.add(1, &attributes);
        if let Some(figures) = figures {
            self.run_duration
                .record(figures.duration.as_secs_f64(), &attributes);
            self.run_fuel.record(figures.fuel_used, &attributes);
            self.run_memory_peak
                .record(figures.memory_peak_bytes, &attributes);
        }
    }

    /// Counts a worker that ended by `signal`.
    pub fn record_sandbox_kill(&self, signal: i32) {
        self.sandbox_kills
            .add(1, &[KeyValue::new("signal", i64::from(signal))]);
    }

    /// Counts a rejected upload by the name of the failed rule.
    pub fn record_upload_rejection(&self, rule: &'static str) {
        self.upload_rejections
            .add(1, &[KeyValue::new("rule", rule)]);
    }

    /// Counts a failed login by `reason`.
    pub fn record_login_failure(&self, reason: &'static str) {
        self.login_failures
            .add(1, &[KeyValue::new("reason", reason)]);
    }
}

/// Resource figures of one run, as the worker measured them.
#[derive(Clone, Copy, Debug)]
pub struct RunFigures {
    /// Time from instantiation to the end of the call.
    pub duration: Duration,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Highest linear memory, in bytes.
    pub memory_peak_bytes: u64,
}

/// Registers the `sandnotes.plugin.runs.active` and
/// `sandnotes.plugin.runs.queued` gauges, read from `slots` at each export.
/// The gauges keep `slots` alive, so the last export at shutdown still
/// reports them after the server has dropped its state.
pub fn observe_run_slots(slots: &Arc<RunSlots>) {
    static GAUGES: OnceLock<[ObservableGauge<u64>; 2]> = OnceLock::new();

    let meter = opentelemetry::global::meter(INSTRUMENTATION_SCOPE);
    let active = Arc::clone(slots);
    let queued = Arc::clone(slots);
    let gauges = [
        meter
            .u64_observable_gauge("sandnotes.plugin.runs.active")
            .with_description("Plugin runs holding a run slot.")
            .with_unit("{run}")
            .with_callback(move |observer| observer.observe(active.in_flight() as u64, &[]))
            .build(),
        meter
            .u64_observable_gauge("sandnotes.plugin.runs.queued")
            .with_description("Plugin run requests waiting for a run slot.")
            .with_unit("{run}")
            .with_callback(move |observer| observer.observe(queued.queued() as u64, &[]))
            .build(),
    ];
    // Kept for the life of the process; a second runtime in one process
    // (tests) keeps the first one's gauges.
    let _ = GAUGES.set(gauges);
}
