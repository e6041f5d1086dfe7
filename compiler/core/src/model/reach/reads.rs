//! Reads of where services are: `service.NAME.host`, `.port` and `.url` written in a workload's
//! `env`, `args` and files ([`text_reads`]) or in the payload its placement's target writes
//! (`nixos { … }` on a node, `helm { values }` on a cluster), the services a service reaches
//! through them ([`reached_services`]), and E0625 for a read no target could write ([`endpoints`]).
//! A read is a way in like a need: [`super::derive`] opens the same ways for both.

use super::Reach;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{Endpoint, Payload, Reference};
use crate::model::{EnvValue, Model, Service};
use crate::source::Span;

/// Every `service.NAME.host`, `.port` or `.url` read inside a service's payloads that its
/// placement's target writes: `nixos { … }` (read by the node itself) on a node, `helm { values }`
/// on a cluster, whole or in a string's holes; with the field that holds it.
pub(super) fn payload_endpoints(service: &Service, on_node: bool) -> Vec<(&Reference, &'static str)> {
    fn walk<'p>(value: &'p Payload, field: &'static str, out: &mut Vec<(&'p Reference, &'static str)>) {
        match value {
            Payload::Reference(r) if r.kind == "service" && Endpoint::part_of(&r.field).is_some() => {
                out.push((r, field))
            }
            Payload::Template(template) => out.extend(template.holes().map(|hole| (&hole.0, field))),
            Payload::List(items) => items.iter().for_each(|i| walk(i, field, out)),
            Payload::Map(entries) | Payload::Tagged(_, entries) => entries.values().for_each(|v| walk(v, field, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if on_node {
        service.nixos.iter().flat_map(|n| n.value.values()).for_each(|v| walk(v, "nixos", &mut out));
    } else {
        service.helm.iter().flat_map(|h| h.value.values.values()).for_each(|v| walk(v, "helm", &mut out));
    }
    out
}

/// One read of where a service is in what a workload is started with: a whole `env` value, or a
/// hole of a string in `env`, `args` or a configuration file's contents.
pub struct TextRead<'m> {
    /// The reference read.
    pub endpoint: &'m Endpoint,
    /// Where it is written: the whole value's span, or the hole's.
    pub span: Span,
    /// The field that holds it, for messages (`LOKI_URL`, `args`, the file's path).
    pub field: &'m str,
}

/// The reads of where services are in `env`, `args` and files, in that order.
pub fn text_reads<'m>(
    env: &'m indexmap::IndexMap<String, crate::model::types::Spanned<EnvValue>>,
    args: &'m [crate::model::types::Spanned<crate::model::types::Template>],
    files: Option<&'m indexmap::IndexMap<String, crate::model::types::Spanned<crate::model::files::FileContent>>>,
) -> Vec<TextRead<'m>> {
    let mut out = Vec::new();
    for (key, value) in env {
        match &value.value {
            EnvValue::Endpoint(endpoint) => out.push(TextRead { endpoint, span: value.span, field: key }),
            EnvValue::Template(template) => {
                out.extend(template.holes().map(|hole| TextRead { endpoint: hole, span: hole.0.span, field: key }))
            }
            _ => {}
        }
    }
    for arg in args {
        out.extend(arg.value.holes().map(|hole| TextRead { endpoint: hole, span: hole.0.span, field: "args" }));
    }
    for (path, content) in files.into_iter().flatten() {
        out.extend(content.value.holes().into_iter().map(|hole| TextRead {
            endpoint: hole,
            span: hole.0.span,
            field: path,
        }));
    }
    out
}

/// The services `service` reaches: those it needs, then those whose place it reads in `env`,
/// `args`, files or in the payload its placement's target writes (`nixos { … }` on a node,
/// `helm { values }` on a cluster); each once, in that order. The Kubernetes back end admits
/// exactly these.
pub fn reached_services(service: &Service) -> Vec<&str> {
    let mut reached: Vec<&str> = service.needed_services().map(|n| n.name.as_str()).collect();
    let reads = text_reads(&service.env, &service.args, Some(&service.files));
    let reads = reads.iter().map(|read| read.endpoint.0.name.as_str());
    let on_node = service.on.kind == "node";
    let payload = payload_endpoints(service, on_node).into_iter().map(|(r, _)| r.name.as_str());
    for name in reads.chain(payload) {
        if !reached.contains(&name) {
            reached.push(name);
        }
    }
    reached
}

/// E0625 for every `service.NAME.host`, `.port` or `.url` no target could write.
pub(super) fn endpoints(model: &Model, reach: &Reach, diagnostics: &mut Vec<Diagnostic>) {
    // A read that is already unreachable (E0604) is not reported twice.
    let reported: rustc_hash::FxHashSet<Span> = diagnostics.iter().map(|d| d.primary.span).collect();
    let services =
        model.services.iter().map(|s| (&s.spec.on, text_reads(&s.spec.env, &s.spec.args, Some(&s.spec.files))));
    let steps = model
        .workflows
        .iter()
        .flat_map(|w| w.spec.step.values().map(move |s| (&w.spec.on, text_reads(&s.env, &s.args, None))));
    let jobs = model.jobs.iter().map(|j| (&j.spec.on, text_reads(&j.spec.env, &j.spec.args, None)));
    for (on, reads) in services.chain(steps).chain(jobs) {
        for read in reads {
            if !reach.located.contains_key(&read.endpoint.0.name) {
                continue; // an unknown service: reported by evaluation
            }
            if reported.contains(&read.span) {
                continue;
            }
            if let Some(diagnostic) = reach.member_problem(read.field, read.endpoint, read.span) {
                diagnostics.push(diagnostic);
            } else if let Err(why) = reach.resolve(on, read.endpoint) {
                diagnostics.push(unresolved(read.field, read.endpoint, read.span, &why));
            }
        }
    }
    for service in &model.services {
        let on_node = service.spec.on.kind == "node";
        for (reference, field) in payload_endpoints(&service.spec, on_node) {
            if !reach.located.contains_key(&reference.name) || reported.contains(&reference.span) {
                continue;
            }
            let endpoint = Endpoint(reference.clone());
            let resolved = if on_node {
                reach.resolve_on_host(&service.spec.on, &endpoint)
            } else {
                reach.resolve(&service.spec.on, &endpoint)
            };
            if let Some(diagnostic) = reach.member_problem(field, &endpoint, reference.span) {
                diagnostics.push(diagnostic);
            } else if let Err(why) = resolved {
                diagnostics.push(unresolved(field, &endpoint, reference.span, &why));
            }
        }
    }
}

fn unresolved(key: &str, endpoint: &Endpoint, span: Span, why: &str) -> Diagnostic {
    let written = endpoint.written();
    Diagnostic::new(Code::E0625, span, format!("`{key}` reads `{written}`, which has no value here: {why}"))
        .with_primary_label("where the service is cannot be said")
        .with_help("give the node an `address`, declare the service's port, or expose the cluster service to a network")
}
