//! Stage 4, the estate as a graph: every resource is a vertex, every reference an edge with its
//! kind, and the rules of DESIGN §4 are checked over it.
//!
//! Vertices are added in model order and edges in source order, so the graph (and `spec graph`,
//! drawn by [`dot`]) is deterministic. Every rule is linear or n·log n in the size of the estate: lookups go through
//! maps keyed by name, never pairwise scans. Rules read the checked [`Model`] only; a reference
//! that does not resolve (already reported by evaluation, or to a resource that failed its own
//! checks and so is not in the model) is skipped here.

mod access;
mod alerts;
mod analysis;
mod backups;
mod capacity;
mod colours;
mod cycles;
mod dashboards;
mod dot;
mod files;
mod gpus;
mod health;
mod host;
mod ingress;
mod jobs;
mod lifecycle;
mod members;
mod networks;
mod placement;
mod ports;
mod providers;
mod quotas;
mod rollout;
mod routing;
mod secrets;
mod slo;
mod streams;
mod templates;
mod workflows;

use rustc_hash::FxHashMap;

use petgraph::graph::{Graph, NodeIndex};
use serde::Serialize;

use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::Reference;
use crate::model::{Cluster, Kind, Model, Node, Resource, Secret, Service, Storage};
use crate::source::{FileId, Span};

/// A vertex: a resource of the model, or a step of a workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vertex {
    /// The resource at `index` of the model's list for `kind`.
    Resource {
        /// Its kind.
        kind: Kind,
        /// Its position in the model's list of that kind.
        index: usize,
    },
    /// Step `step` of workflow `workflow`.
    Step {
        /// The workflow's position in the model.
        workflow: usize,
        /// The step's position in the workflow.
        step: usize,
    },
}

/// What a reference means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// Where a service, storage or workflow runs (`on`).
    Placement,
    /// A service or job needs a service or job (`needs`).
    Needs,
    /// A service mounts a storage (`volumes`).
    Volume,
    /// A backup copies a storage or a service's data (`source`).
    BackupSource,
    /// A backup's offsite copy writes to a bucket (`restic { bucket }`).
    CopiesTo,
    /// Something uses a secret.
    SecretUse,
    /// A workflow holds a step.
    Step,
    /// A step needs another (`needs`).
    StepNeeds,
    /// A network has a member node.
    Membership,
    /// A cluster runs on a node (`servers`, `agents`).
    ClusterNode,
    /// A backup replicates its dataset to a node (`replicate { to }`).
    Replication,
    /// An alert watches a service: its PromQL matches the service's `job` (drawn by `spec graph`;
    /// the rules' graph leaves it out, as no rule reads it).
    Watches,
    /// A route sends alerts to a receiver (`to`).
    RoutesTo,
}

/// An edge: its kind and the reference that made it.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    /// What the reference means.
    pub kind: EdgeKind,
    /// Where the reference is written.
    pub span: Span,
}

/// Where something runs.
#[derive(Clone, Copy)]
pub enum Place<'m> {
    /// On a node.
    Node(&'m Resource<Node>),
    /// On a cluster.
    Cluster(&'m Resource<Cluster>),
}

/// The estate's graph with name lookups over the model.
pub struct EstateGraph<'m> {
    /// The checked model.
    pub model: &'m Model,
    /// Resources and steps, joined by references.
    pub graph: Graph<Vertex, Edge>,
    vertices: FxHashMap<(Kind, &'m str), NodeIndex>,
    steps: FxHashMap<(usize, &'m str), NodeIndex>,
    stdlib: &'m [FileId],
}

fn index_of<T>(list: &[Resource<T>]) -> impl Iterator<Item = (usize, &str)> {
    list.iter().enumerate().map(|(i, r)| (i, r.name.as_str()))
}

impl<'m> EstateGraph<'m> {
    /// Builds the graph of a model as `spec graph` draws it: with the edges from each alert to the
    /// services whose `job` its PromQL matches.
    pub fn build(model: &'m Model) -> EstateGraph<'m> {
        let mut estate = EstateGraph::with_stdlib(model, &[]);
        estate.add_alert_edges();
        estate
    }

    /// Adds an edge from each alert to every service a `job="…"` matcher of its PromQL names, and
    /// from each objective to the service whose availability it promises.
    fn add_alert_edges(&mut self) {
        for slo in &self.model.slos {
            let from = self.vertex(Kind::Slo, &slo.name);
            if let Some(service) = &slo.spec.service {
                self.link(from, service, EdgeKind::Watches);
            }
        }
        let mut shapes = crate::promql::ShapeCache::default();
        for alert in &self.model.alerts {
            let Ok(expr) = shapes.parse_restored(&alert.spec.expr.value) else { continue };
            let mut jobs = Vec::new();
            alerts::job_matchers(&expr, &mut jobs);
            let from = self.vertex(Kind::Alert, &alert.name);
            for job in jobs {
                if let (Some(from), Some(to)) = (from, self.vertex(Kind::Service, &job)) {
                    self.graph.add_edge(from, to, Edge { kind: EdgeKind::Watches, span: alert.spec.expr.span });
                }
            }
        }
    }

    /// Builds the graph of a model whose stdlib files are `stdlib`, so that rules can point at the
    /// user's text rather than inside a preset.
    pub fn with_stdlib(model: &'m Model, stdlib: &'m [FileId]) -> EstateGraph<'m> {
        let mut estate = EstateGraph {
            model,
            graph: Graph::new(),
            vertices: FxHashMap::default(),
            steps: FxHashMap::default(),
            stdlib,
        };
        let lists: [(Kind, Vec<(usize, &'m str)>); 16] = [
            (Kind::Node, index_of(&model.nodes).collect()),
            (Kind::Network, index_of(&model.networks).collect()),
            (Kind::Cluster, index_of(&model.clusters).collect()),
            (Kind::Storage, index_of(&model.storage).collect()),
            (Kind::Service, index_of(&model.services).collect()),
            (Kind::Alert, index_of(&model.alerts).collect()),
            (Kind::Backup, index_of(&model.backups).collect()),
            (Kind::Workflow, index_of(&model.workflows).collect()),
            (Kind::Secret, index_of(&model.secrets).collect()),
            (Kind::Receiver, index_of(&model.receivers).collect()),
            (Kind::Route, index_of(&model.routes).collect()),
            (Kind::Bucket, index_of(&model.buckets).collect()),
            (Kind::Endpoint, index_of(&model.endpoints).collect()),
            (Kind::Slo, index_of(&model.slos).collect()),
            (Kind::Job, index_of(&model.jobs).collect()),
            (Kind::Stream, index_of(&model.streams).collect()),
        ];
        for (kind, names) in lists {
            for (index, name) in names {
                let vertex = estate.graph.add_node(Vertex::Resource { kind, index });
                estate.vertices.insert((kind, name), vertex);
            }
        }
        for (w, workflow) in model.workflows.iter().enumerate() {
            for (s, name) in workflow.spec.step.keys().enumerate() {
                let vertex = estate.graph.add_node(Vertex::Step { workflow: w, step: s });
                estate.steps.insert((w, name.as_str()), vertex);
            }
        }
        estate.add_edges();
        estate
    }

    /// Whether a span lies in the stdlib (a value a preset brought).
    pub fn in_stdlib(&self, span: Span) -> bool {
        self.stdlib.contains(&span.file)
    }

    fn vertex(&self, kind: Kind, name: &str) -> Option<NodeIndex> {
        self.vertices.get(&(kind, name)).copied()
    }

    fn link(&mut self, from: Option<NodeIndex>, reference: &Reference, kind: EdgeKind) {
        let to = Kind::from_name(&reference.kind).and_then(|k| self.vertex(k, &reference.name));
        if let (Some(from), Some(to)) = (from, to) {
            self.graph.add_edge(from, to, Edge { kind, span: reference.span });
        }
    }

    fn add_edges(&mut self) {
        let model = self.model;
        for node in &model.nodes {
            let from = self.vertex(Kind::Node, &node.name);
            if let Some(wireguard) = &node.spec.wireguard {
                self.link(from, &wireguard.private_key.0, EdgeKind::SecretUse);
            }
        }
        for network in &model.networks {
            let from = self.vertex(Kind::Network, &network.name);
            for member in network.spec.members.iter() {
                self.link(from, member, EdgeKind::Membership);
            }
        }
        for cluster in &model.clusters {
            let from = self.vertex(Kind::Cluster, &cluster.name);
            for node in cluster.spec.servers.iter().chain(&cluster.spec.agents) {
                self.link(from, node, EdgeKind::ClusterNode);
            }
            if let Some(token) = &cluster.spec.token {
                self.link(from, token, EdgeKind::SecretUse);
            }
        }
        for receiver in &model.receivers {
            let from = self.vertex(Kind::Receiver, &receiver.name);
            for credential in receiver.spec.credentials() {
                if let Some(secret) = credential.value.secret() {
                    self.link(from, secret, EdgeKind::SecretUse);
                }
            }
        }
        for route in &model.routes {
            let from = self.vertex(Kind::Route, &route.name);
            self.link(from, &route.spec.to.value, EdgeKind::RoutesTo);
        }
        for bucket in &model.buckets {
            let from = self.vertex(Kind::Bucket, &bucket.name);
            if let Some(credentials) = &bucket.spec.credentials {
                self.link(from, &credentials.value, EdgeKind::SecretUse);
            }
        }
        for endpoint in &model.endpoints {
            let from = self.vertex(Kind::Endpoint, &endpoint.name);
            if let Some(credentials) = &endpoint.spec.credentials {
                self.link(from, &credentials.value, EdgeKind::SecretUse);
            }
        }
        for storage in &model.storage {
            let from = self.vertex(Kind::Storage, &storage.name);
            self.link(from, &storage.spec.on.0, EdgeKind::Placement);
        }
        for service in &model.services {
            let from = self.vertex(Kind::Service, &service.name);
            self.link(from, &service.spec.on.0, EdgeKind::Placement);
            for need in &service.spec.needs {
                self.link(from, need, EdgeKind::Needs);
            }
            for storage in service.spec.volumes.values() {
                self.link(from, storage, EdgeKind::Volume);
            }
            for secret in secret_refs(&service.spec.env) {
                self.link(from, secret, EdgeKind::SecretUse);
            }
        }
        for job in &model.jobs {
            let from = self.vertex(Kind::Job, &job.name);
            self.link(from, &job.spec.on.0, EdgeKind::Placement);
            for need in &job.spec.needs {
                self.link(from, need, EdgeKind::Needs);
            }
            for storage in job.spec.volumes.values() {
                self.link(from, storage, EdgeKind::Volume);
            }
            for secret in secret_refs(&job.spec.env) {
                self.link(from, secret, EdgeKind::SecretUse);
            }
        }
        for stream in &model.streams {
            let from = self.vertex(Kind::Stream, &stream.name);
            self.link(from, &stream.spec.on.value.0, EdgeKind::Needs);
        }
        for backup in &model.backups {
            let from = self.vertex(Kind::Backup, &backup.name);
            self.link(from, &backup.spec.source.0, EdgeKind::BackupSource);
            for copy in backup.spec.copies(&backup.name) {
                self.link(from, &copy.restic.password, EdgeKind::SecretUse);
                if let Some(credentials) = &copy.restic.credentials {
                    self.link(from, credentials, EdgeKind::SecretUse);
                }
                if let Some(bucket) = &copy.restic.bucket {
                    self.link(from, bucket, EdgeKind::CopiesTo);
                }
            }
            if let Some(replicate) = &backup.spec.replicate {
                self.link(from, &replicate.to.0, EdgeKind::Replication);
                if let Some(key) = &replicate.key {
                    self.link(from, &key.value, EdgeKind::SecretUse);
                }
            }
        }
        for (w, workflow) in model.workflows.iter().enumerate() {
            let from = self.vertex(Kind::Workflow, &workflow.name);
            self.link(from, &workflow.spec.on.0, EdgeKind::Placement);
            for (name, step) in workflow.spec.step.iter() {
                let Some(&step_vertex) = self.steps.get(&(w, name.as_str())) else { continue };
                if let Some(from) = from {
                    self.graph.add_edge(from, step_vertex, Edge { kind: EdgeKind::Step, span: step.span });
                }
                for need in step.value.needed_steps() {
                    if let Some(&to) = self.steps.get(&(w, need.name.as_str())) {
                        self.graph.add_edge(step_vertex, to, Edge { kind: EdgeKind::StepNeeds, span: need.span });
                    }
                }
                // A service a step needs is up before the step runs, as for a service's `needs`.
                for need in step.value.needed_services() {
                    self.link(Some(step_vertex), &need.0, EdgeKind::Needs);
                }
                for secret in secret_refs(&step.env) {
                    self.link(Some(step_vertex), secret, EdgeKind::SecretUse);
                }
            }
        }
    }

    fn lookup<T>(&self, kind: Kind, list: &'m [Resource<T>], name: &str) -> Option<&'m Resource<T>> {
        match self.vertex(kind, name).and_then(|v| self.graph.node_weight(v)) {
            Some(Vertex::Resource { index, .. }) => list.get(*index),
            _ => None,
        }
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&'m Resource<Node>> {
        self.lookup(Kind::Node, &self.model.nodes, name)
    }

    /// The cluster named `name`.
    pub fn cluster(&self, name: &str) -> Option<&'m Resource<Cluster>> {
        self.lookup(Kind::Cluster, &self.model.clusters, name)
    }

    /// The storage named `name`.
    pub fn storage(&self, name: &str) -> Option<&'m Resource<Storage>> {
        self.lookup(Kind::Storage, &self.model.storage, name)
    }

    /// The service named `name`.
    pub fn service(&self, name: &str) -> Option<&'m Resource<Service>> {
        self.lookup(Kind::Service, &self.model.services, name)
    }

    /// The job named `name`.
    pub fn job(&self, name: &str) -> Option<&'m Resource<crate::model::Job>> {
        self.lookup(Kind::Job, &self.model.jobs, name)
    }

    /// The bucket named `name`.
    pub fn bucket(&self, name: &str) -> Option<&'m Resource<crate::model::Bucket>> {
        self.lookup(Kind::Bucket, &self.model.buckets, name)
    }

    /// Where a backup's data lives: its storage's placement, or its service's.
    pub fn backup_place(&self, backup: &crate::model::Backup) -> Option<Place<'m>> {
        match (backup.storage(), backup.service()) {
            (Some(storage), _) => self.place(&self.storage(storage)?.spec.on),
            (_, Some(service)) => self.place(&self.service(service)?.spec.on),
            _ => None,
        }
    }

    /// The secret named `name`.
    pub fn secret(&self, name: &str) -> Option<&'m Resource<Secret>> {
        self.lookup(Kind::Secret, &self.model.secrets, name)
    }

    /// Where a placement reference points.
    pub fn place(&self, on: &Reference) -> Option<Place<'m>> {
        match on.kind.as_str() {
            "node" => self.node(&on.name).map(Place::Node),
            "cluster" => self.cluster(&on.name).map(Place::Cluster),
            _ => None,
        }
    }

    /// A short name for a vertex: `service web`, `step extract of workflow nightly`.
    pub fn describe(&self, vertex: Vertex) -> String {
        match vertex {
            Vertex::Resource { kind, index } => format!("{kind} {}", self.name_of(kind, index)),
            Vertex::Step { workflow, step } => {
                let workflow = self.model.workflows.get(workflow);
                let step = workflow.and_then(|w| w.spec.step.keys().nth(step)).map_or("?", |s| s.as_str());
                format!("step {step} of workflow {}", workflow.map_or("?", |w| w.name.as_str()))
            }
        }
    }

    /// The bare name of a vertex: the resource's or the step's.
    pub fn short_name(&self, vertex: Vertex) -> &'m str {
        match vertex {
            Vertex::Resource { kind, index } => self.name_of(kind, index),
            Vertex::Step { workflow, step } => self
                .model
                .workflows
                .get(workflow)
                .and_then(|w| w.spec.step.keys().nth(step))
                .map_or("?", String::as_str),
        }
    }

    fn name_of(&self, kind: Kind, index: usize) -> &'m str {
        let model = self.model;
        let name = match kind {
            Kind::Node => model.nodes.get(index).map(|r| &r.name),
            Kind::Network => model.networks.get(index).map(|r| &r.name),
            Kind::Cluster => model.clusters.get(index).map(|r| &r.name),
            Kind::Storage => model.storage.get(index).map(|r| &r.name),
            Kind::Service => model.services.get(index).map(|r| &r.name),
            Kind::Alert => model.alerts.get(index).map(|r| &r.name),
            Kind::Backup => model.backups.get(index).map(|r| &r.name),
            Kind::Workflow => model.workflows.get(index).map(|r| &r.name),
            Kind::Secret => model.secrets.get(index).map(|r| &r.name),
            Kind::Receiver => model.receivers.get(index).map(|r| &r.name),
            Kind::Route => model.routes.get(index).map(|r| &r.name),
            Kind::Bucket => model.buckets.get(index).map(|r| &r.name),
            Kind::Endpoint => model.endpoints.get(index).map(|r| &r.name),
            Kind::Slo => model.slos.get(index).map(|r| &r.name),
            Kind::Job => model.jobs.get(index).map(|r| &r.name),
            Kind::Stream => model.streams.get(index).map(|r| &r.name),
        };
        name.map_or("?", String::as_str)
    }

    /// The graph as JSON: `{"vertices":[{"id","kind","name"}],"edges":[{"from","to","kind"}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let vertices: Vec<serde_json::Value> = self
            .graph
            .node_indices()
            .filter_map(|v| self.graph.node_weight(v).map(|w| (v, *w)))
            .map(|(v, weight)| {
                let (kind, name) = match weight {
                    Vertex::Resource { kind, index } => {
                        (kind.as_str().to_string(), self.name_of(kind, index).to_string())
                    }
                    Vertex::Step { .. } => ("step".to_string(), self.describe(weight)),
                };
                serde_json::json!({ "id": v.index(), "kind": kind, "name": name })
            })
            .collect();
        let edges: Vec<serde_json::Value> = self
            .graph
            .edge_indices()
            .filter_map(|e| Some((self.graph.edge_endpoints(e)?, self.graph.edge_weight(e)?)))
            .map(|((from, to), weight)| serde_json::json!({ "from": from.index(), "to": to.index(), "kind": weight.kind }))
            .collect();
        serde_json::json!({ "vertices": vertices, "edges": edges })
    }
}

/// The secret references among environment values.
fn secret_refs(
    env: &indexmap::IndexMap<String, crate::model::types::Spanned<crate::model::EnvValue>>,
) -> impl Iterator<Item = &Reference> {
    env.values().filter_map(|value| match &value.value {
        crate::model::EnvValue::Secret(secret) => Some(&secret.0),
        _ => None,
    })
}

/// The rules that conclude from what the estate lacks: no network joins two nodes (E0604), no
/// backup covers a storage (W0603), no service exports an alert's or a dashboard's job (W0604, W0608). Over a partial
/// model (resources that failed their own checks left out) they would report consequences of
/// those failures, so they are held back until the estate is complete.
const CONCLUDE_FROM_ABSENCE: [Code; 7] =
    [Code::E0604, Code::W0603, Code::W0604, Code::W0605, Code::W0606, Code::W0607, Code::W0608];

/// Checks every rule over the estate and returns what they found; `stdlib` lists the stdlib's
/// files. `complete` is false when earlier stages reported errors, and so left resources out of
/// the model: the rules that conclude from absence are then held back.
pub fn check_estate(model: &Model, stdlib: &[FileId], complete: bool) -> Vec<Diagnostic> {
    let estate = EstateGraph::with_stdlib(model, stdlib);
    let mut diagnostics = Vec::new();
    cycles::check(&estate, &mut diagnostics);
    placement::check(&estate, &mut diagnostics);
    ports::check(&estate, &mut diagnostics);
    health::check(&estate, &mut diagnostics);
    capacity::check(&estate, &mut diagnostics);
    gpus::check(&estate, &mut diagnostics);
    quotas::check(&estate, &mut diagnostics);
    ingress::check(&estate, &mut diagnostics);
    backups::check(&estate, &mut diagnostics);
    lifecycle::check(&estate, &mut diagnostics);
    alerts::check(&estate, &mut diagnostics);
    dashboards::check(&estate, &mut diagnostics);
    secrets::check(&estate, &mut diagnostics);
    networks::check(&estate, &mut diagnostics);
    workflows::check(&estate, &mut diagnostics);
    routing::check(&estate, &mut diagnostics);
    slo::check(&estate, &mut diagnostics);
    jobs::check(&estate, &mut diagnostics);
    files::check(&estate, &mut diagnostics);
    rollout::check(&estate, &mut diagnostics);
    analysis::check(&estate, &mut diagnostics);
    colours::check(&estate, &mut diagnostics);
    access::check(&estate, &mut diagnostics);
    host::check(&estate, &mut diagnostics);
    members::check(&estate, &mut diagnostics);
    streams::check(&estate, &mut diagnostics);
    if !complete {
        diagnostics.retain(|d| !CONCLUDE_FROM_ABSENCE.contains(&d.code));
    }
    at_uses(model, &mut diagnostics);
    in_rows(model, &mut diagnostics);
    diagnostics
}

/// Adds to every diagnostic inside a loop's row the notes naming the iteration that row was for.
fn in_rows(model: &Model, diagnostics: &mut [Diagnostic]) {
    let stacks = model
        .nodes
        .iter()
        .map(|r| &*r.rows)
        .chain(model.networks.iter().map(|r| &*r.rows))
        .chain(model.clusters.iter().map(|r| &*r.rows))
        .chain(model.storage.iter().map(|r| &*r.rows))
        .chain(model.services.iter().map(|r| &*r.rows))
        .chain(model.alerts.iter().map(|r| &*r.rows))
        .chain(model.backups.iter().map(|r| &*r.rows))
        .chain(model.workflows.iter().map(|r| &*r.rows))
        .chain(model.secrets.iter().map(|r| &*r.rows))
        .chain(model.receivers.iter().map(|r| &*r.rows))
        .chain(model.routes.iter().map(|r| &*r.rows))
        .chain(model.jobs.iter().map(|r| &*r.rows))
        .filter(|rows| !rows.is_empty());
    let index = crate::eval::RowIndex::new(stacks);
    for diagnostic in diagnostics.iter_mut() {
        index.add_notes(diagnostic);
    }
}

/// Moves every diagnostic that points inside a preset to the `use` line that brought it, with the
/// preset's line beside it: the user wrote the `use`, not the preset. A preset used by several
/// blocks is resolved by the block the diagnostic's other labels point into; when none does, the
/// diagnostic stays where it is.
fn at_uses(model: &Model, diagnostics: &mut [Diagnostic]) {
    use crate::eval::PresetUse;
    // Preset declaration → the blocks using it (their whole span and their uses), built once and
    // sorted by position so a diagnostic finds its preset by binary search.
    let blocks = model
        .services
        .iter()
        .map(|r| (r.span, r.presets.as_slice()))
        .chain(model.alerts.iter().map(|r| (r.span, r.presets.as_slice())))
        .chain(model.backups.iter().map(|r| (r.span, r.presets.as_slice())))
        .chain(model.workflows.iter().map(|r| (r.span, r.presets.as_slice())))
        .chain(model.storage.iter().map(|r| (r.span, r.presets.as_slice())))
        .chain(model.nodes.iter().map(|r| (r.span, r.presets.as_slice())))
        .chain(model.jobs.iter().map(|r| (r.span, r.presets.as_slice())));
    // A block using a preset: its whole span and all its uses.
    type User<'m> = (Span, &'m [PresetUse]);
    let mut users: FxHashMap<Span, Vec<User<'_>>> = FxHashMap::default();
    for (block, presets) in blocks {
        for used in presets {
            users.entry(used.preset).or_default().push((block, presets));
        }
    }
    if users.is_empty() {
        return;
    }
    let key = |span: &Span| (span.file.0, span.start);
    let mut presets: Vec<(Span, Vec<User<'_>>)> = users.into_iter().collect();
    presets.sort_by_key(|(span, _)| key(span));
    let inside =
        |outer: Span, span: Span| span.file == outer.file && span.start >= outer.start && span.end <= outer.end;
    for diagnostic in diagnostics.iter_mut() {
        let primary = diagnostic.primary.span;
        // The last declaration starting at or before the span is the only one that can hold it.
        let at = presets.partition_point(|(span, _)| key(span) <= key(&primary));
        let Some((preset, candidates)) = at.checked_sub(1).and_then(|i| presets.get(i)) else { continue };
        if !inside(*preset, primary) {
            continue;
        }
        let chosen = match candidates.as_slice() {
            [(_, uses)] => Some(*uses),
            many => many
                .iter()
                .find(|(block, _)| diagnostic.secondary.iter().any(|label| inside(*block, label.span)))
                .map(|(_, uses)| *uses),
        };
        if let Some(uses) = chosen {
            *diagnostic = crate::eval::at_use(diagnostic.clone(), uses);
        }
    }
}
