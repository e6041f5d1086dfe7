//! Ingress routes on a cluster: app-template's `ingress` items (host, path, the main Service's
//! port) and the TLS cert-manager issues for them. A route asking for TLS names its issuer (E1270);
//! an ACME email given on the route is the issuer's business (W1270).

use indexmap::IndexMap;
use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::Spanned;
use spec_compiler::model::{Resource, Service};

use crate::values::ServicePort;

impl super::Lowering<'_, '_> {
    /// A route's TLS on a cluster: cert-manager issues the certificate, so an issuer is needed
    /// (E1270), and the ACME account is the issuer's own (W1270 for an email given here).
    pub(crate) fn check_tls(&mut self, service: &Resource<Service>, route: &Spanned<spec_compiler::model::Ingress>) {
        let Some(tls) = &route.value.tls else { return };
        let host = &route.value.host.value;
        if tls.value.issuer.is_none() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1270,
                    tls.span,
                    format!(
                        "the route of service `{}` for `{host}` on cluster `{}` asks for TLS without an issuer",
                        service.name, self.cluster.name
                    ),
                )
                .with_primary_label("no `issuer`")
                .with_help(
                    "name the cert-manager `ClusterIssuer` that issues it: `tls { issuer = \"letsencrypt-prod\" }`",
                ),
            );
        }
        if let Some(email) = &tls.value.email {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::W1270,
                    email.span,
                    format!(
                        "the ACME email of the route for `{host}` is not used on cluster `{}`: the issuer holds its own account",
                        self.cluster.name
                    ),
                )
                .with_primary_label("not used on a cluster")
                .with_help("set the email in the `ClusterIssuer`'s `acme.email`, and remove it here"),
            );
        }
    }
}

/// An ingress route as app-template's `ingress` item: the host and path to the main Service's
/// port, and with `tls` the cert-manager issuer annotation and a TLS entry whose Secret
/// cert-manager fills (`<service>-<route>-tls`). A route through Istio's gateway has none.
pub(crate) fn ingress(
    service: &Resource<Service>,
    name: &str,
    route: &Spanned<spec_compiler::model::Ingress>,
    ports: &IndexMap<String, ServicePort>,
) -> Option<Value> {
    let route = &route.value;
    if crate::gateway::through_istio(route) {
        return None; // Istio's gateway serves it (`gateway.yaml`), not an `Ingress`.
    }
    let port = ports.get(route.port.value.0.as_str())?.port;
    let host = &route.host.value;
    let mut item = json!({
        "hosts": [{
            "host": host,
            "paths": [{ "path": route.path(), "pathType": "Prefix", "service": { "identifier": "main", "port": port } }],
        }],
    });
    if let Some(class) = &route.class {
        item["className"] = json!(class.value);
    }
    if let Some(tls) = &route.tls {
        if let Some(issuer) = &tls.value.issuer {
            item["annotations"] = json!({ "cert-manager.io/cluster-issuer": issuer.value });
        }
        item["tls"] = json!([{ "hosts": [host], "secretName": format!("{}-{name}-tls", service.name) }]);
    }
    Some(item)
}
