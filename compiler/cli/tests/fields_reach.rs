//! The invariant of issue 16: every field either reaches each target it concerns or is refused
//! there with a diagnostic at the field, never dropped in silence.
//!
//! The test walks every kind's schema (`model::shape`, so a field added to `model/kinds.rs` is
//! walked without touching this file) and, for every leaf field and every placement its kind can
//! have (a service as a container on NixOS, on a systemd host and on a cluster, run by a preset's
//! NixOS options and by a preset's chart, …), compiles a small valid estate through the real back
//! ends twice: once without the field (or with one value), once with it set to a value of its
//! schema type (another value). The field *reached* when the generated files differ; it was
//! *refused* when an error, or a back end's "not generated" warning, points at it. Anything else
//! is a silent drop and fails the test, as does a value the test cannot make valid (a mistake of
//! the test, not of the compiler).
//!
//! The tested block is written on one line, so the provenance comments (`# from main.spec:12`) of
//! both estates are the same. Fields that concern no target in a placement are listed in
//! [`NO_TARGET`] with a reason each; an entry naming no field of the schema, or a field that does
//! reach there, fails the test, so the list stays true.

mod fields;

use std::collections::BTreeSet;

use fields::placements::{CONTEXT, Placement, placements};
use fields::schema::{self, Field, Level};
use spec_compiler::diagnostics::Severity;
use spec_compiler::model::Kind;
use spec_compiler::model::shape::{Form, Object, Shapes, kind_shapes};

/// Values the type alone cannot make valid: `(kind.path, first, second)`.
const VALUES: &[(&str, &str, &str)] = &[
    ("network.wireguard.cidr", "10.9.0.0/24", "10.9.0.0/16"),
    ("network.members", "[node.w1, node.w2]", "[node.w1]"),
    // Dashboards the estate holds (`fields::DASHBOARDS`), as the CLI reads them beside the spec.
    ("service.dashboards", "[\"a.json\"]", "[\"b.json\"]"),
    ("cluster.agents", "[node.t2]", "[node.t2]"),
    ("cluster.servers", "[node.t1]", "[node.t2]"),
    ("backup.offsite.restic.repository", "\"s3:https://s3.example.com/a\"", "\"s3:https://s3.example.com/b\""),
    // Objectives the placements' daily copies meet, so they are not refused for that (E0610).
    ("backup.rpo", "2d", "3d"),
    ("backup.offsite.restic.rpo", "2d", "3d"),
    ("backup.replicate.to", "node.n3", "node.n4"),
    ("backup.replicate.dataset", "\"tank/a\"", "\"tank/b\""),
    ("storage.zfs.pool", "\"tank\"", "\"spare\""),
    ("storage.zfs.dataset", "\"a\"", "\"b\""),
    ("service.systemd", "{ Service { Restart = \"always\" } }", "{ Service { Restart = \"on-failure\" } }"),
    // An option no back end sets (agenix secrets enable SSH on their node).
    ("service.nixos", "{ \"programs.mtr.enable\" = true }", "{ \"programs.mtr.enable\" = false }"),
    ("secret.vault.address", "\"https://vault.example.com\"", "\"https://vault.example.org\""),
    ("secret.vault.path", "\"secret/data/a\"", "\"secret/data/b\""),
    ("secret.nixos.existing.path", "\"/run/keys/a\"", "\"/run/keys/b\""),
    ("bucket.lifecycle.expire", "90d", "180d"),
    // Classes read at once: a copy to the bucket where objects move to Glacier is E0745.
    ("bucket.lifecycle.transition", "[{ after = 30d, to = glacier-ir }]", "[{ after = 60d, to = glacier-ir }]"),
    // A route's host is a DNS name (E0635), its path a path.
    ("service.ingress.*.host", "\"a.example.com\"", "\"b.example.com\""),
    ("service.ingress.*.path", "\"/a\"", "\"/b\""),
    // The model the context's GPU nodes have (another would be refused, E0639).
    ("service.resources.gpu_model", "\"M-A\"", "\"M-A\""),
    // An ACME directory on a NixOS node (a name there is E1174), a `ClusterIssuer` on a cluster.
    ("service.ingress.*.tls.issuer", "\"https://acme.example.com/a\"", "\"https://acme.example.com/b\""),
    // Kubernetes verbs (others are E0680), and registry credentials kept as a Docker config (E1250).
    ("service.access.*.verbs", "[\"get\"]", "[\"list\"]"),
    ("service.pull_secret", "secret.reg1", "secret.reg2"),
    ("slo.objective", "\"99.9%\"", "\"99.5%\""),
    ("slo.window", "30d", "28d"),
    ("slo.service", "service.api", "service.api2"),
    (
        "slo.good",
        "\"http_requests_total{job=\\\"api\\\", code!~\\\"5..\\\"}\"",
        "\"http_requests_total{job=\\\"api2\\\", code!~\\\"5..\\\"}\"",
    ),
    ("slo.total", "\"http_requests_total{job=\\\"api\\\"}\"", "\"http_requests_total{job=\\\"api2\\\"}\""),
    (
        "slo.latency",
        "\"http_request_duration_seconds{job=\\\"api\\\"}\"",
        "\"http_request_duration_seconds{job=\\\"api2\\\"}\"",
    ),
    ("slo.below", "100ms", "250ms"),
    ("service.files", "{ \"/etc/t/a.conf\" = \"a\" }", "{ \"/etc/t/a.conf\" = \"b\" }"),
    (
        "cluster.manifest.*.body",
        "{ apiVersion = \"v1\", kind = \"ConfigMap\", metadata { name = \"a\" } }",
        "{ apiVersion = \"v1\", kind = \"ConfigMap\", metadata { name = \"b\" } }",
    ),
    ("cluster.version", "\"1.29\"", "\"1.30\""),
    // Tiers a placement's single replica meets (`critical` and `high` ask for two, E0674).
    ("service.tier", "normal", "low"),
    ("service.rollout.canary.steps", "[\"50%\"]", "[\"50%\", \"100%\"]"),
    // Host-level settings: a NixOS option, capabilities Linux has (others are E0732), a plain
    // absolute directory (others are E0733), a concurrency every host and cluster gives.
    ("node.nixos", "{ \"security.auditd.enable\" = true }", "{ \"security.auditd.enable\" = false }"),
    ("service.security.capabilities.add", "[\"NET_ADMIN\"]", "[\"SYS_ADMIN\"]"),
    ("service.security.capabilities.drop", "[\"ALL\"]", "[\"NET_RAW\"]"),
    ("storage.directory", "\"/srv/a\"", "\"/srv/b\""),
    ("workflow.concurrency", "forbid", "replace"),
];

/// Optional fields required unless another is written (`kind.path`, the other's key): the
/// estate without the field keeps its first value, as for a required field.
const REQUIRED_UNLESS: &[(&str, &str)] =
    &[("backup.offsite.restic.repository", "bucket"), ("backup.offsite.restic.bucket", "repository")];

/// Optional entries written beside a tested field of a record (`kind.path` of the record, the
/// kind's name for its top level), so the record is valid where a back end needs them (a
/// replica's SSH key on NixOS), or so the field has what it acts on (an RTO, the restore test it
/// limits). [`Beside`] says beside which tested fields.
const COMPANIONS: &[(&str, &str, &str, Beside)] = &[
    // A one-key secret's backend names its key (E0753 without it; only a secret with `keys` omits it).
    ("secret.k8s.existing", "key", "key = \"value\"", Beside::Any),
    ("secret.k8s.external", "key", "key = \"value\"", Beside::Any),
    ("secret.vault", "key", "key = \"value\"", Beside::Any),
    ("backup.replicate", "key", "key = secret.s1", Beside::Any),
    (
        "backup.replicate",
        "public_key",
        "public_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGeneratedKeyForTheTest spec\"",
        Beside::Any,
    ),
    ("backup.offsite.restic", "credentials", "credentials = secret.s2", Beside::Any),
    // A copy writes to a repository or to a path in a bucket, exactly one of the two (E0637).
    (
        "backup.offsite.restic",
        "repository",
        "repository = \"s3:https://s3.example.com/t\"",
        Beside::Unless(&["bucket", "path"]),
    ),
    ("backup.offsite.restic", "bucket", "bucket = bucket.b1", Beside::Only(&["path"])),
    ("backup", "verify", "verify = weekly", Beside::Only(&["rto"])),
    // A GPU model and memory describe GPUs (E0642 without a count).
    ("service.resources", "gpu", "gpu = 1", Beside::Only(&["gpu_model", "gpu_memory"])),
    ("node", "gpu", "gpu = 2", Beside::Only(&["gpu_model", "gpu_memory"])),
    // TLS on a NixOS node needs the ACME account's email (E1170).
    ("service.ingress.*.tls", "email", "email = \"ops@example.com\"", Beside::Any),
    // A cluster's route needs its issuer (E1270), which a NixOS node takes as an ACME directory.
    ("service.ingress.*.tls", "issuer", "issuer = \"https://acme.example.com/t\"", Beside::Only(&["email"])),
    // `concurrency` governs the runs a schedule starts (E0736 without one).
    ("workflow", "schedule", "schedule = \"0 3 * * *\"", Beside::Only(&["concurrency"])),
];

/// Beside which tested fields of its record a companion is written.
enum Beside {
    /// Every field but itself.
    Any,
    /// Every field but itself and these, which it would contradict.
    Unless(&'static [&'static str]),
    /// These fields only.
    Only(&'static [&'static str]),
}

impl Beside {
    fn admits(&self, tested: &str) -> bool {
        match self {
            Beside::Any => true,
            Beside::Unless(fields) => !fields.contains(&tested),
            Beside::Only(fields) => fields.contains(&tested),
        }
    }
}

/// The companions of the record `record` beside the tested field `tested`.
fn companions<'c>(record: &'c str, tested: &'c str) -> impl Iterator<Item = String> + 'c {
    COMPANIONS
        .iter()
        .filter(move |(r, key, _, beside)| *r == record && *key != tested && beside.admits(tested))
        .map(|(_, _, entry, _)| entry.to_string())
}

/// Fields that concern no target in a placement (`*`: any), with why.
const NO_TARGET: &[(&str, &str, &str)] = &[
    ("node.cpu", "*", "capacity: what is placed on the node is checked against it (E0608)"),
    ("node.memory", "*", "capacity: what is placed on the node is checked against it (E0608)"),
    ("node.gpu", "*", "capacity: the GPUs services ask for are checked against it; drivers are the host's own"),
    ("node.gpu_model", "*", "capacity: the GPU models services ask for are checked against it (E0639)"),
    ("node.gpu_memory", "*", "capacity: the GPU memory services ask for is checked against it (E0639)"),
    ("node.disk", "*", "documentation of the node's disks; pools name their devices in `zpool.disks`"),
    (
        "node.arch",
        "systemd",
        "a host that is not NixOS installs its own system; podman pulls each image for the host's architecture",
    ),
    (
        "service.helm.pods",
        "cluster-chart",
        "counted by the namespace's quota (E0621); the chart's own values run those pods",
    ),
    (
        "service.helm.sidecar",
        "cluster-chart",
        "counted by the namespace's quota (E0621); the chart's own values run those containers",
    ),
    (
        "service.helm.api",
        "cluster-chart",
        "lets the chart's pods out to the API server in the policies of a namespace that denies traffic, which this placement's is not",
    ),
    (
        "service.helm.pod_labels",
        "cluster-chart",
        "selects the chart's pods in the policies of a namespace that denies traffic, which this placement's is not",
    ),
    ("node.zpool.*.layout", "*", "pools are imported by name, never created (`zpool create` wipes its disks)"),
    ("node.zpool.*.disks", "*", "pools are imported by name, never created (`zpool create` wipes its disks)"),
    ("node.zpool.*.size", "*", "capacity: the datasets' quotas are checked against it (E0609)"),
    (
        "node.address",
        "systemd",
        "a host that is not NixOS keeps its own addressing; the address is where peers reach it",
    ),
    (
        "node.endpoint",
        "systemd",
        "a host that is not NixOS keeps its own addressing; the endpoint is where peers reach it",
    ),
    ("service.helm", "nixos", "a chart deploys the service on a cluster only"),
    ("service.helm", "systemd", "a chart deploys the service on a cluster only"),
    ("service.helm", "nixos-dumped", "a chart deploys the service on a cluster only"),
    ("service.helm", "systemd-dumped", "a chart deploys the service on a cluster only"),
    (
        "service.helm",
        "nixos-preset",
        "a chart deploys the service on a cluster only (the preset brings one for that placement)",
    ),
    ("service.dump", "nixos", "read by a backup of the service only (placement `nixos-dumped`)"),
    ("service.dump", "systemd", "read by a backup of the service only (placement `systemd-dumped`)"),
    (
        "service.dump",
        "cluster",
        "read by a backup of the service only, refused on a cluster at the backup's `source` (W1201)",
    ),
    ("service.dump", "nixos-preset", "read by a backup of the service only (placement `nixos-dumped`)"),
    (
        "service.dump",
        "cluster-chart",
        "read by a backup of the service only, refused on a cluster at the backup's `source` (W1201)",
    ),
    (
        "service.metrics.provides",
        "*",
        "what the metrics port serves, which the graph checks the alerts reading it against (W0655); no target configures it",
    ),
    (
        "service.resources.gpu_model",
        "nixos",
        "chooses the node: a container gets the devices of its node, whose GPU model is checked (E0639)",
    ),
    (
        "service.resources.gpu_model",
        "systemd",
        "chooses the node: a container gets the devices of its node, whose GPU model is checked (E0639)",
    ),
    (
        "service.resources.gpu_model",
        "nixos-dumped",
        "chooses the node: a container gets the devices of its node, whose GPU model is checked (E0639)",
    ),
    (
        "service.resources.gpu_model",
        "systemd-dumped",
        "chooses the node: a container gets the devices of its node, whose GPU model is checked (E0639)",
    ),
    (
        "service.resources.gpu_memory",
        "nixos",
        "chooses the node: a container gets the devices of its node, whose GPU memory is checked (E0639)",
    ),
    (
        "service.resources.gpu_memory",
        "systemd",
        "chooses the node: a container gets the devices of its node, whose GPU memory is checked (E0639)",
    ),
    (
        "service.resources.gpu_memory",
        "nixos-dumped",
        "chooses the node: a container gets the devices of its node, whose GPU memory is checked (E0639)",
    ),
    (
        "service.resources.gpu_memory",
        "systemd-dumped",
        "chooses the node: a container gets the devices of its node, whose GPU memory is checked (E0639)",
    ),
    ("service.nixos", "systemd", "NixOS options configure a NixOS node only"),
    ("service.nixos", "systemd-dumped", "NixOS options configure a NixOS node only"),
    ("service.nixos", "cluster", "NixOS options configure a NixOS node only"),
    (
        "service.nixos",
        "cluster-chart",
        "NixOS options configure a NixOS node only (the preset brings them for that placement)",
    ),
    (
        "service.nixos_unit",
        "*",
        "names the unit a service's NixOS options start, for containers that need it (tested by the preset)",
    ),
    (
        "service.cluster_refusal",
        "*",
        "a preset's reason for having no form on a cluster: placed there the service is E1280 with it (specs/targets/kubernetes)",
    ),
    (
        "service.members",
        "nixos",
        "a node runs one member of a cluster of services (`size = 1`, which changes nothing there); members as replicas there are E0705 (specs/graph)",
    ),
    (
        "service.members",
        "nixos-dumped",
        "a node runs one member of a cluster of services (`size = 1`, which changes nothing there); members as replicas there are E0705 (specs/graph)",
    ),
    (
        "service.members",
        "systemd",
        "a node runs one member of a cluster of services (`size = 1`, which changes nothing there); members as replicas there are E0705 (specs/graph)",
    ),
    (
        "service.members",
        "nixos-preset",
        "a node runs one member of a cluster of services (`size = 1`, which changes nothing there); members as replicas there are E0705 (specs/graph)",
    ),
    (
        "service.members",
        "systemd-dumped",
        "a node runs one member of a cluster of services (`size = 1`, which changes nothing there); members as replicas there are E0705 (specs/graph)",
    ),
    ("service.nixos_peers", "nixos", "how NixOS options let peers in; a container is let in by its published ports"),
    ("service.nixos_peers", "systemd", "how NixOS options let peers in, on a NixOS node only"),
    (
        "service.nixos_peers",
        "nixos-dumped",
        "how NixOS options let peers in; a container is let in by its published ports",
    ),
    ("service.nixos_peers", "systemd-dumped", "how NixOS options let peers in, on a NixOS node only"),
    ("service.nixos_peers", "cluster", "how NixOS options let peers in, on a NixOS node only"),
    ("service.nixos_peers", "cluster-chart", "how NixOS options let peers in, on a NixOS node only"),
    (
        "service.ports",
        "cluster-chart",
        "a chart serves its own ports; `ports` only name them for `needs`, `expose`, endpoints, `health` and `metrics` (a port added after the preset's first is read by none of these here)",
    ),
    (
        "storage.holds",
        "systemd",
        "whether a backup is asked for (W0603) and allowed (E0741); a host's dataset is made by hand here (W1401)",
    ),
    (
        "storage.holds",
        "cluster",
        "whether a backup is asked for (W0603) and allowed (E0741): k8up copies only the claims a backup selects",
    ),
    (
        "storage.holds",
        "nixos-directory",
        "whether a backup is asked for (W0603) and allowed (E0741): a directory has no snapshots to leave out",
    ),
    (
        "storage.holds",
        "systemd-directory",
        "whether a backup is asked for (W0603) and allowed (E0741): a directory has no snapshots to leave out",
    ),
    (
        "bucket.lifecycle",
        "*",
        "the provider's own rules, which no target configures: checked against the copies' `keep` (E0651) and the repositories a move to Glacier breaks (E0745)",
    ),
    (
        "endpoint.url",
        "*",
        "a service the estate does not run: no target configures it, its users are given the URL in their own `env`",
    ),
    (
        "endpoint.credentials",
        "*",
        "whose secret it is, an edge of the estate graph (`spec graph`): its users are given the secret in their own `env`",
    ),
    (
        "secret.vault",
        "systemd",
        "Vault serves NixOS nodes and clusters only: other hosts keep their `systemd` backend (no Vault agent is generated for them)",
    ),
    ("secret.nixos", "systemd", "a NixOS backend serves NixOS nodes only"),
    ("secret.nixos", "cluster", "a NixOS backend serves NixOS nodes only"),
    ("secret.systemd", "nixos", "a systemd credential serves hosts that are not NixOS only"),
    ("secret.systemd", "cluster", "a systemd credential serves hosts that are not NixOS only"),
    (
        "service.tier",
        "nixos",
        "sets the severity of the alerts generated for the service, which this placement's service (no `metrics`, no probed health check) does not get; its priority class and replica minimum are a cluster's",
    ),
    (
        "service.tier",
        "systemd",
        "sets the severity of the alerts generated for the service, which this placement's service (no `metrics`, no probed health check) does not get; its priority class and replica minimum are a cluster's",
    ),
    (
        "service.tier",
        "nixos-dumped",
        "sets the severity of the alerts generated for the service, which this placement's service (no `metrics`, no probed health check) does not get; its priority class and replica minimum are a cluster's",
    ),
    (
        "service.tier",
        "systemd-dumped",
        "sets the severity of the alerts generated for the service, which this placement's service (no `metrics`, no probed health check) does not get; its priority class and replica minimum are a cluster's",
    ),
    ("secret.k8s", "nixos", "a Kubernetes backend serves clusters only"),
    ("secret.k8s", "systemd", "a Kubernetes backend serves clusters only"),
    (
        "cluster.version",
        "systemd",
        "checks only on hosts that are not NixOS (which install k3s themselves): every object written for the cluster is checked against the version (E1260, E1261)",
    ),
];

/// The references the test's estate holds, by the kinds a field may name.
fn references(kinds: &[&str]) -> Option<(String, String)> {
    let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
    match kinds.first().copied()? {
        "secret" => pair("secret.s1", "secret.s2"),
        "node" => pair("node.n1", "node.n3"),
        "service" => pair("service.peer", "service.peer2"),
        "storage" => pair("storage.data1", "storage.data3"),
        "receiver" => pair("receiver.r1", "receiver.r2"),
        "network" => pair("network.lan", "network.lan"),
        "step" => pair("step.first", "step.first"),
        "bucket" => pair("bucket.b1", "bucket.b2"),
        _ => None,
    }
}

fn value_for(
    shapes: &Shapes<'_>,
    field: &Field,
    node: usize,
    default: Option<&serde_json::Value>,
    path: &str,
    place: &Placement,
) -> Option<(String, String)> {
    let qualified = format!("{}.{path}", field.kind.as_str());
    if let Some((_, a, b)) = VALUES.iter().find(|(p, _, _)| *p == qualified) {
        return Some((a.to_string(), b.to_string()));
    }
    let (a, b) = schema::generated(shapes, node, default, &references)?;
    // A port's name is one of the placement's ports.
    let name = |v: String| match v.as_str() {
        "http" => place.ports.0.to_string(),
        "admin" => place.ports.1.to_string(),
        _ => v,
    };
    Some((name(a), name(b)))
}

/// The entries a record requires, each with its first value, but `except`.
fn required_entries(
    shapes: &Shapes<'_>,
    field: &Field,
    record: usize,
    prefix: &str,
    except: &str,
    place: &Placement,
) -> Option<Vec<String>> {
    let mut entries = Vec::new();
    for (key, property, required) in schema::properties(shapes, record) {
        if !required || key == except {
            continue;
        }
        let path = format!("{prefix}{key}");
        let id = schema::unwrap(shapes, property);
        let text = match &shapes.node(id).form {
            Form::Object(Object::Struct { .. }) => {
                format!(
                    "{key} {{ {} }}",
                    required_entries(shapes, field, id, &format!("{path}."), "", place)?.join(", ")
                )
            }
            Form::Variant(variant) if variant.tagged.iter().any(|(_, inner)| inner.is_some()) => {
                let (tag, inner) = variant.tagged.iter().find_map(|(t, i)| i.map(|i| (*t, i)))?;
                let inner = required_entries(shapes, field, inner, &format!("{path}.{tag}."), "", place)?;
                format!("{key} = {tag} {{ {} }}", inner.join(", "))
            }
            _ => format!(
                "{key} = {}",
                value_for(shapes, field, id, shapes.node(property).json.get("default"), &path, place)?.0
            ),
        };
        entries.push(text);
    }
    Some(entries)
}

/// The entry setting `field` (`resources { cpu = 2 }`) with the leaf's value, or without the leaf
/// when `value` is `None`, and the leaf's byte range within it.
fn entry(
    shapes: &Shapes<'_>,
    field: &Field,
    value: Option<&str>,
    place: &Placement,
) -> Option<(String, Option<(usize, usize)>)> {
    fn level(
        shapes: &Shapes<'_>,
        field: &Field,
        depth: usize,
        prefix: String,
        value: Option<&str>,
        place: &Placement,
    ) -> Option<(String, Option<(usize, usize)>)> {
        let Some(step) = field.steps.get(depth) else {
            return Some(match value {
                Some(v) => {
                    let text = format!("{} = {v}", field.key);
                    let len = text.len();
                    (text, Some((0, len)))
                }
                None => (String::new(), None),
            });
        };
        let (open, prefix) = match &step.level {
            Level::Record => (format!("{} {{ ", step.key), format!("{prefix}{}.", step.key)),
            Level::Tagged(tag) => (format!("{} = {tag} {{ ", step.key), format!("{prefix}{}.{tag}.", step.key)),
            Level::Member => (format!("{} generated {{ ", step.key), format!("{prefix}{}.*.", step.key)),
        };
        let next = field.steps.get(depth + 1).map_or(field.key.as_str(), |s| s.key.as_str());
        let mut parts = required_entries(shapes, field, step.record, &prefix, next, place)?;
        let record = format!("{}.{}", field.kind.as_str(), prefix.trim_end_matches('.'));
        parts.extend(companions(&record, next));
        let (inner, range) = level(shapes, field, depth + 1, prefix, value, place)?;
        let mut text = open;
        let mut leaf = None;
        if !inner.is_empty() {
            parts.push(String::new());
        }
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            if i + 1 == count && !inner.is_empty() {
                leaf = range.map(|(s, e)| (s + text.len(), e + text.len()));
                text.push_str(&inner);
            } else {
                text.push_str(&part);
            }
        }
        text.push_str(" }");
        Some((text, leaf))
    }
    let (text, range) = level(shapes, field, 0, String::new(), value, place)?;
    if !field.steps.is_empty() {
        return Some((text, range));
    }
    // A top-level field's companions are written before it.
    let mut parts: Vec<String> = companions(field.kind.as_str(), &field.key).collect();
    let offset = parts.iter().map(|p| p.len() + 2).sum::<usize>();
    if text.is_empty() {
        return Some((parts.join(", "), None));
    }
    parts.push(text);
    Some((parts.join(", "), range.map(|(s, e)| (s + offset, e + offset))))
}

/// The estate of `place` with the tested block's entries, the leaf's byte range in it when set.
fn estate(place: &Placement, field_entry: Option<FieldEntry<'_>>) -> (String, Option<(usize, usize)>) {
    let mut placed = false;
    let mut leaf = None;
    let mut line = format!("{} t {{ ", place.kind.as_str());
    let mut push = |line: &mut String, text: &str, range: Option<(usize, usize)>| {
        if line.ends_with("{ ") {
        } else {
            line.push_str(", ");
        }
        if let Some((s, e)) = range {
            leaf = Some((s + line.len(), e + line.len()));
        }
        line.push_str(text);
    };
    let member = field_entry.is_some_and(|(key, text, _)| text.starts_with(&format!("{key} generated ")));
    for (key, text) in place.entries {
        match field_entry {
            // Members add to a map; other fields replace the placement's own entry.
            Some((field_key, field_text, range)) if *key == field_key && !member => {
                push(&mut line, field_text, range);
                placed = true;
            }
            _ => push(&mut line, text, None),
        }
    }
    if let Some((_, text, range)) = field_entry.filter(|(_, text, _)| !placed && !text.is_empty()) {
        push(&mut line, text, range);
    }
    line.push_str(" }\n");
    let head = format!("{CONTEXT}{}", place.extra);
    let leaf = leaf.map(|(s, e)| (s + head.len(), e + head.len()));
    (format!("{head}{line}"), leaf)
}

/// The tested entry: its top-level key, its text and the leaf's range in it.
type FieldEntry<'t> = (&'t str, &'t str, Option<(usize, usize)>);

/// What became of one field in one placement.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The generated files differ.
    Reached,
    /// A diagnostic refuses it at the field.
    Refused(String),
    /// Neither: dropped in silence.
    Dropped,
    /// The test could not make a valid estate (its mistake).
    Invalid(String),
}

fn refuses(compiled: &fields::Compiled, range: (usize, usize)) -> Option<String> {
    compiled.diagnostics.iter().find_map(|d| {
        // The primary label, or another label of it, at the field.
        let at_field = std::iter::once(&d.primary).chain(&d.secondary).any(|label| {
            let span = label.span;
            let (s, e) = (span.start as usize, span.end as usize);
            span.file == compiled.file && s < range.1.max(range.0 + 1) && e.max(s + 1) > range.0
        });
        let code = d.code.as_str();
        let number: u32 = code[1..].parse().unwrap_or(0);
        let refusal = d.severity() == Severity::Error || (number >= 1100 && d.severity() == Severity::Warning);
        (at_field && refusal && number >= 600).then(|| format!("{code} {}", d.message))
    })
}

fn errors(compiled: &fields::Compiled) -> String {
    let list: Vec<String> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .map(|d| format!("{} @{}..{} {}", d.code.as_str(), d.primary.span.start, d.primary.span.end, d.message))
        .collect();
    list.join("; ")
}

fn outcome(shapes: &Shapes<'_>, field: &Field, place: &Placement) -> Outcome {
    let Some((first, second)) = value_for(shapes, field, field.node, field.default.as_ref(), &field.path, place) else {
        return Outcome::Invalid("no value of its type: add it to VALUES".into());
    };
    let top = field.steps.first().map_or(field.key.as_str(), |s| s.key.as_str());
    let qualified = format!("{}.{}", field.kind.as_str(), field.path);
    let required = field.required || REQUIRED_UNLESS.iter().any(|(path, _)| *path == qualified);
    let without = if required { Some(first.as_str()) } else { None };
    // A top-level field the placement sets already starts from the placement's value.
    let own = place.entries.iter().find(|(k, _)| *k == top).filter(|_| field.steps.is_empty()).map(|(_, t)| *t);
    let (base_text, _) = match (own, without) {
        (Some(_), _) => estate(place, None),
        (None, _) => {
            let Some((text, range)) = entry(shapes, field, without, place) else {
                return Outcome::Invalid("no required value".into());
            };
            estate(place, Some((top, &text, range)))
        }
    };
    let second = match own {
        Some(text) if text.ends_with(&format!("= {second}")) => first.clone(),
        _ => second,
    };
    let Some((text, range)) = entry(shapes, field, Some(&second), place) else {
        return Outcome::Invalid("no required value".into());
    };
    let (set_text, leaf) = estate(place, Some((top, &text, range)));
    let leaf = leaf.expect("the leaf is placed");
    let base = fields::compile(&base_text);
    let set = fields::compile(&set_text);
    if let Some(refusal) = refuses(&set, leaf) {
        return Outcome::Refused(refusal);
    }
    if base.has_errors() {
        // The record holding the field is refused as a whole, at the field's own entry.
        let entry_range = (leaf.0 - range.map_or(0, |r| r.0), leaf.1);
        if let Some(refusal) = refuses(&base, entry_range) {
            return Outcome::Refused(refusal);
        }
        // Or the record and what the placement's block holds are refused together, on the
        // block's line, where the block alone is not.
        let (bare_text, _) = estate(place, None);
        let line = (base_text.len() - base_text.lines().last().map_or(0, str::len) - 1, base_text.len());
        if let Some(refusal) = refuses(&base, line).filter(|_| refuses(&fields::compile(&bare_text), line).is_none()) {
            return Outcome::Refused(refusal);
        }
        return Outcome::Invalid(format!("without it: {}\n{base_text}", errors(&base)));
    }
    if set.has_errors() {
        return Outcome::Invalid(format!("with it: {}\n{set_text}", errors(&set)));
    }
    if set.files != base.files { Outcome::Reached } else { Outcome::Dropped }
}

#[test]
fn every_field_reaches_each_target_or_is_refused_at_the_field() {
    let placements = placements();
    let mut cases = Vec::new();
    let mut paths = BTreeSet::new();
    for &kind in Kind::ALL {
        let kind_placements: Vec<&Placement> = placements.iter().filter(|p| p.kind == kind).collect();
        assert!(!kind_placements.is_empty(), "no placement for {kind}");
        for field in schema::fields(kind) {
            paths.insert(format!("{kind}.{}", field.path));
            for &place in &kind_placements {
                cases.push((field.clone(), place));
            }
        }
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4);
    let chunk = cases.len().div_ceil(threads);
    let outcomes: Vec<(String, &str, Outcome)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(field, place)| {
                            let shapes = kind_shapes(field.kind);
                            (format!("{}.{}", field.kind, field.path), place.name, outcome(shapes, field, place))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("case thread")).collect()
    });
    let exempt = |path: &str, place: &str| {
        NO_TARGET
            .iter()
            .find(|(p, at, _)| (path == *p || path.starts_with(&format!("{p}."))) && (*at == "*" || *at == place))
    };
    if std::env::var_os("SPEC_FIELDS_VERBOSE").is_some() {
        for (path, place, outcome) in &outcomes {
            eprintln!("{path} in {place}: {outcome:?}");
        }
    }
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    for (path, place, outcome) in &outcomes {
        match (outcome, exempt(path, place)) {
            (Outcome::Dropped, Some(entry)) => {
                used.insert(entry.0);
            }
            (Outcome::Reached, Some(entry)) => {
                failures.push(format!("{path} in {place}: reaches, but NO_TARGET lists it ({})", entry.0))
            }
            (Outcome::Dropped, None) => failures.push(format!("{path} in {place}: dropped in silence")),
            (Outcome::Invalid(why), _) => {
                failures.push(format!("{path} in {place}: the test made no valid estate: {why}"))
            }
            _ => {}
        }
    }
    for (entry, _, _) in NO_TARGET {
        if !paths.iter().any(|p| p == entry || p.starts_with(&format!("{entry}."))) {
            failures.push(format!("NO_TARGET names {entry}, which no kind has"));
        } else if !used.contains(entry) {
            failures.push(format!("NO_TARGET names {entry}, which is never dropped"));
        }
    }
    for (entry, _) in REQUIRED_UNLESS {
        if !paths.contains(*entry) {
            failures.push(format!("REQUIRED_UNLESS names {entry}, which no kind has"));
        }
    }
    for (entry, _, _, _) in COMPANIONS {
        if !paths.iter().any(|p| p.starts_with(&format!("{entry}."))) {
            failures.push(format!("COMPANIONS names {entry}, which no kind has"));
        }
    }
    for (entry, _, _) in VALUES {
        if !paths.contains(*entry) && !paths.iter().any(|p| p.starts_with(&format!("{entry}."))) {
            failures.push(format!("VALUES names {entry}, which no kind has"));
        }
    }
    let reached = outcomes.iter().filter(|o| o.2 == Outcome::Reached).count();
    eprintln!("{} fields, {} cases: {reached} reached", paths.len(), outcomes.len());
    assert!(failures.is_empty(), "{} of {} cases fail:\n{}", failures.len(), outcomes.len(), failures.join("\n"));
}
