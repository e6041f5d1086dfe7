//! The generated `NetworkPolicy`s read back as Kubernetes enforces them: the pods are what the real
//! charts render from the generated values (real Helm, `shared/charts`), with their real labels
//! and namespaces, with the policies the charts render beside the estate's, and a connection is admitted when the policies selecting the destination pod
//! admit it in (or none selects it for ingress) and those selecting the source pod let it out (or
//! none selects it for egress), as the API's semantics say: policies add up, a peer with both
//! selectors is their conjunction, a rule without `from`/`to` or `ports` matches everything.
//!
//! Then every `needs` edge (and endpoint read) of the estate must be admitted on every port of the
//! needed service but a metrics-only one, every other pair of services must not be, the
//! Prometheus pods (prometheus-operator's label, in another namespace) must reach each metrics
//! port and an unlabelled pod must not, the ingress controller in `kube-system` must reach each
//! route's port, and every pod of a namespace that denies traffic must still reach DNS. Without
//! Helm or the charts the test prints SKIPPED.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_compiler::model::reach::{metrics_only, reached_services};
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A pod as a policy sees it: its namespace and labels.
#[derive(Clone, Debug)]
struct Pod {
    namespace: String,
    labels: BTreeMap<String, String>,
}

/// Whether `selector` (a label selector; `{}` selects everything) selects `labels`.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let matched = selector["matchLabels"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str()));
    let expressions = selector["matchExpressions"].as_array().is_none_or(|e| {
        e.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match e["operator"].as_str() {
                Some("In") => labels.get(key).is_some_and(|v| values.contains(&v.as_str())),
                Some("NotIn") => labels.get(key).is_none_or(|v| !values.contains(&v.as_str())),
                Some("Exists") => labels.contains_key(key),
                Some("DoesNotExist") => !labels.contains_key(key),
                _ => false,
            }
        })
    });
    matched && expressions
}

/// Whether a policy peer (`from`/`to` item) holds `pod`, seen from the policy's namespace.
fn peer_holds(peer: &Value, policy_namespace: &str, pod: &Pod) -> bool {
    if peer.get("ipBlock").is_some() {
        return false; // pod-to-pod traffic is judged by selectors (pod addresses are not known here)
    }
    let namespace_labels = BTreeMap::from([("kubernetes.io/metadata.name".to_string(), pod.namespace.clone())]);
    let in_namespace = match peer.get("namespaceSelector") {
        Some(selector) => selects(selector, &namespace_labels),
        None => pod.namespace == policy_namespace,
    };
    let in_pods = peer.get("podSelector").is_none_or(|selector| selects(selector, &pod.labels));
    in_namespace && in_pods
}

fn port_matches(ports: &Value, port: u16, protocol: &str) -> bool {
    ports.as_array().is_none_or(|ports| {
        ports.is_empty()
            || ports
                .iter()
                .any(|p| p["port"].as_u64() == Some(u64::from(port)) && p["protocol"].as_str() == Some(protocol))
    })
}

/// Whether the policies let `from` reach `to` on `port`.
fn admitted(policies: &[Value], from: &Pod, to: &Pod, port: u16, protocol: &str) -> bool {
    let direction = |pod: &Pod, kind: &str, rules: &str, peers: &str, other: &Pod| -> bool {
        let selecting: Vec<&Value> = policies
            .iter()
            .filter(|p| p["metadata"]["namespace"].as_str() == Some(pod.namespace.as_str()))
            .filter(|p| selects(&p["spec"]["podSelector"], &pod.labels))
            .filter(|p| p["spec"]["policyTypes"].as_array().is_some_and(|t| t.iter().any(|t| t == kind)))
            .collect();
        if selecting.is_empty() {
            return true;
        }
        selecting.iter().any(|policy| {
            let namespace = policy["metadata"]["namespace"].as_str().unwrap_or_default();
            policy["spec"][rules].as_array().into_iter().flatten().any(|rule| {
                let peer_ok = match rule.get(peers).and_then(Value::as_array) {
                    None => true,
                    Some(list) => list.iter().any(|peer| peer_holds(peer, namespace, other)),
                };
                peer_ok && port_matches(&rule["ports"], port, protocol)
            })
        })
    };
    direction(to, "Ingress", "ingress", "from", from) && direction(from, "Egress", "egress", "to", to)
}

#[test]
fn every_need_is_admitted_and_nothing_else() {
    let charts = workspace().join("../shared/charts");
    let Some(helm) = spec_testkit::helm() else {
        eprintln!("SKIPPED: helm is not installed (see .ci/run); the network policies were NOT read back");
        return;
    };
    if !charts.join("postgresql").exists() {
        eprintln!("SKIPPED: {} is missing; the network policies were NOT read back", charts.display());
        return;
    }
    let estate = workspace().join("specs/targets/kubernetes/network_policies_and_access_generate_cleanly.spec");
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    assert_eq!(compilation.errors(), 0, "{:#?}", compilation.diagnostics);
    let model = &compilation.model;
    let files = spec_testkit::generate_in(&Kubernetes, &estate, None);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-policies");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let cluster = &model.clusters[0];
    let namespaces = cluster.spec.namespaces(cluster.name_span);
    let mut policies: Vec<Value> = files
        .iter()
        .filter(|(path, _)| path == &format!("k8s/{}/policies.yaml", cluster.name))
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    assert!(!policies.is_empty(), "no policies written");
    // Each service's pods, as its chart renders them.
    let mut pods: BTreeMap<&str, Pod> = BTreeMap::new();
    for service in &model.services {
        let index = cluster.spec.namespace_of(service.spec.namespace.as_ref()).expect("namespace");
        let namespace = namespaces[index].name;
        let path = format!("helm/{}/{}.values.yaml", cluster.name, service.name);
        let (_, values) = files.iter().find(|(p, _)| *p == path).expect("values file");
        let first = values.lines().next().unwrap_or_default();
        let chart = first.trim_start_matches("# chart: ").split('@').next().expect("chart");
        let file = dir.join(format!("{}.values.yaml", service.name));
        std::fs::write(&file, values).expect("write values");
        let rendered = spec_testkit::helm_template(&helm, &charts.join(chart), &service.name, namespace, &file);
        // A chart's own policies add up with the estate's: one admitting everyone would undo them.
        for mut policy in rendered.iter().filter(|o| o["kind"] == "NetworkPolicy").cloned() {
            if policy["metadata"]["namespace"].is_null() {
                policy["metadata"]["namespace"] = namespace.into();
            }
            policies.push(policy);
        }
        let workload = rendered
            .iter()
            .find(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet")
            .unwrap_or_else(|| panic!("{}: no workload rendered", service.name));
        let labels = workload["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .expect("pod labels")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        pods.insert(&service.name, Pod { namespace: namespace.to_string(), labels });
    }
    let denied = |pod: &Pod| {
        namespaces.iter().any(|n| {
            n.name == pod.namespace
                && n.network_policy.is_some_and(|p| p.value == spec_compiler::model::NetworkPolicy::Deny)
        })
    };
    let mut edges = 0;
    let mut refused = 0;
    for needed in &model.services {
        let to = &pods[needed.name.as_str()];
        for (name, port) in needed.spec.ports.iter().filter(|(name, _)| !metrics_only(needed, name)) {
            let protocol = "TCP";
            for needer in &model.services {
                if needer.name == needed.name {
                    continue;
                }
                let from = &pods[needer.name.as_str()];
                let reaches = reached_services(&needer.spec).contains(&needed.name.as_str());
                let admitted = admitted(&policies, from, to, port.value.number, protocol);
                if reaches {
                    assert!(admitted, "{} needs {} but is not admitted to port {name}", needer.name, needed.name);
                    edges += 1;
                } else if denied(to) || denied(from) {
                    // An exposed port is open to anyone at the load balancer, by design.
                    if needed.spec.expose.ports().iter().any(|e| e.port == name) {
                        continue;
                    }
                    assert!(!admitted, "{} reaches {}'s port {name} without needing it", needer.name, needed.name);
                    refused += 1;
                }
            }
        }
        // The Prometheus of prometheus-operator scrapes the metrics port; an unlabelled pod does not.
        if let Some(metrics) = needed.spec.metrics.as_ref().filter(|_| denied(to)) {
            let port = needed.spec.ports[metrics.value.port.value.0.as_str()].value.number;
            let prometheus = Pod {
                namespace: "monitoring".into(),
                labels: BTreeMap::from([
                    ("app.kubernetes.io/name".into(), "prometheus".into()),
                    ("prometheus".into(), "k8s".into()),
                ]),
            };
            let stranger = Pod { namespace: "monitoring".into(), labels: BTreeMap::new() };
            assert!(admitted(&policies, &prometheus, to, port, "TCP"), "{}: Prometheus not admitted", needed.name);
            assert!(!admitted(&policies, &stranger, to, port, "TCP"), "{}: any pod scrapes it", needed.name);
            edges += 1;
        }
        // The ingress controller (Traefik in kube-system on k3s) reaches each route's port.
        for route in needed.spec.ingress.values().filter(|_| denied(to)) {
            let port = needed.spec.ports[route.value.port.value.0.as_str()].value.number;
            let traefik = Pod {
                namespace: "kube-system".into(),
                labels: BTreeMap::from([("app.kubernetes.io/name".into(), "traefik".into())]),
            };
            assert!(admitted(&policies, &traefik, to, port, "TCP"), "{}: ingress controller refused", needed.name);
            edges += 1;
        }
    }
    // Every pod of a namespace that denies traffic still resolves names.
    let dns = Pod { namespace: "kube-system".into(), labels: BTreeMap::from([("k8s-app".into(), "kube-dns".into())]) };
    for (name, pod) in pods.iter().filter(|(_, pod)| denied(pod)) {
        assert!(admitted(&policies, pod, &dns, 53, "UDP"), "{name} cannot resolve names");
        assert!(admitted(&policies, pod, &dns, 53, "TCP"), "{name} cannot resolve names over TCP");
    }
    assert!(edges >= 4 && refused >= 4, "too little was checked: {edges} admitted, {refused} refused");
}
