//! Alerts: every expression parses as PromQL (with the `promql-parser` crate, the grammar
//! Prometheus accepts), summaries and descriptions parse as Prometheus templates
//! ([`super::templates`]), a `job="…"` matcher names a service that exports metrics (a warning),
//! and a metric name is one its providers serve ([`super::providers`], a warning).
//! Alerts declared inside services (often brought by presets) are checked the same way.
//!
//! Expressions are parsed through [`crate::promql::ShapeCache`], once per expression shape.

use rustc_hash::FxHashSet;

use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, VectorSelector};

use super::providers::Providers;
use super::templates::template_error;
use crate::promql::ShapeCache;

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic, NameIndex};
use crate::model::Alert;
use crate::model::types::Spanned;

/// Checks every alert.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let jobs = crate::target::service_jobs(estate.model);
    let exporters: FxHashSet<&str> = jobs.iter().map(String::as_str).collect();
    // Indexed once: every alert matching a job no service exports looks among all of them.
    let exported_jobs = NameIndex::new(exporters.iter().copied());
    let top_level = estate.model.alerts.iter().map(|a| (a.name.as_str(), &a.spec));
    let nested = estate
        .model
        .services
        .iter()
        .flat_map(|s| s.spec.alert.iter().map(|(name, alert)| (name.as_str(), &alert.value)));
    let mut shapes = ShapeCache::default();
    let providers = Providers::new(estate.model);
    for (name, alert) in top_level.chain(nested) {
        check_alert(name, alert, &mut shapes, &exporters, &exported_jobs, &providers, diagnostics);
    }
}

fn check_alert(
    name: &str,
    alert: &Alert,
    shapes: &mut ShapeCache,
    exporters: &FxHashSet<&str>,
    exported_jobs: &NameIndex<'_>,
    providers: &Providers<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (field, text) in [("summary", &alert.summary), ("description", &alert.description)] {
        let Some(text) = text else { continue };
        if let Some(error) = template_error(&text.value) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0623,
                    text.span,
                    format!("alert `{name}`: the {field} is not a template Prometheus can parse: {error}"),
                )
                .with_primary_label("Prometheus would refuse the rule file")
                .with_help(
                    "annotations are Go templates: write `{{ \"{{\" }}` for a literal `{{`, and use `$labels`, \
                     `$value` and Prometheus's template functions (`humanize`, `printf`, …)",
                ),
            );
        }
    }
    let expr: &Spanned<String> = &alert.expr;
    let (parsed, literals) = shapes.parse(&expr.value);
    match parsed {
        Err(error) => {
            let error = error.lines().next().unwrap_or("").trim().to_string();
            diagnostics.push(
                Diagnostic::new(Code::E0611, expr.span, format!("alert `{name}`: invalid PromQL: {error}"))
                    .with_primary_label("not valid PromQL")
                    .with_help("write an expression Prometheus accepts, such as `up{job=\"web\"} == 0`"),
            );
        }
        Ok(ast) => {
            providers.check(name, expr, &ast, &literals, diagnostics);
            for job in matched_jobs(&ast, &literals) {
                if exporters.contains(job.as_str()) {
                    continue;
                }
                let diagnostic = Diagnostic::new(
                    Code::W0604,
                    expr.span,
                    format!("alert `{name}` matches job `{job}`, which no service exporting metrics has"),
                )
                .with_primary_label(format!("`job=\"{job}\"` never matches"));
                let diagnostic = match exported_jobs.closest(&job) {
                    Some(close) => {
                        diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(expr.span, &job, close)
                    }
                    None => diagnostic
                        .with_help("the job of a service is its name; give the service `metrics { port = … }`"),
                };
                diagnostics.push(diagnostic);
            }
        }
    }
}

/// The values of every `job="…"` matcher in an expression parsed through the shape cache, its
/// literals put back (the cache's tree holds each literal's index among `literals`).
pub(super) fn matched_jobs(ast: &Expr, literals: &[String]) -> Vec<String> {
    let mut jobs = Vec::new();
    job_matchers(ast, &mut jobs);
    jobs.into_iter()
        .map(|job| match job.parse::<usize>().ok().and_then(|i| literals.get(i)) {
            Some(literal) => literal.clone(),
            None => job,
        })
        .collect()
}

/// Collects the values of every `job="…"` matcher in an expression.
pub(super) fn job_matchers(expr: &Expr, jobs: &mut Vec<String>) {
    let mut selectors = Vec::new();
    collect_selectors(expr, &mut selectors);
    for selector in selectors {
        selector_jobs(selector, jobs);
    }
}

/// Every vector selector of an expression.
pub(super) fn collect_selectors<'e>(expr: &'e Expr, selectors: &mut Vec<&'e VectorSelector>) {
    // An explicit stack: hostile expressions nest deeply.
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match expr {
            Expr::Aggregate(a) => {
                stack.push(&a.expr);
                if let Some(param) = &a.param {
                    stack.push(param);
                }
            }
            Expr::Unary(u) => stack.push(&u.expr),
            Expr::Binary(b) => {
                stack.push(&b.lhs);
                stack.push(&b.rhs);
            }
            Expr::Paren(p) => stack.push(&p.expr),
            Expr::Subquery(s) => stack.push(&s.expr),
            Expr::VectorSelector(vs) => selectors.push(vs),
            Expr::MatrixSelector(ms) => selectors.push(&ms.vs),
            Expr::Call(call) => stack.extend(call.args.args.iter().map(|a| a.as_ref())),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }
}

fn selector_jobs(selector: &VectorSelector, jobs: &mut Vec<String>) {
    for matcher in &selector.matchers.matchers {
        if matcher.name == "job" && matches!(matcher.op, MatchOp::Equal) {
            jobs.push(matcher.value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_share_a_parse_and_keep_their_literals() {
        let mut cache = ShapeCache::default();
        let (first, literals) = cache.parse("up{job=\"web\"} == 0");
        assert!(first.is_ok());
        assert_eq!(literals, vec!["web".to_string()]);
        let (second, literals) = cache.parse("up{job=\"db\"} == 0");
        assert!(second.is_ok());
        assert_eq!(literals, vec!["db".to_string()]);
        assert_eq!(cache.shapes(), 1);
        let mut jobs = Vec::new();
        job_matchers(&second.unwrap(), &mut jobs);
        assert_eq!(jobs, vec!["0".to_string()]);
    }

    #[test]
    fn cached_and_direct_parses_agree_on_validity() {
        let mut cache = ShapeCache::default();
        for text in [
            "up{job=\"web\"} == 0",
            "up{job=\"web\" == 0",
            "rate(http_requests_total{code=~\"5..\"}[5m]) > 1",
            "sum by (job) (rate(x[5m])) / ignoring(a) group_left y",
            "predict_linear(node_filesystem_free_bytes{mountpoint=\"/\"}[6h], 86400) < 0",
            "up{job='web'} == ",
            "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")",
        ] {
            assert_eq!(cache.parse(text).0.is_ok(), promql_parser::parser::parse(text).is_ok(), "{text}");
        }
    }
}
