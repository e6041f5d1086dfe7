//! Stage 2, evaluation: every file's syntax tree to a flat list of resources, each a record of
//! evaluated values.
//!
//! In order: collect the namespace (imports, `let`s, presets, overlays) from every file; expand the
//! items (`for` loops, interpolated names) into resources; evaluate each body, merging the presets
//! it `use`s under it (the block wins, records merge deeply, lists are replaced); check every
//! overlay and apply the selected one (removing, adding and changing blocks); resolve every
//! reference.
//!
//! Invariants: the language is total (no recursion: a `let` that needs itself is an error; loops
//! run over literal lists and ranges capped at [`expr::MAX_RANGE`] items; at most [`MAX_RESOURCES`]
//! resources); nothing reads the environment or the clock; resources keep source order.

mod assert;
mod budget;
mod expr;
mod list_for;
mod logic;
mod named_ref;
mod overlay;
mod params;
mod preset;
mod references;
mod rows;
pub mod value;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::model::Kind;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Atom, Body, Entry, Item};
use value::{Field, Record, Value, ValueKind, merge};

pub use budget::MAX_STEPS;
pub use expr::{MAX_EVAL_DEPTH, MAX_RANGE};
pub use rows::{LoopRow, RowIndex, in_rows};

/// The most resources one estate may expand to. A generated 100,000-service estate uses a fifth of
/// it; the cap bounds the memory a `for` over `for` can ask for.
pub const MAX_RESOURCES: usize = 1_000_000;

/// How deep `let` bindings may refer to one another before evaluation stops: deep enough for any
/// real chain, shallow enough that the recursion cannot exhaust the stack.
const MAX_LET_DEPTH: usize = 64;

/// One parsed file handed to the evaluator.
pub struct SourceTree<'a> {
    /// The file.
    pub file: FileId,
    /// Its syntax tree.
    pub ast: &'a ast::File,
    /// For stdlib files, the module name (`postgres`); `None` for the user's files.
    pub module: Option<&'a str>,
}

/// A block, evaluated.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Its kind.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// The whole block.
    pub span: Span,
    /// Its fields.
    pub body: Record,
    /// Whether a mistake inside the block was already reported, so its record may be incomplete
    /// and later stages must not report what is missing from it.
    pub poisoned: bool,
    /// The presets the block uses, so a diagnostic about a field a preset brought can point at
    /// the `use` line.
    pub presets: Vec<PresetUse>,
    /// The loop iterations the block was expanded in, innermost first, so a diagnostic about it
    /// can name them.
    pub rows: std::sync::Arc<[LoopRow]>,
}

/// A `use PRESET { … }` in a block: where it is written and the preset declaration it expands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresetUse {
    /// The `use` line in the user's block.
    pub at: Span,
    /// The whole `preset NAME for KIND { … }` declaration (in the stdlib or the user's files).
    pub preset: Span,
}

impl PresetUse {
    /// Whether `span` lies inside the preset's declaration.
    pub fn brought(&self, span: Span) -> bool {
        span.file == self.preset.file && span.start >= self.preset.start && span.end <= self.preset.end
    }
}

/// Moves a diagnostic whose primary span lies inside one of `uses`' presets to that `use` line,
/// keeping the preset's line as a secondary label: the user wrote the `use`, not the stdlib.
pub fn at_use(mut diagnostic: Diagnostic, uses: &[PresetUse]) -> Diagnostic {
    let Some(found) = uses.iter().find(|u| u.brought(diagnostic.primary.span)) else { return diagnostic };
    let inside = diagnostic.primary.span;
    diagnostic.primary.span = found.at;
    diagnostic
        .secondary
        .insert(0, crate::diagnostics::Label { span: inside, message: Some("set by the preset here".into()) });
    diagnostic
}

/// A field path named by an overlay, for the model stage to check against the kind's schema.
#[derive(Clone, Debug)]
pub struct OverlayPath {
    /// The kind of the resource the overlay sets.
    pub kind: Kind,
    /// The fields after the resource's name, with their spans.
    pub fields: Vec<(String, Span)>,
    /// The value it sets, checked against the field's schema even when the overlay is not applied.
    pub value: Option<Value>,
    /// Whether the overlay was applied (its field is then checked with the resource's record).
    pub applied: bool,
}

/// What evaluation produces.
#[derive(Debug, Default)]
pub struct Evaluated {
    /// Every resource, in source order.
    pub resources: Vec<Resource>,
    /// Every field path every overlay sets (selected or not).
    pub overlay_paths: Vec<OverlayPath>,
    /// The blocks the environments that are not applied add: checked against their kind's schema,
    /// never part of the model.
    pub overlay_blocks: Vec<Resource>,
    /// The environments the estate declares, in source order (each name once).
    pub environments: Vec<String>,
}

/// Where each resource is in the evaluator's list, by kind and name. Looked up by `&str`: a
/// reference is resolved without building a key.
#[derive(Default)]
struct ResourceIndex {
    by_kind: FxHashMap<Kind, FxHashMap<String, usize>>,
}

impl ResourceIndex {
    fn get(&self, kind: Kind, name: &str) -> Option<usize> {
        self.by_kind.get(&kind)?.get(name).copied()
    }

    fn insert(&mut self, kind: Kind, name: String, at: usize) {
        self.by_kind.entry(kind).or_default().insert(name, at);
    }

    fn remove(&mut self, kind: Kind, name: &str) {
        if let Some(names) = self.by_kind.get_mut(&kind) {
            names.remove(name);
        }
    }
}

struct LetSlot<'a> {
    decl: &'a ast::Let,
    state: LetState,
}

enum LetState {
    Pending,
    InProgress,
    Done(Option<Value>),
}

struct PresetDef<'a> {
    decl: &'a ast::Preset,
    /// For stdlib presets, whether the module was imported (`None` for the user's own presets).
    module: Option<&'a str>,
}

/// The evaluation state of one estate.
pub struct Evaluator<'a> {
    lets: FxHashMap<&'a str, LetSlot<'a>>,
    let_depth: usize,
    locals: Vec<(Atom, Value)>,
    presets: FxHashMap<String, PresetDef<'a>>,
    imports: Vec<(String, Span, bool)>,
    resources: Vec<Resource>,
    index: ResourceIndex,
    diagnostics: Vec<Diagnostic>,
    /// Per code and place, the diagnostics kept and those dropped as repeats.
    repeats: FxHashMap<(Code, Span), (usize, usize)>,
    too_many_reported: bool,
    /// Evaluation steps taken so far, and whether the budget ([`MAX_STEPS`]) ran out.
    steps: u64,
    budget_spent: bool,
    /// How deep `expr` is nested now (see [`expr::MAX_EVAL_DEPTH`]), and whether that was reported.
    expr_depth: usize,
    too_deep_reported: bool,
    /// Set when a value could not be evaluated since the current block started.
    poisoned: bool,
    /// Blocks dropped after an error (`kind`, `name`): references to them are not reported again.
    dropped: FxHashSet<(String, String)>,
    /// The preset whose body is being evaluated, if any: its `param`s are already bound, and it
    /// may not `use` another preset (which keeps preset expansion free of recursion).
    in_preset: Option<Span>,
    /// The presets the current block uses, taken by [`Evaluator::block`].
    block_presets: Vec<PresetUse>,
    /// While an environment's blocks are evaluated, how many resources the estate had before
    /// them: a name clashing with one of those is E0222.
    adding_from: Option<usize>,
    /// What the applied environment removed.
    removed: overlay::Removed,
    /// While a preset's body is evaluated: the `use` line and the preset's name, where a failing
    /// assertion of the preset is reported.
    preset_in_use: Option<(Span, String)>,
    /// The loop iterations being evaluated, outermost first.
    iterations: Vec<rows::Iteration>,
    /// While a block's name is evaluated: the places of the row values it reads, so a bad name a
    /// row makes is reported at the row.
    row_reads: Option<Vec<Span>>,
    /// For resources whose name a row made: their index and that row value's place.
    name_rows: FxHashMap<usize, Span>,
    /// The preset parameters the applied environment sets or removes.
    param_overlays: Vec<params::ParamOverlay<'a>>,
    /// While a block is evaluated (and the applied environment changes parameters): its kind and name.
    current_block: Option<(Kind, String)>,
    /// While a preset's body is evaluated: the environment's entries that changed its arguments.
    overlaid_params: Vec<Span>,
}

/// Evaluates the estate made of `trees`, applying the overlay `env` (its name, and where the name
/// was given) if any, and checking every other overlay when `check_others`.
pub fn evaluate(
    trees: &[SourceTree<'_>],
    env: Option<(&str, Span)>,
    check_others: bool,
) -> (Evaluated, Vec<Diagnostic>) {
    let mut evaluator = Evaluator {
        lets: FxHashMap::default(),
        let_depth: 0,
        locals: Vec::new(),
        presets: FxHashMap::default(),
        imports: Vec::new(),
        resources: Vec::new(),
        index: ResourceIndex::default(),
        diagnostics: Vec::new(),
        repeats: FxHashMap::default(),
        too_many_reported: false,
        steps: 0,
        budget_spent: false,
        expr_depth: 0,
        too_deep_reported: false,
        poisoned: false,
        in_preset: None,
        dropped: FxHashSet::default(),
        block_presets: Vec::new(),
        adding_from: None,
        removed: overlay::Removed::default(),
        preset_in_use: None,
        iterations: Vec::new(),
        row_reads: None,
        name_rows: FxHashMap::default(),
        param_overlays: Vec::new(),
        current_block: None,
        overlaid_params: Vec::new(),
    };
    let mut envs: Vec<&ast::Env> = Vec::new();
    evaluator.collect(trees, &mut envs);
    // The applied environment's preset parameters are arguments of the base estate's `use`s.
    if let Some(applied) = env.and_then(|(name, _)| envs.iter().find(|e| e.name.name == name)) {
        evaluator.collect_param_overlays(applied);
    }
    for tree in trees.iter().filter(|t| t.module.is_none()) {
        evaluator.items(&tree.ast.items, true);
    }
    // A `let` nothing uses is still evaluated, so its mistakes are reported too.
    for tree in trees.iter().filter(|t| t.module.is_none()) {
        for item in &tree.ast.items {
            if let Item::Let(decl) = item
                && evaluator.lets.get(decl.name.name.as_str()).is_some_and(|slot| std::ptr::eq(slot.decl, decl))
            {
                evaluator.lookup(&decl.name.name, decl.name.span);
            }
        }
    }
    let mut evaluated =
        Evaluated { environments: envs.iter().map(|env| env.name.name.to_string()).collect(), ..Evaluated::default() };
    if evaluator.budget_spent {
        // What was evaluated is a fragment; checking it would only report what is missing.
        return (evaluated, evaluator.into_diagnostics());
    }
    evaluator.overlays(&envs, env, check_others, &mut evaluated);
    // The applied environment's removed blocks go before references are resolved: what they
    // referred to does not matter. The index keeps only names from here on, not positions.
    if !evaluator.removed.by_name.is_empty() {
        let removed: FxHashSet<usize> = evaluator.removed.by_name.values().map(|(at, _)| *at).collect();
        let resources = std::mem::take(&mut evaluator.resources);
        evaluator.resources =
            resources.into_iter().enumerate().filter(|(at, _)| !removed.contains(at)).map(|(_, r)| r).collect();
    }
    evaluator.resolve_references();
    for (module, span, used) in &evaluator.imports {
        // An environment this run does not check may be the one that uses it.
        if !used && (check_others || !overlay::environments_use(&envs, module)) {
            evaluator.diagnostics.push(
                Diagnostic::new(Code::W0201, *span, format!("`std.{module}` is imported but never used"))
                    .with_primary_label("unused import")
                    .with_help("remove the import, or `use` one of its presets"),
            );
        }
    }
    evaluated.resources = std::mem::take(&mut evaluator.resources);
    (evaluated, evaluator.into_diagnostics())
}

/// Whether `name` is a DNS-1123 label: 1–63 lowercase letters, digits and `-`, starting and ending
/// with a letter or digit.
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn dns_label_help(name: &str) -> String {
    let fixed: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .chars()
        .take(63)
        .collect();
    if !fixed.is_empty() && fixed != name && is_dns_label(&fixed) {
        format!("names become file names, Nix attributes and Kubernetes names; try `{fixed}`")
    } else {
        "names become file names, Nix attributes and Kubernetes names: use 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit".into()
    }
}

impl<'a> Evaluator<'a> {
    /// Keeps a diagnostic, unless [`crate::driver::MAX_REPEATS`] with its code were already kept
    /// at its place: a loop repeating one mistake thousands of times would otherwise spend its
    /// time and memory on diagnostics the driver drops (it notes how many there were).
    fn report(&mut self, mut diagnostic: Diagnostic) {
        if !self.iterations.is_empty() {
            diagnostic = in_rows(diagnostic, &self.loop_rows());
        }
        // Charged without a check: the next step notices an exhausted budget.
        self.steps = self.steps.saturating_add(budget::DIAGNOSTIC_STEPS);
        let repeats = self.repeats.entry((diagnostic.code, diagnostic.primary.span)).or_insert((0, 0));
        if repeats.0 >= crate::driver::MAX_REPEATS {
            repeats.1 += 1;
            return;
        }
        repeats.0 += 1;
        self.diagnostics.push(diagnostic);
    }

    /// The diagnostics, each place's last kept one noting how many more were dropped.
    fn into_diagnostics(mut self) -> Vec<Diagnostic> {
        for diagnostic in self.diagnostics.iter_mut().rev() {
            if let Some((_, dropped)) = self.repeats.get_mut(&(diagnostic.code, diagnostic.primary.span))
                && *dropped > 0
            {
                diagnostic.notes.push(format!("{dropped} more like this at the same place are not shown"));
                *dropped = 0;
            }
        }
        self.diagnostics
    }

    /// Gathers imports, `let`s, presets and overlays from every file.
    fn collect(&mut self, trees: &[SourceTree<'a>], envs: &mut Vec<&'a ast::Env>) {
        let stdlib_modules: Vec<&str> = trees.iter().filter_map(|t| t.module).collect();
        let mut preset_spans: FxHashMap<String, Span> = FxHashMap::default();
        let mut env_spans: FxHashMap<&str, Span> = FxHashMap::default();
        for tree in trees {
            for item in &tree.ast.items {
                match item {
                    Item::Import(import) if tree.module.is_none() => self.import(import, &stdlib_modules),
                    Item::Let(decl) if tree.module.is_none() => {
                        if let Some(first) = self.lets.get(decl.name.name.as_str()) {
                            let first = first.decl.name.span;
                            self.report(duplicate("binding", &decl.name.name, decl.name.span, first));
                        } else {
                            self.lets.insert(&decl.name.name, LetSlot { decl, state: LetState::Pending });
                        }
                    }
                    Item::Preset(decl) => {
                        let key = match tree.module {
                            Some(module) if module == decl.name.name => format!("std.{module}"),
                            Some(module) => format!("std.{module}.{}", decl.name.name),
                            None => decl.name.name.to_string(),
                        };
                        if let Some(&first) = preset_spans.get(&key) {
                            self.report(duplicate("preset", &decl.name.name, decl.name.span, first));
                            continue;
                        }
                        if tree.module.is_none() && !is_dns_label(&decl.name.name) {
                            self.report(invalid_name(&decl.name.name, decl.name.span));
                        }
                        if Kind::from_name(&decl.kind.name).is_none() {
                            self.report(unknown_kind(&decl.kind));
                        }
                        preset_spans.insert(key.clone(), decl.name.span);
                        self.presets.insert(key, PresetDef { decl, module: tree.module });
                    }
                    Item::Env(env) if tree.module.is_none() => {
                        if let Some(&first) = env_spans.get(env.name.name.as_str()) {
                            self.report(duplicate("environment", &env.name.name, env.name.span, first));
                        } else {
                            env_spans.insert(&env.name.name, env.name.span);
                            envs.push(env);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn import(&mut self, import: &ast::Import, modules: &[&str]) {
        let names: Vec<&str> = import.path.iter().map(|i| i.name.as_str()).collect();
        match names.as_slice() {
            ["std", module] if modules.contains(module) => {
                if let Some(first) = self.imports.iter().find(|(m, _, _)| m == module) {
                    let first = first.1;
                    self.report(duplicate("import", &format!("std.{module}"), import.span, first));
                } else {
                    self.imports.push((module.to_string(), import.span, false));
                }
            }
            ["std", module] => {
                let diagnostic = Diagnostic::new(Code::E0205, import.span, format!("no stdlib module `std.{module}`"))
                    .with_primary_label("unknown module");
                let known = modules.iter().map(|m| format!("`std.{m}`")).collect::<Vec<_>>().join(", ");
                let diagnostic = match crate::diagnostics::did_you_mean(module, modules.iter().copied()) {
                    Some(close) => diagnostic.with_help(format!("did you mean `std.{close}`?")).with_suggestion(
                        import.span,
                        module,
                        close,
                    ),
                    None => diagnostic.with_help(format!("the stdlib modules are {known}")),
                };
                self.report(diagnostic);
            }
            _ => {
                self.report(
                    Diagnostic::new(Code::E0205, import.span, format!("cannot import `{}`", names.join(".")))
                        .with_primary_label("imports name a stdlib module")
                        .with_help(
                            "write `import std.NAME`; the project's own files share one namespace and need no import",
                        ),
                );
            }
        }
    }

    /// Names bound in the current scope, for suggestions.
    fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.locals.iter().map(|(n, _)| n.as_str()).chain(self.lets.keys().copied())
    }

    /// Looks a variable up: `None` when it is not bound, `Some(None)` when its value failed.
    fn lookup(&mut self, name: &str, at: Span) -> Option<Option<Value>> {
        if let Some(index) = self.locals.iter().rposition(|(n, _)| n == name) {
            // Copying a value is charged before it is made.
            // Copying a value is charged before it is made.
            let measured = budget::measure(&self.locals[index].1);
            return Some(self.charge_copy(measured, at).then(|| self.locals[index].1.clone()));
        }
        let slot = self.lets.get_mut(name)?;
        match &slot.state {
            LetState::Done(Some(value)) => {
                let measured = budget::measure(value);
                if !self.charge_copy(measured, at) {
                    return Some(None);
                }
                self.lets.get(name).and_then(|slot| match &slot.state {
                    LetState::Done(value) => Some(value.clone()),
                    _ => None,
                })
            }
            LetState::Done(None) => Some(None),
            LetState::InProgress => {
                let decl_span = slot.decl.name.span;
                slot.state = LetState::Done(None);
                self.report(
                    Diagnostic::new(Code::E0207, at, format!("`{name}` depends on itself"))
                        .with_primary_label("used here while it is being defined")
                        .with_label(decl_span, "defined here")
                        .with_help("the language has no recursion: compute the value from other bindings"),
                );
                Some(None)
            }
            LetState::Pending => {
                let decl = slot.decl;
                if self.let_depth >= MAX_LET_DEPTH {
                    self.report(
                        Diagnostic::new(
                            Code::E0105,
                            at,
                            format!("`let` bindings refer to one another more than {MAX_LET_DEPTH} deep"),
                        )
                        .with_primary_label("too deep")
                        .with_help("shorten the chain of bindings"),
                    );
                    return Some(None);
                }
                slot.state = LetState::InProgress;
                // A `let` sees only other `let`s, never the locals of the place that uses it.
                let saved = std::mem::take(&mut self.locals);
                self.let_depth += 1;
                let value = self.expr(&decl.value);
                self.let_depth -= 1;
                self.locals = saved;
                if let Some(slot) = self.lets.get_mut(name) {
                    if matches!(slot.state, LetState::InProgress) {
                        slot.state = LetState::Done(value.clone());
                    } else {
                        return Some(None);
                    }
                }
                Some(value)
            }
        }
    }

    /// Expands items: blocks become resources; `for` repeats its items; `let` inside a loop binds
    /// for the rest of that iteration.
    fn items(&mut self, items: &'a [Item], top_level: bool) {
        let locals_before = self.locals.len();
        for item in items {
            match item {
                Item::Block(block) => self.block(block),
                Item::For(for_item) => self.for_item(for_item),
                Item::Assert(assert) => self.assertion(assert),
                Item::Let(decl) if !top_level => {
                    if let Some(value) = self.expr(&decl.value) {
                        self.locals.push((decl.name.name.clone(), value));
                    }
                }
                Item::Import(ast::Import { span, .. })
                | Item::Env(ast::Env { span, .. })
                | Item::Preset(ast::Preset { span, .. })
                    if !top_level =>
                {
                    self.report(
                        Diagnostic::new(Code::E0101, *span, "only blocks and `let` may appear inside `for`")
                            .with_primary_label("not allowed in a loop")
                            .with_help("move this declaration out of the loop"),
                    );
                }
                _ => {}
            }
        }
        self.locals.truncate(locals_before);
    }

    /// Evaluates a block or member name to a string.
    fn name(&mut self, name: &'a ast::Name) -> Option<(Atom, Span)> {
        match name {
            ast::Name::Ident(ident) => Some((ident.name.clone(), ident.span)),
            ast::Name::Str(expr) => {
                let value = self.expr(expr)?;
                match value.kind {
                    ValueKind::Str(s) => Some((Atom::from(s), expr.span)),
                    other => {
                        self.report(
                            Diagnostic::new(
                                Code::E0301,
                                expr.span,
                                format!("a name is a string, found {}", other.type_name()),
                            )
                            .with_primary_label("not a string")
                            .with_help("write the name as an identifier or a string"),
                        );
                        None
                    }
                }
            }
        }
    }

    fn block(&mut self, block: &'a ast::Block) {
        if self.budget_spent {
            return;
        }
        let Some(kind) = Kind::from_name(&block.kind.name) else {
            self.report(unknown_kind(&block.kind));
            // References to the block under the kind it was probably meant to be are not
            // reported again.
            let meant = crate::diagnostics::did_you_mean(&block.kind.name, Kind::ALL.iter().map(|k| k.as_str()));
            if let (Some(meant), ast::Name::Ident(name)) = (meant, &block.name) {
                self.dropped.insert((meant.to_string(), name.name.to_string()));
            }
            return;
        };
        self.row_reads = (!self.iterations.is_empty()).then(Vec::new);
        let named = self.name(&block.name);
        let from_row = self.row_reads.take().and_then(|reads| reads.first().copied());
        let Some((name, name_span)) = named else { return };
        let name = String::from(name);
        if !is_dns_label(&name) {
            self.report(at_row(invalid_name(&name, name_span), from_row, name_span));
            self.dropped.insert((kind.as_str().to_string(), name));
            return;
        }
        if self.resources.len() >= MAX_RESOURCES {
            if !self.too_many_reported {
                self.too_many_reported = true;
                self.report(
                    Diagnostic::new(
                        Code::E0404,
                        block.span,
                        format!("the estate expands to more than {MAX_RESOURCES} resources"),
                    )
                    .with_primary_label("the limit is reached here")
                    .with_help("split the estate into several projects"),
                );
            }
            return;
        }
        let reported_before = self.diagnostics.len();
        self.poisoned = false;
        self.block_presets.clear();
        if !self.param_overlays.is_empty() {
            self.current_block = Some((kind, name.clone()));
        }
        let body = self.body(&block.body, Some(kind));
        self.current_block = None;
        let presets = std::mem::take(&mut self.block_presets);
        let poisoned = self.poisoned || self.diagnostics.len() > reported_before;
        if let Some(first) = self.index.get(kind, &name) {
            let mut diagnostic = self.duplicate_block(kind, &name, name_span, first);
            let made_twice = self.resources.get(first).is_some_and(|r| r.name_span == name_span);
            if diagnostic.code != Code::E0222 && made_twice {
                // A loop made the name twice: point at the row that made it first.
                if let Some(row) = self.name_rows.get(&first).copied() {
                    diagnostic = diagnostic.with_label(row, "the element that made it first");
                }
                diagnostic = at_row(diagnostic, from_row, name_span);
            }
            self.report(diagnostic);
            return;
        }
        if let Some(row) = from_row {
            self.name_rows.insert(self.resources.len(), row);
        }
        self.index.insert(kind, name.clone(), self.resources.len());
        let rows = self.loop_rows();
        self.resources.push(Resource { kind, name, name_span, span: block.span, body, poisoned, presets, rows });
    }

    /// Evaluates a body to a record; `kind` is the block's kind when presets may be used.
    fn body(&mut self, body: &'a Body, kind: Option<Kind>) -> Record {
        // Sized once: most entries become fields, and growing a record rehashes it.
        let mut record = Record::with_capacity_and_hasher(body.entries.len(), Default::default());
        let mut presets: Vec<Record> = Vec::new();
        for entry in &body.entries {
            match entry {
                Entry::Field { key, value } => {
                    if let Some(value) = self.expr(value) {
                        self.insert(&mut record, key, value);
                    }
                }
                Entry::Record { key, body } => {
                    let inner = self.nested_body(body);
                    self.insert(&mut record, key, Value { kind: ValueKind::Record(Box::new(inner)), span: body.span });
                }
                Entry::Member { key, label, body: member } => self.member(&mut record, key, label, member),
                Entry::Use { span, preset: path, .. } if self.in_preset.is_some() => {
                    // The import is not unused: the mistake is where it is used.
                    if let [std, module, ..] = path.as_slice()
                        && std.name == "std"
                        && let Some(import) = self.imports.iter_mut().find(|(m, _, _)| *m == module.name)
                    {
                        import.2 = true;
                    }
                    let preset = self.in_preset.unwrap_or(*span);
                    self.report(
                        Diagnostic::new(Code::E0209, *span, "a preset cannot use another preset")
                            .with_primary_label("`use` inside a preset")
                            .with_label(preset, "in this preset")
                            .with_help("copy the fields you need, or `use` both presets in the block"),
                    );
                }
                Entry::Use { preset, args, span } => {
                    if let Some((fields, declaration)) = self.use_preset(preset, args, *span, kind) {
                        presets.push(fields);
                        self.block_presets.push(PresetUse { at: *span, preset: declaration });
                    }
                }
                Entry::Assert(assert) => self.assertion(assert),
                Entry::Param { .. } if self.in_preset.is_some() => {}
                Entry::Param { span, .. } => {
                    self.report(
                        Diagnostic::new(
                            Code::E0101,
                            *span,
                            "`param` declares a preset parameter and belongs in a `preset`",
                        )
                        .with_primary_label("not in a preset")
                        .with_help("use `let` for a value shared by several blocks"),
                    );
                }
                Entry::Error(_) => self.poisoned = true,
            }
        }
        if presets.is_empty() {
            return record;
        }
        // Presets in order, then the block on top: the block wins.
        let mut merged = Record::default();
        for fields in presets {
            merge(&mut merged, fields);
        }
        merge(&mut merged, record);
        merged
    }

    /// A `field { … }` or `field NAME { … }` body: it nests like an expression, so it counts
    /// towards [`MAX_EVAL_DEPTH`] (a `let` used inside it adds its own depth).
    fn nested_body(&mut self, body: &'a Body) -> Record {
        if self.expr_depth >= MAX_EVAL_DEPTH {
            self.too_deep(body.span);
            return Record::default();
        }
        self.expr_depth += 1;
        let record = self.body(body, None);
        self.expr_depth -= 1;
        record
    }

    fn insert(&mut self, record: &mut Record, key: &ast::Key, value: Value) {
        match record.entry(key.name.clone()) {
            indexmap::map::Entry::Occupied(first) => {
                let first = first.get().key_span;
                self.report(
                    Diagnostic::new(Code::E0305, key.span, format!("field `{}` is set twice", key.name))
                        .with_primary_label("set again here")
                        .with_label(first, "first set here")
                        .with_help("keep one of the two"),
                );
            }
            indexmap::map::Entry::Vacant(slot) => {
                slot.insert(Field { key_span: key.span, value });
            }
        }
    }

    /// `field LABEL { … }`: adds a named member to the map of records under `field`.
    fn member(&mut self, record: &mut Record, key: &ast::Key, label: &'a ast::Name, body: &'a Body) {
        let Some((name, name_span)) = self.name(label) else { return };
        if !is_dns_label(&name) {
            self.report(invalid_name(&name, name_span));
            return;
        }
        let value = Value { kind: ValueKind::Record(Box::new(self.nested_body(body))), span: body.span.to(name_span) };
        let entry = record.entry(key.name.clone()).or_insert_with(|| Field {
            key_span: key.span,
            value: Value { kind: ValueKind::Record(Box::default()), span: key.span },
        });
        match &mut entry.value.kind {
            ValueKind::Record(members) => {
                if let Some(first) = members.get(name.as_str()) {
                    let first = first.key_span;
                    self.report(duplicate(&key.name, &name, name_span, first));
                    return;
                }
                members.insert(name, Field { key_span: name_span, value });
            }
            _ => {
                let first = entry.key_span;
                self.report(
                    Diagnostic::new(Code::E0305, key.span, format!("field `{}` is set twice", key.name))
                        .with_primary_label("set again here as a member")
                        .with_label(first, "first set here")
                        .with_help("keep one of the two"),
                );
            }
        }
    }
}

fn duplicate(what: &str, name: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::new(Code::E0202, span, format!("{what} `{name}` is defined twice"))
        .with_primary_label("defined again here")
        .with_label(first, "first defined here")
        .with_help("rename one of them or remove the duplicate")
}

fn unknown_kind(kind: &ast::Ident) -> Diagnostic {
    let mut candidates: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    candidates.extend(["import", "let", "env", "for", "preset"]);
    suggest(
        Diagnostic::new(Code::E0204, kind.span, format!("unknown kind `{}`", kind.name))
            .with_primary_label("not a kind"),
        &kind.name,
        candidates,
        "the kinds are node, network, cluster, storage, service, alert, backup, workflow and secret",
    )
}

/// `diagnostic` moved to the row value a name was built from (when it was), with the name's
/// template as a secondary label.
fn at_row(mut diagnostic: Diagnostic, row: Option<Span>, name: Span) -> Diagnostic {
    let Some(row) = row else { return diagnostic };
    let label = diagnostic.primary.message.replace("the value the name is built from".into());
    diagnostic.primary.span = row;
    diagnostic.with_label(name, label.unwrap_or_else(|| "the name is built here".into()))
}

fn invalid_name(name: &str, span: Span) -> Diagnostic {
    let shown: String = name.chars().take(80).collect();
    Diagnostic::new(Code::E0203, span, format!("`{shown}` is not a valid name"))
        .with_primary_label("not a DNS-1123 label")
        .with_help(dns_label_help(name))
}
