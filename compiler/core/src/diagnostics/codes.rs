//! The registry of diagnostic codes: one line per code, never reused or renumbered.
//!
//! The range of a code says which stage emits it: `0001–0099` reading input, `0100–0199` syntax,
//! `0200–0299` names and resolution, `0300–0399` types and schemas, `0400–0499` evaluation,
//! `0500–0599` assertions (a preset's, the stdlib's included, or the user's own),
//! `0600–0799` checks over the estate's graph (placement, ports, capacity, backups, alerts,
//! secrets, networks, workflows), `1100–1199` the NixOS back end, `1200–1299` the Kubernetes back end,
//! `1400–1499` the systemd back end, `1500–1599` the Prometheus back end, `9000–9999` compiler bugs. An `E`
//! prefix is an error, a `W` prefix a warning. Every code has a kebab-case slug and an explain page
//! at `explain/<CODE>.md`, whose path the macro derives from the code so the two cannot drift.

use super::Severity;

macro_rules! codes {
    ($( $code:ident $slug:literal $severity:ident $summary:literal, )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $summary]
                $code,
            )*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as written (`E0301`).
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            /// The kebab-case slug (`type-mismatch`).
            pub fn slug(self) -> &'static str {
                match self { $(Code::$code => $slug,)* }
            }

            /// Whether the code is an error or a warning.
            pub fn severity(self) -> Severity {
                match self { $(Code::$code => Severity::$severity,)* }
            }

            /// A one-line summary of what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$code => $summary,)* }
            }

            /// The long-form explanation printed by `spec explain`.
            pub fn explain(self) -> &'static str {
                match self { $(Code::$code => include_str!(concat!("explain/", stringify!($code), ".md")),)* }
            }
        }
    };
}

codes! {
    // Reading input.
    E0001 "not-utf8"               Error   "a source file is not valid UTF-8",
    E0002 "no-input-files"         Error   "no `.spec` file was found",
    E0003 "file-too-large"         Error   "a source file is larger than the compiler accepts",
    E0004 "unreadable-file"        Error   "a source file or directory could not be read",
    E0005 "unknown-env"            Error   "`--env` names an environment that no overlay declares",
    W0001 "empty-file"             Warning "a source file declares nothing",
    // Syntax.
    E0101 "unexpected-token"       Error   "the parser found something other than what the grammar allows here",
    E0102 "unterminated-string"    Error   "a string literal is not closed",
    E0103 "invalid-literal"        Error   "a number, duration, size, address or port literal is malformed",
    E0104 "unclosed-delimiter"     Error   "a `{`, `[` or `(` is never closed",
    E0105 "nesting-too-deep"       Error   "blocks, lists or expressions are nested deeper than the limit",
    E0106 "string-too-long"        Error   "a string literal is longer than the limit",
    E0107 "invalid-character"      Error   "a character that cannot start any token, or a NUL inside a string",
    E0108 "invalid-escape"         Error   "an unknown escape sequence in a string",
    // Names and resolution.
    E0201 "unknown-name"           Error   "a reference names a resource that does not exist",
    E0202 "duplicate-definition"   Error   "two declarations have the same name",
    E0203 "invalid-name"           Error   "a name is not a DNS-1123 label",
    E0204 "unknown-kind"           Error   "a block starts with a kind the language does not have",
    E0205 "unknown-import"         Error   "an import names a module the stdlib does not have",
    E0206 "unknown-preset"         Error   "`use` names a preset that is not declared or imported",
    E0207 "let-cycle"              Error   "`let` bindings depend on each other in a cycle",
    E0208 "unknown-variable"       Error   "an interpolation or expression names a variable that is not bound",
    E0209 "preset-kind-mismatch"   Error   "a preset is used in a block of a kind it was not written for",
    E0210 "unknown-parameter"      Error   "`use` sets a parameter the preset does not declare",
    E0211 "overlay-target-missing" Error   "an environment overlay names a resource that does not exist",
    E0220 "removed-block-referenced" Error "a reference names a block the applied environment removes",
    E0221 "removed-block-missing"  Error   "an environment removes a block the estate does not declare",
    E0222 "added-block-exists"     Error   "an environment adds a block the estate already declares",
    E0223 "overlay-into-removed"   Error   "an overlay sets a field of a block its environment removes",
    E0224 "list-loop-body"         Error   "a loop inside a list has no body, or a body that is not a value",
    E0225 "list-loop-not-alone"    Error   "a list built by a loop holds other elements too",
    W0201 "unused-import"          Warning "an imported stdlib module is never used",
    // Types and schemas.
    E0301 "type-mismatch"          Error   "a value has the wrong type for its field",
    E0302 "missing-field"          Error   "a required field is not set",
    E0303 "unknown-field"          Error   "a field that the kind's schema does not have",
    E0304 "invalid-enum-value"     Error   "a symbol that is not one of the values the field allows",
    E0305 "duplicate-field"        Error   "a field is set twice in one block",
    E0306 "wrong-reference-kind"   Error   "a reference points at a resource of the wrong kind",
    E0307 "value-out-of-range"     Error   "a number lies outside the range its field allows",
    // Evaluation.
    E0401 "range-too-large"        Error   "a `for` range or list expands to more items than the limit",
    E0402 "arithmetic-error"       Error   "integer arithmetic overflows or divides by zero",
    E0403 "invalid-operands"       Error   "an operator is applied to values it does not accept",
    E0404 "too-many-resources"     Error   "the estate expands to more resources than the limit",
    E0405 "cannot-interpolate"     Error   "a value that has no text form is interpolated into a string",
    E0406 "invalid-iterable"       Error   "`for` iterates over something that is not a list or a range",
    E0407 "evaluation-too-large"   Error   "evaluating the estate takes more steps than the limit",
    E0408 "built-string-too-long"  Error   "interpolation or `+` builds a string longer than the limit",
    E0409 "secret-in-string"       Error   "a secret is interpolated into a string, whose text would hold its value",
    E0410 "template-not-allowed"   Error   "a string with references stands where only plain text is taken",
    E0411 "list-loop-filter"       Error   "the `if` of a loop inside a list is not a boolean",
    E0412 "reference-name-not-text" Error  "the name of a reference built from a string is not plain text",
    // Assertions (the stdlib's presets and the user's own).
    E0501 "assertion-failed"       Error   "an `assert` condition is false: a preset refuses its parameters, or a value breaks a rule the estate states",
    // Checks over the estate's graph.
    E0601 "dependency-cycle"          Error   "services or workflow steps need each other in a cycle",
    E0602 "volume-elsewhere"          Error   "a service mounts storage that lives somewhere else",
    E0603 "cluster-mounts-host-dataset" Error "a cluster service mounts a ZFS dataset of a host",
    E0604 "no-shared-network"         Error   "a service needs a service on another node, or from a cluster, with no network between them",
    E0605 "unknown-pool"              Error   "a storage names a ZFS pool its node does not have",
    E0606 "port-conflict"             Error   "two things bind the same port and protocol on one node",
    E0607 "undeclared-port"           Error   "`expose`, `health` or `metrics` names a port the service does not declare",
    E0608 "overcommitted"             Error   "what is placed on a node or cluster needs more cpu or memory than it has",
    E0609 "pool-overcommitted"        Error   "the quotas of a pool's datasets add up to more than the pool",
    E0610 "rpo-not-met"               Error   "no copy of a backup is frequent enough for its recovery point objective",
    W0601 "keep-inconsistent"         Warning "a retention count the schedule can never fill",
    W0602 "backup-not-3-2-1"          Warning "a backup lacks three copies on two media with one offsite",
    W0603 "state-without-backup"      Warning "a storage holds state that no backup covers",
    E0611 "invalid-promql"            Error   "an alert's expression is not valid PromQL",
    W0604 "alert-job-unknown"         Warning "an alert matches a `job` that no service exporting metrics has",
    E0612 "missing-secret-backend"    Error   "a secret is used where it has no backend for that target",
    E0613 "plaintext-secret"          Error   "a literal value looks like a secret",
    E0614 "address-outside-network"   Error   "a network member's address is outside the network's range",
    E0615 "duplicate-address"         Error   "two nodes have the same address",
    E0616 "missing-wireguard-identity" Error  "a WireGuard network member has no address or no WireGuard keys",
    E0617 "invalid-cron"              Error   "a workflow schedule is not a valid five-field cron expression",
    E0618 "zero-timeout"              Error   "a workflow step's timeout is zero",
    E0619 "invalid-wireguard-key"     Error   "a WireGuard public key is not 32 bytes of base64",
    E0620 "replica-on-same-node"      Error   "a backup replicates a dataset to the node it already lives on",
    E0621 "namespace-quota-exceeded"  Error   "what is placed on a cluster asks for more than its namespace quota",
    E0622 "quota-without-requests"    Error   "a workload in a namespace with a cpu or memory quota requests none",
    E0623 "invalid-alert-template"    Error   "an alert's summary or description is not a template Prometheus can parse",
    E0624 "audience-out-of-reach"     Error   "`expose` names a network or cluster the service's node is not part of",
    E0625 "endpoint-unresolved"       Error   "`service.NAME.host`, `.port` or `.url` has no value where it is read",
    E0630 "unknown-namespace"         Error   "a service or storage names a namespace its cluster does not hold",
    E0631 "namespace-not-chosen"      Error   "a service or storage on a cluster holding several namespaces names none",
    E0632 "cluster-budget-beside-namespaces" Error "a cluster holding namespace blocks has its own `quota` or `limits`",
    E0633 "volume-of-another-namespace" Error "a service mounts a cluster volume of another namespace",
    E0634 "ingress-route-claimed-twice" Error "two ingress routes claim one host and path where they are served",
    E0635 "invalid-host-name"         Error   "an ingress host is not a DNS name",
    E0636 "gpus-not-there"            Error   "a service asks for GPUs where no node has any",
    E0637 "gpus-overcommitted"        Error   "the services on a node or cluster ask for more GPUs than its nodes have",
    E0638 "gpus-beyond-one-node"      Error   "one instance of a service asks for more GPUs than any node that could run it has",
    E0639 "gpu-model-not-there"       Error   "a service asks for a GPU model or memory no node of its place has",
    E0642 "gpu-detail-without-count"  Error   "a GPU model or memory is given without a number of GPUs",
    E0643 "ingress-to-udp-port"       Error   "an ingress route names a UDP port, and HTTP runs over TCP",
    E0660 "invalid-vault-reference"   Error   "a `vault` backend's path, key or role is not what Vault takes",
    E0661 "invalid-vault-address"     Error   "a `vault` backend's address is not an http(s) URL",
    E0662 "secret-path-not-absolute"  Error   "an `existing` secret file on a host is not named by an absolute path",
    E0640 "volume-on-a-node"          Error   "a storage on a node asks for a cluster volume",
    E0641 "replicas-on-a-node"        Error   "a service on a node asks for more than one instance",
    E0626 "receiver-channel"          Error   "an alert receiver names no channel, or more than one",
    E0627 "route-label-name"          Error   "a route matches a label name Alertmanager does not accept",
    W0605 "alert-unrouted"            Warning "an alert's severity and labels match no route, so it notifies no one",
    W0607 "routes-unread"             Warning "the estate routes alerts, but no Alertmanager spec configures reads the routes",
    W0606 "route-label-unknown"       Warning "a route matches a label value that no alert carries",
    W0608 "dashboard-job-unknown"     Warning "a dashboard's query matches a `job` that no service exporting metrics has",
    E0645 "slo-objective"             Error   "an objective is not a percentage below 100% that burn-rate alerts can be written for",
    E0646 "slo-indicator"             Error   "an objective names no indicator, two, or one that is not a counter selector",
    E0647 "slo-window"                Error   "an objective's window is shorter than its longest burn-rate window",
    E0650 "backup-source-without-dump" Error  "a backup copies a service that says no way to dump its data",
    E0651 "retention-beyond-lifecycle" Error  "a backup keeps copies longer than the bucket it writes to keeps objects",
    E0652 "repository-copied-twice"   Error   "two offsite copies write to the same restic repository",
    E0653 "restic-repository-choice"  Error   "an offsite copy names neither a repository nor a bucket, or both",
    E0654 "dataset-copy-of-a-dump"    Error   "a backup of a service's dump asks for ZFS snapshots or a replica",
    W0650 "rto-untested"              Warning "a backup promises a recovery time that no restore test measures",
    W0651 "restic-in-expiring-bucket" Warning "a restic repository lives in a bucket whose lifecycle deletes objects",
    E0675 "job-in-needs-cycle"        Error   "a job is in a cycle of `needs`, so it could never run",
    E0676 "job-needed-elsewhere"      Error   "a service or job needs a job placed on another node or cluster",
    E0677 "job-reaches-elsewhere"     Error   "a job needs a service placed on another node or cluster and has no retries",
    E0678 "job-volume-elsewhere"      Error   "a job mounts storage that does not live where the job runs",
    E0679 "job-without-requests"      Error   "a job runs in a namespace whose quota counts requests it cannot make",
    W0655 "metric-not-provided"       Warning "an alert reads a metric no scrape target it selects provides",
    E0685 "file-path-not-plain"       Error   "a configuration file's path is not absolute and plain",
    E0686 "file-under-file"           Error   "a configuration file lies under another file of the service",
    E0687 "file-over-volume"          Error   "a configuration file is mounted on or in a volume's mount path, or a volume in it",
    E0688 "secret-in-file"            Error   "a secret is written into a configuration file or a raw manifest",
    E0689 "value-without-file-form"   Error   "a value in a configuration file or a raw manifest has no form there",
    E0690 "manifest-without-identity" Error   "a raw manifest has no `apiVersion`, `kind` or `metadata.name`",
    E0691 "manifest-namespace-twice"  Error   "a raw manifest's `namespace` and its body's `metadata.namespace` differ",
    E0692 "invalid-kubernetes-version" Error  "a cluster's `version` is not a Kubernetes minor version",
    E0693 "manifest-written-twice"    Error   "two raw manifests of one cluster are the same object",
    W0685 "manifest-namespace-not-held" Warning "a raw manifest is in a namespace its cluster does not hold",
    // Secrets holding several values.
    E0750 "unknown-secret-key"        Error   "a reference names a key its secret does not declare",
    E0751 "whole-secret-for-one-value" Error  "a secret holding several values is used where one value is expected",
    E0752 "key-of-multi-key-backend"  Error   "a backend of a secret with `keys` names a key of its own",
    E0753 "backend-without-key"       Error   "a backend of a one-key secret names no key",
    E0754 "invalid-secret-keys"       Error   "a secret's `keys` is empty, names a key twice, or names one no target takes",
    // Dashboards.
    E0760 "dashboard-not-found"       Error   "a dashboard file the spec names is not in the estate",
    E0761 "dashboard-not-json"        Error   "a dashboard file is not a JSON object",
    // Network policies.
    E0762 "need-without-port"         Error   "a need in a namespace that denies traffic names a service that declares no port",
    E0763 "invalid-pod-labels"        Error   "a chart's pod labels name none, or a key or value Kubernetes refuses",
    E0764 "canary-pause"              Error   "a canary's pause is zero or not whole seconds",
    E0765 "invalid-canary-analysis"   Error   "a canary's analysis judges nothing, has bounds that are not numbers or cross, or an interval that is not whole seconds",
    E0766 "analysis-job-unscraped"    Error   "a canary's analysis selects a job no service exporting metrics on its cluster has",
    // Rollouts, disruption budgets, autoscalers and tiers.
    E0670 "invalid-share"             Error   "a share of pods is not a whole percentage in range",
    E0671 "rollout-cannot-progress"   Error   "a rolling update can move no pod, or a canary cannot split its pods",
    E0672 "autoscale-bounds"          Error   "an autoscaler's bounds, replicas or target cannot hold",
    E0673 "disruption-bound"          Error   "a disruption budget names neither or both of its bounds",
    E0674 "tier-below-minimum"        Error   "a service on a cluster runs fewer replicas than its tier asks",
    W0670 "tier-inversion"            Warning "a service needs a service of a lower tier",
    W0671 "disruption-blocks-drain"   Warning "a disruption budget lets no pod go, so a node drain waits forever",
    W0672 "canary-step-rounded"       Warning "a canary step is a share the replicas cannot express",
    // Members.
    E0705 "members-on-a-node"         Error   "a service whose replicas are members is placed on a node",
    E0706 "members-replicas"          Error   "a service's replicas or autoscaler contradict the number of its members",
    E0707 "members-port-unknown"      Error   "a service's members reach each other on a port it does not have",
    // Environments and preset parameters.
    E0713 "overlay-unknown-parameter" Error   "an environment names neither a field of the kind nor a parameter of the block's presets",
    E0714 "overlay-removes-required"  Error   "an environment removes a preset parameter that has no default",
    E0715 "overlay-removes-unset"     Error   "an environment removes a preset argument the block's `use` does not give",
    E0716 "overlay-inside-parameter"  Error   "an environment sets a path inside a preset parameter",
    E0740 "colour-name-taken"         Error   "a blue-green service's colour has the name of another service or job's release in its place",
    // Caches and cold storage.
    E0741 "backup-of-a-cache"         Error   "a backup copies a storage that holds a cache",
    E0743 "transition-after-expiry"   Error   "a bucket moves objects to another storage class no sooner than it deletes them",
    E0744 "transition-order"          Error   "a bucket's transitions are not each later and to a colder storage class",
    E0745 "restic-in-cold-storage"    Error   "a restic repository lives in a bucket that moves objects to a class read only after a retrieval",
    E0680 "access-unknown-verb"       Error   "an access rule names a verb the Kubernetes API does not authorise",
    E0681 "access-off-cluster"        Error   "a service on a node has Kubernetes API access rules",
    E0682 "access-grants-nothing"     Error   "an access rule lists no resource or no verb",
    W0680 "access-wildcard"           Warning "an access rule grants every verb or every resource",
    W0681 "network-policy-unreached"  Warning "a backup in a namespace that denies traffic writes to a repository inside the cluster",
    // Health checks.
    E0770 "invalid-health-timing"     Error   "a health check's timing is not whole seconds, or allows no failure",
    // Blue-green colours on nodes.
    E0720 "colour-nodes-misplaced"    Error   "a blue-green rollout's colours are not both nodes, or the service is not a container on NixOS nodes",
    E0721 "colour-nodes-same"         Error   "both colours of a blue-green rollout name the same node",
    E0722 "colour-node-unreachable"   Error   "no network joins a blue-green colour's node to the service's node, where its switch runs",
    E0723 "colour-nodes-stateful"     Error   "a service whose blue-green colours are nodes mounts storage",
    // A member's address (`service.NAME.member[I]`).
    E0771 "member-out-of-range"       Error   "a reference names a member beyond the service's number of members",
    E0772 "member-without-members"    Error   "a reference names a member of a service whose replicas are no members",
    // Message streams.
    E0773 "stream-subjects-overlap"   Error   "two streams of one server keep an overlapping subject",
    E0774 "stream-replicas-beyond-members" Error "a stream keeps more replicas than its server has members",
    E0775 "stream-subjects-choice"    Error   "a stream keeps neither subjects nor the dead-letter advisories, or both",
    E0776 "invalid-subject"           Error   "a stream's subject is not one NATS accepts",
    E0777 "stream-job-name-taken"     Error   "a job takes the name of the job that applies a stream (`stream-NAME`)",
    // Host-level settings and workloads.
    E0730 "node-options-not-nixos"    Error   "a node that is not NixOS is given NixOS options",
    E0731 "pod-security-refuses"      Error   "a service or job asks for what its namespace's Pod Security Standard refuses",
    E0732 "unknown-capability"        Error   "a service or job names a capability Linux does not have",
    E0733 "directory-not-mountable"   Error   "a storage directory is not a plain absolute path of a node, or not the storage's only form",
    E0734 "directory-snapshots"       Error   "a backup asks for ZFS snapshots or a replica of a plain directory",
    E0735 "host-workflow-overlaps"    Error   "a workflow on a host allows overlapping runs, which one systemd unit cannot give",
    E0736 "concurrency-without-schedule" Error "a workflow sets `concurrency` but has no schedule to start runs",
    E0737 "step-needs-elsewhere"      Error   "a workflow step needs a service placed on another node or cluster",
    E0738 "group-without-user"        Error   "a container's `security` sets a `group` but no `user`",
    // The NixOS back end.
    E1101 "nixos-option-clash"        Error   "two parts of the estate set the same NixOS option on one node",
    E1102 "nixos-unsupported-value"   Error   "a value in a `nixos { … }` payload has no Nix form",
    E1103 "nixos-interface-name"      Error   "a WireGuard network's name is too long for a Linux interface",
    W1101 "nixos-not-generated"       Warning "part of the estate placed on a NixOS node is not generated yet",
    E1104 "nixos-no-calendar"         Error   "a backup interval cannot be written as a systemd calendar",
    E1105 "k3s-cannot-join"           Error   "a node of a k3s cluster has no way to join it",
    E1106 "nixos-no-cron-calendar"    Error   "a workflow schedule has no systemd calendar form",
    E1107 "nixos-replica-unreachable" Error   "a backup replicates to a node that has no address",
    E1108 "nixos-health-unsupported"  Error   "a health check has no podman form",
    E1109 "nixos-unit-name"           Error   "a service's `nixos_unit` is not a systemd unit name",
    W1102 "nixos-preset-unit-unknown" Warning "a container needs a NixOS-module service that names no unit to order after",
    W1103 "nixos-metrics-unreachable" Warning "a service's metrics cannot be scraped: its node has no address",
    W1104 "nixos-health-unprobed"     Warning "a service's HTTP health check cannot be probed: its node has no address",
    W1105 "nixos-node-in-no-environment" Warning "a NixOS node of an estate with environments is used by none of them, so no build writes it",
    E1111 "nixos-k3s-version-unpackaged" Error "a k3s cluster's Kubernetes version is not packaged by the nixpkgs the NixOS output pins",
    E1110 "nixos-peers-unknown"       Error   "a service run by its NixOS options is reached from elsewhere, but names no options to let peers in",
    E1121 "nixos-replica-receiver"    Error   "a backup replicates to a node whose receiving side spec cannot generate",
    E1122 "nixos-replica-key"         Error   "a replica names no SSH key to log in to the receiving node with",
    E1123 "nixos-image-not-run"       Error   "an image is given to a service its preset runs through NixOS options",
    E1124 "nixos-payload-secret"      Error   "a secret in a payload on a NixOS node has no NixOS backend",
    E1150 "nixos-pull-secret-unused"  Error   "a service its NixOS options run names a secret to pull an image with",
    E1125 "nixos-unit-field"          Error   "a field of a service has no form on the unit that runs it on NixOS",
    E1160 "nixos-file-outside-etc"    Error   "a service run by its NixOS options has a configuration file outside `/etc`",
    E1170 "nixos-acme-email-missing"  Error   "a TLS ingress route on a NixOS node names no ACME account email",
    E1171 "nixos-ingress-host-disagrees" Error "routes of one host name on a NixOS node ask for different TLS",
    E1172 "nixos-ingress-port-taken"  Error   "a service on a NixOS node serving ingress routes uses port 80 or 443, which nginx takes",
    E1173 "nixos-acme-wildcard"       Error   "a wildcard host asks for TLS on a NixOS node, which ACME's HTTP challenge cannot issue",
    E1174 "nixos-acme-issuer"         Error   "a TLS issuer on a NixOS node is not an ACME directory URL",
    W1170 "nixos-ingress-class"       Warning "an ingress class other than nginx on a NixOS node, where nginx serves every route",
    E1131 "nixos-colour-port-taken"   Error   "a colour of a blue-green service on a NixOS node publishes on a host port that is taken or beyond 65535",
    E1132 "nixos-blue-green-volume"   Error   "a blue-green service on a NixOS node mounts a volume, which both colours would write at once",
    W1130 "nixos-cluster-only"        Warning "a service on a NixOS node sets what only a cluster does (rollout, disruption budget, autoscaler)",
    // The Kubernetes back end.
    E1201 "k8s-template-in-text"      Error   "text bound for a cluster holds `{{`, which a template engine there would read",
    E1202 "k8s-unsupported-value"     Error   "a value in a `helm { … }` payload has no YAML form",
    E1203 "k8s-nothing-to-install"    Error   "a service on a cluster has neither an image nor a chart",
    E1204 "k8s-no-cron"               Error   "a backup interval of a cluster volume has no cron form",
    E1205 "k8s-chart-cannot-take"     Error   "a chart-backed service sets a field its chart payload takes nowhere",
    E1206 "k8s-invalid-chart-directive" Error "a tagged record in `helm { values }` cannot be expanded",
    E1207 "k8s-over-container-limit"  Error   "a service on a cluster asks for more than the cluster's `limits.max` per container",
    E1220 "k8s-secret-store-taken"    Error   "the SecretStore a Vault backend gets would replace a store an `external` backend reads",
    E1208 "k8s-unit-settings"         Error   "a service on a cluster has systemd unit settings",
    E1270 "k8s-tls-without-issuer"    Error   "a TLS ingress route on a cluster names no cert-manager issuer",
    E1271 "k8s-gpu-model-label"       Error   "a GPU model asked on a cluster is not a label value a node selector can name",
    W1270 "k8s-acme-email-unused"     Warning "an ACME email on a cluster's route, where the issuer holds its own account",
    W1201 "k8s-not-generated"         Warning "part of the estate placed on a cluster has no Kubernetes form yet",
    E1215 "k8s-dashboard-key"         Error   "a dashboard's file name cannot be a ConfigMap key",
    E1216 "k8s-dashboards-too-large"  Error   "a service's dashboards hold more than one ConfigMap takes",
    E1240 "k8s-job-volume"            Error   "a job on a cluster mounts a volume, whose claim no release has made before it runs",
    E1241 "k8s-canary-without-controller" Error "a canary service on a cluster where no Argo Rollouts controller runs",
    E1242 "k8s-canary-statefulset"    Error   "a canary service on a cluster runs as a StatefulSet, which an Argo Rollouts Rollout cannot take over",
    E1243 "k8s-analysis-without-prometheus" Error "a canary's analysis on a cluster where no Prometheus (kube-prometheus-stack) answers queries",
    E1260 "k8s-api-not-served"        Error   "an object written for a cluster has an API its Kubernetes version does not serve",
    E1261 "k8s-chart-kube-version"    Error   "a chart a cluster's services are installed with needs a newer Kubernetes",
    E1230 "k8s-statefulset-surge"     Error   "a rolling update of a StatefulSet asks for a surge or unavailability it has no form for",
    E1231 "k8s-blue-green-exposed"    Error   "a blue-green service on a cluster exposes a port or routes an ingress, which both colours would claim",
    E1232 "k8s-blue-green-volume"     Error   "a blue-green service on a cluster mounts a volume, which each colour would claim apart",
    E1209 "k8s-member-alone"          Error   "one member of a cluster of services is placed on a Kubernetes cluster",
    E1280 "k8s-no-cluster-form"       Error   "a service on a cluster has a preset that runs it on hosts only",
    E1285 "k8s-pods-kept-apart"       Error   "pods a chart must keep off another pod's node run on a cluster of one node",
    E1290 "k8s-backup-command-words"  Error   "a service's backup command on a cluster has a word k8up's annotation cannot carry",
    W1230 "k8s-chart-priority"        Warning "a chart-backed service's tier gives its pods no priority class",
    E1245 "k8s-mesh-no-control-plane" Error   "a namespace is in the service mesh and its cluster runs no Istio control plane",
    E1246 "k8s-mesh-control-namespace" Error  "the Istio control plane runs outside the namespace the mesh's proxies look for it in",
    E1247 "k8s-mesh-no-native-sidecars" Error "the Istio control plane injects its proxy as a container that keeps one-shot pods running",
    E1248 "k8s-mesh-kube-version"     Error   "a cluster with a service mesh is not known to run native sidecars (Kubernetes 1.29 or later)",
    E1249 "k8s-mesh-pod-security"     Error   "a meshed namespace's Pod Security Standard refuses Istio's init container, and istiod does not use its CNI agent",
    E1281 "k8s-istio-route-no-gateway" Error  "an ingress route through Istio on a cluster where no service runs Istio's ingress gateway",
    E1282 "k8s-two-ingress-controllers" Error "a k3s cluster runs Istio's ingress gateway and routes of another ingress class, whose controllers both need 80 and 443",
    E1283 "k8s-istio-host-tls-disagrees" Error "routes of one host through Istio's gateway ask for different TLS",
    E1250 "k8s-pull-secret-key"       Error   "a pull secret's Kubernetes key is not the `.dockerconfigjson` an image pull reads",
    // The systemd back end.
    E1401 "systemd-multiline-value"   Error   "a value bound for a unit file holds a line break",
    E1402 "systemd-no-cron-calendar"  Error   "a workflow schedule has no systemd calendar form",
    E1403 "systemd-no-calendar"       Error   "a backup interval cannot be written as a systemd calendar",
    E1404 "systemd-health-unsupported" Error  "a health check has no podman form",
    E1405 "systemd-noncharacter"      Error   "a value bound for a unit file holds a character systemd refuses",
    W1401 "systemd-not-generated"     Warning "part of the estate placed on a non-NixOS node is not generated yet",
    W1430 "systemd-cluster-only"      Warning "a service on a host sets what only a cluster does (rollout, disruption budget, autoscaler)",
    E1420 "systemd-restic-credentials" Error  "a restic repository that logs in with keys is given no credentials",
    E1421 "systemd-k3s-cannot-join"   Error   "a node of a k3s cluster has no way to join it",
    E1422 "systemd-unit-field"        Error   "a field of a service has no form in its unit file",
    E1423 "systemd-encrypted-key-file" Error  "an encrypted credential is named where a program reads the file itself",
    W1450 "systemd-ingress-unserved"  Warning "an ingress route on a host without NixOS, where no reverse proxy is generated",
    E1445 "systemd-host-network-port" Error   "a port of a container on a host's network is not exposed to the public, which no firewall of the host narrows",
    // The Prometheus back end.
    E1501 "prometheus-label-name"     Error   "an alert's label name is not one Prometheus accepts",
    W1501 "prometheus-untested-alert" Warning "no promtool test can be derived for an alert",
    W1502 "prometheus-unscraped"      Warning "an alert selects a target no Prometheus of the estate scrapes",
    // Compiler bugs.
    E9001 "internal-error"         Error   "a bug in spec: a checked value could not be read",
}
