//! Comparisons, boolean operators and `len(…)`: what assertions are written with.
//!
//! `==` and `!=` compare two values of one type (a symbol and a string compare by their text, as
//! an enum field takes either); `<`, `<=`, `>` and `>=` order integers, durations, sizes and
//! strings; `&&` and `||` take booleans and evaluate their right side only when the left does
//! not decide; `!` negates a boolean. Anything else is E0403, reported once at the operator's
//! expression, like the arithmetic's type errors.

use std::cmp::Ordering;

use super::Evaluator;
use super::value::{Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, Expr};

impl<'a> Evaluator<'a> {
    /// `a && b` and `a || b`, evaluating `b` only when `a` does not decide.
    pub(super) fn logical(&mut self, op: BinaryOp, lhs: &'a Expr, rhs: &'a Expr, span: Span) -> Option<Value> {
        let left = self.boolean_operand(op, lhs)?;
        let decided = match op {
            BinaryOp::And => !left,
            _ => left,
        };
        if decided {
            return Some(Value { kind: ValueKind::Bool(left), span });
        }
        let right = self.boolean_operand(op, rhs)?;
        Some(Value { kind: ValueKind::Bool(right), span })
    }

    fn boolean_operand(&mut self, op: BinaryOp, operand: &'a Expr) -> Option<bool> {
        let value = self.expr(operand)?;
        match value.kind {
            ValueKind::Bool(b) => Some(b),
            other => {
                self.report(
                    Diagnostic::new(
                        Code::E0403,
                        value.span,
                        format!("`{}` joins booleans, found {}", op.as_str(), other.type_name()),
                    )
                    .with_primary_label("not a boolean")
                    .with_help("compare first, as in `replicas >= 3 && replicas % 2 == 1`"),
                );
                None
            }
        }
    }

    /// `==`, `!=`, `<`, `<=`, `>`, `>=` on two evaluated values.
    pub(super) fn compare(&mut self, op: BinaryOp, lhs: Value, rhs: Value, span: Span) -> Option<Value> {
        let holds = match op {
            BinaryOp::Eq | BinaryOp::Ne => equal(&lhs.kind, &rhs.kind).map(|same| same == (op == BinaryOp::Eq)),
            _ => order(&lhs.kind, &rhs.kind).map(|ordering| match op {
                BinaryOp::Lt => ordering == Ordering::Less,
                BinaryOp::Le => ordering != Ordering::Greater,
                BinaryOp::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            }),
        };
        let Some(holds) = holds else {
            let (a, b) = (lhs.kind.type_name(), rhs.kind.type_name());
            let help = if op.compares() && matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
                "`==` and `!=` compare two values of one type (a symbol and a string by their text)"
            } else {
                "`<`, `<=`, `>` and `>=` order two integers, durations, sizes or strings"
            };
            self.report(
                Diagnostic::new(Code::E0403, span, format!("cannot compare {a} and {b} with `{}`", op.as_str()))
                    .with_primary_label(format!("{a} {} {b}", op.as_str()))
                    .with_help(help),
            );
            return None;
        };
        Some(Value { kind: ValueKind::Bool(holds), span })
    }

    /// `len(x)`: the items of a list, the fields of a record, the characters of a string.
    pub(super) fn len(&mut self, args: &'a [Expr], span: Span) -> Option<Value> {
        let [arg] = args else {
            self.report(
                Diagnostic::new(Code::E0301, span, format!("`len` takes one value, found {} arguments", args.len()))
                    .with_primary_label("one list, record or string expected")
                    .with_help("write `len(servers)`"),
            );
            return None;
        };
        let value = self.expr(arg)?;
        let count = match &value.kind {
            ValueKind::List(items) => items.len(),
            ValueKind::Record(fields) | ValueKind::Tagged(_, fields) => fields.len(),
            ValueKind::Str(text) => text.chars().count(),
            other => {
                self.report(
                    Diagnostic::new(Code::E0301, arg.span, format!("`len` counts a list, found {}", other.type_name()))
                        .with_primary_label("has no length")
                        .with_help(
                            "`len` counts the items of a list, the fields of a record or the characters of a string",
                        ),
                );
                return None;
            }
        };
        Some(Value { kind: ValueKind::Int(i64::try_from(count).unwrap_or(i64::MAX)), span })
    }
}

/// Whether two values are equal, or `None` when their types cannot be compared. Spans do not
/// count: a value equals the same value written elsewhere.
fn equal(a: &ValueKind, b: &ValueKind) -> Option<bool> {
    use ValueKind::*;
    Some(match (a, b) {
        (Str(x) | Symbol(x), Str(y) | Symbol(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Bool(x), Bool(y)) => x == y,
        (Duration(x), Duration(y)) | (Size(x), Size(y)) => x == y,
        (Ip(x), Ip(y)) => x == y,
        (Cidr(x, m), Cidr(y, n)) => x == y && m == n,
        (Port(x, p), Port(y, q)) => x == y && p == q,
        (Ref(x), Ref(y)) => x == y,
        (Nix(x), Nix(y)) => x == y,
        (List(xs), List(ys)) => {
            if xs.len() != ys.len() {
                return Some(false);
            }
            for (x, y) in xs.iter().zip(ys) {
                if !equal(&x.kind, &y.kind)? {
                    return Some(false);
                }
            }
            true
        }
        (Record(xs), Record(ys)) => records_equal(xs, ys)?,
        (Tagged(s, xs), Tagged(t, ys)) => s == t && records_equal(xs, ys)?,
        _ => return None,
    })
}

fn records_equal(xs: &super::value::Record, ys: &super::value::Record) -> Option<bool> {
    if xs.len() != ys.len() {
        return Some(false);
    }
    for (key, x) in xs {
        let Some(y) = ys.get(key) else { return Some(false) };
        if !equal(&x.value.kind, &y.value.kind).unwrap_or(false) {
            return Some(false);
        }
    }
    Some(true)
}

/// How two values order, or `None` when they have no order between them.
fn order(a: &ValueKind, b: &ValueKind) -> Option<Ordering> {
    use ValueKind::*;
    Some(match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Duration(x), Duration(y)) | (Size(x), Size(y)) => x.cmp(y),
        (Str(x), Str(y)) => x.cmp(y),
        _ => return None,
    })
}
