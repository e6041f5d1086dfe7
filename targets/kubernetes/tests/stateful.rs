//! The stateful presets on a cluster, rendered by real Helm with the real charts and read as the
//! team deploying them would: `std.postgres.primary`'s read replicas stream from the primary's
//! Service, are as many as `standbys`, are kept off the primary pod's Kubernetes node, and are
//! scraped under the service's job (which the lag alert selects); n8n is told the Service the
//! chart really names the primary; Vault and n8n run with their ports, probes and metrics. Without
//! Helm or the charts the test prints SKIPPED.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} is rendered"))
}

/// The value of the environment variable `name` of the first container of a workload.
fn env<'a>(workload: &'a Value, name: &str) -> &'a Value {
    array(&workload["spec"]["template"]["spec"]["containers"][0]["env"])
        .iter()
        .find(|e| e["name"] == name)
        .map_or(&Value::Null, |e| &e["value"])
}

#[test]
fn read_replicas_follow_the_primary_and_clients_reach_it() {
    let charts = workspace().join("../shared/charts");
    let Some(helm) = spec_testkit::helm() else {
        eprintln!("SKIPPED: helm is not installed (see .ci/run); the stateful presets were NOT rendered");
        return;
    };
    if !charts.join("postgresql").exists() {
        eprintln!("SKIPPED: {} is missing; the stateful presets were NOT rendered", charts.display());
        return;
    }
    let case = workspace()
        .join("specs/targets/kubernetes/stateful_presets_postgres_replicas_vault_and_n8n_generate_cleanly.spec");
    let files = spec_testkit::generate(&Kubernetes, &case);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-stateful");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let render = |service: &str, chart: &str| {
        let path = format!("helm/apps/{service}.values.yaml");
        let (_, contents) = files.iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("no {path}"));
        let values = dir.join(format!("{service}.values.yaml"));
        std::fs::write(&values, contents).expect("write");
        spec_testkit::helm_template(&helm, &charts.join(chart), service, "apps", &values)
    };

    let db = render("db", "postgresql");
    let primary = find(&db, "StatefulSet", "db-postgresql-primary");
    let read = find(&db, "StatefulSet", "db-postgresql-read");
    assert_eq!(read["spec"]["replicas"], 2, "`standbys = 2`");
    // Each replica streams from the primary's Service, as the chart's replication user.
    assert_eq!(env(read, "POSTGRES_REPLICATION_MODE"), "slave");
    assert_eq!(env(read, "POSTGRES_MASTER_HOST"), "db-postgresql-primary");
    assert_eq!(env(read, "POSTGRES_REPLICATION_USER"), "replicator");
    assert_eq!(env(primary, "POSTGRES_REPLICATION_MODE"), "master");
    find(&db, "Service", "db-postgresql-primary");
    // A replica may not be scheduled on the node of a pod carrying the primary's labels, and the
    // primary's pods carry them.
    let rule = &read["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(rule["topologyKey"], "kubernetes.io/hostname");
    let primary_labels = &primary["spec"]["template"]["metadata"]["labels"];
    for (label, value) in rule["labelSelector"]["matchLabels"].as_object().expect("labels") {
        assert_eq!(&primary_labels[label], value, "the anti-affinity selects the primary's pods by `{label}`");
    }
    // The replicas claim no storage the spec does not declare: their copy is the primary's.
    assert_eq!(array(&read["spec"]["volumeClaimTemplates"]).len(), 0);
    // The replicas' exporter is scraped under the service's job, as the lag alert expects.
    let monitor = find(&db, "ServiceMonitor", "db-postgresql-read");
    assert_eq!(monitor["spec"]["endpoints"][0]["relabelings"][0], json!({ "targetLabel": "job", "replacement": "db" }));
    let rules = files.iter().find(|(p, _)| p == "k8s/apps/alerts.yaml").map(|(_, c)| c.as_str()).expect("alerts");
    assert!(rules.contains("pg_replication_lag_seconds > 60"), "{rules}");

    // n8n is told the primary's Service, the one the chart renders, on its port.
    let n8n = render("n8n", "app-template");
    let workload = n8n.iter().find(|o| o["kind"] == "StatefulSet" || o["kind"] == "Deployment").expect("n8n runs");
    assert_eq!(env(workload, "DB_POSTGRESDB_HOST"), "db-postgresql-primary.apps.svc.cluster.local");
    assert_eq!(env(workload, "DB_POSTGRESDB_PORT"), "5432");
    let container = &workload["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["port"], 5678);

    // Vault answers its probe while sealed (restarting would not unseal it), and its metrics are
    // scraped at /v1/sys/metrics on the API port.
    let vault = render("vault", "app-template");
    let workload = vault.iter().find(|o| o["kind"] == "StatefulSet").expect("vault keeps its storage");
    let container = &workload["spec"]["template"]["spec"]["containers"][0];
    let probe = container["livenessProbe"]["httpGet"]["path"].as_str().expect("a probe");
    assert!(probe.starts_with("/v1/sys/health?") && probe.contains("sealedcode=200"), "{probe}");
    let config: Value =
        serde_json::from_str(env(workload, "VAULT_LOCAL_CONFIG").as_str().expect("the configuration")).expect("JSON");
    assert_eq!(config["storage"]["raft"]["path"], "/vault/file");
    let mounts = array(&container["volumeMounts"]);
    assert!(mounts.iter().any(|m| m["mountPath"] == "/vault/file"), "{mounts:?}");
    let monitor = find(&vault, "ServiceMonitor", "vault");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/v1/sys/metrics");
}
