//! Namespace quotas: what the estate places on a cluster fits the cluster's `quota`, and every
//! workload a cpu or memory quota covers says what it requests.
//!
//! Kubernetes admits no pod without cpu and memory requests in a namespace whose quota counts
//! them, unless a `LimitRange` gives a default; a workload that declares none is therefore
//! counted at the cluster's `limits.default`, and refused (E0622) when there is none either,
//! since it would never start. Totals are summed in one pass per cluster: cpu and memory ×
//! replicas, pods = replicas, claims and storage from the cluster's volumes. The error points at
//! the quota field that is exceeded and names the total.

use rustc_hash::FxHashMap;

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{Spanned, format_size};
use crate::model::{Cluster, Resource};

/// Checks every cluster that declares a quota.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut totals: FxHashMap<&str, Totals> = FxHashMap::default();
    for service in &estate.model.services {
        let Some(Place::Cluster(cluster)) = estate.place(&service.spec.on) else { continue };
        let Some(quota) = &cluster.spec.quota else { continue };
        let totals = totals.entry(cluster.name.as_str()).or_default();
        let replicas = u64::from(service.spec.replicas());
        totals.pods += replicas;
        let declared = service.spec.resources.as_ref().map(|r| &r.value);
        let default = cluster.spec.limits.as_ref().and_then(|l| l.value.default.as_ref()).map(|d| &d.value);
        let cpu = declared.and_then(|r| r.cpu.as_ref()).or_else(|| default.and_then(|d| d.cpu.as_ref()));
        let memory = declared.and_then(|r| r.memory.as_ref()).or_else(|| default.and_then(|d| d.memory.as_ref()));
        let counted = [
            ("cpu", quota.value.cpu.is_some(), cpu.is_some()),
            ("memory", quota.value.memory.is_some(), memory.is_some()),
        ];
        for (what, by_quota, requested) in counted {
            if by_quota && !requested {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0622,
                        service.name_span,
                        format!("service `{}` requests no {what} in a namespace whose quota counts it", service.name),
                    )
                    .with_primary_label(format!("no {what} request"))
                    .with_label(quota.span, format!("cluster `{}` has a {what} quota", cluster.name))
                    .with_note("Kubernetes rejects the service's pods: a quota on requests admits only pods that declare them")
                    .with_help(format!(
                        "add `resources {{ {what} = … }}` to the service, or `limits {{ default {{ {what} = … }} }}` to the cluster"
                    )),
                );
            }
        }
        totals.cpu = totals.cpu.saturating_add(cpu.map_or(0, |c| c.value.millis()).saturating_mul(replicas));
        totals.memory = totals.memory.saturating_add(memory.map_or(0, |m| m.value.0).saturating_mul(replicas));
    }
    for storage in &estate.model.storage {
        let (Some(volume), Some(Place::Cluster(cluster))) = (&storage.spec.volume, estate.place(&storage.spec.on))
        else {
            continue;
        };
        if cluster.spec.quota.is_some() {
            let totals = totals.entry(cluster.name.as_str()).or_default();
            totals.claims += 1;
            totals.storage = totals.storage.saturating_add(volume.value.size.value.0);
        }
    }
    for cluster in &estate.model.clusters {
        if let (Some(quota), Some(totals)) = (&cluster.spec.quota, totals.get(cluster.name.as_str())) {
            exceeded(cluster, &quota.value, totals, diagnostics);
        }
    }
}

/// What the estate asks of one cluster's namespace.
#[derive(Default)]
struct Totals {
    /// Millicores.
    cpu: u64,
    memory: u64,
    pods: u64,
    claims: u64,
    storage: u64,
}

fn exceeded(cluster: &Resource<Cluster>, quota: &crate::model::Quota, totals: &Totals, out: &mut Vec<Diagnostic>) {
    let count = |limit: &Option<Spanned<u32>>| limit.as_ref().map(|l| (u64::from(l.value), l.span));
    let size = |limit: &Option<Spanned<crate::model::types::Size>>| limit.as_ref().map(|l| (l.value.0, l.span));
    let cpu = quota.cpu.as_ref().map(|l| (l.value.millis(), l.span));
    let checks = [
        ("cpu", cpu, totals.cpu, "", false),
        ("memory", size(&quota.memory), totals.memory, "", true),
        ("pods", count(&quota.pods), totals.pods, "pods", false),
        ("volumes", count(&quota.volumes), totals.claims, "volume claims", false),
        ("storage", size(&quota.storage), totals.storage, "", true),
    ];
    for (field, limit, total, unit, is_size) in checks {
        let Some((limit, span)) = limit else { continue };
        if total <= limit {
            continue;
        }
        let show = |n: u64| match (is_size, field) {
            (true, _) => format_size(n),
            (false, "cpu") => super::capacity::cpu_text(n),
            (false, _) => format!("{n} {unit}"),
        };
        out.push(
            Diagnostic::new(
                Code::E0621,
                span,
                format!("cluster `{}` asks for {}, over its {field} quota of {}", cluster.name, show(total), show(limit)),
            )
            .with_primary_label(format!("quota: {}", show(limit)))
            .with_note(format!(
                "the workloads placed on cluster `{}` ask for {} in total (requests × replicas; defaults from `limits`)",
                cluster.name,
                show(total)
            ))
            .with_help("raise the quota, lower what the workloads ask for, or move one to another cluster"),
        );
    }
}
