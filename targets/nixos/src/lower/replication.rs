//! ZFS replication on NixOS, both sides.
//!
//! The sending node runs `services.syncoid.commands.<backup>`: the dataset sent to
//! `user@address:pool/dataset` of the node named in `replicate { to }`, logging in with the private
//! key of `replicate.key`, received unmounted (`zfs receive -u`: a replica is a standby copy, and
//! only root may mount on Linux); syncoid runs as often as the most frequent replica. syncoid runs
//! as its own user ([`SENDER`]) and hands the key's path to ssh, so the key's file is written
//! owned by that user. ssh accepts the receiving node's host key on the first connection and
//! checks it from then on (`StrictHostKeyChecking=accept-new`: a node declares no host key to
//! write into `known_hosts`, and ssh's default asks, which a unit without a terminal cannot
//! answer). Snapshots pruned on the source are destroyed on the target too
//! (`--delete-target-snapshots`), or every snapshot syncoid sends would stay on the receiving
//! pool until it filled. The receiving node, which must be NixOS (E1121), gets the side that lets
//! it in: the user (a system user with a shell, the key's `public_key` authorized), SSH, and a
//! oneshot unit `zfs-allow-<backup>` that creates the parent of the received dataset when it is
//! missing and delegates to the user there what `zfs receive` and syncoid need (the permissions
//! NixOS's syncoid module grants its own local targets). A replica without both `key` and
//! `public_key` is E1122: the receiving side could not let the sender in.

use std::collections::BTreeMap;

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Backup, Os, Resource};
use spec_target_systemd::escape::{interval_calendar, shell_word};

use super::{NodeModule, path, with};
use crate::nix::Nix;

/// What the receiving user may do on the parent of the received dataset: NixOS's syncoid module's
/// `localTargetAllow` (destroy resets broken receive states and prunes syncoid's snapshots).
const TARGET_ALLOW: &str = "change-key,compression,create,destroy,mount,mountpoint,receive,rollback";

/// The user syncoid runs as on the sending node: NixOS's `services.syncoid.user`, left at its
/// default. It reads the SSH key itself, and keeps `known_hosts` in its home, `/var/lib/syncoid`.
const SENDER: &str = "syncoid";

/// What syncoid is told beside the source and target. The target then holds the source's own
/// snapshots (sanoid's retention, pruned on the source) and syncoid's newest one, which it keeps as
/// the base of the next send: the newest replica, all that failing over within the RTO reads, is
/// never destroyed, and the replica stays at most one run behind (the RPO). A target-side sanoid
/// pruning by the same counts would do the same with a retention of its own to keep in step.
const EXTRA_ARGS: [&str; 2] = ["--sshoption=StrictHostKeyChecking=accept-new", "--delete-target-snapshots"];

/// The user the sending node logs in as.
fn user(backup: &Backup) -> &str {
    backup.replicate.as_ref().and_then(|r| r.user.as_ref()).map_or("syncoid", |u| u.value.as_str())
}

/// The dataset a replica is received into.
fn target_dataset(backup: &Backup, source: &str) -> String {
    backup.replicate.as_ref().and_then(|r| r.dataset.as_ref()).map_or(source.to_string(), |d| d.value.clone())
}

impl<'a> NodeModule<'a> {
    pub(super) fn replication(&mut self) {
        let node = self.node;
        let mut interval: Option<u64> = None;
        for backup in self.index.on(&node.name).backups.iter().copied() {
            let Some(replicate) = &backup.spec.replicate else { continue };
            let Some(storage) = self.index.storage(&backup.spec.source.name) else { continue };
            let Some(zfs) = &storage.spec.zfs else { continue };
            let every = replicate.every.value.0;
            if interval_calendar(every).is_none() {
                self.no_calendar(&backup.name, every, replicate.every.span);
                continue;
            }
            let Some(target) = self.index.node(&replicate.to.name) else { continue };
            let Some(host) = target.spec.address.as_ref().or(target.spec.endpoint.as_ref()) else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1107,
                        replicate.to.span,
                        format!("backup `{}` replicates to node `{}`, which has no address", backup.name, target.name),
                    )
                    .with_primary_label("cannot be reached over SSH")
                    .with_help(format!("give node `{}` an `address` (on the mesh) or an `endpoint`", target.name)),
                );
                continue;
            };
            if target.spec.os.value != Os::Nixos {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1121,
                        replicate.to.span,
                        format!(
                            "backup `{}` replicates to node `{}`, whose receiving side spec cannot generate",
                            backup.name, target.name
                        ),
                    )
                    .with_primary_label("not a NixOS node")
                    .with_help(
                        "replicate to a NixOS node, where spec creates the receiving user, its key and `zfs allow`",
                    ),
                );
                continue;
            }
            let (Some(key), Some(_)) = (&replicate.key, &replicate.public_key) else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1122,
                        replicate.span,
                        format!("backup `{}`: the replica names no SSH key to log in to node `{}` with", backup.name, target.name),
                    )
                    .with_primary_label("needs `key` and `public_key`")
                    .with_help("add `key = secret.NAME` (the private key) and `public_key = \"ssh-ed25519 …\"` (its public half)"),
                );
                continue;
            };
            let source = format!("{}/{}", zfs.pool.value, zfs.dataset.value);
            let dataset = target_dataset(&backup.spec, &source);
            let ssh_key = self.owned_secret_path(&key.value.name, key.span, SENDER);
            self.read_by(&key.value.name, format!("syncoid-{}.service", backup.name));
            let command = Nix::Attrs(vec![
                ("source".into(), Nix::Str(source)),
                ("target".into(), Nix::Str(format!("{}@{}:{dataset}", user(&backup.spec), host.value.0))),
                ("sshKey".into(), ssh_key),
                ("recvOptions".into(), Nix::Str("u".into())),
                ("extraArgs".into(), Nix::List(EXTRA_ARGS.iter().map(|a| Nix::Str((*a).into())).collect())),
            ]);
            self.define(with(path("services.syncoid.commands"), &[&backup.name]), command, replicate.span);
            interval = Some(interval.map_or(every, |current: u64| current.min(every)));
        }
        if let Some(every) = interval.and_then(interval_calendar) {
            self.define(path("services.syncoid.enable"), Nix::Bool(true), node.name_span);
            self.define(path("services.syncoid.interval"), Nix::Str(every), node.name_span);
        }
        self.receiving();
    }

    /// The receiving side of every replica sent to this node.
    fn receiving(&mut self) {
        let Some(backups) = self.replicas.get(self.node.name.as_str()) else { return };
        // One user may receive several replicas: its keys are gathered first.
        let mut users: BTreeMap<&str, (Vec<Nix>, spec_compiler::source::Span)> = BTreeMap::new();
        for backup in backups.iter().copied() {
            let Some(replicate) = &backup.spec.replicate else { continue };
            let (Some(_), Some(public_key)) = (&replicate.key, &replicate.public_key) else { continue };
            let Some(storage) = self.index.storage(&backup.spec.source.name) else { continue };
            // A sender that is not NixOS sends nothing yet (W1401): nothing to let in.
            let sender = self.index.node(&storage.spec.on.name);
            if sender.is_none_or(|n| n.spec.os.value != Os::Nixos) {
                continue;
            }
            let Some(zfs) = &storage.spec.zfs else { continue };
            let source = format!("{}/{}", zfs.pool.value, zfs.dataset.value);
            let dataset = target_dataset(&backup.spec, &source);
            let user = user(&backup.spec);
            let entry = users.entry(user).or_insert_with(|| (Vec::new(), replicate.span));
            let key = Nix::Str(public_key.value.clone());
            if !entry.0.contains(&key) {
                entry.0.push(key);
            }
            let parent = dataset.rsplit_once('/').map_or(dataset.as_str(), |(parent, _)| parent);
            let script = format!(
                "parent={}\nif ! zfs list -H -o name \"$parent\" >/dev/null 2>&1; then\n  zfs create -u -p \"$parent\"\nfi\nzfs allow -u {} {TARGET_ALLOW} \"$parent\"\n",
                shell_word(parent),
                shell_word(user)
            );
            let import = Nix::List(vec![Nix::Str("zfs-import.target".into())]);
            let unit = Nix::Attrs(vec![
                ("description".into(), Nix::Str(format!("Let {user} receive the replica of backup {}", backup.name))),
                ("after".into(), import.clone()),
                ("wants".into(), import),
                ("wantedBy".into(), Nix::List(vec![Nix::Str("multi-user.target".into())])),
                (
                    "serviceConfig".into(),
                    Nix::Attrs(vec![
                        ("Type".into(), Nix::Str("oneshot".into())),
                        ("RemainAfterExit".into(), Nix::Bool(true)),
                    ]),
                ),
                ("path".into(), Nix::List(vec![Nix::Raw("pkgs.zfs".into())])),
                ("script".into(), Nix::Str(script)),
            ]);
            let name = format!("zfs-allow-{}", backup.name);
            self.define(with(path("systemd.services"), &[&name]), unit, replicate.span);
        }
        self.ssh |= !users.is_empty();
        for (user, (keys, span)) in users {
            let account = Nix::Attrs(vec![
                ("isSystemUser".into(), Nix::Bool(true)),
                ("group".into(), Nix::Str(user.to_string())),
                // syncoid runs `zfs receive` through the login shell.
                ("useDefaultShell".into(), Nix::Bool(true)),
                (
                    "openssh".into(),
                    Nix::Attrs(vec![("authorizedKeys".into(), Nix::Attrs(vec![("keys".into(), Nix::List(keys))]))]),
                ),
            ]);
            self.define_all(
                vec![
                    (with(path("users.users"), &[user]), account),
                    (with(path("users.groups"), &[user]), Nix::Attrs(Vec::new())),
                ],
                span,
            );
        }
    }
}

/// The backups replicated to each node, by the receiving node's name.
pub(super) fn replicas_by_node(model: &spec_compiler::model::Model) -> BTreeMap<&str, Vec<&Resource<Backup>>> {
    let mut by_node: BTreeMap<&str, Vec<&Resource<Backup>>> = BTreeMap::new();
    for backup in &model.backups {
        if let Some(replicate) = &backup.spec.replicate {
            by_node.entry(replicate.to.name.as_str()).or_default().push(backup);
        }
    }
    by_node
}
