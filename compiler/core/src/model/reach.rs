//! Reachability: who must reach each service placed on a node, by which way, and whether any way
//! exists. A derivation over the checked model, target-neutral: the graph rules report what no
//! way satisfies; the back ends read the same derivation ([`derive`]) to bind, open and admit
//! exactly those ways, so the check and the output agree.
//!
//! A service is reached from outside its node by the services that `needs` it from another node
//! or from a cluster, and by the audiences its `expose` names:
//! - from a node over a shared WireGuard network: the service listens on its node's address, the
//!   port is opened on that network's interface, and the peer's address is admitted;
//! - from a node over a shared network without WireGuard: the same, by source address, as no
//!   interface is known;
//! - from a k3s cluster the node serves itself: on k3s's pod bridge (`cni0`), from its pod range;
//! - from a cluster on other nodes: from each cluster node over a network it shares with the node
//!   (flannel masquerades pod traffic leaving a node to the node's own address);
//! - `expose { p = network.N }`: the members of `N` (its range, on its interface); `cluster`: the
//!   pods of the clusters the node serves; `public`: every interface.
//!
//! Invariant: linear in the estate (memberships are indexed once; each need looks at the needing
//! side's nodes and their networks only). A need no way satisfies is E0604; an `expose` naming a
//! network the node is not in, or `cluster` on a node that serves none, is E0624.

use std::collections::BTreeSet;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Audience, Cluster, Model, Network, Node, Resource, Service};
use crate::source::Span;

/// The range k3s gives pods (its default `--cluster-cidr`, which the NixOS back end keeps).
pub const K3S_POD_RANGE: &str = "10.42.0.0/16";
/// The bridge k3s's flannel attaches pods to on each node (traffic from a pod to its own node's
/// address arrives on it).
pub const K3S_POD_BRIDGE: &str = "cni0";

/// One way into a service's port from outside its node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Way {
    /// Every interface, any source.
    Public,
    /// The service listens on `bind` and admits `peer` (an address range), arriving on
    /// `interface` when one is known (a WireGuard network, the pod bridge) or, when `None`, by its
    /// source address only.
    Peer {
        /// The interface the traffic arrives on.
        interface: Option<String>,
        /// The node's own address the service listens on.
        bind: IpAddr,
        /// The admitted range: `10.0.0.5/32`, a network's range, the pod range.
        peer: String,
    },
}

/// The ways into one port of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The port's name.
    pub port: String,
    /// How it is reached.
    pub way: Way,
}

/// The ways into every service placed on a node, by service name; each list is sorted and holds
/// no repeats.
#[derive(Debug, Default)]
pub struct Reach {
    openings: FxHashMap<String, Vec<Opening>>,
}

impl Reach {
    /// The ways into the service named `service` (empty when only its own node reaches it).
    pub fn of(&self, service: &str) -> &[Opening] {
        self.openings.get(service).map_or(&[], Vec::as_slice)
    }
}

/// Memberships, indexed once.
struct Lookups<'m> {
    nodes: FxHashMap<&'m str, &'m Resource<Node>>,
    clusters: FxHashMap<&'m str, &'m Resource<Cluster>>,
    services: FxHashMap<&'m str, &'m Resource<Service>>,
    networks: FxHashMap<&'m str, &'m Resource<Network>>,
    /// Node → the networks it is a member of, in model order.
    member_of: FxHashMap<&'m str, Vec<&'m Resource<Network>>>,
    /// Node → the clusters it serves.
    serves: FxHashMap<&'m str, Vec<&'m Resource<Cluster>>>,
}

impl<'m> Lookups<'m> {
    fn new(model: &'m Model) -> Lookups<'m> {
        let mut lookups = Lookups {
            nodes: model.nodes.iter().map(|n| (n.name.as_str(), n)).collect(),
            clusters: model.clusters.iter().map(|c| (c.name.as_str(), c)).collect(),
            services: model.services.iter().map(|s| (s.name.as_str(), s)).collect(),
            networks: model.networks.iter().map(|n| (n.name.as_str(), n)).collect(),
            member_of: FxHashMap::default(),
            serves: FxHashMap::default(),
        };
        for network in &model.networks {
            for member in network.spec.members.iter() {
                lookups.member_of.entry(member.name.as_str()).or_default().push(network);
            }
        }
        for cluster in &model.clusters {
            for node in cluster.spec.servers.iter().chain(&cluster.spec.agents) {
                lookups.serves.entry(node.name.as_str()).or_default().push(cluster);
            }
        }
        lookups
    }

    fn cluster_nodes(&self, cluster: &'m Resource<Cluster>) -> Vec<&'m Resource<Node>> {
        let names = cluster.spec.servers.iter().chain(&cluster.spec.agents);
        let mut seen = BTreeSet::new();
        names
            .filter(|n| seen.insert(n.name.as_str()))
            .filter_map(|n| self.nodes.get(n.name.as_str()).copied())
            .collect()
    }

    /// The ways from node `from` to a service on node `to`, or `None` when they share no network.
    /// A shared network whose members lack addresses yields no way (reported by the network
    /// rules) but still counts as a path.
    fn between(&self, from: &Resource<Node>, to: &Resource<Node>) -> Option<Vec<Way>> {
        let theirs = self.member_of.get(to.name.as_str())?;
        let shared: Vec<&Resource<Network>> = self
            .member_of
            .get(from.name.as_str())?
            .iter()
            .copied()
            .filter(|n| theirs.iter().any(|t| t.name == n.name))
            .collect();
        if shared.is_empty() {
            return None;
        }
        let (Some(bind), Some(peer)) = (&to.spec.address, &from.spec.address) else { return Some(Vec::new()) };
        let host = host_range(peer.value.0);
        // A WireGuard network names the interface; several are all opened (any may carry it).
        let meshes: Vec<Way> = shared
            .iter()
            .filter(|n| n.spec.wireguard.is_some())
            .map(|n| Way::Peer { interface: Some(n.name.clone()), bind: bind.value.0, peer: host.clone() })
            .collect();
        if !meshes.is_empty() {
            return Some(meshes);
        }
        Some(vec![Way::Peer { interface: None, bind: bind.value.0, peer: host }])
    }
}

/// `10.0.0.5/32`, `fd00::5/128`.
pub fn host_range(address: IpAddr) -> String {
    let bits = if address.is_ipv4() { 32 } else { 128 };
    format!("{address}/{bits}")
}

/// Where a service runs, resolved.
enum At<'m> {
    Node(&'m Resource<Node>),
    Cluster(&'m Resource<Cluster>),
}

fn at<'m>(lookups: &Lookups<'m>, service: &Resource<Service>) -> Option<At<'m>> {
    let on = &service.spec.on;
    match on.kind.as_str() {
        "node" => lookups.nodes.get(on.name.as_str()).map(|n| At::Node(n)),
        "cluster" => lookups.clusters.get(on.name.as_str()).map(|c| At::Cluster(c)),
        _ => None,
    }
}

/// Derives the ways into every service on a node, and the diagnostics for needs and audiences no
/// way satisfies.
pub fn derive(model: &Model) -> (Reach, Vec<Diagnostic>) {
    let lookups = Lookups::new(model);
    let mut reach = Reach::default();
    let mut diagnostics = Vec::new();
    for service in &model.services {
        let Some(from) = at(&lookups, service) else { continue };
        for need in &service.spec.needs {
            let Some(needed) = lookups.services.get(need.name.as_str()) else { continue };
            let Some(At::Node(node)) = at(&lookups, needed) else { continue };
            let ways = match &from {
                At::Node(own) if own.name == node.name => continue,
                At::Node(own) => match lookups.between(own, node) {
                    Some(ways) => ways,
                    None => {
                        diagnostics.push(unreachable(service, needed, own, node, need.span, None));
                        continue;
                    }
                },
                At::Cluster(cluster) => {
                    let mut ways = Vec::new();
                    for member in lookups.cluster_nodes(cluster) {
                        if member.name == node.name {
                            ways.extend(pod_way(node));
                            continue;
                        }
                        match lookups.between(member, node) {
                            Some(found) => ways.extend(found),
                            None => {
                                diagnostics.push(unreachable(service, needed, member, node, need.span, Some(cluster)));
                            }
                        }
                    }
                    ways
                }
            };
            let openings = reach.openings.entry(needed.name.clone()).or_default();
            for port in needed.spec.ports.keys() {
                openings.extend(ways.iter().map(|way| Opening { port: port.clone(), way: way.clone() }));
            }
        }
        if let At::Node(node) = from {
            exposed(&lookups, service, node, &mut reach, &mut diagnostics);
        } else if let At::Cluster(cluster) = from {
            exposed_from_cluster(&lookups, service, cluster, &mut diagnostics);
        }
    }
    // Each list is put in order on its own: the map's order is never seen.
    #[allow(clippy::iter_over_hash_type)]
    for openings in reach.openings.values_mut() {
        openings.sort_by(|a, b| (&a.port, &a.way).cmp(&(&b.port, &b.way)));
        openings.dedup();
    }
    (reach, diagnostics)
}

/// The way from the pods of a k3s cluster on the service's own node.
fn pod_way(node: &Resource<Node>) -> Option<Way> {
    let bind = node.spec.address.as_ref()?.value.0;
    Some(Way::Peer { interface: Some(K3S_POD_BRIDGE.to_string()), bind, peer: K3S_POD_RANGE.to_string() })
}

fn exposed(
    lookups: &Lookups<'_>,
    service: &Resource<Service>,
    node: &Resource<Node>,
    reach: &mut Reach,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for exposed in service.spec.expose.ports() {
        if !service.spec.ports.contains_key(exposed.port) {
            continue; // E0607, reported by the port rules
        }
        let ways: Vec<Way> = match exposed.audience {
            Audience::Public => vec![Way::Public],
            Audience::Network(reference) => {
                let Some(network) = lookups.networks.get(reference.name.as_str()) else { continue };
                if !network.spec.members.iter().any(|m| m.name == node.name) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::E0624,
                            exposed.span,
                            format!(
                                "service `{}` exposes `{}` to network `{}`, which its node `{}` is not in",
                                service.name, exposed.port, network.name, node.name
                            ),
                        )
                        .with_primary_label("not a network of the service's node")
                        .with_label(network.name_span, "the network")
                        .with_help(format!(
                            "add `node.{}` to the network's members, or expose it to another",
                            node.name
                        )),
                    );
                    continue;
                }
                let Some(bind) = &node.spec.address else { continue }; // E0616 for WireGuard members
                match &network.spec.wireguard {
                    Some(wireguard) => vec![Way::Peer {
                        interface: Some(network.name.clone()),
                        bind: bind.value.0,
                        peer: format!("{}/{}", wireguard.cidr.value.address, wireguard.cidr.value.prefix),
                    }],
                    None => network
                        .spec
                        .members
                        .iter()
                        .filter(|m| m.name != node.name)
                        .filter_map(|m| lookups.nodes.get(m.name.as_str())?.spec.address.as_ref())
                        .map(|a| Way::Peer { interface: None, bind: bind.value.0, peer: host_range(a.value.0) })
                        .collect(),
                }
            }
            Audience::Cluster => {
                if lookups.serves.get(node.name.as_str()).is_none_or(Vec::is_empty) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::E0624,
                            exposed.span,
                            format!(
                                "service `{}` exposes `{}` to the cluster, but its node `{}` serves no cluster",
                                service.name, exposed.port, node.name
                            ),
                        )
                        .with_primary_label("no cluster on this node")
                        .with_label(service.spec.on.span, "the service runs here")
                        .with_help("expose it to a network the cluster's nodes share with this node, or to `public`"),
                    );
                    continue;
                }
                pod_way(node).into_iter().collect()
            }
        };
        let openings = reach.openings.entry(service.name.clone()).or_default();
        openings.extend(ways.into_iter().map(|way| Opening { port: exposed.port.to_string(), way }));
    }
}

/// On a cluster, a network audience must include one of the cluster's nodes (its load balancer
/// answers on them).
fn exposed_from_cluster(
    lookups: &Lookups<'_>,
    service: &Resource<Service>,
    cluster: &Resource<Cluster>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for exposed in service.spec.expose.ports() {
        let Audience::Network(reference) = exposed.audience else { continue };
        let Some(network) = lookups.networks.get(reference.name.as_str()) else { continue };
        let nodes = lookups.cluster_nodes(cluster);
        if network.spec.members.iter().any(|m| nodes.iter().any(|n| n.name == m.name)) {
            continue;
        }
        diagnostics.push(
            Diagnostic::new(
                Code::E0624,
                exposed.span,
                format!(
                    "service `{}` exposes `{}` to network `{}`, which none of cluster `{}`'s nodes is in",
                    service.name, exposed.port, network.name, cluster.name
                ),
            )
            .with_primary_label("no node of the cluster is in this network")
            .with_label(network.name_span, "the network")
            .with_help("add a node of the cluster to the network's members"),
        );
    }
}

fn unreachable(
    service: &Resource<Service>,
    needed: &Resource<Service>,
    from: &Resource<Node>,
    to: &Resource<Node>,
    span: Span,
    cluster: Option<&Resource<Cluster>>,
) -> Diagnostic {
    let (message, label) = match cluster {
        None => (
            format!(
                "service `{}` on node `{}` needs `{}` on node `{}`, but no network joins the two nodes",
                service.name, from.name, needed.name, to.name
            ),
            "needed across nodes",
        ),
        Some(cluster) => (
            format!(
                "service `{}` on cluster `{}` needs `{}` on node `{}`, but the cluster's node `{}` shares no network with it",
                service.name, cluster.name, needed.name, to.name, from.name
            ),
            "needed from the cluster's pods",
        ),
    };
    let diagnostic = Diagnostic::new(Code::E0604, span, message)
        .with_primary_label(label)
        .with_label(needed.spec.on.span, format!("`{}` runs on `{}`", needed.name, to.name));
    let diagnostic = match cluster {
        Some(cluster) => diagnostic.with_label(cluster.name_span, format!("pods may run on `{}`", from.name)),
        None => diagnostic,
    };
    diagnostic.with_help(format!(
        "add both nodes to a network: `network mesh {{ members = [node.{}, node.{}] … }}`",
        from.name, to.name
    ))
}
