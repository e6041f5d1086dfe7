//! The NixOS output of an estate with environments: each build writes the modules, flake and hive
//! of the nodes it uses only, so deploying one environment (`colmena apply -f
//! out/staging/nixos/hive.nix`) never reconfigures another environment's hosts; an estate without
//! environments writes every node. The k3s hosts run the package of the cluster's `version`,
//! evaluated with `nix-instantiate` (SKIPPED when it is missing).

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_nixos::Nixos;

const CASE: &str = "specs/targets/nixos/environments_write_only_the_nodes_they_use.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The nodes a build wrote a module for, the hive's nodes and the flake's, each sorted.
fn written(files: &[(String, String)]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut modules: Vec<String> = files
        .iter()
        .filter_map(|(path, _)| path.strip_prefix("nixos/")?.strip_suffix("/default.nix").map(String::from))
        .collect();
    modules.sort();
    let text = |name: &str| files.iter().find(|(p, _)| p == name).map(|(_, c)| c.clone()).expect(name);
    // A node's entry is `  NAME = {` in the hive and `      NAME = nixpkgs.lib.nixosSystem {` in
    // the flake.
    let entries = |text: String, suffix: &str| {
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_suffix(suffix)?.trim_start().split_once(' ').map(|(n, _)| n.to_string()))
            .filter(|n| !n.contains('.') && n != "defaults")
            .collect();
        names.sort();
        names
    };
    (modules, entries(text("nixos/hive.nix"), "= {"), entries(text("nixos/flake.nix"), "= nixpkgs.lib.nixosSystem {"))
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_environment_writes_only_the_nodes_it_uses() {
    let case = workspace().join(CASE);
    let base = spec_testkit::generate_in(&Nixos, &case, None);
    let production = names(&["k1", "k2"]);
    assert_eq!(written(&base), (production.clone(), production.clone(), production));
    let staging = spec_testkit::generate_in(&Nixos, &case, Some("staging"));
    let staging_nodes = names(&["relay", "s1"]);
    assert_eq!(written(&staging), (staging_nodes.clone(), staging_nodes.clone(), staging_nodes));
    // What staging writes for its own server is its k3s, not a k1 module without it.
    let s1 = staging.iter().find(|(p, _)| p == "nixos/s1/default.nix").expect("s1's module");
    assert!(s1.1.contains("services.k3s.role = \"server\";"), "{}", s1.1);
}

#[test]
fn an_estate_without_environments_writes_every_node() {
    let text = "node used { os = nixos, address = 10.0.0.1 }\n\
                node idle { os = nixos, address = 10.0.0.2 }\n\
                cluster apps { distribution = k3s, servers = [node.used] }\n";
    let (sources, compilation) = spec_testkit::compile("main.spec", text.to_string());
    let context =
        spec_compiler::target::Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let generated = spec_compiler::target::Target::generate(&Nixos, &context);
    assert!(generated.diagnostics.is_empty(), "{:#?}", generated.diagnostics);
    let files: Vec<(String, String)> = generated.files.into_iter().map(|f| (f.path, f.contents)).collect();
    let all = names(&["idle", "used"]);
    assert_eq!(written(&files), (all.clone(), all.clone(), all));
}

#[test]
fn k3s_hosts_run_the_package_of_the_clusters_version() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); the k3s package was not read back"
        );
        return;
    }
    let case = workspace().join(CASE);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-environments");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in spec_testkit::generate_in(&Nixos, &case, None) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    // `pkgs` as an attribute set of names: the module picks `pkgs.k3s_1_30` out of it.
    let pkgs = "{ k3s = \"k3s\"; k3s_1_30 = \"k3s_1_30\"; k3s_1_31 = \"k3s_1_31\"; }";
    for node in ["k1", "k2"] {
        let read = spec_testkit::nix_module_eval(
            &dir.join(format!("nixos/{node}/default.nix")),
            pkgs,
            "m.services.k3s.package",
        );
        assert_eq!(read, serde_json::json!("k3s_1_30"), "{node}");
    }
}
