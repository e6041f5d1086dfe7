//! Alert routing on NixOS read back with the real tools: the Alertmanager configuration the module
//! evaluates to (`nix-instantiate --eval`) passes `amtool check-config`, every credential file it
//! names is one the unit loads from a decrypted secret, routes keep their order with `info` taken
//! only where a route names it, and the Prometheus on the other node is pointed at Alertmanager.
//! A missing tool makes the test print SKIPPED, never pass in silence.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_nixos::Nixos;

const CASE: &str = "specs/targets/nixos/alert_routing_to_alertmanager_on_nixos_generates_cleanly.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// `expression` with `m` bound to the module at `file` (its `config` its own result), as JSON.
fn evaluate(file: &Path, expression: &str) -> serde_json::Value {
    spec_testkit::nix_module_eval(file, "{}", expression)
}

#[test]
fn alertmanager_configuration_passes_amtool_and_reads_only_loaded_credentials() {
    if !have("nix-instantiate") || !have("amtool") {
        eprintln!(
            "SKIPPED: nix-instantiate or amtool is not installed (apt-get install nix-bin prometheus-alertmanager); \
             the Alertmanager configuration was not checked"
        );
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-alertmanager");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in spec_testkit::generate(&Nixos, &workspace().join(CASE)) {
        let target = dir.join("out").join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let mon2 = dir.join("out/nixos/mon2/default.nix");
    let configuration = evaluate(&mon2, "m.services.prometheus.alertmanager.configuration");
    let file = dir.join("alertmanager.yml");
    // JSON is YAML: amtool reads the configuration exactly as NixOS writes it.
    std::fs::write(&file, configuration.to_string()).expect("write");
    let output = Command::new("amtool").arg("check-config").arg(&file).output().expect("runs");
    assert!(
        output.status.success(),
        "amtool refuses the configuration: {}{}\n{configuration:#}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // Every `_file` the receivers name is a credential the unit loads from a decrypted secret.
    let loaded = evaluate(&mon2, "m.systemd.services.alertmanager.serviceConfig.LoadCredential");
    let loaded: Vec<&str> = loaded.as_array().expect("list").iter().filter_map(|c| c.as_str()).collect();
    assert_eq!(
        loaded,
        [
            "pagerduty-key:/run/agenix/pagerduty-key",
            "slack-webhook:/run/secrets/slack-webhook",
            "smtp-password:/run/agenix/smtp-password"
        ]
    );
    let text = configuration.to_string();
    let mut files = 0;
    for (at, _) in text.match_indices("/run/credentials/alertmanager.service/") {
        let name = text[at..].trim_start_matches("/run/credentials/alertmanager.service/").split('"').next().unwrap();
        assert!(loaded.iter().any(|l| l.starts_with(&format!("{name}:"))), "{name} is not loaded: {loaded:?}");
        files += 1;
    }
    assert_eq!(files, 3, "{configuration:#}");

    // Routes in source order; `info` only where a route names it; the root notifies no one.
    let route = &configuration["route"];
    assert_eq!(route["receiver"], "none");
    let receivers: Vec<&str> =
        configuration["receivers"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(receivers, ["none", "oncall", "team", "ops"]);
    assert_eq!(configuration["receivers"][0].as_object().unwrap().len(), 1, "the root receiver has no channel");
    let routes: Vec<(String, Vec<String>)> = route["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let matchers = r["matchers"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect();
            (r["receiver"].as_str().unwrap().to_string(), matchers)
        })
        .collect();
    let expected = [
        ("oncall", vec![r#"severity=~"critical|warning""#, r#"tier="primary""#]),
        ("oncall", vec![r#"severity=~"critical""#]),
        ("team", vec![r#"severity=~"warning""#]),
        ("ops", vec![r#"severity=~"info""#, r#"team="ops""#]),
    ];
    assert_eq!(routes.len(), expected.len());
    for ((receiver, matchers), (want_receiver, want)) in routes.iter().zip(expected) {
        assert_eq!(receiver, want_receiver);
        assert_eq!(matchers, &want);
    }
    assert_eq!(route["routes"][0]["repeat_interval"], "3600s");
    let inhibit = &configuration["inhibit_rules"][0];
    assert_eq!(inhibit["equal"], serde_json::json!(["job", "instance"]));
    assert_eq!(inhibit["source_matchers"], serde_json::json!([r#"severity="critical""#]));

    // The Prometheus on mon1 sends to the Alertmanager on mon2.
    let alertmanagers = evaluate(&dir.join("out/nixos/mon1/default.nix"), "m.services.prometheus.alertmanagers");
    assert_eq!(alertmanagers, serde_json::json!([{ "static_configs": [{ "targets": ["10.0.0.2:9093"] }] }]));
}

/// Two receivers mailing through one SMTP account share its password: the unit loads that
/// credential once (systemd refuses a credential name loaded twice), and both read it.
#[test]
fn receivers_sharing_a_secret_load_it_once() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-alertmanager-shared");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let estate = dir.join("main.spec");
    std::fs::write(
        &estate,
        r#"import std.alertmanager
secret smtp { nixos = agenix { file = "secrets/smtp.age" } }
node mon1 { os = nixos, address = 10.0.0.1 }
service alertmanager { use std.alertmanager, on = node.mon1 }
receiver oncall { email { to = "oncall@example.com", from = "alerts@example.com", smarthost = "smtp.example.com:587", password = secret.smtp } }
receiver team { email { to = "team@example.com", from = "alerts@example.com", smarthost = "smtp.example.com:587", password = secret.smtp } }
route pages { severity = [critical], to = receiver.oncall }
route mail { severity = [warning], to = receiver.team }
"#,
    )
    .expect("write");
    let files = spec_testkit::generate(&Nixos, &estate);
    let (_, module) = files.iter().find(|(path, _)| path == "nixos/mon1/default.nix").expect("mon1's module");
    let at = module.find("LoadCredential").expect("credentials loaded");
    let list = &module[at..module[at..].find("];").map(|end| at + end).expect("a list")];
    assert_eq!(list.matches("smtp:").count(), 1, "{list}");
    assert_eq!(module.matches("/run/credentials/alertmanager.service/smtp\"").count(), 2, "{module}");
}
