//! `use PRESET { … }`: binds the preset's parameters (the `use` arguments as the applied
//! environment leaves them, then defaults, which see the parameters before them) and evaluates its body to the fields it contributes. The caller
//! merges them under the block and records the use ([`super::PresetUse`]) on the resource.

use super::Evaluator;
use super::value::{Record, Value};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::model::Kind;
use crate::source::Span;
use crate::syntax::ast::{self, Atom, Body, Entry};

impl<'a> Evaluator<'a> {
    /// Evaluates `use PRESET { args }` to the fields the preset contributes.
    pub(super) fn use_preset(
        &mut self,
        path: &'a [ast::Ident],
        args: &'a Body,
        span: Span,
        kind: Option<Kind>,
    ) -> Option<(Record, Span)> {
        let key = path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(".");
        let path_span = path.first().map(|f| f.span.to(path.last().map_or(f.span, |l| l.span))).unwrap_or(span);
        let Some(def) = self.presets.get(&key) else {
            let candidates: Vec<&str> = self.presets.keys().map(String::as_str).collect();
            let diagnostic = Diagnostic::new(Code::E0206, path_span, format!("unknown preset `{key}`"))
                .with_primary_label("no such preset");
            self.report(suggest(
                diagnostic,
                &key,
                candidates,
                "use a preset declared with `preset NAME for KIND` or one from the stdlib",
            ));
            return None;
        };
        let (decl, module) = (def.decl, def.module);
        if let Some(module) = module {
            match self.imports.iter_mut().find(|(m, _, _)| m == module) {
                Some(import) => import.2 = true,
                None => {
                    self.report(
                        Diagnostic::new(Code::E0206, path_span, format!("preset `{key}` is used without importing it"))
                            .with_primary_label("not imported")
                            .with_help(format!("add `import std.{module}` at the top of the file")),
                    );
                    return None;
                }
            }
        }
        match kind {
            Some(kind) if kind.as_str() == decl.kind.name => {}
            _ => {
                let found = kind.map_or("a nested record".to_string(), |k| format!("a `{k}`"));
                self.report(
                    Diagnostic::new(
                        Code::E0209,
                        path_span,
                        format!("preset `{key}` is for a `{}`, not {found}", decl.kind.name),
                    )
                    .with_primary_label("used in the wrong kind of block")
                    .with_label(decl.kind.span, "the preset's kind")
                    .with_help(format!("use it in a `{}` block", decl.kind.name)),
                );
                return None;
            }
        }
        // Parameters: the `use` arguments, then each missing one from its default, which sees the
        // parameters declared before it (`param replicas = 2`, `param spare = replicas + 1`).
        let declared: Vec<(&'a ast::Ident, Option<&'a ast::Expr>)> = decl
            .body
            .entries
            .iter()
            .filter_map(|entry| match entry {
                Entry::Param { name, default, .. } => Some((name, default.as_deref())),
                _ => None,
            })
            .collect();
        let arguments = self.body(args, None);
        let mut ok = true;
        let mut given: Vec<(Atom, Value)> = Vec::new();
        for (arg, field) in arguments {
            if declared.iter().any(|(p, _)| p.name == arg) {
                given.push((arg, field.value));
                continue;
            }
            ok = false;
            let names: Vec<&str> = declared.iter().map(|(p, _)| p.name.as_str()).collect();
            let listed = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            let diagnostic =
                Diagnostic::new(Code::E0210, field.key_span, format!("preset `{key}` has no parameter `{arg}`"))
                    .with_primary_label("unknown parameter");
            let fallback = if listed.is_empty() {
                "this preset takes no parameters".to_string()
            } else {
                format!("its parameters are {listed}")
            };
            self.report(suggest(diagnostic, &arg, names, fallback));
        }
        if !self.param_overlays.is_empty() {
            self.overlaid_arguments(&mut given, &declared);
        }
        let mut locals: Vec<(Atom, Value)> = Vec::with_capacity(declared.len());
        for (param, default) in declared {
            if let Some(index) = given.iter().position(|(name, _)| *name == param.name) {
                let (name, value) = given.swap_remove(index);
                locals.push((name, value));
                continue;
            }
            let Some(default) = default else {
                ok = false;
                self.report(
                    Diagnostic::new(Code::E0302, path_span, format!("preset `{key}` needs parameter `{}`", param.name))
                        .with_primary_label("parameter not set")
                        .with_label(param.span, "declared here without a default")
                        .with_help(format!("set it: `use {key} {{ {} = … }}`", param.name)),
                );
                continue;
            };
            let outer = std::mem::replace(&mut self.locals, locals);
            let value = self.expr(default);
            locals = std::mem::replace(&mut self.locals, outer);
            match value {
                Some(value) => locals.push((param.name.clone(), value)),
                None => ok = false,
            }
        }
        if !ok {
            self.overlaid_params.clear();
            return None;
        }
        let saved = std::mem::replace(&mut self.locals, locals);
        self.in_preset = Some(decl.name.span);
        self.preset_in_use = Some((span, key));
        let fields = self.body(&decl.body, None);
        self.preset_in_use = None;
        self.in_preset = None;
        self.overlaid_params.clear();
        self.locals = saved;
        Some((fields, decl.span))
    }
}
