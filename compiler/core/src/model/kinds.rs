//! The schema of every kind: one Rust struct per kind, the single definition of its fields, their
//! types, which are required, their defaults and their docs.
//!
//! The checker reads the JSON Schema these structs derive (so `spec schema` prints exactly what is
//! checked), and the model is deserialised into them. To add a field, add it here with a doc
//! comment; an optional field is an `Option`, a default is written as `extend("default" = …)` and
//! applied by an accessor. Every field keeps its span through [`Spanned`].

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ingress::Ingress;
use super::namespace::ClusterNamespaces;
use super::types::*;

/// The operating system of a node; NixOS nodes get NixOS modules, others plain systemd units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Os {
    /// NixOS.
    Nixos,
    /// Ubuntu.
    Ubuntu,
    /// Debian.
    Debian,
    /// Fedora.
    Fedora,
    /// Rocky Linux.
    Rocky,
}

/// A host's processor architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// 64-bit x86 (Intel, AMD).
    #[serde(rename = "x86_64")]
    X86_64,
    /// 64-bit ARM (Grace, Graviton, Ampere).
    Aarch64,
}

impl Arch {
    /// The Nix system double (`aarch64-linux`).
    pub fn nix_system(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-linux",
            Arch::Aarch64 => "aarch64-linux",
        }
    }

    /// The name Kubernetes labels a node's architecture with (`kubernetes.io/arch`), Go's.
    pub fn kubernetes(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }
}

/// A host.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// The operating system.
    pub os: Spanned<Os>,
    /// The processor architecture. Default: `x86_64`.
    #[schemars(extend("default" = "x86_64"))]
    pub arch: Option<Spanned<Arch>>,
    /// The node's address on the mesh.
    pub address: Option<Spanned<Address>>,
    /// Where peers reach the node (its public or underlay address).
    pub endpoint: Option<Spanned<Address>>,
    /// The node's WireGuard identity.
    pub wireguard: Option<Spanned<NodeWireguard>>,
    /// CPU: cores (`32`), or millicores (`3500m`).
    pub cpu: Option<Spanned<Cpu>>,
    /// Memory.
    pub memory: Option<Spanned<Size>>,
    /// GPUs.
    pub gpu: Option<Spanned<u32>>,
    /// The GPUs' model, as NVIDIA's GPU feature discovery labels it (`NVIDIA-A100-SXM4-80GB`).
    pub gpu_model: Option<Spanned<String>>,
    /// The memory of each GPU.
    pub gpu_memory: Option<Spanned<Size>>,
    /// Disks, by name: `disk nvme0 { device = "/dev/disk/by-id/…" }`.
    #[serde(default)]
    pub disk: IndexMap<String, Spanned<Disk>>,
    /// ZFS pools, by name: `zpool tank { … }`.
    #[serde(default)]
    pub zpool: IndexMap<String, Spanned<Zpool>>,
    /// NixOS options merged into the node's own module, by option path (`"security.auditd.enable"
    /// = true`): host settings that belong to no service. A NixOS node only (E0730 elsewhere).
    pub nixos: Option<Spanned<IndexMap<String, Payload>>>,
}

impl Node {
    /// The processor architecture (`x86_64` when not written).
    pub fn arch(&self) -> Arch {
        self.arch.as_ref().map_or(Arch::X86_64, |a| a.value)
    }
}

/// A node's WireGuard identity.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeWireguard {
    /// The public key (not a secret), base64.
    pub public_key: Spanned<String>,
    /// The private key, always a secret.
    pub private_key: Spanned<SecretRef>,
}

/// A disk of a node.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    /// The device path, preferably under `/dev/disk/by-id/`.
    pub device: Spanned<String>,
    /// The disk's size.
    pub size: Option<Spanned<Size>>,
}

/// The vdev layout of a ZFS pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PoolLayout {
    /// Disks striped, no redundancy.
    Stripe,
    /// Every disk a copy.
    Mirror,
    /// Single parity.
    Raidz1,
    /// Double parity.
    Raidz2,
    /// Triple parity.
    Raidz3,
}

/// A ZFS pool.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Zpool {
    /// The vdev layout.
    pub layout: Spanned<PoolLayout>,
    /// The member disks' device paths.
    pub disks: Spanned<Vec<String>>,
    /// Usable size.
    pub size: Option<Spanned<Size>>,
}

/// A network joining nodes.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The WireGuard mesh carrying the network.
    pub wireguard: Option<Spanned<NetworkWireguard>>,
    /// The member nodes; peers are derived from membership.
    pub members: Spanned<Vec<NodeRef>>,
    /// Whether the network's interface is trusted by each member's firewall. Default: false.
    #[schemars(extend("default" = false))]
    pub trusted: Option<Spanned<bool>>,
}

/// The WireGuard settings of a network.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkWireguard {
    /// The mesh's address range; members' addresses lie in it.
    pub cidr: Spanned<Cidr>,
    /// The UDP port WireGuard listens on.
    #[schemars(range(min = 1, max = 65535))]
    pub port: Spanned<u16>,
}

/// A Kubernetes distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// k3s.
    K3s,
    /// RKE2.
    Rke2,
    /// Upstream Kubernetes.
    Kubernetes,
}

/// A Kubernetes cluster.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The distribution.
    pub distribution: Spanned<Distribution>,
    /// The control-plane nodes.
    pub servers: Spanned<Vec<NodeRef>>,
    /// The worker nodes.
    #[serde(default)]
    pub agents: Vec<NodeRef>,
    /// The namespace the estate's workloads go to (`namespace = "apps"`), or the namespaces the
    /// cluster holds, each with its quota, limits and pod-security level
    /// (`namespace team-a { … }`). Default: `default`.
    #[schemars(extend("default" = "default"))]
    pub namespace: Option<Spanned<ClusterNamespaces>>,
    /// The join token shared by the cluster's nodes; needed as soon as a second node joins.
    pub token: Option<Spanned<SecretRef>>,
    /// The most the estate's workloads may request in the namespace, in total.
    pub quota: Option<Spanned<Quota>>,
    /// Per-container defaults and ceilings in the namespace.
    pub limits: Option<Spanned<ContainerLimits>>,
    /// The Kubernetes version the cluster runs, `MAJOR.MINOR` (`"1.29"`): every object generated
    /// for it must exist there.
    pub version: Option<Spanned<String>>,
    /// Objects no kind covers, by name, written as given: `manifest NAME { namespace, body { … } }`.
    #[serde(default)]
    pub manifest: IndexMap<String, Spanned<super::files::Manifest>>,
}

/// A namespace's total budget (a Kubernetes `ResourceQuota`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// CPU requested, in total: cores (`8`) or millicores (`7500m`).
    pub cpu: Option<Spanned<Cpu>>,
    /// Memory requested, in total.
    pub memory: Option<Spanned<Size>>,
    /// Pods.
    pub pods: Option<Spanned<u32>>,
    /// Persistent volume claims.
    pub volumes: Option<Spanned<u32>>,
    /// Storage requested by volume claims, in total.
    pub storage: Option<Spanned<Size>>,
}

/// Per-container defaults and ceilings (a Kubernetes `LimitRange`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerLimits {
    /// What a container that declares no resources gets.
    pub default: Option<Spanned<ContainerBudget>>,
    /// The most one container may have.
    pub max: Option<Spanned<ContainerBudget>>,
}

/// CPU, memory and GPUs of one container, as a `LimitRange` counts them (no GPU model or memory:
/// those choose nodes, not amounts).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerBudget {
    /// CPU: cores (`2`) or millicores (`500m`).
    pub cpu: Option<Spanned<Cpu>>,
    /// Memory.
    pub memory: Option<Spanned<Size>>,
    /// GPUs.
    pub gpu: Option<Spanned<u32>>,
}

impl ContainerBudget {
    /// The budget as the resources a service would ask for, to compare and write them alike.
    pub fn as_resources(&self) -> Resources {
        Resources {
            cpu: self.cpu.clone(),
            memory: self.memory.clone(),
            gpu: self.gpu.clone(),
            gpu_model: None,
            gpu_memory: None,
        }
    }
}

/// Storage for state: a ZFS dataset on a node or a volume on a cluster.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Where the storage lives.
    pub on: Spanned<PlacementRef>,
    /// The namespace of its cluster it is in. Default: the cluster's only namespace.
    pub namespace: Option<Spanned<String>>,
    /// A ZFS dataset of one of the node's pools.
    pub zfs: Option<Spanned<ZfsDataset>>,
    /// A persistent volume on a cluster.
    pub volume: Option<Spanned<Volume>>,
    /// A plain directory of the node, by absolute path (`"/srv/ipfs"`), for a host without ZFS:
    /// created if missing, mounted into the services that use it, copied by restic like a dataset.
    pub directory: Option<Spanned<String>>,
    /// What its data is: `state` (the only copy, which backups keep) or `cache` (rebuilt from
    /// elsewhere: nothing to back up, and a backup of it is E0741). Default: `state`.
    #[schemars(extend("default" = "state"))]
    pub holds: Option<Spanned<Holds>>,
}

/// What a storage's data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Holds {
    /// The only copy of its data: a backup should cover it (W0603 otherwise).
    State,
    /// Data rebuilt from elsewhere (a cache in front of a database, an object store's local
    /// copy): no backup covers it, and none may (E0741).
    Cache,
}

/// A ZFS dataset.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZfsDataset {
    /// The pool's name.
    pub pool: Spanned<String>,
    /// The dataset path inside the pool.
    pub dataset: Spanned<String>,
    /// The quota.
    pub quota: Option<Spanned<Size>>,
    /// The record size.
    pub recordsize: Option<Spanned<Size>>,
    /// The compression algorithm. Default: `lz4`.
    #[schemars(extend("default" = "lz4"))]
    pub compression: Option<Spanned<Compression>>,
    /// Where the dataset is mounted. Default: `/<pool>/<dataset>`.
    pub mountpoint: Option<Spanned<String>>,
}

/// A ZFS compression algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// No compression.
    Off,
    /// LZ4.
    Lz4,
    /// Zstandard.
    Zstd,
    /// gzip.
    Gzip,
}

/// A persistent volume claim on a cluster.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// The requested size.
    pub size: Spanned<Size>,
    /// The storage class. Default: the cluster's default class.
    pub class: Option<Spanned<String>>,
    /// The access mode. Default: `read-write-once`.
    #[schemars(extend("default" = "read-write-once"))]
    pub access: Option<Spanned<AccessMode>>,
}

/// A volume access mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessMode {
    /// One node reads and writes.
    ReadWriteOnce,
    /// Many nodes read.
    ReadOnlyMany,
    /// Many nodes read and write.
    ReadWriteMany,
}

/// A long-running workload.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Where it runs.
    pub on: Spanned<PlacementRef>,
    /// The container image, `repository:tag`; a service without one is provided by its preset's
    /// target payloads.
    pub image: Option<Spanned<String>>,
    /// The number of instances. Default: 1.
    #[schemars(range(min = 0), extend("default" = 1))]
    pub replicas: Option<Spanned<u32>>,
    /// The arguments passed to the image's entry point.
    #[serde(default)]
    pub args: Vec<Spanned<Template>>,
    /// What this service needs: services, started first, and the external buckets and endpoints
    /// it uses.
    #[serde(default)]
    pub needs: Vec<NeedRef>,
    /// Environment variables; secrets are references, never literals.
    #[serde(default)]
    pub env: IndexMap<String, Spanned<EnvValue>>,
    /// Named ports.
    #[serde(default)]
    pub ports: IndexMap<String, Spanned<Port>>,
    /// The ports reachable from outside the host or cluster, and by whom: `[swarm]` opens to the
    /// public; `{ swarm = public, api = network.mesh, grpc = cluster }` names each port's audience
    /// (the public, a network's members, the pods of the node's clusters). Ports the services
    /// that `needs` this one use are opened to exactly those services' side without being listed.
    #[serde(default)]
    pub expose: super::Expose,
    /// The namespace of its cluster it runs in. Default: the cluster's only namespace.
    pub namespace: Option<Spanned<String>>,
    /// Routes by host name and path to its ports, by name: `ingress web { host, path, port, tls }`.
    #[serde(default)]
    pub ingress: IndexMap<String, Spanned<Ingress>>,
    /// Its access to the Kubernetes API on a cluster, by rule name: `access pods { resources, verbs }`.
    #[serde(default)]
    pub access: IndexMap<String, Spanned<super::access::Access>>,
    /// The secret holding the registry credentials its image is pulled with (a Docker config).
    pub pull_secret: Option<Spanned<SecretRef>>,
    /// Mount path to storage.
    #[serde(default)]
    pub volumes: IndexMap<String, StorageRef>,
    /// Configuration files mounted read-only into the service, by absolute path: text, or
    /// `yaml { … }` or `json { … }` data.
    #[serde(default)]
    pub files: IndexMap<String, Spanned<super::files::FileContent>>,
    /// Grafana dashboards about the service: JSON files of the estate, by path relative to the
    /// estate's folder (`dashboards/api.json`), provisioned into every Grafana on a NixOS node,
    /// or, for a service on a cluster, as ConfigMaps Grafana's dashboard sidecar loads.
    #[serde(default)]
    pub dashboards: Vec<Spanned<String>>,
    /// How to tell the service is healthy.
    pub health: Option<Spanned<super::Health>>,
    /// Where the service exports Prometheus metrics.
    pub metrics: Option<Spanned<Metrics>>,
    /// CPU and memory the service needs.
    pub resources: Option<Spanned<Resources>>,
    /// Alerts that belong to the service, by name (presets bring some).
    #[serde(default)]
    pub alert: IndexMap<String, Spanned<Alert>>,
    /// NixOS options merged into the module of the service's node, by option path.
    pub nixos: Option<Spanned<IndexMap<String, Payload>>>,
    /// The systemd unit that stands for the service on NixOS when its `nixos { … }` options run
    /// it (`postgresql.target`, `redis-cache.service`): containers on the same node that need the
    /// service are ordered after it and require it. Presets set it beside their `nixos` options,
    /// because only they know which unit the module they enable starts.
    pub nixos_unit: Option<Spanned<String>>,
    /// How the service's `nixos { … }` options open it to a peer on another node or in a cluster
    /// (presets set it beside their `nixos` options, because only they know the module's options).
    pub nixos_peers: Option<Spanned<NixosPeers>>,
    /// A Helm chart that deploys the service on a cluster instead of the generic chart.
    pub helm: Option<Spanned<HelmChart>>,
    /// Why the service has no form on a Kubernetes cluster, for a preset that runs it on hosts only
    /// (`std.redis.cluster`): placed on a cluster it is E1280, with this reason, rather than a
    /// workload that would start and not work.
    pub cluster_refusal: Option<Spanned<String>>,
    /// systemd unit settings merged into the service's unit, by section.
    pub systemd: Option<Spanned<IndexMap<String, Payload>>>,
    /// How its data is dumped for a backup whose `source` is the service (presets set it).
    pub dump: Option<Spanned<super::Dump>>,
    /// The URL scheme its clients use (`postgres`, `nats`), for `service.NAME.url`. Default: the
    /// name of its first port.
    pub scheme: Option<Spanned<String>>,
    /// How a new version replaces the running one on a cluster: `rolling { surge, unavailable }`,
    /// `blue-green { active }` or `canary { steps }`.
    pub rollout: Option<Spanned<super::Rollout>>,
    /// How many pods voluntary disruptions may take at once on a cluster (a disruption budget).
    pub disruption: Option<Spanned<super::Disruption>>,
    /// Bounds within which a cluster scales the replicas with the load.
    pub autoscale: Option<Spanned<super::Autoscale>>,
    /// How much the estate depends on it: priority, fewest replicas and alert severity.
    pub tier: Option<Spanned<super::Tier>>,
    /// What its container may do on the host: `security { privileged, capabilities { add, drop },
    /// host_network, host_pid }` (agents such as eBPF probes).
    pub security: Option<Spanned<super::Security>>,
    /// Its replicas as the members of one cluster of their own (presets set it): how many, the
    /// ports they reach each other on, their arguments as replicas, the list of members they are
    /// given and the one-shot that forms them (`std.nats.cluster`, `std.redis.cluster`).
    pub members: Option<Spanned<super::Members>>,
}

impl Service {
    /// The number of instances (default 1, or the number of members its replicas are).
    pub fn replicas(&self) -> u32 {
        let members = || self.members.as_ref().map(|m| m.value.size());
        self.replicas.as_ref().map(|r| r.value).or_else(members).unwrap_or(1)
    }

    /// The services among `needs` (the rest are external buckets and endpoints, which no target
    /// starts or reaches).
    pub fn needed_services(&self) -> impl Iterator<Item = &NeedRef> {
        self.needs.iter().filter(|n| n.kind == "service")
    }
}

/// How a NixOS module lets peers in: the option of the addresses it listens on, and the option of
/// lines admitting each peer (PostgreSQL's `pg_hba`); `nixos_peers {}` for a module that listens
/// on every address and has no access rules of its own. The back end fills both from the estate's
/// `needs` and `expose`, so the module listens on the node's address on the peers' network and
/// admits exactly their addresses.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NixosPeers {
    /// The option holding the addresses the service listens on (loopback first, then the node's
    /// address on each network a peer reaches it by). Without one the module already listens on
    /// every address and the firewall alone admits the peers.
    pub listen: Option<Spanned<String>>,
    /// The separator the option joins addresses with (`","`); without one the option is a list.
    pub separator: Option<Spanned<String>>,
    /// The option, of lines, that admits peers.
    pub admit: Option<Spanned<String>>,
    /// One line of `admit` per peer, with `{peer}` standing for the peer's address range
    /// (`host all all {peer} scram-sha-256`).
    pub entry: Option<Spanned<String>>,
}

/// The value of an environment variable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    /// Plain text.
    Text(String),
    /// A number.
    Number(i64),
    /// A flag.
    Flag(bool),
    /// Where a needed service is (`service.db.host`, `.port`, `.url`), resolved per target.
    Endpoint(Endpoint),
    /// A secret, injected by the target's secret mechanism.
    Secret(SecretRef),
    /// Text holding where services are (`"${service.loki.url}/loki/api/v1/push"`), filled by
    /// each target as it fills a whole `Endpoint`.
    Template(Template),
}

impl EnvValue {
    /// Where services are that this value reads: a whole endpoint, or a template's holes.
    pub fn endpoints(&self) -> Vec<&Endpoint> {
        match self {
            EnvValue::Endpoint(endpoint) => vec![endpoint],
            EnvValue::Template(template) => template.holes().collect(),
            _ => Vec::new(),
        }
    }

    /// The value as text, with where services are filled by `resolve`: `None` for a secret,
    /// which has no text the spec may write; `Some(Err)` when a place has no value (E0625).
    pub fn text(&self, mut resolve: impl FnMut(&Endpoint) -> Result<String, String>) -> Option<Result<String, String>> {
        Some(match self {
            EnvValue::Text(text) => Ok(text.clone()),
            EnvValue::Number(n) => Ok(n.to_string()),
            EnvValue::Flag(b) => Ok(b.to_string()),
            EnvValue::Endpoint(endpoint) => resolve(endpoint),
            EnvValue::Template(template) => template.fill(resolve),
            EnvValue::Secret(_) => return None,
        })
    }
}

/// Where a service exports metrics.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// The port's name.
    pub port: Spanned<LocalName>,
    /// The path. Default: `/metrics`.
    #[schemars(extend("default" = "/metrics"))]
    pub path: Option<Spanned<String>>,
    /// The metric names the port serves, each a prefix (`pg_`) or a whole name; exporter presets
    /// set it. An alert reading from this service a name none of them starts is W0655. Default:
    /// unknown (the port may serve any name).
    pub provides: Option<Spanned<Vec<String>>>,
}

/// CPU, memory and GPUs a service asks for.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU: cores (`2`) or millicores (`500m`).
    pub cpu: Option<Spanned<Cpu>>,
    /// Memory.
    pub memory: Option<Spanned<Size>>,
    /// GPUs.
    pub gpu: Option<Spanned<u32>>,
    /// The GPU model asked for, as the node declares it (`gpu_model`).
    pub gpu_model: Option<Spanned<String>>,
    /// The least memory each GPU must have.
    pub gpu_memory: Option<Spanned<Size>>,
}

/// A Helm chart with values.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HelmChart {
    /// The chart: `oci://…` or a repository URL with `name`.
    pub chart: Spanned<String>,
    /// The chart's name in a repository (for non-OCI charts).
    pub name: Option<Spanned<String>>,
    /// The chart version.
    pub version: Option<Spanned<String>>,
    /// The Kubernetes Service the chart puts the service's first port behind, `{release}` standing
    /// for the release name (`"{release}-master"`); by default Helm's full name: the release
    /// name when it holds the chart's name, else `release-chart`.
    pub service: Option<Spanned<String>>,
    /// The labels the pods serving the service's ports carry, `{release}` standing for the release
    /// name, when not the release's `app.kubernetes.io/instance` (pods an operator starts for an
    /// object the chart installs, labelled after that object): what network policies select.
    pub pod_labels: Option<Spanned<IndexMap<String, Spanned<String>>>>,
    /// The containers the chart adds to each of the service's pods (an exporter beside the
    /// server), by name, with what each requests: a namespace quota counts them with the
    /// service's own `resources`, per replica.
    #[serde(default)]
    pub sidecar: IndexMap<String, Spanned<ChartSidecar>>,
    /// The pods the chart runs beside the service's own (read replicas), by name, with how many
    /// and what each requests: a namespace quota counts them too.
    #[serde(default)]
    pub pods: IndexMap<String, Spanned<ChartPods>>,
    /// Whether the chart's pods talk to the cluster's API server (a controller or an operator
    /// the chart installs, which watches and writes objects): where its namespace denies
    /// traffic, its policy lets them out to the API server. Presets of such charts set it.
    /// Default: `false`.
    pub api: Option<Spanned<bool>>,
    /// Values merged under what spec generates.
    #[serde(default)]
    pub values: IndexMap<String, Payload>,
}

/// A container a chart adds to each of the service's pods: what it requests, which the chart's
/// values must give it (the preset sets both).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartSidecar {
    /// Its CPU request.
    pub cpu: Spanned<Cpu>,
    /// Its memory request.
    pub memory: Spanned<Size>,
}

/// Pods a chart runs beside the service's own: how many, and what each requests in all its
/// containers together.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChartPods {
    /// How many (0 runs none); a preset's parameter, as `std.postgres.primary`'s `standbys`.
    pub count: Spanned<u32>,
    /// What one pod requests of CPU, every container's request added up.
    pub cpu: Spanned<Cpu>,
    /// What one pod requests of memory, likewise.
    pub memory: Spanned<Size>,
}

/// Where Istio publishes its charts (`base`, `istiod`, `cni`, `gateway`).
pub const ISTIO_CHARTS: &str = "https://istio-release.storage.googleapis.com/charts";

impl HelmChart {
    /// The name of the chart of Istio's this is (`istiod`, `gateway`), if it is one: the back
    /// ends find the mesh's control plane and its ingress gateway among a cluster's services by it.
    pub fn istio_chart(&self) -> Option<&str> {
        (self.chart.value.trim_end_matches('/') == ISTIO_CHARTS).then_some(self.name.as_ref()?.value.as_str())
    }

    /// The fields of the first tagged record `tag { … }` anywhere in the values (a preset's chart
    /// payload says where its chart takes something with one, such as `backup_command { … }`).
    pub fn tagged(&self, tag: &str) -> Option<&IndexMap<String, Payload>> {
        let mut stack: Vec<&Payload> = self.values.values().rev().collect();
        while let Some(value) = stack.pop() {
            match value {
                Payload::Tagged(name, fields) if name == tag => return Some(fields),
                Payload::Map(map) | Payload::Tagged(_, map) => stack.extend(map.values().rev()),
                Payload::List(items) => stack.extend(items.iter().rev()),
                _ => {}
            }
        }
        None
    }
}

/// An alert's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Page someone.
    Critical,
    /// Look soon.
    Warning,
    /// For the record.
    Info,
}

/// A Prometheus alert.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// How urgent it is.
    pub severity: Spanned<Severity>,
    /// The PromQL condition.
    pub expr: Spanned<String>,
    /// How long the condition must hold before the alert fires. Default: 0s.
    #[serde(rename = "for")]
    pub pending_for: Option<Spanned<Duration>>,
    /// A one-line summary (Prometheus template syntax allowed).
    pub summary: Option<Spanned<String>>,
    /// A longer description.
    pub description: Option<Spanned<String>>,
    /// Extra labels.
    #[serde(default)]
    pub labels: IndexMap<String, Spanned<String>>,
}

/// A scheduled chain of steps.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// Where it runs.
    pub on: Spanned<PlacementRef>,
    /// A cron schedule (`0 3 * * *`).
    pub schedule: Option<Spanned<String>>,
    /// The steps, by name.
    pub step: Spanned<IndexMap<String, Spanned<Step>>>,
    /// Whether a run its schedule starts may overlap the last one still going: `forbid` (skip
    /// it), `replace` (stop the last) or `allow` (a cluster only). Default: `forbid`.
    #[schemars(extend("default" = "forbid"))]
    pub concurrency: Option<Spanned<super::Concurrency>>,
}

/// One step of a workflow.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The container image.
    pub image: Spanned<String>,
    /// The arguments.
    #[serde(default)]
    pub args: Vec<Spanned<Template>>,
    /// Steps that must succeed first, and services that must be up (placed where the workflow
    /// runs), which the step reaches.
    #[serde(default)]
    pub needs: Vec<StepNeedRef>,
    /// How often a failed run is retried. Default: 0.
    #[schemars(extend("default" = 0))]
    pub retries: Option<Spanned<u32>>,
    /// How long a run may take.
    pub timeout: Option<Spanned<Duration>>,
    /// Environment variables.
    #[serde(default)]
    pub env: IndexMap<String, Spanned<EnvValue>>,
}

impl Step {
    /// The steps among `needs`.
    pub fn needed_steps(&self) -> impl Iterator<Item = &StepNeedRef> {
        self.needs.iter().filter(|n| n.kind == "step")
    }

    /// The services among `needs`.
    pub fn needed_services(&self) -> impl Iterator<Item = &StepNeedRef> {
        self.needs.iter().filter(|n| n.kind == "service")
    }
}

impl Storage {
    /// Whether its data is a cache, rebuilt from elsewhere (`holds = cache`).
    pub fn is_cache(&self) -> bool {
        self.holds.as_ref().is_some_and(|h| h.value == Holds::Cache)
    }

    /// Where the storage is on its node's file system: a dataset's mount point or a directory.
    pub fn host_path(&self) -> Option<String> {
        match (&self.zfs, &self.directory) {
            (Some(zfs), _) => Some(zfs.value.mountpoint()),
            (None, Some(directory)) => Some(directory.value.clone()),
            (None, None) => None,
        }
    }
}

impl ZfsDataset {
    /// Where the dataset is mounted: its `mountpoint`, or `/<pool>/<dataset>`.
    pub fn mountpoint(&self) -> String {
        match &self.mountpoint {
            Some(mountpoint) => mountpoint.value.clone(),
            None => format!("/{}/{}", self.pool.value, self.dataset.value),
        }
    }
}
