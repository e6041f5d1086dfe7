//! A namespace's per-container limits (`limits { default, max }`): the `LimitRange` written for
//! them, and the check that no service in the namespace asks for more than `max` (E1207), which the
//! API server would otherwise refuse at admission, long after `spec check` said nothing.

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{Cpu, Size, Spanned};
use spec_compiler::model::{ContainerLimits, Resources};

use crate::quantity;
use crate::values::{GPU, quantities};

/// The `LimitRange` item of the cluster's per-container limits.
///
/// `default` is what a container without resources *requests* (`defaultRequest`). Its limit is
/// left unset, so Kubernetes defaults it to `max` (or to none): writing the default as the limit
/// too would refuse every service that requests more than the default. GPUs are an extended
/// resource: Kubernetes wants their request equal to their limit and would default a missing
/// default limit to `max`, handing every container the most GPUs allowed, so the GPU default
/// (0 unless given) is written as both.
pub fn limit_range(limits: &ContainerLimits) -> Value {
    let default = limits.default.as_ref().map(|d| d.value.as_resources());
    let max = limits.max.as_ref().map(|m| m.value.as_resources());
    let (default, max) = (default.as_ref(), max.as_ref());
    let mut limit = serde_json::Map::new();
    limit.insert("type".into(), json!("Container"));
    let mut default_request = default.map(quantities).unwrap_or_default();
    let default_gpu = default.and_then(|d| d.gpu.as_ref()).map(|g| g.value);
    let max_gpu = max.and_then(|m| m.gpu.as_ref()).map(|g| g.value);
    if default_gpu.is_some() || max_gpu.is_some() {
        let gpus = json!(default_gpu.unwrap_or(0).to_string());
        default_request.insert(GPU.into(), gpus.clone());
        limit.insert("default".into(), json!({ GPU: gpus }));
    }
    if !default_request.is_empty() {
        limit.insert("defaultRequest".into(), Value::Object(default_request));
    }
    if let Some(max) = max {
        let mut quantities = quantities(max);
        if let Some(gpus) = max_gpu {
            quantities.insert(GPU.into(), json!(gpus.to_string()));
        }
        limit.insert("max".into(), Value::Object(quantities));
    }
    Value::Object(limit)
}

impl super::Lowering<'_, '_> {
    /// Reports every service whose resources exceed its namespace's `limits.max`, and a default
    /// above the maximum (a `LimitRange` the API server refuses).
    pub fn check_limits(&mut self) {
        let namespaces = self.cluster.spec.namespaces(self.cluster.name_span);
        let single = namespaces.len() == 1;
        let whose = |namespace: &spec_compiler::model::ClusterNamespace<'_>| match single {
            true => format!("cluster `{}`", self.cluster.name),
            false => format!("namespace `{}`", namespace.name),
        };
        let maxima: Vec<Option<(Resources, String)>> = namespaces
            .iter()
            .map(|n| n.limits.and_then(|l| l.value.max.as_ref()).map(|max| (max.value.as_resources(), whose(n))))
            .collect();
        for (namespace, maximum) in namespaces.iter().zip(&maxima) {
            let (Some((max, whose)), Some(default)) =
                (maximum, namespace.limits.and_then(|l| l.value.default.as_ref()))
            else {
                continue;
            };
            self.over_max(&default.value.as_resources(), max, &format!("the default of {whose}"), whose);
        }
        // One pass over the services, each held to its own namespace's maximum.
        for service in self.on.services.clone() {
            let Ok(index) = self.cluster.spec.namespace_of(service.spec.namespace.as_ref()) else { continue };
            let (Some(Some((max, whose))), Some(resources)) = (maxima.get(index), &service.spec.resources) else {
                continue;
            };
            self.over_max(&resources.value, max, &format!("service `{}`", service.name), whose);
        }
    }

    fn over_max(&mut self, asked: &Resources, max: &Resources, who: &str, whose: &str) {
        let size = |s: &Spanned<Size>| (s.span, s.value.0, quantity::size(s.value));
        let number = |n: &Spanned<u32>| (n.span, u64::from(n.value), n.value.to_string());
        let cpu = |c: &Spanned<Cpu>| (c.span, c.value.millis(), c.value.quantity());
        let pairs = [
            ("cpu", asked.cpu.as_ref().map(cpu), max.cpu.as_ref().map(cpu)),
            ("memory", asked.memory.as_ref().map(size), max.memory.as_ref().map(size)),
            ("gpu", asked.gpu.as_ref().map(number), max.gpu.as_ref().map(number)),
        ];
        for (what, asked, max) in pairs {
            let (Some((span, asked, asked_text)), Some((max_span, max, max_text))) = (asked, max) else { continue };
            if asked <= max {
                continue;
            }
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1207,
                    span,
                    format!(
                        "{who} asks for {what} {asked_text}, over the {} per-container maximum {max_text}",
                        match whose.starts_with("cluster") {
                            true => "cluster's",
                            false => "namespace's",
                        }
                    ),
                )
                .with_primary_label(format!("more than `limits.max.{what}`"))
                .with_label(max_span, "the maximum")
                .with_help(format!("ask for at most {max_text}, or raise `limits.max.{what}` of {whose}")),
            );
        }
    }
}
