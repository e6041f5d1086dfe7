//! Every example under `examples/` checks clean under `--deny warnings`, in every environment it
//! declares, as its README promises, except for the warnings each example's README lists under
//! "not yet expressed" (a construct the language is still growing). That list is held here too,
//! exactly: a listed warning that no longer appears fails the test, so the list shrinks as the
//! language grows and never hides a new mistake.

use std::path::Path;

mod common;
use common::{spec_in, workspace};

/// The warnings an example is known to keep, by code and the name the message holds, with the
/// README's reason.
fn known(example: &str) -> Vec<(&'static str, &'static str)> {
    // None is left: the 3-2-1 warnings the cluster examples kept went with lists of offsite copies.
    let _ = example;
    vec![]
}

/// The environments the example's files declare (`env NAME {` at the start of a line).
fn environments(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("read example").map(|e| e.expect("entry").path()) {
            if entry.is_dir() {
                stack.push(entry);
            } else if entry.extension().is_some_and(|e| e == "spec") {
                let text = std::fs::read_to_string(&entry).expect("read spec");
                for line in text.lines() {
                    if let Some(rest) = line.strip_prefix("env ") {
                        found.push(rest.split_whitespace().next().expect("a name").to_string());
                    }
                }
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_example_checks_clean_in_every_environment() {
    let examples = workspace().join("examples");
    let mut checked = 0;
    let mut names: Vec<_> = std::fs::read_dir(&examples).expect("examples").map(|e| e.expect("entry").path()).collect();
    names.sort();
    for dir in names.into_iter().filter(|d| d.is_dir()) {
        let name = dir.file_name().expect("name").to_string_lossy().into_owned();
        let mut runs: Vec<Option<String>> = vec![None];
        runs.extend(environments(&dir).into_iter().map(Some));
        for env in runs {
            let mut args = vec!["check", ".", "--deny", "warnings", "--format", "json"];
            if let Some(env) = &env {
                args.extend(["--env", env.as_str()]);
            }
            let output = spec_in(&dir, &args);
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
            let found: Vec<(String, String)> = report["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .map(|d| {
                    (d["code"].as_str().unwrap_or("").to_string(), d["message"].as_str().unwrap_or("").to_string())
                })
                .collect();
            let known = known(&name);
            for (code, message) in &found {
                assert!(
                    known.iter().any(|(c, held)| c == code && message.contains(held)),
                    "{name} (env {env:?}): {code} {message}\n{report}"
                );
            }
            for (code, held) in &known {
                assert!(
                    found.iter().any(|(c, message)| c == code && message.contains(held)),
                    "{name} (env {env:?}): {code} about {held} is gone: drop it from this list and the README"
                );
            }
            assert_eq!(output.status.code(), Some(if known.is_empty() { 0 } else { 1 }), "{name}: {report}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} example runs were checked");
}
