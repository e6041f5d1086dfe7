//! Derives a promtool unit test for an alert from its PromQL: input series under which the
//! expression yields exactly one sample (the alert fires, with known labels and value) and input
//! series under which it yields none (the alert stays quiet).
//!
//! The expression is parsed with `promql-parser` and walked top-down with what each node must
//! produce ([`Want`]): nothing, one sample with any value, or one sample of an exact value (or of
//! the value `time() - c`). Each vector selector becomes at most one series, labelled from its
//! matchers (an example string for a regex), plus `instance` and `job` when no matcher names them,
//! as a scraped series has. The shapes handled: a selector compared with a scalar (either side);
//! `rate`, `irate`, `increase` and `avg/min/max/last_over_time` of a range selector; `absent` and
//! `absent_over_time`; `time() - v` and `v - time()`; `v * n`, `v / n`, `v + n`, `v - n`; `sum`, `min`, `max`,
//! `avg`, `count` with or without `by`/`without`; and `and`, `or`, `unless` of those;
//! `histogram_quantile` of buckets that keep `le` ([`histogram`]: an empty bucket at the wanted
//! bound below a full `+Inf` one); arithmetic and comparisons between two vectors with
//! `on`/`ignoring`/`group_*` matching ([`vectors`]: a ratio of errors over all requests of one
//! counter leaves the rest to the good series). Anything else (`%`, `^`, `offset`, `@`, the
//! `bool` modifier, other functions) is an [`Err`] with the reason, which the target reports as
//! W1501.
//!
//! Invariants: series never contradict each other (two needs of one series must agree), and
//! every selector visited matches exactly the series the derivation assumed (checked at the end,
//! since a bare `up` also matches `up{job="a"}`; a selector visited twice, as a histogram's
//! buckets are, matches the union of what each visit assumed).

mod histogram;
mod labels;
mod vectors;

use std::collections::BTreeMap;

use indexmap::IndexMap;
use promql_parser::label::MatchOp;
use promql_parser::parser::token::{
    T_ADD, T_AVG, T_COUNT, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MAX, T_MIN, T_MUL,
    T_NEQ, T_SUB, T_SUM, TokenId,
};
use promql_parser::parser::{BinaryExpr, Expr, LabelModifier, VectorSelector};
use spec_compiler::model::types::format_duration;
use spec_compiler::promql::ShapeCache;

use crate::escape::promql_string;
pub use crate::scrape::Scrape;
pub use crate::scrape::unscraped;
#[cfg(test)]
use crate::scrape::{TargetLabels, Universe};
use labels::labels_in;
pub(crate) use labels::{example_labels, regex_example};

/// Labels of a series or sample, `__name__` included when it has one.
pub type Labels = BTreeMap<String, String>;

/// The shortest step between input samples, and between rule evaluations in a test file.
pub const STEP: u64 = 60;

const NAME: &str = "__name__";

/// A histogram bucket's upper bound.
const LE: &str = "le";

/// The value series hold over time.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Values {
    /// Present, any value (written as 1).
    Any,
    /// One value throughout.
    Constant(f64),
    /// `start + step × i` at the i-th sample.
    Slope { start: f64, step: f64 },
    /// No such series.
    Absent,
}

/// A value an expression must take at every evaluation.
#[derive(Clone, Copy, Debug)]
enum Level {
    /// This value.
    Const(f64),
    /// `t - c` at time `t` (a timestamp `c` seconds old).
    Ago(f64),
}

/// What an expression must produce.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// No sample.
    Empty,
    /// One sample, any value.
    Any,
    /// One sample of this value.
    Exactly(Level),
}

/// The sample an expression produces: its labels and, when known exactly, its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The labels, `__name__` included when the expression keeps it.
    pub labels: Labels,
    /// The value, `None` when only approximately known (a `rate`).
    pub value: Option<f64>,
}

/// The series a derivation needs, and each selector with the series it assumed it matches.
#[derive(Default)]
struct Plan<'e> {
    series: BTreeMap<Labels, Values>,
    leaves: Vec<(&'e VectorSelector, Option<Labels>)>,
}

impl<'e> Plan<'e> {
    fn need(&mut self, labels: Labels, values: Values) -> Result<(), String> {
        use std::collections::btree_map::Entry;
        match self.series.entry(labels) {
            Entry::Vacant(slot) => {
                slot.insert(values);
            }
            Entry::Occupied(mut slot) => {
                let merged = match (*slot.get(), values) {
                    (Values::Any, other) | (other, Values::Any) if other != Values::Absent => other,
                    (a, b) if a == b => a,
                    _ => {
                        return Err(format!(
                            "two parts of the expression need different values of {}",
                            series_name(slot.key())
                        ));
                    }
                };
                slot.insert(merged);
            }
        }
        Ok(())
    }

    fn merge(mut self, other: Plan<'e>) -> Result<Plan<'e>, String> {
        for (labels, values) in other.series {
            self.need(labels, values)?;
        }
        self.leaves.extend(other.leaves);
        Ok(self)
    }
}

type Derivation<'e> = Result<(Plan<'e>, Option<Sample>), String>;

/// One input series in promtool notation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// `metric{label="value", …}`.
    pub series: String,
    /// Expanding notation: `1x30`, `-900+60x30`.
    pub values: String,
}

/// A derived test: when the alert fires, what makes it fire (and the sample it fires with), what
/// keeps it quiet. The series are written out for an evaluation time ([`Derived::eval_seconds`])
/// that depends on how often the test file evaluates its rules.
#[derive(Clone, Debug)]
pub struct Derived {
    /// Seconds between input samples: a minute, or a power of two of minutes when the longest
    /// range would hold more samples than promtool loads into one query.
    pub step_seconds: u64,
    /// Seconds after the first sample from which the firing condition holds (the lookback and
    /// the longest range filled).
    pub holds_from: u64,
    /// How long the condition must hold, in seconds.
    pub pending_seconds: u64,
    /// The sample the alert fires with.
    pub sample: Sample,
    firing: Vec<(Labels, Values)>,
    quiet: Vec<(Labels, Values)>,
}

impl Derived {
    /// When to check the alert with rules evaluated every `every` seconds (a multiple of the
    /// step): the first evaluation at which the condition holds, plus its `for`, on that grid.
    pub fn eval_seconds(&self, every: u64) -> u64 {
        self.holds_from.div_ceil(every) * every + self.pending_seconds.div_ceil(every) * every
    }

    /// Series under which the alert fires, sampled up to `eval_seconds`.
    pub fn firing(&self, eval_seconds: u64) -> Vec<Series> {
        series_of(&self.firing, eval_seconds / self.step_seconds)
    }

    /// Series under which the alert is quiet, sampled up to `eval_seconds`.
    pub fn quiet(&self, eval_seconds: u64) -> Vec<Series> {
        series_of(&self.quiet, eval_seconds / self.step_seconds)
    }
}

/// What the walk carries: the scrape, the step between samples and, inside
/// `histogram_quantile`, the bucket bound every series selected carries as `le`.
#[derive(Clone, Copy)]
struct Cx<'s> {
    scrape: Scrape<'s>,
    step: u64,
    le: Option<f64>,
}

/// The most samples one range selector may span in a test: promtool refuses a query that loads
/// more than 10,000 (`increase(x[7d1h])` at one a minute is 10,140), and evaluates every rule at
/// every evaluation, so fewer also keep the test fast. Beside an instant selector, which bounds
/// the step ([`MAX_INSTANT_STEP`]), a range may span more, so a week still fits.
const MAX_RANGE_SAMPLES: u64 = 1_000;

/// The most samples a range may span beside an instant selector.
const MAX_RANGE_SAMPLES_BESIDE_INSTANT: u64 = 3_000;

/// The longest step an instant selector bears: Prometheus looks back 5 minutes for a sample.
const MAX_INSTANT_STEP: u64 = 240;

/// Derives a test for an alert with expression `expr` that must hold for `pending_seconds`, its
/// series labelled as `scrape`'s targets are. `shapes` holds the expressions parsed so far:
/// alerts of one template share one parse.
pub fn derive(
    expr: &str,
    pending_seconds: u64,
    scrape: Scrape<'_>,
    shapes: &mut ShapeCache,
) -> Result<Derived, String> {
    let ast = shapes.parse_restored(expr).map_err(|e| format!("the expression does not parse: {e}"))?;
    let planned = plans(&ast, scrape)?;
    let table = |plan: &Plan<'_>| plan.series.iter().map(|(l, v)| (l.clone(), *v)).collect();
    Ok(Derived {
        step_seconds: planned.step,
        holds_from: planned.holds_from,
        pending_seconds,
        firing: table(&planned.fire),
        sample: planned.sample,
        quiet: table(&planned.quiet),
    })
}

/// The sample the alert fires with, or why no test can be derived: what [`derive`] decides,
/// without writing the series out (`spec check` needs only the decision and the sample its
/// templates expand with).
pub fn firing_sample(expr: &str, scrape: Scrape<'_>, shapes: &mut ShapeCache) -> Result<Sample, String> {
    let ast = shapes.parse_restored(expr).map_err(|e| format!("the expression does not parse: {e}"))?;
    plans(&ast, scrape).map(|planned| planned.sample)
}

/// The derivation's plans and what frames them.
struct Planned<'e> {
    step: u64,
    holds_from: u64,
    fire: Plan<'e>,
    sample: Sample,
    quiet: Plan<'e>,
}

/// The step, the plan that fires the alert and its sample, and the plan that keeps it quiet.
fn plans<'e>(ast: &'e Expr, scrape: Scrape<'_>) -> Result<Planned<'e>, String> {
    let (range, instant) = ranges(ast);
    let most = if instant { MAX_RANGE_SAMPLES_BESIDE_INSTANT } else { MAX_RANGE_SAMPLES };
    let mut step = STEP;
    while range.div_ceil(step) > most {
        step *= 2;
    }
    if instant && step > MAX_INSTANT_STEP {
        return Err(format!(
            "a range of {} is too long for promtool to read beside an instant selector (at most {most} samples a \
             query, one at least every 4m)",
            format_duration(range * 1000),
        ));
    }
    let cx = Cx { scrape, step, le: None };
    let holds_from = 300 + range;
    let (fire, sample) = evaluate(ast, Want::Any, cx)?;
    let sample = sample.ok_or("the expression yields nothing under the series meant to fire it")?;
    verify(&fire)?;
    let (quiet, quiet_sample) = evaluate(ast, Want::Empty, cx)?;
    if quiet_sample.is_some() {
        return Err("no series keep the expression empty".into());
    }
    verify(&quiet)?;
    Ok(Planned { step, holds_from, fire, sample, quiet })
}

/// The longest range in seconds, and whether an instant selector appears.
fn ranges(expr: &Expr) -> (u64, bool) {
    let mut instant = false;
    let mut longest = 0;
    for expr in crate::scrape::subexpressions(expr) {
        match expr {
            Expr::VectorSelector(_) => instant = true,
            Expr::MatrixSelector(ms) => longest = longest.max(ms.range.as_secs()),
            _ => {}
        }
    }
    (longest, instant)
}

fn evaluate<'e>(expr: &'e Expr, want: Want, cx: Cx<'_>) -> Derivation<'e> {
    match expr {
        Expr::Paren(p) => evaluate(&p.expr, want, cx),
        Expr::VectorSelector(vs) => selector(vs, want, cx),
        Expr::Call(call) => function(call.func.name, &call.args.args, want, cx),
        Expr::Aggregate(a) => {
            if a.param.is_some() {
                return Err(format!("the aggregation `{}` takes a parameter", a.op));
            }
            let id = a.op.id();
            let inner_want = match (id, want) {
                (_, Want::Empty) => Want::Empty,
                (T_COUNT, Want::Any | Want::Exactly(Level::Const(1.0))) => Want::Any,
                (T_COUNT, _) => return Err("`count` of one series is 1; another value cannot be derived".into()),
                (T_SUM | T_MIN | T_MAX | T_AVG, want) => want,
                _ => return Err(format!("the aggregation `{}`", a.op)),
            };
            let (plan, sample) = evaluate(&a.expr, inner_want, cx)?;
            let sample = sample.map(|s| Sample {
                labels: grouped(&s.labels, a.modifier.as_ref()),
                value: if id == T_COUNT { Some(1.0) } else { s.value },
            });
            Ok((plan, sample))
        }
        Expr::Binary(b) => binary(b, want, cx),
        Expr::MatrixSelector(_) => Err("a range vector outside a function".into()),
        _ => Err("a scalar or string where an instant vector is needed".into()),
    }
}

fn selector<'e>(vs: &'e VectorSelector, want: Want, cx: Cx<'_>) -> Derivation<'e> {
    let labels = labels_in(vs, cx)?;
    let values = match want {
        Want::Empty => Values::Absent,
        Want::Any => Values::Any,
        Want::Exactly(Level::Const(c)) => Values::Constant(c),
        Want::Exactly(Level::Ago(c)) => Values::Slope { start: -c, step: cx.step as f64 },
    };
    let mut plan = Plan::default();
    plan.need(labels.clone(), values)?;
    let sample = match want {
        Want::Empty => None,
        Want::Any => Some(Sample { labels: labels.clone(), value: Some(1.0) }),
        Want::Exactly(Level::Const(c)) => Some(Sample { labels: labels.clone(), value: Some(c) }),
        Want::Exactly(Level::Ago(_)) => Some(Sample { labels: labels.clone(), value: None }),
    };
    plan.leaves.push((vs, sample.as_ref().map(|_| labels)));
    Ok((plan, sample))
}

fn function<'e>(name: &str, args: &'e [Box<Expr>], want: Want, cx: Cx<'_>) -> Derivation<'e> {
    let range_selector = |i: usize| match args.get(i).map(|a| a.as_ref()) {
        Some(Expr::MatrixSelector(ms)) => Ok(ms),
        _ => Err(format!("`{name}` without a range selector")),
    };
    match name {
        "rate" | "irate" | "increase" => {
            let ms = range_selector(0)?;
            let range = ms.range.as_secs_f64();
            let step = cx.step as f64;
            let per_step = |c: f64| if name == "increase" { c * step / range } else { c * step };
            let (values, value) = match want {
                Want::Empty => (Values::Absent, None),
                Want::Any | Want::Exactly(Level::Const(0.0)) => (Values::Any, Some(0.0)),
                Want::Exactly(Level::Const(c)) if c > 0.0 => (Values::Slope { start: 0.0, step: per_step(c) }, None),
                Want::Exactly(_) => return Err(format!("`{name}` of a counter cannot take that value")),
            };
            counter_like(&ms.vs, values, value, cx)
        }
        "avg_over_time" | "min_over_time" | "max_over_time" | "last_over_time" => {
            let ms = range_selector(0)?;
            let (values, value) = match want {
                Want::Empty => (Values::Absent, None),
                Want::Any => (Values::Any, Some(1.0)),
                Want::Exactly(Level::Const(c)) => (Values::Constant(c), Some(c)),
                Want::Exactly(Level::Ago(_)) => return Err(format!("`{name}` of a timestamp")),
            };
            counter_like(&ms.vs, values, value, cx)
        }
        "absent" | "absent_over_time" => {
            let vs = match args.first().map(|a| a.as_ref()) {
                Some(Expr::VectorSelector(vs)) => vs,
                Some(Expr::MatrixSelector(ms)) => &ms.vs,
                _ => return Err(format!("`{name}` of something other than a selector")),
            };
            match want {
                Want::Empty => {
                    let (plan, _) = selector(vs, Want::Any, cx)?;
                    Ok((plan, None))
                }
                Want::Any | Want::Exactly(Level::Const(1.0)) => {
                    let (plan, _) = selector(vs, Want::Empty, cx)?;
                    let labels = vs
                        .matchers
                        .matchers
                        .iter()
                        .filter(|m| m.op == MatchOp::Equal && m.name != NAME)
                        .map(|m| (m.name.clone(), m.value.clone()))
                        .collect();
                    Ok((plan, Some(Sample { labels, value: Some(1.0) })))
                }
                Want::Exactly(_) => Err(format!("`{name}` is 1 or nothing")),
            }
        }
        "histogram_quantile" => histogram::quantile(args, want, cx),
        other => Err(format!("the function `{other}`")),
    }
}

/// A function of one range selector: the series gets `values`, the sample drops the name.
fn counter_like<'e>(vs: &'e VectorSelector, values: Values, value: Option<f64>, cx: Cx<'_>) -> Derivation<'e> {
    let labels = labels_in(vs, cx)?;
    let mut plan = Plan::default();
    plan.need(labels.clone(), values)?;
    let present = values != Values::Absent;
    plan.leaves.push((vs, present.then(|| labels.clone())));
    let sample = present.then(|| Sample { labels: without_name(&labels), value });
    Ok((plan, sample))
}

fn binary<'e>(b: &'e BinaryExpr, want: Want, cx: Cx<'_>) -> Derivation<'e> {
    let id = b.op.id();
    let modifier_labels = b.modifier.as_ref().and_then(|m| m.matching.as_ref());
    match id {
        T_LAND | T_LUNLESS if matches!(want, Want::Empty) => evaluate(&b.lhs, Want::Empty, cx),
        T_LAND => {
            let (plan, sample) = evaluate(&b.lhs, want, cx)?;
            let (other, matched) = evaluate(&b.rhs, Want::Any, cx)?;
            let (sample, matched) = (sample.ok_or("empty left side")?, matched.ok_or("empty right side")?);
            if signature(&sample.labels, modifier_labels) != signature(&matched.labels, modifier_labels) {
                return Err("the two sides of `and` would carry different labels".into());
            }
            Ok((plan.merge(other)?, Some(sample)))
        }
        T_LUNLESS => {
            let (plan, sample) = evaluate(&b.lhs, want, cx)?;
            let (other, _) = evaluate(&b.rhs, Want::Empty, cx)?;
            Ok((plan.merge(other)?, sample))
        }
        T_LOR => {
            let both = |left: Want, right: Want| -> Derivation<'_> {
                let (plan, left_sample) = evaluate(&b.lhs, left, cx)?;
                let (other, right_sample) = evaluate(&b.rhs, right, cx)?;
                Ok((plan.merge(other)?, left_sample.or(right_sample)))
            };
            match want {
                Want::Empty => both(Want::Empty, Want::Empty),
                want => both(want, Want::Empty).or_else(|_| both(Want::Empty, want)),
            }
        }
        T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE => {
            if b.modifier.as_ref().is_some_and(|m| m.return_bool) {
                return Err("a comparison with `bool` yields a sample for every series".into());
            }
            match (scalar(&b.lhs), scalar(&b.rhs)) {
                (None, Some(n)) => compare(&b.lhs, id, n, want, cx),
                (Some(n), None) => compare(&b.rhs, flipped(id), n, want, cx),
                (None, None) => vectors::comparison(b, want, cx),
                _ => Err("a comparison of two scalars".into()),
            }
        }
        T_SUB if is_time(&b.lhs) => {
            let inner = match want {
                Want::Empty => Want::Empty,
                Want::Any => Want::Exactly(Level::Ago(0.0)),
                Want::Exactly(Level::Const(c)) => Want::Exactly(Level::Ago(c)),
                Want::Exactly(Level::Ago(_)) => return Err("`time()` minus a timestamp compared with time".into()),
            };
            let (plan, sample) = evaluate(&b.rhs, inner, cx)?;
            let value = match inner {
                Want::Exactly(Level::Ago(c)) => Some(c),
                _ => None,
            };
            Ok((plan, sample.map(|s| Sample { labels: without_name(&s.labels), value })))
        }
        T_SUB if is_time(&b.rhs) => {
            // `v - time()` is `-c` when `v` is the timestamp `c` seconds ahead.
            let inner = match want {
                Want::Empty => Want::Empty,
                Want::Any => Want::Exactly(Level::Ago(0.0)),
                Want::Exactly(Level::Const(c)) => Want::Exactly(Level::Ago(-c)),
                Want::Exactly(Level::Ago(_)) => return Err("a timestamp minus `time()` compared with time".into()),
            };
            let (plan, sample) = evaluate(&b.lhs, inner, cx)?;
            let value = match inner {
                Want::Exactly(Level::Ago(c)) => Some(-c),
                _ => None,
            };
            Ok((plan, sample.map(|s| Sample { labels: without_name(&s.labels), value })))
        }
        T_ADD | T_SUB | T_MUL | T_DIV if scalar(&b.rhs).is_none() => vectors::arithmetic(b, want, cx),
        T_ADD | T_SUB | T_MUL | T_DIV => {
            let n = scalar(&b.rhs).ok_or("arithmetic between two vectors")?;
            let inverse = |c: f64| match id {
                T_ADD => c - n,
                T_SUB => c + n,
                T_MUL => c / n,
                _ => c * n,
            };
            let forward = |v: f64| match id {
                T_ADD => v + n,
                T_SUB => v - n,
                T_MUL => v * n,
                _ => v / n,
            };
            if n == 0.0 && matches!(id, T_MUL | T_DIV) {
                return Err("arithmetic with zero".into());
            }
            let inner = match want {
                Want::Empty => Want::Empty,
                Want::Any => Want::Any,
                Want::Exactly(Level::Const(c)) => Want::Exactly(Level::Const(inverse(c))),
                Want::Exactly(Level::Ago(_)) => return Err("arithmetic on a timestamp".into()),
            };
            let (plan, sample) = evaluate(&b.lhs, inner, cx)?;
            let sample = sample.map(|s| Sample {
                labels: without_name(&s.labels),
                value: s.value.map(forward).filter(|v| match want {
                    Want::Exactly(Level::Const(c)) => *v == c,
                    _ => true,
                }),
            });
            Ok((plan, sample))
        }
        _ => Err(format!("the operator `{}`", b.op)),
    }
}

/// `vector OP n` as a filter: pick a value of the vector that passes (or fails) the comparison.
fn compare<'e>(vector: &'e Expr, op: TokenId, n: f64, want: Want, cx: Cx<'_>) -> Derivation<'e> {
    let holds = |v: f64| comparison_holds(op, v, n);
    let usual = [0.0, n + 1.0, n - 1.0, 1.0, n, n * 2.0, n / 2.0, -1.0];
    // A quantile or a ratio reads best at twice and half its threshold (a ratio stays below 1).
    let candidates: Vec<f64> = match computed(vector) {
        Some(ratio) => {
            let twice = if ratio && n > 0.5 && n < 1.0 { (1.0 + n) / 2.0 } else { n * 2.0 };
            [twice, n / 2.0].into_iter().chain(usual).collect()
        }
        None => usual.into(),
    };
    let attempt = |value: f64| -> Derivation<'_> {
        let (plan, sample) = evaluate(vector, Want::Exactly(Level::Const(value)), cx)?;
        let sample = sample.ok_or("the vector side yields nothing")?;
        // An approximate value (a rate) is only trusted away from the threshold: it may miss an
        // exact equality, but a candidate a whole unit away stays on its side.
        if sample.value.is_none() && matches!(op, T_EQLC) && holds(value) {
            return Err("an approximate value cannot equal the threshold".into());
        }
        Ok((plan, Some(Sample { value: sample.value, ..sample })))
    };
    match want {
        Want::Empty => {
            for value in candidates.into_iter().filter(|v| !holds(*v)) {
                if let Ok((plan, _)) = attempt(value) {
                    return Ok((plan, None));
                }
            }
            evaluate(vector, Want::Empty, cx)
        }
        Want::Any => {
            let mut last = Err(format!("no value passes the comparison with {n}"));
            for value in candidates.into_iter().filter(|v| holds(*v)) {
                last = attempt(value);
                if last.is_ok() {
                    break;
                }
            }
            last
        }
        Want::Exactly(Level::Const(c)) if holds(c) => attempt(c),
        Want::Exactly(_) => Err("a filtered value cannot be required to take another value".into()),
    }
}

/// Whether `v OP n` holds for a comparison operator (`false` for any other operator).
pub(crate) fn comparison_holds(op: TokenId, v: f64, n: f64) -> bool {
    match op {
        T_EQLC => v == n,
        T_NEQ => v != n,
        T_GTR => v > n,
        T_LSS => v < n,
        T_GTE => v >= n,
        T_LTE => v <= n,
        _ => false,
    }
}

/// The operator that keeps a comparison true with its operands swapped (`n < v` is `v > n`).
pub(crate) fn flipped(op: TokenId) -> TokenId {
    match op {
        T_GTR => T_LSS,
        T_LSS => T_GTR,
        T_GTE => T_LTE,
        T_LTE => T_GTE,
        other => other,
    }
}

/// A constant scalar expression's value.
fn scalar(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Paren(p) => scalar(&p.expr),
        Expr::Unary(u) => scalar(&u.expr).map(|v| -v),
        Expr::Binary(b) => {
            let (l, r) = (scalar(&b.lhs)?, scalar(&b.rhs)?);
            match b.op.id() {
                T_ADD => Some(l + r),
                T_SUB => Some(l - r),
                T_MUL => Some(l * r),
                T_DIV => Some(l / r),
                _ => None,
            }
        }
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// Whether an expression's value is computed from several series (`Some(true)` for a ratio of two
/// vectors, `Some(false)` for another operation between vectors or a `histogram_quantile`), so
/// a test can pick it freely on either side of a threshold.
fn computed(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::Paren(p) => computed(&p.expr),
        Expr::Call(call) if call.func.name == "histogram_quantile" => Some(false),
        Expr::Binary(b) if [&b.lhs, &b.rhs].iter().all(|side| scalar(side).is_none() && !is_time(side)) => {
            matches!(b.op.id(), T_ADD | T_SUB | T_MUL | T_DIV).then_some(b.op.id() == T_DIV)
        }
        _ => None,
    }
}

fn is_time(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => call.func.name == "time",
        Expr::Paren(p) => is_time(&p.expr),
        _ => false,
    }
}

fn without_name(labels: &Labels) -> Labels {
    labels.iter().filter(|(k, _)| *k != NAME).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The labels an aggregation keeps.
fn grouped(labels: &Labels, modifier: Option<&LabelModifier>) -> Labels {
    match modifier {
        None => Labels::new(),
        Some(LabelModifier::Include(by)) => {
            labels.iter().filter(|(k, _)| by.labels.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        Some(LabelModifier::Exclude(without)) => {
            without_name(labels).into_iter().filter(|(k, _)| !without.labels.contains(k)).collect()
        }
    }
}

/// The labels a set operation matches on.
fn signature(labels: &Labels, matching: Option<&LabelModifier>) -> Labels {
    match matching {
        Some(LabelModifier::Include(on)) => {
            labels.iter().filter(|(k, _)| on.labels.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        Some(LabelModifier::Exclude(ignoring)) => {
            without_name(labels).into_iter().filter(|(k, _)| !ignoring.labels.contains(k)).collect()
        }
        None => without_name(labels),
    }
}

pub(crate) fn matches(vs: &VectorSelector, labels: &Labels) -> bool {
    let value = |name: &str| labels.get(name).map_or("", String::as_str);
    vs.name.as_deref().is_none_or(|name| value(NAME) == name)
        && vs.matchers.matchers.iter().all(|m| m.is_match(value(&m.name)))
}

/// Every selector visited matches exactly the series it assumed, among all present series (a
/// selector visited more than once, as `histogram_quantile`'s buckets are, the union of them).
fn verify(plan: &Plan<'_>) -> Result<(), String> {
    let present: Vec<&Labels> =
        plan.series.iter().filter(|(_, v)| **v != Values::Absent).map(|(labels, _)| labels).collect();
    let mut assumed_by: IndexMap<*const VectorSelector, (&VectorSelector, Vec<&Labels>)> = IndexMap::new();
    for (vs, assumed) in &plan.leaves {
        let entry = assumed_by.entry(std::ptr::from_ref(*vs)).or_insert((*vs, Vec::new()));
        entry.1.extend(assumed);
    }
    for (vs, mut assumed) in assumed_by.into_values() {
        let mut matched: Vec<&Labels> = present.iter().copied().filter(|labels| matches(vs, labels)).collect();
        matched.sort_unstable();
        assumed.sort_unstable();
        assumed.dedup();
        if matched != assumed {
            return Err(format!("the selector `{vs}` would also match a series another part of the expression needs"));
        }
    }
    Ok(())
}

fn number(value: f64) -> String {
    if value == 0.0 { "0".into() } else { format!("{value}") }
}

fn series_of(series: &[(Labels, Values)], samples: u64) -> Vec<Series> {
    series
        .iter()
        .filter(|(_, values)| *values != Values::Absent)
        .map(|(labels, values)| Series {
            series: series_name(labels),
            values: match values {
                Values::Any => format!("1x{samples}"),
                Values::Constant(c) => format!("{}x{samples}", number(*c)),
                Values::Slope { start, step } => {
                    let sign = if *step < 0.0 { '-' } else { '+' };
                    format!("{}{sign}{}x{samples}", number(*start), number(step.abs()))
                }
                Values::Absent => String::new(),
            },
        })
        .collect()
}

/// `metric{label="value", …}` with every value a PromQL string.
pub(crate) fn series_name(labels: &Labels) -> String {
    let name = labels.get(NAME).map_or("", String::as_str);
    let rest: Vec<String> =
        labels.iter().filter(|(k, _)| *k != NAME).map(|(k, v)| format!("{k}={}", promql_string(v))).collect();
    format!("{name}{{{}}}", rest.join(", "))
}

#[cfg(test)]
mod tests;
