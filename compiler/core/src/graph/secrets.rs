//! Secrets: a secret has a backend for every target it is used on (NixOS nodes need `nixos` or
//! `vault`, clusters `k8s` or `vault`, other hosts `systemd`), each backend names what its store
//! takes (a Vault KV version 2 path, key, role and address; an absolute host path; a key for a
//! one-key secret and none for a secret with `keys`, whose facets fill each in), and no
//! literal looks like a secret: a value under a key
//! such as `DB_PASSWORD` or `API_TOKEN`, a long high-entropy string, or a URL carrying a password
//! (`postgres://app:hunter2@db/app`, a restic repository `s3:https://KEY:SECRET@host/bucket`).
//!
//! A URL is judged by its user information only: `proxyPass = "http://…"` names no credential,
//! whatever its key says. Keys that name a Secret rather than hold one (`existingSecret`,
//! `userPasswordKey`) are not credentials. A diagnostic about a field a preset brought points at
//! the block's `use` line, with the preset's line beside it.

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::eval::PresetUse;
use crate::model::types::{Payload, Reference, Spanned};
use crate::model::{EnvValue, NixosSecret, Os, Vault};
use crate::source::Span;

/// Checks every use of a secret and every literal that could be one.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    backends(estate, diagnostics);
    locations(estate, diagnostics);
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
        if let Some(pull) = &service.spec.pull_secret {
            uses.push((&pull.value.0, place));
        }
    }
    for backup in &estate.model.backups {
        let Some(place) = estate.backup_place(&backup.spec) else { continue };
        for copy in backup.spec.copies(&backup.name) {
            uses.push((&copy.restic.password, place));
            // The copy's own credentials, or its bucket's, are read where the copy runs.
            uses.extend(copy.restic.credentials_in(|name| estate.bucket(name)).map(|c| (&c.0, place)));
        }
    }
    for backup in &estate.model.backups {
        // The sending node logs in to the replica with the key.
        let Some(key) = backup.spec.replicate.as_ref().and_then(|r| r.key.as_ref()) else { continue };
        let place = estate.backup_place(&backup.spec);
        if let Some(place) = place {
            uses.push((&key.value.0, place));
        }
    }
    for job in &estate.model.jobs {
        let Some(place) = estate.place(&job.spec.on) else { continue };
        for value in job.spec.env.values() {
            if let EnvValue::Secret(secret) = &value.value {
                uses.push((secret, place));
            }
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
            "nixos" => secret.spec.on_nixos().is_some(),
            "k8s" => secret.spec.on_kubernetes().is_some(),
            _ => secret.spec.on_systemd().is_some(),
        };
        if has {
            continue;
        }
        let example = match backend {
            "nixos" => "nixos = agenix { file = \"secrets/NAME.age\" }",
            "k8s" => "k8s = existing { name = \"NAME\", key = \"KEY\" }",
            _ => "systemd = credential { path = \"/etc/credstore/NAME\" }",
        };
        let mut diagnostic = Diagnostic::new(
            Code::E0612,
            reference.span,
            format!("secret `{}` is used on {target} but has no `{backend}` backend", secret.name),
        )
        .with_primary_label(format!("used on {target}"))
        .with_label(secret.name_span, format!("declared without `{backend}`"))
        .with_help(format!("add a backend to the secret: `{example}`"));
        if let Some(vault) = secret.spec.vault.as_ref().filter(|_| backend == "systemd") {
            // No Vault agent is generated for hosts other than NixOS: say so where the reader
            // would expect `vault` to serve.
            diagnostic = diagnostic.with_label(vault.span, "read by NixOS nodes and clusters only").with_note(
                "spec generates vault-agent for NixOS nodes and External Secrets for clusters; on other hosts, \
                 run vault-agent yourself and name the file it renders in a `systemd = credential { path }` backend",
            );
        }
        diagnostics.push(diagnostic);
    }
}

/// Checks what each backend names: a Vault path, key, role and address Vault takes (E0660, E0661)
/// and an `existing` host file by an absolute path (E0662). They end up in vault-agent templates,
/// External Secrets objects and unit files, so what is refused here is what those would misread.
fn locations(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    // A key's facet repeats its secret's backends, which are checked once, at the secret.
    for secret in estate.model.secrets.iter().filter(|s| s.spec.facet.is_none()) {
        keyed_backends(secret, diagnostics);
        if let Some(vault) = &secret.spec.vault {
            vault_backend(&secret.name, &vault.value, diagnostics);
        }
        if let Some(NixosSecret::Existing { path }) = secret.spec.nixos.as_ref().map(|b| &b.value)
            && (!path.value.starts_with('/') || path.value.contains(char::is_whitespace))
        {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0662,
                    path.span,
                    format!("secret `{}`: `{}` is not an absolute path on the host", secret.name, path.value),
                )
                .with_primary_label("not an absolute path")
                .with_help(
                    "name the file where it already is on the node, from `/`: `existing { path = \"/run/keys/NAME\" }`",
                ),
            );
        }
    }
}

/// A secret with `keys` reads each key under its own name, so its backends name none (E0752); a
/// one-key secret's `k8s` and `vault` backends name the key holding its value (E0753). A facet
/// fills the key in, so this decides what every target reads.
fn keyed_backends(secret: &crate::model::Resource<crate::model::Secret>, diagnostics: &mut Vec<Diagnostic>) {
    let spec = &secret.spec;
    let keyed = spec.keys.is_some();
    let mut named: Vec<(&str, Span, bool)> = Vec::new();
    if let Some(k8s) = &spec.k8s {
        named.push(("k8s", k8s.span, k8s.value.key().is_some()));
    }
    if let Some(vault) = &spec.vault {
        named.push(("vault", vault.value.key.as_ref().map_or(vault.span, |k| k.span), vault.value.key.is_some()));
    }
    if let Some(NixosSecret::Sops { key: Some(_), .. }) = spec.nixos.as_ref().map(|b| &b.value) {
        named.push(("nixos", spec.nixos.as_ref().map_or(secret.name_span, |b| b.span), true));
    }
    for (backend, span, has_key) in named {
        if keyed && has_key {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0752,
                    span,
                    format!(
                        "secret `{}` declares `keys`, and its `{backend}` backend names a key of its own",
                        secret.name
                    ),
                )
                .with_primary_label("names a `key`")
                .with_label(
                    spec.keys.as_ref().map_or(secret.name_span, |k| k.span),
                    "each key is read under its own name",
                )
                .with_help(format!("remove the `{backend}` backend's `key`: it reads every key of `keys`")),
            );
        } else if !keyed && !has_key {
            let example = match backend {
                "vault" => "vault { address = \"…\", path = \"kv/data/NAME\", key = \"KEY\" }",
                _ => "k8s = existing { name = \"NAME\", key = \"KEY\" }",
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::E0753,
                    span,
                    format!("secret `{}`: its `{backend}` backend names no key", secret.name),
                )
                .with_primary_label("which key holds the value?")
                .with_help(format!(
                    "name it (`{example}`), or declare the values the secret holds with `keys = [\"user\", \"password\"]`"
                )),
            );
        }
    }
}

/// Whether a word may stand in a Vault path segment, a key or a role: letters, digits, `.`, `_`
/// and `-`, and not `.` or `..` alone.
fn vault_word(word: &str) -> bool {
    !word.is_empty()
        && word != "."
        && word != ".."
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn vault_backend(name: &str, vault: &Vault, diagnostics: &mut Vec<Diagnostic>) {
    let path = &vault.path.value;
    let segments: Vec<&str> = path.split('/').collect();
    let problem = if !segments.iter().all(|s| vault_word(s)) {
        Some("is not a path: segments of letters, digits, `.`, `_` and `-`, joined by `/`".to_string())
    } else if segments.len() < 3 || segments[1] != "data" {
        Some("is not a KV version 2 API path `MOUNT/data/NAME`".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        let help = match segments.as_slice() {
            [mount, rest @ ..] if segments.len() >= 2 && vault_word(mount) && rest.iter().all(|s| vault_word(s)) => {
                format!(
                    "write the API path: `path = \"{mount}/data/{}\"` (what `vault kv get {path}` reads)",
                    rest.join("/")
                )
            }
            _ => "write the KV version 2 API path: `path = \"kv/data/NAME\"`".to_string(),
        };
        diagnostics.push(
            Diagnostic::new(
                Code::E0660,
                vault.path.span,
                format!("secret `{name}`: the Vault path `{path}` {problem}"),
            )
            .with_primary_label("not a Vault KV path")
            .with_help(help),
        );
    }
    let words = [("key", vault.key.as_ref()), ("role", vault.role.as_ref())];
    for (field, word) in words {
        let Some(word) = word.filter(|w| !vault_word(&w.value)) else { continue };
        diagnostics.push(
            Diagnostic::new(
                Code::E0660,
                word.span,
                format!("secret `{name}`: the Vault {field} `{}` is not one word", word.value),
            )
            .with_primary_label(format!("not a Vault {field}"))
            .with_help(format!("a {field} holds letters, digits, `.`, `_` and `-` only")),
        );
    }
    let address = &vault.address.value;
    let rest = address.strip_prefix("https://").or_else(|| address.strip_prefix("http://"));
    let authority = rest.map(|rest| rest.split('/').next().unwrap_or(""));
    let problem = match (rest, authority) {
        (None, _) => Some("is not an http(s) URL"),
        (_, Some(authority)) if authority.contains('@') => Some("carries user information, a credential in the spec"),
        (Some(rest), Some(authority))
            if authority.is_empty()
                || !rest.bytes().all(|b| b.is_ascii_graphic())
                || rest.contains(['"', '{', '}', '\\']) =>
        {
            Some("is not an http(s) URL with a host")
        }
        _ => None,
    };
    if let Some(problem) = problem {
        diagnostics.push(
            Diagnostic::new(
                Code::E0661,
                vault.address.span,
                format!("secret `{name}`: the Vault address `{address}` {problem}"),
            )
            .with_primary_label("not Vault's address")
            .with_help("write the URL vault-agent and External Secrets reach Vault at: `address = \"https://vault.example.com:8200\"`; they log in with the backend's `role`"),
        );
    }
}

/// Whether a key names a credential (`DB_PASSWORD`, `apiToken`, `secret_key`): its last word is a
/// credential word. Keys about a credential (`TOKEN_TTL`, `PASSWORD_MIN_LENGTH`), a file or path
/// holding one (`passwordFile`), a public key, a credential mechanism (`LoadCredential`) or a
/// Kubernetes label key (`topologyKey`) are not.
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
    let before = words.len().checked_sub(2).and_then(|i| words.get(i)).map(String::as_str);
    let public = before == Some("PUBLIC");
    // `existingSecret`, `existingSecretPasswordKey`: the name of a Secret kept elsewhere.
    let existing = words.iter().any(|w| w == "EXISTING");
    // `userPasswordKey`, `adminTokenKey`: the key inside a Secret under which the credential is.
    let key_of = last == Some("KEY") && matches!(before, Some("PASSWORD" | "PASSWD" | "TOKEN"));
    // `topologyKey`: Kubernetes' name for the node label an affinity or spread groups by.
    let label_key = last == Some("KEY") && before == Some("TOPOLOGY");
    credential && !public && !existing && !key_of && !label_key
}

/// Whether `text` holds a URL with a password in its user information (`scheme://user:pass@host`),
/// the password being written out rather than an indirection (`${DB_PASSWORD}`).
fn url_with_password(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let after = &rest[at + 3..];
        let authority = after.split(['/', '?', '#', ' ']).next().unwrap_or("");
        if let Some((userinfo, _host)) = authority.rsplit_once('@')
            && let Some((_user, password)) = userinfo.split_once(':')
            && !password.is_empty()
            && !indirection(password)
            && !password.starts_with('$')
        {
            return true;
        }
        rest = after;
    }
    false
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

/// Why a literal is taken for a credential.
#[derive(Clone, Copy)]
enum Why {
    /// Its key names a credential.
    Key,
    /// Its value looks generated.
    Generated,
    /// It is a URL with a password.
    Url,
}

/// Where a literal is and what it belongs to: the place (for the backend the help suggests) and
/// the block's presets (to point at the `use` line when the literal came from one).
#[derive(Clone, Copy)]
struct Site<'a> {
    place: Option<Place<'a>>,
    presets: &'a [PresetUse],
}

/// Reports a plaintext secret at `span`; `value` when the span is the literal itself (an editor
/// can then replace it with a reference to the secret it declares).
fn report(key: &str, (span, value): (Span, bool), why: Why, site: Site<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let place = site.place;
    let why = match why {
        Why::Key => format!("`{key}` names a credential"),
        Why::Generated => format!("the value of `{key}` looks generated"),
        Why::Url => format!("the URL in `{key}` holds a password"),
    };
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
    // A literal a preset brought is reported at the user's `use` line (the suggestion, which
    // replaces the literal where it is written, stays with the preset's line).
    diagnostics.push(crate::eval::at_use(diagnostic, site.presets));
}

/// What a text literal under `key` is taken for, if it looks like a credential. A URL is judged by
/// its user information alone.
fn judge(key: &str, text: &str, by_value: bool) -> Option<Why> {
    if text.is_empty() || indirection(text) {
        return None;
    }
    if text.contains("://") {
        return url_with_password(text).then_some(Why::Url);
    }
    if secret_key(key) {
        Some(Why::Key)
    } else if by_value && looks_generated(text) {
        Some(Why::Generated)
    } else {
        None
    }
}

fn check_env(env: &indexmap::IndexMap<String, Spanned<EnvValue>>, site: Site<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for (key, value) in env {
        if let EnvValue::Text(text) = &value.value
            && let Some(why) = judge(key, text, true)
        {
            report(key, (value.span, true), why, site, diagnostics);
        }
    }
}

/// Payload strings under credential keys: payloads carry no spans of their own, so the payload's
/// span is reported.
fn check_payload(
    map: &indexmap::IndexMap<String, Payload>,
    span: Span,
    site: Site<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut stack: Vec<(&str, &Payload)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    while let Some((key, value)) = stack.pop() {
        match value {
            Payload::Str(text) => {
                let last = key.rsplit('.').next().unwrap_or(key);
                if let Some(why) = judge(last, text, false) {
                    report(key, (span, false), why, site, diagnostics);
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
        let site = Site { place: estate.place(&service.spec.on), presets: &service.presets };
        check_env(&service.spec.env, site, diagnostics);
        if let Some(nixos) = &service.spec.nixos {
            check_payload(&nixos.value, nixos.span, site, diagnostics);
        }
        if let Some(systemd) = &service.spec.systemd {
            check_payload(&systemd.value, systemd.span, site, diagnostics);
        }
        if let Some(helm) = &service.spec.helm {
            check_payload(&helm.values, helm.span, site, diagnostics);
        }
    }
    for node in &estate.model.nodes {
        if let Some(nixos) = &node.spec.nixos {
            let site = Site { place: Some(super::Place::Node(node)), presets: &node.presets };
            check_payload(&nixos.value, nixos.span, site, diagnostics);
        }
    }
    for workflow in &estate.model.workflows {
        let site = Site { place: estate.place(&workflow.spec.on), presets: &workflow.presets };
        for step in workflow.spec.step.values() {
            check_env(&step.env, site, diagnostics);
        }
    }
    for job in &estate.model.jobs {
        let site = Site { place: estate.place(&job.spec.on), presets: &job.presets };
        check_env(&job.spec.env, site, diagnostics);
    }
    for backup in &estate.model.backups {
        for copy in backup.spec.copies(&backup.name) {
            if copy.restic.repository.as_deref().is_some_and(url_with_password) {
                let site = Site { place: estate.backup_place(&backup.spec), presets: &backup.presets };
                report("repository", (copy.span, false), Why::Url, site, diagnostics);
            }
        }
    }
    for bucket in &estate.model.buckets {
        if url_with_password(&bucket.spec.endpoint.value) {
            let site = Site { place: None, presets: &bucket.presets };
            report("endpoint", (bucket.spec.endpoint.span, false), Why::Url, site, diagnostics);
        }
    }
    for endpoint in &estate.model.endpoints {
        if url_with_password(&endpoint.spec.url.value) {
            let site = Site { place: None, presets: &endpoint.presets };
            report("url", (endpoint.spec.url.span, false), Why::Url, site, diagnostics);
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
            "existingSecret",
            "existingSecretPasswordKey",
            "userPasswordKey",
            "secretName",
        ] {
            assert!(!secret_key(key), "{key}");
        }
    }

    #[test]
    fn urls_are_judged_by_their_user_information() {
        assert!(url_with_password("postgres://app:hunter2@db/app"));
        assert!(url_with_password("s3:https://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI@s3.example.com/bucket"));
        assert!(!url_with_password("http://127.0.0.1:8080"));
        assert!(!url_with_password("postgres://app@db:5432/app"), "a user without a password");
        assert!(!url_with_password("postgres://app:${DB_PASSWORD}@db/app"), "an indirection");
        assert!(!url_with_password("https://example.com/a:b@c"), "an `@` in the path");
        assert_eq!(judge("proxyPass", "http://127.0.0.1:8080", false).map(|_| ()), None);
        assert!(judge("DATABASE_URL", "postgres://app:hunter2@db/app", true).is_some());
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
