//! `k8s/<cluster>/alerting.yaml`: alert routing on a cluster, a prometheus-operator
//! `AlertmanagerConfig` (`monitoring.coreos.com/v1alpha1`) from the estate's `receiver` and `route`
//! blocks, written to every cluster once the estate has routes (the clusters' alerts are
//! `PrometheusRule`s, so the operator and its Alertmanager are there; its
//! `alertmanagerConfigSelector` must select the object).
//!
//! The same routing as on NixOS: a root route to the receiver `none` (no channel: what no route
//! takes, `info` unless a route names it, notifies no one), a child route per `route` in source
//! order with a `severity` matcher and one per label, and an inhibition rule by which a firing
//! `critical` alert silences the `warning` and `info` alerts with the same `job` and `instance`.
//! Credentials are Secret key selectors: the existing Secret, or the one the `ExternalSecret` in
//! `secrets.yaml` creates under the spec's secret name. The operator adds a `namespace` matcher
//! to the root route, so the object routes the alerts of the cluster's namespace.

use serde_json::{Value, json};
use spec_compiler::model::routing::{Credential, severity_name};
use spec_compiler::model::{Receiver, Resource, Route};

/// The receiver the root route sends to: no channel, so it notifies no one.
const NOWHERE: &str = "none";

impl super::Lowering<'_, '_> {
    /// The cluster's `AlertmanagerConfig`, when the estate routes alerts.
    pub(crate) fn alertmanager_config(&self) -> Vec<(String, Value)> {
        let model = self.context.model;
        if model.routes.is_empty() {
            return Vec::new();
        }
        let receivers: Vec<Value> = std::iter::once(json!({ "name": NOWHERE }))
            .chain(model.receivers.iter().map(|r| self.receiver(r)))
            .collect();
        let spec = json!({
            "route": {
                "receiver": NOWHERE,
                "groupBy": ["alertname", "job", "instance"],
                "routes": model.routes.iter().map(route).collect::<Vec<_>>(),
            },
            "receivers": receivers,
            "inhibitRules": [{
                "sourceMatch": [matcher("severity", "=", "critical")],
                "targetMatch": [matcher("severity", "=~", "warning|info")],
                "equal": ["job", "instance"],
            }],
        });
        let from = model.routes.first().map_or(self.cluster.span, |r| r.span);
        let document = json!({
            "apiVersion": "monitoring.coreos.com/v1alpha1",
            "kind": "AlertmanagerConfig",
            "metadata": self.metadata("alert-routing"),
            "spec": spec,
        });
        vec![(format!("from {}", self.context.provenance(from)), document)]
    }

    /// A receiver with its credential as a Secret key selector.
    fn receiver(&self, receiver: &Resource<Receiver>) -> Value {
        let spec = &receiver.spec;
        let secret = |credential: &Credential| {
            credential.secret().and_then(|s| self.secret_key_ref(&s.name)).unwrap_or(Value::Null)
        };
        let mut value = json!({ "name": receiver.name });
        if let Some(pagerduty) = &spec.pagerduty {
            value["pagerdutyConfigs"] = json!([{ "routingKey": secret(&pagerduty.value.key.value) }]);
        }
        if let Some(slack) = &spec.slack {
            let mut config = json!({ "apiURL": secret(&slack.value.url.value) });
            if let Some(channel) = &slack.value.channel {
                config["channel"] = json!(channel.value);
            }
            value["slackConfigs"] = json!([config]);
        }
        if let Some(email) = &spec.email {
            let email = &email.value;
            let username = email.username.as_ref().unwrap_or(&email.from);
            value["emailConfigs"] = json!([{
                "to": email.to.value,
                "from": email.from.value,
                "smarthost": email.smarthost.value,
                "authUsername": username.value,
                "authPassword": secret(&email.password.value),
            }]);
        }
        if let Some(webhook) = &spec.webhook {
            value["webhookConfigs"] = json!([{ "urlSecret": secret(&webhook.value.url.value) }]);
        }
        value
    }

    /// The secrets the receivers read, when this cluster gets an `AlertmanagerConfig`.
    pub(crate) fn alerting_secrets(&self) -> Vec<&str> {
        let model = self.context.model;
        if model.routes.is_empty() {
            return Vec::new();
        }
        model
            .receivers
            .iter()
            .flat_map(|r| r.spec.credentials())
            .filter_map(|c| c.value.secret())
            .map(|s| s.name.as_str())
            .collect()
    }
}

/// A child route: its receiver, a matcher on `severity` and one per label.
fn route(route: &Resource<Route>) -> Value {
    let spec = &route.spec;
    let severities: Vec<&str> = spec.severities().into_iter().map(severity_name).collect();
    let mut matchers = vec![matcher("severity", "=~", &severities.join("|"))];
    matchers.extend(spec.labels.iter().map(|(name, value)| matcher(name, "=", &value.value)));
    let mut value = json!({ "receiver": spec.to.value.name, "matchers": matchers });
    if let Some(repeat) = &spec.repeat {
        value["repeatInterval"] = json!(format!("{}s", (repeat.value.0 / 1000).max(1)));
    }
    value
}

fn matcher(name: &str, match_type: &str, value: &str) -> Value {
    json!({ "name": name, "matchType": match_type, "value": value })
}
