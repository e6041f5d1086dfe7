//! The YAML writer shared by the back ends that emit YAML (Helm values, Kubernetes manifests,
//! Prometheus rule and test files).
//!
//! Documents are built as typed serde structs and written here, never templated. Every string
//! value is quoted: the consumers (Helm, Kubernetes through `sigs.k8s.io/yaml`) read YAML 1.1,
//! where a plain `yes`, `on`, `12:30` or `2024-01-01` is a boolean, a number or a date, and no serde
//! YAML serialiser offers forced quoting. Strings are escaped in one place (`quote`). Keys are plain
//! only when they cannot be read as anything but a string.
//!
//! The writer is a serde `Serializer` (`writer`, with `key` for map keys) that appends to one
//! `String` as the value is walked: no intermediate tree, no string per node. It maps values onto
//! YAML as `serde_json::to_value` maps them onto JSON (`None` is `null`, unit variants are their
//! name, other variants one-key maps, integer keys strings), which the tests hold it to, byte for
//! byte, against the tree-building writer it replaced.
//!
//! Invariants: the output is block style, two-space indented, LF-terminated, and reads back (with
//! any YAML 1.1 or 1.2 parser) to exactly the value given; map order is the struct's field order
//! or the map's insertion order (a map serialising one key twice would write it twice; no back end
//! does).

mod key;
mod quote;
#[cfg(test)]
mod reference;
mod writer;

use std::fmt;

use serde::Serialize;

use crate::writer::ValueWriter;

/// Writes one value as a YAML document (no `---`), ending with a newline.
///
/// Serialising a struct of strings, numbers, maps and lists cannot fail; a `Serialize` impl that
/// fails (a map with non-string keys) is a bug of the back end and is reported as such.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    let mut out = String::new();
    append(&mut out, value)?;
    Ok(out)
}

/// Appends one value as a YAML document (no `---`) to `out`, as [`to_string`] writes it: for a
/// caller that writes a header first, so a large document is not copied once more.
pub fn append<T: Serialize>(out: &mut String, value: &T) -> Result<(), String> {
    value.serialize(ValueWriter::document(out)).map_err(|e| format!("a back end built a value YAML cannot hold: {e}"))
}

/// Writes several documents, separated by `---` lines.
pub fn documents<T: Serialize>(values: &[T]) -> Result<String, String> {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        append(&mut out, value)?;
    }
    Ok(out)
}

/// Why a value cannot be written: a map key that is not a string or a number, an integer beyond
/// 64 bits, or a `Serialize` impl's own error.
#[derive(Debug)]
pub(crate) struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Strings every YAML 1.1 reader would otherwise take for something else, and strings that
    /// break naive writers; the property tests of `reference.rs` draw from them too.
    pub(crate) const HOSTILE: &[&str] = &[
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
        "No",
        "OFF",
        "it's \"x\"",
        "-",
        "- ",
        "?",
        ":",
    ];

    /// The hostile strings read back as the same strings.
    #[test]
    fn hostile_strings_read_back_unchanged() {
        let hostile = HOSTILE;
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

    /// Keys follow `serde_json`: integers become (quoted) strings, and a key that is neither a
    /// string nor a number is an error, not a panic.
    #[test]
    fn non_string_keys_are_stringified_or_refused() {
        let numbered: std::collections::BTreeMap<i32, &str> = [(1, "a"), (-2, "b")].into();
        assert_eq!(to_string(&numbered).expect("writes"), "\"-2\": \"b\"\n\"1\": \"a\"\n");
        let unit_keyed: std::collections::BTreeMap<(), i32> = [((), 1)].into();
        let error = to_string(&unit_keyed).expect_err("a unit key is refused");
        assert!(error.contains("key must be a string"), "{error}");
    }

    /// A collection that ends empty is written inline on its key's line, even when it only learns
    /// so at its end (every field skipped, no item).
    #[test]
    fn collections_learn_they_are_empty_at_their_end() {
        #[derive(Serialize)]
        struct Sparse {
            #[serde(skip_serializing_if = "Option::is_none")]
            only: Option<u8>,
        }
        let value = json!({ "a": Sparse { only: None }, "b": Vec::<u8>::new(), "c": [Sparse { only: None }] });
        assert_eq!(to_string(&value).expect("writes"), "a: {}\nb: []\nc:\n- {}\n");
        assert_eq!(to_string(&Sparse { only: None }).expect("writes"), "{}\n");
        assert_eq!(to_string(&Sparse { only: Some(1) }).expect("writes"), "only: 1\n");
    }
}
