//! Buckets' lifecycle transitions: each moves objects to a colder storage class than the one
//! before it, later than the one before it (E0744, S3's own order: objects never move back to a
//! warmer class), and before the bucket expires them (E0743: a transition at or after `expire`
//! never happens). A restic repository cannot live where objects move to a class that is read only
//! after a retrieval (E0745): restic reads its index on every backup, and every restore (the
//! `verify` test's too) reads data written when the repository began, which later snapshots keep
//! sharing; once moved, none of it is read without a retrieval of hours, so backups fail and no
//! restore meets an `rto` shorter than that.
//!
//! Buckets are external: nothing is generated for them, so these rules are the whole of what spec
//! does with a transition (the provider's configuration is the team's, `docs/language.md`).

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::format_duration;

/// Checks every bucket's transitions and every offsite copy written to a bucket.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for bucket in &estate.model.buckets {
        let transitions = bucket.spec.transitions();
        if let Some(expire) = bucket.spec.expires_after() {
            for transition in transitions.iter().filter(|t| t.value.after.value.0 >= expire.value.0) {
                let (after, to) = (&transition.value.after, transition.value.to.value);
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0743,
                        after.span,
                        format!(
                            "bucket `{}` moves objects to {} after {}, but deletes them after {}",
                            bucket.name,
                            to.written(),
                            format_duration(after.value.0),
                            format_duration(expire.value.0)
                        ),
                    )
                    .with_primary_label("no object is left to move")
                    .with_label(expire.span, "objects are deleted here")
                    .with_help("move objects before they expire (a shorter `after`), or remove the transition"),
                );
            }
        }
        for pair in transitions.windows(2) {
            let (before, next) = (&pair[0].value, &pair[1].value);
            let why = if next.after.value.0 <= before.after.value.0 {
                Some(format!("it is not later than the move to {} before it", before.to.value.written()))
            } else if next.to.value <= before.to.value {
                Some(format!(
                    "{} is not colder than {}, where objects already are",
                    next.to.value.written(),
                    before.to.value.written()
                ))
            } else {
                None
            };
            let Some(why) = why else { continue };
            diagnostics.push(
                Diagnostic::new(
                    Code::E0744,
                    pair[1].span,
                    format!("bucket `{}`: the move to {} cannot follow: {why}", bucket.name, next.to.value.written()),
                )
                .with_primary_label("out of order")
                .with_label(pair[0].span, "the transition before it")
                .with_help("list transitions in the order they happen, each later and to a colder class (standard-ia, intelligent-tiering, onezone-ia, glacier-ir, glacier, deep-archive)"),
            );
        }
    }
    for backup in &estate.model.backups {
        for copy in backup.spec.copies(&backup.name) {
            let Some(bucket) = copy.restic.bucket.as_ref().and_then(|b| estate.bucket(&b.name)) else { continue };
            let Some(cold) = bucket.spec.first_cold() else { continue };
            let (after, to) = (&cold.value.after, cold.value.to.value);
            let retrieval = to.retrieval().unwrap_or_default();
            let mut diagnostic = Diagnostic::new(
                Code::E0745,
                copy.span,
                format!(
                    "the restic repository of `{}` lives in bucket `{}`, which moves objects to {} after {}",
                    copy.name,
                    bucket.name,
                    to.written(),
                    format_duration(after.value.0)
                ),
            )
            .with_primary_label(
                "restic reads its index on every backup, and every restore reads data as old as the repository",
            )
            .with_label(cold.span, format!("read only after a retrieval of {} or more", format_duration(retrieval)));
            if let Some(verify) = &backup.spec.verify {
                diagnostic = diagnostic.with_label(verify.span, "the restore test reads the moved objects");
            }
            if let Some(rto) = backup.spec.rto.as_ref().filter(|rto| rto.value.0 < retrieval) {
                diagnostic = diagnostic.with_label(
                    rto.span,
                    format!("shorter than a retrieval from {} ({} or more)", to.written(), format_duration(retrieval)),
                );
            }
            diagnostics.push(diagnostic.with_help(
                "keep restic repositories in a bucket that moves nothing to glacier or deep-archive (glacier-ir and standard-ia are read at once), and let `keep` expire old copies",
            ));
        }
    }
}
