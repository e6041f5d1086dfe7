//! A service's ingress routes: a host name and path that clients outside reach one of its ports
//! by, over TLS when asked, as `ingress NAME { host, path, port, tls { … } }` blocks.
//!
//! On a cluster each route is an `Ingress` of the service's chart with a cert-manager issuer
//! annotation; the checks ([`crate::graph`]) hold every route to a declared port, one claimant
//! per host and path, and a host that is a DNS name ([`is_dns_name`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::{LocalName, Spanned};

/// One route to a service.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ingress {
    /// The host name clients ask for, a DNS name (`api.example.com`, or `*.example.com`).
    pub host: Spanned<String>,
    /// The path prefix routed to the service. Default: `/`.
    #[schemars(extend("default" = "/"))]
    pub path: Option<Spanned<String>>,
    /// The port the route reaches, by its name in `ports`.
    pub port: Spanned<LocalName>,
    /// Serve the host over TLS with a certificate from an issuer.
    pub tls: Option<Spanned<Tls>>,
    /// The ingress class (the controller that serves the route) on a cluster. Default: the
    /// cluster's default class.
    pub class: Option<Spanned<String>>,
}

impl Ingress {
    /// The path, `/` when none is given.
    pub fn path(&self) -> &str {
        self.path.as_ref().map_or("/", |p| p.value.as_str())
    }
}

/// Where a route's certificate comes from.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Who issues the certificate: on a cluster the cert-manager `ClusterIssuer` (required
    /// there, E1270); on a NixOS node the ACME directory URL. Default on a NixOS node: Let's
    /// Encrypt.
    pub issuer: Option<Spanned<String>>,
    /// The email of the ACME account the certificate is issued to on a NixOS node (required
    /// there, E1170); on a cluster the `ClusterIssuer` holds its own.
    pub email: Option<Spanned<String>>,
}

/// Whether `host` is a DNS name a route can claim: dot-separated labels of lowercase letters,
/// digits and `-` (1 to 63 each, not starting or ending with `-`), 253 characters at most, with
/// an optional leading `*.` wildcard; at least two labels.
pub fn is_dns_name(host: &str) -> bool {
    let name = host.strip_prefix("*.").unwrap_or(host);
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    host.len() <= 253 && name.split('.').count() >= 2 && name.split('.').all(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_dns_names() {
        assert!(is_dns_name("api.example.com"));
        assert!(is_dns_name("*.example.com"));
        assert!(is_dns_name("a-1.b2.io"));
        assert!(!is_dns_name("localhost"));
        assert!(!is_dns_name("API.example.com"));
        assert!(!is_dns_name("api_v2.example.com"));
        assert!(!is_dns_name("-api.example.com"));
        assert!(!is_dns_name("api..example.com"));
        assert!(!is_dns_name("https://api.example.com"));
        assert!(!is_dns_name("a.*.example.com"));
    }
}
