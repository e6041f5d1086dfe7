//! Jobs on a cluster, read back from what Flux and the real chart make of the output: each job's
//! `HelmRelease` renders (with real Helm and app-template) exactly one Kubernetes `Job` running the
//! job's image and arguments, retried `retries` times within a deadline that covers every try;
//! Flux waits for it (nothing switches off its wait for Jobs) for longer than that deadline, and
//! replaces it on upgrade; and every release of what needs the job `dependsOn` the job's release,
//! so Flux installs it only after the Job has completed. Without Helm the rendering is SKIPPED.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Seconds in a Flux duration such as `2130s`.
fn seconds(duration: &Value) -> u64 {
    duration.as_str().and_then(|d| d.strip_suffix('s')).and_then(|d| d.parse().ok()).expect("a duration in seconds")
}

#[test]
fn a_job_runs_to_completion_before_what_needs_it() {
    let estate = workspace()
        .join("specs/targets/kubernetes/a_migration_job_before_its_service_on_a_cluster_generates_cleanly.spec");
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    let model = &compilation.model;
    let files = spec_testkit::generate(&Kubernetes, &estate);
    let cluster = &model.clusters[0].name;
    let releases: Vec<Value> = files
        .iter()
        .filter(|(path, _)| *path == format!("helm/{cluster}/releases.yaml"))
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "HelmRelease")
        .collect();
    let release_of = |name: &str| releases.iter().find(|r| r["metadata"]["name"] == name).cloned();
    assert!(!model.jobs.is_empty());
    for job in &model.jobs {
        let name = format!("job-{}", job.name);
        let release = release_of(&name).unwrap_or_else(|| panic!("no HelmRelease {name}"));
        let spec = &release["spec"];
        // helm-controller waits for Jobs unless told not to.
        for phase in ["install", "upgrade"] {
            assert!(spec[phase]["disableWait"].is_null() && spec[phase]["disableWaitForJobs"].is_null(), "{name}");
        }
        assert_eq!(spec["upgrade"]["force"], true, "{name}: a Job's template is immutable, so upgrades replace it");
        // Every release of what needs the job depends on the job's release.
        let needers = model
            .services
            .iter()
            .map(|s| (s.name.clone(), &s.spec.needs))
            .chain(model.jobs.iter().map(|j| (format!("job-{}", j.name), &j.spec.needs)));
        let mut needed_by = 0;
        for (needer, needs) in needers {
            if needs.iter().any(|n| n.kind == "job" && n.name == job.name) {
                needed_by += 1;
                let depends = release_of(&needer).expect("release")["spec"]["dependsOn"].clone();
                let names: Vec<&str> =
                    depends.as_array().into_iter().flatten().filter_map(|d| d["name"].as_str()).collect();
                assert!(names.contains(&name.as_str()), "{needer} does not depend on {name}: {names:?}");
            }
        }
        assert!(needed_by > 0, "the case has a service needing {name}");

        let Some((helm, charts)) = spec_testkit::helm_and_charts("app-template", "the Job was NOT rendered") else {
            return;
        };
        let (_, values) =
            files.iter().find(|(p, _)| *p == format!("helm/{cluster}/{name}.values.yaml")).expect("values file");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-jobs");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let values_file = dir.join(format!("{name}.values.yaml"));
        std::fs::write(&values_file, values).expect("write");
        let namespace = spec["targetNamespace"].as_str().or(release["metadata"]["namespace"].as_str()).expect("ns");
        let release_name = spec["releaseName"].as_str().expect("release name");
        let rendered =
            spec_testkit::helm_template(&helm, &charts.join("app-template"), release_name, namespace, &values_file);
        let workloads: Vec<&Value> = rendered
            .iter()
            .filter(|o| {
                ["Job", "Deployment", "StatefulSet", "DaemonSet", "CronJob"].contains(&o["kind"].as_str().unwrap_or(""))
            })
            .collect();
        assert_eq!(workloads.len(), 1, "{name}: one workload, the Job: {workloads:?}");
        let rendered_job = workloads[0];
        assert_eq!(rendered_job["kind"], "Job");
        assert_eq!(rendered_job["spec"]["backoffLimit"], job.spec.retries());
        let pod = &rendered_job["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never", "{name}: a failed try is a new pod, counted by backoffLimit");
        let container = &pod["containers"][0];
        assert_eq!(container["image"], job.spec.image.value.as_str());
        let args: Vec<String> = job.spec.args.iter().map(|a| a.value.written()).collect();
        assert_eq!(container["args"], serde_json::json!(args));
        if let Some(timeout) = &job.spec.timeout {
            let deadline = rendered_job["spec"]["activeDeadlineSeconds"].as_u64().expect("a deadline");
            let tries = u64::from(job.spec.retries()) + 1;
            assert!(deadline >= timeout.value.0 / 1000 * tries, "{name}: every try gets its timeout");
            assert!(seconds(&spec["timeout"]) > deadline, "{name}: Flux gives up before the Job does");
        }
    }
}

/// In a namespace enforcing `restricted`, the kubelet starts a pod only when it can tell it runs
/// as non-root: every workload the real chart renders there (the NATS server's, and the Job of its
/// stream, whose image runs as root by default) carries `runAsNonRoot` with a numeric, non-root
/// `runAsUser`, and a group that owns the server's volume (`fsGroup`).
#[test]
fn a_stream_in_a_restricted_namespace_runs_as_a_numeric_non_root_user() {
    let estate =
        workspace().join("specs/targets/kubernetes/a_nats_stream_in_a_restricted_namespace_generates_cleanly.spec");
    let files = spec_testkit::generate(&Kubernetes, &estate);
    let Some((helm, charts)) = spec_testkit::helm_and_charts("app-template", "the workloads were NOT rendered") else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-restricted-stream");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut kinds = Vec::new();
    for (release, expected) in [("nats", "StatefulSet"), ("job-stream-orders", "Job")] {
        let (_, values) =
            files.iter().find(|(p, _)| *p == format!("helm/apps/{release}.values.yaml")).expect("values file");
        let values_file = dir.join(format!("{release}.values.yaml"));
        std::fs::write(&values_file, values).expect("write");
        let rendered = spec_testkit::helm_template(&helm, &charts.join("app-template"), release, "bus", &values_file);
        let workload =
            rendered.iter().find(|o| o["kind"] == expected).unwrap_or_else(|| panic!("{release}: no {expected}"));
        let context = &workload["spec"]["template"]["spec"]["securityContext"];
        assert_eq!(context["runAsNonRoot"], true, "{release}: {context}");
        let user =
            context["runAsUser"].as_u64().unwrap_or_else(|| panic!("{release}: no numeric runAsUser: {context}"));
        assert!(user > 0, "{release}: runs as root");
        assert!(context["runAsGroup"].is_u64() && context["fsGroup"] == context["runAsGroup"], "{release}: {context}");
        kinds.push(expected);
    }
    assert_eq!(kinds, ["StatefulSet", "Job"]);
}
