//! The node's own NixOS options: `nixos { … }` on a node (audit rules, the ZFS scrub schedule,
//! any option), merged into its module beside what the services on it define.
//!
//! They are defined before the services' options, so an option a service or a preset sets too is
//! reported (E1101) at the service, naming the node's definition as the first. A secret in them is
//! its decrypted file's path, as in a service's payload; a value with no Nix form is E1102 at the
//! node's `nixos` field.

use spec_compiler::diagnostics::{Code, Diagnostic};

use super::{NodeModule, path, payload};

impl NodeModule<'_> {
    /// Defines the node's own NixOS options.
    pub(super) fn node_options(&mut self) {
        let node = self.node;
        let Some(options) = &node.spec.nixos else { return };
        let mut definitions = Vec::new();
        for (option, value) in &options.value {
            let mut read = Vec::new();
            let lowered = payload(value, &mut |r| {
                read.push(r.clone());
                self.payload_secret(r)
            });
            self.read_in_option(option, &read, None);
            match lowered {
                Ok(nix) => definitions.push((path(option), nix)),
                Err(Some(what)) => self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1102,
                        options.span,
                        format!("node `{}`: {what} has no NixOS form", node.name),
                    )
                    .with_primary_label("cannot be written as a NixOS option value")
                    .with_help("write it as a string, a number, a boolean, a list, a map, a secret or `nix(\"…\")`"),
                ),
                Err(None) => {}
            }
        }
        self.define_all(definitions, options.span);
    }
}
