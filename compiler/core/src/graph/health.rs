//! Health-check timing: every duration a check gives is whole seconds (the unit every back end
//! counts in: probe periods, podman's options, systemd timers), `every` and `timeout` at least
//! one second, and `failures` at least one (E0770).

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::{Duration, Spanned, format_duration};

/// Checks the timing of every service's health check.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for service in &estate.model.services {
        let Some(health) = &service.spec.health else { continue };
        let timing = health.value.timing();
        let durations =
            [("every", timing.every, 1_000), ("timeout", timing.timeout, 1_000), ("start", timing.start, 0)];
        for (field, duration, least) in durations {
            if let Some(duration) = duration {
                check_duration(&service.name, field, duration, least, diagnostics);
            }
        }
        if let Some(failures) = timing.failures.filter(|f| f.value == 0) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0770,
                    failures.span,
                    format!("the health check of service `{}` restarts it after 0 failures", service.name),
                )
                .with_primary_label("at least 1")
                .with_help("give the failed checks in a row that restart the service: `failures = 3`"),
            );
        }
    }
}

fn check_duration(
    service: &str,
    field: &str,
    duration: &Spanned<Duration>,
    least_ms: u64,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let ms = duration.value.0;
    let (label, help) = if ms < least_ms {
        ("shorter than a second", format!("give `{field}` one second or more"))
    } else if !ms.is_multiple_of(1_000) {
        ("not whole seconds", format!("round it to whole seconds: `{field} = {}s`", ms.div_ceil(1_000).max(1)))
    } else {
        return;
    };
    diagnostics.push(
        Diagnostic::new(
            Code::E0770,
            duration.span,
            format!(
                "the health check of service `{service}` has `{field} = {}`, which its targets cannot count",
                format_duration(ms)
            ),
        )
        .with_primary_label(label)
        .with_help(help)
        .with_note("probes, podman's health options and systemd timers count health checks in whole seconds"),
    );
}
