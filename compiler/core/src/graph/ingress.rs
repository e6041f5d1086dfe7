//! Ingress routes: each names a TCP port its service declares (E0607, E0643), a host that is a DNS name
//! (E0635), and no two routes served by one place (a cluster or a node) claim the same host and
//! path (E0634), which the ingress controller would otherwise resolve by an order nobody chose.
//!
//! Routes are collected in one pass into a map keyed by place, host and path.

use rustc_hash::FxHashMap;

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::ingress::is_dns_name;
use crate::model::types::Transport;
use crate::source::Span;

/// A route's claim: the place serving it (kind, name), its host and path.
type Claim<'m> = (&'m str, &'m str, &'m str, &'m str);

/// Who claimed it first: the service, the route and where the route is written.
type Claimant<'m> = (&'m str, &'m str, Span);

/// Checks every service's ingress routes.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut claimed: FxHashMap<Claim<'_>, Claimant<'_>> = FxHashMap::default();
    for service in &estate.model.services {
        for (name, route) in &service.spec.ingress {
            let route_value = &route.value;
            if !service.spec.ports.contains_key(route_value.port.value.0.as_str()) {
                let declared: Vec<String> = service.spec.ports.keys().map(|p| format!("`{p}`")).collect();
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0607,
                        route_value.port.span,
                        format!(
                            "ingress `{name}` of service `{}` routes to port `{}`, which the service does not declare",
                            service.name, route_value.port.value.0
                        ),
                    )
                    .with_primary_label("no such port")
                    .with_help(match declared.is_empty() {
                        true => "declare the port in `ports { … }`".to_string(),
                        false => format!("the service's ports are {}", declared.join(", ")),
                    }),
                );
            }
            let udp =
                service.spec.ports.get(route_value.port.value.0.as_str()).filter(|p| p.protocol == Transport::Udp);
            if let Some(port) = udp {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0643,
                        route_value.port.span,
                        format!(
                            "ingress `{name}` of service `{}` routes to port `{}`, which is {}/udp",
                            service.name, route_value.port.value.0, port.number
                        ),
                    )
                    .with_primary_label("HTTP runs over TCP")
                    .with_label(port.span, "declared here")
                    .with_help("route to a TCP port; a UDP port is reached through `expose`"),
                );
            }
            let host = &route_value.host;
            if !is_dns_name(&host.value) {
                diagnostics.push(
                    Diagnostic::new(Code::E0635, host.span, format!("`{}` is not a DNS name", host.value))
                        .with_primary_label("not a host name")
                        .with_help("write a lowercase DNS name such as `api.example.com` (or `*.example.com`), without a scheme, port or path"),
                );
                continue;
            }
            let on = &service.spec.on.value;
            let key = (on.kind.as_str(), on.name.as_str(), host.value.as_str(), route_value.path());
            let here = route.span;
            match claimed.get(&key) {
                Some((other_service, other_route, other_span)) => diagnostics.push(
                    Diagnostic::new(
                        Code::E0634,
                        here,
                        format!(
                            "ingress `{name}` of service `{}` claims {}{} on {} `{}`, which ingress `{other_route}` of service `{other_service}` already claims",
                            service.name,
                            host.value,
                            route_value.path(),
                            on.kind,
                            on.name
                        ),
                    )
                    .with_primary_label("claimed again here")
                    .with_label(*other_span, "first claimed here")
                    .with_help("give one of them another host or path"),
                ),
                None => {
                    claimed.insert(key, (service.name.as_str(), name.as_str(), here));
                }
            }
        }
    }
}
