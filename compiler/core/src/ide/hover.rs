//! Hover text, in Markdown: a field's type, default and doc; a referenced resource's summary; a
//! preset's parameters.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::index::Symbol;
use super::query::{Found, World};
use super::schema;
use super::walk::Seg;
use crate::model::{Kind, Model};
use crate::source::Span;

/// The hover at `offset`: the span it is about and its Markdown.
pub fn hover(world: &World<'_>, offset: u32) -> Option<(Span, String)> {
    let found = world.at(offset)?;
    let text = match &found {
        Found::Key { scope, key } => match scope.path.last() {
            Some(Seg::Use(preset)) => preset_param(world, preset, &key.name)?,
            _ => field(scope.kind?, &scope.path, &key.name)?,
        },
        Found::Symbol { symbol, .. } => resource(world, symbol)?,
        Found::Preset { key, .. } => preset(world, key)?,
    };
    Some((found.span(), text))
}

fn field(kind: Kind, path: &[Seg], name: &str) -> Option<String> {
    let info = schema::field(kind, path, name)?;
    let mut text = format!("`{name}`: {}", info.accepts);
    if info.required {
        text.push_str(" (required)");
    }
    if let Some(doc) = info.doc {
        let _ = write!(text, "\n\n{doc}");
    }
    if let Some(default) = info.default {
        let _ = write!(text, "\n\nDefault: `{default}`");
    }
    Some(text)
}

/// The model's record of a resource, serialised as a spec writes it.
fn record(model: &Model, symbol: &Symbol) -> Option<Json> {
    macro_rules! find {
        ($($list:ident => $kind:ident),*) => {
            match Kind::from_name(&symbol.kind)? {
                $(Kind::$kind => model.$list.iter().find(|r| r.name == symbol.name).and_then(|r| serde_json::to_value(&r.spec).ok()),)*
            }
        };
    }
    find!(nodes => Node, networks => Network, clusters => Cluster, storage => Storage, services => Service,
        alerts => Alert, backups => Backup, workflows => Workflow, secrets => Secret)
}

fn compact(value: &Json) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 72 { format!("{}…", text.chars().take(71).collect::<String>()) } else { text }
}

fn resource(world: &World<'_>, symbol: &Symbol) -> Option<String> {
    let definition = world.definition(symbol)?;
    let file = world.sources.get(definition.name_span.file);
    let path = if definition.name_span.file == world.file { None } else { Some(file.path.as_str()) };
    let mut text = format!("**{} {}**", symbol.kind, symbol.name);
    if let Some(kind) = Kind::from_name(&symbol.kind).and_then(schema::kind_doc) {
        let _ = write!(text, ": {}", kind.trim_end_matches('.').to_lowercase());
    }
    if let Some(path) = path {
        let line = file.line_col(definition.name_span.start).line;
        let _ = write!(text, "\n\ndeclared in `{path}:{line}`");
    }
    match record(world.model, symbol) {
        Some(Json::Object(fields)) => {
            text.push_str("\n\n```spec\n");
            for (name, value) in &fields {
                let empty = matches!(value, Json::Null)
                    || matches!(value, Json::Array(a) if a.is_empty())
                    || matches!(value, Json::Object(o) if o.is_empty());
                if !empty {
                    let _ = writeln!(text, "{name} = {}", compact(value));
                }
            }
            text.push_str("```");
        }
        _ => {
            // Not in the model (its block has errors, or it is a step): the declaration's first line.
            let source = world.text_of(definition.span.file);
            let first = source.get(definition.span.start as usize..definition.span.end as usize).unwrap_or("");
            let first = first.lines().next().unwrap_or("").trim_end();
            if !first.is_empty() {
                let _ = write!(text, "\n\n```spec\n{first}\n```");
            }
        }
    }
    Some(text)
}

fn preset(world: &World<'_>, key: &str) -> Option<String> {
    let info = world.preset(key)?;
    let source = world.text_of(info.name_span.file);
    let mut text = format!("**preset {key}** for `{}`", info.kind);
    if info.params.is_empty() {
        text.push_str("\n\nno parameters");
    } else {
        text.push_str("\n\nparameters:");
        for (name, default) in &info.params {
            match default {
                Some(span) => {
                    let default = source.get(span.start as usize..span.end as usize).unwrap_or("");
                    let _ = write!(text, "\n- `{name}` = `{default}`");
                }
                None => {
                    let _ = write!(text, "\n- `{name}` (required)");
                }
            }
        }
    }
    Some(text)
}

fn preset_param(world: &World<'_>, key: &str, name: &str) -> Option<String> {
    let info = world.preset(key)?;
    let (_, default) = info.params.iter().find(|(param, _)| param == name)?;
    let source = world.text_of(info.name_span.file);
    Some(match default {
        Some(span) => format!(
            "parameter `{name}` of preset `{key}`\n\nDefault: `{}`",
            source.get(span.start as usize..span.end as usize).unwrap_or("")
        ),
        None => format!("parameter `{name}` of preset `{key}` (required)"),
    })
}
