//! A service's `systemd { Section { Key = value } }` merged into its unit file, its GPUs, and
//! the ports of a container on the host's network.
//!
//! Sections are `Unit`, `Service` and `Install`; keys are systemd's own (letters and digits).
//! Values are written as systemd reads them, specifiers (`%h`) expanding as they would in a unit
//! written by hand: text, numbers, booleans (`true`/`false`), durations and sizes, and lists of
//! them (one line each, systemd's repeated settings). A secret becomes a credential:
//! `LoadCredential=<name>:<path>` from its `systemd` backend, and the value its path in the
//! credentials directory, `%d/<name>`; in `EnvironmentFile=`, which systemd reads before it sets
//! credentials up, it is the backend's path itself. Anything else is E1422 at the payload.
//!
//! GPUs are CDI devices (`--device=nvidia.com/gpu=<index>`), indices handed out in service order
//! on the node, so two containers never share one; the host needs the NVIDIA container toolkit's
//! CDI specification (`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`).
//!
//! A container on the host's network (`security { host_network }`) publishes nothing: its program
//! binds the host's addresses itself. spec manages no firewall on these hosts, where a port
//! reaches only the addresses it is published on, so a port not exposed to the public would be
//! open wider than the estate says: E1445 at the port.

use indexmap::IndexMap;
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{Payload, format_duration};
use spec_compiler::model::{Resource, Service};
use spec_compiler::source::Span;

use super::NodeUnits;
use crate::escape::refused_in_units;
use crate::unit::UnitFile;

/// Sections a service unit holds.
const SECTIONS: [&str; 3] = ["Unit", "Service", "Install"];

impl<'a> NodeUnits<'a> {
    /// E1445 for each port of a host-network container that is not exposed to the public.
    pub(super) fn host_network_ports(&mut self, service: &Resource<Service>) {
        let asked = service.spec.security.as_ref().and_then(|s| s.value.host_network.as_ref()).map(|h| h.span);
        for (name, port) in &service.spec.ports {
            if service.spec.expose.is_public(name) {
                continue;
            }
            self.diagnostics.push(
                service.at_use(
                    Diagnostic::new(
                        Code::E1445,
                        port.span,
                        format!(
                            "port `{name}` of service `{}` on the host's network of `{}` is open to whoever reaches the host",
                            service.name, self.node.name
                        ),
                    )
                    .with_primary_label("not exposed to the public, but not published on chosen addresses either")
                    .with_label(asked.unwrap_or(service.name_span), "on the host's network")
                    .with_help("expose the port to the public (`expose = [PORT]`) if it may be, or run the service off the host's network, or on a NixOS node, whose firewall admits exactly who reaches it"),
                ),
            );
        }
    }

    fn refuse_setting(&mut self, service: &Resource<Service>, span: Span, what: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::E1422, span, format!("service `{}`: {what}", service.name))
                .with_primary_label("has no form in the unit file")
                .with_help(
                    "write `Unit`, `Service` or `Install` sections of settings whose values are text, numbers, booleans, lists of them or secrets",
                ),
        );
    }

    /// Merges the payload's settings into `unit`; false when something was refused.
    pub(super) fn unit_settings(
        &mut self,
        service: &Resource<Service>,
        sections: &IndexMap<String, Payload>,
        span: Span,
        unit: &mut UnitFile,
    ) -> bool {
        let mut clean = true;
        for (section, settings) in sections {
            let Payload::Map(settings) = settings.clone() else {
                self.refuse_setting(service, span, &format!("the section `{section}` is not a record of settings"));
                clean = false;
                continue;
            };
            if !SECTIONS.contains(&section.as_str()) {
                self.refuse_setting(service, span, &format!("a service unit has no section `{section}`"));
                clean = false;
                continue;
            }
            for (key, value) in &settings {
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    self.refuse_setting(service, span, &format!("`{key}` is not a setting name"));
                    clean = false;
                    continue;
                }
                let items = match value {
                    Payload::List(items) => items.clone(),
                    single => vec![single.clone()],
                };
                for item in &items {
                    match self.setting_value(item, key == "EnvironmentFile") {
                        Ok((text, credential)) => {
                            if let Some((setting, credential)) = credential {
                                unit.set("Service", setting, credential);
                            }
                            unit.set(section, key, text);
                        }
                        Err(what) => {
                            self.refuse_setting(service, span, &format!("`{key}` in `{section}` holds {what}"));
                            clean = false;
                        }
                    }
                }
            }
        }
        clean
    }

    /// One value as unit-file text, with the credential a secret needs; or what it holds instead.
    /// `direct`: the setting is read before credentials exist (`EnvironmentFile=`), so a secret
    /// there is its file's own path.
    fn setting_value(&mut self, value: &Payload, direct: bool) -> Result<(String, Option<super::Credential>), String> {
        let text = match value {
            Payload::Str(s) | Payload::Symbol(s) => s.clone(),
            Payload::Int(n) => n.to_string(),
            Payload::Bool(b) => b.to_string(),
            Payload::Duration(d) => format_duration(d.0),
            Payload::Size(s) => s.0.to_string(),
            Payload::Reference(r) if r.kind == "secret" && r.field.is_empty() => {
                let has_backend = self.index.secret(&r.name).is_some_and(|s| s.spec.on_systemd().is_some());
                if !has_backend {
                    return Err(format!("the secret `{}`, which has no `systemd` backend", r.name));
                }
                if direct && self.encrypted(&r.name) {
                    return Err(format!(
                        "the secret `{}`, an encrypted credential, which systemd decrypts only into `%d`, after reading this setting",
                        r.name
                    ));
                }
                if direct {
                    let path = self.credential_path(&r.name).ok_or_else(|| format!("the secret `{}`", r.name))?;
                    return Ok((path, None));
                }
                let credential = self.credential(&r.name).ok_or_else(|| format!("the secret `{}`", r.name))?;
                return Ok((format!("%d/{}", r.name), Some(credential)));
            }
            Payload::List(_) | Payload::Map(_) => return Err("a nested list or record".into()),
            _ => return Err("a value a unit file cannot hold".into()),
        };
        let one_line = !text.contains(['\n', '\r', '\0']) && !text.trim_end().ends_with('\\');
        if !one_line || refused_in_units(&text).is_some() {
            return Err("a line break or a character a unit file cannot carry".into());
        }
        Ok((text, None))
    }

    /// podman's `--device` options for a container's GPUs, each its own on the node.
    pub(super) fn gpu_devices(&mut self, count: u32) -> Vec<String> {
        let first = self.gpus;
        self.gpus += count;
        (first..first + count).map(|index| format!("--device=nvidia.com/gpu={index}")).collect()
    }
}
