//! Workflows: the schedule is a valid five-field cron expression (parsed by `croner`), and every
//! step's timeout is above zero. Cycles between steps are found with the other cycles.

use croner::parser::{CronParser, Seconds, Year};

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};

const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or jan-dec"),
    ("day-of-week", "0-7 or sun-sat"),
];

/// Says what is wrong with a schedule: the number of fields, a non-portable extension, or the
/// first field croner rejects (each field is tried alone, the others `*`, to name it).
fn cron_problem(parser: &CronParser, schedule: &str) -> Option<String> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!("{} fields instead of 5 (minute hour day-of-month month day-of-week)", fields.len()));
    }
    // croner also reads Quartz extensions; systemd timers and Kubernetes CronJobs do not.
    if let Some(field) = fields.iter().find(|f| f.contains(['L', 'W', '#', '?'])) {
        return Some(format!(
            "`{field}` uses `L`, `W`, `#` or `?`, which systemd and Kubernetes schedules do not support"
        ));
    }
    parser.parse(schedule).err()?;
    for (index, (name, range)) in FIELDS.iter().enumerate() {
        let alone: Vec<&str> = (0..5).map(|i| if i == index { fields[i] } else { "*" }).collect();
        if parser.parse(&alone.join(" ")).is_err() {
            return Some(format!(
                "the {name} field `{}` is not valid (it takes {range}, lists, ranges and steps)",
                fields[index]
            ));
        }
    }
    Some("the fields are not valid together".into())
}

/// Checks every workflow.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
    for workflow in &estate.model.workflows {
        if let Some(schedule) = &workflow.spec.schedule
            && let Some(reason) = cron_problem(&parser, &schedule.value)
        {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_that_is_wrong() {
        let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
        assert_eq!(cron_problem(&parser, "0 3 * * *"), None);
        assert_eq!(cron_problem(&parser, "*/15 0-6 1,15 jan-jun mon-fri"), None);
        assert!(cron_problem(&parser, "0 25 * * *").is_some_and(|r| r.contains("hour field `25`")));
        assert!(cron_problem(&parser, "60 3 * * *").is_some_and(|r| r.contains("minute field")));
        assert!(cron_problem(&parser, "0 3 * * * *").is_some_and(|r| r.starts_with("6 fields")));
        assert!(cron_problem(&parser, "0 3 L * *").is_some_and(|r| r.contains("`L`")));
    }
}
