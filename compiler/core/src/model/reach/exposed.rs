//! The audiences a service on a node or a cluster exposes its ports to (`expose { p = network.N }`,
//! `cluster`, `public`): the ways each opens into the service, and E0624 for an audience its
//! placement cannot serve (a network its node is not in, or has no address on; `cluster` on a node
//! serving none; a network none of a cluster's nodes is in).

use super::{Lookups, Opening, Reach, Way, host_range, pod_way};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Audience, Cluster, Node, Resource, Service};

pub(super) fn exposed(
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
                let Some(bind) = &node.spec.address else {
                    // A WireGuard member without an address is E0616 already.
                    if network.spec.wireguard.is_none() {
                        diagnostics.push(
                            Diagnostic::new(
                                Code::E0624,
                                exposed.span,
                                format!(
                                    "service `{}` exposes `{}` to network `{}`, but its node `{}` has no `address` on it",
                                    service.name, exposed.port, network.name, node.name
                                ),
                            )
                            .with_primary_label("no address to listen on")
                            .with_label(node.name_span, "no `address`")
                            .with_help(format!("give node `{}` its address on the network", node.name)),
                        );
                    }
                    continue;
                };
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
pub(super) fn exposed_from_cluster(
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
