//! Environment overlays and reference resolution: every overlay's path is checked and the selected
//! one applied to the evaluated records; then every reference is checked to name an existing
//! resource (and `step.x` a step of its workflow).

use rustc_hash::FxHashMap;

use super::value::{Field, Value, ValueKind};
use super::{Evaluated, Evaluator, OverlayPath};
use crate::diagnostics::{Code, Diagnostic, NameIndex, did_you_mean, suggest};
use crate::model::Kind;
use crate::source::Span;
use crate::syntax::ast::{self, Atom};

impl<'a> Evaluator<'a> {
    /// Checks every overlay's targets and applies the selected one.
    pub(super) fn overlays(
        &mut self,
        envs: &[&'a ast::Env],
        selected: Option<(&str, Span)>,
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
        for env in envs {
            let apply = selected_name == Some(env.name.name.as_str());
            for assignment in &env.assignments {
                self.assignment(assignment, apply, evaluated);
            }
        }
    }

    fn assignment(&mut self, assignment: &'a ast::Assignment, apply: bool, evaluated: &mut Evaluated) {
        let [kind_key, name_key, fields @ ..] = assignment.path.as_slice() else {
            self.report(
                Diagnostic::new(Code::E0101, assignment.span, "an overlay sets a field of a resource")
                    .with_primary_label("too short a path")
                    .with_help("write `kind.name.field = value`, as in `service.web.replicas = 1`"),
            );
            return;
        };
        let Some(kind) = Kind::from_name(&kind_key.name) else {
            self.report(suggest(
                Diagnostic::new(Code::E0204, kind_key.span, format!("unknown kind `{}`", kind_key.name))
                    .with_primary_label("not a kind"),
                &kind_key.name,
                Kind::ALL.iter().map(|k| k.as_str()),
                "an overlay path starts with a kind, as in `service.web.replicas`",
            ));
            return;
        };
        let Some(index) = self.index.get(kind, &name_key.name) else {
            if self.dropped.contains(&(kind.as_str().to_string(), name_key.name.to_string())) {
                return;
            }
            let names: Vec<&str> = self.resources.iter().filter(|r| r.kind == kind).map(|r| r.name.as_str()).collect();
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
        let value = self.expr(&assignment.value);
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
        record.insert(last.name.clone(), Field { key_span: last.span, value });
    }

    /// Checks that every reference names an existing resource (and `step.x` a step of its
    /// workflow).
    pub(super) fn resolve_references(&mut self) {
        let mut problems = Vec::new();
        // The names offered instead of an unresolved one, gathered and indexed at the first such
        // reference: each unresolved reference then costs a walk of the index, not a scan.
        let mut names_by_kind: Option<FxHashMap<Kind, (Vec<&str>, NameIndex<'_>)>> = None;
        for resource in &self.resources {
            let steps: Vec<&str> = match resource.body.get("step").map(|f| &f.value.kind) {
                Some(ValueKind::Record(steps)) => steps.keys().map(Atom::as_str).collect(),
                _ => Vec::new(),
            };
            let mut stack: Vec<&Value> = resource.body.values().map(|f| &f.value).collect();
            while let Some(value) = stack.pop() {
                match &value.kind {
                    ValueKind::Ref(reference) => {
                        let found = match Kind::from_name(&reference.kind) {
                            Some(kind) => self.index.get(kind, &reference.name).is_some(),
                            None => steps.contains(&reference.name.as_str()),
                        };
                        if !found && !self.dropped.contains(&(reference.kind.clone(), reference.name.clone())) {
                            let (candidates, close): (&[&str], Option<&str>) = match Kind::from_name(&reference.kind) {
                                Some(kind) => {
                                    let names = names_by_kind.get_or_insert_with(|| {
                                        let mut names: FxHashMap<Kind, Vec<&str>> = FxHashMap::default();
                                        for resource in &self.resources {
                                            names.entry(resource.kind).or_default().push(&resource.name);
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
                                (Some(close), _) => diagnostic
                                    .with_help(format!("did you mean `{close}`?"))
                                    .with_suggestion(value.span, &reference.name, close),
                                (None, 0) => diagnostic
                                    .with_help(format!("declare `{} {} {{ … }}`", reference.kind, reference.name)),
                                (None, _) => diagnostic.with_help(format!(
                                    "the {} names are {}",
                                    reference.kind,
                                    candidates.iter().take(8).map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                                )),
                            };
                            problems.push(diagnostic);
                        }
                    }
                    ValueKind::List(items) => stack.extend(items.iter().rev()),
                    ValueKind::Record(record) | ValueKind::Tagged(_, record) => {
                        stack.extend(record.values().rev().map(|f| &f.value));
                    }
                    _ => {}
                }
            }
        }
        problems.sort_by_key(|d| (d.primary.span.file, d.primary.span.start));
        self.diagnostics.extend(problems);
    }
}

fn assignment_path(assignment: &ast::Assignment) -> String {
    assignment.path.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(".")
}
