//! restic pieces shared by the systemd back end and the NixOS one: which repositories log in with
//! keys of their own, and the restore test that `verify` becomes.
//!
//! A restore test (`verify = monthly`) is a unit of its own on its own timer, not an option of the
//! backup run: `restic check` (the repository's structure: index, packs, snapshots), then
//! `restic dump` of the newest snapshot of the backed-up path into `/dev/null`. `dump` reads,
//! decrypts and checks against its hash every blob of every file of that snapshot, exactly what a
//! restore reads, and so proves the newest copy can be brought back, with the password and the
//! credentials the host really has; it needs no free space for a second copy of a dataset that may
//! hold terabytes, which restoring into a temporary folder would. `check --read-data-subset`
//! proves less (a sample of the packs, not one whole snapshot) and says nothing of a restore.
//! On success the unit writes [`RESTORE_TEST_METRIC`] with the current time into
//! [`TEXTFILE_DIRECTORY`] for the node exporter's textfile collector; the Prometheus back end
//! alerts on its age.

use crate::escape::shell_word;
use spec_compiler::model::Cadence;

pub use spec_compiler::target::{RESTORE_TEST_METRIC, TEXTFILE_DIRECTORY};

/// The name of a repository kind that logs in with keys read from the environment
/// (`AWS_ACCESS_KEY_ID`, `B2_ACCOUNT_ID`, …), or `None` when the repository needs none (a local
/// folder, `sftp:` with the host's SSH key, `rest:`, `rclone:` with its own configuration).
pub fn credential_scheme(repository: &str) -> Option<&'static str> {
    const SCHEMES: [(&str, &str); 5] =
        [("s3:", "S3"), ("b2:", "B2"), ("azure:", "Azure"), ("gs:", "Google Cloud Storage"), ("swift:", "Swift")];
    SCHEMES.iter().find(|(prefix, _)| repository.starts_with(prefix)).map(|(_, name)| *name)
}

/// The unit (without suffix) that tests restoring a backup.
pub fn restore_test_unit(backup: &str) -> String {
    format!("restic-restore-test-{backup}")
}

/// `OnCalendar=` of a restore test.
pub fn cadence_calendar(cadence: Cadence) -> &'static str {
    match cadence {
        Cadence::Daily => "daily",
        Cadence::Weekly => "weekly",
        Cadence::Monthly => "monthly",
    }
}

/// `TimeoutStartSec=` of a restore test limited by an `rto` of `ms` milliseconds: whole seconds,
/// at least one.
pub fn timeout_seconds(ms: u64) -> String {
    format!("{}s", ms.div_ceil(1000).max(1))
}

/// The restore test proper, as POSIX shell lines with `restic` on the path and the repository,
/// password and credentials in the environment: `path` is the backed-up folder, `host` the name
/// restic recorded the snapshots under.
pub fn restore_test_script(path: &str, host: &str) -> String {
    let (path, host) = (shell_word(path), shell_word(host));
    format!("restic check\nrestic dump --host {host} --path {path} latest {path} > /dev/null\n")
}

/// Shell lines that record a successful restore test of `backup` for the textfile collector,
/// written to a temporary file and renamed so the collector never reads half a file.
pub fn record_success_script(backup: &str) -> String {
    let label = backup.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let metric = shell_word(&format!("{RESTORE_TEST_METRIC}{{backup=\"{label}\"}}"));
    let file = format!("{TEXTFILE_DIRECTORY}/spec-restore-test-{backup}.prom");
    let (partial, file) = (shell_word(&format!("{file}.tmp")), shell_word(&file));
    format!(
        "mkdir -p {dir}\nprintf '%s %s\\n' {metric} \"$(date +%s)\" > {partial}\nmv {partial} {file}\n",
        dir = shell_word(TEXTFILE_DIRECTORY)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_repositories_are_recognised() {
        assert_eq!(credential_scheme("s3:https://s3.example.com/b"), Some("S3"));
        assert_eq!(credential_scheme("b2:bucket:path"), Some("B2"));
        assert_eq!(credential_scheme("/srv/restic"), None);
        assert_eq!(credential_scheme("sftp:backup@host:/srv"), None);
    }

    #[test]
    fn the_success_record_names_the_backup_in_its_label() {
        let script = record_success_script("ipfs");
        assert!(script.contains(r#"'spec_restore_test_last_success_timestamp_seconds{backup="ipfs"}'"#), "{script}");
        assert!(script.contains("spec-restore-test-ipfs.prom.tmp"), "{script}");
    }
}
