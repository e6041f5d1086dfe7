//! `k8s/<cluster>/dashboards.yaml`: the dashboards of the cluster's services, one `ConfigMap` per
//! service (`<service>-dashboards`, in its namespace) labelled `grafana_dashboard: "1"`, the label
//! Grafana's dashboard sidecar (kube-prometheus-stack's and the Grafana chart's) loads ConfigMaps
//! by. Each file is a key `<service>-<file name>` holding the file's text as the model holds it,
//! so the output is the same on any machine. The ConfigMaps carry Flux's substitution opt-out
//! (every object here does), since dashboards hold `${variable}` references of their own.
//!
//! The sidecar reads its own namespace unless told to search others
//! (`sidecar.dashboards.searchNamespace: ALL`), which the docs say.
//!
//! Refused: a file name that is no ConfigMap key (E1215), and one service's dashboards over the
//! 1 MiB an object may hold (E1216).

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};

/// The label Grafana's dashboard sidecar selects ConfigMaps by, and its value.
pub const DASHBOARD_LABEL: (&str, &str) = ("grafana_dashboard", "1");

/// The most bytes a ConfigMap's data may hold (the API server's limit on an object, less room for
/// its metadata).
const MAX_CONFIG_MAP_BYTES: usize = 1_000_000;

/// The key of a dashboard file in its service's ConfigMap.
pub fn dashboard_key(service: &str, named: &str) -> String {
    format!("{service}-{}", named.rsplit('/').next().unwrap_or(named))
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 253 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

impl super::Lowering<'_, '_> {
    /// One `ConfigMap` per service of the cluster with dashboards.
    pub fn dashboard_config_maps(&mut self) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        for service in self.on.services.clone() {
            if service.spec.dashboards.is_empty() {
                continue;
            }
            let mut data = serde_json::Map::new();
            let mut bytes = 0;
            for named in &service.spec.dashboards {
                let Some(text) = self.context.model.dashboards.get(&named.value) else { continue };
                let key = dashboard_key(&service.name, &named.value);
                if data.contains_key(&key) {
                    continue;
                }
                if !valid_key(&key) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E1215,
                            named.span,
                            format!(
                                "dashboard `{}` of service `{}` cannot be a ConfigMap key",
                                named.value, service.name
                            ),
                        )
                        .with_primary_label(format!(
                            "`{key}` holds a character other than letters, digits, `-`, `.` and `_`"
                        ))
                        .with_help("rename the file with letters, digits, `-`, `.` and `_` only"),
                    );
                    continue;
                }
                bytes += key.len() + text.len();
                data.insert(key, json!(text));
            }
            if bytes > MAX_CONFIG_MAP_BYTES {
                let span = service.spec.dashboards[0].span;
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E1216,
                        span,
                        format!("the dashboards of service `{}` hold {bytes} bytes, more than a ConfigMap takes", service.name),
                    )
                    .with_primary_label(format!("at most {MAX_CONFIG_MAP_BYTES} bytes in one ConfigMap"))
                    .with_help("split the dashboards over services, or shrink them (Grafana exports are indented: compact them)"),
                );
                continue;
            }
            if data.is_empty() {
                continue;
            }
            let namespace = self.namespace_of(service.spec.namespace.as_ref()).to_string();
            let mut metadata = self.metadata(&format!("{}-dashboards", service.name));
            metadata["namespace"] = json!(namespace);
            metadata["labels"] = json!({ DASHBOARD_LABEL.0: DASHBOARD_LABEL.1 });
            let config_map = json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data });
            documents.push((format!("from {}", self.context.provenance(service.span)), config_map));
        }
        documents
    }
}
