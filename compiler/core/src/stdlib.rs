//! The standard library: presets written in the spec language, embedded at build time.
//!
//! Each module is shown in diagnostics as `<stdlib>/NAME.spec` and imported as `std.NAME`.

/// Every stdlib module: its name and its text.
pub const MODULES: &[(&str, &str)] = &[
    ("alertmanager", include_str!("../../../stdlib/alertmanager.spec")),
    ("argo_rollouts", include_str!("../../../stdlib/argo_rollouts.spec")),
    ("blackbox", include_str!("../../../stdlib/blackbox.spec")),
    ("certmanager", include_str!("../../../stdlib/certmanager.spec")),
    ("dcgm", include_str!("../../../stdlib/dcgm.spec")),
    ("deepflow", include_str!("../../../stdlib/deepflow.spec")),
    ("grafana", include_str!("../../../stdlib/grafana.spec")),
    ("n8n", include_str!("../../../stdlib/n8n.spec")),
    ("istio", include_str!("../../../stdlib/istio.spec")),
    ("ipfs", include_str!("../../../stdlib/ipfs.spec")),
    ("loki", include_str!("../../../stdlib/loki.spec")),
    ("nats", include_str!("../../../stdlib/nats.spec")),
    ("otel", include_str!("../../../stdlib/otel.spec")),
    ("nginx", include_str!("../../../stdlib/nginx.spec")),
    ("postgres", include_str!("../../../stdlib/postgres.spec")),
    ("prefect", include_str!("../../../stdlib/prefect.spec")),
    ("prometheus", include_str!("../../../stdlib/prometheus.spec")),
    ("promtail", include_str!("../../../stdlib/promtail.spec")),
    ("pyroscope", include_str!("../../../stdlib/pyroscope.spec")),
    ("redis", include_str!("../../../stdlib/redis.spec")),
    ("vault", include_str!("../../../stdlib/vault.spec")),
    ("temporal", include_str!("../../../stdlib/temporal.spec")),
    ("tempo", include_str!("../../../stdlib/tempo.spec")),
    ("traefik", include_str!("../../../stdlib/traefik.spec")),
];

/// The display path of a stdlib module.
pub fn display_path(module: &str) -> String {
    format!("<stdlib>/{module}.spec")
}
