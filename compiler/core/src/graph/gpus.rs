//! GPUs: a service asking for GPUs (`resources { gpu, gpu_model, gpu_memory }`) is placed where
//! there are enough of them, of the model and memory it asks for.
//!
//! - a service asking for GPUs on a node or cluster whose nodes declare none: E0636;
//! - more GPUs asked on a place than its nodes have: E0637, summed per place over every service
//!   (instances count: gpu × replicas) and, for the services naming a model, per model against
//!   that model's GPUs (a service naming none may use any);
//! - one instance asking for more GPUs than the largest node that could run it has (a pod cannot
//!   span nodes): E0638, on a cluster;
//! - no node of the place has GPUs of the model asked, or with the memory asked (a node that does
//!   not declare its GPUs' memory has none to promise): E0639;
//! - a model or memory asked, or declared on a node, without a count of GPUs: E0642.
//!
//! n·log n: each place's GPU nodes are summarised once (per model, sorted by memory, so the
//! largest node with enough memory is a binary search), and the asks are summed in maps keyed by
//! place and model.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::{EstateGraph, Place};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{Size, Spanned, format_size};
use crate::model::{Node, Resource};
use crate::source::Span;

/// Checks every GPU ask against the GPUs of its place.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for node in &estate.model.nodes {
        let spec = &node.spec;
        if spec.gpu.as_ref().is_none_or(|g| g.value == 0) {
            for (field, span) in declared_without_count(&spec.gpu_model, &spec.gpu_memory) {
                diagnostics.push(without_count(&format!("node `{}`", node.name), field, span, "declares"));
            }
        }
    }
    // Each place's GPU nodes, summarised once; what is asked so far per place and per (place,
    // model), with whether E0637 was reported there.
    let mut summaries: FxHashMap<Key<'_>, Summary<'_>> = FxHashMap::default();
    let mut asked: FxHashMap<(Key<'_>, Option<&str>), (u64, bool)> = FxHashMap::default();
    for service in &estate.model.services {
        let Some(resources) = &service.spec.resources else { continue };
        let count = resources.gpu.as_ref().filter(|g| g.value > 0);
        let Some(count) = count else {
            for (field, span) in declared_without_count(&resources.gpu_model, &resources.gpu_memory) {
                diagnostics.push(without_count(&format!("service `{}`", service.name), field, span, "asks for"));
            }
            continue;
        };
        let (key, place_name) = match estate.place(&service.spec.on) {
            Some(Place::Node(node)) => (Key::Node(&node.name), format!("node `{}`", node.name)),
            Some(Place::Cluster(cluster)) => (Key::Cluster(&cluster.name), format!("cluster `{}`", cluster.name)),
            None => continue,
        };
        let summary = summaries.entry(key).or_insert_with(|| Summary::of(estate, key));
        if summary.nodes.is_empty() {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0636,
                    count.span,
                    format!(
                        "service `{}` asks for {} on {place_name}, {}",
                        service.name,
                        gpus(u64::from(count.value)),
                        if matches!(key, Key::Node(_)) { "which has none" } else { "whose nodes have none" }
                    ),
                )
                .with_primary_label("no GPU where the service runs")
                .with_help(format!(
                    "declare the GPUs of {} (`gpu = {}`), or place the service where there are GPUs",
                    if matches!(key, Key::Node(_)) { place_name.clone() } else { format!("{place_name}'s nodes") },
                    count.value
                )),
            );
            continue;
        }
        let model = resources.gpu_model.as_ref();
        let memory = resources.gpu_memory.as_ref();
        let Some(largest) = summary.largest(model.map(|m| m.value.as_str()), memory.map_or(0, |m| m.value.0)) else {
            let span = model.map_or_else(|| memory.map_or(count.span, |m| m.span), |m| m.span);
            let offered: Vec<String> = summary.nodes.iter().map(|n| describe(n)).collect();
            diagnostics.push(
                Diagnostic::new(
                    Code::E0639,
                    span,
                    format!(
                        "service `{}` asks for GPUs{} on {place_name}, which has none",
                        service.name,
                        wanted(model, memory)
                    ),
                )
                .with_primary_label("no such GPU there")
                .with_note(format!("the GPUs there: {}", offered.join("; ")))
                .with_help(
                    "ask for a model and memory a node has (as its `gpu_model` and `gpu_memory` declare them), or place the service elsewhere",
                ),
            );
            continue;
        };
        if matches!(key, Key::Cluster(_)) && count.value > largest {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0638,
                    count.span,
                    format!(
                        "one instance of service `{}` asks for {}, but no node of {place_name} that could run it has more than {largest}",
                        service.name,
                        gpus(u64::from(count.value))
                    ),
                )
                .with_primary_label("does not fit on one node")
                .with_help("a pod's GPUs are on its own node: ask for fewer per instance and run more replicas"),
            );
            continue;
        }
        let replicas = u64::from(service.spec.replicas());
        let demand = u64::from(count.value).saturating_mul(replicas);
        let mut pools = vec![None];
        pools.extend(model.map(|m| Some(m.value.as_str())));
        for pool in pools {
            let available = summary.total(pool);
            let entry = asked.entry((key, pool)).or_insert((0, false));
            entry.0 = entry.0.saturating_add(demand);
            if entry.0 > available && !entry.1 {
                entry.1 = true;
                let of = pool.map_or(String::new(), |m| format!(" of model `{m}`"));
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0637,
                        count.span,
                        format!(
                            "{place_name} runs out of GPUs{of} with service `{}`: {} asked, {available} available",
                            service.name, entry.0
                        ),
                    )
                    .with_primary_label("these GPUs do not fit")
                    .with_note(format!(
                        "the services placed on {place_name} ask for {} GPUs{of} in total (gpu × replicas)",
                        entry.0
                    ))
                    .with_help(format!(
                        "give {place_name} more GPUs, lower what the services ask for, or move a service elsewhere"
                    )),
                );
            }
        }
    }
}

/// The GPU nodes of a place: the nodes themselves, and per model (`None`: any) their counts by
/// memory, most memory first, with the largest count among those holding at least that much.
struct Summary<'m> {
    nodes: Vec<&'m Resource<Node>>,
    /// Per model: `(memory, count, largest count so far)`, by memory descending.
    by_model: BTreeMap<Option<&'m str>, Vec<(u64, u32, u32)>>,
    /// Per model, the GPUs of the place.
    totals: BTreeMap<Option<&'m str>, u64>,
}

impl<'m> Summary<'m> {
    fn of(estate: &EstateGraph<'m>, key: Key<'m>) -> Self {
        let nodes: Vec<&'m Resource<Node>> = match key {
            Key::Node(name) => estate.node(name).into_iter().collect(),
            Key::Cluster(name) => estate.cluster(name).map_or_else(Vec::new, |cluster| {
                let members = cluster.spec.servers.iter().chain(&cluster.spec.agents);
                members.filter_map(|n| estate.node(&n.name)).collect()
            }),
        };
        let nodes: Vec<_> = nodes.into_iter().filter(|n| n.spec.gpu.as_ref().is_some_and(|g| g.value > 0)).collect();
        let mut by_model: BTreeMap<Option<&'m str>, Vec<(u64, u32, u32)>> = BTreeMap::new();
        for node in &nodes {
            let spec = &node.spec;
            let entry =
                (spec.gpu_memory.as_ref().map_or(0, |m| m.value.0), spec.gpu.as_ref().map_or(0, |g| g.value), 0);
            by_model.entry(None).or_default().push(entry);
            if let Some(model) = &spec.gpu_model {
                by_model.entry(Some(model.value.as_str())).or_default().push(entry);
            }
        }
        for list in by_model.values_mut() {
            list.sort_by_key(|entry| std::cmp::Reverse(entry.0));
            let mut largest = 0;
            for entry in list.iter_mut() {
                largest = largest.max(entry.1);
                entry.2 = largest;
            }
        }
        let totals = by_model.iter().map(|(model, list)| (*model, list.iter().map(|e| u64::from(e.1)).sum())).collect();
        Summary { nodes, by_model, totals }
    }

    /// The most GPUs one node of `model` with at least `memory` each has; `None` when there is
    /// no such node (memory 0: any, a node that does not declare its memory included).
    fn largest(&self, model: Option<&str>, memory: u64) -> Option<u32> {
        let list = self.by_model.get(&model)?;
        let holding = list.partition_point(|entry| entry.0 >= memory);
        holding.checked_sub(1).map(|last| list[last].2)
    }

    /// The GPUs of `model` (`None`: of any) on the place.
    fn total(&self, model: Option<&str>) -> u64 {
        self.totals.get(&model).copied().unwrap_or(0)
    }
}

/// A place GPUs are counted on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key<'m> {
    Node(&'m str),
    Cluster(&'m str),
}

/// `2 GPUs`, `1 GPU`.
fn gpus(count: u64) -> String {
    if count == 1 { "1 GPU".into() } else { format!("{count} GPUs") }
}

/// ` of model `A100` with 80GiB each`, or nothing.
fn wanted(model: Option<&Spanned<String>>, memory: Option<&Spanned<Size>>) -> String {
    let mut text = String::new();
    if let Some(model) = model {
        text.push_str(&format!(" of model `{}`", model.value));
    }
    if let Some(memory) = memory {
        text.push_str(&format!(" with at least {} each", format_size(memory.value.0)));
    }
    text
}

/// `node `g1`: 2 GPUs of model `A100` with 80GiB each`.
fn describe(node: &Resource<Node>) -> String {
    let spec = &node.spec;
    let mut text = format!("node `{}`: {}", node.name, gpus(u64::from(spec.gpu.as_ref().map_or(0, |g| g.value))));
    match &spec.gpu_model {
        Some(model) => text.push_str(&format!(" of model `{}`", model.value)),
        None => text.push_str(" of no declared model"),
    }
    match &spec.gpu_memory {
        Some(memory) => text.push_str(&format!(" with {} each", format_size(memory.value.0))),
        None => text.push_str(", memory not declared"),
    }
    text
}

/// The GPU model and memory fields written beside no count.
fn declared_without_count(
    model: &Option<Spanned<String>>,
    memory: &Option<Spanned<Size>>,
) -> Vec<(&'static str, Span)> {
    let mut fields = Vec::new();
    fields.extend(model.as_ref().map(|m| ("gpu_model", m.span)));
    fields.extend(memory.as_ref().map(|m| ("gpu_memory", m.span)));
    fields
}

fn without_count(who: &str, field: &str, span: Span, verb: &str) -> Diagnostic {
    Diagnostic::new(Code::E0642, span, format!("{who} {verb} a `{field}` but no GPUs"))
        .with_primary_label("of no GPU")
        .with_help("give the number of GPUs beside it (`gpu = 1`), or remove it")
}
