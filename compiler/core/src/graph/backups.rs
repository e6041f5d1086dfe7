//! Backups: the schedules meet the declared RPO (the worst-case loss is the smallest interval
//! among the copies; an offsite copy's own `rpo`, for the loss of the site, against that copy's
//! interval), retention counts are ones the schedule can fill and that the bucket written to keeps
//! (E0651, W0651), 3-2-1 holds (a warning), and every storage is covered by some backup (a
//! warning; a backup of a service's dump covers the volumes the service mounts). A replica counts as a copy for the RPO, and must go to another node than the
//! dataset's own (E0620). A backup of a service copies the dump the service's `dump` names
//! (E0650 without one), so it has no dataset to snapshot or replicate (E0654). Each copy names one
//! repository (E0653), and no two copies of the estate write to the same one (E0652, by a map of
//! repositories: linear). An `rto` is the restore test's time limit, so it needs `verify` (W0650).
//! A storage that holds a cache (`holds = cache`) needs no backup, and a backup of it is E0741.

use rustc_hash::{FxHashMap, FxHashSet};

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::Spanned;
use crate::model::types::format_duration;
use crate::model::{Backup, Copy, Keep, Resource};
use crate::source::Span;

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

/// Checks every backup and every storage.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut covered: FxHashSet<&str> = FxHashSet::default();
    let mut repositories: FxHashMap<String, (String, Span)> = FxHashMap::default();
    for backup in &estate.model.backups {
        covered.extend(backup.spec.storage());
        // The dump of a service holds the data of the volumes it mounts (a database's data
        // directory), copied in a form that restores, unlike the live files.
        if let Some(service) = backup.spec.service().and_then(|name| estate.service(name))
            && service.spec.dump.is_some()
        {
            covered.extend(service.spec.volumes.values().map(|volume| volume.name.as_str()));
        }
        let spec = &backup.spec;
        let copies_offsite = spec.copies(&backup.name);
        dump_source(estate, backup, diagnostics);
        cache_source(estate, backup, diagnostics);
        // Every copy with its interval and where that interval is written.
        let mut copies: Vec<(&str, u64, Span)> = Vec::new();
        if let Some(snapshots) = &spec.snapshots {
            copies.push(("snapshots", snapshots.every.value.0, snapshots.every.span));
            if let Some(keep) = &snapshots.keep {
                retention(keep, snapshots.every.value.0, "snapshots", diagnostics);
            }
        }
        for copy in &copies_offsite {
            let restic = copy.restic;
            copies.push(("the offsite copy", restic.every.0, copy.span));
            if let Some(keep) = &restic.keep {
                let keep = Spanned { value: keep.clone(), span: copy.span };
                retention(&keep, restic.every.0, "the offsite copy", diagnostics);
            }
            if let Some(rpo) = restic.rpo
                && restic.every.0 > rpo.0
            {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0610,
                        copy.span,
                        format!(
                            "the offsite copy `{}` promises an RPO of {} for the loss of the site but is made every {}",
                            copy.name,
                            format_duration(rpo.0),
                            format_duration(restic.every.0)
                        ),
                    )
                    .with_primary_label("not frequent enough for its own `rpo`")
                    .with_help(format!("copy at least every {}, or relax the copy's `rpo`", format_duration(rpo.0))),
                );
            }
            repository(estate, backup, copy, &mut repositories, diagnostics);
        }
        if let Some(replicate) = &spec.replicate {
            copies.push(("the replica", replicate.every.value.0, replicate.every.span));
            let home = spec.storage().and_then(|s| estate.storage(s)).map(|s| &s.spec.on);
            if home.is_some_and(|on| on.kind == "node" && on.name == replicate.to.name) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0620,
                        replicate.to.span,
                        format!("backup `{}` replicates its dataset to the node it lives on", backup.name),
                    )
                    .with_primary_label("the dataset's own node")
                    .with_help(
                        "a replica protects against losing the node only on another node: name a different one in `to`",
                    ),
                );
            }
        }
        if let Some(rpo) = &spec.rpo {
            let best = copies.iter().map(|c| c.1).min();
            if best.is_none_or(|best| best > rpo.value.0) {
                let worst = best.map_or("everything".to_string(), format_duration);
                let mut diagnostic = Diagnostic::new(
                    Code::E0610,
                    rpo.span,
                    format!(
                        "backup `{}` promises an RPO of {} but could lose {worst}",
                        backup.name,
                        format_duration(rpo.value.0)
                    ),
                )
                .with_primary_label("not met by any copy");
                for (what, every, span) in &copies {
                    diagnostic = diagnostic.with_label(*span, format!("{what} every {}", format_duration(*every)));
                }
                let help = match spec.service() {
                    Some(_) => {
                        format!("copy offsite at least every {}, or relax the RPO", format_duration(rpo.value.0))
                    }
                    None => format!("take snapshots at least every {}, or relax the RPO", format_duration(rpo.value.0)),
                };
                diagnostics.push(diagnostic.with_help(help));
            }
        }
        if let (Some(rto), None) = (&spec.rto, &spec.verify) {
            diagnostics.push(
                Diagnostic::new(
                    Code::W0650,
                    rto.span,
                    format!(
                        "backup `{}` promises an RTO of {} that nothing measures",
                        backup.name,
                        format_duration(rto.value.0)
                    ),
                )
                .with_primary_label("no restore test runs against it")
                .with_help(
                    "add `verify = monthly` (or weekly, daily): the restore test fails when it takes longer than `rto`",
                ),
            );
        }
        let (snapshots, offsite) = (spec.snapshots.is_some(), copies_offsite.len());
        let copies = 1 + usize::from(snapshots) + offsite;
        if copies < 3 || offsite == 0 {
            let media = 1 + usize::from(offsite > 0);
            let missing = if snapshots {
                "an offsite copy"
            } else if offsite > 0
                && (spec.service().is_some()
                    || spec
                        .storage()
                        .and_then(|s| estate.storage(s))
                        .is_some_and(|s| s.spec.directory.is_some() && s.spec.zfs.is_none()))
            {
                // A dump or a plain directory has no snapshots (E0654, E0734): only more copies.
                "a second offsite copy"
            } else if offsite > 0 {
                "local snapshots"
            } else {
                "snapshots and an offsite copy"
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::W0602,
                    backup.name_span,
                    format!(
                        "backup `{}` keeps {copies} copies on {media} {}, {offsite} offsite",
                        backup.name,
                        if media == 1 { "medium" } else { "media" },
                    ),
                )
                .with_primary_label(format!("lacks {missing}"))
                .with_help("3-2-1: keep three copies, on two media, one of them offsite (`snapshots { … }` and `offsite = restic { … }`)"),
            );
        }
    }
    for storage in &estate.model.storage {
        // A cache is rebuilt from elsewhere: nothing to back up (and a backup of one is E0741).
        if !covered.contains(storage.name.as_str()) && !storage.spec.is_cache() {
            diagnostics.push(
                Diagnostic::new(
                    Code::W0603,
                    storage.name_span,
                    format!("storage `{}` holds state that no backup covers", storage.name),
                )
                .with_primary_label("no backup")
                .with_help(format!(
                    "add `backup {0} {{ source = storage.{0}, snapshots {{ every = 1h }} … }}`",
                    storage.name
                )),
            );
        }
    }
}

/// A storage that holds a cache says its data is rebuilt from elsewhere: a backup of it copies what
/// the estate says nobody restores (E0741).
fn cache_source(estate: &EstateGraph<'_>, backup: &Resource<Backup>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(storage) = backup.spec.storage().and_then(|name| estate.storage(name)) else { return };
    let Some(holds) = storage.spec.holds.as_ref().filter(|_| storage.spec.is_cache()) else { return };
    diagnostics.push(
        Diagnostic::new(
            Code::E0741,
            backup.spec.source.span,
            format!("backup `{}` copies storage `{}`, which holds a cache", backup.name, storage.name),
        )
        .with_primary_label("a cache is rebuilt from elsewhere, not restored")
        .with_label(holds.span, "said to hold a cache here")
        .with_help(format!(
            "back up what the cache is rebuilt from instead and remove this backup, or drop `holds = cache` from storage `{}` if its data exists nowhere else",
            storage.name
        )),
    );
}

/// A backup of a service copies the service's dump: the service must say how (E0650), and there
/// is no dataset to snapshot or replicate (E0654).
fn dump_source(estate: &EstateGraph<'_>, backup: &Resource<Backup>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(name) = backup.spec.service() else { return };
    let Some(service) = estate.service(name) else { return };
    if service.spec.dump.is_none() {
        diagnostics.push(
            Diagnostic::new(
                Code::E0650,
                backup.spec.source.span,
                format!("backup `{}` copies service `{name}`, which says no way to dump its data", backup.name),
            )
            .with_primary_label("this service has no `dump`")
            .with_help(format!(
                "give service `{name}` a `dump {{ command = [\"…\"] }}` writing its data to standard output (presets such as `std.postgres` bring one), or back up the storage it mounts"
            )),
        );
    }
    let refusal = NotADataset {
        code: Code::E0654,
        source: format!("service `{name}`'s dump"),
        label: "a dump is a stream, not a ZFS dataset",
        help: "snapshots and replicas copy a dataset: back up the storage the service mounts in a backup of its own, or keep several offsite copies of the dump",
    };
    refusal.refuse(backup, None, diagnostics);
}

/// How a backup whose source is no ZFS dataset (a plain directory, a service's dump) refuses
/// what only a dataset gives: `snapshots` and `replicate`.
pub(super) struct NotADataset {
    /// The code of the refusal (E0734 for a directory, E0654 for a dump).
    pub code: Code,
    /// The source, as the message names it (``directory storage `x` ``).
    pub source: String,
    /// The label at the field refused.
    pub label: &'static str,
    /// What to do instead.
    pub help: &'static str,
}

impl NotADataset {
    /// One diagnostic at each of `backup`'s `snapshots` and `replicate`, with `beside` (a second
    /// label) when given.
    pub fn refuse(&self, backup: &Resource<Backup>, beside: Option<(Span, &str)>, diagnostics: &mut Vec<Diagnostic>) {
        let zfs_only = [
            backup.spec.snapshots.as_ref().map(|s| (s.span, "snapshots")),
            backup.spec.replicate.as_ref().map(|r| (r.span, "a replica")),
        ];
        for (span, what) in zfs_only.into_iter().flatten() {
            let mut diagnostic = Diagnostic::new(
                self.code,
                span,
                format!("backup `{}` asks for {what} of {}", backup.name, self.source),
            )
            .with_primary_label(self.label);
            if let Some((span, label)) = beside {
                diagnostic = diagnostic.with_label(span, label);
            }
            diagnostics.push(diagnostic.with_help(self.help));
        }
    }
}

/// One copy's repository: exactly one of `repository` and `bucket` (E0653), written by no other
/// copy (E0652), with a retention its bucket keeps (E0651; W0651 for any expiring bucket).
fn repository(
    estate: &EstateGraph<'_>,
    backup: &Resource<Backup>,
    copy: &Copy<'_>,
    seen: &mut FxHashMap<String, (String, Span)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let restic = copy.restic;
    let (repository, bucket) = (restic.repository.is_some(), restic.bucket.is_some());
    let mistake = match (repository, bucket) {
        (true, true) => Some(("both a repository and a bucket", "two places to write")),
        (false, false) => Some(("neither a repository nor a bucket", "nowhere to write")),
        _ if restic.path.is_some() && !bucket => {
            Some(("a path without a bucket", "`path` is read only inside a bucket"))
        }
        _ => None,
    };
    if let Some((names, label)) = mistake {
        diagnostics.push(
            Diagnostic::new(Code::E0653, copy.span, format!("the offsite copy `{}` names {names}", copy.name))
                .with_primary_label(label)
                .with_help(
                    "give either `repository = \"s3:https://…\"` or `bucket = bucket.NAME` (with an optional `path`)",
                ),
        );
        return;
    }
    let Some(url) = restic.repository_in(&copy.name, |name| estate.bucket(name)) else { return };
    let normalised = url.trim_end_matches('/').to_string();
    match seen.get(&normalised) {
        Some((first, span)) => diagnostics.push(
            Diagnostic::new(
                Code::E0652,
                copy.span,
                format!("the offsite copy `{}` writes to `{url}`, as `{first}` already does", copy.name),
            )
            .with_primary_label("the same repository again")
            .with_label(*span, format!("`{first}` writes here"))
            .with_help("a second copy in the same repository is no second copy: give it another `path` or bucket"),
        ),
        None => {
            seen.insert(normalised, (copy.name.clone(), copy.span));
        }
    }
    let Some(bucket) = restic.bucket.as_ref().and_then(|b| estate.bucket(&b.name)) else { return };
    let Some(expire) = bucket.spec.expires_after() else { return };
    let reach = restic.keep.as_ref().and_then(Keep::reach);
    let kept = match (&restic.keep, reach) {
        (None, _) => Some("every copy forever (no `keep`)".to_string()),
        (Some(_), Some((reach, tier, count))) if reach > expire.value.0 => {
            Some(format!("{count} {tier} copies, reaching {} back", format_duration(reach)))
        }
        _ => None,
    };
    match kept {
        Some(kept) => diagnostics.push(
            Diagnostic::new(
                Code::E0651,
                copy.span,
                format!(
                    "backup `{}` keeps {kept} in bucket `{}`, which deletes objects after {}",
                    backup.name,
                    bucket.name,
                    format_duration(expire.value.0)
                ),
            )
            .with_primary_label("kept longer than the bucket keeps anything")
            .with_label(expire.span, "the bucket's lifecycle")
            .with_help("keep fewer copies (`keep { … }`), or write to a bucket whose lifecycle keeps them"),
        ),
        None => diagnostics.push(
            Diagnostic::new(
                Code::W0651,
                copy.span,
                format!(
                    "the restic repository of `{}` lives in bucket `{}`, which deletes objects after {}",
                    copy.name,
                    bucket.name,
                    format_duration(expire.value.0)
                ),
            )
            .with_primary_label("restic keeps deduplicated data older than its snapshots")
            .with_label(expire.span, "the bucket's lifecycle")
            .with_help("restic writes each piece of data once and newer snapshots keep using it: let `keep` and `restic forget --prune` expire copies, and drop the bucket's expiry rule"),
        ),
    }
}

/// Warns about retention counts finer than the schedule: hourly copies of daily snapshots never
/// exist.
fn retention(keep: &Spanned<Keep>, every: u64, what: &str, diagnostics: &mut Vec<Diagnostic>) {
    let tiers: [(&str, &Option<Spanned<u32>>, u64); 5] = [
        ("hourly", &keep.hourly, HOUR),
        ("daily", &keep.daily, DAY),
        ("weekly", &keep.weekly, 7 * DAY),
        ("monthly", &keep.monthly, 30 * DAY),
        ("yearly", &keep.yearly, 365 * DAY),
    ];
    for (tier, count, period) in tiers {
        let Some(count) = count else { continue };
        if count.value > 0 && every > period {
            let span = if count.span.is_empty() { keep.span } else { count.span };
            diagnostics.push(
                Diagnostic::new(
                    Code::W0601,
                    span,
                    format!("{what} every {} cannot give {} {tier} copies", format_duration(every), count.value),
                )
                .with_primary_label(format!("no {tier} copy is ever taken"))
                .with_help(format!("take {what} at least {tier}, or drop `{tier}`")),
            );
        }
    }
}
