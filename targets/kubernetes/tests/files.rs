//! Configuration files and raw manifests on a cluster, read back from what the real tools make
//! of them: the app-template chart, rendered by Helm, mounts every file of a service at its path
//! from the ConfigMap it renders, whose data is the file's text (YAML and JSON data parsed back
//! equal to what the spec says, text byte for byte, `{{` included); the raw manifests pass the
//! Kubernetes schemas of the cluster's version and their CRD schemas, and one that breaks its
//! CRD's schema is caught by the validator (the limit of `spec check`, which reads no schema).

// Tests write scratch files and run the real tools.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use spec_compiler::model::FileContent;
use spec_compiler::model::files::data_json;
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn case() -> PathBuf {
    workspace().join("specs/targets/kubernetes/files_manifests_and_a_version_generate_cleanly.spec")
}

fn write(dir: &Path, files: &[(String, String)]) {
    let _ = std::fs::remove_dir_all(dir);
    for (path, contents) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
}

#[test]
fn the_chart_mounts_every_file_at_its_path_with_the_spec_text() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("app-template", "files were NOT rendered by the chart")
    else {
        return;
    };
    let (_, compilation) = spec_testkit::compile_path(&case(), None);
    let service = compilation.model.services.iter().find(|s| s.name == "api").expect("service api");
    let files = spec_testkit::generate(&Kubernetes, &case());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-files");
    write(&dir, &files);
    let values = dir.join("helm/apps/api.values.yaml");
    let objects = spec_testkit::helm_template(&helm, &charts.join("app-template"), "api", "apps", &values);
    let config_map = objects.iter().find(|o| o["kind"] == "ConfigMap").expect("a rendered ConfigMap");
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").expect("a rendered Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let mut checked = 0;
    for (path, content) in &service.spec.files {
        let mount = container["volumeMounts"]
            .as_array()
            .and_then(|mounts| mounts.iter().find(|m| m["mountPath"] == path.as_str()))
            .unwrap_or_else(|| panic!("no mount at {path}: {container}"));
        assert_eq!(mount["readOnly"], json!(true), "{path} is mounted writable");
        let volume = pod["volumes"]
            .as_array()
            .and_then(|volumes| volumes.iter().find(|v| v["name"] == mount["name"]))
            .expect("the mount's volume");
        assert_eq!(volume["configMap"]["name"], config_map["metadata"]["name"], "{path}: another ConfigMap");
        let key = mount["subPath"].as_str().expect("a subPath");
        let text = config_map["data"][key].as_str().unwrap_or_else(|| panic!("no key {key} in {config_map}"));
        match &content.value {
            FileContent::Text(written) => assert_eq!(text, written, "{path}"),
            FileContent::Template(template) => panic!("{path}: the case fills no template (`{}`)", template.written()),
            FileContent::Yaml(data) => {
                let read: Value = serde_yaml::from_str(text).expect("the file is YAML");
                assert_eq!(Some(read), data_json(data).ok(), "{path}");
            }
            FileContent::Json(data) => {
                let read: Value = serde_json::from_str(text).expect("the file is JSON");
                assert_eq!(Some(read), data_json(data).ok(), "{path}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 3, "the case's three files are read back");
    // A changed file rolls the pods: the chart puts the ConfigMaps' checksum on them.
    assert!(
        deployment["spec"]["template"]["metadata"]["annotations"]["checksum/configMaps"].is_string(),
        "{deployment}"
    );
}

#[test]
fn raw_manifests_pass_their_schemas_and_a_broken_one_is_caught() {
    let script = workspace().join("../shared/validate/validate-out.sh");
    let python = Command::new("python3")
        .args(["-c", "import kubernetes_validate, jsonschema, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !script.exists() || !python {
        eprintln!("SKIPPED: needs {} and python3 with kubernetes-validate, jsonschema", script.display());
        return;
    }
    let run = |name: &str, files: &[(String, String)]| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-manifests").join(name);
        write(&dir, files);
        // The cluster's own version, which the Kubernetes schemas are read at.
        let output = Command::new("bash").arg(&script).arg(&dir).env("K8S_VERSION", "1.29").output().expect("runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let files = spec_testkit::generate(&Kubernetes, &case());
    let manifests = files.iter().find(|(p, _)| p == "k8s/apps/manifests.yaml").expect("manifests.yaml");
    let kustomization = files.iter().find(|(p, _)| p == "k8s/apps/kustomization.yaml").expect("kustomization");
    assert!(kustomization.1.contains("\"manifests.yaml\""), "{}", kustomization.1);
    let report = run("good", &files);
    assert!(!report.lines().any(|l| l.starts_with("FAIL")), "{report}");
    let passed = |report: &str, what: &str| {
        report.lines().any(|l| l.starts_with(&format!("PASS {what} ")) && l.contains("manifests.yaml"))
    };
    assert!(passed(&report, "k8s-crd-schema"), "the ServiceMonitor was not checked against its CRD:\n{report}");
    assert!(passed(&report, "k8s-schema"), "the ConfigMap was not checked against Kubernetes 1.29:\n{report}");
    // The same manifest with a field its CRD does not have: `spec check` cannot see it (it reads
    // no schema), the validator does.
    let broken = manifests.1.replace("interval: \"30s\"", "interval: \"30s\"\n    scrapeEvery: \"30s\"");
    assert_ne!(broken, manifests.1);
    let report = run("broken", &[(manifests.0.clone(), broken)]);
    assert!(
        report.lines().any(|l| l.starts_with("FAIL k8s-crd-schema") && l.contains("ServiceMonitor/nats")),
        "the broken ServiceMonitor passed:\n{report}"
    );
}

/// `examples/gpu-k3s-tiers`' gateway reads its registry, `mcp_servers.yaml`, which a loop inside
/// a value builds from the tier tables the servers are declared from: rendered by the chart, the
/// file is mounted at its path, lists every MCP server of the model once, at the URL its Service
/// answers on and in the tier its priority class says, in failover order; and the gateway's
/// environment no longer spells the servers' URLs.
#[test]
fn the_mcp_gateway_mounts_the_registry_built_from_the_tier_tables() {
    let Some((helm, charts)) =
        spec_testkit::helm_and_charts("app-template", "the registry was NOT rendered by the chart")
    else {
        return;
    };
    let estate = workspace().join("examples/gpu-k3s-tiers");
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    let files = spec_testkit::generate(&Kubernetes, &estate);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-mcp-registry");
    write(&dir, &files);
    let values = dir.join("helm/ai/mcp-gateway.values.yaml");
    let objects =
        spec_testkit::helm_template(&helm, &charts.join("app-template"), "mcp-gateway", "mcp-servers", &values);
    let config_map = objects.iter().find(|o| o["kind"] == "ConfigMap").expect("a rendered ConfigMap");
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").expect("a rendered Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let mount = container["volumeMounts"]
        .as_array()
        .and_then(|mounts| mounts.iter().find(|m| m["mountPath"] == "/app/config/mcp/mcp_servers.yaml"))
        .unwrap_or_else(|| panic!("the registry is not mounted: {container}"));
    let key = mount["subPath"].as_str().expect("a subPath");
    let text = config_map["data"][key].as_str().unwrap_or_else(|| panic!("no key {key} in {config_map}"));
    let registry: Value = serde_yaml::from_str(text).expect("the registry is YAML");
    let tiers = registry["tiers"].as_array().expect("tiers");
    let order: Vec<&Value> = tiers.iter().map(|t| &t["tier"]).collect();
    assert_eq!(registry["failover"].as_array().map(|f| f.iter().collect::<Vec<_>>()), Some(order), "{registry}");
    let servers: Vec<&spec_compiler::model::Resource<spec_compiler::model::Service>> =
        compilation.model.services.iter().filter(|s| s.name.starts_with("mcp-") && s.name != "mcp-gateway").collect();
    let mut listed = 0;
    for tier in tiers {
        for entry in tier["servers"].as_array().expect("servers") {
            let name = entry["name"].as_str().expect("name");
            let service = servers.iter().find(|s| s.name == format!("mcp-{name}")).expect("a declared server");
            let port = service.spec.ports.values().next().expect("a port").value.number;
            assert_eq!(
                entry["url"],
                json!(format!("http://mcp-{name}.mcp-servers.svc.cluster.local:{port}")),
                "{name}"
            );
            assert_eq!(entry["tier"], tier["tier"], "{name}");
            let level = service.spec.tier.as_ref().map(|t| format!("{:?}", t.value));
            let expected = match tier["tier"].as_str() {
                Some("PRIMARY") => "Critical",
                Some("SECONDARY") => "High",
                _ => "Low",
            };
            assert_eq!(level.as_deref(), Some(expected), "{name}: the registry's tier is not the service's");
            assert!(entry["capabilities"].as_array().is_some_and(|c| !c.is_empty()), "{name}");
            listed += 1;
        }
    }
    assert_eq!(listed, servers.len(), "every MCP server is in the registry once");
    let env = container["env"].as_array().cloned().unwrap_or_default();
    assert!(env.iter().all(|e| !e["name"].as_str().is_some_and(|n| n.starts_with("MCP_"))), "{env:?}");
}
