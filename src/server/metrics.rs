//! The Prometheus metrics of the controller, all prefixed `mortar_`: one
//! registry and a [`Metrics`] value the controller records into through
//! plain methods (no Prometheus type in their signatures), plus a collector
//! that reads the Databricks clients' request counters at scrape time.
//!
//! Every label value comes from a fixed list or from the config (app and
//! workspace names): never an id, a revision or an error text.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::webhook::core::{DeliveryResult, Provider};
use crate::databricks::stats::RequestStats;
use crate::model::status::{ControllerStatus, Health, SyncResult, SyncStatus};

/// The `Content-Type` of the Prometheus text format.
pub const PROMETHEUS_CONTENT_TYPE: &str =
    prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
/// The `Content-Type` of the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What asked for a sync; any other value is counted as `other`.
const TRIGGERS: &[&str] = &[
    "webhook", "poll", "drift", "manual", "retry", "rollback", "startup",
];

/// Buckets for durations from milliseconds to ten minutes.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 600.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

type Labels<const N: usize> = [(&'static str, String); N];
type GaugeF64 = Gauge<f64, AtomicU64>;
type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric the controller and the server record.
pub struct Metrics {
    registry: Registry,
    webhook_deliveries: Family<Labels<2>, Counter>,
    stage_seconds: HistogramFamily<Labels<2>>,
    syncs: Family<Labels<3>, Counter>,
    last_sync: Family<Labels<1>, GaugeF64>,
    drift_detected: Family<Labels<1>, Counter>,
    drifted_resources: Family<Labels<1>, Gauge>,
    drift_healed: Family<Labels<1>, Counter>,
    git_fetch_seconds: Histogram,
    git_fetches: Family<Labels<1>, Counter>,
    git_last_success: GaugeF64,
    revisions_refused: Family<Labels<1>, Counter>,
    apps: Family<Labels<2>, Gauge>,
    app_sync: Family<Labels<2>, Gauge>,
    app_health: Family<Labels<2>, Gauge>,
    shard_held: Family<Labels<1>, Gauge>,
    rotation_steps: Family<Labels<3>, Counter>,
    api_requests: Family<Labels<2>, Counter>,
    /// The apps `set_app_states` last saw, to drop the series of apps gone.
    known_apps: Mutex<BTreeSet<String>>,
    clients: Arc<ClientCollector>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn labels<const N: usize>(pairs: [(&'static str, &str); N]) -> Labels<N> {
    pairs.map(|(k, v)| (k, v.to_string()))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("mortar"),
            webhook_deliveries: Family::default(),
            stage_seconds: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            syncs: Family::default(),
            last_sync: Family::default(),
            drift_detected: Family::default(),
            drifted_resources: Family::default(),
            drift_healed: Family::default(),
            git_fetch_seconds: duration_histogram(),
            git_fetches: Family::default(),
            git_last_success: GaugeF64::default(),
            revisions_refused: Family::default(),
            apps: Family::default(),
            app_sync: Family::default(),
            app_health: Family::default(),
            shard_held: Family::default(),
            rotation_steps: Family::default(),
            api_requests: Family::default(),
            known_apps: Mutex::new(BTreeSet::new()),
            clients: Arc::new(ClientCollector::default()),
        };
        m.registry.register(
            "build",
            "The running build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        m.registry.register(
            "api_requests",
            "Requests to the API and web view by action (get, sync, refresh, rollback, pause, override, or sign_in) and result",
            m.api_requests.clone(),
        );
        m.registry.register(
            "webhook_deliveries",
            "Webhook deliveries by provider and result",
            m.webhook_deliveries.clone(),
        );
        m.registry.register(
            "stage_duration_seconds",
            "Time one pipeline stage took, by app and stage",
            m.stage_seconds.clone(),
        );
        m.registry.register(
            "credential_rotation_steps",
            "Credential rotation steps by app, step (create, deliver, revoke, discard, confirm, forget, look) and outcome (ok or an error label)",
            m.rotation_steps.clone(),
        );
        m.registry.register(
            "syncs",
            "Finished syncs by app, trigger and result",
            m.syncs.clone(),
        );
        m.registry.register(
            "app_last_successful_sync_timestamp_seconds",
            "When the app's last successful sync finished (Unix time)",
            m.last_sync.clone(),
        );
        m.registry.register(
            "drift_detected",
            "Drift checks that found live state differing from Git",
            m.drift_detected.clone(),
        );
        m.registry.register(
            "drift_resources",
            "Resources whose live state differs from Git at the last drift check",
            m.drifted_resources.clone(),
        );
        m.registry.register(
            "drift_healed",
            "Drift corrected by self-heal",
            m.drift_healed.clone(),
        );
        m.registry.register(
            "git_fetch_duration_seconds",
            "Time one fetch of the source took",
            m.git_fetch_seconds.clone(),
        );
        m.registry.register(
            "git_fetches",
            "Fetches of the source by result",
            m.git_fetches.clone(),
        );
        m.registry.register(
            "git_last_successful_fetch_timestamp_seconds",
            "When the source was last fetched successfully (Unix time)",
            m.git_last_success.clone(),
        );
        m.registry.register(
            "revisions_refused",
            "Revisions refused (unsigned, untrusted, unreadable) by reason",
            m.revisions_refused.clone(),
        );
        m.registry
            .register("apps", "Apps by sync status and health", m.apps.clone());
        m.registry.register(
            "app_sync_status",
            "1 for the app's current sync status, 0 for the others",
            m.app_sync.clone(),
        );
        m.registry.register(
            "app_health_status",
            "1 for the app's current health, 0 for the others",
            m.app_health.clone(),
        );
        m.registry.register(
            "shard_held",
            "1 for each shard this replica holds, 0 for the others (in a cluster)",
            m.shard_held.clone(),
        );
        let clients = Arc::clone(&m.clients);
        m.registry.register_collector(Box::new(clients));
        for provider in Provider::ALL {
            for result in DeliveryResult::ALL {
                m.webhook_deliveries
                    .get_or_create(&labels([
                        ("provider", provider.label()),
                        ("result", result.label()),
                    ]))
                    .get();
            }
        }
        m.set_app_states(&ControllerStatus::default());
        m
    }

    /// Counts one API request: its action and a bounded result
    /// (`accepted`, `unauthenticated`, `csrf`, `forbidden`, `conflict`,
    /// `invalid`, `unavailable`, or a bearer token's refusal reason).
    pub fn api_request(&self, action: &'static str, result: &'static str) {
        self.api_requests
            .get_or_create(&labels([("action", action), ("result", result)]))
            .inc();
    }

    /// Counts one webhook delivery.
    pub fn webhook_delivery(&self, provider: Provider, result: DeliveryResult) {
        self.webhook_deliveries
            .get_or_create(&labels([
                ("provider", provider.label()),
                ("result", result.label()),
            ]))
            .inc();
    }

    /// Records how long one stage (`fetch`, `render`, `plan`, `apply`, …) of
    /// one app took.
    pub fn observe_stage(&self, app: &str, stage: &'static str, seconds: f64) {
        self.stage_seconds
            .get_or_create(&labels([("app", app), ("stage", stage)]))
            .observe(seconds);
    }

    /// Records a finished sync; `trigger` outside the known list counts as `other`.
    pub fn sync_finished(&self, app: &str, trigger: &str, result: SyncResult, at: jiff::Timestamp) {
        let trigger = TRIGGERS
            .iter()
            .find(|t| **t == trigger)
            .copied()
            .unwrap_or("other");
        self.syncs
            .get_or_create(&labels([
                ("app", app),
                ("trigger", trigger),
                ("result", result.label()),
            ]))
            .inc();
        if result == SyncResult::Succeeded {
            self.last_sync
                .get_or_create(&labels([("app", app)]))
                .set(at.as_millisecond() as f64 / 1000.0);
        }
    }

    /// Records a drift check that found `resources` drifted resources.
    pub fn drift_detected(&self, app: &str, resources: usize) {
        self.drift_detected
            .get_or_create(&labels([("app", app)]))
            .inc();
        self.drifted_resources
            .get_or_create(&labels([("app", app)]))
            .set(i64::try_from(resources).unwrap_or(i64::MAX));
    }

    /// Records that self-heal put an app's live state back to Git.
    /// One credential rotation step: `outcome` is `ok` or an error's
    /// bounded label.
    pub fn rotation_step(&self, app: &str, step: &'static str, outcome: &'static str) {
        self.rotation_steps
            .get_or_create(&labels([
                ("app", app),
                ("step", step),
                ("outcome", outcome),
            ]))
            .inc();
    }

    pub fn drift_healed(&self, app: &str) {
        self.drift_healed
            .get_or_create(&labels([("app", app)]))
            .inc();
        self.drifted_resources
            .get_or_create(&labels([("app", app)]))
            .set(0);
    }

    /// Records one fetch of the source: its time, and `Err(reason)` with a
    /// fixed reason label when it failed.
    pub fn git_fetch(&self, seconds: f64, result: Result<(), &'static str>) {
        self.git_fetch_seconds.observe(seconds);
        let label = match result {
            Ok(()) => "ok",
            Err(reason) => reason,
        };
        self.git_fetches
            .get_or_create(&labels([("result", label)]))
            .inc();
        if result.is_ok() {
            self.git_last_success.set(unix_now());
        }
    }

    /// Counts a refused revision, by a fixed reason label.
    pub fn revision_refused(&self, reason: &'static str) {
        self.revisions_refused
            .get_or_create(&labels([("reason", reason)]))
            .inc();
    }

    /// Sets the per-app and per-state gauges from a status snapshot: every
    /// sync status and health combination is set, zeros included, and the
    /// series of apps no longer present are dropped.
    pub fn set_app_states(&self, status: &ControllerStatus) {
        if let Some(replica) = &status.replica {
            for shard in 0..replica.shards {
                self.shard_held
                    .get_or_create(&labels([("shard", shard.to_string().as_str())]))
                    .set(i64::from(replica.held.contains(&shard)));
            }
        }
        for sync in SyncStatus::ALL {
            for health in Health::ALL {
                let n = status
                    .apps
                    .iter()
                    .filter(|a| a.sync == sync && a.health == health)
                    .count();
                self.apps
                    .get_or_create(&labels([
                        ("sync", sync.label()),
                        ("health", health.label()),
                    ]))
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        for app in &status.apps {
            for sync in SyncStatus::ALL {
                self.app_sync
                    .get_or_create(&labels([
                        ("app", app.name.as_str()),
                        ("status", sync.label()),
                    ]))
                    .set(i64::from(app.sync == sync));
            }
            for health in Health::ALL {
                self.app_health
                    .get_or_create(&labels([
                        ("app", app.name.as_str()),
                        ("health", health.label()),
                    ]))
                    .set(i64::from(app.health == health));
            }
        }
        let now: BTreeSet<String> = status.apps.iter().map(|a| a.name.clone()).collect();
        let mut known = self
            .known_apps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for gone in known.difference(&now) {
            for sync in SyncStatus::ALL {
                self.app_sync
                    .remove(&labels([("app", gone.as_str()), ("status", sync.label())]));
            }
            for health in Health::ALL {
                self.app_health.remove(&labels([
                    ("app", gone.as_str()),
                    ("health", health.label()),
                ]));
            }
            self.drifted_resources
                .remove(&labels([("app", gone.as_str())]));
            self.last_sync.remove(&labels([("app", gone.as_str())]));
        }
        *known = now;
    }

    /// Sets the Databricks clients whose request counters are exported
    /// (replacing any set before, e.g. after the engine is reopened).
    pub fn set_request_stats(&self, clients: Vec<Arc<RequestStats>>) {
        *self
            .clients
            .clients
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = clients;
    }

    /// Every metric in the Prometheus text format (0.0.4), or in OpenMetrics.
    pub fn encode(&self, openmetrics: bool) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        }
        Ok(out)
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Reads the clients' request counters at scrape time.
#[derive(Debug, Default)]
struct ClientCollector {
    clients: RwLock<Vec<Arc<RequestStats>>>,
}

impl Collector for ClientCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let clients = self
            .clients
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if clients.is_empty() {
            return Ok(());
        }
        let metric = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "databricks_requests",
            "Databricks API requests by workspace, endpoint class and status class",
            None,
            metric.metric_type(),
        )?;
        for client in clients.iter() {
            for row in client.requests() {
                let set = [
                    ("workspace", client.workspace()),
                    ("endpoint", row.endpoint.label()),
                    ("status", row.status.label()),
                ];
                ConstCounter::new(row.count).encode(family.encode_family(&set)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "databricks_rate_limit_wait_seconds",
            "Time Databricks requests waited for the client-side rate limiter",
            None,
            metric.metric_type(),
        )?;
        for client in clients.iter() {
            for (endpoint, seconds) in client.wait_seconds() {
                let set = [
                    ("workspace", client.workspace()),
                    ("endpoint", endpoint.label()),
                ];
                ConstCounter::new(seconds).encode(family.encode_family(&set)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::status::AppStatus;

    #[test]
    fn every_state_combination_is_exported_with_zeros() {
        let metrics = Metrics::new();
        let text = metrics.encode(false).expect("encode");
        assert!(text.contains("mortar_build_info{version=\""), "{text}");
        assert_eq!(text.matches("mortar_apps{").count(), 15, "{text}");
        assert!(text.contains(
            "mortar_webhook_deliveries_total{provider=\"github\",result=\"accepted\"} 0"
        ));
        let mut status = ControllerStatus::default();
        let mut a = AppStatus::unknown("analytics");
        a.sync = SyncStatus::Synced;
        a.health = Health::Healthy;
        status.apps.push(a);
        status.apps.push(AppStatus::unknown("platform"));
        metrics.set_app_states(&status);
        let text = metrics.encode(false).expect("encode");
        assert!(text.contains("mortar_apps{sync=\"Synced\",health=\"Healthy\"} 1"));
        assert!(text.contains("mortar_apps{sync=\"Unknown\",health=\"Progressing\"} 1"));
        assert!(text.contains("mortar_apps{sync=\"OutOfSync\",health=\"Degraded\"} 0"));
        assert!(text.contains("mortar_app_sync_status{app=\"analytics\",status=\"Synced\"} 1"));
        assert!(text.contains("mortar_app_sync_status{app=\"analytics\",status=\"Unknown\"} 0"));
        // An app removed from Git loses its series.
        status.apps.remove(1);
        metrics.set_app_states(&status);
        let text = metrics.encode(false).expect("encode");
        assert!(!text.contains("app=\"platform\""), "{text}");
        assert!(text.contains("mortar_apps{sync=\"Unknown\",health=\"Progressing\"} 0"));
    }

    #[test]
    fn controller_events_move_their_series() {
        let metrics = Metrics::new();
        metrics.observe_stage("analytics", "plan", 0.3);
        metrics.sync_finished(
            "analytics",
            "webhook",
            SyncResult::Succeeded,
            jiff::Timestamp::from_second(1_700_000_000).expect("timestamp"),
        );
        metrics.sync_finished(
            "analytics",
            "a3f9c2 free text",
            SyncResult::Failed,
            jiff::Timestamp::from_second(1_700_000_100).expect("timestamp"),
        );
        metrics.drift_detected("analytics", 3);
        metrics.git_fetch(0.2, Ok(()));
        metrics.git_fetch(1.5, Err("unreachable"));
        metrics.revision_refused("unsigned");
        metrics.webhook_delivery(Provider::Gitlab, DeliveryResult::Duplicate);
        let text = metrics.encode(false).expect("encode");
        for line in [
            "mortar_stage_duration_seconds_count{app=\"analytics\",stage=\"plan\"} 1",
            "mortar_syncs_total{app=\"analytics\",trigger=\"webhook\",result=\"succeeded\"} 1",
            "mortar_syncs_total{app=\"analytics\",trigger=\"other\",result=\"failed\"} 1",
            // The failed sync after it does not move the last success.
            "mortar_app_last_successful_sync_timestamp_seconds{app=\"analytics\"} 1700000000",
            "mortar_drift_detected_total{app=\"analytics\"} 1",
            "mortar_drift_resources{app=\"analytics\"} 3",
            "mortar_git_fetches_total{result=\"ok\"} 1",
            "mortar_git_fetches_total{result=\"unreachable\"} 1",
            "mortar_git_fetch_duration_seconds_count 2",
            "mortar_revisions_refused_total{reason=\"unsigned\"} 1",
            "mortar_webhook_deliveries_total{provider=\"gitlab\",result=\"duplicate\"} 1",
        ] {
            assert!(text.contains(line), "missing `{line}` in\n{text}");
        }
        metrics.drift_healed("analytics");
        let text = metrics.encode(true).expect("encode");
        assert!(text.contains("mortar_drift_resources{app=\"analytics\"} 0"));
        assert!(text.contains("mortar_drift_healed_total{app=\"analytics\"} 1"));
        assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with EOF");
    }

    #[test]
    fn client_counters_are_read_at_scrape_time() {
        let metrics = Metrics::new();
        assert!(
            !metrics
                .encode(false)
                .expect("encode")
                .contains("databricks")
        );
        let stats = Arc::new(RequestStats::new("prod"));
        metrics.set_request_stats(vec![Arc::clone(&stats)]);
        stats.record("/api/2.2/jobs/create", Some(429));
        stats.waited(
            "/api/2.2/jobs/create",
            std::time::Duration::from_millis(250),
        );
        let text = metrics.encode(false).expect("encode");
        assert!(text.contains(
            "mortar_databricks_requests_total{workspace=\"prod\",endpoint=\"jobs\",status=\"429\"} 1"
        ), "{text}");
        assert!(text.contains(
            "mortar_databricks_requests_total{workspace=\"prod\",endpoint=\"scim\",status=\"2xx\"} 0"
        ));
        assert!(text.contains(
            "mortar_databricks_rate_limit_wait_seconds_total{workspace=\"prod\",endpoint=\"jobs\"} 0.25"
        ), "{text}");
        stats.record("/api/2.2/jobs/create", Some(201));
        assert!(metrics.encode(false).expect("encode").contains(
            "mortar_databricks_requests_total{workspace=\"prod\",endpoint=\"jobs\",status=\"2xx\"} 1"
        ));
    }
}
