//! Which metric names the estate's scrape targets provide, and the alerts that read a name none
//! of them does (W0655), where that is knowable.
//!
//! A service says what its metrics port serves with `metrics { provides = ["pg_"] }` (each entry a
//! prefix or a whole name; the exporter presets set it). A selector's metric name is checked
//! only when its providers are all known:
//!
//! - with a `job="X"` matcher, X is a service that declares `provides`: the name must start with
//!   one of them;
//! - without one, every service with `metrics` declares `provides` and no service on a cluster is
//!   deployed by a chart (which may ship scrape targets of its own, such as a ServiceMonitor): the
//!   name must start
//!   with one of anyone's, or be one the node exporter serves (`node_`) or spec writes through
//!   its textfile collector (`spec_`).
//!
//! Names every target carries (`up`, `scrape_*`, the Go and process collectors of client
//! libraries), `ALERTS` and recording rules' outputs (names with `:`) are never reported. Each
//! selector is looked at once and each lookup scans the few prefixes of one service (or of the
//! estate, gathered once), so the check is linear in the alerts.

use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, VectorSelector};
use rustc_hash::FxHashMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::model::Model;
use crate::model::types::Spanned;

/// Name prefixes every scrape target, or Prometheus itself, provides.
const UNIVERSAL: &[&str] = &["scrape_", "go_", "process_", "promhttp_"];

/// Whole names every target, or Prometheus itself, provides.
const UNIVERSAL_NAMES: &[&str] = &["up", "ALERTS", "ALERTS_FOR_STATE"];

/// Name prefixes served beside the services' own ports: the node exporter's, and the series spec
/// writes for it to read (restore tests).
const BESIDE: &[&str] = &["node_", "spec_"];

/// What the estate's services say their metrics ports serve.
pub(super) struct Providers<'m> {
    /// Each service with `metrics { provides }`, by name.
    by_service: FxHashMap<&'m str, &'m Spanned<Vec<String>>>,
    /// Every declared prefix, when the estate's providers are all known.
    estate: Option<Vec<&'m str>>,
}

impl<'m> Providers<'m> {
    pub(super) fn new(model: &'m Model) -> Providers<'m> {
        let mut by_service = FxHashMap::default();
        let mut known = true;
        for service in &model.services {
            // A chart deploys on a cluster only (presets bring one for that placement).
            known &= service.spec.helm.is_none() || service.spec.on.kind != "cluster";
            let Some(metrics) = &service.spec.metrics else { continue };
            match &metrics.value.provides {
                Some(provides) => {
                    by_service.insert(service.name.as_str(), provides);
                }
                None => known = false,
            }
        }
        let estate = known.then(|| {
            let mut prefixes: Vec<&str> =
                by_service.values().flat_map(|p| p.value.iter().map(String::as_str)).collect();
            prefixes.extend(BESIDE);
            prefixes.sort_unstable();
            prefixes.dedup();
            prefixes
        });
        Providers { by_service, estate }
    }

    /// Reports every selector of `ast` naming a metric its providers do not serve. `literals` are
    /// the strings the parse's placeholders stand for ([`crate::promql::ShapeCache::parse`]).
    pub(super) fn check(
        &self,
        name: &str,
        expr: &Spanned<String>,
        ast: &Expr,
        literals: &[String],
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        if self.by_service.is_empty() {
            return;
        }
        let literal = |text: &str| -> String {
            match text.parse::<usize>().ok().and_then(|i| literals.get(i)) {
                Some(literal) => literal.clone(),
                None => text.to_string(),
            }
        };
        let mut selectors = Vec::new();
        super::alerts::collect_selectors(ast, &mut selectors);
        for selector in selectors {
            let Some(metric) = metric_name(selector, &literal) else { continue };
            if universal(&metric) {
                continue;
            }
            let job = selector
                .matchers
                .matchers
                .iter()
                .find(|m| m.name == "job" && matches!(m.op, MatchOp::Equal))
                .map(|m| literal(&m.value));
            // The prefixes read there, and the service declaring them (`None`: the estate's).
            let (prefixes, declared): (Vec<&str>, _) = match &job {
                Some(job) => match self.by_service.get(job.as_str()) {
                    Some(provides) if provides.value.iter().any(|p| metric.starts_with(p.as_str())) => continue,
                    Some(provides) => (provides.value.iter().map(String::as_str).collect(), Some((job, provides.span))),
                    None => continue,
                },
                None => match &self.estate {
                    Some(prefixes) if prefixes.iter().any(|p| metric.starts_with(p)) => continue,
                    Some(prefixes) => (prefixes.clone(), None),
                    None => continue,
                },
            };
            let whose = match declared {
                Some((job, _)) => format!("service `{job}`"),
                None => "any scrape target of the estate".to_string(),
            };
            let listed = prefixes.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
            let diagnostic = Diagnostic::new(
                Code::W0655,
                expr.span,
                format!("alert `{name}` reads `{metric}`, which {whose} does not provide"),
            )
            .with_primary_label(format!("no target serves `{metric}`"));
            let diagnostic = match declared {
                Some((_, span)) => diagnostic.with_label(span, "what its metrics port serves"),
                None => diagnostic,
            };
            diagnostics.push(diagnostic.with_note(format!("the metrics read there start with {listed}")).with_help(
                "check the metric's name against the exporter's, or add the prefix to the service's \
                     `metrics { provides = [ … ] }`",
            ));
        }
    }
}

/// Whether every target (or Prometheus itself) provides `metric`.
fn universal(metric: &str) -> bool {
    metric.contains(':') || UNIVERSAL_NAMES.contains(&metric) || UNIVERSAL.iter().any(|p| metric.starts_with(p))
}

/// The metric a selector names: its name, or an `__name__="…"` matcher.
fn metric_name(selector: &VectorSelector, literal: &impl Fn(&str) -> String) -> Option<String> {
    if let Some(name) = &selector.name {
        return Some(name.clone());
    }
    selector
        .matchers
        .matchers
        .iter()
        .find(|m| m.name == "__name__" && matches!(m.op, MatchOp::Equal))
        .map(|m| literal(&m.value))
}
