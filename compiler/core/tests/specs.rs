//! The conformance corpus runner: one named trial per `specs/**/*.spec` file.
//!
//! A case annotates the diagnostics it expects on comment lines starting with `#~`:
//! `#~   ^^^^ E0301 optional message substring` marks columns of the nearest preceding line that is
//! not an annotation; `#~ @3:1-3:9 E0301` gives an explicit 1-based range (end exclusive) for spans
//! in the first columns, across lines or empty; `#~ @cli E0005` expects a diagnostic on the
//! command line (`--env NAME`) rather than in the file. A header `#! targets = nixos` also runs
//! that back end when the estate checks without errors. Matching is two-sided: every emitted diagnostic
//! must be annotated and every annotation emitted. A header line `#! env = NAME` applies an
//! overlay; `#! env = all` checks the base estate and every environment, as `spec check --env all`
//! does (each diagnostic once, with a note naming the environments it holds in). Each case's rendered diagnostics are snapshotted to `snapshots/specs/<path>.snap`.

// Tests read the corpus from disk; the no-IO rule is for the core library itself.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use spec_compiler::diagnostics::{Diagnostic, render};
use spec_compiler::source::{FileId, Origin, SourceFile, SourceMap};
use spec_compiler::target::{Context, Target};
use spec_compiler::{driver, environments};

#[derive(Debug, PartialEq, Eq, Clone)]
struct Expected {
    code: String,
    start: (usize, usize),
    end: (usize, usize),
    message: Option<String>,
    line_of_annotation: usize,
    /// Whether the diagnostic is expected on the command line rather than in the file.
    on_command_line: bool,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What a case's `#!` header asks for.
#[derive(Default)]
struct Header {
    env: Option<String>,
    targets: Vec<String>,
}

fn parse_annotations(text: &str) -> Result<(Vec<Expected>, Header), String> {
    let mut expected = Vec::new();
    let mut header = Header::default();
    let mut target_line = 0usize;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        if let Some(header_line) = trimmed.strip_prefix("#!") {
            if let Some((key, value)) = header_line.split_once('=') {
                let value = value.trim().trim_matches('"');
                match key.trim() {
                    "env" => header.env = Some(value.to_string()),
                    "targets" => header.targets = value.split(',').map(|t| t.trim().to_string()).collect(),
                    other => return Err(format!("line {number}: unknown header `{other}`")),
                }
            }
            target_line = number;
            continue;
        }
        let Some(annotation) = trimmed.strip_prefix("#~") else {
            target_line = number;
            continue;
        };
        let indent = line.len() - trimmed.len();
        let rest = annotation.trim_start();
        let on_command_line = rest.starts_with("@cli ");
        let (start, end, after) = if let Some(after) = rest.strip_prefix("@cli ") {
            ((0, 0), (0, 0), after)
        } else if let Some(explicit) = rest.strip_prefix('@') {
            let (range, after) = explicit.split_once(' ').ok_or(format!("line {number}: `@L:C-L:C CODE` expected"))?;
            let (from, to) = range.split_once('-').ok_or(format!("line {number}: range needs `-`"))?;
            let position = |p: &str| -> Result<(usize, usize), String> {
                let (l, c) = p.split_once(':').ok_or(format!("line {number}: position is `LINE:COL`"))?;
                Ok((
                    l.parse().map_err(|_| format!("line {number}: bad line"))?,
                    c.parse().map_err(|_| format!("line {number}: bad column"))?,
                ))
            };
            (position(from)?, position(to)?, after)
        } else {
            let caret_start = line.find('^').ok_or(format!("line {number}: annotation without carets or @range"))?;
            let carets = line[caret_start..].chars().take_while(|&c| c == '^').count();
            let after = &line[caret_start + carets..];
            let _ = indent;
            if target_line == 0 {
                return Err(format!("line {number}: carets with no line above them"));
            }
            // Columns are characters; carets sit under the characters of the line above.
            let start_col = line[..caret_start].chars().count() + 1;
            ((target_line, start_col), (target_line, start_col + carets), after)
        };
        let mut words = after.split_whitespace();
        let code = words.next().ok_or(format!("line {number}: annotation without a code"))?.to_string();
        let message: Vec<&str> = words.collect();
        let message = if message.is_empty() { None } else { Some(message.join(" ")) };
        expected.push(Expected { code, start, end, message, line_of_annotation: number, on_command_line });
    }
    Ok((expected, header))
}

/// The JSON files under the case's folder, as the CLI reads an estate's data files beside a file
/// given alone (named from that folder), so a case can name dashboards.
fn add_data_files(sources: &mut SourceMap, folder: &Path) {
    let mut pending = vec![folder.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("the case's folder is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                found.push(path);
            }
        }
    }
    found.sort();
    for path in found {
        let shown = path.strip_prefix(folder).expect("below the folder").to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(&path).expect("a readable data file");
        sources.add(SourceFile::new(shown, text, Origin::Data));
    }
}

fn run_case(path: &Path, relative: &str) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {relative}: {e}"))?;
    let (expected, header) = parse_annotations(&text)?;
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(relative, text.clone(), Origin::User));
    add_data_files(&mut sources, path.parent().expect("a case is in a folder"));
    let compilation = if header.env.as_deref() == Some("all") {
        every_environment(&mut sources, file, &header.targets)?
    } else {
        let mut compilation = driver::compile(&mut sources, &[file], header.env.as_deref());
        if compilation.errors() == 0 {
            check_targets(&mut compilation, &sources, &header.targets)?;
        }
        compilation
    };

    let mut unmatched: Vec<Expected> = expected.clone();
    let mut not_annotated: Vec<&Diagnostic> = Vec::new();
    for diagnostic in &compilation.diagnostics {
        // A diagnostic inside a data file the case names (a dashboard's JSON) is annotated where
        // its label in the case points: the case file holds no annotation for another file.
        let in_data = sources.get(diagnostic.primary.span.file).origin == Origin::Data;
        let span = match diagnostic.secondary.iter().find(|l| l.span.file == file) {
            Some(label) if in_data => label.span,
            _ => diagnostic.primary.span,
        };
        let f = sources.get(span.file);
        let start = f.line_col(span.start);
        let end = f.line_col(span.end);
        let on_command_line = f.path == "<command line>";
        let found = unmatched.iter().position(|e| {
            let place = if e.on_command_line {
                on_command_line
            } else {
                span.file == file && e.start == (start.line, start.column) && e.end == (end.line, end.column)
            };
            place
                && e.code == diagnostic.code.as_str()
                && e.message.as_ref().is_none_or(|m| diagnostic.message.contains(m.as_str()))
        });
        match found {
            Some(index) => {
                unmatched.remove(index);
            }
            None => not_annotated.push(diagnostic),
        }
    }
    let mut problems = String::new();
    for diagnostic in &not_annotated {
        let f = sources.get(diagnostic.primary.span.file);
        let start = f.line_col(diagnostic.primary.span.start);
        let end = f.line_col(diagnostic.primary.span.end);
        problems.push_str(&format!(
            "not annotated: {} @{}:{}-{}:{} in {} `{}`\n",
            diagnostic.code.as_str(),
            start.line,
            start.column,
            end.line,
            end.column,
            f.path,
            diagnostic.message
        ));
    }
    for e in &unmatched {
        problems.push_str(&format!(
            "not emitted: {} @{}:{}-{}:{}{} (annotation on line {})\n",
            e.code,
            e.start.0,
            e.start.1,
            e.end.0,
            e.end.1,
            e.message.as_ref().map(|m| format!(" containing `{m}`")).unwrap_or_default(),
            e.line_of_annotation
        ));
    }

    let mut rendered = format!("----- SOURCE\n{text}----- DIAGNOSTICS\n");
    for diagnostic in &compilation.diagnostics {
        rendered.push_str(&render::render_plain(diagnostic, &sources));
        rendered.push('\n');
    }
    let relative_path = Path::new(relative);
    let snapshot_dir = workspace().join("snapshots/specs").join(relative_path.parent().unwrap_or(Path::new("")));
    let name = relative_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(path);
    let snapshot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, rendered))
    }));

    if !problems.is_empty() {
        return Err(problems.into());
    }
    snapshot.map_err(|_| {
        Failed::from("the rendered diagnostics differ from the snapshot (review with `git diff snapshots/`)")
    })
}

/// Runs the back ends `targets` names over a compilation that has no errors, adding what they report.
fn check_targets(compilation: &mut driver::Compilation, sources: &SourceMap, targets: &[String]) -> Result<(), Failed> {
    let context = Context { model: &compilation.model, sources, root_from_out: "..".into() };
    for name in targets {
        let target: Box<dyn Target> = match name.as_str() {
            "nixos" => Box::new(spec_target_nixos::Nixos),
            "systemd" => Box::new(spec_target_systemd::Systemd),
            "kubernetes" => Box::new(spec_target_kubernetes::Kubernetes),
            "prometheus" => Box::new(spec_target_prometheus::Prometheus),
            other => return Err(format!("unknown target `{other}` in the header").into()),
        };
        compilation.diagnostics.append(&mut target.check(&context));
    }
    driver::sort_and_dedup(&mut compilation.diagnostics);
    Ok(())
}

/// `spec check --env all` over one file: the base estate, then each environment, each run checked
/// on its own (with the back ends when it has no error), their diagnostics merged.
fn every_environment(sources: &mut SourceMap, file: FileId, targets: &[String]) -> Result<driver::Compilation, Failed> {
    let mut runs: Vec<(Option<String>, Vec<Diagnostic>)> = Vec::new();
    let mut envs: Vec<Option<String>> = vec![None];
    let mut next = 0;
    while let Some(env) = envs.get(next).cloned() {
        next += 1;
        let no_beside = None::<fn(&spec_compiler::model::Model, &SourceMap)>;
        let (mut compilation, _) = driver::compile_run(sources, &[file], env.as_deref(), &mut |_| {}, no_beside);
        if env.is_none() {
            envs.extend(compilation.environments.iter().cloned().map(Some));
        }
        if compilation.errors() == 0 {
            check_targets(&mut compilation, sources, targets)?;
        }
        runs.push((env, compilation.diagnostics));
    }
    let diagnostics = environments::merge(sources, runs.iter().map(|(env, found)| (env.as_deref(), found.clone())));
    Ok(driver::Compilation { diagnostics, ..Default::default() })
}

fn main() {
    let args = Arguments::from_args();
    let root = workspace().join("specs");
    let mut trials = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        let path = entry.path().to_path_buf();
        if path.extension().is_none_or(|e| e != "spec") {
            continue;
        }
        let relative = path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        let name = relative.trim_end_matches(".spec").to_string();
        trials.push(Trial::test(name, move || run_case(&path, &relative)));
    }
    libtest_mimic::run(&args, trials).exit();
}
