//! The common fields of a service lowered onto the systemd unit that runs it on NixOS, for
//! services run by their `nixos { … }` options (the unit is their `nixos_unit`) and, for
//! `systemd { … }` and GPUs, containers (`podman-<name>.service`).
//!
//! - `volumes` (mount path to storage): the dataset bind-mounted at the path
//!   (`fileSystems."<path>"`, after the dataset's own mount), so the module's data directory is
//!   the dataset the backups copy; a service unit also requires the mount (`RequiresMountsFor=`).
//! - `resources`: `CPUQuota=` (100 % per core) and `MemoryMax=` on the service unit.
//! - `health`: a oneshot `health-<service>.service` started every 30 s by its timer, running the
//!   check three times 10 s apart (`http` with curl, `tcp` with bash's `/dev/tcp`, `exec` as
//!   written, with the system's packages on the path); when all three fail it restarts a service
//!   unit (as podman's `--health-on-failure=kill` does for a container) and fails, which the node
//!   exporter's systemd collector reports.
//! - `env`: plain values on the service unit's `environment`, secrets as its `EnvironmentFile=`
//!   (the decrypted file's `NAME=value` lines, as a container reads them); `needs`: the unit starts after, and
//!   requires, what it needs on the node (a container's `podman-<name>.service`, another
//!   module's `nixos_unit`, a job's oneshot unit). `args` have no form (the module starts its own program).
//! - `systemd { Unit { … } Service { … } }`: merged into the unit's `unitConfig` and
//!   `serviceConfig`; a secret there becomes a credential (`LoadCredential=<name>:<decrypted
//!   path>`), the value its path in the credentials directory, `%d/<name>`.
//! - `resources.gpu` on a container: one CDI device per GPU (`--device=nvidia.com/gpu=<index>`,
//!   indices handed out in service order on the node) and `hardware.nvidia-container-toolkit`,
//!   which writes the CDI specification; the driver itself (`hardware.nvidia`) is the node's own
//!   configuration, in its `hosts/<node>/` slot.
//!
//! What has no form is E1125 at the field: a field that needs a service unit when `nixos_unit`
//! names none (or a target, whose services spec cannot name), a mount path that is not absolute,
//! a GPU for a service the host runs directly (it sees the host's devices; the driver is the
//! host's configuration), a section other than `Unit` and `Service`, a value other than text,
//! numbers, booleans, their lists and secrets.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::routing::runs_alertmanager;
use spec_compiler::model::types::{Payload, Reference, Transport};
use spec_compiler::model::{EnvValue, Health, Kind, Resource, Service};
use spec_compiler::source::{Origin, Span};
use spec_target_systemd::escape::shell_word;

use super::services::is_unit_name;
use super::{NodeModule, Refused, path, placed_on, with};
use crate::nix::Nix;

/// The health check of a service run by its NixOS options, where the check gives no timing:
/// seconds between runs, seconds one try may take, and when after boot the first run starts.
const HEALTH_INTERVAL: u64 = 30;
const HEALTH_TIMEOUT: u64 = 10;
const HEALTH_FIRST_RUN: u64 = 120;

/// The systemd unit a service runs as: its stem and type (`service`, `target`, …).
pub(super) struct Unit<'s> {
    pub stem: String,
    pub kind: &'s str,
}

impl Unit<'_> {
    fn option(&self) -> Option<&'static str> {
        match self.kind {
            "service" => Some("systemd.services"),
            "target" => Some("systemd.targets"),
            _ => None,
        }
    }
}

/// The unit a `nixos_unit` names.
pub(super) fn unit_of(name: &str) -> Option<Unit<'_>> {
    name.rsplit_once('.').map(|(stem, kind)| Unit { stem: stem.to_string(), kind })
}

impl<'a> NodeModule<'a> {
    /// Where a field of `service` is attributed: a field a preset brings is the service's (its
    /// name), so diagnostics and provenance point at the user's line.
    fn attributed(&self, span: Span, service: &Resource<Service>) -> Span {
        if self.context.sources.get(span.file).origin == Origin::Stdlib { service.name_span } else { span }
    }

    fn refuse(&mut self, service: &Resource<Service>, span: Span, what: &str, help: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::E1125, span, format!("service `{}`: {what}", service.name))
                .with_primary_label("has no form on NixOS")
                .with_help(help.to_string()),
        );
    }

    /// Lowers `volumes`, `resources`, `health` and `systemd` of a service its NixOS options run.
    pub(super) fn module_unit_fields(&mut self, service: &'a Resource<Service>) {
        let spec = &service.spec;
        let unit = spec.nixos_unit.as_ref().and_then(|u| unit_of(&u.value).filter(|u| u.option().is_some()));
        let service_unit = unit.as_ref().filter(|u| u.kind == "service").map(|u| u.stem.clone());
        let needs_unit = "set `nixos_unit` to the service unit the NixOS module starts (`name.service`)";
        let mut mounts = Vec::new();
        for (target, storage) in &spec.volumes {
            let Some(source) = self.index.storage(&storage.name).and_then(|s| s.spec.host_path()) else { continue };
            // NixOS refuses mount points with a trailing slash.
            let target = target.trim_end_matches('/');
            if !target.starts_with('/') {
                let what = format!("the mount path `{target}` is not an absolute path below `/` on the host");
                let help = "mount the storage at the absolute path the module keeps its data in";
                self.refuse(service, storage.span, &what, help);
                continue;
            }
            mounts.push(Nix::Str(target.to_string()));
            if source.trim_end_matches('/') == target {
                continue;
            }
            // `depends`: the dataset is mounted before it is bound.
            let bind = Nix::Attrs(vec![
                ("device".into(), Nix::Str(source.clone())),
                ("fsType".into(), Nix::Str("none".into())),
                ("options".into(), Nix::List(vec![Nix::Str("bind".into())])),
                ("depends".into(), Nix::List(vec![Nix::Str(source.trim_end_matches('/').to_string())])),
            ]);
            self.define(vec!["fileSystems".into(), target.to_string()], bind, storage.span);
        }
        if let (Some(stem), false) = (&service_unit, mounts.is_empty()) {
            let span = spec.volumes.values().next().map_or(service.name_span, |s| s.span);
            self.define(
                with(path("systemd.services"), &[stem, "unitConfig", "RequiresMountsFor"]),
                Nix::List(mounts),
                span,
            );
        }
        if let Some(resources) = &spec.resources {
            let span = self.attributed(resources.span, service);
            if let Some(gpu) = &resources.gpu {
                let gpu_span = self.attributed(gpu.span, service);
                self.refuse(
                    service,
                    gpu_span,
                    "a GPU for a service the host runs directly",
                    "the host's own services see its GPUs; configure the driver (`hardware.nvidia`) in the node's own modules, or run the service as a container",
                );
            }
            let mut limits = Vec::new();
            if let Some(cpu) = &resources.cpu {
                limits.push(("CPUQuota".to_string(), Nix::Str(format!("{}%", cpu.value.percent()))));
            }
            if let Some(memory) = &resources.memory {
                limits.push(("MemoryMax".to_string(), Nix::Str(memory.value.0.to_string())));
            }
            match (&service_unit, limits.is_empty()) {
                (_, true) => {}
                (Some(stem), false) => {
                    self.define(with(path("systemd.services"), &[stem, "serviceConfig"]), Nix::Attrs(limits), span)
                }
                (None, false) => {
                    self.refuse(service, span, "cpu and memory limits need the service unit that runs it", needs_unit)
                }
            }
        }
        if let Some(security) = &spec.security {
            let span = self.attributed(security.span, service);
            self.refuse(
                service,
                span,
                "container security settings for a service the host runs directly",
                "its NixOS module runs it as a host process, on the host's network and PIDs already; set the unit's own `systemd { Service { AmbientCapabilities = … } }`, or run the service as a container",
            );
        }
        if let Some(health) = &spec.health {
            let span = self.attributed(health.span, service);
            self.health_unit(service, &health.value, span, service_unit.as_deref());
        }
        self.module_unit_start(service, unit.as_ref(), needs_unit);
        if let Some(systemd) = &spec.systemd {
            let span = self.attributed(systemd.span, service);
            match unit {
                Some(unit) => self.systemd_payload(service, &systemd.value, span, &unit),
                None => self.refuse(service, span, "unit settings need the unit that runs it", needs_unit),
            }
        }
    }

    /// `args`, `env` and `needs` of a service its NixOS options run: the module starts its own
    /// program, so arguments have no form; plain environment variables (secrets as environment files) and where services are
    /// (`service.NAME.host`, resolved as the node reaches it) go on the unit
    /// (`environment`), and the unit starts after, and requires, what it needs on this node (a
    /// container's `podman-<name>.service`, another module's `nixos_unit`, a job's oneshot unit).
    fn module_unit_start(&mut self, service: &'a Resource<Service>, unit: Option<&Unit<'_>>, needs_unit: &str) {
        let spec = &service.spec;
        // A preset that brings both forms (an image with its `args`, and NixOS options) meant the
        // arguments for its image: only arguments the user wrote are refused.
        let written = spec.args.first().filter(|first| !service.presets.iter().any(|p| p.brought(first.span)));
        if let Some(first) = written {
            let span = self.attributed(first.span, service);
            let help = "remove `args`: the NixOS module starts its own program; set its options in `nixos { … }`";
            self.refuse(service, span, "arguments go to an image's entry point, which this service has not", help);
        }
        let service_unit = unit.filter(|u| u.kind == "service").map(|u| u.stem.clone());
        let mut environment = Vec::new();
        let mut environment_files = Vec::new();
        for (name, value) in &spec.env {
            let span = self.attributed(value.span, service);
            let text = match &value.value {
                EnvValue::Text(text) => text.clone(),
                EnvValue::Number(number) => number.to_string(),
                EnvValue::Flag(flag) => flag.to_string(),
                // Where a service is, as the node itself reaches it (the module's program runs on
                // the host, so a service on the same node is on loopback); the core reported one
                // that cannot be said (E0625).
                EnvValue::Endpoint(endpoint) => match self.reach.resolve_on_host(&spec.on, endpoint) {
                    Ok(text) => text,
                    Err(_) => continue,
                },
                EnvValue::Template(template) => match template.fill(|e| self.reach.resolve_on_host(&spec.on, e)) {
                    Ok(text) => text,
                    Err(_) => continue,
                },
                // As a container's: the decrypted file holds `NAME=value` lines, read by systemd
                // into the unit's environment, so the value never reaches the store.
                EnvValue::Secret(secret) => {
                    match &service_unit {
                        Some(stem) => {
                            environment_files.push(self.secret_path(&secret.name, secret.span));
                            self.read_by(&secret.name, format!("{stem}.service"));
                        }
                        None => self.refuse(
                            service,
                            span,
                            "environment variables need the service unit that runs it",
                            needs_unit,
                        ),
                    }
                    continue;
                }
            };
            match &service_unit {
                Some(_) => environment.push((name.clone(), Nix::Str(text))),
                None => {
                    self.refuse(service, span, "environment variables need the service unit that runs it", needs_unit)
                }
            }
        }
        if let (Some(stem), Some(first), false) = (&service_unit, spec.env.values().next(), environment.is_empty()) {
            let span = self.attributed(first.span, service);
            self.define(with(path("systemd.services"), &[stem, "environment"]), Nix::Attrs(environment), span);
        }
        if let (Some(stem), Some(first), false) =
            (&service_unit, spec.env.values().next(), environment_files.is_empty())
        {
            let span = self.attributed(first.span, service);
            let at = with(path("systemd.services"), &[stem, "serviceConfig", "EnvironmentFile"]);
            self.define(at, Nix::List(environment_files), span);
        }
        // The jobs it needs have succeeded before it starts ([`super::jobs`]).
        let mut after = self.job_units(&spec.needs);
        // An Alertmanager is only wanted, unordered: Prometheus queues its alerts until one
        // answers, and its rules (the page that a missing secret fired, `VaultSealed`) must run
        // while the Alertmanager cannot start or waits for its credentials ([`super::vault`]).
        let mut wanted = Vec::new();
        for need in spec.needed_services() {
            let Some(needed) = self.index.service(&need.name) else { continue };
            if !placed_on(&needed.spec.on, self.node) {
                continue;
            }
            let into = if runs_alertmanager(needed) { &mut wanted } else { &mut after };
            if self.runs_container(needed) {
                into.push(Nix::Str(format!("podman-{}.service", self.container_of(needed))));
            } else if let Some(name) = needed.spec.nixos_unit.as_ref().filter(|u| is_unit_name(&u.value)) {
                into.push(Nix::Str(name.value.clone()));
            }
        }
        let Some(first) = spec.needs.first().filter(|_| !after.is_empty() || !wanted.is_empty()) else { return };
        let span = self.attributed(first.span, service);
        match unit.and_then(|u| u.option().map(|option| (option, u.stem.clone()))) {
            Some((option, stem)) => {
                let mut definitions = Vec::new();
                if !after.is_empty() {
                    definitions.push((with(path(option), &[&stem, "after"]), Nix::List(after.clone())));
                    definitions.push((with(path(option), &[&stem, "requires"]), Nix::List(after)));
                }
                if !wanted.is_empty() {
                    definitions.push((with(path(option), &[&stem, "wants"]), Nix::List(wanted)));
                }
                self.define_all(definitions, span);
            }
            None => self.refuse(service, span, "starting after what it needs takes the unit that runs it", needs_unit),
        }
    }

    fn health_unit(&mut self, service: &Resource<Service>, health: &Health, span: Span, unit: Option<&str>) {
        let port = |name: &str| service.spec.ports.get(name).filter(|p| p.protocol == Transport::Tcp).map(|p| p.number);
        let timing = health.timing();
        let timeout = timing.timeout_seconds().unwrap_or(HEALTH_TIMEOUT);
        let tries = timing.failures();
        let check = match health {
            Health::Http { port: name, path, .. } => port(&name.value.0).map(|number| {
                let path = if path.starts_with('/') { path.clone() } else { format!("/{path}") };
                format!(
                    "curl -fsS -o /dev/null --max-time {timeout} {}",
                    shell_word(&format!("http://127.0.0.1:{number}{path}"))
                )
            }),
            // bash (which NixOS runs scripts with) opens TCP connections through `/dev/tcp`.
            // Bounded by coreutils' `timeout` only when the check gives one, so a check without
            // keeps its unit as it was.
            Health::Tcp { port: name, .. } => port(&name.value.0).map(|number| match timing.timeout_seconds() {
                Some(limit) => format!("timeout {limit} bash -c 'exec 3<>/dev/tcp/127.0.0.1/{number}'"),
                None => format!("(exec 3<>/dev/tcp/127.0.0.1/{number})"),
            }),
            Health::Exec { command, .. } if command.is_empty() => None,
            Health::Exec { command, .. } => {
                let words = command.iter().map(|w| shell_word(w)).collect::<Vec<_>>().join(" ");
                Some(match timing.timeout_seconds() {
                    Some(limit) => format!("timeout {limit} {words}"),
                    None => words,
                })
            }
        };
        let Some(check) = check else {
            self.refuse(
                service,
                span,
                "the health check names no declared TCP port or command",
                "check a declared TCP port, or give `exec` a command of at least one word",
            );
            return;
        };
        let failed = match unit {
            Some(stem) => format!(
                "echo {} >&2\nsystemctl restart {}\n",
                shell_word(&format!(
                    "{} failed its health check {tries} times: restarting {stem}.service",
                    service.name
                )),
                shell_word(&format!("{stem}.service"))
            ),
            None => {
                format!("echo {} >&2\n", shell_word(&format!("{} failed its health check {tries} times", service.name)))
            }
        };
        let script = format!(
            "check() {{\n  {check}\n}}\nfor attempt in {}; do\n  if check; then\n    exit 0\n  fi\n  sleep 10\ndone\n{failed}exit 1\n",
            (1..=tries).map(|n| n.to_string()).collect::<Vec<_>>().join(" ")
        );
        let name = format!("health-{}", service.name);
        let unit_config = Nix::Attrs(vec![
            ("description".into(), Nix::Str(format!("Health check of service {}", service.name))),
            ("serviceConfig".into(), Nix::Attrs(vec![("Type".into(), Nix::Str("oneshot".into()))])),
            // The system's packages, for `exec` checks and systemctl.
            ("path".into(), Nix::List(vec![Nix::Raw("pkgs.curl".into()), Nix::Str("/run/current-system/sw".into())])),
            ("script".into(), Nix::Str(script)),
        ]);
        let timer = Nix::Attrs(vec![
            ("wantedBy".into(), Nix::List(vec![Nix::Str("timers.target".into())])),
            (
                "timerConfig".into(),
                Nix::Attrs(vec![
                    ("OnBootSec".into(), Nix::Str(seconds(timing.start_seconds().unwrap_or(HEALTH_FIRST_RUN)))),
                    ("OnUnitActiveSec".into(), Nix::Str(seconds(timing.every_seconds(HEALTH_INTERVAL)))),
                ]),
            ),
        ]);
        self.define_all(
            vec![
                (with(path("systemd.services"), &[&name]), unit_config),
                (with(path("systemd.timers"), &[&name]), timer),
            ],
            span,
        );
    }

    /// Merges `systemd { Section { Key = value } }` into a unit's `unitConfig`/`serviceConfig`.
    pub(super) fn systemd_payload(
        &mut self,
        service: &Resource<Service>,
        sections: &indexmap::IndexMap<String, Payload>,
        span: Span,
        unit: &Unit<'_>,
    ) {
        let Some(option) = unit.option() else { return };
        let mut definitions = Vec::new();
        let mut credentials = Vec::new();
        for (section, settings) in sections {
            let attribute = match (section.as_str(), unit.kind) {
                ("Unit", _) => "unitConfig",
                ("Service", "service") => "serviceConfig",
                _ => {
                    let what =
                        format!("the section `{section}` has no place on the unit `{}.{}`", unit.stem, unit.kind);
                    self.refuse(service, span, &what, "write `Unit { … }` or, on a service unit, `Service { … }`");
                    continue;
                }
            };
            let Payload::Map(settings) = settings else {
                let what = format!("the section `{section}` is not a record of settings");
                self.refuse(service, span, &what, "write the section as `Section { Key = value }`");
                continue;
            };
            for (key, value) in settings {
                // systemd reads environment files before it sets up credentials: those take the
                // decrypted file itself.
                let direct = key == "EnvironmentFile";
                let mut read = Vec::new();
                let lowered = setting(value, &mut |r: &Reference| {
                    if r.kind == Kind::Secret.as_str() {
                        read.push(r.name.clone());
                    }
                    if direct { self.payload_secret(r) } else { self.credential(r, &mut credentials) }
                });
                for secret in read {
                    self.read_by(&secret, format!("{}.{}", unit.stem, unit.kind));
                }
                match lowered {
                    Ok(nix) => definitions.push((with(path(option), &[&unit.stem, attribute, key]), nix)),
                    Err(Some(what)) => {
                        let what = format!("`{key}` in `{section}` holds {what}");
                        self.refuse(
                            service,
                            span,
                            &what,
                            "write text, a number, a boolean, a list of them or a secret",
                        );
                    }
                    Err(None) => {}
                }
            }
        }
        if !credentials.is_empty() {
            definitions
                .push((with(path(option), &[&unit.stem, "serviceConfig", "LoadCredential"]), Nix::List(credentials)));
        }
        self.define_all(definitions, span);
    }

    /// A secret in unit settings: its credential, and the value `%d/<name>`.
    fn credential(&mut self, reference: &Reference, credentials: &mut Vec<Nix>) -> Result<Nix, Refused> {
        let file = self.payload_secret(reference)?;
        credentials.push(Nix::Interpolated(vec![
            crate::nix::Part::Text(format!("{}:", reference.name)),
            super::secrets::part(file),
        ]));
        Ok(Nix::Str(format!("%d/{}", reference.name)))
    }

    /// `--device` options for a container's GPUs, each its own on the node.
    pub(super) fn gpu_devices(&mut self, count: u32) -> Vec<Nix> {
        let first = self.gpus;
        self.gpus += count;
        (first..first + count).map(|index| Nix::Str(format!("--device=nvidia.com/gpu={index}"))).collect()
    }

    /// The NVIDIA container toolkit, which writes the CDI specification of the node's GPUs, once
    /// a container asks for one.
    pub(super) fn gpu_toolkit(&mut self) {
        if self.gpus > 0 {
            self.define(path("hardware.nvidia-container-toolkit.enable"), Nix::Bool(true), self.node.name_span);
        }
    }
}

/// A unit setting as Nix: text, numbers and booleans, lists of them (repeated directives), and
/// secrets through `resolve`.
fn setting(value: &Payload, resolve: &mut dyn FnMut(&Reference) -> Result<Nix, Refused>) -> Result<Nix, Refused> {
    match value {
        Payload::Str(s) | Payload::Symbol(s) => Ok(Nix::Str(s.clone())),
        Payload::Int(n) => Ok(Nix::Int(*n)),
        Payload::Bool(b) => Ok(Nix::Bool(*b)),
        Payload::Duration(d) => Ok(Nix::Str(spec_compiler::model::types::format_duration(d.0))),
        Payload::Size(s) => Ok(Nix::Str(s.0.to_string())),
        Payload::List(items) => items
            .iter()
            .map(|item| match item {
                Payload::List(_) | Payload::Map(_) => Err(Some("a nested list or record".to_string())),
                item => setting(item, resolve),
            })
            .collect::<Result<_, _>>()
            .map(Nix::List),
        Payload::Reference(r) => resolve(r),
        _ => Err(Some("a value a unit file cannot hold".to_string())),
    }
}

/// Seconds as systemd's time span, in the largest whole unit (`2min`, `30s`) so the default
/// timers read as before.
fn seconds(value: u64) -> String {
    if value != 0 && value.is_multiple_of(60) { format!("{}min", value / 60) } else { format!("{value}s") }
}
