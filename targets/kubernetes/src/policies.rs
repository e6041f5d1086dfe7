//! `k8s/<cluster>/policies.yaml`: the `NetworkPolicy`s of every namespace that asks for them with
//! `network_policy = deny`, derived from the estate's graph, so the graph is the policy.
//!
//! - `default-deny`: every pod of the namespace, all ingress and egress denied but DNS (UDP and
//!   TCP 53 to `kube-system`, where the cluster's DNS runs), so pods still resolve names.
//! - `allow-<service>`, one per service in the namespace (a service may be named `default-deny`),
//!   selecting its release's pods by the label every chart following Helm's conventions puts on
//!   them (`app.kubernetes.io/instance: <release>`; app-template and the Bitnami charts do), or
//!   by the labels its chart's `pod_labels` names (pods an operator starts, labelled after the
//!   object the chart installs), admitting:
//!   - from each service of the cluster that reaches it (`needs`, or reads where it is in `env`
//!     or its chart values), by that release's label and, across namespaces, its namespace's
//!     `kubernetes.io/metadata.name` label: every port but a metrics-only one;
//!   - the Prometheus that scrapes it (prometheus-operator's pods, `app.kubernetes.io/name:
//!     prometheus`, in any namespace) on its metrics port;
//!   - the cluster's blackbox exporter on the port its HTTP health check probes;
//!   - the ingress controller (k3s runs Traefik in `kube-system`) on each ingress route's port,
//!     and Istio's gateway's pods on the port of each route through it;
//!   - its exposed ports: from any source for `public` and network audiences (the load balancer
//!     in front admits only the network's range, and may hand traffic on from a node address),
//!     from every pod of the cluster for `cluster`;
//!
//!   and letting it reach what it reaches: the pods of the services it needs on the cluster, the
//!   address of a needed service's node, the nodes of another cluster whose load balancer serves a
//!   needed service, anything outside the cluster for an external bucket or endpoint (a needed
//!   job adds nothing: it orders the service's release after the job's, and is no peer), the API
//!   server (its Service address and the servers' own) when it has `access` rules or its chart's
//!   pods talk to it (`helm { api = true }`, which presets of controllers set: Argo's controllers,
//!   istiod, Istio's CNI agent), and the services its blackbox exporter probes.
//!
//!   - the members of a service whose replicas are members, from each other (and the one-shot
//!     that forms them) on the ports `members` names, and to each other on them;
//!
//! Istio's ingress gateway's policy selects its pods by their `istio` label and adds what its load
//! balancer and its routes need ([`crate::gateway`]).
//!
//! A namespace in the service mesh also gets the policy its proxies need ([`crate::mesh`]), and the
//! namespaces of the Argo Rollouts controller and of Prometheus the policies admitting a canary
//! analysis's query ([`crate::analysis`]).
//!
//! Jobs, workflow steps and k8up's pods in such a namespace get policies of their own, and the
//! services they reach admit them ([`runs`]).
//!
//! Invariant: linear in the cluster's services, jobs and steps (who reaches whom is indexed once).

use serde_json::{Value, json};
use spec_compiler::model::reach::{K3S_POD_RANGE, host_range, metrics_only, reached_services};
use spec_compiler::model::types::Transport;
use spec_compiler::model::{Audience, NetworkPolicy, Resource, Service};
use std::collections::HashMap;

use crate::releases::release_name;

mod runs;

pub use runs::{STEP_LABEL, WORKFLOW_LABEL};

/// The label every release's pods carry with the release's name.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The label Kubernetes gives every namespace with its name.
pub const NAMESPACE_LABEL: &str = "kubernetes.io/metadata.name";
/// The range k3s gives Services (its default `--service-cidr`), whose first address is the API
/// server's Service.
pub const K3S_SERVICE_RANGE: &str = "10.43.0.0/16";
/// The API server's Service address in k3s's Service range, and the port the servers serve it on.
const API_SERVICE: (&str, u16) = ("10.43.0.1/32", 443);
const API_SERVER_PORT: u16 = 6443;
/// Where the cluster's DNS and k3s's ingress controller (Traefik) run.
const SYSTEM_NAMESPACE: &str = "kube-system";

/// A cluster's blackbox exporter and the services it probes, each with the probed port.
type Probed<'m> = (&'m Resource<Service>, Vec<(&'m Resource<Service>, u16)>);

impl super::Lowering<'_, '_> {
    /// The policies of every namespace of the cluster with `network_policy = deny`.
    pub fn network_policies(&self) -> Vec<(String, Value)> {
        let namespaces = self.cluster.spec.namespaces(self.cluster.name_span);
        let denied: Vec<_> =
            namespaces.iter().filter(|n| n.network_policy.is_some_and(|p| p.value == NetworkPolicy::Deny)).collect();
        if denied.is_empty() {
            return Vec::new();
        }
        // Who reaches whom, over the cluster's services, jobs and workflow steps, indexed once.
        let mut reached_by: HashMap<&str, Vec<Peer>> = HashMap::new();
        for service in &self.on.services {
            let namespace = self.namespace_of(service.spec.namespace.as_ref());
            for name in reached_services(&service.spec) {
                reached_by.entry(name).or_default().push((instance_selector(service), namespace));
            }
        }
        let runs = self.runs();
        for run in &runs {
            for name in &run.reached {
                reached_by.entry(name).or_default().push((run.selector.clone(), &run.namespace));
            }
        }
        let probes = self.probed();
        let mut documents = Vec::new();
        for namespace in &denied {
            let from = format!("from {}", self.context.provenance(namespace.span));
            let spec = json!({
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [dns_rule()],
            });
            documents.push((from, self.policy(namespace.name, "default-deny", spec)));
        }
        for service in &self.on.services {
            let namespace = self.namespace_of(service.spec.namespace.as_ref());
            if !denied.iter().any(|n| n.name == namespace) {
                continue;
            }
            let from = format!("from {}", self.context.provenance(service.span));
            let mut ingress = self.ingress_rules(service, reached_by.get(service.name.as_str()), &probes);
            let mut egress = self.egress_rules(service, &probes);
            let mut selector = instance_selector(service);
            // Istio's gateway: pods labelled by `istio`, and what its load balancer and routes need.
            if let Some(gateway) = self.istio_gateway().filter(|g| g.name == service.name) {
                let (_, (key, label)) = self.gateway_pods(gateway);
                selector = json!({ "matchLabels": { key: label } });
                let (admitted, reached) = self.gateway_rules(gateway);
                ingress.extend(admitted);
                egress.extend(reached);
            }
            let spec = json!({
                "podSelector": selector,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": ingress,
                "egress": egress,
            });
            documents.push((from, self.policy(namespace, &format!("allow-{}", service.name), spec)));
        }
        let denied: Vec<&str> = denied.iter().map(|n| n.name).collect();
        documents.extend(self.run_policies(&denied));
        documents.extend(self.mesh_policies(&denied));
        documents.extend(self.analysis_policies(&denied));
        documents
    }

    pub(crate) fn policy(&self, namespace: &str, name: &str, spec: Value) -> Value {
        let mut metadata = self.metadata(name);
        metadata["namespace"] = json!(namespace);
        json!({ "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec })
    }

    /// The cluster's blackbox exporter and the services it probes, with each probed port.
    fn probed(&self) -> Option<Probed<'_>> {
        let (_, prober, probes) = spec_target_prometheus::scrape::cluster_probes(self.index)
            .into_iter()
            .find(|(cluster, _, _)| *cluster == self.cluster.name)?;
        Some((prober, probes.into_iter().map(|p| (p.service, p.port)).collect()))
    }

    /// The peer selecting the pods of `service` on this cluster, seen from namespace `here`.
    fn pods_of(&self, service: &Resource<Service>, here: &str) -> Value {
        peer(&instance_selector(service), self.namespace_of(service.spec.namespace.as_ref()), here)
    }

    fn ingress_rules(
        &self,
        service: &Resource<Service>,
        reached_by: Option<&Vec<Peer>>,
        probes: &Option<Probed<'_>>,
    ) -> Vec<Value> {
        let here = self.namespace_of(service.spec.namespace.as_ref());
        let spec = &service.spec;
        let number = |name: &str| spec.ports.get(name).map(|p| (p.value.number, p.value.protocol));
        let mut rules = Vec::new();
        let reachable = ports_of(service);
        if !reachable.is_empty() {
            for (selector, namespace) in reached_by.into_iter().flatten() {
                rules.push(json!({ "from": [peer(selector, namespace, here)], "ports": reachable }));
            }
        }
        let members = member_ports(service);
        if !members.is_empty() {
            rules.push(json!({ "from": [{ "podSelector": instance_selector(service) }], "ports": members }));
        }
        if let Some((port, transport)) = spec.metrics.as_ref().and_then(|m| number(&m.value.port.value.0)) {
            let prometheus = json!({
                "namespaceSelector": {},
                "podSelector": { "matchLabels": { "app.kubernetes.io/name": "prometheus" } },
            });
            rules.push(json!({ "from": [prometheus], "ports": [port_entry(port, transport)] }));
        }
        if let Some((prober, probed)) = probes {
            for (_, port) in probed.iter().filter(|(s, _)| s.name == service.name) {
                rules.push(
                    json!({ "from": [self.pods_of(prober, here)], "ports": [port_entry(*port, Transport::Tcp)] }),
                );
            }
        }
        // Routes through Istio's gateway come from its pods; the others from kube-system.
        let (mut routed, mut through_gateway): (Vec<Value>, Vec<Value>) = (Vec::new(), Vec::new());
        for route in spec.ingress.values() {
            if let Some((port, transport)) = number(&route.value.port.value.0) {
                let entry = port_entry(port, transport);
                let list = if crate::gateway::through_istio(&route.value) { &mut through_gateway } else { &mut routed };
                if !list.contains(&entry) {
                    list.push(entry);
                }
            }
        }
        if !routed.is_empty() {
            let controller = json!({ "namespaceSelector": { "matchLabels": { NAMESPACE_LABEL: SYSTEM_NAMESPACE } } });
            rules.push(json!({ "from": [controller], "ports": routed }));
        }
        if let (false, Some(gateway)) = (through_gateway.is_empty(), self.istio_gateway()) {
            let (namespace, (key, label)) = self.gateway_pods(gateway);
            let pods = json!({ "matchLabels": { key: label } });
            let from = match namespace == here {
                true => json!({ "podSelector": pods }),
                false => {
                    json!({ "namespaceSelector": { "matchLabels": { NAMESPACE_LABEL: namespace } }, "podSelector": pods })
                }
            };
            rules.push(json!({ "from": [from], "ports": through_gateway }));
        }
        for exposed in spec.expose.ports() {
            let Some((port, transport)) = number(exposed.port) else { continue };
            let ports = [port_entry(port, transport)];
            rules.push(match exposed.audience {
                Audience::Cluster => json!({ "from": [{ "namespaceSelector": {} }], "ports": ports }),
                // The load balancer admits the audience; what it hands on may come from a node.
                Audience::Public | Audience::Network(_) => json!({ "ports": ports }),
            });
        }
        rules
    }

    fn egress_rules(&self, service: &Resource<Service>, probes: &Option<Probed<'_>>) -> Vec<Value> {
        let here = self.namespace_of(service.spec.namespace.as_ref());
        let mut rules = self.egress_to(reached_services(&service.spec), here);
        let members = member_ports(service);
        if !members.is_empty() {
            rules.push(json!({ "to": [{ "podSelector": instance_selector(service) }], "ports": members }));
        }
        // An external bucket or endpoint is somewhere outside the cluster, on a port its URL may
        // not say. A job is no peer: its need orders the service after the job's success.
        if service.spec.needs.iter().any(|n| n.kind != "service" && n.kind != "job") {
            rules.push(outside_rule(None));
        }
        // Its own pods with `access` rules, or a chart's controller that watches the cluster.
        if !service.spec.access.is_empty() || talks_to_api(service) {
            rules.push(self.api_rule());
        }
        if let Some((_, probed)) = probes.as_ref().filter(|(prober, _)| prober.name == service.name) {
            for (target, port) in probed {
                rules.push(json!({ "to": [self.pods_of(target, here)], "ports": [port_entry(*port, Transport::Tcp)] }));
            }
        }
        rules
    }

    /// Egress from namespace `here` to each service named: its pods on this cluster, its node's
    /// address, or the nodes of the other cluster whose load balancer serves it.
    fn egress_to(&self, reached: Vec<&str>, here: &str) -> Vec<Value> {
        let mut rules = Vec::new();
        for name in reached {
            let Some(needed) = self.index.service(name) else { continue };
            let ports = ports_of(needed);
            if ports.is_empty() {
                continue; // a need is E0762 in the graph rules; a read is E0625
            }
            let on = &needed.spec.on.value;
            let to: Vec<Value> = match on.kind.as_str() {
                "cluster" if on.name == self.cluster.name => vec![self.pods_of(needed, here)],
                "cluster" => self.cluster_addresses(&on.name),
                _ => self
                    .index
                    .node(&on.name)
                    .and_then(|n| n.spec.address.as_ref())
                    .map(|a| json!({ "ipBlock": { "cidr": host_range(a.value.0) } }))
                    .into_iter()
                    .collect(),
            };
            if !to.is_empty() {
                rules.push(json!({ "to": to, "ports": ports }));
            }
        }
        rules
    }

    /// Egress to the API server: its Service address and the servers' own.
    pub(crate) fn api_rule(&self) -> Value {
        let mut to = vec![json!({ "ipBlock": { "cidr": API_SERVICE.0 } })];
        to.extend(self.cluster_servers());
        json!({
            "to": to,
            "ports": [port_entry(API_SERVICE.1, Transport::Tcp), port_entry(API_SERVER_PORT, Transport::Tcp)],
        })
    }

    /// The addresses of the nodes of cluster `name` (its load balancer answers on each).
    fn cluster_addresses(&self, name: &str) -> Vec<Value> {
        let Some(cluster) = self.context.model.clusters.iter().find(|c| c.name == name) else { return Vec::new() };
        let nodes = cluster.spec.servers.iter().chain(&cluster.spec.agents);
        let mut seen = std::collections::BTreeSet::new();
        nodes
            .filter_map(|n| self.index.node(&n.name)?.spec.address.as_ref())
            .map(|a| host_range(a.value.0))
            .filter(|cidr| seen.insert(cidr.clone()))
            .map(|cidr| json!({ "ipBlock": { "cidr": cidr } }))
            .collect()
    }

    /// The addresses of this cluster's servers, where the API server listens.
    fn cluster_servers(&self) -> Vec<Value> {
        let mut seen = std::collections::BTreeSet::new();
        self.cluster
            .spec
            .servers
            .iter()
            .filter_map(|n| self.index.node(&n.name)?.spec.address.as_ref())
            .map(|a| host_range(a.value.0))
            .filter(|cidr| seen.insert(cidr.clone()))
            .map(|cidr| json!({ "ipBlock": { "cidr": cidr } }))
            .collect()
    }
}

/// Whether a chart-backed service's pods talk to the API server (`helm { api = true }`).
fn talks_to_api(service: &Resource<Service>) -> bool {
    service.spec.helm.as_ref().and_then(|h| h.value.api.as_ref()).is_some_and(|a| a.value)
}

/// Pods that reach services, as a selector and the namespace they run in.
type Peer<'n> = (Value, &'n str);

/// The peer selecting pods by `selector` in `namespace`, seen from a policy in namespace `here`.
pub(crate) fn peer(selector: &Value, namespace: &str, here: &str) -> Value {
    let mut peer = json!({ "podSelector": selector });
    if namespace != here {
        peer["namespaceSelector"] = json!({ "matchLabels": { NAMESPACE_LABEL: namespace } });
    }
    peer
}

/// Egress to anything outside the cluster (its pod and Service ranges excepted), on `port` when
/// it is known.
pub(crate) fn outside_rule(port: Option<u16>) -> Value {
    let outside = |cidr: &str, except: &[&str]| json!({ "ipBlock": { "cidr": cidr, "except": except } });
    let mut rule = json!({ "to": [outside("0.0.0.0/0", &[K3S_POD_RANGE, K3S_SERVICE_RANGE]), outside("::/0", &[])] });
    if let Some(port) = port {
        rule["ports"] = json!([port_entry(port, Transport::Tcp)]);
    }
    rule
}

/// The ports a service's peers reach it on: every port but one serving only its metrics.
fn ports_of(service: &Resource<Service>) -> Vec<Value> {
    service
        .spec
        .ports
        .iter()
        .filter(|(name, _)| !metrics_only(service, name))
        .map(|(_, port)| port_entry(port.value.number, port.value.protocol))
        .collect()
}

/// The ports the members of a service whose replicas are members reach each other on (the
/// one-shot that forms them is a pod of the same release).
fn member_ports(service: &Resource<Service>) -> Vec<Value> {
    let Some(members) = service.spec.members.as_ref().filter(|m| m.value.as_replicas()) else { return Vec::new() };
    let ports = members.value.ports.iter().filter_map(|name| service.spec.ports.get(&name.value.0));
    ports.map(|port| port_entry(port.value.number, port.value.protocol)).collect()
}

pub(crate) fn port_entry(port: u16, transport: Transport) -> Value {
    let protocol = match transport {
        Transport::Tcp => "TCP",
        Transport::Udp => "UDP",
    };
    json!({ "port": port, "protocol": protocol })
}

/// DNS to the cluster's DNS in `kube-system`, over UDP and TCP.
fn dns_rule() -> Value {
    json!({
        "to": [{ "namespaceSelector": { "matchLabels": { NAMESPACE_LABEL: SYSTEM_NAMESPACE } } }],
        "ports": [port_entry(53, Transport::Udp), port_entry(53, Transport::Tcp)],
    })
}

/// The selector of a service's pods: the labels its chart's `pod_labels` says they carry, else
/// by the release that installs them (each colour's, for a blue-green rollout, so the policies
/// hold whichever colour is active).
pub(crate) fn instance_selector(service: &Resource<Service>) -> Value {
    if let Some(labels) = spec_compiler::model::pod_labels(service) {
        return json!({ "matchLabels": labels.into_iter().map(|(k, v)| (k, json!(v))).collect::<serde_json::Map<String, Value>>() });
    }
    let releases: Vec<String> = crate::bluegreen::releases_of(service).iter().map(|r| release_name(r)).collect();
    match releases.as_slice() {
        [one] => json!({ "matchLabels": { INSTANCE_LABEL: one } }),
        _ => json!({ "matchExpressions": [{ "key": INSTANCE_LABEL, "operator": "In", "values": releases }] }),
    }
}
