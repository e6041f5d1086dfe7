//! Reference resolution: every reference must name an existing resource (and `step.x` a step of
//! its workflow). Run over the estate once the selected environment is applied, and over the
//! blocks an environment that is not applied adds, with the names that environment sees.
//!
//! A reference to a block the applied environment removes is E0220 (the removal is shown), not a
//! plain unknown name: the block exists, just not in this environment.

use rustc_hash::FxHashMap;

use super::value::{Value, ValueKind};
use super::{Evaluator, Resource};
use crate::diagnostics::{Code, Diagnostic, NameIndex, did_you_mean};
use crate::model::Kind;
use crate::syntax::ast::Atom;

impl Evaluator<'_> {
    /// Checks that every reference names an existing resource (and `step.x` a step of its
    /// workflow).
    pub(super) fn resolve_references(&mut self) {
        let mut problems = self.unresolved(&self.resources);
        problems.sort_by_key(|d| (d.primary.span.file, d.primary.span.start));
        self.diagnostics.extend(problems);
    }

    /// The unresolved references of `resources`, against the names the index holds now.
    pub(super) fn unresolved(&self, resources: &[Resource]) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        // The names offered instead of an unresolved one, gathered and indexed at the first such
        // reference: each unresolved reference then costs a walk of the index, not a scan.
        let mut names_by_kind: Option<FxHashMap<Kind, (Vec<&str>, NameIndex<'_>)>> = None;
        for resource in resources {
            let steps: Vec<&str> = match resource.body.get("step").map(|f| &f.value.kind) {
                Some(ValueKind::Record(steps)) => steps.keys().map(Atom::as_str).collect(),
                _ => Vec::new(),
            };
            let mut stack: Vec<&Value> = resource.body.values().map(|f| &f.value).collect();
            while let Some(value) = stack.pop() {
                match &value.kind {
                    ValueKind::Ref(reference) => {
                        let kind = Kind::from_name(&reference.kind);
                        let found = match kind {
                            Some(kind) => self.index.get(kind, &reference.name).is_some(),
                            None => steps.contains(&reference.name.as_str()),
                        };
                        if found || self.dropped.contains(&(reference.kind.clone(), reference.name.clone())) {
                            continue;
                        }
                        if let Some(kind) = kind
                            && let Some((_, removal)) = self.removed.by_name.get(&(kind, reference.name.clone()))
                        {
                            problems.push(
                                Diagnostic::new(
                                    Code::E0220,
                                    value.span,
                                    format!(
                                        "`{kind}.{}` is removed in environment `{}`",
                                        reference.name, self.removed.env
                                    ),
                                )
                                .with_primary_label("refers to a removed block")
                                .with_label(*removal, "removed here")
                                .with_help(format!(
                                    "in environment `{}`, set this field without it, or remove this block too",
                                    self.removed.env
                                )),
                            );
                            continue;
                        }
                        let (candidates, close): (&[&str], Option<&str>) = match kind {
                            Some(kind) => {
                                let names = names_by_kind.get_or_insert_with(|| {
                                    let mut names: FxHashMap<Kind, Vec<&str>> = FxHashMap::default();
                                    for resource in &self.resources {
                                        if self.index.get(resource.kind, &resource.name).is_some() {
                                            names.entry(resource.kind).or_default().push(&resource.name);
                                        }
                                    }
                                    names
                                        .into_iter()
                                        .map(|(kind, list)| {
                                            let index = NameIndex::new(list.iter().copied());
                                            (kind, (list, index))
                                        })
                                        .collect()
                                });
                                match names.get(&kind) {
                                    Some((list, index)) => (list, index.closest(&reference.name)),
                                    None => (&[], None),
                                }
                            }
                            None => (&steps, did_you_mean(&reference.name, steps.iter().copied())),
                        };
                        let diagnostic = Diagnostic::new(
                            Code::E0201,
                            value.span,
                            format!("no {} named `{}`", reference.kind, reference.name),
                        )
                        .with_primary_label("unresolved reference");
                        let diagnostic = match (close, candidates.len()) {
                            // A built name has no text in the source a fix could replace.
                            (Some(close), _) if reference.built => diagnostic.with_help(format!(
                                "the string builds the name `{}`; the closest {} is `{close}`",
                                reference.name, reference.kind
                            )),
                            (Some(close), _) => diagnostic
                                .with_help(format!("did you mean `{close}`?"))
                                .with_suggestion(value.span, &reference.name, close),
                            (None, 0) => {
                                diagnostic.with_help(format!("declare `{} {} {{ … }}`", reference.kind, reference.name))
                            }
                            (None, _) => diagnostic.with_help(format!(
                                "the {} names are {}",
                                reference.kind,
                                candidates.iter().take(8).map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                            )),
                        };
                        problems.push(diagnostic);
                    }
                    ValueKind::List(items) => stack.extend(items.iter().rev()),
                    ValueKind::Template(template) => stack.extend(template.parts.iter().rev()),
                    ValueKind::Record(record) | ValueKind::Tagged(_, record) => {
                        stack.extend(record.values().rev().map(|f| &f.value));
                    }
                    _ => {}
                }
            }
        }
        problems
    }
}
