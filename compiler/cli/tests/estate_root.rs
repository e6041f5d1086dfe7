//! Which estate `spec` runs on without a path: the nearest folder at or above the working
//! directory holding `spec.toml` (as cargo finds `Cargo.toml`, and as `spec lsp` finds an open
//! file's estate), else the working directory. Run from a subfolder of a marked estate, `check`,
//! `build`, `graph` and `fmt` see the whole estate and name its files from where they ran.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{spec_in, write_text as write};

/// A fresh scratch directory under the target directory, emptied first. No folder above it holds
/// `spec.toml` (asserted), so only the markers a test writes count.
fn scratch(name: &str) -> PathBuf {
    let dir = common::scratch(&format!("estate_root/{name}"));
    let marked = dir.ancestors().skip(1).find(|above| above.join("spec.toml").is_file());
    assert_eq!(marked, None, "a `spec.toml` above the scratch folder would make these tests meaningless");
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An estate split into `nodes/` and `services/`: the service in `services/` names a node declared
/// in `nodes/`, and the root's own file has a mistake (a string for `cpu`).
fn split_estate(root: &Path) {
    write(&root.join("nodes/prod1.spec"), "node prod1 {\n  os      = nixos\n  address = 10.0.0.1\n}\n");
    write(
        &root.join("services/web.spec"),
        "service web {\n  image = \"nginx:1.27\"\n  on    = node.prod1\n  ports { http = 8080/tcp }\n}\n",
    );
    write(&root.join("main.spec"), "node edge {\n  os      = nixos\n  address = 10.0.0.2\n  cpu     = \"many\"\n}\n");
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).expect("one JSON object on stdout")
}

/// The errors of a JSON report, as (code, file).
fn errors(report: &serde_json::Value) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (d["code"].as_str().unwrap_or_default().to_string(), d["file"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

#[test]
fn check_from_a_subfolder_of_a_marked_estate_checks_the_whole_estate() {
    let root = scratch("marked");
    split_estate(&root);
    write(&root.join("spec.toml"), "");
    let services = root.join("services");
    let check = spec_in(&services, &["check", "--format", "json"]);
    // The node of `nodes/` is found (no E0401 "no node named"), and the mistake in the root's own
    // file is reported, named from the working directory.
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert_eq!(errors(&json(&check)), vec![("E0301".to_string(), "../main.spec".to_string())]);
    // Deeper down, the same estate.
    let deeper = services.join("web/notes");
    std::fs::create_dir_all(&deeper).expect("deeper");
    let check = spec_in(&deeper, &["check", "--format", "json"]);
    assert_eq!(errors(&json(&check)), vec![("E0301".to_string(), "../../../main.spec".to_string())]);
    let human = spec_in(&services, &["check"]);
    assert!(stderr(&human).contains("checked 3 files"), "{}", stderr(&human));
}

#[test]
fn without_a_marker_the_working_directory_is_the_estate() {
    let root = scratch("unmarked");
    split_estate(&root);
    // Only `nodes/` is read: the root's mistake is not seen.
    let check = spec_in(&root.join("nodes"), &["check", "--format", "json"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    assert_eq!(errors(&json(&check)), Vec::<(String, String)>::new());
    // `services/` alone names a node it does not hold.
    let check = spec_in(&root.join("services"), &["check", "--format", "json"]);
    let found = errors(&json(&check));
    assert_eq!(check.status.code(), Some(1));
    assert!(found.iter().all(|(_, file)| file == "web.spec"), "{found:?}");
    assert!(!found.is_empty());
}

#[test]
fn a_marker_in_the_working_directory_is_its_own_estate() {
    let root = scratch("nested");
    split_estate(&root);
    write(&root.join("spec.toml"), "");
    // `nodes/` marked on its own is a separate estate, even inside a marked one: the nearest wins.
    write(&root.join("nodes/spec.toml"), "");
    let check = spec_in(&root.join("nodes"), &["check", "--format", "json"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn build_graph_and_fmt_from_a_subfolder_use_the_marked_estate() {
    let root = scratch("build");
    split_estate(&root);
    // Without the mistake, the estate builds.
    write(&root.join("main.spec"), "node edge {\n  os      = nixos\n  address = 10.0.0.2\n}\n");
    write(&root.join("spec.toml"), "");
    let services = root.join("services");
    let build = spec_in(&services, &["build", "--target", "nixos"]);
    assert_eq!(build.status.code(), Some(0), "{}", stderr(&build));
    // The output folder is the estate's, as `spec build` at its root would write it.
    assert!(root.join("out/nixos/prod1/default.nix").is_file(), "{}", stderr(&build));
    assert!(!services.join("out").exists());
    let nix = std::fs::read_to_string(root.join("out/nixos/prod1/default.nix")).expect("module");
    assert!(nix.contains("services/web.spec"), "sources named from the estate's folder:\n{nix}");
    let again = spec_in(&services, &["build", "--target", "nixos", "--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));

    let graph = spec_in(&services, &["graph", "--format", "json"]);
    assert_eq!(graph.status.code(), Some(0), "{}", stderr(&graph));
    let graph = json(&graph);
    let mut names: Vec<&str> =
        graph["vertices"].as_array().expect("vertices").iter().filter_map(|v| v["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["edge", "prod1", "web"]);

    // `fmt` rewrites every file of the estate, where it lies.
    assert_eq!(spec_in(&root, &["fmt", "."]).status.code(), Some(0));
    write(&root.join("nodes/prod1.spec"), "node prod1 {\nos = nixos\naddress = 10.0.0.1\n}\n");
    let fmt = spec_in(&services, &["fmt", "--check"]);
    assert_eq!(fmt.status.code(), Some(1));
    assert_eq!(stdout(&fmt), "../nodes/prod1.spec\n");
    let fmt = spec_in(&services, &["fmt"]);
    assert_eq!(fmt.status.code(), Some(0), "{}", stderr(&fmt));
    let formatted = std::fs::read_to_string(root.join("nodes/prod1.spec")).expect("read");
    assert!(formatted.starts_with("node prod1 {\n  os"), "{formatted}");
    assert_eq!(spec_in(&root, &["fmt", "--check"]).status.code(), Some(0), "every file formatted");
}

#[test]
fn init_writes_the_marker_and_the_examples_carry_one() {
    let dir = scratch("init").join("estate");
    let init = spec_in(Path::new(env!("CARGO_TARGET_TMPDIR")), &["init", dir.to_str().expect("utf-8 path")]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    assert!(dir.join("spec.toml").is_file());
    // From a folder created inside the new estate, `spec check` finds it.
    std::fs::create_dir_all(dir.join("hosts/web1")).expect("hosts");
    let check = spec_in(&dir.join("hosts/web1"), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(stderr(&check).contains("checked 1 file"), "{}", stderr(&check));

    // Each example is an estate of its own, so an editor opening the repository never makes them
    // and `specs/` (whose cases fail on purpose) one namespace.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = std::fs::canonicalize(workspace).expect("workspace");
    for (example, file) in [
        ("tour", "main.spec"),
        ("starter", "main.spec"),
        ("k8s-platform", "apps.spec"),
        ("nats-services", "bus.spec"),
        ("gpu-k3s-tiers", "mcp.spec"),
        ("ml-training", "cache.spec"),
        ("sovereign-box", "services.spec"),
    ] {
        let folder = workspace.join("examples").join(example);
        assert!(folder.join("spec.toml").is_file(), "examples/{example}/spec.toml");
        assert!(folder.join(file).is_file(), "examples/{example}/{file}");
        let namespace = spec_lsp::folder::Namespace::of(&folder.join(file), std::slice::from_ref(&workspace));
        assert_eq!(namespace.root, folder);
        assert_eq!(namespace.only, None);
    }
}

fn git(repo: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=spec tests", "-c", "user.email=tests@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
}

#[test]
fn diff_against_a_revision_from_a_subfolder_compares_the_marked_estate() {
    let repo = scratch("diff");
    let root = repo.join("infra");
    split_estate(&root);
    write(&root.join("main.spec"), "node edge {\n  os      = nixos\n  address = 10.0.0.2\n}\n");
    write(&root.join("spec.toml"), "");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    // A change in a file of another subfolder than the one `spec diff` runs in.
    let node = std::fs::read_to_string(root.join("nodes/prod1.spec")).expect("read");
    write(&root.join("nodes/prod1.spec"), &node.replace("10.0.0.1", "10.0.0.9"));
    let diff = spec_in(&root.join("services"), &["diff", "HEAD", "--stat"]);
    assert_eq!(diff.status.code(), Some(1), "{}{}", stdout(&diff), stderr(&diff));
    assert!(stdout(&diff).contains("node prod1: address"), "{}", stdout(&diff));
}
