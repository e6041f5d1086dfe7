//! The estate's alerts as Prometheus rules, grouped by area, with their names, labels and
//! annotations; see the crate documentation for the conventions.
//!
//! Every name is computed over the whole estate in one fixed order (top-level alerts, then each
//! service's own alerts and its generated `TargetDown`, then backups, then workflows), so an
//! alert's name does not depend on which scope a caller asks for.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use promql_parser::label::{MatchOp, Matcher};
use serde::Serialize;
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{PlacementRef, Spanned, format_duration};
use spec_compiler::model::{Alert, Backup, Cluster, Kind, Os, Resource, Service, Severity, Workflow};
use spec_compiler::promql::ShapeCache;
use spec_compiler::source::Span;
use spec_compiler::target::Index;

use crate::down;

mod colours;
mod probes;
mod restore_tests;
use crate::escape::{promql_string, regex_literal, template_text};
use crate::scrape::{self, Evaluator, NODE_EXPORTER_PORT, NODE_JOB, TargetLabels, Universe, host_instance};

/// Every Prometheus's targets, by who evaluates (see [`scrape::universes`]).
pub(crate) type Universes<'m> = IndexMap<Evaluator<'m>, Universe>;

/// One rule group: the `groups[]` item of a rule file, and of a `PrometheusRule`'s `spec.groups`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleGroup {
    /// The group's name, unique in the estate: `estate`, `node-<name>` or `cluster-<name>`.
    pub name: String,
    /// Its alerting rules.
    pub rules: Vec<Rule>,
}

/// One rule: an alerting rule, or a recording rule (an objective's error ratios).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The series a recording rule records (`slo:error_ratio:rate1h`); `None` for an alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The alert's name, unique in the estate (`IpfsDown`); empty for a recording rule.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alert: String,
    /// The PromQL condition.
    pub expr: String,
    /// How long the condition must hold, as a Prometheus duration (`5m`).
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub pending_for: Option<String>,
    /// Labels (templates: text spec wrote is escaped).
    pub labels: IndexMap<String, String>,
    /// `summary`, `description` and `runbook` (templates); none for a recording rule.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub annotations: IndexMap<String, String>,
}

/// An alert with what the target needs beyond the rule itself.
#[derive(Clone)]
pub(crate) struct Planned {
    pub rule: Rule,
    /// How long the condition must hold, in milliseconds.
    pub pending_ms: u64,
    /// Where the expression is written (or the generating resource's name, for generated alerts).
    pub expr_span: Span,
    /// Where the user's `summary` and `description` templates are written.
    pub template_spans: Vec<(&'static str, Span)>,
    /// The block the alert comes from, for provenance.
    pub origin: Span,
    /// Whether the back end wrote the alert (`TargetDown`, `BackupStale`, `WorkflowOverdue`):
    /// its expression is one of a few fixed shapes over DNS names and numbers, and its texts are
    /// escaped, so a test is always derived for it (a test holds this on every corpus estate).
    pub generated: bool,
    /// The targets of the alert's owner (a service's job and its node's exporter; a node's
    /// exporter for its backups and workflows), which selectors naming no target read from.
    pub owner: Vec<TargetLabels>,
    /// Whether a `job="…"` matcher names no service with `metrics`: the graph rules report that
    /// (W0604), so its W1502 is not reported again.
    pub names_unknown_job: bool,
}

/// The alerts of one area: the estate's own alerts, a node, or a cluster.
pub(crate) struct Area<'m> {
    /// The group's name.
    pub name: String,
    /// The cluster the area is, if it is one.
    pub cluster: Option<&'m str>,
    /// The Prometheus that evaluates it: a cluster's for a cluster's area, else the hosts'.
    pub evaluator: Evaluator<'m>,
    /// Its alerts, in estate order.
    pub alerts: Vec<Planned>,
    /// Its objectives' recording rules, alerts and tests, in estate order.
    pub slos: Vec<crate::slo::SloRules>,
}

/// How long generated alerts' conditions must hold.
const GENERATED_FOR_MS: u64 = 5 * 60_000;

/// What the plan holds of the alerts the back end generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GeneratedAlerts {
    /// Written out, with their expressions and texts: for rule files and tests.
    Written,
    /// Only named (so the spec's own alerts are named as when written), not planned: for
    /// `spec check`, which derives no test for generated alerts.
    Named,
}

/// Plans every alert of the estate, by area, with the targets each area's Prometheus scrapes, and
/// reports what cannot be written (E1501) or monitored (W1502).
///
/// A top-level alert goes to every Prometheus that scrapes a target each of its selectors naming
/// a `job` or `instance` can match (all of them when it names none): the `estate` area for the
/// hosts' Prometheus, a cluster's own area for that cluster's. One naming no target anywhere stays
/// in `estate`, where its test reports W1502. So each Prometheus evaluates an alert at most once.
pub(crate) fn plan<'m>(
    index: &Index<'m>,
    generated: GeneratedAlerts,
) -> (Vec<Area<'m>>, Universes<'m>, Vec<Diagnostic>) {
    let model = index.model;
    let universes = scrape::universes(index);
    let mut shapes = ShapeCache::default();
    let mut planner = Planner {
        only_names: generated == GeneratedAlerts::Named,
        clusters: model.clusters.iter().map(|c| (c.name.as_str(), c)).collect(),
        names: HashSet::new(),
        areas: IndexMap::new(),
        diagnostics: Vec::new(),
        universes: &universes,
        reported_down: ReportedDown::default(),
        exporting: spec_compiler::target::service_jobs(model).into_iter().collect(),
        probes: probes::probed(index),
    };
    let area = |name: String, cluster: Option<&'m str>| Area {
        name,
        cluster,
        evaluator: cluster.map_or(Evaluator::Hosts, Evaluator::Cluster),
        alerts: Vec::new(),
        slos: Vec::new(),
    };
    planner.areas.insert("estate".into(), area("estate".into(), None));
    for node in &model.nodes {
        let name = format!("node-{}", node.name);
        planner.areas.insert(name.clone(), area(name, None));
    }
    for cluster in &model.clusters {
        let name = format!("cluster-{}", cluster.name);
        planner.areas.insert(name.clone(), area(name, Some(&cluster.name)));
    }
    // Which Prometheus servers scrape each job, by position in `universes` (in their order).
    let mut scraping: HashMap<&str, Vec<usize>> = HashMap::new();
    for (position, universe) in universes.values().enumerate() {
        for target in &universe.targets {
            let positions = scraping.entry(target.job.as_str()).or_default();
            if positions.last() != Some(&position) {
                positions.push(position);
            }
        }
    }
    for alert in &model.alerts {
        planner.reported_down.note(&alert.spec.expr.value, &mut shapes);
        let what = format!("alert `{}`", alert.name);
        let mut planned = planner.declared(&alert.name, &alert.spec, &what, IndexMap::new(), alert.span);
        // Parsed once for the jobs it names and every Prometheus it is tried on.
        let ast = shapes.parse_restored(&alert.spec.expr.value).ok();
        let named = ast.as_ref().map(scrape::jobs_named_in).unwrap_or_default();
        planned.names_unknown_job = named.iter().any(|job| !planner.exporting.contains(job.as_str()));
        // A selector naming a job by `job="…"` matches no target of a Prometheus that scrapes no
        // such job, so only those scraping every named job are tried (one Prometheus per cluster:
        // trying each for every alert was quadratic).
        let candidates: Vec<usize> = match named.first() {
            Some(job) => scraping.get(job.as_str()).cloned().unwrap_or_default(),
            None => (0..universes.len()).collect(),
        };
        let mut routes: Vec<String> = candidates
            .into_iter()
            .filter_map(|position| universes.get_index(position))
            .filter(|(_, universe)| named.iter().all(|job| universe.has_job(job)))
            .filter(|(_, universe)| ast.as_ref().is_none_or(|ast| scrape::unscraped_in(ast, universe).is_none()))
            .map(|(evaluator, _)| match evaluator {
                Evaluator::Hosts => "estate".to_string(),
                Evaluator::Cluster(name) => format!("cluster-{name}"),
            })
            .collect();
        if routes.is_empty() {
            routes.push("estate".into());
        }
        let last = routes.pop().expect("one route at least");
        for route in routes {
            planner.push(route, planned.clone());
        }
        planner.push(last, planned);
    }
    for service in &model.services {
        planner.service(service, &mut shapes);
    }
    for backup in &model.backups {
        planner.backup(index, backup);
    }
    for workflow in &model.workflows {
        planner.workflow(index, workflow);
    }
    for slo in &model.slos {
        let only_names = planner.only_names;
        let planned = crate::slo::plan(index, slo, &universes, &mut shapes, &mut |base| planner.unique(base));
        if let Some((area, rules, mut found)) = planned {
            planner.diagnostics.append(&mut found);
            if let Some(area) = planner.areas.get_mut(&area).filter(|_| !only_names) {
                area.slos.push(rules);
            }
        }
    }
    let diagnostics = planner.diagnostics;
    let areas = planner.areas.into_values().filter(|a| !a.alerts.is_empty() || !a.slos.is_empty()).collect();
    (areas, universes, diagnostics)
}

/// The jobs the spec's own alerts already report down ([`down`]): by name for a `job="…"`
/// matcher, else the matchers to try (a regex).
#[derive(Default)]
struct ReportedDown {
    named: HashSet<String>,
    matched: Vec<Vec<Matcher>>,
}

impl ReportedDown {
    fn note(&mut self, expr: &str, shapes: &mut ShapeCache) {
        let Some(jobs) = down::down_jobs(expr, shapes) else { return };
        match jobs.as_slice() {
            [job] if job.op == MatchOp::Equal => {
                self.named.insert(job.value.clone());
            }
            _ => self.matched.push(jobs),
        }
    }

    fn covers(&self, job: &str) -> bool {
        self.named.contains(job) || self.matched.iter().any(|jobs| down::covers(jobs, job))
    }
}

struct Planner<'m, 'u> {
    /// Whether generated alerts are only named, not written (see [`Planner::generated`]).
    only_names: bool,
    clusters: HashMap<&'m str, &'m Resource<Cluster>>,
    names: HashSet<String>,
    areas: IndexMap<String, Area<'m>>,
    diagnostics: Vec<Diagnostic>,
    universes: &'u Universes<'m>,
    /// The jobs top-level alerts report down.
    reported_down: ReportedDown,
    /// The jobs of the services with `metrics` (and their colours'), which the graph rules know
    /// (W0604).
    exporting: HashSet<String>,
    /// The health checks a blackbox exporter probes, by service.
    probes: HashMap<&'m str, probes::Probed<'m>>,
}

/// `ipfs-down` → `IpfsDown`.
pub(crate) fn camel(name: &str) -> String {
    name.split(['-', '_'])
        .flat_map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>())
        })
        .collect()
}

pub(crate) fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Whether `name` is a label name Prometheus accepts and does not reserve.
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// The matchers of a node exporter's series, as its scrape job labels them.
pub(super) fn node_exporter(node: &str) -> String {
    format!("job={}, instance={}", promql_string(NODE_JOB), promql_string(&host_instance(node, NODE_EXPORTER_PORT)))
}

impl<'m> Planner<'m, '_> {
    /// A unique alert name from `base`, suffixed `2`, `3`, … when taken.
    fn unique(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut n = 2;
        while !self.names.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    fn push(&mut self, area: String, planned: impl Into<Option<Planned>>) {
        if let (Some(area), Some(planned)) = (self.areas.get_mut(&area), planned.into()) {
            area.alerts.push(planned);
        }
    }

    fn area_of(on: &PlacementRef) -> String {
        format!("{}-{}", on.kind, on.name)
    }

    fn namespace(&self, cluster: &str) -> &'m str {
        self.clusters.get(cluster).map_or("default", |c| c.spec.first_namespace())
    }

    /// The namespace a service or storage on `cluster` chose (its `namespace`, else the only one):
    /// where its pods, claims and k8up Schedule are, so where the series about them come from.
    fn namespace_of(&self, cluster: &str, chosen: Option<&Spanned<String>>) -> &'m str {
        let Some(c) = self.clusters.get(cluster) else { return "default" };
        let index = c.spec.namespace_of(chosen).unwrap_or(0);
        c.spec.namespaces(c.name_span).get(index).map_or_else(|| c.spec.first_namespace(), |n| n.name)
    }

    /// An alert written in the spec, top-level or owned by a service (`base` labels first).
    fn declared(
        &mut self,
        name: &str,
        alert: &Alert,
        what: &str,
        mut labels: IndexMap<String, String>,
        origin: Span,
    ) -> Planned {
        let alert_name = self.unique(camel(name));
        labels.shift_insert(0, "severity".into(), severity(alert.severity.value).into());
        for (label, value) in &alert.labels {
            if is_label_name(label) {
                labels.insert(label.clone(), template_text(&value.value));
            } else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1501,
                        value.span,
                        format!("{what}: `{label}` is not a Prometheus label name"),
                    )
                    .with_primary_label("the value of this label")
                    .with_help(
                        "label names are letters, digits and `_`, start with a letter, and do not start with `__`",
                    ),
                );
            }
        }
        let mut annotations = IndexMap::new();
        let mut template_spans = Vec::new();
        let summary = match &alert.summary {
            Some(summary) => {
                template_spans.push(("summary", summary.span));
                summary.value.clone()
            }
            None => template_text(&format!("{what} is firing")),
        };
        annotations.insert("summary".into(), summary);
        let pending = alert.pending_for.as_ref().map_or(0, |d| d.value.0);
        let description = match &alert.description {
            Some(description) => {
                template_spans.push(("description", description.span));
                description.value.clone()
            }
            // An alert without `for` fires as soon as its condition holds.
            None if pending == 0 => template_text(&format!("The condition `{}` holds.", alert.expr.value)),
            None => template_text(&format!(
                "The condition `{}` has held for {}.",
                alert.expr.value,
                format_duration(pending)
            )),
        };
        annotations.insert("description".into(), description);
        annotations.insert(
            "runbook".into(),
            template_text(&format!(
                "Query `{}` in Prometheus to see which series match and since when. Fix the cause and the alert \
                 resolves by itself; to change the alert, edit {what} in the spec and run `spec build`.",
                alert.expr.value
            )),
        );
        Planned {
            rule: Rule {
                record: None,
                alert: alert_name,
                expr: alert.expr.value.clone(),
                pending_for: alert.pending_for.as_ref().map(|d| format_duration(d.value.0)),
                labels,
                annotations,
            },
            pending_ms: pending,
            expr_span: alert.expr.span,
            template_spans,
            origin,
            generated: false,
            owner: Vec::new(),
            names_unknown_job: false,
        }
    }

    /// A generated alert: a fixed `for`, labels from the resource, literal annotations. `write`
    /// gives its expression and its summary, description and runbook; when the planner only names
    /// generated alerts (`spec check`, which derives no test for them: [`Planned::generated`]),
    /// the name is taken, so the spec's own alerts are named as in a build, and `None` returned.
    fn generated(
        &mut self,
        base: String,
        level: Severity,
        labels: &[(&str, &str)],
        span: Span,
        write: impl FnOnce(&Self) -> (String, [String; 3]),
    ) -> Option<Planned> {
        let alert = self.unique(base);
        if self.only_names {
            return None;
        }
        let (expr, texts) = write(self);
        let mut rule_labels = IndexMap::new();
        rule_labels.insert("severity".to_string(), severity(level).to_string());
        for (name, value) in labels {
            rule_labels.insert(name.to_string(), template_text(value));
        }
        let [summary, description, runbook] = texts.map(|t| template_text(&t));
        let annotations = IndexMap::from([
            ("summary".to_string(), summary),
            ("description".to_string(), description),
            ("runbook".to_string(), runbook),
        ]);
        Some(Planned {
            rule: Rule {
                record: None,
                alert,
                expr,
                pending_for: Some(format_duration(GENERATED_FOR_MS)),
                labels: rule_labels,
                annotations,
            },
            pending_ms: GENERATED_FOR_MS,
            expr_span: span,
            template_spans: Vec::new(),
            origin: span,
            generated: true,
            owner: Vec::new(),
            names_unknown_job: false,
        })
    }

    fn names_unknown_job(&self, expr: &str, shapes: &mut ShapeCache) -> bool {
        scrape::named_jobs(expr, shapes).iter().any(|job| !self.exporting.contains(job.as_str()))
    }

    /// The targets of what is placed at `on`: the job's, then the node's exporter.
    fn owner(&self, kind: &str, place: &str, job: Option<&str>) -> Vec<TargetLabels> {
        let evaluator = if kind == Kind::Cluster.as_str() { Evaluator::Cluster(place) } else { Evaluator::Hosts };
        let Some(universe) = self.universes.get(&evaluator) else { return Vec::new() };
        let mut owner: Vec<TargetLabels> = job.map(|job| universe.job(job).cloned().collect()).unwrap_or_default();
        if kind == Kind::Node.as_str() {
            let exporter = host_instance(place, NODE_EXPORTER_PORT);
            owner.extend(universe.job_at(NODE_JOB, &exporter).cloned());
        }
        owner
    }

    /// Whether `node` runs the node exporter the generated node alerts read (NixOS nodes do); W1502
    /// at `what` otherwise, which then gets no alert.
    fn exported(&mut self, index: &Index<'m>, node: &str, what: String, alert: &str, span: Span) -> bool {
        if index.node(node).is_some_and(|n| n.spec.os.value == Os::Nixos) {
            return true;
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::W1502,
                span,
                format!("{what} gets no `{alert}` alert: node `{node}` runs no node exporter to report its units"),
            )
            .with_primary_label("not monitored")
            .with_help("the NixOS back end runs the node exporter on NixOS nodes; watch this one by other means"),
        );
        false
    }

    fn service(&mut self, service: &'m Resource<Service>, shapes: &mut ShapeCache) {
        let area = Self::area_of(&service.spec.on);
        let owner = self.owner(&service.spec.on.kind, &service.spec.on.name, Some(&service.name));
        let mut reported_down = self.reported_down.covers(&service.name);
        let colours = spec_compiler::target::colours_job(&service.name);
        let mut colours_reported = false;
        for (name, alert) in &service.spec.alert {
            let jobs = down::down_jobs(&alert.value.expr.value, shapes);
            reported_down |= jobs.as_ref().is_some_and(|jobs| down::covers(jobs, &service.name));
            colours_reported |= jobs.as_ref().is_some_and(|jobs| down::covers(jobs, &colours));
            let what = format!("alert `{name}` of service `{}`", service.name);
            let labels = IndexMap::from([("service".to_string(), template_text(&service.name))]);
            let mut planned =
                self.declared(&format!("{}-{name}", service.name), &alert.value, &what, labels, alert.span);
            planned.owner = owner.clone();
            planned.names_unknown_job = self.names_unknown_job(&alert.value.expr.value, shapes);
            self.push(area.clone(), planned);
        }
        self.probe_failed(service);
        let Some(metrics) = &service.spec.metrics else { return };
        if let Some(port) = service.spec.ports.get(metrics.value.port.value.0.as_str()) {
            self.idle_colour_down(service, port.value.number, colours_reported);
        }
        if reported_down {
            return;
        }
        let svc = &service.name;
        let base = format!("{}TargetDown", camel(svc));
        // The service's tier sets how urgent its being down is (critical without one).
        let severity = service.spec.generated_severity();
        let planned = self.generated(base, severity, &[("service", svc)], service.name_span, |planner| {
            let port = &metrics.port.value.0;
            let path = metrics.path.as_ref().map_or("/metrics", |p| p.value.as_str());
            let on = &service.spec.on;
            let check = if on.kind == "cluster" {
                format!(
                    "On cluster {}, look at the pods of {svc} in namespace {} (kubectl describe, kubectl logs)",
                    on.name,
                    planner.namespace_of(&on.name, service.spec.namespace.as_ref())
                )
            } else {
                format!("On node {}, look at the unit of {svc} (systemctl status, journalctl)", on.name)
            };
            let texts = [
                format!("Service {svc} is down: Prometheus cannot scrape it"),
                format!("Prometheus has failed to scrape service {svc} (port {port}, path {path}) for 5m."),
                format!(
                    "{check}; check that port {port} answers {path}, and read the scrape error on Prometheus's \
                     Targets page for job {svc}."
                ),
            ];
            (format!("up{{job={}}} == 0", promql_string(svc)), texts)
        });
        self.push(area, planned.map(|planned| Planned { owner, ..planned }));
    }

    /// `<Backup>BackupStale` for a backup with `rpo` (its most frequent copy), and
    /// `<Copy>OffsiteStale` for each offsite copy with an `rpo` of its own (the loss of the site).
    fn backup(&mut self, index: &Index<'m>, backup: &'m Resource<Backup>) {
        let Some(on) = index.backup_place(&backup.spec) else { return };
        let name = &backup.name;
        if on.kind == Kind::Cluster.as_str() {
            self.cluster_restore_test(index, backup, on);
        }
        if on.kind == Kind::Node.as_str() {
            // The objective that asks for an alert, where it is written: the backup's `rpo`, else
            // the first copy with one of its own (an `OffsiteStale` alert).
            let copies = backup.spec.copies(name);
            let asked = match &backup.spec.rpo {
                Some(rpo) => Some(("BackupStale", rpo.span)),
                None => copies.iter().find(|c| c.restic.rpo.is_some()).map(|c| ("OffsiteStale", c.span)),
            };
            let Some((alert, span)) = asked else { return };
            if !self.exported(index, &on.name, format!("backup `{name}`"), alert, span) {
                return;
            }
            if backup.spec.rpo.is_some() {
                self.restore_test(backup, &on.name);
            }
        }
        // What is copied, for the description: a storage, or a service's dump.
        let source = match backup.spec.service() {
            Some(service) => format!("the dump of service {service}"),
            None => format!("storage {}", backup.spec.source.name),
        };
        let owner = self.owner(&on.kind, &on.name, None);
        // On a cluster, the namespace the storage (or the dumped service) chose: where its k8up
        // Schedule runs.
        let chosen = restore_tests::chosen_namespace(index, &backup.spec);
        // The copy the backup's own alert watches (its most frequent; on a cluster the first):
        // a copy's alert would repeat it when the backup's RPO is as strict.
        let snapshots = backup.spec.snapshots.as_ref().map(|s| s.every.value.0);
        let copies = backup.spec.copies(name);
        let most_frequent = copies.iter().min_by_key(|c| c.restic.every.0);
        let watched = match on.kind.as_str() {
            "cluster" => copies.first(),
            _ => most_frequent.filter(|c| snapshots.is_none_or(|s| c.restic.every.0 < s)),
        }
        .map(|c| c.name.clone());
        for copy in copies {
            let Some(rpo) = copy.restic.rpo else { continue };
            let repeated = backup.spec.rpo.as_ref().is_some_and(|r| r.value.0 <= rpo.0);
            if repeated && watched.as_deref() == Some(copy.name.as_str()) {
                continue;
            }
            let rpo_text = format_duration(rpo.0);
            let what = format!("restic every {}", format_duration(copy.restic.every.0));
            let (expr, runbook) =
                self.stale(on, &format!("restic-backups-{}", copy.name), &copy.name, rpo.0 / 1000, chosen);
            let texts = [
                format!("The offsite copy {} of backup {name} is older than its RPO of {rpo_text}", copy.name),
                format!(
                    "The newest offsite copy {} of {source} ({what}) is older than the recovery point objective of \
                     {rpo_text} for the loss of the site, or its last run failed.",
                    copy.name
                ),
                runbook,
            ];
            let base = format!("{}OffsiteStale", camel(&copy.name));
            let labels = [("backup", name.as_str())];
            let planned = self.generated(base, Severity::Warning, &labels, copy.span, |_| (expr, texts));
            self.push(Self::area_of(on), planned.map(|planned| Planned { owner: owner.clone(), ..planned }));
        }
        let Some(rpo) = &backup.spec.rpo else { return };
        let rpo_text = format_duration(rpo.value.0);
        let rpo_seconds = rpo.value.0 / 1000;
        let (expr, copy, runbook) = if on.kind == "cluster" {
            let (expr, runbook) = self.stale(on, "", name, rpo_seconds, chosen);
            (expr, "the k8up backup".to_string(), runbook)
        } else {
            let snapshots = backup.spec.snapshots.as_ref().map(|s| s.every.value.0);
            // The most frequent offsite copy (the first of equals), with its job's name.
            let offsite = backup
                .spec
                .copies(name)
                .into_iter()
                .map(|c| (c.restic.every.0, c.name))
                .min_by_key(|(every, _)| *every);
            // The RPO rests on the most frequent copy (the graph rules check that it meets it).
            let (unit, copy) = match (snapshots, offsite) {
                (Some(s), Some((o, job))) if o < s => {
                    (format!("restic-backups-{job}"), format!("restic every {}", format_duration(o)))
                }
                (Some(s), _) => ("sanoid".to_string(), format!("ZFS snapshots every {}", format_duration(s))),
                (None, Some((o, job))) => {
                    (format!("restic-backups-{job}"), format!("restic every {}", format_duration(o)))
                }
                (None, None) => return,
            };
            let (expr, runbook) = self.stale(on, &unit, name, rpo_seconds, chosen);
            (expr, copy, runbook)
        };
        let texts = [
            format!("Backup {name} is older than its RPO of {rpo_text}"),
            format!(
                "The newest copy of {source} ({copy}) is older than the recovery point objective of {rpo_text}, \
                 or its last run failed."
            ),
            runbook,
        ];
        let base = format!("{}BackupStale", camel(name));
        let planned = self.generated(base, Severity::Warning, &[("backup", name)], backup.name_span, |_| (expr, texts));
        self.push(Self::area_of(on), planned.map(|planned| Planned { owner, ..planned }));
    }

    /// The expression and runbook of a stale copy: on a node, the `unit`'s timer last triggered
    /// longer than `rpo_seconds` ago or its service failed; on a cluster, the k8up Schedule
    /// `schedule`'s last backup job failed.
    fn stale(
        &self,
        on: &PlacementRef,
        unit: &str,
        schedule: &str,
        rpo_seconds: u64,
        chosen: Option<&Spanned<String>>,
    ) -> (String, String) {
        if on.kind == "cluster" {
            let namespace = self.namespace_of(&on.name, chosen);
            let expr = format!(
                "k8up_schedule_last_job_succeeded{{namespace={}, schedule={}, jobType=\"backup\"}} == 0",
                promql_string(namespace),
                promql_string(schedule)
            );
            let runbook = format!(
                "On cluster {}, read the k8up Schedule {schedule} in namespace {namespace} and the logs of its last \
                 backup job; k8up reports whether the last job succeeded, not its age.",
                on.name
            );
            return (expr, runbook);
        }
        let exporter = node_exporter(&on.name);
        let expr = format!(
            "(time() - node_systemd_timer_last_trigger_seconds{{{exporter}, name={}}} > {rpo_seconds}) \
             or (node_systemd_unit_state{{{exporter}, name={}, state=\"failed\"}} == 1)",
            promql_string(&format!("{unit}.timer")),
            promql_string(&format!("{unit}.service")),
        );
        let runbook = format!(
            "On node {}, `systemctl status {unit}.service` and `journalctl -u {unit}.service` show the last \
             run, `systemctl list-timers {unit}.timer` the next; once the cause is fixed, start a run with \
             `systemctl start {unit}.service`.",
            on.name
        );
        (expr, runbook)
    }

    fn workflow(&mut self, index: &Index<'m>, workflow: &'m Resource<Workflow>) {
        let Some(schedule) = &workflow.spec.schedule else { return };
        let Some(period) = cron_period_ms(&schedule.value) else { return };
        let on = &workflow.spec.on;
        if on.kind == Kind::Node.as_str()
            && !self.exported(
                index,
                &on.name,
                format!("workflow `{}`", workflow.name),
                "WorkflowOverdue",
                workflow.name_span,
            )
        {
            return;
        }
        // One run may be late by up to an hour (or a period, for frequent schedules).
        let threshold = period + period.min(3_600_000);
        let name = &workflow.name;
        let (expr, runbook, failed) = if on.kind == "cluster" {
            let namespace = self.namespace(&on.name);
            let expr = format!(
                "increase(argo_workflows_cronworkflows_triggered_total{{name={}, namespace={}}}[{}]) == 0",
                promql_string(name),
                promql_string(namespace),
                format_duration(threshold)
            );
            let runbook = format!(
                "On cluster {}, `argo cron get {name} -n {namespace}` shows the last and next runs, `argo list -n \
                 {namespace}` the workflows it started.",
                on.name
            );
            (expr, runbook, "")
        } else {
            let exporter = node_exporter(&on.name);
            let steps: Vec<String> =
                workflow.spec.step.value.keys().map(|step| regex_literal(&format!("{name}-{step}.service"))).collect();
            let expr = format!(
                "(time() - node_systemd_timer_last_trigger_seconds{{{exporter}, name={}}} > {}) \
                 or (node_systemd_unit_state{{{exporter}, name=~{}, state=\"failed\"}} == 1)",
                promql_string(&format!("{name}.timer")),
                threshold / 1000,
                promql_string(&steps.join("|")),
            );
            let runbook = format!(
                "On node {}, `systemctl list-timers {name}.timer` shows the last and next runs and `systemctl \
                 status '{name}-*'` the steps; read a failed step's journal, fix it, then `systemctl start \
                 {name}.service`.",
                on.name
            );
            (expr, runbook, ", or one of its steps failed")
        };
        let texts = [
            format!("Workflow {name} has not run on its schedule"),
            format!(
                "Workflow {name} (schedule {}) has not been started for {}{failed}.",
                schedule.value,
                format_duration(threshold)
            ),
            runbook,
        ];
        let base = format!("{}WorkflowOverdue", camel(name));
        let planned =
            self.generated(base, Severity::Warning, &[("workflow", name)], workflow.name_span, |_| (expr, texts));
        let owner = self.owner(&on.kind, &on.name, None);
        self.push(Self::area_of(on), planned.map(|planned| Planned { owner, ..planned }));
    }
}

/// The longest time between two runs of a five-field cron schedule, as an upper bound read from
/// its fields: a fixed month means a year, a fixed day a month, a fixed weekday a week, fixed hours
/// a day (`*/n` hours: n hours), fixed minutes an hour (`*/n` minutes: n minutes).
fn cron_period_ms(schedule: &str) -> Option<u64> {
    const MINUTE: u64 = 60_000;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [minute, hour, day, month, weekday] = fields.as_slice() else { return None };
    let step = |field: &str| field.strip_prefix("*/").and_then(|n| n.parse::<u64>().ok());
    Some(if *month != "*" {
        366 * DAY
    } else if *day != "*" {
        31 * DAY
    } else if *weekday != "*" {
        7 * DAY
    } else if let Some(n) = step(hour) {
        n * HOUR
    } else if *hour != "*" {
        DAY
    } else if let Some(n) = step(minute) {
        n * MINUTE
    } else if *minute != "*" {
        HOUR
    } else {
        MINUTE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_camel_case() {
        assert_eq!(camel("ipfs-down"), "IpfsDown");
        assert_eq!(camel("worker-1"), "Worker1");
    }

    #[test]
    fn label_names_follow_prometheus() {
        assert!(is_label_name("team") && is_label_name("_x1"));
        assert!(!is_label_name("my-team") && !is_label_name("1a") && !is_label_name("__name__") && !is_label_name(""));
    }

    #[test]
    fn cron_periods_are_upper_bounds() {
        assert_eq!(cron_period_ms("0 3 * * *"), Some(86_400_000));
        assert_eq!(cron_period_ms("*/15 * * * *"), Some(900_000));
        assert_eq!(cron_period_ms("0 */6 * * *"), Some(6 * 3_600_000));
        assert_eq!(cron_period_ms("0 3 * * 1"), Some(7 * 86_400_000));
    }
}
