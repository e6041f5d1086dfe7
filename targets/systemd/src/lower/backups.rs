//! Offsite backups on hosts that are not NixOS: restic in a podman oneshot, started by a timer.
//!
//! `restic-<backup>.service` runs the pinned restic image ([`RESTIC_IMAGE`]) with the dataset's
//! mount bound read-only at the same path and the repository password as a credential
//! (`LoadCredential=` from the secret's `systemd` backend, bound into the container from the
//! credentials directory `%d`, never copied): `init` first (its failure ignored, since an
//! initialised repository refuses it), then `backup`, then `forget --prune` with the keep counts,
//! The repository's own credentials (`credentials`, environment lines such as
//! `AWS_ACCESS_KEY_ID=…`) are a second credential, read by the container with `--env-file`; a
//! repository that logs in with keys (`s3:`, `b2:`, …) without them is E1420. The container's host
//! name is the node's, so restic groups the snapshots by node as it does on NixOS.
//! `restic-<backup>.timer` starts it every `every` (`OnCalendar=`, E1403 when there is none).
//! `verify` is a restore test of its own, `restic-restore-test-<backup>.service` and `.timer` on
//! the verify cadence (see `crate::restic`): the test runs in the same container through its
//! shell, and the unit records its success for the node exporter's textfile collector
//! (`ExecStartPost=`, run only when the test passed).
//! A backup of a service's dump runs the service's `dump` command in its container first
//! (`podman exec`, as `dump.user`; `ExecStartPre=`, after the container's unit), writing the dump
//! into `/var/lib/spec-dumps/<job>/`, the folder restic copies, and removes the dump when the unit
//! stops. Each offsite copy is a unit and timer of its own (`restic-<job>`), and `verify` tests
//! each (`restic-restore-test-<job>`), its time limited by `rto`.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::format_duration;
use spec_compiler::model::{Backup, Copy, Resource};

use super::{NodeUnits, PODMAN};
use crate::escape::{exec_arg, interval_calendar, list_word, shell_word};
use crate::podman::RESTIC_IMAGE;
use crate::restic::{
    cadence_calendar, credential_scheme, record_success_script, restore_test_script, restore_test_unit, timeout_seconds,
};
use crate::unit::UnitFile;

/// Where the password credential is bound inside the container.
const PASSWORD_FILE: &str = "/run/secrets/restic-password";

/// Where a backup's dumps are written before restic copies them, one folder per copy job.
const DUMP_DIRECTORY: &str = "/var/lib/spec-dumps";

impl<'a> NodeUnits<'a> {
    pub(super) fn backups(&mut self) {
        for backup in self.index.on(&self.node.name).backups.iter().copied() {
            for copy in &backup.spec.copies(&backup.name) {
                self.restic(backup, copy);
            }
        }
    }

    /// The folder a copy backs up, and for a service's dump the shell lines that write the dump
    /// there first (`podman exec` in the service's container, as `dump.user` when given).
    fn source(&self, backup: &Resource<Backup>, job: &str) -> Option<(String, Option<(String, String)>)> {
        if let Some(service) = backup.spec.service() {
            let service = self.index.service(service)?;
            let dump = &service.spec.dump.as_ref()?.value;
            let folder = format!("{DUMP_DIRECTORY}/{job}");
            let mut argv = vec![PODMAN.to_string(), "exec".into()];
            if let Some(user) = &dump.user {
                argv.extend(["--user".into(), user.value.clone()]);
            }
            argv.push(service.name.clone());
            argv.extend(dump.command.value.iter().cloned());
            let command = argv.iter().map(|w| shell_word(w)).collect::<Vec<_>>().join(" ");
            let file = format!("{folder}/{}", dump.file_name(&service.name));
            let target = shell_word(&file);
            let script = format!(
                "install -d -m 0700 {dir} && {command} > {target}.partial && mv {target}.partial {target}",
                dir = shell_word(&folder)
            );
            // The folder stays (the restore test binds it), the dump goes.
            let cleanup = format!("/bin/rm -f {} {}", exec_arg(&file), exec_arg(&format!("{file}.partial")));
            return Some((folder, Some((script, cleanup))));
        }
        // A dataset's mount point, or a plain directory.
        let storage = self.index.storage(backup.spec.storage()?)?;
        Some((storage.spec.host_path()?, None))
    }

    fn restic(&mut self, backup: &Resource<Backup>, copy: &Copy<'a>) {
        let restic = copy.restic;
        let (password, every, keep) = (&restic.password, restic.every, &restic.keep);
        let Some(repository) = self.index.repository(copy) else { return };
        let credentials = self.index.repository_credentials(copy);
        let Some((mount, dump)) = self.source(backup, &copy.name) else { return };
        let Some(calendar) = interval_calendar(every.0) else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1403,
                    copy.span,
                    format!(
                        "backup `{}`: every {} is not a systemd calendar interval",
                        backup.name,
                        format_duration(every.0)
                    ),
                )
                .with_primary_label("cannot be scheduled as a timer")
                .with_help("use an interval that divides an hour or a day evenly (5m, 15m, 1h, 6h, 1d) or a week (7d)"),
            );
            return;
        };
        if let (Some(scheme), None) = (credential_scheme(&repository), credentials) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1420,
                    copy.span,
                    format!("backup `{}`: the {scheme} repository needs credentials and none are given", backup.name),
                )
                .with_primary_label("restic cannot log in to this repository")
                .with_help(
                    "add `credentials = secret.NAME`, a secret holding the repository's environment lines (`AWS_ACCESS_KEY_ID=…` and `AWS_SECRET_ACCESS_KEY=…` for S3)",
                ),
            );
            return;
        }
        let Some(credential) = self.credential(&password.name) else { return };
        let repository_credential = match credentials {
            Some(credentials) => match self.credential(&credentials.name) {
                Some(loaded) => Some((loaded, credentials.name.as_str())),
                None => return,
            },
            None => None,
        };
        let name = format!("restic-{}", copy.name);
        let mut unit = UnitFile::default();
        unit.set("Unit", "Description", format!("restic backup {}", copy.name));
        unit.set("Unit", "Wants", "network-online.target");
        unit.set("Unit", "After", "network-online.target");
        match &dump {
            // The service's container must run for the dump.
            Some(_) => {
                let container = backup.spec.service().unwrap_or_default();
                unit.set("Unit", "Requires", format!("{container}.service"));
                unit.set("Unit", "After", format!("{container}.service"));
            }
            None => unit.set("Unit", "RequiresMountsFor", list_word(&mount)),
        }
        unit.set("Service", "Type", "oneshot");
        unit.set("Service", credential.0, credential.1.clone());
        if let Some(((setting, loaded), _)) = &repository_credential {
            unit.set("Service", setting, loaded.clone());
        }
        // `%d` is the credentials directory: a specifier, so written unescaped.
        let mut run = vec![
            exec_arg(PODMAN),
            "run".into(),
            "--rm".into(),
            "--name".into(),
            exec_arg(&name),
            format!("--hostname={}", exec_arg(&self.node.name)),
            "--volume".into(),
            exec_arg(&format!("{mount}:{mount}:ro")),
            "--volume".into(),
            format!("%d/{}:{PASSWORD_FILE}:ro", password.name),
            "--env".into(),
            exec_arg(&format!("RESTIC_REPOSITORY={repository}")),
            "--env".into(),
            exec_arg(&format!("RESTIC_PASSWORD_FILE={PASSWORD_FILE}")),
        ];
        if let Some((_, name)) = repository_credential {
            run.push(format!("--env-file=%d/{name}"));
        }
        let image = exec_arg(RESTIC_IMAGE);
        let container = run.join(" ");
        let run = format!("{container} {image}");
        if let Some((script, _)) = &dump {
            // The dump first, into the folder restic copies; it is removed once the unit stops.
            unit.set("Service", "ExecStartPre", format!("/bin/sh -e -c {}", exec_arg(script)));
        }
        unit.set("Service", "ExecStartPre", format!("-{run} init"));
        unit.set("Service", "ExecStart", format!("{run} backup {}", exec_arg(&mount)));
        if let Some(keep) = keep {
            let tiers: Vec<String> = keep.tiers().map(|(tier, count)| format!("--keep-{tier} {count}")).collect();
            if !tiers.is_empty() {
                unit.set("Service", "ExecStart", format!("{run} forget --prune {}", tiers.join(" ")));
            }
        }
        unit.set("Service", "ExecStopPost", format!("-{} rm --force --ignore {}", exec_arg(PODMAN), exec_arg(&name)));
        if let Some((_, cleanup)) = &dump {
            unit.set("Service", "ExecStopPost", cleanup.clone());
        }
        self.emit(&format!("{name}.service"), &unit, copy.span);
        if let Some(verify) = &backup.spec.verify {
            let test = restore_test_unit(&copy.name);
            let mut unit = UnitFile::default();
            unit.set("Unit", "Description", format!("Restore test of backup {}", copy.name));
            unit.set("Unit", "Wants", "network-online.target");
            unit.set("Unit", "After", "network-online.target");
            unit.set("Service", "Type", "oneshot");
            if let Some(rto) = &backup.spec.rto {
                // The RTO is the restore test's time limit: a restore slower than it fails the test.
                unit.set("Service", "TimeoutStartSec", timeout_seconds(rto.value.0));
            }
            unit.set("Service", credential.0, credential.1);
            if let Some(((setting, loaded), _)) = &repository_credential {
                unit.set("Service", setting, loaded.clone());
            }
            // The same container as the backup, named for the test, through the image's shell.
            let container = container.replacen(&exec_arg(&name), &exec_arg(&test), 1);
            let script = restore_test_script(&mount, &self.node.name);
            unit.set(
                "Service",
                "ExecStart",
                format!("{container} --entrypoint /bin/sh {image} -e -c {}", exec_arg(&script)),
            );
            unit.set(
                "Service",
                "ExecStartPost",
                format!("/bin/sh -e -c {}", exec_arg(&record_success_script(&copy.name))),
            );
            unit.set(
                "Service",
                "ExecStopPost",
                format!("-{} rm --force --ignore {}", exec_arg(PODMAN), exec_arg(&test)),
            );
            self.emit(&format!("{test}.service"), &unit, verify.span);
            let mut timer = UnitFile::default();
            timer.set("Unit", "Description", format!("Run the restore test of backup {} on its cadence", copy.name));
            timer.set("Timer", "OnCalendar", cadence_calendar(verify.value));
            timer.set("Timer", "Persistent", "true");
            timer.set("Install", "WantedBy", "timers.target");
            self.emit(&format!("{test}.timer"), &timer, verify.span);
        }
        let mut timer = UnitFile::default();
        timer.set("Unit", "Description", format!("Run restic backup {} on its schedule", copy.name));
        timer.set("Timer", "OnCalendar", calendar);
        timer.set("Timer", "Persistent", "true");
        timer.set("Install", "WantedBy", "timers.target");
        self.emit(&format!("{name}.timer"), &timer, copy.span);
    }
}
