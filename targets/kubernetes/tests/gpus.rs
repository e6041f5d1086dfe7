//! A GPU monitoring agent on a cluster (`std.dcgm`, `security.all_gpus`): its pod runs with the
//! `nvidia` runtime class, whose runtime hands it every GPU of its node from
//! `NVIDIA_VISIBLE_DEVICES=all`, and asks for no `nvidia.com/gpu`, which would claim one from the
//! workloads the node's GPUs are for.

use std::path::Path;

use spec_target_kubernetes::Kubernetes;

const CASE: &str = r#"
#! targets = kubernetes
import std.dcgm
node k1 { os = nixos, address = 10.1.0.1, gpu = 1 }
cluster main {
  distribution = k3s
  servers      = [node.k1]
  namespace monitoring { pod_security = privileged }
}
service gpu-metrics {
  use std.dcgm { job = "gpu-metrics" }
  on        = cluster.main
  namespace = "monitoring"
}
"#;

#[test]
fn a_gpu_agent_runs_with_the_nvidia_runtime_and_claims_no_gpu() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-all-gpus.spec");
    std::fs::write(&path, CASE).expect("write");
    let files = spec_testkit::generate(&Kubernetes, &path);
    let (_, values) = files.iter().find(|(p, _)| p.ends_with("gpu-metrics.values.yaml")).expect("the values");
    let values: serde_json::Value = serde_yaml::from_str(values).expect("YAML");
    let controller = &values["controllers"]["main"];
    assert_eq!(controller["pod"]["runtimeClassName"], "nvidia", "{controller}");
    let container = &controller["containers"]["app"];
    assert_eq!(container["env"]["NVIDIA_VISIBLE_DEVICES"], "all", "{container}");
    assert!(container["resources"]["limits"].get("nvidia.com/gpu").is_none(), "{container}");
    assert_eq!(container["securityContext"]["capabilities"]["add"], serde_json::json!(["SYS_ADMIN"]), "{container}");
}
