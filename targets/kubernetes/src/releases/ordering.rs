//! The order of a cluster's first install: each release's `dependsOn`, what its service or job
//! `needs` on the cluster and what the charts the back end recognises must have installed before
//! it (Flux installs a release only once every release it depends on is ready):
//!
//! - Istio's own charts, by [`HelmChart::istio_chart`]: `istiod` and the CNI node agent (`cni`)
//!   after `base` (Istio's CRDs and the validating webhook's configuration), the ingress gateway
//!   (`gateway`) after `istiod`, whose injector replaces the gateway's `image: auto` (a gateway pod
//!   created before the webhook exists keeps that image and never starts);
//! - every other release placed in a meshed namespace (services' and jobs') after `istiod`, and
//!   after the CNI agent when the cluster runs one: the proxy is injected only when a pod is
//!   created, so a pod created before the webhook has none, and the mesh's mutual TLS refuses it;
//! - every release whose values switch on an object of prometheus-operator's CRDs (a
//!   `serviceMonitor`, `podMonitor` or `prometheusRule` record with `enabled: true`, or one whose
//!   records each have it, as app-template's `serviceMonitor.main`) after the release installing
//!   those CRDs, kube-prometheus-stack's (unless its `crds.enabled` is off): without them the
//!   chart's install fails ("no matches for kind ServiceMonitor") and, after its retries, stalls.
//!
//! These implied edges never close a cycle: the estate's own needs are acyclic (E0601, E0675),
//! and an implied edge inside a strongly connected component of needs and implied edges together
//! is dropped (the estate's needs then decide; a cycle lies inside one component, so what remains
//! is acyclic). One pass of Tarjan's algorithm: linear in the releases and their edges.

use std::collections::HashMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde_json::Value;
use spec_compiler::model::types::Payload;
use spec_compiler::model::{HelmChart, Resource, Service};

use super::Installed;
use crate::chart::value_at;

/// What a release is to the order of a first install, by its chart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    IstioBase,
    IstioCni,
    Istiod,
    IstioGateway,
    /// kube-prometheus-stack installing prometheus-operator's CRDs.
    MonitoringCrds,
    Other,
}

fn role(service: Option<&Resource<Service>>) -> Role {
    let Some(helm) = service.and_then(|s| s.spec.helm.as_ref()) else { return Role::Other };
    match helm.value.istio_chart() {
        Some("base") => Role::IstioBase,
        Some("cni") => Role::IstioCni,
        Some("istiod") => Role::Istiod,
        Some("gateway") => Role::IstioGateway,
        _ if installs_monitoring_crds(&helm.value) => Role::MonitoringCrds,
        _ => Role::Other,
    }
}

/// Whether the chart is kube-prometheus-stack with its CRDs (`crds.enabled`, on by default).
fn installs_monitoring_crds(helm: &HelmChart) -> bool {
    crate::analysis::prometheus_chart(helm)
        && !matches!(value_at(&helm.values, &["crds", "enabled"]), Some(Payload::Bool(false)))
}

/// The keys of the values records that switch on an object of prometheus-operator's CRDs.
const MONITORING_RECORDS: [&str; 3] = ["servicemonitor", "podmonitor", "prometheusrule"];

/// Whether the release's values switch on a ServiceMonitor, PodMonitor or PrometheusRule.
pub(crate) fn renders_monitoring(values: &Value) -> bool {
    let enabled = |v: &Value| v.get("enabled") == Some(&Value::Bool(true));
    let mut stack = vec![values];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if MONITORING_RECORDS.contains(&key.to_ascii_lowercase().as_str()) {
                        let records = child.as_object().into_iter().flat_map(|m| m.values());
                        if enabled(child) || records.into_iter().any(enabled) {
                            return true;
                        }
                    }
                    stack.push(child);
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    false
}

impl super::super::Lowering<'_, '_> {
    /// Each release's `dependsOn`, in the order of `releases`: the releases of what it needs on
    /// the cluster, then those its chart or its namespace's mesh implies.
    pub(super) fn install_order(&self, releases: &[Installed]) -> Vec<Vec<String>> {
        let roles: Vec<Role> = releases.iter().map(|r| role(r.service)).collect();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, release) in releases.iter().enumerate() {
            index.entry(release.name.as_str()).or_insert(i);
        }
        let first = |wanted: Role| roles.iter().position(|r| *r == wanted);
        let (base, istiod, cni, crds) =
            (first(Role::IstioBase), first(Role::Istiod), first(Role::IstioCni), first(Role::MonitoringCrds));
        let mut graph: DiGraph<(), bool> = DiGraph::new();
        let nodes: Vec<NodeIndex> = releases.iter().map(|_| graph.add_node(())).collect();
        for (i, release) in releases.iter().enumerate() {
            // The estate's needs, on this cluster.
            for need in release.needs.iter().flatten() {
                if let Some(&j) = index.get(need.as_str()) {
                    graph.add_edge(nodes[i], nodes[j], false);
                }
            }
            let mut implied: Vec<Option<usize>> = Vec::new();
            match roles[i] {
                Role::IstioCni | Role::Istiod => implied.push(base),
                Role::IstioGateway => implied.push(istiod),
                Role::IstioBase => {}
                Role::MonitoringCrds | Role::Other => {
                    if self.mesh_of(self.namespace_of(release.namespace)).is_some() {
                        implied.extend([istiod, cni]);
                    }
                }
            }
            if roles[i] != Role::MonitoringCrds && renders_monitoring(&release.release.values) {
                implied.push(crds);
            }
            for j in implied.into_iter().flatten().filter(|j| *j != i) {
                graph.add_edge(nodes[i], nodes[j], true);
            }
        }
        let mut component = vec![0; releases.len()];
        for (c, members) in tarjan_scc(&graph).into_iter().enumerate() {
            for node in members {
                component[node.index()] = c;
            }
        }
        let mut order: Vec<Vec<String>> = vec![Vec::new(); releases.len()];
        for (i, depends) in order.iter_mut().enumerate() {
            // Edges in the order they were added: needs first, then what is implied.
            let mut edges: Vec<_> = graph.edges(nodes[i]).collect();
            edges.sort_by_key(EdgeRef::id);
            for edge in edges {
                let target = edge.target().index();
                let implied = *edge.weight();
                if implied && component[target] == component[i] {
                    continue; // it would close a cycle through the estate's needs
                }
                let name = &releases[target].name;
                if !depends.contains(name) {
                    depends.push(name.clone());
                }
            }
        }
        order
    }
}
