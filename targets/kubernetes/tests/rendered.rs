//! What the real charts render from the generated values, read back against the spec: every
//! values file is rendered by real Helm with the real chart (`shared/charts`), and the rendered
//! objects must mean what the spec says: the image is the one asked for, each volume is a claim
//! (carrying its storage's label) mounted at the spec's path, each Secret a container or volume
//! refers to is one the estate provides with the key asked for, exactly the exposed ports are on a
//! `LoadBalancer` (admitting only its network's range when exposed to a network), each container passes the
//! namespace's `LimitRange` as the API server applies it, and each k8up `Schedule` selects the
//! claim of its storage and no other. Without Helm or the charts the test prints SKIPPED.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde_json::Value;
use spec_compiler::model::{KubernetesSecret, Model};
use spec_target_kubernetes::Kubernetes;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn estates() -> Vec<(&'static str, PathBuf)> {
    let case = |name: &str| workspace().join(format!("specs/targets/kubernetes/{name}.spec"));
    vec![
        ("tour", workspace().join("examples/tour")),
        ("k8s-platform", workspace().join("examples/k8s-platform")),
        ("nats-services", workspace().join("examples/nats-services")),
        ("nats-services@staging", workspace().join("examples/nats-services")),
        ("nats-services@dev", workspace().join("examples/nats-services")),
        ("gpu-k3s-tiers", workspace().join("examples/gpu-k3s-tiers")),
        ("gpu-k3s-tiers@staging", workspace().join("examples/gpu-k3s-tiers")),
        ("every_workload", case("a_cluster_with_every_workload_generates_cleanly")),
        ("chart_services", case("chart_services_take_their_fields")),
        ("milli_cpu", case("milli_cpu_on_a_cluster_generates_cleanly")),
        ("namespaces", case("namespaces_with_quotas_limits_and_pod_security_generate_cleanly")),
        ("ingress", case("ingress_with_hosts_paths_and_tls_generates_cleanly")),
        ("backups", case("cluster_backups_to_a_bucket_and_of_a_dump")),
        ("vault", case("secrets_from_vault_in_two_namespaces_generate_cleanly")),
        ("networks", case("ports_exposed_to_networks_from_a_cluster_generate_cleanly")),
        ("jobs", case("a_migration_job_before_its_service_on_a_cluster_generates_cleanly")),
        ("engines", case("workflow_engines_and_ipfs_on_a_cluster_generate_cleanly")),
        ("gpus", case("gpu_services_on_a_cluster_select_their_nodes_generate_cleanly")),
        ("rollouts", case("rollouts_budgets_autoscalers_and_tiers_generate_cleanly")),
        ("policies", case("network_policies_and_access_generate_cleanly")),
        ("stateful", case("stateful_presets_postgres_replicas_vault_and_n8n_generate_cleanly")),
        ("security", case("privileged_agents_and_workflow_concurrency_on_a_cluster_generate_cleanly")),
        ("traces", case("traces_and_profiles_on_a_cluster_generate_cleanly")),
    ]
}

/// The objects the chart named on the values file's first line renders from it.
fn render(helm: &Path, charts: &Path, release: &str, namespace: &str, values: &Path, first_line: &str) -> Vec<Value> {
    let chart = first_line.trim_start_matches("# chart: ").split('@').next().expect("chart name");
    spec_testkit::helm_template(helm, &charts.join(chart), release, namespace, values)
}

/// The pod template and claim templates of a rendered workload.
fn pod_spec(object: &Value) -> Option<&Value> {
    match object["kind"].as_str()? {
        "Deployment" | "StatefulSet" | "DaemonSet" => Some(&object["spec"]["template"]["spec"]),
        _ => None,
    }
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// Every Secret a rendered object refers to, with the key when it names one.
fn secret_references(object: &Value, out: &mut Vec<(String, Option<String>)>) {
    match object {
        Value::Object(map) => {
            if let Some(reference) = map.get("secretKeyRef") {
                let name = reference["name"].as_str().unwrap_or_default().to_string();
                out.push((name, reference["key"].as_str().map(str::to_string)));
            }
            if let Some(Value::Object(secret)) = map.get("secret") {
                let name = secret.get("secretName").and_then(Value::as_str).unwrap_or_default().to_string();
                let keys: Vec<_> = array(secret.get("items").unwrap_or(&Value::Null)).iter().collect();
                if keys.is_empty() {
                    out.push((name.clone(), None));
                }
                for item in keys {
                    out.push((name.clone(), item["key"].as_str().map(str::to_string)));
                }
            }
            map.values().for_each(|v| secret_references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| secret_references(v, out)),
        _ => {}
    }
}

/// The Secrets the estate provides to a cluster: its ExternalSecrets' targets and the existing
/// Secrets its secrets name, each with its keys.
fn provided_secrets(model: &Model, manifests: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut provided: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for object in manifests.iter().filter(|o| o["kind"] == "ExternalSecret") {
        let name = object["spec"]["target"]["name"].as_str().expect("target name").to_string();
        let keys = array(&object["spec"]["data"]).iter().filter_map(|d| d["secretKey"].as_str().map(str::to_string));
        provided.entry(name).or_default().extend(keys);
    }
    for secret in &model.secrets {
        if let Some(KubernetesSecret::Existing { name, key }) = secret.spec.k8s.as_ref().map(|k| &k.value) {
            // A secret holding several values provides each of its keys (its facets name them).
            provided.entry(name.clone()).or_default().extend(key.clone());
        }
    }
    provided
}

/// Whether a container with these `resources` is admitted in a namespace with these LimitRange
/// items, as the API server does it: a limit item's `default` is its `max` where unset, and its
/// `defaultRequest` its `default` where unset (LimitRange defaulting); a container's missing
/// request is its limit (pod defaulting), then the LimitRanger fills a missing limit from
/// `default` and a missing request from `defaultRequest`; then every request must be at most its
/// limit, every limit at most `max`, and an extended resource's request equal to its limit.
fn admitted(items: &[&Value], resources: &Value) -> Result<(), String> {
    let quantities = |v: &Value| -> BTreeMap<String, u128> {
        v.as_object()
            .map(|m| m.iter().map(|(k, q)| (k.clone(), spec_testkit::kubernetes_thousandths(q))).collect())
            .unwrap_or_default()
    };
    let mut limits = quantities(&resources["limits"]);
    let mut requests = quantities(&resources["requests"]);
    for (name, limit) in &limits {
        requests.entry(name.clone()).or_insert(*limit);
    }
    for item in items {
        let max = quantities(&item["max"]);
        let mut default = quantities(&item["default"]);
        for (name, most) in &max {
            default.entry(name.clone()).or_insert(*most);
        }
        let mut default_request = quantities(&item["defaultRequest"]);
        for (name, limit) in &default {
            default_request.entry(name.clone()).or_insert(*limit);
        }
        for (name, limit) in &default {
            limits.entry(name.clone()).or_insert(*limit);
        }
        for (name, request) in &default_request {
            requests.entry(name.clone()).or_insert(*request);
        }
        for (name, most) in &max {
            if let Some(limit) = limits.get(name).filter(|l| *l > most) {
                return Err(format!("{name} limit {limit}m over the maximum {most}m"));
            }
        }
    }
    for (name, request) in &requests {
        match limits.get(name) {
            Some(limit) if request > limit => return Err(format!("{name} request {request}m over its limit {limit}m")),
            Some(limit) if name.contains('/') && request != limit => {
                return Err(format!("{name} request {request}m is not its limit {limit}m"));
            }
            None if name.contains('/') => return Err(format!("{name} is requested without a limit")),
            _ => {}
        }
    }
    Ok(())
}

/// A size as Kubernetes writes it: the largest binary unit that divides it.
/// A network's range as its members reach a load balancer from it, read from the model: the
/// WireGuard range, or each member's address.
fn network_ranges(model: &Model, name: &str) -> BTreeSet<String> {
    let network = model.networks.iter().find(|n| n.name == name).expect("the network exists");
    if let Some(wireguard) = &network.spec.wireguard {
        let cidr = &wireguard.value.cidr.value;
        return BTreeSet::from([format!("{}/{}", cidr.address, cidr.prefix)]);
    }
    let members = network.spec.members.value.iter();
    let nodes = members.filter_map(|m| model.nodes.iter().find(|n| n.name == m.name));
    nodes.filter_map(|n| n.spec.address.as_ref()).map(|a| format!("{}/32", a.value.0)).collect()
}

fn size_quantity(bytes: u64) -> String {
    let units = [("Pi", 1u64 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
    units
        .iter()
        .find(|(_, unit)| bytes > 0 && bytes.is_multiple_of(*unit))
        .map_or_else(|| bytes.to_string(), |(name, unit)| format!("{}{name}", bytes / unit))
}

#[test]
fn what_the_charts_render_is_what_the_spec_says() {
    let Some((helm, charts)) = spec_testkit::helm_and_charts("postgresql", "the charts' renderings were NOT read back")
    else {
        return;
    };
    let mut rendered_values = 0;
    for (name, estate) in estates() {
        let env = name.split_once('@').map(|(_, env)| env);
        let (_, compilation) = spec_testkit::compile_path(&estate, env);
        assert_eq!(compilation.errors(), 0, "{name}: {:#?}", compilation.diagnostics);
        let model = &compilation.model;
        let files = spec_testkit::generate_in(&Kubernetes, &estate, env);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-rendered").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for cluster in &model.clusters {
            let manifests: Vec<Value> = files
                .iter()
                .filter(|(path, _)| path.starts_with(&format!("k8s/{}/", cluster.name)))
                .flat_map(|(_, contents)| spec_testkit::yaml_documents(contents))
                .collect();
            let provided = provided_secrets(model, &manifests);
            // Each namespace's LimitRange items: a container is held to its own namespace's only.
            let limit_ranges_in = |namespace: &str| -> Vec<&Value> {
                manifests
                    .iter()
                    .filter(|o| o["kind"] == "LimitRange" && o["metadata"]["namespace"] == namespace)
                    .flat_map(|o| array(&o["spec"]["limits"]))
                    .filter(|item| item["type"] == "Container")
                    .collect()
            };
            // A workflow written into a namespace enforcing `restricted` passes its admission too:
            // the pods run as non-root with the runtime's seccomp profile, and every step's
            // container escalates nothing and drops every capability.
            for workflow in manifests.iter().filter(|o| o["kind"] == "CronWorkflow" || o["kind"] == "WorkflowTemplate")
            {
                let namespace = workflow["metadata"]["namespace"].as_str().unwrap_or("default");
                let restricted = manifests.iter().any(|o| {
                    o["kind"] == "Namespace"
                        && o["metadata"]["name"] == namespace
                        && o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
                });
                if !restricted {
                    continue;
                }
                let spec = match workflow["kind"].as_str() {
                    Some("CronWorkflow") => &workflow["spec"]["workflowSpec"],
                    _ => &workflow["spec"],
                };
                let what = format!("{name}: workflow {}", workflow["metadata"]["name"]);
                assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{what}: runs as root");
                assert_eq!(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{what}: no seccomp");
                for container in array(&spec["templates"]).iter().map(|t| &t["container"]).filter(|c| !c.is_null()) {
                    let context = &container["securityContext"];
                    assert_eq!(context["allowPrivilegeEscalation"], false, "{what}: a step may escalate privileges");
                    assert!(
                        array(&context["capabilities"]["drop"]).iter().any(|c| c == "ALL"),
                        "{what}: a step keeps capabilities"
                    );
                }
            }
            // The labels of each storage's claim, as rendered, for the k8up check.
            let mut claim_labels: BTreeMap<String, Value> = BTreeMap::new();
            // Each claim's annotations (by storage) and each service's pod templates' metadata,
            // for the dumps' Schedules below.
            let mut claim_annotations: BTreeMap<String, Value> = BTreeMap::new();
            let mut pod_metadata: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            // The Services the charts render (`name.namespace.svc.cluster.local`), the releases
            // rendered (service and namespace), and the in-cluster hosts containers are told to
            // reach, for the endpoint check below.
            let mut rendered_hosts: BTreeSet<String> = BTreeSet::new();
            let mut rendered_releases: Vec<(String, String)> = Vec::new();
            let mut hosts_read: Vec<(String, String)> = Vec::new();
            for service in &model.services {
                let values_path = format!("helm/{}/{}.values.yaml", cluster.name, service.name);
                let Some((_, contents)) = files.iter().find(|(path, _)| *path == values_path) else { continue };
                let first_line = contents.lines().next().unwrap_or_default();
                let chart = first_line.trim_start_matches("# chart: ").split('@').next().unwrap_or_default();
                if !charts.join(chart).exists() {
                    continue;
                }
                let values_file = dir.join(format!("{}.values.yaml", service.name));
                std::fs::write(&values_file, contents).expect("write");
                // Rendered as Flux installs it: under the release name its HelmRelease gives.
                let release = spec_testkit::helm_release(&files, &cluster.name, &service.name);
                let release_name = release["spec"]["releaseName"].as_str().map(str::to_string).unwrap_or_else(|| {
                    panic!("{name}: service `{}` has no HelmRelease with a releaseName", service.name)
                });
                // Installed where Flux installs it: the targetNamespace, else the release's own.
                let namespace = release["spec"]["targetNamespace"]
                    .as_str()
                    .or_else(|| release["metadata"]["namespace"].as_str())
                    .unwrap_or("default")
                    .to_string();
                let limit_ranges = limit_ranges_in(&namespace);
                let objects = render(&helm, &charts, &release_name, &namespace, &values_file, first_line);
                rendered_values += 1;
                rendered_releases.push((service.name.clone(), namespace.clone()));
                for object in objects.iter().filter(|o| o["kind"] == "Service") {
                    let name = object["metadata"]["name"].as_str().unwrap_or_default();
                    rendered_hosts.insert(format!("{name}.{namespace}.svc.cluster.local"));
                }
                let what = format!("{name}: service `{}` ({chart})", service.name);
                let workloads: Vec<&Value> = objects.iter().filter(|o| pod_spec(o).is_some()).collect();
                assert!(!workloads.is_empty(), "{what}: the chart renders no workload");
                pod_metadata.insert(
                    service.name.clone(),
                    workloads.iter().map(|w| w["spec"]["template"]["metadata"].clone()).collect(),
                );
                for container in workloads.iter().flat_map(|w| array(&pod_spec(w).expect("pod")["containers"])) {
                    for value in array(&container["env"]).iter().filter_map(|e| e["value"].as_str()) {
                        let host = value.rsplit("://").next().unwrap_or(value);
                        let host = host.split([':', '/']).next().unwrap_or(host);
                        if host.ends_with(".svc.cluster.local") {
                            hosts_read.push((what.clone(), host.to_string()));
                        }
                    }
                }
                let images: Vec<&str> = workloads
                    .iter()
                    .flat_map(|w| array(&pod_spec(w).expect("pod")["containers"]))
                    .filter_map(|c| c["image"].as_str())
                    .collect();
                // `examples/gpu-k3s-tiers` makes its MCP servers by a loop over tier tables: each
                // rendered Deployment runs its tier's replicas, probes its row's port and asks for
                // the GPUs its service does (the backend's). (The Redis Cluster's members and
                // their exporters are the data tier's, probed over TCP.)
                let http_probed = matches!(
                    service.spec.health.as_ref().map(|h| &h.value),
                    Some(spec_compiler::model::Health::Http { .. })
                );
                if name.starts_with("gpu-k3s-tiers") && chart == "app-template" && http_probed {
                    let deployment = workloads.iter().find(|w| w["kind"] == "Deployment").expect("a Deployment");
                    let replicas = service.spec.replicas.as_ref().map_or(1, |r| r.value);
                    assert_eq!(deployment["spec"]["replicas"], replicas, "{what}: replicas");
                    let container = &array(&pod_spec(deployment).expect("pod")["containers"])[0];
                    let port = service.spec.ports.values().next().expect("a port").value.number;
                    assert_eq!(container["readinessProbe"]["httpGet"]["port"], port, "{what}: the probed port");
                    let gpus = service.spec.resources.as_ref().and_then(|r| r.value.gpu.as_ref()).map(|g| g.value);
                    let limit = container["resources"]["limits"]["nvidia.com/gpu"].as_str().map(str::to_string);
                    assert_eq!(limit, gpus.map(|g| g.to_string()), "{what}: the GPU limit");
                }

                // In a namespace enforcing the `restricted` Pod Security Standard, every pod carries
                // what the standard's admission checks first: non-root, the runtime's seccomp
                // profile, no privilege escalation, every capability dropped.
                let restricted = manifests.iter().any(|o| {
                    o["kind"] == "Namespace"
                        && o["metadata"]["name"] == namespace.as_str()
                        && o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
                });
                if restricted {
                    for workload in &workloads {
                        let pod = pod_spec(workload).expect("pod");
                        assert_eq!(
                            pod["securityContext"]["runAsNonRoot"], true,
                            "{what}: runs as root in a restricted namespace"
                        );
                        assert_eq!(
                            pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
                            "{what}: no seccomp profile"
                        );
                        for container in array(&pod["containers"]) {
                            let context = &container["securityContext"];
                            assert_eq!(context["allowPrivilegeEscalation"], false, "{what}: may escalate privileges");
                            assert!(
                                array(&context["capabilities"]["drop"]).iter().any(|c| c == "ALL"),
                                "{what}: keeps capabilities"
                            );
                            assert!(
                                array(&context["capabilities"]["add"]).iter().all(|c| c == "NET_BIND_SERVICE"),
                                "{what}: adds a capability the restricted standard refuses"
                            );
                            assert_ne!(context["privileged"], true, "{what}: privileged in a restricted namespace");
                        }
                    }
                }

                // A service's `security` reaches its pods as written: the host's network (still
                // resolving the cluster's names) and PIDs, privileged, each capability added and
                // dropped.
                if let Some(security) = service.spec.security.as_ref().map(|s| &s.value) {
                    for workload in &workloads {
                        let pod = pod_spec(workload).expect("pod");
                        let host_network = security.host_network();
                        assert_eq!(pod["hostNetwork"].as_bool().unwrap_or(false), host_network, "{what}: hostNetwork");
                        if host_network {
                            assert_eq!(
                                pod["dnsPolicy"], "ClusterFirstWithHostNet",
                                "{what}: cluster DNS on the host network"
                            );
                        }
                        assert_eq!(pod["hostPID"].as_bool().unwrap_or(false), security.host_pid(), "{what}: hostPID");
                        for container in array(&pod["containers"]) {
                            let context = &container["securityContext"];
                            assert_eq!(
                                context["privileged"].as_bool().unwrap_or(false),
                                security.privileged(),
                                "{what}: privileged"
                            );
                            for (key, asked) in [("add", security.added()), ("drop", security.dropped())] {
                                let rendered = array(&context["capabilities"][key]);
                                for capability in asked {
                                    assert!(
                                        rendered.iter().any(|c| *c == capability.value.as_str()),
                                        "{what}: capability {} not in `{key}`",
                                        capability.value
                                    );
                                }
                            }
                        }
                    }
                }

                // A pod asking for GPUs runs with the `nvidia` runtime class, limited to its GPUs,
                // on nodes labelled with the model asked (GPU feature discovery's product label)
                // and at least the memory asked per GPU (its memory label, in MiB).
                let gpus = service
                    .spec
                    .resources
                    .as_ref()
                    .map(|r| &r.value)
                    .filter(|r| r.gpu.as_ref().is_some_and(|g| g.value > 0));
                if let Some(resources) = gpus.filter(|_| service.spec.helm.is_none()) {
                    for workload in &workloads {
                        let pod = pod_spec(workload).expect("pod");
                        assert_eq!(pod["runtimeClassName"], "nvidia", "{what}: a GPU pod without the nvidia runtime");
                        let count = resources.gpu.as_ref().expect("gpu").value.to_string();
                        assert!(
                            array(&pod["containers"])
                                .iter()
                                .all(|c| c["resources"]["limits"]["nvidia.com/gpu"] == count.as_str()),
                            "{what}: the GPU limit is not {count}"
                        );
                        match &resources.gpu_model {
                            Some(model) => assert_eq!(
                                pod["nodeSelector"]["nvidia.com/gpu.product"],
                                model.value.as_str(),
                                "{what}"
                            ),
                            None => assert!(
                                pod["nodeSelector"]["nvidia.com/gpu.product"].is_null(),
                                "{what}: a model nobody asked for"
                            ),
                        }
                        // On a cluster of several architectures, a pod whose GPUs fit the nodes of
                        // one only selects it (the kubelet's `kubernetes.io/arch`), else none.
                        let members = cluster.spec.servers.iter().chain(&cluster.spec.agents);
                        let nodes: Vec<_> =
                            members.filter_map(|m| model.nodes.iter().find(|n| n.name == m.name)).collect();
                        let fitting: BTreeSet<&str> = nodes
                            .iter()
                            .filter(|n| {
                                n.spec.gpu.as_ref().is_some_and(|g| g.value > 0)
                                    && resources
                                        .gpu_model
                                        .as_ref()
                                        .is_none_or(|m| n.spec.gpu_model.as_ref().is_some_and(|nm| nm.value == m.value))
                                    && resources.gpu_memory.as_ref().is_none_or(|m| {
                                        n.spec.gpu_memory.as_ref().is_some_and(|nm| nm.value.0 >= m.value.0)
                                    })
                            })
                            .map(|n| n.spec.arch().kubernetes())
                            .collect();
                        let mixed = nodes.iter().any(|n| n.spec.arch() != nodes[0].spec.arch());
                        let selected = pod["nodeSelector"]["kubernetes.io/arch"].as_str();
                        match (mixed, fitting.len()) {
                            (true, 1) => {
                                assert_eq!(selected, fitting.first().copied(), "{what}: its nodes' architecture")
                            }
                            _ => assert!(selected.is_none(), "{what}: an architecture its nodes do not confine it to"),
                        }
                        let terms = &pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                            ["nodeSelectorTerms"];
                        match &resources.gpu_memory {
                            Some(memory) => {
                                let term = &array(terms)[0]["matchExpressions"][0];
                                assert_eq!(term["key"], "nvidia.com/gpu.memory", "{what}");
                                assert_eq!(term["operator"], "Gt", "{what}");
                                let floor: u64 = term["values"][0].as_str().expect("a number").parse().expect("MiB");
                                // A node whose GPUs have exactly the memory asked is selected, one MiB less is not.
                                assert_eq!((floor + 1) << 20, memory.value.0.div_ceil(1 << 20) << 20, "{what}");
                            }
                            None => assert!(terms.is_null(), "{what}: a memory nobody asked for"),
                        }
                    }
                }

                // Each ingress route is a rendered Ingress rule for its host and path whose backend
                // is a rendered Service's port of that number, with the issuer and a TLS entry when
                // the route asks for TLS. A route through Istio's gateway is no Ingress (its
                // VirtualService is read back in tests/mesh.rs).
                for (route_name, route) in &service.spec.ingress {
                    let route = &route.value;
                    if route.class.as_ref().is_some_and(|c| c.value == "istio") {
                        assert!(
                            objects.iter().all(|o| o["kind"] != "Ingress"
                                || array(&o["spec"]["rules"]).iter().all(|r| r["host"] != route.host.value.as_str())),
                            "{what}: route `{route_name}` through Istio rendered as an Ingress"
                        );
                        continue;
                    }
                    let number = service.spec.ports[route.port.value.0.as_str()].value.number;
                    let rendered_services: BTreeSet<&str> = objects
                        .iter()
                        .filter(|o| o["kind"] == "Service")
                        .filter_map(|o| o["metadata"]["name"].as_str())
                        .collect();
                    let served = objects.iter().filter(|o| o["kind"] == "Ingress").find(|o| {
                        array(&o["spec"]["rules"]).iter().any(|rule| {
                            rule["host"] == route.host.value.as_str()
                                && array(&rule["http"]["paths"]).iter().any(|p| {
                                    let backend = &p["backend"]["service"];
                                    p["path"] == route.path()
                                        && backend["port"]["number"] == u64::from(number)
                                        && backend["name"].as_str().is_some_and(|n| rendered_services.contains(n))
                                })
                        })
                    });
                    let served =
                        served.unwrap_or_else(|| panic!("{what}: ingress `{route_name}` is rendered by no Ingress"));
                    if let Some(tls) = &route.tls {
                        assert_eq!(
                            served["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
                            tls.value.issuer.as_ref().expect("an issuer on a cluster (E1270)").value.as_str(),
                            "{what}: ingress `{route_name}` has no issuer"
                        );
                        assert!(
                            array(&served["spec"]["tls"])
                                .iter()
                                .any(|t| array(&t["hosts"]).iter().any(|h| h == route.host.value.as_str())
                                    && t["secretName"].is_string()),
                            "{what}: ingress `{route_name}` serves no TLS for its host"
                        );
                    }
                }

                // A container judged by a liveness probe spec wrote (the generic chart's; the others
                // bring their own) first gets time to start: a startup probe with the same check
                // and at least two minutes of failures.
                let generic = chart == "app-template";
                for container in
                    workloads.iter().filter(|_| generic).flat_map(|w| array(&pod_spec(w).expect("pod")["containers"]))
                {
                    let liveness = &container["livenessProbe"];
                    if liveness.is_null() {
                        continue;
                    }
                    let startup = &container["startupProbe"];
                    let same = |key: &str| startup[key] == liveness[key];
                    assert!(
                        same("httpGet") && same("tcpSocket") && same("exec"),
                        "{what}: container {} has no startup probe with its liveness check",
                        container["name"]
                    );
                    let budget = startup["periodSeconds"].as_u64().unwrap_or(10)
                        * startup["failureThreshold"].as_u64().unwrap_or(3);
                    assert!(budget >= 120, "{what}: container {} may take only {budget}s to start", container["name"]);
                }

                // Every container passes the namespace's LimitRange at admission.
                for workload in &workloads {
                    let pod = pod_spec(workload).expect("pod");
                    for container in array(&pod["containers"]).iter().chain(array(&pod["initContainers"])) {
                        if let Err(refusal) = admitted(&limit_ranges, &container["resources"]) {
                            panic!("{what}: container {} is refused at admission: {refusal}", container["name"]);
                        }
                    }
                }

                // The service's resources reach one of its containers: cpu and memory requested,
                // GPUs as the `nvidia.com/gpu` limit.
                if let Some(resources) = &service.spec.resources {
                    let resources = &resources.value;
                    let wanted: Vec<(&str, &str, u128)> = [
                        resources.cpu.as_ref().map(|c| ("requests", "cpu", u128::from(c.value.millis()))),
                        resources.memory.as_ref().map(|m| ("requests", "memory", u128::from(m.value.0) * 1000)),
                        resources.gpu.as_ref().map(|g| ("limits", "nvidia.com/gpu", u128::from(g.value) * 1000)),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    let reaches =
                        workloads.iter().flat_map(|w| array(&pod_spec(w).expect("pod")["containers"])).any(|c| {
                            wanted.iter().all(|(side, name, amount)| {
                                let quantity = &c["resources"][side][name];
                                !quantity.is_null() && spec_testkit::kubernetes_thousandths(quantity) == *amount
                            })
                        });
                    assert!(reaches, "{what}: no container has {wanted:?}");
                }

                // Clients reach the service by its name (`service.NAME.host`): a ClusterIP Service
                // of that name is rendered, beside any load balancer.
                if chart == "app-template" && !service.spec.ports.is_empty() && service.spec.rollout.is_none() {
                    let named = objects.iter().any(|o| {
                        o["kind"] == "Service"
                            && o["metadata"]["name"] == release_name.as_str()
                            && o["spec"]["type"] == "ClusterIP"
                    });
                    assert!(named, "{what}: no ClusterIP Service named `{release_name}`");
                }

                // Each port exposed beyond the cluster is on a LoadBalancer Service; nothing else is.
                let balanced: BTreeSet<u64> = objects
                    .iter()
                    .filter(|o| o["kind"] == "Service" && o["spec"]["type"] == "LoadBalancer")
                    .flat_map(|o| array(&o["spec"]["ports"]))
                    .filter_map(|p| p["port"].as_u64())
                    .collect();
                let exposed: BTreeSet<u64> = service
                    .spec
                    .expose
                    .ports()
                    .into_iter()
                    .filter(|e| *e.audience != spec_compiler::model::Audience::Cluster)
                    .filter_map(|e| service.spec.ports.get(e.port))
                    .map(|port| u64::from(port.value.number))
                    .collect();
                assert_eq!(balanced, exposed, "{what}: the ports reachable from outside");
                // A port open to a network is admitted from that network's range only (its
                // WireGuard range, or its members' addresses); a public one from anywhere.
                for exposed in service.spec.expose.ports() {
                    let Some(port) = service.spec.ports.get(exposed.port) else { continue };
                    let expected: BTreeSet<String> = match exposed.audience {
                        spec_compiler::model::Audience::Cluster => continue,
                        spec_compiler::model::Audience::Public => BTreeSet::new(),
                        spec_compiler::model::Audience::Network(network) => network_ranges(model, &network.name),
                    };
                    let admitted: Vec<BTreeSet<String>> = objects
                        .iter()
                        .filter(|o| o["kind"] == "Service" && o["spec"]["type"] == "LoadBalancer")
                        .filter(|o| {
                            array(&o["spec"]["ports"])
                                .iter()
                                .any(|p| p["port"].as_u64() == Some(u64::from(port.value.number)))
                        })
                        .map(|o| {
                            array(&o["spec"]["loadBalancerSourceRanges"])
                                .iter()
                                .filter_map(|r| r.as_str().map(String::from))
                                .collect()
                        })
                        .collect();
                    assert_eq!(
                        admitted,
                        vec![expected],
                        "{what}: who reaches port `{}` through the load balancer",
                        exposed.port
                    );
                }

                // The image: the service's own, or the tag its chart values ask for.
                let values: Value = serde_yaml::from_str(contents).expect("values");
                if let Some(image) = &service.spec.image {
                    let (repository, tag) = spec_target_kubernetes::split_image(&image.value);
                    let expected = format!("{repository}:{tag}");
                    assert!(images.contains(&expected.as_str()), "{what}: runs {images:?}, not {expected}");
                } else if let Some(tag) = values["image"]["tag"].as_str() {
                    assert!(
                        images.iter().any(|i| i.ends_with(&format!(":{tag}"))),
                        "{what}: runs {images:?}, not {tag}"
                    );
                }

                // Each volume: a claim of the storage's size, mounted at the spec's path. Its
                // labels are kept for the k8up check below.
                let claims: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "PersistentVolumeClaim").collect();
                for (path, storage) in &service.spec.volumes {
                    let volume =
                        model.storage.iter().find(|s| s.name == storage.name).and_then(|s| s.spec.volume.as_ref());
                    let Some(volume) = volume else { continue };
                    let size = size_quantity(volume.value.size.value.0);
                    let mut mounted = None;
                    for workload in &workloads {
                        let pod = pod_spec(workload).expect("pod");
                        let mounts = array(&pod["containers"]).iter().flat_map(|c| array(&c["volumeMounts"]));
                        for mount in mounts.filter(|m| {
                            m["mountPath"].as_str().map(|p| p.trim_end_matches('/')) == Some(path.trim_end_matches('/'))
                        }) {
                            let name = &mount["name"];
                            let template = array(&workload["spec"]["volumeClaimTemplates"])
                                .iter()
                                .find(|t| t["metadata"]["name"] == *name);
                            let claim = array(&pod["volumes"]).iter().filter(|v| v["name"] == *name).find_map(|v| {
                                let claim = &v["persistentVolumeClaim"]["claimName"];
                                claims.iter().copied().find(|c| c["metadata"]["name"] == *claim)
                            });
                            mounted = mounted.or(template.or(claim));
                        }
                    }
                    let claim = mounted.unwrap_or_else(|| {
                        panic!("{what}: no claim is mounted at {path} for storage `{}`", storage.name)
                    });
                    assert_eq!(
                        claim["spec"]["resources"]["requests"]["storage"],
                        size.as_str(),
                        "{what}: the claim at {path}"
                    );
                    claim_labels.insert(storage.name.clone(), claim["metadata"]["labels"].clone());
                    claim_annotations.insert(storage.name.clone(), claim["metadata"]["annotations"].clone());
                }
                let claimed = claims.len()
                    + workloads.iter().map(|w| array(&w["spec"]["volumeClaimTemplates"]).len()).sum::<usize>();
                assert_eq!(
                    claimed,
                    service.spec.volumes.len(),
                    "{what}: the chart claims storage the spec does not declare"
                );

                // Each Secret referred to: rendered by the chart itself, or provided by the estate
                // with the key asked for.
                let own: BTreeSet<&str> = objects
                    .iter()
                    .filter(|o| o["kind"] == "Secret")
                    .filter_map(|o| o["metadata"]["name"].as_str())
                    .collect();
                let mut references = Vec::new();
                objects.iter().for_each(|o| secret_references(o, &mut references));
                for (secret, key) in references {
                    if own.contains(secret.as_str()) {
                        continue;
                    }
                    let keys = provided.get(&secret).unwrap_or_else(|| {
                        panic!("{what}: refers to Secret `{secret}`, which the estate does not provide ({provided:?})")
                    });
                    if let Some(key) = key {
                        assert!(keys.contains(&key), "{what}: Secret `{secret}` has no key `{key}` ({keys:?})");
                    }
                }
            }
            // Each host a container is told to reach inside the cluster is a Service a rendered
            // chart creates (`service.NAME.host` names the chart's own Service, not a guess), when
            // the release it names was rendered here.
            for (what, host) in &hosts_read {
                let mut labels = host.split('.');
                let (first, namespace) = (labels.next().unwrap_or_default(), labels.next().unwrap_or_default());
                let release = rendered_releases
                    .iter()
                    .filter(|(release, ns)| ns == namespace && first.starts_with(release.as_str()))
                    .max_by_key(|(release, _)| release.len());
                if release.is_some() {
                    assert!(
                        rendered_hosts.contains(host),
                        "{what}: reaches {host}, a Service no chart renders ({rendered_hosts:?})"
                    );
                }
            }
            // Each k8up Schedule selects the claim of its backup's storage, and no other claim
            // k8up would copy (one annotated `k8up.io/backup: "false"` it leaves out). A
            // Schedule per offsite copy, named after the copy's job (`<backup>`, `<backup>-2`…).
            // A dump's selects the pod k8up runs the command in, and only claims left out.
            let left_out =
                |storage: &str| claim_annotations.get(storage).is_some_and(|a| a["k8up.io/backup"] == "false");
            for schedule in manifests.iter().filter(|o| o["kind"] == "Schedule") {
                let backup = model
                    .backups
                    .iter()
                    .find(|b| b.spec.copies(&b.name).iter().any(|c| schedule["metadata"]["name"] == c.name.as_str()))
                    .expect("backup");
                if let Some(service) = backup.spec.service() {
                    for selector in array(&schedule["spec"]["backup"]["labelSelectors"]) {
                        let Value::Object(wanted) = &selector["matchLabels"] else {
                            panic!("{name}: a selector without labels")
                        };
                        let selects = |labels: &Value| wanted.iter().all(|(k, v)| labels[k] == *v);
                        let pods = pod_metadata.get(service).map_or(&[][..], Vec::as_slice);
                        assert!(
                            pods.iter().any(|p| selects(&p["labels"]) && p["annotations"]["k8up.io/backupcommand"].is_string()),
                            "{name}: the dump Schedule of {service} selects no pod carrying its backup command ({pods:?})"
                        );
                        for (storage, labels) in &claim_labels {
                            assert!(
                                !selects(labels) || left_out(storage),
                                "{name}: the dump Schedule of {service} also copies the claim of `{storage}` file by file"
                            );
                        }
                    }
                    continue;
                }
                let storage = backup.spec.storage().expect("a Schedule copies a storage or a dump");
                for selector in array(&schedule["spec"]["backup"]["labelSelectors"]) {
                    let Value::Object(wanted) = &selector["matchLabels"] else {
                        panic!("{name}: a selector without labels")
                    };
                    let selects = |labels: &Value| wanted.iter().all(|(k, v)| labels[k] == *v);
                    assert!(
                        !left_out(storage),
                        "{name}: the claim of `{storage}`, backed up, is left out of k8up's copies"
                    );
                    let Some(labels) = claim_labels.get(storage) else {
                        panic!("{name}: Schedule {storage} backs up a storage no rendered workload mounts")
                    };
                    assert!(selects(labels), "{name}: Schedule {storage} selects {wanted:?}, not the claim's {labels}");
                    for (other, labels) in
                        claim_labels.iter().filter(|(other, _)| *other != storage && !left_out(other))
                    {
                        assert!(!selects(labels), "{name}: Schedule {storage} also selects the claim of `{other}`");
                    }
                }
            }
        }
        if name == "backups" {
            // Both copies of `data` are Schedules, to the bucket's repository and to B2, the RTO
            // the check's deadline; so are both copies of the dump of `db`.
            let text = &files.iter().find(|(p, _)| p.ends_with("/backups.yaml")).expect("backups.yaml").1;
            let schedules: Vec<Value> = serde_yaml::Deserializer::from_str(text)
                .map(|d| Value::deserialize(d).expect("YAML"))
                .filter(|o| o["kind"] == "Schedule")
                .collect();
            let names: Vec<&str> = schedules.iter().filter_map(|o| o["metadata"]["name"].as_str()).collect();
            assert_eq!(names, ["data", "data-2", "db", "db-2"], "{text}");
            assert_eq!(schedules[0]["spec"]["backend"]["s3"]["endpoint"], "https://s3.example.com");
            assert_eq!(schedules[0]["spec"]["backend"]["s3"]["bucket"], "backups/data");
            assert_eq!(schedules[1]["spec"]["backend"]["b2"]["bucket"], "offsite");
            assert_eq!(schedules[0]["spec"]["check"]["activeDeadlineSeconds"], 7200);
        }
        if name == "chart_services" {
            // `std.postgres { version = 15 }`: PostgreSQL 15 runs, not the chart's default 17.
            let values: Value =
                serde_yaml::from_str(&files.iter().find(|(p, _)| p.ends_with("/db.values.yaml")).expect("db values").1)
                    .expect("values");
            let tag = values["image"]["tag"].as_str().expect("a tag");
            assert!(tag.starts_with("15."), "db runs PostgreSQL {tag}, not 15");
        }
        if name == "k8s-platform" {
            // The seed's "PostgreSQL 15, Redis 7": the charts' defaults are 17 and 8.
            for (service, major) in [("postgresql", "15."), ("redis", "7.")] {
                let path = format!("/{service}.values.yaml");
                let values: Value =
                    serde_yaml::from_str(&files.iter().find(|(p, _)| p.ends_with(&path)).expect("values").1)
                        .expect("values");
                let tag = values["image"]["tag"].as_str().expect("a tag");
                assert!(tag.starts_with(major), "{service} runs {tag}, not {major}x");
            }
        }
    }
    assert!(rendered_values >= 5, "only {rendered_values} values files were rendered");
}

/// What a cluster's blackbox exporter probes and what the `ProbeFailed` alerts select agree: the
/// exporter's rendered ServiceMonitor has an endpoint per HTTP health check, requesting `/probe`
/// with the check's URL (the probed service's rendered Service, its port and path) as `target`
/// and relabelled to job `health_probe` and an `instance` that exactly one alert selects.
#[test]
fn cluster_probes_render_what_their_alerts_select() {
    let charts = workspace().join("../shared/charts");
    let Some(helm) = spec_testkit::helm() else {
        eprintln!("SKIPPED: helm is not installed (see .ci/run); the probes' ServiceMonitor was NOT read back");
        return;
    };
    let estate = workspace()
        .join("specs/targets/kubernetes/health_probes_through_a_blackbox_exporter_on_a_cluster_generate_cleanly.spec");
    let files = spec_testkit::generate(&Kubernetes, &estate);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kubernetes-probes");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut rendered = Vec::new();
    for service in ["blackbox", "api"] {
        let (_, contents) =
            files.iter().find(|(p, _)| *p == format!("helm/apps/{service}.values.yaml")).expect("values");
        let values = dir.join(format!("{service}.values.yaml"));
        std::fs::write(&values, contents).expect("write");
        rendered.extend(render(&helm, &charts, service, "apps", &values, contents.lines().next().unwrap_or_default()));
    }
    let monitor = rendered
        .iter()
        .find(|o| o["kind"] == "ServiceMonitor" && o["metadata"]["name"] == "blackbox-probes")
        .expect("the probes' ServiceMonitor");
    let label = |endpoint: &Value, target: &str| {
        array(&endpoint["relabelings"]).iter().find(|r| r["targetLabel"] == target).map(|r| r["replacement"].clone())
    };
    let probes: Vec<(String, String)> = array(&monitor["spec"]["endpoints"])
        .iter()
        .map(|endpoint| {
            assert_eq!(endpoint["path"], "/probe");
            assert_eq!(endpoint["params"]["module"][0], "http_2xx");
            assert_eq!(label(endpoint, "job"), Some(Value::from("health_probe")));
            let instance = label(endpoint, "instance").and_then(|v| v.as_str().map(String::from)).expect("instance");
            (endpoint["params"]["target"][0].as_str().expect("target").to_string(), instance)
        })
        .collect();
    let api_service =
        rendered.iter().find(|o| o["kind"] == "Service" && o["metadata"]["name"] == "api").expect("api's Service");
    let api_port = &array(&api_service["spec"]["ports"])[0]["port"];
    let api_url = format!("http://api.apps.svc.cluster.local:{}/healthz", api_port.as_u64().expect("port"));
    assert!(probes.iter().any(|(url, instance)| *url == api_url && instance == "api.apps:8080"), "{probes:?}");
    let alerts = files.iter().find(|(p, _)| p == "k8s/apps/alerts.yaml").map(|(_, c)| c.clone()).expect("rules");
    for (_, instance) in &probes {
        let selector = format!("probe_success{{job=\"health_probe\", instance=\"{instance}\"}} == 0");
        assert_eq!(alerts.matches(&selector).count(), 1, "one alert selects {instance}: {alerts}");
    }
}
