//! The Lease loop: every third of the lease duration this replica reads
//! the group's Leases, holds one member slot (`<lease>-member-<k>`, so the
//! others count it among the live replicas), asks `shards::decide` which
//! shards (`<lease>-shard-<i>`) to renew, take and give back, and does it
//! with optimistic concurrency (a replace carries the `resourceVersion`
//! read, so of two replicas racing for a Lease one gets 409 and backs
//! off). Every name is known in advance, so a Role can list them all.
//!
//! Expiry is timed by this replica's own clock — a Lease is free when its
//! holder has not changed it for a whole lease duration since it was first
//! seen that way — so clock skew between nodes does not matter. A held
//! shard whose renewal has not succeeded for two thirds of the duration is
//! dropped, and the fence is cancelled: writes in flight finish, no new
//! one starts, well before another replica may take the shard over.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, ListParams, PostParams};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::events::{EventReason, EventSink};
use super::shards::{self, Holdings, ShardView};
use super::{Cluster, ClusterError};

const GROUP_LABEL: &str = "mortar.dev/lease-group";
const ROLE_LABEL: &str = "mortar.dev/lease-role";

/// Which apps this replica reconciles now, and the token that is cancelled
/// the moment it stops being sure of that.
#[derive(Debug, Clone)]
pub struct Ownership {
    pub holdings: Holdings,
    /// Cancelled when a held shard is lost (or on shutdown); a new one
    /// comes with the next holdings.
    pub fence: CancellationToken,
}

impl Ownership {
    /// Everything, fenced only by shutdown: a controller alone.
    pub fn everything(cancel: &CancellationToken) -> Ownership {
        Ownership {
            holdings: Holdings::everything(),
            fence: cancel.child_token(),
        }
    }
}

/// When this replica last saw a Lease change.
struct Seen {
    version: String,
    since: Instant,
}

/// Keeps this replica's Leases.
pub struct LeaseKeeper {
    api: Api<Lease>,
    prefix: String,
    me: String,
    shards: u32,
    slots: u32,
    duration: Duration,
    seen: BTreeMap<String, Seen>,
    /// Held shards and when each was last renewed.
    held: BTreeMap<u32, Instant>,
    ownership: watch::Sender<Ownership>,
    events: Option<EventSink>,
    /// The parent of every fence: shutdown cancels them all.
    cancel: CancellationToken,
}

impl LeaseKeeper {
    /// A keeper holding nothing yet; `ownership` reports its holdings.
    pub fn new(
        cluster: &Cluster,
        events: Option<EventSink>,
        cancel: &CancellationToken,
    ) -> (LeaseKeeper, watch::Receiver<Ownership>) {
        let k = &cluster.config;
        let ownership = Ownership {
            holdings: Holdings::nothing(k.shards),
            fence: cancel.child_token(),
        };
        let (tx, rx) = watch::channel(ownership);
        let keeper = LeaseKeeper {
            api: Api::namespaced(cluster.client.clone(), &cluster.namespace),
            prefix: k.lease.clone(),
            me: cluster.identity.clone(),
            shards: k.shards,
            slots: k.max_replicas,
            duration: k.lease_duration,
            seen: BTreeMap::new(),
            held: BTreeMap::new(),
            ownership: tx,
            events,
            cancel: cancel.clone(),
        };
        (keeper, rx)
    }

    fn shard_name(&self, i: u32) -> String {
        format!("{}-shard-{i}", self.prefix)
    }

    fn slot_name(&self, k: u32) -> String {
        format!("{}-member-{k}", self.prefix)
    }

    /// What this replica sees of each of `count` Leases named by `name`.
    fn views(
        &self,
        leases: &BTreeMap<String, Lease>,
        count: u32,
        name: impl Fn(u32) -> String,
    ) -> Vec<ShardView> {
        let now = Instant::now();
        (0..count)
            .filter_map(|i| {
                let lease = leases.get(&name(i))?;
                let spec = lease.spec.clone().unwrap_or_default();
                let since = self.seen.get(&name(i))?.since;
                Some(ShardView {
                    index: i,
                    holder: spec.holder_identity.clone().filter(|h| !h.is_empty()),
                    expired: now.duration_since(since) >= lease_duration(&spec, self.duration),
                })
            })
            .collect()
    }

    /// The first rounds, before the controller starts: it then knows which
    /// apps are its own from the start. With several shards a second round
    /// follows a renewal period later, so replicas starting together see
    /// one another before taking shares (otherwise the first one up would
    /// take every shard and plan every app before giving most back).
    pub async fn first_round(&mut self) {
        self.bounded_round().await;
        if self.shards > 1 {
            tokio::time::sleep(self.duration / 3).await;
            self.bounded_round().await;
        }
    }

    /// A round that may take at most a third of the lease duration, so a
    /// hung API call cannot keep this replica writing past its deadline.
    async fn bounded_round(&mut self) {
        match tokio::time::timeout(self.duration / 3, self.round()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %crate::error_chain::error_chain(&e), "cannot keep the Leases this round");
            }
            Err(_) => tracing::warn!("the Lease round did not finish in time"),
        }
        self.drop_stale();
    }

    /// Renews and rebalances until `stop` fires, then gives every shard
    /// back and removes the member Lease, so successors need not wait.
    pub async fn run(mut self, stop: CancellationToken) {
        let period = self.duration / 3;
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(period) => {}
            }
            self.bounded_round().await;
        }
        self.give_back().await;
    }

    /// One round: read, keep a member slot, decide, act.
    async fn round(&mut self) -> Result<(), ClusterError> {
        let list = self
            .api
            .list(&ListParams::default().labels(&format!("{GROUP_LABEL}={}", self.prefix)))
            .await
            .map_err(|source| ClusterError::Api {
                what: "cannot list the Leases".into(),
                source,
            })?;
        let now = Instant::now();
        let mut leases: BTreeMap<String, Lease> = BTreeMap::new();
        for lease in list.items {
            let name = lease.metadata.name.clone().unwrap_or_default();
            let version = lease.metadata.resource_version.clone().unwrap_or_default();
            let seen = self.seen.entry(name.clone()).or_insert(Seen {
                version: version.clone(),
                since: now,
            });
            if seen.version != version {
                *seen = Seen {
                    version,
                    since: now,
                };
            }
            leases.insert(name, lease);
        }
        // The live replicas: the holders of member slots.
        let slots = self.views(&leases, self.slots, |k| {
            format!("{}-member-{k}", self.prefix)
        });
        let mut members: BTreeSet<String> = slots
            .iter()
            .filter(|v| !v.expired || v.holder.as_deref() == Some(&self.me))
            .filter_map(|v| v.holder.clone())
            .collect();
        let have_slot = self.keep_slot(&slots, &mut leases).await;
        if have_slot {
            members.insert(self.me.clone());
        } else {
            members.remove(&self.me);
        }
        let views = self.views(&leases, self.shards, |i| {
            format!("{}-shard-{i}", self.prefix)
        });
        let decision = if have_slot {
            shards::decide(&self.me, &members, &views, self.shards)
        } else {
            // No slot: stand by, holding nothing.
            shards::Decision {
                release: views
                    .iter()
                    .filter(|v| v.holder.as_deref() == Some(&self.me))
                    .map(|v| v.index)
                    .collect(),
                ..Default::default()
            }
        };
        // A shard another replica holds now is lost, whatever we thought.
        let mut lost: Vec<u32> = views
            .iter()
            .filter(|v| self.held.contains_key(&v.index) && v.holder.as_deref() != Some(&self.me))
            .map(|v| v.index)
            .collect();
        for i in &lost {
            self.held.remove(i);
        }
        let mut gained = Vec::new();
        for i in decision.release {
            if let Some(lease) = leases.remove(&self.shard_name(i)) {
                self.held.remove(&i);
                lost.push(i);
                if let Err(e) = self.write(lease, None).await {
                    tracing::info!(shard = i, error = %e, "could not give the shard back; it expires");
                }
            }
        }
        for i in decision.renew {
            let name = self.shard_name(i);
            match leases.remove(&name) {
                Some(lease) => match self.write(lease, Some(false)).await {
                    Ok(()) => {
                        if self.held.insert(i, Instant::now()).is_none() {
                            gained.push(i);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(shard = i, error = %e, "cannot renew the shard's Lease");
                    }
                },
                None => {
                    self.held.remove(&i);
                }
            }
        }
        for i in decision.acquire {
            let name = self.shard_name(i);
            let taken = match leases.remove(&name) {
                Some(lease) => self.write(lease, Some(true)).await,
                None => self.create(&name, "shard").await,
            };
            match taken {
                Ok(()) => {
                    self.held.insert(i, Instant::now());
                    gained.push(i);
                }
                Err(e) => {
                    tracing::debug!(shard = i, error = %e, "another replica took the shard first")
                }
            }
        }
        self.publish(&gained, &lost).await;
        Ok(())
    }

    /// Renews this replica's member slot, or takes the first free one.
    /// Returns whether it holds one now.
    async fn keep_slot(
        &mut self,
        slots: &[ShardView],
        leases: &mut BTreeMap<String, Lease>,
    ) -> bool {
        if let Some(mine) = slots.iter().find(|v| v.holder.as_deref() == Some(&self.me)) {
            if let Some(lease) = leases.remove(&self.slot_name(mine.index)) {
                match self.write(lease, Some(false)).await {
                    Ok(()) => return true,
                    Err(e) => tracing::warn!(error = %e, "cannot renew the member Lease"),
                }
            }
            return false;
        }
        for k in 0..self.slots {
            let name = self.slot_name(k);
            let taken = match slots.iter().find(|v| v.index == k) {
                None => self.create(&name, "member").await,
                Some(v) if v.holder.is_none() || v.expired => match leases.remove(&name) {
                    Some(lease) => self.write(lease, Some(true)).await,
                    None => continue,
                },
                Some(_) => continue,
            };
            match taken {
                Ok(()) => {
                    tracing::info!(slot = k, "joined the replicas sharing the apps");
                    return true;
                }
                Err(e) => {
                    tracing::debug!(slot = k, error = %e, "another replica took the slot first")
                }
            }
        }
        tracing::warn!(
            slots = self.slots,
            "every member slot is taken: standing by (raise kubernetes.max_replicas)"
        );
        false
    }

    /// Replaces a Lease read this round: renewing it (`Some(false)`),
    /// taking it (`Some(true)`) or giving it back (`None`). The read's
    /// `resourceVersion` goes with it, so a concurrent change wins.
    async fn write(&self, mut lease: Lease, take: Option<bool>) -> Result<(), kube::Error> {
        let name = lease.metadata.name.clone().unwrap_or_default();
        let now = MicroTime(Timestamp::now());
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        match take {
            None => {
                spec.holder_identity = None;
            }
            Some(taking) => {
                if taking {
                    spec.acquire_time = Some(now.clone());
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                }
                spec.holder_identity = Some(self.me.clone());
                spec.renew_time = Some(now);
                spec.lease_duration_seconds = Some(self.duration.as_secs().max(1) as i32);
            }
        }
        self.api
            .replace(&name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }

    async fn create(&self, name: &str, role: &str) -> Result<(), kube::Error> {
        let now = MicroTime(Timestamp::now());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some(BTreeMap::from([
                    (GROUP_LABEL.to_string(), self.prefix.clone()),
                    (ROLE_LABEL.to_string(), role.to_string()),
                    ("app.kubernetes.io/managed-by".into(), "mortar".into()),
                ])),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.me.clone()),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_duration_seconds: Some(self.duration.as_secs().max(1) as i32),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        self.api
            .create(&PostParams::default(), &lease)
            .await
            .map(|_| ())
    }

    /// Drops held shards whose renewal has failed for two thirds of the
    /// lease duration: from then on this replica may no longer write.
    fn drop_stale(&mut self) {
        let deadline = self.duration * 2 / 3;
        let stale: Vec<u32> = self
            .held
            .iter()
            .filter(|(_, renewed)| renewed.elapsed() >= deadline)
            .map(|(i, _)| *i)
            .collect();
        if stale.is_empty() {
            return;
        }
        for i in &stale {
            self.held.remove(i);
        }
        tracing::warn!(shards = ?stale, "could not renew in time: stopped writing for these shards");
        self.fence_and_publish(&stale);
    }

    /// Publishes the holdings when they changed; a loss cancels the fence.
    async fn publish(&mut self, gained: &[u32], lost: &[u32]) {
        let held: BTreeSet<u32> = self.held.keys().copied().collect();
        if !lost.is_empty() {
            self.fence_and_publish(lost);
        } else if held != self.ownership.borrow().holdings.held {
            self.ownership
                .send_modify(|o| o.holdings.held = held.clone());
        }
        for &i in gained {
            tracing::info!(shard = i, shards = self.shards, "took a shard");
            self.event(
                EventReason::ShardAcquired,
                format!("{} holds shard {i} of {}", self.me, self.shards),
            )
            .await;
        }
        for &i in lost {
            tracing::info!(shard = i, shards = self.shards, "gave a shard back");
            self.event(
                EventReason::ShardReleased,
                format!("{} gave shard {i} of {} back", self.me, self.shards),
            )
            .await;
        }
    }

    /// Cancels the fence (writes for a shard no longer held must stop) and
    /// publishes the smaller holdings with a fresh fence.
    fn fence_and_publish(&mut self, lost: &[u32]) {
        let held: BTreeSet<u32> = self.held.keys().copied().collect();
        let fresh = self.cancel.child_token();
        let old = self.ownership.send_replace(Ownership {
            holdings: Holdings {
                shards: self.shards,
                held,
            },
            fence: fresh,
        });
        old.fence.cancel();
        tracing::debug!(lost = ?lost, "fence cancelled");
    }

    async fn event(&self, reason: EventReason, note: String) {
        if let Some(events) = &self.events {
            events.record(reason, note).await;
        }
    }

    /// On shutdown, once this replica has stopped writing: every shard
    /// back, the member Lease gone.
    async fn give_back(mut self) {
        let held: Vec<u32> = self.held.keys().copied().collect();
        self.held.clear();
        self.fence_and_publish(&held);
        for i in held {
            let name = self.shard_name(i);
            if let Ok(lease) = self.api.get(&name).await
                && lease
                    .spec
                    .as_ref()
                    .and_then(|s| s.holder_identity.as_deref())
                    == Some(self.me.as_str())
                && let Err(e) = self.write(lease, None).await
            {
                tracing::info!(shard = i, error = %e, "could not give the shard back; it expires");
            }
        }
        for k in 0..self.slots {
            let name = self.slot_name(k);
            if let Ok(lease) = self.api.get(&name).await
                && lease
                    .spec
                    .as_ref()
                    .and_then(|s| s.holder_identity.as_deref())
                    == Some(self.me.as_str())
            {
                let _ = self.write(lease, None).await;
                break;
            }
        }
    }
}

/// The duration a Lease says it lasts, else ours.
fn lease_duration(spec: &LeaseSpec, ours: Duration) -> Duration {
    spec.lease_duration_seconds
        .filter(|s| *s > 0)
        .map_or(ours, |s| Duration::from_secs(s as u64))
}
