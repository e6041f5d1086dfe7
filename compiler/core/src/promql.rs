//! PromQL parsing once per expression *shape*, for the graph checks and the Prometheus back end.
//!
//! `promql-parser` rebuilds its LR tables on every call (about 0.1 ms), which a 10,000-alert
//! estate would pay 10,000 times. String literals become numbered placeholders, so
//! `up{job="a"} == 0` and `up{job="b"} == 0` share one parse. Validity does not depend on a
//! literal's content, except for regex matchers (`=~`, `!~`), whose literal is compiled here as
//! Prometheus anchors it, and escapes, so expressions with `\` are parsed as written. When a
//! regex does not compile this way, the text itself is parsed, so errors (and the parser's own
//! fallbacks) are exactly the parser's. [`ShapeCache::parse_restored`] puts the literals back into
//! the tree, which is then the tree of the text itself.

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr};
use regex::Regex;
use rustc_hash::FxHashMap;

/// Parses of expression shapes, by shape.
#[derive(Default)]
pub struct ShapeCache {
    parsed: FxHashMap<String, Result<Expr, String>>,
}

/// An expression with its string literals taken out.
struct Shape {
    text: String,
    literals: Vec<String>,
    /// Whether each literal is the pattern of a regex matcher.
    regex: Vec<bool>,
}

impl ShapeCache {
    /// Parses `text`, returning its tree and the literals its placeholders stand for (empty when
    /// the text was parsed as written, so the tree holds the real values).
    pub fn parse(&mut self, text: &str) -> (Result<Expr, String>, Vec<String>) {
        match self.shape_tree(text) {
            Some((ast, shape)) if shape.regexes().all(|pattern| anchored(pattern).is_ok()) => (Ok(ast), shape.literals),
            _ => (parser::parse(text), Vec::new()),
        }
    }

    /// How many shapes were parsed.
    pub fn shapes(&self) -> usize {
        self.parsed.len()
    }

    /// Parses `text` into the tree of the text itself: the shape's tree with every placeholder
    /// replaced by its literal (and regex matchers compiled from theirs).
    pub fn parse_restored(&mut self, text: &str) -> Result<Expr, String> {
        if let Some((mut ast, shape)) = self.shape_tree(text)
            && restore(&mut ast, &shape.literals)
        {
            return Ok(ast);
        }
        parser::parse(text)
    }

    /// The tree of `text`'s shape, when it has one that parses.
    fn shape_tree(&mut self, text: &str) -> Option<(Expr, Shape)> {
        let shape = shape_of(text)?;
        let parsed = self.parsed.entry(shape.text.clone()).or_insert_with_key(|shape| parser::parse(shape));
        // An error names placeholders: the caller parses the text itself to report it.
        Some((parsed.as_ref().ok()?.clone(), shape))
    }
}

impl Shape {
    fn regexes(&self) -> impl Iterator<Item = &str> {
        self.literals.iter().zip(&self.regex).filter(|(_, regex)| **regex).map(|(literal, _)| literal.as_str())
    }
}

/// A matcher's pattern compiled as Prometheus compiles it: anchored at both ends.
fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Replaces each string literal's content by its index; `None` when literals could matter
/// (escapes) or the quoting is unbalanced.
fn shape_of(text: &str) -> Option<Shape> {
    if text.contains('\\') {
        return None;
    }
    let mut shape = Shape { text: String::with_capacity(text.len()), literals: Vec::new(), regex: Vec::new() };
    let mut rest = text;
    while let Some(open) = rest.find(['"', '\'', '`']) {
        let quote = rest[open..].chars().next()?;
        let after = &rest[open + 1..];
        let close = after.find(quote)?;
        let before = &rest[..open];
        shape.regex.push(before.trim_end().ends_with('~'));
        shape.text.push_str(before);
        shape.text.push(quote);
        shape.text.push_str(&shape.literals.len().to_string());
        shape.text.push(quote);
        shape.literals.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    shape.text.push_str(rest);
    Some(shape)
}

/// Replaces each placeholder (a literal's index) in matcher values and string literals, and
/// compiles regex matchers from their literal; `false` when one does not compile that way.
fn restore(expr: &mut Expr, literals: &[String]) -> bool {
    let put = |value: &mut String| {
        if let Some(literal) = value.parse::<usize>().ok().and_then(|i| literals.get(i)) {
            value.clone_from(literal);
        }
    };
    let selector = |vs: &mut promql_parser::parser::VectorSelector| {
        for matcher in vs.matchers.matchers.iter_mut().chain(vs.matchers.or_matchers.iter_mut().flatten()) {
            put(&mut matcher.value);
            match &mut matcher.op {
                MatchOp::Re(regex) | MatchOp::NotRe(regex) => match anchored(&matcher.value) {
                    Ok(compiled) => *regex = compiled,
                    Err(_) => return false,
                },
                MatchOp::Equal | MatchOp::NotEqual => {}
            }
        }
        true
    };
    match expr {
        Expr::Aggregate(a) => restore(&mut a.expr, literals) && a.param.as_mut().is_none_or(|p| restore(p, literals)),
        Expr::Unary(u) => restore(&mut u.expr, literals),
        Expr::Binary(b) => restore(&mut b.lhs, literals) && restore(&mut b.rhs, literals),
        Expr::Paren(p) => restore(&mut p.expr, literals),
        Expr::Subquery(s) => restore(&mut s.expr, literals),
        Expr::StringLiteral(s) => {
            put(&mut s.val);
            true
        }
        Expr::VectorSelector(vs) => selector(vs),
        Expr::MatrixSelector(ms) => selector(&mut ms.vs),
        Expr::Call(call) => call.args.args.iter_mut().all(|arg| restore(arg, literals)),
        Expr::NumberLiteral(_) | Expr::Extension(_) => true,
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
            "node_systemd_unit_state{instance=~\"n1(:[0-9]+)?\", name!~'a|b'} == 1",
            "node_systemd_unit_state{instance=~\"n2(:[0-9]+)?\", name!~'c'} == 1",
        ] {
            let direct = parser::parse(text).map(|e| e.to_string());
            assert_eq!(cache.parse_restored(text).map(|e| e.to_string()), direct, "{text}");
        }
        // Regex matchers are compiled from their own pattern, not the placeholder's.
        let Ok(Expr::Binary(binary)) = cache.parse_restored("up{instance=~\"n7(:[0-9]+)?\"} == 0") else {
            panic!("parses")
        };
        let Expr::VectorSelector(selector) = binary.lhs.as_ref() else { panic!("a selector") };
        let matcher = &selector.matchers.matchers[0];
        assert!(matcher.is_match("n7:9100") && !matcher.is_match("0") && !matcher.is_match("n70"));
        // A pattern that does not compile is the parser's error, whatever the shape.
        for text in ["up{a=~\"(\"} == 0", "up{a=~\"x\"} == 0 or up{b!~\"[\"}"] {
            let direct = parser::parse(text);
            assert!(direct.is_err());
            assert_eq!(cache.parse_restored(text).map(|e| e.to_string()), direct.map(|e| e.to_string()));
            assert!(cache.parse(text).0.is_err(), "{text}");
        }
    }
}
