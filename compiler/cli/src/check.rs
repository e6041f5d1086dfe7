//! `spec check`: compile an estate and print its diagnostics in the requested format.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use spec_compiler::diagnostics::{Code, Severity, format, render};
use spec_compiler::parallel;
use spec_compiler::target::Context;

use crate::args::{CheckArgs, Color, Deny, Format, TargetName};
use crate::{build, load};

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
    // The back ends run in memory, beside the graph rules, so whatever `spec build` would report
    // shows here too.
    let (load::Compiled { sources, compilation, mut diagnostics, files }, found) =
        load::compile_beside(&args.paths, args.env.as_deref(), |model, sources| {
            let context = Context { model, sources, root_from_out: "..".into() };
            parallel::map_each(&build::targets(&[TargetName::All]), |target| target.check(&context))
        });
    if let Some(found) = found {
        diagnostics.extend(found.into_iter().flatten());
        spec_compiler::driver::sort_and_dedup(&mut diagnostics);
    }
    diagnostics.retain(|d| !allow.contains(&d.code));
    let errors = diagnostics.iter().filter(|d| d.severity() == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let sources = &sources;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => {
            let report = format::json_report(&diagnostics, sources);
            let text = serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
            let _ = writeln!(out, "{text}");
        }
        Format::Github => {
            for diagnostic in &diagnostics {
                let _ = writeln!(out, "{}", format::github_annotation(diagnostic, sources));
            }
        }
        Format::Human => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            for diagnostic in &diagnostics {
                let _ = write!(err, "{}", render::render(diagnostic, sources, color, 100));
            }
            let resources = compilation.model.nodes.len()
                + compilation.model.networks.len()
                + compilation.model.clusters.len()
                + compilation.model.storage.len()
                + compilation.model.services.len()
                + compilation.model.alerts.len()
                + compilation.model.backups.len()
                + compilation.model.workflows.len()
                + compilation.model.secrets.len();
            let elapsed = started.elapsed();
            let _ = writeln!(
                err,
                "checked {} file{} ({} resources) in {:.1} ms: {} error{}, {} warning{}",
                files,
                plural(files),
                resources,
                elapsed.as_secs_f64() * 1000.0,
                errors,
                plural(errors),
                warnings,
                plural(warnings)
            );
        }
    }
    let denied = args.deny == Some(Deny::Warnings) && warnings > 0;
    // Freeing a large model takes milliseconds that the process, about to exit, gives back to the
    // system at once anyway.
    std::mem::forget(compilation);
    if errors > 0 || denied { 1 } else { 0 }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
