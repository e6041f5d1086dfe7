//! Renaming a resource or a workflow step: its declaration and every reference to it, in every
//! file of the namespace.
//!
//! Only a name written out can be renamed (not one built by interpolation in a `for`), only to a
//! valid name no other resource of the kind has, and never one declared in the stdlib.

use super::index::Symbol;
use super::query::{Found, World};
use crate::eval::is_dns_label;
use crate::source::{Origin, Span};

/// What is renamed: the name under the cursor and the symbol it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The name under the cursor (just the name in `service.db`).
    pub span: Span,
    /// The symbol.
    pub symbol: Symbol,
}

/// Just the name of a `kind.name` reference or of a declaration (a quoted name without quotes).
fn name_in(text: &str, span: Span, name: &str) -> Option<Span> {
    let written = text.get(span.start as usize..span.end as usize)?;
    let end = if written.ends_with('"') && written.starts_with('"') { span.end - 1 } else { span.end };
    let start = end.checked_sub(name.len() as u32)?;
    (text.get(start as usize..end as usize)? == name).then_some(Span { start, end, ..span })
}

/// What the cursor at `offset` would rename, or why nothing can be.
pub fn prepare(world: &World<'_>, offset: u32) -> Result<Target, String> {
    let Some(Found::Symbol { symbol, span, .. }) = world.at(offset) else {
        return Err("only the name of a resource or a step can be renamed".into());
    };
    let definition =
        world.definition(&symbol).ok_or_else(|| format!("{symbol} is not declared in the checked estate"))?;
    let file = definition.name_span.file;
    if file != world.file && world.sources.get(file).origin == Origin::Stdlib {
        return Err(format!("{symbol} is declared in the stdlib"));
    }
    if name_in(world.text_of(file), definition.name_span, &symbol.name).is_none() {
        return Err(format!("the name of {symbol} is built by interpolation; edit it by hand"));
    }
    let span = name_in(world.text, span, &symbol.name).ok_or_else(|| "no name under the cursor".to_string())?;
    Ok(Target { span, symbol })
}

/// The edits renaming what is at `offset` to `new_name`: every span (in any file of the
/// namespace) and its new text, or why it cannot be renamed.
pub fn rename(world: &World<'_>, offset: u32, new_name: &str) -> Result<Vec<(Span, String)>, String> {
    let Target { symbol, .. } = prepare(world, offset)?;
    if !is_dns_label(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name: 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"
        ));
    }
    if new_name == symbol.name {
        return Ok(Vec::new());
    }
    let taken = Symbol { name: new_name.to_string(), ..symbol.clone() };
    if world.definition(&taken).is_some() {
        return Err(format!("{taken} already exists"));
    }
    let mut spans: Vec<Span> = world.references(&symbol);
    spans.extend(world.definition(&symbol).map(|d| d.name_span));
    let mut edits: Vec<(Span, String)> = spans
        .into_iter()
        .filter_map(|span| name_in(world.text_of(span.file), span, &symbol.name))
        .map(|span| (span, new_name.to_string()))
        .collect();
    edits.sort_by_key(|(span, _)| (span.file, span.start));
    edits.dedup();
    Ok(edits)
}
