//! Backups: the schedules meet the declared RPO (the worst-case loss is the smallest interval
//! among the copies), retention counts are ones the schedule can fill, 3-2-1 holds (a warning),
//! and every storage is covered by some backup (a warning). A replica counts as a copy for the
//! RPO, and must go to another node than the dataset's own (E0620).

use rustc_hash::FxHashSet;

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::Spanned;
use crate::model::types::format_duration;
use crate::model::{Keep, Offsite};
use crate::source::Span;

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

/// Checks every backup and every storage.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut covered: FxHashSet<&str> = FxHashSet::default();
    for backup in &estate.model.backups {
        covered.insert(backup.spec.source.name.as_str());
        let spec = &backup.spec;
        // Every copy with its interval and where that interval is written.
        let mut copies: Vec<(&str, u64, Span)> = Vec::new();
        if let Some(snapshots) = &spec.snapshots {
            copies.push(("snapshots", snapshots.every.value.0, snapshots.every.span));
            if let Some(keep) = &snapshots.keep {
                retention(keep, snapshots.every.value.0, "snapshots", diagnostics);
            }
        }
        if let Some(offsite) = &spec.offsite {
            let Offsite::Restic { every, keep, .. } = &offsite.value;
            copies.push(("the offsite copy", every.0, offsite.span));
            if let Some(keep) = keep {
                let keep = Spanned { value: keep.clone(), span: offsite.span };
                retention(&keep, every.0, "the offsite copy", diagnostics);
            }
        }
        if let Some(replicate) = &spec.replicate {
            copies.push(("the replica", replicate.every.value.0, replicate.every.span));
            let home = estate.storage(&spec.source.name).map(|s| &s.spec.on);
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
                diagnostics.push(diagnostic.with_help(format!(
                    "take snapshots at least every {}, or relax the RPO",
                    format_duration(rpo.value.0)
                )));
            }
        }
        let (snapshots, offsite) = (spec.snapshots.is_some(), spec.offsite.is_some());
        if !(snapshots && offsite) {
            let copies = 1 + usize::from(snapshots) + usize::from(offsite);
            let media = 1 + usize::from(offsite);
            let missing = if snapshots {
                "an offsite copy"
            } else if offsite {
                "local snapshots"
            } else {
                "snapshots and an offsite copy"
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::W0602,
                    backup.name_span,
                    format!(
                        "backup `{}` keeps {copies} copies on {media} {}, {} offsite",
                        backup.name,
                        if media == 1 { "medium" } else { "media" },
                        usize::from(offsite)
                    ),
                )
                .with_primary_label(format!("lacks {missing}"))
                .with_help("3-2-1: keep three copies, on two media, one of them offsite (`snapshots { … }` and `offsite = restic { … }`)"),
            );
        }
    }
    for storage in &estate.model.storage {
        if !covered.contains(storage.name.as_str()) {
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
