//! Namespaces in the cluster's Istio mesh, read back from the generated objects as the mesh
//! would act on them: every client outside the mesh (Prometheus, the ingress controller, a
//! service of an unmeshed namespace) still reaches the ports it needs through a port-level
//! `PERMISSIVE` exception of a STRICT namespace, while a port only meshed clients reach stays
//! STRICT; every meshed namespace is labelled for injection, its services' clients send mutual
//! TLS, its proxies' metrics are scraped, and in a namespace that denies traffic every pod may
//! reach istiod. Every Istio object passes Istio's own validators
//! (`@kubernetes-models/istio`, generated from its CRDs; `.ci/run` installs them), which a broken
//! object fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

const CASE: &str = "specs/targets/kubernetes/namespaces_in_the_istio_mesh_generate_cleanly.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn objects(estate: &Path) -> Vec<Value> {
    let files = spec_testkit::generate(&Kubernetes, estate);
    files.iter().flat_map(|(_, contents)| spec_testkit::yaml_documents(contents)).collect()
}

fn find<'o>(objects: &'o [Value], kind: &str, namespace: &str, name: &str) -> Option<&'o Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["namespace"] == namespace && o["metadata"]["name"] == name)
}

/// The ports of a workload (by its instance label) that accept plain text in `namespace`.
fn plaintext(objects: &[Value], namespace: &str, instance: &str) -> BTreeSet<u64> {
    let namespace_mode =
        find(objects, "PeerAuthentication", namespace, "default").expect("default")["spec"]["mtls"]["mode"]
            .as_str()
            .map(str::to_string);
    assert_eq!(namespace_mode.as_deref(), Some("STRICT"));
    objects
        .iter()
        .filter(|o| o["kind"] == "PeerAuthentication" && o["metadata"]["namespace"] == namespace)
        .filter(|o| o["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == instance)
        .flat_map(|o| o["spec"]["portLevelMtls"].as_object().cloned().unwrap_or_default())
        .filter(|(_, mode)| mode["mode"] == "PERMISSIVE")
        .map(|(port, _)| port.parse().expect("a port"))
        .collect()
}

#[test]
fn clients_outside_the_mesh_reach_exactly_the_ports_they_need() {
    let objects = objects(&workspace().join(CASE));
    // `api` (apps, STRICT) is reached by `report` (tools, outside the mesh) on every port, by
    // Prometheus on its metrics port and by the ingress controller on its route's port.
    assert_eq!(plaintext(&objects, "apps", "api"), BTreeSet::from([8080, 9090, 9100]));
    // Without the outside client, only Prometheus's and the ingress controller's ports are
    // excepted: the gRPC port, reached from the mesh alone, stays STRICT.
    let source = std::fs::read_to_string(workspace().join(CASE)).expect("case");
    let inside = source.replace(
        "namespace = \"tools\"\n  image     = \"example/report",
        "namespace = \"web\"\n  image     = \"example/report",
    );
    assert_ne!(inside, source, "the case moved");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-mesh");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let moved = dir.join("inside.spec");
    std::fs::write(&moved, inside).expect("write");
    let objects = self::objects(&moved);
    assert_eq!(plaintext(&objects, "apps", "api"), BTreeSet::from([8080, 9100]));
}

#[test]
fn meshed_namespaces_are_injected_mutual_and_scraped() {
    let objects = objects(&workspace().join(CASE));
    for namespace in ["apps", "web"] {
        let ns = objects.iter().find(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == namespace).expect("ns");
        assert_eq!(ns["metadata"]["labels"]["istio-injection"], "enabled", "{namespace}");
        let monitor = find(&objects, "PodMonitor", namespace, "istio-proxies").expect("the proxies' PodMonitor");
        assert_eq!(monitor["spec"]["podMetricsEndpoints"][0]["port"], "http-envoy-prom");
    }
    let unmeshed =
        objects.iter().find(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == "tools").expect("tools");
    assert!(unmeshed["metadata"]["labels"].get("istio-injection").is_none());
    assert_eq!(
        find(&objects, "PeerAuthentication", "web", "default").expect("web")["spec"]["mtls"]["mode"],
        "PERMISSIVE"
    );
    let rule = find(&objects, "DestinationRule", "apps", "api").expect("api's rule");
    assert_eq!(rule["spec"]["host"], "api.apps.svc.cluster.local");
    assert_eq!(rule["spec"]["trafficPolicy"]["tls"]["mode"], "ISTIO_MUTUAL");
    // The unmeshed database gets no rule: meshed clients send it plain text (auto mTLS).
    assert!(find(&objects, "DestinationRule", "tools", "db").is_none());
}

#[test]
fn proxies_in_a_denying_namespace_reach_istiod_and_are_scraped() {
    let objects = objects(&workspace().join(CASE));
    let policy = find(&objects, "NetworkPolicy", "apps", "mesh").expect("the mesh policy");
    assert_eq!(policy["spec"]["podSelector"], serde_json::json!({}), "every pod of the namespace");
    let egress = &policy["spec"]["egress"][0];
    assert_eq!(egress["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], "istio-system");
    assert_eq!(egress["to"][0]["podSelector"]["matchLabels"]["app"], "istiod");
    assert_eq!(egress["ports"][0]["port"], 15012);
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], 15090);
    // The namespace that does not deny traffic needs no policy.
    assert!(find(&objects, "NetworkPolicy", "web", "mesh").is_none());
    // istiod's release turns native sidecars on, so the migration Job in `apps` finishes.
    let release = objects
        .iter()
        .find(|o| o["kind"] == "HelmRelease" && o["metadata"]["name"] == "istiod")
        .expect("istiod's release");
    assert_eq!(release["spec"]["values"]["pilot"]["env"]["ENABLE_NATIVE_SIDECARS"], "true");
}

/// Where `.ci/run` installs Istio's validators.
fn istio_validators() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let module = home.join(".cache/spec-validate/istio/node_modules/@kubernetes-models/istio");
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    (node && module.exists()).then_some(module)
}

/// Runs Istio's validators over `objects` (JSON), printing `PASS`/`FAIL` per object.
fn validate_with_istio(module: &Path, dir: &Path, objects: &[Value]) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    let input = dir.join("objects.json");
    std::fs::write(&input, serde_json::to_string(objects).expect("json")).expect("write");
    let script = dir.join("validate.mjs");
    let module = module.display().to_string();
    std::fs::write(
        &script,
        format!(
            "import fs from 'fs';\n\
             const kinds = {{\n\
               'security.istio.io/v1': await import({security:?}),\n\
               'networking.istio.io/v1': await import({networking:?}),\n\
             }};\n\
             for (const o of JSON.parse(fs.readFileSync({input:?}))) {{\n\
               const kind = kinds[o.apiVersion][o.kind];\n\
               try {{ new kind(o).validate(); console.log('PASS', o.kind, o.metadata.namespace, o.metadata.name); }}\n\
               catch (e) {{ console.log('FAIL', o.kind, o.metadata.namespace, o.metadata.name, e.message); }}\n\
             }}\n",
            security = format!("{module}/security.istio.io/v1/index.js"),
            networking = format!("{module}/networking.istio.io/v1/index.js"),
            input = input.display().to_string(),
        ),
    )
    .expect("write");
    let output = Command::new("node").arg(&script).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_istio_object_passes_istios_validators() {
    let Some(module) = istio_validators() else {
        eprintln!(
            "SKIPPED: node or @kubernetes-models/istio is missing (see .ci/run); \
             PeerAuthentications and DestinationRules were NOT validated"
        );
        return;
    };
    let estates =
        [workspace().join(CASE), workspace().join("examples/k8s-platform"), workspace().join("examples/tour")];
    let mut found = Vec::new();
    for estate in &estates {
        let objects = objects(estate);
        found.extend(
            objects.into_iter().filter(|o| o["apiVersion"].as_str().is_some_and(|a| a.ends_with(".istio.io/v1"))),
        );
    }
    let kinds: BTreeSet<&str> = found.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["DestinationRule", "PeerAuthentication"]), "too few objects: {found:?}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-istio");
    let report = validate_with_istio(&module, &dir, &found);
    let failed: Vec<&str> = report.lines().filter(|l| !l.starts_with("PASS")).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(report.lines().count(), found.len(), "{report}");
    // The validators refuse what Istio would: a mode it does not know, a rule without its host.
    let mut broken = found.iter().find(|o| o["kind"] == "PeerAuthentication").expect("one").clone();
    broken["spec"]["mtls"]["mode"] = "ON".into();
    let mut hostless = found.iter().find(|o| o["kind"] == "DestinationRule").expect("one").clone();
    hostless["spec"].as_object_mut().expect("spec").remove("host");
    let report = validate_with_istio(&module, &dir.join("broken"), &[broken, hostless]);
    assert!(report.lines().all(|l| l.starts_with("FAIL")) && report.lines().count() == 2, "{report}");
}
