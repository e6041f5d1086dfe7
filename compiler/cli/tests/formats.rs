//! What people and CI jobs read: `spec build --format human|json|github` (a build's diagnostics
//! and its `--check` report), counts in words (`1 error`, never `1 errors`), and `--help`.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::spec_in;

fn scratch(name: &str) -> PathBuf {
    let dir = common::scratch(name);
    std::fs::create_dir_all(dir.join("infra")).expect("scratch dir");
    dir
}

const ESTATE: &str = "node prod1 {\n  os = nixos\n  address = 10.0.0.1\n}\n";

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn build_check_reports_drift_as_json_and_as_annotations() {
    let root = scratch("build_check_formats");
    std::fs::write(root.join("infra/main.spec"), ESTATE).expect("write");
    let built = spec_in(&root, &["build", "infra"]);
    assert_eq!(built.status.code(), Some(0), "{}", stderr(&built));
    let clean = spec_in(&root, &["build", "--check", "--format", "json", "infra"]);
    assert_eq!(clean.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_str(&stdout(&clean)).expect("one JSON object");
    assert_eq!(report["check"], serde_json::json!({ "missing": [], "changed": [], "stale": [] }));
    assert_eq!(report["out"], "infra/out");

    std::fs::remove_file(root.join("infra/out/nixos/flake.nix")).expect("remove");
    std::fs::write(root.join("infra/out/nixos/prod1/default.nix"), "{ }\n").expect("tamper");
    let json = spec_in(&root, &["build", "--check", "--format", "json", "infra"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("one JSON object");
    assert_eq!(report["check"]["missing"], serde_json::json!(["nixos/flake.nix"]));
    assert_eq!(report["check"]["changed"], serde_json::json!(["nixos/prod1/default.nix"]));
    assert_eq!((report["errors"].as_u64(), report["diagnostics"].as_array().map(Vec::len)), (Some(0), Some(0)));

    let github = spec_in(&root, &["build", "--check", "--format", "github", "infra"]);
    assert_eq!(github.status.code(), Some(1));
    let lines: Vec<String> = stdout(&github).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("::error file=infra/out/nixos/flake.nix,title=spec build --check::"), "{lines:?}");
    assert!(lines[1].starts_with("::error file=infra/out/nixos/prod1/default.nix,title="), "{lines:?}");

    let human = spec_in(&root, &["build", "--check", "infra"]);
    assert_eq!(stdout(&human), "missing: nixos/flake.nix\nchanged: nixos/prod1/default.nix\n");
}

#[test]
fn build_prints_its_diagnostics_in_the_format_asked() {
    let root = scratch("build_diagnostic_formats");
    std::fs::write(root.join("infra/main.spec"), "node prod1 {\n  os = nixos\n  cpu = \"many\"\n}\n").expect("write");
    let json = spec_in(&root, &["build", "--format", "json", "infra"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("one JSON object");
    assert_eq!(report["diagnostics"][0]["code"], "E0301");
    assert_eq!(report["errors"], 1);
    assert!(!root.join("infra/out").exists(), "a failed build writes nothing");
    let github = spec_in(&root, &["build", "--format", "github", "infra"]);
    assert!(stdout(&github).starts_with("::error file=infra/main.spec,line=3,col=9"), "{}", stdout(&github));
    let human = spec_in(&root, &["build", "infra"]);
    assert!(stdout(&human).is_empty());
    assert!(stderr(&human).contains("error[E0301]"));
    assert!(stderr(&human).ends_with("build failed: 1 error, 0 warnings; nothing was written\n"), "{}", stderr(&human));
}

#[test]
fn counts_are_singular_for_one() {
    let root = scratch("singular_counts");
    std::fs::write(root.join("infra/main.spec"), "node prod1 {\n  os = nixos\n  cpu = \"many\"\n}\n").expect("write");
    let check = spec_in(&root, &["check", "infra"]);
    let last = stderr(&check).lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("checked 1 file (0 resources) in "), "{last}");
    assert!(last.ends_with(": 1 error, 0 warnings"), "{last}");
    std::fs::write(root.join("infra/main.spec"), "node prod1 {\nos = nixos\n}\n").expect("write");
    let fmt = spec_in(&root, &["fmt", "--check", "infra"]);
    assert_eq!(stderr(&fmt), "1 file is not formatted; run `spec fmt`\n");
}

#[test]
fn help_opens_with_what_spec_does_and_lists_every_command() {
    let help = spec_in(Path::new("."), &["--help"]);
    let text = stdout(&help);
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "A compiler for infrastructure: checks an estate and writes its NixOS, Kubernetes, Prometheus and systemd files."
    );
    assert!(first.len() <= 120, "one line on a terminal");
    for command in ["build", "check", "explain", "schema", "graph", "diff", "fmt", "lsp", "init"] {
        let line = text.lines().find(|line| line.trim_start().starts_with(command));
        assert!(line.is_some_and(|line| line.len() <= 100), "{command} on one short line in\n{text}");
    }
}
