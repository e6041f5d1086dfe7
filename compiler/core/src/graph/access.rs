//! Who may do what on a cluster: every `access` rule of a service names Kubernetes verbs (E0680)
//! and grants something (E0682), on a service that runs on a cluster (E0681: a node has no API
//! server to bind it to); a wildcard verb or resource is W0680 (least privilege). A namespace
//! with `network_policy = deny` admits only what the estate says reaches each service, and k8up's
//! and Argo's pods what they reach (the Kubernetes back end); a backup of one of its volumes to a
//! repository inside the cluster, whose pods the estate does not say, is W0681. A service or job
//! that needs a service declaring no port (every port but a metrics-only one counts), where
//! either side is in such a namespace, is E0762: a policy admits traffic by port, so no policy
//! could admit it and the need would be unreachable. A chart's `pod_labels`, which those policies
//! select its pods by, must be Kubernetes labels and name at least one (E0763: none would select
//! every pod of the namespace).
//!
//! Linear: each rule and each need is looked at once, each namespace found by its cluster's index.

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::access::VERBS;
use crate::model::backup::{in_cluster_host, repository_host};
use crate::model::reach::metrics_only;
use crate::model::types::{NeedRef, PlacementRef, Spanned};
use crate::model::{NetworkPolicy, Resource, Service};

/// Checks every service's access rules and every backup in a namespace that denies traffic.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        rules(estate, service, diagnostics);
    }
    backups_in_denied_namespaces(estate, diagnostics);
    needs_without_ports(estate, diagnostics);
    for service in &estate.model.services {
        pod_labels(service, diagnostics);
    }
}

/// E0763 for a chart's `pod_labels` that names none, or a key or value Kubernetes refuses (read
/// with `{release}` as the release's name, which is the service's).
fn pod_labels(service: &Resource<Service>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(labels) = service.spec.helm.as_ref().and_then(|h| h.value.pod_labels.as_ref()) else { return };
    let invalid = |span, message: String, label: &str| {
        service.at_use(
            Diagnostic::new(Code::E0763, span, message).with_primary_label(label.to_string()).with_help(
                "a label key is a name of at most 63 letters, digits, `-`, `_` and `.` (starting and ending with a letter or digit), with an optional DNS prefix and `/`; a value is such a name or empty",
            ),
        )
    };
    if labels.value.is_empty() {
        diagnostics.push(invalid(
            labels.span,
            format!("service `{}` says its pods carry no label", service.name),
            "would select every pod of the namespace",
        ));
    }
    for (key, value) in &labels.value {
        let read = value.value.replace("{release}", &service.name);
        if !label_key(key) {
            diagnostics.push(invalid(
                value.span,
                format!("pod label key `{key}` is not a Kubernetes label key"),
                "not a label key",
            ));
        } else if !read.is_empty() && !label_name(&read) {
            diagnostics.push(invalid(
                value.span,
                format!("pod label `{key}` has value `{read}`, which Kubernetes refuses"),
                "not a label value",
            ));
        }
    }
}

/// A label name: at most 63 characters of letters, digits, `-`, `_` and `.`, starting and ending
/// with a letter or digit.
fn label_name(name: &str) -> bool {
    let edges = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    name.len() <= 63
        && edges(name.chars().next())
        && edges(name.chars().last())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A label key: a name, after an optional DNS subdomain prefix and `/`.
fn label_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= 253 && prefix.split('.').all(crate::eval::is_dns_label) && label_name(name)
        }
        None => label_name(key),
    }
}

/// The `network_policy = deny` of the namespace a workload placed `on` and in `namespace` runs
/// in, when it is on a cluster and its namespace denies traffic.
fn denying<'m>(
    estate: &EstateGraph<'m>,
    on: &Spanned<PlacementRef>,
    namespace: Option<&Spanned<String>>,
) -> Option<&'m Spanned<NetworkPolicy>> {
    let Some(Place::Cluster(cluster)) = estate.place(on) else { return None };
    let index = cluster.spec.namespace_of(namespace).ok()?;
    let namespaces = cluster.spec.namespaces(cluster.name_span);
    namespaces.get(index)?.network_policy.filter(|p| p.value == NetworkPolicy::Deny)
}

/// E0762 for each need, of a service or a job, of a service that declares no port a peer
/// reaches, where the needing side or the needed one is in a namespace that denies traffic.
fn needs_without_ports(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        let spec = &service.spec;
        let found = unreachable_needs(estate, &service.name, &spec.on, spec.namespace.as_ref(), &spec.needs);
        diagnostics.extend(found.into_iter().map(|d| service.at_use(d)));
    }
    for job in &estate.model.jobs {
        let spec = &job.spec;
        let found = unreachable_needs(estate, &job.name, &spec.on, spec.namespace.as_ref(), &spec.needs);
        diagnostics.extend(found.into_iter().map(|d| job.at_use(d)));
    }
}

/// The needs of `name` (placed `on`, in `namespace`) no policy could admit.
fn unreachable_needs(
    estate: &EstateGraph<'_>,
    name: &str,
    on: &Spanned<PlacementRef>,
    namespace: Option<&Spanned<String>>,
    needs: &[NeedRef],
) -> Vec<Diagnostic> {
    let own = denying(estate, on, namespace);
    let mut found = Vec::new();
    for need in needs.iter().filter(|n| n.kind == "service") {
        let Some(needed) = estate.service(&need.name) else { continue };
        if needed.spec.ports.keys().any(|port| !metrics_only(needed, port)) {
            continue;
        }
        let theirs = denying(estate, &needed.spec.on, needed.spec.namespace.as_ref());
        let Some(policy) = own.or(theirs) else { continue };
        found.push(unreachable_need(name, need, needed, policy));
    }
    found
}

fn unreachable_need(
    name: &str,
    need: &NeedRef,
    needed: &Resource<Service>,
    policy: &Spanned<NetworkPolicy>,
) -> Diagnostic {
    Diagnostic::new(
        Code::E0762,
        need.span,
        format!(
            "`{name}` needs service `{}`, which declares no port, in a namespace that denies traffic",
            needed.name
        ),
    )
    .with_primary_label("no network policy can admit this need")
    .with_label(policy.span, "every pod is denied all but the ports the estate says here")
    .with_label(needed.name_span, format!("`{}` declares no port its peers reach", needed.name))
    .with_help(format!(
        "declare the port `{}` listens on (`ports {{ http = 8080/tcp }}`), or keep both in namespaces with `network_policy = open`",
        needed.name
    ))
}

fn rules(estate: &EstateGraph<'_>, service: &Resource<Service>, diagnostics: &mut Vec<Diagnostic>) {
    let on_node = matches!(estate.place(&service.spec.on), Some(Place::Node(_)));
    for (name, rule) in &service.spec.access {
        if on_node {
            diagnostics.push(service.at_use(
                Diagnostic::new(
                    Code::E0681,
                    rule.span,
                    format!(
                        "service `{}` on node `{}` has access rule `{name}`, but a node has no Kubernetes API to grant it",
                        service.name, service.spec.on.name
                    ),
                )
                .with_primary_label("Kubernetes API access off a cluster")
                .with_label(service.spec.on.span, "runs on a node")
                .with_help("remove the rule, or place the service on a cluster"),
            ));
            continue;
        }
        let rule = &rule.value;
        for (list, what) in [(&rule.resources, "resource"), (&rule.verbs, "verb")] {
            if list.value.is_empty() {
                diagnostics.push(
                    service.at_use(
                        Diagnostic::new(
                            Code::E0682,
                            list.span,
                            format!("access rule `{name}` of service `{}` lists no {what}", service.name),
                        )
                        .with_primary_label("grants nothing")
                        .with_help(format!("name the {what}s the service needs, or remove the rule")),
                    ),
                );
            }
        }
        for verb in &rule.verbs.value {
            if !VERBS.contains(&verb.as_str()) {
                let close = crate::diagnostics::did_you_mean(verb, VERBS.iter().copied());
                let diagnostic = Diagnostic::new(
                    Code::E0680,
                    rule.verbs.span,
                    format!("access rule `{name}` of service `{}` names verb `{verb}`", service.name),
                )
                .with_primary_label("not a Kubernetes verb");
                let diagnostic = match close {
                    Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(
                        rule.verbs.span,
                        verb,
                        close,
                    ),
                    None => diagnostic.with_help(format!("the verbs are {}", VERBS.join(", "))),
                };
                diagnostics.push(service.at_use(diagnostic));
            }
        }
        let wildcards = [(&rule.verbs, "every verb"), (&rule.resources, "every resource")];
        for (list, what) in wildcards {
            if list.value.iter().any(|v| v == "*") {
                diagnostics.push(
                    service.at_use(
                        Diagnostic::new(
                            Code::W0680,
                            list.span,
                            format!("access rule `{name}` of service `{}` grants {what}", service.name),
                        )
                        .with_primary_label("a wildcard")
                        .with_help(
                            "name only what the service needs: a compromised pod can do all that its rules grant",
                        ),
                    ),
                );
            }
        }
    }
}

/// W0681 for each offsite copy of a cluster volume in a namespace that denies traffic whose
/// repository is inside the cluster (a Service's name): the Kubernetes back end admits k8up's
/// pods to a repository outside the cluster by address and port, but which pods serve one inside
/// it the estate does not say.
fn backups_in_denied_namespaces(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for backup in &estate.model.backups {
        let Some(storage) = backup.spec.storage().and_then(|s| estate.storage(s)) else { continue };
        let Some(Place::Cluster(cluster)) = estate.place(&storage.spec.on) else { continue };
        let Ok(index) = cluster.spec.namespace_of(storage.spec.namespace.as_ref()) else { continue };
        let namespaces = cluster.spec.namespaces(cluster.name_span);
        let Some(namespace) = namespaces.get(index) else { continue };
        let Some(policy) = namespace.network_policy.filter(|p| p.value == NetworkPolicy::Deny) else { continue };
        for copy in backup.spec.copies(&backup.name) {
            let Some(repository) = copy.restic.repository_in(&copy.name, |b| estate.bucket(b)) else { continue };
            let Some((host, _)) = repository_host(&repository).filter(|(host, _)| in_cluster_host(host)) else {
                continue;
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::W0681,
                    copy.span,
                    format!(
                        "backup `{}` runs k8up's pods in namespace `{}`, which denies traffic, to a repository inside the cluster (`{host}`)",
                        copy.name, namespace.name
                    ),
                )
                .with_primary_label("which pods serve this repository the estate does not say")
                .with_label(policy.span, "every pod is denied all but what the estate says here")
                .with_help("write to a repository outside the cluster (k8up's pods are then admitted to it), keep the volume in a namespace with `network_policy = open`, or admit k8up's pods (`k8upjob: \"true\"`) to the repository's pods with a policy of your own"),
            );
        }
    }
}
