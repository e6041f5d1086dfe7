//! PromQL parsing once per expression *shape*, for the graph checks and the Prometheus back end.
//!
//! `promql-parser` rebuilds its LR tables on every call (about 0.1 ms), which a 10,000-alert
//! estate would pay 10,000 times. String literals become numbered placeholders, so
//! `up{job="a"} == 0` and `up{job="b"} == 0` share one parse. Validity does not depend on a
//! literal's content, except for regex matchers and escapes, so expressions with `~` or `\\` are
//! parsed as written. [`ShapeCache::parse_restored`] puts the literals back into the tree, which
//! is then the tree of the text itself.

use promql_parser::parser::{self, Expr};
use rustc_hash::FxHashMap;

/// Parses of expression shapes, by shape.
#[derive(Default)]
pub struct ShapeCache {
    parsed: FxHashMap<String, Result<Expr, String>>,
}

impl ShapeCache {
    /// Parses `text`, returning its tree and the literals its placeholders stand for (empty when
    /// the text was parsed as written, so the tree holds the real values).
    pub fn parse(&mut self, text: &str) -> (Result<Expr, String>, Vec<String>) {
        let Some((shape, literals)) = shape_of(text) else { return (parser::parse(text), Vec::new()) };
        let parsed = self.parsed.entry(shape).or_insert_with_key(|shape| parser::parse(shape));
        match parsed {
            Ok(ast) => (Ok(ast.clone()), literals),
            // The placeholders would show in the message: parse the text itself to report it.
            Err(_) => (parser::parse(text), Vec::new()),
        }
    }

    /// How many shapes were parsed.
    pub fn shapes(&self) -> usize {
        self.parsed.len()
    }

    /// Parses `text` into the tree of the text itself: the shape's tree with every placeholder
    /// replaced by its literal.
    pub fn parse_restored(&mut self, text: &str) -> Result<Expr, String> {
        let (parsed, literals) = self.parse(text);
        let mut ast = parsed?;
        if !literals.is_empty() {
            restore(&mut ast, &literals);
        }
        Ok(ast)
    }
}

/// Replaces each string literal's content by its index; `None` when literals could matter
/// (regex matchers, escapes) or the quoting is unbalanced.
fn shape_of(text: &str) -> Option<(String, Vec<String>)> {
    if text.contains(['~', '\\']) {
        return None;
    }
    let mut shape = String::with_capacity(text.len());
    let mut literals = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['"', '\'', '`']) {
        let quote = rest[open..].chars().next()?;
        let after = &rest[open + 1..];
        let close = after.find(quote)?;
        shape.push_str(&rest[..open]);
        shape.push(quote);
        shape.push_str(&literals.len().to_string());
        shape.push(quote);
        literals.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    shape.push_str(rest);
    Some((shape, literals))
}

/// Replaces each placeholder (a literal's index) in matcher values and string literals.
fn restore(expr: &mut Expr, literals: &[String]) {
    let put = |value: &mut String| {
        if let Some(literal) = value.parse::<usize>().ok().and_then(|i| literals.get(i)) {
            value.clone_from(literal);
        }
    };
    let selector = |vs: &mut promql_parser::parser::VectorSelector| {
        for matcher in vs.matchers.matchers.iter_mut().chain(vs.matchers.or_matchers.iter_mut().flatten()) {
            put(&mut matcher.value);
        }
    };
    match expr {
        Expr::Aggregate(a) => {
            restore(&mut a.expr, literals);
            if let Some(param) = &mut a.param {
                restore(param, literals);
            }
        }
        Expr::Unary(u) => restore(&mut u.expr, literals),
        Expr::Binary(b) => {
            restore(&mut b.lhs, literals);
            restore(&mut b.rhs, literals);
        }
        Expr::Paren(p) => restore(&mut p.expr, literals),
        Expr::Subquery(s) => restore(&mut s.expr, literals),
        Expr::StringLiteral(s) => put(&mut s.val),
        Expr::VectorSelector(vs) => selector(vs),
        Expr::MatrixSelector(ms) => selector(&mut ms.vs),
        Expr::Call(call) => {
            for arg in &mut call.args.args {
                restore(arg, literals);
            }
        }
        Expr::NumberLiteral(_) | Expr::Extension(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The restored tree of every shape equals a direct parse of the text.
    #[test]
    fn restored_trees_equal_direct_parses() {
        let mut cache = ShapeCache::default();
        for text in [
            "up{job=\"a\"} == 0",
            "up{job=\"b\"} == 0",
            "sum by (x) (rate(http_requests_total{code=\"500\", path='/a'}[5m])) > 1",
            "label_replace(up{job=\"c\"}, \"dst\", \"$1\", \"src\", \"(.*)\")",
            "count_values(\"v\", up{job=\"d\"}) or absent(x{y=\"z\"})",
        ] {
            let direct = parser::parse(text).map(|e| e.to_string());
            assert_eq!(cache.parse_restored(text).map(|e| e.to_string()), direct, "{text}");
        }
    }
}
