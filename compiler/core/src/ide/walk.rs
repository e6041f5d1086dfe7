//! One walk over a syntax tree that reports what the editor queries need: bodies with the schema
//! path they stand for, definitions of names, references to them, field keys and preset uses.
//!
//! The walk visits items inside `for` loops too (their blocks may have interpolated names, which
//! are then not definitions here: the checked model supplies those). A caller may prune it to the
//! subtrees around one offset with [`Walker::only_around`], which keeps a query on a large file to
//! the few blocks that contain the cursor.

use super::index::Symbol;
use crate::model::Kind;
use crate::source::Span;
use crate::syntax::ast::{self, Body, Entry, Expr, ExprKind, Item, ListForBody, Name, StrPart};

/// One step from a kind's schema towards a nested field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A field of a record, or a key of a map (`resources`, `env`).
    Field(String),
    /// A named member of a map of records: `zpool tank { … }` is `Member("zpool")`.
    Member(String),
    /// The variant of a tagged value: `health = http { … }` is `Field("health")`, `Variant("http")`.
    Variant(String),
    /// The arguments of `use PRESET { … }`, by the preset's key (`std.postgres`).
    Use(String),
}

/// Where a body or key sits: the kind of the enclosing block (or preset), its name, and the path
/// from the kind's schema to the body.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// The kind of the enclosing block or preset, when it names one.
    pub kind: Option<Kind>,
    /// The enclosing block's name, when written literally.
    pub block: Option<String>,
    /// The path from the kind's schema to the body.
    pub path: Vec<Seg>,
}

/// What the walk reports.
#[derive(Debug)]
pub enum Event<'a> {
    /// A body `{ … }` of a block, preset, record, member, tagged value, map or `use`.
    Body {
        /// Where the body is.
        scope: &'a Scope,
        /// From `{` to `}`.
        span: Span,
    },
    /// A name is declared: a block, or a step of a workflow.
    Definition {
        /// What is declared.
        symbol: Symbol,
        /// Where the name is written.
        name_span: Span,
        /// The whole declaration.
        span: Span,
    },
    /// A name is used: `service.db`, `step.extract`, or an overlay's `service.web.replicas`.
    Reference {
        /// What is named.
        symbol: Symbol,
        /// `kind.name`, as written.
        span: Span,
    },
    /// A field key; `scope.path` leads to the body holding it.
    Key {
        /// The body holding the key.
        scope: &'a Scope,
        /// The key.
        key: &'a ast::Key,
    },
    /// A preset is declared, under its key (`postgres`, or `std.postgres` in the stdlib).
    Preset {
        /// The key `use` names it by.
        key: String,
        /// The declaration.
        decl: &'a ast::Preset,
    },
    /// `use PRESET`: the preset's key and where its path is written.
    Use {
        /// The key (`std.postgres`).
        key: String,
        /// The dotted path as written.
        span: Span,
    },
}

/// Walks a file, calling back for each [`Event`].
pub struct Walker<'f> {
    module: Option<&'f str>,
    around: Option<u32>,
    scope: Scope,
    visit: &'f mut dyn FnMut(Event<'_>),
}

/// The text of a block name, when written without interpolation.
pub fn literal_name(name: &Name) -> Option<String> {
    match name {
        Name::Ident(ident) => Some(ident.name.to_string()),
        Name::Str(expr) => match &expr.kind {
            ExprKind::Str(parts) => parts
                .iter()
                .map(|part| match part {
                    StrPart::Text(text) => Some(text.as_str()),
                    StrPart::Interpolation(_) => None,
                })
                .collect::<Option<String>>(),
            _ => None,
        },
    }
}

/// The key `use` names a preset by: its name, or `std.MODULE[.NAME]` for the stdlib's.
pub fn preset_key(module: Option<&str>, name: &str) -> String {
    match module {
        Some(module) if module == name => format!("std.{module}"),
        Some(module) => format!("std.{module}.{name}"),
        None => name.to_string(),
    }
}

fn contains(span: Span, offset: u32) -> bool {
    span.start <= offset && offset <= span.end
}

impl<'f> Walker<'f> {
    /// A walker over a file of the stdlib module `module` (`None` for the user's files).
    pub fn new(module: Option<&'f str>, visit: &'f mut dyn FnMut(Event<'_>)) -> Walker<'f> {
        Walker { module, around: None, scope: Scope::default(), visit }
    }

    /// Visits only the items and entries whose span contains `offset`.
    pub fn only_around(mut self, offset: u32) -> Walker<'f> {
        self.around = Some(offset);
        self
    }

    fn wanted(&self, span: Span) -> bool {
        self.around.is_none_or(|offset| contains(span, offset))
    }

    /// Walks every item of `file`.
    pub fn file(&mut self, file: &ast::File) {
        self.items(&file.items);
    }

    /// Walks `items` (top-level items of a file, or a `for`'s).
    pub fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(_) | Item::Error(_) => {}
            Item::Let(decl) if self.wanted(decl.span) => self.expr(&decl.value),
            Item::Assert(assert) if self.wanted(assert.span) => {
                self.expr(&assert.cond);
                self.expr(&assert.message);
            }
            Item::For(decl) if self.wanted(decl.span) => {
                self.expr(&decl.iterable);
                self.items(&decl.items);
            }
            Item::Env(env) if self.wanted(env.span) => {
                for removal in &env.removals {
                    if let Some(kind) = Kind::from_name(&removal.kind.name).filter(|_| self.wanted(removal.span)) {
                        let symbol = Symbol::new(kind.as_str(), &removal.name.name, None);
                        (self.visit)(Event::Reference { symbol, span: removal.kind.span.to(removal.name.span) });
                    }
                }
                self.items(&env.items);
                for assignment in &env.assignments {
                    self.assignment(assignment);
                }
            }
            Item::Block(block) if self.wanted(block.span) => {
                let kind = Kind::from_name(&block.kind.name);
                let name = literal_name(&block.name);
                if let (Some(kind), Some(name)) = (kind, &name) {
                    let symbol = Symbol::new(kind.as_str(), name, None);
                    (self.visit)(Event::Definition { symbol, name_span: block.name.span(), span: block.span });
                }
                if let Name::Str(expr) = &block.name {
                    self.expr(expr);
                }
                let outer = std::mem::replace(&mut self.scope, Scope { kind, block: name, path: Vec::new() });
                self.body(&block.body);
                self.scope = outer;
            }
            Item::Preset(decl) if self.wanted(decl.span) => {
                (self.visit)(Event::Preset { key: preset_key(self.module, &decl.name.name), decl });
                let kind = Kind::from_name(&decl.kind.name);
                let outer = std::mem::replace(&mut self.scope, Scope { kind, block: None, path: Vec::new() });
                self.body(&decl.body);
                self.scope = outer;
            }
            _ => {}
        }
    }

    fn assignment(&mut self, assignment: &ast::Assignment) {
        if !self.wanted(assignment.span) {
            return;
        }
        let kind = assignment.path.first().and_then(|k| Kind::from_name(&k.name));
        if let (Some(kind), Some(first), Some(name)) = (kind, assignment.path.first(), assignment.path.get(1)) {
            let symbol = Symbol::new(kind.as_str(), &name.name, None);
            (self.visit)(Event::Reference { symbol, span: first.span.to(name.span) });
            let outer = std::mem::replace(
                &mut self.scope,
                Scope { kind: Some(kind), block: Some(name.name.to_string()), path: Vec::new() },
            );
            for key in assignment.path.iter().skip(2) {
                (self.visit)(Event::Key { scope: &self.scope, key });
                self.scope.path.push(Seg::Field(key.name.to_string()));
            }
            self.scope = outer;
        }
        self.expr(&assignment.value);
    }

    fn body(&mut self, body: &Body) {
        if !self.wanted(body.span) {
            return;
        }
        (self.visit)(Event::Body { scope: &self.scope, span: body.span });
        for entry in &body.entries {
            self.entry(entry);
        }
    }

    fn with_seg(&mut self, seg: Seg, walk: impl FnOnce(&mut Self)) {
        self.scope.path.push(seg);
        walk(self);
        self.scope.path.pop();
    }

    fn entry(&mut self, entry: &Entry) {
        match entry {
            Entry::Field { key, value } => {
                if !self.wanted(key.span.to(value.span)) {
                    return;
                }
                (self.visit)(Event::Key { scope: &self.scope, key });
                self.with_seg(Seg::Field(key.name.to_string()), |walker| walker.expr(value));
            }
            Entry::Record { key, body } => {
                if !self.wanted(key.span.to(body.span)) {
                    return;
                }
                (self.visit)(Event::Key { scope: &self.scope, key });
                self.with_seg(Seg::Field(key.name.to_string()), |walker| walker.body(body));
            }
            Entry::Member { key, label, body } => {
                if !self.wanted(key.span.to(body.span)) {
                    return;
                }
                (self.visit)(Event::Key { scope: &self.scope, key });
                let is_step =
                    self.scope.kind == Some(Kind::Workflow) && self.scope.path.is_empty() && key.name == "step";
                if is_step && let Some(name) = literal_name(label) {
                    let symbol = Symbol::new("step", &name, self.scope.block.as_deref());
                    (self.visit)(Event::Definition { symbol, name_span: label.span(), span: key.span.to(body.span) });
                }
                self.with_seg(Seg::Member(key.name.to_string()), |walker| walker.body(body));
            }
            Entry::Use { preset, args, span } => {
                if !self.wanted(*span) {
                    return;
                }
                let key = preset.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(".");
                if let (Some(first), Some(last)) = (preset.first(), preset.last()) {
                    (self.visit)(Event::Use { key: key.clone(), span: first.span.to(last.span) });
                }
                self.with_seg(Seg::Use(key), |walker| walker.body(args));
            }
            Entry::Param { default, span, .. } => {
                if let Some(default) = default
                    && self.wanted(*span)
                {
                    self.expr(default);
                }
            }
            Entry::Assert(assert) => {
                if self.wanted(assert.span) {
                    self.expr(&assert.cond);
                    self.expr(&assert.message);
                }
            }
            Entry::Error(_) => {}
        }
    }

    /// A reference's kind and name in a dotted path, reported as a use of the resource.
    fn path(&mut self, idents: &[crate::syntax::ast::Ident]) {
        if let [first, name, ..] = idents {
            let workflow = if first.name == "step" { self.scope.block.as_deref() } else { None };
            if Kind::from_name(&first.name).is_some() || first.name == "step" {
                let symbol = Symbol::new(&first.name, &name.name, workflow);
                (self.visit)(Event::Reference { symbol, span: first.span.to(name.span) });
            }
        }
    }

    fn expr(&mut self, expr: &Expr) {
        if !self.wanted(expr.span) {
            return;
        }
        match &expr.kind {
            ExprKind::Path(idents) => self.path(idents),
            ExprKind::Indexed(indexed) => {
                self.path(&indexed.path);
                self.expr(&indexed.index);
            }
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Interpolation(inner) = part {
                        self.expr(inner);
                    }
                }
            }
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                for item in items {
                    self.expr(item);
                }
            }
            ExprKind::Map(body) => self.body(body),
            ExprKind::Tagged(tag, body) => {
                self.with_seg(Seg::Variant(tag.name.to_string()), |walker| walker.body(body))
            }
            ExprKind::Binary(_, left, right) | ExprKind::Range(left, right, _) => {
                self.expr(left);
                self.expr(right);
            }
            ExprKind::Neg(inner) | ExprKind::Not(inner) => self.expr(inner),
            // A name built by interpolation names no one resource here (as a block's).
            ExprKind::NamedRef(named) => self.expr(&named.name),
            ExprKind::ListFor(list_for) => {
                self.expr(&list_for.iterable);
                if let Some(filter) = &list_for.filter {
                    self.expr(filter);
                }
                match &list_for.body {
                    ListForBody::Record(body) => self.body(body),
                    ListForBody::Value(value, _) => self.expr(value),
                }
            }
            ExprKind::RawStr(_)
            | ExprKind::Int(_)
            | ExprKind::Bool(_)
            | ExprKind::Duration(_)
            | ExprKind::Size(_)
            | ExprKind::Ip(_)
            | ExprKind::Cidr(..)
            | ExprKind::Port(..)
            | ExprKind::Error => {}
        }
    }
}
