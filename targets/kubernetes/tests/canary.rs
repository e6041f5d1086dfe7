//! Canary rollouts on a cluster against Argo Rollouts' own API: every `Rollout` and
//! `AnalysisTemplate` the back end writes (the rollouts and analysis cases, the k8s-platform
//! example's and the tour's canaries) passes the
//! validators of `@kubernetes-models/argo-rollouts` (generated from the Argo Rollouts CRDs: types,
//! required fields, enums; `.ci/run` installs them), which a broken Rollout fails. Each Rollout's
//! controller is on its cluster: a service there installs the argo-helm chart `argo-rollouts`.
//! Each analysis is a template the Rollout names, asking kube-prometheus-stack's Prometheus
//! Service on the same cluster, with the query the spec wrote.
//! Without node or the package the test prints SKIPPED.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_rollout_passes_the_argo_rollouts_validators() {
    let not_done = "the Argo Rollouts objects were NOT validated";
    let Some(module) = spec_testkit::kubernetes_models("argo-rollouts", "argo-rollouts", not_done) else { return };
    let estates = [
        workspace().join("specs/targets/kubernetes/rollouts_budgets_autoscalers_and_tiers_generate_cleanly.spec"),
        workspace().join("specs/targets/kubernetes/canary_analysis_asks_the_clusters_prometheus.spec"),
        workspace().join("specs/targets/kubernetes/canary_analysis_across_denying_namespaces_is_admitted.spec"),
        workspace().join("examples/k8s-platform"),
        workspace().join("examples/tour"),
    ];
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-argo-rollouts");
    let mut objects = Vec::new();
    for estate in &estates {
        let files = spec_testkit::generate(&Kubernetes, estate);
        let before = objects.len();
        let found = files.iter().flat_map(|(_, contents)| spec_testkit::yaml_documents(contents));
        objects.extend(found.filter(|o| {
            o["apiVersion"] == "argoproj.io/v1alpha1" && (o["kind"] == "Rollout" || o["kind"] == "AnalysisTemplate")
        }));
        assert!(objects[before..].iter().any(|o| o["kind"] == "Rollout"), "{}: no Rollout written", estate.display());
        // The controller carrying them out is installed on the same cluster.
        let (_, compilation) = spec_testkit::compile_path(estate, None);
        analyses_are_named_and_ask_prometheus(&objects[before..], &compilation.model);
        for rollout in objects[before..].iter().filter(|o| o["kind"] == "Rollout") {
            let name = rollout["metadata"]["name"].as_str().expect("name");
            let service = compilation.model.services.iter().find(|s| s.name == name).expect("the Rollout's service");
            let controller = compilation.model.services.iter().find(|s| {
                s.spec.on.value.name == service.spec.on.value.name
                    && s.spec.helm.as_ref().is_some_and(|h| {
                        h.value.chart.value == "https://argoproj.github.io/argo-helm"
                            && h.value.name.as_ref().is_some_and(|n| n.value == "argo-rollouts")
                    })
            });
            assert!(controller.is_some(), "{}: no Argo Rollouts controller beside Rollout {name}", estate.display());
        }
    }
    spec_testkit::assert_models_pass(&module, &dir, &objects);
    // The validators refuse what Argo Rollouts would: a weight that is no integer, a replica count
    // that is no number.
    let kinds = |kind: &str| objects.iter().filter(|o| o["kind"] == kind).count();
    assert!(kinds("AnalysisTemplate") >= 2, "the analysis case and k8s-platform write templates");
    let mut broken = objects.iter().find(|o| o["kind"] == "Rollout").expect("a Rollout").clone();
    broken["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = Value::from("25%");
    broken["spec"]["replicas"] = Value::from("four");
    let report = spec_testkit::validate_with_models(&module, &dir.join("broken"), &[broken]);
    assert!(report.starts_with("FAIL") && report.contains("setWeight") && report.contains("replicas"), "{report}");
    // And a template whose measurement has no name and an interval that is no duration string.
    let mut broken = objects.iter().find(|o| o["kind"] == "AnalysisTemplate").expect("a template").clone();
    broken["spec"]["metrics"][0].as_object_mut().expect("metric").remove("name");
    broken["spec"]["metrics"][0]["interval"] = Value::from(60);
    let report = spec_testkit::validate_with_models(&module, &dir.join("broken-template"), &[broken]);
    assert!(report.starts_with("FAIL") && report.contains("name") && report.contains("interval"), "{report}");
}

/// Each template is named by exactly one Rollout's background analysis in its namespace, from a
/// step after the first weight, and each asks kube-prometheus-stack's Prometheus Service (the
/// chart's `<full name>-prometheus` in the namespace of a service installing that chart on the
/// estate's cluster) the query of the canary's spec, failing after the spec's `failures`.
fn analyses_are_named_and_ask_prometheus(objects: &[Value], model: &spec_compiler::model::Model) {
    use spec_compiler::model::Rollout;
    for template in objects.iter().filter(|o| o["kind"] == "AnalysisTemplate") {
        let name = template["metadata"]["name"].as_str().expect("name");
        let namespace = &template["metadata"]["namespace"];
        let users: Vec<&Value> = objects
            .iter()
            .filter(|o| o["kind"] == "Rollout" && o["metadata"]["namespace"] == *namespace)
            .filter(|o| o["spec"]["strategy"]["canary"]["analysis"]["templates"][0]["templateName"] == name)
            .collect();
        assert_eq!(users.len(), 1, "template {name} is named by {} Rollouts", users.len());
        let analysis = &users[0]["spec"]["strategy"]["canary"]["analysis"];
        assert_eq!(analysis["startingStep"], 1, "{name}: the analysis starts once the first share runs");
        let service_name = users[0]["metadata"]["name"].as_str().expect("name");
        let service = model.services.iter().find(|s| s.name == service_name).expect("the canary's service");
        let Some(Rollout::Canary { analysis: Some(spec), .. }) = service.spec.rollout.as_ref().map(|r| &r.value) else {
            panic!("{name}: service {service_name} has no analysis");
        };
        let metric = &template["spec"]["metrics"][0];
        let prometheus = &metric["provider"]["prometheus"];
        assert_eq!(prometheus["query"], spec.value.query.value.as_str(), "{name}: the query is the spec's");
        assert_eq!(metric["failureLimit"], spec.value.failures() - 1, "{name}");
        // Argo evaluates the condition with `expr`, where indexing an empty result (an error
        // counter that has no series until the first error) is an error, and five in a row abort
        // the rollout: the empty result must pass before anything indexes it.
        let condition = metric["successCondition"].as_str().expect("successCondition");
        let guard = condition.find("len(result) == 0 ||");
        let first_index = condition.find("result[0]");
        assert!(
            guard.is_some_and(|g| first_index.is_none_or(|i| g < i)),
            "{name}: `{condition}` indexes the result before passing an empty one"
        );
        let address = prometheus["address"].as_str().expect("address");
        let host = address.strip_prefix("http://").and_then(|a| a.split(':').next()).expect("http://host:port");
        let (svc, rest) = host.split_once('.').expect("service.namespace");
        let prom_namespace = rest.strip_suffix(".svc.cluster.local").expect("a cluster Service");
        let chart = model.services.iter().find(|s| {
            s.spec.on.value.name == service.spec.on.value.name
                && s.spec.namespace.as_ref().is_none_or(|n| n.value == prom_namespace)
                && s.spec
                    .helm
                    .as_ref()
                    .is_some_and(|h| h.value.name.as_ref().is_some_and(|n| n.value == "kube-prometheus-stack"))
        });
        let chart = chart.unwrap_or_else(|| panic!("{name}: no kube-prometheus-stack in namespace {prom_namespace}"));
        assert!(
            svc.starts_with(&chart.name) && svc.ends_with("-prometheus"),
            "{name}: {svc} is not the Prometheus Service of release {}",
            chart.name
        );
    }
}
