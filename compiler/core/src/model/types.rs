//! The value types fields of the model are made of: spanned values, references, durations, sizes,
//! addresses, ports and free-form payloads.
//!
//! Each type's JSON Schema carries an `x-spec-type` (and, for references, `x-spec-ref`) extension
//! that tells the checker ([`super::check`]) which literal form it accepts; each type deserialises
//! from the special forms that [`super::de`] presents.

use std::borrow::Cow;
use std::net::IpAddr;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::source::Span;
use crate::syntax::ast::Protocol;

pub use super::cpu::Cpu;

/// The struct name [`super::de`] recognises to hand a value's span to [`Spanned`].
pub const SPANNED: &str = "$spec::Spanned";
/// Map keys of the special forms that carry typed literals through serde.
pub(crate) mod tag {
    pub const DURATION: &str = "$duration";
    pub const SIZE: &str = "$size";
    pub const IP: &str = "$ip";
    pub const CIDR: &str = "$cidr";
    pub const PORT: &str = "$port";
    pub const REF: &str = "$ref";
    pub const SYMBOL: &str = "$symbol";
    pub const NIX: &str = "$nix";
    pub const TAG: &str = "$tag";
    pub const TEMPLATE: &str = "$template";
}

/// A value with the span of the text it came from.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename = "$spec::Spanned")]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub span: Span,
}

/// Serialised as the bare value: the span is for diagnostics, not output.
impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Span, D::Error> {
        struct SpanVisitor;
        impl<'de> Visitor<'de> for SpanVisitor {
            type Value = Span;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a span")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Span, A::Error> {
                let file: u32 = seq.next_element()?.unwrap_or(0);
                let start: u32 = seq.next_element()?.unwrap_or(0);
                let end: u32 = seq.next_element()?.unwrap_or(0);
                Ok(Span { file: crate::source::FileId(file), start, end })
            }
        }
        deserializer.deserialize_seq(SpanVisitor)
    }
}

/// Reads one special form `{ "$tag": payload }` produced by [`super::de`].
fn special<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D, key: &'static str) -> Result<T, D::Error> {
    struct SpecialVisitor<T>(&'static str, std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for SpecialVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a {} value", self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            match map.next_key::<String>()? {
                Some(k) if k == self.0 => map.next_value(),
                _ => Err(de::Error::custom(format!("expected {}", self.0))),
            }
        }
    }
    deserializer.deserialize_any(SpecialVisitor(key, std::marker::PhantomData))
}

fn extended(kind: &str, description: &str) -> Schema {
    json_schema!({ "type": "string", "x-spec-type": kind, "description": description })
}

macro_rules! literal_type {
    ($(#[$doc:meta])* $name:ident($inner:ty), $tag:expr, $kind:literal, $description:literal, $format:path) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        /// Serialised as written in a spec (`15m`, `2TiB`), so changes read naturally.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&$format(self.0))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                special(deserializer, $tag).map($name)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                extended($kind, $description)
            }
        }
    };
}

literal_type!(
    /// A duration in milliseconds, written `30s`, `5m`, `4h`, `7d`.
    Duration(u64), tag::DURATION, "duration", "a duration such as `30s`, `5m`, `4h`, `7d`", format_duration
);
literal_type!(
    /// A size in bytes, written `512MiB`, `2TiB`, `10GB`.
    Size(u64), tag::SIZE, "size", "a size such as `512MiB`, `2TiB`, `10GB`", format_size
);

/// An IP address, written `10.0.0.1` or `fd00::1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Address(pub IpAddr);

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: String = special(deserializer, tag::IP)?;
        text.parse().map(Address).map_err(de::Error::custom)
    }
}

impl JsonSchema for Address {
    fn schema_name() -> Cow<'static, str> {
        "Address".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        extended("address", "an IP address such as `10.0.0.1`")
    }
}

/// A network prefix, written `10.0.0.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cidr {
    /// The network address.
    pub address: IpAddr,
    /// The prefix length in bits.
    pub prefix: u8,
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (address, prefix): (String, u8) = special(deserializer, tag::CIDR)?;
        Ok(Cidr { address: address.parse().map_err(de::Error::custom)?, prefix })
    }
}

impl JsonSchema for Cidr {
    fn schema_name() -> Cow<'static, str> {
        "Cidr".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        extended("cidr", "a network prefix such as `10.0.0.0/24`")
    }
}

/// A port and protocol, written `4001/tcp` or `53/udp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    /// The port number, 1 to 65535.
    pub number: u16,
    /// The transport protocol.
    pub protocol: Transport,
}

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl From<Protocol> for Transport {
    fn from(protocol: Protocol) -> Transport {
        match protocol {
            Protocol::Tcp => Transport::Tcp,
            Protocol::Udp => Transport::Udp,
        }
    }
}

impl Serialize for Port {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let protocol = match self.protocol {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        serializer.serialize_str(&format!("{}/{protocol}", self.number))
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (number, protocol): (u16, Transport) = special(deserializer, tag::PORT)?;
        Ok(Port { number, protocol })
    }
}

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        extended("port", "a port such as `443/tcp` or `53/udp`")
    }
}

/// The name of something declared elsewhere in the same block (a port name in `expose`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LocalName(pub String);

impl<'de> Deserialize<'de> for LocalName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        special(deserializer, tag::SYMBOL).map(LocalName)
    }
}

impl JsonSchema for LocalName {
    fn schema_name() -> Cow<'static, str> {
        "LocalName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        extended("name", "a name declared in the same block, such as a port name")
    }
}

/// A reference to a resource, as checked: its kind, name, any field path and where it is written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
pub struct Reference {
    /// The referenced kind (`service`, `step`).
    pub kind: String,
    /// The referenced name.
    pub name: String,
    /// Fields after the name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub field: Vec<String>,
    /// Where the reference is written.
    #[serde(skip_serializing)]
    pub span: Span,
}

/// Serialised as written in a spec: `service.db`, `node.prod1.address`.
impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = format!("{}.{}", self.kind, self.name);
        for field in &self.field {
            text.push('.');
            text.push_str(field);
        }
        serializer.serialize_str(&text)
    }
}

macro_rules! reference_type {
    ($(#[$doc:meta])* $name:ident, [$($kind:literal),*]) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Reference);

        impl std::ops::Deref for $name {
            type Target = Reference;
            fn deref(&self) -> &Reference {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                special(deserializer, tag::REF).map($name)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let kinds: &[&str] = &[$($kind),*];
                let written = kinds.iter().map(|k| format!("`{k}.NAME`")).collect::<Vec<_>>().join(" or ");
                json_schema!({
                    "type": "string",
                    "x-spec-type": "reference",
                    "x-spec-ref": kinds,
                    "description": format!("a reference {written}"),
                })
            }
        }
    };
}

reference_type!(
    /// A reference to a node.
    NodeRef, ["node"]
);
reference_type!(
    /// A reference to a node or a cluster: where something runs.
    PlacementRef, ["node", "cluster"]
);
reference_type!(
    /// A reference to a service.
    ServiceRef, ["service"]
);
reference_type!(
    /// What a service or job needs: another service, a job, or an external bucket or endpoint.
    NeedRef, ["service", "job", "bucket", "endpoint"]
);
reference_type!(
    /// A reference to a network.
    NetworkRef, ["network"]
);
reference_type!(
    /// A reference to a storage.
    StorageRef, ["storage"]
);
reference_type!(
    /// What a backup copies: a storage, or a service's data through its dump.
    BackupSourceRef, ["storage", "service"]
);
reference_type!(
    /// A reference to a bucket.
    BucketRef, ["bucket"]
);
reference_type!(
    /// A reference to a secret.
    SecretRef, ["secret"]
);
reference_type!(
    /// A reference to an alert receiver.
    ReceiverRef, ["receiver"]
);
reference_type!(
    /// A reference to a step of the same workflow.
    StepRef, ["step"]
);
reference_type!(
    /// What a step needs: a step of the same workflow, or a service.
    StepNeedRef, ["step", "service"]
);

/// What a service reference reads about where the service is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndpointPart {
    /// The address or DNS name its clients connect to.
    Host,
    /// Its first declared port's number, or the named one's (`port.NAME`).
    Port,
    /// `scheme://host:port`, with the first port or the named one (`url.NAME`).
    Url,
}

/// `service.NAME.host`, `.port` or `.url` (`.port.PORT`, `.url.PORT` for a port by name): where a service is, as the reader sees it, resolved per
/// target from both placements (a cluster DNS name, a node's mesh address, loopback on the same
/// node) by [`super::reach::Reach::resolve`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Endpoint(pub Reference);

impl Endpoint {
    /// The part a reference's field path names, if it names one: `host`, `port`, `url`, or
    /// `port.NAME` and `url.NAME` for the port named `NAME` rather than the first; each also
    /// after `member[I]` (`member.I` in the path), where one member of the service is.
    pub fn part_of(field: &[String]) -> Option<EndpointPart> {
        match Endpoint::after_member(field) {
            [part] if part == "host" => Some(EndpointPart::Host),
            [part] | [part, _] if part == "port" => Some(EndpointPart::Port),
            [part] | [part, _] if part == "url" => Some(EndpointPart::Url),
            _ => None,
        }
    }

    /// The field path after `member.I`, or the whole path when it names no member.
    fn after_member(field: &[String]) -> &[String] {
        match field {
            [member, index, rest @ ..] if member == MEMBER_FIELD && index.parse::<u32>().is_ok() => rest,
            _ => field,
        }
    }

    /// The member `service.NAME.member[I]…` reads, if it names one.
    pub fn member(&self) -> Option<u32> {
        match self.0.field.as_slice() {
            [member, index, ..] if member == MEMBER_FIELD => index.parse().ok(),
            _ => None,
        }
    }

    /// The port `service.NAME.port.PORT` or `.url.PORT` names, if any (else the first port).
    pub fn port_name(&self) -> Option<&str> {
        Endpoint::after_member(&self.0.field).get(1).map(String::as_str)
    }

    /// The part this endpoint reads (the checker admits only the three).
    pub fn part(&self) -> EndpointPart {
        Endpoint::part_of(&self.0.field).unwrap_or(EndpointPart::Host)
    }

    /// The reference as written, `service.NAME.member[I].url`.
    pub fn written(&self) -> String {
        let mut text = format!("service.{}", self.0.name);
        let mut fields = self.0.field.iter().peekable();
        while let Some(field) = fields.next() {
            if field == MEMBER_FIELD
                && let Some(index) = fields.next_if(|i| i.parse::<u32>().is_ok())
            {
                text.push_str(&format!(".{MEMBER_FIELD}[{index}]"));
                continue;
            }
            text.push('.');
            text.push_str(field);
        }
        text
    }
}

/// The field of a service reference that names one of its members: `service.NAME.member[I]`.
pub const MEMBER_FIELD: &str = "member";

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reference: Reference = special(deserializer, tag::REF)?;
        // Tried before a secret among untagged values: only a service's host, port or url fits.
        if reference.kind != "service" || Endpoint::part_of(&reference.field).is_none() {
            return Err(de::Error::custom("not a service endpoint"));
        }
        Ok(Endpoint(reference))
    }
}

impl JsonSchema for Endpoint {
    fn schema_name() -> Cow<'static, str> {
        "Endpoint".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        extended(
            "endpoint",
            "where a service is: `service.NAME.host`, `service.NAME.port` or `service.NAME.url` (`.port.PORT`, `.url.PORT`: a port by name)",
        )
    }
}

/// Text that may hold where services are (`"${service.loki.url}/loki/api/v1/push"`): each
/// target fills the holes with what each reference means where the text is read
/// ([`Template::fill`]), as it resolves a whole `service.NAME.url`. Plain text is a template
/// without holes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Template {
    /// Text and holes, in order.
    pub parts: Vec<TemplatePart>,
}

/// A piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TemplatePart {
    /// Text, as written.
    Text(String),
    /// Where a service is, filled per target.
    Hole(Endpoint),
}

impl Template {
    /// The text when there is no hole.
    pub fn plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => out.push_str(text),
                TemplatePart::Hole(_) => return None,
            }
        }
        Some(out)
    }

    /// The template as written in a spec: its text, `${service.NAME.url}` in each hole.
    pub fn written(&self) -> String {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(t) => text.push_str(t),
                TemplatePart::Hole(endpoint) => {
                    text.push_str("${");
                    text.push_str(&endpoint.written());
                    text.push('}');
                }
            }
        }
        text
    }

    /// The holes, in order.
    pub fn holes(&self) -> impl Iterator<Item = &Endpoint> {
        self.parts.iter().filter_map(|part| match part {
            TemplatePart::Hole(endpoint) => Some(endpoint),
            TemplatePart::Text(_) => None,
        })
    }

    /// The text with every hole filled by `resolve` (where the service is as the reader finds
    /// it), or the first hole's reason it has no value there.
    pub fn fill(&self, mut resolve: impl FnMut(&Endpoint) -> Result<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => out.push_str(text),
                TemplatePart::Hole(endpoint) => out.push_str(&resolve(endpoint)?),
            }
        }
        Ok(out)
    }
}

/// Serialised as written in a spec: the text with `${service.NAME.url}` in its holes.
impl Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.written())
    }
}

impl<'de> Deserialize<'de> for TemplatePart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Payload::deserialize(deserializer)? {
            Payload::Str(text) => Ok(TemplatePart::Text(text)),
            Payload::Reference(reference)
                if reference.kind == "service" && Endpoint::part_of(&reference.field).is_some() =>
            {
                Ok(TemplatePart::Hole(Endpoint(reference)))
            }
            _ => Err(de::Error::custom("a template holds text and where services are")),
        }
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Payload::deserialize(deserializer)? {
            Payload::Str(text) => Ok(Template { parts: vec![TemplatePart::Text(text)] }),
            Payload::Reference(reference)
                if reference.kind == "service" && Endpoint::part_of(&reference.field).is_some() =>
            {
                Ok(Template { parts: vec![TemplatePart::Hole(Endpoint(reference))] })
            }
            Payload::Template(template) => Ok(template),
            _ => Err(de::Error::custom("not text")),
        }
    }
}

impl JsonSchema for Template {
    fn schema_name() -> Cow<'static, str> {
        "Template".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        extended(
            "text",
            "text, which may hold where a service is (`\"${service.NAME.url}/path\"`), filled by each target",
        )
    }
}

/// A free-form value of a target payload (`nixos { … }`, `helm { values { … } }`): any value the
/// language can write, kept typed so each target renders it in its own syntax.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A list.
    List(Vec<Payload>),
    /// A map, in source order.
    Map(IndexMap<String, Payload>),
    /// A duration in milliseconds.
    Duration(Duration),
    /// A size in bytes.
    Size(Size),
    /// An address.
    Address(Address),
    /// A network prefix.
    Cidr(Cidr),
    /// A port.
    Port(Port),
    /// A symbol, kept as written.
    Symbol(String),
    /// A reference.
    Reference(Reference),
    /// Raw Nix code from `nix("…")`.
    Nix(String),
    /// A tagged record.
    Tagged(String, IndexMap<String, Payload>),
    /// Text with holes where services are, filled by each target.
    Template(Template),
}

impl JsonSchema for Payload {
    fn schema_name() -> Cow<'static, str> {
        "Payload".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "x-spec-type": "any", "description": "any value, passed to the target as written" })
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;
        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = Payload;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Payload, E> {
                Ok(Payload::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Payload, E> {
                Ok(Payload::Str(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Payload, E> {
                Ok(Payload::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Payload, E> {
                i64::try_from(v).map(Payload::Int).map_err(E::custom)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Payload, E> {
                Ok(Payload::Bool(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Payload, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Payload::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload, A::Error> {
                let mut entries = IndexMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let special = match key.as_str() {
                        tag::DURATION => Some(Payload::Duration(Duration(map.next_value()?))),
                        tag::SIZE => Some(Payload::Size(Size(map.next_value()?))),
                        tag::IP => {
                            let text: String = map.next_value()?;
                            Some(Payload::Address(Address(text.parse().map_err(de::Error::custom)?)))
                        }
                        tag::CIDR => {
                            let (address, prefix): (String, u8) = map.next_value()?;
                            Some(Payload::Cidr(Cidr { address: address.parse().map_err(de::Error::custom)?, prefix }))
                        }
                        tag::PORT => {
                            let (number, protocol): (u16, Transport) = map.next_value()?;
                            Some(Payload::Port(Port { number, protocol }))
                        }
                        tag::SYMBOL => Some(Payload::Symbol(map.next_value()?)),
                        tag::REF => Some(Payload::Reference(map.next_value()?)),
                        tag::NIX => Some(Payload::Nix(map.next_value()?)),
                        tag::TEMPLATE => Some(Payload::Template(Template { parts: map.next_value()? })),
                        tag::TAG => {
                            let (name, fields): (String, IndexMap<String, Payload>) = map.next_value()?;
                            Some(Payload::Tagged(name, fields))
                        }
                        _ => None,
                    };
                    match special {
                        Some(value) if entries.is_empty() => return Ok(value),
                        Some(_) => return Err(de::Error::custom("a special form among map entries")),
                        None => {
                            let value = map.next_value()?;
                            entries.insert(key, value);
                        }
                    }
                }
                Ok(Payload::Map(entries))
            }
        }
        deserializer.deserialize_any(PayloadVisitor)
    }
}

/// Formats a duration in its largest exact unit (`90000` ms → `90s`, `900000` → `15m`).
pub fn format_duration(ms: u64) -> String {
    const UNITS: &[(&str, u64)] =
        &[("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)];
    for &(unit, factor) in UNITS {
        if ms != 0 && ms.is_multiple_of(factor) {
            return format!("{}{unit}", ms / factor);
        }
    }
    format!("{ms}ms")
}

/// Formats a size in its largest exact binary unit, or bytes.
pub fn format_size(bytes: u64) -> String {
    const UNITS: &[(&str, u64)] =
        &[("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for &(unit, factor) in UNITS {
        if bytes != 0 && bytes.is_multiple_of(factor) {
            return format!("{}{unit}", bytes / factor);
        }
    }
    format!("{bytes}B")
}
