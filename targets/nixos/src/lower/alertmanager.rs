//! Alert routing on NixOS: the node running Alertmanager (a service whose `nixos { … }` options
//! enable `services.prometheus.alertmanager`, such as `std.alertmanager`) gets
//! `services.prometheus.alertmanager.configuration` from the estate's `receiver` and `route`
//! blocks, and every node running Prometheus gets `services.prometheus.alertmanagers` pointing at
//! each Alertmanager (loopback on its own node, else the node's address), so the rules' alerts
//! reach it.
//!
//! The configuration: a root route to the receiver `none` (no channel: what no route takes, the
//! `info` severity unless a route names it, notifies no one), one child route per `route` in source
//! order (first match wins) with a matcher on `severity` and one per label, and an inhibition rule
//! by which a firing `critical` alert silences the `warning` and `info` alerts of the same target
//! (equal `job` and `instance`). Credentials never enter the store: Alertmanager runs with
//! `DynamicUser`, so each secret is handed to the unit as a systemd credential
//! (`LoadCredential=<secret>:<decrypted path>`, read as root) and the configuration names the
//! file in the unit's credentials directory through the `_file` fields Alertmanager supports
//! (`routing_key_file`, `api_url_file`, `auth_password_file`, `url_file`).

use spec_compiler::model::routing::{Credential, runs_alertmanager, severity_name};
use spec_compiler::model::{Receiver, Resource, Route};
use spec_target_prometheus::escape;

use super::{NodeModule, path};
use crate::nix::{Nix, Part};

/// Where systemd puts the credentials of `alertmanager.service`.
const CREDENTIALS: &str = "/run/credentials/alertmanager.service";

/// The receiver the root route sends to: no channel, so it notifies no one.
const NOWHERE: &str = "none";

impl<'a> NodeModule<'a> {
    pub(super) fn alertmanager(&mut self) {
        let model = self.context.model;
        let node = self.node;
        let runs_here = self.index.on(&node.name).services.iter().copied().find(|s| runs_alertmanager(s));
        if let Some(service) = runs_here.filter(|_| !model.receivers.is_empty() || !model.routes.is_empty()) {
            let mut credentials = Vec::new();
            let receivers = std::iter::once(Nix::Attrs(vec![("name".into(), Nix::Str(NOWHERE.into()))]))
                .chain(model.receivers.iter().map(|r| self.receiver(r, &mut credentials)))
                .collect();
            let configuration = Nix::Attrs(vec![
                (
                    "route".into(),
                    Nix::Attrs(vec![
                        ("receiver".into(), Nix::Str(NOWHERE.into())),
                        ("group_by".into(), strings(&["alertname", "job", "instance"])),
                        ("routes".into(), Nix::List(model.routes.iter().map(route).collect())),
                    ]),
                ),
                ("receivers".into(), Nix::List(receivers)),
                (
                    "inhibit_rules".into(),
                    Nix::List(vec![Nix::Attrs(vec![
                        ("source_matchers".into(), strings(&["severity=\"critical\""])),
                        ("target_matchers".into(), strings(&["severity=~\"warning|info\""])),
                        ("equal".into(), strings(&["job", "instance"])),
                    ])]),
                ),
            ]);
            let mut definitions = vec![(path("services.prometheus.alertmanager.configuration"), configuration)];
            if !credentials.is_empty() {
                definitions
                    .push((path("systemd.services.alertmanager.serviceConfig.LoadCredential"), Nix::List(credentials)));
            }
            self.define_all(definitions, service.name_span);
        }
        if !self.scrapers.contains(node.name.as_str()) {
            return;
        }
        let mut targets = Vec::new();
        for service in model.services.iter().filter(|s| runs_alertmanager(s) && s.spec.on.kind == "node") {
            let Some(port) = service.spec.ports.values().next() else { continue };
            let address = if service.spec.on.name == node.name {
                Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
            } else {
                self.index.node(&service.spec.on.name).and_then(|n| n.spec.address.as_ref()).map(|a| a.value.0)
            };
            if let Some(address) = address {
                targets.push(Nix::Str(spec_compiler::target::host_port(address, port.value.number)));
            }
        }
        if !targets.is_empty() {
            let alertmanagers = Nix::List(vec![Nix::Attrs(vec![(
                "static_configs".into(),
                Nix::List(vec![Nix::Attrs(vec![("targets".into(), Nix::List(targets))])]),
            )])]);
            self.define(path("services.prometheus.alertmanagers"), alertmanagers, node.name_span);
        }
    }

    /// One receiver, its credentials handed to the unit.
    fn receiver(&mut self, receiver: &'a Resource<Receiver>, credentials: &mut Vec<Nix>) -> Nix {
        let spec = &receiver.spec;
        let mut fields = vec![("name".to_string(), Nix::Str(receiver.name.clone()))];
        let mut file = |this: &mut Self, credential: &'a Credential| -> Nix {
            let Some(secret) = credential.secret() else { return Nix::Str(String::new()) };
            let decrypted = this.secret_path(&secret.name, secret.span);
            this.read_by(&secret.name, "alertmanager.service".into());
            let loaded =
                Nix::Interpolated(vec![Part::Text(format!("{}:", secret.name)), super::secrets::part(decrypted)]);
            // Receivers sharing a secret (one SMTP account for two addresses) share its
            // credential: systemd refuses a unit loading one credential name twice.
            if !credentials.contains(&loaded) {
                credentials.push(loaded);
            }
            Nix::Str(format!("{CREDENTIALS}/{}", secret.name))
        };
        if let Some(pagerduty) = &spec.pagerduty {
            let key = file(self, &pagerduty.value.key.value);
            fields.push(("pagerduty_configs".into(), one(vec![("routing_key_file", key)])));
        }
        if let Some(slack) = &spec.slack {
            let mut config = vec![("api_url_file", file(self, &slack.value.url.value))];
            if let Some(channel) = &slack.value.channel {
                config.push(("channel", Nix::Str(channel.value.clone())));
            }
            fields.push(("slack_configs".into(), one(config)));
        }
        if let Some(email) = &spec.email {
            let email = &email.value;
            let username = email.username.as_ref().unwrap_or(&email.from);
            let config = vec![
                ("to", Nix::Str(email.to.value.clone())),
                ("from", Nix::Str(email.from.value.clone())),
                ("smarthost", Nix::Str(email.smarthost.value.clone())),
                ("auth_username", Nix::Str(username.value.clone())),
                ("auth_password_file", file(self, &email.password.value)),
            ];
            fields.push(("email_configs".into(), one(config)));
        }
        if let Some(webhook) = &spec.webhook {
            let url = file(self, &webhook.value.url.value);
            fields.push(("webhook_configs".into(), one(vec![("url_file", url)])));
        }
        Nix::Attrs(fields)
    }
}

/// A child route: its receiver, a matcher on `severity` and one per label.
fn route(route: &Resource<Route>) -> Nix {
    let spec = &route.spec;
    let severities: Vec<&str> = spec.severities().into_iter().map(severity_name).collect();
    let mut matchers = vec![Nix::Str(format!("severity=~\"{}\"", severities.join("|")))];
    for (name, value) in &spec.labels {
        matchers.push(Nix::Str(format!("{name}={}", escape::promql_string(&value.value))));
    }
    let mut fields = vec![
        ("receiver".to_string(), Nix::Str(spec.to.value.name.clone())),
        ("matchers".to_string(), Nix::List(matchers)),
    ];
    if let Some(repeat) = &spec.repeat {
        fields.push(("repeat_interval".into(), Nix::Str(format!("{}s", (repeat.value.0 / 1000).max(1)))));
    }
    Nix::Attrs(fields)
}

/// A list of one config block.
fn one(fields: Vec<(&str, Nix)>) -> Nix {
    Nix::List(vec![Nix::Attrs(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())])
}

fn strings(items: &[&str]) -> Nix {
    Nix::List(items.iter().map(|s| Nix::Str((*s).to_string())).collect())
}
