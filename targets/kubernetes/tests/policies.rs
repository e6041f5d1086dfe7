//! The generated `NetworkPolicy`s read back as Kubernetes enforces them: the pods are what the real
//! charts render from the generated values (real Helm, `shared/charts`), with their real labels
//! and namespaces, with the policies the charts render beside the estate's, and a connection is admitted when the policies selecting the destination pod
//! admit it in (or none selects it for ingress) and those selecting the source pod let it out (or
//! none selects it for egress), as the API's semantics say: policies add up, a peer with both
//! selectors is their conjunction, a rule without `from`/`to` or `ports` matches everything.
//!
//! Then every `needs` edge (and endpoint read) of the estate must be admitted on every port of the
//! needed service but a metrics-only one, every other pair of services must not be, the
//! Prometheus pods (prometheus-operator's label, in another namespace) must reach each metrics
//! port and an unlabelled pod must not, the ingress controller in `kube-system` must reach each
//! route's port, and every pod of a namespace that denies traffic must still reach DNS. Without
//! Helm or the charts the test prints SKIPPED.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_compiler::model::reach::{metrics_only, reached_services};
use spec_target_kubernetes::Kubernetes;

mod netpol;

use netpol::{Pod, admitted, admitted_out};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_need_is_admitted_and_nothing_else() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("postgresql", "the network policies were NOT read back")
    else {
        return;
    };
    let estate = workspace().join("specs/targets/kubernetes/network_policies_and_access_generate_cleanly.spec");
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    assert_eq!(compilation.errors(), 0, "{:#?}", compilation.diagnostics);
    let model = &compilation.model;
    let files = spec_testkit::generate_in(&Kubernetes, &estate, None);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-policies");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let cluster = &model.clusters[0];
    let namespaces = cluster.spec.namespaces(cluster.name_span);
    let mut policies: Vec<Value> = files
        .iter()
        .filter(|(path, _)| path == &format!("k8s/{}/policies.yaml", cluster.name))
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    assert!(!policies.is_empty(), "no policies written");
    // Each service's pods, as its chart renders them.
    let mut pods: BTreeMap<&str, Pod> = BTreeMap::new();
    for service in &model.services {
        let index = cluster.spec.namespace_of(service.spec.namespace.as_ref()).expect("namespace");
        let namespace = namespaces[index].name;
        let path = format!("helm/{}/{}.values.yaml", cluster.name, service.name);
        let (_, values) = files.iter().find(|(p, _)| *p == path).expect("values file");
        let first = values.lines().next().unwrap_or_default();
        let chart = first.trim_start_matches("# chart: ").split('@').next().expect("chart");
        let file = dir.join(format!("{}.values.yaml", service.name));
        std::fs::write(&file, values).expect("write values");
        let rendered = spec_testkit::helm_template(&helm, &charts.join(chart), &service.name, namespace, &file);
        // A chart's own policies add up with the estate's: one admitting everyone would undo them.
        for mut policy in rendered.iter().filter(|o| o["kind"] == "NetworkPolicy").cloned() {
            if policy["metadata"]["namespace"].is_null() {
                policy["metadata"]["namespace"] = namespace.into();
            }
            policies.push(policy);
        }
        let workload = rendered
            .iter()
            .find(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet")
            .unwrap_or_else(|| panic!("{}: no workload rendered", service.name));
        let labels = workload["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .expect("pod labels")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        pods.insert(&service.name, Pod { namespace: namespace.to_string(), labels });
    }
    let denied = |pod: &Pod| {
        namespaces.iter().any(|n| {
            n.name == pod.namespace
                && n.network_policy.is_some_and(|p| p.value == spec_compiler::model::NetworkPolicy::Deny)
        })
    };
    let mut edges = 0;
    let mut refused = 0;
    for needed in &model.services {
        let to = &pods[needed.name.as_str()];
        for (name, port) in needed.spec.ports.iter().filter(|(name, _)| !metrics_only(needed, name)) {
            let protocol = "TCP";
            for needer in &model.services {
                if needer.name == needed.name {
                    continue;
                }
                let from = &pods[needer.name.as_str()];
                let reaches = reached_services(&needer.spec).contains(&needed.name.as_str());
                let admitted = admitted(&policies, from, to, port.value.number, protocol);
                if reaches {
                    assert!(admitted, "{} needs {} but is not admitted to port {name}", needer.name, needed.name);
                    edges += 1;
                } else if denied(to) || denied(from) {
                    // An exposed port is open to anyone at the load balancer, by design.
                    if needed.spec.expose.ports().iter().any(|e| e.port == name) {
                        continue;
                    }
                    assert!(!admitted, "{} reaches {}'s port {name} without needing it", needer.name, needed.name);
                    refused += 1;
                }
            }
        }
        // The Prometheus of prometheus-operator scrapes the metrics port; an unlabelled pod does not.
        if let Some(metrics) = needed.spec.metrics.as_ref().filter(|_| denied(to)) {
            let port = needed.spec.ports[metrics.value.port.value.0.as_str()].value.number;
            let prometheus = Pod {
                namespace: "monitoring".into(),
                labels: BTreeMap::from([
                    ("app.kubernetes.io/name".into(), "prometheus".into()),
                    ("prometheus".into(), "k8s".into()),
                ]),
            };
            let stranger = Pod { namespace: "monitoring".into(), labels: BTreeMap::new() };
            assert!(admitted(&policies, &prometheus, to, port, "TCP"), "{}: Prometheus not admitted", needed.name);
            assert!(!admitted(&policies, &stranger, to, port, "TCP"), "{}: any pod scrapes it", needed.name);
            edges += 1;
        }
        // The ingress controller (Traefik in kube-system on k3s) reaches each route's port.
        for route in needed.spec.ingress.values().filter(|_| denied(to)) {
            let port = needed.spec.ports[route.value.port.value.0.as_str()].value.number;
            let traefik = Pod {
                namespace: "kube-system".into(),
                labels: BTreeMap::from([("app.kubernetes.io/name".into(), "traefik".into())]),
            };
            assert!(admitted(&policies, &traefik, to, port, "TCP"), "{}: ingress controller refused", needed.name);
            edges += 1;
        }
    }
    // Every pod of a namespace that denies traffic still resolves names.
    let dns = Pod { namespace: "kube-system".into(), labels: BTreeMap::from([("k8s-app".into(), "kube-dns".into())]) };
    for (name, pod) in pods.iter().filter(|(_, pod)| denied(pod)) {
        assert!(admitted(&policies, pod, &dns, 53, "UDP"), "{name} cannot resolve names");
        assert!(admitted(&policies, pod, &dns, 53, "TCP"), "{name} cannot resolve names over TCP");
    }
    assert!(edges >= 4 && refused >= 4, "too little was checked: {edges} admitted, {refused} refused");
}

/// The pods a workflow's steps run as, by step: the labels Argo gives them from the generated
/// `CronWorkflow` (its `podMetadata` and each template's `metadata`) beside its own.
fn workflow_pods(files: &[(String, String)], cluster: &str) -> BTreeMap<String, Pod> {
    let path = format!("k8s/{cluster}/workflows.yaml");
    let (_, contents) = files.iter().find(|(p, _)| *p == path).expect("workflows written");
    let mut pods = BTreeMap::new();
    for workflow in spec_testkit::yaml_documents(contents).into_iter().filter(|o| o["kind"] == "CronWorkflow") {
        let namespace = workflow["metadata"]["namespace"].as_str().expect("namespace").to_string();
        let spec = &workflow["spec"]["workflowSpec"];
        for template in spec["templates"].as_array().expect("templates").iter().filter(|t| t.get("container").is_some())
        {
            let mut labels: BTreeMap<String, String> = BTreeMap::from([(
                "workflows.argoproj.io/workflow".to_string(),
                format!("{}-1767236400", workflow["metadata"]["name"].as_str().unwrap_or_default()),
            )]);
            for source in [&spec["podMetadata"]["labels"], &template["metadata"]["labels"]] {
                for (k, v) in source.as_object().into_iter().flatten() {
                    labels.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
            let step = template["name"].as_str().unwrap_or_default().trim_start_matches("step-").to_string();
            pods.insert(step, Pod { namespace: namespace.clone(), labels });
        }
    }
    pods
}

/// A job, a workflow's steps and k8up's backup pods in a namespace that denies traffic, read back
/// as Kubernetes enforces the policies: the job's pods as app-template renders its release, the
/// steps' pods as Argo labels them from the generated `CronWorkflow`, k8up's as k8up labels every
/// pod it starts (`k8upjob: "true"`, in the `Schedule`'s namespace). Each reaches exactly what it
/// needs or reads, the API server where it talks to it, and each repository on its port; and
/// still resolves names. Before, they had the namespace's default deny alone (W0681 for k8up and
/// Argo, nothing for a job), so the migration could not reach its database.
#[test]
fn jobs_workflow_steps_and_k8up_pods_reach_exactly_what_they_need() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("app-template", "the network policies were NOT read back")
    else {
        return;
    };
    let estate =
        workspace().join("specs/targets/kubernetes/policies_for_jobs_workflows_and_backups_generate_cleanly.spec");
    let files = spec_testkit::generate_in(&Kubernetes, &estate, None);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-run-policies");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let policies: Vec<Value> = files
        .iter()
        .filter(|(path, _)| path == "k8s/apps/policies.yaml")
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    // The pods of every release (services and the job), as app-template renders them.
    let mut pods: BTreeMap<String, Pod> = BTreeMap::new();
    for release in ["db", "api", "idle", "job-schema"] {
        let path = format!("helm/apps/{release}.values.yaml");
        let (_, values) = files.iter().find(|(p, _)| *p == path).expect("values file");
        let file = dir.join(format!("{release}.values.yaml"));
        std::fs::write(&file, values).expect("write values");
        let rendered = spec_testkit::helm_template(&helm, &charts.join("app-template"), release, "shop", &file);
        let workload = rendered
            .iter()
            .find(|o| ["Deployment", "StatefulSet", "Job"].contains(&o["kind"].as_str().unwrap_or_default()))
            .unwrap_or_else(|| panic!("{release}: no workload rendered"));
        let labels = workload["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .expect("pod labels")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        pods.insert(release.to_string(), Pod { namespace: "shop".into(), labels });
    }
    let steps = workflow_pods(&files, "apps");
    let schedules: Vec<Value> = files
        .iter()
        .filter(|(path, _)| path == "k8s/apps/backups.yaml")
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "Schedule")
        .collect();
    assert_eq!(schedules.len(), 2, "one Schedule per copy");
    let k8up = Pod {
        namespace: schedules[0]["metadata"]["namespace"].as_str().expect("namespace").to_string(),
        labels: BTreeMap::from([("k8upjob".to_string(), "true".to_string())]),
    };

    // The job reaches the database it needs, nothing else of the namespace.
    let job = &pods["job-schema"];
    assert!(admitted(&policies, job, &pods["db"], 5432, "TCP"), "the job cannot reach its database");
    for other in ["api", "idle"] {
        assert!(!admitted(&policies, job, &pods[other], 8080, "TCP"), "the job reaches {other}");
        assert!(!admitted(&policies, &pods[other], job, 8080, "TCP"), "{other} reaches the job");
    }
    assert!(!admitted_out(&policies, job, "203.0.113.7", 443), "the job reaches outside the cluster");

    // The step reading the API reaches it (and the API server); the other step reaches no service.
    let (report, tidy) = (&steps["report"], &steps["tidy"]);
    assert!(admitted(&policies, report, &pods["api"], 8080, "TCP"), "the step cannot reach the API it reads");
    assert!(!admitted(&policies, report, &pods["db"], 5432, "TCP"), "the step reaches the database");
    assert!(!admitted(&policies, tidy, &pods["api"], 8080, "TCP"), "a step reaches what it does not read");
    for step in [report, tidy] {
        assert!(admitted_out(&policies, step, "10.43.0.1", 443), "a step cannot reach the API server");
        assert!(admitted_out(&policies, step, "10.1.0.1", 6443), "a step cannot reach the API server");
        assert!(!admitted_out(&policies, step, "203.0.113.7", 443), "a step reaches outside the cluster");
    }

    // k8up reaches the API server and each repository on its port, no service and nothing else.
    assert!(admitted_out(&policies, &k8up, "10.43.0.1", 443), "k8up cannot reach the API server");
    assert!(admitted_out(&policies, &k8up, "203.0.113.7", 443), "k8up cannot reach the S3 repository");
    assert!(admitted_out(&policies, &k8up, "192.0.2.10", 8000), "k8up cannot reach the REST repository");
    assert!(!admitted_out(&policies, &k8up, "203.0.113.7", 8000), "k8up reaches the REST port elsewhere");
    assert!(!admitted_out(&policies, &k8up, "203.0.113.7", 22), "k8up reaches any port");
    assert!(!admitted_out(&policies, &k8up, "10.42.0.9", 443), "k8up reaches pods by address");
    for (name, pod) in &pods {
        assert!(
            !admitted(&policies, &k8up, pod, 8080, "TCP") && !admitted(&policies, &k8up, pod, 5432, "TCP"),
            "k8up reaches {name}"
        );
    }

    // Each restore test's pod, as its CronJob labels it, reaches the repository it reads and
    // nothing else: no API server, no service.
    let tests: Vec<Pod> = files
        .iter()
        .filter(|(path, _)| path == "k8s/apps/backups.yaml")
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "CronJob")
        .map(|o| Pod {
            namespace: o["metadata"]["namespace"].as_str().expect("namespace").to_string(),
            labels: o["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
                .as_object()
                .expect("pod labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
        })
        .collect();
    assert_eq!(tests.len(), 2, "a restore test per copy");
    for test in &tests {
        assert!(admitted_out(&policies, test, "203.0.113.7", 443), "a restore test cannot reach the S3 repository");
        assert!(admitted_out(&policies, test, "192.0.2.10", 8000), "a restore test cannot reach the REST repository");
        assert!(!admitted_out(&policies, test, "10.43.0.1", 443), "a restore test reaches the API server");
        assert!(!admitted_out(&policies, test, "203.0.113.7", 22), "a restore test reaches any port");
        for (name, pod) in &pods {
            assert!(!admitted(&policies, test, pod, 8080, "TCP"), "a restore test reaches {name}");
        }
    }

    // Everything still resolves names.
    let dns = Pod { namespace: "kube-system".into(), labels: BTreeMap::from([("k8s-app".into(), "kube-dns".into())]) };
    for pod in [job, report, tidy, &k8up].into_iter().chain(&tests) {
        assert!(admitted(&policies, pod, &dns, 53, "UDP") && admitted(&policies, pod, &dns, 53, "TCP"));
    }
}

/// A service whose pods an operator starts and labels: the Prometheus of kube-prometheus-stack,
/// whose pods carry the labels the Prometheus operator gives every pod of a `Prometheus` object
/// (its `podSelectorLabels`: `app.kubernetes.io/name: prometheus`, `managed-by`, `instance` and
/// `prometheus` set to the object's name, `operator.prometheus.io/name` and `shard`), the object
/// kube-prometheus-stack names `<release>-kube-prometheus-prometheus` for release `monitoring`.
/// The dashboard needing it is let out to those pods; before `pod_labels`, the policy selected
/// `app.kubernetes.io/instance: monitoring`, which no pod of that Prometheus carries.
#[test]
fn pods_an_operator_labels_are_reached_by_their_pod_labels() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("app-template", "the network policies were NOT read back")
    else {
        return;
    };
    let estate = workspace().join("specs/targets/kubernetes/policies_select_the_pods_an_operator_labels.spec");
    let files = spec_testkit::generate_in(&Kubernetes, &estate, None);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-operator-policies");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let policies: Vec<Value> = files
        .iter()
        .filter(|(path, _)| path == "k8s/apps/policies.yaml")
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    let mut pods: BTreeMap<String, Pod> = BTreeMap::new();
    for release in ["dashboard", "idle"] {
        let (_, values) = files.iter().find(|(p, _)| *p == format!("helm/apps/{release}.values.yaml")).expect("values");
        let file = dir.join(format!("{release}.values.yaml"));
        std::fs::write(&file, values).expect("write values");
        let rendered = spec_testkit::helm_template(&helm, &charts.join("app-template"), release, "tools", &file);
        let workload = rendered.iter().find(|o| o["kind"] == "Deployment").expect("a Deployment");
        let labels = workload["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .expect("pod labels")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        pods.insert(release.to_string(), Pod { namespace: "tools".into(), labels });
    }
    let object = "monitoring-kube-prometheus-prometheus";
    let prometheus = Pod {
        namespace: "monitoring".into(),
        labels: BTreeMap::from([
            ("app.kubernetes.io/name".into(), "prometheus".into()),
            ("app.kubernetes.io/managed-by".into(), "prometheus-operator".into()),
            ("app.kubernetes.io/instance".into(), object.into()),
            ("prometheus".into(), object.into()),
            ("operator.prometheus.io/name".into(), object.into()),
            ("operator.prometheus.io/shard".into(), "0".into()),
        ]),
    };
    // Another pod of the same release (Grafana), which the need does not reach.
    let grafana = Pod {
        namespace: "monitoring".into(),
        labels: BTreeMap::from([
            ("app.kubernetes.io/name".into(), "grafana".into()),
            ("app.kubernetes.io/instance".into(), "monitoring".into()),
        ]),
    };
    assert!(admitted(&policies, &pods["dashboard"], &prometheus, 9090, "TCP"), "the dashboard cannot reach Prometheus");
    assert!(!admitted(&policies, &pods["dashboard"], &grafana, 9090, "TCP"), "the dashboard reaches Grafana");
    assert!(
        !admitted(&policies, &pods["idle"], &prometheus, 9090, "TCP"),
        "a pod that needs nothing reaches Prometheus"
    );
}

/// A canary's analysis across namespaces that deny traffic: the Argo Rollouts controller's pods
/// (the labels the argo-helm chart's controller Deployment gives them: its selector labels and
/// `app.kubernetes.io/component: rollouts-controller`) reach Prometheus's (the labels
/// prometheus-operator gives the pods of the chart's `Prometheus` object,
/// `monitoring-kube-prometheus-prometheus` for the release `monitoring`) on 9090, and nothing else
/// does: not the chart's dashboard, of the same release, nor the canary service.
#[test]
fn the_rollouts_controller_reaches_prometheus_for_an_analysis() {
    let estate =
        workspace().join("specs/targets/kubernetes/canary_analysis_across_denying_namespaces_is_admitted.spec");
    let files = spec_testkit::generate_in(&Kubernetes, &estate, None);
    let policies: Vec<Value> = files
        .iter()
        .filter(|(path, _)| path == "k8s/apps/policies.yaml")
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .filter(|o| o["kind"] == "NetworkPolicy")
        .collect();
    let pod = |namespace: &str, labels: &[(&str, &str)]| Pod {
        namespace: namespace.into(),
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    let controller = pod(
        "tools",
        &[
            ("app.kubernetes.io/name", "argo-rollouts"),
            ("app.kubernetes.io/instance", "argo-rollouts"),
            ("app.kubernetes.io/component", "rollouts-controller"),
        ],
    );
    let dashboard = pod(
        "tools",
        &[
            ("app.kubernetes.io/name", "argo-rollouts"),
            ("app.kubernetes.io/instance", "argo-rollouts"),
            ("app.kubernetes.io/component", "rollouts-dashboard"),
        ],
    );
    let object = "monitoring-kube-prometheus-prometheus";
    let prometheus = pod(
        "monitoring",
        &[
            ("app.kubernetes.io/name", "prometheus"),
            ("app.kubernetes.io/managed-by", "prometheus-operator"),
            ("app.kubernetes.io/instance", object),
            ("prometheus", object),
            ("operator.prometheus.io/name", object),
            ("operator.prometheus.io/shard", "0"),
        ],
    );
    let api = pod("apps", &[("app.kubernetes.io/instance", "api")]);
    // Both sides deny, so both policies are needed and written.
    for (namespace, name) in [("tools", "analysis-to-prometheus"), ("monitoring", "analysis-from-controller")] {
        assert!(
            policies.iter().any(|p| p["metadata"]["namespace"] == namespace && p["metadata"]["name"] == name),
            "no policy {name} in namespace {namespace}"
        );
    }
    assert!(admitted(&policies, &controller, &prometheus, 9090, "TCP"), "the controller cannot query Prometheus");
    assert!(!admitted(&policies, &controller, &prometheus, 9093, "TCP"), "the controller reaches another port");
    assert!(!admitted(&policies, &dashboard, &prometheus, 9090, "TCP"), "the dashboard reaches Prometheus");
    assert!(!admitted(&policies, &api, &prometheus, 9090, "TCP"), "the canary service reaches Prometheus");
    // The Rollout's analysis is written, asking that Prometheus.
    let template = files
        .iter()
        .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
        .find(|o| o["kind"] == "AnalysisTemplate")
        .expect("an AnalysisTemplate");
    assert_eq!(
        template["spec"]["metrics"][0]["provider"]["prometheus"]["address"],
        "http://monitoring-kube-prometheus-prometheus.monitoring.svc.cluster.local:9090"
    );
}
