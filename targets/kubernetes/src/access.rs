//! `k8s/<cluster>/access.yaml`: who each service is to the Kubernetes API. A service with
//! `access` rules gets a `ServiceAccount` named after its release in its namespace (the generic
//! chart's pods run as it: `controllers.main.serviceAccount.name`), a `Role` and `RoleBinding`
//! with its namespace-scoped rules, and a `ClusterRole` and `ClusterRoleBinding` named
//! `<namespace>-<release>` (cluster-scoped names are one space for every namespace) with the rules
//! that span the cluster. Its pull secret is its pods' `imagePullSecrets`, and is checked to be a
//! Docker config (E1250).

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Access, Resource, Service};

use crate::releases::release_name;
use crate::values::secret_name_and_key;

/// The RBAC API the roles and bindings are written in.
const RBAC_API: &str = "rbac.authorization.k8s.io/v1";

/// The key a `kubernetes.io/dockerconfigjson` Secret holds its registry credentials under.
pub const DOCKER_CONFIG_KEY: &str = ".dockerconfigjson";

/// The type of Secret the kubelet reads image pull credentials from.
pub const DOCKER_CONFIG_TYPE: &str = "kubernetes.io/dockerconfigjson";

impl super::Lowering<'_, '_> {
    /// The ServiceAccount, roles and bindings of every service with `access` rules.
    pub fn access_objects(&self) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        for service in &self.on.services {
            if service.spec.access.is_empty() || service.spec.helm.is_some() {
                continue; // a chart's own account is set in its values (E1205)
            }
            let from = format!("from {}", self.context.provenance(service.span));
            let namespace = self.namespace_of(service.spec.namespace.as_ref()).to_string();
            let account = release_name(&service.name);
            let in_namespace = |kind: &str, api: &str, name: &str, body: Value| {
                let mut metadata = self.metadata(name);
                metadata["namespace"] = json!(namespace);
                let mut object = json!({ "apiVersion": api, "kind": kind, "metadata": metadata });
                if let (Value::Object(object), Value::Object(body)) = (&mut object, body) {
                    object.extend(body);
                }
                object
            };
            let cluster_wide = |kind: &str, name: &str, body: Value| {
                let mut object = in_namespace(kind, RBAC_API, name, body);
                if let Some(metadata) = object["metadata"].as_object_mut() {
                    metadata.remove("namespace");
                }
                object
            };
            let subject = json!([{ "kind": "ServiceAccount", "name": account, "namespace": namespace }]);
            documents.push((from.clone(), in_namespace("ServiceAccount", "v1", &account, json!({}))));
            let (wide, local): (Vec<&Access>, Vec<&Access>) =
                service.spec.access.values().map(|r| &r.value).partition(|r| r.cluster_wide());
            if !local.is_empty() {
                let rules: Vec<Value> = local.iter().map(|r| rule(r)).collect();
                documents.push((from.clone(), in_namespace("Role", RBAC_API, &account, json!({ "rules": rules }))));
                let binding = json!({
                    "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account },
                    "subjects": subject,
                });
                documents.push((from.clone(), in_namespace("RoleBinding", RBAC_API, &account, binding)));
            }
            if !wide.is_empty() {
                let name = format!("{namespace}-{account}");
                let rules: Vec<Value> = wide.iter().map(|r| rule(r)).collect();
                documents.push((from.clone(), cluster_wide("ClusterRole", &name, json!({ "rules": rules }))));
                let binding = json!({
                    "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
                    "subjects": subject,
                });
                documents.push((from.clone(), cluster_wide("ClusterRoleBinding", &name, binding)));
            }
        }
        documents
    }

    /// The pod options of a generic-chart service's identity: the ServiceAccount its pods run as
    /// (`None` without `access` rules: the namespace's `default`), and its `imagePullSecrets`
    /// (E1250 when the secret's key is not a Docker config's).
    pub fn pod_identity(&mut self, service: &Resource<Service>) -> (Option<String>, Option<Value>) {
        let account = (!service.spec.access.is_empty()).then(|| release_name(&service.name));
        let Some(pull) = &service.spec.pull_secret else { return (account, None) };
        let Some((name, key)) = self.index.secret(&pull.value.name).and_then(secret_name_and_key) else {
            return (account, None); // no Kubernetes backend: E0612
        };
        if key != DOCKER_CONFIG_KEY {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1250,
                    pull.span,
                    format!(
                        "service `{}` pulls its image with secret `{}`, whose Kubernetes key is `{key}`",
                        service.name, pull.value.name
                    ),
                )
                .with_primary_label(format!("the kubelet reads `{DOCKER_CONFIG_KEY}` only"))
                .with_help(format!(
                    "keep the registry credentials under the key `{DOCKER_CONFIG_KEY}` (`kubectl create secret docker-registry` does)"
                )),
            );
            return (account, None);
        }
        (account, Some(json!([{ "name": name }])))
    }

    /// The secrets the cluster's services pull their images with (their ExternalSecrets create a
    /// Docker config Secret).
    pub fn pull_secrets(&self) -> Vec<&str> {
        self.on.services.iter().filter_map(|s| s.spec.pull_secret.as_ref()).map(|p| p.value.name.as_str()).collect()
    }
}

/// One `PolicyRule`.
fn rule(access: &Access) -> Value {
    let mut rule = json!({
        "apiGroups": access.groups(),
        "resources": access.resources.value,
        "verbs": access.verbs.value,
    });
    if !access.names.is_empty() {
        rule["resourceNames"] = json!(access.names);
    }
    rule
}
