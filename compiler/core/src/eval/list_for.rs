//! `[for row in table if cond { … }]`: a list built by a loop inside a value.
//!
//! The loop iterates as a `for` item does ([`Evaluator::each_row`]): a table's rows keep their
//! places through the loop variable, and every diagnostic of an iteration names it. Each element
//! the filter keeps becomes the body, evaluated with the variable bound: a record of fields or
//! one value, strings with `${…}` holes included (a hole holding where a service is keeps the
//! element a template, which each target fills).
//!
//! Invariants: the work is one evaluation of the filter and the body per element (charged to
//! the budget like a `for` item's iterations); the list is dropped whole when an element fails,
//! as a list written element by element is, so nothing downstream reports what it lacks.

use super::Evaluator;
use super::value::{Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{ListFor, ListForBody};

impl<'a> Evaluator<'a> {
    /// The list `list_for` builds, written at `span`.
    pub(super) fn list_for(&mut self, list_for: &'a ListFor, span: Span) -> Option<Value> {
        let mut elements = Vec::new();
        let complete = self.each_row(&list_for.var, &list_for.iterable, span, |this| {
            if let Some(filter) = &list_for.filter {
                match this.expr(filter) {
                    Some(Value { kind: ValueKind::Bool(keep), .. }) => {
                        if !keep {
                            return true;
                        }
                    }
                    Some(other) => {
                        this.report(
                            Diagnostic::new(
                                Code::E0411,
                                filter.span,
                                format!("the loop's `if` is {}, not a boolean", other.kind.type_name()),
                            )
                            .with_primary_label("not `true` or `false`")
                            .with_help(format!(
                                "compare, as in `if {}.tier == 1`: the elements it is false for are left out",
                                list_for.var.name
                            )),
                        );
                        return false;
                    }
                    None => return false,
                }
            }
            let element = match &list_for.body {
                ListForBody::Record(body) => {
                    let record = this.nested_body(body);
                    Value { kind: ValueKind::Record(Box::new(record)), span: body.span }
                }
                ListForBody::Value(value, _) => match this.expr(value) {
                    Some(element) => element,
                    None => return false,
                },
            };
            elements.push(element);
            true
        });
        complete.then_some(Value { kind: ValueKind::List(elements), span })
    }
}
