//! Evaluated values: what a block body, a `let` or a preset becomes once variables, loops,
//! interpolation and arithmetic are done. Every value keeps the span of the text it came from.
//!
//! References stay symbolic (`kind`, `name`, field path); the model stage checks that they resolve
//! and point at the right kind.

use std::fmt::Write as _;
use std::net::IpAddr;

use indexmap::IndexMap;

pub use crate::model::types::{format_duration, format_size};
use crate::source::Span;
use crate::syntax::ast::{Atom, Protocol};

/// A value with the span of the text it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// What it is.
    pub kind: ValueKind,
    /// Where it came from.
    pub span: Span,
}

/// One entry of a record: its value and the span of its key.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Where the key is written (the overlay line for overlaid fields).
    pub key_span: Span,
    /// The value.
    pub value: Value,
}

/// A record: ordered keys to fields (source order, so output follows the spec), hashed with Fx:
/// records are built and looked up for every block, where SipHash dominated the profile. Keys are
/// the tree's atoms, shared with every other use of the name, and are looked up by `&str`.
pub type Record = IndexMap<Atom, Field, rustc_hash::FxBuildHasher>;

// The sizes a large estate's memory rests on, held as rustc holds its own: every field of every
// record is a `Field`.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<Value>() == 48 && size_of::<Field>() == 64);

/// A reference `kind.name` or `kind.name.field…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The kind (`service`, `step`).
    pub kind: String,
    /// The referenced name.
    pub name: String,
    /// Fields after the name (`service.db.port` → `["port"]`).
    pub field: Vec<String>,
    /// Whether a string built the name (`service."mcp-${row.name}"`): no name is written in the
    /// source to replace, so an unknown one gets a closest name as help, never as a fix.
    pub built: bool,
}

/// The forms a value takes. Records and references are boxed: every field of every record is a
/// value, so a value's size is most of the evaluated estate's memory (32 bytes, not 80).
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// Text.
    Str(String),
    /// An integer.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// Milliseconds.
    Duration(u64),
    /// Bytes.
    Size(u64),
    /// An IP address.
    Ip(IpAddr),
    /// An address and prefix length.
    Cidr(IpAddr, u8),
    /// A port number and protocol.
    Port(u64, Protocol),
    /// A list.
    List(Vec<Value>),
    /// A record or map.
    Record(Box<Record>),
    /// A tagged record `http { … }`.
    Tagged(Atom, Box<Record>),
    /// An enum symbol or name (`nixos`, `api`).
    Symbol(String),
    /// A reference to a resource.
    Ref(Box<Reference>),
    /// Raw target code `nix("…")`.
    Nix(String),
    /// A string with holes that hold where a service is (`"${service.loki.url}/loki/api/v1/push"`),
    /// which each target fills with what the reference means there.
    Template(Box<Template>),
}

/// The parts of a string whose holes are references: `Str` text and `Ref` references (each with
/// the span of its hole), adjacent texts joined, at least one reference.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Template {
    /// Text and references, in order.
    pub parts: Vec<Value>,
}

impl Template {
    /// Appends text, joined to the text before it.
    pub fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Value { kind: ValueKind::Str(last), .. }) = self.parts.last_mut() {
            last.push_str(text);
        } else {
            self.parts.push(Value { kind: ValueKind::Str(text.to_owned()), span: Span::default() });
        }
    }

    /// Appends another template's parts.
    pub fn extend(&mut self, other: Template) {
        for part in other.parts {
            match part.kind {
                ValueKind::Str(text) => self.push_text(&text),
                _ => self.parts.push(part),
            }
        }
    }

    /// The template as written: text, and `${kind.name.field}` for each reference.
    pub fn written(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match &part.kind {
                ValueKind::Str(text) => out.push_str(text),
                ValueKind::Ref(r) => {
                    let _ = write!(out, "${{{}.{}", r.kind, r.name);
                    for field in &r.field {
                        let _ = write!(out, ".{field}");
                    }
                    out.push('}');
                }
                _ => {}
            }
        }
        out
    }
}

impl ValueKind {
    /// Names the value's type for "expected …, found …" messages.
    pub fn type_name(&self) -> String {
        match self {
            ValueKind::Str(_) => "string".into(),
            ValueKind::Int(_) => "integer".into(),
            ValueKind::Bool(_) => "boolean".into(),
            ValueKind::Duration(_) => "duration".into(),
            ValueKind::Size(_) => "size".into(),
            ValueKind::Ip(_) => "address".into(),
            ValueKind::Cidr(..) => "CIDR".into(),
            ValueKind::Port(..) => "port".into(),
            ValueKind::List(_) => "list".into(),
            ValueKind::Record(_) => "record".into(),
            ValueKind::Tagged(tag, _) => format!("`{tag} {{ … }}`"),
            ValueKind::Symbol(s) => format!("symbol `{s}`"),
            ValueKind::Ref(r) => format!("reference to {} `{}`", r.kind, r.name),
            ValueKind::Nix(_) => "`nix(…)` expression".into(),
            ValueKind::Template(_) => "string with references".into(),
        }
    }
}

/// The text form of a scalar, used by interpolation; `None` for lists, records and references.
pub fn text_form(kind: &ValueKind) -> Option<String> {
    let mut out = String::new();
    match kind {
        ValueKind::Str(s) | ValueKind::Symbol(s) => out.push_str(s),
        ValueKind::Int(n) => {
            let _ = write!(out, "{n}");
        }
        ValueKind::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        ValueKind::Duration(ms) => out = format_duration(*ms),
        ValueKind::Size(bytes) => out = format_size(*bytes),
        ValueKind::Ip(ip) => {
            let _ = write!(out, "{ip}");
        }
        ValueKind::Cidr(ip, bits) => {
            let _ = write!(out, "{ip}/{bits}");
        }
        ValueKind::Port(n, proto) => {
            let proto = match proto {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
            };
            let _ = write!(out, "{n}/{proto}");
        }
        ValueKind::List(_)
        | ValueKind::Record(_)
        | ValueKind::Tagged(..)
        | ValueKind::Ref(_)
        | ValueKind::Nix(_)
        | ValueKind::Template(_) => {
            return None;
        }
    }
    Some(out)
}

/// Merges `over` onto `under`: records merge deeply (keys of `over` win), anything else is replaced.
pub fn merge(under: &mut Record, over: Record) {
    for (key, field) in over {
        match (under.get_mut(&key), field.value.kind) {
            (Some(existing), ValueKind::Record(inner)) if matches!(existing.value.kind, ValueKind::Record(_)) => {
                if let ValueKind::Record(target) = &mut existing.value.kind {
                    merge(target, *inner);
                }
                existing.key_span = field.key_span;
            }
            (Some(existing), ValueKind::Tagged(tag, inner)) if matches!(&existing.value.kind, ValueKind::Tagged(t, _) if *t == tag) =>
            {
                if let ValueKind::Tagged(_, target) = &mut existing.value.kind {
                    merge(target, *inner);
                }
                existing.key_span = field.key_span;
            }
            (_, kind) => {
                under.insert(key, Field { key_span: field.key_span, value: Value { kind, span: field.value.span } });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format_duration(900_000), "15m");
        assert_eq!(format_duration(90_000), "90s");
        assert_eq!(format_duration(1_500), "1500ms");
        assert_eq!(format_size(2 << 40), "2TiB");
        assert_eq!(format_size(1_000), "1000B");
    }
}
