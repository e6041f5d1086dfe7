//! Units that read a file vault-agent renders wait until it is there, and start then.
//!
//! A `vault` secret's file ([`super::secrets::vault_destination`]) exists only once its
//! vault-agent instance has logged in and rendered it: not after a reboot of a node whose Vault is
//! sealed (until the unseal), and not on a node that reaches Vault over a VPN until the tunnel is
//! up. A unit reading it before then fails for good: a missing `EnvironmentFile=` or
//! `LoadCredential=` path fails the start, units that `Requires=` it fail with it ("dependency")
//! and nothing starts them again once the file appears; a container restarting at podman's pace
//! is `start-limit-hit` within a second.
//!
//! So each secret a unit reads gets one oneshot `vault-file-<secret>.service` that polls for the
//! file (`until [ -e FILE ]; do sleep 1; done`) with no start timeout and stays active once it is
//! there (`RemainAfterExit`), ordered after its vault-agent instance; it is `wantedBy` and
//! `before` every unit reading the file. Those units' start jobs then wait in systemd's queue —
//! what `After=` is for — and run the moment the file appears, and so do the units that require
//! *them*: nothing fails, so nothing needs retrying. The reverse dependencies (`wantedBy`,
//! `before`) sit on the unit spec owns, so the readers' own `after`/`wants` (a preset's, the
//! user's) are never defined twice; `Wants=` rather than `Requires=` so that redeploying the
//! wait unit never stops the readers, and it is not restarted on a switch
//! (`restartIfChanged = false`: its file is still there).
//!
//! The alternatives do worse: a path unit (`PathExists=`) triggers on *one* file and again, in a
//! loop, whenever its unit is inactive while the file exists, and it cannot hold back the units
//! that require the reader; a bounded `ExecStartPre=` wait with `Restart=on-failure` restarts the
//! reader but fails the start jobs of the units requiring it, which are never queued again.
//! The cost of waiting: while the files are missing the boot's `multi-user.target` stays
//! "activating", and a deploy that starts a waiting reader returns once Vault is unsealed.
//!
//! A container that reads a Vault file also restarts at a pace and without a start limit
//! (`RestartSec`, `startLimitIntervalSec = 0`): what it reads may serve it before what it reaches
//! does (a database on another node whose own secrets still wait), and the oci-containers module
//! restarts it every 100 ms under systemd's default start limit, which gives up within a second.

use std::collections::{BTreeMap, BTreeSet};

use spec_compiler::model::types::Reference;
use spec_compiler::model::{Backend, Kind};

use super::secrets::vault_destination;
use super::{NodeModule, path, with};
use crate::nix::Nix;

/// How long a container reading a Vault file waits between restarts.
const CONTAINER_RESTART: &str = "10s";

/// The units reading each Vault secret's file on a node, by the secret's name, and which of them
/// run a container.
#[derive(Default)]
pub(super) struct VaultReaders {
    units: BTreeMap<String, BTreeSet<String>>,
    containers: BTreeSet<String>,
}

/// The unit that waits for a Vault secret's file.
pub fn wait_unit(secret: &str) -> String {
    format!("vault-file-{secret}")
}

impl NodeModule<'_> {
    /// Records that `unit` (a full unit name, `name.service`) reads the file of secret `name`;
    /// only a secret vault-agent renders makes it wait ([`Self::vault_waits`]).
    pub(super) fn read_by(&mut self, name: &str, unit: String) {
        if self.served_by_vault(name) {
            self.vault_readers.units.entry(name.to_string()).or_default().insert(unit);
        }
    }

    /// Records that the container `container` (run as `podman-<container>.service`) reads the
    /// file of secret `name`.
    pub(super) fn read_by_container(&mut self, name: &str, container: &str) {
        if self.served_by_vault(name) {
            let unit = format!("podman-{container}");
            self.vault_readers.units.entry(name.to_string()).or_default().insert(format!("{unit}.service"));
            self.vault_readers.containers.insert(unit);
        }
    }

    /// Records the units reading the secrets referenced in the NixOS option `option`: the unit
    /// an option below `systemd.services.<unit>` configures, else `unit`, the one the service's
    /// module starts (its `nixos_unit`), which reads the files its options name.
    pub(super) fn read_in_option(&mut self, option: &str, read: &[Reference], unit: Option<&str>) {
        let configured = option.strip_prefix("systemd.services.").map(|rest| rest.split('.').next().unwrap_or(rest));
        let reader = match configured {
            Some(stem) => format!("{stem}.service"),
            None => match unit {
                Some(unit) => unit.to_string(),
                None => return,
            },
        };
        for secret in read.iter().filter(|r| r.kind == Kind::Secret.as_str() && r.field.is_empty()) {
            self.read_by(&secret.name, reader.clone());
        }
    }

    fn served_by_vault(&self, name: &str) -> bool {
        self.index.secret(name).and_then(|s| s.spec.on_nixos()).is_some_and(|b| matches!(b, Backend::Vault(_)))
    }

    /// One wait unit per Vault secret a unit reads, and the pacing of the containers reading one.
    pub(super) fn vault_waits(&mut self) {
        let readers = std::mem::take(&mut self.vault_readers);
        for (name, units) in &readers.units {
            let Some(backend) = self.index.secret(name).and_then(|s| s.spec.on_nixos()) else { continue };
            let file = vault_destination(name);
            let agent = Nix::List(vec![Nix::Str(format!("vault-agent-{name}.service"))]);
            let readers = Nix::List(units.iter().map(|u| Nix::Str(u.clone())).collect());
            let unit = Nix::Attrs(vec![
                ("description".into(), Nix::Str(format!("Wait for vault-agent to render {file}"))),
                ("wants".into(), agent.clone()),
                ("after".into(), agent),
                ("wantedBy".into(), readers.clone()),
                ("before".into(), readers),
                ("restartIfChanged".into(), Nix::Bool(false)),
                (
                    "serviceConfig".into(),
                    Nix::Attrs(vec![
                        ("Type".into(), Nix::Str("oneshot".into())),
                        ("RemainAfterExit".into(), Nix::Bool(true)),
                        ("TimeoutStartSec".into(), Nix::Str("infinity".into())),
                    ]),
                ),
                ("script".into(), Nix::Str(format!("until [ -e {file} ]; do sleep 1; done\n"))),
            ]);
            self.define(with(path("systemd.services"), &[&wait_unit(name)]), unit, backend.span());
        }
        for unit in &readers.containers {
            let span = self.node.name_span;
            self.define_all(
                vec![
                    (with(path("systemd.services"), &[unit, "startLimitIntervalSec"]), Nix::Int(0)),
                    (
                        with(path("systemd.services"), &[unit, "serviceConfig", "RestartSec"]),
                        Nix::Str(CONTAINER_RESTART.into()),
                    ),
                ],
                span,
            );
        }
    }
}
