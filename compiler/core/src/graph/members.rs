//! Services whose replicas are members (`members { … }`, [`crate::model::members`]): members as
//! replicas run on a cluster only, where each has a stable name (on a node a service is one
//! member, E0705); the replicas, when written, are the members' number and no autoscaler changes
//! it (E0706); the ports the members reach each other on are the service's (E0707).
//!
//! Linear: each service is looked at once.

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Resource, Service};

/// Checks every service with `members`.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        let Some(members) = &service.spec.members else { continue };
        let size = members.value.size();
        if members.value.as_replicas()
            && let Some(Place::Node(node)) = estate.place(&service.spec.on)
        {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0705,
                    service.spec.on.span,
                    format!("service `{}` runs {size} members as replicas on node `{}`", service.name, node.name),
                )
                .with_primary_label("placed on a node")
                .with_label(members.value.size.span, format!("{size} members"))
                .with_note("a node runs one instance of a service: members as replicas, each with a stable name, run on a cluster")
                .with_help("place it on a cluster, or declare one service per member on the nodes (its preset's form for nodes)"),
            );
        }
        replicas(service, size, diagnostics);
        for port in &members.value.ports {
            if !service.spec.ports.contains_key(&port.value.0) {
                let mut diagnostic = Diagnostic::new(
                    Code::E0707,
                    port.span,
                    format!("service `{}` has no port `{}` for its members", service.name, port.value.0),
                )
                .with_primary_label("not a port of the service")
                .with_help("name one of the service's `ports`");
                if let Some(close) =
                    crate::diagnostics::did_you_mean(&port.value.0, service.spec.ports.keys().map(String::as_str))
                {
                    diagnostic = diagnostic.with_note(format!("did you mean `{close}`?"));
                }
                diagnostics.push(diagnostic);
            }
        }
    }
}

/// E0706: replicas written beside members differ from their number, or an autoscaler would change it.
fn replicas(service: &Resource<Service>, size: u32, diagnostics: &mut Vec<Diagnostic>) {
    let Some(members) = service.spec.members.as_ref().filter(|m| m.value.as_replicas()) else { return };
    if let Some(replicas) = service.spec.replicas.as_ref().filter(|r| r.value != size) {
        diagnostics.push(
            Diagnostic::new(
                Code::E0706,
                replicas.span,
                format!(
                    "service `{}` asks for {} replicas, but its replicas are {size} members",
                    service.name, replicas.value
                ),
            )
            .with_primary_label(format!("{} replicas", replicas.value))
            .with_label(members.value.size.span, format!("{size} members"))
            .with_help("remove `replicas`: the members' number is the preset's parameter"),
        );
    }
    if let Some(autoscale) = &service.spec.autoscale {
        diagnostics.push(
            Diagnostic::new(
                Code::E0706,
                autoscale.span,
                format!("service `{}` is autoscaled, but its replicas are {size} members", service.name),
            )
            .with_primary_label("an autoscaler changes the number of pods")
            .with_label(members.value.size.span, format!("{size} members"))
            .with_note(
                "a new pod is no member until the cluster is told of it, and a removed one leaves its data behind",
            )
            .with_help("remove `autoscale`, and change the members' number by the preset's parameter"),
        );
    }
}
