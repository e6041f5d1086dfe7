//! Rollouts, disruption budgets, autoscalers, tiers and blue-green switches, read back from what
//! the real app-template chart renders (`helm template`) beside the objects of
//! `k8s/<cluster>/rollouts.yaml`:
//!
//! - every Deployment of a service with a `rolling` rollout is a `RollingUpdate` with the surge
//!   and unavailability the spec asks, a zero kept as zero;
//! - a canary service's Deployment runs no pod (`replicas: 0`), and an Argo Rollouts `Rollout` of
//!   its namespace takes it over: its `workloadRef` names that rendered Deployment, its selector
//!   selects the Deployment's pod labels (which the release's rendered Service selects too), its
//!   steps are the spec's shares, each but the last followed by the spec's pause (or a pause until
//!   promoted), and it holds the replicas unless an autoscaler does;
//! - an autoscaled service's Deployment leaves `replicas` to its autoscaler, whose
//!   `scaleTargetRef` names a rendered workload of that kind in the autoscaler's namespace (a
//!   canary's Rollout, taking over a rendered Deployment), with the spec's bounds;
//! - every disruption budget selects exactly the pods of one rendered workload of its namespace;
//! - every pod of a service with a tier names the tier's `PriorityClass`, which the cluster's
//!   objects hold;
//! - the generated `TargetDown` of a service with metrics carries its tier's severity;
//! - a blue-green service renders two releases running their colours' images, and its switch, a
//!   Service named after it, selects the active colour's pods only, on the service's ports.
//!
//! Without Helm or the charts the test prints SKIPPED.

use std::path::{Path, PathBuf};

use serde_json::Value;
use spec_compiler::model::{Amount, Rollout};
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// Whether `selector` (`matchLabels`) selects pods labelled `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| &labels[k] == v))
}

/// An amount as the rendered object holds it, for comparison: `1`, `"0%"` and `0` alike.
fn same_amount(rendered: &Value, amount: &Amount) -> bool {
    let rendered = match rendered {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return false,
    };
    match amount {
        _ if amount.is_zero() => rendered == "0" || rendered == "0%",
        Amount::Count(n) => rendered == n.to_string(),
        Amount::Share(share) => &rendered == share,
    }
}

#[test]
fn rollouts_render_as_the_spec_says() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("app-template", "the rollouts were NOT read back") else {
        return;
    };
    let estate =
        workspace().join("specs/targets/kubernetes/rollouts_budgets_autoscalers_and_tiers_generate_cleanly.spec");
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    assert_eq!(compilation.errors(), 0, "{:#?}", compilation.diagnostics);
    let model = &compilation.model;
    let files = spec_testkit::generate_in(&Kubernetes, &estate, None);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-rollouts");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = |path: &str| files.iter().find(|(p, _)| p == path).map(|(_, c)| c.clone());
    let objects = spec_testkit::yaml_documents(&file("k8s/apps/rollouts.yaml").expect("rollouts.yaml"));
    let releases = spec_testkit::yaml_documents(&file("helm/apps/releases.yaml").expect("releases.yaml"));

    // Every release rendered as Flux installs it, with the namespace it goes to.
    let mut rendered: Vec<(String, String, Vec<Value>)> = Vec::new();
    for release in releases.iter().filter(|o| o["kind"] == "HelmRelease") {
        let name = release["metadata"]["name"].as_str().expect("name");
        // A chart-backed service (the Argo Rollouts controller) is not app-template's to render.
        if model.services.iter().any(|s| s.name == name && s.spec.helm.is_some()) {
            continue;
        }
        let namespace = release["spec"]["targetNamespace"]
            .as_str()
            .or_else(|| release["metadata"]["namespace"].as_str())
            .expect("namespace");
        let values = dir.join(format!("{name}.values.yaml"));
        std::fs::write(&values, file(&format!("helm/apps/{name}.values.yaml")).expect("values file")).expect("write");
        let release_name = release["spec"]["releaseName"].as_str().expect("releaseName");
        let objects =
            spec_testkit::helm_template(&helm, &charts.join("app-template"), release_name, namespace, &values);
        rendered.push((name.to_string(), namespace.to_string(), objects));
    }
    let workloads = || {
        rendered.iter().flat_map(|(release, namespace, objects)| {
            objects
                .iter()
                .filter(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet")
                .map(move |o| (release.as_str(), namespace.as_str(), o))
        })
    };
    let classes: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "PriorityClass")
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();

    // Each budget selects the pods of exactly one workload of its namespace.
    let budgets: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "PodDisruptionBudget").collect();
    for budget in &budgets {
        let selector = &budget["spec"]["selector"]["matchLabels"];
        let namespace = budget["metadata"]["namespace"].as_str();
        let selected = workloads()
            .filter(|(_, ns, w)| {
                Some(*ns) == namespace && selects(selector, &w["spec"]["template"]["metadata"]["labels"])
            })
            .count();
        assert_eq!(selected, 1, "budget {} selects {selected} workloads", budget["metadata"]["name"]);
    }
    let rollouts: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "Rollout").collect();
    // Each autoscaler scales a rendered workload of its kind and namespace.
    let autoscalers: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "HorizontalPodAutoscaler").collect();
    for autoscaler in &autoscalers {
        let target = &autoscaler["spec"]["scaleTargetRef"];
        // A canary's Rollout stands for the Deployment it takes over.
        let target = match target["kind"].as_str() {
            Some("Rollout") => {
                let rollout = rollouts
                    .iter()
                    .find(|r| {
                        r["metadata"]["name"] == target["name"]
                            && r["metadata"]["namespace"] == autoscaler["metadata"]["namespace"]
                    })
                    .unwrap_or_else(|| {
                        panic!("autoscaler {} scales no Rollout: {target}", autoscaler["metadata"]["name"])
                    });
                &rollout["spec"]["workloadRef"]
            }
            _ => target,
        };
        let found = workloads().any(|(_, ns, w)| {
            Some(ns) == autoscaler["metadata"]["namespace"].as_str()
                && w["kind"] == target["kind"]
                && w["metadata"]["name"] == target["name"]
        });
        assert!(found, "autoscaler {} scales nothing rendered: {target}", autoscaler["metadata"]["name"]);
    }

    for service in model.services.iter().filter(|s| s.spec.helm.is_none()) {
        let spec = &service.spec;
        let own: Vec<(&str, &Value)> = workloads()
            .filter(|(release, ..)| *release == service.name || release.starts_with(&format!("{}-", service.name)))
            .map(|(release, _, w)| (release, w))
            .collect();
        assert!(!own.is_empty(), "service `{}` renders no workload", service.name);
        for (release, workload) in &own {
            let what = format!("service `{}` (release {release})", service.name);
            let pod = &workload["spec"]["template"]["spec"];
            if let Some(tier) = &spec.tier {
                let class = pod["priorityClassName"].as_str().unwrap_or_default();
                assert_eq!(class, tier.value.priority_class(), "{what}: priority class");
                assert!(classes.contains(&class), "{what}: PriorityClass {class} is not written");
            }
            let canary = matches!(spec.rollout.as_ref().map(|r| &r.value), Some(Rollout::Canary { .. }));
            if let Some(scale) = &spec.autoscale {
                let replicas = &workload["spec"]["replicas"];
                assert!(
                    if canary { replicas == 0 } else { replicas.is_null() },
                    "{what}: replicas fixed beside the autoscaler"
                );
                let autoscaler = autoscalers
                    .iter()
                    .find(|a| a["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"])
                    .unwrap_or_else(|| panic!("{what}: no autoscaler"));
                assert_eq!(autoscaler["spec"]["maxReplicas"], scale.value.max.value, "{what}: max");
                assert_eq!(autoscaler["spec"]["minReplicas"], scale.value.min(), "{what}: min");
            }
            if spec.disruption.is_some() {
                let labels = &workload["spec"]["template"]["metadata"]["labels"];
                assert!(
                    budgets.iter().any(|b| selects(&b["spec"]["selector"]["matchLabels"], labels)),
                    "{what}: no disruption budget selects its pods"
                );
            }
            let strategy = &workload["spec"]["strategy"];
            match spec.rollout.as_ref().map(|r| &r.value) {
                Some(Rollout::Rolling { surge, unavailable }) => {
                    assert_eq!(strategy["type"], "RollingUpdate", "{what}: strategy");
                    if let Some(surge) = surge {
                        assert!(
                            same_amount(&strategy["rollingUpdate"]["maxSurge"], &surge.value),
                            "{what}: {strategy}"
                        );
                    }
                    if let Some(unavailable) = unavailable {
                        let rendered = &strategy["rollingUpdate"]["maxUnavailable"];
                        assert!(same_amount(rendered, &unavailable.value), "{what}: {strategy}");
                    }
                }
                Some(Rollout::Canary { steps, pause, .. }) => {
                    assert_eq!(workload["spec"]["replicas"], 0, "{what}: the Deployment runs pods beside its Rollout");
                    let rollout = rollouts
                        .iter()
                        .find(|r| {
                            r["spec"]["workloadRef"]["name"] == workload["metadata"]["name"]
                                && r["metadata"]["namespace"] == workload["metadata"]["namespace"]
                        })
                        .unwrap_or_else(|| panic!("{what}: no Rollout takes over {}", workload["metadata"]["name"]));
                    assert_eq!(workload["kind"], "Deployment", "{what}");
                    assert_eq!(rollout["spec"]["workloadRef"]["kind"], "Deployment", "{what}");
                    assert_eq!(rollout["spec"]["workloadRef"]["apiVersion"], workload["apiVersion"], "{what}");
                    let labels = &workload["spec"]["template"]["metadata"]["labels"];
                    assert!(selects(&rollout["spec"]["selector"]["matchLabels"], labels), "{what}: {rollout}");
                    let chart_service = rendered
                        .iter()
                        .filter(|(r, ..)| r == release)
                        .flat_map(|(_, _, objects)| objects.iter())
                        .find(|o| o["kind"] == "Service")
                        .unwrap_or_else(|| panic!("{what}: no Service rendered"));
                    assert!(
                        selects(&chart_service["spec"]["selector"], labels),
                        "{what}: the Service selects other pods"
                    );
                    let wanted: Vec<u64> =
                        steps.value.iter().filter_map(|s| s.value.percent().ok().flatten()).map(u64::from).collect();
                    let written = array(&rollout["spec"]["strategy"]["canary"]["steps"]);
                    let weights: Vec<u64> = written.iter().filter_map(|s| s["setWeight"].as_u64()).collect();
                    assert_eq!(weights, wanted, "{what}: the steps");
                    let pauses: Vec<&Value> = written.iter().filter(|s| s.get("pause").is_some()).collect();
                    assert_eq!(pauses.len(), wanted.len() - 1, "{what}: a pause after each step but the last");
                    for step in &pauses {
                        let duration = &step["pause"]["duration"];
                        match pause {
                            Some(pause) => assert_eq!(
                                duration.as_str(),
                                Some(spec_compiler::model::types::format_duration(pause.value.0).as_str()),
                                "{what}: the pause"
                            ),
                            None => assert!(duration.is_null(), "{what}: a pause until promoted"),
                        }
                    }
                    match &spec.autoscale {
                        Some(_) => {
                            assert!(rollout["spec"]["replicas"].is_null(), "{what}: replicas beside the autoscaler")
                        }
                        None => assert_eq!(rollout["spec"]["replicas"], spec.replicas(), "{what}: replicas"),
                    }
                }
                Some(Rollout::BlueGreen { active, blue, green }) => {
                    let colour = release.rsplit('-').next().unwrap_or_default();
                    let image = match colour {
                        "blue" => blue,
                        _ => green,
                    };
                    let own = image.as_ref().and_then(|i| i.value.image());
                    let wanted = own.or(spec.image.as_ref().map(|i| i.value.as_str()));
                    let images: Vec<&str> =
                        array(&pod["containers"]).iter().filter_map(|c| c["image"].as_str()).collect();
                    assert_eq!(images, wanted.into_iter().collect::<Vec<_>>(), "{what}: image");
                    let switch = objects
                        .iter()
                        .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == service.name.as_str())
                        .unwrap_or_else(|| panic!("{what}: no switch"));
                    let labels = &workload["spec"]["template"]["metadata"]["labels"];
                    let chosen = selects(&switch["spec"]["selector"], labels);
                    assert_eq!(
                        chosen,
                        colour == active.value.name(),
                        "{what}: the switch selects the active colour only"
                    );
                    let ports: Vec<u64> =
                        array(&switch["spec"]["ports"]).iter().filter_map(|p| p["port"].as_u64()).collect();
                    let declared: Vec<u64> = spec.ports.values().map(|p| u64::from(p.value.number)).collect();
                    assert_eq!(ports, declared, "{what}: the switch's ports");
                }
                None => assert_ne!(strategy["type"], "RollingUpdate", "{what}: a rollout nobody asked for"),
            }
        }
    }
    // The generated alerts of a service carry its tier's severity (critical without one).
    let rules = spec_testkit::yaml_documents(&file("k8s/apps/alerts.yaml").expect("alerts.yaml"));
    let alerts: Vec<&Value> = rules
        .iter()
        .flat_map(|r| array(&r["spec"]["groups"]))
        .flat_map(|g| array(&g["rules"]))
        .filter(|r| r["alert"].is_string())
        .collect();
    let mut judged = 0;
    for service in model.services.iter().filter(|s| s.spec.metrics.is_some()) {
        let down = alerts
            .iter()
            .find(|a| {
                a["alert"].as_str().is_some_and(|n| n.ends_with("TargetDown"))
                    && a["labels"]["service"] == service.name.as_str()
            })
            .unwrap_or_else(|| panic!("service `{}` has no TargetDown alert", service.name));
        let severity = match service.spec.generated_severity() {
            spec_compiler::model::Severity::Critical => "critical",
            spec_compiler::model::Severity::Warning => "warning",
            spec_compiler::model::Severity::Info => "info",
        };
        assert_eq!(down["labels"]["severity"], severity, "service `{}`: the severity of its TargetDown", service.name);
        judged += usize::from(
            service.spec.tier.as_ref().is_some_and(|t| t.value.severity() != spec_compiler::model::Severity::Critical),
        );
    }
    // The case holds every construct, so none of the checks above passed by finding nothing.
    assert!(!budgets.is_empty() && !autoscalers.is_empty() && !classes.is_empty() && judged > 0);
    assert!(rollouts.len() >= 2 && autoscalers.iter().any(|a| a["spec"]["scaleTargetRef"]["kind"] == "Rollout"));
}
