//! Service level objectives: `slo NAME { objective = "99.9%", window = 30d, … }`, the share of
//! good events a service promises over a window, from which the Prometheus back end writes
//! recording rules and multi-window, multi-burn-rate alerts (the method of the Google SRE
//! workbook, chapter 5).
//!
//! The indicator is either `good` and `total`, two PromQL selectors of counters (good events and
//! all events: the error ratio over a window is `1 - rate(good) / rate(total)`), or `service`,
//! the shorthand for a service's availability as Prometheus sees it: the share of its scrapes that
//! succeed, `up{job="<service>"}` (so the service needs `metrics`), or `latency` with `below`, a
//! latency objective on a histogram ("99% of requests within 100ms", the p99 under a bound): good
//! events are the observations in the bucket `le="<below in seconds>"`, all events its `_count`.
//!
//! Invariants the back end relies on once the graph rules pass: the objective is a percentage
//! strictly between 0 and 100 whose fastest burn rate stays under an error ratio of 1 (E0645),
//! the window is at least as long as the longest alert window (E0647), and exactly one indicator
//! is given, `good` and `total` (or `latency`, with its `below`) as plain selectors (E0646).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::*;

/// An objective: the share of good events over a window.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// The share of good events promised, a percentage below 100: `"99.9%"`.
    pub objective: Spanned<String>,
    /// The window the objective holds over. Default: 30d.
    #[schemars(extend("default" = "30d"))]
    pub window: Option<Spanned<Duration>>,
    /// The service whose availability is promised: the share of its scrapes that succeed
    /// (`up{job="<service>"}`); instead of `good` and `total`.
    pub service: Option<ServiceRef>,
    /// A PromQL selector of the counter of good events (`http_requests_total{job="api", code!~"5.."}`).
    pub good: Option<Spanned<String>>,
    /// A PromQL selector of the counter of all events (`http_requests_total{job="api"}`).
    pub total: Option<Spanned<String>>,
    /// A latency histogram in seconds, selected by its base name (`http_request_duration_seconds{job="api"}`):
    /// good events are its observations at or under `below` (`_bucket{le=…}`), all events its
    /// `_count`; instead of `service` or `good` and `total`.
    pub latency: Option<Spanned<String>>,
    /// The bound of a latency objective, a bucket bound of the histogram (`100ms` reads `le="0.1"`).
    pub below: Option<Spanned<Duration>>,
}

/// The window of an objective when none is written: 30 days, as the burn rates are stated for.
pub const DEFAULT_WINDOW_MS: u64 = 30 * 86_400_000;

/// One alert of an objective: it fires when the error ratio over both windows exceeds
/// `factor × (1 - objective)`, where `factor` spends `budget` of the error budget over `long`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurnWindow {
    /// The long window, in milliseconds.
    pub long: u64,
    /// The short window (a twelfth of the long one), which ends the alert soon after the burn stops.
    pub short: u64,
    /// The share of the error budget spent over the long window.
    pub budget: f64,
}

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The page alert's windows: 2% of the budget in 1h (14.4× over 30d), 5% in 6h (6×).
pub const PAGE: [BurnWindow; 2] = [
    BurnWindow { long: HOUR, short: 5 * MINUTE, budget: 0.02 },
    BurnWindow { long: 6 * HOUR, short: 30 * MINUTE, budget: 0.05 },
];

/// The ticket alert's windows: 10% of the budget in 1d (3× over 30d), 10% in 3d (1×).
pub const TICKET: [BurnWindow; 2] = [
    BurnWindow { long: DAY, short: 2 * HOUR, budget: 0.10 },
    BurnWindow { long: 3 * DAY, short: 6 * HOUR, budget: 0.10 },
];

impl BurnWindow {
    /// The burn rate over an objective's window: `budget × window / long` (14.4 for 1h of 30d).
    pub fn factor(&self, window_ms: u64) -> f64 {
        self.budget * window_ms as f64 / self.long as f64
    }
}

/// The `le` matcher of a bucket bound in milliseconds: `le="0.1"`, or for a whole number of
/// seconds `le=~"1|1\\.0"` (Prometheus 3 writes `1.0` where client libraries write `1`).
pub fn le_matcher(bound_ms: u64) -> String {
    if bound_ms.is_multiple_of(1000) {
        let seconds = bound_ms / 1000;
        format!("le=~\"{seconds}|{seconds}\\\\.0\"")
    } else {
        format!("le=\"{}\"", bound_ms as f64 / 1000.0)
    }
}

impl Slo {
    /// The window in milliseconds.
    pub fn window_ms(&self) -> u64 {
        self.window.as_ref().map_or(DEFAULT_WINDOW_MS, |w| w.value.0)
    }

    /// The objective as a ratio (0.999 for `"99.9%"`), or why it is not one.
    pub fn objective_ratio(&self) -> Result<f64, String> {
        parse_percentage(&self.objective.value)
    }

    /// The fastest burn rate's error ratio threshold: above 1, the page alert could never fire.
    pub fn fastest_threshold(&self, objective: f64) -> f64 {
        let window = self.window_ms();
        PAGE.iter().chain(&TICKET).map(|w| w.factor(window)).fold(0.0, f64::max) * (1.0 - objective)
    }
}

/// `"99.9%"` → 0.999: digits with at most one decimal point, then `%`, strictly between 0 and 100.
pub fn parse_percentage(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix('%').ok_or("a percentage ends with `%`")?.trim();
    let well_formed = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.matches('.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    let value: f64 = number.parse().ok().filter(|_| well_formed).ok_or("a percentage is a number such as `99.9%`")?;
    if value <= 0.0 || value >= 100.0 {
        return Err("an objective is above 0% and below 100% (100% leaves no error budget)".into());
    }
    Ok(value / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_between_zero_and_a_hundred() {
        let near = |text: &str, ratio: f64| parse_percentage(text).is_ok_and(|r| (r - ratio).abs() < 1e-12);
        assert!(near("99.9%", 0.999) && near("95%", 0.95) && near("99.95%", 0.9995));
        assert!(parse_percentage("100%").is_err() && parse_percentage("0%").is_err());
        assert!(parse_percentage("99.9").is_err() && parse_percentage("9.9.9%").is_err());
        assert!(parse_percentage(".5%").is_err() && parse_percentage("-1%").is_err());
    }

    #[test]
    fn a_bucket_bound_matches_as_client_libraries_and_prometheus_3_write_it() {
        assert_eq!(le_matcher(100), "le=\"0.1\"");
        assert_eq!(le_matcher(250), "le=\"0.25\"");
        assert_eq!(le_matcher(2000), "le=~\"2|2\\\\.0\"");
    }

    #[test]
    fn burn_rates_over_thirty_days_are_the_workbooks() {
        let window = DEFAULT_WINDOW_MS;
        let factors: Vec<f64> = PAGE.iter().chain(&TICKET).map(|w| (w.factor(window) * 10.0).round() / 10.0).collect();
        assert_eq!(factors, [14.4, 6.0, 3.0, 1.0]);
    }
}
