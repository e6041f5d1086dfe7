//! The policies of the pods the estate runs beside its services, in a namespace that denies
//! traffic: each one-shot job (`allow-job-<name>`, its release's pods), each workflow step
//! (`allow-workflow-<workflow>-<step>`, the pods Argo runs for it, which the generated workflow
//! labels `spec-workflow` and `spec-step`) and k8up's backup pods (`allow-k8up`, by the
//! `k8upjob: "true"` label k8up puts on every pod it starts). None admits anything in; each lets
//! out exactly what it reaches:
//! - a job: the services it needs or reads where they are (as a service's egress), and anything
//!   outside the cluster when it needs a bucket or an endpoint;
//! - a step: the services it reads, and the API server (Argo's executor reports each step's
//!   result through it);
//! - k8up: the API server (it finds the claims and pods to back up through it, and runs a
//!   service's dump in its pod through it) and each repository outside the cluster on its port
//!   (its address when the URL gives one). A repository inside the cluster is W0681 in the graph
//!   rules;
//! - the restore tests (`allow-restore-tests`, by the `spec-restore-test` label of their pods):
//!   the repositories of the backups with `verify` in the namespace, and nothing else.
//!
//! The services they reach admit them in ([`super::Lowering::network_policies`] indexes them with
//! the services' own needers).

use indexmap::IndexMap;
use serde_json::{Value, json};
use spec_compiler::model::EnvValue;
use spec_compiler::model::backup::{in_cluster_host, repository_host};
use spec_compiler::model::job::job_unit;
use spec_compiler::model::reach::host_range;
use spec_compiler::model::types::Spanned;

use super::{INSTANCE_LABEL, outside_rule, port_entry};
use crate::restore_tests::RESTORE_TEST_LABEL;

/// The label the generated workflows put on every pod of a workflow, with the workflow's name.
pub const WORKFLOW_LABEL: &str = "spec-workflow";
/// The label the generated workflows put on every pod of a step, with the step's name.
pub const STEP_LABEL: &str = "spec-step";
/// The label k8up puts on every pod it starts (backups, checks, prunes).
pub const K8UP_LABEL: (&str, &str) = ("k8upjob", "true");

/// Pods the estate runs beside its services that reach services.
pub(crate) struct Run {
    /// The policy's name.
    pub name: String,
    /// Selects the pods.
    pub selector: Value,
    /// The namespace they run in.
    pub namespace: String,
    /// The services they reach.
    pub reached: Vec<String>,
    /// Whether they reach the API server.
    pub api: bool,
    /// Whether they reach anything outside the cluster (a bucket or an endpoint).
    pub outside: bool,
    /// Where in the estate they come from.
    pub span: spec_compiler::source::Span,
}

/// The services read in `env`, each once, after those in `reached`.
fn env_reads(reached: &mut Vec<String>, env: &IndexMap<String, Spanned<EnvValue>>) {
    for value in env.values() {
        if let EnvValue::Endpoint(endpoint) = &value.value
            && !reached.contains(&endpoint.0.name)
        {
            reached.push(endpoint.0.name.clone());
        }
    }
}

impl super::super::Lowering<'_, '_> {
    /// The cluster's jobs and workflow steps, as pods that reach services.
    pub(crate) fn runs(&self) -> Vec<Run> {
        let mut runs = Vec::new();
        for job in &self.on.jobs {
            let mut reached: Vec<String> = job.spec.needed_services().map(|n| n.name.clone()).collect();
            env_reads(&mut reached, &job.spec.env);
            runs.push(Run {
                name: format!("allow-{}", job_unit(&job.name)),
                selector: json!({ "matchLabels": { INSTANCE_LABEL: job_unit(&job.name) } }),
                namespace: self.namespace_of(job.spec.namespace.as_ref()).to_string(),
                reached,
                api: false,
                outside: job.spec.needs.iter().any(|n| n.kind != "service" && n.kind != "job"),
                span: job.span,
            });
        }
        // Argo runs a workflow's pods in the cluster's first namespace.
        let first = self.namespace().to_string();
        for workflow in &self.on.workflows {
            for (step, spec) in &workflow.spec.step.value {
                let mut reached = Vec::new();
                env_reads(&mut reached, &spec.value.env);
                runs.push(Run {
                    name: format!("allow-workflow-{}-{step}", workflow.name),
                    selector: json!({ "matchLabels": { WORKFLOW_LABEL: workflow.name, STEP_LABEL: step } }),
                    namespace: first.clone(),
                    reached,
                    api: true,
                    outside: false,
                    span: spec.span,
                });
            }
        }
        runs
    }

    /// The policies of the jobs, workflow steps and k8up pods in the namespaces `denied`.
    pub(super) fn run_policies(&self, denied: &[&str]) -> Vec<(String, Value)> {
        let mut documents = Vec::new();
        for run in self.runs().into_iter().filter(|r| denied.contains(&r.namespace.as_str())) {
            let mut egress = self.egress_to(run.reached.iter().map(String::as_str).collect(), &run.namespace);
            if run.api {
                egress.push(self.api_rule());
            }
            if run.outside {
                egress.push(outside_rule(None));
            }
            let spec = json!({
                "podSelector": run.selector,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "egress": egress,
            });
            let from = format!("from {}", self.context.provenance(run.span));
            documents.push((from, self.policy(&run.namespace, &run.name, spec)));
        }
        documents.extend(self.k8up_policies(denied));
        documents
    }

    /// `allow-k8up` in each denied namespace holding a backed-up volume or dump: the API server
    /// and each repository outside the cluster, on its port; and `allow-restore-tests` where a
    /// backup has `verify`, for the restore tests' pods: the same repositories, no API server.
    fn k8up_policies(&self, denied: &[&str]) -> Vec<(String, Value)> {
        type Egress = (Vec<Value>, spec_compiler::source::Span);
        let mut by_namespace: IndexMap<&str, Egress> = IndexMap::new();
        let mut tests_by_namespace: IndexMap<&str, Egress> = IndexMap::new();
        for backup in &self.on.backups {
            let dumped = backup.spec.service().and_then(|name| self.index.service(name));
            if dumped.is_some_and(|s| crate::dumps::backup_command(s).is_none()) {
                continue; // not generated for clusters (W1201)
            }
            let namespace = self.namespace_of_storage(backup);
            if !denied.contains(&namespace) {
                continue;
            }
            let mut rules = Vec::new();
            for copy in backup.spec.copies(&backup.name) {
                let Some(repository) = self.index.repository(&copy) else { continue };
                let Some((host, port)) = repository_host(&repository) else { continue };
                if in_cluster_host(&host) {
                    continue; // W0681
                }
                rules.push(match host.trim_matches(['[', ']']).parse() {
                    Ok(address) => json!({
                        "to": [{ "ipBlock": { "cidr": host_range(address) } }],
                        "ports": [port_entry(port, spec_compiler::model::types::Transport::Tcp)],
                    }),
                    Err(_) => outside_rule(Some(port)),
                });
            }
            let entry = by_namespace.entry(namespace).or_insert_with(|| (vec![self.api_rule()], backup.span));
            for rule in &rules {
                if !entry.0.contains(rule) {
                    entry.0.push(rule.clone());
                }
            }
            if backup.spec.verify.is_some() {
                let entry = tests_by_namespace.entry(namespace).or_insert_with(|| (Vec::new(), backup.span));
                for rule in rules {
                    if !entry.0.contains(&rule) {
                        entry.0.push(rule);
                    }
                }
            }
        }
        let k8up = by_namespace.into_iter().map(|(namespace, egress)| {
            (namespace, "allow-k8up", json!({ "matchLabels": { K8UP_LABEL.0: K8UP_LABEL.1 } }), egress)
        });
        let tests = tests_by_namespace.into_iter().map(|(namespace, egress)| {
            let selector = json!({ "matchExpressions": [{ "key": RESTORE_TEST_LABEL, "operator": "Exists" }] });
            (namespace, "allow-restore-tests", selector, egress)
        });
        k8up.chain(tests)
            .map(|(namespace, name, selector, (egress, span))| {
                let spec = json!({
                    "podSelector": selector,
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [],
                    "egress": egress,
                });
                (format!("from {}", self.context.provenance(span)), self.policy(namespace, name, spec))
            })
            .collect()
    }
}
