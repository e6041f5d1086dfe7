//! Dashboard files through the binary: `spec` reads the estate's `*.json` beside its sources, by
//! folder and beside one file given alone, finds the ones services name, and writes them into the
//! output byte for byte, the same from any folder (no path of the machine that built it); a named
//! file that is missing or not JSON stops the build with E0760 or E0761, writing nothing.

mod common;

use common::{scratch, spec_in, write_text};

const ESTATE: &str = r#"import std.grafana
node mon1 { os = nixos, address = 10.0.0.1 }
node k1 { os = nixos, address = 10.0.0.2 }
cluster main { distribution = k3s, servers = [node.k1] }
service grafana {
  use std.grafana { secret_key_file = "/var/lib/grafana/secret-key" }
  on = node.mon1
}
service api {
  on         = node.mon1
  image      = "ghcr.io/acme/api:1.0"
  dashboards = ["dashboards/api.json"]
}
service web {
  on         = cluster.main
  image      = "ghcr.io/acme/web:1.0"
  ports      { http = 8080/tcp }
  dashboards = ["dashboards/web.json"]
}
"#;

const API: &str = "{\n  \"title\": \"API ${instance}\",\n  \"panels\": []\n}\n";
const WEB: &str = "{\"title\": \"Web\", \"panels\": []}\n";

fn estate(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    write_text(&dir.join("estate/main.spec"), ESTATE);
    write_text(&dir.join("estate/dashboards/api.json"), API);
    write_text(&dir.join("estate/dashboards/web.json"), WEB);
    dir
}

fn read_tree(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let path = e.path().strip_prefix(root).expect("below").to_string_lossy().into_owned();
            (path, std::fs::read(e.path()).expect("read"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn dashboards_reach_grafana_on_nixos_and_the_sidecar_on_a_cluster_byte_for_byte() {
    let dir = estate("dashboards/reach");
    let output = spec_in(&dir, &["build", "estate", "--out", "out"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let nixos = std::fs::read_to_string(dir.join("out/nixos/mon1/default.nix")).expect("the Grafana node's module");
    // The file's text, escaped as Nix escapes `${`, under the provider's folder.
    assert!(
        nixos.contains(r#"environment.etc."grafana-dashboards/api-api.json".text = "{\n  \"title\": \"API \${instance}\",\n  \"panels\": []\n}\n";"#),
        "{nixos}"
    );
    assert!(nixos.contains(r#"path = "/etc/grafana-dashboards";"#), "{nixos}");
    let config_maps =
        std::fs::read_to_string(dir.join("out/k8s/main/dashboards.yaml")).expect("the cluster's dashboards");
    let documents: Vec<serde_json::Value> = config_maps.split("\n---\n").filter_map(parse_yaml).collect();
    let web = documents.iter().find(|d| d["kind"] == "ConfigMap").expect("a ConfigMap");
    assert_eq!(web["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(web["data"]["web-web.json"], WEB, "the file's text, byte for byte");
    let kustomization = std::fs::read_to_string(dir.join("out/k8s/main/kustomization.yaml")).expect("kustomization");
    assert!(kustomization.contains("\"dashboards.yaml\""), "{kustomization}");
}

/// Parses one YAML document as JSON through python, as the validators read it; `None` for a
/// document holding only comments.
fn parse_yaml(document: &str) -> Option<serde_json::Value> {
    let output = std::process::Command::new("python3")
        .args(["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(document.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3 with pyyaml runs");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    (!value.is_null()).then_some(value)
}

#[test]
fn the_output_is_the_same_built_from_another_folder_and_from_the_file_alone() {
    let first = estate("dashboards/first");
    let second = estate("dashboards/elsewhere/deeper/second");
    assert!(spec_in(&first, &["build", "estate", "--out", "out"]).status.success());
    assert!(spec_in(&second.join("estate"), &["build", "--out", "../out"]).status.success());
    assert_eq!(read_tree(&first.join("out")), read_tree(&second.join("out")));
    // One file given alone is its folder's estate: its dashboards are found beside it.
    let alone = estate("dashboards/alone");
    let main = alone.join("estate/main.spec");
    let output = spec_in(&alone, &["build", main.to_str().expect("utf-8"), "--out", "out"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(alone.join("out/k8s/main/dashboards.yaml")).expect("dashboards");
    assert!(!text.contains(alone.to_str().expect("utf-8")), "an absolute path leaked: {text}");
}

#[test]
fn a_missing_or_broken_dashboard_stops_the_build_and_writes_nothing() {
    let dir = estate("dashboards/broken");
    std::fs::remove_file(dir.join("estate/dashboards/api.json")).expect("remove");
    write_text(&dir.join("estate/dashboards/web.json"), "{\"title\": \"Web\",}\n");
    let output = spec_in(&dir, &["build", "estate", "--out", "out"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("E0760") && stderr.contains("dashboards/api.json"), "{stderr}");
    assert!(stderr.contains("E0761") && stderr.contains("estate/dashboards/web.json:1:17"), "{stderr}");
    assert!(!dir.join("out").exists());
}

#[test]
fn json_under_node_modules_or_target_is_not_estate_data() {
    let dir = estate("dashboards/tool-folders");
    let estate_text = ESTATE
        .replace("dashboards/api.json", "node_modules/pkg/api.json")
        .replace("dashboards/web.json", "target/web.json");
    write_text(&dir.join("estate/main.spec"), &estate_text);
    write_text(&dir.join("estate/node_modules/pkg/api.json"), API);
    write_text(&dir.join("estate/target/web.json"), WEB);
    let output = spec_in(&dir, &["check", "estate"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("node_modules/pkg/api.json") && stderr.contains("target/web.json"), "{stderr}");
    assert_eq!(stderr.matches("E0760").count(), 2, "{stderr}");
}
