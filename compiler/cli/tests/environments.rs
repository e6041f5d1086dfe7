//! `--env all` through the binary: every example checks and builds in the base estate and each
//! environment it declares, `spec build --env all` writes each into a folder of its own with the
//! files a build of that one environment writes (and which pass the shared validator), an
//! environment that moves a service from a node to a cluster re-derives its outputs, and a build
//! with a mistake in one environment writes nothing and deletes nothing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{scratch, spec_in, workspace, write_text};

/// Every file below `dir`, by its `/`-separated path inside it, with its text (the manifest aside).
fn files(dir: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name() != ".spec-manifest.json")
        .map(|e| {
            let path = e.path().strip_prefix(dir).expect("inside").to_string_lossy().replace('\\', "/");
            (path, std::fs::read_to_string(e.path()).expect("readable"))
        })
        .collect()
}

/// The environments an estate's files declare (`env NAME {` at a line's start), read from the
/// text so the test does not lean on the compiler's own list.
fn declared_environments(estate: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in walkdir::WalkDir::new(estate).sort_by_file_name().into_iter().filter_map(Result::ok) {
        if entry.path().extension().is_none_or(|e| e != "spec")
            || entry.path().components().any(|c| c.as_os_str() == "out")
        {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("readable");
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("env ")
                && let Some(name) = rest.split_whitespace().next()
            {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The examples: every folder of `examples/` holding a `.spec` file.
fn examples() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && std::fs::read_dir(p)
                    .is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "spec"))))
        })
        .collect();
    found.sort();
    found
}

/// Copies an estate's `.spec` files and `spec.toml` (not its output) to `to`, with a placeholder
/// for every encrypted file under `secrets/` it names, which the NixOS evaluation reads.
fn copy_estate(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name().into_iter().filter_map(Result::ok) {
        let inside = entry.path().strip_prefix(from).expect("inside");
        if inside.components().next().is_some_and(|c| c.as_os_str() == "out") || !entry.file_type().is_file() {
            continue;
        }
        if entry.path().extension().is_some_and(|e| e == "spec") || entry.file_name() == "spec.toml" {
            let text = std::fs::read_to_string(entry.path()).expect("readable");
            for named in text.split('"').skip(1).step_by(2).filter(|s| s.starts_with("secrets/") && !s.contains("${")) {
                write_text(&to.join(named), "encrypted placeholder\n");
            }
            write_text(&to.join(inside), &text);
        } else if entry.path().extension().is_some_and(|e| e == "json") {
            // The dashboards the estate names are its data files.
            write_text(&to.join(inside), &std::fs::read_to_string(entry.path()).expect("readable"));
        }
    }
}

/// The shared validator, when it is there.
fn validator() -> Option<PathBuf> {
    let script = workspace().join("../shared/validate/validate-out.sh");
    script.exists().then_some(script)
}

/// Runs the shared validator over one output folder; panics on a failure.
fn validate(script: &Path, dir: &Path, what: &str) {
    let mut command = Command::new("bash");
    command.arg(script).arg(dir);
    let helm = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/spec-validate/bin/helm"));
    if let Some(helm) = helm.filter(|h| h.exists()) {
        command.env("HELM_BIN", helm).env("HELM_CHARTS_DIR", workspace().join("../shared/charts"));
    }
    let output = command.output().expect("the validator runs");
    let report = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(failed.is_empty() && output.status.success(), "{what}:\n{}", failed.join("\n"));
}

#[test]
fn every_example_checks_and_builds_in_every_environment() {
    let validator = validator();
    if validator.is_none() {
        eprintln!("SKIPPED: ../shared/validate/validate-out.sh is absent; the environments' output was not validated");
    }
    let examples = examples();
    assert!(!examples.is_empty(), "no example found in examples/");
    for example in examples {
        let name = example.file_name().expect("named").to_string_lossy().into_owned();
        let root = scratch(&format!("env-all/{name}"));
        let copy = root.join("estate");
        copy_estate(&example, &copy);
        let estate = "estate".to_string();
        let check = spec_in(&root, &["check", "--env", "all", &estate]);
        assert!(check.status.success(), "{name}: spec check --env all:\n{}", String::from_utf8_lossy(&check.stderr));
        let every = root.join("every");
        let built = spec_in(&root, &["build", "--env", "all", &estate, "--out", &every.to_string_lossy()]);
        assert!(built.status.success(), "{name}: spec build --env all:\n{}", String::from_utf8_lossy(&built.stderr));
        let mut runs = vec![("base".to_string(), None)];
        runs.extend(declared_environments(&example).into_iter().map(|env| (env.clone(), Some(env))));
        let folders: Vec<String> = std::fs::read_dir(&every)
            .expect("output")
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        for (folder, env) in &runs {
            assert!(folders.contains(folder), "{name}: no `{folder}/` in {folders:?}");
            // The environment's folder holds what building that environment alone writes.
            let alone = root.join(format!("alone-{folder}"));
            // As deep as `every/<folder>`, so the paths back to the estate are the same.
            let alone_dir = alone.join(folder);
            let mut args = vec!["build", &estate, "--out"];
            let out = alone_dir.to_string_lossy().into_owned();
            args.push(&out);
            if let Some(env) = env {
                args.extend(["--env", env]);
            }
            let single = spec_in(&root, &args);
            assert!(
                single.status.success(),
                "{name}: spec build {env:?}:\n{}",
                String::from_utf8_lossy(&single.stderr)
            );
            assert_eq!(
                files(&every.join(folder)),
                files(&alone_dir),
                "{name}: `--env all`'s `{folder}/` differs from building it alone"
            );
            if let Some(script) = &validator {
                validate(script, &every.join(folder), &format!("{name} in `{folder}`"));
            }
        }
        assert_eq!(folders.len(), runs.len(), "{name}: folders {folders:?} for runs {runs:?}");
    }
}

/// An estate whose `prod` moves `api` from the node to the cluster, removes `shadow` and adds a
/// worker per loop iteration.
const SHAPES: &str = r#"node n1 { os = nixos, address = 10.0.0.1, cpu = 16, memory = 64GiB }
cluster main { distribution = k3s, servers = [node.n1], namespace = "estate" }

service api {
  on    = node.n1
  image = "example/api:2.1"
  args  = ["serve"]
}

service shadow {
  on    = node.n1
  image = "example/api:2.2"
  needs = [service.api]
}

env prod {
  remove service.shadow
  service.api.on    = cluster.main
  service.api.args += ["--verbose"]
  for i in 1..=2 {
    service "worker-${i}" { on = cluster.main, image = "example/worker:1.0", needs = [service.api] }
  }
}
"#;

#[test]
fn an_environment_that_moves_a_service_rederives_its_outputs() {
    let dir = scratch("env-all/shapes");
    write_text(&dir.join("main.spec"), SHAPES);
    let built = spec_in(&dir, &["build", "--env", "all", "."]);
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let read = |path: &str| std::fs::read_to_string(dir.join("out").join(path)).unwrap_or_default();
    let base_module = read("base/nixos/n1/default.nix");
    assert!(base_module.contains("containers.api.image") && base_module.contains("containers.shadow.image"));
    assert!(!dir.join("out/base/helm/main/api.values.yaml").exists());
    // In prod, api runs on the cluster (with the appended argument), not on the node; shadow is gone.
    let prod_module = read("prod/nixos/n1/default.nix");
    assert!(!prod_module.contains("containers.api.") && !prod_module.contains("shadow"), "{prod_module}");
    let values = read("prod/helm/main/api.values.yaml");
    assert!(values.contains("- \"serve\"\n") && values.contains("- \"--verbose\"\n"), "{values}");
    for worker in ["worker-1", "worker-2"] {
        assert!(dir.join(format!("out/prod/helm/main/{worker}.values.yaml")).exists());
    }
    if let Some(script) = validator() {
        validate(&script, &dir.join("out/prod"), "the moved service");
    }
}

#[test]
fn a_mistake_in_one_environment_fails_the_build_writing_and_deleting_nothing() {
    let dir = scratch("env-all/atomic");
    write_text(&dir.join("main.spec"), SHAPES);
    assert!(spec_in(&dir, &["build", "--env", "all", "."]).status.success());
    let before = files(&dir.join("out"));
    let manifest = std::fs::read(dir.join("out/.spec-manifest.json")).expect("manifest");
    // `prod` now refers to the block it removes; the base estate and `staging` are fine.
    let broken =
        SHAPES.replace("remove service.shadow", "remove service.api") + "\nenv staging {\n  service.api.args = []\n}\n";
    write_text(&dir.join("main.spec"), &broken);
    let failed = spec_in(&dir, &["build", "--env", "all", "."]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("E0223") && stderr.contains("in environment `prod`"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(files(&dir.join("out")), before, "a failed build changed the output");
    assert_eq!(std::fs::read(dir.join("out/.spec-manifest.json")).expect("manifest"), manifest);
    assert!(!dir.join("out/staging").exists());
}

#[test]
fn check_reports_a_mistake_of_every_environment_once_naming_them() {
    let dir = scratch("env-all/once");
    let estate = SHAPES
        .replace("image = \"example/api:2.1\"", "image = \"example/api:2.1\"\n  needs = [service.cache]")
        + "\nenv staging {\n  service.api.replicas = 1\n}\n";
    write_text(&dir.join("main.spec"), &estate);
    let output = spec_in(&dir, &["check", "--env", "all", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["environments"], serde_json::json!(["base", "prod", "staging"]));
    let diagnostics = json["diagnostics"].as_array().expect("a list of diagnostics");
    let unresolved: Vec<&serde_json::Value> = diagnostics.iter().filter(|d| d["code"] == "E0201").collect();
    assert_eq!(unresolved.len(), 1, "{diagnostics:#?}");
    let notes = unresolved[0]["notes"].to_string();
    assert!(notes.contains("in the base estate and every environment (`prod`, `staging`)"), "{notes}");
}

#[test]
fn an_environment_named_like_the_base_folder_is_refused_by_build() {
    let dir = scratch("env-all/base-name");
    write_text(
        &dir.join("main.spec"),
        "node n1 { os = nixos, address = 10.0.0.1 }\n\nenv base {\n  node.n1.cpu = 2\n}\n",
    );
    let output = spec_in(&dir, &["build", "--env", "all", "."]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("an environment is named `base`"));
    assert!(!dir.join("out").exists());
}

#[test]
fn graph_draws_each_environment() {
    let dir = scratch("env-all/graph");
    write_text(&dir.join("main.spec"), SHAPES);
    let output = spec_in(&dir, &["graph", "--env", "all", "--format", "json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let graphs: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let names = |env: &str| -> Vec<String> {
        let graph = graphs.as_array().expect("a list").iter().find(|g| g["environment"] == env).expect("the graph");
        graph["vertices"]
            .as_array()
            .expect("vertices")
            .iter()
            .map(|v| v["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert!(names("base").contains(&"shadow".to_string()) && !names("base").contains(&"worker-1".to_string()));
    assert!(!names("prod").contains(&"shadow".to_string()) && names("prod").contains(&"worker-1".to_string()));
    let dot = spec_in(&dir, &["graph", "--env", "all"]);
    let text = String::from_utf8_lossy(&dot.stdout);
    assert!(text.contains("digraph \"estate-base\" {") && text.contains("digraph \"estate-prod\" {"), "{text}");
}

#[test]
fn diff_compares_each_environment() {
    let dir = scratch("env-all/diff");
    write_text(&dir.join("old/main.spec"), SHAPES);
    write_text(&dir.join("new/main.spec"), &SHAPES.replace("for i in 1..=2 {", "for i in 1..=3 {"));
    let output = spec_in(&dir, &["diff", "old", "new", "--env", "all"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&output.stderr));
    let base = text.find("== the base estate ==\nno change\n").expect("the base estate is unchanged");
    let prod = text.find("== environment `prod` ==\n+ service worker-3").expect("prod gains a worker");
    assert!(base < prod, "{text}");
}
