//! `<Service>IdleColourDown`: the idle colour of a blue-green service cannot be scraped, so a
//! rollback to it would fail. Its colours may be nodes or two containers on the switch's node
//! ([`colour_hosts`]): the idle one is watched either way.
//!
//! The hosts' Prometheus on the switch's node scrapes each colour in job `<service>_colours`
//! ([`scrape`]). Only the idle colour gets an alert: the active one is what the switch reaches,
//! so the service's own job (and its `TargetDown`) already reports it, and a second alert would
//! page twice for one cause. The idle colour serves no client, so its alert is a warning (`info`
//! for a service of tier `low`), whatever the service's tier; the idle colour is never stopped
//! on purpose (both colours are declared to run, a release restarts it within the alert's 5m).
//! Left out when an alert of the spec already reports the colours' job down (the
//! shape `down.rs` reads).

use spec_compiler::model::{Colour, Resource, Rollout, Service, Severity};
use spec_compiler::target::{colour_hosts, colours_job};

use super::{Planned, Planner, camel};
use crate::escape::promql_string;
use crate::scrape::{Evaluator, host_instance};

impl<'m> Planner<'m, '_> {
    /// `<Service>IdleColourDown` for a blue-green service, when the
    /// hosts' Prometheus scrapes its colours; `reported` says whether the service's own alerts
    /// already report the colours' job down.
    pub(super) fn idle_colour_down(&mut self, service: &'m Resource<Service>, port: u16, reported: bool) {
        let Some(rollout) = &service.spec.rollout else { return };
        let Rollout::BlueGreen { active, .. } = &rollout.value else { return };
        let idle = match active.value {
            Colour::Blue => Colour::Green,
            Colour::Green => Colour::Blue,
        };
        let hosts = colour_hosts(service);
        let Some(&(_, node)) = hosts.iter().find(|(colour, _)| *colour == idle) else { return };
        let Some(number) = idle.host_port(port) else { return };
        let job = colours_job(&service.name);
        if reported || self.reported_down.covers(&job) {
            return;
        }
        let instance = host_instance(node, number);
        let Some(universe) = self.universes.get(&Evaluator::Hosts) else { return };
        let owner: Vec<_> = universe.job_at(&job, &instance).cloned().collect();
        if owner.is_empty() {
            return;
        }
        let svc = &service.name;
        let (colour, switch) = (idle.name(), &service.spec.on.name);
        let severity = match service.spec.generated_severity() {
            Severity::Info => Severity::Info,
            _ => Severity::Warning,
        };
        let labels = [("service", svc.as_str()), ("colour", colour)];
        let base = format!("{}IdleColourDown", camel(svc));
        let planned = self.generated(base, severity, &labels, rollout.span, |_| {
            let expr = format!("up{{job={}, instance={}}} == 0", promql_string(&job), promql_string(&instance));
            let texts = [
                format!("The idle {colour} colour of service {svc} is down: a rollback to it would fail"),
                format!(
                    "Prometheus on node {switch} has failed to scrape the idle {colour} colour of service {svc} on \
                     node {node} (host port {number}) for 5m. Clients are unaffected: the switch sends them to the \
                     active colour."
                ),
                format!(
                    "On node {node}, look at the unit podman-{svc}-{colour} (systemctl status, journalctl) and fix it \
                     before flipping `active`; Prometheus's Targets page for job {job} shows the scrape error."
                ),
            ];
            (expr, texts)
        });
        self.push(Self::area_of(&service.spec.on), planned.map(|planned| Planned { owner, ..planned }));
    }
}
