//! Diagnostics: one data type for every problem the compiler reports, built where the problem is
//! found.
//!
//! A [`Diagnostic`] has a stable [`Code`] (which fixes its severity), a message, a primary label on
//! the offending text, secondary labels on the other parties, a help line and notes, and, when the
//! compiler is sure of the fix (a did-you-mean, a plaintext secret), a [`Suggestion`] editors
//! offer as a quick fix. Stages return
//! their diagnostics beside their product and never fail; the driver decides what runs next.
//! Rendering for people lives in [`render`], the only module that knows miette.

mod codes;
pub mod format;
pub mod render;
mod suggest;

pub use codes::Code;
pub use suggest::NameIndex;

use crate::source::Span;

/// Whether a diagnostic stops the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Stops the build.
    Error,
    /// Reported, but the build goes on (unless `--deny warnings`).
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with an optional message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The text the label points at.
    pub span: Span,
    /// What the label says about it.
    pub message: Option<String>,
}

/// A fix the compiler is sure of, for editors to offer as a quick fix: `written` inside `span`
/// becomes `replacement` (and `declaration`, when set, is added beside the enclosing block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// The text holding what is replaced.
    pub span: Span,
    /// What is replaced inside `span`, as written (a misspelt name); empty: the whole span.
    pub written: String,
    /// What replaces it.
    pub replacement: String,
    /// A top-level declaration the fix adds (`secret db-password { … }`).
    pub declaration: Option<String>,
}

/// One problem found in the estate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code, which also fixes the severity.
    pub code: Code,
    /// Lowercase, no trailing period, names things in backticks.
    pub message: String,
    /// The offending text.
    pub primary: Label,
    /// Other parties: the first definition, the other members of a cycle.
    pub secondary: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// Further facts.
    pub notes: Vec<String>,
    /// The fix, when the compiler is sure of it.
    pub suggestion: Option<Box<Suggestion>>,
}

impl Diagnostic {
    /// Creates a diagnostic with its primary span and message.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label { span, message: None },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            suggestion: None,
        }
    }

    /// Sets the message of the primary label.
    pub fn with_primary_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = Some(message.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label { span, message: Some(message.into()) });
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the fix: `written` inside `span` becomes `replacement`.
    pub fn with_suggestion(mut self, span: Span, written: &str, replacement: impl Into<String>) -> Diagnostic {
        let replacement = replacement.into();
        self.suggestion =
            Some(Box::new(Suggestion { span, written: written.to_string(), replacement, declaration: None }));
        self
    }

    /// The severity, from the code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// Returns the candidate closest to `name`, if one is close enough to be a likely typo (see
/// [`NameIndex`] for what close means). To look up many names among the same candidates, build a
/// [`NameIndex`] once.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    NameIndex::new(candidates).closest(name)
}

/// Adds "did you mean" help to a diagnostic when a close candidate exists, or `fallback` otherwise.
pub fn suggest<'a>(
    diagnostic: Diagnostic,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    fallback: impl Into<String>,
) -> Diagnostic {
    match did_you_mean(name, candidates) {
        Some(close) => {
            let span = diagnostic.primary.span;
            diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(span, name, close)
        }
        None => diagnostic.with_help(fallback),
    }
}
