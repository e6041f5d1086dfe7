//! Dashboard files: the JSON files a service's `dashboards` names, found among the data files the
//! caller read (the core does no IO: the CLI reads every `*.json` of the estate's folder into the
//! source map as [`Origin::Data`]) and checked to exist (E0760) and to hold a JSON object
//! (E0761, pointing into the file where parsing stopped).
//!
//! Invariant the back ends rely on: every path of a service's `dashboards` in an estate without
//! errors is a key of [`Model::dashboards`], whose value is the file's text as read (so the
//! output carries the dashboard byte for byte, whatever machine built it).

use indexmap::IndexMap;

use super::Model;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Origin, SourceMap, Span};

/// Checks every dashboard the services name against the data files of `sources` and keeps the
/// text of those that are JSON objects in `model.dashboards`.
pub fn attach(model: &mut Model, sources: &SourceMap) -> Vec<Diagnostic> {
    let data: IndexMap<&str, FileId> =
        sources.iter().filter(|(_, f)| f.origin == Origin::Data).map(|(id, f)| (f.path.as_str(), id)).collect();
    let mut diagnostics = Vec::new();
    let mut found = IndexMap::new();
    for service in &model.services {
        for named in &service.spec.dashboards {
            let path = named.value.strip_prefix("./").unwrap_or(&named.value);
            if found.contains_key(&named.value) {
                continue;
            }
            let Some(&file) = data.get(path) else {
                diagnostics.push(
                    service.at_use(
                        Diagnostic::new(
                            Code::E0760,
                            named.span,
                            format!("dashboard `{}` of service `{}` is not in the estate", named.value, service.name),
                        )
                        .with_primary_label("no such JSON file in the estate's folder")
                        .with_help(
                            "name a `.json` file by its path from the estate's folder (`dashboards/api.json`), \
                         exported from Grafana",
                        ),
                    ),
                );
                continue;
            };
            let text = &sources.get(file).text;
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(_)) => {
                    found.insert(named.value.clone(), text.clone());
                }
                Ok(other) => diagnostics.push(not_json(
                    Diagnostic::new(
                        Code::E0761,
                        Span::new(file, 0, text.len().min(1)),
                        format!("dashboard `{}` is JSON but not an object", named.value),
                    ),
                    format!("the top level is {}", kind_of(&other)),
                    named.span,
                )),
                Err(error) => {
                    let file_text = sources.get(file);
                    let line = error.line().saturating_sub(1);
                    let offset = if error.line() == 0 {
                        0
                    } else {
                        (file_text.line_start(line) + error.column().saturating_sub(1)).min(text.len())
                    };
                    let end = text[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
                    diagnostics.push(not_json(
                        Diagnostic::new(
                            Code::E0761,
                            Span::new(file, offset, end),
                            format!("dashboard `{}` is not JSON", named.value),
                        ),
                        error.to_string(),
                        named.span,
                    ));
                }
            }
        }
    }
    model.dashboards = found;
    diagnostics
}

fn not_json(diagnostic: Diagnostic, why: String, named: Span) -> Diagnostic {
    diagnostic
        .with_primary_label(why)
        .with_label(named, "named as a dashboard here")
        .with_help("a Grafana dashboard is one JSON object; export it from Grafana again, or fix the file")
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Null | serde_json::Value::Object(_) => "null",
    }
}
