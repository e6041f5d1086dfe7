//! Rollouts, disruption budgets, autoscalers and tiers on a cluster (`model::rollout`).
//!
//! - `rollout = rolling { surge, unavailable }`: the app-template controller's `strategy:
//!   RollingUpdate` with `rollingUpdate.{surge,unavailable}`, which the chart writes as the
//!   Deployment's `maxSurge`/`maxUnavailable`. The chart skips a value that is false in Go
//!   templates, so a zero is written `"0%"` (the same amount, and a string is true). A service
//!   without `rollout` keeps the chart's default, `Recreate`. A StatefulSet (a service with a
//!   volume) replaces its pods one at a time and has no surge: E1230.
//! - `rollout = canary { steps, pause }`: an Argo Rollouts `Rollout` taking over the Deployment
//!   ([`crate::canary`]), which then keeps `replicas: 0`; E1241 on a cluster without the
//!   controller, E1242 for a StatefulSet; its `analysis` an `AnalysisTemplate` before it
//!   ([`crate::analysis`]), E1243 on a cluster without a Prometheus.
//! - `rollout = blue-green { … }`: two releases and a switch ([`crate::bluegreen`]).
//! - `disruption { … }`: a `PodDisruptionBudget` (`policy/v1`) selecting the release's pods by the
//!   chart's selector labels; a service of tier `critical` or `high` running two pods or more gets
//!   `maxUnavailable: 1` without one.
//! - `autoscale { … }`: a `HorizontalPodAutoscaler` (`autoscaling/v2`) of the release's
//!   Deployment or StatefulSet (of a canary's `Rollout`), CPU utilisation and a per-pod metric; the controller's `replicas`
//!   is left out (null), so a new release never resets what the autoscaler chose.
//! - a canary: the `Rollout` after the service's budget and autoscaler.
//! - `tier`: a `PriorityClass` (`scheduling.k8s.io/v1`, cluster-wide) per tier the cluster's
//!   services use, written once per cluster, and `priorityClassName` on the pods.
//!
//! The objects are written to `k8s/<cluster>/rollouts.yaml`, each in its service's namespace.

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::Spanned;
use spec_compiler::model::{Amount, Resource, Rollout, Service, Tier};

/// The strategy of an app-template controller.
#[derive(Default)]
pub struct Strategy {
    /// `RollingUpdate`, or the chart's default.
    pub kind: Option<&'static str>,
    /// `rollingUpdate.{surge,unavailable}`.
    pub rolling: Option<Value>,
    /// Whether a canary's `Rollout` runs the pods, the Deployment then keeping none (`replicas: 0`).
    pub taken_over: bool,
}

/// An amount as the chart writes it: a count, a share, and zero as `"0%"` (the chart's `with`
/// would drop a 0, leaving Kubernetes' default of 25%).
fn int_or_string(amount: &Amount) -> Value {
    match amount {
        _ if amount.is_zero() => json!("0%"),
        Amount::Count(n) => json!(n),
        Amount::Share(text) => json!(text),
    }
}

/// An amount as a Kubernetes object holds it (no template in between).
fn plain(amount: &Amount) -> Value {
    match amount {
        Amount::Count(n) => json!(n),
        Amount::Share(text) => json!(text),
    }
}

impl super::Lowering<'_, '_> {
    /// The controller strategy of a service's rollout; E1230 for a surge a StatefulSet cannot do.
    pub fn strategy(&mut self, service: &Resource<Service>, stateful: bool) -> Strategy {
        let Some(rollout) = &service.spec.rollout else { return Strategy::default() };
        let (surge, unavailable): (Option<&Spanned<Amount>>, Option<Value>) = match &rollout.value {
            Rollout::Rolling { surge, unavailable } => {
                (surge.as_ref(), unavailable.as_ref().map(|u| int_or_string(&u.value)))
            }
            Rollout::Canary { .. } => {
                // An Argo Rollouts `Rollout` moves the pods ([`crate::canary`]); the Deployment
                // keeps none of its own.
                let taken_over = self.check_canary(service, stateful);
                return Strategy { taken_over, ..Strategy::default() };
            }
            Rollout::BlueGreen { .. } => return Strategy::default(),
        };
        if stateful {
            let span = surge.map(|s| s.span).unwrap_or(rollout.span);
            let asked = surge.is_some() || unavailable.is_some();
            if asked {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1230,
                        span,
                        format!(
                            "service `{}` runs as a StatefulSet, which has no surge or unavailability",
                            service.name
                        ),
                    )
                    .with_primary_label("a StatefulSet replaces its pods one at a time")
                    .with_note("a service that mounts a cluster volume runs as a StatefulSet")
                    .with_help("write `rollout = rolling {}` for its ordered rolling update"),
                );
            }
            return Strategy { kind: Some("RollingUpdate"), rolling: None, taken_over: false };
        }
        let mut rolling = serde_json::Map::new();
        if let Some(surge) = surge {
            rolling.insert("surge".into(), int_or_string(&surge.value));
        }
        if let Some(unavailable) = unavailable {
            rolling.insert("unavailable".into(), unavailable);
        }
        Strategy {
            kind: Some("RollingUpdate"),
            rolling: (!rolling.is_empty()).then_some(Value::Object(rolling)),
            taken_over: false,
        }
    }

    /// `rollouts.yaml`: the cluster's priority classes, then each service's disruption budget and
    /// autoscaler, in model order.
    pub fn rollout_objects(&self) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        let mut tiers: Vec<Tier> = Vec::new();
        for service in &self.on.services {
            if service.spec.helm.is_some() {
                continue;
            }
            if let Some(tier) = &service.spec.tier
                && !tiers.contains(&tier.value)
            {
                tiers.push(tier.value);
            }
        }
        tiers.sort();
        for tier in tiers {
            let mut metadata = self.metadata(&tier.priority_class());
            if let Some(metadata) = metadata.as_object_mut() {
                metadata.remove("namespace");
            }
            let class = json!({
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": metadata,
                "value": tier.priority(),
                "globalDefault": false,
                "description": format!("spec tier `{}`", tier.name()),
            });
            documents.push((format!("the tier {}", tier.name()), class));
        }
        for service in &self.on.services {
            // A chart's pods carry labels spec does not know (E1205 refuses these there).
            if service.spec.helm.is_some() || service.spec.image.is_none() {
                continue;
            }
            let from = format!("from {}", self.context.provenance(service.span));
            for release in self.releases_of(service) {
                if let Some(budget) = self.disruption_budget(service, &release) {
                    documents.push((from.clone(), budget));
                }
                if let Some(autoscaler) = self.autoscaler(service, &release) {
                    documents.push((from.clone(), autoscaler));
                }
                if let Some(template) = self.analysis_template(service, &release) {
                    documents.push((from.clone(), template));
                }
                if let Some(rollout) = self.canary_rollout(service, &release) {
                    documents.push((from.clone(), rollout));
                }
            }
        }
        documents
    }

    /// The releases a service on the generic chart is installed as: its own name, or one per
    /// colour of a blue-green rollout.
    pub fn releases_of(&self, service: &Resource<Service>) -> Vec<String> {
        match &service.spec.rollout.as_ref().map(|r| &r.value) {
            Some(Rollout::BlueGreen { .. }) => {
                crate::bluegreen::COLOURS.iter().map(|c| crate::bluegreen::colour_release(&service.name, *c)).collect()
            }
            _ => vec![service.name.clone()],
        }
    }

    /// Metadata in the service's namespace.
    pub(crate) fn service_metadata(&self, service: &Resource<Service>, name: &str) -> Value {
        let mut metadata = self.metadata(name);
        metadata["namespace"] = json!(self.namespace_of(service.spec.namespace.as_ref()));
        metadata
    }

    /// The selector of the pods app-template renders for a release's `main` controller.
    pub(crate) fn release_pods(release: &str) -> Value {
        json!({
            "app.kubernetes.io/name": workload_name(release),
            "app.kubernetes.io/instance": workload_name(release),
            "app.kubernetes.io/controller": "main",
        })
    }

    fn disruption_budget(&self, service: &Resource<Service>, release: &str) -> Option<Value> {
        let spec = &service.spec;
        let (field, amount) = match &spec.disruption {
            Some(d) => match (&d.value.min_available, &d.value.max_unavailable) {
                (Some(min), _) => ("minAvailable", plain(&min.value)),
                (_, Some(max)) => ("maxUnavailable", plain(&max.value)),
                _ => return None,
            },
            // Members let one go at a time: a majority (and every shard's primary or its
            // replica) stays up through a drain.
            None if spec.members.as_ref().is_some_and(|m| m.value.as_replicas()) => ("maxUnavailable", json!(1)),
            // A tier that asks for two pods keeps one up through a drain.
            None => {
                let tier = spec.tier.as_ref()?.value;
                if tier.min_replicas() < 2 || spec.min_replicas() < 2 {
                    return None;
                }
                ("maxUnavailable", json!(1))
            }
        };
        Some(json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": self.service_metadata(service, release),
            "spec": { field: amount, "selector": { "matchLabels": Self::release_pods(release) } },
        }))
    }

    fn autoscaler(&self, service: &Resource<Service>, release: &str) -> Option<Value> {
        let scale = &service.spec.autoscale.as_ref()?.value;
        let mut metrics = Vec::new();
        if let Some(cpu) = &scale.cpu {
            let percent = spec_compiler::model::rollout::utilisation(&cpu.value)?;
            metrics.push(json!({
                "type": "Resource",
                "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": percent } },
            }));
        }
        if let Some(metric) = &scale.metric {
            metrics.push(json!({
                "type": "Pods",
                "pods": {
                    "metric": { "name": metric.value.name.value },
                    "target": { "type": "AverageValue", "averageValue": metric.value.average.value.to_string() },
                },
            }));
        }
        // A canary's Rollout runs the pods and serves the scale subresource the autoscaler sets.
        let (api, kind) = match () {
            _ if self.canary_generated(service) => (crate::canary::API_VERSION, "Rollout"),
            _ if self.is_stateful(service) => ("apps/v1", "StatefulSet"),
            _ => ("apps/v1", "Deployment"),
        };
        Some(json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": self.service_metadata(service, release),
            "spec": {
                "scaleTargetRef": { "apiVersion": api, "kind": kind, "name": workload_name(release) },
                "minReplicas": scale.min(),
                "maxReplicas": scale.max.value,
                "metrics": metrics,
            },
        }))
    }

    /// Whether the service mounts a cluster volume (and so runs as a StatefulSet).
    pub fn is_stateful(&self, service: &Resource<Service>) -> bool {
        service.spec.volumes.values().any(|s| self.index.storage(&s.name).is_some_and(|s| s.spec.volume.is_some()))
    }

    /// W1230 for a chart-backed service's tier, which no chart key is known for.
    pub fn chart_priority(&mut self, service: &Resource<Service>) {
        let Some(tier) = &service.spec.tier else { return };
        self.diagnostics.push(
            Diagnostic::new(
                Code::W1230,
                tier.span,
                format!("the pods of service `{}` get no priority class from its chart", service.name),
            )
            .with_primary_label(format!("tier `{}`", tier.value.name()))
            .with_note("the tier still sets the severity of its generated alerts and the replicas it must run")
            .with_help(format!(
                "set the chart's priority class value to `{}` in `helm {{ values {{ … }} }}`",
                tier.value.priority_class()
            )),
        );
    }
}

/// The name app-template gives a release's one controller, and its pods' `app.kubernetes.io/name`:
/// the release's (the chart sets its name override to the release name).
pub fn workload_name(release: &str) -> String {
    crate::releases::release_name(release)
}
