//! What the Bitnami charts (PostgreSQL and Redis, run by `std.postgres` and `std.redis`) render
//! from the generated values, rendered by real Helm with the real charts (`shared/charts`):
//! every container image comes from `docker.io/bitnamilegacy` (Bitnami removed its versioned tags
//! from `docker.io/bitnami` in 2025, so the charts' own repositories pull nothing), with the
//! optional containers the charts can add switched on too; and Redis keeps the snapshots a backup
//! of its claim copies (`save`, no append-only file), as on NixOS. Without Helm or the charts the
//! tests print SKIPPED.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

/// The registry and owner every image the two charts run must come from.
const LEGACY: &str = "docker.io/bitnamilegacy/";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The estates that run the Bitnami charts, with the environment they are built for.
fn estates() -> Vec<(&'static str, PathBuf, Option<&'static str>)> {
    let example = |name: &str| workspace().join("examples").join(name);
    let case = |name: &str| workspace().join(format!("specs/targets/kubernetes/{name}.spec"));
    vec![
        ("k8s-platform", example("k8s-platform"), None),
        ("nats-services", example("nats-services"), Some("production")),
        ("nats-services@staging", example("nats-services"), Some("staging")),
        ("nats-services@dev", example("nats-services"), Some("dev")),
        ("gpu-k3s-tiers", example("gpu-k3s-tiers"), Some("production")),
        ("chart_services", case("chart_services_take_their_fields"), None),
        ("stateful", case("stateful_presets_postgres_replicas_vault_and_n8n_generate_cleanly"), None),
        ("backups", case("cluster_backups_to_a_bucket_and_of_a_dump"), None),
    ]
}

/// An estate that switches on every optional container of the two charts: PostgreSQL's
/// volume-permissions init container and its read replicas, Redis's replication with Sentinel,
/// the Sentinel's master Service (its kubectl sidecar), volume permissions and the sysctl init
/// container.
const EVERY_CONTAINER: &str = r#"
import std.postgres
import std.redis

secret k3s-token { nixos = agenix { file = "secrets/k3s-token.age" } }

node k1 { os = nixos, address = 10.1.0.1, cpu = 32, memory = 128GiB }
node k2 { os = nixos, address = 10.1.0.2, cpu = 32, memory = 128GiB }

cluster apps {
  distribution = k3s
  servers      = [node.k1]
  agents       = [node.k2]
  token        = secret.k3s-token
  namespace    = "apps"
}

storage pgdata    { on = cluster.apps, volume { size = 20GiB } }
storage redisdata { on = cluster.apps, volume { size = 5GiB } }

service db {
  use std.postgres
  use std.postgres.primary { standbys = 1 }
  on      = cluster.apps
  volumes { "/bitnami/postgresql" = storage.pgdata }
  helm { values { volumePermissions { enabled = true } } }
}

service cache {
  use std.redis
  on      = cluster.apps
  volumes { "/data" = storage.redisdata }
  helm {
    values {
      architecture      = "replication"
      sentinel          { enabled = true, masterService { enabled = true } }
      # The master Service's kubectl labels the pods: the chart asks for its account and role.
      rbac              { create = true }
      serviceAccount    { create = true }
      replica           { automountServiceAccountToken = true }
      volumePermissions { enabled = true }
      sysctl            { enabled = true }
    }
  }
}
"#;

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// The pod template of a rendered workload, a Job's or a CronJob's included.
fn pod_spec(object: &Value) -> Option<&Value> {
    match object["kind"].as_str()? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => Some(&object["spec"]["template"]["spec"]),
        "CronJob" => Some(&object["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

/// Every container's image, init containers' too.
fn images(objects: &[Value]) -> Vec<String> {
    let pods = objects.iter().filter_map(pod_spec);
    let containers = pods.flat_map(|pod| array(&pod["initContainers"]).iter().chain(array(&pod["containers"])));
    containers.filter_map(|c| c["image"].as_str().map(str::to_string)).collect()
}

/// The Bitnami charts' values files of an estate (its PostgreSQL and Redis services), each
/// rendered by Helm: (service, chart, objects).
fn rendered(
    helm: &Path,
    charts: &Path,
    estate: &Path,
    env: Option<&str>,
    dir: &Path,
) -> Vec<(String, String, Vec<Value>)> {
    let files = spec_testkit::generate_in(&Kubernetes, estate, env);
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut out = Vec::new();
    for (path, contents) in &files {
        let Some(name) = path.strip_prefix("helm/").and_then(|p| p.strip_suffix(".values.yaml")) else { continue };
        let first_line = contents.lines().next().unwrap_or_default();
        let chart = first_line.trim_start_matches("# chart: ").split('@').next().unwrap_or_default();
        if chart != "postgresql" && chart != "redis" {
            continue;
        }
        let service = name.rsplit('/').next().unwrap_or(name).to_string();
        let values = dir.join(name.replace('/', "-") + ".values.yaml");
        std::fs::write(&values, contents).expect("write");
        let objects = spec_testkit::helm_template(helm, &charts.join(chart), &service, "data", &values);
        out.push((service, chart.to_string(), objects));
    }
    out
}

#[test]
fn every_image_of_the_bitnami_charts_comes_from_the_legacy_registry() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("redis", "the Bitnami charts' images were NOT read")
    else {
        return;
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-bitnami");
    let every = tmp.join("every-container.spec");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    std::fs::write(&every, EVERY_CONTAINER).expect("write");
    let mut estates = estates();
    estates.push(("every_container", every, None));
    let mut seen = std::collections::BTreeSet::new();
    for (name, estate, env) in estates {
        let (_, compilation) = spec_testkit::compile_path(&estate, env);
        assert_eq!(compilation.errors(), 0, "{name}: {:#?}", compilation.diagnostics);
        let releases = rendered(&helm, &charts, &estate, env, &tmp.join(name));
        assert!(!releases.is_empty(), "{name}: no PostgreSQL or Redis chart was rendered");
        for (service, chart, objects) in releases {
            let images = images(&objects);
            assert!(!images.is_empty(), "{name}: `{service}` ({chart}) renders no container");
            for image in images {
                assert!(image.starts_with(LEGACY), "{name}: `{service}` ({chart}) pulls {image}, not from {LEGACY}");
                let repository = image.trim_start_matches(LEGACY).split(':').next().unwrap_or_default().to_string();
                seen.insert(repository);
            }
        }
    }
    // Every image the two charts can run was rendered, so none was left at its chart's default.
    let every_image =
        ["kubectl", "os-shell", "postgres-exporter", "postgresql", "redis", "redis-exporter", "redis-sentinel"];
    assert_eq!(seen.iter().map(String::as_str).collect::<Vec<_>>(), every_image);
}

/// Redis on a cluster writes RDB snapshots on the preset's schedule and no append-only file, so a
/// copy of its claim holds a whole `dump.rdb`, which a server started on the restored claim loads
/// (with `appendonly yes` it would load the append-only directory instead).
#[test]
fn redis_on_a_cluster_keeps_the_snapshots_its_backups_copy() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("redis", "Redis's rendered configuration was NOT read")
    else {
        return;
    };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-bitnami-redis");
    let mut configurations = 0;
    for (name, estate, env) in estates() {
        for (service, chart, objects) in rendered(&helm, &charts, &estate, env, &tmp.join(name)) {
            if chart != "redis" {
                continue;
            }
            let configmap = objects
                .iter()
                .find(|o| {
                    o["kind"] == "ConfigMap"
                        && o["metadata"]["name"].as_str().is_some_and(|n| n.ends_with("-configuration"))
                })
                .unwrap_or_else(|| panic!("{name}: `{service}` renders no configuration"));
            let conf = configmap["data"]["redis.conf"].as_str().expect("redis.conf");
            let lines: Vec<&str> = conf.lines().map(str::trim).collect();
            assert!(lines.contains(&"appendonly no"), "{name}: `{service}` keeps an append-only file:\n{conf}");
            assert!(
                lines.contains(&"save \"3600 1 300 100 60 10000\""),
                "{name}: `{service}` writes no snapshots on the preset's schedule:\n{conf}"
            );
            assert!(!lines.contains(&"save \"\""), "{name}: `{service}` turns the snapshots off:\n{conf}");
            configurations += 1;
        }
    }
    assert!(configurations >= 2, "only {configurations} Redis configurations were read");
}
