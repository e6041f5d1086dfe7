//! Prints diagnostics in the format asked for, the one place `spec check` and `spec build` share:
//! `human` renders them on stderr, `json` prints one object on stdout (with whatever the command
//! adds, such as `build --check`'s drift), `github` prints one workflow annotation per line on
//! stdout. File names are those of [`crate::load::Compiled::show_locations`]: from the working
//! directory, so a CI job at the repository's root annotates the pull request's own files.

use std::io::{IsTerminal, Write};

use spec_compiler::diagnostics::{Diagnostic, Severity, format, render};
use spec_compiler::source::SourceMap;

use crate::args::{Color, Format};

/// Whether to colour human output.
pub fn colored(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// The number of errors and of warnings.
pub fn tally(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics.iter().filter(|d| d.severity() == Severity::Error).count();
    (errors, diagnostics.len() - errors)
}

/// Prints `diagnostics` in `format`. `extra` holds further keys of the JSON object (ignored by the
/// other formats, whose callers print their own lines).
pub fn print(
    format: Format,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    color: bool,
    extra: serde_json::Map<String, serde_json::Value>,
) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            let mut report = match serde_json::to_value(format::json_report(diagnostics, sources)) {
                Ok(serde_json::Value::Object(report)) => report,
                _ => serde_json::Map::new(),
            };
            report.extend(extra);
            let _ = writeln!(out, "{}", serde_json::Value::Object(report));
        }
        Format::Github => {
            for diagnostic in diagnostics {
                let _ = writeln!(out, "{}", format::github_annotation(diagnostic, sources));
            }
        }
        Format::Human => {
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            for diagnostic in diagnostics {
                let _ = write!(err, "{}", render::render(diagnostic, sources, color, 100));
            }
        }
    }
}
