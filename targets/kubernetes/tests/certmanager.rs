//! The cert-manager objects the Kubernetes back end writes (the `ClusterIssuer` of
//! `std.certmanager.issuer`, the `Certificate` of each TLS host routed through Istio's ingress
//! gateway, and those an estate writes as raw manifests) pass cert-manager's own
//! validators (`@kubernetes-models/cert-manager`, generated from its CRDs: types, required fields,
//! enums and patterns; `.ci/run` installs them), which a broken issuer fails.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_cert_manager_object_passes_the_cert_manager_validators() {
    let not_done = "cert-manager's ClusterIssuers were NOT validated";
    let Some(module) = spec_testkit::kubernetes_models("cert-manager", "cert-manager", not_done) else { return };
    let case = |name: &str| workspace().join(format!("specs/targets/kubernetes/{name}.spec"));
    let estates = [
        case("ingress_controller_issuer_and_nginx_presets_generate_cleanly"),
        case("files_manifests_and_a_version_generate_cleanly"),
        case("routes_through_the_istio_gateway_generate_cleanly"),
        workspace().join("examples/tour"),
        workspace().join("examples/k8s-platform"),
    ];
    let objects = spec_testkit::generated_objects(&Kubernetes, &estates, |o| {
        o["apiVersion"].as_str().is_some_and(|v| v.contains("cert-manager.io/"))
    });
    let issuers = objects.iter().filter(|o| o["kind"] == "ClusterIssuer").count();
    assert!(issuers >= 3, "too few issuers to validate: {objects:?}");
    let certificates = objects.iter().filter(|o| o["kind"] == "Certificate").count();
    assert!(certificates >= 2, "too few certificates to validate: {objects:?}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-cert-manager");
    spec_testkit::assert_models_pass(&module, &dir, &objects);
    // The validators refuse what cert-manager would: an ACME issuer without its directory, and a
    // solver's ingress class that is not a string.
    let mut broken: Value = objects[0].clone();
    broken["spec"]["acme"].as_object_mut().expect("acme").remove("server");
    broken["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["ingressClassName"] = Value::from(3);
    let report = spec_testkit::validate_with_models(&module, &dir.join("broken"), &[broken]);
    assert!(report.starts_with("FAIL") && report.contains("server") && report.contains("ingressClassName"), "{report}");
    // And a Certificate without the Secret it writes.
    let mut secretless = objects.iter().find(|o| o["kind"] == "Certificate").expect("one").clone();
    secretless["spec"].as_object_mut().expect("spec").remove("secretName");
    let report = spec_testkit::validate_with_models(&module, &dir.join("secretless"), &[secretless]);
    assert!(report.starts_with("FAIL") && report.contains("secretName"), "{report}");
}
