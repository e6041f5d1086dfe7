//! Binary operations between two vectors: arithmetic (`errors / requests`, `used - reserved`) and
//! comparison (`used > on (instance) limit * 0.8`), one sample on each side, matched as Prometheus
//! matches them (`on`, `ignoring`, `group_left`, `group_right`; the result's labels are
//! Prometheus's `resultMetric`).
//!
//! Each side is asked for an exact value: for arithmetic the right side takes a round value (100
//! for a division, so a ratio reads as a share of a hundred) and the left the value that gives the
//! result wanted; for a comparison, a pair of values on the wanted side of the operator. A result
//! is known exactly only when both sides are and the floating-point operation gives exactly what
//! was wanted (otherwise it is approximate, which a comparison trusts only away from its threshold).

use promql_parser::parser::token::{T_ADD, T_DIV, T_EQLC, T_MUL, T_NEQ, T_SUB, T_SUM, TokenId};
use promql_parser::parser::{
    BinaryExpr, Expr, LabelModifier, VectorMatchCardinality, VectorMatchFillValues, VectorSelector,
};

use super::{
    Cx, Derivation, Labels, Level, NAME, Plan, Sample, Values, Want, comparison_holds, evaluate, matches, signature,
};

/// The labels of the result of `b` from one sample on each side, or why the two do not match.
fn result_labels(b: &BinaryExpr, left: &Labels, right: &Labels, arithmetic: bool) -> Result<Labels, String> {
    let modifier = b.modifier.as_ref();
    if modifier.is_some_and(|m| m.fill_values != VectorMatchFillValues::default()) {
        return Err("a `fill` modifier".into());
    }
    let matching = modifier.and_then(|m| m.matching.as_ref());
    if signature(left, matching) != signature(right, matching) {
        return Err(format!(
            "the two sides of `{}` would carry different labels, so no sample of one matches the other",
            b.op
        ));
    }
    let card = modifier.map_or(&VectorMatchCardinality::OneToOne, |m| &m.card);
    // Prometheus forms the result from the "many" side, copying `group_*` labels from the other.
    let (many, one) = match card {
        VectorMatchCardinality::OneToMany(_) => (right, left),
        _ => (left, right),
    };
    let mut labels = many.clone();
    if arithmetic {
        labels.remove(NAME);
    }
    match card {
        VectorMatchCardinality::OneToOne => match matching {
            Some(LabelModifier::Include(on)) => labels.retain(|k, _| on.labels.contains(k)),
            Some(LabelModifier::Exclude(ignoring)) => labels.retain(|k, _| !ignoring.labels.contains(k)),
            None => {}
        },
        VectorMatchCardinality::ManyToOne(include) | VectorMatchCardinality::OneToMany(include) => {
            for label in &include.labels {
                match one.get(label) {
                    Some(value) => labels.insert(label.clone(), value.clone()),
                    None => labels.remove(label),
                };
            }
        }
        VectorMatchCardinality::ManyToMany => return Err(format!("`{}` between many series", b.op)),
    }
    Ok(labels)
}

/// A number without float noise (`90`, not `90.00000000000001`), as the series are written.
fn tidy(value: f64) -> f64 {
    format!("{value:.9}").parse().unwrap_or(value)
}

/// `left OP right` for an arithmetic operator.
fn apply(op: TokenId, left: f64, right: f64) -> f64 {
    match op {
        T_ADD => left + right,
        T_SUB => left - right,
        T_MUL => left * right,
        _ => left / right,
    }
}

/// Arithmetic between two vectors: `+`, `-`, `*`, `/`.
pub(super) fn arithmetic<'e>(b: &'e BinaryExpr, want: Want, cx: Cx<'_>) -> Derivation<'e> {
    let id = b.op.id();
    if ![T_ADD, T_SUB, T_MUL, T_DIV].contains(&id) {
        return Err(format!("the operator `{}` between two vectors", b.op));
    }
    let wanted = match want {
        Want::Empty => {
            let (plan, _) = evaluate(&b.lhs, Want::Empty, cx)?;
            let (other, _) = evaluate(&b.rhs, Want::Empty, cx)?;
            return Ok((plan.merge(other)?, None));
        }
        Want::Any => 1.0,
        Want::Exactly(Level::Const(c)) => c,
        Want::Exactly(Level::Ago(_)) => return Err("arithmetic between two vectors compared with a timestamp".into()),
    };
    let rights: &[f64] = match id {
        T_DIV => &[100.0, 1.0],
        T_MUL => &[1.0, 100.0],
        T_ADD => &[0.0, 1.0],
        _ => &[1.0, 0.0],
    };
    let mut last = Err(format!("no values of the two sides of `{}` give {wanted}", b.op));
    for &right in rights {
        let left = tidy(match id {
            T_ADD => wanted - right,
            T_SUB => wanted + right,
            T_MUL => wanted / right,
            _ => wanted * right,
        });
        last = sides(b, (left, right), cx).and_then(|(plan, l, r)| {
            if !overlap(&plan).is_empty() {
                return nested(b, (left, right), cx);
            }
            let labels = result_labels(b, &l.labels, &r.labels, true)?;
            let value = l.value.zip(r.value).map(|(l, r)| apply(id, l, r));
            let exact = value.filter(|v| v.is_finite() && (matches!(want, Want::Any) || *v == wanted));
            Ok((plan, Some(Sample { labels, value: exact })))
        });
        if last.is_ok() {
            break;
        }
    }
    last
}

/// Each selector of the plan with the present series it matches but did not assume (a `total`
/// selector also matching the `errors` series the other side needs).
fn overlap<'p, 'e>(plan: &'p Plan<'e>) -> Vec<(&'e VectorSelector, &'p Labels)> {
    let present = plan.series.iter().filter(|(_, v)| **v != Values::Absent).map(|(labels, _)| labels);
    let present: Vec<&Labels> = present.collect();
    let mut found = Vec::new();
    for (vs, assumed) in &plan.leaves {
        let Some(assumed) = assumed else { continue };
        let others = present.iter().filter(|labels| **labels != assumed && matches(vs, labels));
        found.extend(others.map(|labels| (*vs, *labels)));
    }
    found
}

/// `sum(f(part)) / sum(f(whole))` where `whole` also selects the part's series (errors over all
/// requests): the whole side's own series takes what the part leaves (`right - left`), so the sum
/// over both is `right`. Derived only when both sides have the same shape, a sum at the top of
/// the whole, so the part's series adds to the whole exactly what it gives the part; the value is
/// approximate (Prometheus adds in its own order).
fn nested<'e>(b: &'e BinaryExpr, (left, right): (f64, f64), cx: Cx<'_>) -> Derivation<'e> {
    let summed = matches!(strip(&b.rhs), Expr::Aggregate(a) if a.op.id() == T_SUM);
    if b.op.id() != T_DIV || !summed || !same_shape(&b.lhs, &b.rhs) || right - left < 0.0 {
        return Err(format!(
            "the right side of `{}` also selects the left side's series; a test is derived when both sides are the \
             same `sum(rate(…[w]))` (or `increase`, `irate`) of their selectors, as in \
             `sum(rate(requests_total{{code=~\"5..\"}}[5m])) / sum(rate(requests_total[5m]))`",
            b.op
        ));
    }
    let (plan, l) = evaluate(&b.lhs, Want::Exactly(Level::Const(left)), cx)?;
    let (other, r) = evaluate(&b.rhs, Want::Exactly(Level::Const(tidy(right - left))), cx)?;
    let (l, r) = (l.ok_or("the left side yields nothing")?, r.ok_or("the right side yields nothing")?);
    let mut plan = plan.merge(other)?;
    let shared: Vec<(&'e VectorSelector, Labels)> =
        overlap(&plan).into_iter().map(|(vs, labels)| (vs, labels.clone())).collect();
    // The whole's aggregation must put the part's series in the group of its own.
    if let Expr::Aggregate(a) = strip(&b.rhs) {
        let own = super::grouped(&r.labels, a.modifier.as_ref());
        if shared.iter().any(|(_, labels)| super::grouped(labels, a.modifier.as_ref()) != own) {
            return Err("the part's series falls in another group of the whole's sum".into());
        }
    }
    plan.leaves.extend(shared.into_iter().map(|(vs, labels)| (vs, Some(labels))));
    let labels = result_labels(b, &l.labels, &r.labels, true)?;
    Ok((plan, Some(Sample { labels, value: None })))
}

fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => strip(&p.expr),
        other => other,
    }
}

/// The same aggregations and functions (with the same ranges) down to the selectors.
fn same_shape(a: &Expr, b: &Expr) -> bool {
    match (strip(a), strip(b)) {
        (Expr::Aggregate(x), Expr::Aggregate(y)) => {
            x.op.id() == T_SUM && y.op.id() == T_SUM && x.param.is_none() && same_shape(&x.expr, &y.expr)
        }
        (Expr::Call(x), Expr::Call(y)) => {
            x.func.name == y.func.name
                && x.args.args.len() == 1
                && y.args.args.len() == 1
                && match (x.args.args[0].as_ref(), y.args.args[0].as_ref()) {
                    (Expr::MatrixSelector(m), Expr::MatrixSelector(n)) => m.range == n.range,
                    _ => false,
                }
                && matches!(x.func.name, "rate" | "increase" | "irate")
        }
        (Expr::VectorSelector(_), Expr::VectorSelector(_)) => true,
        _ => false,
    }
}

/// Both sides with exact values, and their samples.
fn sides<'e>(b: &'e BinaryExpr, (left, right): (f64, f64), cx: Cx<'_>) -> Result<(Plan<'e>, Sample, Sample), String> {
    let (plan, l) = evaluate(&b.lhs, Want::Exactly(Level::Const(left)), cx)?;
    let (other, r) = evaluate(&b.rhs, Want::Exactly(Level::Const(right)), cx)?;
    let (l, r) = (l.ok_or("the left side yields nothing")?, r.ok_or("the right side yields nothing")?);
    Ok((plan.merge(other)?, l, r))
}

/// A comparison between two vectors (without `bool`): the left sample, kept when the comparison
/// with the matching right sample holds.
pub(super) fn comparison<'e>(b: &'e BinaryExpr, want: Want, cx: Cx<'_>) -> Derivation<'e> {
    let id = b.op.id();
    let holds = |l: f64, r: f64| comparison_holds(id, l, r);
    // Usage against a limit: 90 and 70 against 80, then small and equal values.
    let pairs: Vec<(f64, f64)> = match want {
        Want::Empty | Want::Any => [(90.0, 80.0), (70.0, 80.0), (80.0, 80.0), (1.0, 0.0), (0.0, 1.0)].into(),
        Want::Exactly(Level::Const(c)) => [c - 10.0, c + 10.0, c, c / 2.0, c * 2.0].map(|r| (c, tidy(r))).into(),
        Want::Exactly(Level::Ago(_)) => return Err("a comparison of two vectors compared with a timestamp".into()),
    };
    let fire = !matches!(want, Want::Empty);
    let mut last =
        Err(format!("no values of the two sides of `{}` make it {}", b.op, if fire { "hold" } else { "fail" }));
    for (left, right) in pairs.into_iter().filter(|(l, r)| holds(*l, *r) == fire) {
        last = sides(b, (left, right), cx).and_then(|(plan, l, r)| {
            // Approximate values (rates) are trusted apart, never equal.
            let exact = l.value.is_some() && r.value.is_some();
            if !exact && (matches!(id, T_EQLC | T_NEQ) || left == right) {
                return Err("approximate values cannot be compared for equality".into());
            }
            let labels = result_labels(b, &l.labels, &r.labels, false)?;
            Ok((plan, fire.then_some(Sample { labels, value: l.value })))
        });
        if last.is_ok() {
            return last;
        }
    }
    if fire {
        return last;
    }
    let (plan, _) = evaluate(&b.lhs, Want::Empty, cx)?;
    Ok((plan, None))
}
