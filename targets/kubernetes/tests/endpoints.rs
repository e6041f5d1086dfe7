//! `service.NAME.url` read back from the generated values: inside the same cluster it is the
//! Service's DNS name in the cluster's namespace, for a service on a node the node's address.
//! Before endpoints were resolved per target, such a reference was refused by the checker.

use std::path::{Path, PathBuf};

use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn endpoints_are_written_as_the_cluster_finds_each_service() {
    let case = workspace().join("specs/targets/kubernetes/endpoints_read_from_a_cluster_generate_cleanly.spec");
    let files = spec_testkit::generate(&Kubernetes, &case);
    let (_, values) = files.iter().find(|(p, _)| p == "helm/main/worker.values.yaml").expect("the worker's values");
    assert!(values.contains("NATS_URL: \"nats://bus.estate.svc.cluster.local:4222\""), "{values}");
    assert!(values.contains("DATABASE_URL: \"postgres://10.0.0.2:5432\""), "{values}");
}

#[test]
fn chart_values_read_where_services_are() {
    let case = workspace().join("specs/targets/kubernetes/endpoints_read_in_chart_values_generate_cleanly.spec");
    let files = spec_testkit::generate(&Kubernetes, &case);
    let (_, values) = files.iter().find(|(p, _)| p == "helm/apps/gateway.values.yaml").expect("the gateway's values");
    let values: serde_json::Value = serde_yaml::from_str(values).expect("values");
    assert_eq!(values["upstream"]["url"], "http://api.default.svc.cluster.local:8080");
    assert_eq!(values["upstream"]["port"], 8080);
    assert_eq!(values["database"]["host"], "10.1.0.2");
}
