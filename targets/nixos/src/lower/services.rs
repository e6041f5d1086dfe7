//! Services on NixOS: through their preset's `nixos { … }` options, or as OCI containers.
//!
//! A container (`virtualisation.oci-containers.containers.<name>`, run by podman as
//! `podman-<name>.service`) gets its ports (published on loopback, and on the node's address where
//! a peer reaches it, see `reach.rs`; on every address when exposed to the public; a metrics port
//! on the node's mesh address when a Prometheus on another node scrapes it), volumes from storage,
//! environment without secrets, secrets through `environmentFiles`, `dependsOn` for the containers
//! it needs, its configuration files bind-mounted from `/etc/spec/<service>/` ([`super::files`]),
//! cpu and memory limits, its health check and its `security` (the user and group in the
//! module's `user` option, `uid:gid`; privileged, capabilities, the host's network, whose ports
//! are then not published, and PIDs as podman options), and is ordered after
//! (and requires) the `nixos_unit` of each preset service it needs on the node, its GPUs and its
//! `systemd { … }` settings on `podman-<name>.service` ([`super::units`]). A preset service runs
//! through its module only (an image the user gives it is E1123), its common fields lowered onto
//! its unit ([`super::units`]); NixOS options the user writes beside an image are host
//! configuration, and the container runs too. A secret in `nixos { … }` is its decrypted file's
//! path.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::runs_on_host;
use spec_compiler::model::types::Transport;
use spec_compiler::model::{Colour, EnvValue, Resource, Service};
use spec_compiler::source::{Origin, Span};
use spec_target_systemd::podman::health_options;
use spec_target_systemd::publish::binds;
use spec_target_systemd::scrape::scraped_from_elsewhere;

use super::bluegreen::{Switched, colour_container as colour_container_name, colour_port};
use super::units::Unit;
use super::{NodeModule, path, payload, placed_on, with};
use crate::nix::{Nix, Part};

/// Whether `name` is a unit name NixOS accepts in `after`/`requires` (its option type's pattern).
pub(super) fn is_unit_name(name: &str) -> bool {
    const TYPES: [&str; 10] =
        ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "scope"];
    let Some((stem, kind)) = name.rsplit_once('.') else { return false };
    (TYPES.contains(&kind) || kind == "slice")
        && !stem.is_empty()
        && stem.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '%' | ':' | '_' | '.' | '-'))
}

impl<'a> NodeModule<'a> {
    /// Whether the service runs through its `nixos { … }` options on this node (a preset's, or
    /// the user's without an image) rather than as a container.
    /// The core's [`runs_on_host`] decides it, so the ways it derives are the ways opened here.
    pub(super) fn runs_as_module(&self, service: &Resource<Service>) -> bool {
        let from_stdlib = |span: Span| self.context.sources.get(span.file).origin == Origin::Stdlib;
        runs_on_host(&service.spec, &self.node.spec, from_stdlib)
    }

    /// Whether a service runs as a container on NixOS: it has an image, and no preset gives it
    /// NixOS options of its own (see [`NodeModule::service`]).
    pub(super) fn runs_container(&self, service: &Resource<Service>) -> bool {
        service.spec.image.is_some() && !self.runs_as_module(service)
    }

    pub(super) fn service(&mut self, service: &'a Resource<Service>) {
        let spec = &service.spec;
        // A colour of a blue-green service placed on another node runs here as a container
        // only: its switch, its NixOS options and its audiences are its own node's.
        let guest = !placed_on(&spec.on, self.node);
        // Where the service's reads are resolved from: this node (its own, or a colour's).
        let here = self.here(spec.on.span);
        if let Some(nixos) = spec.nixos.as_ref().filter(|_| !guest) {
            // Options a preset brings are attributed to the service that uses it.
            let origin = if self.context.sources.get(nixos.span.file).origin == Origin::Stdlib {
                service.name_span
            } else {
                nixos.span
            };
            let mut definitions = Vec::new();
            let unit = spec.nixos_unit.as_ref().map(|u| u.value.as_str()).filter(|u| is_unit_name(u));
            for (option, value) in &nixos.value {
                let mut read = Vec::new();
                let lowered = payload(value, &mut |r| {
                    read.push(r.clone());
                    self.payload_reference(&spec.on, r)
                });
                self.read_in_option(option, &read, unit);
                match lowered {
                    Ok(nix) => definitions.push((path(option), nix)),
                    Err(Some(what)) => self.unsupported(service, &what, origin),
                    Err(None) => {}
                }
            }
            self.define_all(definitions, origin);
            if let Some(unit) = spec.nixos_unit.as_ref().filter(|u| !is_unit_name(&u.value)) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1109,
                        unit.span,
                        format!("service `{}`: `{}` is not a systemd unit name", service.name, unit.value),
                    )
                    .with_primary_label("not a unit name")
                    .with_help("name a unit with its type, such as `postgresql.target` or `redis-main.service`"),
                );
            }
        }
        let remote_scrape = !guest && scraped_from_elsewhere(self.scrapers, &self.node.name);
        let metrics_port = spec.metrics.as_ref().and_then(|m| spec.ports.get(m.port.value.0.as_str()));
        // The blackbox exporter on another node probes the health check over the mesh.
        let probed_port = self.probed_remotely(service).filter(|_| !guest);
        let remote_metrics = metrics_port.filter(|_| remote_scrape).map(|p| p.number);
        // The Prometheus server on another node reaches the metrics over the mesh.
        for port in remote_metrics.into_iter().chain(probed_port) {
            for network in self.index.on(&self.node.name).networks.iter().filter(|n| n.spec.wireguard.is_some()) {
                self.interface_tcp.entry(network.name.clone()).or_default().insert(port);
            }
        }
        // `expose` and the needs of other nodes and clusters (see `reach.rs`).
        if !guest {
            self.open(service);
        }
        // A preset's `nixos { … }` options are its NixOS form, and its image the form elsewhere: a
        // container as well would run it twice. NixOS options the user writes beside an image
        // configure the host for the container, which runs too.
        let from_stdlib = |span: Span| self.context.sources.get(span.file).origin == Origin::Stdlib;
        let preset_form = spec.nixos.as_ref().is_some_and(|n| from_stdlib(n.span));
        if let Some(image) = spec.image.as_ref().filter(|i| preset_form && !from_stdlib(i.span)) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1123,
                    image.span,
                    format!("service `{}`: the image is not run on NixOS node `{}`", service.name, self.node.name),
                )
                .with_primary_label("its preset runs the service through NixOS options here")
                .with_help("remove `image`, or place the service on a cluster or a host that is not NixOS"),
            );
        }
        if let Some(pull) = spec.pull_secret.as_ref().filter(|_| self.runs_as_module(service)) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1150,
                    pull.span,
                    format!("service `{}` pulls no image on NixOS node `{}`", service.name, self.node.name),
                )
                .with_primary_label("its NixOS options run it from the Nix store")
                .with_help("remove `pull_secret`, or run the service from an image"),
            );
        }
        if self.runs_as_module(service) {
            self.module_unit_fields(service);
            self.module_files(service);
            return;
        }
        let Some(image) = &spec.image else { return };
        // A blue-green rollout runs two containers behind an nginx switch ([`super::bluegreen`]).
        let colours = self.blue_green(service);
        if colours.is_some() && !self.colours_fit(service) {
            return;
        }
        let containers = self.containers_of(service);
        let base = vec!["virtualisation".into(), "oci-containers".into(), "containers".into(), service.name.clone()];
        let mut container = vec![("image".to_string(), Nix::Str(image.value.clone()))];
        if !spec.args.is_empty() {
            // Where a service is, from this node (E0625 in the graph rules when it has no value).
            let args = spec.args.iter().filter_map(|a| a.value.fill(|e| self.reach.resolve(&here, e)).ok());
            container.push(("cmd".into(), Nix::List(args.map(Nix::Str).collect())));
        }
        let openings = self.reach.of(&service.name);
        let security = spec.security.as_ref().map(|s| &s.value);
        // On the host's network the container's ports are the host's own: nothing is published,
        // and the firewall opened for each way in (`reach.rs`) admits exactly those ways.
        let host_network = security.is_some_and(|s| s.host_network());
        let published: Vec<Switched> = spec
            .ports
            .iter()
            .filter(|_| !host_network)
            .map(|(name, port)| {
                // Published ports bypass the NixOS firewall: each listens only where it is reached
                // (the metrics port also on the mesh when a Prometheus elsewhere scrapes it).
                let scraped_on = self
                    .node
                    .spec
                    .address
                    .as_ref()
                    .filter(|_| (remote_scrape && metrics_port == Some(port)) || probed_port == Some(port.number))
                    .map(|a| a.value.0);
                Switched {
                    name: name.clone(),
                    number: port.number,
                    protocol: port.protocol,
                    binds: binds(name, openings, scraped_on),
                }
            })
            .collect();
        let protocol = |port: &Switched| match port.protocol {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        let ports: Vec<Nix> = published
            .iter()
            .flat_map(|port| {
                port.binds.iter().map(move |bind| Nix::Str(format!("{bind}{0}:{0}/{1}", port.number, protocol(port))))
            })
            .collect();
        if !ports.is_empty() && colours.is_none() {
            container.push(("ports".into(), Nix::List(ports)));
        }
        let mut volumes: Vec<Nix> = spec
            .volumes
            .iter()
            .filter_map(|(target, storage)| {
                let storage = self.index.storage(&storage.name)?;
                Some(Nix::Str(format!("{}:{target}", storage.spec.host_path()?)))
            })
            .collect();
        volumes.extend(self.container_files(service, &containers));
        if !volumes.is_empty() {
            container.push(("volumes".into(), Nix::List(volumes)));
        }
        let mut environment = Vec::new();
        let mut environment_files = Vec::new();
        for (key, value) in &spec.env {
            match &value.value {
                EnvValue::Text(text) => environment.push((key.clone(), Nix::Str(text.clone()))),
                EnvValue::Number(n) => environment.push((key.clone(), Nix::Str(n.to_string()))),
                EnvValue::Flag(b) => environment.push((key.clone(), Nix::Str(b.to_string()))),
                // Where a service is, from this node; what has no value is E0625 in the graph rules.
                EnvValue::Endpoint(endpoint) => {
                    if let Ok(text) = self.reach.resolve(&here, endpoint) {
                        environment.push((key.clone(), Nix::Str(text)));
                    }
                }
                EnvValue::Template(template) => {
                    if let Ok(text) = template.fill(|e| self.reach.resolve(&here, e)) {
                        environment.push((key.clone(), Nix::Str(text)));
                    }
                }
                // The decrypted file holds `KEY=value` lines; the value never reaches the store.
                EnvValue::Secret(secret) => {
                    environment_files.push(self.secret_path(&secret.name, secret.span));
                    for name in &containers {
                        self.read_by_container(&secret.name, name);
                    }
                }
            }
        }
        if !environment.is_empty() {
            container.push(("environment".into(), Nix::Attrs(environment)));
        }
        if !environment_files.is_empty() {
            container.push(("environmentFiles".into(), Nix::List(environment_files)));
        }
        let depends: Vec<Nix> = spec
            .needed_services()
            .filter(|need| {
                self.index
                    .service(&need.name)
                    .is_some_and(|s| self.runs_container(s) && placed_on(&s.spec.on, self.node))
            })
            .filter_map(|need| self.index.service(&need.name))
            .map(|needed| Nix::Str(self.container_of(needed)))
            .collect();
        if !depends.is_empty() {
            container.push(("dependsOn".into(), Nix::List(depends)));
        }
        // A port published on the mesh address needs the WireGuard interface that carries it.
        let metrics_name = spec.metrics.as_ref().map(|m| m.port.value.0.as_str());
        let health_name = match spec.health.as_ref().map(|h| &h.value) {
            Some(spec_compiler::model::Health::Http { port, .. }) => Some(port.value.0.as_str()),
            _ => None,
        };
        let on_mesh = self.node.spec.address.is_some()
            && ((remote_scrape
                && metrics_port.is_some()
                && metrics_name.is_some_and(|name| !spec.expose.is_public(name)))
                || (probed_port.is_some() && health_name.is_some_and(|name| !spec.expose.is_public(name))));
        // A colour listening on this node's address for a switch on another node needs it too.
        let colour_on_mesh = self
            .colours_here(service)
            .into_iter()
            .filter_map(|c| self.colour_way(service, c))
            .any(|w| !w.bind.is_loopback());
        let mut units: Vec<Nix> = Vec::new();
        if on_mesh || (colours.is_some() && colour_on_mesh) {
            let networks = self.index.on(&self.node.name).networks.iter().filter(|n| n.spec.wireguard.is_some());
            units.extend(networks.map(|n| Nix::Str(format!("wireguard-{}.service", n.name))));
        }
        // The jobs it needs have succeeded before it starts ([`super::jobs`]).
        units.extend(self.job_units(&spec.needs));
        self.order_after_presets(service, &containers, units);
        // The user is the module's own `user` option (`uid:gid`), the rest podman's options.
        if let Some(user) = security.and_then(|s| s.podman_user()) {
            container.push(("user".into(), Nix::Str(user)));
        }
        let mut options: Vec<Nix> =
            security.map(|s| s.podman_options_but_user().into_iter().map(Nix::Str).collect()).unwrap_or_default();
        if let Some(resources) = &spec.resources {
            if let Some(cpu) = &resources.cpu {
                options.push(Nix::Str(format!("--cpus={}", cpu.value.decimal())));
            }
            if let Some(memory) = &resources.memory {
                options.push(Nix::Str(format!("--memory={}b", memory.value.0)));
            }
            if let Some(gpu) = &resources.gpu {
                let devices = self.gpu_devices(gpu.value);
                options.extend(devices);
            }
        }
        if let Some(health) = &spec.health {
            match health_options(&health.value, &spec.ports) {
                Ok(health) => options.extend(health.into_iter().map(Nix::Str)),
                Err(why) => self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1108,
                        health.span,
                        format!("service `{}`: the health check has no podman form: {why}", service.name),
                    )
                    .with_primary_label("cannot become `--health-cmd`")
                    .with_help("give `exec` a command of at least one word, or check a declared port"),
                ),
            }
        }
        // The registry credentials (a Docker config, which podman reads as an auth file).
        if let Some(pull) = &spec.pull_secret {
            let flag = |path: Nix| match path {
                Nix::Raw(code) => Nix::Interpolated(vec![Part::Text("--authfile=".into()), Part::Code(code)]),
                Nix::Str(path) => Nix::Str(format!("--authfile={path}")),
                other => other,
            };
            options.push(flag(self.secret_path(&pull.value.name, pull.span)));
            for name in &containers {
                self.read_by_container(&pull.value.name, name);
            }
        }
        if !options.is_empty() {
            container.push(("extraOptions".into(), Nix::List(options)));
        }
        match colours {
            None => self.define(base, Nix::Attrs(container), service.name_span),
            Some((active, images)) => {
                let here = self.colours_here(service);
                for (colour, image) in [Colour::Blue, Colour::Green].into_iter().zip(images) {
                    if !here.contains(&colour) {
                        continue;
                    }
                    let mut colour_container = container.clone();
                    if let Some(image) = image {
                        colour_container[0].1 = Nix::Str(image.to_string());
                    }
                    // Each colour at its own host ports, on loopback or, for a colour on a node
                    // of its own away from the switch, on that node's address, opened to the
                    // switch's node; nginx serves the service's.
                    let way = self.colour_way(service, colour);
                    let bind = way.map_or_else(|| "127.0.0.1".to_string(), |w| w.bind.to_string());
                    if let Some(way) = way.filter(|w| w.node != spec.on.name) {
                        self.open_colour(service, way);
                    }
                    let ports: Vec<Nix> = published
                        .iter()
                        .filter_map(|port| {
                            let host = colour_port(port.number, colour)?;
                            Some(Nix::Str(format!("{bind}:{host}:{}/{}", port.number, protocol(port))))
                        })
                        .collect();
                    if !ports.is_empty() {
                        colour_container.push(("ports".into(), Nix::List(ports)));
                    }
                    let mut base = base.clone();
                    base[3] = colour_container_name(&service.name, colour);
                    self.define(base, Nix::Attrs(colour_container), service.name_span);
                }
                if !guest {
                    self.switch(service, active, published);
                }
            }
        }
        if let Some(systemd) = &spec.systemd {
            // The oci-containers module runs each container as `podman-<name>.service`.
            for name in &containers {
                let unit = Unit { stem: format!("podman-{name}"), kind: "service" };
                self.systemd_payload(service, &systemd.value, systemd.span, &unit);
            }
        }
    }

    fn unsupported(&mut self, service: &Resource<Service>, what: &str, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(Code::E1102, span, format!("service `{}`: {what} has no NixOS form", service.name))
                .with_primary_label("cannot be written as a NixOS option value")
                .with_help("write it as a string, a number, a boolean, a list, a map or `nix(\"…\")`"),
        );
    }

    /// Orders the container after `units` and the units of the preset services it needs on this
    /// node: their NixOS modules start units only the preset knows, named in its `nixos_unit`.
    fn order_after_presets(&mut self, service: &Resource<Service>, containers: &[String], mut units: Vec<Nix>) {
        for need in service.spec.needed_services() {
            let Some(needed) = self.index.service(&need.name) else { continue };
            if needed.spec.nixos.is_none() || self.runs_container(needed) || !placed_on(&needed.spec.on, self.node) {
                continue;
            }
            match &needed.spec.nixos_unit {
                Some(unit) if is_unit_name(&unit.value) => units.push(Nix::Str(unit.value.clone())),
                Some(_) => {}
                None => self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1102,
                        need.span,
                        format!(
                            "service `{}` cannot be ordered after `{}`: its NixOS options name no unit",
                            service.name, needed.name
                        ),
                    )
                    .with_primary_label("no unit to start after")
                    .with_help(format!(
                        "set `nixos_unit` on service `{}` to the unit its NixOS module starts (`name.service`)",
                        needed.name
                    )),
                ),
            }
        }
        if units.is_empty() {
            return;
        }
        // The oci-containers module runs each container as `podman-<name>.service`.
        let mut definitions = Vec::new();
        for name in containers {
            let unit = format!("podman-{name}");
            definitions.push((with(path("systemd.services"), &[&unit, "after"]), Nix::List(units.clone())));
            definitions.push((with(path("systemd.services"), &[&unit, "requires"]), Nix::List(units.clone())));
        }
        self.define_all(definitions, service.name_span);
    }
}

#[cfg(test)]
mod tests {
    use super::is_unit_name;

    #[test]
    fn unit_names_need_a_type() {
        assert!(is_unit_name("postgresql.target"));
        assert!(is_unit_name("redis-main.service"));
        assert!(!is_unit_name("postgresql"));
        assert!(!is_unit_name("a b.service"));
        assert!(!is_unit_name(".service"));
    }
}
