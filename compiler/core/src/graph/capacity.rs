//! Capacity: the cpu and memory of what is placed on a node fit the node, what is placed on a
//! cluster fits its nodes, and the quotas of a pool's datasets fit the pool.
//!
//! Demands are summed per place in one pass over the services (instances count: cpu × replicas,
//! an autoscaled service's `min`, which must always run),
//! cpu in millicores so `500m` and `2` add up exactly.
//! The error points at the service whose placement crosses the limit, with the capacity as a
//! secondary label and the total in a note.

use rustc_hash::FxHashMap;

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{Cpu, format_size};
use crate::source::Span;

/// Checks node, cluster and pool capacity.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    compute(estate, diagnostics);
    pools(estate, diagnostics);
}

/// What a place offers, and where that is written.
struct Capacity {
    name: String,
    cpu: Option<(u64, Span)>,
    memory: Option<(u64, Span)>,
}

fn node_capacity(node: &crate::model::Resource<crate::model::Node>) -> Capacity {
    Capacity {
        name: format!("node `{}`", node.name),
        cpu: node.spec.cpu.as_ref().map(|c| (c.value.millis(), c.span)),
        memory: node.spec.memory.as_ref().map(|m| (m.value.0, m.span)),
    }
}

fn compute(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    // Cluster capacity is the sum of its nodes', known only when every node declares it.
    let mut capacities: FxHashMap<(bool, &str), Capacity> = FxHashMap::default();
    for cluster in &estate.model.clusters {
        let nodes: Vec<_> =
            cluster.spec.servers.iter().chain(&cluster.spec.agents).filter_map(|n| estate.node(&n.name)).collect();
        let sum = |get: &dyn Fn(&crate::model::Node) -> Option<u64>| -> Option<u64> {
            nodes.iter().map(|n| get(&n.spec)).sum::<Option<u64>>()
        };
        capacities.insert(
            (true, cluster.name.as_str()),
            Capacity {
                name: format!("cluster `{}`", cluster.name),
                cpu: sum(&|n| n.cpu.as_ref().map(|c| c.value.millis())).map(|c| (c, cluster.spec.servers.span)),
                memory: sum(&|n| n.memory.as_ref().map(|m| m.value.0)).map(|m| (m, cluster.spec.servers.span)),
            },
        );
    }
    let mut used: FxHashMap<(bool, &str), (u64, u64, bool, bool)> = FxHashMap::default();
    for service in &estate.model.services {
        let Some(resources) = &service.spec.resources else { continue };
        let key = match estate.place(&service.spec.on) {
            Some(Place::Node(node)) => {
                capacities.entry((false, node.name.as_str())).or_insert_with(|| node_capacity(node));
                (false, node.name.as_str())
            }
            Some(Place::Cluster(cluster)) => (true, cluster.name.as_str()),
            None => continue,
        };
        let Some(capacity) = capacities.get(&key) else { continue };
        let replicas = u64::from(service.spec.min_replicas());
        let entry = used.entry(key).or_insert((0, 0, false, false));
        if let (Some(cpu), Some((limit, limit_span))) = (&resources.cpu, capacity.cpu) {
            entry.0 = entry.0.saturating_add(cpu.value.millis().saturating_mul(replicas));
            if entry.0 > limit && !entry.2 {
                entry.2 = true;
                let (total, limit) = (cpu_text(entry.0), cpu_text(limit));
                diagnostics.push(overcommitted(
                    &service.name,
                    &capacity.name,
                    "cpu",
                    cpu.span,
                    total,
                    limit,
                    limit_span,
                ));
            }
        }
        if let (Some(memory), Some((limit, limit_span))) = (&resources.memory, capacity.memory) {
            entry.1 += memory.value.0.saturating_mul(replicas);
            if entry.1 > limit && !entry.3 {
                entry.3 = true;
                let (total, limit_text) = (format_size(entry.1), format_size(limit));
                diagnostics.push(overcommitted(
                    &service.name,
                    &capacity.name,
                    "memory",
                    memory.span,
                    total,
                    limit_text,
                    limit_span,
                ));
            }
        }
    }
}

/// Millicores as a reader counts cpu: `3 cores`, `1 core`, `2500m` (the quantity Kubernetes writes).
pub(super) fn cpu_text(millis: u64) -> String {
    match Cpu(millis).quantity() {
        quantity if quantity == "1" => "1 core".into(),
        quantity if quantity.ends_with('m') => quantity,
        quantity => format!("{quantity} cores"),
    }
}

fn overcommitted(
    service: &str,
    place: &str,
    what: &str,
    span: Span,
    total: String,
    limit: String,
    limit_span: Span,
) -> Diagnostic {
    Diagnostic::new(
        Code::E0608,
        span,
        format!("{place} runs out of {what} with service `{service}`: {total} asked, {limit} available"),
    )
    .with_primary_label(format!("this {what} does not fit"))
    .with_label(limit_span, format!("{place} has {limit}"))
    .with_note(format!("the services placed on {place} ask for {total} in total (resources × replicas)"))
    .with_help(format!("give {place} more {what}, lower what the services ask for, or move a service elsewhere"))
}

fn pools(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut used: FxHashMap<(&str, &str), (u64, bool)> = FxHashMap::default();
    for storage in &estate.model.storage {
        let (Some(zfs), Some(Place::Node(node))) = (&storage.spec.zfs, estate.place(&storage.spec.on)) else {
            continue;
        };
        let (Some(quota), Some(pool)) = (&zfs.quota, node.spec.zpool.get(zfs.pool.as_str())) else { continue };
        let Some(size) = &pool.size else { continue };
        let entry = used.entry((node.name.as_str(), zfs.pool.as_str())).or_insert((0, false));
        entry.0 = entry.0.saturating_add(quota.value.0);
        if entry.0 > size.value.0 && !entry.1 {
            entry.1 = true;
            let (total, limit) = (format_size(entry.0), format_size(size.value.0));
            diagnostics.push(
                Diagnostic::new(
                    Code::E0609,
                    quota.span,
                    format!(
                        "the datasets of pool `{}` on node `{}` ask for {total}, more than its {limit}",
                        zfs.pool.value, node.name
                    ),
                )
                .with_primary_label("this quota does not fit")
                .with_label(size.span, format!("the pool holds {limit}"))
                .with_help("lower the quotas or grow the pool"),
            );
        }
    }
}
