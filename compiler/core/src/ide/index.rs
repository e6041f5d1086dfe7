//! The names of an estate: where each resource, step and preset is declared and where each is
//! referenced, built once per check so every query is a map lookup.
//!
//! Blocks written with a literal name are found in the syntax trees; blocks whose name is
//! interpolated (`node "worker-${i}"` in a `for`) are taken from the checked model, which knows
//! every expanded name and where it is written.

use std::collections::HashMap;

use super::walk::{Event, Walker};
use crate::model::{Kind, Model};
use crate::source::{FileId, Span};
use crate::syntax::ast;

/// Something a reference can name: a resource (`service.db`) or a step of a workflow.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    /// The kind keyword, or `step`.
    pub kind: String,
    /// The name.
    pub name: String,
    /// For steps, the workflow they belong to (steps are named within it).
    pub workflow: Option<String>,
}

impl Symbol {
    /// A symbol of `kind` named `name` (in `workflow`, for steps).
    pub fn new(kind: &str, name: &str, workflow: Option<&str>) -> Symbol {
        Symbol { kind: kind.to_string(), name: name.to_string(), workflow: workflow.map(str::to_string) }
    }
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// Where a symbol is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Definition {
    /// Where the name is written.
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
}

/// A preset, as declared.
#[derive(Clone, Debug)]
pub struct PresetInfo {
    /// The kind of block it serves.
    pub kind: String,
    /// Where its name is written.
    pub name_span: Span,
    /// Its parameters, with the span of each default (none: every `use` must set it).
    pub params: Vec<(String, Option<Span>)>,
}

/// One file handed to [`Index::build`].
pub struct IndexedFile<'a> {
    /// The file.
    pub file: FileId,
    /// Its syntax tree.
    pub ast: &'a ast::File,
    /// For stdlib files, the module name.
    pub module: Option<&'a str>,
}

/// Every declaration and reference of a set of files.
#[derive(Debug, Default)]
pub struct Index {
    definitions: HashMap<Symbol, Definition>,
    /// Names by kind, in declaration order, for completion.
    names: HashMap<String, Vec<Symbol>>,
    references: HashMap<Symbol, Vec<Span>>,
    presets: HashMap<String, PresetInfo>,
    /// Top-level `let`s of the user's files by name: the name's span and the value's.
    lets: HashMap<String, (Span, Span)>,
}

impl Index {
    /// Indexes `files`, then adds the model's resources whose names the trees do not spell out.
    pub fn build(files: &[IndexedFile<'_>], model: Option<&Model>) -> Index {
        let mut index = Index::default();
        for file in files {
            index.add_file(file);
        }
        if let Some(model) = model {
            index.add_model(model);
        }
        index
    }

    fn add_file(&mut self, file: &IndexedFile<'_>) {
        self.add_walked(file.module, &file.ast.items);
    }

    /// Adds the declarations and references of some top-level items of a user's file.
    pub fn add_items(&mut self, items: &[ast::Item]) {
        self.add_walked(None, items);
    }

    fn add_walked(&mut self, module: Option<&str>, items: &[ast::Item]) {
        let mut visit = |event: Event<'_>| match event {
            Event::Definition { symbol, name_span, span } => self.define(symbol, Definition { name_span, span }),
            Event::Reference { symbol, span } => self.references.entry(symbol).or_default().push(span),
            Event::Preset { key, decl } => {
                let params = decl
                    .body
                    .entries
                    .iter()
                    .filter_map(|entry| match entry {
                        ast::Entry::Param { name, default, .. } => {
                            Some((name.name.to_string(), default.as_ref().map(|d| d.span)))
                        }
                        _ => None,
                    })
                    .collect();
                self.presets.entry(key).or_insert(PresetInfo {
                    kind: decl.kind.name.to_string(),
                    name_span: decl.name.span,
                    params,
                });
            }
            Event::Body { .. } | Event::Key { .. } | Event::Use { .. } => {}
        };
        Walker::new(module, &mut visit).items(items);
        if module.is_none() {
            for item in items {
                if let ast::Item::Let(decl) = item {
                    self.lets.entry(decl.name.name.to_string()).or_insert((decl.name.span, decl.value.span));
                }
            }
        }
    }

    fn define(&mut self, symbol: Symbol, definition: Definition) {
        // The first declaration wins, as in the evaluator (a second is reported there).
        if !self.definitions.contains_key(&symbol) {
            self.names.entry(symbol.kind.clone()).or_default().push(symbol.clone());
            self.definitions.insert(symbol, definition);
        }
    }

    fn add_model(&mut self, model: &Model) {
        macro_rules! add {
            ($($list:ident => $kind:ident),*) => {$(
                for resource in &model.$list {
                    let symbol = Symbol::new(Kind::$kind.as_str(), &resource.name, None);
                    self.define(symbol, Definition { name_span: resource.name_span, span: resource.span });
                }
            )*};
        }
        add!(nodes => Node, networks => Network, clusters => Cluster, storage => Storage, services => Service,
            alerts => Alert, backups => Backup, workflows => Workflow, secrets => Secret);
    }

    /// Where `symbol` is declared.
    pub fn definition(&self, symbol: &Symbol) -> Option<Definition> {
        self.definitions.get(symbol).copied()
    }

    /// Every reference to `symbol`, in file order.
    pub fn references(&self, symbol: &Symbol) -> &[Span] {
        self.references.get(symbol).map_or(&[], Vec::as_slice)
    }

    /// Every declared symbol of `kind` (`step`s of every workflow included), in declaration order.
    pub fn names(&self, kind: &str) -> &[Symbol] {
        self.names.get(kind).map_or(&[], Vec::as_slice)
    }

    /// The preset `use` names by `key`.
    pub fn preset(&self, key: &str) -> Option<&PresetInfo> {
        self.presets.get(key)
    }

    /// The top-level `let` named `name`: where its name and its value are written.
    pub fn binding(&self, name: &str) -> Option<(Span, Span)> {
        self.lets.get(name).copied()
    }

    /// Every declared symbol with its declaration, in no particular order.
    pub fn definitions(&self) -> impl Iterator<Item = (&Symbol, &Definition)> {
        self.definitions.iter()
    }

    /// Every preset with its key, in no particular order.
    pub fn presets(&self) -> impl Iterator<Item = (&str, &PresetInfo)> {
        self.presets.iter().map(|(key, info)| (key.as_str(), info))
    }

    /// Every preset key.
    pub fn preset_keys(&self) -> impl Iterator<Item = &str> {
        self.presets.keys().map(String::as_str)
    }
}
