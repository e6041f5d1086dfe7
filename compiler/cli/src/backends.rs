//! The back ends `spec` knows, in the order `--target all` runs them: the one list that
//! `spec build`, `spec check` (which runs them in memory) and the benchmark share.

use spec_compiler::target::Target;

/// Every back end.
pub fn all() -> Vec<Box<dyn Target>> {
    vec![
        Box::new(spec_target_nixos::Nixos),
        Box::new(spec_target_systemd::Systemd),
        Box::new(spec_target_kubernetes::Kubernetes),
        Box::new(spec_target_prometheus::Prometheus),
    ]
}
