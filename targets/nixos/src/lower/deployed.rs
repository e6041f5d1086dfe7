//! Which NixOS nodes a build writes (modules, flake and hive).
//!
//! A NixOS module is the whole configuration of its host: a deploy (`colmena apply`,
//! `nixos-rebuild switch`) of a module without k3s switches k3s off there. So in an estate with
//! environments, each run (the base estate, or one environment) writes only the nodes it uses,
//! and deploying one environment's hive never touches another environment's hosts: a node is
//! used when something of the run is placed on it (a service, storage, a backup's data, a
//! workflow, a job, a colour of a blue-green service), when it serves a cluster of the run (its
//! `servers` or `agents`), or when a backup of the run replicates to it. Being a member of a
//! network is not a use: a mesh joins the hosts of every environment. An estate without
//! environments writes every NixOS node, used or not, as it always did.
//!
//! A NixOS node of an estate with environments that neither the base estate uses nor any
//! environment names (`node.NAME`, read from the overlays' syntax, see
//! [`spec_compiler::model::Environments`]) is written by no build: W1105, reported by the base
//! estate's run.

use std::collections::BTreeSet;

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::Reach;
use spec_compiler::model::{Model, Node, Os, Resource};
use spec_compiler::target::Index;

use super::Replicas;

/// The NixOS nodes the run of `model` writes, in model order.
pub(super) fn written<'m>(
    model: &'m Model,
    index: &Index<'m>,
    reach: &Reach,
    replicas: &Replicas<'_>,
) -> Vec<&'m Resource<Node>> {
    let nixos = model.nodes.iter().filter(|n| n.spec.os.value == Os::Nixos);
    if model.environments.declared.is_empty() {
        return nixos.collect();
    }
    nixos.filter(|n| used(&n.name, index, reach, replicas)).collect()
}

/// Whether something of the run is placed on the node, it serves a cluster, or it receives a
/// replica.
fn used(node: &str, index: &Index<'_>, reach: &Reach, replicas: &Replicas<'_>) -> bool {
    let on = index.on(node);
    !(on.services.is_empty()
        && on.storage.is_empty()
        && on.backups.is_empty()
        && on.workflows.is_empty()
        && on.jobs.is_empty()
        && on.clusters.is_empty())
        || replicas.contains_key(node)
        || !reach.colour_guests(node).is_empty()
}

/// W1105 for each NixOS node no build writes: unused by the base estate (whose run this must
/// be) and named by no environment.
pub(super) fn unused(model: &Model, written: &[&Resource<Node>]) -> Vec<Diagnostic> {
    let environments = &model.environments;
    if environments.declared.is_empty() || environments.applied.is_some() || environments.names_any_node {
        return Vec::new();
    }
    let written: BTreeSet<&str> = written.iter().map(|n| n.name.as_str()).collect();
    let list = environments.declared.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
    model
        .nodes
        .iter()
        .filter(|n| n.spec.os.value == Os::Nixos)
        .filter(|n| !written.contains(n.name.as_str()) && !environments.named_nodes.contains(&n.name))
        .map(|node| {
            Diagnostic::new(
                Code::W1105,
                node.name_span,
                format!("NixOS node `{}` is used by no environment: no build writes its module", node.name),
            )
            .with_primary_label("nothing is placed on it, and it serves no cluster")
            .with_note(format!(
                "an estate with environments ({list}) writes, for each, only the nodes that environment uses, so that deploying one never reconfigures another's hosts"
            ))
            .with_help(
                "place something on it in the environment that deploys it (or in the base estate), make it a cluster's server or agent, or remove it",
            )
        })
        .collect()
}
