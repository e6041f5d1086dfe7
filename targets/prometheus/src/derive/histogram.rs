//! `histogram_quantile(φ, buckets)` over a classic histogram's `_bucket` series.
//!
//! The derivation writes two buckets for the one series the argument aggregates: `le="<v>"`,
//! which holds no observation (its counter stays put), and `le="+Inf"`, which holds them all (its
//! counter grows). For any φ in (0, 1] Prometheus then finds the rank in the `+Inf` bucket and
//! returns the highest finite bound: the quantile is exactly `v`, whatever the rates'
//! extrapolation, so the sample's value is known exactly and `v` can sit on either side of the
//! alert's threshold. The argument is walked twice, once per bucket ([`Cx::le`] gives every series
//! it selects that `le`), and its sample must still carry `le` (`sum by (le, …)`): an
//! aggregation that drops it leaves `histogram_quantile` nothing to read.

use super::{Cx, Derivation, Expr, LE, Labels, Level, NAME, Sample, Want, evaluate, scalar};

/// The `le` label of a bucket bound, as Prometheus parses it back to the same number.
pub(super) fn le_text(bound: f64) -> String {
    if bound == f64::INFINITY { "+Inf".into() } else { super::number(bound) }
}

/// Derives `histogram_quantile(args[0], args[1])`.
pub(super) fn quantile<'e>(args: &'e [Box<Expr>], want: Want, cx: Cx<'_>) -> Derivation<'e> {
    let phi = args.first().and_then(|a| scalar(a)).ok_or("`histogram_quantile` of a quantile that is not a number")?;
    if !(phi > 0.0 && phi <= 1.0) {
        return Err(format!("`histogram_quantile` of the quantile {phi}, outside (0, 1]"));
    }
    let buckets = args.get(1).ok_or("`histogram_quantile` without buckets")?;
    if cx.le.is_some() {
        return Err("a `histogram_quantile` inside another".into());
    }
    let bound = match want {
        Want::Empty => {
            let (plan, _) = evaluate(buckets, Want::Empty, cx)?;
            return Ok((plan, None));
        }
        Want::Any => 1.0,
        Want::Exactly(Level::Const(bound)) => bound,
        Want::Exactly(Level::Ago(_)) => return Err("`histogram_quantile` compared with a timestamp".into()),
    };
    let (plan, below) = evaluate(buckets, Want::Exactly(Level::Const(0.0)), Cx { le: Some(bound), ..cx })?;
    let (other, all) = evaluate(buckets, Want::Exactly(Level::Const(1.0)), Cx { le: Some(f64::INFINITY), ..cx })?;
    let (below, all) = (below.ok_or("the buckets yield nothing")?, all.ok_or("the buckets yield nothing")?);
    let keeps_le = |sample: &Sample, bound: f64| sample.labels.get(LE).is_some_and(|le| *le == le_text(bound));
    if !keeps_le(&below, bound) || !keeps_le(&all, f64::INFINITY) {
        return Err("the buckets reach `histogram_quantile` without their `le` label (aggregate `by (le, …)`)".into());
    }
    let series_labels = |sample: &Sample| -> Labels {
        sample.labels.iter().filter(|(k, _)| *k != LE && *k != NAME).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    if series_labels(&below) != series_labels(&all) {
        return Err("the two buckets of one histogram would carry different labels".into());
    }
    Ok((plan.merge(other)?, Some(Sample { labels: series_labels(&below), value: Some(bound) })))
}
