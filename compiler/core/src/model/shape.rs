//! Each kind's JSON Schema compiled once into a typed tree for the [`super::check`]er: `$ref`s
//! resolved, the dispatch (`x-spec-type`, `oneOf`, `anyOf`, `enum`, `type`) decided once per schema
//! node rather than by map lookups on every value, properties in an Fx map, the literal kind an
//! enum.
//!
//! Invariants: a [`Shape`] decides exactly what the checker did by reading its JSON node (same
//! order of keywords, same `null` filtering), and keeps that node for the messages, which are
//! still worded from the JSON (they are rare, and so they stay byte-identical). Nodes live in one
//! arena indexed by [`NodeId`], memoised by the JSON node they compile, so recursive schemas (a
//! payload holds payloads) compile to a cycle of ids rather than forever.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde_json::Value as Json;

use super::Kind;

/// Index of a node in a [`Shapes`] arena.
pub type NodeId = usize;

/// The compiled schemas reachable from one entry schema.
pub struct Shapes<'s> {
    root: &'s Json,
    nodes: Vec<Shape<'s>>,
    entry: NodeId,
}

/// One resolved schema node and what the checker does with it.
pub struct Shape<'s> {
    /// The resolved JSON node, for messages.
    pub json: &'s Json,
    /// The decided dispatch.
    pub form: Form<'s>,
}

/// What a schema node accepts, in the checker's order of keywords.
pub enum Form<'s> {
    /// `x-spec-type`: a literal kind.
    Literal(Literal<'s>),
    /// `oneOf`: an enum of unit and tagged variants.
    Variant(Variant<'s>),
    /// `anyOf`, without `null` branches.
    AnyOf(Vec<NodeId>),
    /// `enum` of symbols.
    Symbol(Vec<&'s str>),
    /// `type: string`.
    Str,
    /// `type: boolean`.
    Bool,
    /// `type: integer`, with its effective bounds (declared and the Rust type's own).
    Int {
        /// The least value allowed.
        min: Option<i64>,
        /// The greatest value allowed.
        max: Option<i64>,
    },
    /// `type: array`, with its item schema if it names one.
    List(Option<NodeId>),
    /// `type: object`, or a node checked as a record.
    Object(Object<'s>),
    /// Anything else: every value is a mismatch.
    Other,
}

/// The literal kinds of `x-spec-type`.
pub enum Literal<'s> {
    /// `any`: every value.
    Any,
    /// A duration.
    Duration,
    /// A size.
    Size,
    /// A cpu amount (cores or millicores, [`super::types::Cpu`]).
    Cpu,
    /// An IP address.
    Address,
    /// An address and prefix.
    Cidr,
    /// A port and protocol.
    Port,
    /// A name (a symbol, or a string taken as one).
    Name,
    /// Where a service is reached: `service.NAME.host`, `.port` or `.url`.
    Endpoint,
    /// Text, which may hold where services are ([`super::types::Template`]).
    Text,
    /// A reference to one of these kinds (`x-spec-ref`).
    Reference(Vec<&'s str>),
    /// A literal kind the checker does not know: never fits.
    Unknown,
}

/// A `oneOf`.
pub struct Variant<'s> {
    /// The tag of each branch that has one, in order (for messages and `needs fields`).
    pub tags: Vec<&'s str>,
    /// Symbols accepted as unit variants (every branch's `enum` values and `const`).
    pub units: Vec<&'s str>,
    /// For each tag, the first branch with that tag and properties: its record's node, or `None`
    /// when that branch does not hold the tag as a property.
    pub tagged: Vec<(&'s str, Option<NodeId>)>,
}

/// How a record is checked.
pub enum Object<'s> {
    /// A struct: known properties, and the required ones in schema order.
    Struct {
        /// Property name to its node.
        properties: FxHashMap<&'s str, NodeId>,
        /// The required properties.
        required: Vec<&'s str>,
    },
    /// A map whose values have one schema.
    Map(NodeId),
    /// Any record.
    Any,
}

fn as_str<'a>(schema: &'a Json, key: &str) -> Option<&'a str> {
    schema.get(key).and_then(Json::as_str)
}

/// The tag of a `oneOf` branch: its one required property, or its `const`/first `enum` value.
pub fn variant_tag(branch: &Json) -> Option<&str> {
    if let Some(tag) = branch.get("required").and_then(Json::as_array).and_then(|r| r.first()).and_then(Json::as_str) {
        return Some(tag);
    }
    branch
        .get("const")
        .and_then(Json::as_str)
        .or_else(|| branch.get("enum").and_then(Json::as_array).and_then(|e| e.first()).and_then(Json::as_str))
}

/// Follows `$ref`s (at most 16) to the schema they name within `root`'s `$defs`.
pub fn resolve<'s>(root: &'s Json, mut schema: &'s Json) -> &'s Json {
    for _ in 0..16 {
        match as_str(schema, "$ref").and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(name) => match root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => schema = target,
                None => return schema,
            },
            None => return schema,
        }
    }
    schema
}

/// A kind's record schema, compiled on first use.
pub fn kind_shapes(kind: Kind) -> &'static Shapes<'static> {
    macro_rules! cached {
        ($($kind:ident),*) => {
            match kind {
                $(Kind::$kind => {
                    static SHAPES: OnceLock<Shapes<'static>> = OnceLock::new();
                    SHAPES.get_or_init(|| Shapes::record_of(super::kind_schema(kind)))
                })*
            }
        };
    }
    cached!(
        Node, Network, Cluster, Storage, Service, Alert, Backup, Workflow, Secret, Receiver, Route, Bucket, Endpoint,
        Slo, Job, Stream
    )
}

static NULL: Json = Json::Null;

/// The shapes of a checker made from a bare schema, which only resolves and describes: none.
pub static NO_SHAPES: Shapes<'static> = Shapes { root: &NULL, nodes: Vec::new(), entry: 0 };

impl<'s> Shapes<'s> {
    /// Compiles `root` as a record schema (a resource's body).
    pub fn record_of(root: &'s Json) -> Shapes<'s> {
        Self::compile_entry(root, root, true)
    }

    /// Compiles `schema`, a node within `root`, as a value schema.
    pub fn value_of(root: &'s Json, schema: &'s Json) -> Shapes<'s> {
        Self::compile_entry(root, schema, false)
    }

    fn compile_entry(root: &'s Json, schema: &'s Json, as_record: bool) -> Shapes<'s> {
        let mut compiler =
            Compiler { shapes: Shapes { root, nodes: Vec::new(), entry: 0 }, memo: FxHashMap::default() };
        let entry = compiler.compile(schema, as_record);
        compiler.shapes.entry = entry;
        compiler.shapes
    }

    /// The root schema (whose `$defs` hold the shared definitions).
    pub fn root(&self) -> &'s Json {
        self.root
    }

    /// The entry node.
    pub fn entry(&self) -> NodeId {
        self.entry
    }

    /// A node by id (ids come from this arena, so every one is present).
    pub fn node(&self, id: NodeId) -> &Shape<'s> {
        &self.nodes[id]
    }
}

struct Compiler<'s> {
    shapes: Shapes<'s>,
    /// Compiled nodes by the address of their resolved JSON and whether compiled as a record.
    memo: FxHashMap<(*const Json, bool), NodeId>,
}

impl<'s> Compiler<'s> {
    fn compile(&mut self, schema: &'s Json, as_record: bool) -> NodeId {
        let json = resolve(self.shapes.root, schema);
        let key = (std::ptr::from_ref(json), as_record);
        if let Some(&id) = self.memo.get(&key) {
            return id;
        }
        let id = self.shapes.nodes.len();
        self.shapes.nodes.push(Shape { json, form: Form::Other });
        self.memo.insert(key, id);
        let form = if as_record { Form::Object(self.object(json)) } else { self.form(json) };
        self.shapes.nodes[id].form = form;
        id
    }

    /// The branches of an `anyOf`/`oneOf`, resolved, without `null`.
    fn branches(&self, schema: &'s Json, key: &str) -> Option<Vec<&'s Json>> {
        let list = schema.get(key)?.as_array()?;
        Some(list.iter().map(|b| resolve(self.shapes.root, b)).filter(|b| as_str(b, "type") != Some("null")).collect())
    }

    fn form(&mut self, schema: &'s Json) -> Form<'s> {
        if let Some(kind) = as_str(schema, "x-spec-type") {
            return Form::Literal(literal(schema, kind));
        }
        if let Some(branches) = self.branches(schema, "oneOf") {
            return Form::Variant(self.variant(&branches));
        }
        if let Some(branches) = self.branches(schema, "anyOf") {
            return Form::AnyOf(branches.into_iter().map(|b| self.compile(b, false)).collect());
        }
        if let Some(allowed) = schema.get("enum").and_then(Json::as_array) {
            return Form::Symbol(allowed.iter().filter_map(Json::as_str).collect());
        }
        let first_type = match schema.get("type") {
            Some(Json::String(t)) => Some(t.as_str()),
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).find(|t| *t != "null"),
            _ => None,
        };
        match first_type {
            Some("string") => Form::Str,
            Some("boolean") => Form::Bool,
            Some("integer") => {
                let (min, max) = bounds(schema);
                Form::Int { min, max }
            }
            Some("array") => Form::List(schema.get("items").map(|items| self.compile(items, false))),
            Some("object") => Form::Object(self.object(schema)),
            _ => Form::Other,
        }
    }

    fn object(&mut self, schema: &'s Json) -> Object<'s> {
        let Some(properties) = schema.get("properties").and_then(Json::as_object) else {
            return match schema.get("additionalProperties").filter(|v| v.is_object()) {
                Some(values) => Object::Map(self.compile(values, false)),
                None => Object::Any,
            };
        };
        let properties =
            properties.iter().map(|(name, property)| (name.as_str(), self.compile(property, false))).collect();
        let required = schema.get("required").and_then(Json::as_array);
        let required = required.into_iter().flatten().filter_map(Json::as_str).collect();
        Object::Struct { properties, required }
    }

    fn variant(&mut self, branches: &[&'s Json]) -> Variant<'s> {
        let tags: Vec<&'s str> = branches.iter().filter_map(|b| variant_tag(b)).collect();
        let mut units = Vec::new();
        for branch in branches {
            units.extend(branch.get("enum").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str));
            units.extend(branch.get("const").and_then(Json::as_str));
        }
        let mut tagged: Vec<(&'s str, Option<NodeId>)> = Vec::new();
        for branch in branches {
            let (Some(tag), Some(properties)) = (variant_tag(branch), branch.get("properties")) else { continue };
            if tagged.iter().any(|(seen, _)| *seen == tag) {
                continue;
            }
            let inner = properties.get(tag).map(|inner| self.compile(inner, true));
            tagged.push((tag, inner));
        }
        Variant { tags, units, tagged }
    }
}

fn literal<'s>(schema: &'s Json, kind: &str) -> Literal<'s> {
    match kind {
        "any" => Literal::Any,
        "duration" => Literal::Duration,
        "size" => Literal::Size,
        "cpu" => Literal::Cpu,
        "address" => Literal::Address,
        "cidr" => Literal::Cidr,
        "port" => Literal::Port,
        "name" => Literal::Name,
        "endpoint" => Literal::Endpoint,
        "text" => Literal::Text,
        "reference" => Literal::Reference(
            schema
                .get("x-spec-ref")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default(),
        ),
        _ => Literal::Unknown,
    }
}

/// An integer schema's effective bounds: the declared ones, and the Rust type's own bounds
/// (`format: uint32`) even where the schema names no maximum.
pub fn bounds(schema: &Json) -> (Option<i64>, Option<i64>) {
    let format_max = match as_str(schema, "format") {
        Some("uint8") => Some(i64::from(u8::MAX)),
        Some("uint16") => Some(i64::from(u16::MAX)),
        Some("uint32") => Some(i64::from(u32::MAX)),
        Some("int32") => Some(i64::from(i32::MAX)),
        _ => None,
    };
    let min = schema.get("minimum").and_then(Json::as_i64);
    let max = match (schema.get("maximum").and_then(Json::as_i64), format_max) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    (min, max)
}
