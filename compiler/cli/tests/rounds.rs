//! One `spec check` reports every independent mistake: the graph rules run beside the errors of
//! the earlier stages, over the resources that passed their own checks, so nobody fixes mistakes
//! in rounds. The back ends still wait for an estate without errors.

use std::path::Path;
use std::process::Command;

fn codes(args: &[&str]) -> (Option<i32>, Vec<String>) {
    let output = Command::new(env!("CARGO_BIN_EXE_spec")).args(args).output().expect("spec runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let mut codes: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str().map(String::from))
        .collect();
    codes.sort_unstable();
    (output.status.code(), codes)
}

#[test]
fn five_mistakes_in_one_file_are_reported_by_one_check_and_one_build() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/graph/five_independent_mistakes_are_reported_in_one_check.spec");
    let case = case.to_str().expect("utf-8 path");
    let five = ["E0201", "E0301", "E0303", "E0606", "E0613"].map(String::from).to_vec();
    assert_eq!(codes(&["check", "--format", "json", case]), (Some(1), five.clone()));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rounds-out");
    let _ = std::fs::remove_dir_all(&out);
    let out = out.to_str().expect("utf-8 path");
    assert_eq!(codes(&["build", "--format", "json", case, "--out", out]), (Some(1), five));
    assert!(!Path::new(out).exists(), "the back ends wait for an estate without errors");
}
