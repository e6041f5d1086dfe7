//! The evaluation budget: a bound on the total work of evaluating one estate, whatever its shape.
//!
//! Each limit of the language caps one construct (a range at [`super::MAX_RANGE`] items, an
//! estate at [`super::MAX_RESOURCES`] resources, a `let` chain at 64), but constructs multiply:
//! two nested loops of 100,000 iterations that declare nothing, a loop reading a large `let` a
//! million times, `let`s that each list the previous one ten times. So every unit of work is also
//! charged to one budget: one step per expression evaluated and per loop iteration, one per item a
//! range makes, [`DIAGNOSTIC_STEPS`] per diagnostic, and for a value copied out of a variable its
//! weight ([`measure`]). Past [`MAX_STEPS`], evaluation stops with E0407 instead of running for
//! hours or exhausting memory.
//!
//! Invariant: a copy or a range is charged before it is made, so nothing large is built past the
//! budget.

use super::Evaluator;
use super::value::{Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// The most evaluation steps one estate may take. A generated 100,000-service estate takes about
/// 2 million (twenty per service); this leaves room for eight times that, or a million resources
/// of sixteen steps each, while keeping the worst case to about a second in a release build and
/// the text it can copy to 1 GB.
pub const MAX_STEPS: u64 = 16_000_000;

/// What one diagnostic costs: building it formats text and allocates, so a loop reporting a
/// mistake on every iteration spends the budget faster than one that only evaluates.
pub const DIAGNOSTIC_STEPS: u64 = 64;

/// How many bytes of text count as one step when a string is copied.
const BYTES_PER_STEP: u64 = 64;

/// The work of copying a value (one step per value it holds, plus one per 64 bytes of its text),
/// and how deeply it nests. The recursion is safe: every value is built within
/// [`super::MAX_EVAL_DEPTH`] levels of expressions plus the parser's nesting of bodies.
pub fn measure(value: &Value) -> (u64, usize) {
    let record = |record: &super::value::Record| -> (u64, usize) {
        record.iter().fold((0, 0), |(weight, depth), (key, field)| {
            let (inner, inner_depth) = measure(&field.value);
            (weight + key.len() as u64 / BYTES_PER_STEP + inner, depth.max(inner_depth))
        })
    };
    let (weight, depth) = match &value.kind {
        ValueKind::Str(text) | ValueKind::Nix(text) | ValueKind::Symbol(text) => {
            (text.len() as u64 / BYTES_PER_STEP, 0)
        }
        ValueKind::List(items) => items.iter().map(measure).fold((0, 0), |(w, d), (iw, id)| (w + iw, d.max(id))),
        ValueKind::Record(fields) => record(fields),
        ValueKind::Tagged(tag, fields) => {
            let (weight, depth) = record(fields);
            (tag.len() as u64 / BYTES_PER_STEP + weight, depth)
        }
        _ => (0, 0),
    };
    (1 + weight, 1 + depth)
}

impl Evaluator<'_> {
    /// Charges the copy of a variable's value at `span`, given its [`measure`]: its weight to the
    /// budget, and its depth to the nesting of the expression it is copied into. `false` when
    /// either runs out.
    pub(super) fn charge_copy(&mut self, (weight, depth): (u64, usize), span: Span) -> bool {
        if self.expr_depth + depth > super::MAX_EVAL_DEPTH {
            self.too_deep(span);
            return false;
        }
        self.spend(weight, span)
    }

    /// Reports, once, that evaluation nests deeper than [`super::MAX_EVAL_DEPTH`].
    pub(super) fn too_deep(&mut self, span: Span) {
        self.poisoned = true;
        if self.too_deep_reported {
            return;
        }
        self.too_deep_reported = true;
        self.report(
            Diagnostic::new(
                Code::E0105,
                span,
                format!(
                    "expressions nest more than {} deep once the `let`s they use are substituted",
                    super::MAX_EVAL_DEPTH
                ),
            )
            .with_primary_label("too deep")
            .with_help("each `let` used inside a list or record adds its own nesting: flatten the values"),
        );
    }

    /// Charges `steps` to the budget; `false` once it is spent (reported once, at `span`).
    pub(super) fn spend(&mut self, steps: u64, span: Span) -> bool {
        self.steps = self.steps.saturating_add(steps);
        if self.steps <= MAX_STEPS {
            return true;
        }
        if !self.budget_spent {
            self.budget_spent = true;
            self.poisoned = true;
            self.report(
                Diagnostic::new(
                    Code::E0407,
                    span,
                    format!("evaluating the estate takes more than {MAX_STEPS} steps"),
                )
                .with_primary_label("the limit is reached here")
                .with_help(
                    "a loop multiplies the work of its body: nest fewer loops, or read large `let` values outside loops",
                ),
            );
        }
        false
    }
}
