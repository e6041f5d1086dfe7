//! The namespaces a cluster holds, and which one a service or a storage is in.
//!
//! A cluster either names its single namespace (`namespace = "apps"`, `default` when absent, with
//! the cluster's own `quota` and `limits`), or holds several as member blocks
//! (`namespace team-a { quota { … }, limits { … }, pod_security = restricted }`), each with its
//! own budget. Services and storage choose one with `namespace = "team-a"`; without a choice they
//! go to the cluster's only namespace, so an estate written for one namespace keeps its meaning.
//! [`Cluster::namespaces`] is the one reading of both forms every stage uses.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::kinds::{Cluster, ContainerLimits, Quota, Service};
use super::types::{Cpu, Size, Spanned};
use crate::source::Span;

/// The Pod Security Standard a namespace enforces (`pod-security.kubernetes.io/enforce`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PodSecurity {
    /// No restriction.
    Privileged,
    /// Known privilege escalations are refused.
    Baseline,
    /// Hardened pods only.
    Restricted,
}

impl PodSecurity {
    /// The label value Kubernetes reads.
    pub fn label(self) -> &'static str {
        match self {
            PodSecurity::Privileged => "privileged",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Restricted => "restricted",
        }
    }
}

/// A namespace a cluster holds, with its budget and pod-security level.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    /// The most the namespace's workloads may request, in total (a `ResourceQuota`).
    pub quota: Option<Spanned<Quota>>,
    /// Per-container defaults and ceilings in the namespace (a `LimitRange`).
    pub limits: Option<Spanned<ContainerLimits>>,
    /// The Pod Security Standard enforced on the namespace's pods.
    pub pod_security: Option<Spanned<PodSecurity>>,
    /// `deny`: every pod is denied all traffic but DNS, and each service admits exactly what the
    /// estate says reaches it. Default: `open`.
    #[schemars(extend("default" = "open"))]
    pub network_policy: Option<Spanned<super::access::NetworkPolicy>>,
    /// The service mesh the namespace's pods are in (`istio { mtls = strict }`). Default: none.
    pub mesh: Option<Spanned<super::mesh::Mesh>>,
}

/// A cluster's `namespace`: one name, or the namespaces it holds by name.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ClusterNamespaces {
    /// `namespace = "apps"`: the one namespace, budgeted by the cluster's `quota` and `limits`.
    Single(String),
    /// `namespace team-a { … }`: several, each with its own budget.
    Held(IndexMap<String, Spanned<Namespace>>),
}

impl<'de> Deserialize<'de> for ClusterNamespaces {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamespacesVisitor;
        impl<'de> Visitor<'de> for NamespacesVisitor {
            type Value = ClusterNamespaces;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a namespace name or namespace blocks")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<ClusterNamespaces, E> {
                Ok(ClusterNamespaces::Single(name.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClusterNamespaces, A::Error> {
                let mut held = IndexMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    held.insert(name, map.next_value()?);
                }
                Ok(ClusterNamespaces::Held(held))
            }
        }
        deserializer.deserialize_any(NamespacesVisitor)
    }
}

impl JsonSchema for ClusterNamespaces {
    fn schema_name() -> Cow<'static, str> {
        "ClusterNamespaces".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let held = generator.subschema_for::<IndexMap<String, Spanned<Namespace>>>();
        json_schema!({
            "description": "the cluster's one namespace as a name, or the namespaces it holds as `namespace NAME { … }` blocks",
            "anyOf": [{ "type": "string" }, held],
        })
    }
}

/// One namespace of a cluster as every stage reads it.
#[derive(Clone, Copy, Debug)]
pub struct ClusterNamespace<'m> {
    /// Its name.
    pub name: &'m str,
    /// Where it is declared (the cluster's name span for the implicit `default`).
    pub span: Span,
    /// Its quota.
    pub quota: Option<&'m Spanned<Quota>>,
    /// Its per-container limits.
    pub limits: Option<&'m Spanned<ContainerLimits>>,
    /// Its pod-security level.
    pub pod_security: Option<&'m Spanned<PodSecurity>>,
    /// Its network policy.
    pub network_policy: Option<&'m Spanned<super::access::NetworkPolicy>>,
    /// The service mesh its pods are in.
    pub mesh: Option<&'m Spanned<super::mesh::Mesh>>,
}

/// What a service asks of its namespace's `quota` at most: its pods, and what they request
/// (millicores, bytes), the pods and containers its chart runs beside its own included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuotaAsk {
    /// Pods: its replicas (an autoscaler's `max`) and its chart's `pods`.
    pub pods: u64,
    /// Millicores of CPU requested.
    pub cpu: u64,
    /// Bytes of memory requested.
    pub memory: u64,
}

impl ClusterNamespace<'_> {
    /// The CPU and memory the service's own container requests in this namespace: its
    /// `resources`, else the namespace's `limits.default` (what its `LimitRange` gives a container
    /// that requests nothing); `None` where neither says.
    pub fn requests_of<'s>(&'s self, service: &'s Service) -> (Option<&'s Spanned<Cpu>>, Option<&'s Spanned<Size>>) {
        let declared = service.resources.as_ref().map(|r| &r.value);
        let default = self.limits.and_then(|l| l.value.default.as_ref()).map(|d| &d.value);
        let cpu = declared.and_then(|r| r.cpu.as_ref()).or_else(|| default.and_then(|d| d.cpu.as_ref()));
        let memory = declared.and_then(|r| r.memory.as_ref()).or_else(|| default.and_then(|d| d.memory.as_ref()));
        (cpu, memory)
    }

    /// What the service asks of this namespace's quota: each of its replicas (an autoscaler's
    /// `max`) one pod requesting the service's own CPU and memory and each of its chart's
    /// `sidecar`s', and each of its chart's `pods` (`count` of them, each requesting what it
    /// says). Kubernetes counts every container's requests and every pod, so a chart's read
    /// replicas and exporters take from the same quota as the service.
    pub fn quota_ask(&self, service: &Service) -> QuotaAsk {
        let replicas = u64::from(service.max_replicas());
        let (cpu, memory) = self.requests_of(service);
        let mut pod_cpu = cpu.map_or(0, |c| c.value.millis());
        let mut pod_memory = memory.map_or(0, |m| m.value.0);
        let mut ask = QuotaAsk { pods: replicas, ..QuotaAsk::default() };
        if let Some(helm) = &service.helm {
            for sidecar in helm.value.sidecar.values() {
                pod_cpu = pod_cpu.saturating_add(sidecar.value.cpu.value.millis());
                pod_memory = pod_memory.saturating_add(sidecar.value.memory.value.0);
            }
            for pods in helm.value.pods.values() {
                let count = u64::from(pods.value.count.value);
                ask.pods = ask.pods.saturating_add(count);
                ask.cpu = ask.cpu.saturating_add(pods.value.cpu.value.millis().saturating_mul(count));
                ask.memory = ask.memory.saturating_add(pods.value.memory.value.0.saturating_mul(count));
            }
        }
        ask.cpu = ask.cpu.saturating_add(pod_cpu.saturating_mul(replicas));
        ask.memory = ask.memory.saturating_add(pod_memory.saturating_mul(replicas));
        ask
    }
}

/// Why a service's or storage's namespace could not be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceChoice {
    /// It names a namespace the cluster does not hold.
    Unknown,
    /// The cluster holds several and none is named.
    NotChosen,
}

impl Cluster {
    /// The namespaces the cluster holds, in declaration order (at least one).
    pub fn namespaces(&self, cluster_span: Span) -> Vec<ClusterNamespace<'_>> {
        match self.namespace.as_ref().map(|n| (&n.value, n.span)) {
            Some((ClusterNamespaces::Held(held), _)) if !held.is_empty() => held
                .iter()
                .map(|(name, ns)| ClusterNamespace {
                    name,
                    span: ns.span,
                    quota: ns.value.quota.as_ref(),
                    limits: ns.value.limits.as_ref(),
                    pod_security: ns.value.pod_security.as_ref(),
                    network_policy: ns.value.network_policy.as_ref(),
                    mesh: ns.value.mesh.as_ref(),
                })
                .collect(),
            single => {
                let (name, span) = match single {
                    Some((ClusterNamespaces::Single(name), span)) => (name.as_str(), span),
                    _ => ("default", cluster_span),
                };
                vec![ClusterNamespace {
                    name,
                    span,
                    quota: self.quota.as_ref(),
                    limits: self.limits.as_ref(),
                    pod_security: None,
                    network_policy: None,
                    mesh: None,
                }]
            }
        }
    }

    /// The namespace of the cluster's first (or only) namespace: where its shared objects live.
    pub fn first_namespace(&self) -> &str {
        match self.namespace.as_ref().map(|n| &n.value) {
            Some(ClusterNamespaces::Single(name)) => name,
            Some(ClusterNamespaces::Held(held)) => held.keys().next().map_or("default", String::as_str),
            None => "default",
        }
    }

    /// The index in [`Cluster::namespaces`] of the namespace a service or storage chose.
    pub fn namespace_of(&self, chosen: Option<&Spanned<String>>) -> Result<usize, NamespaceChoice> {
        let held = match self.namespace.as_ref().map(|n| &n.value) {
            Some(ClusterNamespaces::Held(held)) if !held.is_empty() => held,
            _ => {
                let name = self.first_namespace();
                return match chosen {
                    Some(chosen) if chosen.value != name => Err(NamespaceChoice::Unknown),
                    _ => Ok(0),
                };
            }
        };
        match chosen {
            Some(chosen) => held.get_index_of(chosen.value.as_str()).ok_or(NamespaceChoice::Unknown),
            None if held.len() == 1 => Ok(0),
            None => Err(NamespaceChoice::NotChosen),
        }
    }
}
