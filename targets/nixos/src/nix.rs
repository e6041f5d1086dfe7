//! Nix values and their printer: every string, attribute name and path that reaches a `.nix` file
//! goes through here.
//!
//! Escaping (Nix manual, "String literals"): in a double-quoted string, `\`, `"` and `${` must be
//! escaped (`\\`, `\"`, `\${`), and newlines, tabs and carriage returns are written `\n`, `\t`,
//! `\r`. An attribute name is written bare when it is an identifier that is not a keyword, and as
//! a quoted string otherwise (`"services.x"`, `"/data"`), with the same escaping.

use std::fmt::Write as _;

/// A Nix value, built by the lowering and printed by [`render`].
#[derive(Clone, Debug, PartialEq)]
pub enum Nix {
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string, escaped when printed.
    Str(String),
    /// A list.
    List(Vec<Nix>),
    /// An attribute set, in order.
    Attrs(Vec<(String, Nix)>),
    /// Nix code passed through as written: the user's `nix("…")` escape hatch, and references to
    /// `config` built by the lowering from checked names.
    Raw(String),
    /// A string with interpolations: text parts are escaped, code parts are written as `${code}`.
    Interpolated(Vec<Part>),
}

/// A piece of an interpolated string.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Text, escaped when printed.
    Text(String),
    /// Nix code built by the lowering (`pkgs.podman`), written inside `${…}`.
    Code(String),
}

const KEYWORDS: &[&str] = &["if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"];

/// Writes a string literal.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_string(text, &mut out);
    out
}

/// Appends a string literal to `out`.
fn push_string(text: &str, out: &mut String) {
    out.push('"');
    escape_into(text, out);
    out.push('"');
}

/// Escapes text for the inside of a double-quoted string, copying the runs between escapes whole
/// (every escaped character is ASCII, so the runs end on character boundaries).
fn escape_into(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut run = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b'$' if bytes.get(index + 1) == Some(&b'{') => "\\$",
            _ => continue,
        };
        out.push_str(&text[run..index]);
        out.push_str(escaped);
        run = index + 1;
    }
    out.push_str(&text[run..]);
}

/// Writes an attribute name: bare when it is a plain identifier, quoted otherwise.
pub fn attr_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    push_attr_name(name, &mut out);
    out
}

fn push_attr_name(name: &str, out: &mut String) {
    // Bytes suffice: every character allowed bare is ASCII, and a non-ASCII byte fails the test.
    let bytes = name.as_bytes();
    let identifier = bytes.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'\''));
    if identifier && !KEYWORDS.contains(&name) { out.push_str(name) } else { push_string(name, out) }
}

/// Writes an attribute path (`services.postgresql.enable`, `fileSystems."/data"`).
pub fn attr_path(path: &[String]) -> String {
    let mut out = String::with_capacity(path.iter().map(|p| p.len() + 1).sum());
    for (index, segment) in path.iter().enumerate() {
        if index > 0 {
            out.push('.');
        }
        push_attr_name(segment, &mut out);
    }
    out
}

fn push_indent(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Prints a value at an indentation (in spaces) for the lines after the first.
pub fn render(value: &Nix, indent: usize, out: &mut String) {
    match value {
        Nix::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Nix::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Nix::Str(s) => push_string(s, out),
        Nix::Raw(code) => out.push_str(code),
        Nix::Interpolated(parts) => {
            out.push('"');
            for (index, part) in parts.iter().enumerate() {
                match part {
                    // A `$` right before `${…}` would make `$${`, Nix's escape for a literal `${`.
                    Part::Text(text) if text.ends_with('$') && matches!(parts.get(index + 1), Some(Part::Code(_))) => {
                        escape_into(&text[..text.len() - 1], out);
                        out.push_str("\\$");
                    }
                    Part::Text(text) => escape_into(text, out),
                    Part::Code(code) => {
                        out.push_str("${");
                        out.push_str(code);
                        out.push('}');
                    }
                }
            }
            out.push('"');
        }
        Nix::List(items) if items.is_empty() => out.push_str("[ ]"),
        Nix::List(items) => {
            let simple = items.iter().all(|i| matches!(i, Nix::Bool(_) | Nix::Int(_) | Nix::Str(_)));
            if simple && items.len() <= 4 {
                out.push_str("[ ");
                for item in items {
                    render(item, indent, out);
                    out.push(' ');
                }
                out.push(']');
            } else {
                out.push_str("[\n");
                for item in items {
                    push_indent(indent + 2, out);
                    render(item, indent + 2, out);
                    out.push('\n');
                }
                push_indent(indent, out);
                out.push(']');
            }
        }
        Nix::Attrs(entries) if entries.is_empty() => out.push_str("{ }"),
        Nix::Attrs(entries) => {
            out.push_str("{\n");
            for (name, value) in entries {
                push_indent(indent + 2, out);
                push_attr_name(name, out);
                out.push_str(" = ");
                render(value, indent + 2, out);
                out.push_str(";\n");
            }
            push_indent(indent, out);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_quotes_backslashes_and_interpolation() {
        assert_eq!(string(r#"a "b" \c ${d} $e"#), r#""a \"b\" \\c \${d} $e""#);
        assert_eq!(string("line\nnext\ttab"), r#""line\nnext\ttab""#);
        assert_eq!(string("''x''"), r#""''x''""#);
    }

    #[test]
    fn interpolated_strings_escape_text_but_not_code() {
        let value = Nix::Interpolated(vec![
            Part::Code("pkgs.podman".into()),
            Part::Text("/bin/podman \"${x}\" cost$".into()),
            Part::Code("y".into()),
        ]);
        let mut out = String::new();
        render(&value, 0, &mut out);
        assert_eq!(out, r#""${pkgs.podman}/bin/podman \"\${x}\" cost\$${y}""#);
    }

    #[test]
    fn attribute_names_are_quoted_unless_plain() {
        assert_eq!(attr_name("enable"), "enable");
        assert_eq!(attr_name("wg-prod1"), "wg-prod1");
        assert_eq!(attr_name("/data"), "\"/data\"");
        assert_eq!(attr_name("in"), "\"in\"");
        assert_eq!(attr_name("1st"), "\"1st\"");
        assert_eq!(attr_path(&["fileSystems".into(), "/data".into()]), "fileSystems.\"/data\"");
    }
}
