//! Every leaf field of every kind, read from the kind's compiled schema (`model::shape`), and a
//! value of its type for it: what the invariant test sets, one field at a time.
//!
//! A path is written as the spec writes it, with `*` for a member's label and the variant's tag
//! as a segment: `disk.*.device`, `health.http.port`, `offsite.restic.keep.daily`. Each path
//! keeps how every level above the leaf is written (`field { … }`, `field = tag { … }`,
//! `field LABEL { … }`) and that level's required fields, so the test can write the leaf inside
//! the smallest valid record.

use serde_json::Value as Json;
use spec_compiler::model::Kind;
use spec_compiler::model::shape::{Form, Literal, NodeId, Object, Shapes, kind_shapes};

/// How a level above the leaf is written.
#[derive(Clone, Debug)]
pub enum Level {
    /// `key { … }`.
    Record,
    /// `key = tag { … }`.
    Tagged(String),
    /// `key LABEL { … }`.
    Member,
}

/// One level above a leaf: its key, how it is written and its record's node.
#[derive(Clone, Debug)]
pub struct Step {
    /// The field's name in its parent.
    pub key: String,
    /// How it is written.
    pub level: Level,
    /// The record the level holds.
    pub record: NodeId,
}

/// A leaf field of a kind.
#[derive(Clone, Debug)]
pub struct Field {
    /// The kind.
    pub kind: Kind,
    /// The spelled path (`health.http.port`).
    pub path: String,
    /// The levels above the leaf, outermost first.
    pub steps: Vec<Step>,
    /// The leaf's name in its record.
    pub key: String,
    /// The leaf's schema node.
    pub node: NodeId,
    /// Whether its record requires it.
    pub required: bool,
    /// Its default, when the schema states one.
    pub default: Option<Json>,
}

/// Every leaf field of `kind`, in path order.
pub fn fields(kind: Kind) -> Vec<Field> {
    let shapes = kind_shapes(kind);
    let mut out = Vec::new();
    walk_record(shapes, kind, shapes.entry(), &mut Vec::new(), &mut String::new(), &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The node of a property, through `anyOf`s of one branch (an `Option`).
pub fn unwrap(shapes: &Shapes<'_>, mut id: NodeId) -> NodeId {
    while let Form::AnyOf(branches) = &shapes.node(id).form {
        if branches.len() != 1 {
            break;
        }
        id = branches[0];
    }
    id
}

/// The struct's properties, sorted, with whether each is required.
pub fn properties(shapes: &Shapes<'_>, record: NodeId) -> Vec<(String, NodeId, bool)> {
    let Form::Object(Object::Struct { properties, required }) = &shapes.node(record).form else {
        return Vec::new();
    };
    let mut list: Vec<(String, NodeId, bool)> =
        properties.iter().map(|(name, id)| (name.to_string(), *id, required.contains(name))).collect();
    list.sort();
    list
}

fn is_struct(shapes: &Shapes<'_>, id: NodeId) -> bool {
    matches!(shapes.node(id).form, Form::Object(Object::Struct { .. }))
}

fn walk_record(
    shapes: &Shapes<'_>,
    kind: Kind,
    record: NodeId,
    steps: &mut Vec<Step>,
    prefix: &mut String,
    out: &mut Vec<Field>,
) {
    for (key, property, required) in properties(shapes, record) {
        let base = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(&key);
        let id = unwrap(shapes, property);
        let default = shapes.node(property).json.get("default").cloned();
        let leaf = |out: &mut Vec<Field>, steps: &[Step], path: &str| {
            out.push(Field {
                kind,
                path: path.to_string(),
                steps: steps.to_vec(),
                key: key.clone(),
                node: id,
                required,
                default: default.clone(),
            })
        };
        match &shapes.node(id).form {
            Form::Object(Object::Struct { .. }) => {
                steps.push(Step { key: key.clone(), level: Level::Record, record: id });
                walk_record(shapes, kind, id, steps, prefix, out);
                steps.pop();
            }
            Form::Object(Object::Map(values)) if is_struct(shapes, unwrap(shapes, *values)) => {
                walk_members(shapes, kind, &key, unwrap(shapes, *values), steps, prefix, out);
            }
            Form::Variant(variant) if is_tagged_record(variant) => {
                walk_tagged(shapes, kind, &key, variant, steps, prefix, out);
            }
            Form::AnyOf(branches) => {
                // `namespace`: a name, or member blocks; `offsite`: one tagged record, or a list
                // of them (whose items hold the same fields, so the one form is walked).
                let mut scalar = false;
                for &branch in branches {
                    match &shapes.node(unwrap(shapes, branch)).form {
                        Form::Object(Object::Map(values)) if is_struct(shapes, unwrap(shapes, *values)) => {
                            walk_members(shapes, kind, &key, unwrap(shapes, *values), steps, prefix, out)
                        }
                        Form::Variant(variant) if is_tagged_record(variant) => {
                            walk_tagged(shapes, kind, &key, variant, steps, prefix, out)
                        }
                        Form::List(Some(item)) if is_tagged_list(shapes, *item) => {}
                        _ => scalar = true,
                    }
                }
                if scalar {
                    leaf(out, steps, prefix);
                }
            }
            _ => leaf(out, steps, prefix),
        }
        prefix.truncate(base);
    }
}

fn is_tagged_record(variant: &spec_compiler::model::shape::Variant<'_>) -> bool {
    variant.tagged.iter().any(|(_, inner)| inner.is_some())
}

/// Whether a list's items are tagged records (`[restic { … }, …]`).
fn is_tagged_list(shapes: &Shapes<'_>, item: NodeId) -> bool {
    matches!(&shapes.node(unwrap(shapes, item)).form, Form::Variant(variant) if is_tagged_record(variant))
}

fn walk_tagged(
    shapes: &Shapes<'_>,
    kind: Kind,
    key: &str,
    variant: &spec_compiler::model::shape::Variant<'_>,
    steps: &mut Vec<Step>,
    prefix: &mut String,
    out: &mut Vec<Field>,
) {
    for (tag, inner) in &variant.tagged {
        let Some(inner) = inner else { continue };
        let before = prefix.len();
        prefix.push('.');
        prefix.push_str(tag);
        steps.push(Step { key: key.to_string(), level: Level::Tagged(tag.to_string()), record: *inner });
        walk_record(shapes, kind, *inner, steps, prefix, out);
        steps.pop();
        prefix.truncate(before);
    }
}

fn walk_members(
    shapes: &Shapes<'_>,
    kind: Kind,
    key: &str,
    record: NodeId,
    steps: &mut Vec<Step>,
    prefix: &mut String,
    out: &mut Vec<Field>,
) {
    let before = prefix.len();
    prefix.push_str(".*");
    steps.push(Step { key: key.to_string(), level: Level::Member, record });
    walk_record(shapes, kind, record, steps, prefix, out);
    steps.pop();
    prefix.truncate(before);
}

/// The references an estate holds, by the kinds a field may name: two of them.
pub type References = dyn Fn(&[&str]) -> Option<(String, String)>;

/// Two different values of a leaf's type as the spec writes them, the first its default when it
/// has one; references are the test's estate's (`refs`, by the kinds they may name).
pub fn generated(
    shapes: &Shapes<'_>,
    id: NodeId,
    default: Option<&Json>,
    refs: &References,
) -> Option<(String, String)> {
    let id = unwrap(shapes, id);
    let pick = |choices: Vec<String>| -> Option<(String, String)> {
        let first = default.and_then(Json::as_str).map(str::to_string).unwrap_or_else(|| choices[0].clone());
        let second = choices.iter().find(|c| **c != first)?.clone();
        Some((first, second))
    };
    Some(match &shapes.node(id).form {
        Form::Literal(literal) => match literal {
            Literal::Duration => ("1h".into(), "2h".into()),
            Literal::Size => ("1GiB".into(), "2GiB".into()),
            Literal::Cpu => ("1".into(), "2".into()),
            Literal::Address => ("10.0.0.50".into(), "10.0.0.51".into()),
            Literal::Cidr => ("10.50.0.0/24".into(), "10.51.0.0/24".into()),
            Literal::Port => ("8090/tcp".into(), "8091/tcp".into()),
            Literal::Name => ("http".into(), "admin".into()),
            Literal::Any => ("\"generated-a\"".into(), "\"generated-b\"".into()),
            Literal::Reference(kinds) => return refs(kinds),
            Literal::Endpoint => ("service.peer.host".into(), "service.peer.port".into()),
            Literal::Text => ("\"generated-a\"".into(), "\"generated-b\"".into()),
            Literal::Unknown => return None,
        },
        Form::Variant(variant) => {
            let units: Vec<String> = variant.units.iter().map(|u| u.to_string()).collect();
            if units.len() < 2 {
                return None;
            }
            return pick(units);
        }
        Form::Symbol(symbols) => return pick(symbols.iter().map(|s| s.to_string()).collect()),
        Form::Str => ("\"generated-a\"".into(), "\"generated-b\"".into()),
        Form::Bool => {
            let first = default.and_then(Json::as_bool).unwrap_or(false);
            (first.to_string(), (!first).to_string())
        }
        Form::Int { min, max } => {
            let first = default.and_then(Json::as_i64).unwrap_or(min.unwrap_or(0).max(1));
            let second = (1..=3).map(|d| first + d).find(|v| max.is_none_or(|m| *v <= m))?;
            (first.to_string(), second.to_string())
        }
        Form::List(Some(item)) => {
            let (a, b) = generated(shapes, *item, None, refs)?;
            (format!("[{a}]"), format!("[{b}]"))
        }
        Form::Object(Object::Map(values)) => {
            let (a, b) = generated(shapes, *values, None, refs)?;
            (format!("{{ generated = {a} }}"), format!("{{ generated = {b} }}"))
        }
        Form::AnyOf(branches) => return branches.iter().find_map(|b| generated(shapes, *b, default, refs)),
        _ => return None,
    })
}
