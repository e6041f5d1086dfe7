//! Helm values for each service on a cluster: the `app-template` chart's values built from the
//! service (this module), or the values of the chart its `helm { … }` payload names ([`crate::chart`]).
//!
//! app-template (bjw-s, chart 4.1.1, values schema of `common` 4.1.1): one controller `main`
//! (a `deployment`, or a `statefulset` when the service mounts storage), one container `app`,
//! a `main` ClusterIP service with every port (primary, so probes and the ServiceMonitor find
//! it), an `exposed` LoadBalancer service with the ports `expose` opens to the public and an
//! `exposed-<network>` one per network audience admitting only the network's range
//! (`loadBalancerSourceRanges`; `cluster` ones stay on `main`), probes from `health`
//! (custom probes, so they never depend on the chart's guess of the primary port; a startup probe
//! gives a slow start five minutes before liveness counts), resources,
//! persistence from the volumes' storage, configuration files as a ConfigMap mounted at their
//! paths ([`crate::files`]), and a ServiceMonitor from `metrics`. A service whose preset has no
//! cluster form (`cluster_refusal`) is E1280 at its `on`.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::host_range;
use spec_compiler::model::types::{Endpoint, PlacementRef, Spanned, Template, Transport};
use spec_compiler::model::{
    AccessMode, Audience, Backend, EnvValue, Health, KubernetesSecret, PodSecurity, Resource, Resources, Secret,
    Service,
};

use crate::escape;
use crate::quantity;
use spec_compiler::model::members::{MEMBER_HOST, MEMBER_LIST, MEMBER_NAME};
use spec_compiler::model::{Members, MembersForm};

/// The identifier of the headless Service that gives members their stable names
/// (`<release>-members`).
pub const MEMBERS_SERVICE: &str = "members";

/// The identifier of the controller of the one-shot that forms a cluster of members.
pub const FORM_CONTROLLER: &str = "form";
use spec_compiler::model::secret_keys::stored_in;

/// The label every volume claim carries with its storage's name, so a backup selects exactly the
/// claims of the storage it covers.
pub const STORAGE_LABEL: &str = "spec-storage";

/// The extended resource GPUs are requested by (the NVIDIA device plugin's).
pub const GPU: &str = "nvidia.com/gpu";

/// The app-template chart.
pub const APP_TEMPLATE: Chart =
    Chart { url: "oci://ghcr.io/bjw-s-labs/helm/app-template", name: "app-template", version: "4.1.1" };

/// A chart: where it is, its name and version.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chart {
    /// `oci://…/name`, or a Helm repository URL.
    pub url: &'static str,
    /// The chart's name.
    pub name: &'static str,
    /// The pinned version.
    pub version: &'static str,
}

/// The chart a service is installed with and its values.
pub struct Release {
    /// The chart, borrowed from the model or [`APP_TEMPLATE`].
    pub url: String,
    /// The chart's name.
    pub chart: String,
    /// The version, when pinned.
    pub version: Option<String>,
    /// The values.
    pub values: Value,
}

impl super::Lowering<'_, '_> {
    /// The release of one service, or `None` (with a diagnostic) when it cannot be installed.
    pub fn release(&mut self, service: &Resource<Service>) -> Option<Release> {
        // A cluster runs pods, not units: unit settings would be dropped in silence.
        if let Some(systemd) = &service.spec.systemd {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1208,
                    systemd.span,
                    format!("service `{}` on cluster `{}` has systemd unit settings", service.name, self.cluster.name),
                )
                .with_primary_label("a cluster runs pods, not units")
                .with_help("remove `systemd { … }`, or place the service on a node"),
            );
            return None;
        }
        // A preset that runs the service on hosts only says why; installing the image anyway
        // would start a workload that does not work.
        if let Some(reason) = &service.spec.cluster_refusal {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1280,
                    service.spec.on.span,
                    format!("service `{}` has no form on cluster `{}`", service.name, self.cluster.name),
                )
                .with_primary_label("placed on a cluster here")
                .with_label(reason.span, "the reason it has no cluster form")
                .with_note(format!("its preset says: {}", reason.value))
                .with_help("place the service on a node, or use a preset that runs it on a cluster"),
            );
            return None;
        }
        // One member of a cluster of services (the nodes' form) would announce an address its
        // pod does not keep; on a cluster the members are the replicas of one service.
        if let Some(members) = service.spec.members.as_ref().filter(|m| !m.value.as_replicas()) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1209,
                    service.spec.on.span,
                    format!("service `{}` is one member of a cluster of services, on cluster `{}`", service.name, self.cluster.name),
                )
                .with_primary_label("placed on a cluster here")
                .with_label(members.value.size.span, "one member")
                .with_note("on a Kubernetes cluster the members are the replicas of one service, each with a stable name")
                .with_help("declare one service whose replicas are the members (its preset's form for clusters), or place each member on a node"),
            );
            return None;
        }
        if let Some(helm) = &service.spec.helm {
            return self.chart_release(service, helm);
        }
        let Some(image) = &service.spec.image else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1203,
                    service.name_span,
                    format!("service `{}` on cluster `{}` has nothing to install", service.name, self.cluster.name),
                )
                .with_primary_label("no image and no chart")
                .with_help("give it an `image`, or a `helm { chart = … }` (a preset may bring one)"),
            );
            return None;
        };
        let values = self.app_template(service, image)?;
        Some(Release {
            url: APP_TEMPLATE.url.into(),
            chart: APP_TEMPLATE.name.into(),
            version: Some(APP_TEMPLATE.version.into()),
            values: serde_json::to_value(values).ok()?,
        })
    }

    /// [`Self::refuse_template`] for text that may hold where services are: its text as written
    /// (what fills a hole is a host name, a URL or a number, never `{{`).
    pub fn refuse_template_in(&mut self, text: &Spanned<Template>, what: &str, consumer: &str) -> bool {
        self.refuse_template(&Spanned { value: text.value.written(), span: text.span }, what, consumer)
    }

    /// Arguments with where services are filled as `on` finds them (a hole without a value is
    /// E0625 from the checks, and its argument is left out).
    pub fn filled_args(&self, on: &PlacementRef, args: &[Spanned<Template>]) -> Vec<String> {
        args.iter().filter_map(|a| a.value.fill(|e| self.reach.resolve(on, e)).ok()).collect()
    }

    /// Refuses a string bound for a chart field that is not templated but may be one day, or is
    /// read by a template engine we cannot escape for.
    pub fn refuse_template(&mut self, text: &Spanned<String>, what: &str, consumer: &str) -> bool {
        if escape::template_free(&text.value) {
            return true;
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::E1201,
                text.span,
                format!("{what} holds `{{{{`, which {consumer} would read as a template"),
            )
            .with_primary_label("a template opener")
            .with_help("remove the `{{`; pass such text through an environment variable from a secret or a file"),
        );
        false
    }

    fn app_template(&mut self, service: &Resource<Service>, image: &Spanned<String>) -> Option<AppTemplate> {
        let spec = &service.spec;
        let mut ok = self.refuse_template(image, "the image", "the chart");
        let members = spec.members.as_ref().map(|m| &m.value).filter(|m| m.as_replicas());
        // Members run the preset's own arguments (plain text); a service's arguments may hold
        // where other services are, filled as its placement finds them.
        let member_args = members.and_then(|m| m.args.as_ref());
        match member_args {
            Some(args) => {
                for arg in args {
                    ok &= self.refuse_template(arg, "an argument", "the chart");
                }
            }
            None => {
                for arg in &spec.args {
                    ok &= self.refuse_template_in(arg, "an argument", "the chart");
                }
            }
        }
        let (repository, tag) = split_image(&image.value);
        // A namespace enforcing the `restricted` Pod Security Standard admits only pods that run
        // as non-root with the runtime's seccomp profile, no privilege escalation and no
        // capabilities: written out, so the pods are admitted (the image must run as non-root).
        let restricted = self.pod_security_of(service) == Some(PodSecurity::Restricted);
        // Members keep their names across restarts as a StatefulSet's pods.
        let stateful = members.is_some()
            || spec.volumes.values().any(|s| self.index.storage(&s.name).is_some_and(|s| s.spec.volume.is_some()));
        // A volume one node writes to (read-write-once) cannot be shared by replicas on several
        // nodes: with more than one replica each gets its own claim from a template. Every claim
        // carries the storage's name as a label, which backups select it by.
        let mut persistence = IndexMap::new();
        let mut claim_templates = Vec::new();
        for (path, storage) in &spec.volumes {
            let Some(volume) = self.index.storage(&storage.name).and_then(|s| s.spec.volume.as_ref()) else { continue };
            let volume = &volume.value;
            let access = volume.access.as_ref().map_or(AccessMode::ReadWriteOnce, |a| a.value);
            let claim = Claim {
                name: None,
                kind: None,
                access_mode: access_mode(access),
                size: quantity::size(volume.size.value),
                storage_class: volume.class.as_ref().map(|c| c.value.clone()),
                labels: IndexMap::from([(STORAGE_LABEL.to_string(), storage.name.clone())]),
                global_mounts: vec![Mount { path: path.clone() }],
            };
            if access == AccessMode::ReadWriteOnce && spec.replicas() > 1 {
                claim_templates.push(Claim { name: Some(storage.name.clone()), ..claim });
            } else {
                let claim = Claim { kind: Some("persistentVolumeClaim"), ..claim };
                persistence.insert(storage.name.clone(), serde_json::to_value(claim).ok()?);
            }
        }
        let mut env = self.container_env(&spec.on, &spec.env);
        let members_list = members.map(|m| {
            let hosts = self.member_hosts(service, m);
            m.list(hosts.iter().map(String::as_str))
        });
        if let Some(list) = &members_list {
            let namespace = self.namespace_of(spec.namespace.as_ref());
            let headless = format!("{}-{MEMBERS_SERVICE}", crate::releases::release_name(&service.name));
            env.insert(MEMBER_NAME.into(), json!({ "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } }));
            env.insert(
                MEMBER_HOST.into(),
                json!({
                    "value": format!("$({MEMBER_NAME}).{headless}.{namespace}.svc.cluster.local"),
                    "dependsOn": MEMBER_NAME,
                }),
            );
            env.insert(MEMBER_LIST.into(), json!(escape::helm_tpl(list)));
        }
        let probe = spec.health.as_ref().and_then(|h| self.probe(service, &h.value));
        let ports: IndexMap<String, ServicePort> = spec
            .ports
            .iter()
            .map(|(name, port)| {
                (name.clone(), ServicePort { port: port.value.number, protocol: protocol(port.value.protocol) })
            })
            .collect();
        let mut services = IndexMap::new();
        if !ports.is_empty() {
            services.insert(
                "main".to_string(),
                ServiceValues {
                    controller: "main",
                    kind: "ClusterIP",
                    primary: true,
                    ports: ports.clone(),
                    source_ranges: Vec::new(),
                    cluster_ip: None,
                    publish_not_ready: false,
                    force_rename: None,
                },
            );
        }
        // A port exposed to the cluster only is served by the ClusterIP service already; the
        // public reaches the cluster through the `exposed` load balancer on the nodes, and each
        // network through a load balancer of its own that admits only the network's range.
        for exposed in spec.expose.ports() {
            let Some(port) = ports.get(exposed.port) else { continue };
            let (name, source_ranges) = match exposed.audience {
                Audience::Cluster => continue,
                Audience::Public => ("exposed".to_string(), Vec::new()),
                Audience::Network(network) => (format!("exposed-{}", network.name), self.network_ranges(&network.name)),
            };
            let entry = services.entry(name).or_insert_with(|| ServiceValues {
                controller: "main",
                kind: "LoadBalancer",
                primary: false,
                ports: IndexMap::new(),
                source_ranges,
                cluster_ip: None,
                publish_not_ready: false,
                force_rename: None,
            });
            entry.ports.insert(exposed.port.to_string(), port.clone());
        }
        // The members' headless Service: each member's stable name, published before it is ready
        // (members find each other while they start).
        if members.is_some() && !ports.is_empty() {
            services.insert(
                MEMBERS_SERVICE.to_string(),
                ServiceValues {
                    controller: "main",
                    kind: "ClusterIP",
                    primary: false,
                    ports: ports.clone(),
                    source_ranges: Vec::new(),
                    cluster_ip: Some("None"),
                    publish_not_ready: true,
                    force_rename: None,
                },
            );
        }
        // Beside a second Service the chart would name the main one `<release>-main`, where
        // clients read `<release>` (`service.NAME.host`).
        if services.len() > 1
            && let Some(main) = services.get_mut("main")
        {
            main.force_rename = Some(crate::releases::release_name(&service.name));
        }
        let mut monitors = IndexMap::new();
        if let Some(metrics) = &spec.metrics {
            let path = metrics.value.path.as_ref().map_or("/metrics".to_string(), |p| p.value.clone());
            monitors.insert(
                "main".to_string(),
                json!({
                    "enabled": true,
                    "service": { "identifier": "main" },
                    // The scrape job is the service's name, as on hosts, so the generated
                    // `up{job="<service>"}` alert and the spec's own job matchers hold.
                    "endpoints": [{
                        "port": metrics.value.port.value.0,
                        "scheme": "http",
                        "path": path,
                        "interval": "30s",
                        "relabelings": [{ "action": "replace", "targetLabel": "job", "replacement": service.name }],
                    }],
                }),
            );
        }
        if let Some(monitor) = self.probes_monitor(service) {
            monitors.insert("probes".to_string(), monitor);
        }
        let container = Container {
            image: Image { repository, tag },
            args: match member_args {
                Some(args) => args.iter().map(|a| a.value.clone()).collect(),
                None => self.filled_args(&spec.on, &spec.args),
            },
            env: env.clone(),
            probes: probe.zip(spec.health.as_ref()).map(|(p, health)| Probes {
                startup: startup_probe(&p, &health.value),
                liveness: p.clone(),
                readiness: p,
            }),
            resources: spec.resources.as_ref().map(|r| requirements(&r.value)),
            security_context: crate::security::container_security(restricted, spec.security.as_ref().map(|s| &s.value)),
        };
        let strategy = self.strategy(service, stateful);
        // Its identity: the ServiceAccount of its `access` rules, the Secret its image is pulled with.
        let (account, pull_secrets) = self.pod_identity(service);
        let mut pod = restricted.then(crate::security::restricted_pod);
        if let Some(security) = spec.security.as_ref().map(|s| &s.value) {
            // On the host's network the pod still resolves the cluster's names (`service.x.host`).
            if security.host_network() {
                let options = pod.get_or_insert_with(|| json!({}));
                options["hostNetwork"] = json!(true);
                options["dnsPolicy"] = json!("ClusterFirstWithHostNet");
            }
            if security.host_pid() {
                pod.get_or_insert_with(|| json!({}))["hostPID"] = json!(true);
            }
            // The NVIDIA runtime hands every GPU to a container whose `NVIDIA_VISIBLE_DEVICES` is
            // `all`, without the `nvidia.com/gpu` limit that would claim one.
            if security.all_gpus() {
                pod.get_or_insert_with(|| json!({}))["runtimeClassName"] = json!(crate::gpus::RUNTIME_CLASS);
            }
        }
        if let Some(tier) = &spec.tier {
            pod.get_or_insert_with(|| json!({}))["priorityClassName"] = json!(tier.value.priority_class());
        }
        if let Some(pull_secrets) = pull_secrets {
            pod.get_or_insert_with(|| json!({}))["imagePullSecrets"] = pull_secrets;
        }
        let mut pod = crate::gpus::with_gpu_pod(pod, spec.resources.as_ref());
        if let Some(arch) = self.arch_of_pods(service) {
            pod.get_or_insert_with(|| json!({}))["nodeSelector"][crate::gpus::ARCH_LABEL] = json!(arch.kubernetes());
        }
        let controller = Controller {
            pod,
            service_account: account.map(|name| json!({ "name": name })),
            kind: if stateful { "statefulset" } else { "deployment" },
            // An autoscaler owns the count: left out, a new release never resets it. A canary's
            // Rollout runs the pods: the Deployment keeps none (`canary.rs`).
            replicas: match strategy.taken_over {
                true => Some(0),
                false => spec.autoscale.is_none().then(|| spec.replicas()),
            },
            strategy: strategy.kind,
            rolling_update: strategy.rolling,
            statefulset: (!claim_templates.is_empty() || members.is_some()).then(|| StatefulSet {
                volume_claim_templates: claim_templates,
                // Every member starts at once: a member waits for the others to answer before it
                // is ready, so one started after another is ready would wait forever.
                pod_management_policy: members.map(|_| "Parallel"),
                service_name: members.map(|_| json!({ "identifier": MEMBERS_SERVICE })),
            }),
            containers: IndexMap::from([("app".to_string(), container)]),
            annotations: None,
            job: None,
            // Beside the forming Job the chart would name it `<release>-main`, and its pods
            // `<release>-main-<i>`: the members' stable names are `<release>-<i>`.
            force_rename: members.map(|_| crate::releases::release_name(&service.name)),
        };
        let mut controllers = IndexMap::from([("main".to_string(), controller)]);
        if let (Some(form), Some(list)) = (members.and_then(|m| m.form.as_ref()), &members_list) {
            ok &= self.refuse_template(&form.value.image, "the image", "the chart");
            for arg in &form.value.args {
                ok &= self.refuse_template(arg, "an argument", "the chart");
            }
            controllers.insert(FORM_CONTROLLER.to_string(), form_controller(&form.value, env, list, restricted));
        }
        for route in spec.ingress.values() {
            self.check_tls(service, route);
        }
        self.check_gpu_model(service);
        let ingress = spec
            .ingress
            .iter()
            .filter_map(|(name, route)| Some((name.clone(), crate::ingress::ingress(service, name, route, &ports)?)))
            .collect();
        // Configuration files: a ConfigMap of the chart mounted at each file's path.
        let mut config_maps = IndexMap::new();
        let fill = &mut |e: &Endpoint| self.reach.resolve(&service.spec.on, e);
        if let Some((config_map, mount)) = crate::files::file_values(service, fill) {
            config_maps.insert(crate::files::FILES.to_string(), config_map);
            persistence.insert(crate::files::FILES.to_string(), mount);
        }
        ok.then_some(AppTemplate {
            config_maps,
            controllers,
            ingress,
            service: services,
            persistence,
            service_monitor: monitors,
        })
    }

    /// The stable host name of each member of a service whose replicas are members, in order:
    /// `<release>-<i>.<release>-members.<namespace>.svc.cluster.local`.
    pub fn member_hosts(&self, service: &Resource<Service>, members: &Members) -> Vec<String> {
        let release = crate::releases::release_name(&service.name);
        let namespace = self.namespace_of(service.spec.namespace.as_ref());
        (0..members.size())
            .map(|i| format!("{release}-{i}.{release}-{MEMBERS_SERVICE}.{namespace}.svc.cluster.local"))
            .collect()
    }

    /// A container's `env` values: plain text through Helm's `tpl` escape, where a service is as
    /// seen from `on` (what has no value is E0625), secrets as `secretKeyRef`s.
    pub fn container_env(
        &mut self,
        on: &spec_compiler::model::types::PlacementRef,
        env: &IndexMap<String, Spanned<EnvValue>>,
    ) -> IndexMap<String, Value> {
        let mut values = IndexMap::new();
        for (name, value) in env {
            let value = match &value.value {
                EnvValue::Text(text) => json!(escape::helm_tpl(text)),
                EnvValue::Number(n) => json!(n.to_string()),
                EnvValue::Flag(b) => json!(b.to_string()),
                EnvValue::Endpoint(endpoint) => match self.reach.resolve(on, endpoint) {
                    Ok(text) => json!(text),
                    Err(_) => continue,
                },
                EnvValue::Template(template) => match template.fill(|e| self.reach.resolve(on, e)) {
                    Ok(text) => json!(escape::helm_tpl(&text)),
                    Err(_) => continue,
                },
                EnvValue::Secret(secret) => match self.secret_key_ref(&secret.name) {
                    Some(reference) => json!({ "valueFrom": { "secretKeyRef": reference } }),
                    None => continue,
                },
            };
            values.insert(name.clone(), value);
        }
        values
    }

    /// The ranges a network's members reach a cluster's load balancer from: the WireGuard range
    /// of the network, or each member's address on a network without WireGuard.
    pub fn network_ranges(&self, network: &str) -> Vec<String> {
        let Some(network) = self.context.model.networks.iter().find(|n| n.name == network) else { return Vec::new() };
        if let Some(wireguard) = &network.spec.wireguard {
            let cidr = &wireguard.value.cidr.value;
            return vec![format!("{}/{}", cidr.address, cidr.prefix)];
        }
        let members = network.spec.members.value.iter().filter_map(|m| self.index.node(&m.name));
        members.filter_map(|node| node.spec.address.as_ref()).map(|a| host_range(a.value.0)).collect()
    }

    /// The ServiceMonitor of a cluster's blackbox exporter that probes the cluster's HTTP health
    /// checks ([`spec_target_prometheus::scrape::cluster_probes`]): one endpoint per check on the
    /// exporter's metrics port, requesting `/probe` with the check's URL as `target`, relabelled
    /// to job `health_probe`, the check's `instance` and its `service`, as the `ProbeFailed`
    /// alerts select them. `None` for any other service, or when nothing is probed.
    fn probes_monitor(&self, service: &Resource<Service>) -> Option<Value> {
        use spec_target_prometheus::scrape::{PROBE_JOB, PROBE_MODULE, cluster_probes, runs_blackbox};
        // Only an exporter looks at the estate's probes, so the pass stays linear.
        if !runs_blackbox(service) {
            return None;
        }
        let (_, _, probes) =
            cluster_probes(self.index).into_iter().find(|(_, prober, _)| prober.name == service.name)?;
        let port = &service.spec.metrics.as_ref()?.value.port.value.0;
        let endpoints: Vec<Value> = probes
            .iter()
            .map(|probe| {
                let label = |target: &str, value: &str| {
                    json!({ "action": "replace", "targetLabel": target, "replacement": value })
                };
                json!({
                    "port": port,
                    "scheme": "http",
                    "path": "/probe",
                    "interval": "30s",
                    "params": { "module": [PROBE_MODULE], "target": [probe.url] },
                    "relabelings": [
                        label("job", PROBE_JOB),
                        label("instance", &probe.instance),
                        label("service", &probe.service.name),
                    ],
                })
            })
            .collect();
        (!endpoints.is_empty())
            .then(|| json!({ "enabled": true, "service": { "identifier": "main" }, "endpoints": endpoints }))
    }

    /// A `secretKeyRef` for a secret's Kubernetes backend ([`secret_name_and_key`]).
    pub fn secret_key_ref(&self, secret: &str) -> Option<Value> {
        let (name, key) = secret_name_and_key(self.index.secret(secret)?)?;
        Some(json!({ "name": name, "key": key }))
    }

    fn probe(&mut self, service: &Resource<Service>, health: &Health) -> Option<Value> {
        let port = |name: &str| service.spec.ports.get(name).map(|p| p.value.number);
        let spec = match health {
            Health::Http { port: name, path, .. } => {
                json!({ "httpGet": { "path": path, "port": port(&name.value.0)? } })
            }
            Health::Tcp { port: name, .. } => json!({ "tcpSocket": { "port": port(&name.value.0)? } }),
            Health::Exec { command, .. } => json!({ "exec": { "command": command } }),
        };
        let timing = health.timing();
        let mut spec = spec;
        if let Value::Object(map) = &mut spec {
            map.insert("periodSeconds".into(), json!(timing.every_seconds(PROBE_PERIOD)));
            if let Some(timeout) = timing.timeout_seconds() {
                map.insert("timeoutSeconds".into(), json!(timeout));
            }
            map.insert("failureThreshold".into(), json!(timing.failures()));
        }
        Some(json!({ "enabled": true, "custom": true, "spec": spec }))
    }
}

/// `registry/name:tag` split at the tag's colon (not a registry port's); no tag reads as `latest`,
/// which is what the container runtime would pull.
pub fn split_image(image: &str) -> (String, String) {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].find(':') {
        Some(colon) => (image[..name_start + colon].to_string(), image[name_start + colon + 1..].to_string()),
        None => (image.to_string(), "latest".to_string()),
    }
}

fn protocol(transport: Transport) -> &'static str {
    match transport {
        Transport::Tcp => "TCP",
        Transport::Udp => "UDP",
    }
}

pub fn access_mode(mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::ReadWriteOnce => "ReadWriteOnce",
        AccessMode::ReadOnlyMany => "ReadOnlyMany",
        AccessMode::ReadWriteMany => "ReadWriteMany",
    }
}

/// CPU and memory as Kubernetes quantities (`cpu: "2"`, `memory: "4Gi"`).
pub fn quantities(resources: &Resources) -> serde_json::Map<String, Value> {
    let mut quantities = serde_json::Map::new();
    if let Some(cpu) = &resources.cpu {
        quantities.insert("cpu".into(), json!(cpu.value.quantity()));
    }
    if let Some(memory) = &resources.memory {
        quantities.insert("memory".into(), json!(quantity::size(memory.value)));
    }
    quantities
}

/// Requests as declared; the memory request is also the limit (memory is not compressible, so a
/// container past it is better killed than the node), CPU is left unlimited to burst.
pub fn requirements(resources: &Resources) -> Value {
    let requests = quantities(resources);
    let mut limits = serde_json::Map::new();
    if let Some(memory) = requests.get("memory") {
        limits.insert("memory".into(), memory.clone());
    }
    if let Some(gpu) = &resources.gpu {
        limits.insert(GPU.into(), json!(gpu.value.to_string()));
    }
    let mut out = serde_json::Map::new();
    if !requests.is_empty() {
        out.insert("requests".into(), Value::Object(requests));
    }
    if !limits.is_empty() {
        out.insert("limits".into(), Value::Object(limits));
    }
    Value::Object(out)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppTemplate {
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    config_maps: IndexMap<String, Value>,
    controllers: IndexMap<String, Controller>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    ingress: IndexMap<String, Value>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    service: IndexMap<String, ServiceValues>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    persistence: IndexMap<String, Value>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    service_monitor: IndexMap<String, Value>,
}

/// The one-shot that forms a cluster of members: a Job of the release run by Helm after each
/// install and upgrade (the members are then up: Flux installs with `--wait`), replaced by the
/// next run rather than deleted, so its log stays readable; the one-shot itself does nothing
/// when the cluster is formed. It has the service's environment and the member list.
fn form_controller(form: &MembersForm, env: IndexMap<String, Value>, list: &str, restricted: bool) -> Controller {
    let (repository, tag) = split_image(&form.image.value);
    let mut env = env;
    env.insert(MEMBER_LIST.into(), json!(escape::helm_tpl(list)));
    Controller {
        kind: "job",
        pod: restricted.then(crate::security::restricted_pod),
        service_account: None,
        replicas: None,
        strategy: None,
        rolling_update: None,
        statefulset: None,
        containers: IndexMap::from([(
            "app".to_string(),
            Container {
                image: Image { repository, tag },
                args: form.args.iter().map(|a| a.value.clone()).collect(),
                env,
                probes: None,
                resources: None,
                security_context: restricted.then(crate::security::restricted_container),
            },
        )]),
        annotations: Some(json!({
            "helm.sh/hook": "post-install,post-upgrade",
            "helm.sh/hook-delete-policy": "before-hook-creation",
        })),
        job: Some(json!({ "backoffLimit": 6 })),
        force_rename: None,
    }
}

#[derive(Serialize)]
struct Controller {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod: Option<Value>,
    #[serde(rename = "serviceAccount", skip_serializing_if = "Option::is_none")]
    service_account: Option<Value>,
    replicas: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<&'static str>,
    #[serde(rename = "rollingUpdate", skip_serializing_if = "Option::is_none")]
    rolling_update: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statefulset: Option<StatefulSet>,
    containers: IndexMap<String, Container>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<Value>,
    /// The object's name as given, where the chart would add the identifier (it does beside a
    /// second controller).
    #[serde(rename = "forceRename", skip_serializing_if = "Option::is_none")]
    force_rename: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatefulSet {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volume_claim_templates: Vec<Claim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod_management_policy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<Value>,
}

#[derive(Serialize)]
struct Container {
    image: Image,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    env: IndexMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probes: Option<Probes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Value>,
    #[serde(rename = "securityContext", skip_serializing_if = "Option::is_none")]
    security_context: Option<Value>,
}

#[derive(Serialize)]
struct Image {
    repository: String,
    tag: String,
}

#[derive(Serialize)]
struct Probes {
    startup: Value,
    liveness: Value,
    readiness: Value,
}

/// How long a container may take to start before its liveness probe judges it: a startup probe
/// with the same check, allowed [`STARTUP_FAILURES`] failures ten seconds apart. Without one, the
/// liveness probe restarts a service still loading (a model, a cache) after thirty seconds, and
/// again, forever.
/// The startup probe: the liveness check, tolerated to fail for the start's budget (`start`, or
/// five minutes), at least once.
fn startup_probe(liveness: &Value, health: &Health) -> Value {
    let timing = health.timing();
    let period = timing.every_seconds(PROBE_PERIOD).max(1);
    let budget = timing.start_seconds().unwrap_or(STARTUP_BUDGET);
    let mut startup = liveness.clone();
    startup["spec"]["failureThreshold"] = json!(budget.div_ceil(period).max(1));
    startup
}

/// Seconds between probes when the health check gives no `every`.
const PROBE_PERIOD: u64 = 10;

/// Seconds a start may take when the health check gives no `start`: five minutes.
const STARTUP_BUDGET: u64 = 300;

#[derive(Serialize)]
struct ServiceValues {
    controller: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    primary: bool,
    ports: IndexMap<String, ServicePort>,
    /// The only ranges the load balancer admits (a network's), none for the public.
    #[serde(rename = "loadBalancerSourceRanges", skip_serializing_if = "Vec::is_empty")]
    source_ranges: Vec<String>,
    /// `None` for a headless Service.
    #[serde(rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    cluster_ip: Option<&'static str>,
    #[serde(rename = "publishNotReadyAddresses", skip_serializing_if = "std::ops::Not::not")]
    publish_not_ready: bool,
    /// The object's name as given, where the chart would add the identifier (it does beside a
    /// second Service).
    #[serde(rename = "forceRename", skip_serializing_if = "Option::is_none")]
    force_rename: Option<String>,
}

#[derive(Clone, Serialize)]
pub(crate) struct ServicePort {
    pub(crate) port: u16,
    protocol: &'static str,
}

/// A volume claim: a `persistence` item (with its type) or a StatefulSet claim template (with a name).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Claim {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    access_mode: &'static str,
    size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_class: Option<String>,
    labels: IndexMap<String, String>,
    global_mounts: Vec<Mount>,
}

#[derive(Serialize)]
struct Mount {
    path: String,
}

/// The Secret and key a cluster reads a secret from: the existing Secret, or the one an
/// `ExternalSecret` (see the manifests) creates under the secret's own name for an `external` or
/// `vault` backend. `None` without a backend for clusters (E0612).
pub fn secret_name_and_key(secret: &Resource<Secret>) -> Option<(&str, &str)> {
    Some(match secret.spec.on_kubernetes()? {
        Backend::Own(own) => match &own.value {
            KubernetesSecret::Existing { name, key } => (name.as_str(), key.as_deref().unwrap_or_default()),
            KubernetesSecret::External { key, .. } => (stored_in(secret), key.as_deref().unwrap_or_default()),
        },
        Backend::Vault(vault) => (stored_in(secret), vault.value.key()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_at_the_tag_not_at_a_registry_port() {
        assert_eq!(split_image("temporalio/server:1.24.2"), ("temporalio/server".into(), "1.24.2".into()));
        assert_eq!(split_image("registry:5000/app"), ("registry:5000/app".into(), "latest".into()));
        assert_eq!(split_image("registry:5000/app:v1"), ("registry:5000/app".into(), "v1".into()));
    }
}
