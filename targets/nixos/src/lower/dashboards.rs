//! Grafana dashboards on NixOS: a node running Grafana (a service whose `nixos { … }` options
//! enable `services.grafana`, such as `std.grafana`) provisions the dashboards of every service of
//! the estate that is not on a cluster (a cluster's Grafana loads its own services' dashboards
//! from ConfigMaps): each file, byte for byte as the model holds it, under
//! [`DASHBOARD_FOLDER`] by `environment.etc` (named `<service>-<file name>`, so two services' files
//! of one name do not meet), and one file provider reading that folder. The JSON travels inside
//! the module, so the output names no path of the machine that built it.
//!
//! When no NixOS node runs Grafana, a service's `dashboards` reach nothing: W1101 at the field.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Model, Resource, Service};
use spec_compiler::target::Index;

use super::{NodeModule, path, with};
use crate::nix::Nix;

/// Where the provisioned dashboards are kept on a Grafana node.
pub const DASHBOARD_FOLDER: &str = "/etc/grafana-dashboards";

/// Whether `service`'s NixOS options run Grafana.
pub fn runs_grafana(service: &Resource<Service>) -> bool {
    let enabled = service.spec.nixos.as_ref().and_then(|n| n.value.get("services.grafana.enable"));
    matches!(enabled, Some(spec_compiler::model::types::Payload::Bool(true)))
}

/// The services whose dashboards a NixOS Grafana provisions: every one not on a cluster.
fn provisioned(model: &Model) -> impl Iterator<Item = &Resource<Service>> {
    model.services.iter().filter(|s| s.spec.on.value.kind != spec_compiler::model::Kind::Cluster.as_str())
}

/// The file name of a dashboard on the Grafana node.
fn file_name(service: &str, named: &str) -> String {
    let base = named.rsplit('/').next().unwrap_or(named);
    format!("{service}-{base}")
}

impl NodeModule<'_> {
    pub(super) fn dashboards(&mut self) {
        let model = self.context.model;
        let Some(grafana) = self.index.on(&self.node.name).services.iter().copied().find(|s| runs_grafana(s)) else {
            return;
        };
        let mut definitions = Vec::new();
        for service in provisioned(model) {
            for named in &service.spec.dashboards {
                let Some(text) = model.dashboards.get(&named.value) else { continue };
                let name = format!(
                    "{}/{}",
                    DASHBOARD_FOLDER.trim_start_matches("/etc/"),
                    file_name(&service.name, &named.value)
                );
                definitions.push((with(path("environment.etc"), &[&name, "text"]), Nix::Str(text.clone())));
            }
        }
        if definitions.is_empty() {
            return;
        }
        let provider = Nix::Attrs(vec![
            ("name".into(), Nix::Str("spec".into())),
            ("type".into(), Nix::Str("file".into())),
            ("options".into(), Nix::Attrs(vec![("path".into(), Nix::Str(DASHBOARD_FOLDER.into()))])),
        ]);
        definitions.push((path("services.grafana.provision.dashboards.settings.apiVersion"), Nix::Int(1)));
        definitions.push((path("services.grafana.provision.dashboards.settings.providers"), Nix::List(vec![provider])));
        self.define_all(definitions, grafana.name_span);
    }
}

/// W1101 at every `dashboards` entry of a service not on a cluster when no NixOS node runs Grafana.
pub fn unprovisioned(model: &Model, index: &Index<'_>) -> Vec<Diagnostic> {
    let grafana_on_nixos = model
        .nodes
        .iter()
        .filter(|n| n.spec.os.value == spec_compiler::model::Os::Nixos)
        .any(|n| index.on(&n.name).services.iter().any(|s| runs_grafana(s)));
    if grafana_on_nixos {
        return Vec::new();
    }
    provisioned(model)
        .flat_map(|service| {
            service.spec.dashboards.iter().map(move |named| {
                Diagnostic::new(
                    Code::W1101,
                    named.span,
                    format!("dashboard `{}` of service `{}` is provisioned nowhere", named.value, service.name),
                )
                .with_primary_label("no NixOS node runs Grafana")
                .with_help("run Grafana on a NixOS node (`use std.grafana`), or remove the dashboard")
            })
        })
        .collect()
}
