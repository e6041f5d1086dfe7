//! The Kubernetes output read by the real validators: every manifest against the Kubernetes
//! schemas (`kubernetes-validate`, strict), every custom resource against its CRD schema, every
//! values file and every `HelmRelease`'s values against the chart's values schema, every values
//! file rendered by its real chart with Helm and what it renders against the Kubernetes schemas,
//! all YAML through `yamllint` (`shared/validate/validate-out.sh`; `tests/rendered.rs` reads the
//! rendered objects back). Hostile strings come back from a YAML
//! 1.1 reader (PyYAML, as Helm and Kubernetes read YAML 1.1) exactly as they went in. A missing
//! tool makes its test print SKIPPED, never pass in silence. The outputs are snapshotted.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn estates() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("tour", workspace().join("examples/tour")),
        ("k8s-platform", workspace().join("examples/k8s-platform")),
        ("nats-services", workspace().join("examples/nats-services")),
        ("nats-services@staging", workspace().join("examples/nats-services")),
        ("nats-services@dev", workspace().join("examples/nats-services")),
        ("gpu-k3s-tiers", workspace().join("examples/gpu-k3s-tiers")),
        ("gpu-k3s-tiers@staging", workspace().join("examples/gpu-k3s-tiers")),
        (
            "a_cluster_with_every_workload_generates_cleanly",
            workspace().join("specs/targets/kubernetes/a_cluster_with_every_workload_generates_cleanly.spec"),
        ),
        (
            "canary_analysis_across_denying_namespaces_is_admitted",
            workspace().join("specs/targets/kubernetes/canary_analysis_across_denying_namespaces_is_admitted.spec"),
        ),
        (
            "canary_analysis_asks_the_clusters_prometheus",
            workspace().join("specs/targets/kubernetes/canary_analysis_asks_the_clusters_prometheus.spec"),
        ),
        (
            "chart_services_take_their_fields",
            workspace().join("specs/targets/kubernetes/chart_services_take_their_fields.spec"),
        ),
        (
            "stateful_presets_postgres_replicas_vault_and_n8n_generate_cleanly",
            workspace().join(
                "specs/targets/kubernetes/stateful_presets_postgres_replicas_vault_and_n8n_generate_cleanly.spec",
            ),
        ),
        (
            "files_manifests_and_a_version_generate_cleanly",
            workspace().join("specs/targets/kubernetes/files_manifests_and_a_version_generate_cleanly.spec"),
        ),
        (
            "milli_cpu_on_a_cluster_generates_cleanly",
            workspace().join("specs/targets/kubernetes/milli_cpu_on_a_cluster_generates_cleanly.spec"),
        ),
        (
            "namespaces_with_quotas_limits_and_pod_security_generate_cleanly",
            workspace()
                .join("specs/targets/kubernetes/namespaces_with_quotas_limits_and_pod_security_generate_cleanly.spec"),
        ),
        (
            "gpu_services_on_a_cluster_select_their_nodes_generate_cleanly",
            workspace()
                .join("specs/targets/kubernetes/gpu_services_on_a_cluster_select_their_nodes_generate_cleanly.spec"),
        ),
        (
            "ingress_with_hosts_paths_and_tls_generates_cleanly",
            workspace().join("specs/targets/kubernetes/ingress_with_hosts_paths_and_tls_generates_cleanly.spec"),
        ),
        (
            "secrets_from_vault_in_two_namespaces_generate_cleanly",
            workspace().join("specs/targets/kubernetes/secrets_from_vault_in_two_namespaces_generate_cleanly.spec"),
        ),
        (
            "secrets_with_several_keys_on_every_target_generate_cleanly",
            workspace().join("specs/targets/kubernetes/secrets_with_several_keys_on_every_target_generate_cleanly.spec"),
        ),
        (
            "namespaces_in_the_istio_mesh_generate_cleanly",
            workspace().join("specs/targets/kubernetes/namespaces_in_the_istio_mesh_generate_cleanly.spec"),
        ),
        (
            "alert_routing_on_a_cluster_generates_cleanly",
            workspace().join("specs/targets/kubernetes/alert_routing_on_a_cluster_generates_cleanly.spec"),
        ),
        (
            "routes_through_the_istio_gateway_generate_cleanly",
            workspace().join("specs/targets/kubernetes/routes_through_the_istio_gateway_generate_cleanly.spec"),
        ),
        (
            "an_istio_gateway_in_a_denying_namespace_is_admitted",
            workspace().join("specs/targets/kubernetes/an_istio_gateway_in_a_denying_namespace_is_admitted.spec"),
        ),
        (
            "ports_exposed_to_networks_from_a_cluster_generate_cleanly",
            workspace().join("specs/targets/kubernetes/ports_exposed_to_networks_from_a_cluster_generate_cleanly.spec"),
        ),
        (
            "slos_on_a_cluster_generate_a_prometheus_rule_with_recording_rules",
            workspace().join(
                "specs/targets/kubernetes/slos_on_a_cluster_generate_a_prometheus_rule_with_recording_rules.spec",
            ),
        ),
        (
            "a_migration_job_before_its_service_on_a_cluster_generates_cleanly",
            workspace().join(
                "specs/targets/kubernetes/a_migration_job_before_its_service_on_a_cluster_generates_cleanly.spec",
            ),
        ),
        (
            "workflow_engines_and_ipfs_on_a_cluster_generate_cleanly",
            workspace().join("specs/targets/kubernetes/workflow_engines_and_ipfs_on_a_cluster_generate_cleanly.spec"),
        ),
        (
            "rollouts_budgets_autoscalers_and_tiers_generate_cleanly",
            workspace().join("specs/targets/kubernetes/rollouts_budgets_autoscalers_and_tiers_generate_cleanly.spec"),
        ),
        (
            "network_policies_and_access_generate_cleanly",
            workspace().join("specs/targets/kubernetes/network_policies_and_access_generate_cleanly.spec"),
        ),
        (
            "privileged_agents_and_workflow_concurrency_on_a_cluster_generate_cleanly",
            workspace().join(
                "specs/targets/kubernetes/privileged_agents_and_workflow_concurrency_on_a_cluster_generate_cleanly.spec",
            ),
        ),
        (
            "dashboards_of_cluster_services_as_sidecar_config_maps_generate_cleanly",
            workspace().join(
                "specs/targets/kubernetes/dashboards_of_cluster_services_as_sidecar_config_maps_generate_cleanly.spec",
            ),
        ),
        (
            "services_pointed_at_an_opentelemetry_collector_generate_cleanly",
            workspace()
                .join("specs/targets/kubernetes/services_pointed_at_an_opentelemetry_collector_generate_cleanly.spec"),
        ),
        (
            "traces_and_profiles_on_a_cluster_generate_cleanly",
            workspace().join("specs/targets/kubernetes/traces_and_profiles_on_a_cluster_generate_cleanly.spec"),
        ),
        (
            "ingress_controller_issuer_and_nginx_presets_generate_cleanly",
            workspace()
                .join("specs/targets/kubernetes/ingress_controller_issuer_and_nginx_presets_generate_cleanly.spec"),
        ),
        (
            "health_probes_through_a_blackbox_exporter_on_a_cluster_generate_cleanly",
            workspace().join(
                "specs/targets/kubernetes/health_probes_through_a_blackbox_exporter_on_a_cluster_generate_cleanly.spec",
            ),
        ),
    ]
}

/// The environment an estate's name asks for: `example@env`.
fn env_of(name: &str) -> Option<&str> {
    name.split_once('@').map(|(_, env)| env)
}

fn write(dir: &Path, files: &[(String, String)]) {
    let _ = std::fs::remove_dir_all(dir);
    for (path, contents) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
}

/// Whether python3 has the modules `check.py` needs for Kubernetes and Helm.
fn have_validators() -> bool {
    Command::new("python3")
        .args(["-c", "import kubernetes_validate, jsonschema, yaml"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn every_file_passes_the_kubernetes_crd_and_chart_schemas() {
    let script = workspace().join("../shared/validate/validate-out.sh");
    if !script.exists() || !have_validators() {
        eprintln!(
            "SKIPPED: needs {} and python3 with kubernetes-validate, jsonschema, pyyaml (pip install …); \
             Kubernetes output was not validated",
            script.display()
        );
        return;
    }
    for (name, estate) in estates() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-validate").join(name);
        let files = spec_testkit::generate_in(&Kubernetes, &estate, env_of(name));
        write(&dir, &files);
        let output = Command::new("bash").arg(&script).arg(&dir).output().expect("runs");
        let report = String::from_utf8_lossy(&output.stdout);
        let failed: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL")).collect();
        assert!(failed.is_empty() && output.status.success(), "{name}:\n{}", failed.join("\n"));
        for line in report.lines().filter(|l| l.starts_with("SKIP") && l.contains("not installed")) {
            eprintln!("SKIPPED: {name}: {line}");
        }
        // Every values file and release was checked against a schema, not skipped: the generic
        // chart's files by its schema; other charts (unknown here) may be skipped.
        let passed = |validator: &str, file: &str| {
            report.lines().any(|l| l.starts_with(&format!("PASS {validator} ")) && l.contains(file))
        };
        let helm = spec_testkit::helm();
        if helm.is_none() {
            eprintln!(
                "SKIPPED: helm is not installed (see .ci/run); {name}'s values were NOT rendered by their charts"
            );
        }
        for (path, contents) in &files {
            let known = ["app-template", "postgresql", "redis"];
            if known.iter().any(|chart| contents.starts_with(&format!("# chart: {chart}@"))) {
                assert!(passed("helm-values", path), "{name}: {path} was not checked:\n{report}");
                // Rendered by the real chart, and what it rendered passed the Kubernetes schemas.
                if helm.is_some() {
                    assert!(passed("helm-template", path), "{name}: {path} was not rendered:\n{report}");
                }
            }
            // External Secrets' objects against their CRD schemas, once the shared schemas hold
            // them (`crds/externalsecret_external-secrets.io_v1.json`, `secretstore_…`).
            if path.ends_with("secrets.yaml") {
                let crds = workspace().join("../shared/schemas/crds");
                if crds.join("externalsecret_external-secrets.io_v1.json").exists()
                    && crds.join("secretstore_external-secrets.io_v1.json").exists()
                {
                    assert!(passed("k8s-crd-schema", path), "{name}: {path} was not checked:\n{report}");
                } else {
                    eprintln!(
                        "SKIPPED: {name}: {} holds no External Secrets CRD schema; {path} was NOT checked against one",
                        crds.display()
                    );
                }
            }
            if path.ends_with("releases.yaml") || path.ends_with("alerts.yaml") {
                assert!(passed("k8s-crd-schema", path), "{name}: {path} was not checked:\n{report}");
            }
            let promtool = Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success());
            if path.ends_with("alerts.yaml") && promtool {
                assert!(passed("promtool-rules", path), "{name}: {path} was not checked by promtool:\n{report}");
            }
        }
    }
}

/// Strings that YAML 1.1 would read as something else, or that open a template, set as
/// environment values, survive both layers: a YAML 1.1 reader gives back exactly the escaped text,
/// and the Helm escape leaves no `{{` that is not the escape itself.
#[test]
fn hostile_environment_values_read_back_unchanged() {
    if !have_validators() {
        eprintln!("SKIPPED: python3 with pyyaml is missing; YAML 1.1 read-back was not checked");
        return;
    }
    let hostile = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "~",
        "null",
        "0x1F",
        "08",
        "1e3",
        "1_000",
        "12:30",
        "2024-01-01",
        "- a",
        "a: b",
        "# c",
        "{{ .Values.x }}",
        "}}",
        "${HOME}",
        "'q'",
        "\"dq\"",
        "*ref",
        "&a",
        "!tag",
        "%x",
        "@x",
        "tab\there",
        "back\\slash",
        "ünïcødé ✓",
        "trailing ",
    ];
    let mut spec = String::from(
        "secret s { k8s = existing { name = \"s\", key = \"k\" } }\nnode k1 { os = nixos }\n\
         cluster c { distribution = k3s, servers = [node.k1] }\nservice app {\n  on = cluster.c\n  image = \"app:1\"\n  env {\n",
    );
    for (i, value) in hostile.iter().enumerate() {
        let literal: String = value
            .chars()
            .map(|c| match c {
                '"' => "\\\"".to_string(),
                '\\' => "\\\\".to_string(),
                '\t' => "\\t".to_string(),
                '$' => "\\$".to_string(),
                c => c.to_string(),
            })
            .collect();
        spec.push_str(&format!("    V{i} = \"{literal}\"\n"));
    }
    spec.push_str("  }\n}\n");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-hostile");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let estate = dir.join("main.spec");
    std::fs::write(&estate, spec).expect("write");
    let files = spec_testkit::generate(&Kubernetes, &estate);
    let (_, values) = files.iter().find(|(p, _)| p.ends_with("app.values.yaml")).expect("values file");
    let file = dir.join("app.values.yaml");
    std::fs::write(&file, values).expect("write");
    let script = "import json, sys, yaml; d = yaml.safe_load(open(sys.argv[1])); \
                  print(json.dumps(d['controllers']['main']['containers']['app']['env']))";
    let output = Command::new("python3").args(["-c", script]).arg(&file).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let env: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    for (i, value) in hostile.iter().enumerate() {
        let read =
            env[&format!("V{i}")].as_str().unwrap_or_else(|| panic!("V{i} = {value:?} was not read as a string"));
        // What Helm's `tpl` prints for the read text: the escape action prints `{{`.
        assert_eq!(read.replace("{{ \"{{\" }}", "{{"), *value, "V{i}");
        assert!(!read.replace("{{ \"{{\" }}", "").contains("{{"), "V{i}: an unescaped template opener in {read:?}");
    }
}

/// Flux substitutes `${var}` in every manifest it applies unless the object opts out; every object
/// we write opts out, so a `${…}` in a value reaches the cluster as written.
#[test]
fn every_object_turns_flux_substitution_off() {
    use serde::Deserialize as _;
    for (name, estate) in estates() {
        let mut objects = 0;
        for (path, contents) in spec_testkit::generate_in(&Kubernetes, &estate, env_of(name)) {
            if path.ends_with("kustomization.yaml") || path.ends_with(".values.yaml") {
                continue;
            }
            for document in serde_yaml::Deserializer::from_str(&contents) {
                let object = serde_json::Value::deserialize(document).expect("YAML");
                let annotation = &object["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"];
                assert_eq!(annotation, "disabled", "{name}: {path}: {}", object["kind"]);
                objects += 1;
            }
        }
        assert!(objects > 0, "{name}: no object was checked");
    }
}

/// The same hostile values, rendered by real Helm through `tpl` (what app-template does with env
/// values), come out as the original text.
#[test]
fn hostile_environment_values_survive_helm_tpl() {
    let Some(helm) = spec_testkit::helm() else {
        eprintln!("SKIPPED: helm is not installed (see .ci/run); the Helm tpl layer was not checked by Helm");
        return;
    };
    let hostile = [
        "{{ .Values.x }}",
        "}}",
        "{{",
        "a {{ b }} c {{",
        "{{\"{{\"}}",
        "${HOME}",
        "yes",
        "12:30",
        "0x1F",
        "'q'",
        "\"dq\"",
        "back\\slash",
        "ünïcødé ✓",
        "# c",
        "a: b",
    ];
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-helm-tpl");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("chart/templates")).expect("mkdir");
    std::fs::write(dir.join("chart/Chart.yaml"), "apiVersion: v2\nname: probe\nversion: 0.1.0\n").expect("write");
    // Each value through `tpl`, then quoted: exactly what the chart's env template does.
    std::fs::write(
        dir.join("chart/templates/env.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n\
         {{- range $k, $v := .Values.env }}\n  {{ $k }}: {{ tpl $v $ | quote }}\n{{- end }}\n",
    )
    .expect("write");
    let env: serde_json::Map<String, serde_json::Value> = hostile
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("V{i}"), serde_json::Value::String(spec_target_kubernetes::escape::helm_tpl(v))))
        .collect();
    let values = spec_yaml::to_string(&serde_json::json!({ "env": env })).expect("yaml");
    std::fs::write(dir.join("values.yaml"), values).expect("write");
    let output = Command::new(&helm)
        .args(["template", "t"])
        .arg(dir.join("chart"))
        .arg("-f")
        .arg(dir.join("values.yaml"))
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rendered: serde_json::Value = serde_yaml::from_slice(&output.stdout).expect("rendered YAML");
    for (i, value) in hostile.iter().enumerate() {
        assert_eq!(rendered["data"][format!("V{i}")].as_str(), Some(*value), "V{i}");
    }
}

#[test]
fn the_output_matches_its_snapshots() {
    for (name, estate) in estates() {
        let mut all = String::new();
        for (path, contents) in spec_testkit::generate_in(&Kubernetes, &estate, env_of(name)) {
            all.push_str(&format!("----- {path} -----\n{contents}"));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(workspace().join("snapshots/targets/kubernetes"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, all));
    }
}
