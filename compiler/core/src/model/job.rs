//! One-shot jobs (kept out of `kinds.rs` by concept): `job NAME { on, image, args, … }`, a
//! container that runs to completion once per deployment, such as a schema migration. A service
//! (or another job) that `needs = [job.NAME]` starts only after the job has succeeded.
//!
//! A job is a kind of its own rather than a field of the service that needs it: several services
//! may need one migration, a job may need other jobs, and it has its own placement, namespace and
//! failure policy (`timeout`, `retries`), which a service's fields do not mean. Each back end
//! writes the ordering as it really holds there: a oneshot unit that stays active once it has
//! succeeded (`Type=oneshot`, `RemainAfterExit=yes`) which the needing unit requires and is ordered
//! after, or a Flux `HelmRelease` of a `job` controller, which Flux waits for until the Job is
//! complete, that the needing release `dependsOn`.
//!
//! Invariants the back ends rely on once the graph rules pass: a job and everything that needs it
//! run in the same place (the same node or cluster, E0676), a job needing a service elsewhere
//! retries (E0677: nothing orders it after the service), its volumes live there (E0678) and no
//! job is in a `needs` cycle (E0675).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::EnvValue;
use super::types::*;

/// A container run once, to completion, before what needs it starts.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Where it runs: a node (a oneshot unit) or a cluster (a Kubernetes Job).
    pub on: Spanned<PlacementRef>,
    /// The namespace of its cluster it runs in. Default: the cluster's only namespace.
    pub namespace: Option<Spanned<String>>,
    /// The container image, `repository:tag`.
    pub image: Spanned<String>,
    /// The arguments passed to the image's entry point.
    #[serde(default)]
    pub args: Vec<Spanned<Template>>,
    /// Environment variables; secrets are references, never literals.
    #[serde(default)]
    pub env: IndexMap<String, Spanned<EnvValue>>,
    /// What must be up (services) or done (jobs) before it runs, and the external buckets and
    /// endpoints it uses.
    #[serde(default)]
    pub needs: Vec<NeedRef>,
    /// Mount path to storage.
    #[serde(default)]
    pub volumes: IndexMap<String, StorageRef>,
    /// How long one run may take before it counts as failed.
    pub timeout: Option<Spanned<Duration>>,
    /// How often a failed run is tried again. Default: 0.
    #[schemars(extend("default" = 0))]
    pub retries: Option<Spanned<u32>>,
    /// What its container may do on the host and who it runs as: `security { user, group,
    /// privileged, capabilities { add, drop }, host_network, host_pid }`, as a service's.
    pub security: Option<Spanned<super::Security>>,
}

impl Job {
    /// How often a failed run is tried again (default 0).
    pub fn retries(&self) -> u32 {
        self.retries.as_ref().map_or(0, |r| r.value)
    }

    /// The services among `needs`.
    pub fn needed_services(&self) -> impl Iterator<Item = &NeedRef> {
        self.needs.iter().filter(|n| n.kind == "service")
    }

    /// The jobs among `needs`.
    pub fn needed_jobs(&self) -> impl Iterator<Item = &NeedRef> {
        self.needs.iter().filter(|n| n.kind == "job")
    }
}

/// The name of the unit (`job-<name>.service` on a host) and of the Helm release
/// (`job-<name>` on a cluster) that runs a job: prefixed, so it never takes a service's name.
pub fn job_unit(name: &str) -> String {
    format!("job-{name}")
}
