//! `[for row in table if cond { … }]`: a list built by a loop inside a value. Part of the
//! [`super`] parser; the same recovery and nesting rules hold (the loop's `[` and its body's `{`
//! each count one level towards [`super::MAX_DEPTH`]).
//!
//! The header reads as the top-level loop's (`for NAME in EXPR`, where `name {` opens the body,
//! not a tagged record), then an optional `if EXPR`. The body in braces is a record written as a
//! record's entries (`{ name = row.name }`) when its first entry is `key = …`, `key { … }` or
//! `key NAME { … }`, and otherwise one value written alone (`{ "mcp-${row.name}" }`).

use super::Parser;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::lexer::{TokenKind, scan_string};

impl<'s> Parser<'s> {
    /// Whether the list just opened starts with a loop: `for` followed, on the same line, by a
    /// name (a list whose first element is the symbol `for` never is: a name after it would need
    /// a comma).
    pub(super) fn at_list_for(&self) -> bool {
        if !self.at_keyword("for") {
            return false;
        }
        let rest = self.src.get(self.token.span.end as usize..).unwrap_or("");
        let rest = rest.trim_start_matches([' ', '\t']);
        rest.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
    }

    /// `list_for = "[" "for" ident "in" expr ("if" expr)? "{" (body_entries | expr) "}" "]"`,
    /// after the `[` at `open`.
    pub(super) fn list_for(&mut self, open: Span) -> Option<Expr> {
        self.bump();
        let var = self.ident("the loop variable")?;
        if !self.at_keyword("in") {
            self.expected("`in`");
            return None;
        }
        self.bump();
        // As in a `for` item's header, `name {` opens the body, not a tagged record.
        let no_tagged = std::mem::replace(&mut self.no_tagged, true);
        let header = self.list_for_header();
        self.no_tagged = no_tagged;
        let (iterable, filter) = header?;
        if !self.at(TokenKind::LBrace) {
            if !self.token_after_lex_error && !self.gave_up {
                let at = if self.at(TokenKind::RBracket) {
                    Span { end: self.token.span.end, ..open }
                } else {
                    self.token.span
                };
                self.push(
                    Diagnostic::new(Code::E0224, at, "a loop inside a list has no body")
                        .with_primary_label("expected `{ … }`, the value each element becomes")
                        .with_help(format!(
                            "write the element in braces: `[for {} in … {{ name = {}.name }}]` for a record, or `{{ {}.name }}` for one value",
                            var.name, var.name, var.name
                        )),
                );
            }
            return None;
        }
        let body = self.list_for_body()?;
        if self.at(TokenKind::Comma) && !self.comma_closes_list() {
            self.push(
                Diagnostic::new(Code::E0225, self.token.span, "a list built by a loop holds nothing else")
                    .with_primary_label("more elements after the loop")
                    .with_label(open, "this list is built by a loop")
                    .with_help("put the other elements in the loop's table, or filter the table with `if`"),
            );
            return None;
        }
        self.eat(TokenKind::Comma);
        if self.eat(TokenKind::RBracket).is_none() {
            self.expected("`]` closing the loop's list");
            return None;
        }
        let list_for = ListFor { var, iterable, filter, body };
        Some(Expr { kind: ExprKind::ListFor(Box::new(list_for)), span: self.span_from(open) })
    }

    /// The iterable and the optional `if` filter.
    fn list_for_header(&mut self) -> Option<(Expr, Option<Expr>)> {
        let iterable = self.expr()?;
        if !self.at_keyword("if") {
            return Some((iterable, None));
        }
        self.bump();
        let filter = self.expr()?;
        Some((iterable, Some(filter)))
    }

    /// Whether the `,` at the current token is a trailing one, right before the list's `]`.
    fn comma_closes_list(&self) -> bool {
        let rest = self.src.get(self.token.span.end as usize..).unwrap_or("");
        skip_space_and_comments(rest).starts_with(']')
    }

    /// The body in braces: a record's entries, or one value alone.
    fn list_for_body(&mut self) -> Option<ListForBody> {
        if self.body_holds_entries() {
            let body = self.body()?;
            for entry in &body.entries {
                let (span, what) = match entry {
                    Entry::Use { span, .. } => (*span, "`use` merges a preset into a block"),
                    Entry::Param { span, .. } => (*span, "`param` declares a preset's parameter"),
                    _ => continue,
                };
                self.push(
                    Diagnostic::new(Code::E0224, span, "a loop inside a list builds values, not blocks")
                        .with_primary_label(format!("{what}, not a value"))
                        .with_help(
                            "the body is the value each element becomes: a record's fields (`name = row.name`) or one value",
                        ),
                );
                return None;
            }
            return Some(ListForBody::Record(body));
        }
        let open = self.bump().span;
        if !self.enter(open) {
            return None;
        }
        let value = self.expr();
        self.depth -= 1;
        let value = value?;
        if self.eat(TokenKind::RBrace).is_none() {
            if !self.token_after_lex_error && !self.gave_up {
                self.push(
                    Diagnostic::new(Code::E0224, self.token.span, "a loop's body holds one value or a record's entries")
                        .with_primary_label("expected `}` after the value")
                        .with_label(value.span, "the element's value")
                        .with_help("write one value (`{ row.name }`), or the fields of a record (`{ name = row.name, port = row.port }`)"),
                );
            }
            return None;
        }
        Some(ListForBody::Value(value, self.span_from(open)))
    }

    /// Whether the `{ … }` at the current token starts with a record's entry (`key = …`,
    /// `key { … }`, `key NAME { … }`, `use …`, `param …`, `assert …`) or is empty; read from the
    /// source, which the lexer has not reached yet.
    fn body_holds_entries(&self) -> bool {
        let rest = self.src.get(self.token.span.end as usize..).unwrap_or("");
        let rest = skip_space_and_comments(rest);
        let after_key = if rest.starts_with('"') {
            // `rest` is a suffix of the source: where it starts.
            let start = self.src.len() - rest.len();
            match scan_string(self.src, start, self.src.len()) {
                Ok(end) => self.src.get(end..).unwrap_or(""),
                Err(_) => return false,
            }
        } else if rest.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') {
            let len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')).count();
            rest.get(len..).unwrap_or("")
        } else {
            return rest.starts_with('}');
        };
        let after_key = after_key.trim_start_matches([' ', '\t']);
        let mut next = after_key.bytes();
        match (next.next(), next.next()) {
            (Some(b'='), second) => second != Some(b'='),
            (Some(b'{' | b'"'), _) => true,
            (Some(b), _) => b.is_ascii_alphabetic() || b == b'_',
            (None, _) => false,
        }
    }
}

/// `text` after its leading whitespace, line breaks and `#` comments.
fn skip_space_and_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        match text.strip_prefix('#') {
            Some(comment) => text = comment.find('\n').map_or("", |at| &comment[at..]),
            None => return text,
        }
    }
}
