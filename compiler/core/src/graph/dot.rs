//! `spec graph`'s drawing: the estate's graph in Graphviz DOT, readable at fifty resources and
//! more. Each kind has its own shape and colour (a node is a 3D box, a storage a cylinder, a
//! secret a note, …), each edge kind its own colour and line; everything placed on a node or a
//! cluster (services, storage, workflows and their steps, the backups of that storage) is drawn
//! inside a box for that node or cluster, so placement reads at a glance (the placement edges
//! the boxes stand for are left out; `--format json` keeps every edge) and the remaining edges
//! are the ones that cross. Alerts point at the services they watch, backups at what they copy,
//! replicate to and unlock with.
//!
//! Output is deterministic: groups in the order of their node or cluster, vertices and edges in
//! graph order. Names are quoted, so any name is safe in DOT.

use super::{EdgeKind, EstateGraph, Place, Vertex};
use crate::model::Kind;
use crate::model::types::Reference;

/// How a vertex of one kind looks: Graphviz shape and fill colour.
fn vertex_style(vertex: Vertex) -> (&'static str, &'static str) {
    match vertex {
        Vertex::Resource { kind, .. } => match kind {
            Kind::Node => ("box3d", "#dae8fc"),
            Kind::Network => ("hexagon", "#fff2cc"),
            Kind::Cluster => ("component", "#d5e8d4"),
            Kind::Storage => ("cylinder", "#ffe6cc"),
            Kind::Service => ("box", "#e1d5e7"),
            Kind::Alert => ("octagon", "#f8cecc"),
            Kind::Backup => ("folder", "#cce5ff"),
            Kind::Workflow => ("cds", "#fdebd0"),
            Kind::Secret => ("note", "#eeeeee"),
            Kind::Receiver => ("invhouse", "#f5d5d5"),
            Kind::Route => ("rarrow", "#f5d5d5"),
            Kind::Bucket => ("cylinder", "#e8daef"),
            Kind::Endpoint => ("doubleoctagon", "#e8daef"),
            Kind::Slo => ("octagon", "#fff2cc"),
            Kind::Job => ("parallelogram", "#e1d5e7"),
            Kind::Stream => ("cds", "#d5e8d4"),
        },
        Vertex::Step { .. } => ("ellipse", "#fef5e7"),
    }
}

/// How an edge of one kind looks: colour, line style and label (none where the grouping or the
/// shapes already say it).
fn edge_style(kind: EdgeKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        EdgeKind::Placement => ("#999999", "dashed", ""),
        EdgeKind::Needs => ("#000000", "bold", "needs"),
        EdgeKind::Volume => ("#d79b00", "solid", "mounts"),
        EdgeKind::BackupSource => ("#1f5fa8", "bold", "backs up"),
        EdgeKind::Replication => ("#1f5fa8", "dashed", "replicates to"),
        EdgeKind::SecretUse => ("#777777", "dotted", "secret"),
        EdgeKind::Step => ("#c9a66b", "solid", ""),
        EdgeKind::StepNeeds => ("#000000", "solid", "needs"),
        EdgeKind::Membership => ("#b7950b", "dotted", "member"),
        EdgeKind::ClusterNode => ("#2e7d32", "solid", "runs on"),
        EdgeKind::Watches => ("#b85450", "bold", "watches"),
        EdgeKind::RoutesTo => ("#b85450", "solid", "routes to"),
        EdgeKind::CopiesTo => ("#1f5fa8", "dashed", "copies to"),
    }
}

/// A DOT string literal.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
}

impl EstateGraph<'_> {
    /// The node or cluster a vertex is drawn inside, as the vertex of that node or cluster.
    fn group(&self, vertex: Vertex) -> Option<petgraph::graph::NodeIndex> {
        let model = self.model;
        let placed = |on: &Reference| match self.place(on)? {
            Place::Node(node) => self.vertex(Kind::Node, &node.name),
            Place::Cluster(cluster) => self.vertex(Kind::Cluster, &cluster.name),
        };
        match vertex {
            Vertex::Resource { kind: Kind::Node, index } => self.vertex(Kind::Node, &model.nodes.get(index)?.name),
            Vertex::Resource { kind: Kind::Cluster, index } => {
                self.vertex(Kind::Cluster, &model.clusters.get(index)?.name)
            }
            Vertex::Resource { kind: Kind::Storage, index } => placed(&model.storage.get(index)?.spec.on.0),
            Vertex::Resource { kind: Kind::Service, index } => placed(&model.services.get(index)?.spec.on.0),
            Vertex::Resource { kind: Kind::Workflow, index } => placed(&model.workflows.get(index)?.spec.on.0),
            Vertex::Resource { kind: Kind::Job, index } => placed(&model.jobs.get(index)?.spec.on.0),
            Vertex::Step { workflow, .. } => placed(&model.workflows.get(workflow)?.spec.on.0),
            Vertex::Resource { kind: Kind::Backup, index } => {
                match self.backup_place(&model.backups.get(index)?.spec)? {
                    Place::Node(node) => self.vertex(Kind::Node, &node.name),
                    Place::Cluster(cluster) => self.vertex(Kind::Cluster, &cluster.name),
                }
            }
            Vertex::Resource {
                kind:
                    Kind::Network
                    | Kind::Alert
                    | Kind::Secret
                    | Kind::Receiver
                    | Kind::Route
                    | Kind::Bucket
                    | Kind::Endpoint
                    | Kind::Slo
                    | Kind::Stream,
                ..
            } => None,
        }
    }

    fn dot_vertex(&self, vertex: petgraph::graph::NodeIndex, indent: &str, out: &mut String) {
        let Some(&weight) = self.graph.node_weight(vertex) else { return };
        let (shape, fill) = vertex_style(weight);
        // A step is drawn beside its workflow: its own name says enough.
        let label = match weight {
            Vertex::Step { .. } => format!("step {}", self.short_name(weight)),
            Vertex::Resource { .. } => self.describe(weight),
        };
        out.push_str(&format!(
            "{indent}v{} [label={}, shape={shape}, fillcolor=\"{fill}\"];\n",
            vertex.index(),
            quoted(&label)
        ));
    }

    /// The graph in Graphviz DOT: a box per node and cluster holding what is placed there, shapes
    /// and colours by kind, edges styled by kind; vertices and edges in a stable order.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph estate {\n  rankdir=LR;\n  newrank=true;\n  graph [fontname=\"monospace\"];\n  \
             node [fontname=\"monospace\", style=filled];\n  edge [fontname=\"monospace\", fontsize=10];\n",
        );
        // Each group's members, in vertex order, keyed by the group's own vertex.
        let mut members: Vec<Vec<petgraph::graph::NodeIndex>> = vec![Vec::new(); self.graph.node_count()];
        let mut loose = Vec::new();
        let mut group_of = vec![None; self.graph.node_count()];
        for vertex in self.graph.node_indices() {
            let Some(&weight) = self.graph.node_weight(vertex) else { continue };
            match self.group(weight) {
                Some(group) => {
                    members[group.index()].push(vertex);
                    group_of[vertex.index()] = Some(group);
                }
                None => loose.push(vertex),
            }
        }
        // A node or cluster with nothing placed on it is drawn alone, without a box.
        for inside in members.iter().filter(|inside| inside.len() == 1) {
            loose.extend(inside);
        }
        loose.sort_unstable();
        for (group, inside) in members.iter().enumerate().filter(|(_, inside)| inside.len() > 1) {
            let title = self
                .graph
                .node_weight(petgraph::graph::NodeIndex::new(group))
                .map(|w| self.describe(*w))
                .unwrap_or_default();
            out.push_str(&format!(
                "  subgraph cluster_{group} {{\n    label={};\n    style=\"rounded\";\n    color=\"#6c8ebf\";\n",
                quoted(&title)
            ));
            for &vertex in inside {
                self.dot_vertex(vertex, "    ", &mut out);
            }
            out.push_str("  }\n");
        }
        for vertex in loose {
            self.dot_vertex(vertex, "  ", &mut out);
        }
        for edge in self.graph.edge_indices() {
            let (Some((from, to)), Some(weight)) = (self.graph.edge_endpoints(edge), self.graph.edge_weight(edge))
            else {
                continue;
            };
            // Inside a box, "placed on this node" is what the box says: the edge would only clutter.
            if weight.kind == EdgeKind::Placement && group_of.get(from.index()).copied().flatten() == Some(to) {
                continue;
            }
            let (color, style, label) = edge_style(weight.kind);
            out.push_str(&format!("  v{} -> v{} [color=\"{color}\", style={style}", from.index(), to.index()));
            if !label.is_empty() {
                out.push_str(&format!(", label={}, fontcolor=\"{color}\"", quoted(label)));
            }
            out.push_str("];\n");
        }
        out.push_str("}\n");
        out
    }
}
