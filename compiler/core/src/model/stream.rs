//! Message streams (`stream NAME { on = service.BUS, subjects, storage, … }`): a durable,
//! replicated log of the messages published on some subjects of a message bus, with its limits
//! (age, bytes), retention, duplicate window and replicas, as JetStream defines a stream.
//!
//! A kind rather than a preset, because what makes a stream right is a fact about the other streams
//! and the server: the server refuses a stream whose subjects overlap another's, and one with more
//! replicas than it has members, and neither is visible from inside one preset's block. The graph
//! rules check both ([`crate::graph::streams`]). What the compiler does not know is the product's
//! tool: the one-shot that applies a stream (`image`, `args`, `security`) comes from a preset
//! (`std.nats.stream`). It is given the stream's configuration as JSON in [`STREAM_CONFIG`]
//! (JetStream's `io.nats.jetstream.api.v1.stream_configuration`: durations in nanoseconds, `-1` for
//! "no limit") and the server's URL in [`STREAM_SERVER`].
//!
//! Lowering: each stream is a [`Job`] of its own, `stream-NAME` ([`job_of`]), placed where its
//! server runs (its cluster and namespace, or its node) and needing it, so every back end runs it
//! as it runs a job (a oneshot unit ordered after the server's; a Flux release of a Kubernetes
//! Job that `dependsOn` the server's), reaching the server as a job does (firewall, policies), and
//! running again whenever the configuration changes.
//!
//! Invariants once the graph rules pass: each stream has subjects (written, or the dead-letter
//! advisories), each subject is a valid NATS subject, no two streams of one server overlap, and
//! the replicas do not exceed the server's members.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::EnvValue;
use super::job::Job;
use super::types::*;
use super::{Resource, Service};

/// The environment variable holding the stream's configuration, JSON, in the one-shot.
pub const STREAM_CONFIG: &str = "STREAM_CONFIG";
/// The environment variable holding the server's URL (`service.BUS.url`), in the one-shot.
pub const STREAM_SERVER: &str = "STREAM_SERVER";
/// The subjects JetStream publishes an advisory on when a consumer has delivered a message its
/// `max_deliver` times: what a dead-letter stream keeps.
pub const MAX_DELIVERIES: &str = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>";

/// A durable log of the messages on some subjects of a message bus.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// The server (a service) the stream lives on.
    pub on: Spanned<ServiceRef>,
    /// The subjects whose messages it keeps (`orders.>`, `audit.*.created`).
    #[serde(default)]
    pub subjects: Vec<Spanned<String>>,
    /// A dead-letter stream: it keeps the advisories the server publishes when a consumer has
    /// delivered a message its `max_deliver` times (`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>`),
    /// in place of `subjects`. Default: false.
    pub dead_letters: Option<Spanned<bool>>,
    /// Where messages are kept: `file` or `memory`. Default: `file`.
    pub storage: Option<Spanned<StreamStorage>>,
    /// When messages are removed: `limits` (by age and size only), `interest` (once every
    /// consumer has acknowledged), `workqueue` (once one has). Default: `limits`.
    pub retention: Option<Spanned<Retention>>,
    /// What goes when a limit is reached: `old` messages, or `new` ones are refused. Default: `old`.
    pub discard: Option<Spanned<Discard>>,
    /// How long a message is kept. Default: no limit.
    pub max_age: Option<Spanned<Duration>>,
    /// How many bytes the stream keeps (per replica). Default: no limit.
    pub max_bytes: Option<Spanned<Size>>,
    /// How long a message id is remembered to drop duplicates. Default: the server's (2 minutes).
    pub duplicate_window: Option<Spanned<Duration>>,
    /// On how many servers each message is kept, at most the server's members. Default: 1.
    #[schemars(range(min = 1, max = 5))]
    pub replicas: Option<Spanned<u32>>,
    /// The image of the one-shot that applies the stream (a preset such as `std.nats.stream`).
    pub image: Spanned<String>,
    /// Its arguments; it finds the configuration in `STREAM_CONFIG` and the server in `STREAM_SERVER`.
    #[serde(default)]
    pub args: Vec<Spanned<Template>>,
    /// How long one run may take. Default: 5 minutes.
    pub timeout: Option<Spanned<Duration>>,
    /// How often a failed run is tried again (the server may still be electing a leader). Default: 3.
    pub retries: Option<Spanned<u32>>,
    /// Who the one-shot runs as and what it may do (`security { user, group }`, a preset's: the
    /// tool's image decides whether it needs root), as a job's.
    pub security: Option<Spanned<super::Security>>,
}

/// Where a stream's messages are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StreamStorage {
    /// On disk.
    File,
    /// In memory (lost when every replica restarts).
    Memory,
}

/// When a stream's messages are removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Retention {
    /// By its limits only.
    Limits,
    /// Once every consumer has acknowledged it.
    Interest,
    /// Once one consumer has acknowledged it.
    Workqueue,
}

/// What a full stream does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Discard {
    /// Drops its oldest messages.
    Old,
    /// Refuses new ones.
    New,
}

impl Stream {
    /// The subjects it keeps: those written, or the dead-letter advisories.
    pub fn subjects(&self) -> Vec<&str> {
        if self.dead_letters() {
            return vec![MAX_DELIVERIES];
        }
        self.subjects.iter().map(|s| s.value.as_str()).collect()
    }

    /// Whether it keeps the dead-letter advisories.
    pub fn dead_letters(&self) -> bool {
        self.dead_letters.as_ref().is_some_and(|d| d.value)
    }

    /// On how many servers each message is kept (default 1).
    pub fn replicas(&self) -> u32 {
        self.replicas.as_ref().map_or(1, |r| r.value)
    }

    /// JetStream's stream configuration (`io.nats.jetstream.api.v1.stream_configuration`) for
    /// the stream named `name` in the server: what the one-shot applies.
    pub fn config(&self, name: &str) -> serde_json::Value {
        const NANOS_PER_MS: u64 = 1_000_000;
        let storage = self.storage.as_ref().map_or(StreamStorage::File, |s| s.value);
        let retention = self.retention.as_ref().map_or(Retention::Limits, |r| r.value);
        let discard = self.discard.as_ref().map_or(Discard::Old, |d| d.value);
        let nanos = |d: &Spanned<Duration>| d.value.0.saturating_mul(NANOS_PER_MS);
        let mut config = json!({
            "name": name,
            "subjects": self.subjects(),
            "retention": retention,
            "max_consumers": -1,
            "max_msgs": -1,
            "max_bytes": self.max_bytes.as_ref().map_or(-1, |b| i64::try_from(b.value.0).unwrap_or(i64::MAX)),
            "max_age": self.max_age.as_ref().map_or(0, nanos),
            "max_msgs_per_subject": -1,
            "max_msg_size": -1,
            "discard": discard,
            "storage": storage,
            "num_replicas": self.replicas(),
        });
        if let Some(window) = &self.duplicate_window {
            config["duplicate_window"] = json!(nanos(window));
        }
        config
    }
}

/// The stream's name in the server: the block's name in capitals, `-` as `_`
/// (`security-audit` is `SECURITY_AUDIT`), as JetStream names streams by convention.
pub fn stream_name(block: &str) -> String {
    block.to_ascii_uppercase().replace('-', "_")
}

/// The name of the job that applies stream `name`: prefixed, so it never takes a job's name.
pub fn stream_job(name: &str) -> String {
    format!("stream-{name}")
}

/// The job that applies `stream` to its server `server` (found by name): placed where the server
/// runs, needing it, with the configuration and the server's URL in its environment.
pub fn job_of(stream: &Resource<Stream>, server: &Resource<Service>) -> Resource<Job> {
    let spec = &stream.spec;
    let span = stream.span;
    let server_ref =
        Reference { kind: "service".into(), name: server.name.clone(), field: Vec::new(), span: spec.on.span };
    let url = Reference { field: vec!["url".into()], ..server_ref.clone() };
    let config = spec.config(&stream_name(&stream.name));
    let mut env = IndexMap::new();
    env.insert(STREAM_CONFIG.to_string(), Spanned { value: EnvValue::Text(config.to_string()), span });
    env.insert(STREAM_SERVER.to_string(), Spanned { value: EnvValue::Endpoint(Endpoint(url)), span: spec.on.span });
    Resource {
        name: stream_job(&stream.name),
        span: stream.span,
        name_span: stream.name_span,
        spec: Job {
            on: server.spec.on.clone(),
            namespace: server.spec.namespace.clone(),
            image: spec.image.clone(),
            args: spec.args.clone(),
            env,
            needs: vec![NeedRef(server_ref)],
            volumes: IndexMap::new(),
            timeout: Some(spec.timeout.clone().unwrap_or(Spanned { value: Duration(5 * 60 * 1000), span })),
            retries: Some(spec.retries.clone().unwrap_or(Spanned { value: 3, span })),
            security: spec.security.clone(),
        },
        presets: stream.presets.clone(),
        rows: stream.rows.clone(),
    }
}

/// Adds the job of every stream whose server is a service of the model (an unknown one is the
/// resolver's E0201), after the jobs written, in stream order.
pub fn add_jobs(model: &mut super::Model) {
    let services: rustc_hash::FxHashMap<&str, &Resource<Service>> =
        model.services.iter().map(|s| (s.name.as_str(), s)).collect();
    let jobs: Vec<Resource<Job>> = model
        .streams
        .iter()
        .filter_map(|stream| services.get(stream.spec.on.value.name.as_str()).map(|server| job_of(stream, server)))
        .collect();
    model.jobs.extend(jobs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_in_the_server_is_the_block_name_in_capitals() {
        assert_eq!(stream_name("security-audit"), "SECURITY_AUDIT");
    }
}
