//! Environments and preset parameters: `kind.name.param = value` (or `+=`) sets the argument a
//! block's `use` gives a preset, and `remove kind.name.param` drops it, so the parameter falls
//! back to its default. The preset is then evaluated with the environment's argument, and
//! everything it derives from the parameter follows (a chart value, an assertion, an alert).
//!
//! An overlay path's first field is a parameter when the kind's schema has no field of that name
//! and a preset the block uses declares it: a field of the kind always wins, so an environment
//! never changes what an existing assignment means. A parameter declared by several presets of
//! the block (`port`) is set in each of them.
//!
//! Invariants: the applied environment's parameters are collected before the base estate is
//! evaluated ([`Evaluator::collect_param_overlays`]) and read while each `use` binds its
//! parameters ([`Evaluator::overlaid_arguments`]); every environment's are checked against the
//! presets the block uses on every run ([`Evaluator::parameter_path`], [`Evaluator::parameter_removal`]).
//! A parameter's value sees top-level `let`s only, like every overlay value.

use super::value::{Value, ValueKind};
use super::{Evaluator, PresetUse};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::model::Kind;
use crate::source::Span;
use crate::syntax::ast::{self, Atom};

/// One parameter the applied environment sets or removes.
pub(super) struct ParamOverlay<'a> {
    kind: Kind,
    /// The block's name.
    block: String,
    param: String,
    /// The value (`None`: `remove`, the argument is dropped).
    value: Option<&'a ast::Expr>,
    append: bool,
    /// The whole overlay entry.
    span: Span,
}

/// One of [`ParamOverlay`] as it applies to the `use` being evaluated.
struct Applied<'a> {
    /// The parameter's declaration and its default.
    param: &'a ast::Ident,
    default: Option<&'a ast::Expr>,
    value: Option<&'a ast::Expr>,
    append: bool,
    span: Span,
}

/// A parameter of a preset a block uses: its declaration, whether it has a default, and the
/// preset's name as `use` writes it.
struct Declared<'a> {
    name: &'a ast::Ident,
    has_default: bool,
    preset: String,
}

impl<'a> Evaluator<'a> {
    /// Collects the parameters the environment `env` (the applied one) sets or removes.
    pub(super) fn collect_param_overlays(&mut self, env: &'a ast::Env) {
        for assignment in &env.assignments {
            let [kind, block, param] = assignment.path.as_slice() else { continue };
            let Some(kind) = Kind::from_name(&kind.name) else { continue };
            if crate::model::kind_fields(kind).contains(&param.name.as_str()) {
                continue;
            }
            self.param_overlays.push(ParamOverlay {
                kind,
                block: block.name.to_string(),
                param: param.name.to_string(),
                value: Some(&assignment.value),
                append: assignment.append,
                span: assignment.span,
            });
        }
        for removal in &env.removals {
            let (Some(param), Some(kind)) = (&removal.param, Kind::from_name(&removal.kind.name)) else { continue };
            self.param_overlays.push(ParamOverlay {
                kind,
                block: removal.name.name.to_string(),
                param: param.name.to_string(),
                value: None,
                append: false,
                span: removal.span,
            });
        }
    }

    /// The `use` arguments `given` of the current block, with the applied environment's
    /// parameters of this preset (`declared`, each with its default) set, appended to or removed.
    pub(super) fn overlaid_arguments(
        &mut self,
        given: &mut Vec<(Atom, Value)>,
        declared: &[(&'a ast::Ident, Option<&'a ast::Expr>)],
    ) {
        let Some((kind, block)) = self.current_block.clone() else { return };
        let mut applied: Vec<Span> = Vec::new();
        let overlays: Vec<Applied<'a>> = self
            .param_overlays
            .iter()
            .filter(|o| o.kind == kind && o.block == block)
            .filter_map(|o| {
                let &(param, default) = declared.iter().find(|(p, _)| p.name == o.param.as_str())?;
                Some(Applied { param, default, value: o.value, append: o.append, span: o.span })
            })
            .collect();
        for overlay in overlays {
            let (param, default) = (overlay.param, overlay.default);
            let at = given.iter().position(|(name, _)| *name == param.name);
            let Some(expr) = overlay.value else {
                match (at, default) {
                    (Some(at), Some(_)) => {
                        given.remove(at);
                        applied.push(overlay.span);
                    }
                    // Removing a required parameter is E0714, reported by the check.
                    (_, None) => {}
                    (None, Some(_)) => self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0715,
                            overlay.span,
                            format!("the environment removes `{}`, which the `use` does not set", param.name),
                        )
                        .with_primary_label("nothing to remove")
                        .with_label(param.span, "the parameter keeps its default")
                        .with_help("drop the line: the preset already uses the parameter's default"),
                    ),
                }
                continue;
            };
            // The value sees top-level `let`s only, not the loop around the block.
            let outer = std::mem::take(&mut self.locals);
            let value = self.expr(expr);
            let base = match (overlay.append, at, default) {
                (false, ..) => None,
                (true, Some(at), _) => Some(Some(given[at].1.clone())),
                (true, None, Some(default)) => {
                    // A default sees the parameters before it: the `use`'s arguments.
                    self.locals = given.clone();
                    let base = self.expr(default);
                    self.locals.clear();
                    Some(base)
                }
                (true, None, None) => Some(None),
            };
            self.locals = outer;
            let Some(mut value) = value else { continue };
            if let Some(base) = base {
                let Some(base) = base else { continue };
                match (base.kind, value.kind) {
                    (ValueKind::List(mut items), ValueKind::List(more)) => {
                        items.extend(more);
                        value = Value { kind: ValueKind::List(items), span: value.span };
                    }
                    (ValueKind::List(_), _) => continue, // E0301, reported by the check.
                    (other, _) => {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E0301,
                                overlay.span,
                                format!("`+=` appends to a list, and `{}` is {}", param.name, other.type_name()),
                            )
                            .with_primary_label("not a list")
                            .with_help("write `=` to replace the parameter's value"),
                        );
                        continue;
                    }
                }
            }
            match at {
                Some(at) => given[at].1 = value,
                None => given.push((param.name.clone(), value)),
            }
            applied.push(overlay.span);
        }
        self.overlaid_params = applied;
    }

    /// The parameters of the presets `uses` declares, in the order the block uses them.
    fn declared_params(&self, uses: &[PresetUse]) -> Vec<Declared<'a>> {
        let mut declared = Vec::new();
        for used in uses {
            let Some((key, def)) = self.presets.iter().find(|(_, def)| def.decl.span == used.preset) else { continue };
            for entry in &def.decl.body.entries {
                if let ast::Entry::Param { name, default, .. } = entry {
                    declared.push(Declared { name, has_default: default.is_some(), preset: key.clone() });
                }
            }
        }
        declared
    }

    /// An overlay path `kind.name.FIELD…` whose first field is not a field of the kind, on the
    /// block at `index`: a parameter of a preset it uses (its value checked when not `applied`),
    /// or E0713. Returns whether the path was taken (`false`: the block uses no preset, and the
    /// path is checked as a field).
    pub(super) fn parameter_path(
        &mut self,
        assignment: &'a ast::Assignment,
        index: usize,
        kind: Kind,
        fields: &[ast::Key],
        applied: bool,
    ) -> bool {
        let Some(first) = fields.first() else { return false };
        let Some(resource) = self.resources.get(index) else { return false };
        if resource.presets.is_empty() {
            return false;
        }
        let declared = self.declared_params(&resource.presets);
        let block = resource.name.clone();
        let Some(param) = declared.iter().find(|p| p.name.name == first.name) else {
            self.unknown_parameter(kind, &block, first, &declared, "sets");
            return true;
        };
        if let Some(inner) = fields.get(1) {
            let path = fields.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(".");
            self.report(
                Diagnostic::new(
                    Code::E0716,
                    inner.span.to(fields.last().map_or(inner.span, |k| k.span)),
                    format!("the overlay sets `{path}` inside the parameter `{}` of `{}`", first.name, param.preset),
                )
                .with_primary_label("a parameter is set whole")
                .with_label(param.name.span, "the parameter")
                .with_help(format!("set the whole value: `{kind}.{block}.{} = …`", first.name)),
            );
            return true;
        }
        if !applied {
            let outer = std::mem::take(&mut self.locals);
            let value = self.expr(&assignment.value);
            self.locals = outer;
            if assignment.append
                && let Some(found) = value.filter(|v| !matches!(v.kind, ValueKind::List(_)))
            {
                self.report(
                    Diagnostic::new(
                        Code::E0301,
                        found.span,
                        format!("`+=` appends a list, found {}", found.kind.type_name()),
                    )
                    .with_primary_label("not a list")
                    .with_help("write the items in brackets, as in `+= [item]`, or `=` to replace the value"),
                );
            }
        }
        true
    }

    /// `remove kind.name.param` on the block at `index`: a parameter of a preset it uses, with a
    /// default to fall back to.
    pub(super) fn parameter_removal(&mut self, removal: &ast::Removal, param_key: &ast::Key, index: usize, kind: Kind) {
        let Some(resource) = self.resources.get(index) else { return };
        let declared = self.declared_params(&resource.presets);
        let block = resource.name.clone();
        let Some(param) = declared.iter().find(|p| p.name.name == param_key.name) else {
            self.unknown_parameter(kind, &block, param_key, &declared, "removes");
            return;
        };
        if !param.has_default {
            self.report(
                Diagnostic::new(
                    Code::E0714,
                    removal.span,
                    format!("the environment removes `{}`, which `{}` requires", param_key.name, param.preset),
                )
                .with_primary_label("a required parameter")
                .with_label(param.name.span, "declared without a default")
                .with_help(format!(
                    "set it instead: `{kind}.{block}.{} = …`; a parameter without a default has nothing to fall back to",
                    param_key.name
                )),
            );
        }
    }

    /// E0713: an overlay names `key` on a block whose presets declare no such parameter (and whose
    /// kind has no such field).
    fn unknown_parameter(&mut self, kind: Kind, block: &str, key: &ast::Key, declared: &[Declared<'a>], verb: &str) {
        let mut presets: Vec<&str> = declared.iter().map(|p| p.preset.as_str()).collect();
        presets.dedup();
        let presets = presets.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
        let what = if verb == "removes" { "a parameter" } else { "a field or a parameter" };
        let diagnostic = Diagnostic::new(
            Code::E0713,
            key.span,
            format!(
                "the overlay {verb} `{}`, which is {} of {kind} `{block}`",
                key.name,
                if verb == "removes" { "no parameter of the presets" } else { "neither a field nor a parameter" }
            ),
        )
        .with_primary_label(format!("not {what}"))
        .with_note(format!("{kind} `{block}` uses {presets}"));
        let names: Vec<&str> = declared.iter().map(|p| p.name.name.as_str()).collect();
        let listed = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        let mut candidates = names.clone();
        if verb == "sets" {
            candidates.extend(crate::model::kind_fields(kind));
        }
        let fallback = if verb == "removes" {
            format!("`remove {kind}.{block}.PARAM` drops a parameter's argument; the parameters are {listed}")
        } else {
            format!("the presets' parameters are {listed}; a field of the kind is checked against its schema")
        };
        self.report(suggest(diagnostic, &key.name, candidates, fallback));
    }
}
