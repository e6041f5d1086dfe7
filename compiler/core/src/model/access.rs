//! Who may do what on a cluster: a service's Kubernetes API access (`access NAME { … }` rules,
//! lowered to a ServiceAccount its pods run as, bound to a Role in its namespace and a ClusterRole
//! for the rules that span the cluster), its image pull secret, and a namespace's network policy.
//!
//! The network policy itself is derived, never written: in a namespace with
//! `network_policy = deny` every pod is denied all traffic but DNS, and each service admits
//! exactly what the estate says reaches it (its needers, readers of where it is, its `expose`
//! audiences, its ingress routes, the Prometheus that scrapes it); the Kubernetes back end writes
//! it. The checks ([`crate::graph`]) hold each rule to Kubernetes' verbs and warn on wildcards.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::Spanned;

/// One rule of a service's access to the Kubernetes API (a `PolicyRule`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// The API groups (`""` is the core group, `"apps"`, `"batch"`). Default: `[""]`.
    #[schemars(extend("default" = [""]))]
    pub groups: Option<Spanned<Vec<String>>>,
    /// The resources (`"pods"`, `"configmaps"`, `"deployments"`).
    pub resources: Spanned<Vec<String>>,
    /// The verbs (`"get"`, `"list"`, `"watch"`, `"create"`, `"update"`, `"patch"`, `"delete"`).
    pub verbs: Spanned<Vec<String>>,
    /// Only these objects by name. Default: every object of the resources.
    #[serde(default)]
    pub names: Vec<String>,
    /// Whether the rule holds in the service's namespace or across the cluster. Default: `namespace`.
    #[schemars(extend("default" = "namespace"))]
    pub scope: Option<Spanned<AccessScope>>,
}

impl Access {
    /// The API groups, the core group when none is given.
    pub fn groups(&self) -> Vec<String> {
        self.groups.as_ref().map_or_else(|| vec![String::new()], |g| g.value.clone())
    }

    /// Whether the rule spans the cluster (a ClusterRole) rather than the namespace (a Role).
    pub fn cluster_wide(&self) -> bool {
        self.scope.as_ref().is_some_and(|s| s.value == AccessScope::Cluster)
    }
}

/// Where an access rule holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessScope {
    /// The service's own namespace (a Role and RoleBinding).
    Namespace,
    /// The whole cluster (a ClusterRole and ClusterRoleBinding).
    Cluster,
}

/// The verbs the Kubernetes API authorises (`*` is every verb, which W0680 warns about).
pub const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "impersonate",
    "bind",
    "escalate",
    "use",
    "approve",
    "sign",
    "*",
];

/// What a namespace's network policy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPolicy {
    /// No policy: every pod reaches every other (Kubernetes' own default).
    Open,
    /// Deny every pod all traffic but DNS, then admit exactly what the estate says reaches each
    /// service.
    Deny,
}

/// The labels a chart-backed service's pods carry by its `helm.pod_labels` (`{release}` read as
/// the release's name, which is the service's), or `None` when the chart names none and its pods
/// carry their release's `app.kubernetes.io/instance`.
pub fn pod_labels(service: &super::Resource<super::Service>) -> Option<Vec<(String, String)>> {
    let labels = &service.spec.helm.as_ref()?.pod_labels.as_ref().filter(|l| !l.value.is_empty())?.value;
    Some(labels.iter().map(|(k, v)| (k.clone(), v.value.replace("{release}", &service.name))).collect())
}
