//! Who scrapes metrics, as both host back ends must agree on it: the nodes running a Prometheus
//! server, that is NixOS nodes with a service whose `nixos { … }` options enable
//! `services.prometheus` (the `std.prometheus` preset does). A service's metrics port on another
//! node is published on that node's mesh address instead of loopback, so the server reaches it.

use std::collections::BTreeSet;

use spec_compiler::model::types::Payload;
use spec_compiler::model::{Kind, Model, Os, Resource, Service};
use spec_compiler::target::Index;

/// Whether a service's NixOS options enable a Prometheus server.
pub fn runs_prometheus(service: &Resource<Service>) -> bool {
    let enabled = service.spec.nixos.as_ref().and_then(|n| n.value.get("services.prometheus.enable"));
    matches!(enabled, Some(Payload::Bool(true)))
}

/// The NixOS nodes that run a Prometheus server, by name.
pub fn scraping_nodes<'m>(model: &'m Model, index: &Index<'m>) -> BTreeSet<&'m str> {
    model
        .services
        .iter()
        .filter(|s| s.spec.on.kind == Kind::Node.as_str() && runs_prometheus(s))
        .filter(|s| index.node(&s.spec.on.name).is_some_and(|n| n.spec.os.value == Os::Nixos))
        .map(|s| s.spec.on.name.as_str())
        .collect()
}

/// Whether some Prometheus server runs on another node than `node`, and so must reach the
/// metrics of what runs on `node` over the network.
pub fn scraped_from_elsewhere(scrapers: &BTreeSet<&str>, node: &str) -> bool {
    scrapers.iter().any(|s| *s != node)
}
