//! The stateful presets read back from the evaluated node modules, as the team deploying them
//! would read them: the PostgreSQL standby clones its primary from the primary's address and
//! starts as a standby, the primary admits exactly the standby's node for replication and opens
//! its port to it, each NATS server routes to the other members' addresses on the cluster port,
//! which each member opens to the others, and n8n reaches the primary where it is. Redis Cluster
//! members log in with the cluster's password on NixOS and in containers. A missing
//! nix-instantiate makes the test print SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use spec_target_nixos::Nixos;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes the estate's files under `dir`.
fn materialise(dir: &Path, files: &[(String, String)]) {
    let _ = std::fs::remove_dir_all(dir);
    for (path, contents) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
}

/// The packages the modules name, as store paths that are never built.
const PKGS: &str = r#"{ postgresql_16 = "/nix/store/postgresql-16"; curl = "/nix/store/curl"; }"#;

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().expect("a list").iter().map(|v| v.as_str().expect("a string")).collect()
}

#[test]
fn the_standby_follows_its_primary_and_nats_members_route_to_each_other() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed; the stateful presets were not read back");
        return;
    }
    let case = workspace()
        .join("specs/targets/nixos/stateful_presets_postgres_standby_nats_cluster_vault_and_n8n_generate_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-stateful");
    materialise(&dir, &spec_testkit::generate(&Nixos, &case));
    let node = |name: &str| dir.join(format!("nixos/{name}/default.nix"));
    let eval = |name: &str, expression: &str| spec_testkit::nix_module_eval(&node(name), PKGS, expression);
    let addresses = [("db1", "10.0.0.1"), ("db2", "10.0.0.2"), ("db3", "10.0.0.3")];

    // The standby on db2 clones the primary on db1 into its empty data directory, as the
    // replication role, before its server starts, and writes the standby's recovery settings.
    let clone = eval("db2", "m.systemd.services.postgresql-standby-clone");
    assert_eq!(clone["environment"]["PGHOST"], "10.0.0.1", "{clone}");
    assert_eq!(clone["environment"]["PGPORT"], "5432");
    assert_eq!(clone["environment"]["PGUSER"], "replicator");
    assert_eq!(clone["before"], json!(["postgresql.service"]));
    assert_eq!(clone["requiredBy"], json!(["postgresql.service"]));
    assert_eq!(clone["serviceConfig"]["User"], "postgres");
    let script = clone["script"].as_str().expect("a script");
    let data = eval("db2", "m.services.postgresql.dataDir");
    assert!(script.contains(&format!("if [ -e {}/PG_VERSION ]; then exit 0; fi", data.as_str().expect("a path"))));
    assert!(script.contains(&format!("pg_basebackup --pgdata={} ", data.as_str().expect("a path"))), "{script}");
    assert!(script.contains("--write-recovery-conf"), "standby.signal and primary_conninfo: {script}");
    assert_eq!(eval("db2", "m.services.postgresql.settings.hot_standby"), true);
    // A standby creates no database: it is read-only and has the primary's.
    assert_eq!(eval("db2", "m.services.postgresql.ensureDatabases or []"), json!([]));

    // The primary keeps WAL for its standby and admits the standby's node for replication (and
    // n8n's, the same node, for its database), listening on its address, its port open to db2.
    assert_eq!(eval("db1", "m.services.postgresql.settings.wal_level"), "replica");
    let hba = eval("db1", "m.services.postgresql.authentication");
    let hba: Vec<&str> = hba.as_str().expect("lines").lines().collect();
    assert_eq!(
        hba,
        ["host all all 10.0.0.2/32 scram-sha-256", "host replication replicator 10.0.0.2/32 scram-sha-256"],
        "exactly db2 is admitted"
    );
    assert_eq!(eval("db1", "m.services.postgresql.settings.listen_addresses"), "127.0.0.1,10.0.0.1");
    let firewall = eval("db1", "m.networking.firewall.extraCommands");
    let firewall = firewall.as_str().expect("rules");
    assert!(firewall.contains("-s 10.0.0.2/32 --dport 5432 -j nixos-fw-accept"), "{firewall}");
    assert!(!firewall.contains("-s 10.0.0.3/32 --dport 5432"), "db3 has no need of the primary: {firewall}");
    let password = eval("db1", "m.systemd.services.postgresql-replication-password");
    assert_eq!(password["unitConfig"]["ConditionPathExists"], "/run/secrets/postgres-replication");
    let sql = password["script"].as_str().expect("a script");
    assert!(sql.contains("\\set password `cat /run/secrets/postgres-replication`"), "{sql}");
    assert!(sql.contains("ALTER ROLE \"replicator\" WITH REPLICATION LOGIN PASSWORD :'password';"), "{sql}");

    // Each NATS server names every other member by its address on the cluster port (itself on
    // loopback, a route the server drops), under one cluster name, with its own server name, and
    // each member's cluster port is open to exactly the other members.
    for (member, (name, own)) in addresses.iter().enumerate() {
        let settings = eval(name, "m.services.nats.settings");
        assert_eq!(settings["cluster"]["name"], "nats");
        let routes = strings(&settings["cluster"]["routes"]);
        let others: Vec<String> =
            addresses.iter().filter(|(n, _)| n != name).map(|(_, a)| format!("nats://{a}:6222")).collect();
        for other in &others {
            assert!(routes.contains(&other.as_str()), "{name}: {routes:?} lacks {other}");
        }
        assert!(routes.contains(&"nats://127.0.0.1:6222"), "{name}: {routes:?}");
        assert!(!routes.contains(&format!("nats://{own}:6222").as_str()), "{name}: {routes:?}");
        assert_eq!(eval(name, "m.services.nats.serverName"), format!("nats-{}", member + 1));
        assert_eq!(eval(name, "m.services.nats.jetstream"), true);
        let firewall = eval(name, "m.networking.firewall.extraCommands");
        let firewall = firewall.as_str().expect("rules");
        for (other, address) in addresses.iter().filter(|(n, _)| n != name) {
            let rule = format!("-s {address}/32 --dport 6222 -j nixos-fw-accept");
            assert!(firewall.contains(&rule), "{name} does not admit {other}'s route: {firewall}");
        }
    }

    // n8n on db2 reaches the primary at its address, through the unit's environment.
    let environment = eval("db2", "m.systemd.services.n8n.environment");
    assert_eq!(environment["DB_POSTGRESDB_HOST"], "10.0.0.1", "{environment}");
    assert_eq!(environment["DB_POSTGRESDB_PORT"], "5432");
    assert_eq!(environment["DB_TYPE"], "postgresdb");
    assert_eq!(environment["N8N_METRICS"], "true");

    // Vault keeps raft storage in its state folder, with Prometheus telemetry.
    assert_eq!(eval("db3", "m.services.vault.storageBackend"), "raft");
    assert_eq!(eval("db3", "m.services.vault.address"), "0.0.0.0:8200");
    let listener = eval("db3", "m.services.vault.listenerExtraConfig");
    assert!(listener.as_str().expect("text").contains("unauthenticated_metrics_access = true"), "{listener}");
}

/// Runs `script` with bash, `REDIS_PASSWORD` set as systemd sets it from the secret's file, with
/// `dir` standing for the folder it writes (`from` replaced by `dir`), and returns what it printed.
fn run_with_password(script: &str, from: &str, dir: &Path) -> String {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("mkdir");
    let output = Command::new("bash")
        .arg("-euc")
        .arg(script.replace(from, &dir.display().to_string()))
        .env("REDIS_PASSWORD", "0f3a9c")
        .output()
        .expect("bash runs");
    assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// A Redis Cluster member and its exporter log in with the cluster's password on both kinds of
/// host. On NixOS, read back from the evaluated module: a oneshot unit, before the server and
/// required by it, reads the secret as its environment file and writes `requirepass` and
/// `masterauth` to the file the server's settings `include` (the script is run here, its output
/// read back); the exporter reads the same file as its environment. In a container, the image's
/// entry point is handed the two directives on its standard input before the server's arguments.
#[test]
fn redis_cluster_members_log_in_with_the_clusters_password() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed; the Redis cluster's password was not read back");
        return;
    }
    let case = workspace().join("specs/targets/nixos/redis_cluster_members_on_nixos_and_ubuntu.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-redis-password");
    materialise(&dir, &spec_testkit::generate(&Nixos, &case));
    let module = dir.join("nixos/data-1/default.nix");
    let eval = |expression: &str| spec_testkit::nix_module_eval(&module, "{}", expression);

    let include = "/run/redis-cluster-auth/auth.conf";
    assert_eq!(eval("m.services.redis.servers.cluster.settings.include"), include);
    let auth = eval("m.systemd.services.redis-cluster-auth");
    assert_eq!(auth["before"], json!(["redis-cluster.service"]), "{auth}");
    assert_eq!(auth["requiredBy"], json!(["redis-cluster.service"]), "{auth}");
    assert_eq!(auth["serviceConfig"]["Type"], "oneshot");
    assert_eq!(auth["serviceConfig"]["RemainAfterExit"], true);
    assert_eq!(auth["serviceConfig"]["EnvironmentFile"], "/run/agenix/redis-password", "{auth}");
    assert_eq!(auth["serviceConfig"]["RuntimeDirectory"], "redis-cluster-auth");
    assert_eq!(eval("m.age.secrets.redis-password.path"), "/run/agenix/redis-password");
    // The script, with its folder moved and the ownership left to the test's user.
    let script = auth["script"].as_str().expect("a script");
    assert!(script.contains("chown redis-cluster:redis-cluster /run/redis-cluster-auth/auth.conf"), "{script}");
    let script: String = script.lines().filter(|l| !l.starts_with("chown ")).map(|l| format!("{l}\n")).collect();
    let run = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redis-cluster-auth");
    run_with_password(&script, "/run/redis-cluster-auth", &run);
    let written = std::fs::read_to_string(run.join("auth.conf")).expect("auth.conf written");
    assert_eq!(written, "requirepass 0f3a9c\nmasterauth 0f3a9c\n");
    // The exporter reads the password from its environment, the secret's `REDIS_PASSWORD=…` line.
    let exporter = eval("m.systemd.services.prometheus-redis-exporter.serviceConfig.EnvironmentFile");
    assert_eq!(exporter, json!(["/run/agenix/redis-password"]));

    // On Ubuntu the member's container runs `bash -c SCRIPT redis-cluster ARGS…`: the script, with
    // a stand-in entry point printing what it is given, hands the directives on standard input, and
    // execs the server in the shell's own process (the container's first, which gets its stop
    // signal).
    let member = spec_testkit::generate(&spec_target_systemd::Systemd, &case);
    let unit = &member.iter().find(|(path, _)| path.ends_with("gpu-1/cache-4.service")).expect("the member's unit").1;
    assert!(unit.contains("--env-file=%d/redis-password"), "{unit}");
    let stand_in = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redis-entrypoint");
    let script = "exec docker-entrypoint.sh redis-server - \"$@\" < <(printf 'requirepass %s\\nmasterauth %s\\n' \"$REDIS_PASSWORD\" \"$REDIS_PASSWORD\")";
    assert!(
        unit.contains(&script.replace('%', "%%").replace('$', "$$").replace('\\', "\\\\").replace('"', "\\\"")),
        "{unit}"
    );
    std::fs::create_dir_all(&stand_in).expect("mkdir");
    let entrypoint = stand_in.join("docker-entrypoint.sh");
    std::fs::write(&entrypoint, "#!/bin/sh\necho \"args: $*\"\ncat\necho \"pid: $$\"\n").expect("write");
    let mut permissions = std::fs::metadata(&entrypoint).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&entrypoint, permissions).expect("chmod");
    let shell = format!("echo \"pid: $$\"; {script}");
    let output = Command::new("bash")
        .args(["-c", &shell, "redis-cluster", "--port", "6379"])
        .env("REDIS_PASSWORD", "0f3a9c")
        .env("PATH", format!("{}:{}", stand_in.display(), std::env::var("PATH").unwrap_or_default()))
        .output()
        .expect("sh runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[1..4],
        ["args: redis-server - --port 6379", "requirepass 0f3a9c", "masterauth 0f3a9c"],
        "{stdout}"
    );
    assert_eq!(lines[0], lines[4], "the server runs in the shell's own process: {stdout}");
}
