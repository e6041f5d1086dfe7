//! Secrets holding several values, read back from what the real charts render: in
//! `examples/gpu-k3s-tiers`, PostgreSQL's superuser and application role read passwords of their
//! own, two keys of the one Secret an `ExternalSecret` fills from the store (the Bitnami chart's
//! `auth.existingSecret` and `secretKeys`, rendered with Helm and the pod's environment read back:
//! each `*_PASSWORD_FILE` is a file of that Secret's mounted volume); and Grafana's admin user and
//! password (kube-prometheus-stack's `grafana.admin`) are two keys of one synced Secret in the
//! release's namespace.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The keys the `ExternalSecret` filling Secret `name` in `namespace` writes, with the store
/// path and property each reads.
fn synced_keys(manifests: &[Value], namespace: &str, name: &str) -> Vec<(String, String, String)> {
    let external = manifests
        .iter()
        .find(|o| {
            o["kind"] == "ExternalSecret"
                && o["metadata"]["namespace"] == namespace
                && o["spec"]["target"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no ExternalSecret fills {namespace}/{name}"));
    external["spec"]["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| {
            let text = |v: &Value| v.as_str().expect("a string").to_string();
            (text(&d["secretKey"]), text(&d["remoteRef"]["key"]), text(&d["remoteRef"]["property"]))
        })
        .collect()
}

#[test]
fn postgres_superuser_and_grafana_admin_read_keys_of_one_synced_secret() {
    let estate = workspace().join("examples/gpu-k3s-tiers");
    let chart = workspace().join("../shared/charts/postgresql");
    let Some(helm) = spec_testkit::helm() else {
        eprintln!("SKIPPED: helm is not installed (see .ci/run); the PostgreSQL chart was NOT rendered");
        return;
    };
    if !chart.exists() {
        eprintln!("SKIPPED: {} is missing; the PostgreSQL chart was NOT rendered", chart.display());
        return;
    }
    for env in [None, Some("staging")] {
        let files = spec_testkit::generate_in(&Kubernetes, &estate, env);
        let manifests: Vec<Value> = files
            .iter()
            .filter(|(path, _)| path.starts_with("k8s/ai/"))
            .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
            .collect();
        let values = |service: &str| -> &String {
            let path = format!("helm/ai/{service}.values.yaml");
            &files.iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("no {path}")).1
        };

        // PostgreSQL: render the chart with the generated values and read the pod back.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("secret-keys").join(env.unwrap_or("base"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let values_file = dir.join("postgresql.values.yaml");
        std::fs::write(&values_file, values("postgresql")).expect("write");
        let objects = spec_testkit::helm_template(&helm, &chart, "postgresql", "assistant", &values_file);
        let statefulset = objects
            .iter()
            .find(|o| o["kind"] == "StatefulSet" && o["metadata"]["name"] == "postgresql")
            .expect("the chart renders the primary's StatefulSet");
        let pod = &statefulset["spec"]["template"]["spec"];
        let container = pod["containers"]
            .as_array()
            .expect("containers")
            .iter()
            .find(|c| c["name"] == "postgresql")
            .expect("the postgresql container");
        let env_value = |name: &str| -> String {
            let entry = container["env"].as_array().expect("env").iter().find(|e| e["name"] == name);
            entry.and_then(|e| e["value"].as_str()).unwrap_or_else(|| panic!("no {name} in the pod")).to_string()
        };
        let (superuser, user) = (env_value("POSTGRES_POSTGRES_PASSWORD_FILE"), env_value("POSTGRES_PASSWORD_FILE"));
        // Both files are in the volume the chart mounts from the Secret `existingSecret` names.
        let volume = pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| !v["secret"].is_null())
            .expect("a secret volume");
        let secret = volume["secret"]["secretName"].as_str().expect("secretName");
        let mount = container["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .find(|m| m["name"] == volume["name"])
            .and_then(|m| m["mountPath"].as_str())
            .expect("the secret volume's mount");
        let key_of = |file: &str| file.strip_prefix(mount).map(|k| k.trim_start_matches('/').to_string());
        let (superuser_key, user_key) =
            (key_of(&superuser).expect("superuser file"), key_of(&user).expect("user file"));
        assert_ne!(superuser_key, user_key, "the superuser reads the application role's password");
        let synced = synced_keys(&manifests, "assistant", secret);
        for key in [&superuser_key, &user_key] {
            let (_, path, property) = synced
                .iter()
                .find(|(k, _, _)| k == key)
                .unwrap_or_else(|| panic!("Secret {secret} has no key {key}: {synced:?}"));
            assert_eq!((path.as_str(), property.as_str()), ("data.postgresql", key.as_str()));
        }

        // Grafana: the chart's admin Secret and both keys, synced into the release's namespace.
        let monitoring: Value = serde_yaml::from_str(values("monitoring")).expect("values");
        let admin = &monitoring["grafana"]["admin"];
        let secret = admin["existingSecret"].as_str().expect("grafana.admin.existingSecret");
        let synced = synced_keys(&manifests, "monitoring", secret);
        let keys: Vec<&str> = synced.iter().map(|(k, _, _)| k.as_str()).collect();
        for field in ["userKey", "passwordKey"] {
            let key = admin[field].as_str().unwrap_or_else(|| panic!("grafana.admin.{field}"));
            assert!(keys.contains(&key), "grafana.admin.{field} = {key}, not a key of {secret}: {keys:?}");
        }
        assert_ne!(admin["userKey"], admin["passwordKey"]);
    }
}
