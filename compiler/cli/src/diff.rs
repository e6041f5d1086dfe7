//! `spec diff REV [PATH]` and `spec diff OLD NEW`: what changes between two versions of an estate
//! (the estate at a git revision and in the working tree, or two folders), resource by resource in
//! words, then the changed lines of each generated file (`--stat`: only how many). Both versions
//! must check without errors; nothing is written. The exit code says whether anything changed, as
//! `diff` and `git diff --exit-code` do: 0 nothing, 1 something, 2 the versions could not be
//! compared (errors in either, an unknown revision). With `--env all`, the base estate and every
//! environment either version declares are compared one by one, each under a heading (an
//! environment only one version declares is compared with an empty estate).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use similar::{DiffOp, TextDiff};
use spec_compiler::diagnostics::{Severity, render};
use spec_compiler::model::Model;
use spec_compiler::model::diff::{Change, changes};
use spec_compiler::source::SourceMap;
use spec_compiler::target::Context;

use crate::args::{DiffArgs, DiffFormat, TargetName};
use crate::{build, git, load};

/// Lines of context around each change, as `git diff` shows.
const CONTEXT_LINES: usize = 3;

/// The exit code when the versions could not be compared.
const CANNOT_COMPARE: i32 = 2;

/// How one generated file changes.
enum FileChange<'a> {
    /// New.
    Added(&'a str),
    /// No longer generated.
    Removed(&'a str),
    /// Changed, from one text to the other.
    Changed(&'a str, &'a str),
}

/// One version of an estate in one environment: its model and the sources it was read from.
#[derive(Clone, Copy)]
struct Version<'a> {
    model: &'a Model,
    sources: &'a SourceMap,
}

/// The generated files of one version, by path.
fn outputs(version: Version<'_>) -> BTreeMap<String, String> {
    let context = Context { model: version.model, sources: version.sources, root_from_out: "..".into() };
    let mut files = BTreeMap::new();
    for target in build::targets(&[TargetName::All]) {
        for file in target.generate(&context).files {
            files.insert(file.path, file.contents);
        }
    }
    files
}

/// How many lines change between two texts (a replaced line counts once).
fn changed_lines(old: &str, new: &str) -> usize {
    TextDiff::from_lines(old, new)
        .ops()
        .iter()
        .map(|op| match *op {
            DiffOp::Equal { .. } => 0,
            DiffOp::Delete { old_len, .. } => old_len,
            DiffOp::Insert { new_len, .. } => new_len,
            DiffOp::Replace { old_len, new_len, .. } => old_len.max(new_len),
        })
        .sum()
}

fn lines(n: usize) -> String {
    if n == 1 { "1 line".into() } else { format!("{n} lines") }
}

/// The changed lines of one file as a unified diff (`--- a/PATH`, `+++ b/PATH`, hunks).
fn unified(path: &str, change: &FileChange<'_>) -> String {
    let (old, new) = match *change {
        FileChange::Added(text) => ("", text),
        FileChange::Removed(text) => (text, ""),
        FileChange::Changed(old, new) => (old, new),
    };
    let (from, to) = match change {
        FileChange::Added(_) => ("/dev/null".to_string(), format!("b/{path}")),
        FileChange::Removed(_) => (format!("a/{path}"), "/dev/null".to_string()),
        FileChange::Changed(..) => (format!("a/{path}"), format!("b/{path}")),
    };
    let diff = TextDiff::from_lines(old, new);
    let mut text =
        diff.unified_diff().context_radius(CONTEXT_LINES).header(&from, &to).missing_newline_hint(true).to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Reads and compiles one version; prints its errors and returns `None` when it has any. A
/// version read from a revision's temporary folder (`snapshot`) names its files by their path in
/// the working tree.
fn compile(path: &Path, shown: &str, env: Option<&str>, snapshot: Option<&Path>) -> Option<load::Compiled> {
    let mut compiled = load::compile(&[path.to_path_buf()], env);
    if !compiled.diagnostics.iter().any(|d| d.severity() == Severity::Error) {
        return Some(compiled);
    }
    if let Some(worktree) = snapshot {
        for location in &mut compiled.locations {
            if let Ok(inside) = location.strip_prefix(path) {
                *location = worktree.join(inside).components().collect();
            }
        }
    }
    compiled.show_locations();
    for diagnostic in compiled.diagnostics.iter().filter(|d| d.severity() == Severity::Error) {
        eprint!("{}", render::render(diagnostic, &compiled.sources, false, 100));
    }
    eprintln!("{shown} has errors; spec diff compares estates that check");
    None
}

/// Reads and compiles one version in the base estate and every environment; prints its errors and
/// returns `None` when any has one (see [`compile`]).
fn compile_every(path: &Path, shown: &str, snapshot: Option<&Path>) -> Option<load::EveryEnv<()>> {
    let mut every = load::compile_every_env(&[path.to_path_buf()], &mut |_| {}, |_: &Model, _: &SourceMap, _| ());
    let diagnostics = every.merged_diagnostics();
    if !diagnostics.iter().any(|d| d.severity() == Severity::Error) {
        return Some(every);
    }
    if let Some(worktree) = snapshot {
        for location in &mut every.locations {
            if let Ok(inside) = location.strip_prefix(path) {
                *location = worktree.join(inside).components().collect();
            }
        }
    }
    every.show_locations();
    for diagnostic in diagnostics.iter().filter(|d| d.severity() == Severity::Error) {
        eprint!("{}", render::render(diagnostic, &every.sources, false, 100));
    }
    eprintln!("{shown} has errors; spec diff compares estates that check");
    None
}

/// The two versions to compare: their paths as shown, where each is read from, and the revision's
/// temporary folder (kept alive while it is read).
struct Sides {
    old: (PathBuf, String, Option<PathBuf>),
    new: (PathBuf, String),
    _snapshot: Option<git::Snapshot>,
}

/// Works out what `spec diff` compares, or the exit code when it cannot.
fn sides(args: &DiffArgs) -> Result<Sides, i32> {
    match &args.new {
        Some(new) if Path::new(&args.old).exists() => {
            let old = PathBuf::from(&args.old);
            let shown = format!("`{}`", old.display());
            Ok(Sides { old: (old, shown, None), new: (new.clone(), format!("`{}`", new.display())), _snapshot: None })
        }
        new => {
            let path = new.clone().unwrap_or_else(load::estate_root);
            if Path::new(&args.old).exists() && new.is_none() {
                eprintln!(
                    "error: `{}` is a path: give the estate after it too (`spec diff OLD NEW`), or a git revision",
                    args.old
                );
                return Err(CANNOT_COMPARE);
            }
            let snapshot = git::snapshot(&args.old, &path).map_err(|message| {
                eprintln!("error: {message}");
                CANNOT_COMPARE
            })?;
            let shown = format!("`{}` at `{}`", path.display(), args.old);
            Ok(Sides {
                old: (snapshot.estate.clone(), shown, Some(path.clone())),
                new: (path.clone(), format!("`{}`", path.display())),
                _snapshot: Some(snapshot),
            })
        }
    }
}

/// One version in the run named `name`, or an empty estate when it declares no such environment.
fn in_env<'a>(every: &'a load::EveryEnv<()>, name: &str, empty: &'a Model) -> Version<'a> {
    let run = every.runs.iter().find(|run| run.name() == name);
    Version { model: run.map_or(empty, |run| &run.compilation.model), sources: &every.sources }
}

/// `spec diff --env all`: each environment of either version, the base estate first.
fn every_env(args: &DiffArgs) -> i32 {
    let sides = match sides(args) {
        Ok(sides) => sides,
        Err(code) => return code,
    };
    let (old_path, old_shown, worktree) = &sides.old;
    let Some(old) = compile_every(old_path, old_shown, worktree.as_deref()) else { return CANNOT_COMPARE };
    let Some(new) = compile_every(&sides.new.0, &sides.new.1, None) else { return CANNOT_COMPARE };
    let mut names: Vec<&str> = new.runs.iter().map(|run| run.name()).collect();
    names.extend(old.runs.iter().map(|run| run.name()).filter(|name| !new.runs.iter().any(|r| r.name() == *name)));
    let empty = Model::default();
    let mut changed = false;
    for name in names {
        changed |= print_changes(args, in_env(&old, name, &empty), in_env(&new, name, &empty), Some(name));
    }
    i32::from(changed)
}

/// Runs the comparison and returns the exit code: 0 no change, 1 changes, 2 not comparable.
pub fn run(args: &DiffArgs) -> i32 {
    if args.env.as_deref() == Some(load::EVERY_ENV) {
        return every_env(args);
    }
    let env = args.env.as_deref();
    let sides = match sides(args) {
        Ok(sides) => sides,
        Err(code) => return code,
    };
    let (old_path, old_shown, worktree) = &sides.old;
    let Some(old) = compile(old_path, old_shown, env, worktree.as_deref()) else { return CANNOT_COMPARE };
    let Some(new) = compile(&sides.new.0, &sides.new.1, env, None) else { return CANNOT_COMPARE };
    // The revision's temporary folder is read: remove it now.
    drop(sides);
    let (old, new) = (
        Version { model: &old.compilation.model, sources: &old.sources },
        Version { model: &new.compilation.model, sources: &new.sources },
    );
    i32::from(print_changes(args, old, new, None))
}

/// Prints what changes between two versions (under a heading naming `env`, for `--env all`) and
/// returns whether anything does.
fn print_changes(args: &DiffArgs, old: Version<'_>, new: Version<'_>, env: Option<&str>) -> bool {
    let resource_changes = changes(old.model, new.model);
    let (before, after) = (outputs(old), outputs(new));
    let mut file_changes: Vec<(&str, FileChange<'_>)> = Vec::new();
    for (path, text) in &after {
        match before.get(path) {
            None => file_changes.push((path, FileChange::Added(text))),
            Some(previous) if previous != text => file_changes.push((path, FileChange::Changed(previous, text))),
            Some(_) => {}
        }
    }
    for (path, text) in before.iter().filter(|(p, _)| !after.contains_key(*p)) {
        file_changes.push((path, FileChange::Removed(text)));
    }
    file_changes.sort_by(|a, b| a.0.cmp(b.0));
    let markdown = args.format == DiffFormat::Markdown;
    match (markdown, env) {
        (true, None) => println!("### spec diff\n"),
        (true, Some(env)) => println!("### spec diff: {}\n", heading(env)),
        (false, Some(env)) => println!("== {} ==", heading(env)),
        (false, None) => {}
    }
    if resource_changes.is_empty() && file_changes.is_empty() {
        println!("{}", if markdown { "No change." } else { "no change" });
        return false;
    }
    if markdown && !resource_changes.is_empty() {
        println!("**Resources**\n");
    }
    for change in &resource_changes {
        match (markdown, change) {
            (false, change) => println!("{change}"),
            (true, Change::Added(what)) => println!("- added {what}"),
            (true, Change::Removed(what)) => println!("- removed {what}"),
            (true, Change::Changed(what, fields)) => println!("- {what}: {}", fields.join(", ")),
        }
    }
    // A blank line before the files, except between the one-line forms of `--stat` in text.
    if !file_changes.is_empty() && !resource_changes.is_empty() && (markdown || !args.stat) {
        println!();
    }
    if markdown && !file_changes.is_empty() {
        println!("**Generated files**\n");
    }
    for (path, change) in &file_changes {
        if args.stat {
            println!("{}", stat_line(markdown, path, change));
        } else if markdown {
            // Folded, so a pull request comment stays short: the summary is the `--stat` line.
            let summary = stat_line(true, path, change);
            let summary = summary.trim_start_matches("- ").replace('`', "");
            println!("<details><summary>{summary}</summary>\n\n```diff\n{}```\n\n</details>\n", unified(path, change));
        } else {
            print!("{}", unified(path, change));
        }
    }
    true
}

/// How `--env all` names a run in headings.
fn heading(env: &str) -> String {
    if env == spec_compiler::environments::BASE { "the base estate".into() } else { format!("environment `{env}`") }
}

/// One file's line of `--stat`.
fn stat_line(markdown: bool, path: &str, change: &FileChange<'_>) -> String {
    match (markdown, change) {
        (false, FileChange::Added(text)) => format!("+ {path} ({})", lines(text.lines().count())),
        (false, FileChange::Removed(_)) => format!("- {path}"),
        (false, FileChange::Changed(old, new)) => format!("{path}: {} changed", lines(changed_lines(old, new))),
        (true, FileChange::Added(text)) => format!("- added `{path}` ({})", lines(text.lines().count())),
        (true, FileChange::Removed(_)) => format!("- removed `{path}`"),
        (true, FileChange::Changed(old, new)) => format!("- `{path}`: {} changed", lines(changed_lines(old, new))),
    }
}
