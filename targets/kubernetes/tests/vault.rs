//! Secrets read from Vault on a cluster, read back from the generated objects: every Secret a
//! workload refers to (a container's `secretKeyRef`, a chart's `existingSecret` and its key, a
//! k8up `repoPasswordSecretRef`) is created in the workload's own namespace by an `ExternalSecret`
//! whose `SecretStore` is written in that namespace too, or is the existing Secret the spec names;
//! and each store reads the spec's Vault (address, mount, KV version 2, role) while its
//! `ExternalSecret` asks for the spec's path and key, so External Secrets fetches what the spec
//! says. Every `ExternalSecret` and `SecretStore` the back end writes passes the External Secrets
//! API's own validators (`@kubernetes-models/external-secrets`, generated from its v1 CRDs: types,
//! required fields, enums and patterns; `.ci/run` installs them), which a broken object fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_compiler::model::{Backend, KubernetesSecret};
use spec_target_kubernetes::Kubernetes;

const CASE: &str = "specs/targets/kubernetes/secrets_from_vault_in_two_namespaces_generate_cleanly.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every Secret `value` refers to, as (name, key): `secretKeyRef`-shaped selectors, and a
/// chart's `existingSecret` with the keys named beside it under `secretKeys`.
fn references(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (field, inner) in map {
                let selector = matches!(field.as_str(), "secretKeyRef" | "repoPasswordSecretRef");
                if let (true, Some(name), Some(key)) = (selector, inner["name"].as_str(), inner["key"].as_str()) {
                    out.push((name.to_string(), key.to_string()));
                }
            }
            if let Some(name) = map.get("existingSecret").and_then(Value::as_str) {
                let keys = map.get("secretKeys").and_then(Value::as_object).into_iter().flatten();
                out.extend(keys.filter_map(|(_, key)| Some((name.to_string(), key.as_str()?.to_string()))));
            }
            map.values().for_each(|inner| references(inner, out));
        }
        Value::Array(items) => items.iter().for_each(|inner| references(inner, out)),
        _ => {}
    }
}

#[test]
fn every_secret_a_workload_reads_is_synced_in_its_namespace_from_the_vault_the_spec_names() {
    let estate = workspace().join(CASE);
    let text = std::fs::read_to_string(&estate).expect("estate");
    let (_, compilation) = spec_testkit::compile("main.spec", text);
    let model = &compilation.model;
    let files = spec_testkit::generate(&Kubernetes, &estate);
    // The Kubernetes objects (values files, read by the releases that carry them, are not).
    let objects: Vec<Value> = files
        .iter()
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["apiVersion"].is_string())
        .collect();
    let namespace = |object: &Value| {
        let target = object["spec"]["targetNamespace"].as_str();
        target.or(object["metadata"]["namespace"].as_str()).unwrap_or("default").to_string()
    };
    let stores: BTreeMap<(String, String), &Value> = objects
        .iter()
        .filter(|o| o["kind"] == "SecretStore")
        .map(|o| ((namespace(o), o["metadata"]["name"].as_str().expect("name").to_string()), o))
        .collect();
    // Each ExternalSecret reads from a store in its own namespace, and the store and the request
    // are the spec's Vault backend.
    let mut synced: BTreeSet<(String, String, String)> = BTreeSet::new();
    for external in objects.iter().filter(|o| o["kind"] == "ExternalSecret") {
        let here = namespace(external);
        let name = external["metadata"]["name"].as_str().expect("name");
        let store_name = external["spec"]["secretStoreRef"]["name"].as_str().expect("store");
        let store = stores.get(&(here.clone(), store_name.to_string()));
        let store = store.unwrap_or_else(|| panic!("ExternalSecret {here}/{name} names no SecretStore of {here}"));
        let secret = model.secrets.iter().find(|s| s.name == name).expect("a spec secret");
        let Some(Backend::Vault(vault)) = secret.spec.on_kubernetes() else { panic!("{name} is not read from Vault") };
        let provider = &store["spec"]["provider"]["vault"];
        assert_eq!(provider["server"], vault.value.address.value.as_str(), "{name}");
        assert_eq!(provider["version"], "v2", "{name}");
        assert_eq!(provider["auth"]["kubernetes"]["role"], vault.value.role(), "{name}");
        let data = &external["spec"]["data"][0];
        let path = data["remoteRef"]["key"].as_str().expect("key");
        assert_eq!(path, vault.value.path.value, "{name}");
        // External Secrets reads `<mount>/data/<rest>` of the store's mount: the path's own.
        let mount = provider["path"].as_str().expect("mount");
        assert!(path.starts_with(&format!("{mount}/data/")), "{name}: {path} is not under the mount {mount}");
        assert_eq!(data["remoteRef"]["property"], vault.value.key(), "{name}");
        let target = external["spec"]["target"]["name"].as_str().expect("target");
        synced.insert((here, target.to_string(), data["secretKey"].as_str().expect("secretKey").to_string()));
    }
    let existing: BTreeSet<(String, String)> = model
        .secrets
        .iter()
        .filter_map(|s| match s.spec.on_kubernetes() {
            Some(Backend::Own(own)) => match &own.value {
                KubernetesSecret::Existing { name, key } => Some((name.clone(), key.clone()?)),
                KubernetesSecret::External { .. } => None,
            },
            _ => None,
        })
        .collect();
    let mut read = 0;
    for object in objects.iter().filter(|o| o["kind"] != "ExternalSecret" && o["kind"] != "SecretStore") {
        let mut found = Vec::new();
        references(object, &mut found);
        let here = namespace(object);
        for (name, key) in found {
            read += 1;
            let provided = synced.contains(&(here.clone(), name.clone(), key.clone()))
                || existing.contains(&(name.clone(), key.clone()));
            assert!(
                provided,
                "{} {}: the Secret {here}/{name} with key {key} is neither synced nor existing",
                object["kind"], object["metadata"]["name"]
            );
        }
    }
    // The env of two services in two namespaces, a workflow step, a chart's values and a backup.
    assert!(read >= 6, "only {read} Secret references were read back");
    let vault_backed =
        model.secrets.iter().filter(|s| matches!(s.spec.on_kubernetes(), Some(Backend::Vault(_)))).count();
    assert!(synced.len() > vault_backed, "a secret read in two namespaces is synced in both: {synced:?}");
}

#[test]
fn every_external_secret_and_store_passes_the_external_secrets_validators() {
    let not_done = "ExternalSecrets and SecretStores were NOT validated";
    let Some(module) = spec_testkit::kubernetes_models("eso", "external-secrets", not_done) else { return };
    let case = |name: &str| workspace().join(format!("specs/targets/kubernetes/{name}.spec"));
    let estates = [
        case("secrets_from_vault_in_two_namespaces_generate_cleanly"),
        case("a_cluster_with_every_workload_generates_cleanly"),
        case("namespaces_with_quotas_limits_and_pod_security_generate_cleanly"),
        workspace().join("examples/tour/main.spec"),
    ];
    let objects =
        spec_testkit::generated_objects(&Kubernetes, &estates, |o| o["apiVersion"] == "external-secrets.io/v1");
    let stores = objects.iter().filter(|o| o["kind"] == "SecretStore").count();
    assert!(stores >= 4 && objects.len() > stores, "too few objects to validate: {objects:?}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-eso");
    spec_testkit::assert_models_pass(&module, &dir, &objects);
    // The validators refuse what External Secrets would: a store without its server and role.
    let mut broken = objects.iter().find(|o| o["kind"] == "SecretStore").expect("a store").clone();
    broken["spec"]["provider"]["vault"].as_object_mut().expect("vault").remove("server");
    broken["spec"]["provider"]["vault"]["auth"]["kubernetes"].as_object_mut().expect("auth").remove("role");
    let report = spec_testkit::validate_with_models(&module, &dir.join("broken"), &[broken]);
    assert!(report.starts_with("FAIL") && report.contains("server") && report.contains("role"), "{report}");
}
