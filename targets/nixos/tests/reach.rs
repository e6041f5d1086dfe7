//! Reachability read back from the generated modules: a service needed from another node or from
//! a cluster listens on its node's address on the way it is reached, that way alone is opened
//! (the WireGuard network's interface, k3s's pod bridge, the peer's address on a network without
//! WireGuard), PostgreSQL admits exactly its peers, and a port exposed to the mesh stays off the
//! public firewall; `service.NAME.url`/`.host`/`.port` are written as the reader finds the service.
//! Before reachability was derived, the same estate listened on loopback only.

use std::path::{Path, PathBuf};

use spec_target_nixos::Nixos;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn module(files: &[(String, String)], node: &str) -> String {
    let path = format!("nixos/{node}/default.nix");
    files.iter().find(|(p, _)| *p == path).map(|(_, c)| c.clone()).unwrap_or_else(|| panic!("no {path}"))
}

/// The value of `option` in a module (`option = value;` on one line).
fn value<'a>(module: &'a str, option: &str) -> Option<&'a str> {
    let prefix = format!("  {option} = ");
    module.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(|v| v.trim_end_matches(';'))
}

#[test]
fn needed_ports_open_to_exactly_the_needing_side() {
    let case = workspace().join("specs/targets/nixos/needs_across_nodes_and_from_a_cluster_generate_cleanly.spec");
    let files = spec_testkit::generate(&Nixos, &case);
    let (prod1, prod2) = (module(&files, "prod1"), module(&files, "prod2"));

    // PostgreSQL on prod2 (10.0.0.2) is needed by `api` on prod1 and by the cluster's pods on
    // prod1 (both over the mesh, from 10.0.0.1) and by `report` on `office` (over the LAN).
    assert_eq!(value(&prod2, "services.postgresql.settings.listen_addresses"), Some("\"127.0.0.1,10.0.0.2\""));
    assert_eq!(
        value(&prod2, "services.postgresql.authentication"),
        Some("\"host all all 10.0.0.1/32 scram-sha-256\\nhost all all 10.0.0.3/32 scram-sha-256\\n\"")
    );
    let mesh = value(&prod2, "networking.firewall.interfaces.mesh.allowedTCPPorts").expect("mesh ports");
    assert!(mesh.contains("5432") && mesh.contains("3000"), "{mesh}");
    let lan = value(&prod2, "networking.firewall.extraCommands").expect("a rule for the LAN peer");
    assert!(lan.contains("-s 10.0.0.3/32 --dport 5432 -j nixos-fw-accept"), "{lan}");

    // Only the port exposed to the public is on the public firewall and every address.
    assert_eq!(value(&prod2, "networking.firewall.allowedTCPPorts"), Some("[ 4001 ]"));
    assert_eq!(
        value(&prod2, "virtualisation.oci-containers.containers.grafana.ports"),
        Some("[ \"127.0.0.1:3000:3000/tcp\" \"10.0.0.2:3000:3000/tcp\" \"4001:4001/tcp\" ]")
    );

    // The Redis container on prod1 is needed by the cluster's pods on the same node: published on
    // the node's address, opened on k3s's pod bridge only (beside the k3s API and kubelet, which
    // the node's own pods reach there).
    assert_eq!(
        value(&prod1, "virtualisation.oci-containers.containers.cache.ports"),
        Some("[ \"127.0.0.1:6379:6379/tcp\" \"10.0.0.1:6379:6379/tcp\" \"10.88.0.1:6379:6379/tcp\" ]")
    );
    assert_eq!(value(&prod1, "networking.firewall.interfaces.cni0.allowedTCPPorts"), Some("[ 6379 6443 10250 ]"));
    assert_eq!(value(&prod1, "networking.firewall.allowedTCPPorts"), None);
    assert_eq!(value(&prod1, "boot.kernel.sysctl.\"net.ipv4.ip_nonlocal_bind\""), Some("1"));

    // `api` on prod1 reads where the database (prod2, over the mesh) and the cache (its own node,
    // the host on podman's bridge: the container's loopback is its own) are; the cache is then
    // also published on the bridge's host address and opened on podman's bridge.
    let env = "virtualisation.oci-containers.containers.api.environment";
    assert_eq!(value(&prod1, &format!("{env}.DATABASE_URL")), Some("\"postgres://10.0.0.2:5432\""));
    assert_eq!(value(&prod1, &format!("{env}.CACHE_HOST")), Some("\"10.88.0.1\""));
    assert_eq!(value(&prod1, &format!("{env}.CACHE_PORT")), Some("\"6379\""));
    assert_eq!(value(&prod1, "networking.firewall.interfaces.podman0.allowedTCPPorts"), Some("[ 6379 ]"));
}

#[test]
fn a_preset_exposed_to_the_public_listens_on_every_address_once() {
    let case = workspace().join("specs/targets/nixos/postgres_exposed_to_the_public_generates_cleanly.spec");
    let files = spec_testkit::generate(&Nixos, &case);
    let prod1 = module(&files, "prod1");
    assert_eq!(value(&prod1, "services.postgresql.settings.listen_addresses"), Some("\"0.0.0.0,::\""));
    assert_eq!(
        value(&prod1, "services.postgresql.authentication"),
        Some("\"host all all 0.0.0.0/0 scram-sha-256\\nhost all all ::/0 scram-sha-256\\n\"")
    );
    assert_eq!(value(&prod1, "networking.firewall.allowedTCPPorts"), Some("[ 5432 ]"));
}

#[test]
fn nixos_options_read_where_services_are_and_let_the_node_in() {
    let case = workspace().join("specs/targets/nixos/endpoints_read_in_nixos_options_generate_cleanly.spec");
    let files = spec_testkit::generate(&Nixos, &case);
    let (web1, db1) = (module(&files, "web1"), module(&files, "db1"));
    // The node itself reads: PostgreSQL on db1 at its address, its own container on loopback,
    // a port as a number.
    assert_eq!(value(&web1, "environment.etc.db-url.text"), Some("\"postgres://10.0.0.2:5432\""));
    assert_eq!(value(&web1, "environment.etc.cache-host.text"), Some("\"127.0.0.1\""));
    assert_eq!(value(&web1, "services.redis.servers.proxy.port"), Some("6379"));
    // The read is a way in: db1 listens on its address and admits web1 alone.
    assert_eq!(value(&db1, "services.postgresql.settings.listen_addresses"), Some("\"127.0.0.1,10.0.0.2\""));
    assert_eq!(
        value(&db1, "services.postgresql.authentication"),
        Some("\"host all all 10.0.0.1/32 scram-sha-256\\n\"")
    );
    let rule = value(&db1, "networking.firewall.extraCommands").expect("a rule for web1");
    assert!(rule.contains("-s 10.0.0.1/32 --dport 5432 -j nixos-fw-accept"), "{rule}");
}

/// k3s on a WireGuard mesh: the API and the kubelets answer the other nodes on the mesh, and the
/// node's own pods on k3s's pod bridge (a pod reaches the API through the `kubernetes` Service,
/// which leads to the server's own address; metrics-server reads each kubelet), never the public.
/// Before, they were opened on the mesh alone, and pods on the server could not reach the API.
#[test]
fn k3s_on_a_mesh_answers_the_nodes_pods_on_the_pod_bridge() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-k3s-mesh");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let estate = dir.join("main.spec");
    std::fs::write(
        &estate,
        r#"secret k3s-token { nixos = agenix { file = "secrets/k3s-token.age" } }
secret wg-a { nixos = agenix { file = "secrets/wg-a.age" } }
secret wg-b { nixos = agenix { file = "secrets/wg-b.age" } }
node a {
  os = nixos, address = 10.0.0.1, endpoint = 192.0.2.1
  wireguard { public_key = "GPjXljODyNa5kOU0sHdt4MQo7b+cUmnTJqlZb9FNf/Y=", private_key = secret.wg-a }
}
node b {
  os = nixos, address = 10.0.0.2, endpoint = 192.0.2.2
  wireguard { public_key = "rMNMgB4wnWddRDOd6OgnX/o8uWuCH6uWJQ2gW6nUnqQ=", private_key = secret.wg-b }
}
network mesh { wireguard { cidr = 10.0.0.0/24, port = 51820 }, members = [node.a, node.b] }
cluster main { distribution = k3s, servers = [node.a], agents = [node.b], token = secret.k3s-token }
"#,
    )
    .expect("write");
    let files = spec_testkit::generate(&Nixos, &estate);
    let (server, agent) = (module(&files, "a"), module(&files, "b"));
    assert_eq!(value(&server, "networking.firewall.interfaces.cni0.allowedTCPPorts"), Some("[ 6443 10250 ]"));
    assert_eq!(value(&server, "networking.firewall.interfaces.mesh.allowedTCPPorts"), Some("[ 6443 10250 ]"));
    assert_eq!(value(&agent, "networking.firewall.interfaces.cni0.allowedTCPPorts"), Some("[ 10250 ]"));
    assert_eq!(value(&server, "networking.firewall.allowedTCPPorts"), None);
}

/// A service its preset runs through NixOS options, though it also has an image (the NATS
/// exporter), is a host process on a NixOS node: a need of it is met on loopback, so nothing is
/// opened on podman's bridge for the server it polls. Before, `model/reach.rs` took the image for
/// a container and opened the server's ports on `podman0`.
#[test]
fn a_preset_run_by_its_nixos_options_reaches_its_node_on_loopback() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-module-needs-module");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let estate = dir.join("main.spec");
    std::fs::write(
        &estate,
        r#"import std.nats
node a { os = nixos, address = 10.0.0.1 }
service bus { use std.nats, on = node.a }
service bus-metrics { use std.nats.exporter { job = "bus-metrics" }, on = node.a, needs = [service.bus] }
service api { on = node.a, image = "example/api:1", needs = [service.bus] }
"#,
    )
    .expect("write");
    let files = spec_testkit::generate(&Nixos, &estate);
    let a = module(&files, "a");
    // Both run on the host: the exporter as `services.prometheus.exporters.nats`, the server as
    // `services.nats`; only the container `api` reaches the server on podman's bridge, on the
    // server's client port and its monitoring port.
    assert_eq!(value(&a, "services.prometheus.exporters.nats.enable"), Some("true"));
    assert_eq!(value(&a, "virtualisation.oci-containers.containers.bus-metrics.image"), None);
    assert_eq!(value(&a, "networking.firewall.interfaces.podman0.allowedTCPPorts"), Some("[ 4222 8222 ]"));

    // Without the container, nothing is opened on the bridge at all.
    std::fs::write(
        &estate,
        r#"import std.nats
node a { os = nixos, address = 10.0.0.1 }
service bus { use std.nats, on = node.a }
service bus-metrics { use std.nats.exporter { job = "bus-metrics" }, on = node.a, needs = [service.bus] }
"#,
    )
    .expect("write");
    let files = spec_testkit::generate(&Nixos, &estate);
    let a = module(&files, "a");
    assert_eq!(value(&a, "networking.firewall.interfaces.podman0.allowedTCPPorts"), None, "{a}");
}

/// Jobs and workflow steps reach services as services do, read back from the evaluated modules
/// (`nix-instantiate --eval`): PostgreSQL on db1 listens on its address, admits the job's node and
/// the step's node in `pg_hba` and lets exactly those two addresses through the firewall; the job
/// and the step are given db1's address. Before, the job was E0677 and the step's read opened
/// nothing (it was written, and refused at the database).
#[test]
fn jobs_and_steps_elsewhere_are_let_in_like_services() {
    if !std::process::Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed; the ways in were not read back");
        return;
    }
    let case =
        workspace().join("specs/targets/nixos/jobs_and_steps_reaching_postgres_on_another_node_generate_cleanly.spec");
    let files = spec_testkit::generate(&Nixos, &case);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-jobs-reach");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let db1 = spec_testkit::nix_module_eval(
        &dir.join("nixos/db1/default.nix"),
        "{}",
        "{ listen = m.services.postgresql.settings.listen_addresses; hba = m.services.postgresql.authentication; \
           rules = m.networking.firewall.extraCommands; public = m.networking.firewall.allowedTCPPorts or []; }",
    );
    assert_eq!(db1["listen"], "127.0.0.1,10.0.0.2");
    let hba: Vec<&str> = db1["hba"].as_str().expect("pg_hba").lines().collect();
    assert_eq!(hba, ["host all all 10.0.0.1/32 scram-sha-256", "host all all 10.0.0.3/32 scram-sha-256"]);
    let rules: Vec<&str> = db1["rules"].as_str().expect("rules").lines().filter(|l| l.contains("--dport")).collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    for peer in ["10.0.0.1/32", "10.0.0.3/32"] {
        assert!(rules.iter().any(|r| r.contains(&format!("-s {peer} --dport 5432 -j nixos-fw-accept"))), "{rules:?}");
    }
    assert_eq!(db1["public"], serde_json::json!([]));

    // Where the job and the step find the database: db1's address on the network.
    let app1 = spec_testkit::nix_module_eval(
        &dir.join("nixos/app1/default.nix"),
        "{ podman = \"/nix/store/podman\"; }",
        "m.systemd.services.job-migrate.serviceConfig.ExecStart",
    );
    assert!(app1.as_str().expect("ExecStart").contains("DB_HOST=10.0.0.2"), "{app1}");
    let etl1 = spec_testkit::nix_module_eval(
        &dir.join("nixos/etl1/default.nix"),
        "{ podman = \"/nix/store/podman\"; }",
        "m.systemd.services.nightly-load.serviceConfig.ExecStart",
    );
    assert!(etl1.as_str().expect("ExecStart").contains("DB_URL=postgres://10.0.0.2:5432"), "{etl1}");
}
