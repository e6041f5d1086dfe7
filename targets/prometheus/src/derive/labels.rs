//! The labels of the series a selector matches: its metric name, a value passing every matcher
//! of each label (an example string for a regex), the `job` and `instance` of the scraped target
//! the selector can only come from, and inside `histogram_quantile` the bucket's `le`.

use promql_parser::label::MatchOp;
use promql_parser::parser::VectorSelector;

use super::{Cx, LE, Labels, NAME, Scrape, histogram};
use crate::escape::promql_string;
use crate::scrape::{matchers_by_label, scraped_target};

/// The labels of the series a selector matches in the walk: [`example_labels`], and inside
/// `histogram_quantile` the bucket's `le`, which the selector's own `le` matchers must pass.
pub(super) fn labels_in(vs: &VectorSelector, cx: Cx<'_>) -> Result<Labels, String> {
    let mut labels = example_labels(vs, cx.scrape)?;
    if let Some(bound) = cx.le {
        let le = histogram::le_text(bound);
        if vs.matchers.matchers.iter().any(|m| m.name == LE && !m.is_match(&le)) {
            return Err(format!("the selector `{vs}` keeps out the bucket `le={}`", promql_string(&le)));
        }
        labels.insert(LE.into(), le);
    }
    Ok(labels)
}

/// The labels of a series a selector matches: the metric name, a value passing every matcher of
/// each label (the `=` value, else empty when that passes, else an example of a regex), and the
/// `job` and `instance` of the target it is scraped from ([`scraped_target`]).
pub(crate) fn example_labels(vs: &VectorSelector, scrape: Scrape<'_>) -> Result<Labels, String> {
    if vs.offset.is_some() || vs.at.is_some() {
        return Err("a selector with `offset` or `@`".into());
    }
    if !vs.matchers.or_matchers.is_empty() {
        return Err("a selector with `or` between matchers".into());
    }
    let by_label = matchers_by_label(vs);
    let mut labels = Labels::new();
    if let Some(name) = &vs.name {
        labels.insert(NAME.into(), name.clone());
    }
    let target = scraped_target(vs, scrape)?;
    for (label, matchers) in &by_label {
        if *label == "job" && target.is_some() {
            continue;
        }
        let fixed = match target {
            Some(target) if *label == "instance" => target.instance.clone(),
            _ => None,
        };
        if fixed.is_some() {
            continue;
        }
        let mut candidates: Vec<String> =
            target.filter(|_| *label == "instance").map(|t| t.example_instance()).into_iter().collect();
        candidates.extend(matchers.iter().filter_map(|m| match &m.op {
            MatchOp::Equal => Some(m.value.clone()),
            MatchOp::Re(_) => regex_example(&m.value),
            _ => None,
        }));
        candidates.extend(["".to_string(), "x".to_string(), "example".to_string()]);
        let value = candidates
            .into_iter()
            .find(|c| matchers.iter().all(|m| m.is_match(c)))
            .ok_or_else(|| format!("no value of label `{label}` passes all its matchers"))?;
        if *label == NAME && labels.get(NAME).is_some_and(|n| *n != value) {
            return Err("the metric name is given twice".into());
        }
        if !value.is_empty() {
            labels.insert(label.to_string(), value);
        }
    }
    if !labels.contains_key(NAME) {
        return Err("a selector without a metric name".into());
    }
    if let Some(target) = target {
        labels.insert("job".into(), target.job.clone());
        labels.entry("instance".into()).or_insert_with(|| target.example_instance());
    }
    Ok(labels)
}

/// A short string the regex matches (the shortest path through its syntax tree), checked by the
/// caller against the matcher itself.
pub(crate) fn regex_example(pattern: &str) -> Option<String> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn walk(hir: &Hir, out: &mut String) -> Option<()> {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(literal) => out.push_str(std::str::from_utf8(&literal.0).ok()?),
            HirKind::Class(Class::Unicode(class)) => {
                let inside = |c: char| class.ranges().iter().any(|r| r.start() <= c && c <= r.end());
                let pick = ['x', 'a', '0', 'A', '_', '-', '.'].into_iter().find(|c| inside(*c));
                out.push(pick.or_else(|| class.ranges().first().map(|r| r.start()))?);
            }
            HirKind::Class(Class::Bytes(class)) => out.push(char::from(class.ranges().first()?.start())),
            HirKind::Repetition(repetition) => {
                for _ in 0..repetition.min {
                    walk(&repetition.sub, out)?;
                }
            }
            HirKind::Capture(capture) => walk(&capture.sub, out)?,
            HirKind::Concat(parts) => parts.iter().try_for_each(|part| walk(part, out))?,
            HirKind::Alternation(branches) => walk(branches.first()?, out)?,
        }
        Some(())
    }
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut out = String::new();
    walk(&hir, &mut out)?;
    Some(out)
}
