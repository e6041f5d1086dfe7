//! End-to-end tests of the `spec` binary: exit codes, output formats, and hostile input, which must
//! always end in a clear diagnostic and never in a panic, a hang or a stack overflow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{scratch, spec_in, workspace};

fn spec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spec")).args(args).env("NO_COLOR", "1").output().expect("spec runs")
}

fn write(path: &Path, contents: &[u8]) {
    std::fs::File::create(path).and_then(|mut f| f.write_all(contents)).expect("write scratch file");
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn check_json(path: &Path) -> (i32, serde_json::Value) {
    let output = spec(&["check", "--format", "json", path.to_str().expect("utf-8 path")]);
    (output.status.code().unwrap_or(-1), json(&output))
}

#[test]
fn the_tour_checks_clean_in_every_environment() {
    let tour = workspace().join("examples/tour");
    for args in [vec!["check"], vec!["check", "--env", "all", "--deny", "warnings"]] {
        let mut args: Vec<&str> = args;
        let path = tour.to_str().expect("utf-8 path");
        args.push(path);
        args.extend(["--format", "json"]);
        let output = spec(&args);
        let report = json(&output);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {report}");
        assert_eq!(report["errors"], 0);
        assert_eq!(report["warnings"], 0);
    }
}

#[test]
fn the_shared_tour_is_identical_to_the_project_copy_when_present() {
    let shared = workspace().join("../shared/design/tour.spec");
    let Ok(shared_text) = std::fs::read_to_string(&shared) else {
        eprintln!("SKIPPED: {} is not beside the checkout", shared.display());
        return;
    };
    let (code, report) = check_json(&shared);
    assert_eq!(code, 0, "{report}");
    let copy = std::fs::read_to_string(workspace().join("examples/tour/main.spec")).expect("project copy");
    assert_eq!(shared_text, copy, "examples/tour/main.spec has drifted from the shared tour");
}

#[test]
fn json_output_has_the_documented_shape() {
    let dir = scratch("json_shape");
    write(&dir.join("main.spec"), b"node prod1 {\n  os = nixos\n  cpu = \"many\"\n}\n");
    let output = spec_in(&dir, &["check", "--format", "json"]);
    let (code, report) = (output.status.code().unwrap_or(-1), json(&output));
    assert_eq!(code, 1);
    assert_eq!(report["errors"], 1);
    assert_eq!(report["warnings"], 0);
    let d = &report["diagnostics"][0];
    assert_eq!(d["code"], "E0301");
    assert_eq!(d["slug"], "type-mismatch");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "main.spec");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(3), Some(9)));
    assert_eq!((d["end_line"].as_u64(), d["end_column"].as_u64()), (Some(3), Some(15)));
    assert!(d["message"].as_str().is_some_and(|m| m.contains("expected a cpu amount for `cpu`")), "{d}");
    assert!(d["help"].is_string());
    assert_eq!(d["labels"][0]["line"], 3);
}

#[test]
fn github_format_prints_workflow_annotations() {
    let dir = scratch("github_format");
    write(&dir.join("main.spec"), b"node prod1 {\n  os = nixos\n  cpu = \"many\"\n}\n");
    let output = spec_in(&dir, &["check", "--format", "github", "."]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        stdout.starts_with(
            "::error file=main.spec,line=3,col=9,endLine=3,endColumn=15,title=E0301::expected a cpu amount"
        ),
        "{stdout}"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = scratch("deny_warnings");
    write(&dir.join("main.spec"), b"# nothing here yet\n");
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (0, vec!["W0001".to_string()]));
    let output = spec(&["check", "--deny", "warnings", dir.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_with_two() {
    assert_eq!(spec(&["check", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(spec(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(spec(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn explain_accepts_codes_and_slugs() {
    for key in ["E0301", "type-mismatch", "e0301"] {
        let output = spec(&["explain", key]);
        assert_eq!(output.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("# E0301: type-mismatch"));
    }
}

#[test]
fn schema_describes_every_kind() {
    let output = spec(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("schema is JSON");
    for kind in ["nodes", "networks", "clusters", "storage", "services", "alerts", "backups", "workflows", "secrets"] {
        assert!(schema["properties"][kind].is_object(), "no `{kind}` in the model schema");
    }
    assert!(schema["$defs"]["ServiceResource"]["properties"]["replicas"]["description"].is_string());
}

#[test]
fn an_empty_file_is_a_warning() {
    let dir = scratch("empty_file");
    write(&dir.join("main.spec"), b"");
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (0, vec!["W0001".to_string()]));
}

#[test]
fn a_directory_without_spec_files_is_an_error() {
    let dir = scratch("no_spec_files");
    write(&dir.join("notes.txt"), b"not a spec\n");
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0002".to_string()]));
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = scratch("missing_path");
    let (code, report) = check_json(&dir.join("nowhere.spec"));
    assert_eq!((code, codes(&report)), (1, vec!["E0004".to_string()]));
}

#[test]
fn a_file_over_the_size_limit_is_refused_unread() {
    let dir = scratch("huge_file");
    let file = std::fs::File::create(dir.join("huge.spec")).expect("create");
    // Sparse: the loader must refuse it from its size alone.
    file.set_len(257 << 20).expect("set_len");
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0003".to_string()]));
}

#[test]
fn random_bytes_are_not_utf8() {
    let dir = scratch("random_bytes");
    // A fixed xorshift stream: 1 MB of bytes that are not UTF-8, the same on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..1_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    write(&dir.join("noise.spec"), &bytes);
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0001".to_string()]));
}

#[test]
fn invalid_utf8_points_at_the_first_bad_byte() {
    let dir = scratch("invalid_utf8");
    write(&dir.join("main.spec"), b"node prod1 {\n  os = nixos # caf\xe9\n}\n");
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0001".to_string()]));
    let d = &report["diagnostics"][0];
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(2), Some(19)));
}

#[test]
fn a_list_nested_100000_deep_is_refused_without_overflowing_the_stack() {
    let dir = scratch("deep_nesting");
    let mut text = String::from("let deep = ");
    text.push_str(&"[".repeat(100_000));
    text.push_str(&"]".repeat(100_000));
    text.push('\n');
    write(&dir.join("main.spec"), text.as_bytes());
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0105".to_string()]));
}

#[test]
fn lets_substituted_into_each_other_7500_deep_are_refused_without_overflowing_the_stack() {
    // Each `let` nests 120 levels, within the parser's limit; the chain nests their sum, and its
    // value used to overflow the stack when it was evaluated or copied.
    // Lists, maps of maps, and records written as `field { … }` bodies.
    let shapes: [fn(&str) -> String; 3] = [
        |inner| format!("{}{inner}{}", "[".repeat(120), "]".repeat(120)),
        |inner| format!("{}{inner}{}", "{ a = ".repeat(120), " }".repeat(120)),
        |inner| format!("{{ {}v = {inner} {}}}", "a { ".repeat(119), "} ".repeat(119)),
    ];
    for (index, shape) in shapes.iter().enumerate() {
        let dir = scratch("deep_lets");
        let mut text = String::from("let l0 = 1\n");
        for i in 1..64 {
            text.push_str(&format!("let l{i} = {}\n", shape(&format!("l{}", i - 1))));
        }
        text.push_str("node n1 { os = nixos }\nservice s { on = node.n1, image = \"x\", args = l63 }\n");
        write(&dir.join("main.spec"), text.as_bytes());
        let (code, report) = check_json(&dir);
        assert_eq!((code, codes(&report)), (1, vec!["E0105".to_string()]), "shape {index}");
    }
}

#[test]
fn a_50_mb_string_literal_is_refused() {
    let dir = scratch("huge_string");
    let mut text = String::from("let blob = \"");
    text.push_str(&"x".repeat(50 << 20));
    text.push_str("\"\n");
    write(&dir.join("main.spec"), text.as_bytes());
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0106".to_string()]));
}

#[test]
fn an_estate_expanding_past_a_million_resources_is_refused() {
    let dir = scratch("too_many_resources");
    let text = "for i in 1..=1001 {\n  for j in 1..=1000 {\n    secret \"s-${i}-${j}\" { }\n  }\n}\n";
    write(&dir.join("main.spec"), text.as_bytes());
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0404".to_string()]));
}

#[test]
fn nested_loops_of_ten_billion_iterations_stop_at_the_step_budget() {
    let dir = scratch("nested_loops");
    let text = "for i in 1..=100000 {\n  for j in 1..=100000 {\n    let product = i * j\n  }\n}\n";
    write(&dir.join("main.spec"), text.as_bytes());
    let started = std::time::Instant::now();
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0407".to_string()]));
    // A debug build takes a few seconds; ten billion iterations would take hours.
    assert!(started.elapsed().as_secs() < 120, "took {:?}", started.elapsed());
}

#[test]
fn a_list_literal_of_100001_items_is_refused() {
    let dir = scratch("long_list");
    let text = format!("let ports = [{}]\n", vec!["1"; 100_001].join(", "));
    write(&dir.join("main.spec"), text.as_bytes());
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E0401".to_string()]));
}

#[test]
fn a_generated_100000_service_estate_in_one_file_checks() {
    let dir = scratch("large_estate");
    let text = spec_testkit::generate_estate(100_000);
    assert!(text.len() > 40 << 20, "the estate is about 50 MB ({} bytes)", text.len());
    write(&dir.join("estate.spec"), text.as_bytes());
    let (code, report) = check_json(&dir);
    assert_eq!(code, 0, "{}", report["diagnostics"][0]);
    assert_eq!(report["errors"], 0);
}

#[test]
fn allow_silences_a_warning_but_never_an_error() {
    let dir = scratch("allow_warning");
    write(
        &dir.join("main.spec"),
        b"node prod1 {\n  os = nixos\n  zpool tank { layout = mirror, disks = [\"/dev/sda\", \"/dev/sdb\"] }\n}\nstorage data { on = node.prod1, zfs { pool = \"tank\", dataset = \"data\" } }\n",
    );
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (0, vec!["W0603".to_string()]));
    for allow in ["W0603", "state-without-backup"] {
        let output = spec(&["check", "--format", "json", "--allow", allow, dir.to_str().expect("utf-8 path")]);
        assert_eq!(output.status.code(), Some(0));
        assert!(codes(&json(&output)).is_empty(), "--allow {allow}");
    }
    let refused = spec(&["check", "--allow", "E0301", dir.to_str().expect("utf-8 path")]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("errors cannot be silenced"));
    assert_eq!(spec(&["check", "--allow", "W9999", dir.to_str().expect("utf-8 path")]).status.code(), Some(2));
}

#[test]
fn graph_prints_every_reference_in_a_stable_order() {
    let tour = workspace().join("examples/tour");
    let path = tour.to_str().expect("utf-8 path");
    let dot = spec(&["graph", path]);
    assert_eq!(dot.status.code(), Some(0));
    let dot = String::from_utf8(dot.stdout).expect("utf-8");
    assert!(dot.starts_with("digraph estate {"));
    assert_eq!(dot, String::from_utf8(spec(&["graph", path]).stdout).expect("utf-8"), "graph output is not stable");
    let graph: serde_json::Value =
        serde_json::from_slice(&spec(&["graph", "--format", "json", path]).stdout).expect("JSON");
    let vertices = graph["vertices"].as_array().expect("vertices");
    let id = |kind: &str, name: &str| {
        vertices.iter().find(|v| v["kind"] == kind && v["name"] == name).and_then(|v| v["id"].as_u64()).expect("vertex")
    };
    let edges = graph["edges"].as_array().expect("edges");
    let has =
        |from: u64, to: u64, kind: &str| edges.iter().any(|e| e["from"] == from && e["to"] == to && e["kind"] == kind);
    assert!(has(id("service", "temporal"), id("service", "db"), "needs"));
    assert!(has(id("service", "temporal"), id("cluster", "main"), "placement"));
    assert!(has(id("backup", "ipfs"), id("storage", "ipfs-data"), "backup-source"));
    assert!(has(id("network", "mesh"), id("node", "gpu1"), "membership"));
    assert!(has(id("node", "prod1"), id("secret", "wg-prod1"), "secret-use"));
    assert!(vertices.iter().any(|v| v["kind"] == "step"));
}

#[test]
fn graph_refuses_an_estate_with_errors() {
    let dir = scratch("graph_errors");
    write(&dir.join("main.spec"), b"service web { on = node.missing, image = \"nginx\" }\n");
    let output = spec(&["graph", dir.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
}

/// A copy of the tour in a fresh folder.
/// The tour's `main.spec` alone, without its `env` block: these tests are about how a build
/// writes files, and an estate with environments writes only the nodes each one uses (the
/// workers here carry nothing until the tour's other files place things on them).
fn tour_main() -> String {
    let text = std::fs::read_to_string(workspace().join("examples/tour/main.spec")).expect("read the tour");
    let start = text.find("\nenv staging {").expect("the tour's environment");
    let end = start + text[start..].find("\n}\n").expect("its end") + 3;
    format!("{}{}", &text[..start + 1], &text[end..])
}

fn tour_copy(name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("main.spec"), tour_main()).expect("copy the tour");
    dir
}

fn build(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["build", dir.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    spec(&args)
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
                files.push((relative, std::fs::read(&path).expect("read")));
            }
        }
    }
    files.sort();
    files
}

/// The estate given as its folder or as its file, by an absolute path: the output is the same, byte
/// for byte, and names no absolute path (generated files name their sources relative to the
/// estate's folder).
#[test]
fn build_output_does_not_depend_on_how_the_estate_is_named() {
    let dir = tour_copy("build_named");
    let file = dir.join("main.spec");
    let (by_folder, by_file) = (dir.join("by-folder"), dir.join("by-file"));
    let outputs = [(dir.as_path(), &by_folder), (file.as_path(), &by_file)];
    for (estate, out) in outputs {
        let output = spec(&["build", estate.to_str().expect("utf-8"), "--out", out.to_str().expect("utf-8")]);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let text = |out: &Path| -> Vec<(String, String)> {
        tree(out).into_iter().map(|(path, bytes)| (path, String::from_utf8_lossy(&bytes).into_owned())).collect()
    };
    let (files, same_by_file) = (text(&by_folder), text(&by_file));
    assert!(files.len() > 20, "the tour builds to many files: {}", files.len());
    assert_eq!(files.len(), same_by_file.len());
    let absolute = dir.to_str().expect("utf-8");
    for ((path, contents), (_, other)) in files.iter().zip(&same_by_file) {
        assert!(contents == other, "{path} differs:\n{contents}\n---\n{other}");
        assert!(!contents.contains(absolute), "{path} names {absolute}");
    }
}

#[test]
fn build_writes_the_nixos_modules_and_a_manifest() {
    let dir = tour_copy("build_writes");
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let out = dir.join("out");
    for node in ["prod1", "worker-1", "worker-2", "worker-3"] {
        let module = std::fs::read_to_string(out.join(format!("nixos/{node}/default.nix"))).expect("module");
        assert!(module.starts_with("# Generated by spec from main.spec."), "{module}");
        assert!(module.contains(&format!("networking.hostName = \"{node}\";")));
    }
    assert!(!out.join("nixos/gpu1").exists(), "gpu1 is not a NixOS node");
    let netdev =
        std::fs::read_to_string(out.join("systemd/gpu1/mesh.netdev")).expect("gpu1 joins the mesh with networkd");
    assert!(netdev.contains("Kind=wireguard") && netdev.contains("Endpoint=192.0.2.10:51820"), "{netdev}");
    let releases = std::fs::read_to_string(out.join("helm/main/releases.yaml")).expect("the cluster's releases");
    assert!(releases.contains("kind: \"HelmRelease\"") && releases.contains("name: \"temporal\""), "{releases}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(".spec-manifest.json")).expect("manifest"))
            .expect("JSON");
    let entry = &manifest["files"]["nixos/prod1/default.nix"];
    assert!(entry["sha256"].as_str().is_some_and(|h| h.len() == 64), "{entry}");
    assert!(entry["sources"].as_array().is_some_and(|s| s.iter().any(|l| l == "main.spec:20")), "{entry}");
    // The summary counts exactly the files the manifest lists, every one of them on disk.
    let listed = manifest["files"].as_object().expect("files");
    assert!(listed.keys().all(|path| out.join(path).is_file()), "{listed:?}");
    let summary = format!("wrote {} files", listed.len());
    assert!(String::from_utf8_lossy(&output.stderr).contains(&summary), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_failed_build_writes_nothing_and_deletes_nothing() {
    let dir = tour_copy("build_failure");
    assert_eq!(build(&dir, &[]).status.code(), Some(0));
    let before = tree(&dir.join("out"));
    let mut text = std::fs::read_to_string(dir.join("main.spec")).expect("read");
    text.push_str("\nservice broken { on = node.nowhere, image = \"x\" }\n");
    std::fs::write(dir.join("main.spec"), text).expect("write");
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing was written"));
    assert_eq!(tree(&dir.join("out")), before);
    assert!(!dir.join("out/.spec-staging").exists());
}

#[test]
fn stale_files_are_removed_and_foreign_files_kept() {
    let dir = tour_copy("build_stale");
    assert_eq!(build(&dir, &[]).status.code(), Some(0));
    std::fs::write(dir.join("out/nixos/notes.txt"), "mine\n").expect("foreign file");
    let text =
        std::fs::read_to_string(dir.join("main.spec")).expect("read").replace("for i in 1..=3 {", "for i in 1..=2 {");
    std::fs::write(dir.join("main.spec"), text).expect("write");
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(!dir.join("out/nixos/worker-3").exists(), "the stale module and its folder are removed");
    assert!(dir.join("out/nixos/worker-2/default.nix").exists());
    assert_eq!(std::fs::read_to_string(dir.join("out/nixos/notes.txt")).expect("kept"), "mine\n");
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 removed"));
}

#[test]
fn check_lists_missing_changed_and_stale_files() {
    let dir = tour_copy("build_check");
    assert_eq!(build(&dir, &[]).status.code(), Some(0));
    assert_eq!(build(&dir, &["--check"]).status.code(), Some(0));
    let out = dir.join("out");
    std::fs::remove_file(out.join("nixos/worker-1/default.nix")).expect("remove");
    std::fs::write(out.join("nixos/prod1/default.nix"), "edited by hand\n").expect("edit");
    let text =
        std::fs::read_to_string(dir.join("main.spec")).expect("read").replace("for i in 1..=3 {", "for i in 1..=2 {");
    std::fs::write(dir.join("main.spec"), text).expect("write");
    let before = tree(&out);
    let output = build(&dir, &["--check"]);
    assert_eq!(output.status.code(), Some(1));
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(listed.contains("missing: nixos/worker-1/default.nix"), "{listed}");
    assert!(listed.contains("changed: nixos/prod1/default.nix"), "{listed}");
    assert!(listed.contains("stale: nixos/worker-3/default.nix"), "{listed}");
    assert_eq!(tree(&out), before, "--check writes nothing");
}

#[test]
fn builds_are_byte_identical_across_folders_and_environments() {
    let first = tour_copy("build_identical_a");
    let second = tour_copy("build_identical_b");
    assert_eq!(build(&first, &[]).status.code(), Some(0));
    let output = Command::new(env!("CARGO_BIN_EXE_spec"))
        .args(["build", "."])
        .current_dir(&second)
        .env("HOME", "/nonexistent")
        .env("TZ", "Pacific/Kiritimati")
        .env("LANG", "C")
        .output()
        .expect("spec runs");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(tree(&first.join("out")), tree(&second.join("out")));
}

#[test]
fn a_relative_output_folder_that_does_not_exist_yet_gets_relative_paths() {
    // `--out NAME` (a bare name, not yet created) once resolved to the empty path and leaked the
    // estate's absolute path into the secret file paths.
    let dir = tour_copy("build_relative_out");
    let estate = std::fs::canonicalize(&dir).expect("canonical scratch dir");
    let run = |out: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_spec"))
            .args(["build", estate.to_str().expect("utf-8 path"), "--out", out])
            .current_dir(&dir)
            .output()
            .expect("spec runs");
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    };
    run("fresh");
    std::fs::create_dir_all(dir.join("existing")).expect("create the output folder");
    run("existing");
    let fresh = tree(&dir.join("fresh"));
    assert!(fresh.iter().all(|(_, bytes)| !String::from_utf8_lossy(bytes).contains(estate.to_str().expect("utf-8"))));
    assert_eq!(fresh, tree(&dir.join("existing")));
}

#[test]
fn build_refuses_to_write_through_a_symlink() {
    let dir = tour_copy("build_symlink");
    let elsewhere = scratch("build_symlink_target");
    std::os::unix::fs::symlink(&elsewhere, dir.join("out")).expect("symlink");
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("symlink"));
    assert!(std::fs::read_dir(&elsewhere).expect("read").next().is_none(), "nothing written through the link");
}

#[test]
fn build_refuses_a_symlink_inside_the_output_folder() {
    let dir = tour_copy("build_inner_symlink");
    assert_eq!(build(&dir, &[]).status.code(), Some(0));
    let elsewhere = scratch("build_inner_symlink_target");
    std::fs::remove_dir_all(dir.join("out/nixos")).expect("remove");
    std::os::unix::fs::symlink(&elsewhere, dir.join("out/nixos")).expect("symlink");
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("symlink"));
    assert!(std::fs::read_dir(&elsewhere).expect("read").next().is_none(), "nothing written through the link");
}

#[test]
fn build_refuses_a_path_differing_only_by_case_from_an_existing_entry() {
    let dir = tour_copy("build_case_clash");
    // On a case-insensitive file system, `nixos/` would be this folder, holding foreign files.
    std::fs::create_dir_all(dir.join("out/NixOS")).expect("mkdir");
    std::fs::write(dir.join("out/NixOS/keep.txt"), "mine\n").expect("foreign file");
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("differs only by case") && stderr.contains("NixOS"), "{stderr}");
    assert_eq!(tree(&dir.join("out")), vec![("NixOS/keep.txt".to_string(), b"mine\n".to_vec())]);
}

#[test]
fn names_that_would_climb_out_of_the_output_folder_are_refused_as_names() {
    let dir = scratch("climbing_names");
    write(
        &dir.join("main.spec"),
        b"node \"../../etc\" { os = nixos }\nnode \"/root\" { os = ubuntu }\nnode \"a\\\\b\" { os = nixos }\n",
    );
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    let (_, report) = check_json(&dir);
    assert_eq!(codes(&report), vec!["E0203"; 3]);
    assert!(!dir.join("out").exists());
}

#[test]
fn build_never_writes_outside_the_output_folder() {
    let dir = tour_copy("build_confined");
    let before = tree(&dir);
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let after: Vec<_> = tree(&dir).into_iter().filter(|(path, _)| !path.starts_with("out/")).collect();
    assert_eq!(after, before, "only out/ changed");
}

#[test]
fn a_tampered_manifest_cannot_make_build_delete_outside_the_output_folder() {
    let dir = tour_copy("build_tampered_manifest");
    assert_eq!(build(&dir, &[]).status.code(), Some(0));
    std::fs::write(dir.join("victim.txt"), "precious\n").expect("victim");
    std::fs::write(dir.join("out/victim.txt"), "precious\n").expect("victim inside");
    let manifest = r#"{"generator":"spec","files":{"../victim.txt":{},"/etc/hostname":{},"./victim.txt":{}}}"#;
    std::fs::write(dir.join("out/.spec-manifest.json"), manifest).expect("tamper");
    let output = build(&dir, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("victim.txt")).expect("kept"), "precious\n");
    assert_eq!(std::fs::read_to_string(dir.join("out/victim.txt")).expect("kept"), "precious\n");
}

#[test]
fn check_reports_what_the_back_ends_would_refuse() {
    let dir = scratch("check_runs_targets");
    write(
        &dir.join("main.spec"),
        b"import std.postgres\nnode prod1 { os = nixos }\nservice a { use std.postgres\n on = node.prod1 }\nservice b { use std.postgres { port = 5433, exporter_port = 9188 }\n on = node.prod1 }\n",
    );
    let (code, report) = check_json(&dir);
    assert_eq!((code, codes(&report)), (1, vec!["E1101".to_string()]));
}

#[test]
fn init_writes_an_estate_that_builds_without_warnings() {
    let dir = scratch("init").join("estate");
    let init = spec(&["init", dir.to_str().expect("utf-8 path")]);
    assert_eq!(init.status.code(), Some(0), "{}", String::from_utf8_lossy(&init.stderr));
    let built = spec(&["build", dir.to_str().expect("utf-8 path"), "--deny", "warnings"]);
    assert_eq!(built.status.code(), Some(0), "{}", String::from_utf8_lossy(&built.stderr));
    assert!(dir.join("out/nixos/web1/default.nix").exists());
    let again = spec(&["init", dir.to_str().expect("utf-8 path")]);
    assert_eq!(again.status.code(), Some(1), "init never overwrites");
}

#[test]
fn diff_says_what_changed_in_words_and_files() {
    let tour = tour_main();
    let pairs: [(&str, String); 4] = [
        ("a field changes", tour.replace("replicas = 2", "replicas = 1")),
        (
            "a backup gets slower",
            tour.replace("every = 15m", "every = 30m").replace("rpo       = 15m", "rpo       = 30m"),
        ),
        ("an alert is added", format!("{tour}\nalert db-down {{ severity = critical, expr = \"pg_up == 0\" }}\n")),
        ("a node is removed", tour.replace("for i in 1..=3 {", "for i in 1..=2 {")),
    ];
    let old = scratch("diff_old");
    write(&old.join("main.spec"), tour.as_bytes());
    let mut all = String::new();
    for (index, (title, text)) in pairs.iter().enumerate() {
        let new = scratch(&format!("diff_new_{index}"));
        write(&new.join("main.spec"), text.as_bytes());
        for format in ["text", "markdown"] {
            let output = spec(&[
                "diff",
                old.to_str().expect("utf-8"),
                new.to_str().expect("utf-8"),
                "--stat",
                "--format",
                format,
            ]);
            // 1: something changed (`tests/diff.rs` holds the exit codes and the full form).
            assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
            all.push_str(&format!("----- {title} ({format})\n{}", String::from_utf8_lossy(&output.stdout)));
        }
    }
    let same = spec(&["diff", old.to_str().expect("utf-8"), old.to_str().expect("utf-8")]);
    assert_eq!(String::from_utf8_lossy(&same.stdout), "no change\n");
    assert_eq!(same.status.code(), Some(0));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace().join("snapshots/cli"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("diff", all));
}

#[test]
fn fmt_checks_rewrites_and_refuses_broken_files() {
    let dir = scratch("fmt");
    write(&dir.join("main.spec"), b"node prod1 {\nos = nixos   # the os\n}\n\n\n");
    let check = spec_in(&dir, &["fmt", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&check.stdout), "main.spec\n");
    assert_eq!(spec(&["fmt", dir.to_str().expect("utf-8")]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("main.spec")).expect("read"),
        "node prod1 {\n  os = nixos  # the os\n}\n"
    );
    assert_eq!(spec(&["fmt", "--check", dir.to_str().expect("utf-8")]).status.code(), Some(0));
    write(&dir.join("broken.spec"), b"service web {\n   image = \"x\"\n");
    let refused = spec(&["fmt", dir.to_str().expect("utf-8")]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(dir.join("broken.spec")).expect("read"), "service web {\n   image = \"x\"\n");
}

/// A service's dashboards go into one ConfigMap on a cluster, which the API server refuses over
/// 1 MiB: more than that is E1216, not an object Flux cannot apply. A case in `specs/` would need
/// a megabyte-sized file in the repository, so the file is made here.
#[test]
fn dashboards_over_what_a_config_map_holds_are_refused() {
    let dir = scratch("cli/dashboards-too-large");
    let estate = "node k1 { os = nixos }\ncluster main { distribution = k3s, servers = [node.k1] }\n\
        service web {\n  on = cluster.main\n  image = \"ghcr.io/acme/web:1.0\"\n  \
        dashboards = [\"big.json\", \"small.json\"]\n}\n";
    std::fs::write(dir.join("main.spec"), estate).expect("write");
    let big = format!("{{\"title\": \"Big\", \"description\": \"{}\"}}", "x".repeat(1_100_000));
    std::fs::write(dir.join("big.json"), big).expect("write");
    std::fs::write(dir.join("small.json"), "{\"title\": \"Small\"}").expect("write");
    let output = spec_in(&dir, &["build", "--out", "out"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("E1216") && stderr.contains("more than a ConfigMap takes"), "{stderr}");
    assert!(!dir.join("out").exists());
    // Under the limit, the same estate builds.
    std::fs::write(dir.join("big.json"), "{\"title\": \"Big\"}").expect("write");
    assert!(spec_in(&dir, &["build", "--out", "out"]).status.success());
}
