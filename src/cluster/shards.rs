//! Which replica reconciles which apps: apps are spread over a fixed number
//! of shards by a stable hash of their name, and each shard is one Lease
//! held by at most one replica. The decisions here are pure: given what
//! this replica sees of the Leases and of the live replicas, which shards it
//! renews, takes and gives back so that each replica holds at most its
//! fair share (the shard count divided by the live replicas, rounded up).

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

/// The shard an app belongs to: the first eight bytes of the SHA-256 of
/// its name, modulo the shard count. Stable across versions and replicas.
pub fn shard_of(app: &str, shards: u32) -> u32 {
    let digest = Sha256::digest(app.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(shards.max(1))) as u32
}

/// The shards a replica holds, out of how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    pub shards: u32,
    pub held: BTreeSet<u32>,
}

impl Holdings {
    /// Holding every app: a controller outside a cluster, or with no
    /// other replica to share with.
    pub fn everything() -> Holdings {
        Holdings {
            shards: 1,
            held: BTreeSet::from([0]),
        }
    }

    /// Holding nothing (yet).
    pub fn nothing(shards: u32) -> Holdings {
        Holdings {
            shards,
            held: BTreeSet::new(),
        }
    }

    /// Whether this replica reconciles `app`.
    pub fn owns(&self, app: &str) -> bool {
        self.held.contains(&shard_of(app, self.shards))
    }
}

/// What this replica sees of one shard's Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardView {
    pub index: u32,
    /// The replica named as holder (`None`: released, or no Lease yet).
    pub holder: Option<String>,
    /// True when the holder has not renewed for a whole lease duration,
    /// as timed by this replica's own clock.
    pub expired: bool,
}

/// What to do with the shard Leases this round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub renew: Vec<u32>,
    pub acquire: Vec<u32>,
    pub release: Vec<u32>,
}

/// The most shards one of `replicas` live replicas should hold.
pub fn fair_share(shards: u32, replicas: usize) -> u32 {
    let replicas = replicas.max(1) as u32;
    shards.div_ceil(replicas)
}

/// Decides this round's moves for replica `me`. `members` are the live
/// replicas (this one included); `views` has one entry per shard index
/// (a missing index counts as free).
pub fn decide(me: &str, members: &BTreeSet<String>, views: &[ShardView], shards: u32) -> Decision {
    let replicas = members.len().max(1) + usize::from(!members.contains(me));
    let fair = fair_share(shards, replicas) as usize;
    let holder = |i: u32| views.iter().find(|v| v.index == i);
    let mut mine: Vec<u32> = (0..shards)
        .filter(|&i| holder(i).is_some_and(|v| v.holder.as_deref() == Some(me)))
        .collect();
    let mut decision = Decision::default();
    // Too many (a replica joined): give back the highest-numbered ones.
    while mine.len() > fair {
        if let Some(i) = mine.pop() {
            decision.release.push(i);
        }
    }
    decision.release.sort_unstable();
    decision.renew = mine.clone();
    if mine.len() >= fair {
        return decision;
    }
    let free: Vec<u32> = (0..shards)
        .filter(|&i| match holder(i) {
            None => true,
            Some(v) => v.holder.is_none() || (v.expired && v.holder.as_deref() != Some(me)),
        })
        .collect();
    // Replicas start looking at different shards, so that they rarely
    // race for the same one.
    let rank = members.iter().position(|m| m == me).unwrap_or(0) as u32;
    let start = rank * shards / replicas as u32;
    let mut ordered = free;
    ordered.sort_by_key(|&i| (i + shards - start) % shards);
    decision.acquire = ordered.into_iter().take(fair - mine.len()).collect();
    decision
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn members(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// Runs replicas' decisions in turn until nothing moves, as the Lease
    /// loop would (every holder renews; an acquire succeeds when free).
    fn settle(
        replicas: &[&str],
        shards: u32,
        mut holders: BTreeMap<u32, String>,
    ) -> BTreeMap<u32, String> {
        let all = members(replicas);
        for _ in 0..10 {
            let mut moved = false;
            for me in replicas {
                let views: Vec<ShardView> = (0..shards)
                    .map(|i| ShardView {
                        index: i,
                        holder: holders.get(&i).cloned(),
                        expired: false,
                    })
                    .collect();
                let d = decide(me, &all, &views, shards);
                for i in d.release {
                    holders.remove(&i);
                    moved = true;
                }
                for i in d.acquire {
                    if let std::collections::btree_map::Entry::Vacant(free) = holders.entry(i) {
                        free.insert(me.to_string());
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
        holders
    }

    fn share(holders: &BTreeMap<u32, String>, me: &str) -> usize {
        holders.values().filter(|h| *h == me).count()
    }

    #[test]
    fn the_hash_is_stable_and_spreads_apps_evenly() {
        assert_eq!(shard_of("analytics", 3), shard_of("analytics", 3));
        assert_eq!(shard_of("anything", 1), 0);
        let mut counts = [0usize; 3];
        for a in 0..3000 {
            counts[shard_of(&format!("team-{a}"), 3) as usize] += 1;
        }
        for c in counts {
            assert!((900..=1100).contains(&c), "uneven spread: {counts:?}");
        }
    }

    #[test]
    fn one_shard_one_leader_others_stand_by() {
        let holders = settle(&["a", "b", "c"], 1, BTreeMap::new());
        assert_eq!(holders.len(), 1);
        let leader = holders[&0].clone();
        let views = [ShardView {
            index: 0,
            holder: Some(leader.clone()),
            expired: false,
        }];
        for other in ["a", "b", "c"].into_iter().filter(|r| *r != leader) {
            assert_eq!(
                decide(other, &members(&["a", "b", "c"]), &views, 1),
                Decision::default()
            );
        }
    }

    #[test]
    fn shards_spread_to_a_fair_share_each() {
        let holders = settle(&["a", "b", "c"], 6, BTreeMap::new());
        assert_eq!(holders.len(), 6);
        for r in ["a", "b", "c"] {
            assert_eq!(share(&holders, r), 2, "{holders:?}");
        }
        // 7 shards over 3: nobody holds more than 3, all are held.
        let holders = settle(&["a", "b", "c"], 7, BTreeMap::new());
        assert_eq!(holders.len(), 7);
        assert!(["a", "b", "c"].iter().all(|r| share(&holders, r) <= 3));
    }

    #[test]
    fn a_joining_replica_gets_shards_given_back_to_it() {
        let alone = settle(&["a"], 4, BTreeMap::new());
        assert_eq!(share(&alone, "a"), 4);
        let both = settle(&["a", "b"], 4, alone);
        assert_eq!(share(&both, "a"), 2);
        assert_eq!(share(&both, "b"), 2);
    }

    #[test]
    fn a_dead_replicas_shards_are_taken_only_once_expired() {
        let holders = settle(&["a", "b", "c"], 3, BTreeMap::new());
        let dead = holders[&0].clone();
        let live: Vec<&str> = ["a", "b", "c"].into_iter().filter(|r| *r != dead).collect();
        let views = |expired: bool| -> Vec<ShardView> {
            (0..3)
                .map(|i| ShardView {
                    index: i,
                    holder: Some(holders[&i].clone()),
                    expired: expired && holders[&i] == dead,
                })
                .collect()
        };
        for me in &live {
            let d = decide(me, &members(&live), &views(false), 3);
            assert!(d.acquire.is_empty(), "took a shard still renewed: {d:?}");
            let d = decide(me, &members(&live), &views(true), 3);
            assert_eq!(d.acquire, vec![0], "{me}: {d:?}");
        }
    }

    #[test]
    fn a_replica_keeps_what_it_holds_when_it_is_its_share() {
        let views: Vec<ShardView> = (0..2)
            .map(|i| ShardView {
                index: i,
                holder: Some(if i == 0 { "a" } else { "b" }.into()),
                expired: false,
            })
            .collect();
        let d = decide("a", &members(&["a", "b"]), &views, 2);
        assert_eq!(d.renew, vec![0]);
        assert!(d.acquire.is_empty() && d.release.is_empty());
    }
}
