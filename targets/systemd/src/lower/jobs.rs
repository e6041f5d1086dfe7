//! Jobs on hosts that are not NixOS: `job-<name>.service`, a oneshot unit that stays active once it
//! has succeeded (`Type=oneshot`, `RemainAfterExit=yes`), running `podman run --rm` of the job's
//! image with its arguments, `security` (`--user`, privileges and capabilities), environment
//! (secrets by `LoadCredential=` and `--env-file`) and volumes (after their mounts); ordered after
//! and requiring the jobs and the services it needs on the node; wanted by `multi-user.target`, so
//! it runs at boot even if nothing needs it;
//! `TimeoutStartSec=` from `timeout`, `Restart=on-failure` with a start limit from `retries`.
//! A unit needing the job requires it and starts after it ([`NodeUnits::job_units`]), so it starts
//! only once the job has exited successfully.

use spec_compiler::model::job::job_unit;
use spec_compiler::model::types::NeedRef;
use spec_compiler::model::{EnvValue, Job, Resource};

use super::{NodeUnits, PODMAN, placed_on};
use crate::escape::{exec_arg, start_limit_window};
use crate::podman::job_refusals;
use crate::unit::UnitFile;

impl NodeUnits<'_> {
    pub(super) fn jobs(&mut self) {
        for job in self.index.on(&self.node.name).jobs.clone() {
            self.job(job);
        }
    }

    /// The `job-<name>.service` units of the jobs among `needs` on this node.
    pub(super) fn job_units(&self, needs: &[NeedRef]) -> Vec<String> {
        needs
            .iter()
            .filter(|n| n.kind == "job" && self.index.job(&n.name).is_some_and(|j| placed_on(&j.spec.on, self.node)))
            .map(|n| format!("{}.service", job_unit(&n.name)))
            .collect()
    }

    fn job(&mut self, job: &Resource<Job>) {
        let spec = &job.spec;
        let refused = job_refusals(job);
        if !refused.is_empty() {
            self.diagnostics.extend(refused);
            return;
        }
        let name = job_unit(&job.name);
        let mut unit = UnitFile::default();
        unit.set("Unit", "Description", format!("spec job {}", job.name));
        unit.set("Unit", "Wants", "network-online.target");
        unit.set("Unit", "After", "network-online.target");
        let mut after = self.job_units(&spec.needs);
        for need in spec.needed_services() {
            if self.index.service(&need.name).is_some_and(|s| placed_on(&s.spec.on, self.node)) {
                after.push(format!("{}.service", need.name));
            }
        }
        for needed in after {
            unit.set("Unit", "After", needed.clone());
            unit.set("Unit", "Requires", needed);
        }
        let retries = spec.retries();
        if retries > 0 {
            unit.set("Unit", "StartLimitBurst", (retries + 1).to_string());
            unit.set(
                "Unit",
                "StartLimitIntervalSec",
                start_limit_window(spec.timeout.as_ref().map(|t| t.value.0), retries),
            );
        }
        let mut args = vec![exec_arg(PODMAN), "run".into(), "--rm".into(), "--name".into(), exec_arg(&name)];
        // Who it runs as and what it may do, as a service's container.
        args.extend(spec.security.as_ref().map(|s| s.value.podman_options()).unwrap_or_default());
        self.bind_datasets(&spec.volumes, &mut unit, &mut args);
        for (key, env) in &spec.env {
            let text = match &env.value {
                EnvValue::Text(t) => t.clone(),
                EnvValue::Number(n) => n.to_string(),
                EnvValue::Flag(b) => b.to_string(),
                EnvValue::Endpoint(endpoint) => match self.reach.resolve(&spec.on, endpoint) {
                    Ok(text) => text,
                    Err(_) => continue, // E0625 in the graph rules
                },
                EnvValue::Template(template) => match template.fill(|e| self.reach.resolve(&spec.on, e)) {
                    Ok(text) => text,
                    Err(_) => continue, // E0625 in the graph rules
                },
                EnvValue::Secret(secret) => {
                    if let Some((setting, credential)) = self.credential(&secret.name) {
                        unit.set("Service", setting, credential);
                        // `%d` is the credentials directory: a specifier, so not escaped.
                        args.push(format!("--env-file=%d/{}", secret.name));
                    }
                    continue;
                }
            };
            args.push("--env".into());
            args.push(exec_arg(&format!("{key}={text}")));
        }
        args.push(exec_arg(&spec.image.value));
        args.extend(
            spec.args
                .iter()
                .filter_map(|a| a.value.fill(|e| self.reach.resolve(&spec.on, e)).ok())
                .map(|a| exec_arg(&a)),
        );
        unit.set("Service", "Type", "oneshot");
        unit.set("Service", "RemainAfterExit", "yes");
        unit.set("Service", "ExecStart", args.join(" "));
        // `--rm` removes the container when podman sees it exit; a run killed at its timeout
        // leaves it behind, and the next run's `--name` would clash.
        unit.set("Service", "ExecStopPost", format!("-{} rm --force --ignore {}", exec_arg(PODMAN), exec_arg(&name)));
        if let Some(timeout) = &spec.timeout {
            unit.set("Service", "TimeoutStartSec", format!("{}s", timeout.value.0 / 1000));
        }
        if retries > 0 {
            unit.set("Service", "Restart", "on-failure");
            unit.set("Service", "RestartSec", "30s");
        }
        unit.set("Install", "WantedBy", "multi-user.target");
        self.emit(&format!("{name}.service"), &unit, job.name_span);
    }
}
