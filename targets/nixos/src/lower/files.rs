//! A service's configuration files on NixOS, written to the host by `environment.etc` (a file in
//! the Nix store linked under `/etc`).
//!
//! A container's files go to `/etc/spec/<service>/<key>` ([`spec_compiler::model::files`]) and
//! are bind-mounted read-only at their paths (`volumes`); their texts are the container unit's
//! `restartTriggers`, so a changed file restarts the container, which bound the old one. A
//! service run by its NixOS options reads its files where they are written, so a file must be
//! under `/etc` (E1160), and a changed file restarts its service unit when it names one.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::files::{file_keys, host_folder};
use spec_compiler::model::types::Endpoint;
use spec_compiler::model::{Resource, Service};
use spec_compiler::source::Origin;

use super::units::unit_of;
use super::{NodeModule, path, with};
use crate::nix::Nix;

impl<'a> NodeModule<'a> {
    /// Writes a container's files and returns their bind mounts, `SOURCE:PATH:ro`.
    pub(super) fn container_files(&mut self, service: &'a Resource<Service>, containers: &[String]) -> Vec<Nix> {
        let files = &service.spec.files;
        let mut mounts = Vec::new();
        let mut texts = Vec::new();
        let folder = host_folder(&service.name);
        for (target, key) in file_keys(files) {
            let content = &files[target];
            // The container reads the file: where services are, as it finds them.
            let fill = &mut |e: &Endpoint| self.reach.resolve(&service.spec.on, e);
            let Some(text) = content.value.text(spec_yaml::to_string, fill) else { continue };
            let etc = format!("{}/{key}", folder.trim_start_matches("/etc/"));
            self.define(
                vec!["environment".into(), "etc".into(), etc, "text".into()],
                Nix::Str(text.clone()),
                content.span,
            );
            mounts.push(Nix::Str(format!("{folder}/{key}:{target}:ro")));
            texts.push(Nix::Str(text));
        }
        if !texts.is_empty() {
            // Each container the service runs as (both colours of a blue-green one).
            for name in containers {
                let unit = format!("podman-{name}");
                self.define(
                    with(path("systemd.services"), &[&unit, "restartTriggers"]),
                    Nix::List(texts.clone()),
                    service.name_span,
                );
            }
        }
        mounts
    }

    /// Writes the files of a service its NixOS options run, each at its own path under `/etc`.
    pub(super) fn module_files(&mut self, service: &'a Resource<Service>) {
        let mut texts = Vec::new();
        for (target, content) in &service.spec.files {
            let span = if self.context.sources.get(content.span.file).origin == Origin::Stdlib {
                service.name_span
            } else {
                content.span
            };
            let Some(name) = target.strip_prefix("/etc/") else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1160,
                        span,
                        format!("service `{}`: the file `{target}` is outside `/etc` on NixOS node `{}`", service.name, self.node.name),
                    )
                    .with_primary_label("`environment.etc` writes under `/etc` only")
                    .with_help("put the file under `/etc` and point the module's options at it; a container's files may go anywhere"),
                );
                continue;
            };
            // The module's program reads the file on the host: a service on this node is on loopback.
            let fill = &mut |e: &Endpoint| self.reach.resolve_on_host(&service.spec.on, e);
            let Some(text) = content.value.text(spec_yaml::to_string, fill) else { continue };
            self.define(
                vec!["environment".into(), "etc".into(), name.to_string(), "text".into()],
                Nix::Str(text.clone()),
                span,
            );
            texts.push(Nix::Str(text));
        }
        let unit = service.spec.nixos_unit.as_ref().and_then(|u| unit_of(&u.value)).filter(|u| u.kind == "service");
        if let (Some(unit), false) = (unit, texts.is_empty()) {
            self.define(
                with(path("systemd.services"), &[&unit.stem, "restartTriggers"]),
                Nix::List(texts),
                service.name_span,
            );
        }
    }
}
