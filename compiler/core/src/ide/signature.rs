//! Signature help inside `use PRESET { … }`: the preset's parameters with their defaults, the one
//! being set highlighted.

use super::complete::{enclosing_body, is_word, value_key};
use super::query::World;
use super::walk::Seg;

/// A preset's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `use std.postgres { version = 16, databases = [], port = 5432 }`
    pub label: String,
    /// Each parameter's place in the label (byte offsets) and its name.
    pub params: Vec<(u32, u32, String)>,
    /// The parameter being set, when the cursor is on one.
    pub active: Option<usize>,
    /// What the preset is for.
    pub doc: String,
}

/// The signature of the preset whose `use { … }` holds `offset`.
pub fn signature(world: &World<'_>, offset: u32) -> Option<Signature> {
    let (_, scope) = enclosing_body(world, offset)?;
    let Some(Seg::Use(key)) = scope.path.last() else { return None };
    let info = world.preset(key)?;
    let source = world.text_of(info.name_span.file);
    let mut label = format!("use {key} {{ ");
    let mut params = Vec::new();
    for (index, (name, default)) in info.params.iter().enumerate() {
        if index > 0 {
            label.push_str(", ");
        }
        let start = label.len() as u32;
        label.push_str(name);
        if let Some(span) = default {
            let text = source.get(span.start as usize..span.end as usize).unwrap_or("…");
            let text = text.lines().next().unwrap_or("");
            label.push_str(" = ");
            label.push_str(text);
        }
        params.push((start, label.len() as u32, name.clone()));
    }
    label.push_str(" }");
    // The parameter named on the cursor's line: the key before `=`, or the word being typed.
    let text = world.text;
    let mut at = (offset as usize).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let before = text.get(line_start..at)?;
    let entry_start = before.rfind([',', '{']).map_or(0, |i| i + 1);
    let entry = before.get(entry_start..)?;
    let word = match value_key(entry) {
        Some(key) => key,
        None => entry.trim_start().split(|c: char| !is_word(c)).next().unwrap_or(""),
    };
    let active = params
        .iter()
        .position(|(_, _, name)| name == word)
        .or_else(|| (!word.is_empty()).then(|| params.iter().position(|(_, _, name)| name.starts_with(word)))?);
    let required: Vec<&str> = info.params.iter().filter(|(_, d)| d.is_none()).map(|(n, _)| n.as_str()).collect();
    let mut doc = format!("preset `{key}` for `{}`", info.kind);
    if !required.is_empty() {
        doc.push_str(&format!(
            "; required: {}",
            required.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    Some(Signature { label, params, active, doc })
}
