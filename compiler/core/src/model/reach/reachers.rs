//! What reaches services: services, one-shot jobs and workflow steps, each with where it runs,
//! whether it runs in a container (or a pod) or on its node's host, and the services it reaches.
//! [`super::derive`] gives every one the same ways in, so a job or a step on one node reaching a
//! service on another is let in exactly as a service there would be.
//!
//! - A service reaches what it `needs`, what it reads in `env` (`service.NAME.host`, `.port`,
//!   `.url`), and what its payload reads (`nixos { … }` read by the node itself, `helm { values }`
//!   by its pods). On a NixOS node it runs on the host when NixOS options run it (a preset's,
//!   even beside an image meant for other targets, or the user's own without an image), which
//!   reaches its own node on loopback; elsewhere a service with an image is a container.
//! - A job reaches what it `needs` and reads in `env`; it always runs in a container or a pod.
//! - A workflow step reaches what it `needs` and reads in `env`, in a container or a pod; a
//!   service it needs elsewhere is E0737 (its unit would not be ordered after it).
//!
//! A job that `needs` a service placed elsewhere cannot be ordered after it (units and Flux order
//! only within one node or cluster): with no `retries` a job that ran first would fail for good,
//! so that is E0677; with `retries` it is tried again until the service answers.

use super::reads::{payload_endpoints, text_reads};
use super::{At, Lookups, Reader};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::PlacementRef;
use crate::model::{Job, Model, Node, Os, Resource, Service, Workflow};
use crate::source::{FileId, Span};

/// Something placed that reaches services.
pub(super) struct Reacher<'m> {
    /// How messages name it: "service `api`", "job `migrate`", "step `load` of workflow `etl`".
    pub who: String,
    /// Its own name, for a help that suggests moving it.
    pub name: &'m str,
    /// Where it runs.
    pub at: At<'m>,
    /// Whether it runs in a container or a pod (else on its node's host, reaching it on loopback).
    pub container: bool,
    /// The services it reaches: each once, where the reference is written and who reads.
    pub reached: Vec<(&'m str, Span, Reader)>,
}

/// Whether `service` runs on `node`'s host rather than in a container: on a NixOS node, when
/// NixOS options run it, a preset's (`preset(span)` says whether a span lies in the stdlib) even
/// beside the image it brings for other targets, or the user's own when there is no image. The
/// NixOS back end runs exactly these as modules, so the ways derived here are the ways it opens.
pub fn runs_on_host(service: &Service, node: &Node, preset: impl Fn(Span) -> bool) -> bool {
    node.os.value == Os::Nixos
        && service.nixos.as_ref().is_some_and(|options| service.image.is_none() || preset(options.span))
}

/// Where something placed `on` runs, resolved.
pub(super) fn at<'m>(lookups: &Lookups<'m>, on: &PlacementRef) -> Option<At<'m>> {
    match on.kind.as_str() {
        "node" => lookups.nodes.get(on.name.as_str()).map(|n| At::Node(n)),
        "cluster" => lookups.clusters.get(on.name.as_str()).map(|c| At::Cluster(c)),
        _ => None,
    }
}

/// `service` as a reacher.
pub(super) fn service<'m>(
    lookups: &Lookups<'m>,
    service: &'m Resource<Service>,
    stdlib: &[FileId],
) -> Option<Reacher<'m>> {
    let at = at(lookups, &service.spec.on)?;
    let on_node = matches!(at, At::Node(_));
    let container = match &at {
        At::Node(node) => {
            service.spec.image.is_some() && !runs_on_host(&service.spec, &node.spec, |s| stdlib.contains(&s.file))
        }
        At::Cluster(_) => true,
    };
    let mut reached: Vec<(&str, Span, Reader)> =
        service.spec.needed_services().map(|n| (n.name.as_str(), n.span, Reader::Workload)).collect();
    add_text_reads(&mut reached, text_reads(&service.spec.env, &service.spec.args, Some(&service.spec.files)));
    // The node reading in its NixOS options, or the chart's values on a cluster: each service
    // once, unless a need or `env` reaches it already.
    for (reference, _) in payload_endpoints(&service.spec, on_node) {
        if !reached.iter().any(|(name, _, _)| *name == reference.name) {
            let reader = if on_node { Reader::Host } else { Reader::Workload };
            reached.push((reference.name.as_str(), reference.span, reader));
        }
    }
    Some(Reacher { who: format!("service `{}`", service.name), name: &service.name, at, container, reached })
}

/// `job` as a reacher, and E0677 for each service it needs elsewhere with nothing to try it again.
pub(super) fn job<'m>(
    lookups: &Lookups<'m>,
    job: &'m Resource<Job>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Reacher<'m>> {
    let at = at(lookups, &job.spec.on)?;
    let mut reached: Vec<(&str, Span, Reader)> =
        job.spec.needed_services().map(|n| (n.name.as_str(), n.span, Reader::Workload)).collect();
    add_text_reads(&mut reached, text_reads(&job.spec.env, &job.spec.args, None));
    if job.spec.retries() == 0 {
        for need in job.spec.needed_services() {
            let Some(needed) = lookups.services.get(need.name.as_str()) else { continue };
            let (here, there) = (&job.spec.on.value, &needed.spec.on.value);
            if here.kind != there.kind || here.name != there.name {
                diagnostics.push(unordered(job, &need.name, need.span, &there.kind, &there.name));
            }
        }
    }
    Some(Reacher { who: format!("job `{}`", job.name), name: &job.name, at, container: true, reached })
}

/// The steps of `workflow` that need or read where a service is, as reachers, and E0737 for each
/// service a step needs elsewhere: its unit could not be ordered after it.
pub(super) fn steps<'m>(
    lookups: &Lookups<'m>,
    workflow: &'m Resource<Workflow>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Reacher<'m>> {
    let mut out = Vec::new();
    for (name, step) in workflow.spec.step.value.iter() {
        let mut reached: Vec<(&str, Span, Reader)> = Vec::new();
        for need in step.value.needed_services() {
            let Some(needed) = lookups.services.get(need.name.as_str()) else { continue };
            let (here, there) = (&workflow.spec.on.value, &needed.spec.on.value);
            if here.kind != there.kind || here.name != there.name {
                diagnostics.push(step_unordered(workflow, name, &needed.name, need.span, &there.kind, &there.name));
                continue;
            }
            reached.push((need.name.as_str(), need.span, Reader::Workload));
        }
        add_text_reads(&mut reached, text_reads(&step.value.env, &step.value.args, None));
        if reached.is_empty() {
            continue;
        }
        let Some(at) = at(lookups, &workflow.spec.on) else { return out };
        out.push(Reacher {
            who: format!("step `{name}` of workflow `{}`", workflow.name),
            name: &workflow.name,
            at,
            container: true,
            reached,
        });
    }
    out
}

/// Each read of where a service is in `env`, `args` or files ([`text_reads`]) of a service not
/// needed already: every read keeps its own span, so a read no way satisfies is reported where it
/// is written.
fn add_text_reads<'m>(reached: &mut Vec<(&'m str, Span, Reader)>, reads: Vec<super::TextRead<'m>>) {
    let needs = reached.len();
    for read in reads {
        let name = read.endpoint.0.name.as_str();
        if !reached[..needs].iter().any(|(reached, _, _)| *reached == name) {
            reached.push((name, read.span, Reader::Workload));
        }
    }
}

/// Every reacher of the model: each service (with its own `expose` handled by the caller), then
/// each job, then each workflow step that reads where a service is.
pub(super) fn jobs_and_steps<'m>(
    model: &'m Model,
    lookups: &Lookups<'m>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Reacher<'m>> {
    let mut out: Vec<Reacher<'m>> = model.jobs.iter().filter_map(|j| job(lookups, j, diagnostics)).collect();
    for workflow in &model.workflows {
        out.extend(steps(lookups, workflow, diagnostics));
    }
    out
}

fn unordered(job: &Resource<Job>, service: &str, span: Span, kind: &str, place: &str) -> Diagnostic {
    let on = &job.spec.on;
    Diagnostic::new(
        Code::E0677,
        span,
        format!(
            "job `{}` on {} `{}` needs service `{service}` on {kind} `{place}`, but nothing tries it again if it runs first",
            job.name, on.kind, on.name
        ),
    )
    .with_primary_label("a service placed elsewhere")
    .with_label(on.span, "the job runs here")
    .with_note(
        "a job starts after what it needs only where it runs: units and Flux order nothing across nodes and clusters, \
         so a job that ran before the service answered would fail for good",
    )
    .with_help(format!(
        "give the job `retries` so it is tried again until the service answers, or place it with service `{service}` (`on = {kind}.{place}`)"
    ))
}

fn step_unordered(
    workflow: &Resource<Workflow>,
    step: &str,
    service: &str,
    span: Span,
    kind: &str,
    place: &str,
) -> Diagnostic {
    let on = &workflow.spec.on;
    workflow.at_use(
        Diagnostic::new(
            Code::E0737,
            span,
            format!(
                "step `{step}` of workflow `{}` on {} `{}` needs service `{service}` on {kind} `{place}`",
                workflow.name, on.value.kind, on.value.name
            ),
        )
        .with_primary_label("a service placed elsewhere")
        .with_label(on.span, "the workflow runs here")
        .with_note("a step is ordered after and reaches only the services placed where its workflow runs")
        .with_help(format!("run the workflow with service `{service}` (`on = {kind}.{place}`)")),
    )
}
