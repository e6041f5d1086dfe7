//! Repository invariants checked by machine: every diagnostic code has an explain page and a case,
//! snapshots have their inputs, docs name what exists, and the core does no IO.

// Tests read the corpus from disk; the no-IO rule is for the core library itself.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use spec_compiler::diagnostics::Code;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files_under(dir: &Path, extension: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == extension))
        .map(|e| e.into_path())
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Codes a single `.spec` file cannot trigger (they come from reading files, or from a bug), each
/// with the test that covers it instead.
const COVERED_ELSEWHERE: &[(Code, &str)] = &[
    (Code::E0001, "random_bytes_are_not_utf8"),
    (Code::E0002, "a_directory_without_spec_files_is_an_error"),
    (Code::E0003, "a_file_over_the_size_limit_is_refused_unread"),
    (Code::E0004, "a_missing_path_is_an_error"),
    (Code::E0106, "a_50_mb_string_literal_is_refused"),
    (Code::E0404, "an_estate_expanding_past_a_million_resources_is_refused"),
    (Code::E1216, "dashboards_over_what_a_config_map_holds_are_refused"),
    (Code::E9001, "no test: it is emitted only when a checked value fails to deserialise, a bug"),
];

#[test]
fn every_code_has_an_explain_page_titled_with_its_code_and_slug() {
    for code in Code::ALL {
        let title = format!("# {}: {}", code.as_str(), code.slug());
        assert!(code.explain().starts_with(&title), "explain/{}.md must start with `{title}`", code.as_str());
    }
    let pages = files_under(&workspace().join("compiler/core/src/diagnostics/explain"), "md");
    assert_eq!(pages.len(), Code::ALL.len(), "an explain page without a code in the registry");
}

#[test]
fn every_code_has_a_case_in_specs() {
    let mut annotated = BTreeSet::new();
    for case in files_under(&workspace().join("specs"), "spec") {
        for line in read(&case).lines() {
            if let Some(annotation) = line.trim_start().strip_prefix("#~") {
                for word in annotation.split_whitespace() {
                    if word.len() == 5 && (word.starts_with('E') || word.starts_with('W')) {
                        annotated.insert(word.to_string());
                    }
                }
            }
        }
    }
    let cli_tests = read(&workspace().join("compiler/cli/tests/cli.rs"));
    let mut missing = Vec::new();
    for code in Code::ALL {
        match COVERED_ELSEWHERE.iter().find(|(c, _)| c == code) {
            Some((_, test)) if test.starts_with("no test") => {}
            Some((_, test)) => assert!(
                cli_tests.contains(&format!("fn {test}()")),
                "{} claims coverage by missing test `{test}`",
                code.as_str()
            ),
            None if !annotated.contains(code.as_str()) => missing.push(code.as_str()),
            None => {}
        }
    }
    assert!(missing.is_empty(), "codes without a case in specs/: {missing:?}");
}

#[test]
fn every_snapshot_has_its_input_and_none_is_pending() {
    let root = workspace();
    for snapshot in files_under(&root.join("snapshots/specs"), "snap") {
        let relative = snapshot.strip_prefix(root.join("snapshots/specs")).expect("under snapshots/specs");
        let case = root.join("specs").join(relative).with_extension("spec");
        assert!(case.exists(), "orphan snapshot {} (no {})", snapshot.display(), case.display());
    }
    // A back end's output snapshot is named after an example (`example@env` for one of its
    // environments), or after a case of that back end or of another whose estate it also builds
    // (a case placing members on NixOS and on Ubuntu hosts is both back ends' input).
    for snapshot in files_under(&root.join("snapshots/targets"), "snap") {
        let name = snapshot.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let example = name.split('@').next().unwrap_or_default();
        let target = snapshot.parent().and_then(|p| p.file_name()).map(|t| t.to_string_lossy().into_owned());
        let case = root.join("specs/targets").join(target.unwrap_or_default()).join(format!("{name}.spec"));
        let elsewhere = ["nixos", "systemd", "kubernetes", "prometheus"]
            .iter()
            .any(|other| root.join("specs/targets").join(other).join(format!("{name}.spec")).exists());
        assert!(
            root.join("examples").join(example).is_dir() || case.exists() || elsewhere,
            "orphan snapshot {} (no examples/{name}/ nor {})",
            snapshot.display(),
            case.display()
        );
    }
    for pending in ["new", "pending-snap"] {
        let found = files_under(&root.join("snapshots"), pending);
        assert!(found.is_empty(), "unreviewed snapshots: {found:?}");
    }
}

#[test]
fn architecture_names_every_crate_and_top_level_folder() {
    let root = workspace();
    let architecture = read(&root.join("ARCHITECTURE.md"));
    for folder in [
        "compiler/core",
        "compiler/cli",
        "compiler/testkit",
        "targets",
        "stdlib",
        "specs",
        "examples",
        "snapshots",
        "docs",
        "fuzz",
    ] {
        assert!(architecture.contains(&format!("`{folder}/`")), "ARCHITECTURE.md does not name `{folder}/`");
    }
    let manifest = read(&root.join("Cargo.toml"));
    for member in manifest.split("members = [").nth(1).and_then(|m| m.split(']').next()).unwrap_or("").split(',') {
        let member = member.trim().trim_matches('"');
        if !member.is_empty() {
            assert!(
                architecture.contains(&format!("`{member}/`")),
                "ARCHITECTURE.md does not name workspace member `{member}/`"
            );
        }
    }
}

#[test]
fn paths_named_in_the_docs_exist() {
    let root = workspace();
    let mut docs = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    docs.extend(files_under(&root.join("docs"), "md"));
    let tops = ["compiler/", "specs/", "stdlib/", "docs/", "snapshots/", "examples/", "targets/", ".ci/", "fuzz/"];
    for doc in docs {
        let text = read(&doc);
        for (index, piece) in text.split('`').enumerate() {
            let is_code = index % 2 == 1;
            let looks_like_path = tops.iter().any(|t| piece.starts_with(t))
                && !piece.contains(['<', '*', ' ', '{', '$'])
                && !piece.contains("...");
            if is_code && looks_like_path {
                assert!(root.join(piece).exists(), "{} names `{piece}`, which does not exist", doc.display());
            }
        }
    }
}

#[test]
fn the_core_does_no_io_and_sources_stay_small() {
    let root = workspace();
    for source in files_under(&root.join("compiler/core/src"), "rs") {
        let text = read(&source);
        for forbidden in ["std::fs", "std::env", "SystemTime", "Instant::now", "std::net::TcpStream"] {
            assert!(!text.contains(forbidden), "{} uses `{forbidden}`: the core does no IO", source.display());
        }
    }
    // The fuzz crate's sources, not its `target/` (which holds generated Rust).
    for crate_dir in ["compiler", "targets", "fuzz/src", "fuzz/fuzz_targets"] {
        for source in files_under(&root.join(crate_dir), "rs") {
            let lines = read(&source).lines().count();
            assert!(lines <= 1000, "{} has {lines} lines; split it by concept (limit 1000)", source.display());
            assert!(read(&source).starts_with("//!"), "{} does not open with a `//!` module comment", source.display());
        }
    }
}

#[test]
fn targets_see_only_the_checked_model() {
    for source in files_under(&workspace().join("targets"), "rs") {
        if source.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let text = read(&source);
        for stage in ["spec_compiler::syntax", "spec_compiler::eval", "spec_compiler::driver", "spec_compiler::graph"] {
            assert!(
                !text.contains(stage),
                "{} uses `{stage}`: targets read only `model`, `target` and `diagnostics`",
                source.display()
            );
        }
    }
}
