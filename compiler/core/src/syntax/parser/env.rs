//! The `env` item: an overlay's assignments (`=`, `+=`), removals (`remove kind.name`, or
//! `remove kind.name.param` for a preset's argument) and the
//! blocks and `for` loops it adds. Part of the [`super`] parser; the same recovery and nesting
//! rules hold, an added block being read as a top-level one is.

use super::Parser;
use crate::syntax::ast::*;
use crate::syntax::lexer::TokenKind;

impl Parser<'_> {
    /// `env = "env" ident "{" (env_entry ("," | newline))* "}"` where
    /// `env_entry = key ("." key)* ("=" | "+=") expr | "remove" ident "." key ("." key)? | block | for`
    pub(super) fn env(&mut self) -> Option<Item> {
        let start = self.bump().span;
        let name = self.ident("the environment's name")?;
        let open = self.open_brace()?;
        let (mut assignments, mut removals, mut items) = (Vec::new(), Vec::new(), Vec::new());
        self.entries(open, |p| {
            let first = p.token.span;
            let head = p.key("a path such as `service.web.replicas`, `remove KIND.NAME` or a block")?;
            let keyword = if head.quoted { "" } else { head.name.as_str() };
            if !p.at(TokenKind::Dot) {
                match (keyword, p.token.kind) {
                    ("for", _) => items.push(p.for_rest(first)?),
                    ("remove", TokenKind::Ident) => {
                        let kind = p.ident("a kind")?;
                        p.eat(TokenKind::Dot).or_else(|| {
                            p.expected("`.` and the name of the block to remove");
                            None
                        })?;
                        let name = p.key("the name of the block to remove")?;
                        let param = match p.eat(TokenKind::Dot) {
                            Some(_) => Some(p.key("the preset parameter to remove")?),
                            None => None,
                        };
                        removals.push(Removal { kind, name, param, span: p.span_from(first) });
                    }
                    (_, TokenKind::Ident | TokenKind::Str { .. }) if !head.quoted => {
                        let kind = Ident { name: head.name, span: head.span };
                        items.push(Item::Block(p.block_rest(kind)?));
                    }
                    _ => {
                        p.expected("`.` and a field, as in `service.web.replicas = 1`");
                        return None;
                    }
                }
                return Some(());
            }
            let mut path = vec![head];
            while p.eat(TokenKind::Dot).is_some() {
                path.push(p.key("a field name")?);
            }
            // `+=` is two tokens written together.
            let append = p.at(TokenKind::Plus) && {
                let plus = p.bump().span;
                if !p.at(TokenKind::Eq) || p.token.span.start != plus.end {
                    p.expected("`=` right after `+`, as in `+= [item]`");
                    return None;
                }
                true
            };
            let eq = p.eat(TokenKind::Eq).or_else(|| {
                p.expected("`=`");
                None
            })?;
            let value = p.value_after(eq.span)?;
            assignments.push(Assignment { path, value, append, span: p.span_from(first) });
            Some(())
        });
        Some(Item::Env(Env { name, assignments, removals, items, span: self.span_from(start) }))
    }
}
