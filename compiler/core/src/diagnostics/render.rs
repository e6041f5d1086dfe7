//! Renders diagnostics for people with miette: the only module that imports miette.
//!
//! Labels in the primary label's file are drawn on its snippet; labels more than a few lines apart
//! get a snippet each (the lines between them are left out); labels in other files become related
//! reports, each with its own snippet. Notes follow the help line. [`render_plain`] is the
//! deterministic form used by tests and snapshots (no colour, fixed width, no links).

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};

use super::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceFile, SourceMap};

/// A source file as miette reads it: its text and display name, borrowed.
struct NamedText<'a> {
    name: &'a str,
    file: &'a SourceFile,
}

impl SourceCode for NamedText<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let contents = read_window(self.file, span, context_lines_before, context_lines_after)?;
        // miette joins two labels' snippets into one when the first ends (`line() + line_count()`)
        // at or after the line where the second starts, but its reader counts the lines from the
        // file's start, so every two labels of a file were joined, with every line between them.
        // Counting the snippet's own lines joins only snippets that touch or overlap: labels far
        // apart get a snippet each.
        let own_lines = contents.line_count().saturating_sub(contents.line());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            own_lines,
        )))
    }
}

/// Reads a span with its context lines as miette's reader of a whole text does, but starting from
/// the line index: miette's reader scans from the file's start, so rendering every diagnostic of a
/// large estate was quadratic. The text handed to miette starts one line above the first context
/// line (so its reader sees the break before every line it reports), and its positions are shifted
/// back by what was skipped: the result is the whole text's, field by field (a test holds it).
fn read_window<'b>(
    file: &'b SourceFile,
    span: &SourceSpan,
    context_lines_before: usize,
    context_lines_after: usize,
) -> Result<MietteSpanContents<'b>, MietteError> {
    let text = file.text.as_str();
    // A lone `\r` is a line break to miette but not to the index: read such a file whole.
    if span.offset() > text.len() || !file.breaks_only_at_newlines() {
        return whole_text(text, span, context_lines_before, context_lines_after);
    }
    let skipped_lines = file.line_index(span.offset()).saturating_sub(context_lines_before + 1);
    let skipped = file.line_start(skipped_lines);
    let shifted = SourceSpan::new((span.offset() - skipped).into(), span.len());
    let window = whole_text(&text[skipped..], &shifted, context_lines_before, context_lines_after)?;
    Ok(MietteSpanContents::new(
        window.data(),
        SourceSpan::new((window.span().offset() + skipped).into(), window.span().len()),
        window.line() + skipped_lines,
        window.column(),
        window.line_count() + skipped_lines,
    ))
}

/// miette's own reader over a whole text.
fn whole_text<'b>(
    text: &'b str,
    span: &SourceSpan,
    context_lines_before: usize,
    context_lines_after: usize,
) -> Result<MietteSpanContents<'b>, MietteError> {
    let contents = text.read_span(span, context_lines_before, context_lines_after)?;
    Ok(MietteSpanContents::new(
        contents.data(),
        *contents.span(),
        contents.line(),
        contents.column(),
        contents.line_count(),
    ))
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
        let text = self.source.file.text.as_str();
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
        NamedText { name: &f.path, file: f }
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
    // Wrapped at spaces only: textwrap's default splits at hyphens and breaks long words, which
    // cut names such as `redis-main.service` or a file path in two; a longer name overflows.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false)
        .with_break_words(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::diagnostics::Code;
    use crate::source::{Origin, Span};

    /// A file of 50 lines `line 1` … `line 50` and a diagnostic labelling lines `first` and `second`.
    fn two_labels(first: usize, second: usize) -> String {
        let text: String = (1..=50).map(|n| format!("line {n}\n")).collect();
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", text, Origin::User));
        let span = |line: usize| {
            let start = sources.get(file).line_start(line - 1);
            Span::new(file, start, start + format!("line {line}").len())
        };
        let diagnostic = Diagnostic::new(Code::E0606, span(second), "bound twice")
            .with_primary_label("bound again here")
            .with_label(span(first), "first bound here");
        render_plain(&diagnostic, &sources)
    }

    #[test]
    fn labels_far_apart_get_a_snippet_each_without_the_lines_between() {
        // Far from the file's start too: miette's own count of lines from the start joined these.
        let rendered = two_labels(25, 40);
        assert_eq!(rendered.matches("╭─[main.spec:").count(), 2, "{rendered}");
        for shown in ["line 24", "line 25", "line 26", "line 39", "line 40", "line 41"] {
            assert!(rendered.contains(&format!("│ {shown}\n")), "{shown} missing: {rendered}");
        }
        for left_out in ["line 27", "line 32", "line 38"] {
            assert!(!rendered.contains(&format!("│ {left_out}\n")), "{left_out} shown: {rendered}");
        }
    }

    #[test]
    fn help_text_wraps_between_words_never_inside_a_name() {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", "service cache {}\n".to_string(), Origin::User));
        // Every width puts the line's end somewhere inside one of the hyphenated names once.
        for width in 60..100 {
            let diagnostic = Diagnostic::new(Code::E1109, Span::new(file, 8, 13), "not a unit name")
                .with_primary_label("not a unit name")
                .with_help("name a unit with its type, such as `postgresql.target` or `redis-main.service` or `spec-restore-test-ipfs.timer`");
            let rendered = render(&diagnostic, &sources, false, width);
            for name in ["`redis-main.service`", "`spec-restore-test-ipfs.timer`", "`postgresql.target`"] {
                assert!(rendered.contains(name), "width {width}: {name} was cut: {rendered}");
            }
        }
    }

    #[test]
    fn labels_a_few_lines_apart_share_one_snippet() {
        let rendered = two_labels(20, 23);
        assert_eq!(rendered.matches("╭─[main.spec:").count(), 1, "{rendered}");
        for shown in ["line 19", "line 21", "line 22", "line 24"] {
            assert!(rendered.contains(&format!("│ {shown}\n")), "{shown} missing: {rendered}");
        }
    }

    fn fields(contents: &MietteSpanContents<'_>) -> (Vec<u8>, SourceSpan, usize, usize, usize) {
        (contents.data().to_vec(), *contents.span(), contents.line(), contents.column(), contents.line_count())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]
        /// The window read from the line index is what miette reads from the whole text.
        #[test]
        fn the_window_is_the_whole_texts_reading(
            text in "(ab|é|\n|\r\n|\r| ){0,60}",
            start in 0usize..200,
            length in 0usize..40,
            before in 0usize..4,
            after in 0usize..4,
        ) {
            let file = SourceFile::new("main.spec", text.clone(), Origin::User);
            let start = start.min(text.len());
            let span = SourceSpan::new(start.into(), length.min(text.len() - start));
            let window = read_window(&file, &span, before, after).map(|c| fields(&c));
            let whole = whole_text(&text, &span, before, after).map(|c| fields(&c));
            prop_assert_eq!(format!("{window:?}"), format!("{whole:?}"));
        }
    }
}
