//! The NixOS output read by the real tools: every generated file parses with
//! `nix-instantiate --parse`, every node module evaluates and sets only options NixOS has, with
//! compatible types (`shared/validate/check.py nixopts`, against the NixOS option list), and
//! hostile strings come back from `nix-instantiate --eval` exactly as they went in. A missing tool
//! makes its test print SKIPPED, never pass in silence. The whole output of the tour and
//! of the monitoring and reachability cases is snapshotted.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_nixos::{Nixos, nix};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn generate(path: &Path) -> Vec<(String, String)> {
    spec_testkit::generate(&Nixos, path)
}

/// The files for the estate named `name`: `example@env` applies the environment `env`.
fn generate_named(name: &str, path: &Path) -> Vec<(String, String)> {
    spec_testkit::generate_in(&Nixos, path, name.split_once('@').map(|(_, env)| env))
}

/// Writes the files under `dir/out`, with placeholder encrypted secrets where the estate names them
/// and a placeholder rule file where the Prometheus back end writes its own.
fn materialise(dir: &Path, files: &[(String, String)]) {
    let _ = std::fs::remove_dir_all(dir);
    for (path, contents) in files {
        let target = dir.join("out").join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    std::fs::create_dir_all(dir.join("out/prometheus")).expect("mkdir");
    std::fs::write(dir.join("out/prometheus/estate.rules.yml"), "groups: []\n").expect("write");
    // Every file under `secrets/` the modules name (`./. + "/../../secrets/NAME"`, and
    // `secrets/NAME/KEY.age` for a key of a secret holding several values).
    for (_, contents) in files {
        for (at, _) in contents.match_indices("/secrets/") {
            let rest = &contents[at + "/secrets/".len()..];
            let secret: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || "._-/".contains(*c)).collect();
            let secret = secret.trim_end_matches('/');
            if !secret.is_empty() && !secret.split('/').any(|part| part.is_empty() || part == "..") {
                let target = dir.join("secrets").join(secret);
                std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
                std::fs::write(target, "encrypted placeholder\n").expect("write");
            }
        }
    }
}

fn estates() -> Vec<(&'static str, PathBuf)> {
    let case = |name: &str| workspace().join("specs/targets/nixos").join(format!("{name}.spec"));
    vec![
        ("tour", workspace().join("examples/tour")),
        ("k8s-platform", workspace().join("examples/k8s-platform")),
        ("nats-services", workspace().join("examples/nats-services")),
        ("nats-services@staging", workspace().join("examples/nats-services")),
        ("nats-services@dev", workspace().join("examples/nats-services")),
        ("sovereign-box", workspace().join("examples/sovereign-box")),
        ("sovereign-box@staging", workspace().join("examples/sovereign-box")),
        ("sovereign-box@production", workspace().join("examples/sovereign-box")),
        ("mesh", case("a_nixos_node_with_containers_and_a_mesh_generates_cleanly")),
        ("workflow", case("a_workflow_on_a_nixos_node_generates_cleanly")),
        ("k3s", case("k3s_server_and_agent_with_a_token_generate_cleanly")),
        ("monitoring", case("monitoring_presets_health_and_replication_on_nixos_generate_cleanly")),
        ("presets", case("preset_services_with_storage_limits_secrets_and_gpus_generate_cleanly")),
        ("reach", case("needs_across_nodes_and_from_a_cluster_generate_cleanly")),
        ("alerting", case("alert_routing_to_alertmanager_on_nixos_generates_cleanly")),
        (
            "secret-keys",
            workspace()
                .join("specs/targets/kubernetes/secrets_with_several_keys_on_every_target_generate_cleanly.spec"),
        ),
        ("dump", case("a_database_dump_copied_to_a_bucket_and_b2_generates_cleanly")),
        ("secrets", case("secrets_from_vault_sops_and_existing_files_generate_cleanly")),
        ("payload-endpoints", case("endpoints_read_in_nixos_options_generate_cleanly")),
        ("probes", case("health_probes_through_the_blackbox_exporter_on_nixos_generate_cleanly")),
        ("jobs", case("a_migration_job_before_its_service_on_nixos_generates_cleanly")),
        ("streams", case("streams_applied_after_their_nats_server_on_nixos_generate_cleanly")),
        ("grafana", case("grafana_with_the_estates_prometheus_as_its_datasource_generates_cleanly")),
        ("logs", case("logs_shipped_to_loki_and_read_by_grafana_generate_cleanly")),
        ("dashboards", case("dashboards_provisioned_into_grafana_on_nixos_generate_cleanly")),
        ("otel", case("services_pointed_at_an_opentelemetry_collector_generate_cleanly")),
        ("traces", case("traces_through_a_collector_to_tempo_read_by_grafana_generate_cleanly")),
        ("files", case("configuration_files_on_nixos_generate_cleanly")),
        ("ingress", case("ingress_routes_through_nginx_with_acme_generate_cleanly")),
        ("pull-secret", case("pull_secret_of_a_container_generates_cleanly")),
        ("stateful", case("stateful_presets_postgres_standby_nats_cluster_vault_and_n8n_generate_cleanly")),
        ("redis-cluster", case("redis_cluster_members_on_nixos_and_ubuntu")),
        ("ml-training", workspace().join("examples/ml-training")),
        ("ml-training@shadow", workspace().join("examples/ml-training")),
        ("ml-training@cutover", workspace().join("examples/ml-training")),
        ("host", case("host_settings_privileged_agents_and_directories_on_nixos_generate_cleanly")),
        ("blue-green", case("blue_green_pair_behind_nginx_generates_cleanly")),
        ("nginx", case("nginx_preset_beside_the_nodes_own_nginx_generates_cleanly")),
        ("cache-storage", case("storage_holding_a_cache_generates_cleanly")),
        ("arch", case("a_node_of_another_architecture_generates_cleanly")),
    ]
}

#[test]
fn every_generated_file_parses_with_nix_instantiate() {
    if !have("nix-instantiate") {
        eprintln!("SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); Nix parsing was not checked");
        return;
    }
    for (name, estate) in estates() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-parse").join(name.replace('@', "-")); // `@` cannot stand in a Nix path
        let files = generate_named(name, &estate);
        materialise(&dir, &files);
        for (path, _) in &files {
            let output =
                Command::new("nix-instantiate").arg("--parse").arg(dir.join("out").join(path)).output().expect("runs");
            assert!(
                output.status.success(),
                "{name}: {path} does not parse: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

#[test]
fn node_modules_set_only_nixos_options_with_compatible_types() {
    let checker = workspace().join("../shared/validate/check.py");
    if !have("nix-instantiate") || !checker.exists() || !have("python3") {
        eprintln!("SKIPPED: needs nix-instantiate, python3 and {}; NixOS options were not checked", checker.display());
        return;
    }
    for (name, estate) in estates() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-options").join(name.replace('@', "-")); // `@` cannot stand in a Nix path
        let files = generate_named(name, &estate);
        materialise(&dir, &files);
        for (path, _) in files.iter().filter(|(p, _)| p.ends_with("/default.nix")) {
            let output = Command::new("python3")
                .arg(&checker)
                .arg("nixopts")
                .arg(dir.join("out").join(path))
                .output()
                .expect("runs");
            let report = String::from_utf8_lossy(&output.stdout).trim().to_string();
            let verdict = report.split_whitespace().next().unwrap_or("");
            if verdict == "PASS" {
                continue;
            }
            // agenix and sops-nix are modules of their own, not in the NixOS option list: their
            // top-level options are the only ones allowed to be unknown.
            let reasons: Vec<&str> = report.split_once(".nix ").map_or("", |(_, r)| r).split("; ").collect();
            let foreign = |r: &&str| *r == "option 'age' does not exist" || *r == "option 'sops' does not exist";
            assert!(verdict == "FAIL" && reasons.iter().all(foreign), "{name}: {path}: {report}");
        }
    }
}

/// The shell the generated scripts and podman's `CMD-SHELL` health checks run under: `sh -n`
/// (dash here, the strictest POSIX shell at hand) parses without running.
fn sh_parses(script: &str) -> Result<(), String> {
    let output = Command::new("dash").args(["-n", "-c", script]).output().expect("runs");
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).into_owned()) }
}

#[test]
fn every_generated_shell_script_and_health_command_parses() {
    if !have("nix-instantiate") || Command::new("dash").args(["-c", "true"]).output().is_err() {
        eprintln!("SKIPPED: needs nix-instantiate and dash; generated scripts were not parsed");
        return;
    }
    // Reads the scripts and container options back from the evaluated module, so Nix's own
    // unescaping is what the shell sees. A container option may name a decrypted secret's path
    // (`--authfile`), so the module sees its own agenix secrets at their default paths.
    let expression = |file: &Path| {
        format!(
            "let m = import {} {{ config = secrets; lib = {{}}; pkgs = {{}}; }}; \
             secrets = {{ age.secrets = builtins.mapAttrs (n: _: {{ path = \"/run/agenix/${{n}}\"; }}) (m.age.secrets or {{}}); }}; \
             services = m.systemd.services or {{}}; containers = m.virtualisation.oci-containers.containers or {{}}; \
             in {{ scripts = map (n: services.${{n}}.script or \"\") (builtins.attrNames services); \
             options = builtins.concatLists (map (n: containers.${{n}}.extraOptions or []) (builtins.attrNames containers)); }}",
            file.display()
        )
    };
    let (mut scripts, mut checks) = (0, 0);
    for (name, estate) in estates() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-shell").join(name.replace('@', "-")); // `@` cannot stand in a Nix path
        let files = generate_named(name, &estate);
        materialise(&dir, &files);
        for (path, _) in files.iter().filter(|(p, _)| p.ends_with("/default.nix")) {
            let file = std::fs::canonicalize(dir.join("out").join(path)).expect("exists");
            let output = Command::new("nix-instantiate")
                .args(["--eval", "--strict", "--json", "--readonly-mode", "-E"])
                .arg(expression(&file))
                .output()
                .expect("runs");
            assert!(output.status.success(), "{name}: {path}: {}", String::from_utf8_lossy(&output.stderr));
            let read: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
            for script in read["scripts"].as_array().expect("a list").iter().filter_map(|s| s.as_str()) {
                if script.is_empty() {
                    continue;
                }
                sh_parses(script).unwrap_or_else(|e| panic!("{name}: {path}: {script}\n{e}"));
                scripts += 1;
            }
            for option in read["options"].as_array().expect("a list").iter().filter_map(|s| s.as_str()) {
                let Some(command) = option.strip_prefix("--health-cmd=") else { continue };
                let words: Vec<String> = serde_json::from_str(command).expect("podman's JSON form");
                if words[0] == "CMD-SHELL" {
                    sh_parses(&words[1]).unwrap_or_else(|e| panic!("{name}: {path}: {command}\n{e}"));
                }
                checks += 1;
            }
        }
    }
    assert!(
        scripts >= 2 && checks >= 3,
        "the estates hold datasets and health checks ({scripts} scripts, {checks} checks)"
    );
}

#[test]
fn hostile_strings_read_back_unchanged() {
    if !have("nix-instantiate") {
        eprintln!("SKIPPED: nix-instantiate is not installed; string escaping was not read back");
        return;
    }
    let hostile = [
        "plain",
        "quote \" inside",
        "back\\slash",
        "${interpolation}",
        "$${double}",
        "dollar $ alone",
        "''indented-string quotes''",
        "'' ${x} ''",
        "new\nline",
        "tab\tand\rreturn",
        "percent %h %%",
        "{{ helm }}",
        "unicode ünïcødé ✓ 🚀",
        "\\${escaped?}",
        "ends with backslash \\",
    ];
    let list = format!("[ {} ]", hostile.iter().map(|s| nix::string(s)).collect::<Vec<_>>().join(" "));
    let output =
        Command::new("nix-instantiate").args(["--eval", "--strict", "--json", "-E"]).arg(&list).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let read: Vec<String> = serde_json::from_slice(&output.stdout).expect("a JSON list of strings");
    assert_eq!(read, hostile.iter().map(|s| s.to_string()).collect::<Vec<_>>());
}

#[test]
fn every_generated_calendar_is_accepted_by_systemd() {
    if !have("systemd-analyze") {
        eprintln!("SKIPPED: systemd-analyze is not installed; OnCalendar= expressions were not checked");
        return;
    }
    let mut calendars = Vec::new();
    for (name, estate) in estates() {
        for (_, contents) in generate_named(name, &estate) {
            for line in contents.lines().filter(|l| l.contains("OnCalendar = ") || l.contains("sanoid.interval = ")) {
                let value = line.split_once(" = ").map(|(_, v)| v.trim_end_matches(';')).unwrap_or_default();
                calendars.push(serde_json::from_str::<String>(value).expect("a plain string"));
            }
        }
    }
    assert!(calendars.len() >= 3, "the estates hold restic, sanoid and workflow timers: {calendars:?}");
    let output = Command::new("systemd-analyze").arg("calendar").args(&calendars).output().expect("runs");
    assert!(output.status.success(), "{calendars:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// The whole output of the tour, of the case that exercises monitoring, presets, health checks,
/// restore tests and replication, and of the one that lowers preset services' fields onto their
/// units, for review.
#[test]
fn the_outputs_match_their_snapshots() {
    for (name, estate) in estates().into_iter().filter(|(n, _)| {
        matches!(*n, "tour" | "monitoring" | "presets" | "reach" | "dump" | "grafana" | "redis-cluster" | "logs")
            || n.starts_with("k8s-platform")
            || n.starts_with("nats-services")
            || n.starts_with("ml-training")
            || n.starts_with("sovereign-box")
    }) {
        let files = generate_named(name, &estate);
        // Named after the example (and environment) or the case, which the tidy test checks exists.
        let name = estate
            .file_stem()
            .filter(|_| !estate.starts_with(workspace().join("examples")))
            .map_or(name.to_string(), |s| s.to_string_lossy().into_owned());
        let mut all = String::new();
        for (path, contents) in &files {
            all.push_str(&format!("----- {path} -----\n{contents}"));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(workspace().join("snapshots/targets/nixos"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name.as_str(), all));
    }
}

/// Evaluates `expression` (with `m` bound to the node module at `file`, its `config` the module's
/// own result, as the option checker does) and returns it as JSON.
fn evaluate(file: &Path, expression: &str) -> serde_json::Value {
    spec_testkit::nix_module_eval(file, "{}", expression)
}

/// The scrape configuration the Prometheus node's module evaluates to (global intervals and
/// scrape jobs) passes `promtool check config`, and the health probes go through the blackbox exporter: each target's URL becomes the
/// exporter's `target` parameter, the exporter's address the one scraped, with `instance` the
/// `<node>:<port>` the `ProbeFailed` alerts select.
#[test]
fn the_scrape_configuration_passes_promtool_and_probes_go_through_the_exporter() {
    if !have("nix-instantiate") || !have("promtool") {
        eprintln!("SKIPPED: nix-instantiate or promtool is not installed; the scrape configuration was not checked");
        return;
    }
    let case = workspace()
        .join("specs/targets/nixos/health_probes_through_the_blackbox_exporter_on_nixos_generate_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-scrape-config");
    materialise(&dir, &generate(&case));
    let mon1 = dir.join("out/nixos/mon1/default.nix");
    let scrape = evaluate(&mon1, "m.services.prometheus.scrapeConfigs");
    let global = evaluate(&mon1, "m.services.prometheus.globalConfig");
    assert_eq!(global["scrape_interval"], "1m", "std.prometheus sets the global intervals: {global}");
    let config = dir.join("prometheus.yml");
    let written = serde_json::json!({ "global": global, "scrape_configs": scrape });
    std::fs::write(&config, written.to_string()).expect("write");
    let output = Command::new("promtool").args(["check", "config"]).arg(&config).output().expect("runs");
    assert!(
        output.status.success(),
        "promtool check config: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let probes = scrape.as_array().expect("a list").iter().find(|j| j["job_name"] == "health_probe").expect("probes");
    assert_eq!(probes["metrics_path"], "/probe");
    assert_eq!(probes["params"]["module"][0], "http_2xx");
    let targets: Vec<(&str, &str)> = probes["static_configs"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|c| (c["targets"][0].as_str().expect("url"), c["labels"]["instance"].as_str().expect("instance")))
        .collect();
    assert!(targets.contains(&("http://10.0.0.2:8080/healthz", "app1:8080")), "{targets:?}");
    assert!(targets.contains(&("http://127.0.0.1:9090/-/healthy", "mon1:9090")), "{targets:?}");
    assert_eq!(probes["relabel_configs"][0]["target_label"], "__param_target");
    assert_eq!(probes["relabel_configs"][1]["replacement"], "127.0.0.1:9115");
    // The probed port on the other node is open on the mesh and published on its address.
    let app1 = dir.join("out/nixos/app1/default.nix");
    let open = evaluate(&app1, "m.networking.firewall.interfaces.mesh.allowedTCPPorts");
    assert!(open.as_array().expect("ports").contains(&serde_json::json!(8080)), "{open}");
    let published = evaluate(&app1, "m.virtualisation.oci-containers.containers.web.ports");
    assert!(published.as_array().expect("ports").contains(&serde_json::json!("10.0.0.2:8080:8080/tcp")), "{published}");
}

/// What the monitoring case's backups become, read back from the evaluated modules: sanoid keeps
/// no period the spec leaves out, the S3 copy has its credentials and no read-back on every run
/// and copies a snapshot of its own,
/// `verify = weekly` is a restore test of its own that records the metric the alert reads, the
/// replica's sender can read its key, accepts the receiver's host key once and prunes what its
/// source pruned, the receiving node lets the sender's key in and delegates the receive, and
/// both index files import each node's own slot.
#[test]
fn backups_and_hosts_are_wired_as_written() {
    if !have("nix-instantiate") {
        eprintln!("SKIPPED: nix-instantiate is not installed; the evaluated backups were not read back");
        return;
    }
    let case = workspace()
        .join("specs/targets/nixos/monitoring_presets_health_and_replication_on_nixos_generate_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-wiring");
    let files = generate(&case);
    materialise(&dir, &files);
    let app1 = dir.join("out/nixos/app1/default.nix");
    let sanoid = evaluate(&app1, r#"m.services.sanoid.datasets."tank/app/data""#);
    for (period, count) in
        [("frequently", 4), ("hourly", 24), ("daily", 7), ("weekly", 0), ("monthly", 0), ("yearly", 0)]
    {
        assert_eq!(sanoid[period], count, "{period}: {sanoid}");
    }
    let restic = evaluate(
        &app1,
        r#"let job = m.services.restic.backups.app-data; in { env = job.environmentFile; check = job.checkOpts or null; inherit (job) paths backupPrepareCommand backupCleanupCommand; path = m.systemd.services.restic-backups-app-data.path; }"#,
    );
    assert_eq!(restic["env"], "/run/agenix/s3");
    assert!(restic["check"].is_null(), "no read-back after every run: {restic}");
    // The copy reads a snapshot of its own, taken before and destroyed after, not the live files.
    assert_eq!(restic["paths"], serde_json::json!(["/var/lib/app/.zfs/snapshot/restic-app-data"]), "{restic}");
    let prepare = restic["backupPrepareCommand"].as_str().expect("a snapshot before the copy");
    assert!(prepare.ends_with("zfs snapshot 'tank/app/data@restic-app-data'\n"), "{prepare}");
    sh_parses(prepare).expect("the snapshot command parses");
    assert_eq!(restic["backupCleanupCommand"], "zfs destroy 'tank/app/data@restic-app-data'\n", "{restic}");
    assert_eq!(restic["path"], serde_json::json!(["/run/current-system/sw"]), "{restic}");
    let test = evaluate(
        &app1,
        r#"{ calendar = m.systemd.timers.restic-restore-test-app-data.timerConfig.OnCalendar; script = m.systemd.services.restic-restore-test-app-data.script; }"#,
    );
    assert_eq!(test["calendar"], "weekly");
    let script = test["script"].as_str().expect("a script");
    assert!(script.contains("restic dump") && script.contains("restic check"), "{script}");
    assert!(script.contains(r#"spec_restore_test_last_success_timestamp_seconds{backup="app-data"}"#), "{script}");
    let sender = evaluate(
        &app1,
        r#"let c = m.services.syncoid.commands.app-data; in { inherit (c) sshKey extraArgs; owner = m.age.secrets.syncoid.owner; }"#,
    );
    assert_eq!(sender["sshKey"], "/run/agenix/syncoid");
    // syncoid runs as `syncoid` and ssh opens the key itself; agenix's default owner is root.
    assert_eq!(sender["owner"], "syncoid", "{sender}");
    // A fresh sender has no `known_hosts` entry for the receiver, and the receiver keeps no
    // snapshot its source has pruned.
    assert_eq!(
        sender["extraArgs"],
        serde_json::json!(["--sshoption=StrictHostKeyChecking=accept-new", "--delete-target-snapshots"]),
        "{sender}"
    );
    let mon1 = dir.join("out/nixos/mon1/default.nix");
    let receiver = evaluate(
        &mon1,
        r#"{ keys = m.users.users.syncoid.openssh.authorizedKeys.keys; allow = m.systemd.services.zfs-allow-app-data.script; ssh = m.services.openssh.enable; identity = m.age.identityPaths; }"#,
    );
    assert!(receiver["keys"][0].as_str().is_some_and(|k| k.starts_with("ssh-ed25519 ")), "{receiver}");
    assert!(receiver["allow"].as_str().is_some_and(|s| s.contains("zfs allow -u 'syncoid'")), "{receiver}");
    assert_eq!(receiver["ssh"], true);
    assert_eq!(receiver["identity"][0], "/etc/ssh/ssh_host_ed25519_key");
    for index in ["flake.nix", "hive.nix"] {
        let text = &files.iter().find(|(p, _)| p == &format!("nixos/{index}")).expect("written").1;
        assert!(text.contains(r#"(./. + "/../../hosts/app1")"#), "{index}: {text}");
    }
}

/// A backup of a PostgreSQL service's dump, read back from the evaluated module: each copy's job
/// dumps with `pg_dumpall` as the local superuser in `backupPrepareCommand` (which the restic
/// module runs before `restic backup`) into exactly the folder it copies, removes the dump in
/// `backupCleanupCommand`, finds the tools on the system's path, writes to the bucket's repository
/// with the bucket's credentials (the second copy to its own), and each copy's restore test reads
/// its own repository within the RTO.
#[test]
fn a_service_dump_is_written_where_restic_copies_it() {
    if !have("nix-instantiate") {
        eprintln!("SKIPPED: nix-instantiate is not installed; the evaluated dump backup was not read back");
        return;
    }
    let case = workspace().join("specs/targets/nixos/a_database_dump_copied_to_a_bucket_and_b2_generates_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-dump");
    let files = generate(&case);
    materialise(&dir, &files);
    let db1 = dir.join("out/nixos/db1/default.nix");
    let read = |job: &str| {
        evaluate(
            &db1,
            &format!(
                r#"let j = m.services.restic.backups.{job}; in {{ inherit (j) paths repository environmentFile backupPrepareCommand backupCleanupCommand; path = m.systemd.services.restic-backups-{job}.path; }}"#
            ),
        )
    };
    for (job, repository, credentials) in [
        ("db", "s3:https://s3.eu-central-1.amazonaws.com/estate-backups/db", "/run/agenix/s3"),
        ("db-2", "b2:estate-offsite:db", "/run/agenix/b2"),
    ] {
        let copy = read(job);
        let folder = format!("/var/lib/spec-dumps/{job}");
        assert_eq!(copy["paths"], serde_json::json!([folder]), "{job}: {copy}");
        assert_eq!(copy["repository"], repository, "{job}: {copy}");
        assert_eq!(copy["environmentFile"], credentials, "{job}: {copy}");
        let prepare = copy["backupPrepareCommand"].as_str().expect("a dump before the backup");
        let dump = format!(
            "'runuser' '-u' 'postgres' '--' 'pg_dumpall' '--clean' '--port=5432' > '{folder}/postgres.sql'.partial"
        );
        assert!(prepare.contains(&dump), "{job}: {prepare}");
        assert!(prepare.contains(&format!("mv '{folder}/postgres.sql'.partial '{folder}/postgres.sql'")), "{prepare}");
        sh_parses(prepare).expect("the dump parses");
        let cleanup = copy["backupCleanupCommand"].as_str().expect("the dump removed after the backup");
        assert!(cleanup.starts_with(&format!("rm -f '{folder}/postgres.sql'")), "{job}: {cleanup}");
        assert_eq!(copy["path"], serde_json::json!(["/run/current-system/sw"]), "{job}: {copy}");
    }
    for (job, repository) in
        [("db", "s3:https://s3.eu-central-1.amazonaws.com/estate-backups/db"), ("db-2", "b2:estate-offsite:db")]
    {
        let test = evaluate(
            &db1,
            &format!(
                r#"let t = m.systemd.services.restic-restore-test-{job}; in {{ timeout = t.serviceConfig.TimeoutStartSec; script = t.script; repository = t.environment.RESTIC_REPOSITORY; }}"#
            ),
        );
        assert_eq!(test["timeout"], "1800s");
        assert_eq!(test["repository"], repository);
        let script = test["script"].as_str().expect("a script");
        let folder = format!("/var/lib/spec-dumps/{job}");
        assert!(script.contains(&format!("restic dump --host 'db1' --path '{folder}' latest")), "{script}");
        assert!(script.contains(&format!("{{backup=\"{job}\"}}")), "{script}");
    }
}

/// Host-level settings read back from the evaluated module: the node's own options (audit rules,
/// the ZFS scrub schedule) as written; the eBPF agent runs privileged on the host's network and
/// PIDs with its capabilities and publishes nothing; the plain directory is created by
/// systemd-tmpfiles, mounted into its container and copied by restic; the workflow's timer starts
/// the unit that replaces a run still going, and its step starts after the database it needs.
#[test]
fn host_settings_privileged_agents_and_directories_are_wired_as_written() {
    if !have("nix-instantiate") {
        eprintln!("SKIPPED: nix-instantiate is not installed; the host settings were not read back");
        return;
    }
    let case = workspace()
        .join("specs/targets/nixos/host_settings_privileged_agents_and_directories_on_nixos_generate_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-host-settings");
    materialise(&dir, &generate(&case));
    let prod1 = dir.join("out/nixos/prod1/default.nix");
    let host = evaluate(
        &prod1,
        r#"{ auditd = m.security.auditd.enable; rules = m.security.audit.rules; scrub = m.services.zfs.autoScrub.interval; }"#,
    );
    assert_eq!(host["auditd"], true, "{host}");
    assert_eq!(host["rules"][0], "-w /etc/passwd -p wa -k identity", "{host}");
    assert_eq!(host["scrub"], "Sun *-*-* 03:00:00", "{host}");
    let probe = evaluate(
        &prod1,
        r#"let c = m.virtualisation.oci-containers.containers.probe; in { options = c.extraOptions; ports = c.ports or []; }"#,
    );
    let options: Vec<&str> = probe["options"].as_array().expect("options").iter().filter_map(|o| o.as_str()).collect();
    for expected in ["--privileged", "--network=host", "--pid=host", "--cap-drop=ALL", "--cap-add=BPF"] {
        assert!(options.contains(&expected), "{expected} missing: {options:?}");
    }
    assert_eq!(probe["ports"], serde_json::json!([]), "a host-network container publishes nothing: {probe}");
    let directory = evaluate(
        &prod1,
        r#"{ tmpfiles = m.systemd.tmpfiles.settings.spec-storage."/srv/ipfs".d.mode; volumes = m.virtualisation.oci-containers.containers.ipfs.volumes; paths = m.services.restic.backups.ipfs.paths; }"#,
    );
    assert_eq!(directory["tmpfiles"], "0755", "{directory}");
    assert_eq!(directory["volumes"][0], "/srv/ipfs:/data/ipfs", "{directory}");
    assert_eq!(directory["paths"][0], "/srv/ipfs", "{directory}");
    // The packages the replacing unit names, as store paths.
    let workflow = spec_testkit::nix_module_eval(
        &prod1,
        r#"{ systemd = "/nix/store/systemd"; podman = "/nix/store/podman"; coreutils = "/nix/store/coreutils"; }"#,
        r#"{ unit = m.systemd.timers.nightly.timerConfig.Unit; replace = m.systemd.services.nightly-replace.serviceConfig.ExecStart; after = m.systemd.services.nightly-load.after; }"#,
    );
    assert_eq!(workflow["unit"], "nightly-replace.service", "{workflow}");
    let replace = workflow["replace"].as_array().expect("two commands");
    assert_eq!(replace[0], "/nix/store/systemd/bin/systemctl stop nightly.service nightly-load.service");
    assert_eq!(replace[1], "/nix/store/systemd/bin/systemctl start --no-block nightly.service");
    assert_eq!(workflow["after"], serde_json::json!(["podman-db.service"]), "{workflow}");
}

/// Storage that holds a cache is still made and mounted: the dataset's unit creates it and sets
/// `com.sun:auto-snapshot=false` (so no snapshot tool takes it), the directory is created by
/// tmpfiles, both are bound into their containers, and no backup or sanoid policy names either.
#[test]
fn storage_holding_a_cache_is_made_and_mounted_without_snapshots() {
    if !have("nix-instantiate") {
        eprintln!("SKIPPED: nix-instantiate is not installed; the cache storage was not read back");
        return;
    }
    let case = workspace().join("specs/targets/nixos/storage_holding_a_cache_generates_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-cache-storage");
    materialise(&dir, &generate(&case));
    let prod1 = dir.join("out/nixos/prod1/default.nix");
    let read = evaluate(
        &prod1,
        r#"{ script = m.systemd.services.zfs-dataset-build-cache.script; mount = m.fileSystems."/tank/build-cache".device; builder = m.virtualisation.oci-containers.containers.builder.volumes; tmpfiles = m.systemd.tmpfiles.settings.spec-storage."/srv/thumbnails".d.mode; thumbnailer = m.virtualisation.oci-containers.containers.thumbnailer.volumes; sanoid = m.services.sanoid or {}; restic = m.services.restic or {}; }"#,
    );
    let script = read["script"].as_str().expect("a script");
    assert!(
        script.contains("zfs set 'compression=lz4' 'quota=200G' 'com.sun:auto-snapshot=false' \"$dataset\""),
        "{script}"
    );
    assert_eq!(read["mount"], "tank/build-cache", "{read}");
    assert_eq!(read["builder"][0], "/tank/build-cache:/cache", "{read}");
    assert_eq!(read["tmpfiles"], "0755", "{read}");
    assert_eq!(read["thumbnailer"][0], "/srv/thumbnails:/var/cache/thumbnails", "{read}");
    assert_eq!(read["sanoid"], serde_json::json!({}), "no snapshots of a cache: {read}");
    assert_eq!(read["restic"], serde_json::json!({}), "no copies of a cache: {read}");
}

/// A node's architecture, read back: the `aarch64` node's module evaluates `nixpkgs.hostPlatform`
/// to `aarch64-linux`, the fleet builds it for that system and the hive gives it a nixpkgs of that
/// system; the node stating none stays `x86_64-linux` everywhere.
#[test]
fn a_node_is_built_for_its_architecture() {
    if !have("nix-instantiate") {
        eprintln!("SKIPPED: nix-instantiate is not installed; the node's platform was not read back");
        return;
    }
    let case = workspace().join("specs/targets/nixos/a_node_of_another_architecture_generates_cleanly.spec");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-arch");
    let files = generate(&case);
    materialise(&dir, &files);
    let platform = evaluate(&dir.join("out/nixos/arm1/default.nix"), "m.nixpkgs.hostPlatform");
    assert_eq!(platform, "aarch64-linux");
    let other = evaluate(&dir.join("out/nixos/x1/default.nix"), "m.nixpkgs.hostPlatform or null");
    assert!(other.is_null(), "the x86_64 node's platform is the fleet's default: {other}");
    let text = |name: &str| files.iter().find(|(p, _)| p == &format!("nixos/{name}")).expect("written").1.clone();
    let flake = text("flake.nix");
    let arm = flake.split("arm1 = ").nth(1).expect("arm1 in the flake");
    assert!(arm.split("};").next().is_some_and(|c| c.contains(r#"system = "aarch64-linux";"#)), "{flake}");
    let x86 = flake.split("x1 = ").nth(1).expect("x1 in the flake");
    assert!(x86.split("};").next().is_some_and(|c| c.contains(r#"system = "x86_64-linux";"#)), "{flake}");
    let hive = text("hive.nix");
    assert!(hive.contains(r#"arm1 = import <nixpkgs> { system = "aarch64-linux"; };"#), "{hive}");
    assert!(!hive.contains(r#"x1 = import <nixpkgs>"#), "{hive}");
}
