//! Quick fixes: the [`Suggestion`]s of a check's diagnostics (every did-you-mean, a plaintext
//! secret moved into a `secret` block) as edits of the current text.
//!
//! A suggestion names the text holding what is replaced and the word as written, so the edit
//! replaces just that word (a misspelt name inside `node.prdo1`, a job inside a PromQL string),
//! found where it stands alone (not inside a longer word). A fix whose text was edited since the
//! check, or no longer holds the word, is not offered.

use super::live::item_span;
use super::query::World;
use crate::diagnostics::{Diagnostic, Suggestion};
use crate::source::Span;

/// One fix: a title and the edits that make it, for the diagnostic at `diagnostic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, for the editor's menu.
    pub title: String,
    /// The edits, in text order, of the current text of the world's file.
    pub edits: Vec<(Span, String)>,
    /// The index of the diagnostic it fixes, in the list given.
    pub diagnostic: usize,
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Where `word` stands alone in `span` of `text` (also where `--format json` says a suggestion's
/// edit is).
pub(crate) fn find_word(text: &str, span: Span, word: &str) -> Option<Span> {
    let inside = text.get(span.start as usize..span.end as usize)?;
    let bytes = inside.as_bytes();
    inside.match_indices(word).map(|(at, _)| at).find_map(|at| {
        let end = at + word.len();
        let alone =
            (at == 0 || bytes.get(at - 1).is_some_and(|b| !is_word(*b))) && bytes.get(end).is_none_or(|b| !is_word(*b));
        alone.then(|| Span { start: span.start + at as u32, end: span.start + end as u32, ..span })
    })
}

/// The fixes of `diagnostics` (those of the world's file as its check saw it) whose text
/// overlaps `start..end` of the current text.
pub fn fixes(world: &World<'_>, diagnostics: &[Diagnostic], start: u32, end: u32) -> Vec<Fix> {
    let mut found = Vec::new();
    for (index, diagnostic) in diagnostics.iter().enumerate() {
        let Some(suggestion) = diagnostic.suggestion.as_deref() else { continue };
        if suggestion.span.file != world.file || diagnostic.primary.span.file != world.file {
            continue;
        }
        let Some(primary) = world.current(diagnostic.primary.span) else { continue };
        if primary.end < start || primary.start > end {
            continue;
        }
        if let Some(fix) = fix(world, suggestion, index) {
            found.push(fix);
        }
    }
    found
}

fn fix(world: &World<'_>, suggestion: &Suggestion, diagnostic: usize) -> Option<Fix> {
    let span = world.current(suggestion.span)?;
    let text = world.text.get(span.start as usize..span.end as usize)?;
    // An interpolated string is built from several places: replacing it would lose them.
    if text.contains("${") && suggestion.written.is_empty() {
        return None;
    }
    let replaced = if suggestion.written.is_empty() { span } else { find_word(world.text, span, &suggestion.written)? };
    let mut edits = vec![(replaced, suggestion.replacement.clone())];
    let title = match &suggestion.declaration {
        None => format!("replace `{}` with `{}`", suggestion.written, suggestion.replacement),
        Some(declaration) => {
            let name = suggestion.replacement.strip_prefix("secret.").unwrap_or(&suggestion.replacement);
            let symbol = super::index::Symbol::new("secret", name, None);
            // The secret is declared after the top-level block holding the value, unless it is already.
            if world.definition(&symbol).is_none() {
                let items = &world.ast.items;
                let holding =
                    items.iter().map(item_span).find(|item| item.start <= span.start && span.end <= item.end)?;
                edits.push((Span { start: holding.end, end: holding.end, ..span }, format!("\n\n{declaration}")));
            }
            format!("move the secret into `secret {name}`")
        }
    };
    Some(Fix { title, edits, diagnostic })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn a_word_is_found_where_it_stands_alone() {
        let text = "expr = \"up{job=\\\"apii\\\"} and apiix\"";
        let span = Span::new(FileId(0), 7, text.len());
        let found = find_word(text, span, "apii").expect("found");
        assert_eq!(text.get(found.start as usize..found.end as usize), Some("apii"));
        assert_eq!(found.start as usize, text.find("apii").unwrap_or(0));
        assert_eq!(find_word("on = node.prdo1x", Span::new(FileId(0), 5, 16), "prdo1"), None);
    }
}
