//! `k8s/<cluster>/`: the objects no chart covers.
//!
//! - `namespace.yaml`: per namespace the cluster holds, the `Namespace` (unless `default`) with its
//!   `pod-security.kubernetes.io/enforce` label, a `ResourceQuota` from its `quota` and a
//!   `LimitRange` from its `limits`.
//! - `secrets.yaml`: an External Secrets `ExternalSecret` (`external-secrets.io/v1`) for each
//!   secret with an `external` backend that the cluster's workloads use, and for each read from
//!   `vault`, with a `SecretStore` of the Vault provider before it; it creates a Secret named
//!   after the spec's secret, which `secretKeyRef`s point at.
//! - `workflows.yaml`: an Argo Workflows `CronWorkflow` per scheduled workflow (a DAG, a template
//!   per step with its retries and deadline), or a `WorkflowTemplate` when it has no schedule.
//! - `backups.yaml`: a k8up `Schedule` per offsite copy of a cluster volume or of a service's dump
//!   (the pods of its release, annotated by its chart: [`crate::dumps`]): restic to the offsite
//!   repository, prune from `keep`, a check from `verify`; and per copy with `verify`, the
//!   restore test's `CronJob` ([`crate::restore_tests`]).
//! - `alerts.yaml`: a prometheus-operator `PrometheusRule` with the cluster's rule group, exactly
//!   as the Prometheus back end writes it to `prometheus/cluster-<name>.rules.yml` (where its
//!   promtool test lives).
//! - `alerting.yaml`: the `AlertmanagerConfig` routing the alerts ([`crate::alerting`]).
//! - `manifests.yaml`: the cluster's raw manifests ([`crate::raw`]).
//!
//! Every object is checked against the cluster's Kubernetes `version` (E1260).
//! - `access.yaml`: ServiceAccounts, roles and bindings of services with `access` rules ([`crate::access`]).
//! - `policies.yaml`: the `NetworkPolicy`s of namespaces that deny traffic ([`crate::policies`]).
//! - `mesh.yaml`: the Istio objects of namespaces in the service mesh ([`crate::mesh`]).
//! - `gateway.yaml`: the routes through Istio's ingress gateway ([`crate::gateway`]).
//! - `dashboards.yaml`: a `ConfigMap` of each service's Grafana dashboards ([`crate::dashboards`]).

use crate::policies::{STEP_LABEL, WORKFLOW_LABEL};
use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{Duration, Payload, Spanned};
use spec_compiler::model::{
    Backend, Backup, Cadence, ClusterNamespaces, Concurrency, Copy, EnvValue, Keep, KubernetesSecret, PodSecurity,
    Resource, Vault, Workflow,
};
use spec_compiler::source::Span;

use crate::access::DOCKER_CONFIG_TYPE;
use crate::chart::claim_selector;
use crate::limits::limit_range;
use crate::quantity;
use crate::releases::{commented_documents, release_name};
use crate::values::STORAGE_LABEL;
use spec_compiler::model::secret_keys::stored_in;

/// The External Secrets API the objects are written in.
const ESO_API: &str = "external-secrets.io/v1";

/// The spec of a `SecretStore` reading a `vault` backend: Vault's KV version 2 engine at the
/// path's mount, logged in to with the Kubernetes auth method (mounted at `kubernetes`) as the
/// backend's role, by the External Secrets controller's service account. The `ExternalSecret`'s
/// key is the whole API path (`kv/data/db`), which External Secrets resolves against the mount.
pub fn vault_store(vault: &Vault) -> Value {
    json!({
        "provider": {
            "vault": {
                "server": vault.address.value,
                "path": vault.mount(),
                "version": "v2",
                "auth": { "kubernetes": { "mountPath": "kubernetes", "role": vault.role() } },
            }
        }
    })
}

/// The label a namespace's Pod Security Standard is enforced by.
const POD_SECURITY_ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// A `ResourceQuota`'s `hard` from a namespace's quota.
fn hard(quota: &spec_compiler::model::Quota) -> serde_json::Map<String, Value> {
    let mut hard = serde_json::Map::new();
    if let Some(cpu) = &quota.cpu {
        hard.insert("requests.cpu".into(), json!(cpu.value.quantity()));
    }
    if let Some(memory) = &quota.memory {
        hard.insert("requests.memory".into(), json!(quantity::size(memory.value)));
    }
    if let Some(pods) = &quota.pods {
        hard.insert("pods".into(), json!(pods.value.to_string()));
    }
    if let Some(volumes) = &quota.volumes {
        hard.insert("persistentvolumeclaims".into(), json!(volumes.value.to_string()));
    }
    if let Some(storage) = &quota.storage {
        hard.insert("requests.storage".into(), json!(quantity::size(storage.value)));
    }
    hard
}

impl super::Lowering<'_, '_> {
    /// Writes the cluster's raw manifests and their `kustomization.yaml`.
    pub fn manifests(&mut self) {
        let cluster = self.cluster.name.clone();
        let mut written: Vec<&str> = Vec::new();
        let provenance = self.context.provenance(self.cluster.span);
        let mut files: Vec<(&str, Vec<(String, Value)>)> = vec![
            ("namespace.yaml", self.namespace_objects(&provenance)),
            ("secrets.yaml", self.external_secrets()),
            ("workflows.yaml", self.workflows()),
            ("backups.yaml", self.backups()),
            ("alerts.yaml", self.prometheus_rules(&provenance)),
            ("alerting.yaml", self.alertmanager_config()),
            ("manifests.yaml", self.raw_manifests()),
            ("rollouts.yaml", [self.rollout_objects(), self.switches()].concat()),
            ("access.yaml", self.access_objects()),
            ("policies.yaml", self.network_policies()),
            ("mesh.yaml", self.mesh_objects()),
            ("gateway.yaml", self.gateway_objects()),
            ("dashboards.yaml", self.dashboard_config_maps()),
        ];
        for (name, documents) in files.drain(..) {
            if documents.is_empty() {
                continue;
            }
            self.check_served(name, &documents);
            let sources = documents.iter().filter_map(|(c, _)| c.strip_prefix("from ").map(str::to_string)).collect();
            self.file(format!("k8s/{cluster}/{name}"), None, commented_documents(&documents), sources);
            written.push(name);
        }
        if !written.is_empty() {
            self.kustomization(format!("k8s/{cluster}/kustomization.yaml"), &written);
        }
    }

    /// The cluster's alerts (its services' own, presets' and the generated ones), as the
    /// Prometheus back end groups them, in one prometheus-operator `PrometheusRule` per group.
    /// The operator's `ruleSelector` must select them (by namespace, or by labels it is given).
    fn prometheus_rules(&self, provenance: &str) -> Vec<(String, Value)> {
        self.rule_groups
            .iter()
            .filter(|group| !group.rules.is_empty())
            .map(|group| {
                let name = group.name.clone();
                let spec = json!({ "groups": [group] });
                (format!("from {provenance}"), self.object("monitoring.coreos.com/v1", "PrometheusRule", &name, spec))
            })
            .collect()
    }

    fn object(&self, api_version: &str, kind: &str, name: &str, spec: Value) -> Value {
        json!({ "apiVersion": api_version, "kind": kind, "metadata": self.metadata(name), "spec": spec })
    }

    /// Per namespace the cluster holds: the `Namespace` (unless `default`) with its pod-security
    /// label, a `ResourceQuota` from its `quota` and a `LimitRange` from its `limits`.
    fn namespace_objects(&self, provenance: &str) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        let held = matches!(self.cluster.spec.namespace.as_ref().map(|n| &n.value), Some(ClusterNamespaces::Held(_)));
        for namespace in self.cluster.spec.namespaces(self.cluster.name_span) {
            // A held namespace comes from its block; the single one from the cluster, as before.
            let from = match held {
                true => format!("from {}", self.context.provenance(namespace.span)),
                false => format!("from {provenance}"),
            };
            let metadata = |name: &str| {
                let mut metadata = self.metadata(name);
                metadata["namespace"] = json!(namespace.name);
                metadata
            };
            let object = |kind: &str, spec: Value| json!({ "apiVersion": "v1", "kind": kind, "metadata": metadata("estate"), "spec": spec });
            if namespace.name != "default" || namespace.pod_security.is_some() || namespace.mesh.is_some() {
                let mut metadata = metadata(namespace.name);
                if let Some(metadata) = metadata.as_object_mut() {
                    metadata.remove("namespace");
                }
                if let Some(level) = namespace.pod_security {
                    metadata["labels"] = json!({ POD_SECURITY_ENFORCE: level.value.label() });
                }
                if namespace.mesh.is_some() {
                    let (label, value) = crate::mesh::INJECTION_LABEL;
                    metadata["labels"][label] = json!(value);
                }
                documents
                    .push((from.clone(), json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": metadata })));
            }
            if let Some(quota) = namespace.quota {
                documents.push((from.clone(), object("ResourceQuota", json!({ "hard": hard(&quota.value) }))));
            }
            if let Some(limits) = namespace.limits {
                documents.push((from, object("LimitRange", json!({ "limits": [limit_range(&limits.value)] }))));
            }
        }
        documents
    }

    /// The secrets the cluster's services (their env and chart values), jobs, workflows and backups
    /// use, each with the namespace that reads it, in first-use order: a Secret is read only in
    /// its own namespace, so one used in two namespaces is written into both.
    fn used_secrets(&self) -> Vec<(&str, &str)> {
        let mut seen = indexmap::IndexSet::new();
        let first = self.namespace();
        for service in &self.on.services {
            let namespace = self.namespace_of(service.spec.namespace.as_ref());
            for value in service.spec.env.values() {
                if let EnvValue::Secret(secret) = &value.value {
                    seen.insert((secret.name.as_str(), namespace));
                }
            }
        }
        for job in &self.on.jobs {
            let namespace = self.namespace_of(job.spec.namespace.as_ref());
            for value in job.spec.env.values() {
                if let EnvValue::Secret(secret) = &value.value {
                    seen.insert((secret.name.as_str(), namespace));
                }
            }
        }
        let steps =
            self.on.workflows.iter().flat_map(|w| w.spec.step.value.values().flat_map(|s| s.value.env.values()));
        for value in steps {
            if let EnvValue::Secret(secret) = &value.value {
                seen.insert((secret.name.as_str(), first));
            }
        }
        for service in &self.on.services {
            let Some(helm) = &service.spec.helm else { continue };
            let namespace = self.namespace_of(service.spec.namespace.as_ref());
            let mut stack: Vec<&Payload> = helm.value.values.values().collect();
            while let Some(value) = stack.pop() {
                match value {
                    Payload::Reference(reference) if reference.kind == "secret" => {
                        seen.insert((reference.name.as_str(), namespace));
                    }
                    Payload::List(items) => stack.extend(items.iter().rev()),
                    Payload::Map(map) | Payload::Tagged(_, map) => stack.extend(map.values().rev()),
                    _ => {}
                }
            }
        }
        for backup in &self.on.backups {
            for copy in backup.spec.copies(&backup.name) {
                seen.insert((copy.restic.password.name.as_str(), self.namespace_of_storage(backup)));
            }
        }
        for service in &self.on.services {
            if let Some(pull) = &service.spec.pull_secret {
                seen.insert((pull.value.name.as_str(), self.namespace_of(service.spec.namespace.as_ref())));
            }
        }
        // The AlertmanagerConfig lives in the first namespace, beside the secrets it reads.
        seen.extend(self.alerting_secrets().into_iter().map(|name| (name, first)));
        seen.into_iter().collect()
    }

    /// The namespace of the storage a backup copies, or of the service whose dump it copies
    /// (where its k8up `Schedule` must live).
    pub(crate) fn namespace_of_storage(&self, backup: &Resource<Backup>) -> &str {
        let chosen = match (backup.spec.storage(), backup.spec.service()) {
            (Some(storage), _) => self.index.storage(storage).and_then(|s| s.spec.namespace.as_ref()),
            (None, Some(service)) => self.index.service(service).and_then(|s| s.spec.namespace.as_ref()),
            (None, None) => None,
        };
        self.namespace_of(chosen)
    }

    /// An object in a given namespace of the cluster.
    pub(crate) fn object_in(&self, namespace: &str, api_version: &str, kind: &str, name: &str, spec: Value) -> Value {
        let mut object = self.object(api_version, kind, name, spec);
        object["metadata"]["namespace"] = json!(namespace);
        object
    }

    /// An `ExternalSecret` per secret the cluster reads through External Secrets, in each
    /// namespace that reads it: from the store an `external` backend names, or from a
    /// `SecretStore` of its own for a `vault` backend (written just before it, in the same
    /// namespace, named after the secret). Either creates a Secret named after the spec's secret.
    /// A generated store that would replace one an `external` backend reads in the same namespace
    /// is E1220.
    fn external_secrets(&mut self) -> Vec<(String, Value)> {
        // A key of a secret holding several values is read from the one Secret of that secret,
        // which one `ExternalSecret` fills with every key.
        let index = self.index;
        let mut used: Vec<(&str, &str)> = Vec::new();
        for (name, namespace) in self.used_secrets() {
            let held = (index.secret(name).map_or(name, stored_in), namespace);
            if !used.contains(&held) {
                used.push(held);
            }
        }
        let pulled = self.pull_secrets();
        // The stores the estate's `external` backends read, by namespace: the user's own.
        let mut read: std::collections::BTreeMap<(&str, &str), &str> = std::collections::BTreeMap::new();
        for &(name, namespace) in &used {
            let secret = self.index.secret(name).map(|s| s.spec.on_kubernetes());
            if let Some(Some(Backend::Own(Spanned { value: KubernetesSecret::External { store, .. }, .. }))) = secret {
                read.entry((namespace, store.as_str())).or_insert(name);
            }
        }
        let mut documents = Vec::new();
        let mut clashes = Vec::new();
        for (name, namespace) in used {
            let Some(secret) = self.index.secret(name) else { continue };
            let from = format!("from {}", self.context.provenance(secret.span));
            let (store, path, key) = match secret.spec.on_kubernetes() {
                Some(Backend::Own(Spanned { value: KubernetesSecret::External { store, path, key }, .. })) => {
                    (store.as_str(), path.as_str(), key.as_deref().unwrap_or_default())
                }
                Some(Backend::Vault(vault)) => {
                    if let Some(reader) = read.get(&(namespace, name)) {
                        clashes.push((vault.span, name, namespace, *reader));
                        continue;
                    }
                    let store = vault_store(&vault.value);
                    documents.push((from.clone(), self.object_in(namespace, ESO_API, "SecretStore", name, store)));
                    (name, vault.value.path.value.as_str(), vault.value.key())
                }
                _ => continue,
            };
            // Every key of a secret holding several values, else the one its backend names.
            let keys: Vec<&str> = match &secret.spec.keys {
                Some(keys) => keys.value.iter().map(|k| k.value.as_str()).collect(),
                None => vec![key],
            };
            let data: Vec<Value> = keys
                .iter()
                .map(|key| json!({ "secretKey": key, "remoteRef": { "key": path, "property": key } }))
                .collect();
            let mut spec = json!({
                "refreshInterval": "1h",
                "secretStoreRef": { "kind": "SecretStore", "name": store },
                "target": { "name": name, "creationPolicy": "Owner" },
                "data": data,
            });
            // An image pull secret is a Docker config Secret, its key kept as the store has it.
            if pulled.contains(&name) {
                spec["target"]["template"] = json!({ "type": DOCKER_CONFIG_TYPE, "mergePolicy": "Merge" });
            }
            documents.push((from, self.object_in(namespace, ESO_API, "ExternalSecret", name, spec)));
        }
        let refused: Vec<Diagnostic> = clashes
            .into_iter()
            .map(|(span, name, namespace, reader)| {
                Diagnostic::new(
                    Code::E1220,
                    span,
                    format!(
                        "the SecretStore `{name}` of secret `{name}`'s Vault backend would replace the store secret `{reader}` reads in namespace `{namespace}` of cluster `{}`",
                        self.cluster.name
                    ),
                )
                .with_primary_label("its SecretStore is named after the secret")
                .with_help(format!("rename the secret `{name}`, or the store secret `{reader}`'s `external` backend names"))
            })
            .collect();
        self.diagnostics.extend(refused);
        documents
    }

    fn workflows(&mut self) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        for workflow in self.on.workflows.clone() {
            let Some(spec) = self.workflow_spec(workflow) else { continue };
            let from = format!("from {}", self.context.provenance(workflow.span));
            let document = match &workflow.spec.schedule {
                Some(schedule) => self.object(
                    "argoproj.io/v1alpha1",
                    "CronWorkflow",
                    &workflow.name,
                    json!({
                        "schedules": [schedule.value],
                        "concurrencyPolicy": workflow.spec.concurrency.as_ref().map_or(Concurrency::Forbid, |c| c.value).kubernetes(),
                        "workflowSpec": spec,
                    }),
                ),
                None => self.object("argoproj.io/v1alpha1", "WorkflowTemplate", &workflow.name, spec),
            };
            documents.push((from, document));
        }
        documents
    }

    /// A DAG of the steps; Argo substitutes `{{…}}` in container fields, so step text holding one
    /// is refused. In a namespace enforcing the `restricted` Pod Security Standard (the cluster's
    /// first, where workflows are written), the pods and the steps' containers carry what it asks
    /// for, as a service's do; otherwise admission refuses every run.
    fn workflow_spec(&mut self, workflow: &Resource<Workflow>) -> Option<Value> {
        let restricted = self
            .cluster
            .spec
            .namespaces(self.cluster.name_span)
            .first()
            .and_then(|n| n.pod_security)
            .is_some_and(|p| p.value == PodSecurity::Restricted);
        // In a namespace that denies traffic, each step's pods carry the labels their policy
        // selects ([`crate::policies`]).
        let denied = self
            .cluster
            .spec
            .namespaces(self.cluster.name_span)
            .first()
            .and_then(|n| n.network_policy)
            .is_some_and(|p| p.value == spec_compiler::model::NetworkPolicy::Deny);
        let mut ok = true;
        let mut tasks = Vec::new();
        let mut templates = Vec::new();
        for (name, step) in &workflow.spec.step.value {
            let step = &step.value;
            ok &= self.refuse_template(&step.image, "the step's image", "Argo Workflows");
            for arg in &step.args {
                ok &= self.refuse_template_in(arg, "a step argument", "Argo Workflows");
            }
            let mut env = Vec::new();
            for (key, value) in &step.env {
                let value = match &value.value {
                    EnvValue::Text(text) => {
                        let text = Spanned { value: text.clone(), span: value.span };
                        ok &= self.refuse_template(&text, "an environment value", "Argo Workflows");
                        json!({ "name": key, "value": text.value })
                    }
                    EnvValue::Number(n) => json!({ "name": key, "value": n.to_string() }),
                    EnvValue::Flag(b) => json!({ "name": key, "value": b.to_string() }),
                    // Where a service is, from this cluster; what has no value is E0625.
                    EnvValue::Endpoint(endpoint) => match self.reach.resolve(&workflow.spec.on, endpoint) {
                        Ok(text) => json!({ "name": key, "value": text }),
                        Err(_) => continue,
                    },
                    EnvValue::Template(template) => {
                        let written = Spanned { value: template.written(), span: value.span };
                        ok &= self.refuse_template(&written, "an environment value", "Argo Workflows");
                        match template.fill(|e| self.reach.resolve(&workflow.spec.on, e)) {
                            Ok(text) => json!({ "name": key, "value": text }),
                            Err(_) => continue,
                        }
                    }
                    EnvValue::Secret(secret) => match self.secret_key_ref(&secret.name) {
                        Some(reference) => json!({ "name": key, "valueFrom": { "secretKeyRef": reference } }),
                        None => continue,
                    },
                };
                env.push(value);
            }
            let template_name = format!("step-{name}");
            let mut task = json!({ "name": name, "template": template_name });
            // Services it needs are reached at their DNS names in the cluster (elsewhere is E0737).
            let steps: Vec<String> = step.needed_steps().map(|n| n.name.clone()).collect();
            if !steps.is_empty() {
                task["dependencies"] = json!(steps);
            }
            tasks.push(task);
            let mut container = json!({ "image": step.image.value });
            if !step.args.is_empty() {
                container["args"] = json!(self.filled_args(&workflow.spec.on, &step.args));
            }
            if !env.is_empty() {
                container["env"] = Value::Array(env);
            }
            if restricted {
                container["securityContext"] = crate::security::restricted_container();
            }
            let mut template = json!({ "name": template_name, "container": container });
            if denied {
                template["metadata"] = json!({ "labels": { WORKFLOW_LABEL: workflow.name, STEP_LABEL: name } });
            }
            if let Some(retries) = step.retries.as_ref().filter(|r| r.value > 0) {
                template["retryStrategy"] = json!({ "limit": retries.value, "retryPolicy": "OnFailure" });
            }
            if let Some(timeout) = &step.timeout {
                template["activeDeadlineSeconds"] = json!(quantity::seconds(timeout.value));
            }
            templates.push(template);
        }
        templates.insert(0, json!({ "name": "main", "dag": { "tasks": tasks } }));
        let mut spec = json!({ "entrypoint": "main", "templates": templates });
        if restricted {
            spec["securityContext"] = crate::security::restricted_pod()["securityContext"].take();
        }
        ok.then_some(spec)
    }

    fn backups(&mut self) -> Vec<(String, Value)> {
        // A claim is created by the chart of the service that mounts the volume: a volume no
        // service on the cluster mounts is claimed by nothing.
        for storage in &self.on.storage {
            let Some(volume) = &storage.spec.volume else { continue };
            if !self.on.services.iter().any(|s| s.spec.volumes.values().any(|v| v.name == storage.name)) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1201,
                        volume.span,
                        format!("volume `{}` is mounted by no service of cluster `{}`", storage.name, self.cluster.name),
                    )
                    .with_primary_label("no chart claims it")
                    .with_help("mount it in a service on the cluster (`volumes { \"/data\" = storage.NAME }`), whose chart creates the claim"),
                );
            }
        }
        let mut documents = Vec::new();
        for backup in self.on.backups.clone() {
            let unsupported = [
                backup.spec.snapshots.as_ref().map(|s| (s.span, "local snapshots", "k8up copies volumes offsite but takes no local snapshots; use a VolumeSnapshot schedule of your CSI driver, or drop `snapshots`")),
                backup.spec.replicate.as_ref().map(|r| (r.span, "a ZFS replica", "a cluster volume is not a ZFS dataset; copy it offsite with `offsite = restic { … }` instead")),
            ];
            // A dump needs the pod annotations the chart of the service takes (`dumps.rs`).
            let dumped_service = backup.spec.service().and_then(|name| self.index.service(name));
            let dump = dumped_service.filter(|s| crate::dumps::backup_command(s).is_none()).map(|_| {
                (backup.spec.source.span, "the dump of a service", "k8up runs a dump from the annotations of the pod holding the data, which the chart payload of the service places with `backup_command { container, command }` (a preset's chart, at its pod annotations); this one places none")
            });
            let generated = dump.is_none();
            for (span, what, help) in unsupported.into_iter().flatten().chain(dump) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1201,
                        span,
                        format!("backup `{}` asks for {what} of a cluster volume", backup.name),
                    )
                    .with_primary_label("not generated for clusters")
                    .with_help(help),
                );
            }
            if !generated {
                continue;
            }
            let from = format!("from {}", self.context.provenance(backup.span));
            for copy in backup.spec.copies(&backup.name) {
                if let Some(schedule) = self.k8up_schedule(backup, &copy) {
                    documents.push((from.clone(), schedule));
                    documents.extend(self.restore_test(backup, &copy).map(|job| (from.clone(), job)));
                }
            }
        }
        documents
    }

    /// The k8up `Schedule` of one offsite copy, named after the copy's job.
    fn k8up_schedule(&mut self, backup: &Resource<Backup>, copy: &Copy<'_>) -> Option<Value> {
        let (password, every, keep) = (&copy.restic.password, copy.restic.every, &copy.restic.keep);
        let repository = self.index.repository(copy)?;
        let backend = self.k8up_backend(&repository, copy.span, &backup.name)?;
        let mut backend = backend;
        backend["repoPasswordSecretRef"] = self.secret_key_ref(&password.name)?;
        // The repository's own credentials (the copy's, or its bucket's): every key of their
        // Secret becomes a variable of the restic job (`AWS_ACCESS_KEY_ID`,
        // `AWS_SECRET_ACCESS_KEY`, `B2_ACCOUNT_ID`, …). An External Secrets or Vault backend
        // syncs one key, which cannot hold them all.
        if let Some(credentials) = self.index.repository_credentials(copy) {
            match self.index.secret(&credentials.name).and_then(|s| s.spec.on_kubernetes()) {
                Some(Backend::Own(Spanned { value: KubernetesSecret::Existing { name, .. }, .. })) => {
                    backend["envFrom"] = json!([{ "secretRef": { "name": name } }]);
                    // k8up writes its own global S3 keys (empty when the operator has none) into
                    // the job's `env`, which wins over `envFrom`: S3's two keys reach restic only
                    // through the backend's selectors.
                    if backend["s3"].is_object() {
                        backend["s3"]["accessKeyIDSecretRef"] = json!({ "name": name, "key": "AWS_ACCESS_KEY_ID" });
                        backend["s3"]["secretAccessKeySecretRef"] =
                            json!({ "name": name, "key": "AWS_SECRET_ACCESS_KEY" });
                    }
                }
                _ => self.diagnostics.push(
                    Diagnostic::new(
                        Code::W1201,
                        credentials.span,
                        format!("backup `{}`'s repository credentials have no k8up form", copy.name),
                    )
                    .with_primary_label("not generated for clusters")
                    .with_help(format!(
                        "give secret `{}` a `k8s = existing {{ name = … }}` Secret whose keys are the variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`); k8up hands them all to restic",
                        credentials.name
                    )),
                ),
            }
        }
        let cron = self.cron(every, copy.span, &backup.name)?;
        // The claims of the storage: by the storage's label, or by the labels the chart of the
        // service mounting it puts on the claim it creates.
        // A dump: the pods of the service's release, by the instance label every chart following
        // Helm's conventions puts on them (k8up runs the command of those annotated).
        let selector = match (backup.spec.storage(), backup.spec.service()) {
            (Some(storage), _) => self
                .on
                .services
                .iter()
                .find(|s| s.spec.volumes.values().any(|v| v.name == *storage))
                .and_then(|s| claim_selector(s))
                .map_or_else(|| json!({ STORAGE_LABEL: storage }), Value::Object),
            (None, Some(service)) => json!({ crate::policies::INSTANCE_LABEL: release_name(service) }),
            (None, None) => return None,
        };
        let mut spec = json!({
            "backend": backend,
            "backup": {
                "schedule": cron,
                "labelSelectors": [{ "matchLabels": selector }],
                "successfulJobsHistoryLimit": 2,
                "failedJobsHistoryLimit": 2,
            },
        });
        if let Some(keep) = keep {
            spec["prune"] = json!({ "schedule": "0 1 * * 0", "retention": retention(keep) });
        }
        if let Some(verify) = &backup.spec.verify {
            let schedule = match verify.value {
                Cadence::Daily => "0 4 * * *",
                Cadence::Weekly => "0 4 * * 1",
                Cadence::Monthly => "0 4 1 * *",
            };
            spec["check"] = json!({ "schedule": schedule });
            if let Some(rto) = &backup.spec.rto {
                // The RTO is the check's time limit: a check slower than it fails.
                spec["check"]["activeDeadlineSeconds"] = json!(quantity::seconds(rto.value).max(1));
            }
        }
        Some(self.object_in(self.namespace_of_storage(backup), "k8up.io/v1", "Schedule", &copy.name, spec))
    }

    /// The k8up backend of a restic repository: `s3:`, `b2:` and `rest:` repositories have one;
    /// The repository's credentials, when given, come from their Secret by `envFrom`.
    fn k8up_backend(&mut self, repository: &str, span: Span, backup: &str) -> Option<Value> {
        if let Some(url) = repository.strip_prefix("s3:") {
            let scheme_end = url.find("://").map_or(0, |i| i + 3);
            let (endpoint, bucket) = match url[scheme_end..].find('/') {
                Some(slash) => (&url[..scheme_end + slash], &url[scheme_end + slash + 1..]),
                None => (url, ""),
            };
            if !bucket.is_empty() {
                return Some(json!({ "s3": { "endpoint": endpoint, "bucket": bucket } }));
            }
        } else if let Some(rest) = repository.strip_prefix("b2:") {
            let (bucket, path) = rest.split_once(':').unwrap_or((rest, ""));
            return Some(json!({ "b2": { "bucket": bucket, "path": path } }));
        } else if let Some(url) = repository.strip_prefix("rest:") {
            return Some(json!({ "rest": { "url": url } }));
        }
        self.diagnostics.push(
            Diagnostic::new(Code::W1201, span, format!("backup `{backup}`'s repository has no k8up form"))
                .with_primary_label("not generated for clusters")
                .with_help(
                    "k8up writes to `s3:https://host/bucket`, `b2:bucket:path` and `rest:https://…` repositories",
                ),
        );
        None
    }

    /// A cron expression that runs every `every`, when one exists.
    fn cron(&mut self, every: Duration, span: Span, backup: &str) -> Option<String> {
        let minutes = every.0 / 60_000;
        let exact = every.0.is_multiple_of(60_000);
        let cron = match minutes {
            m if exact && m > 0 && m < 60 && 60 % m == 0 => Some(format!("*/{m} * * * *")),
            60 => Some("0 * * * *".into()),
            m if exact && m > 0 && m % 60 == 0 && m < 1440 && 1440 % m == 0 => Some(format!("0 */{} * * *", m / 60)),
            1440 => Some("0 0 * * *".into()),
            10_080 => Some("0 0 * * 0".into()),
            _ => None,
        };
        if cron.is_none() {
            self.diagnostics.push(
                Diagnostic::new(Code::E1204, span, format!("backup `{backup}`'s interval has no cron form"))
                    .with_primary_label("k8up schedules are cron expressions")
                    .with_help("use an interval that divides an hour or a day, or `1d`, or `7d`"),
            );
        }
        cron
    }
}

fn retention(keep: &Keep) -> Value {
    let mut retention = serde_json::Map::new();
    for (name, count) in [
        ("keepHourly", &keep.hourly),
        ("keepDaily", &keep.daily),
        ("keepWeekly", &keep.weekly),
        ("keepMonthly", &keep.monthly),
        ("keepYearly", &keep.yearly),
    ] {
        if let Some(count) = count {
            retention.insert(name.into(), json!(count.value));
        }
    }
    Value::Object(retention)
}
