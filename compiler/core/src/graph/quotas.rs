//! Namespace quotas: what the estate places in each namespace of a cluster fits the namespace's
//! `quota` (a job's pod counted once, at the namespace's defaults: E0679 where there are none),
//! every workload a cpu or memory quota covers says what it requests, and every service, job and
//! storage on a cluster is in a namespace the cluster holds (E0630, E0631; a cluster's own budget
//! beside namespace blocks is E0632).
//!
//! Kubernetes admits no pod without cpu and memory requests in a namespace whose quota counts
//! them, unless a `LimitRange` gives a default; a workload that declares none is therefore
//! counted at the cluster's `limits.default`, and refused (E0622) when there is none either,
//! since it would never start. Totals are summed in one pass per namespace: cpu and memory ×
//! replicas (an autoscaled service's `max`), pods = replicas, plus what a service's chart runs
//! beside its own containers (`helm { sidecar NAME { … }, pods NAME { … } }`, which Kubernetes
//! counts the same: `ClusterNamespace::quota_ask`), claims and storage from the namespace's volumes
//! (a read-write-once volume of a replicated service once per replica, as its StatefulSet claims
//! it). The error points at the quota field that is exceeded and names the total and the services
//! counted, each with its chart's pods and sidecars.

use rustc_hash::FxHashMap;

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::model::types::{Spanned, format_size};
use crate::model::{AccessMode, Cluster, ClusterNamespace, ClusterNamespaces, NamespaceChoice, Resource, Service};
use crate::source::Span;

/// Checks every namespace that declares a quota, and every service's and storage's choice of
/// namespace.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut totals: FxHashMap<(&str, usize), Totals> = FxHashMap::default();
    let mut namespaces: FxHashMap<&str, Vec<ClusterNamespace<'_>>> = FxHashMap::default();
    // A read-write-once volume mounted by a service with several replicas is one claim per
    // replica (a StatefulSet's claim template), so it counts that many times.
    let mut claims_per_volume: FxHashMap<&str, u64> = FxHashMap::default();
    for cluster in &estate.model.clusters {
        budget_beside_namespaces(cluster, diagnostics);
        namespaces.insert(cluster.name.as_str(), cluster.spec.namespaces(cluster.name_span));
    }
    for service in &estate.model.services {
        let chosen = service.spec.namespace.as_ref();
        let Some(Place::Cluster(cluster)) = estate.place(&service.spec.on) else {
            if let Some(chosen) = chosen {
                diagnostics.push(namespace_off_cluster("service", &service.name, chosen));
            }
            continue;
        };
        let Some(index) = chosen_namespace(cluster, "service", &service.name, service.name_span, chosen, diagnostics)
        else {
            continue;
        };
        // An autoscaled service may run its autoscaler's maximum: the quota must admit that many.
        let replicas = u64::from(service.spec.max_replicas());
        for storage in service.spec.volumes.values() {
            // A claim is mounted only by pods of its own namespace.
            let Some(mounted) = estate.storage(&storage.name) else { continue };
            let same_cluster = mounted.spec.on.value.kind == "cluster" && mounted.spec.on.value.name == cluster.name;
            let theirs = cluster.spec.namespace_of(mounted.spec.namespace.as_ref());
            if same_cluster && theirs.is_ok() && theirs != Ok(index) {
                let names = cluster.spec.namespaces(cluster.name_span);
                let (ours, theirs) = (names[index].name, theirs.map_or("", |i| names[i].name));
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0633,
                        storage.span,
                        format!(
                            "service `{}` in namespace `{ours}` mounts storage `{}` of namespace `{theirs}`",
                            service.name, storage.name
                        ),
                    )
                    .with_primary_label("a claim of another namespace")
                    .with_note("Kubernetes mounts a volume claim only into pods of its own namespace")
                    .with_help(format!(
                        "put storage `{}` in namespace `{ours}`, or the service in `{theirs}`",
                        storage.name
                    )),
                );
            }

            let claims = claims_per_volume.entry(storage.name.as_str()).or_insert(1);
            *claims = (*claims).max(replicas);
        }
        let namespace = namespaces[cluster.name.as_str()][index];
        let Some(quota) = namespace.quota else { continue };
        let totals = totals.entry((cluster.name.as_str(), index)).or_default();
        totals.services.push(counted_as(service));
        let (cpu, memory) = namespace.requests_of(&service.spec);
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
                    .with_label(quota.span, format!("namespace `{}` has a {what} quota", namespace.name))
                    .with_note("Kubernetes rejects the service's pods: a quota on requests admits only pods that declare them")
                    .with_help(format!(
                        "add `resources {{ {what} = … }}` to the service, or `limits {{ default {{ {what} = … }} }}` to {}",
                        match matches!(cluster.spec.namespace.as_ref().map(|n| &n.value), Some(ClusterNamespaces::Held(_))) {
                            true => format!("namespace `{}`", namespace.name),
                            false => "the cluster".to_string(),
                        }
                    )),
                );
            }
        }
        let ask = namespace.quota_ask(&service.spec);
        totals.pods = totals.pods.saturating_add(ask.pods);
        totals.cpu = totals.cpu.saturating_add(ask.cpu);
        totals.memory = totals.memory.saturating_add(ask.memory);
    }
    for job in &estate.model.jobs {
        let chosen = job.spec.namespace.as_ref();
        let Some(Place::Cluster(cluster)) = estate.place(&job.spec.on) else {
            if let Some(chosen) = chosen {
                diagnostics.push(namespace_off_cluster("job", &job.name, chosen));
            }
            continue;
        };
        let Some(index) = chosen_namespace(cluster, "job", &job.name, job.name_span, chosen, diagnostics) else {
            continue;
        };
        let namespace = namespaces[cluster.name.as_str()][index];
        let Some(quota) = namespace.quota else { continue };
        // A job declares no resources: its pod gets the namespace's defaults, or is rejected.
        let default = namespace.limits.and_then(|l| l.value.default.as_ref()).map(|d| &d.value);
        let cpu = default.and_then(|d| d.cpu.as_ref());
        let memory = default.and_then(|d| d.memory.as_ref());
        for (what, by_quota, requested) in [
            ("cpu", quota.value.cpu.is_some(), cpu.is_some()),
            ("memory", quota.value.memory.is_some(), memory.is_some()),
        ] {
            if by_quota && !requested {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0679,
                        job.name_span,
                        format!("job `{}` runs in namespace `{}`, whose quota counts {what}, with no {what} default", job.name, namespace.name),
                    )
                    .with_primary_label(format!("its pod requests no {what}"))
                    .with_label(quota.span, format!("namespace `{}` has a {what} quota", namespace.name))
                    .with_note("Kubernetes rejects a pod without requests where a quota counts them, so the job never runs and what needs it never starts")
                    .with_help(format!("give the namespace `limits {{ default {{ {what} = … }} }}`, which the job's pod takes")),
                );
            }
        }
        let totals = totals.entry((cluster.name.as_str(), index)).or_default();
        totals.jobs.push(&job.name);
        totals.pods += 1;
        totals.cpu = totals.cpu.saturating_add(cpu.map_or(0, |c| c.value.millis()));
        totals.memory = totals.memory.saturating_add(memory.map_or(0, |m| m.value.0));
    }
    for storage in &estate.model.storage {
        let chosen = storage.spec.namespace.as_ref();
        let Some(Place::Cluster(cluster)) = estate.place(&storage.spec.on) else {
            if let Some(chosen) = chosen {
                diagnostics.push(namespace_off_cluster("storage", &storage.name, chosen));
            }
            continue;
        };
        let Some(index) = chosen_namespace(cluster, "storage", &storage.name, storage.name_span, chosen, diagnostics)
        else {
            continue;
        };
        let Some(volume) = &storage.spec.volume else { continue };
        if namespaces[cluster.name.as_str()][index].quota.is_some() {
            let totals = totals.entry((cluster.name.as_str(), index)).or_default();
            let shared = volume.value.access.as_ref().is_some_and(|a| a.value != AccessMode::ReadWriteOnce);
            let claims = if shared { 1 } else { claims_per_volume.get(storage.name.as_str()).copied().unwrap_or(1) };
            totals.claims += claims;
            totals.storage = totals.storage.saturating_add(volume.value.size.value.0.saturating_mul(claims));
        }
    }
    for cluster in &estate.model.clusters {
        for (index, namespace) in namespaces[cluster.name.as_str()].iter().enumerate() {
            if let (Some(quota), Some(totals)) = (namespace.quota, totals.get(&(cluster.name.as_str(), index))) {
                exceeded(cluster, namespace, &quota.value, totals, diagnostics);
            }
        }
    }
}

/// The namespace a service or storage on `cluster` is in, or the diagnostic why there is none.
fn chosen_namespace(
    cluster: &Resource<Cluster>,
    kind: &str,
    name: &str,
    name_span: Span,
    chosen: Option<&Spanned<String>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let held = || cluster.spec.namespaces(cluster.name_span).iter().map(|n| n.name.to_string()).collect::<Vec<_>>();
    match cluster.spec.namespace_of(chosen) {
        Ok(index) => Some(index),
        Err(NamespaceChoice::Unknown) => {
            let chosen = chosen?;
            let held = held();
            let diagnostic = Diagnostic::new(
                Code::E0630,
                chosen.span,
                format!(
                    "{kind} `{name}` is in namespace `{}`, which cluster `{}` does not hold",
                    chosen.value, cluster.name
                ),
            )
            .with_primary_label("no such namespace on the cluster");
            diagnostics.push(match did_you_mean(&chosen.value, held.iter().map(String::as_str)) {
                Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(
                    chosen.span,
                    &chosen.value,
                    close,
                ),
                None => diagnostic.with_help(format!(
                    "cluster `{}` holds {}; add `namespace {} {{ … }}` to it or choose one of those",
                    cluster.name,
                    held.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                    chosen.value
                )),
            });
            None
        }
        Err(NamespaceChoice::NotChosen) => {
            let held = held();
            diagnostics.push(
                Diagnostic::new(
                    Code::E0631,
                    name_span,
                    format!("{kind} `{name}` names no namespace, and cluster `{}` holds several", cluster.name),
                )
                .with_primary_label("which namespace?")
                .with_help(format!(
                    "add `namespace = \"{}\"` (the cluster holds {})",
                    held[0],
                    held.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                )),
            );
            None
        }
    }
}

fn namespace_off_cluster(kind: &str, name: &str, chosen: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(Code::E0630, chosen.span, format!("{kind} `{name}` names a namespace but is not on a cluster"))
        .with_primary_label("namespaces are a cluster's")
        .with_help("remove `namespace`, or place it on a cluster that holds the namespace")
}

/// A cluster whose namespaces are blocks budgets each of them; its own `quota` and `limits`
/// would apply to none.
fn budget_beside_namespaces(cluster: &Resource<Cluster>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(namespace) = &cluster.spec.namespace else { return };
    if !matches!(namespace.value, ClusterNamespaces::Held(_)) {
        return;
    }
    let spans = [
        ("quota", cluster.spec.quota.as_ref().map(|q| q.span)),
        ("limits", cluster.spec.limits.as_ref().map(|l| l.span)),
    ];
    for (field, span) in spans {
        let Some(span) = span else { continue };
        diagnostics.push(
            Diagnostic::new(
                Code::E0632,
                span,
                format!("cluster `{}` holds namespace blocks, so its own `{field}` budgets none of them", cluster.name),
            )
            .with_primary_label(format!("a `{field}` of no namespace"))
            .with_label(namespace.span, "the namespaces the cluster holds")
            .with_help(format!("move `{field}` into each `namespace NAME {{ … }}` block it is meant for")),
        );
    }
}

/// A service as the quota error names it: with what its chart runs beside its own containers,
/// which the totals include, so that a service that fits alone is seen to be over with them.
fn counted_as(service: &Resource<Service>) -> String {
    let Some(helm) = &service.spec.helm else { return format!("`{}`", service.name) };
    let sidecars = helm.value.sidecar.keys().map(|name| format!("`{name}` container in each pod"));
    let pods = helm.value.pods.iter().map(|(name, pods)| match pods.value.count.value {
        1 => format!("1 `{name}` pod"),
        count => format!("{count} `{name}` pods"),
    });
    let beside: Vec<String> = sidecars.chain(pods).collect();
    match beside.is_empty() {
        true => format!("`{}`", service.name),
        false => format!("`{}` (with its chart's {})", service.name, beside.join(" and ")),
    }
}

/// What the estate asks of one cluster's namespace.
#[derive(Default)]
struct Totals<'m> {
    /// The services counted, in model order, as the error names them (with their charts' pods
    /// and sidecars).
    services: Vec<String>,
    /// The jobs counted (one pod each, while it runs), likewise.
    jobs: Vec<&'m str>,
    /// Millicores.
    cpu: u64,
    memory: u64,
    pods: u64,
    claims: u64,
    storage: u64,
}

fn exceeded(
    cluster: &Resource<Cluster>,
    namespace: &ClusterNamespace<'_>,
    quota: &crate::model::Quota,
    totals: &Totals<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let mut services = totals.services.join(", ");
    if !totals.jobs.is_empty() {
        services.push_str("; jobs: ");
        services.push_str(&totals.jobs.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "));
    }
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
                format!(
                    "namespace `{}` of cluster `{}` asks for {}, over its {field} quota of {}",
                    namespace.name,
                    cluster.name,
                    show(total),
                    show(limit)
                ),
            )
            .with_primary_label(format!("quota: {}", show(limit)))
            .with_note(format!(
                "the workloads in namespace `{}` ask for {} in total (requests × replicas, an autoscaler's maximum; defaults from `limits`; the pods and containers a chart runs beside a service's own included); services: {services}",
                namespace.name,
                show(total)
            ))
            .with_help("raise the quota, lower what the workloads ask for, or move one to another cluster"),
        );
    }
}
