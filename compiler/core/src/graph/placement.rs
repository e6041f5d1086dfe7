//! Placement: a service's volumes live where the service runs, a cluster service does not mount a
//! host's ZFS dataset, a service that needs a service on another node (or from a cluster) has a
//! way to reach it and `expose` names audiences its node can serve ([`crate::model::reach`]), and a
//! storage's pool exists on its node (and a node's storage asks for no cluster volume, E0640).

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};

/// Checks every placement rule.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    volumes(estate, diagnostics);
    // Needs across nodes and from clusters, and `expose` audiences: one derivation shared with
    // the back ends, which wire exactly the ways it finds.
    diagnostics.extend(crate::model::reach::derive(estate.model, estate.stdlib).1);
    pools(estate, diagnostics);
}

fn place_name(place: Place<'_>) -> String {
    match place {
        Place::Node(node) => format!("node `{}`", node.name),
        Place::Cluster(cluster) => format!("cluster `{}`", cluster.name),
    }
}

fn volumes(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        let Some(place) = estate.place(&service.spec.on) else { continue };
        for (path, reference) in &service.spec.volumes {
            let Some(storage) = estate.storage(&reference.name) else { continue };
            let Some(storage_place) = estate.place(&storage.spec.on) else { continue };
            if let (Place::Cluster(_), Some(zfs)) = (place, &storage.spec.zfs) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0603,
                        reference.span,
                        format!(
                            "service `{}` runs on a cluster but mounts the ZFS dataset `{}`",
                            service.name, storage.name
                        ),
                    )
                    .with_primary_label(format!("mounted at `{path}`"))
                    .with_label(zfs.span, "a dataset on a host")
                    .with_label(service.spec.on.span, "the service runs on a cluster")
                    .with_help(
                        "give the storage a `volume { size = … }` on the cluster, or run the service on the node",
                    ),
                );
                continue;
            }
            let same = match (place, storage_place) {
                (Place::Node(a), Place::Node(b)) => a.name == b.name,
                (Place::Cluster(a), Place::Cluster(b)) => a.name == b.name,
                _ => false,
            };
            if !same {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0602,
                        reference.span,
                        format!(
                            "service `{}` runs on {} but its volume `{}` lives on {}",
                            service.name,
                            place_name(place),
                            storage.name,
                            place_name(storage_place)
                        ),
                    )
                    .with_primary_label(format!("mounted at `{path}`"))
                    .with_label(storage.spec.on.span, "the storage lives here")
                    .with_label(service.spec.on.span, "the service runs here")
                    .with_help("place the service and its storage together"),
                );
            }
        }
    }
}

fn pools(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for storage in &estate.model.storage {
        // A claim is made on a cluster only: on a node, `volume` would be dropped in silence.
        if let (Some(volume), Some(Place::Node(node))) = (&storage.spec.volume, estate.place(&storage.spec.on)) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0640,
                    volume.span,
                    format!("storage `{}` is on node `{}` but asks for a cluster volume", storage.name, node.name),
                )
                .with_primary_label("volumes are claimed on clusters")
                .with_label(storage.spec.on.span, "the storage lives here")
                .with_help(
                    "use `zfs { pool = …, dataset = … }` for a node's storage, or place the storage on a cluster",
                ),
            );
        }
        let Some(zfs) = &storage.spec.zfs else { continue };
        match estate.place(&storage.spec.on) {
            Some(Place::Node(node)) => {
                if node.spec.zpool.contains_key(zfs.pool.as_str()) {
                    continue;
                }
                let pools: Vec<&str> = node.spec.zpool.keys().map(String::as_str).collect();
                let mut diagnostic = Diagnostic::new(
                    Code::E0605,
                    zfs.pool.span,
                    format!("node `{}` has no ZFS pool `{}`", node.name, zfs.pool.value),
                )
                .with_primary_label("no such pool on this node")
                .with_label(node.name_span, "the node");
                diagnostic = match did_you_mean(&zfs.pool, pools.iter().copied()) {
                    Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(
                        zfs.pool.span,
                        &zfs.pool.value,
                        close,
                    ),
                    None if pools.is_empty() => diagnostic.with_help(format!(
                        "declare the pool on the node: `zpool {} {{ layout = mirror, disks = [ … ] }}`",
                        zfs.pool.value
                    )),
                    None => diagnostic
                        .with_help(format!("the node has {}", crate::model::check::quoted_and(pools.iter().copied()))),
                };
                diagnostics.push(diagnostic);
            }
            Some(Place::Cluster(cluster)) => diagnostics.push(
                Diagnostic::new(
                    Code::E0605,
                    zfs.span,
                    format!("storage `{}` is on cluster `{}` but names a ZFS pool", storage.name, cluster.name),
                )
                .with_primary_label("ZFS datasets live on nodes")
                .with_help("use `volume { size = … }` for cluster storage, or place the storage on a node"),
            ),
            None => {}
        }
    }
}
