//! `spec diff OLD NEW`: what changed between two versions of an estate, resource by resource in
//! words, then which generated files change and by how many lines. Both versions must check
//! without errors; nothing is written.

use std::collections::BTreeMap;

use similar::{DiffOp, TextDiff};
use spec_compiler::diagnostics::{Severity, render};
use spec_compiler::model::diff::{Change, changes};
use spec_compiler::target::Context;

use crate::args::{DiffArgs, DiffFormat, TargetName};
use crate::{build, load};

/// How one generated file changes.
enum FileChange {
    /// New, with its line count.
    Added(usize),
    /// No longer generated.
    Removed,
    /// Changed lines.
    Changed(usize),
}

/// The generated files of one version, by path.
fn outputs(compiled: &load::Compiled) -> BTreeMap<String, String> {
    let context =
        Context { model: &compiled.compilation.model, sources: &compiled.sources, root_from_out: "..".into() };
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

/// Runs the comparison and returns the exit code (1 when either version has errors).
pub fn run(args: &DiffArgs) -> i32 {
    let mut versions = Vec::new();
    for path in [&args.old, &args.new] {
        let compiled = load::compile(std::slice::from_ref(path), args.env.as_deref());
        let errors: Vec<_> = compiled.diagnostics.iter().filter(|d| d.severity() == Severity::Error).collect();
        if !errors.is_empty() {
            for diagnostic in &errors {
                eprint!("{}", render::render(diagnostic, &compiled.sources, false, 100));
            }
            eprintln!("`{}` has errors; spec diff compares estates that check", path.display());
            return 1;
        }
        versions.push(compiled);
    }
    let (old, new) = (&versions[0], &versions[1]);
    let resource_changes = changes(&old.compilation.model, &new.compilation.model);
    let (before, after) = (outputs(old), outputs(new));
    // (added, removed, changed lines) per path, in path order.
    let mut file_changes: Vec<(&str, FileChange)> = Vec::new();
    for (path, text) in &after {
        match before.get(path) {
            None => file_changes.push((path, FileChange::Added(text.lines().count()))),
            Some(previous) if previous != text => {
                file_changes.push((path, FileChange::Changed(changed_lines(previous, text))))
            }
            Some(_) => {}
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        file_changes.push((path, FileChange::Removed));
    }
    let markdown = args.format == DiffFormat::Markdown;
    if markdown {
        println!("### spec diff\n");
    }
    if resource_changes.is_empty() && file_changes.is_empty() {
        println!("{}", if markdown { "No change." } else { "no change" });
        return 0;
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
    if markdown && !file_changes.is_empty() {
        println!("{}**Generated files**\n", if resource_changes.is_empty() { "" } else { "\n" });
    }
    for (path, change) in &file_changes {
        let line = match (markdown, change) {
            (false, FileChange::Added(n)) => format!("+ {path} ({})", lines(*n)),
            (false, FileChange::Removed) => format!("- {path}"),
            (false, FileChange::Changed(n)) => format!("{path}: {} changed", lines(*n)),
            (true, FileChange::Added(n)) => format!("- added `{path}` ({})", lines(*n)),
            (true, FileChange::Removed) => format!("- removed `{path}`"),
            (true, FileChange::Changed(n)) => format!("- `{path}`: {} changed", lines(*n)),
        };
        println!("{line}");
    }
    0
}
