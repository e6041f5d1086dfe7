//! Backups on NixOS: local snapshots, offsite copies and restore tests of a node's ZFS datasets
//! (replicas are [`super::replication`]).
//!
//! Snapshots are `services.sanoid.datasets`, sanoid run as often as the most frequent of them.
//! Every retention period is written, `0` for those `keep` leaves out, because sanoid fills an
//! unwritten period from its own defaults (it would take and keep 6 monthly snapshots nobody asked
//! for); the period `every` falls in keeps at least the newest snapshot, since sanoid takes no
//! snapshot of a period it keeps none of (a sub-hourly `every` keeps an hour's worth of
//! "frequent" ones). Offsite copies are `services.restic.backups` (repository, the password file
//! and the repository's credentials as `environmentFile`, both from their secrets, the dataset's
//! mount as path, a timer, prune options), one job per offsite copy (`Backup::copies`: the
//! backup's name, then `<backup>-2`…), each tested by `verify`; a repository that logs in with keys (`s3:`, `b2:`, …)
//! without `credentials` takes them from the node's own modules (`hosts/<node>/`), where the
//! operator can set the job's `environmentFile`, so it is no diagnostic here (E1420 on other
//! hosts, which have no such slot). A dataset's copy reads a snapshot of its own, not the live
//! files, which the service goes on writing while restic walks them for minutes or hours (the copy
//! would be of no single moment): the job takes `<dataset>@restic-<job>` first
//! (`backupPrepareCommand`, replacing one a failed run left), copies it through the dataset's
//! `.zfs/snapshot/restic-<job>` (a fixed path, so each run's parent is the last run) and destroys
//! it afterwards (`backupCleanupCommand`). sanoid's newest snapshot would do for a moment, but
//! sanoid prunes it on its own schedule (a sub-hourly one after an hour), under a copy that may take
//! longer. `verify` is a restore test of its own on its own timer
//! (`restic-restore-test-<backup>`, see `spec_target_systemd::restic`), which records its
//! success for the node exporter's textfile collector, whose directory the exporter is given
//! when the estate runs a Prometheus. A backup verified without an offsite copy is tested on its
//! newest local snapshot (`zfs-restore-test-<backup>`): read whole through `.zfs/snapshot`, every
//! block checked against its checksum, with the same record of success.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::Spanned;
use spec_compiler::model::{Backup, Cadence, Copy, Resource, Snapshots, ZfsDataset};
use spec_compiler::source::Span;
use spec_target_systemd::escape::{interval_calendar, shell_word};
use spec_target_systemd::restic::{
    cadence_calendar, record_success_script, restore_test_script, restore_test_unit, timeout_seconds,
};

use super::{NodeModule, mountpoint, path, with};
use crate::nix::Nix;

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

/// sanoid's retention periods, finest first, with the shortest `every` that falls in each.
const PERIODS: [(&str, u64); 5] =
    [("hourly", HOUR), ("daily", DAY), ("weekly", 7 * DAY), ("monthly", 28 * DAY), ("yearly", 365 * DAY)];

/// The sanoid policy of one dataset: every period written, none inherited.
fn sanoid_policy(snapshots: &Snapshots) -> Vec<(String, Nix)> {
    let every = snapshots.every.value.0;
    let mut policy = vec![("autosnap".to_string(), Nix::Bool(true)), ("autoprune".to_string(), Nix::Bool(true))];
    if every < HOUR {
        // Sanoid takes sub-hourly snapshots only as "frequent" ones: keep an hour's worth, every
        // `every` minutes; the hourly period takes over after that.
        let minutes = (every / 60_000).max(1);
        policy.push(("frequent_period".to_string(), Nix::Int(minutes as i64)));
        policy.push(("frequently".to_string(), Nix::Int((60 / minutes).max(1) as i64)));
    } else {
        policy.push(("frequently".to_string(), Nix::Int(0)));
    }
    let asked: Vec<(&str, u32)> = snapshots.keep.as_ref().map(|k| k.value.tiers().collect()).unwrap_or_default();
    // The period `every` falls in: the coarsest whose length `every` reaches.
    let taken = PERIODS.iter().rev().find(|(_, length)| every >= *length).map(|(name, _)| *name);
    for (period, _) in PERIODS {
        let count = asked.iter().find(|(tier, _)| *tier == period).map_or(0, |(_, count)| *count);
        let count = if Some(period) == taken { count.max(1) } else { count };
        policy.push((period.to_string(), Nix::Int(i64::from(count))));
    }
    policy
}

/// Where a backup's dumps are written before restic copies them, one folder per copy job.
const DUMP_DIRECTORY: &str = "/var/lib/spec-dumps";

/// What one restic job copies: the folder backed up, and for a service's dump the commands that
/// write the dump into it before restic runs and remove it afterwards.
struct Source {
    /// The folder restic backs up (and the restore test reads).
    path: String,
    /// `backupPrepareCommand` and `backupCleanupCommand`: a dump written, or a snapshot taken,
    /// where `path` reads it, and removed after the copy.
    dump: Option<(String, String)>,
}

impl<'a> NodeModule<'a> {
    pub(super) fn backups(&mut self) {
        let node = self.node;
        let mut sanoid_interval: Option<u64> = None;
        for backup in self.index.on(&node.name).backups.iter().copied() {
            if let Some(service) = backup.spec.service() {
                self.dump_backup(backup, service);
                continue;
            }
            let Some(storage) = backup.spec.storage().and_then(|s| self.index.storage(s)) else { continue };
            // A plain directory is copied by restic as it is (no dataset to snapshot: E0734).
            if let (Some(directory), None) = (&storage.spec.directory, &storage.spec.zfs) {
                for copy in &backup.spec.copies(&backup.name) {
                    self.restic(backup, copy, &Source { path: directory.value.clone(), dump: None });
                }
                continue;
            }
            let Some(zfs) = &storage.spec.zfs else { continue };
            let dataset = format!("{}/{}", zfs.pool.value, zfs.dataset.value);
            if let Some(snapshots) = &backup.spec.snapshots {
                let every = snapshots.every.value.0;
                let policy = sanoid_policy(&snapshots.value);
                self.define(with(path("services.sanoid.datasets"), &[&dataset]), Nix::Attrs(policy), snapshots.span);
                sanoid_interval = Some(sanoid_interval.map_or(every, |current: u64| current.min(every)));
                if interval_calendar(every).is_none() {
                    self.no_calendar(&backup.name, every, snapshots.every.span);
                }
            }
            let copies = backup.spec.copies(&backup.name);
            for copy in &copies {
                let snapshot = format!("restic-{}", copy.name);
                let at = shell_word(&format!("{dataset}@{snapshot}"));
                let prepare = format!("zfs destroy {at} 2>/dev/null || true\nzfs snapshot {at}\n");
                let cleanup = format!("zfs destroy {at}\n");
                let read = format!("{}/.zfs/snapshot/{snapshot}", mountpoint(zfs));
                self.restic(backup, copy, &Source { path: read, dump: Some((prepare, cleanup)) });
                // `zfs` from the system's path, where the ZFS support puts it.
                self.define(
                    with(path("systemd.services"), &[&format!("restic-backups-{}", copy.name), "path"]),
                    Nix::List(vec![Nix::Str("/run/current-system/sw".into())]),
                    copy.span,
                );
            }
            if copies.is_empty() {
                self.snapshot_restore_test(backup, zfs);
            }
        }
        self.replication();
        if let Some(every) = sanoid_interval {
            self.define(path("services.sanoid.enable"), Nix::Bool(true), node.name_span);
            if let Some(interval) = interval_calendar(every) {
                self.define(path("services.sanoid.interval"), Nix::Str(interval), node.name_span);
            }
        }
    }

    /// A backup of a service's dump: each copy's restic job runs the service's `dump` command
    /// first (`backupPrepareCommand`), writing the dump into a folder of its own that restic then
    /// copies, and removes it afterwards (`backupCleanupCommand`), so no copy of the data stays on
    /// the host. A service run by its NixOS options is dumped on the host, as `dump.user` through
    /// `runuser`; a container through `podman exec`. The job finds the command on the system's
    /// path, where the service's module puts its tools.
    fn dump_backup(&mut self, backup: &'a Resource<Backup>, service: &str) {
        let Some(service) = self.index.service(service) else { return };
        let Some(dump) = &service.spec.dump else { return };
        let mut argv: Vec<String> = Vec::new();
        if self.runs_as_module(service) {
            if let Some(user) = &dump.value.user {
                argv.extend(["runuser".into(), "-u".into(), user.value.clone(), "--".into()]);
            }
        } else {
            argv.extend(["podman".into(), "exec".into()]);
            if let Some(user) = &dump.value.user {
                argv.extend(["--user".into(), user.value.clone()]);
            }
            argv.push(service.name.clone());
        }
        argv.extend(dump.value.command.value.iter().cloned());
        let command = argv.iter().map(|w| shell_word(w)).collect::<Vec<_>>().join(" ");
        let file = dump.value.file_name(&service.name);
        for copy in &backup.spec.copies(&backup.name) {
            let folder = format!("{DUMP_DIRECTORY}/{}", copy.name);
            let target = shell_word(&format!("{folder}/{file}"));
            let prepare = format!(
                "install -d -m 0700 {dir}\n{command} > {target}.partial\nmv {target}.partial {target}\n",
                dir = shell_word(&folder)
            );
            let cleanup = format!("rm -f {target} {target}.partial\n");
            self.restic(backup, copy, &Source { path: folder, dump: Some((prepare, cleanup)) });
            let unit = format!("restic-backups-{}", copy.name);
            // The dump's tools: the service's module puts them on the system's path.
            self.define(
                with(path("systemd.services"), &[&unit, "path"]),
                Nix::List(vec![Nix::Str("/run/current-system/sw".into())]),
                dump.span,
            );
        }
    }

    /// The restic job of one offsite copy, and its restore test (`restic-restore-test-<job>`,
    /// recording its success under the job's name).
    fn restic(&mut self, backup: &'a Resource<Backup>, copy: &Copy<'a>, source: &Source) {
        let restic = copy.restic;
        let Some(on_calendar) = interval_calendar(restic.every.0) else {
            self.no_calendar(&backup.name, restic.every.0, copy.span);
            return;
        };
        let Some(repository) = self.index.repository(copy) else { return };
        // Without `credentials` the keys come from the node's own modules (`hosts/<node>/`), which
        // may set this job's `environmentFile`: the shared tour copies to S3 that way.
        let password_file = self.secret_path(&restic.password.name, restic.password.span);
        let credentials = self.index.repository_credentials(copy);
        let environment_file = credentials.map(|c| self.secret_path(&c.name, c.span));
        let readers =
            [format!("restic-backups-{}.service", copy.name), format!("{}.service", restore_test_unit(&copy.name))];
        for secret in std::iter::once(&restic.password).chain(credentials) {
            for reader in &readers {
                self.read_by(&secret.name, reader.clone());
            }
        }
        let mut job = vec![
            ("repository".to_string(), Nix::Str(repository.clone())),
            ("passwordFile".to_string(), password_file.clone()),
        ];
        if let Some(file) = &environment_file {
            job.push(("environmentFile".to_string(), file.clone()));
        }
        job.extend([
            ("paths".to_string(), Nix::List(vec![Nix::Str(source.path.clone())])),
            ("initialize".to_string(), Nix::Bool(true)),
            (
                "timerConfig".to_string(),
                Nix::Attrs(vec![("OnCalendar".into(), Nix::Str(on_calendar)), ("Persistent".into(), Nix::Bool(true))]),
            ),
        ]);
        if let Some((prepare, cleanup)) = &source.dump {
            job.push(("backupPrepareCommand".to_string(), Nix::Str(prepare.clone())));
            job.push(("backupCleanupCommand".to_string(), Nix::Str(cleanup.clone())));
        }
        if let Some(keep) = &restic.keep {
            let prune = keep.tiers().map(|(tier, count)| Nix::Str(format!("--keep-{tier} {count}"))).collect();
            job.push(("pruneOpts".to_string(), Nix::List(prune)));
        }
        self.define(with(path("services.restic.backups"), &[&copy.name]), Nix::Attrs(job), copy.span);
        let Some(verify) = &backup.spec.verify else { return };
        let unit = restore_test_unit(&copy.name);
        let mut environment = vec![
            ("RESTIC_REPOSITORY".to_string(), Nix::Str(repository)),
            ("RESTIC_PASSWORD_FILE".to_string(), password_file),
        ];
        environment.push(("RESTIC_CACHE_DIR".to_string(), Nix::Str(format!("/var/cache/{unit}"))));
        let mut service_config = vec![
            ("Type".to_string(), Nix::Str("oneshot".into())),
            ("CacheDirectory".to_string(), Nix::Str(unit.clone())),
        ];
        if let Some(file) = environment_file {
            service_config.push(("EnvironmentFile".to_string(), file));
        }
        if let Some(rto) = &backup.spec.rto {
            // The RTO is the restore test's time limit: a restore slower than it fails the test.
            service_config.push(("TimeoutStartSec".to_string(), Nix::Str(timeout_seconds(rto.value.0))));
        }
        let script =
            format!("{}{}", restore_test_script(&source.path, &self.node.name), record_success_script(&copy.name));
        let network = Nix::List(vec![Nix::Str("network-online.target".into())]);
        let service = Nix::Attrs(vec![
            ("description".into(), Nix::Str(format!("Restore test of backup {}", copy.name))),
            ("after".into(), network.clone()),
            ("wants".into(), network),
            ("environment".into(), Nix::Attrs(environment)),
            ("serviceConfig".into(), Nix::Attrs(service_config)),
            ("path".into(), Nix::List(vec![Nix::Raw("pkgs.restic".into())])),
            ("script".into(), Nix::Str(script)),
        ]);
        self.restore_test_and_timer(&unit, service, verify);
    }

    /// The restore test of a backup without an offsite copy: the newest local snapshot of the
    /// dataset (sanoid's or syncoid's) read whole through `.zfs/snapshot`, every block checked
    /// against its ZFS checksum as a restore would read it.
    fn snapshot_restore_test(&mut self, backup: &Resource<Backup>, zfs: &ZfsDataset) {
        let Some(verify) = &backup.spec.verify else { return };
        let dataset = format!("{}/{}", zfs.pool.value, zfs.dataset.value);
        let unit = format!("zfs-restore-test-{}", backup.name);
        // `tar` into a pipe: GNU tar skips reading files when it writes to /dev/null itself.
        let script = format!(
            "set -o pipefail\ndataset={}\nsnapshot=\"$(zfs list -H -t snapshot -o name -s creation -d 1 \"$dataset\" | tail -n 1)\"\nif [ -z \"$snapshot\" ]; then\n  echo \"no snapshot of $dataset to test\" >&2\n  exit 1\nfi\ntar -C {}/.zfs/snapshot/\"${{snapshot#*@}}\" -cf - . | wc -c > /dev/null\n{}",
            shell_word(&dataset),
            shell_word(&mountpoint(zfs)),
            record_success_script(&backup.name)
        );
        let service = Nix::Attrs(vec![
            ("description".into(), Nix::Str(format!("Restore test of backup {}", backup.name))),
            ("serviceConfig".into(), Nix::Attrs(vec![("Type".into(), Nix::Str("oneshot".into()))])),
            ("path".into(), Nix::List(vec![Nix::Raw("pkgs.zfs".into()), Nix::Raw("pkgs.gnutar".into())])),
            ("script".into(), Nix::Str(script)),
        ]);
        self.restore_test_and_timer(&unit, service, verify);
    }

    /// A restore test's unit and its timer on the `verify` cadence (missed runs caught up).
    fn restore_test_and_timer(&mut self, unit: &str, service: Nix, verify: &Spanned<Cadence>) {
        let timer = Nix::Attrs(vec![
            ("wantedBy".into(), Nix::List(vec![Nix::Str("timers.target".into())])),
            (
                "timerConfig".into(),
                Nix::Attrs(vec![
                    ("OnCalendar".into(), Nix::Str(cadence_calendar(verify.value).into())),
                    ("Persistent".into(), Nix::Bool(true)),
                ]),
            ),
        ]);
        self.define_all(
            vec![(with(path("systemd.services"), &[unit]), service), (with(path("systemd.timers"), &[unit]), timer)],
            verify.span,
        );
    }

    pub(super) fn no_calendar(&mut self, backup: &str, every: u64, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::E1104,
                span,
                format!(
                    "backup `{backup}`: every {} is not a systemd calendar interval",
                    spec_compiler::model::types::format_duration(every)
                ),
            )
            .with_primary_label("cannot be scheduled as a timer")
            .with_help("use an interval that divides an hour or a day evenly (5m, 15m, 1h, 6h, 1d) or a week (7d)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec_compiler::model::Keep;
    use spec_compiler::model::types::{Duration, Spanned};

    fn spanned<T>(value: T) -> Spanned<T> {
        Spanned { value, span: Span::default() }
    }

    fn counts(policy: &[(String, Nix)]) -> Vec<(String, i64)> {
        policy
            .iter()
            .filter_map(|(k, v)| match v {
                Nix::Int(n) => Some((k.clone(), *n)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_period_is_written_and_none_inherited() {
        let keep = Keep { hourly: None, daily: Some(spanned(7)), weekly: None, monthly: None, yearly: None };
        let snapshots = Snapshots { every: spanned(Duration(HOUR)), keep: Some(spanned(keep)) };
        let written = counts(&sanoid_policy(&snapshots));
        let expected: Vec<(String, i64)> =
            [("frequently", 0), ("hourly", 1), ("daily", 7), ("weekly", 0), ("monthly", 0), ("yearly", 0)]
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect();
        assert_eq!(written, expected);
    }
}
