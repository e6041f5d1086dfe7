//! Configuration files a service mounts, raw manifests a cluster holds, and a cluster's
//! Kubernetes version.
//!
//! - `files { "/etc/app/config.yaml" = yaml { … }, "/etc/app/motd" = "text" }`: each file's
//!   content is text as written, or data (`yaml { … }`, `json { … }`) that every target renders
//!   the same way ([`FileContent::text`]). Each file gets a key ([`file_keys`]): its base name, or
//!   `<position>-<base name>` for every file of a service when two base names are equal, so the
//!   keys of a service's files are distinct by construction (a ConfigMap key, a file name under
//!   `/etc/spec/<service>/` on a host).
//! - `manifest NAME { namespace, body { … } }` on a cluster: an object no kind covers, written as
//!   given to the cluster's `k8s/` folder.
//! - `version = "1.29"` on a cluster: the Kubernetes minor version it runs ([`KubeVersion`]).
//!
//! Invariant: the checks ([`crate::graph`]) refuse a path that is not absolute and plain
//! ([`plain_path`]), a secret or any other value without a form in a file, and a manifest without
//! its identity, so the targets render every file and manifest they are given.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;

use super::types::{Endpoint, Payload, Reference, Spanned, Template, format_duration, format_size};

/// The content of a configuration file.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileContent {
    /// Text, written as is.
    Text(String),
    /// Text with holes where services are, filled by each target.
    Template(Template),
    /// Data written as YAML.
    Yaml(IndexMap<String, Payload>),
    /// Data written as JSON.
    Json(IndexMap<String, Payload>),
}

// The schema of `FileContent` as the checker reads it (its doc comment is the schema's
// description, which the checker's help quotes).
/// The file's content: its text as a string, or data written `yaml { … }` or `json { … }`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum FileContentSchema {
    /// Text, written as is (where services are filled in by each target).
    Text(Template),
    /// Data, rendered by every target the same way.
    Data(FileData),
}

/// The data forms of a file.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
enum FileData {
    /// Data written as YAML (every string quoted).
    Yaml(IndexMap<String, Payload>),
    /// Data written as JSON.
    Json(IndexMap<String, Payload>),
}

impl JsonSchema for FileContent {
    fn schema_name() -> Cow<'static, str> {
        "FileContent".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        FileContentSchema::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for FileContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Payload::deserialize(deserializer)? {
            Payload::Str(text) => Ok(FileContent::Text(text)),
            Payload::Template(template) => Ok(FileContent::Template(template)),
            Payload::Tagged(tag, data) if tag == "yaml" => Ok(FileContent::Yaml(data)),
            Payload::Tagged(tag, data) if tag == "json" => Ok(FileContent::Json(data)),
            _ => Err(serde::de::Error::custom("a file's content is text, `yaml { … }` or `json { … }`")),
        }
    }
}

/// A value inside a file or a manifest that has no form there, found by [`data_json`].
pub enum Formless<'p> {
    /// A secret: its value never enters the spec, so never a file.
    Secret(&'p Reference),
    /// Another value (a reference, `nix(…)`, a tagged record), described.
    Other(String, Option<&'p Reference>),
}

impl FileContent {
    /// The data of a `yaml { … }` or `json { … }` file.
    pub fn data(&self) -> Option<&IndexMap<String, Payload>> {
        match self {
            FileContent::Text(_) | FileContent::Template(_) => None,
            FileContent::Yaml(data) | FileContent::Json(data) => Some(data),
        }
    }

    /// The file's text: as written, or its data as YAML (through `yaml`, the target's writer) or
    /// as JSON (two spaces, a final line break); the holes of templates, in the text or in the
    /// data's strings, filled by `fill` (where each service is as the file's reader finds it).
    /// `None` when the data holds a value without a form, which the checks have refused, or a
    /// hole `fill` has no value for (E0625 from the checks).
    pub fn text(&self, yaml: impl Fn(&Json) -> Result<String, String>, fill: &mut Fill<'_>) -> Option<String> {
        match self {
            FileContent::Text(text) => Some(text.clone()),
            FileContent::Template(template) => template.fill(fill).ok(),
            FileContent::Yaml(data) => yaml(&data_json_filled(data, fill).ok()?).ok(),
            FileContent::Json(data) => {
                serde_json::to_string_pretty(&data_json_filled(data, fill).ok()?).ok().map(|text| text + "\n")
            }
        }
    }

    /// The holes of its templates: where the file's reader reads that services are.
    pub fn holes(&self) -> Vec<&Endpoint> {
        fn walk<'p>(value: &'p Payload, out: &mut Vec<&'p Endpoint>) {
            match value {
                Payload::Template(template) => out.extend(template.holes()),
                Payload::List(items) => items.iter().for_each(|i| walk(i, out)),
                Payload::Map(entries) | Payload::Tagged(_, entries) => entries.values().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        match self {
            FileContent::Text(_) => {}
            FileContent::Template(template) => out.extend(template.holes()),
            FileContent::Yaml(data) | FileContent::Json(data) => data.values().for_each(|v| walk(v, &mut out)),
        }
        out
    }
}

/// Fills a template's hole: where a service is as the reader finds it, or why it has no value.
pub type Fill<'f> = dyn FnMut(&Endpoint) -> Result<String, String> + 'f;

/// A record of data as JSON: strings, numbers, booleans, lists and records as written; symbols,
/// durations, sizes, addresses, ranges and ports as the spec writes them (`5m`, `1GiB`,
/// `10.0.0.0/24`, `8080/tcp`). The first value without a form is the error; a string with
/// references has none here (a manifest is read by no one service, so none fills it).
pub fn data_json(data: &IndexMap<String, Payload>) -> Result<Json, Formless<'_>> {
    data_json_in(data, &mut None)
}

/// [`data_json`] with the holes of templates filled by `fill`.
pub fn data_json_filled<'p>(data: &'p IndexMap<String, Payload>, fill: &mut Fill<'_>) -> Result<Json, Formless<'p>> {
    data_json_in(data, &mut Some(fill))
}

fn data_json_in<'p>(
    data: &'p IndexMap<String, Payload>,
    fill: &mut Option<&mut Fill<'_>>,
) -> Result<Json, Formless<'p>> {
    let mut out = serde_json::Map::new();
    for (key, value) in data {
        out.insert(key.clone(), payload_json(value, fill)?);
    }
    Ok(Json::Object(out))
}

fn payload_json<'p>(value: &'p Payload, fill: &mut Option<&mut Fill<'_>>) -> Result<Json, Formless<'p>> {
    Ok(match value {
        Payload::Str(s) | Payload::Symbol(s) => Json::String(s.clone()),
        Payload::Int(n) => Json::from(*n),
        Payload::Bool(b) => Json::Bool(*b),
        Payload::Duration(d) => Json::String(format_duration(d.0)),
        Payload::Size(s) => Json::String(format_size(s.0)),
        Payload::Address(a) => Json::String(a.0.to_string()),
        Payload::Cidr(c) => Json::String(format!("{}/{}", c.address, c.prefix)),
        Payload::Port(p) => Json::String(format!(
            "{}/{}",
            p.number,
            match p.protocol {
                super::types::Transport::Tcp => "tcp",
                super::types::Transport::Udp => "udp",
            }
        )),
        Payload::List(items) => {
            Json::Array(items.iter().map(|item| payload_json(item, fill)).collect::<Result<_, _>>()?)
        }
        Payload::Map(map) => data_json_in(map, fill)?,
        Payload::Template(template) => match fill {
            Some(fill) => match template.fill(&mut **fill) {
                Ok(text) => Json::String(text),
                Err(why) => return Err(Formless::Other(format!("`{}` ({why})", template.written()), None)),
            },
            None => return Err(Formless::Other(format!("the string with references `{}`", template.written()), None)),
        },
        Payload::Reference(reference) if reference.kind == "secret" => return Err(Formless::Secret(reference)),
        Payload::Reference(reference) => {
            return Err(Formless::Other(
                format!("a reference to {} `{}`", reference.kind, reference.name),
                Some(reference),
            ));
        }
        Payload::Nix(_) => return Err(Formless::Other("`nix(…)` code".into(), None)),
        Payload::Tagged(tag, _) => return Err(Formless::Other(format!("the tagged record `{tag} {{ … }}`"), None)),
    })
}

/// Why a file path is not absolute and plain, or `None` when it is: `/` then segments of
/// letters, digits, `.`, `_` and `-` (no `.` or `..` segment, no empty one), so the path means
/// one file on every target and stands in a ConfigMap key, a Nix attribute name and podman's
/// `--volume` without escaping.
pub fn plain_path(path: &str) -> Option<&'static str> {
    let Some(rest) = path.strip_prefix('/') else { return Some("it is not absolute") };
    if rest.is_empty() {
        return Some("it names the root folder");
    }
    for segment in rest.split('/') {
        if segment.is_empty() {
            return Some("it has an empty segment (`//`, or a trailing `/`)");
        }
        if segment == "." || segment == ".." {
            return Some("it has a `.` or `..` segment");
        }
        if !segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Some("it has a character other than letters, digits, `.`, `_`, `-` and `/`");
        }
    }
    None
}

/// Whether `inner` lies strictly under the folder `outer` (both plain paths).
pub fn is_under(inner: &str, outer: &str) -> bool {
    inner.len() > outer.len() && inner.starts_with(outer) && inner.as_bytes()[outer.len()] == b'/'
}

/// The key of each file (in the map's order): its base name, or `<position>-<base name>` for
/// every file when two base names are equal. Distinct within one service.
pub fn file_keys<'f, V>(files: &'f IndexMap<String, V>) -> Vec<(&'f str, String)> {
    let base = |path: &'f str| path.rsplit('/').next().unwrap_or(path);
    let mut seen = std::collections::HashSet::new();
    let distinct = files.keys().all(|path| seen.insert(base(path)));
    files
        .keys()
        .enumerate()
        .map(|(i, path)| {
            let key = if distinct { base(path).to_string() } else { format!("{i}-{}", base(path)) };
            (path.as_str(), key)
        })
        .collect()
}

/// The folder on a host holding a service's files, which are bind-mounted read-only at their
/// paths into its container: `/etc/spec/<service>`.
pub fn host_folder(service: &str) -> String {
    format!("/etc/spec/{service}")
}

/// An object a cluster holds that no kind covers, written as given.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The namespace of the cluster the object is in (its `metadata.namespace`). Default: none,
    /// for an object of the whole cluster (a `ClusterIssuer`), or the one its body names.
    pub namespace: Option<Spanned<String>>,
    /// The object: `apiVersion`, `kind`, `metadata { name … }` and the rest, as Kubernetes reads
    /// it.
    pub body: Spanned<IndexMap<String, Payload>>,
}

impl Manifest {
    /// The text of a field of the body's top level, or of its `metadata`.
    pub fn field(&self, name: &str) -> Option<&str> {
        fn text(value: &Payload) -> Option<&str> {
            match value {
                Payload::Str(s) | Payload::Symbol(s) => Some(s.as_str()),
                _ => None,
            }
        }
        match name.strip_prefix("metadata.") {
            Some(inner) => match self.body.value.get("metadata") {
                Some(Payload::Map(metadata)) => metadata.get(inner).and_then(text),
                _ => None,
            },
            None => self.body.value.get(name).and_then(text),
        }
    }

    /// The namespace the object is in: the manifest's `namespace`, else its body's.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_ref().map(|n| n.value.as_str()).or_else(|| self.field("metadata.namespace"))
    }

    /// The object as JSON, its `metadata.namespace` set from `namespace`; `None` when the body
    /// holds a value without a form (refused by the checks).
    pub fn object(&self) -> Option<Json> {
        let mut object = data_json(&self.body.value).ok()?;
        if let Some(namespace) = &self.namespace {
            let metadata =
                object.as_object_mut()?.entry("metadata").or_insert_with(|| Json::Object(Default::default()));
            metadata.as_object_mut()?.insert("namespace".into(), Json::String(namespace.value.clone()));
        }
        Some(object)
    }
}

/// A Kubernetes minor version, `1.29`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    /// The major version (1).
    pub major: u32,
    /// The minor version.
    pub minor: u32,
}

impl KubeVersion {
    /// Reads `MAJOR.MINOR` (`"1.29"`); a patch (`"1.29.3"`) or a `v` prefix is not taken, as the
    /// checks compare minor versions only.
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let (major, minor) = text.split_once('.')?;
        let number = |s: &str| {
            (!s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        let version = KubeVersion { major: number(major)?, minor: number(minor)? };
        (version.major == 1).then_some(version)
    }
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_are_absolute_without_odd_segments() {
        assert_eq!(plain_path("/etc/app/config.yaml"), None);
        assert!(plain_path("etc/app").is_some());
        assert!(plain_path("/").is_some());
        assert!(plain_path("/etc//app").is_some());
        assert!(plain_path("/etc/app/").is_some());
        assert!(plain_path("/etc/../app").is_some());
        assert!(plain_path("/etc/a b").is_some());
        assert!(plain_path("/etc/a:b").is_some());
    }

    #[test]
    fn under_is_by_whole_segments() {
        assert!(is_under("/etc/app/x", "/etc/app"));
        assert!(!is_under("/etc/application", "/etc/app"));
        assert!(!is_under("/etc/app", "/etc/app"));
    }

    #[test]
    fn keys_are_base_names_unless_two_are_equal() {
        let files: IndexMap<String, ()> =
            [("/etc/a/config.yaml".to_string(), ()), ("/etc/motd".to_string(), ())].into();
        let keys: Vec<String> = file_keys(&files).into_iter().map(|(_, k)| k).collect();
        assert_eq!(keys, ["config.yaml", "motd"]);
        let files: IndexMap<String, ()> = [("/etc/a/x".to_string(), ()), ("/etc/b/x".to_string(), ())].into();
        let keys: Vec<String> = file_keys(&files).into_iter().map(|(_, k)| k).collect();
        assert_eq!(keys, ["0-x", "1-x"]);
    }

    #[test]
    fn versions_are_major_and_minor() {
        assert_eq!(KubeVersion::parse("1.29"), Some(KubeVersion { major: 1, minor: 29 }));
        assert!(KubeVersion::parse("v1.29").is_none());
        assert!(KubeVersion::parse("1.29.3").is_none());
        assert!(KubeVersion::parse("2.0").is_none());
        assert!(KubeVersion::parse("1.").is_none());
    }
}
