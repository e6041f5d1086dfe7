//! Service level objectives as recording rules, multi-window multi-burn-rate alerts and their
//! promtool tests (the Google SRE workbook's method, chapter 5; see `model::slo`).
//!
//! Per objective, in the area of the Prometheus that scrapes its indicator (a service's area for
//! `service`; otherwise the first Prometheus scraping both selectors, the hosts' first):
//!
//! - recording rules `slo:error_ratio:rate<w>{slo="<name>"}` for every window the alerts read
//!   (5m, 30m, 1h, 2h, 6h, 1d, 3d): `1 - sum(rate(good[w])) / sum(rate(total[w]))`, or for a
//!   service `1 - avg(avg_over_time(up{job="<service>"}[w]))`; a latency objective's good events
//!   are its histogram's bucket `<name>_bucket{…, le="<below>"}` and all events `<name>_count{…}`;
//! - `<Slo>ErrorBudgetBurn`, critical (page): over 1h and 5m above 14.4× the budget, or over 6h
//!   and 30m above 6× (factors for a 30-day window, scaled to the objective's);
//! - `<Slo>ErrorBudgetDrain`, warning (ticket): over 1d and 2h above 3×, or over 3d and 6h above 1×.
//!
//! Each alert's test feeds the indicator's own series, with the `job` and `instance` the scrape
//! configuration gives them (`derive::example_labels`), at a constant error ratio: twice the
//! alert's highest threshold (it fires with its labels and annotations) and half its lowest (it
//! stays quiet). Good and total events are two series when the selectors allow it: one every
//! selector matches (good events) and one only `total` matches (bad events), found by breaking
//! one matcher of `good`; else `good` and `total` are series of their own (different metrics).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, VectorSelector};
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::slo::{BurnWindow, PAGE, TICKET, le_matcher};
use spec_compiler::model::types::format_duration;
use spec_compiler::model::{Kind, Resource, Severity, Slo};
use spec_compiler::promql::ShapeCache;
use spec_compiler::source::Span;
use spec_compiler::target::Index;

use crate::derive::{self, Labels, Scrape};
use crate::escape::{promql_string, template_text};
use crate::output::{AlertTest, ExpectedAlert, InputSeries, TestGroup};
use crate::rules::{Rule, Universes, camel, severity};
use crate::scrape::{self, Evaluator, Universe};

/// An objective's rules and the scenarios of its alerts' tests.
pub(crate) struct SloRules {
    /// The recording rules, shortest window first.
    pub records: Vec<Rule>,
    /// The page and ticket alerts.
    pub alerts: Vec<Rule>,
    /// Two scenarios per alert (none when the indicator's series cannot be derived: W1502).
    scenarios: Vec<Scenario>,
    /// The `slo` block, for provenance.
    pub origin: Span,
}

/// One scenario: the series at a constant error ratio, evaluated once the alert's windows hold.
struct Scenario {
    name: String,
    alert: String,
    /// The earliest evaluation, in seconds (rounded up to the file's step).
    at_least: u64,
    /// Each series with its growth per minute (counters) or its constant value (`up`).
    series: Vec<(String, Growth)>,
    expected: Option<ExpectedAlert>,
}

#[derive(Clone, Copy)]
enum Growth {
    Counter(f64),
    Constant(f64),
}

/// The error ratio of a scenario's series over every window.
struct Indicator {
    kind: IndicatorKind,
}

enum IndicatorKind {
    /// `up` of a service's target.
    Up(Labels),
    /// A good series every selector matches, a bad one only `total` does.
    Nested { good: Labels, bad: Labels },
    /// Good and total events as separate series.
    Separate { good: Labels, total: Labels },
}

impl Indicator {
    fn series(&self, error_ratio: f64) -> Vec<(String, Growth)> {
        const EVENTS: f64 = 1000.0;
        let name = derive::series_name;
        match &self.kind {
            IndicatorKind::Up(labels) => vec![(name(labels), Growth::Constant(1.0 - error_ratio))],
            IndicatorKind::Nested { good, bad } => vec![
                (name(good), Growth::Counter(EVENTS * (1.0 - error_ratio))),
                (name(bad), Growth::Counter(EVENTS * error_ratio)),
            ],
            IndicatorKind::Separate { good, total } => vec![
                (name(good), Growth::Counter(EVENTS * (1.0 - error_ratio))),
                (name(total), Growth::Counter(EVENTS)),
            ],
        }
    }
}

impl SloRules {
    /// The test scenarios for a file evaluating its rules every `every` seconds.
    pub fn tests(&self, every: u64) -> Vec<TestGroup> {
        self.scenarios
            .iter()
            .map(|scenario| {
                let eval = scenario.at_least.div_ceil(every) * every;
                let samples = eval / 60;
                TestGroup {
                    name: scenario.name.clone(),
                    interval: "1m".into(),
                    input_series: scenario
                        .series
                        .iter()
                        .map(|(series, growth)| InputSeries {
                            series: series.clone(),
                            values: match growth {
                                Growth::Counter(step) => format!("0+{}x{samples}", number(*step)),
                                Growth::Constant(value) => format!("{}x{samples}", number(*value)),
                            },
                        })
                        .collect(),
                    alert_rule_test: vec![AlertTest {
                        eval_time: format_duration(eval * 1000),
                        alertname: scenario.alert.clone(),
                        exp_alerts: scenario.expected.iter().cloned().collect(),
                    }],
                }
            })
            .collect()
    }
}

/// A number as PromQL and promtool read it, without float noise (`0.0144`, not `0.014400000000000001`).
fn number(value: f64) -> String {
    let text = format!("{value:.10}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" { "0".into() } else { text.into() }
}

/// How an objective's error ratio over a window is computed.
enum Ratio {
    /// From a service's scrapes: `job` is the PromQL string of its job.
    Up { job: String },
    /// From counters of good and of all events (PromQL selectors).
    Events { good: String, total: String },
}

impl Ratio {
    fn over(&self, window: &str) -> String {
        match self {
            Ratio::Up { job } => format!("1 - avg(avg_over_time(up{{job={job}}}[{window}]))"),
            Ratio::Events { good, total } => {
                format!("1 - (sum(rate({good}[{window}])) / sum(rate({total}[{window}])))")
            }
        }
    }
}

/// The recorded series of one window.
fn record_name(window: u64) -> String {
    format!("slo:error_ratio:rate{}", format_duration(window))
}

/// Plans one objective: its area, rules and scenarios, and what keeps it from being tested. `None`
/// when the graph rules refuse it (they run beside the back ends; errors stop the build).
pub(crate) fn plan<'m>(
    index: &Index<'m>,
    slo: &'m Resource<Slo>,
    universes: &Universes<'m>,
    shapes: &mut ShapeCache,
    unique: &mut dyn FnMut(String) -> String,
) -> Option<(String, SloRules, Vec<Diagnostic>)> {
    let spec = &slo.spec;
    let objective = spec.objective_ratio().ok()?;
    let budget = 1.0 - objective;
    let window = spec.window_ms();
    let mut labels = IndexMap::from([("slo".to_string(), template_text(&slo.name))]);
    let mut diagnostics = Vec::new();
    // The error ratio over a window, the area evaluating it, and the indicator's test series.
    let counted = latency_events(spec, shapes)
        .or_else(|| spec.good.as_ref().zip(spec.total.as_ref()).map(|(g, t)| (g.value.clone(), t.value.clone())));
    let (ratio, area, indicator): (Ratio, String, Result<Indicator, String>) = match (&spec.service, counted) {
        (Some(service), _) => {
            let service = index.service(&service.name)?;
            labels.insert("service".into(), template_text(&service.name));
            let on = &service.spec.on;
            let evaluator =
                if on.kind == Kind::Cluster.as_str() { Evaluator::Cluster(&on.name) } else { Evaluator::Hosts };
            let job = promql_string(&service.name);
            let target = universes.get(&evaluator).and_then(|u| u.job(&service.name).next());
            let indicator = target
                .map(|t| Indicator {
                    kind: IndicatorKind::Up(Labels::from([
                        ("__name__".to_string(), "up".to_string()),
                        ("job".to_string(), t.job.clone()),
                        ("instance".to_string(), t.example_instance()),
                    ])),
                })
                .ok_or_else(|| format!("no Prometheus scrapes service `{}`", service.name));
            (Ratio::Up { job }, format!("{}-{}", on.kind, on.name), indicator)
        }
        (None, Some((good, total))) => {
            let Ok(Expr::VectorSelector(good_vs)) = shapes.parse_restored(&good) else { return None };
            let Ok(Expr::VectorSelector(total_vs)) = shapes.parse_restored(&total) else { return None };
            let scraped = |universe: &Universe, shapes: &mut ShapeCache| {
                scrape::unscraped(&good, universe, shapes).is_none()
                    && scrape::unscraped(&total, universe, shapes).is_none()
            };
            let found = universes.iter().find(|(_, universe)| scraped(universe, shapes));
            let (area, indicator) = match found {
                Some((evaluator, universe)) => (
                    match evaluator {
                        Evaluator::Hosts => "estate".to_string(),
                        Evaluator::Cluster(name) => format!("cluster-{name}"),
                    },
                    events(&good_vs, &total_vs, Scrape { universe, owner: &[] }),
                ),
                None => ("estate".to_string(), Err("no Prometheus scrapes both selectors".to_string())),
            };
            (Ratio::Events { good, total }, area, indicator)
        }
        _ => return None,
    };
    if PAGE.iter().chain(&TICKET).any(|w| w.factor(window) * budget >= 1.0) {
        return None;
    }
    let mut windows: Vec<u64> = PAGE.iter().chain(&TICKET).flat_map(|w| [w.short, w.long]).collect();
    windows.sort_unstable();
    windows.dedup();
    let records = windows
        .iter()
        .map(|w| Rule {
            record: Some(record_name(*w)),
            alert: String::new(),
            expr: ratio.over(&format_duration(*w)),
            pending_for: None,
            labels: labels.clone(),
            annotations: IndexMap::new(),
        })
        .collect();
    let selector = |w: u64| format!("{}{{slo={}}}", record_name(w), promql_string(&slo.name));
    let objective_text = &spec.objective.value;
    let mut alerts = Vec::new();
    let mut scenarios = Vec::new();
    for (suffix, level, pair, pace) in [
        ("ErrorBudgetBurn", Severity::Critical, &PAGE, "fast"),
        ("ErrorBudgetDrain", Severity::Warning, &TICKET, "steadily"),
    ] {
        let name = unique(format!("{}{suffix}", camel(&slo.name)));
        let threshold = |w: &BurnWindow| w.factor(window) * budget;
        let expr = pair
            .iter()
            .map(|w| {
                let t = number(threshold(w));
                format!("({} > {t} and {} > {t})", selector(w.long), selector(w.short))
            })
            .collect::<Vec<_>>()
            .join(" or ");
        let windows_text = pair
            .iter()
            .map(|w| {
                format!(
                    "{}× over {} and {}",
                    number(w.factor(window)),
                    format_duration(w.long),
                    format_duration(w.short)
                )
            })
            .collect::<Vec<_>>()
            .join(", or ");
        let texts = [
            format!("SLO {} burns its error budget {pace}", slo.name),
            format!(
                "The error ratio of SLO {} (objective {objective_text} over {}) is above {windows_text} the budget's rate.",
                slo.name,
                format_duration(window)
            ),
            format!(
                "Query `{}` and the other `slo:error_ratio:*{{slo=\"{}\"}}` series to see since when; find what fails \
                 the indicator before the budget is spent.",
                record_name(pair[0].long),
                slo.name
            ),
        ];
        let [summary, description, runbook] = texts.map(|t| template_text(&t));
        let mut rule_labels = IndexMap::from([("severity".to_string(), severity(level).to_string())]);
        rule_labels.extend(labels.clone());
        let annotations = IndexMap::from([
            ("summary".to_string(), summary),
            ("description".to_string(), description),
            ("runbook".to_string(), runbook),
        ]);
        if let Ok(indicator) = &indicator {
            let highest: f64 = pair.iter().map(threshold).fold(0.0, f64::max);
            let lowest = pair.iter().map(threshold).fold(f64::MAX, f64::min);
            // Every short window is covered by the evaluation; constant ratios fill the long ones.
            let at_least = pair.iter().map(|w| w.long.min(6 * 3_600_000) / 1000).max().unwrap_or(3600);
            // The expected labels and annotations: the rule's (no template in them).
            let exp_labels: BTreeMap<String, String> = rule_labels.clone().into_iter().collect();
            let data = crate::template::Data { labels: &exp_labels, value: None };
            let exp_annotations = annotations
                .iter()
                .map(|(k, v)| (k.clone(), crate::template::expand(v, &data).unwrap_or_else(|_| v.clone())))
                .collect();
            scenarios.push(Scenario {
                name: format!("{name} fires"),
                alert: name.clone(),
                at_least,
                series: indicator.series((2.0 * highest).min(1.0)),
                expected: Some(ExpectedAlert { exp_labels, exp_annotations }),
            });
            scenarios.push(Scenario {
                name: format!("{name} stays quiet"),
                alert: name.clone(),
                at_least,
                series: indicator.series(lowest / 2.0),
                expected: None,
            });
        }
        alerts.push(Rule { record: None, alert: name, expr, pending_for: None, labels: rule_labels, annotations });
    }
    if let Err(reason) = indicator {
        let span = spec.good.as_ref().or(spec.latency.as_ref()).or(spec.service.as_ref().map(|_| &spec.objective));
        let span = span.map_or(slo.name_span, |s| s.span);
        diagnostics.push(
            Diagnostic::new(Code::W1502, span, format!("slo `{}` gets no promtool test: {reason}", slo.name))
                .with_primary_label("its series are not scraped by any Prometheus of the estate")
                .with_help("select `job=\"<service>\"` of a service with `metrics`, the labels its scrape job gives"),
        );
    }
    Some((area, SloRules { records, alerts, scenarios, origin: slo.span }, diagnostics))
}

/// A latency objective's good and total events: the histogram's bucket at `below` (in seconds)
/// and its `_count`, with the selector's own matchers.
fn latency_events(spec: &Slo, shapes: &mut ShapeCache) -> Option<(String, String)> {
    let (latency, below) = spec.latency.as_ref().zip(spec.below.as_ref())?;
    let Ok(Expr::VectorSelector(vs)) = shapes.parse_restored(&latency.value) else { return None };
    let name = vs.name.as_deref()?;
    let matchers: Vec<String> = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name != "__name__")
        .map(|m| format!("{}{}{}", m.name, m.op, promql_string(&m.value)))
        .collect();
    let with = |extra: Option<String>| matchers.iter().cloned().chain(extra).collect::<Vec<_>>().join(", ");
    Some((
        format!("{name}_bucket{{{}}}", with(Some(le_matcher(below.value.0)))),
        format!("{name}_count{{{}}}", with(None)),
    ))
}

/// The test series of an events indicator: a good series (matching both selectors) and a bad one
/// (only `total`), or two series of their own when `total` does not count the good one.
fn events(good: &VectorSelector, total: &VectorSelector, scrape: Scrape<'_>) -> Result<Indicator, String> {
    let good_labels = derive::example_labels(good, scrape)?;
    if derive::matches(total, &good_labels) {
        for matcher in &good.matchers.matchers {
            let breaking: Vec<String> = match &matcher.op {
                MatchOp::Equal | MatchOp::Re(_) => vec![String::new(), "x".into(), "5xx".into(), "false".into()],
                MatchOp::NotEqual => vec![matcher.value.clone()],
                MatchOp::NotRe(_) => {
                    let example = regex_example(&matcher.value);
                    example.into_iter().chain([matcher.value.clone()]).collect()
                }
            };
            for value in breaking {
                let mut bad = good_labels.clone();
                if value.is_empty() {
                    bad.remove(&matcher.name);
                } else {
                    bad.insert(matcher.name.clone(), value);
                }
                if derive::matches(total, &bad) && !derive::matches(good, &bad) {
                    return Ok(Indicator { kind: IndicatorKind::Nested { good: good_labels, bad } });
                }
            }
        }
        return Err("no series is counted by `total` and not by `good`, so the error ratio is always 0".into());
    }
    let total_labels = derive::example_labels(total, scrape)?;
    if derive::matches(good, &total_labels) {
        return Err("the series `total` counts are all good events too".into());
    }
    Ok(Indicator { kind: IndicatorKind::Separate { good: good_labels, total: total_labels } })
}

/// A string the regex matches, for breaking a `!~` matcher.
fn regex_example(pattern: &str) -> Option<String> {
    derive::regex_example(pattern)
}
