//! The ways jobs reach the services they need or read (`service.NAME.host` in `env`).
//!
//! A job runs where what needs it runs, and reaches only services placed there too: on its own
//! cluster a Service's DNS name, on its own node the host's address on podman's bridge (the
//! container way, which the back ends open like a container service's). A need or read of a
//! service placed elsewhere is E0677: the job would run before anything opened a way to it.

use super::{Lookups, Opening, Reach, container_way, metrics_only};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{EnvValue, Job, Model, Resource};
use crate::source::Span;

/// Adds the container ways of jobs on nodes to the services they reach there, and reports what a
/// job reaches elsewhere.
pub(super) fn derive(model: &Model, lookups: &Lookups<'_>, reach: &mut Reach, diagnostics: &mut Vec<Diagnostic>) {
    for job in &model.jobs {
        let on = &job.spec.on.value;
        let mut reached: Vec<(&str, Span)> = job.spec.needed_services().map(|n| (n.name.as_str(), n.span)).collect();
        for value in job.spec.env.values() {
            if let EnvValue::Endpoint(endpoint) = &value.value
                && !reached.iter().any(|(name, _)| *name == endpoint.0.name)
            {
                reached.push((endpoint.0.name.as_str(), value.span));
            }
        }
        for (name, span) in reached {
            let Some(needed) = lookups.services.get(name).copied() else { continue };
            let there = &needed.spec.on.value;
            if there.kind != on.kind || there.name != on.name {
                diagnostics.push(elsewhere(job, name, span, &needed.spec.on.value.kind, &there.name));
                continue;
            }
            // On the same cluster the Service is reached inside it; on the same node, from
            // podman's bridge.
            if on.kind == "node" {
                let openings = reach.openings.entry(needed.name.clone()).or_default();
                for port in needed.spec.ports.keys().filter(|port| !metrics_only(needed, port)) {
                    openings.push(Opening { port: port.clone(), way: container_way() });
                }
            }
        }
    }
}

fn elsewhere(job: &Resource<Job>, service: &str, span: Span, kind: &str, place: &str) -> Diagnostic {
    let on = &job.spec.on;
    Diagnostic::new(
        Code::E0677,
        span,
        format!("job `{}` on {} `{}` reaches service `{service}` on {kind} `{place}`", job.name, on.kind, on.name),
    )
    .with_primary_label("a service placed elsewhere")
    .with_label(on.span, "the job runs here")
    .with_note(
        "a job reaches only the services placed where it runs: nothing opens a way for it to another node or cluster",
    )
    .with_help(format!("place the job with service `{service}` (`on = {kind}.{place}`)"))
}
