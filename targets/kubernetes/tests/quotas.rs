//! What a namespace quota counts of a chart-backed service is what its chart runs: each values
//! file of a service whose chart is under `shared/charts` (Bitnami's PostgreSQL and Redis) is
//! rendered by real Helm, and the pods of the rendered workloads (replicas of each) and their
//! cpu and memory requests (every container's, as the `ResourceQuota` admission adds them; an
//! init container's when it asks for more; the namespace's `LimitRange` default where a
//! container states none) must add up to the compiler's count for the service
//! (`ClusterNamespace::quota_ask`), read per service, not written here: the read replicas of
//! `std.postgres.primary` (as many as `standbys`) and the exporters beside each server.
//! Without Helm or the charts the test prints SKIPPED.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_compiler::model::QuotaAsk;
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What one container requests, in millicores and bytes, its namespace's default where it
/// states none (as the `LimitRange` admission fills it before the quota counts it).
fn container_requests(container: &Value, default: (u128, u128)) -> (u128, u128) {
    let requests = &container["resources"]["requests"];
    let limits = &container["resources"]["limits"];
    // A container that states a limit but no request requests its limit (pod defaulting).
    let read = |name: &str, default: u128| match (&requests[name], &limits[name]) {
        (Value::Null, Value::Null) => default,
        (Value::Null, limit) => spec_testkit::kubernetes_thousandths(limit),
        (request, _) => spec_testkit::kubernetes_thousandths(request),
    };
    (read("cpu", default.0), read("memory", default.1 * 1000) / 1000)
}

/// The pods and requests of a chart's rendered objects, as the quota admission counts them:
/// per pod every container's requests added up, or an init container's when larger, times the
/// workload's replicas.
fn rendered_ask(objects: &[Value], default: (u128, u128), what: &str) -> QuotaAsk {
    let mut ask = QuotaAsk::default();
    for object in objects {
        let kind = object["kind"].as_str().unwrap_or_default();
        assert!(
            !matches!(kind, "Pod" | "Job" | "CronJob" | "DaemonSet" | "ReplicaSet"),
            "{what}: the chart renders a {kind}, which this count does not read"
        );
        if !matches!(kind, "Deployment" | "StatefulSet") {
            continue;
        }
        let replicas = object["spec"]["replicas"].as_u64().unwrap_or(1);
        let pod = &object["spec"]["template"]["spec"];
        let containers = pod["containers"].as_array().expect("containers");
        let (mut cpu, mut memory) = (0, 0);
        for container in containers {
            let (c, m) = container_requests(container, default);
            cpu += c;
            memory += m;
        }
        for init in pod["initContainers"].as_array().map_or(&[][..], Vec::as_slice) {
            let (c, m) = container_requests(init, default);
            (cpu, memory) = (cpu.max(c), memory.max(m));
        }
        ask.pods += replicas;
        ask.cpu += u64::try_from(cpu).expect("millicores") * replicas;
        ask.memory += u64::try_from(memory).expect("bytes") * replicas;
    }
    ask
}

#[test]
fn a_charts_rendered_pods_and_requests_are_what_the_quota_counts() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("postgresql", "the charts' pods were NOT counted") else {
        return;
    };
    let case =
        workspace().join("specs/targets/kubernetes/chart_pods_and_sidecars_fill_a_quota_exactly_generate_cleanly.spec");
    let estates = [
        ("quota", case, None),
        ("nats-services", workspace().join("examples/nats-services"), None),
        ("nats-services@staging", workspace().join("examples/nats-services"), Some("staging")),
        ("k8s-platform", workspace().join("examples/k8s-platform"), None),
        ("gpu-k3s-tiers", workspace().join("examples/gpu-k3s-tiers"), None),
    ];
    let mut counted = Vec::new();
    for (name, estate, env) in estates {
        let (_, compilation) = spec_testkit::compile_path(&estate, env);
        assert_eq!(compilation.errors(), 0, "{name}: {:#?}", compilation.diagnostics);
        let model = &compilation.model;
        let files = spec_testkit::generate_in(&Kubernetes, &estate, env);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-quotas").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for service in &model.services {
            let Some(cluster) = model
                .clusters
                .iter()
                .find(|c| service.spec.on.value.kind == "cluster" && service.spec.on.value.name == c.name)
            else {
                continue;
            };
            let values_path = format!("helm/{}/{}.values.yaml", cluster.name, service.name);
            let Some((_, contents)) = files.iter().find(|(path, _)| *path == values_path) else { continue };
            let first_line = contents.lines().next().unwrap_or_default();
            let chart = first_line.trim_start_matches("# chart: ").split('@').next().unwrap_or_default();
            // The generic chart runs the service's own container alone; the stdlib's charts are
            // the ones running more.
            if chart == "app-template" || !charts.join(chart).exists() {
                continue;
            }
            let what = format!("{name}: service `{}` ({chart})", service.name);
            let namespaces = cluster.spec.namespaces(cluster.name_span);
            let index = cluster.spec.namespace_of(service.spec.namespace.as_ref()).expect("a namespace");
            let namespace = namespaces[index];
            if let (None, _) | (_, None) = namespace.requests_of(&service.spec) {
                // Without requests of its own or a default the chart's own preset applies,
                // which the compiler does not count (and a quota refuses, E0622).
                continue;
            }
            let default = namespace.limits.and_then(|l| l.value.default.as_ref()).map(|d| &d.value);
            let default = (
                u128::from(default.and_then(|d| d.cpu.as_ref()).map_or(0, |c| c.value.millis())),
                u128::from(default.and_then(|d| d.memory.as_ref()).map_or(0, |m| m.value.0)),
            );
            let values_file = dir.join(format!("{}.values.yaml", service.name));
            std::fs::write(&values_file, contents).expect("write");
            // Rendered under the release name and in the namespace its HelmRelease gives.
            let release = spec_testkit::helm_release(&files, &cluster.name, &service.name);
            let release_name = release["spec"]["releaseName"].as_str().expect("a release name");
            let target =
                release["spec"]["targetNamespace"].as_str().or_else(|| release["metadata"]["namespace"].as_str());
            let objects = spec_testkit::helm_template(
                &helm,
                &charts.join(chart),
                release_name,
                target.unwrap_or("default"),
                &values_file,
            );
            let rendered = rendered_ask(&objects, default, &what);
            assert_eq!(
                rendered,
                namespace.quota_ask(&service.spec),
                "{what}: the chart's pods and requests (left) against the quota's count (right)"
            );
            counted.push((what, rendered));
        }
    }
    // The replicas of `std.postgres.primary` and the exporters were among what was compared.
    let counted_text = format!("{counted:#?}");
    assert!(
        counted.iter().any(|(what, ask)| what.starts_with("quota: service `db`") && ask.pods > 1),
        "the primary with two read replicas was not counted: {counted_text}"
    );
    assert!(
        counted.iter().any(|(what, _)| what.starts_with("quota: service `cache`")),
        "Redis was not counted: {counted_text}"
    );
    assert!(counted.iter().any(|(what, _)| what.starts_with("nats-services: service `db`")), "{counted_text}");
}
