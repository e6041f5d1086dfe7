//! Strings holding where a service is, read back from what the real app-template chart renders
//! with Helm: the Deployment's argument and environment variable and the ConfigMap's file hold the
//! Service's DNS name in the cluster, as does the third-party chart's value (read from the values
//! file Flux hands it). A missing Helm or chart makes the test print SKIPPED.

// Tests write scratch files and run the real tools.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use spec_target_kubernetes::Kubernetes;

const CASE: &str = "specs/targets/kubernetes/strings_with_references_are_filled.spec";
const PUSH: &str = "http://loki.apps.svc.cluster.local:3100/loki/api/v1/push";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_string_is_filled_with_the_services_name_in_the_cluster() {
    let files = spec_testkit::generate(&Kubernetes, &workspace().join(CASE));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-templates");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let promtail: Vec<Value> = spec_testkit::yaml_documents(
        &std::fs::read_to_string(dir.join("helm/apps/promtail.values.yaml")).expect("values"),
    );
    assert_eq!(promtail[0]["config"]["clients"], json!([{ "url": PUSH }]));
    let Some((helm, charts)) =
        spec_testkit::helm_and_charts("app-template", "the app-template values were NOT rendered")
    else {
        return;
    };
    let values = dir.join("helm/apps/api.values.yaml");
    let objects = spec_testkit::helm_template(&helm, &charts.join("app-template"), "api", "apps", &values);
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").expect("a rendered Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["args"], json!([format!("--logs={PUSH}")]));
    let env = container["env"].as_array().expect("env");
    assert!(env.contains(&json!({ "name": "LOKI_PUSH", "value": PUSH })), "{env:?}");
    let config_map = objects.iter().find(|o| o["kind"] == "ConfigMap").expect("a rendered ConfigMap");
    assert_eq!(config_map["data"]["logging.yaml"], json!(format!("clients:\n- url: \"{PUSH}\"\n")));
}
