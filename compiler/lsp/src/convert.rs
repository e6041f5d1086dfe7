//! Conversions between the compiler's terms and the protocol's: file URIs and paths, byte spans
//! and UTF-16 ranges, diagnostics.
//!
//! Only `file:` URIs name documents the server checks; their paths are percent-decoded, and paths
//! are percent-encoded (everything but unreserved characters and `/`) when the server names a
//! file the editor has not opened.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range, Uri};
use spec_compiler::diagnostics::{Diagnostic, Severity};
use spec_compiler::ide::LineIndex;
use spec_compiler::ide::position::Position;

/// The path a `file:` URI names.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // An authority other than `localhost` would name another machine.
    let path = match rest.find('/') {
        Some(0) => rest,
        Some(slash) if rest.get(..slash) == Some("localhost") => rest.get(slash..)?,
        _ => return None,
    };
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (byte, hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                index += 3;
            }
            _ => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    let text = String::from_utf8(decoded).ok()?;
    // `file:///C:/x` on Windows names `C:/x`.
    let text = match text.as_bytes() {
        [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() && cfg!(windows) => text.get(1..)?.to_string(),
        _ => text,
    };
    Some(PathBuf::from(text))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut uri = String::from("file://");
    if !text.starts_with('/') {
        uri.push('/');
    }
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    Uri::from_str(&uri).ok()
}

/// The protocol's range of the byte range `start..end` of `text`.
pub fn range(lines: &LineIndex, text: &str, start: u32, end: u32) -> Range {
    let position = |offset| {
        let Position { line, character } = lines.position(text, offset);
        lsp_types::Position { line, character }
    };
    Range { start: position(start), end: position(end) }
}

/// The byte offset of a protocol position in `text`.
pub fn offset(lines: &LineIndex, text: &str, position: lsp_types::Position) -> u32 {
    lines.offset(text, Position { line: position.line, character: position.character })
}

/// A compiler diagnostic as the protocol's: the code, the message with its help and notes, and
/// the labels as related locations (the primary label first, at the diagnostic's own place).
/// `locate` turns a span into a location (`None` for a span it cannot place).
pub fn diagnostic(
    diagnostic: &Diagnostic,
    range: Range,
    locate: &dyn Fn(spec_compiler::source::Span) -> Option<Location>,
) -> lsp_types::Diagnostic {
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    for note in &diagnostic.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    let labels = std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary);
    let related: Vec<DiagnosticRelatedInformation> = labels
        .filter_map(|label| {
            Some(DiagnosticRelatedInformation { location: locate(label.span)?, message: label.message.clone()? })
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(match diagnostic.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        code_description: None,
        source: Some("spec".into()),
        message,
        related_information: if related.is_empty() { None } else { Some(related) },
        tags: None,
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip_with_percent_encoding() {
        let path = Path::new("/tmp/my estate/ü.spec");
        let uri = path_to_uri(path).expect("uri");
        assert_eq!(uri.as_str(), "file:///tmp/my%20estate/%C3%BC.spec");
        assert_eq!(uri_to_path(uri.as_str()).as_deref(), Some(path));
        assert_eq!(uri_to_path("file://localhost/a/b.spec").as_deref(), Some(Path::new("/a/b.spec")));
        assert_eq!(uri_to_path("untitled:Untitled-1"), None);
        assert_eq!(uri_to_path("file://elsewhere/a.spec"), None);
    }
}
