//! Document highlights: the other uses, in the same file, of the name under the cursor (a
//! resource or a step, with its declaration; or a top-level `let`).

use super::query::{Found, World};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, Item, ListForBody, StrPart};

/// One use: where it is, and whether it is the declaration.
pub type Highlight = (Span, bool);

/// The uses in the world's file of what is at `offset`, in text order.
pub fn highlights(world: &World<'_>, offset: u32) -> Vec<Highlight> {
    if let Some(Found::Symbol { symbol, .. }) = world.at(offset) {
        let declaration = world.definition(&symbol).map(|d| d.name_span);
        let mut found: Vec<Highlight> =
            world.references(&symbol).into_iter().filter(|s| s.file == world.file).map(|s| (s, false)).collect();
        if let Some(span) = declaration.filter(|s| s.file == world.file) {
            found.push((span, true));
        }
        found.sort_by_key(|(span, _)| span.start);
        return found;
    }
    let Some((word, span)) = super::hover::word_at(world.text, offset) else { return Vec::new() };
    let Some((name, _)) = world.binding(word) else { return Vec::new() };
    if world.text.as_bytes().get((span.start as usize).wrapping_sub(1)) == Some(&b'.') {
        return Vec::new();
    }
    let mut found: Vec<Highlight> = Vec::new();
    if name.file == world.file {
        found.push((name, true));
    }
    let mut stack: Vec<&Expr> = Vec::new();
    let mut items: Vec<&Item> = world.ast.items.iter().collect();
    while let Some(item) = items.pop() {
        match item {
            Item::Let(decl) => stack.push(&decl.value),
            Item::For(decl) => {
                stack.push(&decl.iterable);
                items.extend(&decl.items);
            }
            Item::Block(block) => expressions(&block.body, &mut stack),
            Item::Preset(decl) => expressions(&decl.body, &mut stack),
            Item::Env(env) => {
                stack.extend(env.assignments.iter().map(|a| &a.value));
                items.extend(&env.items);
            }
            Item::Assert(assert) => stack.extend([&assert.cond, &assert.message]),
            Item::Import(_) | Item::Error(_) => {}
        }
    }
    while let Some(expr) = stack.pop() {
        match &expr.kind {
            ExprKind::Path(idents) => {
                if let [only] = idents.as_slice()
                    && only.name.as_str() == word
                {
                    found.push((only.span, false));
                }
            }
            ExprKind::Str(parts) => stack.extend(parts.iter().filter_map(|p| match p {
                StrPart::Interpolation(inner) => Some(inner),
                StrPart::Text(_) => None,
            })),
            ExprKind::List(list) | ExprKind::Call(_, list) => stack.extend(list),
            ExprKind::Map(body) | ExprKind::Tagged(_, body) => expressions(body, &mut stack),
            ExprKind::Binary(_, a, b) | ExprKind::Range(a, b, _) => {
                stack.push(a);
                stack.push(b);
            }
            ExprKind::Neg(inner) | ExprKind::Not(inner) => stack.push(inner),
            ExprKind::NamedRef(named) => stack.push(&named.name),
            ExprKind::ListFor(list_for) => {
                stack.push(&list_for.iterable);
                stack.extend(&list_for.filter);
                match &list_for.body {
                    ListForBody::Record(body) => expressions(body, &mut stack),
                    ListForBody::Value(value, _) => stack.push(value),
                }
            }
            _ => {}
        }
    }
    found.sort_by_key(|(span, _)| span.start);
    found
}

/// The expressions directly in a body (nested bodies are reached through them).
fn expressions<'a>(body: &'a crate::syntax::ast::Body, stack: &mut Vec<&'a Expr>) {
    use crate::syntax::ast::Entry;
    for entry in &body.entries {
        match entry {
            Entry::Field { value, .. } => stack.push(value),
            Entry::Record { body, .. } | Entry::Member { body, .. } => expressions(body, stack),
            Entry::Use { args, .. } => expressions(args, stack),
            Entry::Param { default: Some(default), .. } => stack.push(default),
            Entry::Assert(assert) => stack.extend([&assert.cond, &assert.message]),
            Entry::Param { .. } | Entry::Error(_) => {}
        }
    }
}
