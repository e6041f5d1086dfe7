//! The one place for each escaping layer of Prometheus output.
//!
//! - [`promql_string`]: a PromQL string literal (label matcher values in generated expressions,
//!   label values in promtool series notation). PromQL strings follow Go's quoting: `\` and `"`
//!   are escaped, control characters are written as `\u00XX` escapes.
//! - [`regex_literal`]: text matched literally inside an RE2 regex (a `=~` matcher); the result is
//!   a regex, which then goes through [`promql_string`] like any matcher value.
//! - [`template_text`]: text spec generates (from names, expressions, provenance) that lands in
//!   a label or annotation, which Prometheus expands as a Go template: every `{{` becomes the
//!   action `{{ "{{" }}`, which prints it. A user's `summary` and `description` are templates on
//!   purpose and are not escaped.
//!
//! YAML quoting is `spec-yaml`'s: every string is double-quoted, so no YAML reader (1.1 or 1.2)
//! takes it for another type (`yes`, `0x1F`, `~`, `1e3`). The tests read the output back with
//! serde_yaml and promtool to check it.

use std::fmt::Write as _;

/// A PromQL double-quoted string literal holding exactly `text`.
pub fn promql_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An RE2 regex matching exactly `text` (Go's `regexp.QuoteMeta`).
pub fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Go template that prints exactly `text`: each `{{` becomes `{{ "{{" }}`. A lone `}}` outside
/// an action is printed as is, so it needs nothing. Apply it to the whole text, never to pieces
/// that are joined afterwards: `{` + `{` would open an action.
pub fn template_text(text: &str) -> String {
    text.replace("{{", "{{ \"{{\" }}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promql_strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(promql_string("ipfs"), "\"ipfs\"");
        assert_eq!(promql_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn regex_literals_quote_every_metacharacter() {
        assert_eq!(regex_literal("a.b-c"), "a\\.b-c");
        assert_eq!(regex_literal("(x|y)*"), "\\(x\\|y\\)\\*");
    }

    #[test]
    fn template_text_never_leaves_an_action_open() {
        assert_eq!(template_text("a {{ b }}"), "a {{ \"{{\" }} b }}");
        assert_eq!(template_text("{{{"), "{{ \"{{\" }}{");
        assert!(!template_text("x{").contains("{{"));
    }
}
