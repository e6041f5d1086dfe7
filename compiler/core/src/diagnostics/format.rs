//! Machine-readable forms of diagnostics: the JSON object of `--format json` and the workflow
//! annotations of `--format github`.
//!
//! Lines and columns are 1-based; columns count characters. The end position is exclusive (the
//! column just past the last character), as editors expect.
//!
//! A diagnostic the compiler is sure how to fix carries its [`Suggestion`] (`null` otherwise), so
//! CI bots and editors other than the language server's clients can apply it: the text holding
//! what is replaced, the word as written, the replacement, the exact `edit` range (found as the
//! editor's quick fix finds it, `null` when it cannot be applied as a plain replacement) and the
//! top-level declaration to add.

use serde::Serialize;

use super::{Diagnostic, Label, Severity, Suggestion};
use crate::source::{SourceMap, Span};

/// A position range in a named file.
#[derive(Serialize)]
struct Place {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn place(span: Span, sources: &SourceMap) -> Place {
    let file = sources.get(span.file);
    let start = file.line_col(span.start);
    let end = file.line_col(span.end);
    Place {
        file: file.path.clone(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

#[derive(Serialize)]
struct JsonLabel {
    #[serde(flatten)]
    place: Place,
    message: Option<String>,
}

#[derive(Serialize)]
struct JsonDiagnostic {
    code: &'static str,
    slug: &'static str,
    severity: &'static str,
    message: String,
    #[serde(flatten)]
    place: Place,
    labels: Vec<JsonLabel>,
    help: Option<String>,
    notes: Vec<String>,
    suggestion: Option<JsonSuggestion>,
}

/// A diagnostic's fix: replace `edit` (the `written` word inside `span`, or all of `span` when
/// `written` is empty) by `replacement`, and add `declaration`, when there is one, as a top-level
/// block (the editor's quick fix puts it after the block holding `span`, unless it is declared).
#[derive(Serialize)]
struct JsonSuggestion {
    span: Place,
    written: String,
    replacement: String,
    edit: Option<Place>,
    declaration: Option<String>,
}

fn json_suggestion(suggestion: &Suggestion, sources: &SourceMap) -> JsonSuggestion {
    let text = &sources.get(suggestion.span.file).text;
    let edit = if suggestion.written.is_empty() {
        let replaced = text.get(suggestion.span.start as usize..suggestion.span.end as usize);
        // An interpolated string is built from several places: replacing it would lose them (the
        // editor offers no fix either).
        replaced.filter(|replaced| !replaced.contains("${")).map(|_| suggestion.span)
    } else {
        crate::ide::fix::find_word(text, suggestion.span, &suggestion.written)
    };
    JsonSuggestion {
        span: place(suggestion.span, sources),
        written: suggestion.written.clone(),
        replacement: suggestion.replacement.clone(),
        edit: edit.map(|edit| place(edit, sources)),
        declaration: suggestion.declaration.clone(),
    }
}

/// The one JSON object `spec check --format json` prints.
#[derive(Serialize)]
pub struct JsonReport {
    diagnostics: Vec<JsonDiagnostic>,
    errors: usize,
    warnings: usize,
}

fn json_label(label: &Label, sources: &SourceMap) -> JsonLabel {
    JsonLabel { place: place(label.span, sources), message: label.message.clone() }
}

/// Builds the JSON report of a run.
pub fn json_report(diagnostics: &[Diagnostic], sources: &SourceMap) -> JsonReport {
    let items = diagnostics
        .iter()
        .map(|d| JsonDiagnostic {
            code: d.code.as_str(),
            slug: d.code.slug(),
            severity: d.severity().as_str(),
            message: d.message.clone(),
            place: place(d.primary.span, sources),
            labels: std::iter::once(&d.primary).chain(&d.secondary).map(|l| json_label(l, sources)).collect(),
            help: d.help.clone(),
            notes: d.notes.clone(),
            suggestion: d.suggestion.as_deref().map(|s| json_suggestion(s, sources)),
        })
        .collect();
    JsonReport {
        diagnostics: items,
        errors: diagnostics.iter().filter(|d| d.severity() == Severity::Error).count(),
        warnings: diagnostics.iter().filter(|d| d.severity() == Severity::Warning).count(),
    }
}

/// Escapes a GitHub workflow command's data (`%`, CR, LF) or property (also `:` and `,`).
fn escape_github(text: &str, property: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// Formats one diagnostic as a GitHub workflow annotation line.
pub fn github_annotation(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let p = place(diagnostic.primary.span, sources);
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        diagnostic.severity().as_str(),
        escape_github(&p.file, true),
        p.line,
        p.column,
        p.end_line,
        p.end_column,
        diagnostic.code.as_str(),
        escape_github(&message, false)
    )
}
