//! Monitoring on NixOS, when the estate runs a Prometheus server on a NixOS node (a service whose
//! `nixos { … }` options enable `services.prometheus`, such as `std.prometheus`).
//!
//! Every NixOS node then runs the node exporter (`services.prometheus.exporters.node`, port 9100,
//! with the systemd collector for unit and timer states and the textfile collector reading
//! [`TEXTFILE_DIRECTORY`], where restore tests record their last success), opened on its mesh
//! interfaces when the server is elsewhere. The server's node gets
//! `services.prometheus.scrapeConfigs` from the Prometheus back end's [`scrape::host_jobs`], the
//! one definition of what is scraped and how it is labelled: a `node` job over every NixOS node's
//! exporter, and one job per service with `metrics` placed on a node, named after the service, at
//! the node's mesh address (loopback on the server's own node) and the metrics port and path (W1103
//! when that node has no address). Every static target carries the label
//! `instance = "<node>:<port>"`, so the alerts, which select that, match whatever address reaches
//! it. A NixOS node without an address is left out of the `node` job, since it has nothing else
//! that names it on the network. Services on clusters are scraped inside the cluster. A blue-green
//! service is scraped through its switch in its own job and, from a Prometheus on the switch's
//! node only (colours that are nodes admit that node, [`ColourWay`]), in job `<service>_colours`
//! at each colour's host port, where the switch reaches it (loopback beside the switch, as both
//! colours are when they are images, the colour node's address on the shared network elsewhere), labelled `colour`: the
//! idle colour, kept running for a rollback, is watched too, and the service's job stays what
//! clients reach.
//!
//! Probes: when a NixOS node runs the blackbox exporter (`std.blackbox`), the server also scrapes
//! job `health_probe` through it ([`scrape::host_probes`]): each service's `health = http { … }`
//! on a NixOS node is a static target whose address is the URL the exporter requests (loopback on
//! the exporter's own node, the node's mesh address elsewhere), relabelled into the exporter's
//! `target` parameter, with `instance = "<node>:<port>"` and `service` as labels, while the
//! exporter's own address (loopback on the server's node) replaces `__address__`. A probed health
//! port on another node than the exporter's is opened on that node's mesh interfaces (and a
//! container publishes it on the node's address), as a metrics port is for the server; a node
//! without an address cannot be probed (W1104).
//!
//! Rule files: `services.prometheus.ruleFiles` lists the `estate.rules.yml` and `node-*.rules.yml`
//! the Prometheus back end writes under `prometheus/` in the output folder, read when the
//! configuration is evaluated (`../../prometheus` from `nixos/<node>/`, the same way encrypted
//! secrets are named); a cluster's `cluster-*.rules.yml` is its own Prometheus's, so no alert is
//! evaluated twice here. NixOS checks each file with `promtool check rules` when it builds. As with secrets, a flake sees the folder only when the
//! output folder is inside the flake's source (the repository).

use spec_compiler::diagnostics::{Code, Diagnostic};
#[cfg(doc)]
use spec_compiler::model::reach::ColourWay;
use spec_compiler::model::{Resource, Service};
use spec_target_prometheus::scrape::{self, HostJob, HostTarget, NODE_EXPORTER_PORT, TEXTFILE_DIRECTORY};

use super::{NodeModule, path};
use crate::nix::{self, Nix};

impl<'a> NodeModule<'a> {
    pub(super) fn monitoring(&mut self) {
        if self.scrapers.is_empty() {
            return;
        }
        let node = self.node;
        let span = node.name_span;
        // The systemd collector reports units and timers, which backup and workflow alerts read;
        // the textfile collector what the restore tests record.
        let exporter = vec![
            (path("services.prometheus.exporters.node.enable"), Nix::Bool(true)),
            (
                path("services.prometheus.exporters.node.enabledCollectors"),
                Nix::List(vec![Nix::Str("systemd".into()), Nix::Str("textfile".into())]),
            ),
            (
                path("services.prometheus.exporters.node.extraFlags"),
                Nix::List(vec![Nix::Str(format!("--collector.textfile.directory={TEXTFILE_DIRECTORY}"))]),
            ),
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
        let mut jobs = Vec::new();
        for job in scrape::host_jobs(self.index) {
            if job.from.is_some_and(|from| from != node.name) {
                continue;
            }
            let mut static_configs = Vec::new();
            for target in &job.targets {
                let address = match (target.colour, job.service) {
                    (Some(_), Some(service)) => self.colour_address(service, target),
                    _ if target.node.name == node.name => Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
                    _ => target.node.spec.address.as_ref().map(|a| a.value.0),
                };
                match (address, job.service) {
                    (Some(address), _) => static_configs.push(static_config(address, target)),
                    (None, Some(service)) => {
                        self.unreachable(service, &target.node.name, service_metrics_span(service))
                    }
                    // A NixOS node without an address has nothing else that names it on the network.
                    (None, None) => {}
                }
            }
            if !static_configs.is_empty() {
                jobs.push(scrape_job(&job, static_configs));
            }
        }
        jobs.extend(self.probe_job());
        self.define(path("services.prometheus.scrapeConfigs"), Nix::List(jobs), span);
        // The hosts' Prometheus evaluates the estate's own alerts and the nodes' (a cluster's are
        // its own Prometheus's, in its `PrometheusRule`), so no alert is evaluated twice here.
        let rule_files = format!(
            "(let dir = ./. + {}; in if builtins.pathExists dir then map (file: dir + \"/${{file}}\") (builtins.filter (file: builtins.match \"(estate|node-.*)\\\\.rules\\\\.yml\" file != null) (builtins.attrNames (builtins.readDir dir))) else [ ])",
            nix::string("/../../prometheus")
        );
        self.define(path("services.prometheus.ruleFiles"), Nix::Raw(rule_files), span);
    }

    /// The scrape job of the health probes, on the server's node: one static target per health
    /// check the exporter reaches, relabelled through the exporter.
    fn probe_job(&self) -> Option<Nix> {
        let (prober, probes, _) = self.probes.as_ref()?;
        let exporter = if prober.node.name == self.node.name {
            Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        } else {
            prober.node.spec.address.as_ref().map(|a| a.value.0)
        }?;
        let static_configs: Vec<Nix> = probes
            .iter()
            .filter_map(|probe| {
                let url = probe.url()?;
                Some(Nix::Attrs(vec![
                    ("targets".into(), Nix::List(vec![Nix::Str(url)])),
                    (
                        "labels".into(),
                        Nix::Attrs(vec![
                            ("instance".into(), Nix::Str(probe.instance.clone())),
                            ("service".into(), Nix::Str(probe.service.name.clone())),
                        ]),
                    ),
                ]))
            })
            .collect();
        if static_configs.is_empty() {
            return None;
        }
        let relabel = |pairs: Vec<(&str, Nix)>| Nix::Attrs(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect());
        Some(Nix::Attrs(vec![
            ("job_name".into(), Nix::Str(scrape::PROBE_JOB.into())),
            ("metrics_path".into(), Nix::Str("/probe".into())),
            (
                "params".into(),
                Nix::Attrs(vec![("module".into(), Nix::List(vec![Nix::Str(scrape::PROBE_MODULE.into())]))]),
            ),
            ("static_configs".into(), Nix::List(static_configs)),
            (
                "relabel_configs".into(),
                Nix::List(vec![
                    relabel(vec![
                        ("source_labels", Nix::List(vec![Nix::Str("__address__".into())])),
                        ("target_label", Nix::Str("__param_target".into())),
                    ]),
                    relabel(vec![
                        ("target_label", Nix::Str("__address__".into())),
                        ("replacement", Nix::Str(spec_compiler::target::host_port(exporter, prober.port))),
                    ]),
                ]),
            ),
        ]))
    }

    /// The health port of `service` when the blackbox exporter on another node probes it (it is
    /// then opened on the mesh and published on the node's address, as a remotely scraped metrics
    /// port is); W1104 at the health check when this node has no address to probe it at.
    pub(super) fn probed_remotely(&mut self, service: &Resource<Service>) -> Option<u16> {
        let (prober, probes, by_service) = self.probes.as_ref()?;
        let probe = &probes[*by_service.get(service.name.as_str())?];
        if prober.node.name == self.node.name {
            return None;
        }
        if probe.address.is_none() {
            let span = service.spec.health.as_ref().map_or(service.name_span, |h| h.span);
            self.diagnostics.push(
                Diagnostic::new(
                    Code::W1104,
                    span,
                    format!(
                        "the health check of service `{}` is not probed: node `{}` has no address for the blackbox \
                         exporter on `{}` to reach",
                        service.name, self.node.name, prober.node.name
                    ),
                )
                .with_primary_label("not probed")
                .with_help(format!(
                    "give node `{}` an `address` on a network it shares with `{}`",
                    self.node.name, prober.node.name
                )),
            );
            return None;
        }
        Some(probe.port)
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

fn service_metrics_span(service: &Resource<Service>) -> spec_compiler::source::Span {
    service.spec.metrics.as_ref().map_or(service.name_span, |m| m.span)
}

impl NodeModule<'_> {
    /// Where this node's Prometheus reaches a colour of a blue-green service: where the switch on
    /// this node reaches it ([`ColourWay`]'s `bind`) for colours that are nodes, loopback for
    /// colours that are two containers beside the switch (published on loopback only).
    fn colour_address(&self, service: &Resource<Service>, target: &HostTarget<'_>) -> Option<std::net::IpAddr> {
        let ways = self.reach.colours_of(&service.name);
        if ways.is_empty() {
            let here = target.node.name == self.node.name;
            return here.then_some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        }
        ways.iter().find(|w| Some(w.colour) == target.colour && w.node == target.node.name).map(|w| w.bind)
    }
}

/// One static target, its `instance` labelled `<node>:<port>` whatever address reaches it, as the
/// alerts select it ([`scrape`]), and a colour's `colour`.
fn static_config(address: std::net::IpAddr, target: &HostTarget<'_>) -> Nix {
    let mut labels = vec![("instance".into(), Nix::Str(target.instance.clone()))];
    if let Some(colour) = target.colour {
        labels.push(("colour".into(), Nix::Str(colour.name().into())));
    }
    Nix::Attrs(vec![
        ("targets".into(), Nix::List(vec![Nix::Str(spec_compiler::target::host_port(address, target.port))])),
        ("labels".into(), Nix::Attrs(labels)),
    ])
}

/// One scrape job over static targets.
fn scrape_job(job: &HostJob<'_>, static_configs: Vec<Nix>) -> Nix {
    Nix::Attrs(vec![
        ("job_name".into(), Nix::Str(job.name.clone())),
        ("metrics_path".into(), Nix::Str(job.metrics_path.clone())),
        ("static_configs".into(), Nix::List(static_configs)),
    ])
}

#[cfg(test)]
mod tests {
    use spec_compiler::target::{Context, Target};
    use spec_target_prometheus::Prometheus;

    use crate::Nixos;

    const ESTATE: &str = r#"
import std.blackbox
import std.postgres
import std.prometheus

node mon { os = nixos, address = 10.0.0.1 }
node db1 { os = nixos, address = 10.0.0.2, zpool tank { layout = stripe, disks = ["/dev/sda"] } }

service prometheus {
  use std.prometheus
  on = node.mon
}

service db {
  use std.postgres
  on = node.db1
}

service blackbox {
  use std.blackbox
  on = node.mon
}

service web {
  on     = node.db1
  image  = "example/web:1"
  ports  { http = 8080/tcp }
  health = http { port = http, path = "/healthz" }
}

storage files { on = node.db1, zfs { pool = "tank", dataset = "files" } }
backup files { source = storage.files, snapshots { every = 15m }, rpo = 1h, verify = weekly }
workflow nightly { on = node.db1, schedule = "0 3 * * *", step run { image = "example/run:1" } }
"#;

    /// Every quoted value following `key` in `text`.
    fn values_after<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
        text.match_indices(key).filter_map(|(at, _)| text[at + key.len()..].split('"').next()).collect()
    }

    /// What the hosts' Prometheus scrapes and what the generated alerts select agree: every `job`
    /// and `instance` an alert names is a job and an `instance` label of the scrape configuration
    /// (which labels each target `<node>:<port>`, not the address it reaches it at), and the
    /// PostgreSQL preset's alert has the exporter it reads behind it.
    #[test]
    fn alerts_select_the_labels_the_scrape_configuration_sets() {
        let (sources, compilation) = spec_testkit::compile("main.spec", ESTATE.to_string());
        assert_eq!(compilation.errors(), 0, "{:#?}", compilation.diagnostics);
        let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
        let nixos = Nixos.generate(&context);
        let module = |node: &str| {
            let path = format!("nixos/{node}/default.nix");
            nixos.files.iter().find(|f| f.path == path).map(|f| f.contents.clone()).expect("the node's module")
        };
        let (mon, db1) = (module("mon"), module("db1"));
        let scraped_instances = values_after(&mon, "instance = \"");
        let scraped_jobs = values_after(&mon, "job_name = \"");
        assert_eq!(
            scraped_instances,
            ["mon:9100", "db1:9100", "mon:9090", "db1:9187", "mon:9115", "mon:9090", "mon:9115", "db1:8080"],
            "{mon}"
        );
        assert!(mon.contains("\"http://10.0.0.2:8080/healthz\""), "the probe of web through the exporter: {mon}");
        assert!(mon.contains("\"10.0.0.2:9187\"") && mon.contains("\"127.0.0.1:9100\""), "{mon}");
        assert!(db1.contains("services.prometheus.exporters.postgres.enable = true"), "{db1}");
        assert!(db1.contains("\"--collector.textfile.directory="), "{db1}");

        let rules: String = Prometheus
            .generate(&context)
            .files
            .iter()
            .filter(|f| f.path.ends_with(".rules.yml"))
            .map(|f| f.contents.clone())
            .collect();
        let selected_instances = values_after(&rules, "instance=\"");
        let selected_jobs = values_after(&rules, "job=\"");
        assert!(selected_instances.contains(&"db1:9100"), "the backup, restore and workflow alerts: {rules}");
        assert!(rules.contains("RestoreTestStale") && rules.contains("DbDown") && rules.contains("DbTargetDown"));
        assert!(rules.contains("WebProbeFailed") && selected_instances.contains(&"db1:8080"), "{rules}");
        for instance in selected_instances {
            assert!(scraped_instances.contains(&instance), "`instance=\"{instance}\"` is scraped nowhere: {mon}");
        }
        for job in selected_jobs {
            assert!(scraped_jobs.contains(&job), "`job=\"{job}\"` is scraped nowhere: {mon}");
        }
        // The cluster areas are their own Prometheus's: only the estate's and the nodes' rules.
        assert!(mon.contains("(estate|node-.*)"), "{mon}");
    }
}
