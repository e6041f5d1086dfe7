//! `spec check`: compile an estate and print its diagnostics in the requested format. With
//! `--env all`, the base estate and every environment are checked, each mistake reported once with
//! the environments it holds in.

use std::time::Instant;

use spec_compiler::diagnostics::{Code, Severity};
use spec_compiler::parallel;
use spec_compiler::target::Context;

use crate::args::{CheckArgs, Deny, Format, TargetName};
use crate::progress::Progress;
use crate::words::count;
use crate::{build, load, report};

/// Resolves `--allow` values to warning codes; an unknown code or an error code is a usage error.
pub fn allowed(values: &[String]) -> Result<Vec<Code>, String> {
    values
        .iter()
        .map(|value| {
            let code = Code::ALL.iter().find(|c| c.as_str().eq_ignore_ascii_case(value) || c.slug() == value);
            match code {
                Some(code) if code.severity() == Severity::Warning => Ok(*code),
                Some(code) => {
                    Err(format!("`--allow {value}`: {} is an error, and errors cannot be silenced", code.as_str()))
                }
                None => Err(format!("`--allow {value}`: no such diagnostic code or slug; `spec explain` lists them")),
            }
        })
        .collect()
}

/// Runs the check and returns the exit code: 0 clean, 1 errors (or warnings under `--deny`), 2
/// usage.
pub fn run(args: &CheckArgs) -> i32 {
    let started = Instant::now();
    let allow = match allowed(&args.allow) {
        Ok(allow) => allow,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    if args.env.as_deref() == Some(load::EVERY_ENV) {
        return every_env(args, &allow, started);
    }
    // The back ends run in memory, beside the graph rules, so whatever `spec build` would report
    // shows here too.
    let mut progress = Progress::start(args.progress, "reading files");
    let (mut compiled, found) = load::compile_beside(
        &args.paths,
        args.env.as_deref(),
        &mut |step| progress.stage(step.next()),
        |model, sources| {
            let context = Context { model, sources, root_from_out: "..".into() };
            parallel::map_each(&build::targets(&[TargetName::All]), |target| target.check(&context))
        },
    );
    progress.finish();
    compiled.show_locations();
    let load::Compiled { sources, compilation, mut diagnostics, files, .. } = compiled;
    if let Some(found) = found {
        diagnostics.extend(found.into_iter().flatten());
        spec_compiler::driver::sort_and_dedup(&mut diagnostics);
    }
    diagnostics.retain(|d| !allow.contains(&d.code));
    let (errors, warnings) = report::tally(&diagnostics);
    report::print(args.format, &diagnostics, &sources, report::colored(args.color), serde_json::Map::new());
    if args.format == Format::Human {
        eprintln!(
            "checked {} ({}) in {:.1} ms: {}, {}",
            count(files, "file", "files"),
            count(resources(&compilation.model), "resource", "resources"),
            started.elapsed().as_secs_f64() * 1000.0,
            count(errors, "error", "errors"),
            count(warnings, "warning", "warnings"),
        );
    }
    let denied = args.deny == Some(Deny::Warnings) && warnings > 0;
    // Freeing a large model takes milliseconds that the process, about to exit, gives back to the
    // system at once anyway.
    std::mem::forget(compilation);
    if errors > 0 || denied { 1 } else { 0 }
}

/// How many resources a model holds (the facets of secrets' keys are no resources of their own).
fn resources(model: &spec_compiler::model::Model) -> usize {
    model.nodes.len()
        + model.networks.len()
        + model.clusters.len()
        + model.storage.len()
        + model.services.len()
        + model.alerts.len()
        + model.backups.len()
        + model.workflows.len()
        + model.secrets.iter().filter(|s| s.spec.facet.is_none()).count()
        + model.receivers.len()
        + model.routes.len()
        + model.buckets.len()
        + model.endpoints.len()
        + model.slos.len()
        + model.jobs.len()
}

/// `spec check --env all`: the base estate and every environment, each with the back ends beside
/// the graph rules; each mistake once, noting the environments it holds in.
fn every_env(args: &CheckArgs, allow: &[Code], started: Instant) -> i32 {
    let mut progress = Progress::start(args.progress, "reading files");
    let mut every =
        load::compile_every_env(&args.paths, &mut |step| progress.stage(step.next()), |model, sources, _env| {
            let context = Context { model, sources, root_from_out: "..".into() };
            parallel::map_each(&build::targets(&[TargetName::All]), |target| target.check(&context))
        });
    progress.finish();
    every.show_locations();
    for run in &mut every.runs {
        if let Some(found) = run.result.take() {
            run.diagnostics.extend(found.into_iter().flatten());
            spec_compiler::driver::sort_and_dedup(&mut run.diagnostics);
        }
    }
    let mut diagnostics = every.merged_diagnostics();
    diagnostics.retain(|d| !allow.contains(&d.code));
    let (errors, warnings) = report::tally(&diagnostics);
    // The runs, for machine readers: the notes name them in words.
    let mut extra = serde_json::Map::new();
    let runs: Vec<&str> = every.runs.iter().map(|run| run.name()).collect();
    extra.insert("environments".into(), serde_json::json!(runs));
    report::print(args.format, &diagnostics, &every.sources, report::colored(args.color), extra);
    if args.format == Format::Human {
        let names: Vec<String> =
            every.runs.iter().filter_map(|run| run.env.as_ref()).map(|n| format!("`{n}`")).collect();
        let listed = if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) };
        eprintln!(
            "checked {} in the base estate and {}{listed} in {:.1} ms: {}, {}",
            count(every.files, "file", "files"),
            count(names.len(), "environment", "environments"),
            started.elapsed().as_secs_f64() * 1000.0,
            count(errors, "error", "errors"),
            count(warnings, "warning", "warnings"),
        );
    }
    let denied = args.deny == Some(Deny::Warnings) && warnings > 0;
    std::mem::forget(every);
    if errors > 0 || denied { 1 } else { 0 }
}
