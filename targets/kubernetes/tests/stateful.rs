//! The stateful presets on a cluster, rendered by real Helm with the real charts and read as the
//! team deploying them would: `std.postgres.primary`'s read replicas stream from the primary's
//! Service with the password the Secret holds, are as many as `standbys`, are kept off the primary
//! pod's Kubernetes node, keep their copy without an ephemeral-storage cap, and are
//! scraped under the service's job (which the lag alert selects); n8n is told the Service the
//! chart really names the primary; an environment of one node runs the primary without replicas
//! (`standbys = 0`); Vault and n8n run with their ports, probes and metrics. Without
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
    let Some((helm, charts)) = spec_testkit::helm_and_charts("postgresql", "the stateful presets were NOT rendered")
    else {
        return;
    };
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
    // Both read the replication password from the same key of the Secret the chart mounts, and
    // that Secret holds it (without it the replica's clone is refused).
    for workload in [primary, read] {
        let (secret, key) = secret_file(workload, "POSTGRES_REPLICATION_PASSWORD_FILE");
        let data = &find(&db, "Secret", &secret)["data"];
        assert!(data[key.as_str()].is_string(), "Secret {secret} holds no `{key}`: {data}");
    }
    // A replica may not be scheduled on the node of a pod carrying the primary's labels, and the
    // primary's pods carry them.
    let rule = &read["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(rule["topologyKey"], "kubernetes.io/hostname");
    let primary_labels = &primary["spec"]["template"]["metadata"]["labels"];
    for (label, value) in rule["labelSelector"]["matchLabels"].as_object().expect("labels") {
        assert_eq!(&primary_labels[label], value, "the anti-affinity selects the primary's pods by `{label}`");
    }
    // The replicas claim no storage the spec does not declare: their copy is the primary's, kept
    // in the pod, whose ephemeral storage the kubelet caps at the sum of its containers' limits
    // (the copy would outgrow any such cap and the pod be evicted).
    assert_eq!(array(&read["spec"]["volumeClaimTemplates"]).len(), 0);
    for container in array(&read["spec"]["template"]["spec"]["containers"]) {
        let limits = &container["resources"]["limits"];
        assert!(limits["ephemeral-storage"].is_null(), "{} caps the copy: {limits}", container["name"]);
        assert!(container["resources"]["requests"]["memory"].is_string(), "a quota counts requests: {container}");
    }
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

/// An environment of one node sets `std.postgres.primary`'s `standbys` to 0: the chart renders the
/// same primary with no read replica, while the base estate's two nodes run one, kept off the
/// primary's node.
#[test]
fn an_environment_of_one_node_runs_the_primary_without_read_replicas() {
    let Some((helm, charts)) =
        spec_testkit::helm_and_charts("postgresql", "the environments' standbys were NOT rendered")
    else {
        return;
    };
    let case = workspace().join("specs/targets/kubernetes/postgres_read_replica_on_a_one_node_cluster.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-standbys");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let render = |env: Option<&str>| {
        let files = spec_testkit::generate_in(&Kubernetes, &case, env);
        let (_, contents) = files.iter().find(|(p, _)| p == "helm/apps/db.values.yaml").expect("the database's values");
        let values = dir.join(format!("{}.values.yaml", env.unwrap_or("base")));
        std::fs::write(&values, contents).expect("write");
        spec_testkit::helm_template(&helm, &charts.join("postgresql"), "db", "apps", &values)
    };
    let base = render(None);
    let read = find(&base, "StatefulSet", "db-postgresql-read");
    assert_eq!(read["spec"]["replicas"], 1, "`standbys = 1`");
    let rule = &read["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        [0];
    assert_eq!(rule["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(rule["labelSelector"]["matchLabels"]["app.kubernetes.io/component"], "primary");

    let dev = render(Some("dev"));
    let primary = find(&dev, "StatefulSet", "db-postgresql-primary");
    assert_eq!(primary["spec"]["replicas"], 1);
    assert_eq!(env(primary, "POSTGRES_REPLICATION_MODE"), "master");
    let read = find(&dev, "StatefulSet", "db-postgresql-read");
    assert_eq!(read["spec"]["replicas"], 0, "`service.db.standbys = 0` in `dev`");
    // Clients keep the primary's Service, whatever the number of replicas.
    find(&dev, "Service", "db-postgresql-primary");
}

/// The Secret and key behind the file an environment variable of a workload's first container
/// names, through the secret volume mounted at the file's folder.
fn secret_file(workload: &Value, variable: &str) -> (String, String) {
    let path = env(workload, variable).as_str().unwrap_or_else(|| panic!("no {variable}"));
    let (folder, key) = path.rsplit_once('/').expect("a file in a folder");
    let spec = &workload["spec"]["template"]["spec"];
    let mount = array(&spec["containers"][0]["volumeMounts"])
        .iter()
        .find(|m| m["mountPath"].as_str().map(|p| p.trim_end_matches('/')) == Some(folder))
        .unwrap_or_else(|| panic!("nothing is mounted at {folder}"));
    let volume = array(&spec["volumes"]).iter().find(|v| v["name"] == mount["name"]).expect("the mounted volume");
    let secret = volume["secret"]["secretName"].as_str().unwrap_or_else(|| panic!("{folder} is not a Secret"));
    (secret.to_owned(), key.to_owned())
}

/// The policy `name` of the generated `policies.yaml`.
fn policy(files: &[(String, String)], name: &str) -> Value {
    let (_, text) = files.iter().find(|(p, _)| p == "k8s/apps/policies.yaml").expect("policies");
    let documents: Vec<Value> =
        text.split("\n---\n").filter_map(|d| serde_yaml::from_str::<Value>(d).ok()).filter(|d| d.is_object()).collect();
    documents.into_iter().find(|d| d["metadata"]["name"] == name).unwrap_or_else(|| panic!("no policy {name}"))
}

/// Whether some rule of `rules` admits pods of release `instance` (`from` or `to`) on `port`.
fn admits(rules: &Value, side: &str, instance: &str, port: u64) -> bool {
    array(rules).iter().any(|rule| {
        array(&rule[side]).iter().any(|p| p["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == instance)
            && array(&rule["ports"]).iter().any(|p| p["port"] == port)
    })
}

#[test]
fn nats_and_redis_clusters_run_as_members_with_stable_names() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("app-template", "the member clusters were NOT rendered")
    else {
        return;
    };
    let case =
        workspace().join("specs/targets/kubernetes/stateful_members_nats_and_redis_clusters_generate_cleanly.spec");
    let files = spec_testkit::generate(&Kubernetes, &case);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-members");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let render = |service: &str| {
        let path = format!("helm/apps/{service}.values.yaml");
        let (_, contents) = files.iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("no {path}"));
        let values = dir.join(format!("{service}.values.yaml"));
        std::fs::write(&values, contents).expect("write");
        spec_testkit::helm_template(&helm, &charts.join("app-template"), service, "bus", &values)
    };
    let hosts = |service: &str, count: usize| -> Vec<String> {
        (0..count).map(|i| format!("{service}-{i}.{service}-members.bus.svc.cluster.local")).collect()
    };

    // NATS: three members started together behind a headless Service that publishes them before
    // they are ready, each with its own claim, routed to every member by its stable name.
    let nats = render("nats");
    let set = find(&nats, "StatefulSet", "nats");
    assert_eq!(set["spec"]["replicas"], 3);
    assert_eq!(set["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(set["spec"]["serviceName"], "nats-members");
    let claims = array(&set["spec"]["volumeClaimTemplates"]);
    assert_eq!(claims.len(), 1, "{claims:?}");
    assert_eq!(claims[0]["metadata"]["labels"]["spec-storage"], "jetstream");
    // Clients reach `nats` (`service.nats.url`), which the chart would rename beside a second Service.
    assert_eq!(find(&nats, "Service", "nats")["spec"]["clusterIP"], Value::Null);
    let headless = find(&nats, "Service", "nats-members");
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    let routes: Vec<String> = hosts("nats", 3).iter().map(|h| format!("nats://{h}:6222")).collect();
    assert_eq!(env(set, "MEMBER_LIST"), routes.join(",").as_str());
    assert_eq!(env(set, "MEMBER_HOST"), "$(MEMBER_NAME).nats-members.bus.svc.cluster.local");
    let container = &set["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = array(&container["args"]).iter().filter_map(Value::as_str).collect();
    let after = |flag: &str| args.iter().position(|a| *a == flag).map(|i| args[i + 1]);
    assert_eq!(after("--routes"), Some("$(MEMBER_LIST)"));
    assert_eq!(after("--name"), Some("$(MEMBER_NAME)"));
    assert_eq!(after("--store_dir"), Some("/data"));
    assert!(args.contains(&"--jetstream"), "{args:?}");
    // The kubelet expands `$(MEMBER_NAME)` in MEMBER_HOST only when it is defined first.
    let names: Vec<&Value> = array(&container["env"]).iter().map(|e| &e["name"]).collect();
    let position = |n: &str| names.iter().position(|v| **v == n).expect(n);
    assert!(position("MEMBER_NAME") < position("MEMBER_HOST"), "{names:?}");

    // Redis: six members (three primaries with a replica each) announcing their stable names, and
    // the one-shot that forms them after the release, by those names.
    let redis = render("redis");
    let set = find(&redis, "StatefulSet", "redis");
    assert_eq!(set["spec"]["replicas"], 6);
    assert_eq!(set["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(set["spec"]["serviceName"], "redis-members");
    assert_eq!(array(&set["spec"]["volumeClaimTemplates"]).len(), 1);
    let members: Vec<String> = hosts("redis", 6).iter().map(|h| format!("{h}:6379")).collect();
    assert_eq!(env(set, "MEMBER_LIST"), members.join(" ").as_str());
    let script = set["spec"]["template"]["spec"]["containers"][0]["args"][2].as_str().expect("a script");
    assert!(script.contains("--cluster-announce-hostname \"$MEMBER_HOST\""), "{script}");
    assert!(script.contains("--cluster-preferred-endpoint-type hostname"), "{script}");
    assert!(script.contains("--cluster-config-file /data/nodes.conf"), "{script}");
    let form = find(&redis, "Job", "redis-form");
    assert_eq!(form["metadata"]["annotations"]["helm.sh/hook"], "post-install,post-upgrade");
    assert_eq!(env(form, "MEMBER_LIST"), members.join(" ").as_str());
    let script = form["spec"]["template"]["spec"]["containers"][0]["args"][2].as_str().expect("a script");
    assert!(script.contains("redis-cli --cluster create $MEMBER_LIST --cluster-replicas 1"), "{script}");
    assert!(script.contains("cluster_known_nodes"), "the one-shot does nothing once formed: {script}");
    assert_eq!(find(&redis, "Service", "redis-members")["spec"]["clusterIP"], "None");

    // In the `deny` namespace the members reach each other on their cluster ports, the one-shot
    // (a pod of the same release) reaches them, and each exporter reaches its members.
    let nats_policy = policy(&files, "allow-nats");
    assert!(admits(&nats_policy["spec"]["ingress"], "from", "nats", 6222));
    assert!(admits(&nats_policy["spec"]["egress"], "to", "nats", 6222));
    assert!(admits(&nats_policy["spec"]["ingress"], "from", "nats-exporter", 8222));
    let redis_policy = policy(&files, "allow-redis");
    for port in [6379, 16379] {
        assert!(admits(&redis_policy["spec"]["ingress"], "from", "redis", port), "port {port}");
        assert!(admits(&redis_policy["spec"]["egress"], "to", "redis", port), "port {port}");
    }
    assert!(admits(&redis_policy["spec"]["ingress"], "from", "redis-exporter", 6379));
    // A drain takes one member at a time.
    let (_, rollouts) = files.iter().find(|(p, _)| p == "k8s/apps/rollouts.yaml").expect("budgets");
    assert_eq!(rollouts.matches("maxUnavailable: 1").count(), 2, "{rollouts}");
}

/// k8up's split of a backup-command annotation (github.com/firepear/qsplit, as k8up runs it): at
/// spaces, a word opening with a quote running to the next such quote, no escapes.
fn k8up_words(annotation: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = annotation.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {}
            '\'' | '"' => words.push(chars.by_ref().take_while(|&d| d != c).collect()),
            _ => {
                let mut word = c.to_string();
                while let Some(&d) = chars.peek().filter(|d| !matches!(d, ' ' | '\t')) {
                    word.push(d);
                    chars.next();
                }
                words.push(word);
            }
        }
    }
    words
}

/// A backup of `std.postgres` on a cluster is its dump: the primary's pod (as the chart renders
/// it) carries the k8up annotations, naming a container of the pod whose environment holds the
/// password file the command reads; the chart's claim is left out of k8up's file-level copies;
/// and each copy's restore test reads the repository its Schedule writes, with the same password
/// and keys, the file k8up stores the dump under (read back from the rendered annotations).
#[test]
fn a_database_backup_is_its_dump_and_each_copy_is_restore_tested() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("postgresql", "the dump's annotations were NOT read back")
    else {
        return;
    };
    let case = workspace().join("specs/targets/kubernetes/cluster_backups_to_a_bucket_and_of_a_dump.spec");
    let files = spec_testkit::generate(&Kubernetes, &case);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-dumps");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (_, contents) = files.iter().find(|(p, _)| p == "helm/main/db.values.yaml").expect("db values");
    let values = dir.join("db.values.yaml");
    std::fs::write(&values, contents).expect("write");
    let db = spec_testkit::helm_template(&helm, &charts.join("postgresql"), "db", "default", &values);
    let primary = find(&db, "StatefulSet", "db-postgresql");
    let template = &primary["spec"]["template"];
    let annotations = &template["metadata"]["annotations"];
    let command = k8up_words(annotations["k8up.io/backupcommand"].as_str().expect("a backup command"));
    assert_eq!(command[..2], ["sh", "-c"], "{command:?}");
    assert!(command[2].contains("pg_dumpall --clean --username=postgres"), "{command:?}");
    let container = annotations["k8up.io/backupcommand-container"].as_str().expect("a container");
    let container = array(&template["spec"]["containers"])
        .iter()
        .find(|c| c["name"] == container)
        .unwrap_or_else(|| panic!("the pod has no container `{container}`"));
    // The password file the command reads is one the chart gives the container.
    let files_given: Vec<&str> = array(&container["env"])
        .iter()
        .filter(|e| e["name"].as_str().is_some_and(|n| n.ends_with("PASSWORD_FILE")))
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        files_given.iter().any(|n| command[2].contains(&format!("${n}")) || command[2].contains(&format!("{{{n}"))),
        "{files_given:?} {command:?}"
    );
    let extension = annotations["k8up.io/file-extension"].as_str().expect("an extension");
    assert_eq!(extension, ".sql", "the extension of the preset's `postgres.sql`");
    // The claim the Schedule's selector also matches is left out of file-level copies.
    let claim = &primary["spec"]["volumeClaimTemplates"][0]["metadata"];
    assert_eq!(claim["annotations"]["k8up.io/backup"], "false", "{claim}");

    let manifests: Vec<Value> = files
        .iter()
        .filter(|(p, _)| p == "k8s/main/backups.yaml")
        .flat_map(|(_, c)| spec_testkit::yaml_documents(c))
        .collect();
    let schedules: Vec<&Value> = manifests.iter().filter(|o| o["kind"] == "Schedule").collect();
    let tests: Vec<&Value> = manifests.iter().filter(|o| o["kind"] == "CronJob").collect();
    let names: Vec<&str> = tests.iter().filter_map(|t| t["metadata"]["name"].as_str()).collect();
    // `data-2` (B2 without credentials of its own) has no test: W1201.
    assert_eq!(names, ["restore-test-data", "restore-test-db", "restore-test-db-2"]);
    let stored = format!("/default-{}{extension}", container["name"].as_str().expect("a name"));
    for test in tests {
        let copy = test["metadata"]["name"].as_str().expect("a name").trim_start_matches("restore-test-");
        let schedule = schedules.iter().find(|s| s["metadata"]["name"] == copy).expect("its Schedule");
        let backend = &schedule["spec"]["backend"];
        let repository = match (&backend["s3"], &backend["b2"]) {
            (s3, _) if s3.is_object() => {
                format!("s3:{}/{}", s3["endpoint"].as_str().unwrap(), s3["bucket"].as_str().unwrap())
            }
            (_, b2) => format!("b2:{}:{}", b2["bucket"].as_str().unwrap(), b2["path"].as_str().unwrap()),
        };
        let pod = &test["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        let main = &pod["containers"][0];
        let env = |name: &str| array(&main["env"]).iter().find(|e| e["name"] == name).cloned().unwrap_or(Value::Null);
        assert_eq!(env("RESTIC_REPOSITORY")["value"], repository.as_str(), "{copy}");
        assert_eq!(env("RESTIC_PASSWORD")["valueFrom"]["secretKeyRef"], backend["repoPasswordSecretRef"], "{copy}");
        assert_eq!(main["envFrom"], backend["envFrom"], "{copy}: the keys the Schedule logs in with");
        if backend["s3"].is_object() {
            // k8up puts its global S3 keys (empty when the operator has none) in the job's `env`,
            // which wins over `envFrom`: the Secret's keys reach restic by the backend's selectors.
            let secret = &backend["envFrom"][0]["secretRef"]["name"];
            assert!(secret.is_string(), "{copy}: the copy's credentials");
            let selector = |key: &str| json!({ "name": secret, "key": key });
            assert_eq!(backend["s3"]["accessKeyIDSecretRef"], selector("AWS_ACCESS_KEY_ID"), "{copy}");
            assert_eq!(backend["s3"]["secretAccessKeySecretRef"], selector("AWS_SECRET_ACCESS_KEY"), "{copy}");
        }
        let script = main["command"][2].as_str().expect("a script");
        if copy.starts_with("db") {
            assert!(script.contains(&format!("--path '{stored}' latest '{stored}'")), "{copy}: {script}");
            assert!(script.contains("-gt 0"), "{copy}: an empty dump passes: {script}");
        } else {
            assert!(script.contains("latest / > /dev/null"), "{copy}: {script}");
        }
        assert!(script.contains("--host 'default'"), "{copy}: k8up backs up under the namespace: {script}");
    }
}
