//! Stage 3, the model: evaluated resources to the typed, checked [`Model`] the targets read.
//!
//! Each kind's struct in [`kinds`] is the one definition of its fields; its derived JSON Schema
//! drives the [`check`]er, and the checked records are deserialised into the structs by [`de`].
//! The model holds no expressions and no syntax; every value keeps its span.
//!
//! Invariant: the model is built only from records the checker accepted, so deserialisation
//! cannot fail except by a compiler bug (reported as E9001, never a panic).

pub mod access;
pub mod backup;
pub mod check;
mod cpu;
pub mod dashboards;
mod de;
pub mod diff;
pub mod expose;
pub mod external;
pub mod files;
pub mod health;
pub mod host;
pub mod ingress;
pub mod job;
mod kind;
pub mod kinds;
pub mod members;
pub mod mesh;
pub mod namespace;
pub mod reach;
pub mod rollout;
pub mod routing;
pub mod secret;
pub mod secret_keys;
pub mod shape;
pub mod slo;
pub mod stream;
pub mod types;

use std::sync::OnceLock;

use schemars::{JsonSchema, schema_for};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::eval::{Evaluated, OverlayPath};
use crate::source::Span;
pub use access::{Access, AccessScope, NetworkPolicy, pod_labels};
pub use backup::*;
pub use expose::{Audience, Expose, Exposed};
pub use external::{Bucket, ExternalEndpoint, Lifecycle, StorageClass, Transition};
pub use files::{FileContent, KubeVersion, Manifest};
pub use health::{Health, HealthTiming};
pub use host::{Capabilities, Concurrency, Security};
pub use ingress::{Ingress, Tls};
pub use job::Job;
pub use kind::Kind;
pub use kinds::*;
pub use members::{Members, MembersForm};
pub use mesh::{Mesh, Mtls};
pub use namespace::{ClusterNamespace, ClusterNamespaces, Namespace, NamespaceChoice, PodSecurity, QuotaAsk};
pub use rollout::{Amount, Analysis, Autoscale, Colour, Disruption, Release, Rollout, ScaleMetric, Threshold, Tier};
pub use routing::{Receiver, Route};
pub use secret::{Backend, Facet, KubernetesSecret, NixosSecret, Secret, SystemdSecret, Vault};
pub use slo::Slo;
pub use stream::Stream;

/// A named resource of one kind.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "{T}Resource")]
pub struct Resource<T> {
    /// The resource's name, a DNS-1123 label.
    pub name: String,
    /// The whole block.
    #[serde(skip)]
    pub span: Span,
    /// Where the name is written.
    #[serde(skip)]
    pub name_span: Span,
    /// The checked fields.
    #[serde(flatten)]
    pub spec: T,
    /// The presets the block uses (for diagnostics about the fields they bring).
    #[serde(skip)]
    pub presets: Vec<crate::eval::PresetUse>,
    /// The loop iterations the block was expanded in, innermost first (for diagnostics about the
    /// rows they iterated over).
    #[serde(skip)]
    pub rows: std::sync::Arc<[crate::eval::LoopRow]>,
}

impl<T> Resource<T> {
    /// `diagnostic`, moved to the `use` line when it points inside a preset this block uses.
    pub fn at_use(&self, diagnostic: Diagnostic) -> Diagnostic {
        crate::eval::at_use(diagnostic, &self.presets)
    }
}

/// The whole estate, checked and typed: what every target reads.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Model {
    /// Hosts.
    pub nodes: Vec<Resource<Node>>,
    /// Networks.
    pub networks: Vec<Resource<Network>>,
    /// Kubernetes clusters.
    pub clusters: Vec<Resource<Cluster>>,
    /// Datasets and volumes.
    pub storage: Vec<Resource<Storage>>,
    /// Workloads.
    pub services: Vec<Resource<Service>>,
    /// Prometheus alerts.
    pub alerts: Vec<Resource<Alert>>,
    /// Backup policies.
    pub backups: Vec<Resource<Backup>>,
    /// Scheduled workflows.
    pub workflows: Vec<Resource<Workflow>>,
    /// Secrets, by reference.
    pub secrets: Vec<Resource<Secret>>,
    /// Where alerts are sent.
    #[serde(default)]
    pub receivers: Vec<Resource<Receiver>>,
    /// Which alerts go to which receiver, tried in order.
    #[serde(default)]
    pub routes: Vec<Resource<Route>>,
    /// Buckets of object stores the estate uses.
    #[serde(default)]
    pub buckets: Vec<Resource<Bucket>>,
    /// Services the estate uses but does not run.
    #[serde(default)]
    pub endpoints: Vec<Resource<ExternalEndpoint>>,
    /// Service level objectives.
    #[serde(default)]
    pub slos: Vec<Resource<Slo>>,
    /// One-shot jobs.
    #[serde(default)]
    pub jobs: Vec<Resource<Job>>,
    /// Message streams (each also a job that applies it, `stream-NAME`, among `jobs`).
    #[serde(default)]
    pub streams: Vec<Resource<Stream>>,
    /// The text of every dashboard file the services name that exists and holds a JSON object,
    /// by the path they name it by (`dashboards::attach` fills it from the data files the caller
    /// read).
    #[serde(skip)]
    #[schemars(skip)]
    pub dashboards: indexmap::IndexMap<String, String>,
    /// The estate's environments as the back ends need them (the driver fills it): whether the
    /// estate declares any, which one this model is, and the nodes the overlays name.
    #[serde(skip)]
    #[schemars(skip)]
    pub environments: Environments,
}

/// The environments of an estate, seen from one run of it (the base estate or one environment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environments {
    /// The environments the estate declares (`env NAME { … }`), in source order.
    pub declared: Vec<String>,
    /// The environment applied to this model, `None` for the base estate.
    pub applied: Option<String>,
    /// The nodes some environment, or a top-level `let` an environment may read, names
    /// (`node.NAME`), read from the syntax: a run does not evaluate the other environments, so
    /// this is what tells it a node unused here may be used by one of them.
    pub named_nodes: std::collections::BTreeSet<String>,
    /// Whether an environment or a top-level `let` builds a node reference from a string
    /// (`node."k-${i}"`), which may name any node.
    pub names_any_node: bool,
}

/// The JSON Schema of one kind (generated once).
pub fn kind_schema(kind: Kind) -> &'static Json {
    macro_rules! cached {
        ($($kind:ident => $ty:ty),*) => {
            match kind {
                $(Kind::$kind => {
                    static SCHEMA: OnceLock<Json> = OnceLock::new();
                    SCHEMA.get_or_init(|| schema_for!($ty).to_value())
                })*
            }
        };
    }
    cached!(Node => Node, Network => Network, Cluster => Cluster, Storage => Storage, Service => Service,
        Alert => Alert, Backup => Backup, Workflow => Workflow, Secret => Secret, Receiver => Receiver, Route => Route,
        Bucket => Bucket, Endpoint => ExternalEndpoint, Slo => Slo,
        Job => Job, Stream => Stream)
}

/// The names of a kind's top-level fields, from its schema: what an overlay path's first field is
/// when it is not a parameter of a preset the block uses.
pub fn kind_fields(kind: Kind) -> Vec<&'static str> {
    let root = kind_schema(kind);
    let checker = check::Checker::new(root);
    checker
        .resolve(root)
        .get("properties")
        .and_then(Json::as_object)
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The JSON Schema of the whole model, printed by `spec schema`.
pub fn model_schema() -> Json {
    schema_for!(Model).to_value()
}

fn typed<T: DeserializeOwned>(
    resource: &crate::eval::Resource,
    body: &crate::eval::value::Record,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Resource<T>> {
    match de::from_record::<T>(body) {
        Ok(spec) => Some(Resource {
            name: resource.name.clone(),
            span: resource.span,
            name_span: resource.name_span,
            spec,
            presets: resource.presets.clone(),
            rows: resource.rows.clone(),
        }),
        Err(error) => {
            diagnostics.push(
                Diagnostic::new(
                    Code::E9001,
                    resource.name_span,
                    format!("internal error: the checked {} could not be read: {error}", resource.kind),
                )
                .with_primary_label("while reading this resource")
                .with_help("this is a bug in spec; please report it with this file"),
            );
            None
        }
    }
}

/// Checks every resource against its kind's schema and builds the model from those that fit.
pub fn build_model(mut evaluated: Evaluated) -> (Model, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    secret_keys::rewrite(&mut evaluated.resources, &mut evaluated.overlay_blocks, &mut diagnostics);
    for path in evaluated.overlay_paths.iter().filter(|p| !p.applied).cloned() {
        check_overlay_path(path, &mut diagnostics);
    }
    // The blocks an environment that is not applied adds are checked as its run would check
    // them, so a mistake in one is caught on every run; they are no part of this model.
    for mut resource in evaluated.overlay_blocks {
        let mut checker = check::Checker::compiled(shape::kind_shapes(resource.kind));
        checker.report_missing = !resource.poisoned;
        checker.check_record(&mut resource.body, resource.name_span);
        diagnostics.extend(checker.diagnostics.drain(..).map(|d| crate::eval::at_use(d, &resource.presets)));
    }
    // Each resource is checked and read on its own, so the resources are split over the cores;
    // the parts are joined in order, which is the model one thread would build.
    let parts = crate::parallel::map_chunks(evaluated.resources, RESOURCES_PER_THREAD, build_part);
    let mut model = Model::default();
    for (part, mut found) in parts {
        model.append(part);
        diagnostics.append(&mut found);
    }
    secret_keys::add_facets(&mut model);
    stream::add_jobs(&mut model);
    (model, diagnostics)
}

/// Below this many resources per core, the model is built on one thread.
const RESOURCES_PER_THREAD: usize = 512;

/// Checks and reads a run of resources, in order.
fn build_part(resources: Vec<crate::eval::Resource>) -> (Model, Vec<Diagnostic>) {
    let mut model = Model::default();
    let mut diagnostics = Vec::new();
    for mut resource in resources {
        let mut checker = check::Checker::compiled(shape::kind_shapes(resource.kind));
        checker.report_missing = !resource.poisoned;
        let mut body = std::mem::take(&mut resource.body);
        let ok = checker.check_record(&mut body, resource.name_span);
        // A mistake in a field a preset brought is shown at the `use` line that brought it.
        // And one made inside a loop names the iteration.
        diagnostics.extend(
            checker
                .diagnostics
                .drain(..)
                .map(|d| crate::eval::in_rows(crate::eval::at_use(d, &resource.presets), &resource.rows)),
        );
        if !ok || resource.poisoned {
            continue;
        }
        let d = &mut diagnostics;
        match resource.kind {
            Kind::Node => model.nodes.extend(typed(&resource, &body, d)),
            Kind::Network => model.networks.extend(typed(&resource, &body, d)),
            Kind::Cluster => model.clusters.extend(typed(&resource, &body, d)),
            Kind::Storage => model.storage.extend(typed(&resource, &body, d)),
            Kind::Service => model.services.extend(typed(&resource, &body, d)),
            Kind::Alert => model.alerts.extend(typed(&resource, &body, d)),
            Kind::Backup => model.backups.extend(typed(&resource, &body, d)),
            Kind::Workflow => model.workflows.extend(typed(&resource, &body, d)),
            Kind::Secret => model.secrets.extend(typed(&resource, &body, d)),
            Kind::Receiver => model.receivers.extend(typed(&resource, &body, d)),
            Kind::Route => model.routes.extend(typed(&resource, &body, d)),
            Kind::Bucket => model.buckets.extend(typed(&resource, &body, d)),
            Kind::Endpoint => model.endpoints.extend(typed(&resource, &body, d)),
            Kind::Slo => model.slos.extend(typed(&resource, &body, d)),
            Kind::Job => model.jobs.extend(typed(&resource, &body, d)),
            Kind::Stream => model.streams.extend(typed(&resource, &body, d)),
        }
    }
    (model, diagnostics)
}

impl Model {
    /// Moves every resource of `other` after this model's own, kind by kind.
    fn append(&mut self, mut other: Model) {
        self.nodes.append(&mut other.nodes);
        self.networks.append(&mut other.networks);
        self.clusters.append(&mut other.clusters);
        self.storage.append(&mut other.storage);
        self.services.append(&mut other.services);
        self.alerts.append(&mut other.alerts);
        self.backups.append(&mut other.backups);
        self.workflows.append(&mut other.workflows);
        self.secrets.append(&mut other.secrets);
        self.receivers.append(&mut other.receivers);
        self.routes.append(&mut other.routes);
        self.buckets.append(&mut other.buckets);
        self.endpoints.append(&mut other.endpoints);
        self.slos.append(&mut other.slos);
        self.jobs.append(&mut other.jobs);
        self.streams.append(&mut other.streams);
    }
}

/// Checks that an overlay's field path exists in the kind's schema, whether or not the overlay is
/// applied, so a typo in a rarely used environment is caught on every check.
fn check_overlay_path(mut path: OverlayPath, diagnostics: &mut Vec<Diagnostic>) {
    let root = kind_schema(path.kind);
    let checker = check::Checker::new(root);
    let mut schema = checker.resolve(root);
    for (name, span) in &path.fields {
        // Options are `anyOf [T, null]`: look through to `T`.
        if let Some(branches) = schema.get("anyOf").and_then(Json::as_array) {
            match branches
                .iter()
                .map(|b| checker.resolve(b))
                .find(|b| b.get("type").and_then(Json::as_str) != Some("null"))
            {
                Some(inner) => schema = inner,
                None => return,
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Json::as_object) {
            match properties.get(name) {
                Some(next) => schema = checker.resolve(next),
                None => {
                    let names: Vec<&str> = properties.keys().map(String::as_str).collect();
                    let parent =
                        path.fields.iter().take_while(|(n, _)| n != name).last().map(|(n, _)| format!("`{n}`"));
                    let diagnostic =
                        Diagnostic::new(Code::E0303, *span, format!("the overlay sets unknown field `{name}`"))
                            .with_primary_label(format!(
                                "not a field of {}",
                                parent.unwrap_or_else(|| path.kind.to_string())
                            ));
                    let diagnostic = match did_you_mean(name, names.iter().copied()) {
                        Some(close) => {
                            diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(*span, name, close)
                        }
                        None => diagnostic
                            .with_help(format!("the fields are {}", check::quoted_list(names.iter().copied()))),
                    };
                    diagnostics.push(diagnostic);
                    return;
                }
            }
        } else if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            schema = checker.resolve(values);
        } else {
            return;
        }
    }
    if let Some(value) = path.value.as_mut() {
        let shapes = shape::Shapes::value_of(root, schema);
        let mut checker = check::Checker::compiled(&shapes);
        let field = path.fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(".");
        checker.check_value(value, &field);
        diagnostics.append(&mut checker.diagnostics);
    }
}
