//! The Prometheus back end: alerting rule files and a promtool unit test for every alert.
//!
//! # Output
//!
//! `prometheus/<area>.rules.yml` holds one rule group per estate area, named like the file:
//! `estate` (the spec's top-level `alert` blocks the hosts' Prometheus evaluates), `node-<name>`
//! and `cluster-<name>` (what is placed there: its services' own alerts, including those presets
//! bring, and the generated alerts below; a cluster's area also holds the top-level alerts its
//! Prometheus evaluates). Beside each, `prometheus/<area>.test.yml` is a promtool unit test that,
//! for every alert, feeds series that must fire it (with the exact labels and annotations expected)
//! and series that must not. Tests are derived from the alert's PromQL ([`derive`]) and the scrape
//! configuration ([`scrape`]): every series carries the `job` and `instance` of a target its
//! Prometheus really scrapes, so a selector no target carries gets W1502 instead of a test that
//! passes on series no Prometheus would hold. An alert whose shape the generator does not know
//! keeps its rule and gets W1501 instead of a test.
//!
//! # Who evaluates what
//!
//! The hosts' Prometheus (a NixOS node running one, such as `std.prometheus`) reads `estate` and
//! every `node-*` file; a cluster's Prometheus reads its area through the Kubernetes back end's
//! `PrometheusRule`. A top-level alert goes to every Prometheus with a target each of its
//! selectors naming `job` or `instance` can match (to all of them when it names neither), so no
//! Prometheus evaluates an alert twice and none evaluates one that can never fire there.
//!
//! # Generated alerts
//!
//! - `<Service>TargetDown`, critical (or as the service's `tier` says: `normal` warning, `low` info),
//!   for every service with `metrics`: `up{job="<service>"} == 0`
//!   for 5m (a service's scrape job is its name). Left out when the spec's own alert (top-level
//!   or the service's) already fires on `up{job=…} == 0` for that job (see `down.rs` for the
//!   exact shape), since it would page twice for one cause.
//! - `<Service>IdleColourDown`, warning (`info` for tier `low`), for every blue-green service with
//!   `metrics` whose colours are nodes, scraped from a Prometheus on its switch's node:
//!   `up{job="<service>_colours", instance="<idle colour's node>:<host port>"} == 0` for 5m. Only
//!   the idle colour: the active one is what the service's job reaches through the switch, which
//!   `TargetDown` watches; the idle one serves no client, but a rollback to it would fail. Left
//!   out when the spec's own alert fires on `up{job=…} == 0` for the colours' job.
//! - `<Backup>BackupStale`, warning, for every backup with an `rpo`, for 5m. Storage on a node: the
//!   node exporter's systemd collector (`--collector.systemd`), whose
//!   `node_systemd_timer_last_trigger_seconds{name="<unit>.timer"}` is older than the RPO, or whose
//!   `node_systemd_unit_state{name="<unit>.service",state="failed"}` is 1; the unit is the one the
//!   RPO rests on, the most frequent copy: `sanoid` for snapshots, `restic-backups-<backup>` for the
//!   offsite copy (the names the NixOS back end deploys). Last trigger is not last success: the
//!   failed state covers a run that fails. Storage on a cluster: k8up's
//!   `k8up_schedule_last_job_succeeded{namespace,schedule="<backup>",jobType="backup"} == 0`
//!   (k8up exports no backup timestamp, so there the alert is "the last backup failed").
//! - `<Backup>RestoreTestStale`, warning, for every backup with `verify`, for 5m (one per offsite
//!   copy, `<Backup>-2RestoreTestStale` …): on a node, the restore test's
//!   `spec_restore_test_last_success_timestamp_seconds{backup="<backup>"}`, written through the node
//!   exporter's textfile collector ([`scrape::TEXTFILE_DIRECTORY`]); on a cluster,
//!   kube-state-metrics' `kube_cronjob_status_last_successful_time{namespace, cronjob="restore-test-<copy>"}`
//!   of the test's `CronJob`; either older than the cadence (a day, a week, 31 days) plus a day.
//! - `<Workflow>WorkflowOverdue`, warning, for every workflow with a schedule, for 5m. The
//!   threshold is the schedule's longest gap (read from its cron fields) plus that gap or an hour,
//!   whichever is less. On a node: the run timer `<workflow>.timer` has not triggered within it, or
//!   a step unit `<workflow>-<step>.service` failed. On a cluster: Argo Workflows'
//!   `argo_workflows_cronworkflows_triggered_total{name,namespace}` did not grow within it.
//! - `<Service>ProbeFailed`, critical (or as the service's `tier` says), for every HTTP health check the blackbox exporter probes
//!   ([`scrape::host_probes`]), for 5m: `probe_success{job="health_probe", instance="<node>:<port>"} == 0`.
//! - `<Slo>ErrorBudgetBurn` (critical) and `<Slo>ErrorBudgetDrain` (warning) for every `slo`,
//!   reading the objective's recording rules, which the area's group holds before its alerts
//!   (`slo.rs`).
//!
//! Node exporters' series are selected as their scrape job labels them:
//! `job="node", instance="<node>:9100"`. A backup or workflow on a node that runs no node exporter
//! (not NixOS) gets no such alert, and W1502 says so.
//!
//! # Names, labels, annotations
//!
//! Alert names are CamelCase from spec names (`ipfs-down` → `IpfsDown`, alert `down` of service
//! `db` → `DbDown`), unique in the estate: a name already taken gets `2`, `3`, … in estate order
//! (top-level alerts, services' alerts, generated alerts). Labels: `severity` (`critical`,
//! `warning`, `info`), then `service`, `backup` or `workflow` naming the owner, then the alert's
//! own `labels`, which win on a clash; a label name Prometheus refuses is E1501. Annotations:
//! `summary` and `description` are the alert's own when written (Prometheus templates, on
//! purpose, passed through), otherwise generated; `runbook` says where to look and what to do.
//! Every text spec writes (generated annotations, label values) goes through
//! [`escape::template_text`], so a name or expression can never open a `{{` action.
//!
//! # Public API
//!
//! [`rule_groups`] gives the groups as [`RuleGroup`]/[`Rule`] values, the shape of a
//! prometheus-operator `PrometheusRule`'s `spec.groups`, for the Kubernetes back end; [`Scope`]
//! selects every area or one cluster's.

pub mod derive;
mod down;
pub mod escape;
mod output;
mod rules;
pub mod scrape;
mod slo;
pub mod template;

use std::collections::HashMap;

use spec_compiler::parallel;
use spec_compiler::target::{Context, Generated, Index, Target};

pub use output::yaml;
pub use rules::{Rule, RuleGroup};

/// Which alerts [`rule_groups`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every area's: the estate's own alerts, each node's and each cluster's.
    Everything,
    /// Only the named cluster's area: alerts of services placed on it (their own and
    /// `TargetDown`), backups of its volumes and its workflows.
    Cluster(&'a str),
}

/// The estate's rule groups in `scope`, in estate order (`estate`, nodes, clusters). Names are
/// the same whatever the scope. Label names Prometheus refuses are left out here; the target
/// reports them (E1501).
pub fn rule_groups(index: &Index<'_>, scope: Scope<'_>) -> Vec<RuleGroup> {
    let (areas, _, _) = rules::plan(index, rules::GeneratedAlerts::Written);
    areas
        .into_iter()
        .filter(|area| match scope {
            Scope::Everything => true,
            Scope::Cluster(name) => area.cluster == Some(name),
        })
        .map(group_of)
        .collect()
}

/// Every cluster's rule groups (what [`rule_groups`] gives for `Scope::Cluster`), by cluster
/// name, from one plan of the estate: a back end writing each cluster's groups plans once, not
/// once per cluster (which grew with clusters × alerts).
pub fn cluster_rule_groups(index: &Index<'_>) -> HashMap<String, Vec<RuleGroup>> {
    let (areas, _, _) = rules::plan(index, rules::GeneratedAlerts::Written);
    let mut by_cluster: HashMap<String, Vec<RuleGroup>> = HashMap::new();
    for area in areas {
        if let Some(cluster) = area.cluster {
            by_cluster.entry(cluster.to_string()).or_default().push(group_of(area));
        }
    }
    by_cluster
}

/// An area's rules as one group: its SLOs' recording rules, its alerts, its SLOs' alerts.
fn group_of(area: rules::Area<'_>) -> RuleGroup {
    let mut rules: Vec<Rule> = area.slos.iter().flat_map(|s| s.records.iter().cloned()).collect();
    rules.extend(area.alerts.into_iter().map(|a| a.rule));
    rules.extend(area.slos.into_iter().flat_map(|s| s.alerts));
    RuleGroup { name: area.name, rules }
}

/// The Prometheus target.
pub struct Prometheus;

impl Target for Prometheus {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn generate(&self, context: &Context<'_>) -> Generated {
        let index = Index::new(context.model);
        let (areas, universes, mut diagnostics) = rules::plan(&index, rules::GeneratedAlerts::Written);
        let mut derivations = output::derive_all(&areas, &universes, output::alert_tests).into_iter();
        let derived: Vec<_> =
            areas.iter().map(|area| (area, derivations.by_ref().take(area.alerts.len()).collect())).collect();
        // Each area's files are written on their own; the split follows the alerts, of which the
        // estate's own area may hold half.
        let written = parallel::map_weighted(
            derived,
            |(area, _)| area.alerts.len(),
            1_000,
            |part| {
                let mut written = (Vec::new(), Vec::new());
                for (area, own) in part {
                    written.0.extend(output::area_files(context, area, own, &mut written.1));
                }
                written
            },
        );
        let mut files = Vec::new();
        for (mut part_files, mut part_diagnostics) in written {
            files.append(&mut part_files);
            diagnostics.append(&mut part_diagnostics);
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Generated { files, diagnostics }
    }

    /// The same diagnostics as [`Target::generate`]: the plan's and the tests' (W1501), without
    /// writing the YAML (two thirds of the stage on a 10,000-service estate).
    fn check(&self, context: &Context<'_>) -> Vec<spec_compiler::diagnostics::Diagnostic> {
        let index = Index::new(context.model);
        // Generated alerts always get their test: only the spec's own are planned and derived.
        let (areas, universes, mut diagnostics) = rules::plan(&index, rules::GeneratedAlerts::Named);
        let alerts = areas.iter().flat_map(|area| &area.alerts);
        for (alert, problem) in alerts.zip(output::derive_all(&areas, &universes, output::test_problem)) {
            diagnostics.extend(problem.and_then(|problem| output::untested(alert, problem)));
        }
        diagnostics
    }
}
