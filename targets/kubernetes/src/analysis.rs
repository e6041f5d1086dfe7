//! A canary's analysis on a cluster (`rollout = canary { …, analysis { query, max, min, every,
//! failures } }`): an Argo Rollouts `AnalysisTemplate` (`argoproj.io/v1alpha1`, in
//! `k8s/<cluster>/rollouts.yaml`, beside the `Rollout` in the service's namespace) that asks the
//! cluster's Prometheus the query every `every`, and the Rollout's background analysis naming it
//! from its second step on (`startingStep: 1`, once the first share of pods runs the new
//! version). A failing analysis aborts the rollout, which scales the new version back down.
//!
//! - The Prometheus asked is the one that scrapes the services' jobs: the prometheus-operator's
//!   Prometheus of kube-prometheus-stack, which reads the ServiceMonitors spec writes (a job per
//!   service, relabelled to the service's name, as the graph rules' E0766 assumes). Its address is
//!   the chart's Service, `<fullname>-prometheus` in its namespace on `prometheus.service.port`
//!   (9090), the full name derived as the chart's `kube-prometheus-stack.fullname` helper does
//!   (`fullnameOverride`, `nameOverride`, `namespaceOverride` read from the service's values). A
//!   cluster without one is E1243: nothing would answer the query, every measurement would be an
//!   error, and every rollout would abort.
//! - The controller queries Prometheus itself, so where its namespace or Prometheus's denies
//!   traffic (`network_policy = deny`) the policies admit the query ([`analysis_policies`]):
//!   `analysis-to-prometheus` lets the controller's pods (the argo-rollouts chart's
//!   `app.kubernetes.io/instance: <release>` and `app.kubernetes.io/component:
//!   <controller.component>`, `rollouts-controller` by default; not its dashboard's) out to
//!   Prometheus's pods, and `analysis-from-controller` lets them into Prometheus's pods (the labels
//!   prometheus-operator gives them: `app.kubernetes.io/name: prometheus` and `prometheus: <the
//!   Prometheus object's name>`, the chart's `kube-prometheus-stack.prometheus.crname`), on the
//!   port they serve (`web`, 9090, which the chart's Service targets whatever its own port).
//!
//! [`analysis_policies`]: super::Lowering::analysis_policies
//! - A measurement passes when its first value is at most `max` and at least `min`
//!   (`successCondition`), or is NaN: a ratio of no requests, while the canary takes no traffic,
//!   has failed nothing; or when the query has no value at all. An error counter a client library
//!   creates at its first error has no series while nothing fails, so its ratio selects nothing;
//!   indexing the empty result would be an error, and five in a row (Argo's
//!   `consecutiveErrorLimit` of four) would abort a healthy rollout. A query naming a job no
//!   service is scraped as, which would never have a value, is E0766 instead.
//! - `failures` failing measurements fail the run: Argo's `failureLimit` is the failures
//!   tolerated, one fewer.

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{Payload, Transport};
use spec_compiler::model::{Analysis, Resource, Service};

use crate::chart::value_at;

/// The prometheus-community chart whose Prometheus scrapes the ServiceMonitors spec writes.
pub const PROMETHEUS_CHART: &str = "kube-prometheus-stack";

/// The port of the chart's Prometheus Service when its values set none.
const PROMETHEUS_PORT: i64 = 9090;

/// The port Prometheus's pods serve on: prometheus-operator's `web` container port, which the
/// chart's Service targets (`prometheus.service.targetPort`) whatever port the Service has.
const PROMETHEUS_POD_PORT: u16 = 9090;

/// The `app.kubernetes.io/component` label of the argo-rollouts chart's controller pods when its
/// values set none (`controller.component`).
const CONTROLLER_COMPONENT: &str = "rollouts-controller";

/// Whether the service installs kube-prometheus-stack with its Prometheus and that Prometheus's
/// Service (both on unless its values turn them off).
pub fn runs_prometheus(service: &Resource<Service>) -> bool {
    let Some(helm) = &service.spec.helm else { return false };
    let values = &helm.value.values;
    let off = |path: &[&str]| matches!(value_at(values, path), Some(Payload::Bool(false)));
    prometheus_chart(&helm.value) && !off(&["prometheus", "enabled"]) && !off(&["prometheus", "service", "enabled"])
}

/// Whether the chart is kube-prometheus-stack (by its name in a repository, or an OCI path's last
/// segment).
pub(crate) fn prometheus_chart(helm: &spec_compiler::model::HelmChart) -> bool {
    match &helm.name {
        Some(name) => name.value == PROMETHEUS_CHART,
        None => helm.chart.value.rsplit('/').next() == Some(PROMETHEUS_CHART),
    }
}

/// The chart's `kube-prometheus-stack.fullname`: `fullnameOverride`, else the release name when it
/// holds the chart's name (or `nameOverride`), else `<release>-<name>`; cut to 26 characters and
/// one trailing `-` dropped.
fn chart_fullname(release: &str, values: &indexmap::IndexMap<String, Payload>) -> String {
    let text = |key: &str| match values.get(key) {
        Some(Payload::Str(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    };
    let full = match text("fullnameOverride") {
        Some(full) => full.to_string(),
        None => {
            let name = text("nameOverride").unwrap_or(PROMETHEUS_CHART);
            if release.contains(name) { release.to_string() } else { format!("{release}-{name}") }
        }
    };
    let cut: String = full.chars().take(26).collect();
    cut.strip_suffix('-').map_or(cut.clone(), str::to_string)
}

/// The `successCondition` of an analysis: every bound it has, no value and a NaN passing.
fn success_condition(analysis: &Analysis) -> String {
    let mut terms = Vec::new();
    if let Some(Ok(min)) = analysis.min.as_ref().map(|m| m.value.literal()) {
        terms.push(format!("result[0] >= {min}"));
    }
    if let Some(Ok(max)) = analysis.max.as_ref().map(|m| m.value.literal()) {
        terms.push(format!("result[0] <= {max}"));
    }
    format!("len(result) == 0 || isNaN(result[0]) || ({})", terms.join(" && "))
}

/// The name of the `AnalysisTemplate` of a release's canary.
pub fn template_name(release: &str) -> String {
    format!("{}-analysis", crate::rollout::workload_name(release))
}

impl super::Lowering<'_, '_> {
    /// The address of the cluster's Prometheus, `http://<service>.<namespace>.svc.cluster.local:<port>`.
    pub(crate) fn prometheus_address(&self) -> Option<String> {
        let service = self.on.services.iter().copied().find(|s| runs_prometheus(s))?;
        let values = &service.spec.helm.as_ref()?.value.values;
        let release = crate::releases::release_name(&service.name);
        let namespace = self.prometheus_namespace(service);
        let port = match value_at(values, &["prometheus", "service", "port"]) {
            Some(Payload::Int(port)) => *port,
            _ => PROMETHEUS_PORT,
        };
        let name = chart_fullname(&release, values);
        Some(format!("http://{name}-prometheus.{namespace}.svc.cluster.local:{port}"))
    }

    /// The namespace of kube-prometheus-stack's objects: `namespaceOverride`, else the service's.
    fn prometheus_namespace<'s>(&'s self, service: &'s Resource<Service>) -> &'s str {
        match service.spec.helm.as_ref().and_then(|h| h.value.values.get("namespaceOverride")) {
            Some(Payload::Str(ns)) if !ns.is_empty() => ns.as_str(),
            _ => self.namespace_of(service.spec.namespace.as_ref()),
        }
    }

    /// E1243 for a canary's analysis on a cluster without a Prometheus to ask; `true` when the
    /// analysis (if any) can be written.
    pub(crate) fn check_analysis(&mut self, service: &Resource<Service>) -> bool {
        let Some(analysis) = crate::canary::canary_of(service).and_then(|c| c.analysis) else { return true };
        if self.prometheus_address().is_some() {
            return true;
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::E1243,
                analysis.span,
                format!(
                    "the canary analysis of service `{}` has no Prometheus to ask on cluster `{}`",
                    service.name, self.cluster.name
                ),
            )
            .with_primary_label("no service on the cluster runs kube-prometheus-stack's Prometheus")
            .with_note("the analysis asks the Prometheus that scrapes the services' ServiceMonitors; without one every measurement is an error and every rollout aborts")
            .with_help(format!(
                "run kube-prometheus-stack on cluster `{}` (a service with `helm {{ chart = \"https://prometheus-community.github.io/helm-charts\", name = \"kube-prometheus-stack\" }}`), or remove the analysis",
                self.cluster.name
            )),
        );
        false
    }

    /// The policies admitting the analyses' queries in the namespaces of `denied`: the
    /// controller's pods out to Prometheus's where the controller's namespace denies traffic,
    /// Prometheus's pods in from the controller's where Prometheus's does. None when no Rollout
    /// on the cluster has an analysis written.
    pub(crate) fn analysis_policies(&self, denied: &[&str]) -> Vec<(String, Value)> {
        let analysed = self
            .on
            .services
            .iter()
            .any(|s| self.canary_generated(s) && crate::canary::canary_of(s).is_some_and(|c| c.analysis.is_some()));
        let controller = self.on.services.iter().copied().find(|s| crate::canary::runs_controller(s));
        let prometheus = self.on.services.iter().copied().find(|s| runs_prometheus(s));
        let (true, Some(controller), Some(prometheus)) = (analysed, controller, prometheus) else { return Vec::new() };
        let controller_namespace = self.namespace_of(controller.spec.namespace.as_ref());
        let prometheus_namespace = self.prometheus_namespace(prometheus);
        let controller_pods = controller_selector(controller);
        let prometheus_pods = prometheus_selector(prometheus);
        let port = [crate::policies::port_entry(PROMETHEUS_POD_PORT, Transport::Tcp)];
        let mut documents = Vec::new();
        if denied.contains(&controller_namespace) {
            let to = crate::policies::peer(&prometheus_pods, prometheus_namespace, controller_namespace);
            let spec = json!({
                "podSelector": controller_pods,
                "policyTypes": ["Egress"],
                "egress": [{ "to": [to], "ports": port }],
            });
            let from = format!("from {}", self.context.provenance(controller.span));
            documents.push((from, self.policy(controller_namespace, "analysis-to-prometheus", spec)));
        }
        if denied.contains(&prometheus_namespace) {
            let from_pods = crate::policies::peer(&controller_pods, controller_namespace, prometheus_namespace);
            let spec = json!({
                "podSelector": prometheus_pods,
                "policyTypes": ["Ingress"],
                "ingress": [{ "from": [from_pods], "ports": port }],
            });
            let from = format!("from {}", self.context.provenance(prometheus.span));
            documents.push((from, self.policy(prometheus_namespace, "analysis-from-controller", spec)));
        }
        documents
    }

    /// The `AnalysisTemplate` of a canary service's release (`None` without an analysis, or when
    /// no Rollout or no Prometheus is there to use it).
    pub(crate) fn analysis_template(&self, service: &Resource<Service>, release: &str) -> Option<Value> {
        if !self.canary_generated(service) {
            return None;
        }
        let analysis = &crate::canary::canary_of(service)?.analysis?.value;
        let address = self.prometheus_address()?;
        let every = crate::canary::duration_string(&spec_compiler::model::types::Duration(analysis.every_ms()));
        Some(json!({
            "apiVersion": crate::canary::API_VERSION,
            "kind": "AnalysisTemplate",
            "metadata": self.service_metadata(service, &template_name(release)),
            "spec": {
                "metrics": [{
                    "name": crate::rollout::workload_name(release),
                    "interval": every,
                    "failureLimit": analysis.failures().saturating_sub(1),
                    "successCondition": success_condition(analysis),
                    "provider": { "prometheus": { "address": address, "query": analysis.query.value } },
                }],
            },
        }))
    }

    /// The Rollout's background analysis naming the release's template, when one is written.
    pub(crate) fn rollout_analysis(&self, service: &Resource<Service>, release: &str) -> Option<Value> {
        crate::canary::canary_of(service)?.analysis?;
        self.prometheus_address()?;
        Some(json!({ "templates": [{ "templateName": template_name(release) }], "startingStep": 1 }))
    }
}

/// The selector of the argo-rollouts chart's controller pods: its release's, and the controller's
/// component (the dashboard's pods are of the same release).
fn controller_selector(controller: &Resource<Service>) -> Value {
    let component = controller.spec.helm.as_ref().and_then(|h| value_at(&h.value.values, &["controller", "component"]));
    let component = match component {
        Some(Payload::Str(c)) if !c.is_empty() => c.as_str(),
        _ => CONTROLLER_COMPONENT,
    };
    let release = crate::releases::release_name(&controller.name);
    json!({ "matchLabels": { crate::policies::INSTANCE_LABEL: release, "app.kubernetes.io/component": component } })
}

/// The selector of the Prometheus pods prometheus-operator starts for the chart's `Prometheus`:
/// named after that object (`<fullname>-prometheus`, or the full name alone with
/// `cleanPrometheusOperatorObjectNames`).
fn prometheus_selector(prometheus: &Resource<Service>) -> Value {
    let empty = indexmap::IndexMap::new();
    let values = prometheus.spec.helm.as_ref().map_or(&empty, |h| &h.value.values);
    let fullname = chart_fullname(&crate::releases::release_name(&prometheus.name), values);
    let object = match values.get("cleanPrometheusOperatorObjectNames") {
        Some(Payload::Bool(true)) => fullname,
        _ => format!("{fullname}-prometheus"),
    };
    json!({ "matchLabels": { "app.kubernetes.io/name": "prometheus", "prometheus": object } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_name_follows_the_charts_helper() {
        let none = indexmap::IndexMap::new();
        assert_eq!(chart_fullname("monitoring", &none), "monitoring-kube-prometheus");
        assert_eq!(chart_fullname("kube-prometheus-stack", &none), "kube-prometheus-stack");
        assert_eq!(chart_fullname("prom", &none), "prom-kube-prometheus-stack");
        // Cut at 26 characters, a trailing `-` dropped.
        assert_eq!(chart_fullname("observability", &none), "observability-kube-prometh");
        assert_eq!(chart_fullname("abcdefghijklmnopqrstuvwxy", &none), "abcdefghijklmnopqrstuvwxy");
        let mut values = indexmap::IndexMap::new();
        values.insert("nameOverride".to_string(), Payload::Str("kps".into()));
        assert_eq!(chart_fullname("monitoring", &values), "monitoring-kps");
        values.insert("fullnameOverride".to_string(), Payload::Str("prom".into()));
        assert_eq!(chart_fullname("monitoring", &values), "prom");
    }
}
