//! Dependency order: a topological sort over `depends_on` edges that follows
//! Databricks kind order wherever the edges leave a choice, and rejects cycles.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use super::PlanError;
use crate::databricks::kinds;
use crate::model::{Kind, ResourceKey};

/// The kind's place in apply order, as the kind declares it (Mortar's own
/// kinds are never applied and go last).
pub fn kind_rank(kind: Kind) -> u8 {
    kinds::spec(kind).map_or(u8::MAX, |k| k.apply_rank())
}

/// Orders `nodes` (each with the keys it depends on) so every dependency
/// comes first; among ready nodes, lower kind rank first, then by key.
/// Dependencies on keys outside `nodes` are ignored (they are applied by
/// another app or already exist). A cycle is an error naming its keys.
pub fn topological(
    nodes: &BTreeMap<ResourceKey, BTreeSet<ResourceKey>>,
) -> Result<Vec<ResourceKey>, PlanError> {
    let mut indegree: BTreeMap<&ResourceKey, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&ResourceKey, Vec<&ResourceKey>> = BTreeMap::new();
    for (key, deps) in nodes {
        let inside = deps.iter().filter(|d| *d != key && nodes.contains_key(*d));
        let mut n = 0;
        for dep in inside {
            dependents.entry(dep).or_default().push(key);
            n += 1;
        }
        indegree.insert(key, n);
        if deps.contains(key) {
            return Err(PlanError::Cycle {
                keys: vec![key.clone(), key.clone()],
            });
        }
    }
    let mut ready: BinaryHeap<Reverse<(u8, &ResourceKey)>> = indegree
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| Reverse((kind_rank(k.kind), *k)))
        .collect();
    let mut out = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, key))) = ready.pop() {
        out.push(key.clone());
        for dependent in dependents.get(key).into_iter().flatten() {
            if let Some(n) = indegree.get_mut(dependent) {
                *n -= 1;
                if *n == 0 {
                    ready.push(Reverse((kind_rank(dependent.kind), *dependent)));
                }
            }
        }
    }
    if out.len() == nodes.len() {
        return Ok(out);
    }
    Err(PlanError::Cycle {
        keys: find_cycle(nodes, &indegree),
    })
}

/// Every node left with a positive in-degree depends on another such node,
/// so following those edges must come back to a node already seen.
fn find_cycle(
    nodes: &BTreeMap<ResourceKey, BTreeSet<ResourceKey>>,
    indegree: &BTreeMap<&ResourceKey, usize>,
) -> Vec<ResourceKey> {
    let stuck = |k: &ResourceKey| indegree.get(k).is_some_and(|n| *n > 0);
    let Some(start) = indegree.iter().find(|(_, n)| **n > 0).map(|(k, _)| *k) else {
        return Vec::new();
    };
    let mut path: Vec<&ResourceKey> = vec![start];
    let mut seen: BTreeMap<&ResourceKey, usize> = BTreeMap::from([(start, 0)]);
    let mut cur = start;
    loop {
        let Some(next) = nodes
            .get(cur)
            .and_then(|deps| deps.iter().find(|d| stuck(d)))
        else {
            return path.into_iter().cloned().collect();
        };
        if let Some(&at) = seen.get(next) {
            let mut cycle: Vec<ResourceKey> = path[at..].iter().map(|k| (*k).clone()).collect();
            cycle.push(cycle[0].clone());
            return cycle;
        }
        seen.insert(next, path.len());
        path.push(next);
        cur = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind, name: &str) -> ResourceKey {
        ResourceKey {
            workspace: "w".into(),
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn kind_order_breaks_ties_and_edges_win() {
        let job = key(Kind::Job, "a");
        let cluster = key(Kind::Cluster, "z");
        let group = key(Kind::Group, "g");
        let policy = key(Kind::ClusterPolicy, "p");
        let mut nodes = BTreeMap::new();
        nodes.insert(job.clone(), BTreeSet::from([cluster.clone()]));
        nodes.insert(cluster.clone(), BTreeSet::new());
        nodes.insert(policy.clone(), BTreeSet::from([job.clone()]));
        nodes.insert(
            group.clone(),
            BTreeSet::from([key(Kind::Group, "elsewhere")]),
        );
        let order = topological(&nodes).unwrap();
        assert_eq!(order, vec![group, cluster, job, policy]);
    }

    #[test]
    fn cycles_are_named() {
        let a = key(Kind::Job, "a");
        let b = key(Kind::Job, "b");
        let c = key(Kind::Cluster, "c");
        let mut nodes = BTreeMap::new();
        nodes.insert(a.clone(), BTreeSet::from([b.clone()]));
        nodes.insert(b.clone(), BTreeSet::from([c.clone()]));
        nodes.insert(c.clone(), BTreeSet::from([a.clone()]));
        let Err(PlanError::Cycle { keys }) = topological(&nodes) else {
            panic!("expected a cycle");
        };
        assert_eq!(keys.len(), 4);
        assert_eq!(keys.first(), keys.last());
        for k in [&a, &b, &c] {
            assert!(keys.contains(k));
        }
    }
}
