//! The order of a first install, read back from the generated `HelmRelease`s' `dependsOn`: Istio's
//! charts after its base, the gateway after istiod, the meshed namespaces' releases after istiod,
//! the releases that switch on prometheus-operator's objects after kube-prometheus-stack, which
//! installs their CRDs; and on every example, in every environment, every `dependsOn` names a
//! release of the cluster and the order has no cycle (Flux would wait forever). Before, Istio's
//! releases had no `dependsOn` and nothing waited for istiod or for the CRDs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Per cluster, each release's `dependsOn`.
type Order = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn order(files: &[(String, String)]) -> Order {
    let mut order = Order::new();
    for (path, contents) in files {
        let Some(cluster) = path.strip_prefix("helm/").and_then(|p| p.strip_suffix("/releases.yaml")) else { continue };
        let releases = order.entry(cluster.to_string()).or_default();
        for release in spec_testkit::yaml_documents(contents).into_iter().filter(|o| o["kind"] == "HelmRelease") {
            let depends = release["spec"]["dependsOn"].as_array().into_iter().flatten();
            let names = depends.filter_map(|d| d["name"].as_str().map(str::to_string)).collect();
            releases.insert(release["metadata"]["name"].as_str().expect("a name").to_string(), names);
        }
    }
    order
}

/// The first cycle of `dependsOn` among `releases`, if any (a depth-first search, colouring each
/// release white, grey while on the path, black when done).
fn cycle(releases: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in releases.keys() {
        let mut path: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        while let Some((name, next)) = path.last().copied() {
            if done.contains(name) {
                path.pop();
                continue;
            }
            let depends = &releases[name];
            if let Some(target) = depends.get(next) {
                path.last_mut().expect("on the path").1 += 1;
                if let Some(at) = path.iter().position(|(n, _)| n == target) {
                    return Some(path[at..].iter().map(|(n, _)| n.to_string()).collect());
                }
                path.push((target.as_str(), 0));
            } else {
                done.insert(name);
                path.pop();
            }
        }
    }
    None
}

fn depends<'o>(order: &'o Order, cluster: &str, release: &str) -> &'o [String] {
    order.get(cluster).and_then(|r| r.get(release)).unwrap_or_else(|| panic!("no release {release} on {cluster}"))
}

#[test]
fn releases_wait_for_istio_and_the_monitoring_crds() {
    let estate = workspace().join("specs/targets/kubernetes/release_order_follows_the_charts_and_never_cycles.spec");
    let order = order(&spec_testkit::generate(&Kubernetes, &estate));
    assert_eq!(depends(&order, "main", "istiod"), ["istio-base"]);
    assert_eq!(depends(&order, "main", "istio-ingressgateway"), ["istiod"]);
    assert_eq!(depends(&order, "main", "istio-base"), [] as [String; 0]);
    // The meshed namespace's job and service, the service also after the monitoring CRDs.
    assert_eq!(depends(&order, "main", "job-schema"), ["istiod"]);
    assert_eq!(depends(&order, "main", "api"), ["job-schema", "istiod", "monitoring"]);
    // Loki's ServiceMonitor would wait for kube-prometheus-stack, which needs Loki: the need wins.
    assert_eq!(depends(&order, "main", "monitoring"), ["loki"]);
    assert_eq!(depends(&order, "main", "loki"), [] as [String; 0]);
}

#[test]
fn k8s_platform_installs_istio_and_the_crds_first() {
    let order = order(&spec_testkit::generate(&Kubernetes, &workspace().join("examples/k8s-platform")));
    let has = |release: &str, wanted: &str| depends(&order, "platform", release).iter().any(|d| d == wanted);
    assert!(has("istiod", "istio-base") && has("istio-cni", "istio-base"), "{order:?}");
    assert!(has("istio-ingressgateway", "istiod"), "{order:?}");
    for meshed in ["backend", "frontend", "job-migrate"] {
        assert!(has(meshed, "istiod") && has(meshed, "istio-cni"), "{meshed} does not wait for istiod: {order:?}");
    }
    for monitored in ["backend", "postgresql", "redis", "k8up", "loki", "promtail", "argo-workflows"] {
        assert!(has(monitored, "monitoring"), "{monitored} does not wait for the monitoring CRDs: {order:?}");
    }
    assert!(!has("monitoring", "monitoring"));
}

#[test]
fn every_examples_install_order_names_its_releases_and_has_no_cycle() {
    // The search finds a cycle where there is one.
    let looped = BTreeMap::from([("a".to_string(), vec!["b".to_string()]), ("b".to_string(), vec!["a".to_string()])]);
    assert_eq!(cycle(&looped), Some(vec!["a".to_string(), "b".to_string()]));
    let mut checked = 0;
    let mut examples: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    for example in examples {
        let (_, compilation) = spec_testkit::compile_path(&example, None);
        let environments: Vec<Option<String>> =
            std::iter::once(None).chain(compilation.environments.into_iter().map(Some)).collect();
        for env in environments {
            let files = spec_testkit::generate_in(&Kubernetes, &example, env.as_deref());
            for (cluster, releases) in order(&files) {
                let at = format!("{} ({env:?}), cluster {cluster}", example.display());
                for (release, depends) in &releases {
                    for name in depends {
                        assert!(releases.contains_key(name), "{at}: {release} depends on {name}, not installed");
                    }
                }
                assert_eq!(cycle(&releases), None, "{at}: dependsOn has a cycle");
                checked += releases.len();
            }
        }
    }
    assert!(checked >= 30, "too few releases checked: {checked}");
}
