//! The standard library: presets written in the spec language, embedded at build time.
//!
//! Each module is shown in diagnostics as `<stdlib>/NAME.spec` and imported as `std.NAME`.

/// Every stdlib module: its name and its text.
pub const MODULES: &[(&str, &str)] = &[
    ("alertmanager", include_str!("../../../stdlib/alertmanager.spec")),
    ("blackbox", include_str!("../../../stdlib/blackbox.spec")),
    ("certmanager", include_str!("../../../stdlib/certmanager.spec")),
    ("dcgm", include_str!("../../../stdlib/dcgm.spec")),
    ("grafana", include_str!("../../../stdlib/grafana.spec")),
    ("nats", include_str!("../../../stdlib/nats.spec")),
    ("nginx", include_str!("../../../stdlib/nginx.spec")),
    ("postgres", include_str!("../../../stdlib/postgres.spec")),
    ("prometheus", include_str!("../../../stdlib/prometheus.spec")),
    ("redis", include_str!("../../../stdlib/redis.spec")),
    ("traefik", include_str!("../../../stdlib/traefik.spec")),
];

/// The display path of a stdlib module.
pub fn display_path(module: &str) -> String {
    format!("<stdlib>/{module}.spec")
}
