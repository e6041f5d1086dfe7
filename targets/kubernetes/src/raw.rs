//! `k8s/<cluster>/manifests.yaml`: the cluster's raw manifests (`manifest NAME { namespace, body
//! { … } }`), written as given, with `metadata.namespace` from `namespace` and Flux's substitution
//! switched off like every object spec writes; and the check of every object written for the
//! cluster against its Kubernetes `version` ([`crate::versions`]).
//!
//! Raw manifests are checked against the Kubernetes schemas of their built-in kinds and the CRD
//! schemas of their custom kinds by the tests' validator, not by `spec check` (the core reads no
//! file, and the schemas are not the project's to ship): `spec check` checks their identity
//! (E0690), namespace (E0691, W0685), duplicates (E0693) and API against the version (E1260).

use serde_json::{Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::{KubeVersion, Resource, Service};
use spec_compiler::source::Span;

use crate::escape::FLUX_SUBSTITUTE;
use crate::versions::{APP_TEMPLATE_SINCE, not_served};

impl super::Lowering<'_, '_> {
    /// The cluster's raw manifests, in source order.
    pub fn raw_manifests(&self) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        for manifest in self.cluster.spec.manifest.values() {
            let Some(mut object) = manifest.value.object() else { continue };
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
                if let Some(annotations) = annotations.as_object_mut() {
                    annotations.entry(FLUX_SUBSTITUTE.0).or_insert_with(|| json!(FLUX_SUBSTITUTE.1));
                }
            }
            documents.push((format!("from {}", self.context.provenance(manifest.span)), object));
        }
        documents
    }

    /// The cluster's Kubernetes version, when it gives a valid one.
    fn version(&self) -> Option<(KubeVersion, Span)> {
        let version = self.cluster.spec.version.as_ref()?;
        Some((KubeVersion::parse(&version.value)?, version.span))
    }

    /// E1260 for every object about to be written whose API the cluster's version does not
    /// serve, at the `version` field, with the manifest that wrote it when it is a raw one.
    pub fn check_served(&mut self, file: &str, documents: &[(String, Value)]) {
        let Some((version, span)) = self.version() else { return };
        for (_, object) in documents {
            let text = |key: &str| object.get(key).and_then(Value::as_str);
            let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else { continue };
            let Some(why) = not_served(api_version, kind, version) else { continue };
            let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            let mut diagnostic = Diagnostic::new(
                Code::E1260,
                span,
                format!(
                    "cluster `{}` runs Kubernetes {version}, which does not serve the {kind} `{name}` of `k8s/{}/{file}`",
                    self.cluster.name, self.cluster.name
                ),
            )
            .with_primary_label(why)
            .with_help("write the object in an API the version serves, or upgrade the cluster and its `version`");
            if let Some(manifest) = self
                .cluster
                .spec
                .manifest
                .values()
                .find(|m| m.value.field("metadata.name") == Some(name) && m.value.field("kind") == Some(kind))
            {
                diagnostic = diagnostic.with_label(manifest.value.body.span, "this object");
            }
            self.diagnostics.push(diagnostic);
        }
    }

    /// E1261 when the cluster's version is older than the generic chart installs on and a
    /// service there is installed with it.
    pub fn check_chart_version(&mut self, services: &[&Resource<Service>]) {
        let Some((version, span)) = self.version() else { return };
        if version >= APP_TEMPLATE_SINCE {
            return;
        }
        let Some(service) = services.iter().find(|s| s.spec.helm.is_none() && s.spec.image.is_some()) else { return };
        self.diagnostics.push(
            Diagnostic::new(
                Code::E1261,
                span,
                format!(
                    "cluster `{}` runs Kubernetes {version}, older than the generic chart app-template 4.1.1 installs on ({APP_TEMPLATE_SINCE})",
                    self.cluster.name
                ),
            )
            .with_primary_label(format!("Helm refuses app-template below {APP_TEMPLATE_SINCE}"))
            .with_label(service.name_span, format!("service `{}` is installed with app-template", service.name))
            .with_help(format!("upgrade the cluster to {APP_TEMPLATE_SINCE} or later and say so in `version`")),
        );
    }
}
