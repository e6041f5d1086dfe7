//! A canary's analysis (`rollout = canary { …, analysis { query, max, min, every, failures } }`):
//! what Argo Rollouts will measure must be a measurement it can make and judge.
//!
//! - E0765 invalid-canary-analysis: no bound (nothing could fail), a bound that is no number,
//!   `min` above `max` (nothing could pass), an interval that is zero or not whole seconds (Argo
//!   counts in seconds). (`failures = 0` is refused by the schema's range, E0307.)
//! - E0611 invalid-promql: the query does not parse, as an alert's expression.
//! - E0766 analysis-job-unscraped: a `job="…"` matcher names no service exporting `metrics` on the
//!   canary's cluster. The cluster's Prometheus scrapes each such service as the job of its name
//!   (the ServiceMonitor the Kubernetes back end writes), and nothing else spec knows of: a query
//!   selecting another job returns no series, and a measurement without a value passes (as an
//!   error counter that has no series yet must), so the analysis could never fail and a bad
//!   canary would be promoted. Unlike an alert's W0604, this silently removes the rollback.
//!
//! One pass over the services; the exporters of each cluster are one set built up front.

use rustc_hash::FxHashSet;

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Analysis, Resource, Rollout, Service};
use crate::promql::ShapeCache;

/// Checks the analysis of every canary.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    // (cluster, service) for every service exporting metrics on a cluster.
    let exporters: FxHashSet<(&str, &str)> = estate
        .model
        .services
        .iter()
        .filter(|s| s.spec.metrics.is_some() && s.spec.on.value.kind == "cluster")
        .map(|s| (s.spec.on.value.name.as_str(), s.name.as_str()))
        .collect();
    let mut shapes = ShapeCache::default();
    for service in &estate.model.services {
        let Some(rollout) = &service.spec.rollout else { continue };
        let Rollout::Canary { analysis: Some(analysis), .. } = &rollout.value else { continue };
        bounds(service, &analysis.value, analysis.span, diagnostics);
        let cluster = match estate.place(&service.spec.on) {
            Some(Place::Cluster(cluster)) => Some(cluster.name.as_str()),
            _ => None,
        };
        query(service, &analysis.value, cluster, &exporters, &mut shapes, diagnostics);
    }
}

/// E0765 for an analysis that cannot judge.
fn bounds(service: &Resource<Service>, analysis: &Analysis, span: crate::source::Span, out: &mut Vec<Diagnostic>) {
    let error = |span, message: String, label: String, help: &str| {
        Diagnostic::new(Code::E0765, span, message).with_primary_label(label).with_help(help)
    };
    if analysis.max.is_none() && analysis.min.is_none() {
        out.push(
            error(
                span,
                format!("the canary analysis of service `{}` has no bound", service.name),
                "no `max` and no `min`".into(),
                "say what passes: `max = \"0.01\"` for an error ratio, `min = \"0.99\"` for a success ratio",
            )
            .with_note(
                "a measurement fails when its value is above `max` or below `min`; without either nothing fails",
            ),
        );
    }
    let mut numbers = [None, None];
    for (i, (field, bound)) in [("max", &analysis.max), ("min", &analysis.min)].into_iter().enumerate() {
        let Some(bound) = bound else { continue };
        match bound.value.literal() {
            Ok(_) => numbers[i] = bound.value.value(),
            Err(why) => out.push(error(
                bound.span,
                format!("the `{field}` of the canary analysis of service `{}`: {why}", service.name),
                "not a number".into(),
                "write an integer (`max = 0`) or a decimal number as text (`max = \"0.01\"`)",
            )),
        }
    }
    if let ([Some(max), Some(min)], Some(high), Some(low)) = (numbers, &analysis.max, &analysis.min)
        && min > max
    {
        out.push(
            error(
                low.span,
                format!("the canary analysis of service `{}` passes nothing: `min` is above `max`", service.name),
                "above the maximum".into(),
                "lower `min` or raise `max`: a value passes when it lies between them",
            )
            .with_label(high.span, "the maximum"),
        );
    }
    if let Some(every) = &analysis.every
        && (every.value.0 == 0 || !every.value.0.is_multiple_of(1000))
    {
        out.push(
            error(
                every.span,
                format!("the canary analysis of service `{}` measures at no whole-second interval", service.name),
                match every.value.0 {
                    0 => "no time between measurements".to_string(),
                    ms => format!("{ms} milliseconds"),
                },
                "measure every whole number of seconds, no faster than Prometheus scrapes (`every = 1m`)",
            )
            .with_note("Argo Rollouts counts an analysis interval in seconds"),
        );
    }
}

/// E0611 for a query that is not PromQL, E0766 for a job matcher the cluster's Prometheus never
/// scrapes.
fn query(
    service: &Resource<Service>,
    analysis: &Analysis,
    cluster: Option<&str>,
    exporters: &FxHashSet<(&str, &str)>,
    shapes: &mut ShapeCache,
    out: &mut Vec<Diagnostic>,
) {
    let query = &analysis.query;
    let ast = match shapes.parse_restored(&query.value) {
        Ok(ast) => ast,
        Err(error) => {
            let error = error.lines().next().unwrap_or("").trim().to_string();
            out.push(
                Diagnostic::new(
                    Code::E0611,
                    query.span,
                    format!("the canary analysis of service `{}`: invalid PromQL: {error}", service.name),
                )
                .with_primary_label("not valid PromQL")
                .with_help("write a query Prometheus accepts, such as `sum(rate(http_errors_total{job=\"api\"}[5m]))`"),
            );
            return;
        }
    };
    // Off a cluster the canary has no Prometheus to ask (W1130 refuses it on a node).
    let Some(cluster) = cluster else { return };
    let mut jobs = Vec::new();
    super::alerts::job_matchers(&ast, &mut jobs);
    jobs.sort();
    jobs.dedup();
    for job in jobs {
        if exporters.contains(&(cluster, job.as_str())) {
            continue;
        }
        let mut candidates: Vec<&str> =
            exporters.iter().filter(|(c, _)| *c == cluster).map(|(_, name)| *name).collect();
        candidates.sort_unstable();
        out.push(
            Diagnostic::new(
                Code::E0766,
                query.span,
                format!(
                    "the canary analysis of service `{}` selects job `{job}`, which no service exporting metrics on cluster `{cluster}` has",
                    service.name
                ),
            )
            .with_primary_label(format!("`job=\"{job}\"` selects no series"))
            .with_note("every measurement would find no value and pass: the analysis could never stop a failing canary")
            .with_help(match candidates.as_slice() {
                [] => "give the service `metrics { port = … }`: the cluster's Prometheus scrapes it as the job of its name".to_string(),
                names => format!("select a job the cluster's Prometheus scrapes: {}", names.join(", ")),
            }),
        );
    }
}
