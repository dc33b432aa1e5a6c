//! Events (`events.k8s.io/v1`) on the controller's own pod: a sync that
//! failed, an app gone Degraded or Error, drift healed, a revision refused, a shard taken or given back.
//! kube-runtime's recorder aggregates repeats into one Event with a
//! growing series count, so a failing app does not flood the namespace.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use super::Cluster;

/// Why an Event is recorded: a bounded set, one `reason` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventReason {
    SyncFailed,
    AppDegraded,
    DriftHealed,
    RevisionRefused,
    ShardAcquired,
    ShardReleased,
}

impl EventReason {
    /// The Event's `reason` (PascalCase, as `kubectl describe` shows it).
    pub fn reason(self) -> &'static str {
        match self {
            EventReason::SyncFailed => "SyncFailed",
            EventReason::AppDegraded => "AppDegraded",
            EventReason::DriftHealed => "DriftHealed",
            EventReason::RevisionRefused => "RevisionRefused",
            EventReason::ShardAcquired => "ShardAcquired",
            EventReason::ShardReleased => "ShardReleased",
        }
    }

    /// The Event's `action`: what the controller was doing.
    fn action(self) -> &'static str {
        match self {
            EventReason::SyncFailed | EventReason::AppDegraded | EventReason::DriftHealed => "Sync",
            EventReason::RevisionRefused => "Fetch",
            EventReason::ShardAcquired | EventReason::ShardReleased => "Lease",
        }
    }

    fn severity(self) -> EventType {
        match self {
            EventReason::SyncFailed | EventReason::AppDegraded | EventReason::RevisionRefused => {
                EventType::Warning
            }
            _ => EventType::Normal,
        }
    }
}

/// Records Events about this replica's pod.
#[derive(Clone)]
pub struct EventSink {
    recorder: Recorder,
    pod: ObjectReference,
}

impl EventSink {
    /// Events regarding the pod named by the replica's identity.
    pub fn new(cluster: &Cluster) -> EventSink {
        let recorder = Recorder::new(
            cluster.client.clone(),
            Reporter {
                controller: "mortar".into(),
                instance: Some(cluster.identity.clone()),
            },
        );
        let pod = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(cluster.identity.clone()),
            namespace: Some(cluster.namespace.clone()),
            ..Default::default()
        };
        EventSink { recorder, pod }
    }

    /// Records one Event; a failure is logged, never fatal.
    pub async fn record(&self, reason: EventReason, note: String) {
        self.record_about(reason, None, note).await;
    }

    /// Records one Event concerning an app (its `related` object, so each
    /// app's repeats aggregate on their own).
    pub async fn record_about(&self, reason: EventReason, app: Option<&str>, note: String) {
        // The API caps a note at 1 kB.
        let note: String = note.chars().take(1000).collect();
        let event = Event {
            type_: reason.severity(),
            reason: reason.reason().into(),
            note: Some(note),
            action: reason.action().into(),
            secondary: app.map(|name| ObjectReference {
                api_version: Some("mortar.dev/v1alpha1".into()),
                kind: Some("Application".into()),
                name: Some(name.to_string()),
                namespace: self.pod.namespace.clone(),
                ..Default::default()
            }),
        };
        if let Err(e) = self.recorder.publish(&event, &self.pod).await {
            tracing::warn!(reason = reason.reason(), error = %e, "cannot record a Kubernetes Event");
        }
    }
}
