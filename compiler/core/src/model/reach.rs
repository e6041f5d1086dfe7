//! Reachability: who must reach each service placed on a node, by which way, and whether any way
//! exists. A derivation over the checked model, target-neutral: the graph rules report what no
//! way satisfies; the back ends read the same derivation ([`derive`]) to bind, open and admit
//! exactly those ways, so the check and the output agree.
//!
//! A service is reached from outside its node by the services that `needs` it, or read where it
//! is (`service.NAME.host`, `.port`, `.url`), from another node, a cluster or a container, and by
//! the audiences its `expose` names:
//! - from a node over a shared WireGuard network: the service listens on its node's address, the
//!   port is opened on that network's interface, and the peer's address is admitted;
//! - from a node over a shared network without WireGuard: the same, by source address, as no
//!   interface is known;
//! - from a container on the same node: on podman's bridge (`podman0`), from its range, at the
//!   host's address on it (`10.88.0.1`: the container's loopback is its own);
//! - from a k3s cluster the node serves itself: on k3s's pod bridge (`cni0`), from its pod range;
//! - from a cluster on other nodes: from each cluster node over a network it shares with the node
//!   (flannel masquerades pod traffic leaving a node to the node's own address);
//! - `expose { p = network.N }`: the members of `N` (its range, on its interface); `cluster`: the
//!   pods of the clusters the node serves; `public`: every interface.
//!
//! A service on a cluster is reached from outside it only through its load balancer: it must
//! expose a port beyond the cluster, to a side that is one of the cluster's nodes or shares a
//! network with one (the Kubernetes back end opens the load balancer).
//!
//! [`Reach::resolve`] says where each service is as a reader placed somewhere finds it: the
//! Service's DNS name inside its cluster, the node's address from elsewhere, the host on podman's
//! bridge from a container on the same node; [`Reach::resolve_on_host`] the same for the node
//! itself (its `nixos { … }` options), which reaches its own services on loopback. Reads in
//! payloads (`nixos { … }` on a node, `helm { values }` on a cluster) are ways in like needs.
//!
//! Jobs and workflow steps reach services as a service does ([`reachers`]): a job on one node
//! needing a database on another is let in by the same firewall opening and `pg_hba` line. A job
//! that needs a service elsewhere with no `retries` is E0677 (nothing orders it after the service).
//!
//! Invariant: linear in the estate (memberships are indexed once; each need looks at the needing
//! side's nodes and their networks only). A need no way satisfies is E0604; an `expose` naming a
//! network the node is not in, or `cluster` on a node that serves none, is E0624; an endpoint read
//! with nothing to write (no port) is E0625.

mod colours;
mod exposed;
mod reachers;
mod reads;

pub use colours::ColourWay;
pub use reachers::runs_on_host;
pub use reads::{TextRead, reached_services, text_reads};

use std::collections::BTreeSet;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{Endpoint, EndpointPart, PlacementRef};
use crate::model::{Audience, Cluster, Model, Network, Node, Resource, Service};
use crate::source::{FileId, Span};
use reachers::Reacher;

/// The range podman's default network gives containers (rootful, as the NixOS oci-containers
/// module and the systemd back end run them).
pub const PODMAN_RANGE: &str = "10.88.0.0/16";
/// The bridge of podman's default network (a container's traffic to its own node's address
/// arrives on it).
pub const PODMAN_BRIDGE: &str = "podman0";
/// The host's own address on podman's default bridge: where a container reaches its node,
/// whether or not the node has an address of its own.
pub const PODMAN_GATEWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 88, 0, 1));
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
/// no repeats. Also where every service is, for `service.NAME.host`, `.port` and `.url`.
#[derive(Debug, Default)]
pub struct Reach {
    openings: FxHashMap<String, Vec<Opening>>,
    located: FxHashMap<String, Located>,
    /// The colours of each blue-green service whose colours are nodes ([`colours`]).
    colours: FxHashMap<String, Vec<ColourWay>>,
    /// Node → the blue-green services placed elsewhere that run a colour on it, in model order.
    guests: FxHashMap<String, Vec<String>>,
}

/// Where a service is, as its clients find it.
#[derive(Debug)]
struct Located {
    at: Location,
    /// Its first declared port.
    port: Option<u16>,
    /// Every declared port by name, for `.port.NAME` and `.url.NAME`.
    ports: Vec<(String, u16)>,
    /// Its URL scheme: `scheme`, or the name of its first port.
    scheme: Option<String>,
    /// How many members its replicas are (`members { size }`), for `service.NAME.member[I]`.
    members: Option<u32>,
}

#[derive(Debug)]
enum Location {
    /// On a node, reached at its address (loopback from the node itself).
    Node { name: String, address: Option<IpAddr> },
    /// On a cluster, reached at its Service's DNS name from inside, or through the cluster's load
    /// balancer on its first server's address when a port is exposed beyond the cluster.
    Cluster { name: String, dns: String, balancer: Option<IpAddr>, members_domain: String },
}

impl Reach {
    /// The ways into the service named `service` (empty when only its own node reaches it).
    pub fn of(&self, service: &str) -> &[Opening] {
        self.openings.get(service).map_or(&[], Vec::as_slice)
    }

    /// What `endpoint` reads, seen from something placed `from`: the text a target writes in
    /// its place, or why it has none.
    pub fn resolve(&self, from: &PlacementRef, endpoint: &Endpoint) -> Result<String, String> {
        self.resolve_as(from, endpoint, Reader::Workload)
    }

    /// [`Reach::resolve`] for the node itself reading (its NixOS options), which reaches a service
    /// on the same node on loopback, where every service there listens.
    pub fn resolve_on_host(&self, from: &PlacementRef, endpoint: &Endpoint) -> Result<String, String> {
        self.resolve_as(from, endpoint, Reader::Host)
    }

    fn resolve_as(&self, from: &PlacementRef, endpoint: &Endpoint, reader: Reader) -> Result<String, String> {
        let name = &endpoint.0.name;
        let Some(located) = self.located.get(name) else { return Err(format!("no service `{name}`")) };
        let host = || match &located.at {
            Location::Node { name: node, .. }
                if from.kind == "node" && from.name == *node && reader == Reader::Host =>
            {
                Ok("127.0.0.1".to_string())
            }
            // A container on the same node reaches it on podman's bridge: its loopback is its own.
            Location::Node { name: node, .. } if from.kind == "node" && from.name == *node => {
                Ok(PODMAN_GATEWAY.to_string())
            }
            Location::Node { address: Some(address), .. } => Ok(address.to_string()),
            Location::Node { name: node, address: None } => Err(format!("its node `{node}` has no `address`")),
            Location::Cluster { name: cluster, dns, .. } if from.kind == "cluster" && from.name == *cluster => {
                Ok(dns.clone())
            }
            Location::Cluster { balancer: Some(address), .. } => Ok(address.to_string()),
            Location::Cluster { name: cluster, .. } => Err(format!(
                "it runs on cluster `{cluster}` and exposes no port beyond it (or the cluster's first server has no `address`)"
            )),
        };
        // One member: its stable name inside its cluster (a StatefulSet's pod behind the headless
        // `<service>-members` Service), its node's address where it is a service of a node.
        let host = || match (endpoint.member(), &located.at) {
            (None, _) => host(),
            (Some(index), _) if located.members.is_none_or(|size| index >= size) => {
                Err(member_missing(name, index, located.members))
            }
            (Some(_), Location::Node { .. }) => host(),
            (Some(index), Location::Cluster { name: cluster, members_domain, .. })
                if from.kind == "cluster" && from.name == *cluster =>
            {
                Ok(format!("{name}-{index}.{members_domain}"))
            }
            (Some(_), Location::Cluster { name: cluster, .. }) => {
                Err(format!("a member of `{name}` is reached by its stable name inside cluster `{cluster}` only"))
            }
        };
        let port = || match endpoint.port_name() {
            Some(wanted) => located
                .ports
                .iter()
                .find(|(port, _)| port == wanted)
                .map(|(_, number)| *number)
                .ok_or_else(|| format!("service `{name}` declares no port `{wanted}`")),
            None => located.port.ok_or_else(|| format!("service `{name}` declares no port")),
        };
        match endpoint.part() {
            EndpointPart::Host => host(),
            EndpointPart::Port => port().map(|p| p.to_string()),
            EndpointPart::Url => {
                let (host, port) = (host()?, port()?);
                let scheme = located.scheme.as_deref().unwrap_or("tcp");
                let host = if host.contains(':') { format!("[{host}]") } else { host };
                Ok(format!("{scheme}://{host}:{port}"))
            }
        }
    }
}

/// Why `service.NAME.member[index]` names no member: the service has none, or fewer.
fn member_missing(name: &str, index: u32, members: Option<u32>) -> String {
    match members {
        None => format!("service `{name}` has no members"),
        Some(size) => {
            format!("service `{name}` has {size} member{}, no member {index}", if size == 1 { "" } else { "s" })
        }
    }
}

/// Who reads where a service is: a workload (a container, a pod), or the node itself (its NixOS
/// options), which reaches its own services on loopback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reader {
    Workload,
    Host,
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

    /// The ways from node `from` to a service on node `to`, or the gap when there is none. A
    /// shared WireGuard network whose members lack addresses yields no way and no gap (E0616
    /// reports it).
    fn between<'n>(&self, from: &'n Resource<Node>, to: &'n Resource<Node>) -> Result<Vec<Way>, Gap<'n>> {
        let mine = self.member_of.get(from.name.as_str()).ok_or(Gap::NoNetwork)?;
        let theirs = self.member_of.get(to.name.as_str()).ok_or(Gap::NoNetwork)?;
        let shared: Vec<&Resource<Network>> =
            mine.iter().copied().filter(|n| theirs.iter().any(|t| t.name == n.name)).collect();
        if shared.is_empty() {
            return Err(Gap::NoNetwork);
        }
        let (Some(bind), Some(peer)) = (&to.spec.address, &from.spec.address) else {
            if shared.iter().any(|n| n.spec.wireguard.is_some()) {
                return Ok(Vec::new());
            }
            let missing = if to.spec.address.is_none() { to } else { from };
            return Err(Gap::NoAddress(missing));
        };
        let host = host_range(peer.value.0);
        // A WireGuard network names the interface; several are all opened (any may carry it).
        let meshes: Vec<Way> = shared
            .iter()
            .filter(|n| n.spec.wireguard.is_some())
            .map(|n| Way::Peer { interface: Some(n.name.clone()), bind: bind.value.0, peer: host.clone() })
            .collect();
        if !meshes.is_empty() {
            return Ok(meshes);
        }
        Ok(vec![Way::Peer { interface: None, bind: bind.value.0, peer: host }])
    }
}

/// Why no way joins two nodes.
enum Gap<'n> {
    /// They share no network.
    NoNetwork,
    /// They share a network without WireGuard, but this node has no address on it.
    NoAddress(&'n Resource<Node>),
}

/// `10.0.0.5/32`, `fd00::5/128`.
pub fn host_range(address: IpAddr) -> String {
    let bits = if address.is_ipv4() { 32 } else { 128 };
    format!("{address}/{bits}")
}

/// Where something runs, resolved.
enum At<'m> {
    Node(&'m Resource<Node>),
    Cluster(&'m Resource<Cluster>),
}

/// Derives the ways into every service on a node from everything that reaches it (services, jobs
/// and workflow steps, [`reachers`]), and the diagnostics for needs and audiences no way satisfies.
/// `stdlib` lists the stdlib's files, which tell a preset's NixOS options from the user's
/// ([`runs_on_host`]).
pub fn derive(model: &Model, stdlib: &[FileId]) -> (Reach, Vec<Diagnostic>) {
    let lookups = Lookups::new(model);
    let mut reach = Reach::default();
    let mut diagnostics = Vec::new();
    for service in &model.services {
        if let Some(located) = locate(&lookups, service) {
            reach.located.insert(service.name.clone(), located);
        }
    }
    for service in &model.services {
        let Some(reacher) = reachers::service(&lookups, service, stdlib) else { continue };
        reach_from(&lookups, &reacher, &mut reach, &mut diagnostics);
        colours::derive(&lookups, service, stdlib, &mut reach, &mut diagnostics);
        if let At::Node(node) = reacher.at {
            exposed::exposed(&lookups, service, node, &mut reach, &mut diagnostics);
        } else if let At::Cluster(cluster) = reacher.at {
            exposed::exposed_from_cluster(&lookups, service, cluster, &mut diagnostics);
        }
    }
    for reacher in reachers::jobs_and_steps(model, &lookups, &mut diagnostics) {
        reach_from(&lookups, &reacher, &mut reach, &mut diagnostics);
    }
    reads::endpoints(model, &reach, &mut diagnostics);
    // Each list is put in order on its own: the map's order is never seen.
    #[allow(clippy::iter_over_hash_type)]
    for openings in reach.openings.values_mut() {
        openings.sort_by(|a, b| (&a.port, &a.way).cmp(&(&b.port, &b.way)));
        openings.dedup();
    }
    (reach, diagnostics)
}

/// The ways from `reacher` into each service it reaches, added to `reach`; what no way satisfies
/// is reported.
fn reach_from(lookups: &Lookups<'_>, reacher: &Reacher<'_>, reach: &mut Reach, diagnostics: &mut Vec<Diagnostic>) {
    for &(name, span, reader) in &reacher.reached {
        let Some(needed) = lookups.services.get(name) else { continue };
        let node = match reachers::at(lookups, &needed.spec.on) {
            Some(At::Node(node)) => node,
            Some(At::Cluster(cluster)) => {
                diagnostics.extend(into_cluster(lookups, reacher, needed, cluster, span));
                continue;
            }
            None => continue,
        };
        let ways = match &reacher.at {
            // A container on the same node is on podman's bridge: it reaches the node's address,
            // never the host's loopback. The host itself reaches its services on loopback.
            At::Node(own) if own.name == node.name => match (reacher.container, reader) {
                (true, Reader::Workload) => vec![container_way()],
                _ => continue,
            },
            At::Node(own) => match lookups.between(own, node) {
                Ok(ways) => ways,
                Err(Gap::NoNetwork) => {
                    diagnostics.push(unreachable(reacher, needed, own, node, span, None));
                    continue;
                }
                Err(Gap::NoAddress(missing)) => {
                    diagnostics.push(no_address(reacher, needed, missing, span));
                    continue;
                }
            },
            At::Cluster(cluster) => {
                let mut ways = Vec::new();
                for member in lookups.cluster_nodes(cluster) {
                    if member.name == node.name {
                        match pod_way(node) {
                            Some(way) => ways.push(way),
                            None => diagnostics.push(no_address(reacher, needed, node, span)),
                        }
                        continue;
                    }
                    match lookups.between(member, node) {
                        Ok(found) => ways.extend(found),
                        Err(Gap::NoNetwork) => {
                            diagnostics.push(unreachable(reacher, needed, member, node, span, Some(cluster)));
                        }
                        Err(Gap::NoAddress(missing)) => diagnostics.push(no_address(reacher, needed, missing, span)),
                    }
                }
                ways
            }
        };
        let openings = reach.openings.entry(needed.name.clone()).or_default();
        for port in needed.spec.ports.keys().filter(|port| !metrics_only(needed, port)) {
            openings.extend(ways.iter().map(|way| Opening { port: port.clone(), way: way.clone() }));
        }
    }
}

impl Reach {
    /// E0772 for `service.NAME.member[I]` of a service without members, E0771 for an index at or
    /// beyond their number; `None` when the member exists or no member is named.
    pub(super) fn member_problem(&self, key: &str, endpoint: &Endpoint, span: Span) -> Option<Diagnostic> {
        let index = endpoint.member()?;
        let located = self.located.get(&endpoint.0.name)?;
        let written = endpoint.written();
        let name = &endpoint.0.name;
        match located.members {
            None => Some(
                Diagnostic::new(Code::E0772, span, format!("`{key}` reads `{written}`, but service `{name}` has no members"))
                    .with_primary_label("names a member")
                    .with_note("only a service whose replicas are members (`members { size }`, from a preset such as `std.nats.cluster`) has members with stable names")
                    .with_help(format!("read where the whole service is: `service.{name}.url`")),
            ),
            Some(size) if index >= size => Some(
                Diagnostic::new(
                    Code::E0771,
                    span,
                    format!("`{key}` reads `{written}`, but service `{name}` has {size} member{}", if size == 1 { "" } else { "s" }),
                )
                .with_primary_label(format!("member {index} does not exist"))
                .with_help(format!("members are counted from 0: index 0 to {}", size - 1)),
            ),
            Some(_) => None,
        }
    }
}

/// A service on a cluster is reached from outside it only through its load balancer on the
/// cluster's nodes: it must expose a port beyond the cluster, and the needing side must be one of
/// those nodes or share a network with one. From inside the same cluster it is its Service.
fn into_cluster(
    lookups: &Lookups<'_>,
    reacher: &Reacher<'_>,
    needed: &Resource<Service>,
    cluster: &Resource<Cluster>,
    span: Span,
) -> Option<Diagnostic> {
    let sides: Vec<&Resource<Node>> = match &reacher.at {
        At::Cluster(own) if own.name == cluster.name => return None,
        At::Cluster(own) => lookups.cluster_nodes(own),
        At::Node(node) => vec![*node],
    };
    let nodes = lookups.cluster_nodes(cluster);
    let beyond = needed.spec.expose.ports().iter().any(|e| *e.audience != Audience::Cluster);
    let joined = sides.iter().all(|side| {
        nodes.iter().any(|n| n.name == side.name) || nodes.iter().any(|n| lookups.between(side, n).is_ok())
    });
    let why = match (beyond, joined) {
        (true, true) => return None,
        (false, _) => format!("`{}` exposes no port beyond cluster `{}`", needed.name, cluster.name),
        (true, false) => format!("no network joins it to a node of cluster `{}`", cluster.name),
    };
    Some(
        Diagnostic::new(
            Code::E0604,
            span,
            format!("{} needs `{}` on cluster `{}`, but {why}", reacher.who, needed.name, cluster.name),
        )
        .with_primary_label("needed from outside the cluster")
        .with_label(needed.spec.on.span, format!("`{}` runs on `{}`", needed.name, cluster.name))
        .with_help(format!(
            "expose its port beyond the cluster (`expose {{ PORT = network.NAME }}`) on a network the needing side shares with the cluster's nodes, or run `{}` on the cluster",
            reacher.name
        )),
    )
}

/// Whether `port` of `service` serves only its metrics: the port `metrics` names, when it is not
/// the service's first port (which `service.NAME.port` reads, as Prometheus's own API is). A need
/// does not open it; the Prometheus that scrapes it is let in by the monitoring lowering.
pub fn metrics_only(service: &Resource<Service>, port: &str) -> bool {
    let first = service.spec.ports.keys().next().map(String::as_str);
    service.spec.metrics.as_ref().is_some_and(|m| m.port.value.0 == port) && first != Some(port)
}

/// Where a service is found, from its placement, ports and (on a cluster) its Helm release.
fn locate(lookups: &Lookups<'_>, service: &Resource<Service>) -> Option<Located> {
    let first = service.spec.ports.iter().next();
    let port = first.map(|(_, p)| p.number);
    let ports = service.spec.ports.iter().map(|(name, p)| (name.clone(), p.number)).collect();
    let scheme = service.spec.scheme.as_ref().map(|s| s.value.clone()).or_else(|| first.map(|(n, _)| n.clone()));
    let at = match reachers::at(lookups, &service.spec.on)? {
        At::Node(node) => {
            Location::Node { name: node.name.clone(), address: node.spec.address.as_ref().map(|a| a.value.0) }
        }
        At::Cluster(cluster) => {
            // The namespace the service is in (an unknown choice is E0630, reported elsewhere).
            let namespaces = cluster.spec.namespaces(cluster.span);
            let chosen = cluster.spec.namespace_of(service.spec.namespace.as_ref()).ok();
            let namespace = chosen.and_then(|i| namespaces.get(i)).map_or(cluster.spec.first_namespace(), |n| n.name);
            let beyond = service.spec.expose.ports().iter().any(|e| *e.audience != Audience::Cluster);
            let balancer = cluster
                .spec
                .servers
                .first()
                .and_then(|s| lookups.nodes.get(s.name.as_str()))
                .and_then(|n| n.spec.address.as_ref())
                .map(|a| a.value.0)
                .filter(|_| beyond);
            Location::Cluster {
                name: cluster.name.clone(),
                dns: format!("{}.{namespace}.svc.cluster.local", release_service(service)),
                balancer,
                members_domain: format!("{}-members.{namespace}.svc.cluster.local", service.name),
            }
        }
    };
    let members = service.spec.members.as_ref().map(|m| m.value.size());
    Some(Located { at, port, ports, scheme, members })
}

/// The name of the Kubernetes Service a release creates: the generic chart names it after the
/// release (the service); another chart the one its `helm.service` names, else by Helm's
/// full-name convention, the release name when it holds the chart's name and `release-chart`
/// otherwise.
pub fn release_service(service: &Resource<Service>) -> String {
    let Some(helm) = &service.spec.helm else { return service.name.clone() };
    if let Some(named) = &helm.service {
        return named.value.replace("{release}", &service.name);
    }
    let chart = helm
        .name
        .as_ref()
        .map(|n| n.value.as_str())
        .unwrap_or_else(|| helm.chart.value.trim_end_matches('/').rsplit('/').next().unwrap_or(&helm.chart.value));
    if service.name.contains(chart) { service.name.clone() } else { format!("{}-{chart}", service.name) }
}

/// The way from a container on the service's own node: podman's default bridge and range.
fn container_way() -> Way {
    Way::Peer { interface: Some(PODMAN_BRIDGE.to_string()), bind: PODMAN_GATEWAY, peer: PODMAN_RANGE.to_string() }
}

/// The way from the pods of a k3s cluster on the service's own node.
fn pod_way(node: &Resource<Node>) -> Option<Way> {
    let bind = node.spec.address.as_ref()?.value.0;
    Some(Way::Peer { interface: Some(K3S_POD_BRIDGE.to_string()), bind, peer: K3S_POD_RANGE.to_string() })
}

/// E0604 for a need whose only way lacks a node's address (a network without WireGuard, or the
/// pods of a cluster on the needed service's own node).
fn no_address(reacher: &Reacher<'_>, needed: &Resource<Service>, node: &Resource<Node>, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0604,
        span,
        format!("{} needs `{}`, but node `{}` has no `address` to reach it by", reacher.who, needed.name, node.name),
    )
    .with_primary_label("no address on the way")
    .with_label(node.name_span, "no `address`")
    .with_help(format!("give node `{}` its address on the network it shares with the other side", node.name))
}

fn unreachable(
    reacher: &Reacher<'_>,
    needed: &Resource<Service>,
    from: &Resource<Node>,
    to: &Resource<Node>,
    span: Span,
    cluster: Option<&Resource<Cluster>>,
) -> Diagnostic {
    let (message, label) = match cluster {
        None => (
            format!(
                "{} on node `{}` needs `{}` on node `{}`, but no network joins the two nodes",
                reacher.who, from.name, needed.name, to.name
            ),
            "needed across nodes",
        ),
        Some(cluster) => (
            format!(
                "{} on cluster `{}` needs `{}` on node `{}`, but the cluster's node `{}` shares no network with it",
                reacher.who, cluster.name, needed.name, to.name, from.name
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
