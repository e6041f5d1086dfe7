//! Dashboards' queries: a `job="…"` matcher in a panel's query names a service that exports
//! metrics (W0608, as an alert's is W0604). A dashboard is carried to Grafana byte for byte, so a
//! panel reading a job nothing is scraped as shows "No data" with no other sign: renaming or
//! splitting an exporter service leaves its dashboards behind unless something says so.
//!
//! Every string field `expr` anywhere in the dashboard's JSON is a query (Grafana keeps them in
//! `panels[].targets[]`, rows nesting panels of their own). A query that does not parse as PromQL
//! is left alone: Grafana's template variables (`$job`, `${__rate_interval}`) make many valid
//! queries unparsable until Grafana substitutes them, and a matcher on a variable is Grafana's
//! to fill. Each dashboard file is read once, however many services name it; queries are parsed
//! through the same shape cache as alerts.

use rustc_hash::FxHashSet;
use serde_json::Value;

use super::EstateGraph;
use super::alerts::matched_jobs;
use crate::diagnostics::{Code, Diagnostic, NameIndex};
use crate::promql::ShapeCache;

/// Checks the job matchers of every dashboard a service names.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    if estate.model.dashboards.is_empty() {
        return;
    }
    let jobs = crate::target::service_jobs(estate.model);
    let exporters: FxHashSet<&str> = jobs.iter().map(String::as_str).collect();
    let exported_jobs = NameIndex::new(exporters.iter().copied());
    let mut shapes = ShapeCache::default();
    let mut seen = FxHashSet::default();
    for service in &estate.model.services {
        for named in &service.spec.dashboards {
            if !seen.insert(named.value.as_str()) {
                continue;
            }
            let Some(text) = estate.model.dashboards.get(&named.value) else { continue };
            let Ok(json) = serde_json::from_str::<Value>(text) else { continue };
            let mut queries = Vec::new();
            collect_queries(&json, &mut queries);
            let mut reported = FxHashSet::default();
            for query in queries {
                let (parsed, literals) = shapes.parse(query);
                let Ok(ast) = parsed else { continue };
                for job in matched_jobs(&ast, &literals) {
                    if job.contains('$') || exporters.contains(job.as_str()) || !reported.insert(job.clone()) {
                        continue;
                    }
                    let diagnostic = Diagnostic::new(
                        Code::W0608,
                        named.span,
                        format!(
                            "dashboard `{}` queries job `{job}`, which no service exporting metrics has",
                            named.value
                        ),
                    )
                    .with_primary_label(format!("its panels read `job=\"{job}\"`, which never matches"))
                    .with_note(format!("in the query `{query}`"));
                    let diagnostic = match exported_jobs.closest(&job) {
                        Some(close) => diagnostic.with_help(format!(
                            "did you mean `{close}`? Edit the dashboard's queries (a service's job is its name)"
                        )),
                        None => diagnostic.with_help(
                            "the job of a service is its name; give the service `metrics { port = … }`, or edit the query",
                        ),
                    };
                    diagnostics.push(service.at_use(diagnostic));
                }
            }
        }
    }
}

/// Every string field named `expr` in a dashboard, in document order. An explicit stack:
/// a hostile file may nest deeply.
fn collect_queries<'j>(json: &'j Value, queries: &mut Vec<&'j str>) {
    let mut stack = vec![json];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(fields) => {
                if let Some(Value::String(expr)) = fields.get("expr") {
                    queries.push(expr);
                }
                stack.extend(fields.values().rev());
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
}
