//! One-shot jobs in the `needs` graph: what needs a job runs where the job runs (E0676), since
//! each back end orders the two only within one place (units of one host, releases of one
//! cluster's Flux), and a job's volumes live where it runs (E0678). Cycles through jobs are
//! E0675 ([`super::cycles`]); a job needing a service elsewhere without `retries`, E0677
//! ([`crate::model::reach`]); its namespace and its pod's share of the quota, [`super::quotas`].

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{NeedRef, PlacementRef, Spanned};

/// Checks every need of a job and every job's volumes.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let model = estate.model;
    let needers = model
        .services
        .iter()
        .map(|s| ("service", s.name.as_str(), &s.spec.on, &s.spec.needs))
        .chain(model.jobs.iter().map(|j| ("job", j.name.as_str(), &j.spec.on, &j.spec.needs)));
    for (kind, name, on, needs) in needers {
        for need in needs.iter().filter(|n| n.kind == "job") {
            let Some(job) = estate.job(&need.name) else { continue };
            if !same_place(on, &job.spec.on) {
                diagnostics.push(needed_elsewhere(kind, name, on, need, &job.spec.on));
            }
        }
    }
    for job in &model.jobs {
        let Some(place) = estate.place(&job.spec.on) else { continue };
        for (path, reference) in &job.spec.volumes {
            let Some(storage) = estate.storage(&reference.name) else { continue };
            let zfs_on_cluster = matches!(place, Place::Cluster(_)) && storage.spec.zfs.is_some();
            if zfs_on_cluster || !same_place(&job.spec.on, &storage.spec.on) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0678,
                        reference.span,
                        format!(
                            "job `{}` on {} `{}` mounts storage `{}`, which lives on {} `{}`",
                            job.name,
                            job.spec.on.kind,
                            job.spec.on.name,
                            storage.name,
                            storage.spec.on.kind,
                            storage.spec.on.name
                        ),
                    )
                    .with_primary_label(format!("mounted at `{path}`"))
                    .with_label(storage.spec.on.span, "the storage lives here")
                    .with_label(job.spec.on.span, "the job runs here")
                    .with_help("place the job with its storage"),
                );
            }
        }
    }
}

fn same_place(a: &PlacementRef, b: &PlacementRef) -> bool {
    a.kind == b.kind && a.name == b.name
}

fn needed_elsewhere(
    kind: &str,
    name: &str,
    on: &Spanned<PlacementRef>,
    need: &NeedRef,
    job_on: &Spanned<PlacementRef>,
) -> Diagnostic {
    Diagnostic::new(
        Code::E0676,
        need.span,
        format!(
            "{kind} `{name}` on {} `{}` needs job `{}`, which runs on {} `{}`",
            on.kind, on.name, need.name, job_on.kind, job_on.name
        ),
    )
    .with_primary_label("a job placed elsewhere")
    .with_label(job_on.span, "the job runs here")
    .with_label(on.span, format!("the {kind} runs here"))
    .with_note(
        "a start is ordered after a job only where both run: units of one host, or the Flux releases of one cluster",
    )
    .with_help(format!("place job `{}` where {kind} `{name}` runs", need.name))
}
