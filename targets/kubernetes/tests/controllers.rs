//! The pods of a namespace that denies traffic reach what they talk to, and nothing else, read
//! back as Kubernetes enforces the generated policies: a chart's controller (`helm { api = true }`,
//! Argo Workflows' in `examples/k8s-platform`) reaches the API server and admits Prometheus on its
//! metrics port, which the mesh's STRICT mutual TLS excepts for Prometheus's plain-text scrape;
//! a service that needs a job (an ordering) is let out to nothing outside the cluster for it.
//! Before, the controller's policy had `egress: []` (the workflow never ran) and the backend's
//! admitted every address outside the cluster on every port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

mod netpol;

use netpol::{Pod, admitted, admitted_out};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn policies(files: &[(String, String)], cluster: &str) -> Vec<Value> {
    let path = format!("k8s/{cluster}/policies.yaml");
    files
        .iter()
        .filter(|(p, _)| *p == path)
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect()
}

fn pod(namespace: &str, labels: &[(&str, &str)]) -> Pod {
    Pod { namespace: namespace.into(), labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
}

fn prometheus() -> Pod {
    let object = "monitoring-kube-prometheus-prometheus";
    pod("monitoring", &[("app.kubernetes.io/name", "prometheus"), ("prometheus", object)])
}

/// Addresses outside the cluster a pod must not reach unless it needs them: the internet, and a
/// node's kubelet.
const ELSEWHERE: [(&str, u16); 3] = [("1.1.1.1", 443), ("203.0.113.7", 5432), ("10.20.0.12", 10250)];

#[test]
fn a_chart_controller_reaches_the_api_server_and_a_needed_job_opens_nothing() {
    let estate =
        workspace().join("specs/targets/kubernetes/a_chart_controller_in_a_denying_namespace_reaches_the_api.spec");
    let files = spec_testkit::generate(&Kubernetes, &estate);
    let policies = policies(&files, "main");
    let instance = |name: &str| pod("apps", &[("app.kubernetes.io/instance", name)]);
    let controller = instance("workflows");
    for (address, port) in [("10.43.0.1", 443), ("10.1.0.1", 6443)] {
        assert!(admitted_out(&policies, &controller, address, port), "the controller cannot reach {address}:{port}");
        assert!(!admitted_out(&policies, &instance("quiet"), address, port), "a chart without `api` reaches {address}");
        assert!(!admitted_out(&policies, &instance("api"), address, port), "the api reaches the API server");
    }
    assert!(admitted(&policies, &prometheus(), &controller, 9090, "TCP"), "Prometheus cannot scrape the controller");
    assert!(!admitted(&policies, &prometheus(), &controller, 8080, "TCP"), "Prometheus reaches another port");
    // The api needs the job for its order only: it reaches its database, and nothing outside.
    assert!(admitted(&policies, &instance("api"), &instance("db"), 5432, "TCP"), "the api cannot reach its database");
    for (address, port) in ELSEWHERE {
        assert!(!admitted_out(&policies, &instance("api"), address, port), "the api reaches {address}:{port}");
    }
}

#[test]
fn k8s_platforms_workflow_controller_reaches_the_api_and_the_backend_nothing_outside() {
    let estate = workspace().join("examples/k8s-platform");
    let files = spec_testkit::generate(&Kubernetes, &estate);
    let policies = policies(&files, "platform");
    // The argo-helm chart's controller pod: its selector labels.
    let controller = pod(
        "research",
        &[
            ("app.kubernetes.io/name", "argo-workflows-workflow-controller"),
            ("app.kubernetes.io/instance", "argo-workflows"),
            ("app.kubernetes.io/component", "workflow-controller"),
        ],
    );
    for (address, port) in [("10.43.0.1", 443), ("10.20.0.11", 6443)] {
        assert!(admitted_out(&policies, &controller, address, port), "the controller cannot reach {address}:{port}");
    }
    assert!(admitted(&policies, &prometheus(), &controller, 9090, "TCP"), "Prometheus cannot scrape the controller");
    let backend = pod("research", &[("app.kubernetes.io/instance", "backend")]);
    let postgresql = pod("data", &[("app.kubernetes.io/instance", "postgresql")]);
    assert!(admitted(&policies, &backend, &postgresql, 5432, "TCP"), "the backend cannot reach PostgreSQL");
    for (address, port) in ELSEWHERE.into_iter().chain([("10.20.0.11", 6443)]) {
        assert!(!admitted_out(&policies, &backend, address, port), "the backend reaches {address}:{port}");
    }
    // The namespace's STRICT mutual TLS excepts the scraped port for Prometheus, outside the mesh.
    let exceptions: BTreeMap<String, Value> = files
        .iter()
        .filter(|(p, _)| p == "k8s/platform/mesh.yaml")
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "PeerAuthentication" && o["metadata"]["namespace"] == "research")
        .filter(|o| o["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "argo-workflows")
        .flat_map(|o| o["spec"]["portLevelMtls"].as_object().cloned().unwrap_or_default())
        .collect();
    assert_eq!(exceptions.get("9090").map(|m| &m["mode"]), Some(&Value::from("PERMISSIVE")), "{exceptions:?}");
}
