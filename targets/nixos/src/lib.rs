//! The NixOS back end: one module per NixOS node (`nixos/<node>/default.nix`) and a fleet index
//! (`nixos/flake.nix`, and a Colmena `nixos/hive.nix`) that `nixos-rebuild --flake` can take, each
//! node also importing the user's own modules from `hosts/<node>/` beside the spec.
//!
//! References: the NixOS module system (<https://nixos.org/manual/nixos/stable/#sec-writing-modules>)
//! and the option names verified in `shared/design/targets.md` §A. The module is one attribute set,
//! so it is printed from a typed tree by [`nix`] rather than templated: every string, name and path
//! goes through one escaper.

mod lower;
mod module;
pub mod nix;

pub use lower::host_id;

use spec_compiler::target::{Context, Generated, Target};

/// The NixOS target.
pub struct Nixos;

impl Target for Nixos {
    fn name(&self) -> &'static str {
        "nixos"
    }

    fn generate(&self, context: &Context<'_>) -> Generated {
        let (files, diagnostics) = lower::generate(context);
        Generated { files, diagnostics }
    }

    /// What [`Target::generate`] reports, from the same lowering, without rendering the modules.
    fn check(&self, context: &Context<'_>) -> Vec<spec_compiler::diagnostics::Diagnostic> {
        lower::check(context)
    }
}
