//! Writes each area's rule file and its promtool unit-test file, serialised from typed structs by
//! `spec-yaml` (never templated text), and reports alerts no test can be derived for (W1501).

use std::collections::BTreeMap;

use indexmap::{IndexMap, IndexSet};
use serde::Serialize;
use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::format_duration;
use spec_compiler::parallel;
use spec_compiler::promql::ShapeCache;
use spec_compiler::source::Span;
use spec_compiler::target::{Context, OutputFile};

use crate::derive::{self, STEP, Scrape, Series};
use crate::rules::{Area, Planned, Rule, Universes};
use crate::scrape::Universe;
use crate::template::{self, Data};

/// A rule file.
#[derive(Serialize)]
pub struct RuleFile<'a> {
    /// Its groups (one per file here).
    pub groups: [GroupOf<'a>; 1],
}

/// An area's rule group, borrowing the planned rules: serialises exactly as a
/// [`RuleGroup`](crate::RuleGroup) (same fields, same order) without cloning every rule.
#[derive(Serialize)]
pub struct GroupOf<'a> {
    /// The group's name.
    pub name: &'a str,
    /// Its alerting rules.
    pub rules: Vec<&'a Rule>,
}

/// A promtool unit-test file.
#[derive(Serialize)]
pub struct TestFile {
    /// The rule files under test, relative to the test file.
    pub rule_files: Vec<String>,
    /// How often rules are evaluated.
    pub evaluation_interval: String,
    /// The test groups.
    pub tests: Vec<TestGroup>,
}

/// One scenario: input series and the alerts expected at a time.
#[derive(Serialize)]
pub struct TestGroup {
    /// What the scenario shows.
    pub name: String,
    /// The time between input samples.
    pub interval: String,
    /// The series.
    pub input_series: Vec<InputSeries>,
    /// The expectations.
    pub alert_rule_test: Vec<AlertTest>,
}

/// One input series.
#[derive(Serialize)]
pub struct InputSeries {
    /// `metric{label="value"}`.
    pub series: String,
    /// Expanding notation.
    pub values: String,
}

/// The alerts expected for one alert name at one time.
#[derive(Serialize)]
pub struct AlertTest {
    /// When.
    pub eval_time: String,
    /// Which alert.
    pub alertname: String,
    /// The firing alerts; empty asserts that none fires.
    pub exp_alerts: Vec<ExpectedAlert>,
}

/// One firing alert.
#[derive(Clone, Serialize)]
pub struct ExpectedAlert {
    /// Its labels, without `alertname`.
    pub exp_labels: BTreeMap<String, String>,
    /// Its expanded annotations.
    pub exp_annotations: IndexMap<String, String>,
}

/// Serialises a value as YAML after a header comment, every string double-quoted (`spec-yaml`).
pub fn yaml<T: Serialize>(header: &str, value: &T) -> String {
    // The body is written after the header in one buffer: the estate's files run to megabytes.
    let mut out = header.to_string();
    // Serialising plain structs of strings, vectors and maps cannot fail; if it did, the file
    // would hold the header alone.
    if spec_yaml::append(&mut out, value).is_err() {
        out.truncate(header.len());
    }
    out
}

/// Alerts derived per thread at least: a derivation is a few microseconds, a thread far more.
const MIN_ALERTS_PER_THREAD: usize = 1_000;

/// Why an alert has no test: W1502 when a selector names a target its Prometheus does not scrape
/// (the alert can never fire), W1501 when the derivation does not know its shape.
pub(crate) struct Problem {
    pub code: Code,
    pub reason: String,
    pub span: Span,
}

/// An alert's derived test and what it carries when it fires.
pub(crate) struct Tested {
    derived: derive::Derived,
    labels: BTreeMap<String, String>,
    annotations: IndexMap<String, String>,
}

/// What derivation made of one alert: its test, or why it has none.
pub(crate) type Derivation = Result<Tested, Problem>;

/// Every alert's derivation, in estate order (area by area), over the machine's cores: one area
/// (the estate's own alerts) often holds most of them, so the split is by alert, not by area.
/// Each thread keeps its own [`ShapeCache`]; which thread parses a shape first does not change
/// the tree it gets, so the result is the same on any number of cores.
pub(crate) fn derive_all<R: Send>(
    areas: &[Area<'_>],
    universes: &Universes<'_>,
    each: fn(&Planned, Scrape<'_>, &mut ShapeCache) -> R,
) -> Vec<R> {
    let empty = Universe::default();
    let alerts: Vec<(&Planned, &Universe)> = areas
        .iter()
        .flat_map(|area| {
            let universe = universes.get(&area.evaluator).unwrap_or(&empty);
            area.alerts.iter().map(move |alert| (alert, universe))
        })
        .collect();
    parallel::map_chunks(alerts, MIN_ALERTS_PER_THREAD, |chunk| {
        let mut shapes = ShapeCache::default();
        chunk
            .into_iter()
            .map(|(alert, universe)| each(alert, Scrape { universe, owner: &alert.owner }, &mut shapes))
            .collect::<Vec<R>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The rule file and test file of one area, from its alerts' derivations (in its alerts' order).
/// The file evaluates its rules at the longest step any of its tests samples at (steps are
/// powers of two of a minute, so every evaluation falls on every test's samples).
pub(crate) fn area_files(
    context: &Context<'_>,
    area: &Area<'_>,
    derivations: Vec<Derivation>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<OutputFile> {
    let header = context.header("#");
    // Recording rules first: a group evaluates in order, so the alerts read this evaluation's ratios.
    let mut rules: Vec<&Rule> = area.slos.iter().flat_map(|s| &s.records).collect();
    rules.extend(area.alerts.iter().map(|a| &a.rule));
    rules.extend(area.slos.iter().flat_map(|s| &s.alerts));
    let group = GroupOf { name: &area.name, rules };
    // A set, not a list scan: the estate's area holds an alert per service.
    let origins = area.alerts.iter().map(|alert| alert.origin).chain(area.slos.iter().map(|s| s.origin));
    let sources: Vec<String> =
        origins.map(|origin| context.provenance(origin)).collect::<IndexSet<_>>().into_iter().collect();
    let rules_path = format!("{}.rules.yml", area.name);
    let mut files = vec![OutputFile {
        path: format!("prometheus/{rules_path}"),
        contents: yaml(&header, &RuleFile { groups: [group] }),
        sources: sources.clone(),
    }];
    let every = derivations.iter().flatten().map(|t| t.derived.step_seconds).fold(STEP, u64::max);
    let mut tests = Vec::new();
    for (alert, derivation) in area.alerts.iter().zip(derivations) {
        match derivation {
            Ok(tested) => tests.append(&mut scenarios(alert, tested, every)),
            Err(problem) => diagnostics.extend(untested(alert, problem)),
        }
    }
    for slo in &area.slos {
        tests.extend(slo.tests(every));
    }
    if !tests.is_empty() {
        let file = TestFile { rule_files: vec![rules_path], evaluation_interval: duration(every), tests };
        files.push(OutputFile {
            path: format!("prometheus/{}.test.yml", area.name),
            contents: yaml(&header, &file),
            sources,
        });
    }
    files
}

/// The warning for an alert no test can be derived for, with the reason and where it lies; none
/// when the alert names a job no service has, which the graph rules report (W0604), so one
/// mistake gives one warning.
pub(crate) fn untested(alert: &Planned, problem: Problem) -> Option<Diagnostic> {
    let Problem { code, reason, span } = problem;
    if code == Code::W1502 && alert.names_unknown_job {
        return None;
    }
    Some(if code == Code::W1502 {
        Diagnostic::new(
            code,
            span,
            format!("alert `{}` selects what its Prometheus never scrapes: {reason}", alert.rule.alert),
        )
        .with_primary_label("no scraped series carries these labels (`absent` of it always fires)")
        .with_help(
            "select `job=\"<service>\"` for a service's metrics, `instance=\"<node>:9100\"` for a node's exporter: \
                 the labels the estate's scrape configuration gives them (see `spec explain W1502`)",
        )
    } else {
        Diagnostic::new(code, span, format!("alert `{}` gets no promtool test: {reason}", alert.rule.alert))
            .with_primary_label("no test can be derived from this")
            .with_help(
                "the rule is still generated; write the condition in a shape the test generator knows \
                 (see `spec explain W1501`), or test it by hand",
            )
    })
}

fn duration(seconds: u64) -> String {
    format_duration(seconds * 1000)
}

fn input(series: Vec<Series>) -> Vec<InputSeries> {
    series.into_iter().map(|s| InputSeries { series: s.series, values: s.values }).collect()
}

/// The labels and annotations the firing alert carries, as Prometheus expands its templates.
type Carried = (BTreeMap<String, String>, IndexMap<String, String>);

/// Why no test can be derived for `alert`, if none can: what [`alert_tests`] would refuse, without
/// writing out the series or the scenarios (`spec check` needs only the warning). A generated
/// alert always gets its test ([`Planned::generated`]): `spec check` does not even plan them.
pub(crate) fn test_problem(alert: &Planned, scrape: Scrape<'_>, shapes: &mut ShapeCache) -> Option<Problem> {
    if alert.generated {
        return None;
    }
    if let Some(reason) = derive::unscraped(&alert.rule.expr, scrape.universe, shapes) {
        return Some(Problem { code: Code::W1502, reason, span: alert.expr_span });
    }
    let sample = derive::firing_sample(&alert.rule.expr, scrape, shapes);
    let sample = match sample {
        Ok(sample) => sample,
        Err(reason) => return Some(Problem { code: Code::W1501, reason, span: alert.expr_span }),
    };
    carried(alert, &sample).err()
}

/// An alert's test: the series that fire it with its labels and annotations, and keep it quiet.
pub(crate) fn alert_tests(alert: &Planned, scrape: Scrape<'_>, shapes: &mut ShapeCache) -> Derivation {
    let rule = &alert.rule;
    if let Some(reason) = derive::unscraped(&rule.expr, scrape.universe, shapes) {
        return Err(Problem { code: Code::W1502, reason, span: alert.expr_span });
    }
    let derived = derive::derive(&rule.expr, alert.pending_ms.div_ceil(1000), scrape, shapes)
        .map_err(|reason| Problem { code: Code::W1501, reason, span: alert.expr_span })?;
    let (labels, annotations) = carried(alert, &derived.sample)?;
    Ok(Tested { derived, labels, annotations })
}

/// The two scenarios of one alert, for a file evaluating its rules every `every` seconds: it
/// fires with its labels and annotations, and it stays quiet.
pub(crate) fn scenarios(alert: &Planned, tested: Tested, every: u64) -> Vec<TestGroup> {
    let rule = &alert.rule;
    let Tested { derived, labels, annotations } = tested;
    let eval_seconds = derived.eval_seconds(every);
    let eval_time = duration(eval_seconds);
    let test = |name: String, series: Vec<Series>, expected: Vec<ExpectedAlert>| TestGroup {
        name,
        interval: duration(derived.step_seconds),
        input_series: input(series),
        alert_rule_test: vec![AlertTest {
            eval_time: eval_time.clone(),
            alertname: rule.alert.clone(),
            exp_alerts: expected,
        }],
    };
    vec![
        test(
            format!("{} fires", rule.alert),
            derived.firing(eval_seconds),
            vec![ExpectedAlert { exp_labels: labels, exp_annotations: annotations }],
        ),
        test(format!("{} stays quiet", rule.alert), derived.quiet(eval_seconds), Vec::new()),
    ]
}

/// The alert's labels and annotations when it fires with `sample`; an error when a template does
/// not expand.
fn carried(alert: &Planned, sample: &derive::Sample) -> Result<Carried, Problem> {
    let rule = &alert.rule;
    let data = Data { labels: &sample.labels, value: sample.value };
    let problem = |reason: String, span: Span| Problem { code: Code::W1501, reason, span };
    let mut annotations = IndexMap::new();
    for (key, text) in &rule.annotations {
        let expanded = template::expand(text, &data).map_err(|e| {
            let span = alert.template_spans.iter().find(|(k, _)| k == key).map_or(alert.expr_span, |(_, s)| *s);
            problem(format!("its {key}: {}", e.0), span)
        })?;
        annotations.insert(key.clone(), expanded);
    }
    let mut labels: BTreeMap<String, String> =
        sample.labels.iter().filter(|(k, _)| *k != "__name__").map(|(k, v)| (k.clone(), v.clone())).collect();
    for (key, text) in &rule.labels {
        let value =
            template::expand(text, &data).map_err(|e| problem(format!("its label {key}: {}", e.0), alert.expr_span))?;
        // Prometheus drops a label whose value expands to nothing.
        if value.is_empty() {
            labels.remove(key);
        } else {
            labels.insert(key.clone(), value);
        }
    }
    Ok((labels, annotations))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use spec_compiler::target::Index;

    use super::*;
    use crate::rules;

    /// Splitting the alerts over threads, each with its own shape cache, derives exactly what one
    /// pass with one cache derives, in the same order.
    #[test]
    fn derivations_split_over_threads_equal_one_pass() {
        let (_, compilation) = spec_testkit::compile("main.spec", spec_testkit::generate_estate(2_000));
        let index = Index::new(&compilation.model);
        let (areas, universes, _) = rules::plan(&index, rules::GeneratedAlerts::Written);
        let alerts: Vec<(&Planned, &Universe)> = areas
            .iter()
            .flat_map(|area| area.alerts.iter().map(|alert| (alert, &universes[&area.evaluator])))
            .collect();
        let show =
            |(alert, tested): (&Planned, Tested)| spec_yaml::to_string(&scenarios(alert, tested, STEP)).expect("yaml");
        let split: Vec<_> = alerts
            .iter()
            .zip(derive_all(&areas, &universes, alert_tests))
            .map(|((alert, _), d)| d.map(|t| show((alert, t))).map_err(|p| p.reason))
            .collect();
        let mut shapes = ShapeCache::default();
        let one_pass: Vec<_> = alerts
            .iter()
            .map(|(alert, universe)| {
                alert_tests(alert, Scrape { universe, owner: &alert.owner }, &mut shapes)
                    .map(|t| show((alert, t)))
                    .map_err(|p| p.reason)
            })
            .collect();
        assert!(one_pass.len() > 2 * MIN_ALERTS_PER_THREAD, "enough alerts for two threads: {}", one_pass.len());
        assert_eq!(split, one_pass);
    }

    fn spec_files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                spec_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "spec") {
                found.push(path);
            }
        }
    }

    /// What `spec check` assumes ([`Planned::generated`]): every alert the back end writes gets
    /// its test, in every example, every case and a generated estate.
    #[test]
    fn generated_alerts_always_get_their_test() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        for dir in ["examples", "specs"] {
            spec_files(&root.join(dir), &mut files);
        }
        let mut texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).expect("read")).collect();
        texts.push(spec_testkit::generate_estate(300));
        let mut generated = std::collections::BTreeMap::<&str, usize>::new();
        for text in texts {
            let (_, compilation) = spec_testkit::compile_any("main.spec", text);
            if compilation.errors() > 0 {
                continue;
            }
            let index = Index::new(&compilation.model);
            let (areas, universes, _) = rules::plan(&index, rules::GeneratedAlerts::Written);
            let mut shapes = ShapeCache::default();
            for area in &areas {
                let universe = &universes[&area.evaluator];
                for alert in area.alerts.iter().filter(|alert| alert.generated) {
                    let derived = alert_tests(alert, Scrape { universe, owner: &alert.owner }, &mut shapes);
                    assert!(derived.is_ok(), "{}: {:?}", alert.rule.alert, derived.err().map(|p| p.reason));
                    let kind = ["TargetDown", "BackupStale", "WorkflowOverdue"]
                        .into_iter()
                        .find(|kind| alert.rule.alert.trim_end_matches(char::is_numeric).ends_with(kind));
                    *generated.entry(kind.unwrap_or("other")).or_default() += 1;
                }
            }
        }
        assert!(
            ["TargetDown", "BackupStale", "WorkflowOverdue"].iter().all(|kind| generated.get(kind) > Some(&10)),
            "the corpus has many generated alerts of every kind: {generated:?}"
        );
    }
}
