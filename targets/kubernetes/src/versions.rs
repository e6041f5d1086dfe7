//! Which built-in Kubernetes APIs a cluster's version serves, and the check of every object
//! written for a cluster against its `version` (E1260), and of the generic chart's own minimum
//! (E1261).
//!
//! [`APIS`] lists the built-in API versions spec writes (`v1`, `apps/v1`, `batch/v1`,
//! `networking.k8s.io/v1`, `policy/v1`, `autoscaling/v2`, `rbac.authorization.k8s.io/v1`, …) and
//! those raw manifests commonly use, each with the minor versions that serve it, from the
//! Kubernetes deprecation guide. An API of a group not listed (a custom resource's, such as
//! `cert-manager.io/v1`) is the operator's, and not checked; a version of a listed group that is
//! not listed is not served by any release spec knows of.

use spec_compiler::model::KubeVersion;

/// A built-in API version (a kind of it, or `*` for every kind) and the minor versions of 1.x
/// that serve it: from `since`, up to `until` inclusive.
pub struct Api {
    /// `group/version`, or `v1` for the core group.
    pub api_version: &'static str,
    /// The kind, or `*`.
    pub kind: &'static str,
    /// The first minor version serving it.
    pub since: u32,
    /// The last minor version serving it, when it was removed.
    pub until: Option<u32>,
}

const fn api(api_version: &'static str, kind: &'static str, since: u32, until: Option<u32>) -> Api {
    Api { api_version, kind, since, until }
}

/// The built-in APIs, most specific first (a kind's entry before its version's `*`).
pub const APIS: &[Api] = &[
    api("v1", "*", 0, None),
    api("apps/v1", "*", 9, None),
    api("batch/v1", "CronJob", 21, None),
    api("batch/v1", "*", 0, None),
    api("batch/v1beta1", "CronJob", 8, Some(24)),
    api("networking.k8s.io/v1", "Ingress", 19, None),
    api("networking.k8s.io/v1", "IngressClass", 19, None),
    api("networking.k8s.io/v1", "*", 7, None),
    api("networking.k8s.io/v1beta1", "*", 14, Some(21)),
    api("extensions/v1beta1", "*", 0, Some(21)),
    api("policy/v1", "*", 21, None),
    api("policy/v1beta1", "*", 5, Some(24)),
    api("autoscaling/v1", "*", 2, None),
    api("autoscaling/v2", "*", 23, None),
    api("autoscaling/v2beta1", "*", 8, Some(24)),
    api("autoscaling/v2beta2", "*", 12, Some(25)),
    api("rbac.authorization.k8s.io/v1", "*", 8, None),
    api("rbac.authorization.k8s.io/v1beta1", "*", 6, Some(21)),
    api("scheduling.k8s.io/v1", "*", 14, None),
    api("discovery.k8s.io/v1", "*", 21, None),
    api("storage.k8s.io/v1", "CSIStorageCapacity", 24, None),
    api("storage.k8s.io/v1", "*", 6, None),
    api("storage.k8s.io/v1beta1", "*", 4, Some(21)),
    api("coordination.k8s.io/v1", "*", 14, None),
    api("node.k8s.io/v1", "*", 20, None),
    api("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", 30, None),
    api("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", 30, None),
    api("admissionregistration.k8s.io/v1", "*", 16, None),
    api("admissionregistration.k8s.io/v1beta1", "*", 9, Some(21)),
    api("apiextensions.k8s.io/v1", "*", 16, None),
    api("apiextensions.k8s.io/v1beta1", "*", 7, Some(21)),
    api("certificates.k8s.io/v1", "*", 19, None),
    api("flowcontrol.apiserver.k8s.io/v1", "*", 29, None),
    api("flowcontrol.apiserver.k8s.io/v1beta3", "*", 26, Some(31)),
    api("flowcontrol.apiserver.k8s.io/v1beta2", "*", 23, Some(28)),
];

/// The groups [`APIS`] covers: an API version of one of them not listed is served by none.
fn built_in_group(api_version: &str) -> Option<&str> {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    APIS.iter().any(|a| a.api_version.rsplit_once('/').map_or("", |(g, _)| g) == group).then_some(group)
}

/// Why `version` does not serve `kind` of `api_version`, or `None` when it does (or when the API
/// is not a built-in one).
pub fn not_served(api_version: &str, kind: &str, version: KubeVersion) -> Option<String> {
    built_in_group(api_version)?;
    let entry = APIS.iter().find(|a| a.api_version == api_version && (a.kind == kind || a.kind == "*"));
    let Some(entry) = entry else {
        return Some(format!("`{api_version}` is served by no Kubernetes release spec knows of"));
    };
    if version.minor < entry.since {
        return Some(format!("{kind} `{api_version}` is served from Kubernetes 1.{}", entry.since));
    }
    match entry.until {
        Some(until) if version.minor > until => {
            Some(format!("{kind} `{api_version}` was removed after Kubernetes 1.{until}"))
        }
        _ => None,
    }
}

/// The least Kubernetes version the generic chart, app-template 4.1.1, installs on (its
/// `Chart.yaml` says `kubeVersion: ">=1.28.0-0"`).
pub const APP_TEMPLATE_SINCE: KubeVersion = KubeVersion { major: 1, minor: 28 };

#[cfg(test)]
mod tests {
    use super::*;

    fn v(minor: u32) -> KubeVersion {
        KubeVersion { major: 1, minor }
    }

    #[test]
    fn apis_are_served_within_their_range() {
        assert!(not_served("autoscaling/v2", "HorizontalPodAutoscaler", v(22)).is_some());
        assert!(not_served("autoscaling/v2", "HorizontalPodAutoscaler", v(23)).is_none());
        assert!(not_served("policy/v1", "PodDisruptionBudget", v(20)).is_some());
        assert!(not_served("policy/v1beta1", "PodSecurityPolicy", v(24)).is_none());
        assert!(not_served("policy/v1beta1", "PodSecurityPolicy", v(25)).is_some());
        assert!(not_served("batch/v1", "CronJob", v(20)).is_some());
        assert!(not_served("batch/v1", "Job", v(20)).is_none());
        assert!(not_served("apps/v1beta2", "Deployment", v(29)).is_some());
        assert!(not_served("cert-manager.io/v1", "ClusterIssuer", v(10)).is_none());
    }
}
