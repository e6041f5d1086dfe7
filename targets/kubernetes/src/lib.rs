//! The Kubernetes back end: for every cluster, `helm/<cluster>/` holds one values file per service
//! and the Flux objects that install them, and `k8s/<cluster>/` the raw manifests no chart covers.
//!
//! - `helm/<cluster>/<service>.values.yaml`: values for the bjw-s `app-template` chart 4.1.1 (a
//!   generic chart whose `common` library 4.x has a complete values schema; 4.x is the line whose
//!   schema and rendering we validate, and v5 moved `rawResources`, which we do not use), or for
//!   the chart a service's (or its preset's) `helm { … }` payload names, with the payload's values.
//! - `helm/<cluster>/releases.yaml`: a Flux `OCIRepository` or `HelmRepository` per chart and a
//!   `HelmRelease` per service, its values inline (the values file is the same document, kept for
//!   review and `helm template`), `dependsOn` from `needs` on the same cluster; and a
//!   `kustomization.yaml` naming it, so Flux applies the folder without taking values files for
//!   manifests.
//! - `k8s/<cluster>/`: the `Namespace`, `ResourceQuota` and `LimitRange`; External Secrets
//!   `ExternalSecret`s for secrets from a store; Argo Workflows `CronWorkflow`s for workflows; k8up
//!   `Schedule`s for backups of cluster volumes; prometheus-operator `PrometheusRule`s for the
//!   cluster's alerts (from the Prometheus back end's rule groups); priority classes, disruption
//!   budgets, autoscalers and blue-green switches ([`rollout`], [`bluegreen`]); ServiceAccounts,
//!   roles and bindings of services with `access` rules; the `NetworkPolicy`s of namespaces that
//!   deny traffic; the Istio objects of namespaces in the service mesh ([`mesh`]) and of routes through Istio's
//!   ingress gateway ([`gateway`]); the cluster's raw manifests, as given ([`raw`]); and a `kustomization.yaml`.
//!   Every object is checked against the cluster's Kubernetes `version` ([`versions`]).
//!
//! Every document is a typed serde value written by [`spec_yaml`], which double-quotes every
//! string. The template layers each have one escaper in [`escape`]: Helm `tpl` for the values the
//! chart templates, Flux substitution switched off by an annotation on every object, and strings
//! that would reach a template engine we cannot escape for (Argo, untemplated chart fields) are
//! refused with a diagnostic.

mod access;
mod alerting;
mod analysis;
mod bluegreen;
mod canary;
mod chart;
mod dashboards;
mod dumps;
pub mod escape;
mod files;
mod gateway;
mod gpus;
mod ingress;
mod jobs;
mod limits;
mod manifests;
mod mesh;
mod policies;
mod quantity;
mod raw;
mod releases;
mod restore_tests;
mod rollout;
mod security;
mod values;
mod versions;

pub use values::split_image;

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Cluster, Resource};
use spec_compiler::target::{Context, Generated, Index, OutputFile, Target};

/// The Kubernetes target.
pub struct Kubernetes;

impl Target for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn generate(&self, context: &Context<'_>) -> Generated {
        let index = Index::new(context.model);
        let placed = Placed::new(&index);
        let (reach, _) = spec_compiler::model::reach::derive(context.model, &context.stdlib_files());
        // Planned once for every cluster, and not at all for an estate without one.
        let mut rule_groups = if context.model.clusters.is_empty() {
            Default::default()
        } else {
            spec_target_prometheus::cluster_rule_groups(&index)
        };
        let mut generated = Generated::default();
        for (cluster, on) in context.model.clusters.iter().zip(&placed.clusters) {
            let mut lowering = Lowering {
                context,
                index: &index,
                cluster,
                on,
                diagnostics: Vec::new(),
                files: Vec::new(),
                reach: &reach,
                rule_groups: rule_groups.remove(&cluster.name).unwrap_or_default(),
            };
            lowering.check_limits();
            lowering.check_chart_version(&on.services);
            lowering.check_mesh();
            lowering.check_gateway();
            lowering.helm();
            lowering.manifests();
            generated.files.append(&mut lowering.files);
            generated.diagnostics.append(&mut lowering.diagnostics);
        }
        generated
    }
}

/// What is placed on each cluster, in model order, built in one pass.
struct Placed<'m> {
    clusters: Vec<OnCluster<'m>>,
}

/// What one cluster runs.
#[derive(Default)]
struct OnCluster<'m> {
    services: Vec<&'m Resource<spec_compiler::model::Service>>,
    storage: Vec<&'m Resource<spec_compiler::model::Storage>>,
    workflows: Vec<&'m Resource<spec_compiler::model::Workflow>>,
    backups: Vec<&'m Resource<spec_compiler::model::Backup>>,
    jobs: Vec<&'m Resource<spec_compiler::model::Job>>,
}

impl<'m> Placed<'m> {
    fn new(index: &Index<'m>) -> Placed<'m> {
        let model = index.model;
        let position: std::collections::HashMap<&str, usize> =
            model.clusters.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect();
        let mut clusters: Vec<OnCluster<'m>> = model.clusters.iter().map(|_| OnCluster::default()).collect();
        let slot = |on: &spec_compiler::model::types::PlacementRef| {
            (on.kind == "cluster").then(|| position.get(on.name.as_str()).copied()).flatten()
        };
        for service in &model.services {
            if let Some(i) = slot(&service.spec.on.value) {
                clusters[i].services.push(service);
            }
        }
        for storage in &model.storage {
            if let Some(i) = slot(&storage.spec.on.value) {
                clusters[i].storage.push(storage);
            }
        }
        for workflow in &model.workflows {
            if let Some(i) = slot(&workflow.spec.on.value) {
                clusters[i].workflows.push(workflow);
            }
        }
        for job in &model.jobs {
            if let Some(i) = slot(&job.spec.on.value) {
                clusters[i].jobs.push(job);
            }
        }
        for backup in &model.backups {
            if let Some(i) = index.backup_place(&backup.spec).and_then(slot) {
                clusters[i].backups.push(backup);
            }
        }
        Placed { clusters }
    }
}

/// The lowering of one cluster.
struct Lowering<'a, 'm> {
    context: &'a Context<'m>,
    index: &'a Index<'m>,
    cluster: &'m Resource<Cluster>,
    on: &'a OnCluster<'m>,
    diagnostics: Vec<Diagnostic>,
    files: Vec<OutputFile>,
    /// Where every service is, for `service.NAME.host`, `.port` and `.url`.
    reach: &'a spec_compiler::model::reach::Reach,
    /// The cluster's alert rule groups, as the Prometheus back end groups them.
    rule_groups: Vec<spec_target_prometheus::RuleGroup>,
}

impl Lowering<'_, '_> {
    /// The cluster's first (or only) namespace: where the Flux sources, releases and the
    /// cluster-wide objects live.
    fn namespace(&self) -> &str {
        self.cluster.spec.first_namespace()
    }

    /// The namespace a service runs in (the checks have refused an unknown or missing choice).
    fn namespace_of(&self, chosen: Option<&spec_compiler::model::types::Spanned<String>>) -> &str {
        let namespaces = self.cluster.spec.namespaces(self.cluster.name_span);
        let index = self.cluster.spec.namespace_of(chosen).unwrap_or(0);
        namespaces.get(index).map_or("default", |n| n.name)
    }

    /// The Pod Security Standard the namespace a service runs in enforces.
    fn pod_security_of(
        &self,
        service: &Resource<spec_compiler::model::Service>,
    ) -> Option<spec_compiler::model::PodSecurity> {
        self.pod_security_in(service.spec.namespace.as_ref())
    }

    /// The Pod Security Standard of the namespace `chosen` names.
    fn pod_security_in(
        &self,
        chosen: Option<&spec_compiler::model::types::Spanned<String>>,
    ) -> Option<spec_compiler::model::PodSecurity> {
        let namespaces = self.cluster.spec.namespaces(self.cluster.name_span);
        let index = self.cluster.spec.namespace_of(chosen).ok()?;
        namespaces.get(index).and_then(|n| n.pod_security).map(|p| p.value)
    }

    /// Adds a file: the header, then the documents.
    fn file(&mut self, path: String, first_line: Option<String>, body: Result<String, String>, sources: Vec<String>) {
        let body = match body {
            Ok(body) => body,
            Err(bug) => {
                self.diagnostics.push(Diagnostic::new(Code::E9001, self.cluster.name_span, bug));
                return;
            }
        };
        let mut contents = first_line.map(|line| format!("{line}\n")).unwrap_or_default();
        contents.push_str(&self.context.header("#"));
        contents.push_str(&body);
        self.files.push(OutputFile { path, contents, sources });
    }
}
