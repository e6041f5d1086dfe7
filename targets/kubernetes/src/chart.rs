//! Values for a service whose (or whose preset's) `helm { … }` payload names its chart.
//!
//! The payload's `values` are written as plain data, except for a few tagged records that say
//! where the chart takes what the service declares; the compiler knows no chart, so a preset says
//! it in the spec language, in the chart's own keys:
//!
//! - `resources {}`: the service's `resources` as a container's `{ requests, limits }`.
//! - `env {}`: the service's `env` as a list of `{ name, value }` / `{ name, valueFrom }` (nothing
//!   when it has none).
//! - `volume { path = "/bitnami/postgresql" }`: the service's one volume as the persistence record
//!   Bitnami-style charts read (`enabled`, `size`, `storageClass`, `accessModes`, `labels`); `path`
//!   is where the chart mounts it, and the spec must mount the storage there. Without a volume the
//!   record is `enabled: false`: the chart creates no claim the spec does not know of. The claim
//!   carries the storage's label when the chart copies `labels` onto it; a chart that does not
//!   (Bitnami Redis keeps only its own labels on claim templates) is given `selector { … }`, the
//!   labels its claim does carry besides `app.kubernetes.io/instance` (the release, named after the
//!   service), and backups select the claim by those ([`claim_selector`]).
//! - `replicas {}`: the service's `replicas`.
//! - `service_type {}`: `LoadBalancer` when the service exposes a port beyond the cluster, else
//!   `ClusterIP`; a port exposed to a network is E1205 (the type alone would admit everyone).
//! - `away_from { pods = N, labels { … } }`: a required pod anti-affinity keeping the `N` pods
//!   of the record it is in off every node running a pod of the release with `labels` (a read
//!   replica off its primary's node); `N` of one or more on a cluster of one node is E1285.
//! - `release {}`: the release's name, which is the service's: where a chart's ServiceMonitor
//!   relabelling is not a template, the preset sets the scrape job to the service's name with it.
//! - `backup_command { container = "…", command = [...] }`: the pod annotations by which k8up runs
//!   the service's dump (`command`, the chart's form of the preset's `dump`, in `container`) while
//!   a backup copies it, else nothing; the claim of `volume { … }` is then left out of k8up's
//!   file-level copies unless the volume has a backup of its own ([`crate::dumps`]).
//! - `pick { by = "…", from { KEY = value … } }`: the value under the key `by` names (a preset maps its
//!   `version` to an image tag this way); a key with no entry is refused (E1206).
//! - `lines { each = [...], line = "… {} …" }`: one line per item with `{}` replaced by it, or no
//!   value for an empty list (a preset writes a database list as an init script this way).
//! - `secret.NAME` (a reference): the name of the Kubernetes Secret holding it (the existing one,
//!   or the one its `ExternalSecret` creates); `secret.NAME.key` the key inside it, for charts
//!   that take an `existingSecret` and a key.
//!
//! A service field the payload takes nowhere (`volumes`, `env`, `resources`, `replicas` other than
//! 1, `expose`, `image`, `args`, `files`, a `health` the user writes, members as replicas) is refused at the field (E1205), never
//! dropped: the chart would not see it. The chart brings its own probes and ports, which the preset
//! sets from its own `port`; a preset's own `health` is its form on the other targets.

use serde_json::{Map, Value, json};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{Endpoint, EndpointPart, Payload, Reference, Spanned};
use spec_compiler::model::{AccessMode, Audience, EnvValue, Health, HelmChart, Resource, Service};
use spec_compiler::source::{Origin, Span};

use crate::escape;
use crate::quantity;
use crate::releases::release_name;
use crate::values::{Release, STORAGE_LABEL, access_mode, requirements};

/// A value the lowering refused, with its diagnostic already reported.
struct Refused;

/// Which of the service's own fields the payload placed somewhere.
#[derive(Default)]
struct Taken {
    resources: bool,
    env: bool,
    volume: bool,
    replicas: bool,
    expose: bool,
}

/// A payload value lowered: `Ok(None)` writes nothing under its key.
type Lowered = Result<Option<Value>, Refused>;

impl super::Lowering<'_, '_> {
    /// The release of a service installed by its `helm` payload's chart.
    pub fn chart_release(&mut self, service: &Resource<Service>, helm: &Spanned<HelmChart>) -> Option<Release> {
        let chart = &helm.value;
        let url = chart.chart.value.clone();
        let name = chart
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| url.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string());
        let mut taken = Taken::default();
        let mut ok = true;
        let mut values = Map::new();
        for (key, value) in &chart.values {
            match self.chart_value(service, value, key, helm.span, &mut taken) {
                Ok(Some(value)) => {
                    values.insert(key.clone(), value);
                }
                Ok(None) => {}
                Err(Refused) => ok = false,
            }
        }
        ok &= self.refuse_untaken(service, &taken, &name);
        ok.then(|| Release {
            url,
            chart: name,
            version: chart.version.as_ref().map(|v| v.value.clone()),
            values: Value::Object(values),
        })
    }

    /// A payload value as YAML data, with the directives above expanded.
    fn chart_value(
        &mut self,
        service: &Resource<Service>,
        value: &Payload,
        key: &str,
        span: Span,
        taken: &mut Taken,
    ) -> Lowered {
        Ok(Some(match value {
            Payload::Str(s) | Payload::Symbol(s) => Value::String(s.clone()),
            Payload::Int(n) => json!(n),
            Payload::Bool(b) => json!(b),
            Payload::Duration(d) => Value::String(quantity::duration(*d)),
            Payload::Size(s) => Value::String(quantity::size(*s)),
            Payload::Address(a) => Value::String(a.0.to_string()),
            Payload::Cidr(c) => Value::String(format!("{}/{}", c.address, c.prefix)),
            Payload::Port(p) => json!(p.number),
            Payload::List(items) => {
                let mut out = Vec::new();
                let mut refused = false;
                for item in items {
                    match self.chart_value(service, item, key, span, taken) {
                        Ok(Some(value)) => out.push(value),
                        Ok(None) => {}
                        Err(Refused) => refused = true,
                    }
                }
                if refused {
                    return Err(Refused);
                }
                Value::Array(out)
            }
            Payload::Map(map) => {
                let mut out = Map::new();
                let mut refused = false;
                for (k, v) in map {
                    match self.chart_value(service, v, k, span, taken) {
                        Ok(Some(value)) => {
                            out.insert(k.clone(), value);
                        }
                        Ok(None) => {}
                        Err(Refused) => refused = true,
                    }
                }
                if refused {
                    return Err(Refused);
                }
                Value::Object(out)
            }
            Payload::Reference(reference) if reference.kind == "secret" => return self.secret_value(reference, key),
            // Where a service is, as this cluster reaches it (E0625 from the checks when it has
            // no value here): the DNS name of a Service inside it, a load balancer's address else.
            Payload::Reference(reference)
                if reference.kind == "service" && Endpoint::part_of(&reference.field).is_some() =>
            {
                let endpoint = Endpoint(reference.clone());
                let resolved = self.reach.resolve(&service.spec.on, &endpoint).map_err(|_| Refused)?;
                match (endpoint.part(), resolved.parse::<u64>()) {
                    (EndpointPart::Port, Ok(port)) => json!(port),
                    _ => json!(resolved),
                }
            }
            // Each hole filled as this cluster reaches the service, as a whole reference is.
            Payload::Template(template) => match template.fill(|e| self.reach.resolve(&service.spec.on, e)) {
                Ok(text) => json!(text),
                Err(_) => return Err(Refused),
            },
            Payload::Tagged(tag, fields) => return self.directive(service, tag, fields, key, span, taken),
            Payload::Nix(_) | Payload::Reference(_) => {
                self.unsupported_value(
                    key,
                    span,
                    "Helm values are plain data: strings, numbers, booleans, lists and maps",
                );
                return Err(Refused);
            }
        }))
    }

    fn unsupported_value(&mut self, key: &str, span: Span, help: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::E1202, span, format!("the Helm value `{key}` has no YAML form"))
                .with_primary_label("in this `helm` payload")
                .with_help(help.to_string()),
        );
    }

    /// `secret.NAME` is the Secret's name, `secret.NAME.key` the key inside it; for a secret
    /// holding several values, `secret.NAME.KEY` is that key (and `.name` the Secret's name).
    fn secret_value(&mut self, reference: &Reference, key: &str) -> Lowered {
        let Some(secret) = self.index.secret(&reference.name) else { return Err(Refused) };
        let Some((name, secret_key)) = crate::values::secret_name_and_key(secret) else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0612,
                    reference.span,
                    format!(
                        "secret `{}` is used on cluster `{}` but has no `k8s` backend",
                        secret.name, self.cluster.name
                    ),
                )
                .with_primary_label(format!("used on cluster `{}`", self.cluster.name))
                .with_label(secret.name_span, "declared without `k8s`")
                .with_help("add a backend to the secret: `k8s = existing { name = \"NAME\", key = \"KEY\" }`"),
            );
            return Err(Refused);
        };
        match reference.field.as_slice() {
            // A key of a secret holding several values is that key's name in its Secret.
            [] if secret.spec.facet.is_some() => Ok(Some(json!(secret_key))),
            [] => Ok(Some(json!(name))),
            [field] if field == "name" => Ok(Some(json!(name))),
            [field] if field == "key" => Ok(Some(json!(secret_key))),
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(Code::E1202, reference.span, format!("the Helm value `{key}` has no YAML form"))
                        .with_primary_label("a secret has no such field in Helm values")
                        .with_help(format!(
                            "`secret.{0}` (or `secret.{0}.name`) is the Secret's name, `secret.{0}.key` the key inside it",
                            reference.name
                        )),
                );
                Err(Refused)
            }
        }
    }

    fn directive(
        &mut self,
        service: &Resource<Service>,
        tag: &str,
        fields: &indexmap::IndexMap<String, Payload>,
        key: &str,
        span: Span,
        taken: &mut Taken,
    ) -> Lowered {
        let spec = &service.spec;
        match tag {
            "resources" => {
                taken.resources = true;
                Ok(spec.resources.as_ref().map(|r| requirements(&r.value)))
            }
            "env" => {
                taken.env = true;
                self.chart_env(service).map(|env| (!env.is_empty()).then_some(Value::Array(env)))
            }
            "service_type" => {
                taken.expose = true;
                // The cluster reaches the chart's ClusterIP service already; the public and networks
                // come in through the load balancer on the nodes.
                let outside = spec.expose.ports().iter().any(|e| *e.audience != Audience::Cluster);
                // The directive sets the chart's service type only: a load balancer there would
                // admit everyone, so a port exposed to a network is refused, not widened.
                for exposed in spec.expose.ports().iter().filter(|e| matches!(e.audience, Audience::Network(_))) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E1205,
                            exposed.span,
                            format!(
                                "the chart of service `{}` takes no `expose` to a network: its load balancer would admit everyone",
                                service.name
                            ),
                        )
                        .with_primary_label("open to one network only")
                        .with_help("set the chart's own `loadBalancerSourceRanges` in `helm { values { … } }` and expose the port to `public`, or keep it to `cluster`"),
                    );
                }
                Ok(Some(json!(if outside { "LoadBalancer" } else { "ClusterIP" })))
            }
            "release" => Ok(Some(json!(service.name))),
            "away_from" => self.away_from(service, fields, key, span),
            // The k8up annotations running the service's dump in this pod (`dumps.rs`).
            "backup_command" => self.backup_command_annotations(service, fields, span).ok_or(Refused),
            "replicas" => {
                taken.replicas = true;
                Ok(Some(json!(spec.replicas())))
            }
            "volume" => {
                taken.volume = true;
                let Some(Payload::Str(path)) = fields.get("path") else {
                    return self.invalid_directive(
                        span,
                        key,
                        "`volume { … }` needs `path`, where the chart mounts its volume",
                    );
                };
                if fields.get("selector").is_some_and(|selector| labels(service, selector).is_none()) {
                    return self.invalid_directive(
                        span,
                        key,
                        "`volume { selector { … } }` holds label names and string values",
                    );
                }
                self.chart_volume(service, path).map(Some)
            }
            "pick" => {
                let chosen = match fields.get("by") {
                    Some(Payload::Str(s) | Payload::Symbol(s)) => s.clone(),
                    Some(Payload::Int(n)) => n.to_string(),
                    _ => return self.invalid_directive(span, key, "`pick { … }` needs `by`, a string or an integer"),
                };
                let Some(Payload::Map(from)) = fields.get("from") else {
                    return self.invalid_directive(span, key, "`pick { … }` needs `from { KEY = value … }`");
                };
                match from.get(&chosen) {
                    Some(value) => self.chart_value(service, value, key, span, taken),
                    None => {
                        let known: Vec<&str> = from.keys().map(String::as_str).collect();
                        // The key comes from what the service says (a preset's parameter), so
                        // the service is the primary place; the payload is where the choices are.
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E1206,
                                service.name_span,
                                format!("the chart of service `{}` has no `{key}` for `{chosen}`", service.name),
                            )
                            .with_primary_label(format!("`{chosen}` is not one of {}", known.join(", ")))
                            .with_label(span, format!("the chart payload picks `{key}` from {}", known.join(", ")))
                            .with_help(format!(
                                "choose one of {} (a preset's parameter, such as `version`)",
                                known.join(", ")
                            )),
                        );
                        Err(Refused)
                    }
                }
            }
            "lines" => {
                let (Some(Payload::List(items)), Some(Payload::Str(line))) = (fields.get("each"), fields.get("line"))
                else {
                    return self.invalid_directive(
                        span,
                        key,
                        "`lines { … }` needs `each`, a list, and `line`, a string with `{}`",
                    );
                };
                let mut out = String::new();
                for item in items {
                    let text = match item {
                        Payload::Str(s) | Payload::Symbol(s) => s.clone(),
                        Payload::Int(n) => n.to_string(),
                        _ => {
                            return self.invalid_directive(
                                span,
                                key,
                                "the items of `lines { each = … }` are strings or integers",
                            );
                        }
                    };
                    // An item sits inside the quoting its line gives it: text that would end the
                    // quotes, break the line or open a template is refused, never passed on.
                    if text.contains(['"', '\'', '\\', '\n', '\r', '`']) || !escape::template_free(&text) {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E1206,
                                service.name_span,
                                format!(
                                    "`{text}` cannot be written into `{key}` of service `{}`'s chart",
                                    service.name
                                ),
                            )
                            .with_primary_label("an item holds a quote, a backslash, a line break or `{{`")
                            .with_label(span, format!("the chart payload writes each item into a line of `{key}`"))
                            .with_help("use a name of letters, digits, `-` and `_`"),
                        );
                        return Err(Refused);
                    }
                    out.push_str(&line.replace("{}", &text));
                    out.push('\n');
                }
                Ok((!out.is_empty()).then(|| json!(out)))
            }
            _ => {
                self.unsupported_value(
                    key,
                    span,
                    "Helm values are plain data; the tagged records a chart payload takes are `resources {}`, `env {}`, \
                     `volume { path }`, `replicas {}`, `service_type {}`, `release {}`, `pick { by, from }`, `lines { each, line }` \
                     and `backup_command { container, command }`",
                );
                Err(Refused)
            }
        }
    }

    /// `away_from { pods = N, labels { … } }`: an affinity keeping the `N` pods it is given to off
    /// every Kubernetes node that runs a pod of the release carrying `labels` (a read replica off
    /// its primary's node). Required, not preferred, so the scheduler never breaks it: on a
    /// cluster of one node, `N` pods of one or more can never run, which is E1285 here rather
    /// than pods pending forever.
    fn away_from(
        &mut self,
        service: &Resource<Service>,
        fields: &indexmap::IndexMap<String, Payload>,
        key: &str,
        span: Span,
    ) -> Lowered {
        let (Some(Payload::Int(pods)), Some(selector)) = (fields.get("pods"), fields.get("labels")) else {
            return self.invalid_directive(
                span,
                key,
                "`away_from { … }` needs `pods`, how many pods it places, and `labels { … }`, those of the release's pods they stay away from",
            );
        };
        let Some(match_labels) = labels(service, selector) else {
            return self.invalid_directive(
                span,
                key,
                "`away_from { labels { … } }` holds label names and string values",
            );
        };
        let nodes = self.cluster.spec.servers.value.len() + self.cluster.spec.agents.len();
        if *pods >= 1 && nodes < 2 {
            let away: Vec<String> = match selector {
                Payload::Map(selector) => selector
                    .iter()
                    .filter_map(|(label, value)| match value {
                        Payload::Str(value) => Some(format!("`{label}: {value}`")),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            // The payload carries no spans of its own: the service is the place, as for `pick`.
            let diagnostic = Diagnostic::new(
                Code::E1285,
                service.name_span,
                format!(
                    "{pods} pod(s) of service `{}` must run on another node than its pods labelled {}, and cluster `{}` has one node",
                    service.name,
                    away.join(", "),
                    self.cluster.name
                ),
            )
            .with_primary_label(format!("its chart keeps {pods} pod(s) off that pod's node (`{key}`)"))
            .with_label(self.cluster.spec.servers.span, "the cluster's only node")
            .with_help(format!(
                "give cluster `{}` a second node (`agents`), or set the preset's parameter that asks for these pods to 0 where the cluster has one node (an environment's `service.{}.PARAM = 0`)",
                self.cluster.name, service.name
            ));
            self.diagnostics.push(diagnostic);
            return Err(Refused);
        }
        Ok(Some(json!({
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{
                    "topologyKey": "kubernetes.io/hostname",
                    "labelSelector": { "matchLabels": match_labels },
                }],
            },
        })))
    }

    fn invalid_directive(&mut self, span: Span, key: &str, help: &str) -> Lowered {
        self.diagnostics.push(
            Diagnostic::new(Code::E1206, span, format!("the Helm value `{key}` is an incomplete tagged record"))
                .with_primary_label("in this `helm` payload")
                .with_help(help.to_string()),
        );
        Err(Refused)
    }

    /// The service's env in the chart's `extraEnvVars` form. Charts may pass these through `tpl`
    /// (Bitnami's do) or not, so no escape is right for both: text with `{{` is refused.
    fn chart_env(&mut self, service: &Resource<Service>) -> Result<Vec<Value>, Refused> {
        let mut env = Vec::new();
        let mut ok = true;
        for (name, value) in &service.spec.env {
            let entry = match &value.value {
                EnvValue::Text(text) => {
                    ok &= self.refuse_template(
                        &Spanned { value: text.clone(), span: value.span },
                        "an environment value",
                        "the chart",
                    );
                    json!({ "name": name, "value": text })
                }
                EnvValue::Number(n) => json!({ "name": name, "value": n.to_string() }),
                EnvValue::Flag(b) => json!({ "name": name, "value": b.to_string() }),
                // Where a service is, from this cluster; what has no value is E0625.
                EnvValue::Endpoint(endpoint) => match self.reach.resolve(&service.spec.on, endpoint) {
                    Ok(text) => json!({ "name": name, "value": text }),
                    Err(_) => continue,
                },
                EnvValue::Template(template) => {
                    ok &= self.refuse_template(
                        &Spanned { value: template.written(), span: value.span },
                        "an environment value",
                        "the chart",
                    );
                    match template.fill(|e| self.reach.resolve(&service.spec.on, e)) {
                        Ok(text) => json!({ "name": name, "value": text }),
                        Err(_) => continue,
                    }
                }
                EnvValue::Secret(secret) => match self.secret_key_ref(&secret.name) {
                    Some(reference) => json!({ "name": name, "valueFrom": { "secretKeyRef": reference } }),
                    None => continue,
                },
            };
            env.push(entry);
        }
        if ok { Ok(env) } else { Err(Refused) }
    }

    /// The chart's persistence record from the service's one volume, mounted at `path`.
    fn chart_volume(&mut self, service: &Resource<Service>, path: &str) -> Result<Value, Refused> {
        let mut record = None;
        let mut ok = true;
        for (mount, storage) in &service.spec.volumes {
            let Some(volume) = self.index.storage(&storage.name).and_then(|s| s.spec.volume.as_ref()) else { continue };
            let why = if mount != path {
                format!("the chart mounts its volume at `{path}`")
            } else if record.is_some() {
                "the chart takes one volume".to_string()
            } else {
                let volume = &volume.value;
                let access = volume.access.as_ref().map_or(AccessMode::ReadWriteOnce, |a| a.value);
                let mut persistence = json!({
                    "enabled": true,
                    "size": quantity::size(volume.size.value),
                    "accessModes": [access_mode(access)],
                    "labels": { STORAGE_LABEL: storage.name },
                });
                if let Some(class) = &volume.class {
                    persistence["storageClass"] = json!(class.value);
                }
                if let Some(annotations) = self.claim_annotations(service, &storage.name) {
                    persistence["annotations"] = annotations;
                }
                record = Some(persistence);
                continue;
            };
            ok = false;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1205,
                    storage.span,
                    format!(
                        "the chart of service `{}` cannot mount storage `{}` at `{mount}`",
                        service.name, storage.name
                    ),
                )
                .with_primary_label(why)
                .with_help(format!("mount one volume at `{path}`, where the chart keeps its data")),
            );
        }
        if !ok {
            return Err(Refused);
        }
        Ok(record.unwrap_or_else(|| json!({ "enabled": false })))
    }

    /// Refuses every field of the service that reaches a chart only through a directive the
    /// payload does not hold, or not at all.
    fn refuse_untaken(&mut self, service: &Resource<Service>, taken: &Taken, chart: &str) -> bool {
        let spec = &service.spec;
        let mut untaken: Vec<(Span, &str, String)> = Vec::new();
        if !taken.volume {
            for storage in spec.volumes.values() {
                untaken.push((storage.span, "volumes", "place it in the values with `volume { path = … }`".into()));
            }
        }
        if !taken.env {
            for value in spec.env.values() {
                untaken.push((
                    value.span,
                    "env",
                    "place it in the values with `env {}` (Bitnami: `extraEnvVars`)".into(),
                ));
            }
        }
        if let Some(resources) = spec.resources.as_ref().filter(|_| !taken.resources) {
            untaken.push((resources.span, "resources", "place it in the values with `resources {}`".into()));
        }
        if let Some(replicas) = spec.replicas.as_ref().filter(|r| r.value != 1 && !taken.replicas) {
            untaken.push((
                replicas.span,
                "replicas",
                "place it in the values with `replicas {}`, or set the chart's own count".into(),
            ));
        }
        if !taken.expose {
            for port in spec.expose.ports() {
                untaken.push((
                    port.span,
                    "expose",
                    "place it in the values with `service_type {}` at the chart's service type".into(),
                ));
            }
        }
        if let Some(image) = &spec.image {
            untaken.push((image.span, "image", "set the chart's image in `helm { values { … } }`".into()));
        }
        // A chart brings its own probes; a preset's `health` is its form on the other targets, but
        // one the user writes would be dropped here.
        let from_stdlib = |span: Span| self.context.sources.get(span.file).origin == Origin::Stdlib;
        // The user's record merges into the preset's, keeping the preset's span: a port the user
        // sets inside it is theirs too.
        let user_port = |health: &Health| match health {
            Health::Http { port, .. } | Health::Tcp { port, .. } => (!from_stdlib(port.span)).then_some(port.span),
            Health::Exec { .. } => None,
        };
        let user_health =
            spec.health.as_ref().and_then(|h| if !from_stdlib(h.span) { Some(h.span) } else { user_port(&h.value) });
        if let Some(span) = user_health {
            untaken.push((
                span,
                "health",
                "the chart brings its own probes: set them in `helm { values { … } }` at the chart's probe keys".into(),
            ));
        }
        for arg in &spec.args {
            untaken.push((arg.span, "args", "set the chart's arguments in `helm { values { … } }`".into()));
        }
        if let Some(members) = spec.members.as_ref().filter(|m| m.value.as_replicas()) {
            untaken.push((members.span, "members", "run the members on the generic chart (no `helm`), or set the chart's own cluster mode in `helm { values { … } }`".into()));
        }
        for route in spec.ingress.values() {
            untaken.push((route.span, "ingress", "set the chart's own ingress in `helm { values { … } }`".into()));
        }
        for file in spec.files.values() {
            untaken.push((file.span, "files", "mount the chart's configuration as its values say (most take a ConfigMap's name or the configuration itself)".into()));
        }
        // The GPU model and memory choose nodes, which no chart directive places yet.
        let gpu_choice = spec.resources.as_ref().map(|r| &r.value).into_iter().flat_map(|r| {
            [
                r.gpu_model.as_ref().map(|m| (m.span, "resources.gpu_model")),
                r.gpu_memory.as_ref().map(|m| (m.span, "resources.gpu_memory")),
            ]
        });
        for (span, field) in gpu_choice.flatten() {
            untaken.push((span, field, "set the chart's node selection (`nodeSelector`, `affinity`) and runtime class in `helm { values { … } }`".into()));
        }
        let rollout_help = "set the chart's own strategy, budget or autoscaler in `helm { values { … } }`";
        for (span, field) in [
            (spec.rollout.as_ref().map(|r| r.span), "rollout"),
            (spec.disruption.as_ref().map(|d| d.span), "disruption"),
            (spec.autoscale.as_ref().map(|a| a.span), "autoscale"),
        ] {
            if let Some(span) = span {
                untaken.push((span, field, rollout_help.into()));
            }
        }
        self.chart_priority(service);
        for rule in spec.access.values() {
            let help = "set the chart's own service account and RBAC in `helm { values { … } }`";
            untaken.push((rule.span, "access", help.into()));
        }
        if let Some(security) = &spec.security {
            let help = "set the chart's own security context (user, group), host network and host PID in `helm { values { … } }`";
            untaken.push((security.span, "security", help.into()));
        }
        if let Some(pull) = &spec.pull_secret {
            let help = "set the chart's own image pull secrets in `helm { values { … } }` (Bitnami: `global.imagePullSecrets`)";
            untaken.push((pull.span, "pull_secret", help.into()));
        }
        for (span, field, help) in &untaken {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1205,
                    *span,
                    format!("the chart `{chart}` of service `{}` takes no `{field}`", service.name),
                )
                .with_primary_label("the chart would never see this")
                .with_help(help.clone()),
            );
        }
        untaken.is_empty()
    }
}

/// The labels that select the claim a chart-backed service's `volume { selector { … } }` says its
/// chart creates: the selector's, and the release's instance label (the release is named after
/// the service). `None` when the payload gives no (well-formed) selector: the claim then carries
/// the storage label.
pub fn claim_selector(service: &Resource<Service>) -> Option<Map<String, Value>> {
    let helm = service.spec.helm.as_ref()?;
    let mut stack: Vec<&Payload> = helm.value.values.values().collect();
    while let Some(value) = stack.pop() {
        match value {
            Payload::Tagged(tag, fields) if tag == "volume" => return labels(service, fields.get("selector")?),
            Payload::Map(map) | Payload::Tagged(_, map) => stack.extend(map.values()),
            Payload::List(items) => stack.extend(items),
            _ => {}
        }
    }
    None
}

/// A selector's labels with the release's instance label, or `None` when it is not a map of
/// strings.
fn labels(service: &Resource<Service>, selector: &Payload) -> Option<Map<String, Value>> {
    let Payload::Map(selector) = selector else { return None };
    let mut out = Map::new();
    out.insert("app.kubernetes.io/instance".into(), json!(release_name(&service.name)));
    for (label, value) in selector {
        let Payload::Str(value) = value else { return None };
        out.insert(label.clone(), json!(value));
    }
    Some(out)
}

/// The value at `keys` in a chart's values (a preset's or a service's `helm { values }`), through
/// plain and tagged maps; `None` where a key is missing or a value on the way is not a map.
pub fn value_at<'v>(values: &'v indexmap::IndexMap<String, Payload>, keys: &[&str]) -> Option<&'v Payload> {
    let (first, rest) = keys.split_first()?;
    let mut value = values.get(*first)?;
    for key in rest {
        value = match value {
            Payload::Map(map) | Payload::Tagged(_, map) => map.get(*key)?,
            _ => return None,
        };
    }
    Some(value)
}
