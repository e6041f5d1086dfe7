//! `spec build`: compile, run the selected targets, and write their files, or with `--check`
//! compare them with the output folder. Nothing is written unless everything succeeded.
//! Diagnostics and the `--check` report are printed in `--format human|json|github`; the
//! progress and summary lines go to stderr in every format. With `--env all`, the base estate and
//! every environment are built, each into a folder of its own (`OUT/base/`, `OUT/<env>/`), and
//! written in one staged write: nothing at all if any of them fails.

use std::path::{Path, PathBuf};

use clap::ValueEnum as _;
use std::time::Instant;

use spec_compiler::diagnostics::Diagnostic;
use spec_compiler::source::SourceMap;
use spec_compiler::target::{Context, OutputFile, Target};
use spec_compiler::{driver, parallel};

use crate::args::{BuildArgs, Deny, Format, TargetName};
use crate::progress::Progress;
use crate::words::count;
use crate::{check, load, output, report};

/// The back ends selected (`all` selects every one), in `--target all` order.
pub fn targets(selected: &[TargetName]) -> Vec<Box<dyn Target>> {
    let all = selected.contains(&TargetName::All);
    let named = |target: &dyn Target| {
        selected.iter().any(|s| s.to_possible_value().is_some_and(|v| v.get_name() == target.name()))
    };
    spec_cli::backends::all().into_iter().filter(|t| all || named(t.as_ref())).collect()
}

/// The estate's folder: the directory given, or the folder of the first file, or without a path
/// the one `spec.toml` marks ([`load::estate_root`]).
fn estate_dir(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(path) if path.is_dir() => path.clone(),
        Some(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => load::estate_root(),
    }
}

/// The estate's folder as seen from the output folder, relative and `/`-separated.
fn root_from_out(estate: &Path, out: &Path) -> String {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let out = match std::fs::canonicalize(out) {
        Ok(out) => out,
        // The output folder may not exist yet: resolve its parent (`.` for a bare relative name,
        // whose parent is the empty path, which does not canonicalise).
        Err(_) => {
            let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            absolute(parent).join(out.file_name().unwrap_or_default())
        }
    };
    let estate = absolute(estate);
    let common = out.components().zip(estate.components()).take_while(|(a, b)| a == b).count();
    let ups = out.components().count() - common;
    let mut parts: Vec<String> = vec!["..".into(); ups];
    parts.extend(estate.components().skip(common).map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() { ".".into() } else { parts.join("/") }
}

/// Runs the build and returns the exit code.
pub fn run(args: &BuildArgs) -> i32 {
    let started = Instant::now();
    let allow = match check::allowed(&args.allow) {
        Ok(allow) => allow,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let estate = estate_dir(&args.paths);
    let out = args.out.clone().unwrap_or_else(|| estate.join("out"));
    let mut progress = Progress::start(args.progress, "reading files");
    let (sources, mut diagnostics, mut files) = if args.env.as_deref() == Some(load::EVERY_ENV) {
        match every_env(args, &estate, &out, &mut progress) {
            Ok(built) => built,
            Err(message) => {
                progress.finish();
                eprintln!("error: {message}; nothing was written");
                return 1;
            }
        }
    } else {
        let root = root_from_out(&estate, &out);
        // The back ends lower the model beside the graph rules; what they made is kept only when
        // the estate checks.
        let (mut compiled, generated) = load::compile_beside(
            &args.paths,
            args.env.as_deref(),
            &mut |step| progress.stage(step.next()),
            |model, sources| {
                let context = Context { model, sources, root_from_out: root };
                parallel::map_each(&targets(&args.target), |target| target.generate(&context))
            },
        );
        // The files are made: from here on, files are named from the working directory.
        compiled.show_locations();
        let load::Compiled { sources, mut diagnostics, compilation, .. } = compiled;
        // The back ends are done with the model. Freeing a large one takes milliseconds that the
        // process, about to exit, gives back to the system at once anyway.
        std::mem::forget(compilation);
        let mut files: Vec<OutputFile> = Vec::new();
        for mut generated in generated.into_iter().flatten() {
            files.append(&mut generated.files);
            diagnostics.append(&mut generated.diagnostics);
        }
        driver::sort_and_dedup(&mut diagnostics);
        (sources, diagnostics, files)
    };
    diagnostics.retain(|d| !allow.contains(&d.code));
    let (errors, warnings) = report::tally(&diagnostics);
    let color = report::colored(args.color);
    let failed = errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0);
    if failed {
        progress.finish();
    } else {
        progress.stage(if args.check { "comparing with the output folder" } else { "writing files" });
    }
    if failed {
        report::print(args.format, &diagnostics, &sources, color, serde_json::Map::new());
        eprintln!(
            "build failed: {}, {}; nothing was written",
            count(errors, "error", "errors"),
            count(warnings, "warning", "warnings")
        );
        return 1;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let Err(message) = output::validate_paths(&files) {
        report::print(args.format, &diagnostics, &sources, color, serde_json::Map::new());
        eprintln!("error: {message}; nothing was written");
        return 1;
    }
    if args.check {
        let drift = output::compare(&out, &files);
        progress.finish();
        print_drift(args.format, &drift, &out, &diagnostics, &sources, color);
        if drift.is_empty() {
            eprintln!("{} is up to date ({})", out.display(), count(files.len(), "file", "files"));
            return 0;
        }
        eprintln!("{} differs from the spec: run `spec build` and commit the result", out.display());
        return 1;
    }
    let written = output::write(&out, &files);
    progress.finish();
    report::print(args.format, &diagnostics, &sources, color, serde_json::Map::new());
    match written {
        Ok(summary) => {
            eprintln!(
                "wrote {} to {} ({} unchanged, {} removed) in {:.1} ms",
                count(summary.written, "file", "files"),
                out.display(),
                summary.unchanged,
                summary.removed,
                started.elapsed().as_secs_f64() * 1000.0
            );
            0
        }
        Err(message) => {
            eprintln!("error: {message}");
            1
        }
    }
}

/// `spec build --env all`: the base estate and every environment, each generated into a folder of
/// its own under `out` (its files' paths start with the run's name), with every run's diagnostics
/// merged. An environment named like the base estate's folder is refused.
fn every_env(
    args: &BuildArgs,
    estate: &Path,
    out: &Path,
    progress: &mut Progress,
) -> Result<(SourceMap, Vec<Diagnostic>, Vec<OutputFile>), String> {
    let mut every =
        load::compile_every_env(&args.paths, &mut |step| progress.stage(step.next()), |model, sources, env| {
            let name = env.unwrap_or(spec_compiler::environments::BASE);
            let context = Context { model, sources, root_from_out: root_from_out(estate, &out.join(name)) };
            parallel::map_each(&targets(&args.target), |target| target.generate(&context))
        });
    every.show_locations();
    if every.runs.iter().any(|run| run.env.as_deref() == Some(spec_compiler::environments::BASE)) {
        let base = spec_compiler::environments::BASE;
        return Err(format!(
            "`--env all` writes the base estate to `{base}/`, and an environment is named `{base}` too: rename it"
        ));
    }
    let mut files: Vec<OutputFile> = Vec::new();
    for run in &mut every.runs {
        let name = run.name().to_string();
        for mut generated in run.result.take().into_iter().flatten() {
            files.extend(
                generated.files.into_iter().map(|file| OutputFile { path: format!("{name}/{}", file.path), ..file }),
            );
            run.diagnostics.append(&mut generated.diagnostics);
        }
        driver::sort_and_dedup(&mut run.diagnostics);
    }
    let diagnostics = every.merged_diagnostics();
    let sources = std::mem::take(&mut every.sources);
    // The models are done with; freeing them is left to the process's exit.
    std::mem::forget(every);
    Ok((sources, diagnostics, files))
}

/// Prints the warnings and the `--check` report: `missing: PATH` lines on stdout (human), a
/// `"check"` object in the JSON, or one error annotation per file for GitHub. Paths are inside the
/// output folder, which the annotations name from the working directory.
fn print_drift(
    format: Format,
    drift: &output::Drift,
    out: &Path,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    color: bool,
) {
    let kinds = [("missing", &drift.missing), ("changed", &drift.changed), ("stale", &drift.stale)];
    let mut extra = serde_json::Map::new();
    if format == Format::Json {
        let check: serde_json::Map<String, serde_json::Value> =
            kinds.iter().map(|(what, paths)| (what.to_string(), serde_json::json!(paths))).collect();
        extra.insert("out".into(), serde_json::json!(display(out)));
        extra.insert("check".into(), serde_json::Value::Object(check));
    }
    report::print(format, diagnostics, sources, color, extra);
    for (what, paths) in kinds {
        for path in paths {
            match format {
                Format::Human => println!("{what}: {path}"),
                Format::Json => {}
                Format::Github => println!(
                    "::error file={},title=spec build --check::{}",
                    github_property(&display(&out.join(path))),
                    match what {
                        "missing" => "spec generates this file, but it is not committed: run `spec build`",
                        "changed" => "this file differs from what the spec generates: run `spec build`",
                        _ => "the spec no longer generates this file: run `spec build` to remove it",
                    }
                ),
            }
        }
    }
}

/// A path shown `/`-separated, without `./` in front.
fn display(path: &Path) -> String {
    let shown: PathBuf = path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect();
    shown.to_string_lossy().replace('\\', "/")
}

/// Escapes a workflow command's property value (`%`, CR, LF, `:` and `,`).
fn github_property(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A").replace(':', "%3A").replace(',', "%2C")
}
