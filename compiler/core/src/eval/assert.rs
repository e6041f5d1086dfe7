//! `assert cond, "message"`: a condition evaluated where it is written (a block or preset body,
//! a loop, the top level) that must hold.
//!
//! A failing assertion is E0501. Inside a preset it is the user's `use` line that fails it, so the
//! diagnostic points there, with the preset's `assert` as a secondary label, and names the
//! parameters the condition reads with the values the `use` gave them. A condition that is not a
//! boolean, or a message that is not a string, is E0301 at that expression.

use super::Evaluator;
use super::value::{Value, ValueKind, text_form};
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::{Assert, Expr, ExprKind, StrPart};

/// How many of the variables a condition reads are named in notes.
const MAX_NAMED: usize = 4;

impl<'a> Evaluator<'a> {
    /// Evaluates an assertion, reporting it when it fails.
    pub(super) fn assertion(&mut self, assert: &'a Assert) {
        let cond = self.expr(&assert.cond);
        let message = self.expr(&assert.message);
        let holds = match cond.map(|v| v.kind) {
            Some(ValueKind::Bool(holds)) => Some(holds),
            Some(other) => {
                self.report(
                    Diagnostic::new(
                        Code::E0301,
                        assert.cond.span,
                        format!("an assertion's condition is a boolean, found {}", other.type_name()),
                    )
                    .with_primary_label("not a boolean")
                    .with_help("compare, as in `assert replicas >= 3, \"at least three replicas\"`"),
                );
                None
            }
            None => None,
        };
        let message = match message.map(|v| v.kind) {
            Some(ValueKind::Str(text)) => Some(text),
            Some(other) => {
                self.report(
                    Diagnostic::new(
                        Code::E0301,
                        assert.message.span,
                        format!("an assertion's message is a string, found {}", other.type_name()),
                    )
                    .with_primary_label("not a string")
                    .with_help("write the message in quotes; `${…}` puts values in it"),
                );
                None
            }
            None => None,
        };
        let (Some(false), Some(message)) = (holds, message) else { return };
        let mut notes = Vec::new();
        for name in self.variables_read(&assert.cond) {
            if let Some(shown) = self.quiet_value(&name) {
                notes.push(format!("`{name}` is {shown}"));
            }
        }
        let diagnostic = match self.preset_in_use.clone() {
            Some((at, preset)) => Diagnostic::new(Code::E0501, at, format!("`{preset}`: {message}"))
                .with_primary_label(format!("`{preset}` refuses what this `use` gives it"))
                .with_label(assert.cond.span, "the preset asserts this")
                .with_help("change the `use`'s parameters so that the preset's assertion holds"),
            None => Diagnostic::new(Code::E0501, assert.cond.span, format!("assertion failed: {message}"))
                .with_primary_label("this is false")
                .with_help("change the values so that the condition holds, or the assertion if it is wrong"),
        };
        // Arguments the applied environment changed: where they were changed.
        let diagnostic = self
            .overlaid_params
            .iter()
            .fold(diagnostic, |d, &at| d.with_label(at, "the environment changes this parameter"));
        // In a loop over a table, the row the assertion fails for.
        let diagnostic = match self.iterations.last().and_then(|iteration| iteration.row()) {
            Some(row) => diagnostic.with_label(row, "the row it fails for"),
            None => diagnostic,
        };
        let diagnostic = notes.into_iter().fold(diagnostic, Diagnostic::with_note);
        self.report(diagnostic);
    }

    /// The dotted paths a condition reads from bound variables (`primaries`, `s.port`), each once,
    /// in the order written, at most [`MAX_NAMED`].
    fn variables_read(&self, cond: &Expr) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let mut stack = vec![cond];
        while let Some(expr) = stack.pop() {
            match &expr.kind {
                ExprKind::Path(path) => {
                    let bound = path.first().is_some_and(|first| {
                        self.locals.iter().any(|(n, _)| *n == first.name) || self.lets.contains_key(first.name.as_str())
                    });
                    let text = path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(".");
                    if bound && !found.contains(&text) && found.len() < MAX_NAMED {
                        found.push(text);
                    }
                }
                ExprKind::Binary(_, lhs, rhs) | ExprKind::Range(lhs, rhs, _) => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                ExprKind::Not(inner) | ExprKind::Neg(inner) => stack.push(inner),
                ExprKind::Call(_, args) | ExprKind::List(args) => stack.extend(args.iter().rev()),
                // The loop's own variable is bound only inside it; the table it reads is named.
                ExprKind::ListFor(list_for) => stack.push(&list_for.iterable),
                ExprKind::NamedRef(named) => stack.push(&named.name),
                ExprKind::Str(parts) => stack.extend(parts.iter().rev().filter_map(|part| match part {
                    StrPart::Interpolation(inner) => Some(inner),
                    StrPart::Text(_) => None,
                })),
                _ => {}
            }
        }
        found
    }

    /// A bound variable's value (a dotted path through records), shown for a note, without
    /// evaluating anything or reporting: `2`, `"main"`, `a list of 2 items`.
    fn quiet_value(&self, path: &str) -> Option<String> {
        let mut names = path.split('.');
        let first = names.next()?;
        let mut value: &Value = match self.locals.iter().rev().find(|(n, _)| *n == first) {
            Some((_, value)) => value,
            None => match &self.lets.get(first)?.state {
                super::LetState::Done(Some(value)) => value,
                _ => return None,
            },
        };
        for name in names {
            value = match &value.kind {
                ValueKind::Record(fields) | ValueKind::Tagged(_, fields) => &fields.get(name)?.value,
                _ => return None,
            };
        }
        Some(match &value.kind {
            ValueKind::Str(text) => format!("{text:?}"),
            ValueKind::List(items) => format!("a list of {} items", items.len()),
            ValueKind::Record(fields) => format!("a record of {} fields", fields.len()),
            other => text_form(other).unwrap_or_else(|| other.type_name()),
        })
    }
}
