//! Scalars as YAML text, appended straight to the output buffer: strings quoted (never plain),
//! keys plain only when nothing could read them as another type, and indentation.
//!
//! Invariant: whatever is written here reads back, with any YAML 1.1 or 1.2 parser, as exactly the
//! string given. This is the one place strings are escaped.

use std::fmt::Write;

/// Appends a quoted scalar. Text holding `"` or `\\` but only printable characters is
/// single-quoted, where nothing but `'` is escaped (`'up{job="api"}'` reads better than its
/// double-quoted form); everything else is double-quoted.
pub(crate) fn push_quoted(out: &mut String, text: &str) {
    // The common cases, decided in one pass over the bytes: printable ASCII is written as it is,
    // single-quoted if it holds `"` or `\\`, double-quoted otherwise.
    let mut quote_or_backslash = false;
    let mut printable_ascii = true;
    for byte in text.bytes() {
        match byte {
            b'"' | b'\\' => quote_or_backslash = true,
            b' '..=b'~' => {}
            _ => {
                printable_ascii = false;
                break;
            }
        }
    }
    if printable_ascii {
        if quote_or_backslash {
            push_single_quoted(out, text);
        } else {
            out.reserve(text.len() + 2);
            out.push('"');
            out.push_str(text);
            out.push('"');
        }
    } else if text.contains(['"', '\\']) && !text.chars().any(unprintable) {
        push_single_quoted(out, text);
    } else {
        push_double_quoted(out, text);
    }
}

/// Appends a single-quoted scalar, where `'` is the one character escaped (as `''`).
fn push_single_quoted(out: &mut String, text: &str) {
    out.push('\'');
    let mut pieces = text.split('\'');
    if let Some(first) = pieces.next() {
        out.push_str(first);
    }
    for piece in pieces {
        out.push_str("''");
        out.push_str(piece);
    }
    out.push('\'');
}

/// Characters outside YAML's printable set, and the line breaks YAML 1.1 knows beyond LF and CR.
fn unprintable(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Appends a double-quoted scalar. Besides `"` and `\\`, every character outside YAML's printable
/// set is escaped, and so are the line breaks YAML 1.1 knows beyond LF and CR (NEL, LS, PS), which
/// a reader would otherwise fold into spaces. Runs of characters needing no escape are copied whole.
fn push_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    let mut clean_from = 0;
    for (at, c) in text.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            c if unprintable(c) => "",
            _ => continue,
        };
        out.push_str(&text[clean_from..at]);
        if escape.is_empty() {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{:04X}", c as u32);
        } else {
            out.push_str(escape);
        }
        clean_from = at + c.len_utf8();
    }
    out.push_str(&text[clean_from..]);
    out.push('"');
}

/// Appends a key, plain when no YAML 1.1 reader could take it for a boolean, number or null.
pub(crate) fn push_key(out: &mut String, text: &str) {
    const SPECIAL: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    // Plain keys are ASCII, so bytes can be tested one by one.
    let mut bytes = text.bytes();
    let plain = bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        && !SPECIAL.iter().any(|special| special.eq_ignore_ascii_case(text));
    if plain {
        out.push_str(text);
    } else {
        push_quoted(out, text);
    }
}

/// Appends the indentation of `depth`: two spaces a level.
pub(crate) fn push_indent(out: &mut String, depth: usize) {
    const SPACES: &str = "                                                                ";
    let mut width = depth * 2;
    while width > SPACES.len() {
        out.push_str(SPACES);
        width -= SPACES.len();
    }
    out.push_str(&SPACES[..width]);
}
