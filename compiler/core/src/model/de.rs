//! A serde `Deserializer` over evaluated values, so the typed model is built by `#[derive]` from
//! the same structs that define each kind's schema.
//!
//! Typed literals (durations, sizes, addresses, ports, symbols, references, `nix(…)`) travel as
//! one-entry maps keyed by the tags of [`super::types::tag`]; [`Spanned`](super::types::Spanned)
//! receives the value's span through the struct name [`SPANNED`]. The checker has already proved
//! every value fits its field, so a failure here is a compiler bug, reported as such.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use super::types::{SPANNED, tag};
use crate::eval::value::{Record, Value, ValueKind};
use crate::source::Span;
use crate::syntax::ast::Protocol;

/// Why a checked value did not fit its Rust type (a compiler bug).
#[derive(Debug)]
pub struct DeError(pub String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

/// Builds a `T` from a record.
pub fn from_record<T: de::DeserializeOwned>(record: &Record) -> Result<T, DeError> {
    T::deserialize(De::Record(record))
}

/// The pieces the deserializer presents.
enum De<'a> {
    Value(&'a Value),
    Record(&'a Record),
    Str(&'a str),
    Owned(String),
    U64(u64),
    Seq(Vec<De<'a>>),
    Map(Vec<(&'static str, De<'a>)>),
    /// A span, presented as the sequence `[file, start, end]` without allocating one.
    Span(Span),
}

fn span_seq<'a>(span: Span) -> De<'a> {
    De::Span(span)
}

fn special<'a>(key: &'static str, value: De<'a>) -> De<'a> {
    De::Map(vec![(key, value)])
}

impl<'a> De<'a> {
    /// Re-expresses a typed literal as its special form; other values stay as they are.
    fn lower(self) -> De<'a> {
        let De::Value(value) = self else { return self };
        match &value.kind {
            ValueKind::Duration(ms) => special(tag::DURATION, De::U64(*ms)),
            ValueKind::Size(bytes) => special(tag::SIZE, De::U64(*bytes)),
            ValueKind::Ip(ip) => special(tag::IP, De::Owned(ip.to_string())),
            ValueKind::Cidr(ip, bits) => {
                special(tag::CIDR, De::Seq(vec![De::Owned(ip.to_string()), De::U64((*bits).into())]))
            }
            ValueKind::Port(n, proto) => {
                let proto = match proto {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                };
                special(tag::PORT, De::Seq(vec![De::U64(*n), De::Str(proto)]))
            }
            ValueKind::Symbol(s) => special(tag::SYMBOL, De::Str(s)),
            ValueKind::Nix(code) => special(tag::NIX, De::Str(code)),
            ValueKind::Ref(r) => special(
                tag::REF,
                De::Map(vec![
                    ("kind", De::Str(&r.kind)),
                    ("name", De::Str(&r.name)),
                    ("field", De::Seq(r.field.iter().map(|f| De::Str(f)).collect())),
                    ("span", span_seq(value.span)),
                ]),
            ),
            // Text as strings, references in their special form (with their spans).
            ValueKind::Template(template) => {
                special(tag::TEMPLATE, De::Seq(template.parts.iter().map(|part| De::Value(part).lower()).collect()))
            }
            ValueKind::Tagged(name, record) => special(tag::TAG, De::Seq(vec![De::Str(name), De::Record(record)])),
            _ => De::Value(value),
        }
    }
}

/// The items of a sequence, borrowed where they exist already: building the model allocates
/// nothing for the sequences and maps it reads.
enum Seq<'a> {
    Owned(std::vec::IntoIter<De<'a>>),
    Values(std::slice::Iter<'a, Value>),
    Numbers(std::array::IntoIter<u64, 3>),
}

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        let item = match self {
            Seq::Owned(items) => items.next(),
            Seq::Values(values) => values.next().map(De::Value),
            Seq::Numbers(numbers) => numbers.next().map(De::U64),
        };
        item.map(|item| seed.deserialize(item)).transpose()
    }
}

/// The entries of a map: a record's (keys borrowed), a special form's, or a `Spanned`'s value and
/// span.
enum Entries<'a> {
    Record(indexmap::map::Iter<'a, crate::syntax::ast::Atom, crate::eval::value::Field>),
    Fixed(std::vec::IntoIter<(&'static str, De<'a>)>),
    Spanned(Option<De<'a>>, Option<Span>),
}

struct Map<'a> {
    entries: Entries<'a>,
    pending: Option<De<'a>>,
}

impl<'de> MapAccess<'de> for Map<'_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let (key, value): (&str, De<'_>) = match &mut self.entries {
            Entries::Record(fields) => match fields.next() {
                Some((key, field)) => (key, De::Value(&field.value)),
                None => return Ok(None),
            },
            Entries::Fixed(entries) => match entries.next() {
                Some(entry) => entry,
                None => return Ok(None),
            },
            Entries::Spanned(value, span) => match (value.take(), span) {
                (Some(value), _) => ("value", value),
                (None, span) => match span.take() {
                    Some(span) => ("span", De::Span(span)),
                    None => return Ok(None),
                },
            },
        };
        self.pending = Some(value);
        seed.deserialize(de::value::StrDeserializer::<DeError>::new(key)).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value),
            None => Err(DeError("a map value without its key".into())),
        }
    }
}

fn record_map(record: &Record) -> Map<'_> {
    Map { entries: Entries::Record(record.iter()), pending: None }
}

struct Enum<'a> {
    variant: &'a str,
    content: Option<&'a Record>,
}

impl<'a, 'de> EnumAccess<'de> for Enum<'a> {
    type Error = DeError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let variant = seed.deserialize(De::Str(self.variant))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for Enum<'_> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        match self.content {
            None => Ok(()),
            Some(_) => Err(DeError(format!("`{}` takes no fields", self.variant))),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.content {
            Some(record) => seed.deserialize(De::Record(record)),
            None => Err(DeError(format!("`{}` needs fields", self.variant))),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(DeError("tuple variants are not used by the model".into()))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.content {
            Some(record) => visitor.visit_map(record_map(record)),
            None => visitor.visit_map(Map { entries: Entries::Fixed(Vec::new().into_iter()), pending: None }),
        }
    }
}

impl<'de> Deserializer<'de> for De<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.lower() {
            De::Str(s) => visitor.visit_str(s),
            De::Owned(s) => visitor.visit_string(s),
            De::U64(n) => visitor.visit_u64(n),
            De::Seq(items) => visitor.visit_seq(Seq::Owned(items.into_iter())),
            De::Span(span) => {
                visitor.visit_seq(Seq::Numbers([span.file.0.into(), span.start.into(), span.end.into()].into_iter()))
            }
            De::Map(entries) => visitor.visit_map(Map { entries: Entries::Fixed(entries.into_iter()), pending: None }),
            De::Record(record) => visitor.visit_map(record_map(record)),
            De::Value(value) => match &value.kind {
                ValueKind::Str(s) => visitor.visit_str(s),
                ValueKind::Int(n) => visitor.visit_i64(*n),
                ValueKind::Bool(b) => visitor.visit_bool(*b),
                ValueKind::List(items) => visitor.visit_seq(Seq::Values(items.iter())),
                ValueKind::Record(record) => visitor.visit_map(record_map(record)),
                other => Err(DeError(format!("cannot read {}", other.type_name()))),
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            let span = match &self {
                De::Value(value) => value.span,
                _ => Span::default(),
            };
            return visitor.visit_map(Map { entries: Entries::Spanned(Some(self), Some(span)), pending: None });
        }
        let _ = fields;
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self {
            De::Value(value) => match &value.kind {
                ValueKind::Symbol(s) | ValueKind::Str(s) => visitor.visit_enum(Enum { variant: s, content: None }),
                ValueKind::Tagged(variant, record) => visitor.visit_enum(Enum { variant, content: Some(record) }),
                other => Err(DeError(format!("expected a variant, found {}", other.type_name()))),
            },
            De::Str(s) => visitor.visit_enum(Enum { variant: s, content: None }),
            _ => Err(DeError("expected a variant".into())),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}
