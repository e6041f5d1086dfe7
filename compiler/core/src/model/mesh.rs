//! A namespace's service mesh: `mesh = istio { mtls = strict }` puts the namespace's pods in the
//! cluster's Istio mesh (each gets the sidecar proxy, which encrypts and authenticates what it
//! sends and receives with the mesh's mutual TLS).
//!
//! The mesh is a cluster capability the Kubernetes back end lowers (`crate` knows no product
//! here beyond the name of the mesh): the namespace's injection label, a `PeerAuthentication` in
//! the `mtls` mode, a `DestinationRule` per service, the sidecars' metrics, and what the
//! namespace's network policies must admit for the mesh to work. Its control plane is the
//! estate's own services (`std.istio.base`, `std.istio.istiod`), which the back end finds on the
//! cluster and refuses the mesh without.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::Spanned;

/// The mesh a namespace's pods are in.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Mesh {
    /// Istio in sidecar mode: every pod of the namespace gets Istio's proxy beside it.
    Istio {
        /// Whether the namespace's pods accept only mutual TLS from the mesh (`strict`) or plain
        /// text too (`permissive`). Default: `strict`.
        #[schemars(extend("default" = "strict"))]
        mtls: Option<Spanned<Mtls>>,
    },
}

impl Mesh {
    /// The mutual-TLS mode the namespace's pods are held to.
    pub fn mtls(&self) -> Mtls {
        match self {
            Mesh::Istio { mtls } => mtls.as_ref().map_or(Mtls::Strict, |m| m.value),
        }
    }
}

/// How a meshed pod treats connections that are not the mesh's mutual TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mtls {
    /// Only mutual TLS from the mesh's workloads is accepted.
    Strict,
    /// Mutual TLS and plain text are both accepted.
    Permissive,
}

impl Mtls {
    /// The mode as Istio's `PeerAuthentication` writes it.
    pub fn istio_mode(self) -> &'static str {
        match self {
            Mtls::Strict => "STRICT",
            Mtls::Permissive => "PERMISSIVE",
        }
    }
}
