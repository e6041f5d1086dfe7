//! `<Copy>RestoreTestStale`: the age of the last successful restore test of each offsite copy of a
//! backup with `verify`. On a node the test records its success through the node exporter's
//! textfile collector ([`scrape::RESTORE_TEST_METRIC`]); on a cluster it is the `CronJob`
//! `restore-test-<copy>` the Kubernetes back end writes, whose last success kube-state-metrics
//! exports (`kube_cronjob_status_last_successful_time{namespace, cronjob}`). Either alert fires
//! when that is older than the cadence (a day, a week, 31 days) plus a day, so one late or failed
//! test is reported before the next is due. A cluster's test exists only where the Kubernetes
//! back end can write it ([`tested_on_cluster`]), so no alert waits on a series that never comes.

use spec_compiler::model::types::{PlacementRef, Spanned, format_duration};
use spec_compiler::model::{Backup, Cadence, Copy, Kind, Resource, Severity};
use spec_compiler::target::{Index, cluster_restore_test};

use super::{Planned, Planner, camel, node_exporter};
use crate::escape::promql_string;
use crate::scrape;

const DAY: u64 = 86_400;

/// A cadence's period plus a day, in seconds.
fn threshold(cadence: Cadence) -> u64 {
    let period = match cadence {
        Cadence::Daily => DAY,
        Cadence::Weekly => 7 * DAY,
        Cadence::Monthly => 31 * DAY,
    };
    period + DAY
}

/// Whether the Kubernetes back end writes a restore test for `copy` of `backup` on a cluster: a
/// repository k8up writes to (`s3:`, `b2:`, `rest:`), restic able to log in (credentials in the
/// spec where the repository needs keys), and for a service's dump a chart that takes k8up's
/// backup command (`backup_command { … }`).
pub fn tested_on_cluster(index: &Index<'_>, backup: &Backup, copy: &Copy<'_>) -> bool {
    let Some(repository) = index.repository(copy) else { return false };
    let keyed = ["s3:", "b2:"].iter().any(|p| repository.starts_with(p));
    let k8up_form = keyed || repository.starts_with("rest:");
    let dump_runs = backup.service().is_none_or(|name| {
        index
            .service(name)
            .and_then(|s| s.spec.helm.as_ref())
            .is_some_and(|h| h.value.tagged("backup_command").is_some())
    });
    k8up_form && dump_runs && (!keyed || index.repository_credentials(copy).is_some())
}

/// The namespace a backup's storage, or the service whose dump it copies, chose: on a cluster,
/// where its k8up `Schedule` and restore tests run.
pub(super) fn chosen_namespace<'m>(index: &Index<'m>, backup: &Backup) -> Option<&'m Spanned<String>> {
    match (backup.storage(), backup.service()) {
        (Some(storage), _) => index.storage(storage).and_then(|s| s.spec.namespace.as_ref()),
        (None, Some(service)) => index.service(service).and_then(|s| s.spec.namespace.as_ref()),
        (None, None) => None,
    }
}

impl<'m> Planner<'m, '_> {
    /// `<Backup>RestoreTestStale` for a backup with `verify` on a node (`<Backup>-2RestoreTestStale`
    /// and so on for each further offsite copy, whose test records its own job's name): the restore test records
    /// the time it last succeeded through the node exporter's textfile collector
    /// ([`scrape::RESTORE_TEST_METRIC`]); the alert fires when that is older than the cadence plus
    /// a day, so one late or failed test is reported before the next is due.
    pub(super) fn restore_test(&mut self, backup: &'m Resource<Backup>, node: &str) {
        let Some(verify) = &backup.spec.verify else { return };
        let threshold = threshold(verify.value);
        // Each offsite copy's test records its job's name; a backup without one tests its newest
        // snapshot under the backup's name.
        let mut tested: Vec<String> = backup.spec.copies(&backup.name).into_iter().map(|c| c.name).collect();
        if tested.is_empty() {
            tested.push(backup.name.clone());
        }
        for name in &tested {
            let base = format!("{}RestoreTestStale", camel(name));
            let labels = [("backup", backup.name.as_str())];
            let planned = self.generated(base, Severity::Warning, &labels, verify.span, |_| {
                let expr = format!(
                    "time() - {}{{{}, backup={}}} > {threshold}",
                    scrape::RESTORE_TEST_METRIC,
                    node_exporter(node),
                    promql_string(name)
                );
                let texts = [
                    format!(
                        "The restore test of backup {name} has not succeeded for {}",
                        format_duration(threshold * 1000)
                    ),
                    format!(
                        "Backup {name} is verified {} by restoring it; the last successful restore test is older than {}.",
                        match verify.value {
                            Cadence::Daily => "daily",
                            Cadence::Weekly => "weekly",
                            Cadence::Monthly => "monthly",
                        },
                        format_duration(threshold * 1000)
                    ),
                    format!(
                        "On node {node}, the journal of the restore test of backup {name} (`journalctl -g {name}`) says \
                         why it failed or did not run; a backup that cannot be restored is no backup, so fix it before \
                         the next copy is needed."
                    ),
                ];
                (expr, texts)
            });
            let owner = self.owner(Kind::Node.as_str(), node, None);
            self.push(format!("node-{node}"), planned.map(|planned| Planned { owner, ..planned }));
        }
    }

    /// `<Copy>RestoreTestStale` for each copy of a backup with `verify` on a cluster whose restore
    /// test the Kubernetes back end writes.
    pub(super) fn cluster_restore_test(&mut self, index: &Index<'m>, backup: &'m Resource<Backup>, on: &PlacementRef) {
        let Some(verify) = &backup.spec.verify else { return };
        let threshold = threshold(verify.value);
        let namespace = self.namespace_of(&on.name, chosen_namespace(index, &backup.spec));
        for copy in backup.spec.copies(&backup.name) {
            if !tested_on_cluster(index, &backup.spec, &copy) {
                continue;
            }
            let cronjob = cluster_restore_test(&copy.name);
            let base = format!("{}RestoreTestStale", camel(&copy.name));
            let labels = [("backup", backup.name.as_str())];
            let planned = self.generated(base, Severity::Warning, &labels, verify.span, |_| {
                let expr = format!(
                    "time() - kube_cronjob_status_last_successful_time{{namespace={}, cronjob={}}} > {threshold}",
                    promql_string(namespace),
                    promql_string(&cronjob)
                );
                let texts = [
                    format!(
                        "The restore test of backup {} has not succeeded for {}",
                        copy.name,
                        format_duration(threshold * 1000)
                    ),
                    format!(
                        "The offsite copy {} of backup {} is restored by the CronJob {cronjob}; its last success is older than {}.",
                        copy.name,
                        backup.name,
                        format_duration(threshold * 1000)
                    ),
                    format!(
                        "On cluster {}, `kubectl -n {namespace} get jobs` and the logs of the last job of CronJob {cronjob} say \
                         why it failed or did not run; a backup that cannot be restored is no backup, so fix it before the \
                         next copy is needed.",
                        on.name
                    ),
                ];
                (expr, texts)
            });
            let owner = self.owner(Kind::Cluster.as_str(), &on.name, None);
            self.push(Self::area_of(on), planned.map(|planned| Planned { owner, ..planned }));
        }
    }
}
