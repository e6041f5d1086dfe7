//! Namespaces in the cluster's Istio mesh, read back from the generated objects as the mesh
//! would act on them: every client outside the mesh (Prometheus, the ingress controller, a
//! service of an unmeshed namespace) still reaches the ports it needs through a port-level
//! `PERMISSIVE` exception of a STRICT namespace, while a port only meshed clients reach stays
//! STRICT; every meshed namespace is labelled for injection, its services' clients send mutual
//! TLS, its proxies' metrics are scraped, and in a namespace that denies traffic every pod may
//! reach istiod. Routes through Istio's ingress gateway reach their services' ports by host and
//! path, longest path first, with TLS from a certificate in the gateway's own namespace, needing
//! no plain-text exception; a gateway in a namespace that denies traffic takes its load
//! balancer's traffic and reaches its routes and istiod. Every Istio object passes Istio's own validators
//! (`@kubernetes-models/istio`, generated from its CRDs; `.ci/run` installs them), which a broken
//! object fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

const CASE: &str = "specs/targets/kubernetes/namespaces_in_the_istio_mesh_generate_cleanly.spec";
const GATEWAY_CASE: &str = "specs/targets/kubernetes/routes_through_the_istio_gateway_generate_cleanly.spec";
const DENIED_GATEWAY_CASE: &str = "specs/targets/kubernetes/an_istio_gateway_in_a_denying_namespace_is_admitted.spec";

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

#[test]
fn routes_through_istios_gateway_reach_their_services_with_the_gateways_certificates() {
    let objects = objects(&workspace().join(GATEWAY_CASE));
    // No route through Istio is an `Ingress`: the gateway serves them.
    assert!(objects.iter().all(|o| o["kind"] != "Ingress"), "an Ingress for a route through Istio");
    let gateway = find(&objects, "Gateway", "istio-system", "istio-ingressgateway").expect("the Gateway");
    // The chart labels the pods of release `istio-ingressgateway` `istio: ingressgateway`.
    assert_eq!(gateway["spec"]["selector"], serde_json::json!({ "istio": "ingressgateway" }));
    let servers = gateway["spec"]["servers"].as_array().expect("servers");
    assert_eq!(servers[0]["port"]["number"], 80);
    assert_eq!(servers[0]["hosts"], serde_json::json!(["example.com", "status.example.com"]));
    // One HTTPS server, for the one TLS host, reading the Secret its Certificate writes in the
    // gateway's own namespace.
    let https: Vec<&Value> = servers.iter().filter(|s| s["port"]["number"] == 443).collect();
    assert_eq!(https.len(), 1, "{servers:?}");
    assert_eq!(https[0]["hosts"], serde_json::json!(["example.com"]));
    let secret = https[0]["tls"]["credentialName"].as_str().expect("a credential");
    let certificate = find(&objects, "Certificate", "istio-system", "example-com").expect("the host's Certificate");
    assert_eq!(certificate["spec"]["secretName"], secret);
    assert_eq!(certificate["spec"]["dnsNames"], serde_json::json!(["example.com"]));
    assert_eq!(certificate["spec"]["issuerRef"]["name"], "letsencrypt-prod");
    assert!(objects.iter().filter(|o| o["kind"] == "Certificate").count() == 1, "a Certificate for a plain host");
    // One VirtualService per host, bound to the Gateway, `/api` before `/` (Istio takes the first
    // rule that matches), each to its service's Service port.
    let routes = find(&objects, "VirtualService", "istio-system", "example-com").expect("the host's routes");
    assert_eq!(routes["spec"]["gateways"], serde_json::json!(["istio-system/istio-ingressgateway"]));
    let http = routes["spec"]["http"].as_array().expect("rules");
    let prefixes: Vec<&str> = http.iter().filter_map(|r| r["match"][0]["uri"]["prefix"].as_str()).collect();
    assert_eq!(prefixes, ["/api", "/"]);
    assert_eq!(http[0]["route"][0]["destination"]["host"], "api.apps.svc.cluster.local");
    assert_eq!(http[0]["route"][0]["destination"]["port"]["number"], 8080);
    assert_eq!(http[1]["route"][0]["destination"]["host"], "web.apps.svc.cluster.local");
    assert!(find(&objects, "VirtualService", "istio-system", "status-example-com").is_some());
    // The gateway is in the mesh and speaks its mutual TLS: the routed port needs no plain-text
    // exception (only Prometheus's metrics port has one), and the network policy admits the
    // gateway's pods on it.
    assert_eq!(plaintext(&objects, "apps", "api"), BTreeSet::from([9100]));
    assert!(plaintext(&objects, "apps", "web").is_empty());
    let policy = find(&objects, "NetworkPolicy", "apps", "allow-web").expect("web's policy");
    let from_gateway = policy["spec"]["ingress"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["from"][0]["podSelector"]["matchLabels"]["istio"] == "ingressgateway")
        .expect("the gateway admitted");
    assert_eq!(
        from_gateway["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "istio-system"
    );
    assert_eq!(from_gateway["ports"][0]["port"], 8080);
}

/// The ports of a policy rule, as numbers.
fn ports(rule: &Value) -> Vec<u64> {
    rule["ports"].as_array().expect("ports").iter().filter_map(|p| p["port"].as_u64()).collect()
}

#[test]
fn a_gateway_in_a_denying_namespace_takes_its_traffic_and_reaches_its_routes_and_istiod() {
    let objects = objects(&workspace().join(DENIED_GATEWAY_CASE));
    let policy =
        find(&objects, "NetworkPolicy", "istio-system", "allow-istio-ingressgateway").expect("the gateway's policy");
    // The chart's pods carry no instance label: the policy selects them as the Gateway does.
    let gateway = find(&objects, "Gateway", "istio-system", "istio-ingressgateway").expect("the Gateway");
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"], gateway["spec"]["selector"]);
    // From anywhere (the load balancer hands on any client's traffic), on the ports the chart's
    // pods listen on: its status port and the Service's 80 and 443, whose targetPorts they are.
    let ingress = policy["spec"]["ingress"].as_array().expect("ingress");
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert!(ingress[0].get("from").is_none(), "{ingress:?}");
    assert_eq!(ports(&ingress[0]), [15021, 80, 443]);
    // Out: each routed service's pods on its route's port only (not `api`'s admin port), and
    // istiod's on 15012. DNS is the namespace's default-deny's.
    let egress = policy["spec"]["egress"].as_array().expect("egress");
    let reached: Vec<(String, Vec<u64>)> = egress
        .iter()
        .map(|r| {
            let to = &r["to"][0];
            let pods = &to["podSelector"]["matchLabels"];
            let who = pods["app.kubernetes.io/instance"].as_str().or(pods["app"].as_str()).expect("pods");
            let namespace = to["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str();
            (format!("{}/{who}", namespace.expect("a namespace")), ports(r))
        })
        .collect();
    assert_eq!(
        reached,
        [
            ("apps/api".to_string(), vec![8080]),
            ("apps/web".to_string(), vec![3000]),
            ("istio-system/istiod".to_string(), vec![15012]),
        ]
    );
    let dns = find(&objects, "NetworkPolicy", "istio-system", "default-deny").expect("default-deny");
    assert_eq!(ports(&dns["spec"]["egress"][0]), [53, 53]);
    // The routed services admit the gateway's pods on those ports, and istiod, in the same
    // denying namespace, admits the gateway's proxy on 15012 though no namespace is meshed.
    let web = find(&objects, "NetworkPolicy", "apps", "allow-web").expect("web's policy");
    assert_eq!(web["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["istio"], "ingressgateway");
    assert_eq!(ports(&web["spec"]["ingress"][0]), [3000]);
    let control = find(&objects, "NetworkPolicy", "istio-system", "mesh-control").expect("istiod's policy");
    assert_eq!(ports(&control["spec"]["ingress"][0]), [15012]);
    // A gateway whose namespace admits traffic gets no policy at all.
    let open = self::objects(&workspace().join(GATEWAY_CASE));
    assert!(find(&open, "NetworkPolicy", "istio-system", "allow-istio-ingressgateway").is_none());
}

#[test]
fn every_istio_object_passes_istios_validators() {
    let not_done = "the mesh's and the gateway's Istio objects were NOT validated";
    let Some(module) = spec_testkit::kubernetes_models("istio", "istio", not_done) else { return };
    let estates = [
        workspace().join(CASE),
        workspace().join(GATEWAY_CASE),
        workspace().join("examples/k8s-platform"),
        workspace().join("examples/tour"),
    ];
    let mut found = Vec::new();
    for estate in &estates {
        let objects = objects(estate);
        found.extend(
            objects.into_iter().filter(|o| o["apiVersion"].as_str().is_some_and(|a| a.ends_with(".istio.io/v1"))),
        );
    }
    let kinds: BTreeSet<&str> = found.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["DestinationRule", "Gateway", "PeerAuthentication", "VirtualService"]),
        "too few objects: {found:?}"
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-istio");
    spec_testkit::assert_models_pass(&module, &dir, &found);
    // The validators refuse what Istio would: a mode it does not know, a rule without its host.
    let mut broken = found.iter().find(|o| o["kind"] == "PeerAuthentication").expect("one").clone();
    broken["spec"]["mtls"]["mode"] = "ON".into();
    let mut hostless = found.iter().find(|o| o["kind"] == "DestinationRule").expect("one").clone();
    hostless["spec"].as_object_mut().expect("spec").remove("host");
    // A Gateway server without its port, a route whose destination has no host.
    let mut portless = found.iter().find(|o| o["kind"] == "Gateway").expect("one").clone();
    portless["spec"]["servers"][0].as_object_mut().expect("server").remove("port");
    let mut nowhere = found.iter().find(|o| o["kind"] == "VirtualService").expect("one").clone();
    nowhere["spec"]["http"][0]["route"][0]["destination"].as_object_mut().expect("destination").remove("host");
    let report =
        spec_testkit::validate_with_models(&module, &dir.join("broken"), &[broken, hostless, portless, nowhere]);
    assert!(report.lines().all(|l| l.starts_with("FAIL")) && report.lines().count() == 4, "{report}");
}
