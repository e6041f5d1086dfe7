//! What changed between two checked models, resource by resource, in words: `+ alert db-down`,
//! `service temporal: replicas 2 → 1`. Values are compared in their serialised form, which writes
//! them as a spec does (`15m`, `2TiB`, `service.db`); nested fields are named by their path.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Kind, Model};

/// One resource's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A resource only the new estate has.
    Added(String),
    /// A resource only the old estate has.
    Removed(String),
    /// A resource in both, with its changed fields (`replicas 2 → 1`).
    Changed(String, Vec<String>),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Added(what) => write!(f, "+ {what}"),
            Change::Removed(what) => write!(f, "- {what}"),
            Change::Changed(what, fields) => write!(f, "{what}: {}", fields.join(", ")),
        }
    }
}

/// Writes a value compactly: strings bare, lists and maps in spec-like brackets.
fn show(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => {
            format!("{{ {} }}", map.iter().map(|(k, v)| format!("{k} = {}", show(v))).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

/// Flattens an object into `path → value`, lists kept whole.
fn flatten(prefix: &str, value: &Json, out: &mut BTreeMap<String, Json>) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&path, inner, out);
            }
        }
        Json::Null => {}
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The resources of one kind, by name, flattened.
fn resources(model: &Json, kind: Kind) -> BTreeMap<String, BTreeMap<String, Json>> {
    let mut by_name = BTreeMap::new();
    for resource in model.get(kind.plural()).and_then(Json::as_array).into_iter().flatten() {
        let name = resource.get("name").and_then(Json::as_str).unwrap_or_default().to_string();
        let mut fields = BTreeMap::new();
        flatten("", resource, &mut fields);
        fields.remove("name");
        by_name.insert(name, fields);
    }
    by_name
}

/// Compares two models; changes come in model order of kinds, then by name.
pub fn changes(old: &Model, new: &Model) -> Vec<Change> {
    let (Ok(old), Ok(new)) = (serde_json::to_value(old), serde_json::to_value(new)) else { return Vec::new() };
    let mut out = Vec::new();
    for &kind in Kind::ALL {
        let (before, after) = (resources(&old, kind), resources(&new, kind));
        for (name, fields) in &after {
            let Some(previous) = before.get(name) else {
                out.push(Change::Added(format!("{kind} {name}")));
                continue;
            };
            let mut changed = Vec::new();
            for (path, value) in fields {
                match previous.get(path) {
                    Some(old_value) if old_value == value => {}
                    Some(old_value) => changed.push(format!("{path} {} → {}", show(old_value), show(value))),
                    None => changed.push(format!("{path} set to {}", show(value))),
                }
            }
            for (path, value) in previous {
                if !fields.contains_key(path) {
                    changed.push(format!("{path} {} removed", show(value)));
                }
            }
            if !changed.is_empty() {
                out.push(Change::Changed(format!("{kind} {name}"), changed));
            }
        }
        for name in before.keys().filter(|n| !after.contains_key(*n)) {
            out.push(Change::Removed(format!("{kind} {name}")));
        }
    }
    out
}
