//! The restore test of an offsite copy on a cluster (`verify`): a `CronJob` per copy,
//! `restore-test-<copy>` in the namespace of its k8up `Schedule`, running restic with the
//! repository, password and credentials that `Schedule` uses.
//!
//! k8up's own `check` (the `Schedule`'s, on the same cadence) reads the repository's structure
//! and restores nothing; the test restores. As on hosts (`spec-target-systemd`'s `restic.rs`), it
//! streams the newest snapshot with `restic dump` rather than writing it out: `dump` reads,
//! decrypts and checks against its hash every blob of every file, exactly what a restore reads,
//! and needs no scratch volume as large as the copy. The snapshot is the newest of the namespace
//! (k8up backs up under the host name `<namespace>`); of a volume it is the whole snapshot (k8up
//! names its path after the claim, which the chart names), of a service's dump the one file k8up
//! stored (`/<namespace>-<container><ext>`, [`crate::dumps`]), which must hold bytes. The test
//! runs an hour after the check, whose lock it would otherwise meet, and within the backup's
//! `rto` when it has one. kube-state-metrics exports when it last succeeded; the Prometheus back
//! end alerts on its age (`RestoreTestStale`).
//!
//! Invariants: a test is written only beside a `Schedule` (so every copy it reads is one k8up
//! writes), and only when restic can log in: a repository with keys of its own (`s3:`, `b2:`)
//! needs the copy's (or its bucket's) `credentials` as a Secret of restic's variables, since
//! k8up's global keys live in the operator, out of the test's reach (W1201 otherwise).

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::Spanned;
use spec_compiler::model::{Backend, Backup, Cadence, Copy, KubernetesSecret, Resource};
use spec_compiler::target::cluster_restore_test;

use crate::quantity;

/// The restic image the restore tests run (the one the systemd back end runs on hosts).
pub const RESTIC_IMAGE: &str = "docker.io/restic/restic:0.17.3";
/// The label of a restore test's pods, with the copy's job name: the network policies select
/// them by it.
pub const RESTORE_TEST_LABEL: &str = "spec-restore-test";

/// `text` as one single-quoted shell word.
fn shell_word(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl super::Lowering<'_, '_> {
    /// The restore test of `copy`, when the backup has `verify`.
    pub(crate) fn restore_test(&mut self, backup: &Resource<Backup>, copy: &Copy<'_>) -> Option<Value> {
        let verify = backup.spec.verify.as_ref()?;
        let repository = self.index.repository(copy)?;
        let namespace = self.namespace_of_storage(backup).to_string();
        let mut container = json!({
            "name": "restore-test",
            "image": RESTIC_IMAGE,
            "env": [
                { "name": "RESTIC_REPOSITORY", "value": repository },
                { "name": "RESTIC_PASSWORD", "valueFrom": { "secretKeyRef": self.secret_key_ref(&copy.restic.password.name)? } },
            ],
        });
        let credentials = self.index.repository_credentials(copy);
        match credentials.and_then(|c| self.index.secret(&c.name)).and_then(|s| s.spec.on_kubernetes()) {
            Some(Backend::Own(Spanned { value: KubernetesSecret::Existing { name, .. }, .. })) => {
                container["envFrom"] = json!([{ "secretRef": { "name": name } }]);
            }
            // Without credentials the `Schedule` logs in with k8up's global keys, which the test
            // cannot read; credentials of another backend are W1201 at the `Schedule` already.
            _ if credentials.is_none() && ["s3:", "b2:"].iter().any(|p| repository.starts_with(p)) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1201,
                        verify.span,
                        format!("the restore test of copy `{}` cannot log in to its repository", copy.name),
                    )
                    .with_primary_label("not generated for clusters")
                    .with_help(format!(
                        "give the copy or its bucket `credentials = secret.NAME`, a `k8s = existing {{ … }}` Secret whose keys are restic's variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`): k8up's global keys stay in the operator, and the test of `{}` runs restic itself",
                        copy.name
                    )),
                );
                return None;
            }
            // A repository that needs no keys (`rest:` with its own URL's).
            _ if credentials.is_none() => {}
            _ => return None,
        }
        let host = shell_word(&namespace);
        let dumped = backup.spec.service().and_then(|name| self.index.service(name));
        let script = match dumped.and_then(|s| Some((s, crate::dumps::backup_command(s)?, s.spec.dump.as_ref()?))) {
            Some((service, record, dump)) => {
                let file =
                    crate::dumps::stored_dump(&namespace, &record.container, &dump.value.file_name(&service.name));
                let file = shell_word(&file);
                format!(
                    "set -eu -o pipefail\nbytes=$(restic dump --no-cache --host {host} --path {file} latest {file} | wc -c)\n\
                     test \"$bytes\" -gt 0\necho \"restored the dump: $bytes bytes\"\n"
                )
            }
            None => format!(
                "set -eu -o pipefail\nrestic snapshots --no-cache --host {host} --latest 1\n\
                 restic dump --no-cache --host {host} latest / > /dev/null\n"
            ),
        };
        container["command"] = json!(["/bin/sh", "-c", script]);
        let mut pod = json!({
            "metadata": { "labels": { RESTORE_TEST_LABEL: copy.name } },
            "spec": { "restartPolicy": "Never", "containers": [container] },
        });
        if self.pod_security_in(Some(&Spanned { value: namespace.clone(), span: verify.span }))
            == Some(spec_compiler::model::PodSecurity::Restricted)
        {
            // restic's image runs as root; the test needs no more than a user of its own.
            pod["spec"]["securityContext"] =
                json!({ "runAsNonRoot": true, "runAsUser": 65534, "seccompProfile": { "type": "RuntimeDefault" } });
            pod["spec"]["containers"][0]["securityContext"] = crate::security::restricted_container();
        }
        let schedule = match verify.value {
            Cadence::Daily => "0 5 * * *",
            Cadence::Weekly => "0 5 * * 1",
            Cadence::Monthly => "0 5 1 * *",
        };
        let mut job = json!({ "backoffLimit": 1, "template": pod });
        if let Some(rto) = &backup.spec.rto {
            job["activeDeadlineSeconds"] = json!(quantity::seconds(rto.value).max(1));
        }
        let spec = json!({
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 2,
            "jobTemplate": { "spec": job },
        });
        Some(self.object_in(&namespace, "batch/v1", "CronJob", &cluster_restore_test(&copy.name), spec))
    }
}
