//! Rollouts, disruption budgets, autoscalers and tiers (`model::rollout`): each says something a
//! cluster can do.
//!
//! - E0670 invalid-share: a share (`surge`, `unavailable`, a canary step, a disruption bound, an
//!   autoscaler's `cpu`) that is not a whole percentage in range.
//! - E0671 rollout-cannot-progress: a rolling update allowing neither surge nor unavailability
//!   (Kubernetes refuses it), or a canary that cannot split its pods: on a single replica, or steps
//!   that do not rise strictly.
//! - E0672 autoscale-bounds: `min` above `max`, `replicas` beside `autoscale` (the autoscaler owns
//!   the count), an autoscaler watching nothing, or a CPU target without a CPU request to measure
//!   it against.
//! - E0673 disruption-bound: a disruption budget naming neither or both of its bounds.
//! - E0674 tier-below-minimum: a service on a cluster running fewer replicas than its tier asks.
//! - W0670 tier-inversion: a service needs a service of a lower tier.
//! - W0671 disruption-blocks-drain: a budget that lets no pod go, so a node drain waits forever.
//! - W0672 canary-step-rounded: a canary step the replicas cannot express (10% of 3 pods is one
//!   pod, 33%).
//! - E0764 canary-pause: a canary's `pause` that is zero or not whole seconds (Argo Rollouts counts
//!   pauses in seconds).
//! - a canary's `analysis` is checked in [`super::analysis`].
//! - E0740 colour-name-taken: a blue-green service's colours, `<service>-blue` and
//!   `<service>-green` (a cluster's Helm releases, a node's containers), take the name of another
//!   service (or of a job's release, `job-<name>`) in the same place.
//!
//! One pass over the services; a need's tier is a map lookup; the names of each place are one map.

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::rollout::utilisation;
use crate::model::types::Spanned;
use crate::model::{Amount, Resource, Rollout, Service};

/// Checks every service's rollout, disruption budget, autoscaler and tier.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        let on_cluster = matches!(estate.place(&service.spec.on), Some(Place::Cluster(_)));
        rollout(service, on_cluster, diagnostics);
        disruption(service, on_cluster, diagnostics);
        autoscale(estate, service, diagnostics);
        tier(estate, service, on_cluster, diagnostics);
    }
    colour_names(estate.model, diagnostics);
}

/// E0740 for each colour of a blue-green service whose name another service or job of the same
/// node or cluster already has: two Helm releases (or two containers) of one name, one replacing
/// the other.
fn place(on: &crate::model::types::PlacementRef) -> (&str, &str) {
    (on.kind.as_str(), on.name.as_str())
}

/// E0740, one map of each place's names (see [`place`]).
fn colour_names(model: &crate::model::Model, out: &mut Vec<Diagnostic>) {
    use rustc_hash::FxHashMap;
    // (place kind, place name, instance name) → where the name is taken, and by what.
    let mut taken: FxHashMap<(&str, &str, String), (crate::source::Span, String)> = FxHashMap::default();
    for service in &model.services {
        let (kind, name) = place(&service.spec.on.value);
        taken
            .entry((kind, name, service.name.clone()))
            .or_insert((service.name_span, format!("service `{}`", service.name)));
    }
    for job in &model.jobs {
        let (kind, name) = place(&job.spec.on.value);
        let release = crate::model::job::job_unit(&job.name);
        taken
            .entry((kind, name, release.clone()))
            .or_insert((job.name_span, format!("the release `{release}` of job `{}`", job.name)));
    }
    for service in &model.services {
        let Some(rollout) = &service.spec.rollout else { continue };
        if !matches!(rollout.value, Rollout::BlueGreen { .. }) {
            continue;
        }
        let (kind, name) = place(&service.spec.on.value);
        for colour in [crate::model::Colour::Blue, crate::model::Colour::Green] {
            let instance = format!("{}-{}", service.name, colour.name());
            let Some((span, owner)) = taken.get(&(kind, name, instance.clone())) else { continue };
            out.push(
                Diagnostic::new(
                    Code::E0740,
                    rollout.span,
                    format!(
                        "the {} colour of blue-green service `{}` is named `{instance}`, as {owner} on {kind} `{name}`",
                        colour.name(),
                        service.name
                    ),
                )
                .with_primary_label(format!("runs as `{instance}`"))
                .with_label(*span, "the same name")
                .with_note(match kind {
                    "cluster" => "each colour is a Helm release of that name: one would replace the other",
                    _ => "each colour is a container of that name: one would replace the other",
                })
                .with_help(format!("rename service `{}` or {owner}", service.name)),
            );
        }
    }
}

/// E0670 for a share that is not a whole percentage from 0% to 100%; `true` when it is valid.
fn share(service: &Resource<Service>, field: &str, amount: &Spanned<Amount>, out: &mut Vec<Diagnostic>) -> bool {
    let Err(why) = amount.value.percent() else { return true };
    out.push(
        Diagnostic::new(Code::E0670, amount.span, format!("`{field}` of service `{}`: {why}", service.name))
            .with_primary_label("not a share of the pods")
            .with_help("write a number of pods (`1`) or a whole percentage from 0% to 100% (`\"25%\"`)"),
    );
    false
}

fn rollout(service: &Resource<Service>, on_cluster: bool, out: &mut Vec<Diagnostic>) {
    let Some(rollout) = &service.spec.rollout else { return };
    match &rollout.value {
        Rollout::Rolling { surge, unavailable } => {
            let mut valid = true;
            for (field, amount) in [("surge", surge), ("unavailable", unavailable)] {
                if let Some(amount) = amount {
                    valid &= share(service, field, amount, out);
                }
            }
            let zero = |a: &Option<Spanned<Amount>>| a.as_ref().is_some_and(|a| a.value.is_zero());
            if valid && zero(surge) && zero(unavailable) {
                out.push(
                    Diagnostic::new(
                        Code::E0671,
                        rollout.span,
                        format!("the rolling update of service `{}` can neither add nor remove a pod", service.name),
                    )
                    .with_primary_label("surge and unavailable both zero")
                    .with_note("Kubernetes refuses a Deployment whose maxSurge and maxUnavailable are both 0")
                    .with_help("allow one more pod during the update: `surge = 1`"),
                );
            }
        }
        Rollout::Canary { steps, pause, .. } => {
            if let Some(pause) = pause
                && (pause.value.0 == 0 || !pause.value.0.is_multiple_of(1000))
            {
                out.push(
                    Diagnostic::new(
                        Code::E0764,
                        pause.span,
                        format!("the canary pause of service `{}` is not whole seconds above zero", service.name),
                    )
                    .with_primary_label(match pause.value.0 {
                        0 => "a pause of no time".to_string(),
                        ms => format!("{ms} milliseconds"),
                    })
                    .with_note("Argo Rollouts counts a pause in whole seconds, and a step without a pause is no canary step a person or an analysis can judge")
                    .with_help("write a pause of whole seconds (`pause = 5m`), or leave `pause` out to wait for a promotion at each step"),
                );
            }
            if steps.value.is_empty() {
                out.push(
                    Diagnostic::new(
                        Code::E0671,
                        steps.span,
                        format!("the canary of service `{}` has no step", service.name),
                    )
                    .with_primary_label("no share to start with")
                    .with_help("list rising shares, such as `[\"10%\", \"50%\", \"100%\"]`"),
                );
                return;
            }
            let mut previous: Option<u32> = None;
            for step in &steps.value {
                let percent = match &step.value {
                    Amount::Count(_) => Err("a canary step is a share of the pods, a percentage".to_string()),
                    Amount::Share(_) => step.value.percent().map(|p| p.unwrap_or(0)),
                };
                let percent = match percent {
                    Ok(p) => p,
                    Err(why) => {
                        out.push(
                            Diagnostic::new(
                                Code::E0670,
                                step.span,
                                format!("a canary step of service `{}`: {why}", service.name),
                            )
                            .with_primary_label("not a share of the pods")
                            .with_help("write each step as a whole percentage from 1% to 100% (`\"10%\"`)"),
                        );
                        return;
                    }
                };
                if percent == 0 || previous.is_some_and(|p| percent <= p) {
                    out.push(
                        Diagnostic::new(
                            Code::E0671,
                            step.span,
                            format!("the canary steps of service `{}` do not rise", service.name),
                        )
                        .with_primary_label(match percent {
                            0 => "a step of no pod".to_string(),
                            _ => format!("not above the step before, {}%", previous.unwrap_or(0)),
                        })
                        .with_help("list rising shares above 0%, such as `[\"10%\", \"50%\", \"100%\"]`"),
                    );
                    return;
                }
                previous = Some(percent);
            }
            if !on_cluster {
                return;
            }
            let pods = service.spec.min_replicas();
            if pods < 2 {
                out.push(
                    Diagnostic::new(
                        Code::E0671,
                        rollout.span,
                        format!("service `{}` runs a canary on a single replica", service.name),
                    )
                    .with_primary_label("a canary needs a pod for each version")
                    .with_note("with one pod the new version takes every client at once: that is no canary")
                    .with_help("run at least two replicas (`replicas = 4`), or roll out with `rolling { … }`"),
                );
                return;
            }
            for step in &steps.value {
                let Ok(Some(percent)) = step.value.percent() else { continue };
                let taken = step.value.pods_of(pods);
                if u64::from(taken) * 100 != u64::from(percent) * u64::from(pods) {
                    out.push(
                        Diagnostic::new(
                            Code::W0672,
                            step.span,
                            format!(
                                "canary step {percent}% of service `{}` is {taken} of its {pods} pods, {}%",
                                service.name,
                                u64::from(taken) * 100 / u64::from(pods)
                            ),
                        )
                        .with_primary_label("the replicas cannot express this share")
                        .with_help("choose steps that are whole pods of the replicas, or run more replicas"),
                    );
                }
            }
        }
        Rollout::BlueGreen { .. } => {}
    }
}

fn disruption(service: &Resource<Service>, on_cluster: bool, out: &mut Vec<Diagnostic>) {
    let Some(disruption) = &service.spec.disruption else { return };
    let budget = &disruption.value;
    let (min, max) = (&budget.min_available, &budget.max_unavailable);
    if min.is_some() == max.is_some() {
        out.push(
            Diagnostic::new(
                Code::E0673,
                disruption.span,
                format!(
                    "the disruption budget of service `{}` names {} of its bounds",
                    service.name,
                    if min.is_some() { "both" } else { "neither" }
                ),
            )
            .with_primary_label("one of `min_available` and `max_unavailable`")
            .with_note("a PodDisruptionBudget holds exactly one of the two")
            .with_help("write `disruption { max_unavailable = 1 }` or `disruption { min_available = 2 }`"),
        );
        return;
    }
    let mut valid = true;
    for (field, amount) in [("min_available", min), ("max_unavailable", max)] {
        if let Some(amount) = amount {
            valid &= share(service, field, amount, out);
        }
    }
    if !valid || !on_cluster {
        return;
    }
    let pods = service.spec.min_replicas();
    let blocked = match (min, max) {
        (_, Some(max)) => max.value.is_zero().then_some(max.span),
        (Some(min), _) => (min.value.pods_of(pods) >= pods).then_some(min.span),
        _ => None,
    };
    if let Some(span) = blocked {
        out.push(
            Diagnostic::new(
                Code::W0671,
                span,
                format!("the disruption budget of service `{}` lets none of its {pods} pods go", service.name),
            )
            .with_primary_label("no pod may be evicted")
            .with_note("draining a node waits for the budget, forever: upgrades and maintenance stall")
            .with_help("allow one pod to go (`max_unavailable = 1`), and run enough replicas to stay up meanwhile"),
        );
    }
}

fn autoscale(estate: &EstateGraph<'_>, service: &Resource<Service>, out: &mut Vec<Diagnostic>) {
    let Some(autoscale) = &service.spec.autoscale else { return };
    let scale = &autoscale.value;
    let error = |span, message: String, label: &str, help: &str| {
        Diagnostic::new(Code::E0672, span, message).with_primary_label(label).with_help(help)
    };
    if let Some(min) = &scale.min
        && min.value > scale.max.value
    {
        out.push(
            error(
                min.span,
                format!("the autoscaler of service `{}` has `min` above `max`", service.name),
                "above the maximum",
                "lower `min` or raise `max`",
            )
            .with_label(scale.max.span, "the maximum"),
        );
    }
    if let Some(replicas) = &service.spec.replicas {
        out.push(
            error(
                replicas.span,
                format!("service `{}` sets `replicas` beside `autoscale`", service.name),
                "the autoscaler sets the count",
                "remove `replicas`; the autoscaler keeps the count between `min` and `max`",
            )
            .with_label(autoscale.span, "the autoscaler"),
        );
    }
    if scale.cpu.is_none() && scale.metric.is_none() {
        out.push(error(
            autoscale.span,
            format!("the autoscaler of service `{}` watches nothing", service.name),
            "no `cpu` and no `metric`",
            "give it a CPU target (`cpu = \"70%\"`) or a per-pod `metric { name, average }`",
        ));
    }
    let Some(cpu) = &scale.cpu else { return };
    if utilisation(&cpu.value).is_none() {
        out.push(
            Diagnostic::new(
                Code::E0670,
                cpu.span,
                format!("the CPU target of service `{}` is not a whole percentage above 0%", service.name),
            )
            .with_primary_label("not a percentage of the requested CPU")
            .with_help("write the average use to hold, such as `cpu = \"70%\"`"),
        );
        return;
    }
    // Utilisation is a share of the request: without one, the autoscaler cannot compute it.
    let requested = service.spec.resources.as_ref().is_some_and(|r| r.value.cpu.is_some());
    let defaulted = match estate.place(&service.spec.on) {
        Some(Place::Cluster(cluster)) => {
            let index = cluster.spec.namespace_of(service.spec.namespace.as_ref()).unwrap_or(0);
            let namespaces = cluster.spec.namespaces(cluster.name_span);
            namespaces
                .get(index)
                .and_then(|n| n.limits)
                .and_then(|l| l.value.default.as_ref())
                .is_some_and(|d| d.value.cpu.is_some())
        }
        _ => true,
    };
    if !requested && !defaulted {
        out.push(error(
            cpu.span,
            format!("the autoscaler of service `{}` holds a CPU share, but the service requests no CPU", service.name),
            "a share of no request",
            "add `resources { cpu = … }`: the autoscaler measures use against the request",
        ));
    }
}

fn tier(estate: &EstateGraph<'_>, service: &Resource<Service>, on_cluster: bool, out: &mut Vec<Diagnostic>) {
    let Some(tier) = &service.spec.tier else { return };
    let needed = tier.value.min_replicas();
    let runs = service.spec.min_replicas();
    if on_cluster && runs < needed {
        let span = match (&service.spec.autoscale, &service.spec.replicas) {
            (Some(a), _) => a.value.min.as_ref().map_or(a.span, |m| m.span),
            (_, Some(r)) => r.span,
            _ => service.name_span,
        };
        out.push(
            Diagnostic::new(
                Code::E0674,
                span,
                format!(
                    "service `{}` of tier `{}` runs {runs} replica{}, fewer than its tier's {needed}",
                    service.name,
                    tier.value.name(),
                    if runs == 1 { "" } else { "s" }
                ),
            )
            .with_primary_label(format!("at least {needed}"))
            .with_label(tier.span, "the tier")
            .with_note("one pod lost (a node drained, a crash) would take the service down")
            .with_help(match service.spec.autoscale {
                Some(_) => format!("set the autoscaler's `min = {needed}`"),
                None => format!("set `replicas = {needed}`, or lower its tier"),
            }),
        );
    }
    for need in service.spec.needed_services() {
        let Some(other) = estate.service(&need.name) else { continue };
        let Some(theirs) = &other.spec.tier else { continue };
        if theirs.value > tier.value {
            out.push(
                Diagnostic::new(
                    Code::W0670,
                    need.span,
                    format!(
                        "service `{}` of tier `{}` needs service `{}` of the lower tier `{}`",
                        service.name,
                        tier.value.name(),
                        other.name,
                        theirs.value.name()
                    ),
                )
                .with_primary_label("a dependency less critical than its user")
                .with_label(theirs.span, "the lower tier")
                .with_note("the service is only as available as what it needs")
                .with_help(format!(
                    "raise `{}` to tier `{}`, or make the need optional",
                    other.name,
                    tier.value.name()
                )),
            );
        }
    }
}
