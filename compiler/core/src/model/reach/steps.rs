//! The ways workflow steps reach the services they need.
//!
//! A step that `needs` a service runs after it is up and reaches its ports, as a job does: only
//! where the workflow runs, on its own cluster a Service's DNS name, on its own node the host's
//! address on podman's bridge (the container way, which the back ends open like a container
//! service's). A need of a service placed elsewhere is E0737: nothing would order the step's unit
//! after it, or open a way to it.

use super::{Lookups, Opening, Reach, container_way, metrics_only};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::Model;

/// Adds the container ways of steps on nodes to the services they need there, and reports what a
/// step needs elsewhere.
pub(super) fn derive(model: &Model, lookups: &Lookups<'_>, reach: &mut Reach, diagnostics: &mut Vec<Diagnostic>) {
    for workflow in &model.workflows {
        let on = &workflow.spec.on.value;
        for (step_name, step) in workflow.spec.step.iter() {
            for need in step.value.needed_services() {
                let Some(needed) = lookups.services.get(need.name.as_str()).copied() else { continue };
                let there = &needed.spec.on.value;
                if there.kind != on.kind || there.name != on.name {
                    diagnostics.push(
                        workflow.at_use(
                            Diagnostic::new(
                                Code::E0737,
                                need.span,
                                format!(
                                    "step `{step_name}` of workflow `{}` on {} `{}` needs service `{}` on {} `{}`",
                                    workflow.name, on.kind, on.name, needed.name, there.kind, there.name
                                ),
                            )
                            .with_primary_label("a service placed elsewhere")
                            .with_label(workflow.spec.on.span, "the workflow runs here")
                            .with_note(
                                "a step is ordered after and reaches only the services placed where its workflow runs",
                            )
                            .with_help(format!(
                                "run the workflow with service `{}` (`on = {}.{}`)",
                                needed.name, there.kind, there.name
                            )),
                        ),
                    );
                    continue;
                }
                if on.kind == "node" {
                    let openings = reach.openings.entry(needed.name.clone()).or_default();
                    for port in needed.spec.ports.keys().filter(|port| !metrics_only(needed, port)) {
                        openings.push(Opening { port: port.clone(), way: container_way() });
                    }
                }
            }
        }
    }
}
