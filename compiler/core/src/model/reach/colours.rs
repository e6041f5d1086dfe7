//! Blue-green colours on nodes (`blue-green { blue = node.standby, green = node.prod, active =
//! green }`): each colour runs the service's image on its own node, and the switch on the
//! service's node (`on`, where its clients find it) reaches each colour there.
//!
//! - The way from the switch to each colour ([`ColourWay`]): on the switch's own node, loopback;
//!   on another node, the ways [`Lookups::between`] finds from the switch's node (over a shared
//!   WireGuard network: the colour's node address, that interface, the switch node's address
//!   admitted). A colour's node no network joins to the switch's is E0722.
//! - A colour on another node reaches what the service reaches, from there: the service's reacher
//!   placed on that node, so the firewall, the bind and the `pg_hba` lines of every dependency
//!   admit both colours' nodes.
//!
//! Only rollouts whose two colours are nodes of the estate count here; the graph rules report
//! the rest (E0201, E0720, E0721).

use std::net::{IpAddr, Ipv4Addr};

use super::reachers::{self, Reacher};
use super::{At, Gap, Lookups, Reach, Way, reach_from};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Colour, Resource, Service};
use crate::source::FileId;

/// How the switch of a blue-green service reaches one colour on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColourWay {
    /// The colour.
    pub colour: Colour,
    /// The node it runs on.
    pub node: String,
    /// Where the colour listens and the switch connects: loopback on the switch's own node, the
    /// colour node's address elsewhere.
    pub bind: IpAddr,
    /// The ways into the colour's node from the switch's (empty on the switch's own node).
    pub ways: Vec<Way>,
}

impl Reach {
    /// The colours of a blue-green service whose colours are nodes, blue first (empty for any
    /// other service).
    pub fn colours_of(&self, service: &str) -> &[ColourWay] {
        self.colours.get(service).map_or(&[], Vec::as_slice)
    }

    /// The blue-green services placed on another node that run a colour on `node`, in model
    /// order.
    pub fn colour_guests(&self, node: &str) -> &[String] {
        self.guests.get(node).map_or(&[], Vec::as_slice)
    }
}

/// Derives the way to each colour of `service` (when its colours are nodes) and lets each colour
/// on another node reach what the service reaches.
pub(super) fn derive(
    lookups: &Lookups<'_>,
    service: &Resource<Service>,
    stdlib: &[FileId],
    reach: &mut Reach,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(rollout) = &service.spec.rollout else { return };
    let colours = rollout.value.colour_nodes();
    let Some(At::Node(switch)) = reachers::at(lookups, &service.spec.on) else { return };
    let nodes: Vec<_> = colours.iter().filter_map(|(c, n)| Some((*c, *lookups.nodes.get(n.name.as_str())?))).collect();
    if nodes.len() != 2 || nodes[0].1.name == nodes[1].1.name {
        return; // E0201, E0721
    }
    let mut found = Vec::new();
    for (colour, node) in nodes {
        if node.name == switch.name {
            let bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
            found.push(ColourWay { colour, node: node.name.clone(), bind, ways: Vec::new() });
            continue;
        }
        let written = colours.iter().find(|(c, _)| *c == colour).map_or(rollout.span, |(_, n)| n.span);
        match lookups.between(switch, node) {
            Ok(ways) => {
                let bind = node.spec.address.as_ref().map(|a| a.value.0);
                let Some(bind) = bind else { continue }; // a WireGuard member without one: E0616
                found.push(ColourWay { colour, node: node.name.clone(), bind, ways });
                reach.guests.entry(node.name.clone()).or_default().push(service.name.clone());
            }
            Err(gap) => {
                let why = match gap {
                    Gap::NoNetwork => "no network joins the two nodes".to_string(),
                    Gap::NoAddress(missing) => format!("node `{}` has no `address` on the network", missing.name),
                };
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0722,
                        written,
                        format!(
                            "the {} colour of service `{}` runs on node `{}`, which its switch on node `{}` cannot reach: {why}",
                            colour.name(),
                            service.name,
                            node.name,
                            switch.name
                        ),
                    )
                    .with_primary_label("a colour the switch cannot reach")
                    .with_label(service.spec.on.span, "the switch runs here")
                    .with_help(format!(
                        "add both nodes to a network: `network mesh {{ members = [node.{}, node.{}] … }}`",
                        switch.name, node.name
                    )),
                );
                continue;
            }
        }
        // The colour reaches, from its node, what the service reaches.
        if let Some(mut reacher) = reachers::service(lookups, service, stdlib) {
            reacher.at = At::Node(node);
            reacher.who = format!("the {} colour of service `{}`", colour.name(), service.name);
            let reacher: Reacher<'_> = reacher;
            reach_from(lookups, &reacher, reach, diagnostics);
        }
    }
    reach.colours.insert(service.name.clone(), found);
}
