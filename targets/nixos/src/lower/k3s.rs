//! k3s on NixOS: `services.k3s` for every server and agent of a k3s cluster, and the ports the
//! nodes reach each other on (k3s's "inbound rules": 6443/tcp on servers, 8472/udp for flannel's
//! VXLAN and 10250/tcp for the kubelet on every node), opened on the mesh interface. The API and
//! the kubelet are opened on k3s's pod bridge too: a pod reaches the API through the `kubernetes`
//! Service, which leads to a server's own address, and `metrics-server` and Prometheus read the
//! kubelets; from a pod on the same node that traffic comes in on the bridge, not the mesh.
//! A cluster running Istio's ingress gateway starts without k3s's bundled Traefik
//! (`--disable=traefik`): both are load balancers on 80 and 443.
//!
//! A cluster's `version` picks the k3s package: `services.k3s.package = pkgs.k3s_1_30` for
//! `"1.30"`, among the versioned packages of the nixpkgs the flake pins ([`PACKAGED_MINORS`]); a
//! version that release does not package is E1111, rather than a cluster silently running the
//! release's default k3s.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::K3S_POD_BRIDGE;
use spec_compiler::model::{Cluster, KubeVersion, Os, Resource};
use spec_compiler::source::Span;

use super::{NodeModule, path};
use crate::nix::Nix;

/// The Kubernetes API of a k3s server.
const API_PORT: u16 = 6443;
/// The kubelet, which servers reach for logs, exec and metrics.
const KUBELET_PORT: u16 = 10250;
/// flannel's VXLAN overlay between the nodes (k3s's default backend).
const FLANNEL_VXLAN_PORT: u16 = 8472;

/// The nixpkgs release the flake pins (`github:NixOS/nixpkgs/nixos-24.11`).
pub(super) const NIXPKGS_RELEASE: &str = "24.11";

/// The Kubernetes minor versions nixos-24.11 packages as `pkgs.k3s_1_<minor>`
/// (`pkgs/applications/networking/cluster/k3s/default.nix` of the release; `pkgs.k3s` is
/// `k3s_1_31` there). `k3s_1_27` left nixpkgs before the release branched (2024-06-01) and
/// `k3s_1_28` after (2024-12-15, `pkgs/top-level/aliases.nix`); `k3s_1_32` came after the release.
const PACKAGED_MINORS: [u32; 4] = [28, 29, 30, 31];

impl<'a> NodeModule<'a> {
    pub(super) fn k3s(&mut self) {
        let model = self.context.model;
        let node = self.node;
        for cluster in self.index.on(&node.name).clusters.iter().copied() {
            if cluster.spec.distribution.value != spec_compiler::model::Distribution::K3s {
                continue;
            }
            let servers: Vec<&str> = cluster.spec.servers.iter().map(|s| s.name.as_str()).collect();
            let is_server = servers.contains(&node.name.as_str());
            let is_agent = cluster.spec.agents.iter().any(|a| a.name == node.name);
            if !is_server && !is_agent {
                continue;
            }
            let first = servers.first().copied();
            let joins = first != Some(node.name.as_str());
            let span = cluster.name_span;
            let mut k3s = vec![
                ("enable".to_string(), Nix::Bool(true)),
                ("role".to_string(), Nix::Str(if is_server { "server" } else { "agent" }.into())),
            ];
            if let Some(package) = self.k3s_package(cluster) {
                k3s.push(("package".to_string(), package));
            }
            if is_server && !joins && servers.len() > 1 {
                // The first of several servers starts the embedded etcd the others join.
                k3s.push(("clusterInit".to_string(), Nix::Bool(true)));
            }
            if joins {
                let address = first.and_then(|f| self.index.node(f)).and_then(|n| n.spec.address.as_ref());
                match address {
                    Some(address) => {
                        k3s.push((
                            "serverAddr".to_string(),
                            Nix::Str(format!("https://{}:{API_PORT}", address.value.0)),
                        ));
                    }
                    None => self.k3s_needs(&cluster.name, "the first server has no `address` to join", span),
                }
            }
            match &cluster.spec.token {
                Some(token) => {
                    let file = self.secret_path(&token.name, token.span);
                    self.read_by(&token.name, "k3s.service".into());
                    k3s.push(("tokenFile".to_string(), file));
                }
                None if joins => self.k3s_needs(&cluster.name, "its nodes share no `token` secret to join with", span),
                None => {}
            }
            let mut flags = Vec::new();
            if let Some(address) = &node.spec.address {
                flags.push(Nix::Str(format!("--node-ip={}", address.value.0)));
            }
            let mesh = model
                .networks
                .iter()
                .find(|n| n.spec.wireguard.is_some() && n.spec.members.iter().any(|m| m.name == node.name));
            if let Some(mesh) = mesh {
                flags.push(Nix::Str(format!("--flannel-iface={}", mesh.name)));
            }
            if is_server && self.index.runs_istio_gateway(&cluster.name) {
                // Istio's gateway is the cluster's load balancer on 80 and 443, which k3s's
                // ServiceLB gives one load balancer only (routes of another class are E1282).
                // A server flag: `k3s agent` refuses it.
                flags.push(Nix::Str("--disable=traefik".into()));
            }
            if !flags.is_empty() {
                k3s.push(("extraFlags".to_string(), Nix::List(flags)));
            }
            self.define(path("services.k3s"), Nix::Attrs(k3s), span);
            // The API (servers), flannel's VXLAN and the kubelet answer the cluster's nodes: on
            // the mesh when there is one.
            let mut tcp = vec![KUBELET_PORT];
            if is_server {
                tcp.push(API_PORT);
            }
            match mesh {
                Some(mesh) => {
                    self.interface_tcp.entry(K3S_POD_BRIDGE.to_string()).or_default().extend(tcp.iter().copied());
                    self.interface_tcp.entry(mesh.name.clone()).or_default().extend(tcp);
                    self.interface_udp.entry(mesh.name.clone()).or_default().insert(FLANNEL_VXLAN_PORT);
                }
                None => {
                    self.tcp.extend(tcp);
                    self.udp.insert(FLANNEL_VXLAN_PORT);
                }
            }
        }
    }

    /// The k3s package of the cluster's `version` (`pkgs.k3s_1_30`), none without a version, and
    /// E1111 for a version the pinned nixpkgs does not package (reported by the cluster's first
    /// NixOS node only, once for the cluster). A version that is not `MAJOR.MINOR` is E0692's.
    fn k3s_package(&mut self, cluster: &Resource<Cluster>) -> Option<Nix> {
        let version = cluster.spec.version.as_ref()?;
        let parsed = KubeVersion::parse(&version.value)?;
        if PACKAGED_MINORS.contains(&parsed.minor) {
            return Some(Nix::Raw(format!("pkgs.k3s_1_{}", parsed.minor)));
        }
        let first_nixos = cluster
            .spec
            .servers
            .iter()
            .chain(&cluster.spec.agents)
            .find(|n| self.index.node(&n.name).is_some_and(|n| n.spec.os.value == Os::Nixos));
        if first_nixos.is_some_and(|n| n.name == self.node.name) {
            let packaged: Vec<String> = PACKAGED_MINORS.iter().map(|m| format!("`\"1.{m}\"`")).collect();
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1111,
                    version.span,
                    format!(
                        "k3s cluster `{}` runs Kubernetes {parsed}, which nixos-{NIXPKGS_RELEASE} does not package",
                        cluster.name
                    ),
                )
                .with_primary_label(format!("no `pkgs.k3s_1_{}` in nixos-{NIXPKGS_RELEASE}", parsed.minor))
                .with_note(format!(
                    "the NixOS output pins nixos-{NIXPKGS_RELEASE}, whose k3s packages are {}",
                    packaged.join(", ")
                ))
                .with_help("choose a version the release packages, or leave `version` out to run its default k3s"),
            );
        }
        None
    }

    fn k3s_needs(&mut self, cluster: &str, what: &str, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::E1105,
                span,
                format!("node `{}` cannot join k3s cluster `{cluster}`: {what}", self.node.name),
            )
            .with_primary_label("the cluster")
            .with_help("give the first server an `address`, and the cluster a join token: `token = secret.k3s-token`"),
        );
    }
}
