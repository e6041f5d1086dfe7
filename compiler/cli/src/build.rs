//! `spec build`: compile, run the selected targets, and write their files, or with `--check`
//! compare them with the output folder. Nothing is written unless everything succeeded.

use std::path::{Path, PathBuf};

use clap::ValueEnum as _;
use std::time::Instant;

use spec_compiler::diagnostics::{Diagnostic, Severity, render};
use spec_compiler::target::{Context, OutputFile, Target};
use spec_compiler::{driver, parallel};

use crate::args::{BuildArgs, Deny, TargetName};
use crate::{check, load, output};

/// The back ends selected (`all` selects every one), in `--target all` order.
pub fn targets(selected: &[TargetName]) -> Vec<Box<dyn Target>> {
    let all = selected.contains(&TargetName::All);
    let named = |target: &dyn Target| {
        selected.iter().any(|s| s.to_possible_value().is_some_and(|v| v.get_name() == target.name()))
    };
    spec_cli::backends::all().into_iter().filter(|t| all || named(t.as_ref())).collect()
}

/// The estate's folder: the directory given, or the folder of the first file.
fn estate_dir(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(path) if path.is_dir() => path.clone(),
        Some(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => PathBuf::from("."),
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

fn print(diagnostics: &[Diagnostic], sources: &spec_compiler::source::SourceMap) {
    for diagnostic in diagnostics {
        eprint!("{}", render::render(diagnostic, sources, false, 100));
    }
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
    let root = root_from_out(&estate, &out);
    // The back ends lower the model beside the graph rules; what they made is kept only when the
    // estate checks.
    let (load::Compiled { sources, mut diagnostics, compilation, .. }, generated) =
        load::compile_beside(&args.paths, args.env.as_deref(), |model, sources| {
            let context = Context { model, sources, root_from_out: root };
            parallel::map_each(&targets(&args.target), |target| target.generate(&context))
        });
    // The back ends are done with the model. Freeing a large one takes milliseconds that the
    // process, about to exit, gives back to the system at once anyway.
    std::mem::forget(compilation);
    let mut files: Vec<OutputFile> = Vec::new();
    for mut generated in generated.into_iter().flatten() {
        files.append(&mut generated.files);
        diagnostics.append(&mut generated.diagnostics);
    }
    driver::sort_and_dedup(&mut diagnostics);
    diagnostics.retain(|d| !allow.contains(&d.code));
    print(&diagnostics, &sources);
    let errors = diagnostics.iter().filter(|d| d.severity() == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    if errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0) {
        eprintln!("build failed: {errors} errors, {warnings} warnings; nothing was written");
        return 1;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let Err(message) = output::validate_paths(&files) {
        eprintln!("error: {message}; nothing was written");
        return 1;
    }
    if args.check {
        let drift = output::compare(&out, &files);
        if drift.is_empty() {
            eprintln!("{} is up to date ({} files)", out.display(), files.len());
            return 0;
        }
        for (what, paths) in [("missing", &drift.missing), ("changed", &drift.changed), ("stale", &drift.stale)] {
            for path in paths {
                println!("{what}: {path}");
            }
        }
        eprintln!("{} differs from the spec: run `spec build` and commit the result", out.display());
        return 1;
    }
    match output::write(&out, &files) {
        Ok(summary) => {
            eprintln!(
                "wrote {} files to {} ({} unchanged, {} removed) in {:.1} ms",
                summary.written,
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
