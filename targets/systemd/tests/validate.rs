//! The systemd output read by the real tools: every `.service` and `.timer` passes
//! `systemd-analyze verify` through the shared validator (`shared/validate/validate-out.sh`, which
//! fails on any printed problem: unknown keys or sections, unparsable settings), and every
//! `OnCalendar=` is accepted by `systemd-analyze calendar`. A missing tool makes the test print
//! SKIPPED. The tour's output is snapshotted.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_systemd::Systemd;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generate(path: &Path) -> Vec<(String, String)> {
    spec_testkit::generate(&Systemd, path)
}

fn estates() -> Vec<PathBuf> {
    vec![
        workspace().join("examples/tour/main.spec"),
        workspace().join("specs/targets/systemd/a_container_service_and_a_workflow_on_ubuntu_generate_cleanly.spec"),
    ]
}

#[test]
fn every_unit_passes_systemd_analyze_verify() {
    let validator = workspace().join("../shared/validate/validate-out.sh");
    let have = Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have || !validator.exists() {
        eprintln!("SKIPPED: needs systemd-analyze and {}; units were not verified", validator.display());
        return;
    }
    let mut verified = 0;
    for (index, estate) in estates().iter().enumerate() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("systemd-verify-{index}"));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, contents) in generate(estate) {
            let target = dir.join(path);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::write(target, contents).expect("write");
        }
        let output = Command::new("bash").arg(&validator).arg(&dir).output().expect("runs");
        let report = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(!report.lines().any(|l| l.starts_with("FAIL")), "{}: {report}", estate.display());
        verified += report.lines().filter(|l| l.starts_with("PASS systemd-verify")).count();
    }
    assert!(verified >= 5, "the estates hold services, steps, run units and a timer ({verified} verified)");
}

#[test]
fn every_calendar_is_accepted_by_systemd() {
    if !Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: systemd-analyze is not installed; OnCalendar= expressions were not checked");
        return;
    }
    let calendars: Vec<String> = estates()
        .iter()
        .flat_map(|e| generate(e))
        .flat_map(|(_, text)| {
            text.lines().filter_map(|l| l.strip_prefix("OnCalendar=").map(String::from)).collect::<Vec<_>>()
        })
        .collect();
    assert!(!calendars.is_empty());
    let output = Command::new("systemd-analyze").arg("calendar").args(&calendars).output().expect("runs");
    assert!(output.status.success(), "{calendars:?}: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn the_tour_output_matches_its_snapshot() {
    let mut all = String::new();
    for (path, contents) in generate(&workspace().join("examples/tour/main.spec")) {
        all.push_str(&format!("----- {path} -----\n{contents}"));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace().join("snapshots/targets/systemd"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("tour", all));
}
