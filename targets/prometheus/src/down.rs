//! Whether an alert the spec writes already reports a service's target down, so the generated
//! `<Service>TargetDown` would fire beside it for the same cause and is left out.
//!
//! An alert reports service `s` down when its expression is `up{…} OP n`, or `n OP up{…}`, or the
//! same with `up{…}` inside `sum`, `min`, `max` or `avg` (with or without `by`/`without`), with
//! any parentheses and no `bool`, where `0 OP n` holds and `1 OP n` does not (it fires on a failed
//! scrape and not on a good one), and the selector has at least one `job` matcher and every `job`
//! matcher passes `s` (a service's job is its name). Other matchers (an `instance`) narrow it to
//! some of the service's targets, which for the one-target jobs the estate scrapes is the same.

use promql_parser::label::Matcher;
use promql_parser::parser::Expr;
use promql_parser::parser::token::{T_AVG, T_MAX, T_MIN, T_SUM};
use spec_compiler::promql::ShapeCache;

use crate::derive::{comparison_holds, flipped};

/// The `job` matchers of an alert that reports a target down, if `expr` is one.
pub(crate) fn down_jobs(expr: &str, shapes: &mut ShapeCache) -> Option<Vec<Matcher>> {
    let ast = shapes.parse_restored(expr).ok()?;
    let Expr::Binary(b) = unparen(&ast) else { return None };
    if b.modifier.as_ref().is_some_and(|m| m.return_bool) {
        return None;
    }
    let op = b.op.id();
    let (vector, n, op) = match (number(&b.lhs), number(&b.rhs)) {
        (None, Some(n)) => (&b.lhs, n, op),
        (Some(n), None) => (&b.rhs, n, flipped(op)),
        _ => return None,
    };
    let holds = |v: f64| comparison_holds(op, v, n);
    if !holds(0.0) || holds(1.0) {
        return None;
    }
    let mut inner = unparen(vector);
    if let Expr::Aggregate(a) = inner {
        if !matches!(a.op.id(), T_SUM | T_MIN | T_MAX | T_AVG) || a.param.is_some() {
            return None;
        }
        inner = unparen(&a.expr);
    }
    let Expr::VectorSelector(vs) = inner else { return None };
    if vs.name.as_deref() != Some("up") || vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty()
    {
        return None;
    }
    let jobs: Vec<Matcher> = vs.matchers.matchers.iter().filter(|m| m.name == "job").cloned().collect();
    (!jobs.is_empty()).then_some(jobs)
}

/// Whether `job` passes every matcher.
pub(crate) fn covers(jobs: &[Matcher], job: &str) -> bool {
    jobs.iter().all(|m| m.is_match(job))
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

fn number(expr: &Expr) -> Option<f64> {
    match unparen(expr) {
        Expr::NumberLiteral(n) => Some(n.val),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(expr: &str, job: &str) -> bool {
        down_jobs(expr, &mut ShapeCache::default()).is_some_and(|jobs| covers(&jobs, job))
    }

    #[test]
    fn up_at_zero_on_the_services_job_reports_it_down() {
        for expr in [
            "up{job=\"ipfs\"} == 0",
            "(up{job=\"ipfs\", instance=\"prod1:5001\"}) < 1",
            "1 > up{job=~\"ipfs|db\"}",
            "min by (job) (up{job=\"ipfs\"}) == 0",
            "up{job=\"ipfs\"} != 1",
        ] {
            assert!(reports(expr, "ipfs"), "{expr}");
        }
    }

    #[test]
    fn other_shapes_and_jobs_do_not() {
        for expr in [
            "up{job=\"db\"} == 0",
            "up == 0",
            "up{job=\"ipfs\"} == 1",
            "up{job=\"ipfs\"} == bool 0",
            "count(up{job=\"ipfs\"}) == 0",
            "absent(up{job=\"ipfs\"})",
            "up{job=\"ipfs\"} == 0 and on () vector(1)",
            "rate(x{job=\"ipfs\"}[5m]) == 0",
        ] {
            assert!(!reports(expr, "ipfs"), "{expr}");
        }
    }
}
