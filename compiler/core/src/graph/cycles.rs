//! Cycles in `needs` between services and jobs and between the steps of a workflow, each reported
//! once with the whole path and a label on every reference that closes it. A cycle through a job
//! is E0675 (the job could never run), one of services only E0601.

use petgraph::algo::tarjan_scc;
use petgraph::graph::NodeIndex;
use petgraph::visit::{EdgeFiltered, EdgeRef};

use super::{EdgeKind, EstateGraph, Vertex};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::Kind;

/// Reports every cycle of `needs` and of step `needs`.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for (kind, what) in [(EdgeKind::Needs, "services"), (EdgeKind::StepNeeds, "steps")] {
        let view = EdgeFiltered::from_fn(&estate.graph, |e| e.weight().kind == kind);
        // tarjan_scc lists components in reverse topological order; reverse for source order.
        let mut components = tarjan_scc(&view);
        components.reverse();
        for mut component in components {
            component.sort();
            let is_cycle = component.len() > 1
                || component
                    .first()
                    .is_some_and(|&v| estate.graph.edges(v).any(|e| e.weight().kind == kind && e.target() == v));
            if is_cycle {
                report(estate, &component, kind, what, diagnostics);
            }
        }
    }
}

/// Walks the cycle from its first member through members of the component, and reports it.
fn report(
    estate: &EstateGraph<'_>,
    members: &[NodeIndex],
    kind: EdgeKind,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(&start) = members.first() else { return };
    let mut path = vec![start];
    let mut edges = Vec::new();
    let mut current = start;
    // In a strongly connected component every member has an edge to a member; following the
    // smallest such edge visits a cycle, which closes at the first repeated vertex.
    for _ in 0..=members.len() {
        let next = estate
            .graph
            .edges(current)
            .filter(|e| e.weight().kind == kind && members.binary_search(&e.target()).is_ok())
            .min_by_key(|e| e.target());
        let Some(edge) = next else { break };
        edges.push(*edge.weight());
        if let Some(position) = path.iter().position(|&v| v == edge.target()) {
            // Edge `i` leads from `path[i]`; the cycle starts where the walk returned.
            path.drain(..position);
            edges.drain(..position);
            break;
        }
        path.push(edge.target());
        current = edge.target();
    }
    let job = |v: &NodeIndex| matches!(estate.graph.node_weight(*v), Some(Vertex::Resource { kind: Kind::Job, .. }));
    let through_job = kind == EdgeKind::Needs && path.iter().any(job);
    // Services and jobs may share a name: a cycle through a job names each member's kind.
    let mut cycle: Vec<String> = path
        .iter()
        .filter_map(|&v| estate.graph.node_weight(v))
        .map(|&v| if through_job { estate.describe(v) } else { estate.short_name(v).to_string() })
        .collect();
    if let Some(first) = cycle.first().cloned() {
        cycle.push(first);
    }
    let Some((first, rest)) = edges.split_first() else { return };
    let (code, what) = if through_job { (Code::E0675, "services and jobs") } else { (Code::E0601, what) };
    let mut diagnostic =
        Diagnostic::new(code, first.span, format!("{what} need each other in a cycle: {}", cycle.join(" → ")))
            .with_primary_label("this need closes a cycle");
    for edge in rest {
        diagnostic = diagnostic.with_label(edge.span, "part of the cycle");
    }
    let help = match kind {
        EdgeKind::Needs if through_job => {
            "a job runs once before what needs it, so nothing in a cycle with it can start; remove one `needs`"
        }
        EdgeKind::StepNeeds => "steps run in the order of their needs; remove one `needs` so the steps form a chain",
        _ => "services start in the order of their needs; remove one `needs` so some service can start first",
    };
    diagnostics.push(diagnostic.with_help(help));
}
