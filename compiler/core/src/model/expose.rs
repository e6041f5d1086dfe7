//! `expose`: which of a service's ports are reachable from outside its node or cluster, and by
//! whom. `expose = [swarm]` opens `swarm` to the public (every interface); the map form
//! `expose { swarm = public, api = network.mesh, grpc = cluster }` names the audience per port: the
//! public, the members of a network (the port listens on the node's address on that network and
//! is opened on its interface only), or the pods of the clusters the node serves.
//!
//! Both forms deserialise from the records [`super::de`] presents (a list of names, or a record
//! of symbols and references), read directly rather than through serde's untagged buffering so
//! every entry keeps its span.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::types::{LocalName, NetworkRef, Reference, Spanned};

/// To whom a port is open.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Anyone who can reach the host or the cluster's load balancer.
    Public,
    /// The pods of the clusters the service's node serves (on a cluster: the cluster only).
    Cluster,
    /// The members of a network.
    Network(NetworkRef),
}

impl Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Audience::Public => serializer.serialize_str("public"),
            Audience::Cluster => serializer.serialize_str("cluster"),
            Audience::Network(network) => network.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudienceVisitor;
        impl<'de> Visitor<'de> for AudienceVisitor {
            type Value = Audience;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`public`, `cluster` or `network.NAME`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
                match v {
                    "public" => Ok(Audience::Public),
                    "cluster" => Ok(Audience::Cluster),
                    other => Err(E::custom(format!("`{other}` is not an audience"))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Audience, A::Error> {
                match map.next_key::<String>()?.as_deref() {
                    Some(super::types::tag::SYMBOL) => {
                        let symbol: String = map.next_value()?;
                        self.visit_str(&symbol)
                    }
                    Some(super::types::tag::REF) => {
                        let reference: Reference = map.next_value()?;
                        Ok(Audience::Network(NetworkRef(reference)))
                    }
                    _ => Err(de::Error::custom("expected an audience")),
                }
            }
        }
        deserializer.deserialize_any(AudienceVisitor)
    }
}

impl JsonSchema for Audience {
    fn schema_name() -> Cow<'static, str> {
        "Audience".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let network = generator.subschema_for::<NetworkRef>();
        json_schema!({
            "description": "to whom a port is open: `public`, `cluster` or `network.NAME`",
            "anyOf": [
                { "type": "string", "enum": ["public", "cluster"] },
                network,
            ],
        })
    }
}

/// The exposed ports, in one of the two forms a spec writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Expose {
    /// `expose = [swarm, api]`: each port open to the public.
    Public(Vec<Spanned<LocalName>>),
    /// `expose { swarm = public, api = network.mesh }`: each port with its audience.
    To(IndexMap<String, Spanned<Audience>>),
}

impl Default for Expose {
    fn default() -> Expose {
        Expose::Public(Vec::new())
    }
}

/// One exposed port: its name, to whom, and where it is written (the name in the list form, the
/// audience in the map form).
#[derive(Clone, Copy, Debug)]
pub struct Exposed<'a> {
    /// The port's name.
    pub port: &'a str,
    /// To whom it is open.
    pub audience: &'a Audience,
    /// Where it is written.
    pub span: crate::source::Span,
}

impl Expose {
    /// Every exposed port, in source order.
    pub fn ports(&self) -> Vec<Exposed<'_>> {
        match self {
            Expose::Public(names) => {
                names.iter().map(|n| Exposed { port: &n.value.0, audience: &Audience::Public, span: n.span }).collect()
            }
            Expose::To(map) => map
                .iter()
                .map(|(port, audience)| Exposed { port, audience: &audience.value, span: audience.span })
                .collect(),
        }
    }

    /// Whether `port` is open to the public.
    pub fn is_public(&self, port: &str) -> bool {
        self.ports().iter().any(|e| e.port == port && e.audience == &Audience::Public)
    }

    /// Whether nothing is exposed.
    pub fn is_empty(&self) -> bool {
        match self {
            Expose::Public(names) => names.is_empty(),
            Expose::To(map) => map.is_empty(),
        }
    }
}

impl Serialize for Expose {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expose::Public(names) => names.serialize(serializer),
            Expose::To(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Expose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExposeVisitor;
        impl<'de> Visitor<'de> for ExposeVisitor {
            type Value = Expose;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of port names or a map of port names to audiences")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Expose, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<Spanned<LocalName>>()? {
                    names.push(name);
                }
                Ok(Expose::Public(names))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Expose, A::Error> {
                let mut entries = IndexMap::new();
                while let Some(port) = map.next_key::<String>()? {
                    let audience: Spanned<Audience> = map.next_value()?;
                    entries.insert(port, audience);
                }
                Ok(Expose::To(entries))
            }
        }
        deserializer.deserialize_any(ExposeVisitor)
    }
}

impl JsonSchema for Expose {
    fn schema_name() -> Cow<'static, str> {
        "Expose".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let name = generator.subschema_for::<LocalName>();
        let audience = generator.subschema_for::<Audience>();
        json_schema!({
            "description": "ports open to the public (`[swarm]`), or each port with its audience \
                            (`{ swarm = public, api = network.mesh, grpc = cluster }`)",
            "anyOf": [
                { "type": "array", "items": name },
                { "type": "object", "additionalProperties": audience },
            ],
        })
    }
}
