//! The driver: runs the stages in order over one estate and gathers their diagnostics.
//!
//! Input is a [`SourceMap`] of the user's files (read by the caller: the core does no IO); the
//! driver adds the embedded stdlib, parses every file, evaluates, builds the checked model and
//! checks it as a graph. Every stage runs whatever the stages before it found, over what they
//! could make of the estate, so one compilation reports every independent mistake; only the back
//! ends (run by the caller through [`compile_beside`]) wait for an estate without errors.
//! Diagnostics come back sorted by file and position, each reported once.

use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::eval::{self, SourceTree};
use crate::model::{self, Model};
use crate::source::{FileId, Origin, SourceFile, SourceMap, Span};
use crate::{graph, stdlib, syntax};

/// What a compilation produces.
#[derive(Debug, Default)]
pub struct Compilation {
    /// The checked model (complete only when there are no errors).
    pub model: Model,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The environments the estate declares (`env NAME { … }`), in source order.
    pub environments: Vec<String>,
}

impl Compilation {
    /// The number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity() == Severity::Error).count()
    }

    /// The number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity() == Severity::Warning).count()
    }
}

/// Adds the stdlib modules to `sources` and returns their ids with their module names.
pub fn add_stdlib(sources: &mut SourceMap) -> Vec<(FileId, &'static str)> {
    stdlib::MODULES
        .iter()
        .map(|(name, text)| (sources.add(SourceFile::new(stdlib::display_path(name), *text, Origin::Stdlib)), *name))
        .collect()
}

/// A stage of the compilation, reported to the observer of [`compile_observed`] as it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Every file parsed (the user's and the stdlib).
    Parse,
    /// Namespace, loops, presets, overlays and references evaluated.
    Evaluate,
    /// Every record checked against its kind's schema and deserialised into the model.
    Model,
    /// The graph rules run (over the resources that passed their own checks, after an error).
    Graph,
}

/// Compiles the user files `files` of `sources` (plus the stdlib, which this adds), applying the
/// overlay `env` if given.
pub fn compile(sources: &mut SourceMap, files: &[FileId], env: Option<&str>) -> Compilation {
    compile_observed(sources, files, env, &mut |_| {})
}

/// [`compile`], calling `observe` as each [`Stage`] ends: the benchmark times the stages this way,
/// since the core reads no clock.
pub fn compile_observed(
    sources: &mut SourceMap,
    files: &[FileId],
    env: Option<&str>,
    observe: &mut dyn FnMut(Stage),
) -> Compilation {
    compile_inner(sources, files, (env, true), observe, None::<fn(&Model, &SourceMap)>).0
}

/// [`compile_observed`], running `beside` over the checked model while the graph rules run, when
/// nothing before the rules reported an error (`None` otherwise: the rules still run, over the
/// resources that passed their own checks). The back ends go here: they
/// read only the model, so on two cores they need not wait for the rules. When the rules report
/// an error, the caller discards what `beside` produced, as if it had not run.
pub fn compile_beside<R: Send>(
    sources: &mut SourceMap,
    files: &[FileId],
    env: Option<&str>,
    observe: &mut dyn FnMut(Stage),
    beside: impl FnOnce(&Model, &SourceMap) -> R + Send,
) -> (Compilation, Option<R>) {
    compile_inner(sources, files, (env, true), observe, Some(beside))
}

/// [`compile_beside`] as one run of a check of every environment (`--env all`): the overlay `env`
/// (or none, for the base estate) is applied and checked, the others are not, since each has a
/// run of its own. So a mistake in one environment is reported by its run alone.
pub fn compile_run<R: Send>(
    sources: &mut SourceMap,
    files: &[FileId],
    env: Option<&str>,
    observe: &mut dyn FnMut(Stage),
    beside: Option<impl FnOnce(&Model, &SourceMap) -> R + Send>,
) -> (Compilation, Option<R>) {
    compile_inner(sources, files, (env, false), observe, beside)
}

/// `env` is the environment to apply, `check_others` whether every other overlay is checked too.
fn compile_inner<R: Send>(
    sources: &mut SourceMap,
    files: &[FileId],
    (env, check_others): (Option<&str>, bool),
    observe: &mut dyn FnMut(Stage),
    beside: Option<impl FnOnce(&Model, &SourceMap) -> R + Send>,
) -> (Compilation, Option<R>) {
    let stdlib = add_stdlib(sources);
    // `--env NAME` is shown as a line of its own, so a mistake in it has a place to point at.
    let env_argument = env.map(|name| {
        let file = sources.add(SourceFile::new("<command line>", format!("--env {name}"), Origin::User));
        (name, Span::new(file, 6, 6 + name.len()))
    });
    let mut diagnostics = Vec::new();
    let mut parsed = Vec::with_capacity(files.len() + stdlib.len());
    for &file in files {
        let (ast, mut found) = syntax::parse_file(&sources.get(file).text, file);
        if ast.items.is_empty() && found.is_empty() {
            diagnostics.push(
                Diagnostic::new(
                    Code::W0001,
                    Span::new(file, 0, 0),
                    format!("`{}` declares nothing", sources.get(file).path),
                )
                .with_primary_label("empty file")
                .with_help("add declarations, or delete the file"),
            );
        }
        diagnostics.append(&mut found);
        parsed.push((file, None, ast));
    }
    for &(file, module) in &stdlib {
        let (ast, mut found) = syntax::parse_file(&sources.get(file).text, file);
        diagnostics.append(&mut found);
        parsed.push((file, Some(module), ast));
    }
    observe(Stage::Parse);
    let trees: Vec<SourceTree<'_>> =
        parsed.iter().map(|(file, module, ast)| SourceTree { file: *file, ast, module: *module }).collect();
    let (evaluated, mut found) = eval::evaluate(&trees, env_argument, check_others);
    diagnostics.append(&mut found);
    let environments = evaluated.environments.clone();
    let user_asts: Vec<_> =
        parsed.iter().filter(|(_, module, _)| module.is_none()).map(|(f, _, ast)| (*f, ast)).collect();
    let (named_nodes, names_any_node) = if environments.is_empty() {
        (Vec::new(), false)
    } else {
        crate::environments::named_nodes(sources, &user_asts)
    };
    drop(user_asts);
    observe(Stage::Evaluate);
    // The syntax trees are the largest thing alive (about 7 bytes per byte of source): nothing
    // after evaluation reads them, so a large estate's are freed on a thread of their own while
    // the model is built (a small estate's take less than the thread).
    drop(trees);
    let source_bytes: usize = parsed.iter().map(|(file, _, _)| sources.get(*file).text.len()).sum();
    let (model, mut found) = if source_bytes >= FREE_BESIDE_MIN_BYTES {
        std::thread::scope(|scope| {
            scope.spawn(move || drop(parsed));
            model::build_model(evaluated)
        })
    } else {
        drop(parsed);
        model::build_model(evaluated)
    };
    // A `use` whose preset's assertion failed (E0501, at the `use`) has said what is wrong with
    // its parameters: the fields they then fill out of range (a negative `standbys` as a pod
    // count) would be a second error at the same place saying less, so the model's at that
    // place are left out.
    let refused_uses: rustc_hash::FxHashSet<Span> =
        diagnostics.iter().filter(|d| d.code == Code::E0501).map(|d| d.primary.span).collect();
    if !refused_uses.is_empty() {
        found.retain(|d| !refused_uses.contains(&d.primary.span));
    }
    diagnostics.append(&mut found);
    // Dashboard files are data the caller read beside the sources: found and checked here, so
    // the graph rules and the back ends see only those that hold a JSON object.
    let mut model = model;
    model.environments = model::Environments {
        declared: environments.clone(),
        applied: env.map(String::from),
        named_nodes: named_nodes.into_iter().collect(),
        names_any_node,
    };
    diagnostics.append(&mut model::dashboards::attach(&mut model, sources));
    observe(Stage::Model);
    // The graph rules run over every resource whose own checks passed, so one check reports
    // every independent mistake (a port clash beside a type error) instead of one round per
    // stage. Resources that failed are not in the model: references to them resolve to nothing
    // and are skipped, and the rules that conclude from what is absent are told the model is
    // partial. The back ends need a clean model, so `beside` runs only when nothing failed.
    let complete = !diagnostics.iter().any(|d| d.severity() == Severity::Error);
    let mut beside_result = None;
    let stdlib_files: Vec<_> = stdlib.iter().map(|(file, _)| *file).collect();
    let (checked, sources) = (&model, &*sources);
    let mut found = match beside.filter(|_| complete) {
        None => graph::check_estate(checked, &stdlib_files, complete),
        Some(beside) => std::thread::scope(|scope| {
            let beside = scope.spawn(move || beside(checked, sources));
            let found = graph::check_estate(checked, &stdlib_files, complete);
            beside_result = Some(beside.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            found
        }),
    };
    diagnostics.append(&mut found);
    observe(Stage::Graph);
    sort_and_dedup(&mut diagnostics);
    (Compilation { model, diagnostics, environments }, beside_result)
}

/// From this much source on, the syntax trees are freed beside the model stage.
const FREE_BESIDE_MIN_BYTES: usize = 1 << 20;

/// Sorts diagnostics by position and drops repeats of one message at one place.
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (a.primary.span.file, a.primary.span.start, a.primary.span.end, a.code).cmp(&(
            b.primary.span.file,
            b.primary.span.start,
            b.primary.span.end,
            b.code,
        ))
    });
    // Repeats of one message at one place (a loop body evaluated once per element) show once.
    diagnostics.dedup_by(|a, b| a.code == b.code && a.primary.span == b.primary.span && a.message == b.message);
    // Nested loops can repeat one mistake with different names thousands of times: the first few
    // show the pattern, and the last one shown says how many more there are.
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    let mut hidden = 0usize;
    for diagnostic in diagnostics.drain(..) {
        let same_place = |d: &Diagnostic| d.code == diagnostic.code && d.primary.span == diagnostic.primary.span;
        let run = kept.iter().rev().take_while(|d| same_place(d)).count();
        if run < MAX_REPEATS {
            flush_hidden(&mut kept, &mut hidden);
            kept.push(diagnostic);
        } else {
            hidden += 1;
        }
    }
    flush_hidden(&mut kept, &mut hidden);
    *diagnostics = kept;
}

/// The most diagnostics with one code at one place that are shown.
pub const MAX_REPEATS: usize = 10;

fn flush_hidden(kept: &mut [Diagnostic], hidden: &mut usize) {
    if *hidden > 0
        && let Some(last) = kept.last_mut()
    {
        last.notes.push(format!("{hidden} more like this at the same place are not shown"));
    }
    *hidden = 0;
}
