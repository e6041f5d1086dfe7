//! The evaluation budget: a bound on the total work of evaluating one estate, whatever its shape.
//!
//! Each limit of the language caps one construct (a range at [`super::MAX_RANGE`] items, an
//! estate at [`super::MAX_RESOURCES`] resources, a `let` chain at 64), but constructs multiply:
//! two nested loops of 100,000 iterations that declare nothing, a loop reading a large `let` a
//! million times, `let`s that each list the previous one ten times. So every unit of work is also
//! charged to one budget: one step per expression evaluated and per loop iteration, one per item a
//! range makes, and for a value copied out of a variable its [`weight`]. Past [`MAX_STEPS`],
//! evaluation stops with E0407 instead of running for hours or exhausting memory.
//!
//! Invariant: a charge is made before the work it pays for, so no single step can allocate more
//! than one already-paid value.

use super::Evaluator;
use super::value::{Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;

/// The most evaluation steps one estate may take. A generated 100,000-service estate takes about
/// 2 million (twenty per service); this leaves room for twelve times that, or a million resources
/// of twenty-five steps each, while keeping the worst case to seconds and the text it can copy
/// to 1.6 GB.
pub const MAX_STEPS: u64 = 25_000_000;

/// How many bytes of text count as one step when a string is copied.
const BYTES_PER_STEP: u64 = 64;

/// The work of copying a value: one step per value it holds, plus one per 64 bytes of its text.
pub fn weight(value: &Value) -> u64 {
    let record = |record: &super::value::Record| -> u64 {
        record.iter().map(|(key, field)| key.len() as u64 / BYTES_PER_STEP + weight(&field.value)).sum()
    };
    1 + match &value.kind {
        ValueKind::Str(text) | ValueKind::Nix(text) | ValueKind::Symbol(text) => text.len() as u64 / BYTES_PER_STEP,
        ValueKind::List(items) => items.iter().map(weight).sum(),
        ValueKind::Record(fields) => record(fields),
        ValueKind::Tagged(tag, fields) => tag.len() as u64 / BYTES_PER_STEP + record(fields),
        _ => 0,
    }
}

impl Evaluator<'_> {
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
