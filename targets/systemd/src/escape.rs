//! systemd's own syntax, shared by the systemd back end and the NixOS one (which writes units
//! through Nix): command lines of `ExecStart=`, single-line setting values, and calendar
//! expressions of `OnCalendar=`.
//!
//! Command lines (systemd.service(5), "Command lines"): an argument is quoted with `"` when it
//! holds a space, a quote or a backslash, with `\` and `"` escaped inside; `%` is written `%%`
//! (systemd.unit(5), "Specifiers") and `$` is written `$$` (environment variable substitution).
//! Calendars (systemd.time(7)): a five-field cron schedule is translated field by field, and an
//! interval ("every 15m") becomes a calendar when it divides an hour, a day or a week; what has no
//! exact translation is refused rather than approximated. Shell words (POSIX sh, for scripts
//! and podman's `CMD-SHELL` health checks) are single-quoted. A Unicode noncharacter has no form
//! in a unit file at all, quoted or escaped: text holding one is refused (E1405).

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::source::Span;

/// Writes one command-line argument for `ExecStart=`. Control characters (line breaks above all,
/// which would start a new directive) are always written as C escapes inside quotes.
pub fn exec_arg(arg: &str) -> String {
    quoted_word(&arg.replace('$', "$$"))
}

/// Writes one word of a space-separated list setting that unquotes its words and expands
/// specifiers (`RequiresMountsFor=`): quoted as in `ExecStart=`, `%` doubled, `$` kept.
pub fn list_word(word: &str) -> String {
    quoted_word(word)
}

/// Doubles `%` and quotes a word that needs it, with C escapes inside the quotes.
fn quoted_word(word: &str) -> String {
    let escaped = word.replace('%', "%%");
    let needs_quotes =
        escaped.is_empty() || escaped.chars().any(|c| c.is_control() || matches!(c, ' ' | '"' | '\'' | '\\' | ';'));
    if !needs_quotes {
        return escaped;
    }
    let mut out = String::from("\"");
    for c in escaped.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && c.is_ascii() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The first character of `text` that systemd refuses in a unit file however it is written: a
/// Unicode noncharacter (U+FDD0 to U+FDEF, and U+xFFFE and U+xFFFF in every plane). systemd
/// drops a line holding one as not "UTF-8 clean", and refuses its `\u`/`\U` escapes too
/// (`unichar_is_valid` in systemd's `utf8.c`).
pub fn refused_in_units(text: &str) -> Option<char> {
    text.chars().find(|&c| matches!(u32::from(c), 0xFDD0..=0xFDEF) || u32::from(c) & 0xFFFE == 0xFFFE)
}

/// E1405 when `text`, bound for a unit file (`what` says as what), holds a character systemd
/// refuses there.
pub fn unit_refusal(text: &str, what: &str, span: Span) -> Option<Diagnostic> {
    let refused = refused_in_units(text)?;
    Some(
        Diagnostic::new(
            Code::E1405,
            span,
            format!(
                "{what} holds U+{:04X}, a Unicode noncharacter, which systemd refuses in a unit file",
                u32::from(refused)
            ),
        )
        .with_primary_label("systemd cannot read this")
        .with_help("remove the character: systemd refuses noncharacters even when escaped"),
    )
}

/// Writes a setting value: `%` doubled (specifiers); `None` when the value holds a line break or a
/// NUL, which no unit file can carry on one line, or ends with a backslash, which would continue
/// the line into the next setting (systemd.syntax(7)). Surrounding whitespace is not kept by
/// systemd.
pub fn value(text: &str) -> Option<String> {
    if text.contains(['\n', '\r', '\0']) || text.trim_end().ends_with('\\') || refused_in_units(text).is_some() {
        None
    } else {
        Some(text.replace('%', "%%"))
    }
}

/// `StartLimitIntervalSec=` for a oneshot step retried `retries` times: long enough to hold every
/// attempt of one run (each its timeout, 1h when none, plus the 30s restart delay), so the limit
/// stops a failing run without refusing the next scheduled one.
pub fn start_limit_window(timeout_ms: Option<u64>, retries: u32) -> String {
    let attempt = timeout_ms.unwrap_or(3_600_000) / 1000 + 30;
    format!("{}s", attempt * (u64::from(retries) + 1))
}

/// Writes one word for a POSIX shell: single-quoted, a `'` written `'\''`, so nothing inside is
/// expanded.
pub fn shell_word(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// A systemd calendar expression for "every `ms`", when the interval divides an hour, a day or
/// a week evenly; `None` otherwise.
pub fn interval_calendar(ms: u64) -> Option<String> {
    const MINUTE: u64 = 60_000;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    match ms {
        0 => None,
        ms if ms.is_multiple_of(MINUTE) && ms < HOUR && (HOUR / MINUTE).is_multiple_of(ms / MINUTE) => {
            Some(format!("*:0/{}", ms / MINUTE))
        }
        HOUR => Some("hourly".into()),
        ms if ms.is_multiple_of(HOUR) && ms < DAY && (DAY / HOUR).is_multiple_of(ms / HOUR) => {
            Some(format!("0/{}:00", ms / HOUR))
        }
        DAY => Some("daily".into()),
        ms if ms == 7 * DAY => Some("weekly".into()),
        _ => None,
    }
}

const DAYS: [&str; 8] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// One cron value as a number (month and day names allowed).
fn number(value: &str, names: &[&str], offset: u32) -> Option<u32> {
    value.parse().ok().or_else(|| {
        let lower = value.to_ascii_lowercase();
        names.iter().position(|n| n.to_ascii_lowercase() == lower).map(|i| i as u32 + offset)
    })
}

/// Translates one numeric cron field: `*`, `*/n`, `a`, `a-b`, and lists of those.
fn field(text: &str, start: u32, names: &[&str], offset: u32, width: usize) -> Option<String> {
    if text == "*" {
        return Some("*".into());
    }
    if let Some(step) = text.strip_prefix("*/") {
        let step: u32 = step.parse().ok().filter(|&s| s > 0)?;
        return Some(format!("{start:0width$}/{step}"));
    }
    let parts: Option<Vec<String>> = text
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => {
                Some(format!("{:0width$}..{:0width$}", number(a, names, offset)?, number(b, names, offset)?))
            }
            None => Some(format!("{:0width$}", number(part, names, offset)?)),
        })
        .collect();
    Some(parts?.join(","))
}

/// Translates the day-of-week field to day names (`1-5` → `Mon..Fri`).
fn weekdays(text: &str) -> Option<String> {
    if text == "*" {
        return Some(String::new());
    }
    let day = |v: &str| -> Option<&'static str> {
        let n = number(v, &DAYS[..7], 0)?;
        DAYS.get(n as usize).copied()
    };
    let parts: Option<Vec<String>> = text
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => Some(format!("{}..{}", day(a)?, day(b)?)),
            None => day(part).map(String::from),
        })
        .collect();
    Some(parts?.join(","))
}

/// Translates a five-field cron schedule to an `OnCalendar=` expression, or `None`.
pub fn cron_calendar(schedule: &str) -> Option<String> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [minute, hour, day, month, weekday] = fields.as_slice() else { return None };
    // Cron runs when either the day of month or the day of week matches if both are restricted;
    // a calendar expression requires both, so that case has no translation.
    if *day != "*" && *weekday != "*" {
        return None;
    }
    let minute = field(minute, 0, &[], 0, 2)?;
    let hour = field(hour, 0, &[], 0, 2)?;
    let day = field(day, 1, &[], 0, 2)?;
    let month = field(month, 1, &MONTHS, 1, 2)?;
    let weekday = weekdays(weekday)?;
    let date = format!("*-{month}-{day} {hour}:{minute}:00");
    Some(if weekday.is_empty() { date } else { format!("{weekday} {date}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_and_specifiers_escaped() {
        assert_eq!(exec_arg("extract"), "extract");
        assert_eq!(exec_arg("two words"), "\"two words\"");
        assert_eq!(exec_arg("100%"), "100%%");
        assert_eq!(exec_arg("$HOME"), "$$HOME");
        assert_eq!(exec_arg("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(exec_arg(""), "\"\"");
        assert_eq!(exec_arg("line1\nUser=nobody"), "\"line1\\nUser=nobody\"");
        assert!(!exec_arg("a\rb\tc").contains(['\r', '\t']));
    }

    #[test]
    fn noncharacters_are_what_units_refuse() {
        for refused in ['\u{fdd0}', '\u{fdef}', '\u{fffe}', '\u{ffff}', '\u{1fffe}', '\u{10ffff}'] {
            assert_eq!(refused_in_units(&format!("a{refused}b")), Some(refused), "{:X}", u32::from(refused));
        }
        for kept in ["\u{fdcf}", "\u{fdf0}", "\u{fffd}", "\u{1fffd}", "ünï✓🚀", "\n\t"] {
            assert_eq!(refused_in_units(kept), None, "{kept:?}");
        }
        assert_eq!(value("x\u{fffe}"), None);
    }

    #[test]
    fn intervals_become_calendars() {
        assert_eq!(interval_calendar(15 * 60_000).as_deref(), Some("*:0/15"));
        assert_eq!(interval_calendar(3_600_000).as_deref(), Some("hourly"));
        assert_eq!(interval_calendar(6 * 3_600_000).as_deref(), Some("0/6:00"));
        assert_eq!(interval_calendar(86_400_000).as_deref(), Some("daily"));
        assert_eq!(interval_calendar(7 * 86_400_000).as_deref(), Some("weekly"));
        assert_eq!(interval_calendar(7 * 60_000), None);
        assert_eq!(interval_calendar(5 * 3_600_000), None);
    }

    #[test]
    fn shell_words_are_single_quoted() {
        assert_eq!(shell_word("tank/data"), "'tank/data'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("$(reboot)"), "'$(reboot)'");
    }

    #[test]
    fn cron_schedules_become_calendars() {
        assert_eq!(cron_calendar("0 3 * * *").as_deref(), Some("*-*-* 03:00:00"));
        assert_eq!(cron_calendar("*/15 * * * *").as_deref(), Some("*-*-* *:00/15:00"));
        assert_eq!(cron_calendar("30 2 * * 0").as_deref(), Some("Sun *-*-* 02:30:00"));
        assert_eq!(cron_calendar("0 9 * jan-jun mon-fri").as_deref(), Some("Mon..Fri *-01..06-* 09:00:00"));
        assert_eq!(cron_calendar("0 9 1,15 * *").as_deref(), Some("*-*-01,15 09:00:00"));
        assert_eq!(cron_calendar("0 0 1,15 * 5"), None, "cron's day-of-month OR day-of-week");
        assert_eq!(cron_calendar("0 3 * *"), None);
    }
}
