//! Secrets: a secret has a backend for every target it is used on (NixOS nodes need `nixos`,
//! clusters `k8s`, other hosts `systemd`), and no literal looks like a secret: a value under a key
//! such as `DB_PASSWORD` or `API_TOKEN`, or a long high-entropy string.

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{Payload, Reference, Spanned};
use crate::model::{EnvValue, Offsite, Os};
use crate::source::Span;

/// Checks every use of a secret and every literal that could be one.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    backends(estate, diagnostics);
    plaintext(estate, diagnostics);
}

/// The backend a place needs.
fn needed(place: Place<'_>) -> (&'static str, String) {
    match place {
        Place::Node(node) if node.spec.os.value == Os::Nixos => ("nixos", format!("NixOS node `{}`", node.name)),
        Place::Node(node) => ("systemd", format!("node `{}`", node.name)),
        Place::Cluster(cluster) => ("k8s", format!("cluster `{}`", cluster.name)),
    }
}

fn backends(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut uses: Vec<(&Reference, Place<'_>)> = Vec::new();
    for node in &estate.model.nodes {
        if let Some(wireguard) = &node.spec.wireguard {
            uses.push((&wireguard.private_key.0, Place::Node(node)));
        }
    }
    for cluster in &estate.model.clusters {
        let Some(token) = &cluster.spec.token else { continue };
        for node in cluster.spec.servers.iter().chain(&cluster.spec.agents).filter_map(|n| estate.node(&n.name)) {
            uses.push((&token.value.0, Place::Node(node)));
        }
    }
    for service in &estate.model.services {
        let Some(place) = estate.place(&service.spec.on) else { continue };
        for value in service.spec.env.values() {
            if let EnvValue::Secret(secret) = &value.value {
                uses.push((secret, place));
            }
        }
    }
    for backup in &estate.model.backups {
        let Some(offsite) = &backup.spec.offsite else { continue };
        let Offsite::Restic { password, .. } = &offsite.value;
        let place = estate.storage(&backup.spec.source.name).and_then(|s| estate.place(&s.spec.on));
        if let Some(place) = place {
            uses.push((password, place));
        }
    }
    for workflow in &estate.model.workflows {
        let Some(place) = estate.place(&workflow.spec.on) else { continue };
        for step in workflow.spec.step.values() {
            for value in step.env.values() {
                if let EnvValue::Secret(secret) = &value.value {
                    uses.push((secret, place));
                }
            }
        }
    }
    for (reference, place) in uses {
        let Some(secret) = estate.secret(&reference.name) else { continue };
        let (backend, target) = needed(place);
        let has = match backend {
            "nixos" => secret.spec.nixos.is_some(),
            "k8s" => secret.spec.k8s.is_some(),
            _ => secret.spec.systemd.is_some(),
        };
        if has {
            continue;
        }
        let example = match backend {
            "nixos" => "nixos = agenix { file = \"secrets/NAME.age\" }",
            "k8s" => "k8s = existing { name = \"NAME\", key = \"KEY\" }",
            _ => "systemd = credential { path = \"/etc/credstore/NAME\" }",
        };
        diagnostics.push(
            Diagnostic::new(
                Code::E0612,
                reference.span,
                format!("secret `{}` is used on {target} but has no `{backend}` backend", secret.name),
            )
            .with_primary_label(format!("used on {target}"))
            .with_label(secret.name_span, format!("declared without `{backend}`"))
            .with_help(format!("add a backend to the secret: `{example}`")),
        );
    }
}

/// Whether a key names a credential (`DB_PASSWORD`, `apiToken`, `secret_key`): its last word is a
/// credential word. Keys about a credential (`TOKEN_TTL`, `PASSWORD_MIN_LENGTH`), a file or path
/// holding one (`passwordFile`), a public key or a credential mechanism (`LoadCredential`) are not.
fn secret_key(key: &str) -> bool {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase();
        word.push(c.to_ascii_uppercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    let last = words.last().map(String::as_str);
    let credential =
        matches!(last, Some("PASSWORD" | "PASSWD" | "PWD" | "PASS" | "TOKEN" | "SECRET" | "KEY" | "APIKEY"));
    let public = words.len() >= 2 && words.get(words.len() - 2).is_some_and(|w| w == "PUBLIC");
    credential && !public
}

/// Shannon entropy in bits per character.
fn entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in text.bytes() {
        counts[usize::from(b)] += 1;
    }
    let len = text.len() as f64;
    counts.iter().filter(|&&n| n > 0).map(|&n| f64::from(n) / len).map(|p| -p * p.log2()).sum()
}

/// Whether a literal looks like a generated credential: long, no separators of prose or paths,
/// high entropy, and either mixed-case letters with digits (base64, random tokens) or at least 32
/// hex digits. Upper-case-only identifiers (ULIDs) and words are not.
fn looks_generated(text: &str) -> bool {
    let has = |f: fn(&u8) -> bool| text.as_bytes().iter().any(f);
    let mixed = has(u8::is_ascii_digit) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_uppercase);
    let hex = text.len() >= 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) && has(u8::is_ascii_digit);
    text.len() >= 24 && !text.contains([' ', '/', ':', '.', '{', '$']) && (mixed || hex) && entropy(text) >= 3.5
}

/// Whether a value refers to a secret kept elsewhere rather than being one: a path, or an
/// environment or file indirection (`$__file{…}`, `${VAR}`).
fn indirection(text: &str) -> bool {
    text.starts_with('/') || text.starts_with("file:") || text.contains("${") || text.starts_with("$__")
}

/// Reports a plaintext secret at `span`; `value` when the span is the literal itself (an editor
/// can then replace it with a reference to the secret it declares).
fn report(
    key: &str,
    (span, value): (Span, bool),
    by_key: bool,
    place: Option<Place<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let why =
        if by_key { format!("`{key}` names a credential") } else { format!("the value of `{key}` looks generated") };
    let name: String = key
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    // Suggest the backend the place needs, so following the help does not lead to E0612.
    let backend = match place.map(needed) {
        Some(("k8s", _)) => format!("k8s = existing {{ name = \"{name}\", key = \"value\" }}"),
        Some(("systemd", _)) => format!("systemd = credential {{ path = \"/etc/credstore/{name}\" }}"),
        _ => format!("nixos = agenix {{ file = \"secrets/{name}.age\" }}"),
    };
    let mut diagnostic = Diagnostic::new(Code::E0613, span, format!("plaintext secret in `{key}`: {why}"))
        .with_primary_label("a secret written in the spec")
        .with_help(format!(
            "declare it and refer to it: `secret {name} {{ {backend} }}`, then `{key} = secret.{name}`"
        ));
    if value {
        diagnostic = diagnostic.with_suggestion(span, "", format!("secret.{name}"));
        if let Some(suggestion) = diagnostic.suggestion.as_mut() {
            suggestion.declaration = Some(format!("secret {name} {{ {backend} }}"));
        }
    }
    diagnostics.push(diagnostic);
}

fn check_env(
    env: &indexmap::IndexMap<String, Spanned<EnvValue>>,
    place: Option<Place<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (key, value) in env {
        if let EnvValue::Text(text) = &value.value {
            if text.is_empty() || indirection(text) {
                continue;
            }
            if secret_key(key) {
                report(key, (value.span, true), true, place, diagnostics);
            } else if looks_generated(text) {
                report(key, (value.span, true), false, place, diagnostics);
            }
        }
    }
}

/// Payload strings under credential keys: payloads carry no spans of their own, so the payload's
/// span is reported.
fn check_payload(
    map: &indexmap::IndexMap<String, Payload>,
    span: Span,
    place: Option<Place<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut stack: Vec<(&str, &Payload)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    while let Some((key, value)) = stack.pop() {
        match value {
            Payload::Str(text) if !text.is_empty() && !indirection(text) => {
                let last = key.rsplit('.').next().unwrap_or(key);
                if secret_key(last) {
                    report(key, (span, false), true, place, diagnostics);
                }
            }
            Payload::Map(inner) | Payload::Tagged(_, inner) => stack.extend(inner.iter().map(|(k, v)| (k.as_str(), v))),
            Payload::List(items) => stack.extend(items.iter().map(|v| (key, v))),
            _ => {}
        }
    }
}

fn plaintext(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        let place = estate.place(&service.spec.on);
        check_env(&service.spec.env, place, diagnostics);
        if let Some(nixos) = &service.spec.nixos {
            check_payload(&nixos.value, nixos.span, place, diagnostics);
        }
        if let Some(systemd) = &service.spec.systemd {
            check_payload(&systemd.value, systemd.span, place, diagnostics);
        }
        if let Some(helm) = &service.spec.helm {
            check_payload(&helm.values, helm.span, place, diagnostics);
        }
    }
    for workflow in &estate.model.workflows {
        let place = estate.place(&workflow.spec.on);
        for step in workflow.spec.step.values() {
            check_env(&step.env, place, diagnostics);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_credential_keys_but_not_paths_to_them() {
        for key in ["DB_PASSWORD", "DATABASE_PASSWORD", "apiToken", "SECRET_KEY", "POSTGRES_PWD", "api-key"] {
            assert!(secret_key(key), "{key}");
        }
        for key in [
            "passwordFile",
            "TOKEN_PATH",
            "LOG_LEVEL",
            "KEYCLOAK_URL",
            "AWS_ACCESS_KEY_ID",
            "MONKEY",
            "TOKEN_TTL",
            "PASSWORD_MIN_LENGTH",
            "KEY_ALGORITHM",
            "PUBLIC_KEY",
            "LoadCredential",
        ] {
            assert!(!secret_key(key), "{key}");
        }
    }

    #[test]
    fn recognises_generated_values_but_not_prose_or_addresses() {
        assert!(looks_generated("q8Zr3Xv0LmP2sTn9KbW4yHc7"));
        assert!(!looks_generated("registry.example.com/app:1.2.3"));
        assert!(!looks_generated("aaaaaaaaaaaaaaaaaaaaaaaaaaaa1"));
        assert!(!looks_generated("postgres12"));
        assert!(!looks_generated("01J3K4M5N6P7Q8R9S0T1V2W3X4"), "a ULID");
        assert!(looks_generated("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"), "40 hex digits");
    }
}
