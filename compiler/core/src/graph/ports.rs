//! Ports: no two services (or a service and a WireGuard network) bind the same port and protocol
//! on one node, and `expose`, `health` and `metrics` name ports the service declares.
//!
//! Services on clusters do not bind host ports, so only node placements are compared, and the
//! pods of a cluster service on the host's network (`security { host_network }`), whose ports are
//! claimed on every node of the cluster. A node runs
//! one instance of a service: more replicas there are E0606 at each port, or E0641 without ports.

use rustc_hash::FxHashMap;

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::model::types::Transport;
use crate::model::{Health, Service};
use crate::source::Span;

/// Checks port names and port conflicts.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        declared_names(service, diagnostics);
    }
    conflicts(estate, diagnostics);
}

fn declared_names(service: &crate::model::Resource<Service>, diagnostics: &mut Vec<Diagnostic>) {
    let spec = &service.spec;
    let mut named: Vec<(&str, Span, &str)> = Vec::new();
    for exposed in spec.expose.ports() {
        named.push((exposed.port, exposed.span, "`expose`"));
    }
    if let Some(health) = &spec.health {
        match &health.value {
            Health::Http { port, .. } | Health::Tcp { port, .. } => {
                named.push((port.value.0.as_str(), port.span, "`health`"));
            }
            Health::Exec { .. } => {}
        }
    }
    if let Some(metrics) = &spec.metrics {
        named.push((metrics.port.0.as_str(), metrics.port.span, "`metrics`"));
    }
    for (name, span, field) in named {
        if spec.ports.contains_key(name) {
            continue;
        }
        let ports: Vec<&str> = spec.ports.keys().map(String::as_str).collect();
        let diagnostic = Diagnostic::new(
            Code::E0607,
            span,
            format!("{field} names port `{name}`, which service `{}` does not declare", service.name),
        )
        .with_primary_label("no such port");
        let diagnostic = match did_you_mean(name, ports.iter().copied()) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(span, name, close),
            None if ports.is_empty() => diagnostic.with_help(format!("declare it: `ports {{ {name} = 8080/tcp }}`")),
            None => diagnostic
                .with_help(format!("the service declares {}", crate::model::check::quoted_and(ports.iter().copied()))),
        };
        diagnostics.push(diagnostic);
    }
}

fn conflicts(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    // Every binding in source order: (node, port, protocol), who binds it, where the port is
    // written, and where the binder is declared (for ports a preset brought).
    type Claim<'a> = ((&'a str, u16, Transport), String, Span, Span);
    let mut claims: Vec<Claim<'_>> = Vec::new();
    for network in &estate.model.networks {
        let Some(wireguard) = &network.spec.wireguard else { continue };
        for member in network.spec.members.iter() {
            let who = format!("network `{}` (WireGuard)", network.name);
            claims.push((
                (member.name.as_str(), wireguard.port.value, Transport::Udp),
                who,
                wireguard.port.span,
                member.span,
            ));
        }
    }
    for service in &estate.model.services {
        // A pod on the host's network binds its ports on whichever node of its cluster it lands
        // on: each of them is claimed, against the node's own services and other such pods.
        if let Some(Place::Cluster(cluster)) = estate.place(&service.spec.on)
            && service.spec.security.as_ref().is_some_and(|s| s.value.host_network())
        {
            for member in cluster.spec.servers.iter().chain(&cluster.spec.agents) {
                for (name, port) in &service.spec.ports {
                    let who = format!("service `{}` (port `{name}`, on the host's network)", service.name);
                    claims.push((
                        (member.name.as_str(), port.number, port.protocol),
                        who,
                        port.span,
                        service.name_span,
                    ));
                }
            }
            continue;
        }
        let Some(Place::Node(node)) = estate.place(&service.spec.on) else { continue };
        // Members as replicas on a node are E0705 (`members.rs`), not a clash of their ports.
        let replicas = service.spec.replicas.as_ref().map_or(1, |r| r.value);
        // A node runs one instance; with ports, E0606 below says so at each port it would bind.
        if let Some(count) = service.spec.replicas.as_ref().filter(|r| r.value > 1 && service.spec.ports.is_empty()) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0641,
                    count.span,
                    format!(
                        "service `{}` asks for {} replicas on node `{}`, which runs one",
                        service.name, count.value, node.name
                    ),
                )
                .with_primary_label("more than one instance")
                .with_help("run one instance per node (`replicas = 1`), or place the service on a cluster"),
            );
        }
        for (name, port) in &service.spec.ports {
            let at_user = if estate.in_stdlib(port.span) { service.name_span } else { port.span };
            if replicas > 1 {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0606,
                        at_user,
                        format!(
                            "{replicas} replicas of service `{}` would each bind {} on node `{}`",
                            service.name,
                            show(port),
                            node.name
                        ),
                    )
                    .with_primary_label(format!("port `{name}`"))
                    .with_label(
                        service.spec.replicas.as_ref().map_or(service.name_span, |r| r.span),
                        "more than one instance",
                    )
                    .with_help("run one instance per node, or place the service on a cluster"),
                );
            }
            let who = format!("service `{}` (port `{name}`)", service.name);
            claims.push(((node.name.as_str(), port.number, port.protocol), who, port.span, service.name_span));
        }
    }
    let mut owners: FxHashMap<(&str, u16, Transport), (String, Span)> = FxHashMap::default();
    for (key, who, span, declared) in claims {
        let (node, number, protocol) = key;
        match owners.get(&key) {
            Some((first, first_span)) => {
                let shown = show(&crate::model::types::Port { number, protocol });
                let primary = if estate.in_stdlib(span) { declared } else { span };
                let mut diagnostic = Diagnostic::new(
                    Code::E0606,
                    primary,
                    format!("{who} binds {shown} on node `{node}`, which {first} already binds"),
                )
                .with_primary_label("bound again here")
                .with_label(*first_span, format!("first bound by {first}"))
                .with_help("give one of them another port");
                if primary != span {
                    diagnostic = diagnostic.with_label(span, "the port comes from the preset");
                }
                diagnostics.push(diagnostic);
            }
            None => {
                let shown_at = if estate.in_stdlib(span) { declared } else { span };
                owners.insert(key, (who, shown_at));
            }
        }
    }
}

fn show(port: &crate::model::types::Port) -> String {
    let protocol = match port.protocol {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    };
    format!("{}/{protocol}", port.number)
}
