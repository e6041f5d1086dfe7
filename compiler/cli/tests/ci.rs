//! The CI script's fuzz step (`fuzz/run-short.sh`) on a machine without cargo-fuzz: under
//! `CI=true` it fails, loudly, so a CI run never passes without having fuzzed; elsewhere it says
//! SKIPPED and succeeds; `FUZZ_SECONDS=0` skips on purpose, saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A folder holding a `cargo` that has no `fuzz` subcommand and runs the real cargo otherwise.
fn cargo_without_fuzz() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cargo-without-fuzz");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let shim = dir.join("cargo");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nif [ \"$1\" = fuzz ]; then echo 'error: no such command: `fuzz`' >&2; exit 101; fi\nexec '{real}' \"$@\"\n"
        ),
    )
    .expect("write shim");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

fn run_short(ci: Option<&str>, seconds: Option<&str>) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/run-short.sh");
    let path = format!("{}:{}", cargo_without_fuzz().display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new("bash");
    command.arg(script).env("PATH", path).env_remove("CI").env_remove("FUZZ_SECONDS");
    if let Some(ci) = ci {
        command.env("CI", ci);
    }
    if let Some(seconds) = seconds {
        command.env("FUZZ_SECONDS", seconds);
    }
    command.output().expect("bash runs")
}

#[test]
fn a_missing_fuzzer_fails_ci_and_is_skipped_loudly_elsewhere() {
    let in_ci = run_short(Some("true"), None);
    let said = String::from_utf8_lossy(&in_ci.stdout);
    assert_eq!(in_ci.status.code(), Some(1), "{said}");
    assert!(said.starts_with("FAILED   fuzzing: cargo-fuzz is not installed"), "{said}");

    let by_hand = run_short(None, None);
    let said = String::from_utf8_lossy(&by_hand.stdout);
    assert_eq!(by_hand.status.code(), Some(0), "{said}");
    assert!(said.starts_with("SKIPPED  fuzzing: cargo-fuzz is not installed"), "{said}");

    let on_purpose = run_short(Some("true"), Some("0"));
    assert_eq!(on_purpose.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&on_purpose.stdout), "SKIPPED  fuzzing: FUZZ_SECONDS=0\n");
}
