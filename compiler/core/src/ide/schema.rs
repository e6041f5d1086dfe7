//! Field facts from the kinds' JSON Schemas: what a nested field is, its type in words, its
//! default and doc, the fields a record takes and the symbols a value may be.
//!
//! The schemas are the ones the checker walks ([`crate::model::kind_schema`]), so what the editor
//! shows is what `spec check` enforces.

use serde_json::Value as Json;

use super::walk::Seg;
use crate::model::check::Checker;
use crate::model::{Kind, kind_schema};

/// What the editor shows about a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// What it accepts, in words (`an integer`, `a reference `node.NAME``).
    pub accepts: String,
    /// Its default, when the schema declares one worth showing (not an empty list or map).
    pub default: Option<String>,
    /// Its doc comment.
    pub doc: Option<String>,
    /// Whether every block must set it.
    pub required: bool,
}

/// A symbol a value may be: an enum value or a variant tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// As written (`nixos`, `http`).
    pub name: String,
    /// Its doc comment.
    pub doc: Option<String>,
    /// Whether it opens a body (`http { … }`).
    pub tagged: bool,
}

/// Looks through `$ref`s, `Option`s (`anyOf [T, null]`) and lists to the schema of one value.
fn unwrap<'s>(checker: &Checker<'s>, schema: &'s Json) -> &'s Json {
    let mut schema = checker.resolve(schema);
    for _ in 0..8 {
        if let Some(items) = schema.get("items") {
            schema = checker.resolve(items);
            continue;
        }
        let branches: Vec<&Json> = schema
            .get("anyOf")
            .and_then(Json::as_array)
            .map(|list| {
                list.iter()
                    .map(|b| checker.resolve(b))
                    .filter(|b| b.get("type").and_then(Json::as_str) != Some("null"))
                    .collect()
            })
            .unwrap_or_default();
        // One value or a list of them (`offsite = restic { … }` or `[restic { … }, …]`): the
        // value's variants are what an editor offers.
        let variants: Vec<&Json> = branches.iter().copied().filter(|b| b.get("oneOf").is_some()).collect();
        match (branches.as_slice(), variants.as_slice()) {
            ([only], _) | (_, [only]) => schema = only,
            _ => break,
        }
    }
    schema
}

fn property<'s>(checker: &Checker<'s>, schema: &'s Json, name: &str) -> Option<&'s Json> {
    let schema = unwrap(checker, schema);
    match schema.get("properties").and_then(|p| p.get(name)) {
        Some(found) => Some(found),
        None => schema.get("additionalProperties").filter(|v| v.is_object()),
    }
}

/// The schema a path leads to from `kind`'s root, with the root (for `$ref`s).
pub fn at_path(kind: Kind, path: &[Seg]) -> Option<(&'static Json, &'static Json)> {
    let root = kind_schema(kind);
    let checker = Checker::new(root);
    let mut schema = root;
    for seg in path {
        schema = match seg {
            Seg::Field(name) => property(&checker, schema, name)?,
            Seg::Member(name) => {
                let map = unwrap(&checker, property(&checker, schema, name)?);
                map.get("additionalProperties").filter(|v| v.is_object())?
            }
            Seg::Variant(tag) => {
                let branches = unwrap(&checker, schema).get("oneOf")?.as_array()?;
                branches.iter().find_map(|b| checker.resolve(b).get("properties")?.get(tag.as_str()))?
            }
            Seg::Use(_) => return None,
        };
    }
    Some((root, schema))
}

/// The facts of the field `name` of the body at `path` in a `kind` block.
pub fn field(kind: Kind, path: &[Seg], name: &str) -> Option<FieldInfo> {
    let (root, parent) = at_path(kind, path)?;
    let checker = Checker::new(root);
    let parent = unwrap(&checker, parent);
    let schema = property(&checker, parent, name)?;
    let resolved = checker.resolve(schema);
    let required = parent
        .get("required")
        .and_then(Json::as_array)
        .is_some_and(|list| list.iter().any(|r| r.as_str() == Some(name)));
    let default = schema
        .get("default")
        .filter(|d| !matches!(d, Json::Array(a) if a.is_empty()) && !matches!(d, Json::Object(o) if o.is_empty()))
        .map(|d| match d {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        });
    let doc = schema.get("description").or_else(|| resolved.get("description")).and_then(Json::as_str);
    Some(FieldInfo { accepts: checker.describe(schema), default, doc: doc.map(str::to_string), required })
}

/// The fields a body at `path` of a `kind` block takes, with their facts, in schema order (none
/// for a map, whose keys are the user's).
pub fn fields(kind: Kind, path: &[Seg]) -> Vec<(String, FieldInfo)> {
    let Some((root, schema)) = at_path(kind, path) else { return Vec::new() };
    let checker = Checker::new(root);
    let Some(properties) = unwrap(&checker, schema).get("properties").and_then(Json::as_object) else {
        return Vec::new();
    };
    properties
        .keys()
        .filter(|name| name.as_str() != "name")
        .filter_map(|name| Some((name.clone(), field(kind, path, name)?)))
        .collect()
}

/// The symbols the field at `path` may be set to: enum values and variant tags.
pub fn choices(kind: Kind, path: &[Seg]) -> Vec<Choice> {
    let Some((root, schema)) = at_path(kind, path) else { return Vec::new() };
    let checker = Checker::new(root);
    let schema = unwrap(&checker, schema);
    let doc = |b: &Json| b.get("description").and_then(Json::as_str).map(str::to_string);
    let mut found = Vec::new();
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        found.extend(values.iter().filter_map(Json::as_str).map(|v| Choice {
            name: v.into(),
            doc: None,
            tagged: false,
        }));
    }
    for branch in schema.get("oneOf").and_then(Json::as_array).into_iter().flatten() {
        let branch = checker.resolve(branch);
        if let Some(value) = branch.get("const").and_then(Json::as_str) {
            found.push(Choice { name: value.into(), doc: doc(branch), tagged: false });
        } else if let Some(tags) = branch.get("properties").and_then(Json::as_object) {
            found.extend(tags.keys().map(|tag| Choice { name: tag.clone(), doc: doc(branch), tagged: true }));
        }
    }
    if schema.get("type").and_then(Json::as_str) == Some("boolean")
        || schema.get("type").and_then(Json::as_array).is_some_and(|t| t.iter().any(|t| t == "boolean"))
    {
        for value in ["true", "false"] {
            found.push(Choice { name: value.into(), doc: None, tagged: false });
        }
    }
    found
}

/// The kinds a reference field at `path` may name (`["node", "cluster"]` for `on`).
pub fn reference_kinds(kind: Kind, path: &[Seg]) -> Vec<String> {
    let Some((root, schema)) = at_path(kind, path) else { return Vec::new() };
    let checker = Checker::new(root);
    let schema = unwrap(&checker, schema);
    schema
        .get("x-spec-ref")
        .and_then(Json::as_array)
        .map(|kinds| kinds.iter().filter_map(Json::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The doc comment of a kind (`A long-running workload.`).
pub fn kind_doc(kind: Kind) -> Option<&'static str> {
    kind_schema(kind).get("description").and_then(Json::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields_variants_and_members_resolve() {
        let replicas = field(Kind::Service, &[], "replicas").expect("replicas");
        assert_eq!(replicas.accepts, "an integer");
        assert_eq!(replicas.default.as_deref(), Some("1"));
        assert!(!replicas.required);
        assert!(field(Kind::Service, &[], "on").expect("on").required);
        let port = field(Kind::Service, &[Seg::Field("health".into()), Seg::Variant("http".into())], "path");
        assert_eq!(port.map(|p| p.accepts), Some("a string".into()));
        let layout = field(Kind::Node, &[Seg::Member("zpool".into())], "layout").expect("layout");
        assert!(layout.accepts.starts_with("one of"), "{}", layout.accepts);
        let names: Vec<String> =
            fields(Kind::Service, &[Seg::Field("resources".into())]).into_iter().map(|f| f.0).collect();
        assert_eq!(names, ["cpu", "memory", "gpu", "gpu_model", "gpu_memory"]);
    }

    #[test]
    fn choices_list_enum_values_variants_and_booleans() {
        let os: Vec<String> = choices(Kind::Node, &[Seg::Field("os".into())]).into_iter().map(|c| c.name).collect();
        assert_eq!(os, ["nixos", "ubuntu", "debian", "fedora", "rocky"]);
        let health = choices(Kind::Service, &[Seg::Field("health".into())]);
        assert!(health.iter().all(|c| c.tagged));
        assert_eq!(health.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["http", "tcp", "exec"]);
        let trusted: Vec<String> =
            choices(Kind::Network, &[Seg::Field("trusted".into())]).into_iter().map(|c| c.name).collect();
        assert_eq!(trusted, ["true", "false"]);
        assert_eq!(reference_kinds(Kind::Service, &[Seg::Field("on".into())]), ["node", "cluster"]);
        assert_eq!(
            reference_kinds(Kind::Service, &[Seg::Field("needs".into())]),
            ["service", "job", "bucket", "endpoint"]
        );
        // `offsite` takes one copy or a list: the copy's variants and fields either way.
        let offsite: Vec<String> =
            choices(Kind::Backup, &[Seg::Field("offsite".into())]).into_iter().map(|c| c.name).collect();
        assert_eq!(offsite, ["restic"]);
        let restic = [Seg::Field("offsite".into()), Seg::Variant("restic".into())];
        assert_eq!(
            reference_kinds(Kind::Backup, &[restic[0].clone(), restic[1].clone(), Seg::Field("bucket".into())]),
            ["bucket"]
        );
    }
}
