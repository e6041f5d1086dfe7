//! Reachability on NixOS: every way into a service that the core derives
//! ([`spec_compiler::model::reach`]) is opened here, and nothing else. A public port is opened on
//! every interface; a peer's way on its interface only (the WireGuard network, k3s's pod bridge)
//! or, on a network without WireGuard, to the peer's source range. A service its `nixos { … }`
//! options run listens where it is reached and admits exactly those peers, through the options its
//! preset names in `nixos_peers` (PostgreSQL: `listen_addresses` and `pg_hba` lines); a service
//! reached from elsewhere whose options name none is E1110, since the module would listen on
//! loopback only. Containers publish on the same addresses ([`spec_target_systemd::publish`]).

use std::collections::BTreeSet;

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::{Opening, Way};
use spec_compiler::model::types::Transport;
use spec_compiler::model::{Resource, Service};

use super::{NodeModule, path};
use crate::nix::Nix;

impl<'a> NodeModule<'a> {
    /// Opens the firewall for each way into `service` and, when its NixOS options run it, lets
    /// its module listen on and admit exactly those ways.
    pub(super) fn open(&mut self, service: &'a Resource<Service>) {
        let openings = self.reach.of(&service.name);
        self.binds_own_address |= openings.iter().any(|o| matches!(o.way, Way::Peer { .. }));
        for opening in openings {
            let Some(port) = service.spec.ports.get(&opening.port) else { continue };
            let (protocol, global, interfaces) = match port.protocol {
                Transport::Tcp => ("tcp", &mut self.tcp, &mut self.interface_tcp),
                Transport::Udp => ("udp", &mut self.udp, &mut self.interface_udp),
            };
            match &opening.way {
                Way::Public => {
                    global.insert(port.number);
                }
                Way::Peer { interface: Some(interface), .. } => {
                    interfaces.entry(interface.clone()).or_default().insert(port.number);
                }
                Way::Peer { interface: None, peer, .. } => {
                    self.from_source.insert((protocol, peer.clone(), port.number));
                }
            }
        }
        // A container is let in by its published ports; NixOS options beside its image configure
        // the host, not a listener.
        if service.spec.nixos.is_some() && !self.runs_container(service) && !openings.is_empty() {
            self.admit(service, openings);
        }
    }

    /// Fills the options a preset names in `nixos_peers` from the ways into the service.
    fn admit(&mut self, service: &'a Resource<Service>, openings: &[Opening]) {
        let Some(peers) = &service.spec.nixos_peers else {
            let diagnostic = Diagnostic::new(
                Code::E1110,
                service.name_span,
                format!(
                    "service `{}` is reached from outside node `{}`, but its NixOS options say not how to let a peer in",
                    service.name, self.node.name
                ),
            )
            .with_primary_label("its module would listen on loopback only")
            .with_help(
                "name the module's options beside its `nixos` options: `nixos_peers { listen = \"…\", admit = \"…\", \
                 entry = \"… {peer} …\" }`",
            );
            self.diagnostics.push(diagnostic);
            return;
        };
        let public = openings.iter().any(|o| o.way == Way::Public);
        let mut ranges: BTreeSet<String> = BTreeSet::new();
        let mut addresses: Vec<String> = Vec::new();
        if public {
            // Every address, which loopback is one of: listing it as well would bind it twice.
            addresses.extend(["0.0.0.0".to_string(), "::".to_string()]);
            ranges.extend(["0.0.0.0/0".to_string(), "::/0".to_string()]);
        } else {
            addresses.push("127.0.0.1".into());
            let mut binds = BTreeSet::new();
            for opening in openings {
                if let Way::Peer { bind, peer, .. } = &opening.way {
                    binds.insert(*bind);
                    ranges.insert(peer.clone());
                }
            }
            addresses.extend(binds.iter().map(ToString::to_string));
        }
        let listen = match &peers.separator {
            Some(separator) => Nix::Str(addresses.join(&separator.value)),
            None => Nix::List(addresses.into_iter().map(Nix::Str).collect()),
        };
        let mut definitions = Vec::new();
        if let Some(option) = &peers.listen {
            definitions.push((path(&option.value), listen));
        }
        if let (Some(admit), Some(entry)) = (&peers.admit, &peers.entry) {
            let mut lines: String =
                ranges.iter().map(|range| entry.value.replace("{peer}", range)).collect::<Vec<_>>().join("\n");
            lines.push('\n');
            definitions.push((path(&admit.value), Nix::Str(lines)));
        }
        self.define_all(definitions, service.name_span);
    }
}
