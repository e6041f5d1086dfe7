//! Lowers what is placed on non-NixOS nodes to units.
//!
//! A container service runs `podman run --rm` with its ports (published on loopback, and on the
//! node's address where a peer reaches it: see [`crate::publish`]; on every address when exposed
//! to the public), volumes (after their mounts), configuration files (shipped as
//! `files/<service>/<key>` beside the units, installed in `/etc/spec/<service>/` and bind-mounted
//! read-only at their paths), environment, secrets (`LoadCredential=` from the secret's
//! `systemd` backend, read by the container through `--env-file=%d/NAME`; a pull secret, a Docker
//! config, through `--authfile=%d/NAME`), cpu and memory limits
//! and its health check (podman's `--health-cmd`, see [`crate::podman`]), ordered after and
//! requiring the services and jobs it needs on the same node. Jobs become a oneshot unit that
//! stays active once it has succeeded ([`jobs`]). Workflows become a oneshot unit per step (its container removed when
//! it stops), a run unit and a timer. Offsite backups become a restic oneshot and timer
//! ([`backups`]). WireGuard membership becomes a networkd netdev and network, with a keepalive
//! towards reachable peers when the node has no endpoint of its own. A k3s server or agent is a
//! unit of its own ([`k3s`]); a service's `systemd { … }` settings are merged into its unit and
//! its GPUs are CDI devices ([`settings`]). What is not generated yet (snapshots and replicas of
//! backups, ZFS datasets, clusters of other distributions, services without an image) is W1401;
//! an ingress route, which no generated reverse proxy serves here, is W1450 with where the
//! container publishes the route's port.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::files::{file_keys, host_folder};
use spec_compiler::model::reach::{Reach, derive};
use spec_compiler::model::types::{Endpoint, PlacementRef, Transport};
use spec_compiler::model::{Concurrency, Distribution, EnvValue, Kind, Node, Os, Resource, Service, SystemdSecret};
use spec_compiler::source::Span;
use spec_compiler::target::{Context, Index, OutputFile, meshes};

use crate::escape::{cron_calendar, exec_arg, list_word, start_limit_window, unit_refusal, value};
use crate::podman::{health_options, service_refusals, step_refusals};
use crate::publish::binds;
use crate::scrape::{scraped_from_elsewhere, scraping_nodes};
use crate::unit::UnitFile;

mod backups;
mod jobs;
mod k3s;
mod settings;

const PODMAN: &str = "/usr/bin/podman";

/// WireGuard's keepalive for peers behind NAT, in seconds (wg(8) suggests 25).
const KEEPALIVE_SECONDS: u16 = 25;

fn placed_on(on: &PlacementRef, node: &Resource<Node>) -> bool {
    on.kind == Kind::Node.as_str() && on.name == node.name
}

/// A credential setting of a unit: its name (`LoadCredential` or `LoadCredentialEncrypted`) and
/// its value, `NAME:PATH`.
type Credential = (&'static str, String);

struct NodeUnits<'a> {
    context: &'a Context<'a>,
    index: &'a Index<'a>,
    node: &'a Resource<Node>,
    files: Vec<OutputFile>,
    diagnostics: Vec<Diagnostic>,
    header: String,
    /// Whether a Prometheus server on a NixOS node scrapes this node's metrics.
    scraped: bool,
    /// Who reaches each service from outside its node.
    reach: &'a Reach,
    /// GPUs handed to containers so far, so each container gets its own.
    gpus: u32,
}

/// Generates the units of every node that is not NixOS.
pub fn generate(context: &Context<'_>) -> (Vec<OutputFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let index = Index::new(context.model);
    let scrapers = scraping_nodes(context.model, &index);
    let (reach, _) = derive(context.model, &context.stdlib_files());
    for node in context.model.nodes.iter().filter(|n| n.spec.os.value != Os::Nixos) {
        let header = context.header("#");
        let scraped = scraped_from_elsewhere(&scrapers, &node.name);
        let mut units = NodeUnits {
            context,
            index: &index,
            node,
            files: Vec::new(),
            diagnostics: Vec::new(),
            header,
            scraped,
            reach: &reach,
            gpus: 0,
        };
        for service in index.on(&node.name).services.iter().copied() {
            units.service(service);
        }
        units.workflows();
        units.jobs();
        units.backups();
        units.k3s();
        units.wireguard();
        units.not_generated();
        files.append(&mut units.files);
        diagnostics.append(&mut units.diagnostics);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, diagnostics)
}

impl<'a> NodeUnits<'a> {
    /// Binds each ZFS dataset or plain directory of `volumes` into a container at its path
    /// (`--volume`), the unit requiring its mount so the dataset is mounted before the container
    /// binds it, and creating a directory that is missing.
    fn bind_datasets(
        &self,
        volumes: &indexmap::IndexMap<String, spec_compiler::model::types::StorageRef>,
        unit: &mut UnitFile,
        args: &mut Vec<String>,
    ) {
        for (target, storage) in volumes {
            let Some(storage) = self.index.storage(&storage.name) else { continue };
            let Some(source) = storage.spec.host_path() else { continue };
            unit.set("Unit", "RequiresMountsFor", list_word(&source));
            // A plain directory is created if missing: podman refuses to bind a path that is not.
            if storage.spec.zfs.is_none() {
                unit.set("Service", "ExecStartPre", format!("/usr/bin/mkdir -p {}", exec_arg(&source)));
            }
            args.push("--volume".into());
            args.push(exec_arg(&format!("{source}:{target}")));
        }
    }

    fn emit(&mut self, name: &str, unit: &UnitFile, span: Span) {
        let provenance = self.context.provenance(span);
        let contents = unit.render(&self.header, &provenance);
        self.files.push(OutputFile {
            path: format!("systemd/{}/{name}", self.node.name),
            contents,
            sources: vec![provenance],
        });
    }

    /// Whether a value bound for a container's command line is one line; a diagnostic when not.
    fn single_line(&mut self, text: &str, what: &str, span: Span) -> bool {
        let single = !text.contains(['\n', '\r', '\0']);
        if !single {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1401,
                    span,
                    format!("{what} holds a line break, which a unit file cannot carry"),
                )
                .with_primary_label("not a single line")
                .with_help("write the value on one line"),
            );
        }
        single
    }

    /// The path of a secret's credential, from its `systemd` backend (whose presence the graph
    /// rules check); E1405 or E1401 when the path cannot stand in a unit file.
    fn credential_path(&mut self, name: &str) -> Option<String> {
        let backend = self.index.secret(name)?.spec.on_systemd()?;
        let SystemdSecret::Credential { path, .. } = &backend.value;
        let what = format!("the credential path of secret `{name}`");
        if let Some(refused) = unit_refusal(path, &what, backend.span) {
            self.diagnostics.push(refused);
            return None;
        }
        if value(path).is_none() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1401,
                    backend.span,
                    format!("{what} holds a line break or ends with `\\`, which a unit file cannot carry"),
                )
                .with_primary_label("not one line of a unit file")
                .with_help("give the credential a path on one line"),
            );
            return None;
        }
        Some(path.clone())
    }

    /// Whether a secret's credential file is encrypted (`systemd-creds encrypt`), so that only
    /// systemd, loading it into a unit's credentials directory, can read it.
    fn encrypted(&self, name: &str) -> bool {
        self.index.secret(name).and_then(|s| s.spec.on_systemd()).is_some_and(|b| b.value.encrypted())
    }

    /// The credential setting for a secret: `LoadCredential=NAME:PATH`, or
    /// `LoadCredentialEncrypted=NAME:PATH` for a file made by `systemd-creds encrypt`. Either way
    /// the unit reads the plain value at `%d/NAME`.
    fn credential(&mut self, name: &str) -> Option<Credential> {
        let setting = if self.encrypted(name) { "LoadCredentialEncrypted" } else { "LoadCredential" };
        let path = self.credential_path(name)?;
        Some((setting, value(&format!("{name}:{path}"))?))
    }

    fn service(&mut self, service: &'a Resource<Service>) {
        let spec = &service.spec;
        let Some(image) = &spec.image else { return };
        let refused = service_refusals(service);
        if !refused.is_empty() {
            self.diagnostics.extend(refused);
            return;
        }
        let mut unit = UnitFile::default();
        unit.set("Unit", "Description", format!("spec service {}", service.name));
        unit.set("Unit", "Wants", "network-online.target");
        unit.set("Unit", "After", "network-online.target");
        for need in spec.needed_services() {
            let local = self.index.service(&need.name).is_some_and(|s| placed_on(&s.spec.on, self.node));
            if local {
                unit.set("Unit", "After", format!("{}.service", need.name));
                unit.set("Unit", "Requires", format!("{}.service", need.name));
            }
        }
        // The jobs it needs have succeeded before it starts ([`jobs`]).
        for job in self.job_units(&spec.needs) {
            unit.set("Unit", "After", job.clone());
            unit.set("Unit", "Requires", job);
        }
        let mut args = vec![exec_arg(PODMAN), "run".into(), "--rm".into(), "--name".into(), exec_arg(&service.name)];
        let metrics = spec.metrics.as_ref().map(|m| m.port.value.0.as_str());
        let openings = self.reach.of(&service.name);
        let security = spec.security.as_ref().map(|s| &s.value);
        // On the host's network nothing is published: the ports are the host's own.
        let host_network = security.is_some_and(|s| s.host_network());
        if host_network {
            self.host_network_ports(service);
        }
        args.extend(security.map(|s| s.podman_options()).unwrap_or_default());
        for (name, port) in spec.ports.iter().filter(|_| !host_network) {
            let protocol = match port.protocol {
                Transport::Tcp => "tcp",
                Transport::Udp => "udp",
            };
            // A Prometheus on a NixOS node scrapes the metrics port over the mesh.
            let scraped_on = self
                .node
                .spec
                .address
                .as_ref()
                .filter(|_| self.scraped && metrics == Some(name.as_str()))
                .map(|a| a.value.0);
            for bind in binds(name, openings, scraped_on) {
                args.push("--publish".into());
                args.push(exec_arg(&format!("{bind}{0}:{0}/{protocol}", port.number)));
            }
        }
        self.bind_datasets(&spec.volumes, &mut unit, &mut args);
        // Configuration files, shipped beside the units and installed in `/etc/spec/<service>/`.
        for (target, key, text) in self.service_files(service) {
            let source = format!("{}/{key}", host_folder(&service.name));
            unit.set("Unit", "AssertPathExists", list_word(&source));
            args.push("--volume".into());
            args.push(exec_arg(&format!("{source}:{target}:ro")));
            self.files.push(OutputFile {
                path: format!("systemd/{}/files/{}/{key}", self.node.name, service.name),
                contents: text,
                sources: vec![self.context.provenance(service.spec.files[target].span)],
            });
        }
        for (key, env) in &spec.env {
            let text = match &env.value {
                EnvValue::Text(text) => text.clone(),
                EnvValue::Number(n) => n.to_string(),
                EnvValue::Flag(b) => b.to_string(),
                // Where a service is, from this node; what has no value is E0625 in the graph rules.
                EnvValue::Endpoint(endpoint) => match self.reach.resolve(&spec.on, endpoint) {
                    Ok(text) => text,
                    Err(_) => continue,
                },
                EnvValue::Template(template) => match template.fill(|e| self.reach.resolve(&spec.on, e)) {
                    Ok(text) => text,
                    Err(_) => continue,
                },
                EnvValue::Secret(secret) => {
                    match self.credential(&secret.name) {
                        Some((setting, credential)) => unit.set("Service", setting, credential),
                        None => continue,
                    }
                    // `%d` is the credentials directory: a specifier, so not escaped.
                    args.push(format!("--env-file=%d/{}", secret.name));
                    continue;
                }
            };
            if !self.single_line(&text, &format!("`{key}` of service `{}`", service.name), env.span) {
                return;
            }
            args.push("--env".into());
            args.push(exec_arg(&format!("{key}={text}")));
        }
        // The registry credentials: a Docker config, which podman reads as an auth file.
        if let Some(pull) = &spec.pull_secret
            && let Some((setting, credential)) = self.credential(&pull.value.name)
        {
            unit.set("Service", setting, credential);
            args.push(format!("--authfile=%d/{}", pull.value.name));
        }
        if let Some(resources) = &spec.resources {
            if let Some(cpu) = &resources.cpu {
                args.push(format!("--cpus={}", cpu.value.decimal()));
            }
            if let Some(memory) = &resources.memory {
                args.push(format!("--memory={}b", memory.value.0));
            }
            if let Some(gpu) = &resources.gpu {
                let devices = self.gpu_devices(gpu.value);
                args.extend(devices);
            }
        }
        if let Some(health) = &spec.health {
            match health_options(&health.value, &spec.ports) {
                Ok(options) => args.extend(options.iter().map(|o| exec_arg(o))),
                Err(why) => self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1404,
                        health.span,
                        format!("service `{}`: the health check has no podman form: {why}", service.name),
                    )
                    .with_primary_label("cannot become `--health-cmd`")
                    .with_help("give `exec` a command of at least one word, or check a declared port"),
                ),
            }
        }
        args.push(exec_arg(&image.value));
        for arg in &spec.args {
            // Where a service is, from this node (E0625 in the graph rules when it has no value).
            let Ok(text) = arg.value.fill(|e| self.reach.resolve(&spec.on, e)) else { continue };
            if !self.single_line(&text, &format!("an argument of service `{}`", service.name), arg.span) {
                return;
            }
            args.push(exec_arg(&text));
        }
        unit.set(
            "Service",
            "ExecStartPre",
            format!("-{} rm --force --ignore {}", exec_arg(PODMAN), exec_arg(&service.name)),
        );
        unit.set("Service", "ExecStart", args.join(" "));
        unit.set("Service", "Restart", "on-failure");
        unit.set("Service", "RestartSec", "5s");
        unit.set("Install", "WantedBy", "multi-user.target");
        if let Some(systemd) = &spec.systemd
            && !self.unit_settings(service, &systemd.value, systemd.span, &mut unit)
        {
            return;
        }
        self.emit(&format!("{}.service", service.name), &unit, service.name_span);
    }

    /// Each configuration file of a service: its path in the container, its key and its text.
    fn service_files(&self, service: &'a Resource<Service>) -> Vec<(&'a str, String, String)> {
        let files = &service.spec.files;
        file_keys(files)
            .into_iter()
            .filter_map(|(target, key)| {
                let fill = &mut |e: &Endpoint| self.reach.resolve(&service.spec.on, e);
                Some((target, key, files[target].value.text(spec_yaml::to_string, fill)?))
            })
            .collect()
    }

    fn workflows(&mut self) {
        for workflow in self.index.on(&self.node.name).workflows.iter().copied() {
            let steps = &workflow.spec.step.value;
            let mut last = Vec::new();
            for (name, step) in steps {
                let refused = step_refusals(&workflow.name, name, step);
                if !refused.is_empty() {
                    self.diagnostics.extend(refused);
                    continue;
                }
                let unit_name = format!("{}-{name}", workflow.name);
                let mut unit = UnitFile::default();
                unit.set("Unit", "Description", format!("Workflow {}, step {name}", workflow.name));
                for need in step.needed_steps() {
                    unit.set("Unit", "After", format!("{}-{}.service", workflow.name, need.name));
                    unit.set("Unit", "Requires", format!("{}-{}.service", workflow.name, need.name));
                }
                // The services it needs on this node are up first (elsewhere is E0737).
                for need in step.needed_services() {
                    if self.index.service(&need.name).is_some_and(|s| placed_on(&s.spec.on, self.node)) {
                        unit.set("Unit", "After", format!("{}.service", need.name));
                        unit.set("Unit", "Requires", format!("{}.service", need.name));
                    }
                }
                let retries = step.retries.as_ref().map_or(0, |r| r.value);
                if retries > 0 {
                    unit.set("Unit", "StartLimitBurst", (retries + 1).to_string());
                    unit.set(
                        "Unit",
                        "StartLimitIntervalSec",
                        start_limit_window(step.timeout.as_ref().map(|t| t.value.0), retries),
                    );
                }
                let mut args =
                    vec![exec_arg(PODMAN), "run".into(), "--rm".into(), "--name".into(), exec_arg(&unit_name)];
                for (key, env) in &step.env {
                    match &env.value {
                        EnvValue::Secret(secret) => {
                            if let Some((setting, credential)) = self.credential(&secret.name) {
                                unit.set("Service", setting, credential);
                                args.push(format!("--env-file=%d/{}", secret.name));
                            }
                        }
                        other => {
                            let text = match other {
                                EnvValue::Text(t) => t.clone(),
                                EnvValue::Number(n) => n.to_string(),
                                EnvValue::Flag(b) => b.to_string(),
                                EnvValue::Endpoint(endpoint) => match self.reach.resolve(&workflow.spec.on, endpoint) {
                                    Ok(text) => text,
                                    Err(_) => continue, // E0625 in the graph rules
                                },
                                EnvValue::Template(template) => {
                                    match template.fill(|e| self.reach.resolve(&workflow.spec.on, e)) {
                                        Ok(text) => text,
                                        Err(_) => continue, // E0625 in the graph rules
                                    }
                                }
                                EnvValue::Secret(_) => continue,
                            };
                            args.push("--env".into());
                            args.push(exec_arg(&format!("{key}={text}")));
                        }
                    }
                }
                args.push(exec_arg(&step.image.value));
                let on = &workflow.spec.on;
                args.extend(
                    step.args
                        .iter()
                        .filter_map(|a| a.value.fill(|e| self.reach.resolve(on, e)).ok())
                        .map(|a| exec_arg(&a)),
                );
                unit.set("Service", "Type", "oneshot");
                unit.set("Service", "ExecStart", args.join(" "));
                // `--rm` removes the container when podman sees it exit; a run killed at its
                // timeout leaves it behind, and the next run's `--name` would clash.
                unit.set(
                    "Service",
                    "ExecStopPost",
                    format!("-{} rm --force --ignore {}", exec_arg(PODMAN), exec_arg(&unit_name)),
                );
                if let Some(timeout) = &step.timeout {
                    unit.set("Service", "TimeoutStartSec", format!("{}s", timeout.value.0 / 1000));
                }
                if retries > 0 {
                    unit.set("Service", "Restart", "on-failure");
                    unit.set("Service", "RestartSec", "30s");
                }
                if !steps.values().any(|s| s.needed_steps().any(|n| n.name == *name)) {
                    last.push(format!("{unit_name}.service"));
                }
                self.emit(&format!("{unit_name}.service"), &unit, step.span);
            }
            let mut run = UnitFile::default();
            run.set("Unit", "Description", format!("Workflow {}", workflow.name));
            for unit in &last {
                run.set("Unit", "After", unit.clone());
                run.set("Unit", "Requires", unit.clone());
            }
            run.set("Service", "Type", "oneshot");
            run.set("Service", "ExecStart", "/bin/true");
            self.emit(&format!("{}.service", workflow.name), &run, workflow.name_span);
            let Some(schedule) = &workflow.spec.schedule else { continue };
            let Some(calendar) = cron_calendar(&schedule.value) else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1402,
                        schedule.span,
                        format!(
                            "workflow `{}`: the schedule `{}` has no systemd calendar form",
                            workflow.name, schedule.value
                        ),
                    )
                    .with_primary_label("cannot be translated to `OnCalendar=`")
                    .with_help("use `*`, `*/N`, values, ranges `a-b` and lists `a,b` in each field"),
                );
                continue;
            };
            let mut timer = UnitFile::default();
            timer.set("Unit", "Description", format!("Run workflow {} on its schedule", workflow.name));
            timer.set("Timer", "OnCalendar", calendar);
            timer.set("Timer", "Persistent", "true");
            // A timer does not start a unit still active (`forbid`, the default); `replace`
            // starts a unit that stops the run still going and starts anew.
            if workflow.spec.concurrency.as_ref().is_some_and(|c| c.value == Concurrency::Replace) {
                let replace = format!("{}-replace.service", workflow.name);
                let mut stop = vec![format!("{}.service", workflow.name)];
                stop.extend(steps.keys().map(|s| format!("{}-{s}.service", workflow.name)));
                let stop: Vec<String> = stop.iter().map(|u| exec_arg(u)).collect();
                let mut unit = UnitFile::default();
                unit.set("Unit", "Description", format!("Workflow {}, replacing a run still going", workflow.name));
                unit.set("Service", "Type", "oneshot");
                unit.set("Service", "ExecStart", format!("/usr/bin/systemctl stop {}", stop.join(" ")));
                unit.set(
                    "Service",
                    "ExecStart",
                    format!("/usr/bin/systemctl start --no-block {}", exec_arg(&format!("{}.service", workflow.name))),
                );
                let span = workflow.spec.concurrency.as_ref().map_or(workflow.name_span, |c| c.span);
                self.emit(&replace, &unit, span);
                timer.set("Timer", "Unit", replace);
            }
            timer.set("Install", "WantedBy", "timers.target");
            self.emit(&format!("{}.timer", workflow.name), &timer, schedule.span);
        }
    }

    fn wireguard(&mut self) {
        for mesh in meshes(self.index, self.node) {
            let (network, wireguard) = (mesh.network, mesh.wireguard);
            if self.encrypted(&mesh.private_key.name) {
                // networkd reads `PrivateKeyFile=` itself, outside any unit's credentials.
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1423,
                        mesh.private_key.span,
                        format!(
                            "the WireGuard key of node `{}` is an encrypted credential, which networkd cannot read",
                            self.node.name
                        ),
                    )
                    .with_primary_label("read by systemd-networkd as a plain file")
                    .with_help("give the key a credential file that is not encrypted (`encrypted = false`), readable by systemd-network only"),
                );
                continue;
            }
            let Some(key_file) = self.credential_path(&mesh.private_key.name).and_then(|f| value(&f)) else {
                continue;
            };
            let mut netdev = UnitFile::default();
            netdev.set("NetDev", "Name", network.name.clone());
            netdev.set("NetDev", "Kind", "wireguard");
            netdev.set("WireGuard", "PrivateKeyFile", key_file);
            netdev.set("WireGuard", "ListenPort", wireguard.port.value.to_string());
            for peer in &mesh.peers {
                netdev.repeat("WireGuardPeer");
                netdev.push("PublicKey", peer.public_key.to_string());
                netdev.push("AllowedIPs", peer.allowed_ip.clone());
                if let Some(endpoint) = &peer.endpoint {
                    netdev.push("Endpoint", endpoint.clone());
                    // A node without an endpoint of its own (behind NAT) is reachable only while
                    // it keeps the path open towards the peers it can reach.
                    if self.node.spec.endpoint.is_none() {
                        netdev.push("PersistentKeepalive", KEEPALIVE_SECONDS.to_string());
                    }
                }
            }
            self.emit(&format!("{}.netdev", network.name), &netdev, network.name_span);
            let mut link = UnitFile::default();
            link.set("Match", "Name", network.name.clone());
            link.set("Network", "Address", mesh.address.clone());
            self.emit(&format!("{}.network", network.name), &link, network.name_span);
        }
    }

    /// W1450 for an ingress route: no reverse proxy is generated on these hosts, so the route
    /// says where the service is published for a proxy of the host's own.
    fn unserved_route(
        &self,
        service: &Resource<Service>,
        name: &str,
        route: &spec_compiler::model::ingress::Ingress,
        span: Span,
    ) -> Diagnostic {
        let node = &self.node.name;
        let port = &route.port.value.0;
        let published = service.spec.ports.get(port).map(|p| {
            let binds = binds(port, self.reach.of(&service.name), None);
            let at: Vec<String> = binds
                .iter()
                .map(|b| if b.is_empty() { format!("*:{}", p.number) } else { format!("{b}{}", p.number) })
                .collect();
            at.join(", ")
        });
        let tls = if route.tls.is_some() { "https" } else { "http" };
        let diagnostic = Diagnostic::new(
            Code::W1450,
            span,
            format!(
                "ingress `{name}` of service `{}` ({tls}://{}{}) is not served on host `{node}`: no reverse proxy is generated there",
                service.name,
                route.host.value,
                route.path()
            ),
        )
        .with_primary_label("nothing answers for this host name");
        let diagnostic = match published {
            Some(at) => diagnostic.with_note(format!(
                "the container publishes port `{port}` on {at}, where a proxy on the host reaches it"
            )),
            None => diagnostic,
        };
        diagnostic.with_help(
            "serve the route from a NixOS node (nginx with ACME) or a cluster (its ingress controller), or run a reverse proxy of your own on the host pointed at the published port",
        )
    }

    fn not_generated(&mut self) {
        let node = self.node;
        let on = self.index.on(&node.name);
        let mut missing: Vec<(Span, String)> = Vec::new();
        for service in on.services.iter().filter(|s| s.spec.image.is_none()) {
            missing.push((service.name_span, format!("service `{}` (it has no image)", service.name)));
        }
        for service in &on.services {
            for (name, route) in &service.spec.ingress {
                self.diagnostics.push(self.unserved_route(service, name, &route.value, route.span));
            }
        }
        // What only a cluster gives a service a meaning for is refused at the field.
        for service in &on.services {
            for (span, field, why) in service.spec.cluster_only_fields() {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1430,
                        span,
                        format!("`{field}` of service `{}` has no form on host `{}`", service.name, node.name),
                    )
                    .with_primary_label(why)
                    .with_help("remove it, or place the service on a cluster"),
                );
            }
        }
        // spec does not create ZFS datasets on these hosts: their pools and datasets are the
        // host's own (the backups still copy the dataset's mount point).
        for storage in &on.storage {
            if let Some(zfs) = &storage.spec.zfs {
                missing.push((zfs.span, format!("the dataset of storage `{}`", storage.name)));
            }
        }
        for backup in &on.backups {
            if let Some(snapshots) = &backup.spec.snapshots {
                missing.push((snapshots.span, format!("the snapshots of backup `{}`", backup.name)));
            }
            if let Some(replicate) = &backup.spec.replicate {
                missing.push((replicate.span, format!("the replica of backup `{}`", backup.name)));
            }
            if let (Some(verify), None) = (&backup.spec.verify, &backup.spec.offsite) {
                let what = format!("the restore test of backup `{}` (it has no offsite copy to test)", backup.name);
                missing.push((verify.span, what));
            }
        }
        for cluster in on.clusters.iter().filter(|c| c.spec.distribution.value != Distribution::K3s) {
            missing.push((cluster.name_span, format!("cluster `{}` (only k3s is generated)", cluster.name)));
        }
        for (span, what) in missing {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::W1401,
                    span,
                    format!("the systemd units of node `{}` do not include {what} yet", node.name),
                )
                .with_primary_label("not generated for systemd yet")
                .with_help("this part of the systemd back end is still to come; configure it by hand meanwhile"),
            );
        }
    }
}
