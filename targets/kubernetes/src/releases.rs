//! `helm/<cluster>/`: each service's values file, and the Flux objects that install them.
//!
//! Charts are pinned sources: an `OCIRepository` (Flux `source.toolkit.fluxcd.io/v1`) for an
//! `oci://` chart, referenced by the release's `chartRef`, or a `HelmRepository` for a chart in a
//! classic repository, referenced by `chart.spec.sourceRef`. Sources live in the cluster's
//! namespace beside their releases, so no cross-namespace reference is needed. A release
//! `dependsOn` the releases of what its service `needs` on the same cluster; needs elsewhere
//! (a database on a NixOS host) are outside Flux's reach and only ordered by the spec's graph.

use indexmap::IndexMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::escape::FLUX_SUBSTITUTE;
use crate::values::Release;

/// How often Flux reconciles what it installs.
const INTERVAL: &str = "30m";

impl super::Lowering<'_, '_> {
    /// Writes the values files, `releases.yaml` and `kustomization.yaml` of the cluster.
    pub fn helm(&mut self) {
        let cluster = self.cluster.name.clone();
        // Each release with the service it installs: one, or one per colour of a blue-green rollout.
        let mut releases: Vec<(String, String, Release, Vec<String>)> = Vec::new();
        let mut service_of: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
        for service in self.on.services.clone() {
            let Some(release) = self.release(service) else { continue };
            let Some(installed) = self.colour_releases(service, release) else { continue };
            for (name, release) in installed {
                let provenance = self.context.provenance(service.span);
                let version = release.version.as_deref().map(|v| format!("@{v}")).unwrap_or_default();
                let path = format!("helm/{cluster}/{name}.values.yaml");
                let body = spec_yaml::to_string(&release.values).map(|body| format!("# from {provenance}\n{body}"));
                self.file(path, Some(format!("# chart: {}{version}", release.chart)), body, vec![provenance.clone()]);
                service_of.insert(name.clone(), service.name.as_str());
                releases.push((name, release.chart.clone(), release, vec![provenance]));
            }
        }
        if releases.is_empty() {
            return;
        }
        // One source per chart location and version, named after the chart (suffixed when one
        // chart is used at two versions).
        let mut sources: IndexMap<(String, Option<String>), String> = IndexMap::new();
        for (_, chart, release, _) in &releases {
            let key = (release.url.clone(), release.version.clone());
            if !sources.contains_key(&key) {
                let taken = sources.values().filter(|n| n.starts_with(chart.as_str())).count();
                let name = if taken == 0 { chart.clone() } else { format!("{chart}-{}", taken + 1) };
                sources.insert(key, name);
            }
        }
        let mut documents: Vec<(String, Value)> = Vec::new();
        for ((url, version), name) in &sources {
            documents.push((format!("the chart {name}"), self.source(name, url, version.as_deref())));
        }
        let installed: std::collections::HashSet<&str> = releases.iter().map(|(name, ..)| name.as_str()).collect();
        let mut sources_of_files = Vec::new();
        for (name, chart, release, provenance) in &releases {
            let service = service_of[name.as_str()];
            let source = &sources[&(release.url.clone(), release.version.clone())];
            // A needed blue-green service is the release of its active colour.
            let needs: Vec<Value> = self
                .index
                .service(service)
                .map(|s| {
                    s.spec
                        .needed_services()
                        .filter_map(|n| self.index.service(&n.name))
                        .map(crate::bluegreen::active_release)
                        .filter(|n| installed.contains(n.as_str()))
                        .map(|n| json!({ "name": n }))
                        .collect()
                })
                .unwrap_or_default();
            let chart_ref = if release.url.starts_with("oci://") {
                json!({ "chartRef": { "kind": "OCIRepository", "name": source } })
            } else {
                let mut spec = json!({ "chart": chart, "sourceRef": { "kind": "HelmRepository", "name": source }, "interval": INTERVAL });
                if let Some(version) = &release.version {
                    spec["version"] = json!(version);
                }
                json!({ "chart": { "spec": spec } })
            };
            // The release is named after the service (Flux's default, written out): charts label
            // what they create with it, and backups select a chart's claims by that label.
            let mut spec = json!({ "releaseName": release_name(name), "interval": INTERVAL });
            merge(&mut spec, chart_ref);
            if !needs.is_empty() {
                spec["dependsOn"] = Value::Array(needs);
            }
            // The release lives beside its chart source in the cluster's first namespace and
            // installs the chart into the service's own.
            let chosen = self.index.service(service).and_then(|s| s.spec.namespace.as_ref());
            let target = self.namespace_of(chosen);
            if target != self.namespace() {
                spec["targetNamespace"] = json!(target);
            }
            spec["install"] = json!({ "remediation": { "retries": 3 } });
            spec["upgrade"] = json!({ "remediation": { "retries": 3 } });
            spec["values"] = release.values.clone();
            let release = json!({
                "apiVersion": "helm.toolkit.fluxcd.io/v2",
                "kind": "HelmRelease",
                "metadata": self.metadata(name),
                "spec": spec,
            });
            documents.push((format!("from {}", provenance.join(", ")), release));
            sources_of_files.extend(provenance.iter().cloned());
        }
        let body = commented_documents(&documents);
        self.file(format!("helm/{cluster}/releases.yaml"), None, body, sources_of_files);
        self.kustomization(format!("helm/{cluster}/kustomization.yaml"), &["releases.yaml"]);
    }

    fn source(&self, name: &str, url: &str, version: Option<&str>) -> Value {
        let (kind, mut spec) = if url.starts_with("oci://") {
            let mut spec = json!({
                "interval": INTERVAL,
                "url": url,
                "layerSelector": { "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy" },
            });
            if let Some(version) = version {
                spec["ref"] = json!({ "tag": version });
            }
            ("OCIRepository", spec)
        } else {
            ("HelmRepository", json!({ "interval": INTERVAL, "url": url }))
        };
        if let Value::Object(map) = &mut spec {
            map.sort_keys();
        }
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": kind,
            "metadata": self.metadata(name),
            "spec": spec,
        })
    }

    /// The metadata of every object: its name, the namespace, and Flux substitution switched off.
    pub fn metadata(&self, name: &str) -> Value {
        let mut annotations = serde_json::Map::new();
        annotations.insert(FLUX_SUBSTITUTE.0.into(), json!(FLUX_SUBSTITUTE.1));
        json!({ "name": name, "namespace": self.namespace(), "annotations": annotations })
    }

    /// A `kustomization.yaml` naming the folder's manifests, so Flux or Argo CD applies exactly them.
    pub fn kustomization(&mut self, path: String, resources: &[&str]) {
        let document = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        });
        self.file(path, None, spec_yaml::to_string(&document), Vec::new());
    }
}

/// The Helm release of a service: its name, shortened as Flux shortens a name longer than Helm's
/// 53 characters (the first 40, a hyphen, and the first 12 hex digits of the name's SHA-256), so
/// what the output says is the release Flux installs.
pub fn release_name(service: &str) -> String {
    const MAX: usize = 53;
    const HASH: usize = 12;
    if service.len() <= MAX {
        return service.to_string();
    }
    let digest = Sha256::digest(service.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    // Service names are DNS labels (ASCII), so the cut is on a character boundary.
    format!("{}-{}", &service[..MAX - HASH - 1], &hex[..HASH])
}

/// Adds `extra`'s keys to `base` (both objects).
fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(base), Value::Object(extra)) = (base, extra) {
        base.extend(extra);
    }
}

/// Documents separated by `---`, each after a comment saying where it came from.
pub fn commented_documents(documents: &[(String, Value)]) -> Result<String, String> {
    let mut out = String::new();
    for (comment, document) in documents {
        out.push_str("---\n# ");
        out.push_str(comment);
        out.push('\n');
        spec_yaml::append(&mut out, document)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_release_names_are_shortened_as_flux_does() {
        assert_eq!(release_name("db"), "db");
        let name = "a-service-whose-name-is-longer-than-helm-allows-for-releases";
        // The digest prefix is `sha256sum`'s of the name.
        assert_eq!(release_name(name), "a-service-whose-name-is-longer-than-helm-cca617e723a4");
        assert_eq!(release_name(name).len(), 53);
    }
}
