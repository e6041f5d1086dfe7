//! `k8s/<cluster>/mesh.yaml`: the Istio objects of the namespaces in the cluster's service mesh
//! (`namespace apps { mesh = istio { mtls = strict } }`), and what the mesh needs elsewhere.
//!
//! - The namespace carries `istio-injection: enabled` ([`INJECTION_LABEL`], written with the
//!   `Namespace` in `namespace.yaml`): Istio's injector adds its proxy to every pod created there.
//! - `PeerAuthentication` `default` in each meshed namespace (`security.istio.io/v1`), in the
//!   namespace's `mtls` mode. Under `strict`, each service that a client outside the mesh must
//!   still reach gets a `PeerAuthentication` of its own, selecting its pods, with a port-level
//!   `PERMISSIVE` exception for exactly those ports: the metrics port (Prometheus runs outside the
//!   mesh, and cannot speak its mutual TLS), the port the blackbox exporter probes when it runs
//!   outside the mesh, ingress routes' ports (the ingress controller runs in `kube-system`; not
//!   those of routes through Istio's gateway, a client in the mesh),
//!   exposed ports (the load balancer), and the ports a service, job or workflow step outside the
//!   mesh reaches it on (`needs`, reads). Every other port accepts the mesh's mutual TLS only;
//!   clients in the mesh use it on every port, excepted or not.
//! - `DestinationRule` per service of a meshed namespace (`networking.istio.io/v1`), its host
//!   the service's cluster DNS name, `ISTIO_MUTUAL`: the mesh's clients always send it mutual TLS.
//! - `PodMonitor` `istio-proxies` per meshed namespace when the cluster is scraped by the
//!   Prometheus operator (any of its services has `metrics`, or it has alert rules): every
//!   injected pod's proxy metrics (`http-envoy-prom`, 15090, `/stats/prometheus`), which the proxy
//!   serves in plain text outside the mutual TLS it enforces.
//! - In a meshed namespace with `network_policy = deny`, the `NetworkPolicy` `mesh` admits what
//!   the proxies need: egress to istiod's pods on 15012 (configuration and certificates) and
//!   ingress from Prometheus on 15090. The kubelet's probes, which the injector rewrites to the
//!   proxy's 15020/15021, come from the node as every probe does. When istiod itself runs in a
//!   namespace that denies traffic, `mesh-control` admits the proxies (15012) and the API server's
//!   webhook calls (15017) to it, and its egress to the API server (also when Istio's ingress
//!   gateway, a proxy as well, runs in a namespace that denies traffic).
//!
//! The control plane is the estate's own: a service on the cluster installed from Istio's chart
//! `istiod` (`std.istio.istiod`), in `istio-system` where the proxies look for it, with native
//! sidecars, so that Jobs, CronJobs, workflow steps and k8up's pods finish (the proxy is an init
//! container Kubernetes stops when the pod's containers are done; 1.29 and later). Anything else
//! is refused (E1245–E1248), and so is a meshed namespace enforcing the `baseline` or `restricted`
//! Pod Security Standard unless istiod leaves traffic redirection to Istio's CNI node agent
//! (`std.istio.cni`; E1249), as those standards refuse the init container's NET_ADMIN.
//!
//! Invariant: linear in the cluster's services, jobs and steps (who reaches whom is indexed once).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::{metrics_only, reached_services, release_service};
use spec_compiler::model::types::{Payload, Spanned};
use spec_compiler::model::{KubeVersion, Mesh, Mtls, NetworkPolicy, Resource, Service};

use crate::chart::value_at;
use crate::policies::{instance_selector, port_entry};

/// The namespace label Istio's injector selects namespaces by.
pub const INJECTION_LABEL: (&str, &str) = ("istio-injection", "enabled");
/// The namespace the injected proxies find istiod in (the charts' `global.istioNamespace`).
const ISTIO_NAMESPACE: &str = "istio-system";
/// The first Kubernetes minor version that runs native sidecars by default.
const NATIVE_SIDECARS_SINCE: u32 = 29;
/// istiod's ports: the proxies' configuration and certificates, and the injection webhook.
const XDS_PORT: u16 = 15012;
const WEBHOOK_PORT: u16 = 15017;
/// The proxy's Prometheus port and its name on the injected container.
const PROXY_METRICS: (u16, &str) = (15090, "http-envoy-prom");

impl<'m> super::Lowering<'_, 'm> {
    /// The mesh of the namespace `name`, if it is in one.
    pub fn mesh_of(&self, name: &str) -> Option<&Mesh> {
        let namespaces = self.cluster.spec.namespaces(self.cluster.name_span);
        namespaces.into_iter().find(|n| n.name == name).and_then(|n| n.mesh).map(|m| &m.value)
    }

    /// The cluster's meshed namespaces, with their mesh field.
    fn meshed(&self) -> Vec<(&str, &Spanned<Mesh>)> {
        let namespaces = self.cluster.spec.namespaces(self.cluster.name_span);
        namespaces.into_iter().filter_map(|n| Some((n.name, n.mesh?))).collect()
    }

    /// The service installed from Istio's `istiod` chart on this cluster.
    pub(crate) fn istiod(&self) -> Option<&'m Resource<Service>> {
        self.on
            .services
            .iter()
            .copied()
            .find(|s| s.spec.helm.as_ref().is_some_and(|h| h.istio_chart() == Some("istiod")))
    }

    /// Refuses each meshed namespace whose mesh could not work: no istiod on the cluster (E1245),
    /// istiod outside `istio-system` (E1246), istiod without native sidecars (E1247), or a
    /// cluster not known to run them (E1248), or a meshed namespace whose Pod Security Standard
    /// refuses Istio's privileged init container when istiod does not use its CNI agent (E1249).
    pub fn check_mesh(&mut self) {
        let meshed: Vec<(String, spec_compiler::source::Span)> =
            self.meshed().into_iter().map(|(n, m)| (n.to_string(), m.span)).collect();
        let Some((first, span)) = meshed.first().cloned() else { return };
        let cluster = self.cluster.name.clone();
        let Some(istiod) = self.istiod() else {
            self.diagnostics.push(
                Diagnostic::new(Code::E1245, span, format!("namespace `{first}` is in the mesh, and cluster `{cluster}` runs no Istio control plane"))
                    .with_primary_label("no service on the cluster installs Istio's chart `istiod`")
                    .with_note("without istiod no pod gets its proxy and no proxy its certificate: the namespace's PeerAuthentication and DestinationRules would refuse or break every connection")
                    .with_help("add `service istio-base { use std.istio.base, on = cluster.NAME, namespace = \"istio-system\" }` and `service istiod { use std.istio.istiod, … }` (import std.istio)"),
            );
            return;
        };
        let at = self.namespace_of(istiod.spec.namespace.as_ref()).to_string();
        if at != ISTIO_NAMESPACE {
            let where_ = istiod.spec.namespace.as_ref().map_or(istiod.name_span, |n| n.span);
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1246,
                    where_,
                    format!("istiod `{}` runs in namespace `{at}`, not `{ISTIO_NAMESPACE}`", istiod.name),
                )
                .with_primary_label(format!(
                    "the proxies of namespace `{first}` look for istiod in `{ISTIO_NAMESPACE}`"
                ))
                .with_help(format!(
                    "hold a namespace `{ISTIO_NAMESPACE}` on the cluster and put istiod (and `std.istio.base`) in it"
                )),
            );
        }
        let native = istiod.spec.helm.as_ref().is_some_and(|h| {
            let env = value_at(&h.values, &["pilot", "env", "ENABLE_NATIVE_SIDECARS"]);
            matches!(env, Some(Payload::Str(s)) if s == "true") || matches!(env, Some(Payload::Bool(true)))
        });
        if !native {
            self.diagnostics.push(
                Diagnostic::new(Code::E1247, istiod.name_span, format!("istiod `{}` injects its proxy as an ordinary container", istiod.name))
                    .with_primary_label("`pilot.env.ENABLE_NATIVE_SIDECARS` is not \"true\"")
                    .with_note(format!("a Job, a CronJob's run, a workflow step or a backup in namespace `{first}` would never finish: its proxy keeps running after its work is done"))
                    .with_help("use `std.istio.istiod`, or set `pilot { env { ENABLE_NATIVE_SIDECARS = \"true\" } }` in its chart values"),
            );
        }
        let cni =
            istiod.spec.helm.as_ref().is_some_and(|h| {
                matches!(value_at(&h.values, &["pilot", "cni", "enabled"]), Some(Payload::Bool(true)))
            });
        let namespaces = self.cluster.spec.namespaces(self.cluster.name_span);
        let hardened = namespaces.iter().filter(|n| n.mesh.is_some()).find_map(|n| {
            n.pod_security.filter(|p| p.value != spec_compiler::model::PodSecurity::Privileged).map(|p| (n.name, p))
        });
        if let (false, Some((name, level))) = (cni, hardened) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1249,
                    level.span,
                    format!("namespace `{name}` is in the mesh and enforces `{}` pod security", level.value.label()),
                )
                .with_primary_label("Istio's init container, which needs NET_ADMIN and NET_RAW, would be refused")
                .with_note(format!(
                    "istiod `{}` redirects the pods' traffic with an init container, not with Istio's CNI node agent",
                    istiod.name
                ))
                .with_help(
                    "add `service istio-cni { use std.istio.cni, … }` and use `std.istio.istiod { cni = true }`",
                ),
            );
        }
        let version = self.cluster.spec.version.as_ref();
        let known = version.and_then(|v| KubeVersion::parse(&v.value));
        if known.is_none_or(|v| v.minor < NATIVE_SIDECARS_SINCE) {
            let (where_, said) = match version {
                Some(v) => (v.span, format!("Kubernetes {}", v.value)),
                None => (span, "no `version`".to_string()),
            };
            self.diagnostics.push(
                Diagnostic::new(Code::E1248, where_, format!("cluster `{cluster}` has a service mesh and {said}"))
                    .with_primary_label(format!("native sidecars need Kubernetes 1.{NATIVE_SIDECARS_SINCE} or later"))
                    .with_note(
                        "the mesh's proxies run as native sidecars, so that one-shot pods in a meshed namespace finish",
                    )
                    .with_help(format!(
                        "say the cluster's version, 1.{NATIVE_SIDECARS_SINCE} or later (`version = \"1.30\"`)"
                    )),
            );
        }
    }

    /// The mesh's Istio objects, per meshed namespace.
    pub fn mesh_objects(&self) -> Vec<(String, Value)> {
        let meshed = self.meshed();
        if meshed.is_empty() {
            return Vec::new();
        }
        let plaintext = self.plaintext_ports();
        let scraped = !self.rule_groups.is_empty() || self.on.services.iter().any(|s| s.spec.metrics.is_some());
        let mut documents = Vec::new();
        for (namespace, mesh) in &meshed {
            let from = format!("from {}", self.context.provenance(mesh.span));
            let mode = mesh.value.mtls();
            let spec = json!({ "mtls": { "mode": mode.istio_mode() } });
            documents.push((
                from.clone(),
                self.istio(namespace, "security.istio.io/v1", "PeerAuthentication", "default", spec),
            ));
            if scraped {
                let spec = json!({
                    "selector": { "matchExpressions": [{ "key": "security.istio.io/tlsMode", "operator": "Exists" }] },
                    "podMetricsEndpoints": [{ "port": PROXY_METRICS.1, "path": "/stats/prometheus" }],
                });
                documents.push((
                    from,
                    self.istio(namespace, "monitoring.coreos.com/v1", "PodMonitor", "istio-proxies", spec),
                ));
            }
        }
        for service in &self.on.services {
            let namespace = self.namespace_of(service.spec.namespace.as_ref());
            let Some(mesh) = meshed.iter().find(|(n, _)| *n == namespace).map(|(_, m)| &m.value) else { continue };
            let from = format!("from {}", self.context.provenance(service.span));
            let ports = plaintext.get(service.name.as_str()).filter(|p| !p.is_empty());
            if let (Mtls::Strict, Some(ports)) = (mesh.mtls(), ports) {
                let exceptions: serde_json::Map<String, Value> =
                    ports.iter().map(|p| (p.to_string(), json!({ "mode": "PERMISSIVE" }))).collect();
                for (i, labels) in workload_selectors(service).into_iter().enumerate() {
                    let name = match i {
                        0 => format!("{}-outside-mesh", service.name),
                        i => format!("{}-outside-mesh-{i}", service.name),
                    };
                    let spec = json!({
                        "selector": { "matchLabels": labels },
                        "mtls": { "mode": "STRICT" },
                        "portLevelMtls": exceptions,
                    });
                    documents.push((
                        from.clone(),
                        self.istio(namespace, "security.istio.io/v1", "PeerAuthentication", &name, spec),
                    ));
                }
            }
            if !service.spec.ports.is_empty() {
                let host = format!("{}.{namespace}.svc.cluster.local", release_service(service));
                let spec = json!({ "host": host, "trafficPolicy": { "tls": { "mode": "ISTIO_MUTUAL" } } });
                documents.push((
                    from,
                    self.istio(namespace, "networking.istio.io/v1", "DestinationRule", &service.name, spec),
                ));
            }
        }
        documents
    }

    /// An object of `kind` named `name` in `namespace`.
    pub(crate) fn istio(&self, namespace: &str, api_version: &str, kind: &str, name: &str, spec: Value) -> Value {
        let mut metadata = self.metadata(name);
        metadata["namespace"] = json!(namespace);
        json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec })
    }

    /// Per service of a meshed namespace, the ports a client outside the mesh reaches it on.
    fn plaintext_ports(&self) -> HashMap<&str, BTreeSet<u16>> {
        let in_mesh = |namespace: &str| self.mesh_of(namespace).is_some();
        let mut ports: HashMap<&str, BTreeSet<u16>> = HashMap::new();
        let number = |service: &Resource<Service>, name: &str| service.spec.ports.get(name).map(|p| p.value.number);
        // Reached by services, jobs and steps outside the mesh, on every port but metrics-only ones.
        let mut outside_reachers: BTreeSet<&str> = BTreeSet::new();
        for service in &self.on.services {
            if !in_mesh(self.namespace_of(service.spec.namespace.as_ref())) {
                outside_reachers.extend(reached_services(&service.spec));
            }
        }
        let runs = self.runs();
        for run in runs.iter().filter(|r| !in_mesh(&r.namespace)) {
            outside_reachers.extend(run.reached.iter().map(String::as_str));
        }
        let prober = self.probed_ports();
        for service in &self.on.services {
            if !in_mesh(self.namespace_of(service.spec.namespace.as_ref())) {
                continue;
            }
            let entry = ports.entry(service.name.as_str()).or_default();
            if let Some(port) = service.spec.metrics.as_ref().and_then(|m| number(service, &m.value.port.value.0)) {
                entry.insert(port);
            }
            // Istio's gateway is in the mesh and sends mutual TLS: only other controllers need plain text.
            for route in service.spec.ingress.values().filter(|r| !crate::gateway::through_istio(&r.value)) {
                entry.extend(number(service, &route.value.port.value.0));
            }
            for exposed in service.spec.expose.ports() {
                entry.extend(number(service, exposed.port));
            }
            if outside_reachers.contains(service.name.as_str()) {
                let served = service.spec.ports.iter().filter(|(name, _)| !metrics_only(service, name));
                entry.extend(served.map(|(_, p)| p.value.number));
            }
            if let Some((prober_namespace, probed)) = &prober
                && !in_mesh(prober_namespace)
            {
                entry.extend(probed.iter().filter(|(s, _)| *s == service.name).map(|(_, p)| *p));
            }
        }
        ports
    }

    /// The cluster's blackbox exporter's namespace, and each probed service with its port.
    fn probed_ports(&self) -> Option<(&str, Vec<(&str, u16)>)> {
        let (_, prober, probes) = spec_target_prometheus::scrape::cluster_probes(self.index)
            .into_iter()
            .find(|(cluster, _, _)| *cluster == self.cluster.name)?;
        let namespace = self.namespace_of(prober.spec.namespace.as_ref());
        Some((namespace, probes.into_iter().map(|p| (p.service.name.as_str(), p.port)).collect()))
    }

    /// The `NetworkPolicy`s the mesh needs in the namespaces `denied` that deny traffic.
    pub fn mesh_policies(&self, denied: &[&str]) -> Vec<(String, Value)> {
        let Some(istiod) = self.istiod() else { return Vec::new() };
        let control = self.namespace_of(istiod.spec.namespace.as_ref());
        let istiod_pods = json!({
            "namespaceSelector": { "matchLabels": { crate::policies::NAMESPACE_LABEL: control } },
            "podSelector": { "matchLabels": { "app": "istiod" } },
        });
        let prometheus = json!({
            "namespaceSelector": {},
            "podSelector": { "matchLabels": { "app.kubernetes.io/name": "prometheus" } },
        });
        let tcp = |port: u16| port_entry(port, spec_compiler::model::types::Transport::Tcp);
        let mut documents = Vec::new();
        for (namespace, mesh) in self.meshed().into_iter().filter(|(n, _)| denied.contains(n)) {
            let from = format!("from {}", self.context.provenance(mesh.span));
            let spec = json!({
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{ "from": [prometheus], "ports": [tcp(PROXY_METRICS.0)] }],
                "egress": [{ "to": [istiod_pods], "ports": [tcp(XDS_PORT)] }],
            });
            documents.push((from, self.istio(namespace, "networking.k8s.io/v1", "NetworkPolicy", "mesh", spec)));
        }
        let control_denied = denied.contains(&control)
            && self
                .cluster
                .spec
                .namespaces(self.cluster.name_span)
                .iter()
                .any(|n| n.name == control && n.network_policy.is_some_and(|p| p.value == NetworkPolicy::Deny));
        // Istio's gateway is a proxy too: in a namespace that denies traffic, it reaches istiod.
        let gateway_denied =
            self.istio_gateway().is_some_and(|g| denied.contains(&self.namespace_of(g.spec.namespace.as_ref())));
        if control_denied && (!documents.is_empty() || gateway_denied) {
            let from = format!("from {}", self.context.provenance(istiod.span));
            let spec = json!({
                "podSelector": { "matchLabels": { "app": "istiod" } },
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    { "from": [{ "namespaceSelector": {} }], "ports": [tcp(XDS_PORT)] },
                    // The API server calls the webhook from a node's address.
                    { "ports": [tcp(WEBHOOK_PORT)] },
                ],
                "egress": [self.api_rule()],
            });
            documents.push((from, self.istio(control, "networking.k8s.io/v1", "NetworkPolicy", "mesh-control", spec)));
        }
        documents
    }
}

/// The labels selecting a service's pods, one set per release (each colour's, for blue-green):
/// Istio's workload selectors take labels only.
fn workload_selectors(service: &Resource<Service>) -> Vec<Value> {
    let selector = instance_selector(service);
    if let Some(labels) = selector.get("matchLabels") {
        return vec![labels.clone()];
    }
    let releases = selector["matchExpressions"][0]["values"].as_array().cloned().unwrap_or_default();
    let key = selector["matchExpressions"][0]["key"].clone();
    releases.into_iter().map(|r| json!({ key.as_str().unwrap_or_default(): r })).collect()
}
