//! Lowers the checked model to one NixOS module per NixOS node.
//!
//! Per node, in this order (each part in its own module where it is more than a few lines): host
//! name and a ZFS host id derived from the name; the node's own `nixos { … }` options ([`host`]); ZFS pools imported and datasets created and
//! mounted ([`storage`]); services as OCI containers or through their preset's `nixos { … }`
//! options ([`services`]); backups as sanoid snapshots, restic copies and syncoid replicas
//! ([`backups`]); k3s ([`k3s`]); workflows ([`workflows`]); jobs as oneshot units ([`jobs`]);
//! configuration files ([`files`]); ingress routes through one nginx with ACME certificates
//! ([`ingress`]); the node exporter and, on the node running Prometheus, scrape configs and rule
//! files ([`monitoring`]); one WireGuard interface per network the node belongs to, with peers
//! derived from membership, the private key from its
//! secret, and a keepalive towards reachable peers when the node has no endpoint of its own
//! (behind NAT); the firewall from `expose`, the `needs` of other nodes and clusters ([`reach`]),
//! WireGuard, k3s and scraping (ports on the mesh interface, or the pod bridge, where only they
//! need them; by source address on a network without WireGuard); agenix or sops-nix declarations
//! for every secret the node uses (in payloads too, where a secret is its decrypted file's path),
//! with the SSH host key they decrypt with and SSH enabled; vault-agent instances for secrets from
//! Vault ([`secrets`]), every unit reading their files held back until they are rendered ([`vault`]). Secret values never enter the store:
//! modules hold only paths to files decrypted on the host. The flake and the hive import each
//! node's module and the node's own slot, `hosts/<node>/` in the estate's folder ([`HOST_SLOT`]),
//! which spec never writes: what it cannot know (hardware, boot loader, root file system).
//!
//! Clusters of other distributions than k3s are reported as W1101. ZFS pools are imported, never
//! created (see [`storage`]).

use std::collections::{BTreeMap, BTreeSet};

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::{Reach, derive};
use spec_compiler::model::types::{Endpoint, EndpointPart, Payload, PlacementRef, Reference, TemplatePart};
use spec_compiler::model::{Backup, Kind, Node, Resource};
use spec_compiler::parallel;
use spec_compiler::source::Span;
use spec_compiler::target::{Context, Index, OutputFile, meshes};
use spec_target_systemd::scrape::scraping_nodes;

mod alertmanager;
mod backups;
mod bluegreen;
mod dashboards;
mod deployed;
mod files;
mod host;
mod ingress;
mod jobs;
mod k3s;
mod monitoring;
mod reach;
mod replication;
mod secrets;
mod services;
mod storage;
mod units;
mod vault;
mod workflows;

use crate::module::Module;
use crate::nix::{self, Nix};

/// A derived ZFS host id: eight hex digits of the FNV-1a hash of the node's name, stable across
/// machines (ZFS needs it unique within a fleet, not secret).
pub fn host_id(name: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

fn path(text: &str) -> Vec<String> {
    text.split('.').map(String::from).collect()
}

fn with(mut base: Vec<String>, tail: &[&str]) -> Vec<String> {
    base.extend(tail.iter().map(|s| s.to_string()));
    base
}

/// WireGuard's keepalive for peers behind NAT, in seconds (wg(8) suggests 25).
pub(super) const KEEPALIVE_SECONDS: u16 = 25;

/// The backups replicated to each node, by the receiving node's name.
type Replicas<'a> = BTreeMap<&'a str, Vec<&'a Resource<Backup>>>;

/// The blackbox exporter and the health checks it probes (in estate order, and by service), when
/// a NixOS node runs one.
type Probes<'a> = Option<(
    spec_target_prometheus::scrape::Prober<'a>,
    Vec<spec_target_prometheus::scrape::Probe<'a>>,
    std::collections::HashMap<&'a str, usize>,
)>;

/// Lowering state for one node.
struct NodeModule<'a> {
    context: &'a Context<'a>,
    index: &'a Index<'a>,
    node: &'a Resource<Node>,
    module: Module,
    diagnostics: Vec<Diagnostic>,
    tcp: BTreeSet<u16>,
    udp: BTreeSet<u16>,
    /// Ports opened only on an interface (the mesh), by interface.
    interface_tcp: BTreeMap<String, BTreeSet<u16>>,
    interface_udp: BTreeMap<String, BTreeSet<u16>>,
    trusted: BTreeSet<String>,
    /// Ports opened to one source range on no known interface (a network without WireGuard):
    /// (protocol, range, port).
    from_source: BTreeSet<(&'static str, String, u16)>,
    /// Whether a service listens on one of the node's own addresses rather than on loopback or
    /// every address, which needs the kernel to allow binding before the WireGuard interface that
    /// carries the address is up.
    binds_own_address: bool,
    secrets: BTreeMap<&'a str, Span>,
    /// The user that must own a secret's file, for the secrets read by a service running as a
    /// user of its own rather than by root or systemd on its behalf (syncoid's SSH key).
    owners: BTreeMap<&'a str, &'static str>,
    /// The nodes running a Prometheus server.
    scrapers: &'a BTreeSet<&'a str>,
    /// The blackbox exporter and the health checks it probes (see [`monitoring`]).
    probes: &'a Probes<'a>,
    /// Who reaches each service from outside its node.
    reach: &'a Reach,
    /// The backups replicated to each node, by the receiving node's name.
    replicas: &'a Replicas<'a>,
    /// Whether the node must run SSH (it receives replicas).
    ssh: bool,
    /// GPUs handed to containers so far, so each container gets its own.
    gpus: u32,
    /// The nginx stream configuration of each blue-green switch, with its service's span
    /// ([`bluegreen`]).
    streams: Vec<(String, Span)>,
    /// Whether `services.nginx.enable` is defined (switches and ingress share one nginx).
    nginx_enabled: bool,
    /// The units reading each file vault-agent renders, which wait for it ([`vault`]).
    vault_readers: vault::VaultReaders,
}

impl<'a> NodeModule<'a> {
    fn define(&mut self, path: Vec<String>, value: Nix, span: Span) {
        self.define_all(vec![(path, value)], span);
    }

    /// Defines several options from one source, reporting their clashes in one diagnostic.
    fn define_all(&mut self, definitions: Vec<(Vec<String>, Nix)>, span: Span) {
        let provenance = self.context.provenance(span);
        let clashes: Vec<_> = definitions
            .into_iter()
            .filter_map(|(path, value)| self.module.define(path, value, &provenance).err())
            .collect();
        let Some(first) = clashes.first() else { return };
        let mut diagnostic = Diagnostic::new(
            Code::E1101,
            span,
            format!("NixOS option `{}` on node `{}` is defined twice", first.path, self.node.name),
        )
        .with_primary_label("defined again here")
        .with_note(format!("first defined from {}", first.earlier))
        .with_help(
            "two services on one NixOS node set the same option; move one to another node, or set the option once",
        );
        if clashes.len() > 1 {
            let others: Vec<String> = clashes.iter().skip(1).map(|c| format!("`{}`", c.path)).collect();
            diagnostic = diagnostic.with_note(format!("so are {}", others.join(", ")));
        }
        self.diagnostics.push(diagnostic);
    }

    /// A reference in the `nixos { … }` payload of a service placed `on` this node: where a
    /// service is (`service.NAME.host`, `.port`, `.url`) as the node itself reaches it (loopback
    /// for its own services; E0625 from the checks when it has no value), else as
    /// [`NodeModule::payload_secret`].
    fn payload_reference(&mut self, on: &PlacementRef, reference: &Reference) -> Result<Nix, Refused> {
        let Some(part) = Endpoint::part_of(&reference.field).filter(|_| reference.kind == Kind::Service.as_str())
        else {
            return self.payload_secret(reference);
        };
        let resolved = self.reach.resolve_on_host(on, &Endpoint(reference.clone())).map_err(|_| None)?;
        Ok(match (part, resolved.parse::<i64>()) {
            (EndpointPart::Port, Ok(port)) => Nix::Int(port),
            _ => Nix::Str(resolved),
        })
    }
}

/// Generates the module of every NixOS node and the fleet index.
pub fn generate(context: &Context<'_>) -> (Vec<OutputFile>, Vec<Diagnostic>) {
    lower(context, Render::Files)
}

/// The diagnostics [`generate`] reports, from the same lowering, without rendering a file.
pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    lower(context, Render::Nothing).1
}

/// Whether the lowering renders its modules: `spec check` needs only what lowering reports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Render {
    Files,
    Nothing,
}

fn lower(context: &Context<'_>, render: Render) -> (Vec<OutputFile>, Vec<Diagnostic>) {
    let model = context.model;
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let header = context.header("#");
    let index = Index::new(model);
    let scrapers = scraping_nodes(model, &index);
    let probes = spec_target_prometheus::scrape::host_probes(&index).map(|(prober, probes)| {
        let by_service = probes.iter().enumerate().map(|(i, p)| (p.service.name.as_str(), i)).collect();
        (prober, probes, by_service)
    });
    let (reach, _) = derive(model, &context.stdlib_files());
    let replicas = replication::replicas_by_node(model);
    // Each node's module is lowered on its own, so the nodes are split over the cores; the parts
    // come back in node order, as one thread would make them.
    // In an estate with environments, only the nodes this run uses ([`deployed`]).
    let nixos_nodes = deployed::written(model, &index, &reach, &replicas);
    diagnostics.extend(deployed::unused(model, &nixos_nodes));
    let parts = parallel::map_chunks(nixos_nodes.clone(), NODES_PER_THREAD, |nodes| {
        let mut part = (Vec::with_capacity(nodes.len()), Vec::new());
        for node in nodes {
            let (file, mut found) =
                lower_node(context, &index, (&scrapers, &probes, &reach, &replicas), &header, node, render);
            part.0.extend(file);
            part.1.append(&mut found);
        }
        part
    });
    for (mut part_files, mut part_diagnostics) in parts {
        files.append(&mut part_files);
        diagnostics.append(&mut part_diagnostics);
    }
    diagnostics.extend(dashboards::unprovisioned(model, &index));
    if render == Render::Files && !files.is_empty() {
        let sources: Vec<String> = context.user_files().into_iter().map(String::from).collect();
        files.push(OutputFile {
            path: "nixos/flake.nix".into(),
            contents: fleet(context, &header, &nixos_nodes),
            sources: sources.clone(),
        });
        let contents = hive(context, &header, &nixos_nodes);
        files.push(OutputFile { path: "nixos/hive.nix".into(), contents, sources });
    }
    (files, diagnostics)
}

/// Below this many NixOS nodes per core, the modules are lowered on one thread.
const NODES_PER_THREAD: usize = 32;

/// Lowers one node's module, rendered into its file unless `render` says otherwise.
fn lower_node<'a>(
    context: &'a Context<'_>,
    index: &'a Index<'a>,
    (scrapers, probes, reach, replicas): (&'a BTreeSet<&'a str>, &'a Probes<'a>, &'a Reach, &'a Replicas<'a>),
    header: &str,
    node: &'a Resource<Node>,
    render: Render,
) -> (Option<OutputFile>, Vec<Diagnostic>) {
    let mut lowering = NodeModule {
        context,
        index,
        node,
        module: Module::default(),
        diagnostics: Vec::new(),
        tcp: BTreeSet::new(),
        udp: BTreeSet::new(),
        interface_tcp: BTreeMap::new(),
        interface_udp: BTreeMap::new(),
        trusted: BTreeSet::new(),
        from_source: BTreeSet::new(),
        binds_own_address: false,
        secrets: BTreeMap::new(),
        owners: BTreeMap::new(),
        scrapers,
        probes,
        reach,
        replicas,
        ssh: false,
        gpus: 0,
        streams: Vec::new(),
        nginx_enabled: false,
        vault_readers: vault::VaultReaders::default(),
    };
    lowering.host();
    lowering.node_options();
    lowering.storage();
    for service in index.on(&node.name).services.iter().copied() {
        lowering.service(service);
    }
    // The colours other nodes' blue-green services run here ([`bluegreen`]).
    for name in reach.colour_guests(&node.name) {
        if let Some(service) = index.service(name) {
            lowering.service(service);
        }
    }
    lowering.switches();
    lowering.backups();
    lowering.k3s();
    lowering.workflows();
    lowering.jobs();
    lowering.ingress();
    lowering.gpu_toolkit();
    lowering.monitoring();
    lowering.dashboards();
    lowering.alertmanager();
    lowering.wireguard();
    lowering.firewall();
    lowering.secrets();
    lowering.vault_waits();
    not_generated(index, node, &mut lowering.diagnostics);
    lowering.cluster_only();
    let file = (render == Render::Files).then(|| OutputFile {
        path: format!("nixos/{}/default.nix", node.name),
        contents: lowering.module.render(header),
        sources: lowering.module.sources(),
    });
    (file, lowering.diagnostics)
}

pub(super) fn placed_on(on: &spec_compiler::model::types::PlacementRef, node: &Resource<Node>) -> bool {
    on.kind == Kind::Node.as_str() && on.name == node.name
}

impl NodeModule<'_> {
    /// This node as a placement, from which what runs here resolves where services are (a
    /// service placed here, or a colour of one placed elsewhere); `span` is the placement's.
    pub(super) fn here(&self, span: spec_compiler::source::Span) -> spec_compiler::model::types::PlacementRef {
        spec_compiler::model::types::PlacementRef(spec_compiler::model::types::Reference {
            kind: Kind::Node.as_str().to_string(),
            name: self.node.name.clone(),
            field: Vec::new(),
            span,
        })
    }
}

impl<'a> NodeModule<'a> {
    fn host(&mut self) {
        let node = self.node;
        self.define(path("networking.hostName"), Nix::Str(node.name.clone()), node.name_span);
        // The platform the node's packages are built for; written when the node states it (the
        // fleet's `system` and Colmena's default nixpkgs are x86_64 otherwise).
        if let Some(arch) = &node.spec.arch {
            self.define(path("nixpkgs.hostPlatform"), Nix::Str(arch.value.nix_system().to_string()), arch.span);
        }
        self.define(path("networking.hostId"), Nix::Str(host_id(&node.name)), node.name_span);
    }

    fn wireguard(&mut self) {
        let behind_nat = self.node.spec.endpoint.is_none();
        for mesh in meshes(self.index, self.node) {
            let (network, wireguard) = (mesh.network, mesh.wireguard);
            if network.name.len() > 15 {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1103,
                        network.name_span,
                        format!("network `{}` names a WireGuard interface longer than 15 characters", network.name),
                    )
                    .with_primary_label("Linux interface names have at most 15 characters")
                    .with_help("give the network a shorter name"),
                );
                continue;
            }
            let peers: Vec<Nix> = mesh
                .peers
                .iter()
                .map(|peer| {
                    let mut entry = vec![
                        ("name".to_string(), Nix::Str(peer.node.name.clone())),
                        ("publicKey".to_string(), Nix::Str(peer.public_key.to_string())),
                        ("allowedIPs".to_string(), Nix::List(vec![Nix::Str(peer.allowed_ip.clone())])),
                    ];
                    if let Some(endpoint) = &peer.endpoint {
                        entry.push(("endpoint".to_string(), Nix::Str(endpoint.clone())));
                        // A node without an endpoint of its own (behind NAT) is reachable only
                        // while it keeps the path open towards the peers it can reach.
                        if behind_nat {
                            entry.push(("persistentKeepalive".to_string(), Nix::Int(KEEPALIVE_SECONDS.into())));
                        }
                    }
                    Nix::Attrs(entry)
                })
                .collect();
            let private_key = self.secret_path(&mesh.private_key.name, mesh.private_key.span);
            // From Vault only where Vault is reached without this tunnel: it waits like any reader.
            self.read_by(&mesh.private_key.name, format!("wireguard-{}.service", network.name));
            let interface = Nix::Attrs(vec![
                ("ips".into(), Nix::List(vec![Nix::Str(mesh.address.clone())])),
                ("listenPort".into(), Nix::Int(i64::from(wireguard.port.value))),
                ("privateKeyFile".into(), private_key),
                ("peers".into(), Nix::List(peers)),
            ]);
            self.define(with(path("networking.wireguard.interfaces"), &[&network.name]), interface, network.name_span);
            self.udp.insert(wireguard.port.value);
            if network.spec.trusted.as_ref().is_some_and(|t| t.value) {
                self.trusted.insert(network.name.clone());
            }
        }
    }

    fn firewall(&mut self) {
        let span = self.node.name_span;
        let ports = |set: &BTreeSet<u16>| Nix::List(set.iter().map(|p| Nix::Int(i64::from(*p))).collect());
        if !self.tcp.is_empty() {
            let value = ports(&self.tcp);
            self.define(path("networking.firewall.allowedTCPPorts"), value, span);
        }
        if !self.udp.is_empty() {
            let value = ports(&self.udp);
            self.define(path("networking.firewall.allowedUDPPorts"), value, span);
        }
        let mut definitions = Vec::new();
        for (interfaces, option) in [(&self.interface_tcp, "allowedTCPPorts"), (&self.interface_udp, "allowedUDPPorts")]
        {
            for (interface, set) in interfaces {
                definitions.push((with(path("networking.firewall.interfaces"), &[interface, option]), ports(set)));
            }
        }
        self.define_all(definitions, span);
        if !self.trusted.is_empty() {
            let value = Nix::List(self.trusted.iter().map(|t| Nix::Str(t.clone())).collect());
            self.define(path("networking.firewall.trustedInterfaces"), value, span);
        }
        if self.binds_own_address {
            // The WireGuard interface holding the mesh address may come up after the services
            // that listen on it; non-local binds let them start in any order.
            let definitions = vec![
                (
                    path("boot.kernel.sysctl").into_iter().chain(["net.ipv4.ip_nonlocal_bind".to_string()]).collect(),
                    Nix::Int(1),
                ),
                (
                    path("boot.kernel.sysctl").into_iter().chain(["net.ipv6.ip_nonlocal_bind".to_string()]).collect(),
                    Nix::Int(1),
                ),
            ];
            self.define_all(definitions, span);
        }
        if !self.from_source.is_empty() {
            // No interface is known for a network without WireGuard: the peers are let in by
            // their source address, in the NixOS firewall's own accepting chain.
            let rules: Vec<String> = self
                .from_source
                .iter()
                .map(|(protocol, range, port)| {
                    let tool = if range.contains(':') { "ip6tables" } else { "iptables" };
                    format!("{tool} -A nixos-fw -p {protocol} -s {range} --dport {port} -j nixos-fw-accept")
                })
                .collect();
            let mut text = rules.join("\n");
            text.push('\n');
            self.define(path("networking.firewall.extraCommands"), Nix::Str(text), span);
        }
    }
}

/// The mount point of a dataset: its `mountpoint`, or `/<pool>/<dataset>`.
pub(super) fn mountpoint(zfs: &spec_compiler::model::ZfsDataset) -> String {
    match &zfs.mountpoint {
        Some(mountpoint) => mountpoint.value.clone(),
        None => format!("/{}/{}", zfs.pool.value, zfs.dataset.value),
    }
}

/// Why a payload value has no Nix form: what cannot be written, or `None` when the resolver of
/// references has reported it already.
pub(super) type Refused = Option<String>;

/// A payload value as Nix, references resolved by `resolve` (a secret becomes its decrypted
/// file's path), or why it has none.
pub(super) fn payload(
    value: &Payload,
    resolve: &mut dyn FnMut(&Reference) -> Result<Nix, Refused>,
) -> Result<Nix, Refused> {
    Ok(match value {
        Payload::Str(s) | Payload::Symbol(s) => Nix::Str(s.clone()),
        Payload::Int(n) => Nix::Int(*n),
        Payload::Bool(b) => Nix::Bool(*b),
        Payload::List(items) => Nix::List(items.iter().map(|i| payload(i, resolve)).collect::<Result<_, _>>()?),
        Payload::Map(entries) => Nix::Attrs(
            entries.iter().map(|(k, v)| Ok((k.clone(), payload(v, resolve)?))).collect::<Result<_, Refused>>()?,
        ),
        Payload::Nix(code) => Nix::Raw(format!("({code})")),
        Payload::Duration(d) => Nix::Str(spec_compiler::model::types::format_duration(d.0)),
        Payload::Size(s) => Nix::Int(i64::try_from(s.0).map_err(|_| Some("a size this large".to_string()))?),
        Payload::Address(a) => Nix::Str(a.0.to_string()),
        Payload::Cidr(c) => Nix::Str(format!("{}/{}", c.address, c.prefix)),
        Payload::Port(p) => Nix::Int(i64::from(p.number)),
        Payload::Reference(r) => resolve(r)?,
        // Each hole as the reference alone would be written: a host, a URL or a port's number.
        Payload::Template(template) => {
            let mut text = String::new();
            for part in &template.parts {
                match part {
                    TemplatePart::Text(t) => text.push_str(t),
                    TemplatePart::Hole(endpoint) => match resolve(&endpoint.0)? {
                        Nix::Str(s) => text.push_str(&s),
                        Nix::Int(n) => text.push_str(&n.to_string()),
                        _ => return Err(Some(format!("`{}`", template.written()))),
                    },
                }
            }
            Nix::Str(text)
        }
        Payload::Tagged(tag, _) => return Err(Some(format!("the tagged record `{tag} {{ … }}`"))),
    })
}

impl NodeModule<'_> {
    /// Refuses, at the field, what only a cluster gives a service a meaning for (W1130): all of
    /// it but a container's blue-green rollout, which is two containers and a switch
    /// ([`bluegreen`]).
    fn cluster_only(&mut self) {
        let node = self.node;
        for service in self.index.on(&node.name).services.iter().copied() {
            let switched = self.blue_green(service).is_some();
            let fields = service.spec.cluster_only_fields();
            for (span, field, why) in fields.into_iter().filter(|f| !(switched && f.1 == "rollout")) {
                let why = match field {
                    "rollout" if self.runs_as_module(service) => {
                        "its NixOS options run one instance, which a restart replaces"
                    }
                    _ => why,
                };
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1130,
                        span,
                        format!("`{field}` of service `{}` has no form on NixOS node `{}`", service.name, node.name),
                    )
                    .with_primary_label(why)
                    .with_help("remove it, or place the service on a cluster"),
                );
            }
        }
    }
}

/// Reports what is placed on the node that this back end does not generate yet.
fn not_generated(index: &Index<'_>, node: &Resource<Node>, diagnostics: &mut Vec<Diagnostic>) {
    let mut missing: Vec<(Span, String)> = Vec::new();
    for cluster in index.on(&node.name).clusters.iter().copied() {
        if cluster.spec.distribution.value != spec_compiler::model::Distribution::K3s {
            missing.push((cluster.name_span, format!("cluster `{}` (only k3s is generated)", cluster.name)));
        }
    }
    for (span, what) in missing {
        diagnostics.push(
            Diagnostic::new(
                Code::W1101,
                span,
                format!("the NixOS module of node `{}` does not include {what} yet", node.name),
            )
            .with_primary_label("not generated for NixOS yet")
            .with_help("this part of the NixOS back end is still to come; configure it by hand meanwhile"),
        );
    }
}

/// The folder of a node's own modules, beside the spec files: what spec cannot know (hardware,
/// boot loader, root file system, users), written by hand and never written or deleted by spec.
pub const HOST_SLOT: &str = "hosts";

/// The comment that tells where a node's own modules go, in the flake and the hive.
fn slot_comment(context: &Context<'_>) -> String {
    let root = if context.root_from_out.is_empty() || context.root_from_out == ".." {
        String::new()
    } else {
        format!(" (`{}` from the output folder)", context.root_from_out)
    };
    format!(
        "# Each node also imports `{HOST_SLOT}/<node>/` in the estate's folder{root}: its hardware\n# configuration, boot loader and root file system, written by you (`nixos-generate-config`\n# writes the first). spec never writes or deletes anything there.\n"
    )
}

/// A node's own modules as a path expression from a file `depth` folders below the output root.
fn host_slot(context: &Context<'_>, node: &str, depth: usize) -> String {
    let up = "/..".repeat(depth);
    let relative = format!("{up}/{}/{HOST_SLOT}/{node}", context.root_from_out);
    format!("(./. + {})", nix::string(&relative))
}

/// The fleet index: a flake with one `nixosConfigurations` entry per NixOS node written, importing the
/// secret modules the estate uses and the node's own modules.
fn fleet(context: &Context<'_>, header: &str, nodes: &[&Resource<Node>]) -> String {
    let (agenix, sops) = secrets::secret_modules(context.model);
    let mut inputs = vec!["nixpkgs"];
    let mut modules = Vec::new();
    let mut out = String::from(header);
    out.push_str(&slot_comment(context));
    out.push_str(&format!("{{\n  inputs.nixpkgs.url = \"github:NixOS/nixpkgs/nixos-{}\";\n", k3s::NIXPKGS_RELEASE));
    if agenix {
        out.push_str("  inputs.agenix.url = \"github:ryantm/agenix\";\n");
        inputs.push("agenix");
        modules.push("agenix.nixosModules.default");
    }
    if sops {
        out.push_str("  inputs.sops-nix.url = \"github:Mic92/sops-nix\";\n");
        inputs.push("sops-nix");
        modules.push("sops-nix.nixosModules.sops");
    }
    out.push_str(&format!("\n  outputs = {{ self, {}, ... }}: {{\n    nixosConfigurations = {{\n", inputs.join(", ")));
    for node in nodes {
        let mut node_modules = modules.clone();
        let local = format!("./{}", node.name);
        node_modules.push(&local);
        let own = host_slot(context, &node.name, 1);
        node_modules.push(&own);
        out.push_str(&format!(
            "      {} = nixpkgs.lib.nixosSystem {{\n        system = \"{}\";\n        modules = [ {} ];\n      }};\n",
            nix::attr_name(&node.name),
            node.spec.arch().nix_system(),
            node_modules.join(" ")
        ));
    }
    out.push_str("    };\n  };\n}\n");
    out
}

/// The Colmena hive: each written NixOS node's module, deployed to its endpoint (or mesh address).
fn hive(context: &Context<'_>, header: &str, nodes: &[&Resource<Node>]) -> String {
    let (agenix, sops) = secrets::secret_modules(context.model);
    let mut out = String::from(header);
    out.push_str(&slot_comment(context));
    out.push_str("{\n  meta.nixpkgs = import <nixpkgs> { system = \"x86_64-linux\"; };\n");
    // A node of another architecture gets a nixpkgs of its own (the module's `hostPlatform` must
    // match the packages it is given).
    let others: Vec<_> = nodes.iter().filter(|n| n.spec.arch() != spec_compiler::model::Arch::X86_64).collect();
    if !others.is_empty() {
        out.push_str("  meta.nodeNixpkgs = {\n");
        for node in others {
            out.push_str(&format!(
                "    {} = import <nixpkgs> {{ system = \"{}\"; }};\n",
                nix::attr_name(&node.name),
                node.spec.arch().nix_system()
            ));
        }
        out.push_str("  };\n");
    }
    let mut defaults = Vec::new();
    if agenix {
        defaults.push("<agenix/modules/age.nix>");
    }
    if sops {
        defaults.push("<sops-nix/modules/sops>");
    }
    if !defaults.is_empty() {
        out.push_str(&format!("  defaults = {{ imports = [ {} ]; }};\n", defaults.join(" ")));
    }
    for node in nodes {
        let host = node
            .spec
            .endpoint
            .as_ref()
            .or(node.spec.address.as_ref())
            .map_or(node.name.clone(), |a| a.value.0.to_string());
        out.push_str(&format!(
            "  {} = {{\n    imports = [ ./{} {} ];\n    deployment.targetHost = {};\n  }};\n",
            nix::attr_name(&node.name),
            node.name,
            host_slot(context, &node.name, 1),
            nix::string(&host)
        ));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ids_are_eight_hex_digits_and_stable() {
        let id = host_id("prod1");
        assert_eq!(id.len(), 8);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id, host_id("prod1"));
        assert_ne!(id, host_id("prod2"));
    }
}
