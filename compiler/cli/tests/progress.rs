//! Progress of long builds on stderr: `--progress always` prints each stage as it starts, `auto`
//! (the default) prints nothing unless stderr is a terminal and a second has passed, and output
//! files are byte-identical whatever is shown.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn spec_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spec")).args(args).current_dir(cwd).output().expect("spec runs")
}

fn estate(name: &str, services: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("main.spec"), spec_testkit::generate_estate(services)).expect("write");
    dir
}

/// Every file below `dir`, with its bytes, in path order.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("list").map(|e| e.expect("entry").path()) {
            if entry.is_dir() {
                stack.push(entry);
            } else {
                let bytes = std::fs::read(&entry).expect("read");
                files.push((entry.strip_prefix(dir).expect("inside").to_path_buf(), bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn progress_goes_to_stderr_only_and_changes_no_output() {
    let dir = estate("progress_always", 100);
    let shown = spec_in(&dir, &["build", ".", "--progress", "always", "--out", "with"]);
    assert_eq!(shown.status.code(), Some(0));
    assert!(shown.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&shown.stderr);
    let stages: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("spec: "))
        .map(|l| l.rsplit_once(" (").map_or(l, |(stage, _)| stage))
        .collect();
    assert_eq!(
        stages,
        [
            "reading files",
            "parsing",
            "evaluating",
            "checking every resource",
            "checking the graph and running the back ends",
            "finishing",
            "writing files"
        ],
        "{stderr}"
    );
    let quiet = spec_in(&dir, &["build", ".", "--out", "without"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("spec: "), "auto is silent when stderr is no terminal");
    assert_eq!(tree(&dir.join("with")), tree(&dir.join("without")));
    let check = spec_in(&dir, &["check", ".", "--progress", "always", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).expect("stdout is only the report");
    assert_eq!(report["errors"], 0);
    assert!(String::from_utf8_lossy(&check.stderr).starts_with("spec: reading files ("));
}

#[test]
fn on_a_terminal_a_build_over_a_second_shows_its_stage_and_clears_it() {
    // `script` gives the command a terminal and copies what it writes.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: `script` (util-linux) is not installed, so no terminal can be given");
        return;
    }
    let dir = estate("progress_terminal", 5_000);
    let command = format!("'{}' check . --color never", env!("CARGO_BIN_EXE_spec"));
    let started = std::time::Instant::now();
    let output = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .current_dir(&dir)
        .output()
        .expect("script runs");
    let elapsed = started.elapsed();
    let said = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{said}");
    if elapsed < std::time::Duration::from_millis(1500) {
        eprintln!("SKIPPED: the check took {elapsed:?}, too little to be sure the second has passed");
        return;
    }
    assert!(said.contains("\r\x1b[2Kspec: "), "a stage line after the first second: {said:?}");
    let summary = said.rsplit("\r\x1b[2K").next().unwrap_or_default();
    assert!(summary.trim_start().starts_with("checked 1 file"), "the line is cleared before the summary: {summary:?}");
}
