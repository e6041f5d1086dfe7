//! kube-prometheus-stack on a k3s cluster, in every example that runs one: k3s runs the controller
//! manager, the scheduler and the proxy inside its own process and serves no etcd metrics off the
//! loopback, so the chart's Services for them match no pod and its `KubeControllerManagerDown`,
//! `KubeSchedulerDown` and `KubeProxyDown` (critical) fire forever. The generated values switch
//! those four components off (their scrapes and their rules alike).

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_compiler::model::Distribution;
use spec_target_kubernetes::Kubernetes;

/// The components k3s keeps inside its own process, by their kube-prometheus-stack keys.
const INSIDE_K3S: [&str; 4] = ["kubeControllerManager", "kubeScheduler", "kubeProxy", "kubeEtcd"];

fn examples() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut examples: Vec<PathBuf> =
        std::fs::read_dir(folder).expect("examples").map(|e| e.expect("entry").path()).filter(|p| p.is_dir()).collect();
    examples.sort();
    examples
}

#[test]
fn kube_prometheus_stack_on_k3s_scrapes_no_component_k3s_runs_inside_itself() {
    let mut checked = Vec::new();
    for example in examples() {
        let (_, compilation) = spec_testkit::compile_path(&example, None);
        assert_eq!(compilation.errors(), 0, "{}: {:#?}", example.display(), compilation.diagnostics);
        let k3s: Vec<&str> = compilation
            .model
            .clusters
            .iter()
            .filter(|c| c.spec.distribution.value == Distribution::K3s)
            .map(|c| c.name.as_str())
            .collect();
        for (path, contents) in spec_testkit::generate_in(&Kubernetes, &example, None) {
            let Some(cluster) = path.strip_prefix("helm/").and_then(|p| p.split('/').next()) else { continue };
            if !k3s.contains(&cluster) || !contents.starts_with("# chart: kube-prometheus-stack@") {
                continue;
            }
            let values: Value = serde_yaml::from_str(&contents).expect("values");
            for component in INSIDE_K3S {
                assert_eq!(
                    values[component]["enabled"],
                    false,
                    "{}: {path} keeps `{component}` on a k3s cluster",
                    example.display()
                );
            }
            checked.push(path);
        }
    }
    assert!(checked.len() >= 3, "only {checked:?} were read: the k3s examples install kube-prometheus-stack");
}
