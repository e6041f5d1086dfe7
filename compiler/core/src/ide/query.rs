//! What is at an offset, where it is defined and where it is used.
//!
//! Queries run against a [`World`]: the file under the cursor as it is now (its text and tree),
//! and the folder's [`Index`] as of its last check. When the file changed since that check, its
//! own declarations come from a fresh index of its current tree and the folder's stale entries
//! for it are ignored, so positions inside the edited file are always current.

use super::index::{Definition, Index, PresetInfo, Symbol};
use super::walk::{Event, Scope, Walker};
use crate::model::Model;
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::ast;

/// The file under the cursor and what is known of its folder.
pub struct World<'a> {
    /// The file's id (the same as in `sources` when the folder's check saw it).
    pub file: FileId,
    /// Its current text.
    pub text: &'a str,
    /// Its current tree.
    pub ast: &'a ast::File,
    /// The index of its current tree, when it changed since the folder's check.
    pub local: Option<&'a Index>,
    /// The folder's index, stdlib included, as of its last check.
    pub global: &'a Index,
    /// The sources of that check.
    pub sources: &'a SourceMap,
    /// Its checked model.
    pub model: &'a Model,
}

/// What stands at an offset.
#[derive(Clone, Debug)]
pub enum Found {
    /// A reference to a symbol, or its declaration.
    Symbol {
        /// The symbol.
        symbol: Symbol,
        /// The name or reference under the cursor.
        span: Span,
        /// Whether this is the declaration.
        declaration: bool,
    },
    /// A preset's name, in `use` or in its declaration.
    Preset {
        /// The key `use` names it by.
        key: String,
        /// The path or name under the cursor.
        span: Span,
    },
    /// A field key.
    Key {
        /// The body holding it.
        scope: Scope,
        /// The key.
        key: ast::Key,
    },
}

impl Found {
    /// The text the answer is about.
    pub fn span(&self) -> Span {
        match self {
            Found::Symbol { span, .. } | Found::Preset { span, .. } => *span,
            Found::Key { key, .. } => key.span,
        }
    }
}

fn covers(span: Span, offset: u32) -> bool {
    span.start <= offset && offset <= span.end
}

impl<'a> World<'a> {
    /// The text of `file`: the current text for the cursor's file, the checked one otherwise.
    pub fn text_of(&self, file: FileId) -> &'a str {
        if file == self.file { self.text } else { &self.sources.get(file).text }
    }

    fn fresh(&self, span: Span) -> bool {
        self.local.is_none() || span.file != self.file
    }

    /// Where `symbol` is declared.
    pub fn definition(&self, symbol: &Symbol) -> Option<Definition> {
        self.local
            .and_then(|local| local.definition(symbol))
            .or_else(|| self.global.definition(symbol).filter(|d| self.fresh(d.name_span)))
    }

    /// Every reference to `symbol`.
    pub fn references(&self, symbol: &Symbol) -> Vec<Span> {
        let mut spans: Vec<Span> = self.global.references(symbol).iter().copied().filter(|s| self.fresh(*s)).collect();
        if let Some(local) = self.local {
            spans.extend_from_slice(local.references(symbol));
        }
        spans.sort();
        spans
    }

    /// Every declared symbol of `kind`.
    pub fn names(&self, kind: &str) -> Vec<&'a Symbol> {
        let global = self
            .global
            .names(kind)
            .iter()
            .filter(|s| self.global.definition(s).is_some_and(|d| self.fresh(d.name_span)));
        let mut names: Vec<&Symbol> = match self.local {
            Some(local) => local.names(kind).iter().chain(global).collect(),
            None => global.collect(),
        };
        let mut seen = std::collections::HashSet::new();
        names.retain(|s| seen.insert((&s.name, &s.workflow)));
        names
    }

    /// The preset `use` names by `key`, and the file it is declared in.
    pub fn preset(&self, key: &str) -> Option<&'a PresetInfo> {
        self.local
            .and_then(|local| local.preset(key))
            .or_else(|| self.global.preset(key).filter(|p| self.fresh(p.name_span)))
    }

    /// The name, reference, preset or key at `offset` (the innermost when several hold it).
    pub fn at(&self, offset: u32) -> Option<Found> {
        let mut best: Option<Found> = None;
        let mut consider = |found: Found| {
            if covers(found.span(), offset) && best.as_ref().is_none_or(|b| found.span().len() <= b.span().len()) {
                best = Some(found);
            }
        };
        let mut visit = |event: Event<'_>| match event {
            Event::Definition { symbol, name_span, .. } => {
                consider(Found::Symbol { symbol, span: name_span, declaration: true })
            }
            Event::Reference { symbol, span } => consider(Found::Symbol { symbol, span, declaration: false }),
            Event::Use { key, span } => consider(Found::Preset { key, span }),
            Event::Preset { key, decl } => consider(Found::Preset { key, span: decl.name.span }),
            Event::Key { scope, key } => consider(Found::Key { scope: scope.clone(), key: key.clone() }),
            Event::Body { .. } => {}
        };
        Walker::new(None, &mut visit).only_around(offset).file(self.ast);
        best
    }

    /// The declaration of what is at `offset`: the span under the cursor and the declared name.
    pub fn goto_definition(&self, offset: u32) -> Option<(Span, Span)> {
        match self.at(offset)? {
            Found::Symbol { symbol, span, .. } => Some((span, self.definition(&symbol)?.name_span)),
            Found::Preset { key, span } => Some((span, self.preset(&key)?.name_span)),
            Found::Key { .. } => None,
        }
    }

    /// Every use of what is at `offset` (and its declaration when `declaration` is set), sorted.
    pub fn find_references(&self, offset: u32, declaration: bool) -> Vec<Span> {
        let Some(Found::Symbol { symbol, .. }) = self.at(offset) else { return Vec::new() };
        let mut spans = self.references(&symbol);
        if declaration && let Some(definition) = self.definition(&symbol) {
            spans.push(definition.name_span);
            spans.sort();
        }
        spans
    }
}
