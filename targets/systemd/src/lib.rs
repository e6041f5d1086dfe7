//! The systemd back end: for every node whose `os` is not NixOS, `systemd/<node>/` holds a
//! `.service` per container service (podman), the oneshot chain, run unit and `.timer` of each
//! workflow, restic backups and restore tests with their timers, k3s servers and agents, and a
//! systemd-networkd `.netdev`/`.network` pair per WireGuard network.
//!
//! References: systemd.unit(5), systemd.service(5), systemd.exec(5), systemd.timer(5),
//! systemd.netdev(5), systemd.network(5). Units are line-oriented INI, printed by [`unit`] from
//! values already escaped by [`escape`]; nothing is templated.

pub mod escape;
mod lower;
pub mod podman;
pub mod publish;
pub mod restic;
pub mod scrape;
mod unit;

use spec_compiler::target::{Context, Generated, Target};

/// The systemd target.
pub struct Systemd;

impl Target for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn generate(&self, context: &Context<'_>) -> Generated {
        let (files, diagnostics) = lower::generate(context);
        Generated { files, diagnostics }
    }
}
