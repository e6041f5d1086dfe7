//! Blue-green rollouts on a NixOS node: two containers and an nginx switch between them.
//!
//! A service run as a container with `rollout = blue-green { active, blue, green }` becomes two
//! containers, `<service>-blue` and `<service>-green` (`podman-<service>-<colour>.service`), each
//! running its colour's image (the service's `image` by default) with everything else of the
//! service (environment, secrets, files, health check, limits, `systemd { … }` settings). Each
//! colour publishes its ports on loopback only, at its own host port: the port plus 10,000 for
//! blue, plus 20,000 for green ([`colour_port`]). The service's own ports are then served by the
//! node's nginx as a TCP/UDP proxy (`services.nginx.streamConfig`): per port an `upstream` pair
//! listing both colours, the idle one marked `down`, and a `server` listening exactly where the
//! container would have been published (loopback, the addresses its peers reach it on, or every
//! address when public: [`spec_target_systemd::publish::binds`]). So `needs`, `service.X.host`,
//! the scrape of its metrics and its ingress routes (nginx reaches it on loopback) all reach the
//! active colour; flipping `active` rewrites the pair (a reload of nginx, no restart of either
//! colour), while the idle colour keeps running for a rollback. Containers that need the service
//! depend on the active colour's container.
//!
//! Refused: a colour's host port above 65535 or taken by a port of a service on the node
//! (another colour's included) (E1131); a volume (E1132: both colours would write one dataset at
//! once). A service run by its NixOS options has one instance, so its rollout stays W1130.
//! GPUs are handed to both colours alike (CDI devices are shared), as the idle colour stays up.

use std::collections::BTreeMap;

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::reach::{ColourWay, Way};
use spec_compiler::model::types::Transport;
use spec_compiler::model::{Colour, Resource, Rollout, Service};
use spec_compiler::source::Span;

use super::{NodeModule, path};
use crate::nix::Nix;

/// The two colours, blue first.
const COLOURS: [Colour; 2] = [Colour::Blue, Colour::Green];

/// The host port a colour publishes a port on: 10,000 above the port for blue, 20,000 for green;
/// `None` beyond 65535 ([`Colour::host_port`]).
pub fn colour_port(port: u16, colour: Colour) -> Option<u16> {
    colour.host_port(port)
}

/// The container of one colour of a service.
pub fn colour_container(service: &str, colour: Colour) -> String {
    format!("{service}-{}", colour.name())
}

/// One port the switch serves: where it listens, and the two colours' host ports.
pub(super) struct Switched {
    pub name: String,
    pub number: u16,
    pub protocol: Transport,
    /// nginx's listen addresses, each `ADDRESS:` or empty for every address.
    pub binds: Vec<String>,
}

impl<'a> NodeModule<'a> {
    /// The blue-green rollout of a service run as a container on this node, if it has one: the
    /// active colour and each colour's image override.
    pub(super) fn blue_green(&self, service: &'a Resource<Service>) -> Option<(Colour, [Option<&'a str>; 2])> {
        let rollout = service.spec.rollout.as_ref()?;
        let Rollout::BlueGreen { active, blue, green } = &rollout.value else { return None };
        if !self.runs_container(service) {
            return None;
        }
        let image = |i: &'a Option<spec_compiler::model::types::Spanned<spec_compiler::model::Release>>| {
            i.as_ref().and_then(|i| i.value.image())
        };
        Some((active.value, [image(blue), image(green)]))
    }

    /// The colours of `service` that run on this node: both of a rollout whose colours are
    /// images, those whose node this is of one whose colours are nodes ([`ColourWay`]).
    pub(super) fn colours_here(&self, service: &'a Resource<Service>) -> Vec<Colour> {
        let ways = self.reach.colours_of(&service.name);
        if ways.is_empty() {
            return COLOURS.to_vec();
        }
        ways.iter().filter(|w| w.node == self.node.name).map(|w| w.colour).collect()
    }

    /// Where the colour of a service whose colours are nodes listens and its switch connects
    /// (`None` when its colours are images: loopback on this node).
    pub(super) fn colour_way(&self, service: &'a Resource<Service>, colour: Colour) -> Option<&'a ColourWay> {
        self.reach.colours_of(&service.name).iter().find(|w| w.colour == colour)
    }

    /// The container clients of `service` on this node start after: its active colour's when it
    /// runs here, else the colour that does (the switch's node runs one of a service whose
    /// colours are nodes), or its own.
    pub(super) fn container_of(&self, service: &'a Resource<Service>) -> String {
        match self.blue_green(service) {
            Some((active, _)) => {
                let here = self.colours_here(service);
                let colour = if here.contains(&active) { active } else { here.first().copied().unwrap_or(active) };
                colour_container(&service.name, colour)
            }
            None => service.name.clone(),
        }
    }

    /// The containers a service runs as on this node: its colours here, or itself.
    pub(super) fn containers_of(&self, service: &'a Resource<Service>) -> Vec<String> {
        match self.blue_green(service) {
            Some(_) => self.colours_here(service).iter().map(|c| colour_container(&service.name, *c)).collect(),
            None => vec![service.name.clone()],
        }
    }

    /// Opens, on a colour's node, the colour's host ports to the switch's node by the ways the
    /// core found ([`ColourWay`]); nothing on the switch's own node, which reaches it on loopback.
    pub(super) fn open_colour(&mut self, service: &'a Resource<Service>, way: &ColourWay) {
        for port in service.spec.ports.values() {
            let Some(number) = colour_port(port.number, way.colour) else { continue };
            let (protocol, interfaces) = match port.protocol {
                Transport::Tcp => ("tcp", &mut self.interface_tcp),
                Transport::Udp => ("udp", &mut self.interface_udp),
            };
            for reached in &way.ways {
                match reached {
                    Way::Peer { interface: Some(interface), .. } => {
                        interfaces.entry(interface.clone()).or_default().insert(number);
                    }
                    Way::Peer { interface: None, peer, .. } => {
                        self.from_source.insert((protocol, peer.clone(), number));
                    }
                    Way::Public => {}
                }
            }
        }
    }

    /// Checks what a blue-green service on this node cannot do (E1131, E1132); `true` when the
    /// colours can be generated.
    pub(super) fn colours_fit(&mut self, service: &'a Resource<Service>) -> bool {
        let Some(rollout) = &service.spec.rollout else { return false };
        let mut ok = true;
        for storage in service.spec.volumes.values() {
            ok = false;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1132,
                    storage.span,
                    format!(
                        "blue-green service `{}` mounts storage `{}` on NixOS node `{}`",
                        service.name, storage.name, self.node.name
                    ),
                )
                .with_primary_label("both colours would write this dataset at once")
                .with_note("the idle colour keeps running beside the active one")
                .with_help("keep the state in a service of its own that both colours need"),
            );
        }
        // Every port a service on the node declares, with its owner.
        let mut taken: BTreeMap<(u16, Transport), String> = BTreeMap::new();
        for other in self.index.on(&self.node.name).services.iter().copied() {
            for (name, port) in &other.spec.ports {
                taken
                    .entry((port.number, port.protocol))
                    .or_insert_with(|| format!("port `{name}` of service `{}`", other.name));
            }
        }
        for other in self.index.on(&self.node.name).services.iter().copied() {
            if other.name == service.name || self.blue_green(other).is_none() {
                continue;
            }
            for colour in COLOURS {
                for (name, port) in &other.spec.ports {
                    let Some(number) = colour_port(port.number, colour) else { continue };
                    let owner = format!("the {} colour of service `{}` (port `{name}`)", colour.name(), other.name);
                    taken.entry((number, port.protocol)).or_insert(owner);
                }
            }
        }
        for colour in COLOURS {
            for (name, port) in &service.spec.ports {
                let clash = match colour_port(port.number, colour) {
                    None => Some((
                        format!(
                            "beyond 65535 ({} + {})",
                            port.number,
                            if colour == Colour::Blue { 10_000 } else { 20_000 }
                        ),
                        "no port number".to_string(),
                    )),
                    Some(number) => {
                        taken.get(&(number, port.protocol)).map(|owner| (number.to_string(), owner.clone()))
                    }
                };
                let Some((number, owner)) = clash else { continue };
                ok = false;
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1131,
                        rollout.span,
                        format!(
                            "the {} colour of service `{}` publishes port `{name}` on host port {number}, which {owner} takes on NixOS node `{}`",
                            colour.name(),
                            service.name,
                            self.node.name
                        ),
                        )
                    .with_primary_label("each colour publishes its ports 10,000 (blue) and 20,000 (green) above the service's")
                    .with_note("the service's own ports are nginx's, which sends clients to the active colour")
                    .with_help("give the service (or the other) a port whose colour ports are free: below 45536 and unused on the node"),
                );
            }
        }
        ok
    }

    /// Records the nginx switch of a blue-green service: one upstream pair and one server per
    /// port, written with the others by [`NodeModule::switches`].
    pub(super) fn switch(&mut self, service: &'a Resource<Service>, active: Colour, ports: Vec<Switched>) {
        let mut config = String::new();
        for port in ports {
            let upstream = format!("{}_{}", service.name, port.name).replace('-', "_");
            config.push_str(&format!("upstream {upstream} {{\n"));
            for colour in COLOURS {
                let Some(number) = colour_port(port.number, colour) else { continue };
                let state = if colour == active { "" } else { " down" };
                // A colour on another node is reached at that node's address ([`ColourWay`]).
                let (address, place) = match self.colour_way(service, colour) {
                    Some(way) if way.node != self.node.name => (way.bind.to_string(), format!(" on {}", way.node)),
                    _ => ("127.0.0.1".to_string(), String::new()),
                };
                config.push_str(&format!("  server {address}:{number}{state};  # {}{place}\n", colour.name()));
            }
            config.push_str("}\nserver {\n");
            let udp = if port.protocol == Transport::Udp { " udp" } else { "" };
            for bind in &port.binds {
                config.push_str(&format!("  listen {bind}{}{udp};\n", port.number));
            }
            config.push_str(&format!("  proxy_pass {upstream};\n}}\n"));
        }
        self.streams.push((config, service.name_span));
    }

    /// Writes the switches of the node's blue-green services into nginx's stream configuration.
    pub(super) fn switches(&mut self) {
        let Some(first) = self.streams.first().map(|(_, span)| *span) else { return };
        let config: String = self.streams.iter().map(|(text, _)| text.as_str()).collect();
        self.nginx(first);
        self.define(path("services.nginx.streamConfig"), Nix::Str(config), first);
    }

    /// Enables the node's one nginx, once (the switches and the ingress routes share it).
    pub(super) fn nginx(&mut self, span: Span) {
        if !self.nginx_enabled {
            self.nginx_enabled = true;
            self.define(path("services.nginx.enable"), Nix::Bool(true), span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_ports_lie_apart_and_stop_at_the_last_port() {
        assert_eq!(colour_port(8080, Colour::Blue), Some(18080));
        assert_eq!(colour_port(8080, Colour::Green), Some(28080));
        assert_eq!(colour_port(45535, Colour::Green), Some(65535));
        assert_eq!(colour_port(45536, Colour::Green), None);
    }
}
