//! Secrets holding several values (`keys = ["admin-user", "admin-password"]`): before the
//! resources are checked, every reference `secret.NAME.KEY` to such a secret becomes a reference
//! to the key's facet `secret.NAME.KEY` (one name, `NAME.KEY`, no field), and after the model is
//! built each key's facet is added beside the secret ([`super::Secret::facet`]). Every target then
//! reads a key as it reads a one-key secret.
//!
//! What a reference may say: `secret.NAME.KEY` for a declared key (E0750 otherwise), and the
//! whole secret only inside a `helm` payload, where it is the name of the Secret holding every key
//! (E0751 where one value is expected: an environment variable, a password, a payload on a host).
//! The `keys` list itself names each key once, as a word a file, a credential and a Secret key
//! take, and neither `name` nor `key`, which `secret.NAME.name` and `.key` read in Helm values
//! (E0754). Estates without such a secret pay one scan of their secrets.

use rustc_hash::FxHashMap;

use super::secret::facet_name;
use super::{Model, Resource};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::eval::value::{Value, ValueKind};
use crate::model::Kind;
use crate::source::Span;

/// The keys each secret holding several values declares, valid ones only, by secret name.
type Declared = FxHashMap<String, Vec<String>>;

/// Rewrites the references to keys in `resources` (and `extra`, blocks checked but not built),
/// reporting the references and `keys` lists that are wrong.
pub fn rewrite(
    resources: &mut [crate::eval::Resource],
    extra: &mut [crate::eval::Resource],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let declared = declared(resources, diagnostics);
    if declared.is_empty() {
        return;
    }
    for resource in resources.iter_mut().chain(extra.iter_mut()) {
        let mut poisoned = false;
        for (field, entry) in resource.body.iter_mut() {
            let in_helm = field.as_str() == "helm";
            walk(&mut entry.value, in_helm, &declared, &mut poisoned, diagnostics);
        }
        resource.poisoned |= poisoned;
    }
}

/// The valid keys of every secret that declares `keys`, reporting lists that are wrong (E0754).
fn declared(resources: &[crate::eval::Resource], diagnostics: &mut Vec<Diagnostic>) -> Declared {
    let mut declared = Declared::default();
    for resource in resources.iter().filter(|r| r.kind == Kind::Secret) {
        let Some(field) = resource.body.get("keys") else { continue };
        let ValueKind::List(items) = &field.value.kind else { continue };
        let mut keys: Vec<String> = Vec::new();
        if items.is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::E0754, field.value.span, format!("secret `{}` declares no key", resource.name))
                    .with_primary_label("an empty list")
                    .with_help("name each value the secret holds, `keys = [\"user\", \"password\"]`, or remove `keys` for a one-key secret"),
            );
        }
        for item in items {
            let ValueKind::Str(key) = &item.kind else { continue };
            let problem = if keys.contains(key) {
                Some(format!("secret `{}` declares the key `{key}` twice", resource.name))
            } else if key == "name" || key == "key" {
                Some(format!(
                    "secret `{}`: a key named `{key}` would read as `secret.{}.{key}` in Helm values",
                    resource.name, resource.name
                ))
            } else if !key_word(key) {
                Some(format!("secret `{}`: the key `{key}` is not a word a file and a Secret key take", resource.name))
            } else {
                None
            };
            match problem {
                Some(message) => diagnostics.push(
                    Diagnostic::new(Code::E0754, item.span, message)
                        .with_primary_label("this key")
                        .with_help("name each key once, with letters, digits, `-`, `_` and `.` (not `name` nor `key`)"),
                ),
                None => keys.push(key.clone()),
            }
        }
        declared.insert(resource.name.clone(), keys);
    }
    declared
}

/// Whether a key is a word a file name, a credential name and a Kubernetes Secret key all take:
/// letters, digits, `-`, `_` and `.`, not `.` or `..` alone.
fn key_word(key: &str) -> bool {
    !key.is_empty()
        && key != "."
        && key != ".."
        && key.len() <= 253
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn walk(value: &mut Value, in_helm: bool, declared: &Declared, poisoned: &mut bool, diagnostics: &mut Vec<Diagnostic>) {
    match &mut value.kind {
        ValueKind::Ref(reference) if reference.kind == "secret" => {
            let Some(keys) = declared.get(&reference.name) else { return };
            let span = value.span;
            match reference.field.first().map(String::as_str) {
                Some(key) if keys.iter().any(|k| k == key) => {
                    reference.name = facet_name(&reference.name, key);
                    reference.field.remove(0);
                }
                None if in_helm => {}
                Some("name") if in_helm => {}
                None => {
                    diagnostics.push(whole(&reference.name, keys, span));
                    *poisoned = true;
                }
                Some(key) => {
                    diagnostics.push(unknown(&reference.name, key, keys, in_helm, span));
                    reference.field.clear();
                    *poisoned = true;
                }
            }
        }
        ValueKind::List(items) => {
            for item in items {
                walk(item, in_helm, declared, poisoned, diagnostics);
            }
        }
        ValueKind::Record(record) | ValueKind::Tagged(_, record) => {
            for entry in record.values_mut() {
                walk(&mut entry.value, in_helm, declared, poisoned, diagnostics);
            }
        }
        _ => {}
    }
}

/// E0751: the whole secret where one value is expected.
fn whole(name: &str, keys: &[String], span: Span) -> Diagnostic {
    let first = keys.first().map_or("KEY", String::as_str);
    Diagnostic::new(Code::E0751, span, format!("secret `{name}` holds several values, and one is expected here"))
        .with_primary_label("the whole secret")
        .with_help(format!("name the key: `secret.{name}.{first}` (its keys are {})", listed(keys)))
}

/// E0750: a key the secret does not declare.
fn unknown(name: &str, key: &str, keys: &[String], in_helm: bool, span: Span) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(Code::E0750, span, format!("secret `{name}` has no key `{key}`"))
        .with_primary_label("not one of its keys");
    diagnostic = match did_you_mean(key, keys.iter().map(String::as_str)) {
        Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(span, key, close),
        None => diagnostic.with_help(format!("its keys are {}", listed(keys))),
    };
    if in_helm && key == "key" {
        diagnostic = diagnostic.with_note(format!(
            "in Helm values `secret.{name}.KEY` is the name of that key in the Secret `secret.{name}` names"
        ));
    }
    diagnostic
}

fn listed(keys: &[String]) -> String {
    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

/// Adds each declared key's facet beside the secret declaring it.
pub fn add_facets(model: &mut Model) {
    let mut facets: Vec<Resource<super::Secret>> = Vec::new();
    for secret in &model.secrets {
        let mut seen: Vec<&str> = Vec::new();
        for key in secret.spec.keys() {
            if seen.contains(&key.value.as_str()) || !key_word(&key.value) || key.value == "name" || key.value == "key"
            {
                continue;
            }
            seen.push(&key.value);
            facets.push(Resource {
                name: facet_name(&secret.name, &key.value),
                span: secret.span,
                name_span: key.span,
                spec: secret.spec.facet(&secret.name, key),
                presets: secret.presets.clone(),
                rows: secret.rows.clone(),
            });
        }
    }
    model.secrets.extend(facets);
}

/// The Secret a secret's facet is a key of, or the secret itself.
pub fn stored_in(secret: &Resource<super::Secret>) -> &str {
    secret.spec.facet.as_ref().map_or(secret.name.as_str(), |f| f.of.as_str())
}
