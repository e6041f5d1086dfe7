//! Renders diagnostics for people with miette: the only module that imports miette.
//!
//! Labels in the primary label's file are drawn on its snippet; labels in other files become
//! related reports, each with its own snippet. Notes follow the help line. [`render_plain`] is the
//! deterministic form used by tests and snapshots (no colour, fixed width, no links).

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};

use super::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceMap};

/// A source file as miette reads it: its text and display name, borrowed.
struct NamedText<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for NamedText<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let contents = self.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// One report: a message with labels in a single file.
struct Report<'a> {
    message: String,
    severity: Severity,
    help: Option<String>,
    labels: Vec<&'a Label>,
    primary: Option<&'a Label>,
    source: NamedText<'a>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

fn source_span(label: &Label, text: &str) -> SourceSpan {
    // Clamp into the text so a stale span can never make miette fail.
    let start = (label.span.start as usize).min(text.len());
    let end = (label.span.end as usize).clamp(start, text.len());
    SourceSpan::new(start.into(), end - start)
}

impl miette::Diagnostic for Report<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let text = self.source.text;
        let primary = self
            .primary
            .map(|label| LabeledSpan::new_primary_with_span(label.message.clone(), source_span(label, text)));
        let secondary = self
            .labels
            .iter()
            .map(move |label| LabeledSpan::new_with_span(label.message.clone(), source_span(label, text)));
        Some(Box::new(primary.into_iter().chain(secondary)))
    }
}

/// Splits a diagnostic into its main report and one note per other file its labels point into.
fn reports<'a>(diagnostic: &'a Diagnostic, sources: &'a SourceMap) -> (Report<'a>, Vec<Report<'a>>) {
    let file = diagnostic.primary.span.file;
    let named = |id: FileId| {
        let f = sources.get(id);
        NamedText { name: &f.path, text: &f.text }
    };
    let mut help = diagnostic.help.clone();
    for note in &diagnostic.notes {
        let joined = match help.take() {
            Some(h) => format!("{h}\nnote: {note}"),
            None => format!("note: {note}"),
        };
        help = Some(joined);
    }
    let mut notes: Vec<Report<'a>> = Vec::new();
    let mut labels = Vec::new();
    for label in &diagnostic.secondary {
        if label.span.file == file {
            labels.push(label);
        } else if let Some(existing) = notes.iter_mut().find(|r| r.source.name == sources.get(label.span.file).path) {
            existing.labels.push(label);
        } else {
            notes.push(Report {
                message: format!("note: {}", label.message.as_deref().unwrap_or("related")),
                severity: diagnostic.severity(),
                help: None,
                labels: vec![label],
                primary: None,
                source: named(label.span.file),
            });
        }
    }
    let main = Report {
        message: format!("{}[{}]: {}", diagnostic.severity().as_str(), diagnostic.code.as_str(), diagnostic.message),
        severity: diagnostic.severity(),
        help,
        labels,
        primary: Some(&diagnostic.primary),
        source: named(file),
    };
    (main, notes)
}

/// Renders a diagnostic for a terminal, in colour when `color` is set.
pub fn render(diagnostic: &Diagnostic, sources: &SourceMap, color: bool, width: usize) -> String {
    let mut theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    // The header carries the severity in words (`error[E0301]: …`), as rustc prints it.
    theme.characters.error = String::new();
    theme.characters.warning = String::new();
    theme.characters.advice = String::new();
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
    let (main, notes) = reports(diagnostic, sources);
    let mut out = String::new();
    for report in std::iter::once(&main).chain(&notes) {
        let mut one = String::new();
        if handler.render_report(&mut one, report).is_err() {
            one = format!("{}\n", report.message);
        }
        // With the severity glyphs blanked, miette still indents the header line; start it at
        // column 0.
        out.push_str(one.trim_start_matches(' '));
    }
    out
}

/// Renders a diagnostic deterministically: no colour, 80 columns. Used by tests and snapshots.
pub fn render_plain(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    render(diagnostic, sources, false, 80)
}
