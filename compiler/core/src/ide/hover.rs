//! Hover text, in Markdown: a field's type, default and doc; a referenced resource's summary; a
//! preset's parameters; an enum value or variant tag with its doc and the other choices; a port
//! name (in `ports { … }`, `port = "http"` or `expose`) with its number; a top-level `let` with its
//! value.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::index::Symbol;
use super::query::{Found, World};
use super::schema;
use super::walk::Seg;
use crate::model::{Kind, Model};
use crate::source::Span;

/// The word (a name, `-` and `_` included) at `offset` of `text` and its span.
pub(super) fn word_at(text: &str, offset: u32) -> Option<(&str, Span)> {
    let bytes = text.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
    let at = (offset as usize).min(text.len());
    let start = bytes.get(..at)?.iter().rposition(|b| !word(b)).map_or(0, |i| i + 1);
    let end = bytes.get(at..)?.iter().position(|b| !word(b)).map_or(text.len(), |i| at + i);
    let found = text.get(start..end).filter(|w| !w.is_empty())?;
    Some((found, Span::new(crate::source::FileId(0), start, end)))
}

/// The hover at `offset`: the span it is about and its Markdown.
pub fn hover(world: &World<'_>, offset: u32) -> Option<(Span, String)> {
    let Some(found) = world.at(offset) else { return value(world, offset) };
    let text = match &found {
        Found::Key { scope, key } => match scope.path.as_slice() {
            [.., Seg::Use(preset)] => preset_param(world, preset, &key.name)?,
            [Seg::Field(ports)] if ports == "ports" && scope.kind == Some(Kind::Service) => {
                port(world, scope.block.as_deref()?, &key.name)?
            }
            _ => field(scope.kind?, &scope.path, &key.name)?,
        },
        Found::Symbol { symbol, .. } => resource(world, symbol)?,
        Found::Preset { key, .. } => preset(world, key)?,
    };
    Some((found.span(), text))
}

/// A hover on a word of a value: a `let`'s name, a port name, an enum value or a variant tag.
fn value(world: &World<'_>, offset: u32) -> Option<(Span, String)> {
    let (word, span) = word_at(world.text, offset)?;
    let span = Span { file: world.file, ..span };
    let text = world.text;
    let before_word = text.get(..span.start as usize)?;
    if before_word.ends_with('.') {
        return None;
    }
    let line_start = before_word.rfind('\n').map_or(0, |i| i + 1);
    let line = before_word.get(line_start..)?;
    // `let NAME = …`, or a use of it.
    if let Some((name, value)) = world.binding(word) {
        let source = world.text_of(value.file);
        let written = source.get(value.start as usize..value.end as usize).unwrap_or("");
        let first = written.lines().next().unwrap_or("");
        let more = if written.contains('\n') { " …" } else { "" };
        let mut hover = format!("```spec\nlet {word} = {first}{more}\n```");
        if name.file != world.file {
            let file = world.sources.get(name.file);
            let _ = write!(hover, "\n\ndeclared in `{}:{}`", file.path, file.line_col(name.start).line);
        }
        return Some((span, hover));
    }
    let (_, scope) = super::complete::enclosing_body(world, offset)?;
    let key = super::complete::value_key(line)?;
    let kind = scope.kind?;
    if kind == Kind::Service && (key == "port" || key == "expose") {
        return Some((span, port(world, scope.block.as_deref()?, word)?));
    }
    let mut path = scope.path.clone();
    path.push(Seg::Field(key.to_string()));
    let choices = schema::choices(kind, &path);
    let choice = choices.iter().find(|c| c.name == word)?;
    let mut hover = format!("`{word}`: a value of `{key}`");
    if choice.tagged {
        hover = format!("`{word} {{ … }}`: a variant of `{key}`");
    }
    if let Some(doc) = &choice.doc {
        let _ = write!(hover, "\n\n{doc}");
    }
    let others: Vec<String> = choices.iter().filter(|c| c.name != word).map(|c| format!("`{}`", c.name)).collect();
    if !others.is_empty() {
        let _ = write!(hover, "\n\nthe others: {}", others.join(", "));
    }
    Some((span, hover))
}

/// A port of a service: its number and protocol, from the checked model.
fn port(world: &World<'_>, service: &str, name: &str) -> Option<String> {
    let found = world.model.services.iter().find(|s| s.name == service)?;
    let port = found.spec.ports.get(name)?;
    let protocol = match port.value.protocol {
        crate::model::types::Transport::Tcp => "tcp",
        crate::model::types::Transport::Udp => "udp",
    };
    Some(format!("port `{name}` of service `{service}`: `{}/{protocol}`", port.value.number))
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
        alerts => Alert, backups => Backup, workflows => Workflow, secrets => Secret, receivers => Receiver,
        routes => Route, buckets => Bucket, endpoints => Endpoint, slos => Slo,
        jobs => Job, streams => Stream)
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
