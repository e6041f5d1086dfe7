//! Configuration files, raw manifests and cluster versions: each file path is absolute and
//! plain (E0685), no file lies under another (E0686) or on or under a volume's mount path, nor a
//! volume under a file (E0687); a secret never enters a file or a manifest (E0688: its value
//! never enters the spec, so it cannot be written into one) and every other value there has a
//! form (E0689); a manifest has its identity, `apiVersion`, `kind` and `metadata.name` (E0690),
//! one namespace (E0691), and no other manifest of its cluster has the same identity (E0693); a
//! manifest's namespace the cluster does not hold must already exist (W0685); a cluster's
//! `version` is `MAJOR.MINOR` (E0692).
//!
//! Paths are compared by their ancestors in hash sets (a path has few), so the pass is linear in
//! the number of files, volumes and manifests.

use rustc_hash::FxHashMap;

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::model::files::{Formless, KubeVersion, Manifest, data_json, data_json_filled, plain_path};
use crate::model::{Cluster, Resource, Service};
use crate::source::Span;

/// Checks every service's files and every cluster's version and manifests.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        if !service.spec.files.is_empty() {
            check_files(service, diagnostics);
        }
    }
    for cluster in &estate.model.clusters {
        check_version(cluster, diagnostics);
        check_manifests(cluster, diagnostics);
    }
}

/// The folders above a plain path, nearest first (`/etc/app/x` → `/etc/app`, `/etc`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut end = path.len();
    std::iter::from_fn(move || {
        let slash = path[..end].rfind('/')?;
        end = slash;
        (slash > 0).then(|| &path[..slash])
    })
}

fn check_files(service: &Resource<Service>, diagnostics: &mut Vec<Diagnostic>) {
    let files = &service.spec.files;
    let plain: FxHashMap<&str, Span> = files
        .iter()
        .filter(|(path, _)| plain_path(path).is_none())
        .map(|(path, content)| (path.as_str(), content.span))
        .collect();
    let volumes: FxHashMap<&str, Span> = service
        .spec
        .volumes
        .iter()
        .filter(|(path, _)| plain_path(path).is_none())
        .map(|(path, storage)| (path.as_str(), storage.span))
        .collect();
    for (path, content) in files {
        if let Some(why) = plain_path(path) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0685,
                    content.span,
                    format!("the file `{path}` of service `{}` has no plain absolute path: {why}", service.name),
                )
                .with_primary_label(format!("the file at `{path}`"))
                .with_help("write an absolute path of letters, digits, `.`, `_`, `-` and `/` segments, such as `/etc/app/config.yaml`"),
            );
            continue;
        }
        for folder in ancestors(path) {
            if let Some(&other) = plain.get(folder) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0686,
                        content.span,
                        format!("the file `{path}` of service `{}` lies under the file `{folder}`", service.name),
                    )
                    .with_primary_label(format!("the file at `{path}`"))
                    .with_label(other, format!("the file at `{folder}`"))
                    .with_help("a path is a file or a folder, not both: move one of them"),
                );
            }
            if let Some(&volume) = volumes.get(folder) {
                diagnostics.push(volume_clash(
                    service,
                    path,
                    content.span,
                    folder,
                    volume,
                    "lies in the volume mounted at",
                ));
            }
        }
        if let Some(&volume) = volumes.get(path.as_str()) {
            diagnostics.push(volume_clash(service, path, content.span, path, volume, "is where a volume is mounted:"));
        }
        if let Some(data) = content.value.data() {
            // Where services are is filled per target (E0625 reports a hole with no value there).
            let found = data_json_filled(data, &mut |_| Ok(String::new())).err();
            formless(found, content.span, &format!("the file `{path}`"), &service.name, diagnostics);
        }
    }
    // In source order, so the diagnostics are.
    for path in service.spec.volumes.keys() {
        let Some(&volume) = volumes.get(path.as_str()) else { continue };
        for folder in ancestors(path) {
            if let Some(&file) = plain.get(folder) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0687,
                        volume,
                        format!("service `{}` mounts a volume at `{path}`, under its file `{folder}`", service.name),
                    )
                    .with_primary_label(format!("the volume at `{path}`"))
                    .with_label(file, format!("the file at `{folder}`"))
                    .with_help("a path is a file or a folder, not both: move the volume or the file"),
                );
            }
        }
    }
}

fn volume_clash(
    service: &Resource<Service>,
    path: &str,
    span: Span,
    mount: &str,
    volume: Span,
    how: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::E0687,
        span,
        format!("the file `{path}` of service `{}` {how} `{mount}`", service.name),
    )
    .with_primary_label(format!("the file at `{path}`"))
    .with_label(volume, format!("the volume mounted at `{mount}`"))
    .with_help("mount the file elsewhere, or write it into the volume's data instead: a mount over a volume hides what the volume holds there")
}

/// E0688 for a secret, E0689 for another value without a form, in `what` of `owner`.
fn formless(found: Option<Formless<'_>>, span: Span, what: &str, owner: &str, diagnostics: &mut Vec<Diagnostic>) {
    match found {
        None => {}
        Some(Formless::Secret(secret)) => diagnostics.push(
            Diagnostic::new(
                Code::E0688,
                secret.span,
                format!("{what} of `{owner}` holds secret `{}`, whose value never enters the spec", secret.name),
            )
            .with_primary_label("a secret cannot be written into a file")
            .with_help("pass the secret in `env { NAME = secret.NAME }` and let the program read it from there (most read a variable, or a `${NAME}` in their configuration)"),
        ),
        Some(Formless::Other(description, reference)) => diagnostics.push(
            Diagnostic::new(
                Code::E0689,
                reference.map_or(span, |r| r.span),
                format!("{what} of `{owner}` holds {description}, which has no form there"),
            )
            .with_primary_label("no form in a file")
            .with_help("write text, numbers, booleans, lists and records (durations, sizes, addresses and ports are written as the spec writes them)"),
        ),
    }
}

fn check_version(cluster: &Resource<Cluster>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(version) = &cluster.spec.version else { return };
    if KubeVersion::parse(&version.value).is_none() {
        diagnostics.push(
            Diagnostic::new(
                Code::E0692,
                version.span,
                format!("`{}` is not a Kubernetes version of cluster `{}`", version.value, cluster.name),
            )
            .with_primary_label("not `1.MINOR`")
            .with_help("write the minor version the cluster runs, such as `version = \"1.29\"` (without a `v` or a patch number)"),
        );
    }
}

/// What Kubernetes knows an object by: its API group, kind, namespace and name.
type Identity<'m> = (&'m str, &'m str, Option<&'m str>, &'m str);

fn check_manifests(cluster: &Resource<Cluster>, diagnostics: &mut Vec<Diagnostic>) {
    let held = cluster.spec.namespaces(cluster.name_span);
    let held_names: Vec<&str> = held.iter().map(|n| n.name).collect();
    let mut identities: FxHashMap<Identity<'_>, (&str, Span)> = FxHashMap::default();
    for (name, manifest) in &cluster.spec.manifest {
        let what = format!("manifest `{name}`");
        formless(
            data_json(&manifest.value.body.value).err(),
            manifest.value.body.span,
            &what,
            &cluster.name,
            diagnostics,
        );
        let missing: Vec<&str> = ["apiVersion", "kind", "metadata.name"]
            .into_iter()
            .filter(|field| manifest.value.field(field).is_none_or(str::is_empty))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            diagnostics.push(
                Diagnostic::new(
                    Code::E0690,
                    manifest.value.body.span,
                    format!("manifest `{name}` of cluster `{}` has no {}", cluster.name, list.join(", ")),
                )
                .with_primary_label("Kubernetes needs these to know the object")
                .with_help(
                    "give the body `apiVersion = \"…\"`, `kind = \"…\"` and `metadata { name = \"…\" }`, as text",
                ),
            );
            continue;
        }
        if !check_namespace(cluster, name, &manifest.value, &held_names, diagnostics) {
            continue;
        }
        let m = &manifest.value;
        let (api, kind, object) = (m.field("apiVersion"), m.field("kind"), m.field("metadata.name"));
        let (Some(api), Some(kind), Some(object)) = (api, kind, object) else { continue };
        let group = api.rsplit_once('/').map_or("", |(group, _)| group);
        match identities.get(&(group, kind, m.namespace(), object)) {
            Some((first, first_span)) => diagnostics.push(
                Diagnostic::new(
                    Code::E0693,
                    manifest.span,
                    format!(
                        "manifests `{first}` and `{name}` of cluster `{}` are both the {kind} `{object}`",
                        cluster.name
                    ),
                )
                .with_primary_label("the same object again")
                .with_label(*first_span, "first written here")
                .with_help("one object is written once: remove one, or give it another `metadata.name`"),
            ),
            None => {
                identities.insert((group, kind, m.namespace(), object), (name.as_str(), manifest.span));
            }
        }
    }
}

/// The namespaces every Kubernetes cluster has from its start, which a manifest may name without
/// the cluster holding them (k3s's bundled Traefik is configured in `kube-system`).
const BUILT_IN_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// E0691 when the manifest's `namespace` and its body's disagree; W0685 for a namespace the
/// cluster does not hold and Kubernetes does not create. Whether the manifest may be written.
fn check_namespace(
    cluster: &Resource<Cluster>,
    name: &str,
    manifest: &Manifest,
    held: &[&str],
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let body = manifest.field("metadata.namespace");
    if let (Some(field), Some(body)) = (&manifest.namespace, body)
        && field.value != body
    {
        diagnostics.push(
            Diagnostic::new(
                Code::E0691,
                field.span,
                format!("manifest `{name}` is in namespace `{}`, and its body says `{body}`", field.value),
            )
            .with_primary_label("one object, two namespaces")
            .with_label(manifest.body.span, format!("`metadata.namespace` is `{body}`"))
            .with_help("name the namespace once, in `namespace`"),
        );
        return false;
    }
    if let Some(field) = &manifest.namespace
        && !held.contains(&field.value.as_str())
        && !BUILT_IN_NAMESPACES.contains(&field.value.as_str())
    {
        let diagnostic = Diagnostic::new(
            Code::W0685,
            field.span,
            format!(
                "manifest `{name}` is in namespace `{}`, which cluster `{}` does not hold",
                field.value, cluster.name
            ),
        )
        .with_primary_label("not a namespace of the estate");
        let diagnostic = match did_you_mean(&field.value, held.iter().copied()) {
            Some(close) => diagnostic
                .with_help(format!("did you mean `{close}`?"))
                .with_suggestion(field.span, &field.value, close),
            None => diagnostic.with_help("it must exist already (created by an operator or a chart), or be held by the cluster: `namespace NAME { … }`"),
        };
        diagnostics.push(diagnostic);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::ancestors;

    #[test]
    fn ancestors_are_the_folders_above() {
        assert_eq!(ancestors("/etc/app/x").collect::<Vec<_>>(), ["/etc/app", "/etc"]);
        assert_eq!(ancestors("/x").count(), 0);
    }
}
