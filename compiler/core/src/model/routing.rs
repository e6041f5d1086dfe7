//! Alert routing: `receiver NAME { … }`, where notifications go, and `route NAME { … }`, which
//! alerts go to which receiver. Both lower to Alertmanager's configuration (NixOS) and to an
//! `AlertmanagerConfig` (clusters).
//!
//! Invariants the back ends rely on: a receiver has exactly one channel once the graph rules pass
//! (E0626 otherwise), and every URL, key and password is a secret by reference (a literal there
//! is E0613: it would land in the Nix store or a manifest). Routes are tried in source order,
//! first match wins. A route takes `critical` and `warning` unless it lists severities: `info` is
//! routed nowhere unless a route names it, so the root route's receiver receives nothing.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Severity;
use super::types::*;

/// Where notifications go: one channel.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    /// Page someone through PagerDuty (Events API v2).
    pub pagerduty: Option<Spanned<PagerDuty>>,
    /// Post to a Slack channel through an incoming webhook.
    pub slack: Option<Spanned<Slack>>,
    /// Send mail through an SMTP server.
    pub email: Option<Spanned<Email>>,
    /// POST the alerts as JSON to a URL.
    pub webhook: Option<Spanned<Webhook>>,
}

/// A credential: a secret by reference. A literal is accepted by the schema only so the graph
/// rules can say where it belongs (E0613) instead of a bare type error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Credential {
    /// A literal: refused by the graph rules.
    Text(String),
    /// The secret holding it.
    Secret(SecretRef),
}

impl Credential {
    /// The secret, once the graph rules have refused literals.
    pub fn secret(&self) -> Option<&SecretRef> {
        match self {
            Credential::Secret(secret) => Some(secret),
            Credential::Text(_) => None,
        }
    }
}

/// A PagerDuty service.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PagerDuty {
    /// The integration's routing key.
    pub key: Spanned<Credential>,
}

/// A Slack channel.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slack {
    /// The incoming webhook's URL (it is the credential).
    pub url: Spanned<Credential>,
    /// The channel, `#alerts`. Default: the webhook's own.
    pub channel: Option<Spanned<String>>,
}

/// Mail through an SMTP server.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// The address notifications go to.
    pub to: Spanned<String>,
    /// The sender's address.
    pub from: Spanned<String>,
    /// The SMTP server, `host:port`.
    pub smarthost: Spanned<String>,
    /// The SMTP user. Default: the sender's address.
    pub username: Option<Spanned<String>>,
    /// The SMTP password.
    pub password: Spanned<Credential>,
}

/// A webhook.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// The URL (it may carry a token, so it is a secret).
    pub url: Spanned<Credential>,
}

impl Receiver {
    /// The channels set, by field name and span (one once the graph rules pass).
    pub fn channels(&self) -> Vec<(&'static str, crate::source::Span)> {
        let mut channels = Vec::new();
        if let Some(c) = &self.pagerduty {
            channels.push(("pagerduty", c.span));
        }
        if let Some(c) = &self.slack {
            channels.push(("slack", c.span));
        }
        if let Some(c) = &self.email {
            channels.push(("email", c.span));
        }
        if let Some(c) = &self.webhook {
            channels.push(("webhook", c.span));
        }
        channels
    }

    /// Every credential of the receiver, whatever its channel.
    pub fn credentials(&self) -> Vec<&Spanned<Credential>> {
        let mut credentials = Vec::new();
        credentials.extend(self.pagerduty.iter().map(|c| &c.value.key));
        credentials.extend(self.slack.iter().map(|c| &c.value.url));
        credentials.extend(self.email.iter().map(|c| &c.value.password));
        credentials.extend(self.webhook.iter().map(|c| &c.value.url));
        credentials
    }
}

/// Which alerts go to a receiver: those of the listed severities carrying every listed label.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The receiver.
    pub to: Spanned<ReceiverRef>,
    /// The severities it takes. Default: `[critical, warning]` (`info` only when named).
    #[serde(default)]
    pub severity: Vec<Spanned<Severity>>,
    /// Label values the alert must carry (`tier = "primary"`, `service = "db"`).
    #[serde(default)]
    pub labels: IndexMap<String, Spanned<String>>,
    /// How long before a notification still firing is sent again. Default: Alertmanager's, 4h.
    pub repeat: Option<Spanned<Duration>>,
}

impl Route {
    /// Whether the route takes alerts of `severity`.
    pub fn takes(&self, severity: Severity) -> bool {
        if self.severity.is_empty() {
            severity != Severity::Info
        } else {
            self.severity.iter().any(|s| s.value == severity)
        }
    }

    /// The severities the route takes, in the order critical, warning, info.
    pub fn severities(&self) -> Vec<Severity> {
        [Severity::Critical, Severity::Warning, Severity::Info].into_iter().filter(|s| self.takes(*s)).collect()
    }
}

/// The label name of a severity, as the Prometheus back end writes it.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Whether a service's NixOS options enable Alertmanager (the `std.alertmanager` preset does).
pub fn runs_alertmanager(service: &super::Resource<super::Service>) -> bool {
    let enabled = service.spec.nixos.as_ref().and_then(|n| n.value.get("services.prometheus.alertmanager.enable"));
    matches!(enabled, Some(Payload::Bool(true)))
}
