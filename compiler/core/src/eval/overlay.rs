//! Environment overlays: every environment is checked on every run and the selected one applied
//! to the evaluated records.
//!
//! An environment removes blocks of the base estate (`remove service.shadow`), adds blocks and
//! `for` loops of its own, and sets fields (`=` replaces the value, `+=` appends to a list) and
//! the parameters of the presets a block uses (`service.db.standbys = 0`, `remove
//! service.db.standbys`: [`super::params`]). It
//! applies in that order, so an assignment may set a field of a block the environment adds, and
//! removing a block and adding one of the same name replaces it whole.
//!
//! Invariants: environments are independent overlays of the base estate, never of one another.
//! The selected environment is applied last, after every other has been checked against the
//! base; an environment that is not applied leaves the resources and the index as it found them
//! (its added blocks go to [`Evaluated::overlay_blocks`], checked against their kind's schema but
//! not part of the model). What the applied one removed is recorded in [`Removed`], so a
//! reference to a removed block is reported as such (E0220).

use indexmap::IndexMap;

use super::value::{Field, Value, ValueKind};
use super::{Evaluated, Evaluator, OverlayPath};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::model::Kind;
use crate::source::Span;
use crate::syntax::ast;

/// What an environment removes (the applied one's, once evaluation has checked them all).
#[derive(Default)]
pub(super) struct Removed {
    /// Each removed block by kind and name: where it is in the evaluator's list (dropped from it
    /// once evaluation ends, when the environment is applied) and its `remove` entry.
    pub by_name: IndexMap<(Kind, String), (usize, Span), rustc_hash::FxBuildHasher>,
    /// The environment's name.
    pub env: String,
}

impl<'a> Evaluator<'a> {
    /// Applies the selected overlay, and checks every other one when `check_others`.
    pub(super) fn overlays(
        &mut self,
        envs: &[&'a ast::Env],
        selected: Option<(&str, Span)>,
        check_others: bool,
        evaluated: &mut Evaluated,
    ) {
        let selected_name = selected.map(|(name, _)| name);
        if let Some((name, span)) = selected
            && !envs.iter().any(|e| e.name.name == name)
        {
            let diagnostic = Diagnostic::new(Code::E0005, span, format!("no environment `{name}`"))
                .with_primary_label("environments are declared with `env NAME { … }`");
            let names: Vec<&str> = envs.iter().map(|e| e.name.name.as_str()).collect();
            let fallback = if names.is_empty() {
                "this estate declares no environment; drop `--env`".to_string()
            } else {
                format!(
                    "the environments are {}",
                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                )
            };
            self.report(suggest(diagnostic, name, names.clone(), fallback));
        }
        // The others first, each against the base estate; the selected one last, for good.
        for env in envs.iter().filter(|e| check_others && Some(e.name.name.as_str()) != selected_name) {
            self.environment(env, false, evaluated);
        }
        if let Some(env) = envs.iter().find(|e| Some(e.name.name.as_str()) == selected_name) {
            self.environment(env, true, evaluated);
        }
    }

    /// Checks one environment, and applies it when `apply`.
    fn environment(&mut self, env: &'a ast::Env, apply: bool, evaluated: &mut Evaluated) {
        let base_len = self.resources.len();
        let mut removed = Removed { env: env.name.name.to_string(), ..Removed::default() };
        for removal in &env.removals {
            self.removal(removal, base_len, &mut removed);
        }
        // Added blocks clash with the base estate's names (E0222), except those just removed.
        self.adding_from = Some(base_len);
        self.items(&env.items, false);
        self.adding_from = None;
        for assignment in &env.assignments {
            self.assignment(assignment, apply, &removed, evaluated);
        }
        self.removed = removed;
        if apply {
            return;
        }
        // The added blocks' references, against the names this environment sees; then the base
        // estate's names are restored for the next environment.
        let mut problems = self.unresolved(self.resources.get(base_len..).unwrap_or_default());
        problems.sort_by_key(|d| (d.primary.span.file, d.primary.span.start));
        self.diagnostics.extend(problems);
        let added: Vec<_> = self.resources.drain(base_len..).collect();
        for resource in &added {
            self.index.remove(resource.kind, &resource.name);
        }
        let removed = std::mem::take(&mut self.removed);
        for ((kind, name), (position, _)) in removed.by_name {
            self.index.insert(kind, name, position);
        }
        evaluated.overlay_blocks.extend(added);
    }

    /// `remove kind.name`: the block must exist in the base estate, removed once.
    fn removal(&mut self, removal: &ast::Removal, base_len: usize, removed: &mut Removed) {
        let Some(kind) = self.overlay_kind(&removal.kind) else { return };
        let name = removal.name.name.as_str();
        if removal.param.is_none()
            && let Some(&(_, first)) = removed.by_name.get(&(kind, name.to_string()))
        {
            self.report(
                Diagnostic::new(Code::E0221, removal.span, format!("`{kind}.{name}` is already removed"))
                    .with_primary_label("removed again here")
                    .with_label(first, "first removed here")
                    .with_help("keep one of the two"),
            );
            return;
        }
        match self.index.get(kind, name) {
            Some(position) if removal.param.is_some() => {
                if let Some(param) = &removal.param {
                    self.parameter_removal(removal, param, position, kind);
                }
            }
            Some(position) if position < base_len => {
                self.index.remove(kind, name);
                removed.by_name.insert((kind, name.to_string()), (position, removal.span));
            }
            _ if self.dropped.contains(&(kind.as_str().to_string(), name.to_string())) => {}
            _ => {
                let names: Vec<&str> = self.resources[..base_len.min(self.resources.len())]
                    .iter()
                    .filter(|r| r.kind == kind)
                    .map(|r| r.name.as_str())
                    .collect();
                let diagnostic = Diagnostic::new(
                    Code::E0221,
                    removal.name.span,
                    format!("the environment removes `{kind}.{name}`, but there is no {kind} `{name}`"),
                )
                .with_primary_label(format!("no such {kind}"));
                self.report(suggest(
                    diagnostic,
                    name,
                    names,
                    format!(
                        "remove only blocks the estate declares outside `env`; drop this line or fix the {kind}'s name"
                    ),
                ));
            }
        }
    }

    /// The kind an overlay entry names, or E0204.
    fn overlay_kind(&mut self, key: &ast::Ident) -> Option<Kind> {
        let kind = Kind::from_name(&key.name);
        if kind.is_none() {
            self.report(suggest(
                Diagnostic::new(Code::E0204, key.span, format!("unknown kind `{}`", key.name))
                    .with_primary_label("not a kind"),
                &key.name,
                Kind::ALL.iter().map(|k| k.as_str()),
                "an overlay path starts with a kind, as in `service.web.replicas`",
            ));
        }
        kind
    }

    /// The diagnostic for a block named like one before it: E0222 when an environment adds a
    /// block the base estate already has, E0202 otherwise.
    pub(super) fn duplicate_block(&self, kind: Kind, name: &str, span: Span, first: usize) -> Diagnostic {
        let first_span = self.resources.get(first).map(|r| r.name_span).unwrap_or(span);
        match self.adding_from {
            Some(base_len) if first < base_len => Diagnostic::new(
                Code::E0222,
                span,
                format!("the environment adds {kind} `{name}`, which the estate already declares"),
            )
            .with_primary_label("added again here")
            .with_label(first_span, "declared here")
            .with_help(format!(
                "set its fields (`{kind}.{name}.FIELD = …`), or write `remove {kind}.{name}` before this block to replace it"
            )),
            _ => {
                let mut diagnostic = super::duplicate(kind.as_str(), name, span, first_span);
                if first_span == span {
                    // The same text made the name twice: a loop produced it more than once.
                    diagnostic.secondary.clear();
                    diagnostic = diagnostic
                        .with_note(format!("the loop around this block produces `{name}` more than once"));
                }
                diagnostic
            }
        }
    }

    fn assignment(
        &mut self,
        assignment: &'a ast::Assignment,
        apply: bool,
        removed: &Removed,
        evaluated: &mut Evaluated,
    ) {
        let [kind_key, name_key, fields @ ..] = assignment.path.as_slice() else {
            self.report(
                Diagnostic::new(Code::E0101, assignment.span, "an overlay sets a field of a resource")
                    .with_primary_label("too short a path")
                    .with_help("write `kind.name.field = value`, as in `service.web.replicas = 1`"),
            );
            return;
        };
        let kind_ident = ast::Ident { name: kind_key.name.clone(), span: kind_key.span };
        let Some(kind) = self.overlay_kind(&kind_ident) else { return };
        let Some(index) = self.index.get(kind, &name_key.name) else {
            if let Some(&(_, at)) = removed.by_name.get(&(kind, name_key.name.to_string())) {
                self.report(
                    Diagnostic::new(
                        Code::E0223,
                        name_key.span,
                        format!(
                            "the overlay sets `{}`, but this environment removes {kind} `{}`",
                            assignment_path(assignment),
                            name_key.name
                        ),
                    )
                    .with_primary_label("a removed block")
                    .with_label(at, "removed here")
                    .with_help(format!(
                        "drop the assignment, or add the {kind} back in this environment (`{kind} {} {{ … }}`) to replace it",
                        name_key.name
                    )),
                );
                return;
            }
            if self.dropped.contains(&(kind.as_str().to_string(), name_key.name.to_string())) {
                return;
            }
            let names: Vec<&str> = self
                .resources
                .iter()
                .filter(|r| r.kind == kind && self.index.get(kind, &r.name).is_some())
                .map(|r| r.name.as_str())
                .collect();
            let diagnostic = Diagnostic::new(
                Code::E0211,
                name_key.span,
                format!(
                    "the overlay sets `{}`, but there is no {kind} `{}`",
                    assignment_path(assignment),
                    name_key.name
                ),
            )
            .with_primary_label(format!("no such {kind}"));
            self.report(suggest(
                diagnostic,
                &name_key.name,
                names,
                format!("declare the {kind} or fix the overlay's path"),
            ));
            return;
        };
        if fields.is_empty() {
            self.report(
                Diagnostic::new(Code::E0101, assignment.span, "an overlay sets a field, not a whole resource")
                    .with_primary_label("no field named")
                    .with_help(format!("write `{kind}.{}.FIELD = value`", name_key.name)),
            );
            return;
        }
        if let Some(first) = fields.first()
            && !crate::model::kind_fields(kind).contains(&first.name.as_str())
            && self.parameter_path(assignment, index, kind, fields, apply)
        {
            return;
        }
        let mut value = self.expr(&assignment.value);
        if assignment.append
            && let Some(found) = value.as_ref().filter(|v| !matches!(v.kind, ValueKind::List(_)))
        {
            let diagnostic = Diagnostic::new(
                Code::E0301,
                found.span,
                format!("`+=` appends a list, found {}", found.kind.type_name()),
            )
            .with_primary_label("not a list")
            .with_help("write the items in brackets, as in `+= [item]`, or `=` to replace the value");
            self.report(diagnostic);
            value = None;
        }
        let fields_with_spans = fields.iter().map(|k| (k.name.to_string(), k.span)).collect();
        evaluated.overlay_paths.push(OverlayPath {
            kind,
            fields: fields_with_spans,
            value: value.clone(),
            applied: apply,
        });
        let (true, Some(value)) = (apply, value) else { return };
        let Some(resource) = self.resources.get_mut(index) else { return };
        let mut record = &mut resource.body;
        let (last, parents) = match fields.split_last() {
            Some(split) => split,
            None => return,
        };
        for parent in parents {
            let entry = record.entry(parent.name.clone()).or_insert_with(|| Field {
                key_span: parent.span,
                value: Value { kind: ValueKind::Record(Box::default()), span: parent.span },
            });
            match &mut entry.value.kind {
                ValueKind::Record(inner) | ValueKind::Tagged(_, inner) => record = inner,
                other => {
                    let found = other.type_name();
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0301,
                            parent.span,
                            format!("`{}` is {found}, which has no fields", parent.name),
                        )
                        .with_primary_label("not a record")
                        .with_help("set the field itself, not a field inside it"),
                    );
                    return;
                }
            }
        }
        if assignment.append
            && let Some(existing) = record.get_mut(last.name.as_str())
        {
            match (&mut existing.value.kind, value.kind) {
                (ValueKind::List(items), ValueKind::List(more)) => items.extend(more),
                (other, _) => {
                    let found = other.type_name();
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0301,
                            last.span,
                            format!("`+=` appends to a list, and `{}` is not one ({found})", last.name),
                        )
                        .with_primary_label("not a list")
                        .with_help("write `=` to replace the value"),
                    );
                }
            }
            return;
        }
        record.insert(last.name.clone(), Field { key_span: last.span, value });
    }
}

fn assignment_path(assignment: &ast::Assignment) -> String {
    assignment.path.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(".")
}

/// Whether a block some environment adds uses a preset of the stdlib module `module`
/// (`use std.module…`), read from the syntax: a run that checks one environment only does not
/// evaluate the others, and must not call an import they use unused.
pub(super) fn environments_use(envs: &[&ast::Env], module: &str) -> bool {
    let mut items: Vec<&ast::Item> = envs.iter().flat_map(|env| env.items.iter()).collect();
    while let Some(item) = items.pop() {
        match item {
            ast::Item::For(decl) => items.extend(&decl.items),
            ast::Item::Block(block) => {
                let uses = block.body.entries.iter().any(|entry| match entry {
                    ast::Entry::Use { preset, .. } => {
                        matches!(preset.as_slice(), [std, name, ..] if std.name == "std" && name.name == module)
                    }
                    _ => false,
                });
                if uses {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}
