//! Message streams (`stream NAME { on = service.BUS, … }`, [`crate::model::stream`]): the
//! refusals the server would answer when the one-shot applies them, found before anything runs.
//! Each stream keeps either written `subjects` or the dead-letter advisories (E0775), every
//! subject is one NATS accepts (E0776), no two streams of one server keep an overlapping subject
//! (E0773: a message has one stream), and no stream keeps more replicas than its server has
//! members (E0774). The job that applies a stream is `stream-NAME`: a job written with that name
//! would be a second unit or release of one name (E0777).
//!
//! Linear over streams, but for the overlap: the subjects of one server are compared pairwise
//! (a server holds tens of streams, not thousands; the estate's servers are grouped first).

use rustc_hash::FxHashMap;

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::stream::{MAX_DELIVERIES, stream_job, stream_name};
use crate::model::{Job, Resource, Stream};
use crate::source::Span;

/// A subject a stream keeps, where it is written.
type Kept<'m> = (&'m Resource<Stream>, &'m str, Span);

/// Checks every stream.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    job_names(estate, diagnostics);
    let mut by_server: FxHashMap<&str, Vec<Kept<'_>>> = FxHashMap::default();
    for stream in &estate.model.streams {
        let spec = &stream.spec;
        let written = !spec.subjects.is_empty();
        if written == spec.dead_letters() {
            diagnostics.push(stream.at_use(subjects_choice(stream)));
            continue;
        }
        let subjects: Vec<(&str, Span)> = match &spec.dead_letters {
            Some(flag) if flag.value => vec![(MAX_DELIVERIES, flag.span)],
            _ => spec.subjects.iter().map(|s| (s.value.as_str(), s.span)).collect(),
        };
        for &(subject, span) in &subjects {
            if let Some(why) = subject_error(subject) {
                diagnostics.push(stream.at_use(
                    Diagnostic::new(Code::E0776, span, format!("`{subject}` is not a subject NATS accepts: {why}"))
                        .with_primary_label("invalid subject")
                        .with_help("write tokens joined by `.`, `*` for one token, `>` last for the rest (`orders.*.created`, `audit.>`)"),
                ));
            }
        }
        by_server.entry(spec.on.value.name.as_str()).or_default().extend(
            subjects.into_iter().filter(|(s, _)| subject_error(s).is_none()).map(|(s, span)| (stream, s, span)),
        );
        replicas(estate, stream, diagnostics);
    }
    let mut servers: Vec<_> = by_server.into_iter().collect();
    servers.sort_by_key(|(server, _)| *server);
    for (server, subjects) in servers {
        for (i, (stream, subject, span)) in subjects.iter().enumerate() {
            let earlier =
                subjects[..i].iter().find(|(other, theirs, _)| other.name != stream.name && overlap(subject, theirs));
            if let Some((other, theirs, their_span)) = earlier {
                diagnostics.push(stream.at_use(
                    Diagnostic::new(
                        Code::E0773,
                        *span,
                        format!(
                            "streams `{}` and `{}` on service `{server}` both keep subject `{subject}`",
                            stream.name, other.name
                        ),
                    )
                    .with_primary_label(format!("overlaps `{theirs}`"))
                    .with_label(*their_span, format!("kept by stream `{}`", other.name))
                    .with_note("the server refuses a stream whose subjects overlap another's: a message is kept by one stream")
                    .with_help("narrow the subjects so that no message matches both"),
                ));
            }
        }
    }
}

/// E0777: a job written with the name of a stream's job. The stream's own job carries the
/// stream's name span, so a job of that name with another is the written one.
fn job_names(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    if estate.model.streams.is_empty() {
        return;
    }
    let mut jobs: FxHashMap<&str, Vec<&Resource<Job>>> = FxHashMap::default();
    for job in estate.model.jobs.iter().filter(|j| j.name.starts_with("stream-")) {
        jobs.entry(job.name.as_str()).or_default().push(job);
    }
    for stream in &estate.model.streams {
        let name = stream_job(&stream.name);
        let written = jobs.get(name.as_str()).and_then(|same| same.iter().find(|j| j.name_span != stream.name_span));
        if let Some(job) = written {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0777,
                    job.name_span,
                    format!("job `{name}` takes the name of the job that applies stream `{}`", stream.name),
                )
                .with_primary_label("a job of this name")
                .with_label(stream.name_span, format!("applied by job `{name}`"))
                .with_help(format!(
                    "rename the job: `stream-` names are the streams' (`{name}` applies `{}`)",
                    stream.name
                )),
            );
        }
    }
}

/// E0775: a stream with neither subjects nor `dead_letters`, or both.
fn subjects_choice(stream: &Resource<Stream>) -> Diagnostic {
    let spec = &stream.spec;
    match &spec.dead_letters {
        Some(flag) if flag.value => Diagnostic::new(
            Code::E0775,
            flag.span,
            format!("stream `{}` keeps the dead-letter advisories and subjects of its own", stream.name),
        )
        .with_primary_label("its subjects are the advisories'")
        .with_label(spec.subjects[0].span, "subjects written too")
        .with_help("keep dead letters in a stream of their own: remove `subjects` here"),
        _ => Diagnostic::new(Code::E0775, stream.name_span, format!("stream `{}` keeps no subjects", stream.name))
            .with_primary_label("no `subjects` and no `dead_letters`")
            .with_help("list the subjects whose messages it keeps, or set `dead_letters = true`"),
    }
}

/// E0774: more replicas than the server has members. A server without members is one server; a
/// member of a cluster of services on nodes (`members { size = 1 }`) belongs to a cluster whose
/// size is its routes', which the compiler does not read, so it is not checked.
fn replicas(estate: &EstateGraph<'_>, stream: &Resource<Stream>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(replicas) = &stream.spec.replicas else { return };
    let Some(server) = estate.service(&stream.spec.on.value.name) else { return };
    let (size, at) = match &server.spec.members {
        Some(members) if members.value.as_replicas() => (members.value.size(), members.value.size.span),
        Some(_) => return,
        None => (1, server.name_span),
    };
    if replicas.value > size {
        diagnostics.push(
            stream.at_use(
                Diagnostic::new(
                    Code::E0774,
                    replicas.span,
                    format!(
                        "stream `{}` keeps {} replicas, but service `{}` has {size} member{}",
                        stream.name,
                        replicas.value,
                        server.name,
                        if size == 1 { "" } else { "s" }
                    ),
                )
                .with_primary_label(format!("{} replicas", replicas.value))
                .with_label(at, format!("{size} member{}", if size == 1 { "" } else { "s" }))
                .with_note(format!(
                    "the server refuses to create `{}`: each replica is kept by a different server",
                    stream_name(&stream.name)
                ))
                .with_help(format!("keep at most {size} replicas, or run more members")),
            ),
        );
    }
}

/// Why NATS refuses `subject` as a stream's subject, or `None`.
pub fn subject_error(subject: &str) -> Option<&'static str> {
    if subject.is_empty() {
        return Some("it is empty");
    }
    if subject.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it holds a space or a control character");
    }
    let tokens: Vec<&str> = subject.split('.').collect();
    for (i, token) in tokens.iter().enumerate() {
        if token.is_empty() {
            return Some("a token between dots is empty");
        }
        if token.len() > 1 && (token.contains('*') || token.contains('>')) {
            return Some("`*` and `>` stand for whole tokens only");
        }
        if *token == ">" && i + 1 != tokens.len() {
            return Some("`>` stands for the rest of the subject, so it comes last");
        }
    }
    None
}

/// Whether some subject matches both `a` and `b` (`*` one token, `>` one or more at the end).
pub fn overlap(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.split('.'), b.split('.'));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(">"), Some(_)) | (Some(_), Some(">")) => return true,
            (Some(x), Some(y)) if x == y || x == "*" || y == "*" => continue,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_overlap_as_nats_matches_them() {
        assert!(overlap("orders.>", "orders.eu.created"));
        assert!(overlap("orders.*.created", "orders.eu.*"));
        assert!(overlap("a.b", "a.b"));
        assert!(!overlap("orders.>", "orders"));
        assert!(!overlap("orders.*", "orders.eu.created"));
        assert!(!overlap("consciousness.>", "security.audit.>"));
        assert!(overlap("$JS.EVENT.ADVISORY.>", MAX_DELIVERIES));
    }

    #[test]
    fn subjects_nats_refuses_are_named() {
        assert!(subject_error("orders.>").is_none());
        assert!(subject_error(MAX_DELIVERIES).is_none());
        assert!(subject_error("orders.>.x").is_some());
        assert!(subject_error("orders..x").is_some());
        assert!(subject_error("orders.a*").is_some());
        assert!(subject_error("orders x").is_some());
    }
}
