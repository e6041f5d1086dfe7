//! `k8s/<cluster>/gateway.yaml`: ingress routes through Istio's own ingress gateway
//! (`ingress api { …, class = "istio" }`). `istio` is the ingress class Istio itself registers,
//! so a route says which controller serves it the way every route does; host, path, port and TLS
//! keep their meaning and their checks (E0607, E0634, E0635, E0643, E1270).
//!
//! The gateway is the estate's own service from Istio's chart `gateway` (`std.istio.gateway`),
//! whose pods carry `istio: <release without "istio-">`. In the gateway's namespace:
//!
//! - one `Gateway` (`networking.istio.io/v1`, named after the gateway service) selecting those
//!   pods: one HTTP server on 80 for every routed host, and per TLS host an HTTPS server on 443
//!   whose `credentialName` is the host's certificate Secret. The gateway reads that Secret from
//!   its own namespace, not the routed service's;
//! - per TLS host a cert-manager `Certificate` of the route's issuer, writing that Secret there
//!   (cert-manager's ingress annotation has no Istio `Gateway` to read);
//! - per host one `VirtualService` bound to the Gateway, a rule per route, longest path first,
//!   to the service's Service port. One per host, not per route: Istio merges the rules of several
//!   VirtualServices of one host in no defined order, so `/` could shadow `/api`.
//!
//! Refused: a route through Istio where no service runs the gateway (E1281); on k3s, a route of
//! another class beside it (E1282: ServiceLB gives 80 and 443 to one load balancer, and the NixOS
//! back end disables k3s's Traefik where the gateway runs); routes of one host asking for different
//! TLS (E1283: one HTTPS server, one certificate per host).
//!
//! In a namespace with `network_policy = deny`, the gateway's own policy (`allow-<gateway>`,
//! selecting its pods by their `istio` label: the chart gives them no instance label) admits
//! what it needs: from anywhere, the ports its pods listen on behind its load balancer (the
//! `targetPort`s of the chart's `service.ports`: by default 80 and 443, which the chart's pods
//! bind as non-root through the `net.ipv4.ip_unprivileged_port_start` sysctl, and the status
//! port 15021 a load balancer checks), and out, each routed service's pods on its route's port
//! and istiod's on 15012 (its configuration, its certificates and the TLS Secrets it serves).
//! DNS is the namespace's `default-deny`'s; the routed services admit the gateway's pods in their
//! own policies, and a denying istiod namespace admits it in `mesh-control` ([`crate::mesh`]).
//!
//! Invariant: linear in the cluster's routes (grouped by host once).

use indexmap::IndexMap;
use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::release_service;
use spec_compiler::model::types::{Payload, Spanned};
use spec_compiler::model::{Distribution, Ingress, Resource, Service};

use crate::policies::{instance_selector, port_entry};
use crate::releases::release_name;

/// The ingress class of routes through Istio's gateway (the class Istio registers).
pub const ISTIO_CLASS: &str = "istio";

/// Whether a route goes through Istio's gateway.
pub fn through_istio(route: &Ingress) -> bool {
    route.class.as_ref().is_some_and(|c| c.value == ISTIO_CLASS)
}

/// The ports the gateway chart's pods listen on behind its Service (`service.ports` in its
/// values: status, HTTP, HTTPS), each its `targetPort`.
const CHART_TARGET_PORTS: [u16; 3] = [15021, 80, 443];
/// istiod's port for the proxies' configuration and certificates.
const XDS_PORT: u16 = 15012;

/// One route through the gateway: its service, name, the route and its Service port.
struct Routed<'m> {
    service: &'m Resource<Service>,
    name: &'m str,
    route: &'m Spanned<Ingress>,
    port: u16,
}

impl<'m> super::Lowering<'_, 'm> {
    /// The service running Istio's ingress gateway on this cluster (the first, if several).
    pub(crate) fn istio_gateway(&self) -> Option<&'m Resource<Service>> {
        self.on
            .services
            .iter()
            .copied()
            .find(|s| s.spec.helm.as_ref().is_some_and(|h| h.istio_chart() == Some("gateway")))
    }

    /// The gateway's namespace and the label selecting its pods.
    pub(crate) fn gateway_pods(&self, gateway: &Resource<Service>) -> (String, (&'static str, String)) {
        let namespace = self.namespace_of(gateway.spec.namespace.as_ref()).to_string();
        (namespace, ("istio", istio_label(gateway)))
    }

    /// The ingress and egress rules of the gateway's own policy in a namespace that denies
    /// traffic: its listening ports from anywhere, and out to the routed services and istiod.
    pub(crate) fn gateway_rules(&self, gateway: &Resource<Service>) -> (Vec<Value>, Vec<Value>) {
        let tcp = |port: u16| port_entry(port, spec_compiler::model::types::Transport::Tcp);
        let listening: Vec<Value> = target_ports(gateway).into_iter().map(tcp).collect();
        // The load balancer hands on traffic from any client, possibly from a node's address.
        let ingress = vec![json!({ "ports": listening })];
        let here = self.namespace_of(gateway.spec.namespace.as_ref());
        let mut egress: Vec<Value> = Vec::new();
        for routed in self.routed_by_host().into_values().flatten() {
            let namespace = self.namespace_of(routed.service.spec.namespace.as_ref());
            let mut to = json!({ "podSelector": instance_selector(routed.service) });
            if namespace != here {
                to["namespaceSelector"] = json!({ "matchLabels": { crate::policies::NAMESPACE_LABEL: namespace } });
            }
            let rule = json!({ "to": [to], "ports": [tcp(routed.port)] });
            if !egress.contains(&rule) {
                egress.push(rule);
            }
        }
        if let Some(istiod) = self.istiod() {
            let control = self.namespace_of(istiod.spec.namespace.as_ref());
            let pods = json!({
                "namespaceSelector": { "matchLabels": { crate::policies::NAMESPACE_LABEL: control } },
                "podSelector": { "matchLabels": { "app": "istiod" } },
            });
            egress.push(json!({ "to": [pods], "ports": [tcp(XDS_PORT)] }));
        }
        (ingress, egress)
    }

    /// The routes through Istio's gateway, by host in the order they first appear.
    fn routed_by_host(&self) -> IndexMap<&'m str, Vec<Routed<'m>>> {
        let mut hosts: IndexMap<&str, Vec<Routed<'m>>> = IndexMap::new();
        for service in self.on.services.iter().copied() {
            for (name, route) in &service.spec.ingress {
                if !through_istio(&route.value) {
                    continue;
                }
                // A missing port is E0607 from the estate's checks.
                let Some(port) = service.spec.ports.get(route.value.port.value.0.as_str()) else { continue };
                let routed = Routed { service, name, route, port: port.value.number };
                hosts.entry(route.value.host.value.as_str()).or_default().push(routed);
            }
        }
        hosts
    }

    /// Refuses routes through Istio with no gateway to serve them (E1281), beside routes of
    /// another class on k3s (E1282), or of one host asking for different TLS (E1283).
    pub fn check_gateway(&mut self) {
        let hosts = self.routed_by_host();
        let Some(first) = hosts.values().flatten().next() else { return };
        let cluster = self.cluster.name.clone();
        let Some(gateway) = self.istio_gateway() else {
            let class = first.route.value.class.as_ref().map_or(first.route.span, |c| c.span);
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1281,
                    class,
                    format!(
                        "the route `{}` of service `{}` goes through Istio's ingress gateway, and cluster `{cluster}` runs none",
                        first.name, first.service.name
                    ),
                )
                .with_primary_label("no service on the cluster installs Istio's chart `gateway`")
                .with_note("the route's Gateway and VirtualService would select no pod: nothing would answer its host")
                .with_help("add `service istio-ingressgateway { use std.istio.gateway, on = cluster.NAME, namespace = \"istio-system\" }` (import std.istio)"),
            );
            return;
        };
        if self.cluster.spec.distribution.value == Distribution::K3s {
            let other = self.on.services.iter().flat_map(|s| s.spec.ingress.iter().map(move |r| (s, r)));
            if let Some((service, (name, route))) = other.into_iter().find(|(_, (_, r))| !through_istio(&r.value)) {
                let at = route.value.class.as_ref().map_or(route.span, |c| c.span);
                let class = route.value.class.as_ref().map_or("the default".to_string(), |c| format!("`{}`", c.value));
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1282,
                        at,
                        format!(
                            "the route `{name}` of service `{}` is served by {class} ingress class on k3s cluster `{cluster}`, which runs Istio's ingress gateway",
                            service.name
                        ),
                    )
                    .with_primary_label("another ingress controller")
                    .with_label(gateway.name_span, "Istio's gateway, a load balancer on 80 and 443")
                    .with_note("k3s's ServiceLB gives a host port to one load balancer only: of two controllers on 80 and 443, one gets no address (and k3s's Traefik is disabled where Istio's gateway runs)")
                    .with_help("route it through Istio's gateway as well: `class = \"istio\"`"),
                );
            }
        }
        for routes in hosts.values() {
            let issuer =
                |r: &Routed<'m>| r.route.value.tls.as_ref().map(|t| t.value.issuer.as_ref().map(|i| i.value.clone()));
            let Some(first) = routes.first() else { continue };
            if let Some(other) = routes.iter().find(|r| issuer(r) != issuer(first)) {
                let at = other.route.value.tls.as_ref().map_or(other.route.span, |t| t.span);
                let host = &first.route.value.host.value;
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1283,
                        at,
                        format!("the routes for `{host}` through Istio's gateway ask for different TLS"),
                    )
                    .with_primary_label(format!("route `{}` of service `{}`", other.name, other.service.name))
                    .with_label(
                        first.route.value.tls.as_ref().map_or(first.route.span, |t| t.span),
                        format!("route `{}` of service `{}`", first.name, first.service.name),
                    )
                    .with_note("the gateway serves a host over one HTTPS server with one certificate")
                    .with_help("give every route of the host the same `tls { issuer = … }`, or none"),
                );
            }
        }
    }

    /// The gateway's `Gateway`, each TLS host's `Certificate` and each host's `VirtualService`.
    pub fn gateway_objects(&self) -> Vec<(String, Value)> {
        let hosts = self.routed_by_host();
        let Some(gateway) = self.istio_gateway() else { return Vec::new() };
        if hosts.is_empty() {
            return Vec::new();
        }
        let (namespace, (key, label)) = self.gateway_pods(gateway);
        let gateway_name = gateway.name.as_str();
        let mut documents = Vec::new();
        let all: Vec<&str> = hosts.keys().copied().collect();
        let mut servers = vec![json!({ "port": { "number": 80, "name": "http", "protocol": "HTTP" }, "hosts": all })];
        for (host, routes) in &hosts {
            let Some(issuer) = routes.iter().find_map(|r| r.route.value.tls.as_ref()?.value.issuer.as_ref()) else {
                continue;
            };
            let slug = slug(host);
            let secret = format!("{slug}-tls");
            servers.push(json!({
                "port": { "number": 443, "name": format!("https-{slug}"), "protocol": "HTTPS" },
                "hosts": [host],
                "tls": { "mode": "SIMPLE", "credentialName": secret },
            }));
            let spec = json!({
                "secretName": secret,
                "dnsNames": [host],
                "issuerRef": { "group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer.value },
            });
            let from = format!("from {}", self.context.provenance(issuer.span));
            documents.push((from, self.istio(&namespace, "cert-manager.io/v1", "Certificate", &slug, spec)));
        }
        let spec = json!({ "selector": { key: label }, "servers": servers });
        let from = format!("from {}", self.context.provenance(gateway.span));
        documents.insert(0, (from, self.istio(&namespace, "networking.istio.io/v1", "Gateway", gateway_name, spec)));
        for (host, mut routes) in hosts {
            // The longest prefix first: Istio takes the first rule that matches.
            routes.sort_by_key(|r| std::cmp::Reverse(r.route.value.path().len()));
            let http: Vec<Value> = routes
                .iter()
                .map(|r| {
                    let service_namespace = self.namespace_of(r.service.spec.namespace.as_ref());
                    let destination = format!("{}.{service_namespace}.svc.cluster.local", release_service(r.service));
                    json!({
                        "name": format!("{}-{}", r.service.name, r.name),
                        "match": [{ "uri": { "prefix": r.route.value.path() } }],
                        "route": [{ "destination": { "host": destination, "port": { "number": r.port } } }],
                    })
                })
                .collect();
            let spec = json!({ "hosts": [host], "gateways": [format!("{namespace}/{gateway_name}")], "http": http });
            let from = format!("from {}", self.context.provenance(routes[0].route.span));
            documents
                .push((from, self.istio(&namespace, "networking.istio.io/v1", "VirtualService", &slug(host), spec)));
        }
        documents
    }
}

/// The value of the `istio` label the gateway chart gives its pods: its `labels.istio`, else its
/// name (its `name` value, else the release's) without a leading `istio-`.
fn istio_label(gateway: &Resource<Service>) -> String {
    let values = gateway.spec.helm.as_ref().map(|h| &h.value.values);
    let text = |key: &str, inner: Option<&str>| {
        let value = values?.get(key)?;
        let value = match (inner, value) {
            (Some(inner), Payload::Map(map)) => map.get(inner)?,
            (None, value) => value,
            _ => return None,
        };
        match value {
            Payload::Str(s) => Some(s.clone()),
            _ => None,
        }
    };
    if let Some(label) = text("labels", Some("istio")) {
        return label;
    }
    let name = text("name", None).unwrap_or_else(|| release_name(&gateway.name));
    name.strip_prefix("istio-").unwrap_or(&name).to_string()
}

/// The ports the gateway's pods listen on: the `targetPort` (else `port`) of each entry of its
/// chart's `service.ports`, else the chart's defaults.
fn target_ports(gateway: &Resource<Service>) -> Vec<u16> {
    let values = gateway.spec.helm.as_ref().map(|h| &h.value.values);
    let entries = match values.and_then(|v| v.get("service")) {
        Some(Payload::Map(service)) => match service.get("ports") {
            Some(Payload::List(entries)) => entries,
            _ => return CHART_TARGET_PORTS.to_vec(),
        },
        _ => return CHART_TARGET_PORTS.to_vec(),
    };
    let number = |entry: &indexmap::IndexMap<String, Payload>, key: &str| match entry.get(key) {
        Some(Payload::Int(n)) => u16::try_from(*n).ok(),
        _ => None,
    };
    let mut ports = Vec::new();
    for entry in entries {
        if let Payload::Map(entry) = entry
            && let Some(port) = number(entry, "targetPort").or_else(|| number(entry, "port"))
            && !ports.contains(&port)
        {
            ports.push(port);
        }
    }
    ports
}

/// An object name for a host: `research.example.com` → `research-example-com`, a wildcard's
/// `*` → `wildcard`.
fn slug(host: &str) -> String {
    host.replace('*', "wildcard").replace('.', "-")
}
