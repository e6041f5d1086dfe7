//! `helm/<cluster>/`: each service's values file, and the Flux objects that install them.
//!
//! Charts are pinned sources: an `OCIRepository` (Flux `source.toolkit.fluxcd.io/v1`) for an
//! `oci://` chart, referenced by the release's `chartRef`, or a `HelmRepository` for a chart in a
//! classic repository, referenced by `chart.spec.sourceRef`. Sources live in the cluster's
//! namespace beside their releases, so no cross-namespace reference is needed. A release
//! `dependsOn` the releases of what its service `needs` on the same cluster; needs elsewhere
//! (a database on a NixOS host) are outside Flux's reach and only ordered by the spec's graph.
//! A blue-green service is two releases, `<service>-blue` and `<service>-green`
//! ([`crate::bluegreen`]); what needs it waits for the active colour's.
//! A job is a release of its own, `job-<name>` ([`crate::jobs`]): Flux waits for a release's Jobs
//! to complete before it is ready (helm-controller's default, `disableWaitForJobs: false`), so
//! a release that `dependsOn` it is installed only after the Job has succeeded. Beyond needs, a
//! release waits for what the charts the back end recognises must install first (Istio's CRDs,
//! istiod's injector, prometheus-operator's CRDs; [`ordering`]).

use indexmap::IndexMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::escape::FLUX_SUBSTITUTE;
use crate::values::Release;

mod ordering;

/// How often Flux reconciles what it installs.
const INTERVAL: &str = "30m";

impl super::Lowering<'_, '_> {
    /// Writes the values files, `releases.yaml` and `kustomization.yaml` of the cluster.
    pub fn helm(&mut self) {
        let cluster = self.cluster.name.clone();
        let mut releases: Vec<Installed> = Vec::new();
        for service in self.on.services.clone() {
            let Some(release) = self.release(service) else { continue };
            // One release, or one per colour of a blue-green rollout.
            let Some(colours) = self.colour_releases(service, release) else { continue };
            let needs: Vec<_> = service.spec.needs.iter().map(|n| self.needed_release(&n.kind, &n.name)).collect();
            let namespace = service.spec.namespace.as_ref();
            for (name, release) in colours {
                releases.push(Installed {
                    name,
                    span: service.span,
                    release,
                    needs: needs.clone(),
                    namespace,
                    job: None,
                    service: Some(service),
                });
            }
        }
        for job in self.on.jobs.clone() {
            let Some((release, deadline)) = self.job_release(job) else { continue };
            let needs = job.spec.needs.iter().map(|n| self.needed_release(&n.kind, &n.name)).collect();
            let name = spec_compiler::model::job::job_unit(&job.name);
            let namespace = job.spec.namespace.as_ref();
            releases.push(Installed {
                name,
                span: job.span,
                release,
                needs,
                namespace,
                job: Some(deadline),
                service: None,
            });
        }
        if releases.is_empty() {
            return;
        }
        for installed in &releases {
            let provenance = self.context.provenance(installed.span);
            let release = &installed.release;
            let version = release.version.as_deref().map(|v| format!("@{v}")).unwrap_or_default();
            let path = format!("helm/{cluster}/{}.values.yaml", installed.name);
            let body = spec_yaml::to_string(&release.values).map(|body| format!("# from {provenance}\n{body}"));
            self.file(path, Some(format!("# chart: {}{version}", release.chart)), body, vec![provenance]);
        }
        // One source per chart location and version, named after the chart (suffixed when one
        // chart is used at two versions).
        let mut sources: IndexMap<(String, Option<String>), String> = IndexMap::new();
        for Installed { release, .. } in &releases {
            let key = (release.url.clone(), release.version.clone());
            if !sources.contains_key(&key) {
                let taken = sources.values().filter(|n| n.starts_with(release.chart.as_str())).count();
                let name = if taken == 0 { release.chart.clone() } else { format!("{}-{}", release.chart, taken + 1) };
                sources.insert(key, name);
            }
        }
        let mut documents: Vec<(String, Value)> = Vec::new();
        for ((url, version), name) in &sources {
            documents.push((format!("the chart {name}"), self.source(name, url, version.as_deref())));
        }
        let order = self.install_order(&releases);
        let mut sources_of_files = Vec::new();
        for (entry, needs) in releases.iter().zip(order) {
            let Installed { name, release, .. } = entry;
            let provenance = self.context.provenance(entry.span);
            let source = &sources[&(release.url.clone(), release.version.clone())];
            // What it needs on this cluster is installed first: services' releases are ready,
            // jobs' releases hold until their Job has completed; then what its chart or its
            // namespace's mesh implies ([`ordering`]).
            let needs: Vec<Value> = needs.iter().map(|n| json!({ "name": n })).collect();
            let chart_ref = if release.url.starts_with("oci://") {
                json!({ "chartRef": { "kind": "OCIRepository", "name": source } })
            } else {
                let mut spec = json!({ "chart": release.chart, "sourceRef": { "kind": "HelmRepository", "name": source }, "interval": INTERVAL });
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
            let target = self.namespace_of(entry.namespace);
            if target != self.namespace() {
                spec["targetNamespace"] = json!(target);
            }
            spec["install"] = json!({ "remediation": { "retries": 3 } });
            spec["upgrade"] = json!({ "remediation": { "retries": 3 } });
            if let Some(deadline) = &entry.job {
                // A Job's pod template cannot be changed in place: an upgrade replaces the Job
                // (and so runs it again). Flux waits for the Job to complete for as long as its
                // deadline allows.
                spec["upgrade"]["force"] = json!(true);
                if let Some(timeout) = deadline {
                    spec["timeout"] = json!(timeout);
                }
            }
            spec["values"] = release.values.clone();
            let release = json!({
                "apiVersion": "helm.toolkit.fluxcd.io/v2",
                "kind": "HelmRelease",
                "metadata": self.metadata(name),
                "spec": spec,
            });
            documents.push((format!("from {provenance}"), release));
            sources_of_files.push(provenance);
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

    /// The release that installs what a need names: a service's own (its active colour's, for a
    /// blue-green rollout), a job's `job-<name>`; `None` for buckets and endpoints.
    fn needed_release(&self, kind: &str, name: &str) -> Option<String> {
        match kind {
            "service" => {
                Some(self.index.service(name).map_or_else(|| name.to_string(), crate::bluegreen::active_release))
            }
            "job" => Some(spec_compiler::model::job::job_unit(name)),
            _ => None,
        }
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

/// What one `HelmRelease` installs: a service's chart, or a job's.
struct Installed<'m> {
    /// The release's and its object's name: the service's, or `job-<name>`.
    name: String,
    span: spec_compiler::source::Span,
    release: Release,
    /// The releases of what it needs (services and jobs; `None` for buckets and endpoints).
    needs: Vec<Option<String>>,
    namespace: Option<&'m spec_compiler::model::types::Spanned<String>>,
    /// For a job, the time Flux waits for it to complete (its deadline), if it has one.
    job: Option<Option<String>>,
    /// The service it installs (`None` for a job's).
    service: Option<&'m spec_compiler::model::Resource<spec_compiler::model::Service>>,
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
