//! Backups on NixOS: local snapshots, offsite copies and replicas of a node's ZFS datasets.
//!
//! Snapshots are `services.sanoid` datasets with their retention, sanoid run as often as the most
//! frequent of them; offsite copies are `services.restic.backups` (repository, the password file
//! from its secret, the dataset's mount as path, a timer, prune and check options); replicas are
//! `services.syncoid.commands`, sending the dataset to `user@address:pool/dataset` of the node
//! named in `replicate { to }`, syncoid run as often as the most frequent of them. The receiving
//! node must let that user log in with the syncoid user's SSH key and receive into the pool
//! (`zfs allow`); spec does not generate that side.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::source::Span;
use spec_target_systemd::escape::interval_calendar;

use super::{NodeModule, mountpoint, path, with};
use crate::nix::Nix;

impl<'a> NodeModule<'a> {
    pub(super) fn backups(&mut self) {
        let node = self.node;
        let mut sanoid_interval: Option<u64> = None;
        for backup in self.index.on(&node.name).backups.iter().copied() {
            let Some(storage) = self.index.storage(&backup.spec.source.name) else { continue };
            let Some(zfs) = &storage.spec.zfs else { continue };
            let dataset = format!("{}/{}", zfs.pool.value, zfs.dataset.value);
            if let Some(snapshots) = &backup.spec.snapshots {
                let mut policy =
                    vec![("autosnap".to_string(), Nix::Bool(true)), ("autoprune".to_string(), Nix::Bool(true))];
                let every = snapshots.every.value.0;
                if every < 3_600_000 {
                    // Sanoid takes sub-hourly snapshots only as "frequent" ones: keep an hour's
                    // worth, every `every` minutes; the hourly tier takes over after that.
                    let minutes = (every / 60_000).max(1);
                    policy.push(("frequent_period".to_string(), Nix::Int(minutes as i64)));
                    policy.push(("frequently".to_string(), Nix::Int((60 / minutes).max(1) as i64)));
                }
                if let Some(keep) = &snapshots.keep {
                    for (tier, count) in keep.tiers() {
                        policy.push((tier.to_string(), Nix::Int(i64::from(count))));
                    }
                }
                self.define(with(path("services.sanoid.datasets"), &[&dataset]), Nix::Attrs(policy), snapshots.span);
                sanoid_interval = Some(sanoid_interval.map_or(every, |current: u64| current.min(every)));
                if interval_calendar(every).is_none() {
                    self.no_calendar(&backup.name, every, snapshots.every.span);
                }
            }
            if let Some(offsite) = &backup.spec.offsite {
                let spec_compiler::model::Offsite::Restic { repository, password, every, keep } = &offsite.value;
                let Some(on_calendar) = interval_calendar(every.0) else {
                    self.no_calendar(&backup.name, every.0, offsite.span);
                    continue;
                };
                let password_file = self.secret_path(&password.name, password.span);
                let mut job = vec![
                    ("repository".to_string(), Nix::Str(repository.clone())),
                    ("passwordFile".to_string(), password_file),
                    ("paths".to_string(), Nix::List(vec![Nix::Str(mountpoint(zfs))])),
                    ("initialize".to_string(), Nix::Bool(true)),
                    (
                        "timerConfig".to_string(),
                        Nix::Attrs(vec![
                            ("OnCalendar".into(), Nix::Str(on_calendar)),
                            ("Persistent".into(), Nix::Bool(true)),
                        ]),
                    ),
                ];
                if let Some(keep) = keep {
                    let prune = keep.tiers().map(|(tier, count)| Nix::Str(format!("--keep-{tier} {count}"))).collect();
                    job.push(("pruneOpts".to_string(), Nix::List(prune)));
                }
                if backup.spec.verify.is_some() {
                    // A restore test reads back a sample of the data on every run.
                    job.push(("checkOpts".to_string(), Nix::List(vec![Nix::Str("--read-data-subset=5%".into())])));
                }
                self.define(with(path("services.restic.backups"), &[&backup.name]), Nix::Attrs(job), offsite.span);
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

    fn no_calendar(&mut self, backup: &str, every: u64, span: Span) {
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

impl<'a> NodeModule<'a> {
    fn replication(&mut self) {
        let node = self.node;
        let mut interval: Option<u64> = None;
        for backup in self.index.on(&node.name).backups.iter().copied() {
            let Some(replicate) = &backup.spec.replicate else { continue };
            let Some(storage) = self.index.storage(&backup.spec.source.name) else { continue };
            let Some(zfs) = &storage.spec.zfs else { continue };
            let every = replicate.every.value.0;
            if interval_calendar(every).is_none() {
                self.no_calendar(&backup.name, every, replicate.every.span);
                continue;
            }
            let Some(target) = self.index.node(&replicate.to.name) else { continue };
            let Some(host) = target.spec.address.as_ref().or(target.spec.endpoint.as_ref()) else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1107,
                        replicate.to.span,
                        format!("backup `{}` replicates to node `{}`, which has no address", backup.name, target.name),
                    )
                    .with_primary_label("cannot be reached over SSH")
                    .with_help(format!("give node `{}` an `address` (on the mesh) or an `endpoint`", target.name)),
                );
                continue;
            };
            let source = format!("{}/{}", zfs.pool.value, zfs.dataset.value);
            let dataset = replicate.dataset.as_ref().map_or(source.clone(), |d| d.value.clone());
            let user = replicate.user.as_ref().map_or("syncoid", |u| u.value.as_str());
            let command = Nix::Attrs(vec![
                ("source".into(), Nix::Str(source)),
                ("target".into(), Nix::Str(format!("{user}@{}:{dataset}", host.value.0))),
            ]);
            self.define(with(path("services.syncoid.commands"), &[&backup.name]), command, replicate.span);
            interval = Some(interval.map_or(every, |current: u64| current.min(every)));
        }
        if let Some(every) = interval.and_then(interval_calendar) {
            self.define(path("services.syncoid.enable"), Nix::Bool(true), node.name_span);
            self.define(path("services.syncoid.interval"), Nix::Str(every), node.name_span);
        }
    }
}
