//! Workflows: the schedule is a valid five-field cron expression (parsed by `croner`), and every
//! step's timeout is above zero. Cycles between steps are found with the other cycles.

use croner::parser::{CronParser, Seconds, Year};

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};

/// Checks every workflow.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
    for workflow in &estate.model.workflows {
        if let Some(schedule) = &workflow.spec.schedule
            && let Err(error) = parser.parse(&schedule.value)
        {
            let fields = schedule.value.split_whitespace().count();
            let reason = if fields == 5 { error.to_string() } else { format!("{fields} fields instead of 5") };
            diagnostics.push(
                Diagnostic::new(
                    Code::E0617,
                    schedule.span,
                    format!("workflow `{}`: invalid cron schedule: {reason}", workflow.name),
                )
                .with_primary_label("not a cron schedule")
                .with_help("write five fields: minute hour day-of-month month day-of-week, as in `0 3 * * *`"),
            );
        }
        for (name, step) in workflow.spec.step.iter() {
            if let Some(timeout) = &step.timeout
                && timeout.value.0 == 0
            {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0618,
                        timeout.span,
                        format!("step `{name}` of workflow `{}` has a zero timeout", workflow.name),
                    )
                    .with_primary_label("would fail at once")
                    .with_help("give the step time to run, as in `timeout = 30m`, or leave `timeout` out"),
                );
            }
        }
    }
}
