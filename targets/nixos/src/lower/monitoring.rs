//! Monitoring on NixOS, when the estate runs a Prometheus server on a NixOS node (a service whose
//! `nixos { … }` options enable `services.prometheus`, such as `std.prometheus`).
//!
//! Every NixOS node then runs the node exporter (`services.prometheus.exporters.node`, port 9100,
//! with the systemd collector for unit and timer states), opened on its mesh interfaces when the
//! server is elsewhere. The server's node gets
//! `services.prometheus.scrapeConfigs`: a `node` job over every NixOS node's exporter, and one job
//! per service with `metrics` placed on a node, named after the service (alerts match
//! `job="<service>"`), at the node's mesh address (loopback on the server's own node) and the
//! metrics port and path (W1103 when that node has no address). A NixOS node without an address
//! is left out of the `node` job, since it has nothing else that names it on the network.
//! Services on clusters are scraped inside the cluster, not from here.
//!
//! Rule files: `services.prometheus.ruleFiles` lists every `*.rules.yml` the Prometheus back end
//! writes under `prometheus/` in the output folder, read when the configuration is evaluated
//! (`../../prometheus` from `nixos/<node>/`, the same way encrypted secrets are named), so this
//! back end does not depend on how that one names its groups. NixOS checks each file with
//! `promtool check rules` when it builds. As with secrets, a flake sees the folder only when the
//! output folder is inside the flake's source (the repository).

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Os, Resource, Service};

use super::{NodeModule, path};
use crate::nix::{self, Nix};

/// The node exporter's port (its NixOS default).
const NODE_EXPORTER_PORT: u16 = 9100;

impl<'a> NodeModule<'a> {
    pub(super) fn monitoring(&mut self) {
        if self.scrapers.is_empty() {
            return;
        }
        let node = self.node;
        let span = node.name_span;
        // The systemd collector reports units and timers, which backup and workflow alerts read.
        let exporter = vec![
            (path("services.prometheus.exporters.node.enable"), Nix::Bool(true)),
            (path("services.prometheus.exporters.node.enabledCollectors"), Nix::List(vec![Nix::Str("systemd".into())])),
        ];
        self.define_all(exporter, span);
        if self.scrapers.iter().any(|s| *s != node.name) {
            for network in self.index.on(&node.name).networks.iter().filter(|n| n.spec.wireguard.is_some()) {
                self.interface_tcp.entry(network.name.clone()).or_default().insert(NODE_EXPORTER_PORT);
            }
        }
        if !self.scrapers.contains(node.name.as_str()) {
            return;
        }
        let model = self.context.model;
        let host = |other: &str, address: Option<String>| -> Option<String> {
            if other == node.name { Some("127.0.0.1".into()) } else { address }
        };
        let exporters: Vec<Nix> = model
            .nodes
            .iter()
            .filter(|n| n.spec.os.value == Os::Nixos)
            .filter_map(|n| host(&n.name, n.spec.address.as_ref().map(|a| a.value.0.to_string())))
            .map(|h| Nix::Str(format!("{h}:{NODE_EXPORTER_PORT}")))
            .collect();
        let mut jobs = vec![job("node", "/metrics", exporters)];
        for service in &model.services {
            let Some(metrics) = &service.spec.metrics else { continue };
            if service.spec.on.kind != "node" {
                continue;
            }
            let Some(port) = service.spec.ports.get(metrics.value.port.value.0.as_str()) else { continue };
            let Some(target) = self.index.node(&service.spec.on.name) else { continue };
            let Some(address) = host(&target.name, target.spec.address.as_ref().map(|a| a.value.0.to_string())) else {
                self.unreachable(service, &target.name, metrics.span);
                continue;
            };
            let metrics_path = metrics.value.path.as_ref().map_or("/metrics", |p| p.value.as_str());
            jobs.push(job(&service.name, metrics_path, vec![Nix::Str(format!("{address}:{}", port.number))]));
        }
        self.define(path("services.prometheus.scrapeConfigs"), Nix::List(jobs), span);
        let rule_files = format!(
            "(let dir = ./. + {}; in if builtins.pathExists dir then map (file: dir + \"/${{file}}\") (builtins.filter (file: builtins.match \".*\\\\.rules\\\\.yml\" file != null) (builtins.attrNames (builtins.readDir dir))) else [ ])",
            nix::string("/../../prometheus")
        );
        self.define(path("services.prometheus.ruleFiles"), Nix::Raw(rule_files), span);
    }

    fn unreachable(&mut self, service: &Resource<Service>, node: &str, span: spec_compiler::source::Span) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::W1103,
                span,
                format!(
                    "the metrics of service `{}` are not scraped: node `{node}` has no address for Prometheus on `{}` to reach",
                    service.name, self.node.name
                ),
            )
            .with_primary_label("not scraped")
            .with_help(format!("give node `{node}` an `address` on a network it shares with `{}`", self.node.name)),
        );
    }
}

/// One scrape job over static targets.
fn job(name: &str, metrics_path: &str, targets: Vec<Nix>) -> Nix {
    Nix::Attrs(vec![
        ("job_name".into(), Nix::Str(name.into())),
        ("metrics_path".into(), Nix::Str(metrics_path.into())),
        ("static_configs".into(), Nix::List(vec![Nix::Attrs(vec![("targets".into(), Nix::List(targets))])])),
    ])
}
