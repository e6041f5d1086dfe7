//! Host-level settings and workloads: a node's own NixOS options need a NixOS node (E0730); a
//! service's or job's `security` asks only for what its cluster namespace's Pod Security Standard
//! admits (E0731), names Linux capabilities (E0732) and sets a `group` only beside a `user`
//! (E0738); a storage `directory` is an absolute, plain path of a node and the storage's only
//! form (E0733), which a backup copies with restic but cannot snapshot or replicate (E0734); a workflow's `concurrency` governs the runs its schedule starts
//! (E0736), and overlapping runs are a cluster's only (E0735). Ports a host-network service on a
//! cluster binds on the cluster's nodes are compared in `ports.rs`; a step's `needs` of services
//! are derived with the other ways in (`model::reach::steps`, E0737).
//!
//! Linear: each node, service, job, storage, backup and workflow is looked at once.

use super::backups::NotADataset;
use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::host::{BASELINE_CAPABILITIES, CAPABILITIES};
use crate::model::types::{PlacementRef, Spanned};
use crate::model::{Concurrency, Os, PodSecurity, Resource, Security};

/// Checks the host-level settings of every node, service, job, storage, backup and workflow.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for node in &estate.model.nodes {
        if let Some(options) = node.spec.nixos.as_ref().filter(|_| node.spec.os.value != Os::Nixos) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0730,
                    options.span,
                    format!("node `{}` is not NixOS, but is given NixOS options", node.name),
                )
                .with_primary_label("NixOS options configure a NixOS node only")
                .with_label(node.spec.os.span, "not NixOS")
                .with_help("remove `nixos { … }`, or configure this host with its own tools"),
            );
        }
    }
    for service in &estate.model.services {
        let spec = &service.spec;
        let container = Container { kind: "service", on: &spec.on, namespace: spec.namespace.as_ref() };
        if let Some(asked) = &spec.security {
            security(estate, service, &container, asked, diagnostics);
        }
    }
    // A stream's one-shot is among the jobs, with its preset's `security`.
    for job in &estate.model.jobs {
        let spec = &job.spec;
        let container = Container { kind: "job", on: &spec.on, namespace: spec.namespace.as_ref() };
        if let Some(asked) = &spec.security {
            security(estate, job, &container, asked, diagnostics);
        }
    }
    directories(estate, diagnostics);
    workflows(estate, diagnostics);
}

/// Where a container with `security` runs: a service or a job.
struct Container<'a> {
    kind: &'static str,
    on: &'a Spanned<PlacementRef>,
    namespace: Option<&'a Spanned<String>>,
}

/// E0732 for each capability Linux does not have; E0738 for a group without a user; E0731 for
/// what the namespace's Pod Security Standard refuses (`baseline`: privileged, host network or
/// PIDs, capabilities beyond the runtime's defaults; `restricted`: also any capability but
/// `NET_BIND_SERVICE`, not dropping `ALL`, and running as root), so the pods are never refused at
/// admission after the release is installed.
fn security<T>(
    estate: &EstateGraph<'_>,
    owner: &Resource<T>,
    container: &Container<'_>,
    security: &Spanned<Security>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let kind = container.kind;
    if let (Some(group), None) = (&security.value.group, &security.value.user) {
        diagnostics.push(
            owner.at_use(
                Diagnostic::new(
                    Code::E0738,
                    group.span,
                    format!("{kind} `{}` sets the group it runs as but not the user", owner.name),
                )
                .with_primary_label("a group alone")
                .with_note("podman sets a container's primary group only with its user (`--user uid:gid`), and the image's user is not known here")
                .with_help("add the numeric `user` the image runs as beside `group`"),
            ),
        );
    }
    for capability in security.value.added().iter().chain(security.value.dropped()) {
        let name = capability.value.as_str();
        if name != "ALL" && !CAPABILITIES.contains(&name) {
            let unprefixed = name.strip_prefix("CAP_").filter(|n| CAPABILITIES.contains(n));
            let upper = name.to_ascii_uppercase();
            let close = unprefixed
                .or_else(|| CAPABILITIES.iter().copied().find(|c| *c == upper))
                .or_else(|| crate::diagnostics::did_you_mean(&upper, CAPABILITIES.iter().copied()));
            let mut diagnostic = Diagnostic::new(
                Code::E0732,
                capability.span,
                format!("{kind} `{}`: `{name}` is not a Linux capability", owner.name),
            )
            .with_primary_label("not in capabilities(7)");
            diagnostic = match close {
                Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(
                    capability.span,
                    name,
                    close,
                ),
                None => {
                    diagnostic.with_help("name a capability without its `CAP_` prefix (`NET_ADMIN`, `BPF`), or `ALL`")
                }
            };
            diagnostics.push(owner.at_use(diagnostic));
        }
    }
    let Some(Place::Cluster(cluster)) = estate.place(container.on) else { return };
    let Ok(chosen) = cluster.spec.namespace_of(container.namespace) else { return };
    let namespaces = cluster.spec.namespaces(cluster.name_span);
    let Some(namespace) = namespaces.get(chosen) else { return };
    let Some(level) = namespace.pod_security.filter(|l| l.value != PodSecurity::Privileged) else { return };
    let restricted = level.value == PodSecurity::Restricted;
    let spec = &security.value;
    let mut refused = Vec::new();
    for (field, on) in [
        (&spec.privileged, "a privileged container"),
        (&spec.host_network, "the host's network"),
        (&spec.host_pid, "the host's process namespace"),
    ] {
        if let Some(field) = field.as_ref().filter(|f| f.value) {
            refused.push((field.span, on.to_string()));
        }
    }
    for capability in spec.added() {
        let admitted = if restricted {
            capability.value == "NET_BIND_SERVICE"
        } else {
            BASELINE_CAPABILITIES.contains(&capability.value.as_str())
        };
        if !admitted {
            refused.push((capability.span, format!("the capability `{}`", capability.value)));
        }
    }
    if restricted
        && !spec.dropped().iter().any(|c| c.value == "ALL")
        && let Some(capabilities) = &spec.capabilities
    {
        refused.push((capabilities.span, "capabilities without dropping `ALL`".to_string()));
    }
    // Root is what `restricted` refuses most of all (`runAsNonRoot`): the kubelet would not start it.
    let root = spec.user.as_ref().filter(|u| restricted && u.value == 0);
    let privileged =
        format!("run the {kind} in a namespace with `pod_security = privileged`, or remove what the standard refuses");
    let mut refused: Vec<_> = refused.into_iter().map(|(span, what)| (span, what, privileged.clone())).collect();
    if let Some(user) = root {
        let help = format!(
            "give the {kind} a numeric user other than 0 (`user = 1000`), or run it in a namespace with `pod_security = baseline`"
        );
        refused.push((user.span, "running as root (user 0)".to_string(), help));
    }
    for (span, what, help) in refused {
        diagnostics.push(
            owner.at_use(
                Diagnostic::new(
                    Code::E0731,
                    span,
                    format!(
                        "{kind} `{}` asks for {what}, which namespace `{}` of cluster `{}` refuses",
                        owner.name, namespace.name, cluster.name
                    ),
                )
                .with_primary_label(format!("refused by the `{}` Pod Security Standard", level.value.label()))
                .with_label(level.span, format!("the namespace enforces `{}`", level.value.label()))
                .with_help(help),
            ),
        );
    }
}

/// Whether `path` is absolute and plain: no empty, `.` or `..` segment, no trailing slash, no
/// whitespace or control character (a bind mount's and a unit's `-v` syntax read it as written).
pub fn plain_absolute(path: &str) -> bool {
    path.len() > 1
        && path.starts_with('/')
        && !path.ends_with('/')
        && path[1..].split('/').all(|s| !s.is_empty() && s != "." && s != "..")
        && !path.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == ',')
}

/// E0733 for a directory that is not a node's plain absolute path or beside another form; E0734
/// for a backup of one asking for snapshots or a replica.
fn directories(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for storage in &estate.model.storage {
        let Some(directory) = &storage.spec.directory else { continue };
        let other = storage
            .spec
            .zfs
            .as_ref()
            .map(|z| (z.span, "a ZFS dataset"))
            .or_else(|| storage.spec.volume.as_ref().map(|v| (v.span, "a cluster volume")));
        let why = if let Some((_, what)) = other {
            Some(format!("it is also {what}"))
        } else if matches!(estate.place(&storage.spec.on), Some(Place::Cluster(_))) {
            Some(format!("it is on cluster `{}`, whose pods have no host directory of their own", storage.spec.on.name))
        } else if !plain_absolute(&directory.value) {
            Some(
                "the path is not absolute and plain (no `.`, `..`, empty segment, trailing `/`, space, `:` or `,`)"
                    .into(),
            )
        } else {
            None
        };
        let Some(why) = why else { continue };
        let mut diagnostic = Diagnostic::new(
            Code::E0733,
            directory.span,
            format!("storage `{}`: directory `{}` cannot be mounted: {why}", storage.name, directory.value),
        )
        .with_primary_label("not a host directory spec can mount")
        .with_help("give a storage on a node exactly one form: `directory = \"/srv/NAME\"`, `zfs { … }` or, on a cluster, `volume { … }`");
        if let Some((span, what)) = other {
            diagnostic = diagnostic.with_label(span, format!("{what} too"));
        }
        diagnostics.push(storage.at_use(diagnostic));
    }
    for backup in &estate.model.backups {
        let Some(storage) = backup.spec.storage().and_then(|name| estate.storage(name)) else { continue };
        if storage.spec.directory.is_none() || storage.spec.zfs.is_some() {
            continue;
        }
        let refusal = NotADataset {
            code: Code::E0734,
            source: format!("directory storage `{}`", storage.name),
            label: "a plain directory is not a ZFS dataset",
            help: "snapshots and replicas copy a ZFS dataset: keep offsite copies of the directory (restic), or make the storage a dataset",
        };
        refusal.refuse(backup, Some((storage.spec.on.span, "the directory is on this node")), diagnostics);
    }
}

/// E0736 for `concurrency` on a workflow without a schedule, E0735 for `allow` on a host.
fn workflows(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for workflow in &estate.model.workflows {
        let Some(concurrency) = &workflow.spec.concurrency else { continue };
        if workflow.spec.schedule.is_none() {
            diagnostics.push(
                workflow.at_use(
                    Diagnostic::new(
                        Code::E0736,
                        concurrency.span,
                        format!("workflow `{}` sets `concurrency` but has no schedule", workflow.name),
                    )
                    .with_primary_label("governs the runs a schedule starts")
                    .with_help("add a `schedule`, or remove `concurrency` (runs started by hand are the operator's)"),
                ),
            );
            continue;
        }
        if concurrency.value == Concurrency::Allow
            && let Some(Place::Node(node)) = estate.place(&workflow.spec.on)
        {
            diagnostics.push(workflow.at_use(
                Diagnostic::new(
                    Code::E0735,
                    concurrency.span,
                    format!("workflow `{}` on node `{}` allows overlapping runs", workflow.name, node.name),
                )
                .with_primary_label("a host's systemd unit runs once at a time")
                .with_label(workflow.spec.on.span, "runs on a host")
                .with_help("use `forbid` (skip a run while one is going) or `replace` (stop it), or run the workflow on a cluster"),
            ));
        }
    }
}
