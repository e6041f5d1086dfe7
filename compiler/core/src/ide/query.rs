//! What is at an offset, where it is defined and where it is used.
//!
//! Queries run against a [`World`]: the file under the cursor as it is now (its text and tree),
//! and the folder's [`Index`] as of its last check. When the file changed since that check, the
//! folder's entries for it are moved through the file's [`Edits`] (dropped where the text was
//! re-parsed) and the re-parsed text's own declarations come from a small local index, so
//! positions inside the edited file are always current.

use super::index::{Definition, Index, PresetInfo, Symbol};
use super::live::Edits;
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
    /// What changed in it since the folder's check, when it did.
    pub local: Option<Local<'a>>,
    /// The folder's index, stdlib included, as of its last check.
    pub global: &'a Index,
    /// The sources of that check.
    pub sources: &'a SourceMap,
    /// Its checked model.
    pub model: &'a Model,
}

/// How the cursor's file changed since its folder's check.
#[derive(Clone, Copy, Debug)]
pub struct Local<'a> {
    /// The declarations and references of the text re-parsed since.
    pub index: &'a Index,
    /// Where the check's spans of the file are now.
    pub edits: &'a Edits,
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

    /// Where a span of the folder's check is in the current texts (`None` when its text was
    /// re-parsed since).
    pub fn current(&self, span: Span) -> Option<Span> {
        match self.local {
            Some(local) if span.file == self.file => local.edits.map(span),
            _ => Some(span),
        }
    }

    /// Where `symbol` is declared.
    pub fn definition(&self, symbol: &Symbol) -> Option<Definition> {
        self.local.and_then(|local| local.index.definition(symbol)).or_else(|| {
            let checked = self.global.definition(symbol)?;
            Some(Definition { name_span: self.current(checked.name_span)?, span: self.current(checked.span)? })
        })
    }

    /// Every reference to `symbol`.
    pub fn references(&self, symbol: &Symbol) -> Vec<Span> {
        let mut spans: Vec<Span> = self.global.references(symbol).iter().filter_map(|s| self.current(*s)).collect();
        if let Some(local) = self.local {
            spans.extend_from_slice(local.index.references(symbol));
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
            .filter(|s| self.global.definition(s).is_some_and(|d| self.current(d.name_span).is_some()));
        let mut names: Vec<&Symbol> = match self.local {
            Some(local) => local.index.names(kind).iter().chain(global).collect(),
            None => global.collect(),
        };
        let mut seen = std::collections::HashSet::new();
        names.retain(|s| seen.insert((&s.name, &s.workflow)));
        names
    }

    /// The top-level `let` named `name`: where its name and its value are in the current texts.
    pub fn binding(&self, name: &str) -> Option<(Span, Span)> {
        if let Some(found) = self.local.and_then(|local| local.index.binding(name)) {
            return Some(found);
        }
        let (name, value) = self.global.binding(name)?;
        Some((self.current(name)?, self.current(value)?))
    }

    /// The preset `use` names by `key`, its spans in the current texts.
    pub fn preset(&self, key: &str) -> Option<PresetInfo> {
        if let Some(info) = self.local.and_then(|local| local.index.preset(key)) {
            return Some(info.clone());
        }
        let info = self.global.preset(key)?;
        let params = info.params.iter().map(|(name, default)| match default {
            Some(span) => self.current(*span).map(|span| (name.clone(), Some(span))),
            None => Some((name.clone(), None)),
        });
        Some(PresetInfo {
            kind: info.kind.clone(),
            name_span: self.current(info.name_span)?,
            params: params.collect::<Option<Vec<_>>>()?,
        })
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

    /// The declaration of what is at `offset`: the span under the cursor and the declared name
    /// (of a resource, a step, a preset or a top-level `let`).
    pub fn goto_definition(&self, offset: u32) -> Option<(Span, Span)> {
        match self.at(offset) {
            Some(Found::Symbol { symbol, span, .. }) => Some((span, self.definition(&symbol)?.name_span)),
            Some(Found::Preset { key, span }) => Some((span, self.preset(&key)?.name_span)),
            Some(Found::Key { .. }) => None,
            None => {
                let (word, span) = super::hover::word_at(self.text, offset)?;
                let after_dot = self.text.as_bytes().get((span.start as usize).wrapping_sub(1)) == Some(&b'.');
                let (name, _) = self.binding(word).filter(|_| !after_dot)?;
                Some((Span { file: self.file, ..span }, name))
            }
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
