//! The tree-building writer `spec-yaml` used before it streamed: `serde_json::to_value`, then a walk
//! of the JSON tree. Kept, unchanged, only as the reference the streaming writer is held to, byte
//! for byte, by the property tests below.

use serde::Serialize;
use serde_json::Value;

/// Writes one value as a YAML document (no `---`), ending with a newline.
///
/// Serialising a struct of strings, numbers, maps and lists cannot fail; a `Serialize` impl that
/// fails (a map with non-string keys) is a bug of the back end and is reported as such.
pub(crate) fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
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
pub(crate) fn documents<T: Serialize>(values: &[T]) -> Result<String, String> {
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
mod equivalence {
    use proptest::prelude::*;
    use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTupleVariant};
    use serde::{Serialize, Serializer};

    /// The field names records draw from (serde wants `&'static str`).
    const FIELDS: &[&str] = &["name", "for", "yes", "type", "apiVersion", "1st", "a b", "on", "x.y/z", "_"];

    use crate::tests::HOSTILE;

    /// A value exercising every path of the serde data model the writer handles.
    #[derive(Debug, Clone)]
    enum Node {
        Unit,
        Bool(bool),
        Int(i64),
        Unsigned(u64),
        Wide(i128),
        Float(f64),
        Single(f32),
        Char(char),
        Text(String),
        Bytes(Vec<u8>),
        Maybe(Option<Box<Node>>),
        /// A sequence of unknown length.
        List(Vec<Node>),
        Tuple(Vec<Node>),
        /// A map with unique string keys.
        Map(Vec<(String, Node)>),
        /// A map with integer keys (strings in JSON).
        Numbered(Vec<(i32, Node)>),
        /// A map with float keys.
        FloatKeyed(Vec<(f64, Node)>),
        /// A map whose key is `()`: an error in both writers.
        UnitKeyed(Box<Node>),
        /// A struct: each field of `FIELDS` at most once; `None` is a skipped field.
        Record(Vec<(usize, Option<Node>)>),
        UnitVariant,
        NewtypeVariant(Box<Node>),
        TupleVariant(Vec<Node>),
        StructVariant(Vec<(usize, Option<Node>)>),
    }

    impl Serialize for Node {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                Node::Unit => serializer.serialize_unit(),
                Node::Bool(b) => serializer.serialize_bool(*b),
                Node::Int(n) => serializer.serialize_i64(*n),
                Node::Unsigned(n) => serializer.serialize_u64(*n),
                Node::Wide(n) => serializer.serialize_i128(*n),
                Node::Float(f) => serializer.serialize_f64(*f),
                Node::Single(f) => serializer.serialize_f32(*f),
                Node::Char(c) => serializer.serialize_char(*c),
                Node::Text(text) => serializer.serialize_str(text),
                Node::Bytes(bytes) => serializer.serialize_bytes(bytes),
                Node::Maybe(inner) => match inner {
                    Some(inner) => serializer.serialize_some(inner),
                    None => serializer.serialize_none(),
                },
                Node::List(items) => {
                    let mut seq = serializer.serialize_seq(None)?;
                    for item in items {
                        seq.serialize_element(item)?;
                    }
                    seq.end()
                }
                Node::Tuple(items) => {
                    let mut seq = serializer.serialize_seq(Some(items.len()))?;
                    for item in items {
                        seq.serialize_element(item)?;
                    }
                    seq.end()
                }
                Node::Map(entries) => map(serializer, entries),
                Node::Numbered(entries) => map(serializer, entries),
                Node::FloatKeyed(entries) => map(serializer, entries),
                Node::UnitKeyed(value) => map(serializer, &[((), value)]),
                Node::Record(fields) => {
                    let mut record = serializer.serialize_struct("Record", fields.len())?;
                    for (field, value) in fields {
                        match value {
                            Some(value) => record.serialize_field(FIELDS[*field], value)?,
                            None => record.skip_field(FIELDS[*field])?,
                        }
                    }
                    record.end()
                }
                Node::UnitVariant => serializer.serialize_unit_variant("Node", 0, "on"),
                Node::NewtypeVariant(inner) => serializer.serialize_newtype_variant("Node", 1, "Wrapped", inner),
                Node::TupleVariant(items) => {
                    let mut variant = serializer.serialize_tuple_variant("Node", 2, "pair", items.len())?;
                    for item in items {
                        variant.serialize_field(item)?;
                    }
                    variant.end()
                }
                Node::StructVariant(fields) => {
                    let mut variant = serializer.serialize_struct_variant("Node", 3, "y", fields.len())?;
                    for (field, value) in fields {
                        match value {
                            Some(value) => variant.serialize_field(FIELDS[*field], value)?,
                            None => variant.skip_field(FIELDS[*field])?,
                        }
                    }
                    variant.end()
                }
            }
        }
    }

    fn map<S: Serializer, K: Serialize, V: Serialize>(serializer: S, entries: &[(K, V)]) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(HOSTILE).prop_map(str::to_string),
            any::<String>(),
            "[a-zA-Z_][a-zA-Z0-9_./-]{0,8}",
            // Printable ASCII, and the characters that choose between the two quoting styles.
            "[ -~]{0,12}",
            "[\"'\\\\a\t\u{85}é ]{0,6}",
        ]
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), Just(-0.0), Just(1e20), Just(0.1), Just(3.0)]
    }

    /// Entries with their keys made unique (first one kept): JSON maps cannot repeat a key.
    fn unique<K: PartialEq, V>(entries: Vec<(K, V)>) -> Vec<(K, V)> {
        let mut kept: Vec<(K, V)> = Vec::new();
        for (key, value) in entries {
            if !kept.iter().any(|(k, _)| *k == key) {
                kept.push((key, value));
            }
        }
        kept
    }

    fn fields(inner: impl Strategy<Value = Node>) -> impl Strategy<Value = Vec<(usize, Option<Node>)>> {
        prop::collection::vec((0..FIELDS.len(), prop::option::weighted(0.7, inner)), 0..5).prop_map(unique)
    }

    fn node() -> impl Strategy<Value = Node> {
        let leaf = prop_oneof![
            Just(Node::Unit),
            any::<bool>().prop_map(Node::Bool),
            any::<i64>().prop_map(Node::Int),
            any::<u64>().prop_map(Node::Unsigned),
            prop_oneof![any::<i128>(), -1000i128..1000].prop_map(Node::Wide),
            float().prop_map(Node::Float),
            any::<f32>().prop_map(Node::Single),
            any::<char>().prop_map(Node::Char),
            text().prop_map(Node::Text),
            prop::collection::vec(any::<u8>(), 0..3).prop_map(Node::Bytes),
            Just(Node::Maybe(None)),
            Just(Node::UnitVariant),
            Just(Node::List(Vec::new())),
            Just(Node::Map(Vec::new())),
            Just(Node::Record(Vec::new())),
        ];
        leaf.prop_recursive(5, 96, 6, |inner| {
            prop_oneof![
                inner.clone().prop_map(|n| Node::Maybe(Some(Box::new(n)))),
                prop::collection::vec(inner.clone(), 0..5).prop_map(Node::List),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Node::Tuple),
                prop::collection::vec((text(), inner.clone()), 0..5).prop_map(|e| Node::Map(unique(e))),
                prop::collection::vec((any::<i32>(), inner.clone()), 0..3).prop_map(|e| Node::Numbered(unique(e))),
                prop::collection::vec((float(), inner.clone()), 0..2).prop_map(|e| Node::FloatKeyed(unique(e))),
                prop::option::weighted(0.02, inner.clone()).prop_map(|n| match n {
                    Some(n) => Node::UnitKeyed(Box::new(n)),
                    None => Node::Unit,
                }),
                fields(inner.clone()).prop_map(Node::Record),
                inner.clone().prop_map(|n| Node::NewtypeVariant(Box::new(n))),
                prop::collection::vec(inner.clone(), 0..3).prop_map(Node::TupleVariant),
                fields(inner).prop_map(Node::StructVariant),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The streaming writer writes what the tree-building writer wrote, byte for byte, and fails
        /// where it failed, with the same message.
        #[test]
        fn streaming_output_equals_the_tree_writers(node in node()) {
            prop_assert_eq!(crate::to_string(&node), super::to_string(&node));
        }

        /// The same for a `serde_json::Value` (what the Kubernetes back end builds) and for
        /// several documents.
        #[test]
        fn json_values_and_documents_are_written_as_before(nodes in prop::collection::vec(node(), 0..4)) {
            prop_assert_eq!(crate::documents(&nodes), super::documents(&nodes));
            for node in &nodes {
                if let Ok(value) = serde_json::to_value(node) {
                    prop_assert_eq!(crate::to_string(&value), super::to_string(&value));
                }
            }
        }
    }
}
