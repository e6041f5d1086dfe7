//! The YAML writer shared by the back ends that emit YAML (Helm values, Kubernetes manifests).
//!
//! Documents are built as typed serde structs and written here, never templated. Every string
//! value is double-quoted: the consumers (Helm, Kubernetes through `sigs.k8s.io/yaml`) read YAML
//! 1.1, where a plain `yes`, `on`, `12:30` or `2024-01-01` is a boolean, a number or a date, and no
//! serde YAML serialiser offers forced quoting. Strings are escaped here, in one place. Keys are plain only when they cannot be read as
//! anything but a string.
//!
//! Invariants: the output is block style, two-space indented, LF-terminated, and reads back (with
//! any YAML 1.1 or 1.2 parser) to exactly the value given; map order is the struct's field order
//! or the map's insertion order.

use serde::Serialize;
use serde_json::Value;

/// Writes one value as a YAML document (no `---`), ending with a newline.
///
/// Serialising a struct of strings, numbers, maps and lists cannot fail; a `Serialize` impl that
/// fails (a map with non-string keys) is a bug of the back end and is reported as such.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    let value = serde_json::to_value(value).map_err(|e| format!("a back end built a value YAML cannot hold: {e}"))?;
    let mut out = String::new();
    match &value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_list(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    Ok(out)
}

/// Writes several documents, separated by `---` lines.
pub fn documents<T: Serialize>(values: &[T]) -> Result<String, String> {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        out.push_str(&to_string(value)?);
    }
    Ok(out)
}

/// A scalar, or an empty collection, on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Whether a value is written on its key's line.
fn is_inline(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => true,
    }
}

/// A quoted scalar. Text holding `"` or `\\` but only printable characters is single-quoted, where
/// nothing but `'` is escaped (`'up{job="api"}'` reads better than its double-quoted form);
/// everything else is double-quoted.
fn quoted(text: &str) -> String {
    if text.contains(['"', '\\']) && !text.chars().any(unprintable) {
        return format!("'{}'", text.replace('\'', "''"));
    }
    double_quoted(text)
}

/// Characters outside YAML's printable set, and the line breaks YAML 1.1 knows beyond LF and CR.
fn unprintable(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// A double-quoted scalar. Besides `"` and `\\`, every character outside YAML's printable set is
/// escaped, and so are the line breaks YAML 1.1 knows beyond LF and CR (NEL, LS, PS), which a
/// reader would otherwise fold into spaces.
fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if unprintable(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key, plain when no YAML 1.1 reader could take it for a boolean, number or null.
fn key(text: &str) -> String {
    const SPECIAL: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let mut chars = text.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !SPECIAL.contains(&text.to_ascii_lowercase().as_str());
    if plain { text.to_string() } else { quoted(text) }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, depth: usize) {
    for (i, (name, value)) in map.iter().enumerate() {
        // The first key of a map that is a list item shares the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            indent(out, depth);
        }
        out.push_str(&key(name));
        out.push(':');
        write_value(out, value, depth);
    }
}

fn write_value(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, depth + 1);
        }
        // Lists under a key are not indented further: the common Kubernetes style.
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_list(out, items, depth);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
}

fn write_list(out: &mut String, items: &[Value], depth: usize) {
    for (i, item) in items.iter().enumerate() {
        // The first item of a list that is itself a list item shares the `- ` line: `- - a`.
        if i > 0 || !out.ends_with("- ") {
            indent(out, depth);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(out, map, depth + 1),
            Value::Array(inner) if !inner.is_empty() => write_list(out, inner, depth + 1),
            scalar if is_inline(scalar) => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Strings every YAML 1.1 reader would otherwise take for something else, and strings that
    /// break naive writers, read back as the same strings.
    #[test]
    fn hostile_strings_read_back_unchanged() {
        let hostile = [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "N",
            "~",
            "null",
            "0x1F",
            "08",
            "1e3",
            "1_000",
            "12:30",
            "2024-01-01",
            "- a",
            "a: b",
            "# c",
            "{{ x }}",
            "}}",
            "${x}",
            "multi\nline",
            "trailing ",
            " leading",
            "'q'",
            "\"dq\"",
            "*ref",
            "&a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "true",
            ".inf",
            "tab\there",
            "back\\slash",
            "nul\0byte",
            "ünïcødé ✓",
            "\u{2028}",
            "\u{85}",
            "\u{7f}",
            "\u{feff}",
            "",
        ];
        let value = json!({
            "list": hostile.to_vec(),
            "map": hostile.iter().map(|h| (h.to_string(), json!(h))).collect::<serde_json::Map<_, _>>(),
            "nested": [{ "a": hostile[0], "b": [hostile[1], [hostile[2]]] }, [], {}],
        });
        let text = to_string(&value).expect("writes");
        let back: Value = serde_yaml::from_str(&text).expect("reads back");
        assert_eq!(back, value, "{text}");
        // Not one string is left plain: every value line that holds one starts its value with `"`.
        for line in text.lines().filter(|l| l.trim_start().starts_with("- ") && !l.trim_start().starts_with("- -")) {
            let item = line.trim_start().trim_start_matches("- ");
            assert!(
                item.starts_with(['"', '\''])
                    || item.ends_with(':')
                    || item.contains(": ")
                    || item == "[]"
                    || item == "{}",
                "{line}"
            );
        }
    }

    #[test]
    fn layout_is_block_style_with_lists_flush_under_their_key() {
        let value = json!({ "spec": { "groups": [{ "name": "a", "rules": [] }], "count": 3, "ok": true } });
        let text = to_string(&value).expect("writes");
        assert_eq!(text, "spec:\n  groups:\n  - name: \"a\"\n    rules: []\n  count: 3\n  ok: true\n");
    }

    #[test]
    fn documents_are_separated() {
        let text = documents(&[json!({ "a": 1 }), json!({ "b": 2 })]).expect("writes");
        assert_eq!(text, "---\na: 1\n---\nb: 2\n");
    }
}
