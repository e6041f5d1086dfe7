//! Moving a syntax tree's spans: every span of an item shifted by the same byte count, for a
//! declaration whose text moved because an edit before it changed the text's length, or which was
//! parsed out of a slice of its file.
//!
//! Invariant: every [`Span`] reachable from an item is moved, but for placeholders (the matches are exhaustive, so a new
//! node kind cannot be forgotten silently); nothing else changes and nothing is allocated.

use crate::source::Span;
use crate::syntax::ast::{Assert, Body, Entry, Expr, ExprKind, Ident, Item, Key, ListForBody, Name, StrPart};

/// Adds `delta` to both ends of `span` (offsets stay in `u32`: a caller moves only spans that
/// stay inside the text). The empty span at offset 0 is the parser's placeholder for a node that
/// is not written (the arguments of a `use` without braces) and stays where it is.
pub fn span(span: &mut Span, delta: i64) {
    if span.start == 0 && span.end == 0 {
        return;
    }
    span.start = (i64::from(span.start) + delta) as u32;
    span.end = (i64::from(span.end) + delta) as u32;
}

/// Moves every span of `items` by `delta` bytes.
pub fn items(items: &mut [Item], delta: i64) {
    if delta == 0 {
        return;
    }
    for item in items {
        self::item(item, delta);
    }
}

fn item(item: &mut Item, delta: i64) {
    match item {
        Item::Import(import) => {
            import.path.iter_mut().for_each(|i| ident(i, delta));
            span(&mut import.span, delta);
        }
        Item::Let(decl) => {
            ident(&mut decl.name, delta);
            expr(&mut decl.value, delta);
            span(&mut decl.span, delta);
        }
        Item::Env(env) => {
            ident(&mut env.name, delta);
            for assignment in &mut env.assignments {
                assignment.path.iter_mut().for_each(|k| key(k, delta));
                expr(&mut assignment.value, delta);
                span(&mut assignment.span, delta);
            }
            for removal in &mut env.removals {
                ident(&mut removal.kind, delta);
                key(&mut removal.name, delta);
                if let Some(param) = &mut removal.param {
                    key(param, delta);
                }
                span(&mut removal.span, delta);
            }
            items(&mut env.items, delta);
            span(&mut env.span, delta);
        }
        Item::For(decl) => {
            ident(&mut decl.var, delta);
            expr(&mut decl.iterable, delta);
            items(&mut decl.items, delta);
            span(&mut decl.span, delta);
        }
        Item::Block(block) => {
            ident(&mut block.kind, delta);
            name(&mut block.name, delta);
            body(&mut block.body, delta);
            span(&mut block.span, delta);
        }
        Item::Preset(preset) => {
            ident(&mut preset.name, delta);
            ident(&mut preset.kind, delta);
            body(&mut preset.body, delta);
            span(&mut preset.span, delta);
        }
        Item::Assert(inner) => assert(inner, delta),
        Item::Error(error) => span(error, delta),
    }
}

fn assert(assert: &mut Assert, delta: i64) {
    expr(&mut assert.cond, delta);
    expr(&mut assert.message, delta);
    span(&mut assert.span, delta);
}

fn ident(ident: &mut Ident, delta: i64) {
    span(&mut ident.span, delta);
}

fn key(key: &mut Key, delta: i64) {
    span(&mut key.span, delta);
}

fn name(name: &mut Name, delta: i64) {
    match name {
        Name::Ident(i) => ident(i, delta),
        Name::Str(e) => expr(e, delta),
    }
}

fn body(body: &mut Body, delta: i64) {
    for entry in &mut body.entries {
        match entry {
            Entry::Field { key: k, value } => {
                key(k, delta);
                expr(value, delta);
            }
            Entry::Record { key: k, body: inner } => {
                key(k, delta);
                self::body(inner, delta);
            }
            Entry::Member { key: k, label, body: inner } => {
                key(k, delta);
                name(label, delta);
                self::body(inner, delta);
            }
            Entry::Use { preset, args, span: whole } => {
                preset.iter_mut().for_each(|i| ident(i, delta));
                self::body(args, delta);
                span(whole, delta);
            }
            Entry::Param { name: param, default, span: whole } => {
                ident(param, delta);
                if let Some(default) = default {
                    expr(default, delta);
                }
                span(whole, delta);
            }
            Entry::Assert(inner) => assert(inner, delta),
            Entry::Error(error) => span(error, delta),
        }
    }
    span(&mut body.span, delta);
}

fn expr(expr: &mut Expr, delta: i64) {
    match &mut expr.kind {
        ExprKind::Str(parts) => {
            for part in parts {
                if let StrPart::Interpolation(inner) = part {
                    self::expr(inner, delta);
                }
            }
        }
        ExprKind::List(list) => list.iter_mut().for_each(|e| self::expr(e, delta)),
        ExprKind::Map(inner) => body(inner, delta),
        ExprKind::Path(path) => path.iter_mut().for_each(|i| ident(i, delta)),
        ExprKind::Indexed(indexed) => {
            indexed.path.iter_mut().chain(&mut indexed.rest).for_each(|i| ident(i, delta));
            self::expr(&mut indexed.index, delta);
        }
        ExprKind::Tagged(tag, inner) => {
            ident(tag, delta);
            body(inner, delta);
        }
        ExprKind::Call(callee, args) => {
            ident(callee, delta);
            args.iter_mut().for_each(|e| self::expr(e, delta));
        }
        ExprKind::Binary(_, left, right) | ExprKind::Range(left, right, _) => {
            self::expr(left, delta);
            self::expr(right, delta);
        }
        ExprKind::Neg(inner) | ExprKind::Not(inner) => self::expr(inner, delta),
        ExprKind::NamedRef(named) => {
            ident(&mut named.kind, delta);
            self::expr(&mut named.name, delta);
            named.field.iter_mut().for_each(|i| ident(i, delta));
        }
        ExprKind::ListFor(list_for) => {
            ident(&mut list_for.var, delta);
            self::expr(&mut list_for.iterable, delta);
            if let Some(filter) = &mut list_for.filter {
                self::expr(filter, delta);
            }
            match &mut list_for.body {
                ListForBody::Record(inner) => body(inner, delta),
                ListForBody::Value(value, braces) => {
                    self::expr(value, delta);
                    span(braces, delta);
                }
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
    span(&mut expr.span, delta);
}
