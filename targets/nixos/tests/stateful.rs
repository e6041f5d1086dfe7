//! The stateful presets read back from the evaluated node modules, as the team deploying them
//! would read them: the PostgreSQL standby clones its primary from the primary's address and
//! starts as a standby, the primary admits exactly the standby's node for replication and opens
//! its port to it, each NATS server routes to the other members' addresses on the cluster port,
//! which each member opens to the others, and n8n reaches the primary where it is. A missing
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
