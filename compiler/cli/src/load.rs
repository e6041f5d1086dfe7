//! Reads the estate's files from disk: the only place the compiler touches the file system when
//! checking.
//!
//! A directory contributes every `*.spec` below it (hidden entries skipped), in path order, so the
//! namespace is the same on every machine. Display paths use `/` separators and are relative to
//! the one directory given (or are the one file's name), so nothing generated depends on the
//! working directory; with several paths, each is shown as given. Problems reading input become
//! diagnostics (E0001–E0004) on a placeholder file, so they print like every other diagnostic.
//!
//! Each file also keeps its location: the path it was read from, as seen from the working
//! directory. [`Compiled::show_locations`] puts those in place of the display paths once nothing
//! generated will read them, so diagnostics (human, JSON and GitHub annotations) name files the
//! way the shell, the editor and the pull request do; `spec fmt` writes to the locations.
//!
//! Without a path, the estate is found as cargo finds `Cargo.toml` and as the language server
//! finds an open file's estate ([`spec_lsp::folder::MARKER`]): the nearest folder at or above the
//! working directory holding `spec.toml`, else the working directory ([`estate_root`]).

use std::path::{Path, PathBuf};

use spec_compiler::diagnostics::{Code, Diagnostic, Severity};
use spec_compiler::driver;
use spec_compiler::model::Model;
use spec_compiler::source::{FileId, Origin, SourceFile, SourceMap, Span};

/// The largest source file accepted (256 MiB): five times a generated 100,000-service estate.
pub const MAX_FILE_SIZE: u64 = 256 << 20;

/// The files read and the problems met reading them.
pub struct Loaded {
    /// Every file, readable or not (unreadable ones hold an empty or lossy text).
    pub sources: SourceMap,
    /// The files to compile.
    pub files: Vec<FileId>,
    /// Problems reading input.
    pub diagnostics: Vec<Diagnostic>,
    /// Where each file (placeholders included) was read from, by file id (every file this adds
    /// gets one, in order), relative to the working directory when the path given was relative.
    pub locations: Vec<PathBuf>,
}

impl Loaded {
    /// Where `file` was read from.
    pub fn location(&self, file: FileId) -> Option<&Path> {
        self.locations.get(file.0 as usize).map(PathBuf::as_path)
    }
}

fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// `path` without `.` components (`./infra/main.spec` is `infra/main.spec`; `.` stays `.`).
fn tidy(path: &Path) -> PathBuf {
    let tidied: PathBuf = path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect();
    if tidied.as_os_str().is_empty() { PathBuf::from(".") } else { tidied }
}

fn placeholder(loaded: &mut Loaded, path: &Path, shown: String) -> Span {
    let file = loaded.sources.add(SourceFile::new(shown, "", Origin::User));
    loaded.locations.push(tidy(path));
    Span::new(file, 0, 0)
}

/// The estate run on when no path is given: the nearest folder at or above the working directory
/// holding [`spec_lsp::folder::MARKER`], as a relative path (`.`, `..`, `../..`, so files are still
/// named from the working directory), else `.`.
pub fn estate_root() -> PathBuf {
    let Ok(here) = std::env::current_dir() else { return PathBuf::from(".") };
    let ups = here.ancestors().position(|dir| dir.join(spec_lsp::folder::MARKER).is_file()).unwrap_or(0);
    if ups == 0 { PathBuf::from(".") } else { std::iter::repeat_n("..", ups).collect() }
}

/// Reads every file of `paths` (default: [`estate_root`]).
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loaded =
        Loaded { sources: SourceMap::new(), files: Vec::new(), diagnostics: Vec::new(), locations: Vec::new() };
    let default = [estate_root()];
    let paths = if paths.is_empty() { &default[..] } else { paths };
    let several = paths.len() > 1;
    for path in paths {
        if path.is_dir() {
            let found = spec_files(path);
            match found {
                Ok(found) if found.is_empty() => {
                    let span = placeholder(&mut loaded, path, display(path));
                    loaded.diagnostics.push(
                        Diagnostic::new(Code::E0002, span, format!("no `.spec` file in `{}`", display(path)))
                            .with_primary_label("nothing to check")
                            .with_help("point `spec` at a folder that holds `*.spec` files, or at a file"),
                    );
                }
                Ok(found) => {
                    for file in found {
                        let relative = file.strip_prefix(path).unwrap_or(&file);
                        let shown = if several { path.join(relative) } else { relative.to_path_buf() };
                        read(&mut loaded, &file, display(&shown));
                    }
                    read_data(&mut loaded, path, several.then_some(path.as_path()));
                }
                Err(error) => {
                    let span = placeholder(&mut loaded, path, display(path));
                    loaded.diagnostics.push(unreadable(span, path, &error));
                }
            }
        } else if several {
            read(&mut loaded, path, display(path));
        } else {
            // One file is shown by its name, as a folder's files are shown relative to the folder:
            // generated files name their sources, and must not depend on where `spec` ran from.
            let name = path.file_name().map_or_else(|| path.clone(), PathBuf::from);
            read(&mut loaded, path, display(&name));
            // The estate of one file is its folder: the dashboards it names are found from there.
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            read_data(&mut loaded, folder, None);
        }
    }
    loaded
}

/// Folders no estate keeps its data in, which may hold thousands of unrelated JSON files: a
/// JavaScript tool's packages and a Rust build's output.
const NOT_ESTATE_DATA: &[&str] = &["node_modules", "target"];

/// Reads every `*.json` below `dir` (hidden entries and [`NOT_ESTATE_DATA`] folders skipped, path
/// order) as a data file the spec
/// may name (a dashboard), shown relative to `dir` (under `prefix` when several paths were given).
/// They are not compiled; the model stage finds the ones the services name. A file that cannot be
/// read is left out, so naming it is E0760; one too large or not UTF-8 is kept as a placeholder
/// or lossily, so naming it is E0761.
fn read_data(loaded: &mut Loaded, dir: &Path, prefix: Option<&Path>) {
    let walker = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().filter_entry(|entry| {
        let name = entry.file_name().to_string_lossy();
        entry.depth() == 0
            || !(name.starts_with('.') || entry.file_type().is_dir() && NOT_ESTATE_DATA.contains(&name.as_ref()))
    });
    for entry in walker.filter_map(Result::ok) {
        if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "json") {
            continue;
        }
        let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let shown = prefix.map_or_else(|| relative.to_path_buf(), |p| p.join(relative));
        let Ok(metadata) = entry.metadata() else { continue };
        let text = if metadata.len() > MAX_FILE_SIZE {
            String::new()
        } else {
            match std::fs::read(entry.path()) {
                Ok(bytes) => {
                    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                }
                Err(_) => continue,
            }
        };
        loaded.sources.add(SourceFile::new(display(&shown), text, Origin::Data));
        loaded.locations.push(tidy(entry.path()));
    }
}

fn spec_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "spec") {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

fn unreadable(span: Span, path: &Path, error: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::new(Code::E0004, span, format!("cannot read `{}`: {error}", display(path)))
        .with_primary_label("unreadable")
        .with_help("check that the path exists and is readable")
}

fn read(loaded: &mut Loaded, path: &Path, shown: String) {
    let size = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(error) => {
            let span = placeholder(loaded, path, shown);
            loaded.diagnostics.push(unreadable(span, path, &error));
            return;
        }
    };
    if size > MAX_FILE_SIZE {
        let span = placeholder(loaded, path, shown.clone());
        loaded.diagnostics.push(
            Diagnostic::new(
                Code::E0003,
                span,
                format!("`{shown}` is {size} bytes, more than the limit of {MAX_FILE_SIZE}"),
            )
            .with_primary_label("too large")
            .with_help("split the estate into several files"),
        );
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            let span = placeholder(loaded, path, shown);
            loaded.diagnostics.push(unreadable(span, path, &error));
            return;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => {
            let file = loaded.sources.add(SourceFile::new(shown, text, Origin::User));
            loaded.locations.push(tidy(path));
            loaded.files.push(file);
        }
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            // The lossy text keeps every byte before the first invalid one, so the offset holds.
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let end = text.get(valid..).and_then(|rest| rest.chars().next()).map_or(valid, |c| valid + c.len_utf8());
            let file = loaded.sources.add(SourceFile::new(shown.clone(), text, Origin::User));
            loaded.locations.push(tidy(path));
            loaded.diagnostics.push(
                Diagnostic::new(Code::E0001, Span::new(file, valid, end), format!("`{shown}` is not valid UTF-8"))
                    .with_primary_label(format!("invalid byte at offset {valid}"))
                    .with_help("spec files are UTF-8 text; is this a binary file?"),
            );
        }
    }
}

/// An estate read and compiled: the sources, the compilation, and every diagnostic (reading and
/// compiling) sorted.
pub struct Compiled {
    /// Every file read, user and stdlib.
    pub sources: SourceMap,
    /// The model and what the compiler found.
    pub compilation: spec_compiler::driver::Compilation,
    /// Reading and compiling diagnostics together, sorted and deduplicated.
    pub diagnostics: Vec<Diagnostic>,
    /// How many user files were read.
    pub files: usize,
    /// Where each file was read from (see [`Loaded::locations`]).
    pub locations: Vec<PathBuf>,
}

impl Compiled {
    /// Names every file by its location from the working directory instead of its path in the
    /// estate: called once generated files (whose headers name the estate's paths) are made, before
    /// diagnostics are printed.
    pub fn show_locations(&mut self) {
        show_locations(&mut self.sources, &self.locations);
    }
}

/// Renames each of `locations`' files in `sources` to its location.
pub fn show_locations(sources: &mut SourceMap, locations: &[PathBuf]) {
    for (index, location) in locations.iter().enumerate() {
        sources.set_path(FileId(index as u32), display(location));
    }
}

/// Reads `paths` and compiles them with the overlay `env`.
pub fn compile(paths: &[PathBuf], env: Option<&str>) -> Compiled {
    let mut loaded = load(paths);
    let compilation = driver::compile(&mut loaded.sources, &loaded.files, env);
    gather(loaded, compilation)
}

/// A step of [`compile_beside`], reported as it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Every file read.
    Read,
    /// A stage of the compiler done.
    Compiled(driver::Stage),
}

impl Step {
    /// What runs after this step, in words, for progress lines.
    pub fn next(self) -> &'static str {
        match self {
            Step::Read => "parsing",
            Step::Compiled(driver::Stage::Parse) => "evaluating",
            Step::Compiled(driver::Stage::Evaluate) => "checking every resource",
            Step::Compiled(driver::Stage::Model) => "checking the graph and running the back ends",
            Step::Compiled(driver::Stage::Graph) => "finishing",
        }
    }
}

/// [`compile`], running `beside` (the back ends) over the checked model while the graph rules
/// run, and telling `observe` as each stage ends (reading the files first). Its result comes back only when nothing, reading included, reported an error: the back
/// ends see only estates that check.
pub fn compile_beside<R: Send>(
    paths: &[PathBuf],
    env: Option<&str>,
    observe: &mut dyn FnMut(Step),
    beside: impl FnOnce(&Model, &SourceMap) -> R + Send,
) -> (Compiled, Option<R>) {
    let mut loaded = load(paths);
    observe(Step::Read);
    let stage = &mut |stage| observe(Step::Compiled(stage));
    let (compilation, result) = if loaded.diagnostics.iter().any(|d| d.severity() == Severity::Error) {
        (driver::compile_observed(&mut loaded.sources, &loaded.files, env, stage), None)
    } else {
        driver::compile_beside(&mut loaded.sources, &loaded.files, env, stage, beside)
    };
    let compiled = gather(loaded, compilation);
    let result = result.filter(|_| !compiled.diagnostics.iter().any(|d| d.severity() == Severity::Error));
    (compiled, result)
}

fn gather(loaded: Loaded, mut compilation: driver::Compilation) -> Compiled {
    let mut diagnostics = loaded.diagnostics;
    diagnostics.append(&mut compilation.diagnostics);
    driver::sort_and_dedup(&mut diagnostics);
    Compiled {
        sources: loaded.sources,
        compilation,
        diagnostics,
        files: loaded.files.len(),
        locations: loaded.locations,
    }
}

/// What `--env` asks for: one environment, or `all` of them (the base estate and each `env`).
pub const EVERY_ENV: &str = "all";

/// One run of `--env all`: the base estate or one environment, compiled on its own.
pub struct EnvRun<R> {
    /// The environment (`None`: the base estate).
    pub env: Option<String>,
    /// Its model (complete when it checks).
    pub compilation: driver::Compilation,
    /// Reading and compiling diagnostics of this run, sorted; the caller adds the back ends'.
    pub diagnostics: Vec<Diagnostic>,
    /// What `beside` made, when the run checks without errors.
    pub result: Option<R>,
}

impl<R> EnvRun<R> {
    /// The run's name: its folder under `spec build --env all` and its name in notes.
    pub fn name(&self) -> &str {
        self.env.as_deref().unwrap_or(spec_compiler::environments::BASE)
    }
}

/// The base estate and every environment, each compiled on its own from one reading of the files.
pub struct EveryEnv<R> {
    /// Every file read (user and, once per run, the stdlib).
    pub sources: SourceMap,
    /// The base estate first, then each environment in the order the estate declares them.
    pub runs: Vec<EnvRun<R>>,
    /// How many user files were read.
    pub files: usize,
    /// Where each file was read from (see [`Loaded::locations`]).
    pub locations: Vec<PathBuf>,
}

impl<R> EveryEnv<R> {
    /// Names every file by its location (see [`Compiled::show_locations`]).
    pub fn show_locations(&mut self) {
        show_locations(&mut self.sources, &self.locations);
    }

    /// Every run's diagnostics, each mistake once with the runs it holds in
    /// ([`spec_compiler::environments::merge`]).
    pub fn merged_diagnostics(&mut self) -> Vec<Diagnostic> {
        let runs: Vec<(Option<&str>, Vec<Diagnostic>)> =
            self.runs.iter_mut().map(|run| (run.env.as_deref(), std::mem::take(&mut run.diagnostics))).collect();
        spec_compiler::environments::merge(&self.sources, runs)
    }
}

/// Reads `paths` once and compiles the base estate, then each environment it declares, running
/// `beside` (given the run's environment) over each run's model as [`compile_beside`] does.
pub fn compile_every_env<R: Send>(
    paths: &[PathBuf],
    observe: &mut dyn FnMut(Step),
    beside: impl Fn(&Model, &SourceMap, Option<&str>) -> R + Sync,
) -> EveryEnv<R> {
    let mut loaded = load(paths);
    observe(Step::Read);
    let unreadable = loaded.diagnostics.iter().any(|d| d.severity() == Severity::Error);
    let mut envs: Vec<Option<String>> = vec![None];
    let mut runs = Vec::new();
    let mut next = 0;
    while let Some(env) = envs.get(next).cloned() {
        next += 1;
        let stage = &mut |stage| observe(Step::Compiled(stage));
        let env_name = env.as_deref();
        let beside = &beside;
        let beside =
            (!unreadable).then_some(move |model: &Model, sources: &SourceMap| beside(model, sources, env_name));
        let (mut compilation, result) =
            driver::compile_run(&mut loaded.sources, &loaded.files, env_name, stage, beside);
        if env.is_none() {
            envs.extend(compilation.environments.iter().cloned().map(Some));
        }
        let mut diagnostics = loaded.diagnostics.clone();
        diagnostics.append(&mut compilation.diagnostics);
        driver::sort_and_dedup(&mut diagnostics);
        let result = result.filter(|_| !diagnostics.iter().any(|d| d.severity() == Severity::Error));
        runs.push(EnvRun { env, compilation, diagnostics, result });
    }
    EveryEnv { sources: loaded.sources, runs, files: loaded.files.len(), locations: loaded.locations }
}
