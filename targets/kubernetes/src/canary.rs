//! Canary rollouts on a cluster, run by Argo Rollouts (`rollout = canary { steps, pause }`).
//!
//! A canary service's release is the generic chart's Deployment, as any other service's; an Argo
//! Rollouts `Rollout` (`argoproj.io/v1alpha1`, in `k8s/<cluster>/rollouts.yaml`) takes it over by
//! `workloadRef`: the Rollout runs the pods of the Deployment's template in ReplicaSets of its own,
//! and moves them to a new template by the service's steps, each a `setWeight` (the share of the
//! pods running the new version), with a `pause` after each step but the last (`pause = 5m`, or
//! until the rollout is promoted by hand when the spec gives no duration). Aborting a canary
//! (`kubectl argo rollouts abort`) scales the new version back down: the rollback.
//!
//! Invariants:
//! - The Deployment keeps `replicas: 0` in the chart's values, so a new release of the chart never
//!   starts pods beside the Rollout's (nor rolls the new version out by itself, bypassing the
//!   steps); the Rollout holds the count (`replicas`), or the autoscaler does, whose
//!   `scaleTargetRef` is then the Rollout. `workloadRef.scaleDown: onsuccess` scales a Deployment
//!   that ran pods before (a service moving to a canary) down once the Rollout is healthy.
//! - The Rollout's selector is the chart's selector labels of the release's `main` controller, the
//!   labels its pods carry: the chart's Service, the disruption budget and the network policies
//!   select the Rollout's pods as they selected the Deployment's.
//! - No traffic router: the weight is the share of the pods (Argo's basic canary), so a step the
//!   replicas cannot express is W0672 in the graph rules. `maxUnavailable: 0` keeps the full
//!   count of pods serving through every step.
//!
//! A canary's `analysis` is an `AnalysisTemplate` the Rollout runs in the background
//! ([`crate::analysis`]): a failing analysis aborts the rollout without anyone at the keyboard.
//!
//! Refused: a canary on a cluster where no service runs the Argo Rollouts controller (E1241,
//! naming `std.argo_rollouts`), and a canary of a service that runs as a StatefulSet (E1242: a
//! `workloadRef` names a Deployment, ReplicaSet or PodTemplate only).

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{Duration, Spanned};
use spec_compiler::model::{Amount, Analysis, Resource, Rollout, Service};

/// The argo-helm chart that installs the controller (and the Rollout CRDs), as `std.argo_rollouts`
/// installs it: a service running it makes canaries possible on its cluster.
pub const CONTROLLER_CHART: &str = "argo-rollouts";

/// The API of the Rollout objects.
pub const API_VERSION: &str = "argoproj.io/v1alpha1";

/// The steps and pause of a service's canary.
pub struct Canary<'s> {
    pub steps: &'s [Spanned<Amount>],
    pub pause: Option<&'s Spanned<Duration>>,
    pub analysis: Option<&'s Spanned<Analysis>>,
}

/// The canary of a service, when its rollout is one (whether or not it can be generated).
pub fn canary_of(service: &Resource<Service>) -> Option<Canary<'_>> {
    match &service.spec.rollout.as_ref()?.value {
        Rollout::Canary { steps, pause, analysis } => {
            Some(Canary { steps: &steps.value, pause: pause.as_ref(), analysis: analysis.as_ref() })
        }
        _ => None,
    }
}

/// Whether a service installs the Argo Rollouts controller: the argo-helm chart `argo-rollouts`
/// (by repository and name, or an OCI reference ending in it).
pub fn runs_controller(service: &Resource<Service>) -> bool {
    let Some(helm) = &service.spec.helm else { return false };
    match &helm.value.name {
        Some(name) => name.value == CONTROLLER_CHART,
        None => helm.value.chart.value.rsplit('/').next() == Some(CONTROLLER_CHART),
    }
}

/// A pause as Argo Rollouts reads it: whole seconds in the largest unit that divides them
/// (`5m`, `90s`; the graph rules refuse a pause that is not whole seconds, E0764).
pub(crate) fn duration_string(pause: &Duration) -> String {
    let seconds = pause.0 / 1000;
    match seconds {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl super::Lowering<'_, '_> {
    /// The service on this cluster that runs the Argo Rollouts controller.
    fn rollouts_controller(&self) -> Option<&Resource<Service>> {
        self.on.services.iter().copied().find(|s| runs_controller(s))
    }

    /// Whether the service's canary becomes a `Rollout` here: a canary on the generic chart's
    /// Deployment, on a cluster running the controller.
    pub fn canary_generated(&self, service: &Resource<Service>) -> bool {
        canary_of(service).is_some()
            && service.spec.helm.is_none()
            && !self.is_stateful(service)
            && self.rollouts_controller().is_some()
    }

    /// E1241 for a canary without the controller, E1242 for one of a StatefulSet; `true` when the
    /// canary is generated (its Deployment then keeps no pod of its own).
    pub fn check_canary(&mut self, service: &Resource<Service>, stateful: bool) -> bool {
        let Some(rollout) = &service.spec.rollout else { return false };
        if canary_of(service).is_none() {
            return false;
        }
        if stateful {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1242,
                    rollout.span,
                    format!("the canary of service `{}` cannot take over a StatefulSet", service.name),
                )
                .with_primary_label("a service with a cluster volume runs as a StatefulSet")
                .with_note("an Argo Rollouts `Rollout` takes over a Deployment's pods (`workloadRef`); a StatefulSet's pods keep their names and claims, which its ReplicaSets cannot")
                .with_help("keep the data outside the service so it runs as a Deployment, or write `rollout = rolling {}` for the StatefulSet's ordered update"),
            );
            return false;
        }
        if self.rollouts_controller().is_none() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1241,
                    rollout.span,
                    format!(
                        "the canary of service `{}` needs the Argo Rollouts controller on cluster `{}`",
                        service.name, self.cluster.name
                    ),
                )
                .with_primary_label("no service on the cluster runs Argo Rollouts")
                .with_note("the steps and pauses are an Argo Rollouts `Rollout`, which only its controller carries out; without it the Deployment would roll out at once")
                .with_help(format!(
                    "run the controller on the cluster: `import std.argo_rollouts` and `service argo-rollouts {{ on = cluster.{}, use std.argo_rollouts }}`",
                    self.cluster.name
                )),
            );
            return false;
        }
        self.check_analysis(service);
        true
    }

    /// The `Rollout` taking over a canary service's Deployment (`None` when not generated).
    pub fn canary_rollout(&self, service: &Resource<Service>, release: &str) -> Option<Value> {
        if !self.canary_generated(service) {
            return None;
        }
        let canary = canary_of(service)?;
        let mut steps = Vec::new();
        for (i, step) in canary.steps.iter().enumerate() {
            let Ok(Some(percent)) = step.value.percent() else { continue };
            steps.push(json!({ "setWeight": percent }));
            if i + 1 < canary.steps.len() {
                steps.push(match canary.pause {
                    Some(pause) => json!({ "pause": { "duration": duration_string(&pause.value) } }),
                    None => json!({ "pause": {} }),
                });
            }
        }
        let workload = crate::rollout::workload_name(release);
        let mut spec = serde_json::Map::new();
        // An autoscaler owns the count (its `scaleTargetRef` is this Rollout).
        if service.spec.autoscale.is_none() {
            spec.insert("replicas".into(), json!(service.spec.replicas()));
        }
        spec.insert("selector".into(), json!({ "matchLabels": Self::release_pods(release) }));
        spec.insert(
            "workloadRef".into(),
            json!({ "apiVersion": "apps/v1", "kind": "Deployment", "name": workload, "scaleDown": "onsuccess" }),
        );
        let mut strategy = json!({ "maxUnavailable": 0, "steps": steps });
        if let Some(analysis) = self.rollout_analysis(service, release) {
            strategy["analysis"] = analysis;
        }
        spec.insert("strategy".into(), json!({ "canary": strategy }));
        Some(json!({
            "apiVersion": API_VERSION,
            "kind": "Rollout",
            "metadata": self.service_metadata(service, release),
            "spec": spec,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_is_written_in_its_largest_whole_unit() {
        assert_eq!(duration_string(&Duration(300_000)), "5m");
        assert_eq!(duration_string(&Duration(90_000)), "90s");
        assert_eq!(duration_string(&Duration(7_200_000)), "2h");
        assert_eq!(duration_string(&Duration(86_400_000)), "24h");
    }
}
