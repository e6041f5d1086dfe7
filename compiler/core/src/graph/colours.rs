//! Blue-green rollouts whose colours are nodes (`blue-green { blue = node.standby, green =
//! node.prod, active = green }`): the service's image runs on each colour's node, and the
//! service's own node (where it is placed, `on`) serves its ports through a switch reaching the
//! active colour over the network that joins them. Checked here, before any back end:
//!
//! A colour naming a node the estate does not declare is E0201, as every reference to one is;
//! the rules below skip it.
//! - E0720 colour-nodes-misplaced: one colour is a node and the other an image (or left out); the
//!   service is not a container placed on a NixOS node (a cluster schedules its own pods; a host
//!   that is not NixOS, or NixOS options, run one instance); a colour's node is not NixOS; or the
//!   service's node is neither colour's (the switch runs beside one colour, which the node's own
//!   units are ordered after).
//! - E0721 colour-nodes-same: both colours name the same node.
//! - E0723 colour-nodes-stateful: the service mounts storage, which would be two datasets on two
//!   nodes, each colour writing its own copy, and a cut-over would lose the active one's writes.
//!
//! A colour's node that no network joins to the switch's node is E0722, reported by the
//! reachability derivation ([`crate::model::reach`]), which finds the way.
//!
//! One pass over the services; each colour is a map lookup.

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::reach::runs_on_host;
use crate::model::{Os, Resource, Rollout, Service};

/// Checks the node colours of every blue-green service.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        let Some(rollout) = &service.spec.rollout else { continue };
        let Rollout::BlueGreen { blue, green, .. } = &rollout.value else { continue };
        let colours = [("blue", blue), ("green", green)];
        let named: Vec<_> = colours
            .iter()
            .filter_map(|(colour, release)| {
                let release = release.as_ref()?;
                Some((*colour, release.value.node()?, release.span))
            })
            .collect();
        if named.is_empty() {
            continue;
        }
        let mut known = true;
        for (colour, node, span) in &named {
            if let Some(found) = estate.node(&node.name).filter(|n| n.spec.os.value != Os::Nixos) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0720,
                        *span,
                        format!(
                            "the {colour} colour of service `{}` runs on node `{}`, which is not NixOS",
                            service.name, found.name
                        ),
                    )
                    .with_primary_label("a colour's container and its switch are NixOS options")
                    .with_label(found.spec.os.span, "not NixOS")
                    .with_help("name a NixOS node for the colour"),
                );
            }
            known &= estate.node(&node.name).is_some();
        }
        if named.len() == 1 {
            let (colour, _, span) = named[0];
            let other = if colour == "blue" { "green" } else { "blue" };
            let other_release = colours.iter().find(|(c, _)| *c == other).and_then(|(_, r)| r.as_ref());
            let (message, label_span) = match other_release {
                Some(release) => (format!("the {other} colour is an image, not a node"), release.span),
                None => (format!("the {other} colour names no node"), rollout.span),
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::E0720,
                    span,
                    format!("the {colour} colour of service `{}` is a node, but {message}", service.name),
                )
                .with_primary_label("a colour on a node of its own")
                .with_label(label_span, format!("the {other} colour"))
                .with_note("colours are either two images on the service's node, or the service's image on two nodes")
                .with_help(format!("name the {other} colour's node too (`{other} = node.NAME`)")),
            );
            continue;
        }
        misplaced(estate, service, rollout.span, diagnostics);
        let on = &service.spec.on;
        if known && on.kind == "node" && !named.iter().any(|(_, node, _)| node.name == on.name) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0720,
                    rollout.span,
                    format!(
                        "the colours of service `{}` run on nodes `{}` and `{}`, neither of them its node `{}`",
                        service.name, named[0].1.name, named[1].1.name, on.name
                    ),
                )
                .with_primary_label("colours on other nodes")
                .with_label(on.span, "the switch runs here")
                .with_note("the switch runs on the service's node, beside one colour: the node its clients reach")
                .with_help(format!("place the service on one colour's node (`on = node.{}`)", named[0].1.name)),
            );
        }
        if let [(_, blue, _), (_, green, green_span)] = named.as_slice()
            && known
            && blue.name == green.name
        {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0721,
                    *green_span,
                    format!("both colours of service `{}` run on node `{}`", service.name, blue.name),
                )
                .with_primary_label("the same node as blue")
                .with_label(named[0].2, "blue")
                .with_note("two colours on one node are two images: `blue-green { active, blue = \"IMAGE\" }`")
                .with_help("name another node for one colour, or write the colours as images"),
            );
        }
        for storage in service.spec.volumes.values() {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0723,
                    storage.span,
                    format!("service `{}`, whose colours are nodes, mounts storage `{}`", service.name, storage.name),
                )
                .with_primary_label("each colour's node would hold a copy of its own")
                .with_label(rollout.span, "colours on two nodes")
                .with_note("a cut-over would leave the active colour's writes on the other node")
                .with_help("keep the state in a service of its own that both colours need"),
            );
        }
    }
}

/// E0720 when the service is not a container on a NixOS node: the only place node colours run.
fn misplaced(
    estate: &EstateGraph<'_>,
    service: &Resource<Service>,
    span: crate::source::Span,
    out: &mut Vec<Diagnostic>,
) {
    let why = match estate.place(&service.spec.on) {
        Some(Place::Cluster(cluster)) => {
            format!("it runs on cluster `{}`, which places its own pods (colours are images there)", cluster.name)
        }
        Some(Place::Node(node)) if node.spec.os.value != Os::Nixos => {
            format!("its node `{}` is not NixOS (a host runs one unit per service)", node.name)
        }
        Some(Place::Node(node)) if runs_on_host(&service.spec, &node.spec, |s| estate.in_stdlib(s)) => {
            format!("its NixOS options run it on node `{}`, one instance", node.name)
        }
        Some(Place::Node(_)) if service.spec.image.is_none() => "it has no image to run".to_string(),
        _ => return,
    };
    out.push(
        Diagnostic::new(Code::E0720, span, format!("the colours of service `{}` are nodes, but {why}", service.name))
            .with_primary_label("colours on nodes")
            .with_label(service.spec.on.span, "placed here")
            .with_help("place the service as a container on a NixOS node, or write its colours as images"),
    );
}
