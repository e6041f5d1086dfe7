//! What the estate's Prometheus servers scrape, and so the `job` and `instance` labels every
//! scraped series carries: the one definition the NixOS back end writes its scrape configuration
//! from, and the Prometheus back end derives its test series and its generated alerts' selectors
//! from. An alert whose selector names a `job` or `instance` no target here carries can never
//! fire; its test cannot be derived (W1501).
//!
//! - **Hosts**: a Prometheus server on a NixOS node (`std.prometheus`) scrapes job `node`, the
//!   node exporter on port 9100 of every NixOS node, and one job per service with `metrics` placed
//!   on a node, named after the service. Every host target's `instance` is `<node>:<port>`, set by
//!   a static label in the scrape configuration, so it names the node whatever address Prometheus
//!   reaches it at (loopback on its own node, the node's address elsewhere). A blue-green service
//!   also gets job `<service>_colours` ([`colours_job`]) from a Prometheus on its switch's node
//!   (the service's, the only one each colour admits; both colours are on it when they are
//!   images, [`colour_hosts`]): each colour at its host port ([`Colour::host_port`]), `instance` `<colour node>:<host port>` and
//!   label `colour`. The service's own job reaches the active colour through the switch, so it
//!   stays what clients see (its alerts, its availability objective, sums over it); the colours'
//!   job watches the idle colour too, kept running for a rollback, without counting the active
//!   colour's series twice in the service's job.
//! - **A cluster**: its Prometheus (prometheus-operator) scrapes one job per service with
//!   `metrics` placed on the cluster, through the ServiceMonitor the Kubernetes back end writes
//!   (the job relabelled to the service's name); `instance` is a pod's address, known only at run
//!   time, so any `instance` matcher can hold there.
//! - **Probes**: when a NixOS node runs the blackbox exporter (a service whose `nixos { … }`
//!   options enable `services.prometheus.exporters.blackbox`, such as `std.blackbox`), the hosts'
//!   Prometheus also scrapes job [`PROBE_JOB`] through it: one target per service with
//!   `health = http { … }` on a NixOS node, its URL passed to the exporter as the `target`
//!   parameter and its `instance` labelled `<node>:<port>` (the health port), so the generated
//!   `ProbeFailed` alert selects the probe as it selects a scrape. The job's name holds `_`, which
//!   no service name (a DNS label) does, so it never clashes with a service's job. A cluster's
//!   blackbox exporter (`std.blackbox` placed there) probes the HTTP health checks of the services
//!   the generic chart runs on it, through a ServiceMonitor of the exporter's release with one
//!   endpoint per probe, labelled `instance = "<service>.<namespace>:<port>"` ([`cluster_probes`]).
//!
//! Invariant: a service's targets are listed in its area's universe and nowhere else, so routing
//! an alert by its selectors sends it to the one Prometheus that scrapes what it selects.

use std::collections::{BTreeMap, HashMap};

use indexmap::IndexMap;
use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{Expr, VectorSelector};
use spec_compiler::model::{Colour, Health, Kind, Node, Os, Resource, Service};
use spec_compiler::promql::ShapeCache;
use spec_compiler::target::{Index, colour_hosts, colours_job};

/// The node exporter's job.
pub const NODE_JOB: &str = "node";

/// The node exporter's port (its NixOS default).
pub const NODE_EXPORTER_PORT: u16 = 9100;

/// The job of the blackbox exporter's probes of health checks.
pub const PROBE_JOB: &str = "health_probe";

/// The blackbox exporter's module for an HTTP health check (an answer in 2xx).
pub const PROBE_MODULE: &str = "http_2xx";

pub use spec_compiler::target::{RESTORE_TEST_METRIC, TEXTFILE_DIRECTORY};

/// The labels Prometheus attaches to every series of one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetLabels {
    /// The scrape job.
    pub job: String,
    /// `<node>:<port>`; `None` for a pod, whose address Prometheus discovers at run time.
    pub instance: Option<String>,
    /// The port, for an example `instance` of a discovered target.
    pub port: u16,
}

impl TargetLabels {
    /// The `instance` value a test series carries: the real one, or an example pod address.
    pub fn example_instance(&self) -> String {
        self.instance.clone().unwrap_or_else(|| format!("10.42.0.1:{}", self.port))
    }
}

/// One target of a host job.
#[derive(Clone, Debug)]
pub struct HostTarget<'m> {
    /// The node it runs on.
    pub node: &'m Resource<Node>,
    /// The port scraped.
    pub port: u16,
    /// The `instance` label the scrape configuration sets: `<node>:<port>`.
    pub instance: String,
    /// The colour it is, in a colours' job ([`colours_job`]), labelled `colour`.
    pub colour: Option<Colour>,
}

/// One scrape job of the hosts' Prometheus.
#[derive(Clone, Debug)]
pub struct HostJob<'m> {
    /// The job's name: `node` or the service's.
    pub name: String,
    /// The metrics path.
    pub metrics_path: String,
    /// The service scraped, for a service's job.
    pub service: Option<&'m Resource<Service>>,
    /// Its targets.
    pub targets: Vec<HostTarget<'m>>,
    /// The one node whose Prometheus scrapes it (a colours' job: the switch's node, which the
    /// colours admit); `None` for every Prometheus on a NixOS node.
    pub from: Option<&'m str>,
}

/// A blackbox exporter on a NixOS node, which probes the health checks.
#[derive(Clone, Copy, Debug)]
pub struct Prober<'m> {
    /// The exporter's service.
    pub service: &'m Resource<Service>,
    /// The node it runs on.
    pub node: &'m Resource<Node>,
    /// The port it answers on (its metrics port, which Prometheus already reaches).
    pub port: u16,
}

/// One probed health check: a service with `health = http { … }` on a NixOS node.
#[derive(Clone, Debug)]
pub struct Probe<'m> {
    /// The service.
    pub service: &'m Resource<Service>,
    /// The node it runs on.
    pub node: &'m Resource<Node>,
    /// The health check's port.
    pub port: u16,
    /// The request path.
    pub path: String,
    /// The `instance` label: `<node>:<port>`.
    pub instance: String,
    /// The address the exporter reaches it at: loopback on its own node, else the node's
    /// address; `None` when the node has none (the NixOS back end reports it, W1104).
    pub address: Option<std::net::IpAddr>,
}

impl Probe<'_> {
    /// The URL the exporter requests, when it can reach the service.
    pub fn url(&self) -> Option<String> {
        let address = self.address?;
        Some(format!("http://{}{}", spec_compiler::target::host_port(address, self.port), self.path))
    }
}

/// Whether a service's NixOS options enable the blackbox exporter (`std.blackbox` does).
pub fn runs_blackbox(service: &Resource<Service>) -> bool {
    let enabled =
        service.spec.nixos.as_ref().and_then(|n| n.value.get("services.prometheus.exporters.blackbox.enable"));
    matches!(enabled, Some(spec_compiler::model::types::Payload::Bool(true)))
}

/// The blackbox exporter that probes the estate's health checks (the first on a NixOS node, in
/// estate order) and every HTTP health check on a NixOS node, in estate order (those it cannot
/// reach without an `address`); none without such an exporter.
pub fn host_probes<'m>(index: &Index<'m>) -> Option<(Prober<'m>, Vec<Probe<'m>>)> {
    let model = index.model;
    let on_nixos = |service: &'m Resource<Service>| {
        (service.spec.on.kind == Kind::Node.as_str())
            .then(|| index.node(&service.spec.on.name))
            .flatten()
            .filter(|n| n.spec.os.value == Os::Nixos)
    };
    let prober = model.services.iter().filter(|s| runs_blackbox(s)).find_map(|service| {
        let node = on_nixos(service)?;
        let metrics = service.spec.metrics.as_ref()?;
        let port = service.spec.ports.get(metrics.value.port.value.0.as_str())?.value.number;
        Some(Prober { service, node, port })
    })?;
    let probes = model
        .services
        .iter()
        .filter_map(|service| {
            let node = on_nixos(service)?;
            let Health::Http { port, path, .. } = &service.spec.health.as_ref()?.value else { return None };
            let port = service.spec.ports.get(port.value.0.as_str())?.value.number;
            let address = if node.name == prober.node.name {
                Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
            } else {
                node.spec.address.as_ref().map(|a| a.value.0)
            };
            let instance = host_instance(&node.name, port);
            let path = if path.starts_with('/') { path.clone() } else { format!("/{path}") };
            Some(Probe { service, node, port, path, instance, address })
        })
        .collect();
    Some((prober, probes))
}

/// One probed health check on a cluster: a service of the generic chart with `health = http`,
/// probed by the cluster's blackbox exporter at its Service's DNS name.
#[derive(Clone, Debug)]
pub struct ClusterProbe<'m> {
    /// The service.
    pub service: &'m Resource<Service>,
    /// The health check's port.
    pub port: u16,
    /// The request path.
    pub path: String,
    /// The URL the exporter requests: `http://<service>.<namespace>.svc.cluster.local:<port><path>`.
    pub url: String,
    /// The `instance` label the ServiceMonitor sets: `<service>.<namespace>:<port>`.
    pub instance: String,
}

/// Each cluster's blackbox exporter (the first service on it enabling the exporter, whose
/// metrics port the probes are requested on) and the HTTP health checks of the services the
/// generic chart runs there (a chart brings its own probes), by cluster name, in estate order.
pub fn cluster_probes<'m>(index: &Index<'m>) -> Vec<(&'m str, &'m Resource<Service>, Vec<ClusterProbe<'m>>)> {
    let model = index.model;
    // One pass over the services, grouped by cluster: the first exporter, then the checks.
    let mut probers: HashMap<&str, &'m Resource<Service>> = HashMap::new();
    let mut checked: HashMap<&str, Vec<&'m Resource<Service>>> = HashMap::new();
    for service in model.services.iter().filter(|s| s.spec.on.kind == Kind::Cluster.as_str()) {
        let cluster = service.spec.on.name.as_str();
        let exports = service
            .spec
            .metrics
            .as_ref()
            .is_some_and(|m| service.spec.ports.contains_key(m.value.port.value.0.as_str()));
        if runs_blackbox(service) && exports {
            probers.entry(cluster).or_insert(service);
        }
        if service.spec.helm.is_none()
            && matches!(service.spec.health.as_ref().map(|h| &h.value), Some(Health::Http { .. }))
        {
            checked.entry(cluster).or_default().push(service);
        }
    }
    let mut found = Vec::new();
    for cluster in &model.clusters {
        let Some(prober) = probers.get(cluster.name.as_str()) else { continue };
        let namespaces = cluster.spec.namespaces(cluster.name_span);
        let probes = checked
            .get(cluster.name.as_str())
            .into_iter()
            .flatten()
            .filter_map(|service| {
                let Health::Http { port, path, .. } = &service.spec.health.as_ref()?.value else { return None };
                let port = service.spec.ports.get(port.value.0.as_str())?.value.number;
                let chosen = cluster.spec.namespace_of(service.spec.namespace.as_ref()).unwrap_or(0);
                let namespace = namespaces.get(chosen).map_or("default", |n| n.name);
                let path = if path.starts_with('/') { path.clone() } else { format!("/{path}") };
                let host = format!("{}.{namespace}", service.name);
                Some(ClusterProbe {
                    service,
                    port,
                    url: format!("http://{host}.svc.cluster.local:{port}{path}"),
                    path,
                    instance: format!("{host}:{port}"),
                })
            })
            .collect();
        found.push((cluster.name.as_str(), *prober, probes));
    }
    found
}

/// The `instance` label of a host target.
pub fn host_instance(node: &str, port: u16) -> String {
    format!("{node}:{port}")
}

/// The jobs a Prometheus server on a NixOS node scrapes: the node exporters, then each service
/// with `metrics` on a node whose metrics port resolves, in estate order.
pub fn host_jobs<'m>(index: &Index<'m>) -> Vec<HostJob<'m>> {
    let model = index.model;
    let exporters = model
        .nodes
        .iter()
        .filter(|n| n.spec.os.value == Os::Nixos)
        .map(|node| HostTarget {
            node,
            port: NODE_EXPORTER_PORT,
            instance: host_instance(&node.name, NODE_EXPORTER_PORT),
            colour: None,
        })
        .collect();
    let node_job = HostJob {
        name: NODE_JOB.into(),
        metrics_path: "/metrics".into(),
        service: None,
        targets: exporters,
        from: None,
    };
    let mut jobs = vec![node_job];
    for service in &model.services {
        let Some(metrics) = &service.spec.metrics else { continue };
        if service.spec.on.kind != Kind::Node.as_str() {
            continue;
        }
        let Some(port) = service.spec.ports.get(metrics.value.port.value.0.as_str()) else { continue };
        let Some(node) = index.node(&service.spec.on.name) else { continue };
        let port = port.value.number;
        let metrics_path: String = metrics.value.path.as_ref().map_or("/metrics", |p| p.value.as_str()).into();
        jobs.push(HostJob {
            name: service.name.clone(),
            metrics_path: metrics_path.clone(),
            service: Some(service),
            targets: vec![HostTarget { node, port, instance: host_instance(&node.name, port), colour: None }],
            from: None,
        });
        let colours = colour_targets(index, service, port);
        if !colours.is_empty() && prometheus_on(index, &node.name) {
            jobs.push(HostJob {
                name: colours_job(&service.name),
                metrics_path,
                service: Some(service),
                targets: colours,
                from: Some(node.name.as_str()),
            });
        }
    }
    jobs
}

/// Each colour of a blue-green service ([`colour_hosts`]), at its host port for the metrics
/// port `port` (none beyond 65535, which the NixOS back end refuses, E1131); empty for any other
/// service.
fn colour_targets<'m>(index: &Index<'m>, service: &'m Resource<Service>, port: u16) -> Vec<HostTarget<'m>> {
    let mut targets = Vec::new();
    for (colour, node) in colour_hosts(service) {
        let (Some(node), Some(number)) = (index.node(node), colour.host_port(port)) else { continue };
        let instance = host_instance(&node.name, number);
        targets.push(HostTarget { node, port: number, instance, colour: Some(colour) });
    }
    targets
}

/// Whether a service on NixOS node `node` runs a Prometheus server (its NixOS options enable
/// `services.prometheus`, as `std.prometheus` does).
fn prometheus_on(index: &Index<'_>, node: &str) -> bool {
    index.on(node).services.iter().any(|s| {
        let enabled = s.spec.nixos.as_ref().and_then(|n| n.value.get("services.prometheus.enable"));
        matches!(enabled, Some(spec_compiler::model::types::Payload::Bool(true)))
    })
}

/// Who evaluates an area's alerts: the hosts' Prometheus or a cluster's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Evaluator<'m> {
    /// A Prometheus server on a NixOS node.
    Hosts,
    /// The named cluster's Prometheus.
    Cluster(&'m str),
}

/// The targets one Prometheus scrapes, indexed by job.
#[derive(Clone, Debug, Default)]
pub struct Universe {
    /// Every target, in estate order.
    pub targets: Vec<TargetLabels>,
    by_job: HashMap<String, Vec<usize>>,
    by_instance: HashMap<String, Vec<usize>>,
}

impl Universe {
    fn push(&mut self, target: TargetLabels) {
        self.by_job.entry(target.job.clone()).or_default().push(self.targets.len());
        if let Some(instance) = &target.instance {
            self.by_instance.entry(instance.clone()).or_default().push(self.targets.len());
        }
        self.targets.push(target);
    }

    /// The targets of one job.
    pub fn job(&self, job: &str) -> impl Iterator<Item = &TargetLabels> {
        self.by_job.get(job).into_iter().flatten().map(|i| &self.targets[*i])
    }

    /// Whether some target carries the job.
    pub fn has_job(&self, job: &str) -> bool {
        self.by_job.contains_key(job)
    }

    /// The targets of one job at one instance, in estate order (an index: a node's exporter is
    /// looked up for every service on a node, and the hosts' Prometheus scrapes every node's).
    pub fn job_at(&self, job: &str, instance: &str) -> impl Iterator<Item = &TargetLabels> {
        let targets = self.by_instance.get(instance).into_iter().flatten().map(|i| &self.targets[*i]);
        targets.filter(move |t| t.job == job)
    }
}

impl FromIterator<TargetLabels> for Universe {
    fn from_iter<I: IntoIterator<Item = TargetLabels>>(targets: I) -> Self {
        let mut universe = Universe::default();
        for target in targets {
            universe.push(target);
        }
        universe
    }
}

/// Every Prometheus's universe: the hosts' first, then each cluster's, in estate order.
pub fn universes<'m>(index: &Index<'m>) -> IndexMap<Evaluator<'m>, Universe> {
    let model = index.model;
    let mut universes = IndexMap::new();
    let mut hosts = Universe::default();
    for job in host_jobs(index) {
        for target in job.targets {
            hosts.push(TargetLabels { job: job.name.clone(), instance: Some(target.instance), port: target.port });
        }
    }
    let probes = host_probes(index).map(|(_, probes)| probes).unwrap_or_default();
    for probe in probes.into_iter().filter(|p| p.address.is_some()) {
        hosts.push(TargetLabels { job: PROBE_JOB.into(), instance: Some(probe.instance), port: probe.port });
    }
    universes.insert(Evaluator::Hosts, hosts);
    for cluster in &model.clusters {
        universes.insert(Evaluator::Cluster(&cluster.name), Universe::default());
    }
    for service in &model.services {
        let Some(metrics) = &service.spec.metrics else { continue };
        if service.spec.on.kind != Kind::Cluster.as_str() {
            continue;
        }
        let Some(port) = service.spec.ports.get(metrics.value.port.value.0.as_str()) else { continue };
        if let Some(universe) = universes.get_mut(&Evaluator::Cluster(&service.spec.on.name)) {
            universe.push(TargetLabels { job: service.name.clone(), instance: None, port: port.value.number });
        }
    }
    for (cluster, _, probes) in cluster_probes(index) {
        if let Some(universe) = universes.get_mut(&Evaluator::Cluster(cluster)) {
            for probe in probes {
                let target = TargetLabels { job: PROBE_JOB.into(), instance: Some(probe.instance), port: probe.port };
                universe.push(target);
            }
        }
    }
    universes
}

/// Where an alert's series come from: the targets its Prometheus scrapes, and its owner's own
/// targets (a service's job, a node's exporter), which a selector naming neither `job` nor
/// `instance` is read from (else the first target scraped; else no such labels).
#[derive(Clone, Copy, Debug)]
pub struct Scrape<'s> {
    /// Every target the alert's Prometheus scrapes.
    pub universe: &'s Universe,
    /// The owner's targets.
    pub owner: &'s [TargetLabels],
}

/// The first selector of `expr` whose `job` and `instance` matchers no target of `universe`
/// carries, as a sentence; `None` when every selector can match a scraped series (a selector
/// naming neither label matches any target). `None` too for an expression that does not parse.
pub fn unscraped(expr: &str, universe: &Universe, shapes: &mut ShapeCache) -> Option<String> {
    let ast = shapes.parse_restored(expr).ok()?;
    unscraped_in(&ast, universe)
}

/// [`unscraped`] of an expression already parsed.
pub(crate) fn unscraped_in(ast: &Expr, universe: &Universe) -> Option<String> {
    for vs in selectors(ast) {
        let scrape = Scrape { universe, owner: &[] };
        if let Err(reason) = scraped_target(vs, scrape) {
            return Some(reason);
        }
    }
    None
}

/// The values of every `job="…"` matcher of `expr` (none when it does not parse).
pub(crate) fn named_jobs(expr: &str, shapes: &mut ShapeCache) -> Vec<String> {
    let Ok(ast) = shapes.parse_restored(expr) else { return Vec::new() };
    jobs_named_in(&ast)
}

/// [`named_jobs`] of an expression already parsed.
pub(crate) fn jobs_named_in(ast: &Expr) -> Vec<String> {
    let mut jobs = Vec::new();
    for vs in selectors(ast) {
        jobs.extend(
            vs.matchers.matchers.iter().filter(|m| m.name == "job" && m.op == MatchOp::Equal).map(|m| m.value.clone()),
        );
    }
    jobs
}

/// Every vector selector of `ast` (those of range selectors included), in the order a
/// depth-first walk meets them.
fn selectors(ast: &Expr) -> Vec<&VectorSelector> {
    subexpressions(ast)
        .into_iter()
        .filter_map(|expr| match expr {
            Expr::VectorSelector(vs) => Some(vs),
            Expr::MatrixSelector(ms) => Some(&ms.vs),
            _ => None,
        })
        .collect()
}

/// `ast` and every expression inside it, in the order a depth-first walk meets them (a range
/// selector's own vector selector is part of it, not listed apart).
pub(crate) fn subexpressions(ast: &Expr) -> Vec<&Expr> {
    let mut found = Vec::new();
    let mut stack = vec![ast];
    while let Some(expr) = stack.pop() {
        found.push(expr);
        match expr {
            Expr::Aggregate(a) => stack.push(&a.expr),
            Expr::Unary(u) => stack.push(&u.expr),
            Expr::Binary(b) => stack.extend([b.lhs.as_ref(), b.rhs.as_ref()]),
            Expr::Paren(p) => stack.push(&p.expr),
            Expr::Subquery(s) => stack.push(&s.expr),
            Expr::Call(call) => stack.extend(call.args.args.iter().map(|a| a.as_ref())),
            _ => {}
        }
    }
    found
}

pub(crate) fn matchers_by_label(vs: &VectorSelector) -> BTreeMap<&str, Vec<&Matcher>> {
    let mut by_label: BTreeMap<&str, Vec<&Matcher>> = BTreeMap::new();
    for matcher in &vs.matchers.matchers {
        by_label.entry(matcher.name.as_str()).or_default().push(matcher);
    }
    by_label
}

/// The target a selector's series is scraped from: for a selector naming `job` or `instance`,
/// the first target (the owner's, then the Prometheus's: by job when a `job="…"` matcher names
/// one) whose labels pass those matchers, an error when none does; otherwise the owner's first
/// target, else the first target scraped, else none.
pub(crate) fn scraped_target<'s>(vs: &VectorSelector, scrape: Scrape<'s>) -> Result<Option<&'s TargetLabels>, String> {
    let by_label = matchers_by_label(vs);
    let (jobs, instances) = (by_label.get("job"), by_label.get("instance"));
    if jobs.is_none() && instances.is_none() {
        return Ok(scrape.owner.first().or_else(|| scrape.universe.targets.first()));
    }
    let passes =
        |matchers: Option<&Vec<&Matcher>>, value: &str| matchers.is_none_or(|ms| ms.iter().all(|m| m.is_match(value)));
    let fits = |target: &&TargetLabels| {
        passes(jobs, &target.job) && target.instance.as_deref().is_none_or(|i| passes(instances, i))
    };
    let named_job = jobs.and_then(|ms| ms.iter().find(|m| m.op == MatchOp::Equal)).map(|m| m.value.as_str());
    let found = scrape.owner.iter().find(fits).or_else(|| match named_job {
        Some(job) => scrape.universe.job(job).find(fits),
        None => scrape.universe.targets.iter().find(fits),
    });
    found.map(Some).ok_or_else(|| {
        let mut jobs: Vec<&str> = Vec::new();
        for target in &scrape.universe.targets {
            if jobs.len() == 5 {
                break;
            }
            if !jobs.contains(&target.job.as_str()) {
                jobs.push(&target.job);
            }
        }
        let scraped = if jobs.is_empty() {
            "this Prometheus scrapes nothing".to_string()
        } else {
            format!("its jobs are {}", jobs.iter().map(|j| format!("`{j}`")).collect::<Vec<_>>().join(", "))
        };
        format!(
            "the selector `{vs}` names a job or instance no target of the Prometheus evaluating it carries ({scraped}{})",
            if scrape.universe.targets.len() > jobs.len() { ", …" } else { "" }
        )
    })
}
