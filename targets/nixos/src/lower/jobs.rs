//! Jobs on NixOS: a oneshot unit per job that stays active once it has succeeded.
//!
//! Job `j` is `systemd.services."job-j"`: `podman run --rm` of its image with its arguments,
//! `security` (`--user`, privileges and capabilities), environment (secrets as `--env-file`
//! pointing at the decrypted file) and volumes (ZFS datasets, after their mounts), `Type=oneshot`
//! with `RemainAfterExit=true` so a unit that requires it starts once it has exited successfully
//! and not again while it stays active; ordered after and requiring the services (their container
//! or `nixos_unit`) and jobs it needs on the node; wanted by `multi-user.target`, so it runs when
//! the configuration is switched to even if nothing needs it;
//! `TimeoutStartSec=` from `timeout`, `Restart=on-failure` with a start limit from `retries`, and
//! `ExecStopPost=` removing a container a killed run left behind. The services that need the job
//! are ordered after it and require it ([`super::services`], [`super::units`]).

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::job::job_unit;
use spec_compiler::model::{Job, Resource};

use super::services::is_unit_name;
use super::{NodeModule, path, placed_on, with};
use crate::nix::{Nix, Part};
use spec_target_systemd::escape::exec_arg;
use spec_target_systemd::podman::job_refusals;

impl<'a> NodeModule<'a> {
    pub(super) fn jobs(&mut self) {
        for job in self.index.on(&self.node.name).jobs.iter().copied() {
            self.job(job);
        }
    }

    fn job(&mut self, job: &'a Resource<Job>) {
        let spec = &job.spec;
        // The job's command line is an `ExecStart=` line of its unit.
        let refused = job_refusals(job);
        if !refused.is_empty() {
            self.diagnostics.extend(refused);
            return;
        }
        let unit = job_unit(&job.name);
        let mut command = vec![
            Part::Code("pkgs.podman".into()),
            Part::Text(format!("/bin/podman run --rm --name {}", exec_arg(&unit))),
        ];
        // Who it runs as and what it may do, as a service's container.
        for option in spec.security.as_ref().map(|s| s.value.podman_options()).unwrap_or_default() {
            command.push(Part::Text(format!(" {}", exec_arg(&option))));
        }
        let mut mounts = Vec::new();
        for (target, storage) in &spec.volumes {
            let Some(source) = self.index.storage(&storage.name).and_then(|s| s.spec.host_path()) else { continue };
            command.push(Part::Text(format!(" --volume {}", exec_arg(&format!("{source}:{target}")))));
            mounts.push(Nix::Str(source));
        }
        command.extend(self.podman_env(&spec.on, &spec.env, &unit));
        command.push(Part::Text(format!(" {}", exec_arg(&spec.image.value))));
        for arg in &spec.args {
            // Where a service is, from this node (E0625 in the graph rules when it has no value).
            let Ok(text) = arg.value.fill(|e| self.reach.resolve(&spec.on, e)) else { continue };
            command.push(Part::Text(format!(" {}", exec_arg(&text))));
        }
        let after = self.job_needs(job);
        let cleanup = super::workflows::podman_cleanup(&unit);
        let mut service_config = vec![
            ("Type".to_string(), Nix::Str("oneshot".into())),
            ("RemainAfterExit".to_string(), Nix::Bool(true)),
            ("ExecStart".to_string(), Nix::Interpolated(command)),
            ("ExecStopPost".to_string(), Nix::Interpolated(cleanup)),
        ];
        let mut unit_config = Vec::new();
        super::workflows::time_and_retry(
            spec.timeout.as_ref().map(|t| t.value.0),
            spec.retries(),
            &mut service_config,
            &mut unit_config,
        );
        if !mounts.is_empty() {
            unit_config.push(("RequiresMountsFor".to_string(), Nix::List(mounts)));
        }
        let head = vec![
            ("description".to_string(), Nix::Str(format!("Job {}", job.name))),
            ("wantedBy".to_string(), Nix::List(vec![Nix::Str("multi-user.target".into())])),
        ];
        let fields = super::workflows::unit_fields(head, after, service_config, unit_config);
        self.define(with(path("systemd.services"), &[&unit]), Nix::Attrs(fields), job.name_span);
    }

    /// The oneshot units of the jobs among `needs` on this node: a unit needing them starts after
    /// them and requires them.
    pub(super) fn job_units(&self, needs: &[spec_compiler::model::types::NeedRef]) -> Vec<Nix> {
        needs
            .iter()
            .filter(|n| n.kind == "job" && self.index.job(&n.name).is_some_and(|j| placed_on(&j.spec.on, self.node)))
            .map(|n| Nix::Str(format!("{}.service", job_unit(&n.name))))
            .collect()
    }

    /// The units a job starts after and requires: the jobs it needs, and the services it needs on
    /// the node (their container's `podman-<name>.service` or their preset's `nixos_unit`; a
    /// preset service naming none is W1102, as for a container).
    fn job_needs(&mut self, job: &Resource<Job>) -> Vec<Nix> {
        let mut units = self.job_units(&job.spec.needs);
        for need in job.spec.needed_services() {
            units.extend(self.service_unit(&format!("job `{}`", job.name), &need.name, need.span));
        }
        units
    }

    /// The unit of service `name` on this node, which `who` (a job, a workflow step) starts
    /// after: a container's `podman-<name>.service`, or the `nixos_unit` its NixOS options name
    /// (W1102 at `span` when they name none).
    pub(super) fn service_unit(&mut self, who: &str, name: &str, span: spec_compiler::source::Span) -> Option<Nix> {
        let needed = self.index.service(name)?;
        if !placed_on(&needed.spec.on, self.node) {
            return None;
        }
        if self.runs_container(needed) {
            return Some(Nix::Str(format!("podman-{}.service", self.container_of(needed))));
        }
        match needed.spec.nixos_unit.as_ref() {
            Some(unit) if is_unit_name(&unit.value) => Some(Nix::Str(unit.value.clone())),
            Some(_) => None, // E1109 at the service
            None => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1102,
                        span,
                        format!("{who} cannot be ordered after `{}`: its NixOS options name no unit", needed.name),
                    )
                    .with_primary_label("no unit to start after")
                    .with_help(format!(
                        "set `nixos_unit` on service `{}` to the unit its NixOS module starts (`name.service`)",
                        needed.name
                    )),
                );
                None
            }
        }
    }
}
