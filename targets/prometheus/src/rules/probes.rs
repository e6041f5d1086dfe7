//! `<Service>ProbeFailed`: an alert for every HTTP health check a blackbox exporter probes, on
//! the hosts ([`scrape::host_probes`]) or a cluster ([`scrape::cluster_probes`]), selecting the
//! probe's series as its scrape configuration labels them: job `health_probe` and the check's
//! `instance`.

use std::collections::HashMap;

use spec_compiler::model::types::PlacementRef;
use spec_compiler::model::{Kind, Resource, Service};
use spec_compiler::target::Index;

use super::{Planned, Planner, camel};
use crate::escape::promql_string;
use crate::scrape::{self, TargetLabels};

/// A probed health check, as its alert needs it.
pub(super) struct Probed<'m> {
    /// Where the service runs: its node or cluster.
    pub on: &'m PlacementRef,
    /// The `instance` label the probe's series carry.
    pub instance: String,
    /// The health check's port and path.
    pub port: u16,
    pub path: String,
}

/// Every probed health check: the hosts' blackbox exporter's (those it reaches) and each
/// cluster's ([`scrape::host_probes`], [`scrape::cluster_probes`]).
pub(super) fn probed<'m>(index: &Index<'m>) -> HashMap<&'m str, Probed<'m>> {
    let hosts = scrape::host_probes(index).map(|(_, probes)| probes).unwrap_or_default();
    let mut probed: HashMap<&'m str, Probed<'m>> = hosts
        .into_iter()
        .filter(|probe| probe.address.is_some())
        .map(|p| {
            let (on, instance, port, path) = (&p.service.spec.on.value, p.instance, p.port, p.path);
            (p.service.name.as_str(), Probed { on, instance, port, path })
        })
        .collect();
    for (_, _, probes) in scrape::cluster_probes(index) {
        for p in probes {
            let (on, instance, port, path) = (&p.service.spec.on.value, p.instance, p.port, p.path);
            probed.insert(p.service.name.as_str(), Probed { on, instance, port, path });
        }
    }
    probed
}

impl<'m> Planner<'m, '_> {
    /// `<Service>ProbeFailed` for a service whose HTTP health check a blackbox exporter probes:
    /// the probe's `probe_success` is 0, for 5m.
    pub(super) fn probe_failed(&mut self, service: &'m Resource<Service>) {
        let Some(probe) = self.probes.get(service.name.as_str()) else { return };
        let (svc, on, instance) = (&service.name, probe.on, probe.instance.clone());
        let (port, path) = (probe.port, probe.path.clone());
        let look = if on.kind == Kind::Cluster.as_str() {
            format!("On cluster {}, look at the pods of {svc} (kubectl describe, kubectl logs)", on.name)
        } else {
            format!("On node {}, look at the unit of {svc} (systemctl status, journalctl)", on.name)
        };
        let span = service.spec.health.as_ref().map_or(service.name_span, |h| h.span);
        let base = format!("{}ProbeFailed", camel(svc));
        let planned = self.generated(base, service.spec.generated_severity(), &[("service", svc)], span, |_| {
            let expr = format!(
                "probe_success{{job={}, instance={}}} == 0",
                promql_string(scrape::PROBE_JOB),
                promql_string(&instance)
            );
            let texts = [
                format!("Service {svc} fails its health check"),
                format!(
                    "The blackbox exporter's HTTP probe of service {svc} (port {port}, path {path}) has failed for 5m."
                ),
                format!(
                    "{look} and request port {port} {path} by hand; Prometheus's Targets page for job {} shows the \
                     probe's last error.",
                    scrape::PROBE_JOB
                ),
            ];
            (expr, texts)
        });
        // The probe's own target, as its Prometheus scrapes it (built, not searched for: one lookup
        // per probe would make the plan quadratic in the probes).
        let owner = vec![TargetLabels { job: scrape::PROBE_JOB.into(), instance: Some(instance), port }];
        self.push(Self::area_of(on), planned.map(|planned| Planned { owner, ..planned }));
    }
}
