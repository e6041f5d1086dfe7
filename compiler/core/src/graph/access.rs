//! Who may do what on a cluster: every `access` rule of a service names Kubernetes verbs (E0680)
//! and grants something (E0682), on a service that runs on a cluster (E0681: a node has no API
//! server to bind it to); a wildcard verb or resource is W0680 (least privilege). A namespace
//! with `network_policy = deny` admits only what the estate says reaches each service; a backup
//! of one of its volumes, or a workflow there, runs pods (k8up's, Argo's) whose traffic the estate
//! cannot say, W0681.
//!
//! Linear: each rule is looked at once, each backup's namespace found by its cluster's index.

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::access::VERBS;
use crate::model::{NetworkPolicy, Resource, Service};

/// Checks every service's access rules and every backup in a namespace that denies traffic.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        rules(estate, service, diagnostics);
    }
    backups_in_denied_namespaces(estate, diagnostics);
    workflows_in_denied_namespaces(estate, diagnostics);
}

/// W0681 for each workflow on a cluster whose first namespace (where Argo runs its pods) denies
/// traffic: Argo's executor reaches the API server, and steps declare no `needs`.
fn workflows_in_denied_namespaces(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for workflow in &estate.model.workflows {
        let Some(Place::Cluster(cluster)) = estate.place(&workflow.spec.on) else { continue };
        let namespaces = cluster.spec.namespaces(cluster.name_span);
        let Some(namespace) = namespaces.first() else { continue };
        let Some(policy) = namespace.network_policy.filter(|p| p.value == NetworkPolicy::Deny) else { continue };
        diagnostics.push(
            Diagnostic::new(
                Code::W0681,
                workflow.name_span,
                format!(
                    "workflow `{}` runs Argo's pods in namespace `{}`, which denies traffic the estate does not say",
                    workflow.name, namespace.name
                ),
            )
            .with_primary_label("its pods reach the API server and what its steps read, which no policy admits")
            .with_label(policy.span, "every pod is denied all but DNS here")
            .with_help("make the cluster's first namespace one with `network_policy = open`, or admit the workflow's pods with a policy of your own"),
        );
    }
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

/// W0681 for each backup of a cluster volume in a namespace that denies traffic: k8up's backup
/// pods reach the repository and the API server, which no `needs` says.
fn backups_in_denied_namespaces(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for backup in &estate.model.backups {
        let Some(storage) = backup.spec.storage().and_then(|s| estate.storage(s)) else { continue };
        let Some(Place::Cluster(cluster)) = estate.place(&storage.spec.on) else { continue };
        let Ok(index) = cluster.spec.namespace_of(storage.spec.namespace.as_ref()) else { continue };
        let namespaces = cluster.spec.namespaces(cluster.name_span);
        let Some(namespace) = namespaces.get(index) else { continue };
        let Some(policy) = namespace.network_policy.filter(|p| p.value == NetworkPolicy::Deny) else { continue };
        diagnostics.push(
            Diagnostic::new(
                Code::W0681,
                backup.name_span,
                format!(
                    "backup `{}` runs k8up's pods in namespace `{}`, which denies traffic the estate does not say",
                    backup.name, namespace.name
                ),
            )
            .with_primary_label("its pods reach the repository, which no policy admits")
            .with_label(policy.span, "every pod is denied all but DNS here")
            .with_help("keep the volume in a namespace with `network_policy = open`, or admit k8up's pods with a policy of your own"),
        );
    }
}
