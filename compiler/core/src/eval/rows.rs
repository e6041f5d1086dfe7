//! `for` loops, and what their iterations leave on diagnostics.
//!
//! A loop over a list binds its variable to each element in turn. When the list was written
//! element by element (a table of records, `[{ name = "a", port = 9001 }, …]`, or any literal
//! list), each element is a **row** with its own span, and values read from the loop variable keep
//! the span of the row they come from: a type error in a row's value flowing into a block's field
//! points at the row, not at the loop body every iteration shares. A row missing a field the loop
//! reads, when other rows have it, is E0302 at the row.
//!
//! Every diagnostic reported during an iteration, and every later diagnostic about a resource the
//! iteration declared, carries a note naming the iteration ("in iteration 3 of `for s in servers`
//! (name = "c")"), innermost loop first; [`LoopRow`]s on the resources carry these to the model
//! stage and the graph rules.
//!
//! Invariant: the work per iteration is one short note; a loop's field names are gathered once.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::Evaluator;
use super::value::{Value, ValueKind, text_form};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::source::Span;
use crate::syntax::ast::{self, Atom, Expr, ExprKind};

/// A loop iteration a block was expanded in: the row it iterated over, and what names it. The
/// note is written only when a diagnostic needs it: a loop over a large table makes one of these
/// per row.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopRow {
    /// The list element of the iteration as written (a table's row), when it has a place of its
    /// own (elements of a range do not).
    pub row: Option<Span>,
    /// The iteration's number, from 1.
    iteration: usize,
    /// `for s in servers`, shared by the loop's iterations.
    header: Arc<str>,
    /// What tells the row apart: a field's name (or the loop variable's) and its value.
    label: Option<(Atom, Value)>,
}

impl LoopRow {
    /// "in iteration 3 of `for s in servers` (name = \"c\")".
    pub fn note(&self) -> String {
        let label = self.label.as_ref().and_then(|(key, value)| {
            let shown = match &value.kind {
                ValueKind::Str(text) => format!("{text:?}"),
                other => text_form(other)?,
            };
            Some(format!(" ({key} = {shown})"))
        });
        format!("in iteration {} of `{}`{}", self.iteration, self.header, label.unwrap_or_default())
    }

    /// Whether two rows are one iteration of one loop.
    fn same_iteration(&self, other: &LoopRow) -> bool {
        self.iteration == other.iteration && Arc::ptr_eq(&self.header, &other.header)
    }
}

/// An iteration being evaluated.
pub(super) struct Iteration {
    /// Where the loop variable is in the evaluator's locals.
    pub(super) local: usize,
    /// Its row, then the enclosing iterations' (what a resource declared now keeps).
    pub(super) rows: Arc<[LoopRow]>,
    /// The loop variable's name and the field names any row of the loop has.
    var: Atom,
    keys: Arc<FxHashSet<Atom>>,
}

/// Adds the notes of `rows` (innermost first) a diagnostic does not carry yet, and, when none of
/// its labels points into the innermost row (a value built in the loop body from the row, such as
/// `"${s.port}/tcp"`), a label at that row.
pub fn in_rows(mut diagnostic: Diagnostic, rows: &[LoopRow]) -> Diagnostic {
    if let Some(row) = rows.first().and_then(|r| r.row) {
        let inside = |span: Span| span.file == row.file && row.start <= span.start && span.end <= row.end;
        let labelled = inside(diagnostic.primary.span) || diagnostic.secondary.iter().any(|label| inside(label.span));
        if !labelled {
            diagnostic = diagnostic.with_label(row, "the row of this iteration");
        }
    }
    add_notes(&mut diagnostic, rows);
    diagnostic
}

fn add_notes(diagnostic: &mut Diagnostic, rows: &[LoopRow]) {
    for row in rows {
        let note = row.note();
        if !diagnostic.notes.contains(&note) {
            diagnostic.notes.push(note);
        }
    }
}

/// How many rows before a diagnostic's place [`RowIndex::notes_for`] looks back for one holding it.
const LOOK_BACK: usize = 64;

/// The rows of every resource, by place, for diagnostics reported after evaluation: a diagnostic
/// inside a row gets the notes of the iteration that row was for.
pub struct RowIndex<'m> {
    /// (row, the resource's rows from that one outwards), sorted by position; a row iterated by
    /// two loops is left out (which iteration a diagnostic there belongs to is unknown).
    rows: Vec<(Span, &'m [LoopRow])>,
}

impl<'m> RowIndex<'m> {
    /// Indexes the rows of resources, given as their rows (innermost first).
    pub fn new(resources: impl Iterator<Item = &'m [LoopRow]>) -> RowIndex<'m> {
        let mut rows: Vec<(Span, &'m [LoopRow])> = Vec::new();
        for stack in resources {
            for (depth, row) in stack.iter().enumerate() {
                if let (Some(span), Some(outwards)) = (row.row, stack.get(depth..)) {
                    rows.push((span, outwards));
                }
            }
        }
        let key = |span: &Span| (span.file.0, span.start, span.end);
        rows.sort_by_key(|(span, _)| key(span));
        // One entry per row; a row whose iterations differ is dropped.
        let mut kept: Vec<(Span, &'m [LoopRow])> = Vec::with_capacity(rows.len());
        let mut ambiguous = false;
        for (span, outwards) in rows {
            match kept.last() {
                Some((last, theirs)) if *last == span => {
                    ambiguous |= match (theirs.first(), outwards.first()) {
                        (Some(a), Some(b)) => !a.same_iteration(b),
                        _ => true,
                    };
                }
                _ => {
                    if ambiguous {
                        kept.pop();
                    }
                    ambiguous = false;
                    kept.push((span, outwards));
                }
            }
        }
        if ambiguous {
            kept.pop();
        }
        RowIndex { rows: kept }
    }

    /// Adds the notes of the innermost row holding `diagnostic`'s primary span, or else one of its
    /// secondary labels' (a rule's message often points at the loop body every iteration shares
    /// and at the row's value beside it).
    pub fn add_notes(&self, diagnostic: &mut Diagnostic) {
        let labels = std::iter::once(diagnostic.primary.span).chain(diagnostic.secondary.iter().map(|l| l.span));
        if let Some(rows) = labels.into_iter().find_map(|at| self.holding(at)) {
            add_notes(diagnostic, rows);
        }
    }

    /// The rows (from the innermost outwards) of the innermost row holding `at`.
    fn holding(&self, at: Span) -> Option<&'m [LoopRow]> {
        let key = |span: &Span| (span.file.0, span.start);
        let end = self.rows.partition_point(|(span, _)| key(span) <= key(&at));
        let holding = self.rows[..end]
            .iter()
            .rev()
            .take(LOOK_BACK)
            .find(|(span, _)| span.file == at.file && span.start <= at.start && at.end <= span.end);
        holding.map(|(_, rows)| *rows)
    }
}

impl Iteration {
    /// The place of the row this iteration is for, if it has one.
    pub(super) fn row(&self) -> Option<Span> {
        self.rows.first().and_then(|row| row.row)
    }
}

impl<'a> Evaluator<'a> {
    /// `for x in iterable { items }`: the items once per element.
    pub(super) fn for_item(&mut self, for_item: &'a ast::For) {
        self.each_row(&for_item.var, &for_item.iterable, for_item.span, |this| {
            this.items(&for_item.items, false);
            true
        });
    }

    /// Evaluates `iterable` and runs `each` once per element with `var` bound to it, as an
    /// iteration whose diagnostics name it (a table's row keeping its place); stops when `each`
    /// returns false. False when the iterable is not a list (reported) or `each` stopped.
    pub(super) fn each_row(
        &mut self,
        var: &ast::Ident,
        iterable_expr: &'a Expr,
        at: Span,
        mut each: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        // A loop over a name nothing binds reads a table that does not exist (a bare name
        // elsewhere is a symbol, which has no rows either).
        if let ExprKind::Path(path) = &iterable_expr.kind
            && let [only] = path.as_slice()
            && self.lookup(&only.name, only.span).is_none()
        {
            let candidates: Vec<&str> = self.variable_names().collect();
            self.report(suggest(
                Diagnostic::new(Code::E0208, only.span, format!("unknown table `{}`", only.name))
                    .with_primary_label("not bound by `let`, a parameter or a loop"),
                &only.name,
                candidates,
                "a loop iterates over a list bound by `let` (a table of records), a written list or a range",
            ));
            return false;
        }
        let Some(iterable) = self.expr(iterable_expr) else { return false };
        let ValueKind::List(elements) = iterable.kind else {
            self.report(
                Diagnostic::new(
                    Code::E0406,
                    iterable.span,
                    format!("cannot iterate over {}", iterable.kind.type_name()),
                )
                .with_primary_label("not a list or a range")
                .with_help("iterate over a list `[a, b]` or a range `1..=8`"),
            );
            return false;
        };
        if elements.len() as i64 > super::MAX_RANGE {
            self.report(
                Diagnostic::new(
                    Code::E0401,
                    iterable.span,
                    format!("list of {} items is larger than the limit of {}", elements.len(), super::MAX_RANGE),
                )
                .with_primary_label("too many items")
                .with_help("expand fewer items per loop"),
            );
            return false;
        }
        // A range's items share its span; a written list's elements each have their own.
        let rows = !matches!(elements.as_slice(), [a, b, ..] if a.span == b.span)
            && elements.first().is_some_and(|first| first.span != iterable.span);
        let mut keys: FxHashSet<Atom> = FxHashSet::default();
        for element in &elements {
            if let ValueKind::Record(fields) = &element.kind {
                keys.extend(fields.keys().cloned());
            }
        }
        let keys = Arc::new(keys);
        let header: Arc<str> = Arc::from(format!("for {} in {}", var.name, describe(iterable_expr)));
        let outer = self.iterations.last().map(|i| Arc::clone(&i.rows));
        for (index, element) in elements.into_iter().enumerate() {
            if self.too_many_reported || !self.spend(1, at) {
                return false;
            }
            let row = LoopRow {
                row: rows.then_some(element.span),
                iteration: index + 1,
                header: Arc::clone(&header),
                label: identify(&var.name, &element),
            };
            let stack: Arc<[LoopRow]> =
                std::iter::once(row).chain(outer.iter().flat_map(|o| o.iter().cloned())).collect();
            self.iterations.push(Iteration {
                local: self.locals.len(),
                rows: stack,
                var: var.name.clone(),
                keys: Arc::clone(&keys),
            });
            self.locals.push((var.name.clone(), element));
            let go_on = each(self);
            self.locals.pop();
            self.iterations.pop();
            if !go_on {
                return false;
            }
        }
        true
    }

    /// The active iterations' rows, innermost first, for a resource declared now.
    pub(super) fn loop_rows(&self) -> Arc<[LoopRow]> {
        self.iterations.last().map_or_else(Arc::default, |i| Arc::clone(&i.rows))
    }

    /// The iteration binding the local at `index` to a row, if it does.
    pub(super) fn row_bound_at(&self, index: usize) -> Option<&Iteration> {
        self.iterations.iter().rev().find(|i| i.local == index && i.row().is_some())
    }

    /// The diagnostic for `var.field…` reading `field` from a row (or a record inside one, at
    /// `record`) that lacks it: E0302 at the row when other rows of the loop have the field,
    /// else E0303 at the read, as for any record.
    pub(super) fn missing_in_row(
        &self,
        iteration: &Iteration,
        record: &Value,
        field: &ast::Ident,
        first_level: bool,
    ) -> Diagnostic {
        let others_have = first_level && iteration.keys.contains(field.name.as_str());
        let has: Vec<&str> = match &record.kind {
            ValueKind::Record(fields) | ValueKind::Tagged(_, fields) => fields.keys().map(|k| k.as_str()).collect(),
            _ => Vec::new(),
        };
        let close = crate::diagnostics::did_you_mean(&field.name, has.iter().copied());
        // Where the row spells the close name, for the quick fix renaming it there.
        let close_key = close.and_then(|close| match &record.kind {
            ValueKind::Record(fields) | ValueKind::Tagged(_, fields) => fields.get(close).map(|f| (close, f.key_span)),
            _ => None,
        });
        if others_have {
            let help = match close {
                Some(close) => format!(
                    "add `{} = …` to this row; it has `{close}`: is that a misspelling of `{}`?",
                    field.name, field.name
                ),
                None => format!("add `{} = …` to this row, as the other rows have", field.name),
            };
            let diagnostic = Diagnostic::new(
                Code::E0302,
                record.span,
                format!("this row has no field `{}`, which the loop reads", field.name),
            )
            .with_primary_label(format!("no `{}` in this row", field.name))
            .with_label(field.span, format!("`{}.{}` is read here", iteration.var, field.name))
            .with_help(help);
            return match close_key {
                Some((close, key_span)) => diagnostic.with_suggestion(key_span, close, field.name.as_str()),
                None => diagnostic,
            };
        }
        let help = match close {
            Some(close) => format!("did you mean `{close}`?"),
            None if has.is_empty() => "read a field the row has".to_string(),
            None => format!("the row has {}", has.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")),
        };
        let diagnostic = Diagnostic::new(
            Code::E0303,
            field.span,
            format!("{} has no field `{}`", record.kind.type_name(), field.name),
        )
        .with_primary_label("no such field")
        .with_label(record.span, "the row it is read from")
        .with_help(help);
        match close {
            Some(close) => diagnostic.with_suggestion(field.span, &field.name, close),
            None => diagnostic,
        }
    }
}

/// The iterable as a loop header shows it: a name or path as written, a range of literals, else
/// `[…]` for a list written in place.
fn describe(iterable: &Expr) -> String {
    match &iterable.kind {
        ExprKind::Path(path) => path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join("."),
        ExprKind::Range(from, to, inclusive) => match (&from.kind, &to.kind) {
            (ExprKind::Int(a), ExprKind::Int(b)) => format!("{a}{}{b}", if *inclusive { "..=" } else { ".." }),
            _ => "…".into(),
        },
        ExprKind::List(_) => "[…]".into(),
        _ => "…".into(),
    }
}

/// What tells a row apart in a note: a record's text `name` (or its first short scalar field),
/// or the element itself for a scalar (`i = 3`); nothing for anything else.
fn identify(var: &Atom, element: &Value) -> Option<(Atom, Value)> {
    let shown = |value: &Value| match &value.kind {
        ValueKind::Str(text) | ValueKind::Symbol(text) => text.len() <= 64,
        ValueKind::Int(_)
        | ValueKind::Bool(_)
        | ValueKind::Duration(_)
        | ValueKind::Size(_)
        | ValueKind::Ip(_)
        | ValueKind::Cidr(..)
        | ValueKind::Port(..) => true,
        _ => false,
    };
    match &element.kind {
        ValueKind::Record(fields) => fields
            .get_key_value("name")
            .filter(|(_, f)| shown(&f.value))
            .or_else(|| fields.iter().find(|(_, f)| shown(&f.value)))
            .map(|(key, field)| (key.clone(), field.value.clone())),
        _ if shown(element) => Some((var.clone(), element.clone())),
        _ => None,
    }
}
