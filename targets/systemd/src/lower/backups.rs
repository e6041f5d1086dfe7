//! Offsite backups on hosts that are not NixOS: restic in a podman oneshot, started by a timer.
//!
//! `restic-<backup>.service` runs the pinned restic image ([`RESTIC_IMAGE`]) with the dataset's
//! mount bound read-only at the same path and the repository password as a credential
//! (`LoadCredential=` from the secret's `systemd` backend, bound into the container from the
//! credentials directory `%d`, never copied): `init` first (its failure ignored, since an
//! initialised repository refuses it), then `backup`, then `forget --prune` with the keep counts,
//! then `check --read-data-subset=5%` when the backup is verified. The container's host name is
//! the node's, so restic groups the snapshots by node as it does on NixOS.
//! `restic-<backup>.timer` starts it every `every` (`OnCalendar=`, E1403 when there is none).
//! Repository credentials other than the password (S3 keys) are not modelled yet.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::format_duration;
use spec_compiler::model::{Backup, Offsite, Resource};

use super::{NodeUnits, PODMAN};
use crate::escape::{exec_arg, interval_calendar, list_word};
use crate::podman::RESTIC_IMAGE;
use crate::unit::UnitFile;

/// Where the password credential is bound inside the container.
const PASSWORD_FILE: &str = "/run/secrets/restic-password";

impl<'a> NodeUnits<'a> {
    pub(super) fn backups(&mut self) {
        for backup in self.index.on(&self.node.name).backups.iter().copied() {
            self.restic(backup);
        }
    }

    fn restic(&mut self, backup: &Resource<Backup>) {
        let Some(offsite) = &backup.spec.offsite else { return };
        let Offsite::Restic { repository, password, every, keep } = &offsite.value;
        let Some(storage) = self.index.storage(&backup.spec.source.name) else { return };
        let Some(zfs) = &storage.spec.zfs else { return };
        let Some(calendar) = interval_calendar(every.0) else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1403,
                    offsite.span,
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
        let Some(credential) = self.credential(&password.name) else { return };
        let mount =
            zfs.mountpoint.as_ref().map_or(format!("/{}/{}", zfs.pool.value, zfs.dataset.value), |m| m.value.clone());
        let name = format!("restic-{}", backup.name);
        let mut unit = UnitFile::default();
        unit.set("Unit", "Description", format!("restic backup {}", backup.name));
        unit.set("Unit", "Wants", "network-online.target");
        unit.set("Unit", "After", "network-online.target");
        unit.set("Unit", "RequiresMountsFor", list_word(&mount));
        unit.set("Service", "Type", "oneshot");
        unit.set("Service", "LoadCredential", credential);
        // `%d` is the credentials directory: a specifier, so written unescaped.
        let run = [
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
            exec_arg(RESTIC_IMAGE),
        ]
        .join(" ");
        unit.set("Service", "ExecStartPre", format!("-{run} init"));
        unit.set("Service", "ExecStart", format!("{run} backup {}", exec_arg(&mount)));
        if let Some(keep) = keep {
            let tiers: Vec<String> = keep.tiers().map(|(tier, count)| format!("--keep-{tier} {count}")).collect();
            if !tiers.is_empty() {
                unit.set("Service", "ExecStart", format!("{run} forget --prune {}", tiers.join(" ")));
            }
        }
        if backup.spec.verify.is_some() {
            // A restore test reads back a sample of the data on every run.
            unit.set("Service", "ExecStart", format!("{run} check {}", exec_arg("--read-data-subset=5%")));
        }
        unit.set("Service", "ExecStopPost", format!("-{} rm --force --ignore {}", exec_arg(PODMAN), exec_arg(&name)));
        self.emit(&format!("{name}.service"), &unit, offsite.span);
        let mut timer = UnitFile::default();
        timer.set("Unit", "Description", format!("Run restic backup {} on its schedule", backup.name));
        timer.set("Timer", "OnCalendar", calendar);
        timer.set("Timer", "Persistent", "true");
        timer.set("Install", "WantedBy", "timers.target");
        self.emit(&format!("{name}.timer"), &timer, offsite.span);
    }
}
