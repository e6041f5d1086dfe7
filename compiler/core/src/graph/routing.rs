//! Alert routing: every receiver has exactly one channel (E0626) and its credentials are secrets
//! by reference, never literals (E0613, as a literal would land in the Nix store or a manifest);
//! the secrets have a backend wherever Alertmanager reads them (E0612: NixOS nodes running
//! Alertmanager need `nixos`, clusters `k8s`, as each cluster gets an `AlertmanagerConfig`); once
//! routes exist, an alert of severity `critical` or `warning` that no route takes is W0605 (`info`
//! goes nowhere unless a route names it, on purpose), and a route matching a label value no alert
//! carries is W0606, routes no Alertmanager reads (none on a NixOS node, no cluster) W0607, a label name Alertmanager refuses E0627. A route naming a receiver that does not exist is the resolver's E0201.
//!
//! The labels an alert carries are the ones the Prometheus back end writes: `severity`, `service`
//! for a service's alerts and the generated ones, `backup` and `workflow` for theirs, and the
//! alert's own `labels`. `job`, `instance` and `alertname` come from the series or the rule name
//! and are not judged. Routes are grouped by severity, so the pass is linear in alerts times the
//! routes of one severity that carry labels (a handful).

use rustc_hash::FxHashSet;

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::routing::{Credential, runs_alertmanager, severity_name};
use crate::model::types::Spanned;
use crate::model::{Alert, Os, Route, Severity};

/// Label names whose values come from the series or the rule name, not from the spec.
const UNJUDGED: &[&str] = &["job", "instance", "alertname"];

/// Checks every receiver and route.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    receivers(estate, diagnostics);
    if estate.model.routes.is_empty() {
        return;
    }
    unread(estate, diagnostics);
    let carried = carried_labels(estate);
    route_labels(estate, &carried, diagnostics);
    unrouted(estate, diagnostics);
}

fn receivers(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let alertmanager_nodes: Vec<&str> = estate
        .model
        .services
        .iter()
        .filter(|s| runs_alertmanager(s))
        .filter(|s| s.spec.on.kind == "node")
        .filter(|s| estate.node(&s.spec.on.name).is_some_and(|n| n.spec.os.value == Os::Nixos))
        .map(|s| s.spec.on.name.as_str())
        .collect();
    let clusters = !estate.model.routes.is_empty() && !estate.model.clusters.is_empty();
    for receiver in &estate.model.receivers {
        let channels = receiver.spec.channels();
        if channels.len() != 1 {
            let mut diagnostic = Diagnostic::new(
                Code::E0626,
                channels.get(1).map_or(receiver.name_span, |c| c.1),
                match channels.len() {
                    0 => format!("receiver `{}` names no channel", receiver.name),
                    _ => format!("receiver `{}` names {} channels", receiver.name, channels.len()),
                },
            )
            .with_primary_label(if channels.is_empty() { "sends nowhere" } else { "a second channel" })
            .with_help(
                "give each receiver one of `pagerduty { … }`, `slack { … }`, `email { … }` or `webhook { … }`; \
                 declare a receiver per channel and a route to each",
            );
            if let Some(first) = channels.first().filter(|_| channels.len() > 1) {
                diagnostic = diagnostic.with_label(first.1, "the first channel");
            }
            diagnostics.push(receiver.at_use(diagnostic));
        }
        for (field, credential) in credential_fields(&receiver.spec) {
            match &credential.value {
                Credential::Text(_) => {
                    let name = format!("{}-{field}", receiver.name);
                    let diagnostic = Diagnostic::new(
                        Code::E0613,
                        credential.span,
                        format!("plaintext secret in receiver `{}`: its `{field}` is a credential", receiver.name),
                    )
                    .with_primary_label("a secret written in the spec")
                    .with_help(format!(
                        "declare it and refer to it: `secret {name} {{ nixos = agenix {{ file = \"secrets/{name}.age\" }} }}`, then `{field} = secret.{name}`"
                    ))
                    .with_suggestion(credential.span, "", format!("secret.{name}"));
                    diagnostics.push(receiver.at_use(diagnostic));
                }
                Credential::Secret(reference) => {
                    let Some(secret) = estate.secret(&reference.name) else { continue };
                    let mut missing = Vec::new();
                    if let Some(node) = alertmanager_nodes.first().filter(|_| secret.spec.on_nixos().is_none()) {
                        missing.push((
                            "nixos",
                            format!("NixOS node `{node}`, which runs Alertmanager"),
                            "nixos = agenix { file = \"secrets/NAME.age\" }",
                        ));
                    }
                    if clusters && secret.spec.on_kubernetes().is_none() {
                        missing.push((
                            "k8s",
                            "the clusters' Alertmanager".to_string(),
                            "k8s = existing { name = \"NAME\", key = \"value\" }",
                        ));
                    }
                    for (backend, target, example) in missing {
                        diagnostics.push(
                            Diagnostic::new(
                                Code::E0612,
                                reference.span,
                                format!("secret `{}` is used on {target} but has no `{backend}` backend", secret.name),
                            )
                            .with_primary_label(format!("read by {target}"))
                            .with_label(secret.name_span, format!("declared without `{backend}`"))
                            .with_help(format!(
                                "add a backend to the secret: `{}`",
                                example.replace("NAME", &secret.name)
                            )),
                        );
                    }
                }
            }
        }
    }
}

/// W0607: routes with nowhere to go: no NixOS node runs Alertmanager and no cluster gets an
/// `AlertmanagerConfig`, so the back ends would drop them in silence.
fn unread(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let model = estate.model;
    let configured = !model.clusters.is_empty()
        || model.services.iter().filter(|s| runs_alertmanager(s)).any(|s| {
            s.spec.on.kind == "node" && estate.node(&s.spec.on.name).is_some_and(|n| n.spec.os.value == Os::Nixos)
        });
    let Some(first) = model.routes.first().filter(|_| !configured) else { return };
    diagnostics.push(
        Diagnostic::new(
            Code::W0607,
            first.name_span,
            format!(
                "route `{}` is read by no Alertmanager: none runs on a NixOS node and the estate has no cluster",
                first.name
            ),
        )
        .with_primary_label("routes that go nowhere")
        .with_help("run Alertmanager on a NixOS node: `service alertmanager { use std.alertmanager, on = node.NAME }`"),
    );
}

fn credential_fields(receiver: &crate::model::Receiver) -> Vec<(&'static str, &Spanned<Credential>)> {
    let mut fields = Vec::new();
    fields.extend(receiver.pagerduty.iter().map(|c| ("key", &c.value.key)));
    fields.extend(receiver.slack.iter().map(|c| ("url", &c.value.url)));
    fields.extend(receiver.email.iter().map(|c| ("password", &c.value.password)));
    fields.extend(receiver.webhook.iter().map(|c| ("url", &c.value.url)));
    fields
}

/// Every `name=value` label some alert of the estate carries.
fn carried_labels<'m>(estate: &EstateGraph<'m>) -> FxHashSet<(&'m str, &'m str)> {
    let model = estate.model;
    let mut carried = FxHashSet::default();
    for alert in &model.alerts {
        carried.extend(alert.spec.labels.iter().map(|(k, v)| (k.as_str(), v.value.as_str())));
    }
    for service in &model.services {
        carried.insert(("service", service.name.as_str()));
        for alert in service.spec.alert.values() {
            carried.extend(alert.value.labels.iter().map(|(k, v)| (k.as_str(), v.value.as_str())));
        }
    }
    carried.extend(model.backups.iter().map(|b| ("backup", b.name.as_str())));
    carried.extend(model.workflows.iter().map(|w| ("workflow", w.name.as_str())));
    for severity in [Severity::Critical, Severity::Warning, Severity::Info] {
        carried.insert(("severity", severity_name(severity)));
    }
    carried
}

fn route_labels(estate: &EstateGraph<'_>, carried: &FxHashSet<(&str, &str)>, diagnostics: &mut Vec<Diagnostic>) {
    for route in &estate.model.routes {
        for (name, value) in &route.spec.labels {
            if !label_name(name) {
                diagnostics.push(
                    route.at_use(
                        Diagnostic::new(
                            Code::E0627,
                            value.span,
                            format!("route `{}` matches label `{name}`, which is not a label name", route.name),
                        )
                        .with_primary_label("Alertmanager would refuse this matcher")
                        .with_help(
                            "a label name is letters, digits and `_`, not starting with a digit (`tier`, `team_name`)",
                        ),
                    ),
                );
                continue;
            }
            if UNJUDGED.contains(&name.as_str()) || carried.contains(&(name.as_str(), value.value.as_str())) {
                continue;
            }
            diagnostics.push(
                route.at_use(
                    Diagnostic::new(
                        Code::W0606,
                        value.span,
                        format!(
                            "route `{}` matches `{name} = \"{}\"`, which no alert carries",
                            route.name, value.value
                        ),
                    )
                    .with_primary_label("no alert has this label")
                    .with_help(format!(
                        "give the alerts it should take `labels {{ {name} = \"{}\" }}`, or match a label they carry",
                        value.value
                    )),
                ),
            );
        }
    }
}

/// Whether `name` is a Prometheus label name, `[a-zA-Z_][a-zA-Z0-9_]*`.
fn label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `route` takes an alert with these labels (`service` for a service's alert).
fn matches(route: &Route, alert: &Alert, service: Option<&str>) -> bool {
    route.takes(alert.severity.value)
        && route.labels.iter().all(|(name, value)| {
            UNJUDGED.contains(&name.as_str())
                || alert.labels.get(name).is_some_and(|v| v.value == value.value)
                || (name == "service" && !alert.labels.contains_key(name) && service == Some(value.value.as_str()))
        })
}

fn unrouted(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let model = estate.model;
    let routes: Vec<&Route> = model.routes.iter().map(|r| &r.spec).collect();
    let catch_all = |severity: Severity| routes.iter().any(|r| r.takes(severity) && r.labels.is_empty());
    let caught = [Severity::Critical, Severity::Warning].map(|s| (s, catch_all(s)));
    let routed = |alert: &Alert, service: Option<&str>| {
        alert.severity.value == Severity::Info
            || caught.iter().any(|(s, all)| *s == alert.severity.value && *all)
            || routes.iter().any(|r| matches(r, alert, service))
    };
    let report = |what: String, alert: &Alert| {
        let severity = severity_name(alert.severity.value);
        Diagnostic::new(Code::W0605, alert.severity.span, format!("{what} of severity `{severity}` is routed nowhere"))
            .with_primary_label("no route takes it")
            .with_help(format!(
                "add a route that takes it: `route {severity} {{ severity = [{severity}], to = receiver.NAME }}`"
            ))
    };
    for alert in &model.alerts {
        if !routed(&alert.spec, None) {
            diagnostics.push(alert.at_use(report(format!("alert `{}`", alert.name), &alert.spec)));
        }
    }
    for service in &model.services {
        for (name, alert) in &service.spec.alert {
            if !routed(&alert.value, Some(&service.name)) {
                diagnostics.push(
                    service.at_use(report(format!("alert `{name}` of service `{}`", service.name), &alert.value)),
                );
            }
        }
    }
}
