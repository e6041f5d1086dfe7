//! Workflows on NixOS: a oneshot unit per step, a unit for the whole run, a timer.
//!
//! Step `s` of workflow `w` is `systemd.services."w-s"`: `podman run --rm` of the step's image
//! with its arguments and environment (secrets as `--env-file` pointing at the decrypted file),
//! ordered after and requiring the steps it needs, with `TimeoutStartSec=` from `timeout` and
//! `Restart=on-failure` with a start limit from `retries`; `ExecStopPost=` removes a container
//! a killed run left behind. `systemd.services."w"` requires the steps
//! nothing else needs, so starting it runs the whole chain in order; `systemd.timers."w"` starts
//! it on the schedule, translated from cron to `OnCalendar=`. A timer does not start a unit still
//! active, so runs never overlap (`concurrency = forbid`, the default); with `replace` the timer
//! starts `systemd.services."w-replace"` instead, which stops the run still going and starts anew.
//! A step that needs a service on the node starts after, and requires, the service's unit.

use std::collections::BTreeSet;

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Concurrency, EnvValue, Resource, Workflow};
use spec_compiler::source::Span;

use super::{NodeModule, path, with};
use crate::nix::{Nix, Part};
use spec_target_systemd::escape::{cron_calendar, exec_arg, start_limit_window};
use spec_target_systemd::podman::step_refusals;

impl<'a> NodeModule<'a> {
    pub(super) fn workflows(&mut self) {
        let node = self.node;
        let mut any = false;
        for workflow in self.index.on(&node.name).workflows.iter().copied() {
            any = true;
            let steps = &workflow.spec.step.value;
            let needed: BTreeSet<&str> =
                steps.values().flat_map(|s| s.needed_steps().map(|n| n.name.as_str())).collect();
            for (name, step) in steps {
                // The step's command line is an `ExecStart=` line of its unit.
                let refused = step_refusals(&workflow.name, name, step);
                if !refused.is_empty() {
                    self.diagnostics.extend(refused);
                    continue;
                }
                let unit = format!("{}-{name}", workflow.name);
                let mut command = vec![
                    Part::Code("pkgs.podman".into()),
                    Part::Text(format!("/bin/podman run --rm --name {}", exec_arg(&unit))),
                ];
                command.extend(self.podman_env(&workflow.spec.on, &step.env, &unit));
                command.push(Part::Text(format!(" {}", exec_arg(&step.image.value))));
                for arg in &step.args {
                    // Where a service is, from this node (E0625 in the graph rules when it has none).
                    let Ok(text) = arg.value.fill(|e| self.reach.resolve(&workflow.spec.on, e)) else { continue };
                    command.push(Part::Text(format!(" {}", exec_arg(&text))));
                }
                let mut after: Vec<Nix> =
                    step.needed_steps().map(|n| Nix::Str(format!("{}-{}.service", workflow.name, n.name))).collect();
                // The services it needs on this node are up first (elsewhere is E0737).
                let who = format!("step `{name}` of workflow `{}`", workflow.name);
                for need in step.needed_services() {
                    after.extend(self.service_unit(&who, &need.name, need.span));
                }
                let cleanup = podman_cleanup(&unit);
                let mut service_config = vec![
                    ("Type".to_string(), Nix::Str("oneshot".into())),
                    ("ExecStart".to_string(), Nix::Interpolated(command)),
                    ("ExecStopPost".to_string(), Nix::Interpolated(cleanup)),
                ];
                let retries = step.retries.as_ref().map_or(0, |r| r.value);
                let mut unit_config = Vec::new();
                time_and_retry(
                    step.timeout.as_ref().map(|t| t.value.0),
                    retries,
                    &mut service_config,
                    &mut unit_config,
                );
                let description = format!("Workflow {}, step {name}", workflow.name);
                let fields = unit_fields(
                    vec![("description".to_string(), Nix::Str(description))],
                    after,
                    service_config,
                    unit_config,
                );
                self.define(with(path("systemd.services"), &[&unit]), Nix::Attrs(fields), step.span);
            }
            let last: Vec<Nix> = steps
                .keys()
                .filter(|s| !needed.contains(s.as_str()))
                .map(|s| Nix::Str(format!("{}-{s}.service", workflow.name)))
                .collect();
            let run = Nix::Attrs(vec![
                ("description".to_string(), Nix::Str(format!("Workflow {}", workflow.name))),
                ("after".to_string(), Nix::List(last.clone())),
                ("requires".to_string(), Nix::List(last)),
                (
                    "serviceConfig".to_string(),
                    Nix::Attrs(vec![
                        ("Type".into(), Nix::Str("oneshot".into())),
                        (
                            "ExecStart".into(),
                            Nix::Interpolated(vec![
                                Part::Code("pkgs.coreutils".into()),
                                Part::Text("/bin/true".into()),
                            ]),
                        ),
                    ]),
                ),
            ]);
            self.define(with(path("systemd.services"), &[&workflow.name]), run, workflow.name_span);
            if let Some(schedule) = &workflow.spec.schedule {
                match cron_calendar(&schedule.value) {
                    Some(calendar) => {
                        let mut timer_config =
                            vec![("OnCalendar".into(), Nix::Str(calendar)), ("Persistent".into(), Nix::Bool(true))];
                        if workflow.spec.concurrency.as_ref().is_some_and(|c| c.value == Concurrency::Replace) {
                            let unit = self.replace_run(workflow);
                            timer_config.push(("Unit".into(), Nix::Str(unit)));
                        }
                        let timer = Nix::Attrs(vec![
                            ("wantedBy".into(), Nix::List(vec![Nix::Str("timers.target".into())])),
                            ("timerConfig".into(), Nix::Attrs(timer_config)),
                        ]);
                        self.define(with(path("systemd.timers"), &[&workflow.name]), timer, schedule.span);
                    }
                    None => self.no_cron_calendar(&workflow.name, &schedule.value, schedule.span),
                }
            }
        }
        // Jobs run under podman too ([`super::jobs`]).
        if any || !self.index.on(&node.name).jobs.is_empty() {
            self.define(path("virtualisation.podman.enable"), Nix::Bool(true), node.name_span);
        }
    }

    /// The `--env` and `--env-file=` options of a `podman run` for `env`, read from `on`: plain
    /// values as `--env KEY=value`, where a service is resolved from `on` (what has no value is
    /// E0625), secrets as their decrypted file, which holds `KEY=value` lines.
    pub(super) fn podman_env(
        &mut self,
        on: &spec_compiler::model::types::PlacementRef,
        env: &'a indexmap::IndexMap<String, spec_compiler::model::types::Spanned<EnvValue>>,
        unit: &str,
    ) -> Vec<Part> {
        let mut command = Vec::new();
        for (key, value) in env {
            let text = match &value.value {
                EnvValue::Text(text) => text.clone(),
                EnvValue::Number(n) => n.to_string(),
                EnvValue::Flag(b) => b.to_string(),
                EnvValue::Endpoint(endpoint) => match self.reach.resolve(on, endpoint) {
                    Ok(text) => text,
                    Err(_) => continue,
                },
                EnvValue::Template(template) => match template.fill(|e| self.reach.resolve(on, e)) {
                    Ok(text) => text,
                    Err(_) => continue,
                },
                EnvValue::Secret(secret) => {
                    command.push(Part::Text(" --env-file=".into()));
                    // A path from the module's config (agenix, sops-nix), or one on the
                    // host written out (vault-agent's destination, an existing file).
                    let file = self.secret_path(&secret.name, secret.span);
                    self.read_by(&secret.name, format!("{unit}.service"));
                    command.push(super::secrets::part(file));
                    continue;
                }
            };
            command.push(Part::Text(format!(" --env {}", exec_arg(&format!("{key}={text}")))));
        }
        command
    }

    /// `concurrency = replace`: the timer starts `<w>-replace.service`, which stops the run still
    /// going (the run unit and every step's, so a step's `ExecStopPost=` removes its container)
    /// and starts the workflow anew. A timer that started the run unit itself would do nothing
    /// while it is active, which is `forbid`, the default.
    fn replace_run(&mut self, workflow: &Resource<Workflow>) -> String {
        let mut units = vec![format!("{}.service", workflow.name)];
        units.extend(workflow.spec.step.keys().map(|s| format!("{}-{s}.service", workflow.name)));
        let stop: Vec<String> = units.iter().map(|u| exec_arg(u)).collect();
        let systemctl = |args: String| Nix::Interpolated(vec![Part::Code("pkgs.systemd".into()), Part::Text(args)]);
        let replace = Nix::Attrs(vec![
            ("description".into(), Nix::Str(format!("Workflow {}, replacing a run still going", workflow.name))),
            (
                "serviceConfig".into(),
                Nix::Attrs(vec![
                    ("Type".into(), Nix::Str("oneshot".into())),
                    (
                        "ExecStart".into(),
                        Nix::List(vec![
                            systemctl(format!("/bin/systemctl stop {}", stop.join(" "))),
                            systemctl(format!("/bin/systemctl start --no-block {}", exec_arg(&units[0]))),
                        ]),
                    ),
                ]),
            ),
        ]);
        let concurrency = workflow.spec.concurrency.as_ref().map_or(workflow.name_span, |c| c.span);
        let unit = format!("{}-replace", workflow.name);
        self.define(with(path("systemd.services"), &[&unit]), replace, concurrency);
        format!("{unit}.service")
    }

    fn no_cron_calendar(&mut self, workflow: &str, schedule: &str, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(Code::E1106, span, format!("workflow `{workflow}`: the schedule `{schedule}` has no systemd calendar form"))
                .with_primary_label("cannot be translated to `OnCalendar=`")
                .with_help("use `*`, `*/N`, values, ranges `a-b` and lists `a,b` in each field (a range with a step has no exact translation)"),
        );
    }
}

/// The `ExecStopPost=` of a one-shot container unit: `--rm` removes the container when podman
/// sees it exit, but a run killed at its timeout leaves it behind, and the next run's `--name`
/// would clash.
pub(super) fn podman_cleanup(unit: &str) -> Vec<Part> {
    vec![
        Part::Text("-".into()),
        Part::Code("pkgs.podman".into()),
        Part::Text(format!("/bin/podman rm --force --ignore {}", exec_arg(unit))),
    ]
}

/// A `systemd.services.<unit>` definition: `head` (its description, ...), then started after and
/// requiring `after`, its `serviceConfig` and, when any, its `unitConfig`.
pub(super) fn unit_fields(
    mut fields: Vec<(String, Nix)>,
    after: Vec<Nix>,
    service_config: Vec<(String, Nix)>,
    unit_config: Vec<(String, Nix)>,
) -> Vec<(String, Nix)> {
    if !after.is_empty() {
        fields.push(("after".to_string(), Nix::List(after.clone())));
        fields.push(("requires".to_string(), Nix::List(after)));
    }
    fields.push(("serviceConfig".to_string(), Nix::Attrs(service_config)));
    if !unit_config.is_empty() {
        fields.push(("unitConfig".to_string(), Nix::Attrs(unit_config)));
    }
    fields
}

/// A oneshot's time limit and tries (a workflow step's, a job's): `TimeoutStartSec=` for
/// `timeout_ms`, and for `retries` a restart on failure within a start limit that lets every try
/// run to its time limit.
pub(super) fn time_and_retry(
    timeout_ms: Option<u64>,
    retries: u32,
    service_config: &mut Vec<(String, Nix)>,
    unit_config: &mut Vec<(String, Nix)>,
) {
    if let Some(timeout) = timeout_ms {
        service_config.push(("TimeoutStartSec".to_string(), Nix::Str(format!("{}s", timeout / 1000))));
    }
    if retries > 0 {
        service_config.push(("Restart".to_string(), Nix::Str("on-failure".into())));
        service_config.push(("RestartSec".to_string(), Nix::Str("30s".into())));
        unit_config.push(("StartLimitBurst".to_string(), Nix::Int(i64::from(retries) + 1)));
        unit_config.push(("StartLimitIntervalSec".to_string(), Nix::Str(start_limit_window(timeout_ms, retries))));
    }
}
