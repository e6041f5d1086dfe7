//! What a pod asking for GPUs needs beside its `nvidia.com/gpu` limit ([`crate::values::GPU`]):
//! the `nvidia` runtime class, whose container runtime hands the devices to the container, and
//! the node selection for the model and memory asked for, by the labels NVIDIA's GPU feature
//! discovery puts on each GPU node: `nvidia.com/gpu.product` (the model, as the node's
//! `gpu_model` names it) as a node selector, and `nvidia.com/gpu.memory` (each GPU's memory, in
//! MiB) as a required node affinity (`Gt` one MiB less than asked, as the label is a number).
//! That a place has such GPUs at all is the graph checks' (E0636–E0639); a model that is not a
//! label value could never be selected (E1271).
//!
//! On a cluster whose nodes are of several architectures (`node.arch`), a pod whose GPUs confine
//! it to nodes of one architecture also selects it (`kubernetes.io/arch`, which the kubelet
//! labels every node with): the image it runs is built for the nodes it was meant for, and the
//! selection stays right when a node of that model but another architecture joins.

use serde_json::{Map, Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{Arch, Resource, Resources, Service};

/// The runtime class a GPU pod runs with (created by the GPU operator, or by hand on k3s).
pub const RUNTIME_CLASS: &str = "nvidia";
/// The node label GPU feature discovery writes the GPU model to.
pub const PRODUCT_LABEL: &str = "nvidia.com/gpu.product";
/// The node label the kubelet writes the node's architecture to (`amd64`, `arm64`).
pub const ARCH_LABEL: &str = "kubernetes.io/arch";
/// The node label GPU feature discovery writes each GPU's memory to, in MiB.
pub const MEMORY_LABEL: &str = "nvidia.com/gpu.memory";

const MIB: u64 = 1 << 20;

/// `pod` (app-template's controller `pod` options) with what a GPU pod needs added, when the
/// resources ask for GPUs.
pub fn with_gpu_pod(
    pod: Option<Value>,
    resources: Option<&spec_compiler::model::types::Spanned<Resources>>,
) -> Option<Value> {
    let Some(resources) = resources.map(|r| &r.value).filter(|r| r.gpu.as_ref().is_some_and(|g| g.value > 0)) else {
        return pod;
    };
    let mut options = match pod {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    options.insert("runtimeClassName".into(), json!(RUNTIME_CLASS));
    if let Some(model) = &resources.gpu_model {
        options.insert("nodeSelector".into(), json!({ PRODUCT_LABEL: model.value }));
    }
    if let Some(memory) = resources.gpu_memory.as_ref().map(|m| m.value.0.div_ceil(MIB)).filter(|m| *m > 0) {
        let term = json!({ "key": MEMORY_LABEL, "operator": "Gt", "values": [(memory - 1).to_string()] });
        options.insert(
            "affinity".into(),
            json!({ "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{ "matchExpressions": [term] }]
            } } }),
        );
    }
    Some(Value::Object(options))
}

impl super::Lowering<'_, '_> {
    /// The architecture a service's pods must select on a cluster of nodes of several: the one
    /// all the nodes its GPUs fit share, when there is one (none when the cluster has one
    /// architecture, or the pod may run on nodes of several).
    pub(crate) fn arch_of_pods(&self, service: &Resource<Service>) -> Option<Arch> {
        let names = self.cluster.spec.servers.iter().chain(&self.cluster.spec.agents);
        let nodes: Vec<_> = names.filter_map(|n| self.index.node(&n.name)).collect();
        let first = nodes.first()?.spec.arch();
        if nodes.iter().all(|n| n.spec.arch() == first) {
            return None;
        }
        let resources = service.spec.resources.as_ref().map(|r| &r.value)?;
        resources.gpu.as_ref().filter(|g| g.value > 0)?;
        let fits = |node: &spec_compiler::model::Node| {
            node.gpu.as_ref().is_some_and(|g| g.value > 0)
                && resources
                    .gpu_model
                    .as_ref()
                    .is_none_or(|m| node.gpu_model.as_ref().is_some_and(|n| n.value == m.value))
                && resources
                    .gpu_memory
                    .as_ref()
                    .is_none_or(|m| node.gpu_memory.as_ref().is_some_and(|n| n.value.0 >= m.value.0))
        };
        let mut archs = nodes.iter().filter(|n| fits(&n.spec)).map(|n| n.spec.arch());
        let arch = archs.next()?;
        archs.all(|a| a == arch).then_some(arch)
    }

    /// Refuses a GPU model a node selector cannot name: a label value is at most 63 characters
    /// of letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
    pub(crate) fn check_gpu_model(&mut self, service: &Resource<Service>) {
        let Some(model) = service.spec.resources.as_ref().and_then(|r| r.value.gpu_model.as_ref()) else { return };
        if is_label_value(&model.value) {
            return;
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::E1271,
                model.span,
                format!(
                    "GPU model `{}` of service `{}` cannot be selected on cluster `{}`: it is not a label value",
                    model.value, service.name, self.cluster.name
                ),
            )
            .with_primary_label("not a Kubernetes label value")
            .with_help(
                "write the model as GPU feature discovery labels it, `nvidia.com/gpu.product` (`NVIDIA-A100-SXM4-80GB`), on the service and its nodes",
            ),
        );
    }
}

/// Whether `text` is a Kubernetes label value (empty is one, but no model).
fn is_label_value(text: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.len() <= 63
        && edge(text.chars().next())
        && edge(text.chars().last())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::is_label_value;

    #[test]
    fn gpu_models_are_label_values() {
        assert!(is_label_value("NVIDIA-A100-SXM4-80GB"));
        assert!(is_label_value("A100"));
        assert!(!is_label_value("NVIDIA A100"));
        assert!(!is_label_value("-A100"));
        assert!(!is_label_value(""));
        assert!(!is_label_value(&"a".repeat(64)));
    }
}
