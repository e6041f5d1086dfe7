//! Jobs on a cluster: each job is a release of its own, `job-<name>`, of the app-template chart
//! with one controller of type `job` (a Kubernetes `Job`: its container with the job's image,
//! arguments and environment; its pod's and container's security contexts from `security`, the
//! user and group it runs as among them; `restartPolicy: Never`, the chart's default for jobs;
//! `backoffLimit` from `retries`; `activeDeadlineSeconds` from `timeout`).
//!
//! Why a release of its own rather than a Helm hook in the service's chart: Flux's helm-controller
//! waits for every Job of a release to complete before it marks the release ready, and a release
//! that `dependsOn` another is installed only once that one is ready, so the service's pods are
//! created only after the Job has succeeded; a failed Job fails the job's release and the
//! service's release waits. A pre-install hook would need a hook in every chart a service uses
//! (the charts of presets have none to add it to) and would run again on every upgrade of the
//! service, not when the job changes. The Job's pod template is immutable, so the release upgrades
//! with `upgrade.force` (the Job is replaced, and so runs again when its values change).
//!
//! A Job's deadline covers every try: `timeout × (retries + 1)` plus Kubernetes' back-off between
//! tries (10 s, doubling, at most 6 min); Flux waits that long and five minutes more (for
//! scheduling and pulling the image). Without `timeout` the Job has no deadline and Flux waits its
//! default five minutes. Volumes are refused (E1240): a cluster volume's claim is made by the
//! release of the service that mounts it, installed after the job.

use indexmap::IndexMap;
use serde_json::json;
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Job, PodSecurity, Resource};

use crate::security::{container_security, pod_options};
use crate::values::{APP_TEMPLATE, Release, split_image};

/// Kubernetes' back-off between the tries of a Job: 10 s, doubled each time, at most 6 min.
fn backoff_seconds(retries: u32) -> u64 {
    (0..retries).map(|i| 10u64.saturating_mul(1 << i.min(10)).min(360)).sum()
}

/// What Flux adds to a Job's deadline before it gives up on the release: its default timeout.
const FLUX_MARGIN_SECONDS: u64 = 300;

impl super::Lowering<'_, '_> {
    /// The release of one job and how long Flux waits for it (`None`: Flux's default), or `None`
    /// (with a diagnostic) when it cannot be installed.
    pub fn job_release(&mut self, job: &Resource<Job>) -> Option<(Release, Option<String>)> {
        let spec = &job.spec;
        let mut ok = true;
        for (path, storage) in &spec.volumes {
            ok = false;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1240,
                    storage.span,
                    format!("job `{}` on cluster `{}` mounts storage `{}`", job.name, self.cluster.name, storage.name),
                )
                .with_primary_label(format!("mounted at `{path}`"))
                .with_note("the job runs before the releases that need it, and a cluster volume's claim is made by the release of the service that mounts it")
                .with_help("reach the data through a service the job needs, or run the job on a node"),
            );
        }
        ok &= self.refuse_template(&spec.image, "the image", "the chart");
        for arg in &spec.args {
            ok &= self.refuse_template_in(arg, "an argument", "the chart");
        }
        let env = self.container_env(&spec.on, &spec.env);
        if !ok {
            return None;
        }
        let (repository, tag) = split_image(&spec.image.value);
        let restricted = self.pod_security_in(spec.namespace.as_ref()) == Some(PodSecurity::Restricted);
        let retries = spec.retries();
        let deadline = spec
            .timeout
            .as_ref()
            .map(|t| (t.value.0 / 1000).max(1).saturating_mul(u64::from(retries) + 1) + backoff_seconds(retries));
        let mut settings = json!({ "backoffLimit": retries });
        if let Some(deadline) = deadline {
            settings["activeDeadlineSeconds"] = json!(deadline);
        }
        let mut container = json!({ "image": { "repository": repository, "tag": tag } });
        if !spec.args.is_empty() {
            container["args"] = json!(self.filled_args(&spec.on, &spec.args));
        }
        if !env.is_empty() {
            container["env"] = json!(env);
        }
        let mut controller = json!({ "type": "job", "job": settings });
        let security = spec.security.as_ref().map(|s| &s.value);
        if let Some(context) = container_security(restricted, security) {
            container["securityContext"] = context;
        }
        if let Some(pod) = pod_options(restricted, security) {
            controller["pod"] = pod;
        }
        controller["containers"] = json!(IndexMap::from([("app", container)]));
        let values = json!({ "controllers": { "main": controller } });
        let wait = deadline.map(|d| format!("{}s", d + FLUX_MARGIN_SECONDS));
        let release = Release {
            url: APP_TEMPLATE.url.into(),
            chart: APP_TEMPLATE.name.into(),
            version: Some(APP_TEMPLATE.version.into()),
            values,
        };
        Some((release, wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_six_minutes() {
        assert_eq!(backoff_seconds(0), 0);
        assert_eq!(backoff_seconds(3), 10 + 20 + 40);
        assert_eq!(backoff_seconds(8), 10 + 20 + 40 + 80 + 160 + 320 + 360 + 360);
    }
}
