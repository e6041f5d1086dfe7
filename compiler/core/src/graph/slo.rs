//! Service level objectives: the objective is a percentage strictly between 0% and 100% whose
//! fastest burn rate stays under an error ratio of 1, so the page alert can fire (E0645); the
//! indicator is exactly one of `service` (which must have `metrics`: its availability is the
//! share of its scrapes that succeed), `good` with `total`, each one PromQL vector selector of
//! a counter, and `latency` (one selector of a histogram by its base name) with `below`, a
//! bound above zero (E0646); the window is at least as long as the longest burn-rate window, 3d (E0647).
//! A `service` naming no service is the resolver's E0201.

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::slo::TICKET;
use crate::model::types::{Spanned, format_duration};
use crate::model::{Resource, Slo};
use crate::promql::ShapeCache;
use crate::source::Span;

/// Checks every objective.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut shapes = ShapeCache::default();
    for slo in &estate.model.slos {
        objective(slo, diagnostics);
        indicator(estate, slo, &mut shapes, diagnostics);
        window(slo, diagnostics);
    }
}

fn objective(slo: &Resource<Slo>, diagnostics: &mut Vec<Diagnostic>) {
    let written = &slo.spec.objective;
    let problem = match slo.spec.objective_ratio() {
        Err(reason) => reason,
        Ok(ratio) if slo.spec.fastest_threshold(ratio) >= 1.0 => format!(
            "with this objective the fastest burn rate asks for an error ratio of {:.2}, above 1, so the page alert \
             could never fire",
            slo.spec.fastest_threshold(ratio)
        ),
        Ok(_) => return,
    };
    diagnostics.push(
        slo.at_use(
            Diagnostic::new(
                Code::E0645,
                written.span,
                format!("objective `{}` of slo `{}`: {problem}", written.value, slo.name),
            )
            .with_primary_label("not an objective burn-rate alerts can be written for")
            .with_help("write the share of good events as a percentage below 100%, such as `objective = \"99.9%\"`"),
        ),
    );
}

fn indicator(
    estate: &EstateGraph<'_>,
    slo: &Resource<Slo>,
    shapes: &mut ShapeCache,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let spec = &slo.spec;
    // `others`: the other fields the refusal is about, labelled where they are written.
    let mut refuse = |span, message: String, label: &str, others: Vec<Span>| {
        let diagnostic =
            Diagnostic::new(Code::E0646, span, format!("slo `{}`: {message}", slo.name)).with_primary_label(label);
        let diagnostic = others.into_iter().fold(diagnostic, |d, other| d.with_label(other, "the other indicator"));
        diagnostics.push(slo.at_use(diagnostic.with_help(
            "give either `service = service.NAME` (a service with `metrics`), `good` and `total`, two \
                     counter selectors such as `http_requests_total{job=\"api\", code!~\"5..\"}` and \
                     `http_requests_total{job=\"api\"}`, or `latency` (a histogram such as \
                     `http_request_duration_seconds{job=\"api\"}`) with `below = 100ms`",
        )));
    };
    if let Some(latency) = &spec.latency {
        let others: Vec<Span> =
            spec.service.iter().map(|s| s.span).chain(spec.good.iter().chain(&spec.total).map(|s| s.span)).collect();
        if !others.is_empty() {
            refuse(latency.span, "gives `latency` beside another indicator".into(), "one indicator too many", others);
        } else if let Some(reason) = not_a_histogram(latency, shapes) {
            refuse(latency.span, format!("`latency` {reason}"), "not one histogram by its base name", Vec::new());
        } else if spec.below.is_none() {
            refuse(
                latency.span,
                "gives `latency` without `below`, the bound its events must meet".into(),
                "under which bound?",
                Vec::new(),
            );
        }
        if let Some(below) = spec.below.as_ref().filter(|b| b.value.0 == 0) {
            refuse(below.span, "`below = 0s`: no observation is that fast".into(), "not a bucket bound", Vec::new());
        }
        return;
    }
    if let Some(below) = &spec.below {
        refuse(below.span, "gives `below` without `latency`".into(), "a bound of no histogram", Vec::new());
    }
    match (&spec.service, &spec.good, &spec.total) {
        (Some(service), None, None) => {
            if estate.service(&service.name).is_some_and(|s| s.spec.metrics.is_none()) {
                refuse(
                    service.span,
                    format!("service `{}` has no `metrics`, so no scrape says whether it is up", service.name),
                    "never scraped",
                    Vec::new(),
                );
            }
        }
        (None, Some(good), Some(total)) => {
            for (field, selector) in [("good", good), ("total", total)] {
                if let Some(reason) = not_a_selector(selector, shapes) {
                    refuse(selector.span, format!("`{field}` {reason}"), "not one vector selector", Vec::new());
                }
            }
        }
        (Some(service), good, total) => {
            let others = good.iter().chain(total).map(|selector| selector.span).collect();
            refuse(service.span, "gives both `service` and `good`/`total`".into(), "one indicator too many", others)
        }
        (None, Some(one), None) | (None, None, Some(one)) => {
            refuse(one.span, "gives only one of `good` and `total`".into(), "the other one is missing", Vec::new())
        }
        (None, None, None) => refuse(slo.name_span, "names no indicator".into(), "what does it measure?", Vec::new()),
    }
}

/// Why `selector` is not one vector selector without a range, offset or `@`, if it is not.
fn not_a_selector(selector: &Spanned<String>, shapes: &mut ShapeCache) -> Option<String> {
    use promql_parser::parser::Expr;
    match shapes.parse_restored(&selector.value) {
        Err(error) => Some(format!("is not PromQL: {error}")),
        Ok(Expr::VectorSelector(vs)) if vs.offset.is_none() && vs.at.is_none() && vs.name.is_some() => None,
        Ok(_) => {
            Some("is not one selector of a counter by its metric name (the rates are taken over each window)".into())
        }
    }
}

/// Why `latency` is not one selector of a histogram by its base name, if it is not: a selector
/// (as for `good`) whose name is not already a series of the histogram and without `le`.
fn not_a_histogram(latency: &Spanned<String>, shapes: &mut ShapeCache) -> Option<String> {
    use promql_parser::parser::Expr;
    if let Some(reason) = not_a_selector(latency, shapes) {
        return Some(reason);
    }
    let Ok(Expr::VectorSelector(vs)) = shapes.parse_restored(&latency.value) else { return None };
    let name = vs.name.as_deref().unwrap_or_default();
    if let Some(suffix) = ["_bucket", "_count", "_sum"].into_iter().find(|s| name.ends_with(s)) {
        return Some(format!("names the series `{name}`: write the histogram's base name, without `{suffix}`"));
    }
    if vs.matchers.matchers.iter().any(|m| m.name == "le") {
        return Some("selects a bucket with `le`: the bound is `below`".into());
    }
    None
}

fn window(slo: &Resource<Slo>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(window) = &slo.spec.window else { return };
    let longest = TICKET.iter().map(|w| w.long).max().unwrap_or(0);
    if window.value.0 < longest {
        diagnostics.push(
            slo.at_use(
                Diagnostic::new(
                    Code::E0647,
                    window.span,
                    format!(
                        "the window of slo `{}` ({}) is shorter than its longest burn-rate window, {}",
                        slo.name,
                        format_duration(window.value.0),
                        format_duration(longest)
                    ),
                )
                .with_primary_label("too short for the alerts")
                .with_help("state objectives over 3d or more; 30d (the default) or 28d are usual"),
            ),
        );
    }
}
