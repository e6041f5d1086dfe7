//! Ingress routes on a NixOS node: one nginx (`services.nginx`) serves every route of the node's
//! services, a virtual host per host name with a location per path proxied to the service's port
//! on loopback (a container publishes every port there, and a service its NixOS options run
//! listens there: see `reach.rs`), with `recommendedProxySettings` so the service sees the
//! client's host and address.
//!
//! A route with `tls` makes its virtual host `forceSSL` with `enableACME`: the certificate comes
//! from ACME's HTTP challenge, for the account of the route's `email` (E1170 when none), from the
//! route's `issuer` when it names an ACME directory URL (E1174 otherwise; Let's Encrypt by
//! default), with `security.acme.acceptTerms`. The routes of one host share the virtual host, so
//! they must agree on TLS, email and issuer (E1171); a wildcard host cannot be issued a
//! certificate by the HTTP challenge (E1173). An ingress class other than `nginx` names a
//! controller the node does not run (W1170).
//!
//! Reachability: nginx makes port 80 (and 443 with TLS) public on the node, opened in the global
//! firewall beside `expose`'s public ports; the services' own ports stay where their ways in put
//! them (nginx reaches them on loopback). A service on the node using 80 or 443 itself would
//! clash with nginx's listener (E1172).

use std::collections::BTreeMap;

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::ingress::is_dns_name;
use spec_compiler::model::types::Transport;
use spec_compiler::source::Span;

use super::{NodeModule, path, with};
use crate::nix::Nix;

/// The ports nginx listens on: HTTP (also ACME's challenge and the redirect to HTTPS) and HTTPS.
const HTTP: u16 = 80;
const HTTPS: u16 = 443;

/// How a host is served over TLS: the ACME account's email and the issuer's directory URL.
#[derive(Clone, PartialEq, Eq)]
struct Acme<'m> {
    email: Option<&'m str>,
    issuer: Option<&'m str>,
}

/// One host's virtual host: its TLS (`None`: plain HTTP) as its first route asked, where that
/// route is, and its locations.
struct VirtualHost<'m> {
    acme: Option<Acme<'m>>,
    first: Span,
    locations: Vec<(&'m str, u16, Span)>,
}

impl<'a> NodeModule<'a> {
    /// Serves the ingress routes of the node's services through nginx.
    pub(super) fn ingress(&mut self) {
        let mut hosts: BTreeMap<&'a str, VirtualHost<'a>> = BTreeMap::new();
        // The node's nginx is attributed to its first route in source order.
        let mut first = None;
        for service in self.index.on(&self.node.name).services.iter().copied() {
            for route in service.spec.ingress.values() {
                let route_value = &route.value;
                let host = route_value.host.value.as_str();
                // Undeclared ports (E0607), names that are not DNS names (E0635) and UDP ports
                // (E0643) are the checks' to report.
                let Some(port) = service.spec.ports.get(route_value.port.value.0.as_str()) else { continue };
                if !is_dns_name(host) || port.protocol != Transport::Tcp {
                    continue;
                }
                if let Some(class) = route_value.class.as_ref().filter(|c| c.value != "nginx") {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::W1170,
                            class.span,
                            format!(
                                "ingress class `{}` on node `{}`: nginx serves every route of a NixOS node",
                                class.value, self.node.name
                            ),
                        )
                        .with_primary_label("not the controller here")
                        .with_help(
                            "remove `class`, or write `class = \"nginx\"`; a class chooses a controller on a cluster",
                        ),
                    );
                }
                let acme = route_value.tls.as_ref().map(|tls| {
                    if tls.value.email.is_none() {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E1170,
                                tls.span,
                                format!(
                                    "ingress route for `{host}` on node `{}` asks for TLS without an ACME account email",
                                    self.node.name
                                ),
                            )
                            .with_primary_label("no `email`")
                            .with_help("give the account's email: `tls { email = \"ops@example.com\" }`"),
                        );
                    }
                    if let Some(issuer) = tls.value.issuer.as_ref().filter(|i| !is_directory_url(&i.value)) {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E1174,
                                issuer.span,
                                format!(
                                    "issuer `{}` of the route for `{host}` on node `{}` is not an ACME directory URL",
                                    issuer.value, self.node.name
                                ),
                            )
                            .with_primary_label("not an `https://` URL")
                            .with_help(
                                "on a NixOS node the issuer is the ACME server's directory URL \
                                 (`https://acme-staging-v02.api.letsencrypt.org/directory`); leave it out for Let's Encrypt",
                            ),
                        );
                    }
                    if host.starts_with("*.") {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E1173,
                                route_value.host.span,
                                format!("`{host}` on node `{}` cannot get a certificate by ACME's HTTP challenge", self.node.name),
                            )
                            .with_primary_label("a wildcard host")
                            .with_help("name each host (`api.example.com`), or serve the wildcard without `tls`"),
                        );
                    }
                    Acme {
                        email: tls.value.email.as_ref().map(|e| e.value.as_str()),
                        issuer: tls.value.issuer.as_ref().map(|i| i.value.as_str()),
                    }
                });
                let here = route_value.tls.as_ref().map_or(route.span, |t| t.span);
                let entry = hosts.entry(host).or_insert_with(|| VirtualHost {
                    acme: acme.clone(),
                    first: here,
                    locations: Vec::new(),
                });
                if entry.acme != acme {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E1171,
                            here,
                            format!(
                                "the routes of `{host}` on node `{}` ask for different TLS, and share one virtual host",
                                self.node.name
                            ),
                        )
                        .with_primary_label("differs from the host's first route")
                        .with_label(entry.first, "the host's first route")
                        .with_help("give every route of the host the same `tls { … }`, or none"),
                    );
                    continue;
                }
                entry.locations.push((route_value.path(), port.number, route.span));
                first.get_or_insert(route.span);
            }
        }
        if hosts.is_empty() {
            return;
        }
        let tls = hosts.values().any(|h| h.acme.is_some());
        self.refuse_taken_ports(tls);
        let first = first.unwrap_or(self.node.name_span);
        self.nginx(first);
        let mut server = vec![(path("services.nginx.recommendedProxySettings"), Nix::Bool(true))];
        if tls {
            server.push((path("security.acme.acceptTerms"), Nix::Bool(true)));
        }
        self.define_all(server, first);
        self.tcp.insert(HTTP);
        if tls {
            self.tcp.insert(HTTPS);
        }
        for (host, virtual_host) in hosts {
            let base = with(path("services.nginx.virtualHosts"), &[host]);
            if let Some(acme) = &virtual_host.acme {
                let mut definitions = vec![
                    (with(base.clone(), &["forceSSL"]), Nix::Bool(true)),
                    (with(base.clone(), &["enableACME"]), Nix::Bool(true)),
                ];
                let cert = with(path("security.acme.certs"), &[host]);
                definitions.extend(acme.email.map(|e| (with(cert.clone(), &["email"]), Nix::Str(e.to_string()))));
                definitions.extend(acme.issuer.map(|i| (with(cert.clone(), &["server"]), Nix::Str(i.to_string()))));
                self.define_all(definitions, virtual_host.first);
            }
            for (location, port, span) in virtual_host.locations {
                let proxy = with(base.clone(), &["locations", location, "proxyPass"]);
                self.define(proxy, Nix::Str(format!("http://127.0.0.1:{port}")), span);
            }
        }
    }

    /// Reports each port of the node's services that nginx's listeners take.
    fn refuse_taken_ports(&mut self, tls: bool) {
        for service in self.index.on(&self.node.name).services.iter().copied() {
            for (name, port) in &service.spec.ports {
                let taken = port.protocol == Transport::Tcp && (port.number == HTTP || (tls && port.number == HTTPS));
                if !taken {
                    continue;
                }
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1172,
                        port.span,
                        format!(
                            "port `{name}` ({}/tcp) of service `{}` is taken by nginx on node `{}`, which serves its ingress routes",
                            port.number, service.name, self.node.name
                        ),
                    )
                    .with_primary_label("nginx listens here")
                    .with_help("give the service another port number: nginx reaches it on loopback"),
                );
            }
        }
    }
}

/// Whether an issuer names an ACME directory: an `https://` URL with a host.
fn is_directory_url(issuer: &str) -> bool {
    issuer.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or("");
        !host.is_empty() && !issuer.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\')
    })
}

#[cfg(test)]
mod tests {
    use super::is_directory_url;

    #[test]
    fn an_issuer_on_a_node_is_an_https_directory_url() {
        assert!(is_directory_url("https://acme-staging-v02.api.letsencrypt.org/directory"));
        assert!(is_directory_url("https://ca.internal:9000/acme/acme/directory"));
        assert!(!is_directory_url("letsencrypt-prod"));
        assert!(!is_directory_url("http://ca.internal/directory"));
        assert!(!is_directory_url("https:///directory"));
    }
}
