//! Evaluation of expressions: variables, references, strings with interpolation, arithmetic,
//! lists, maps, tagged records and `nix("…")`.
//!
//! Invariant: every failure is reported once, where it happens, and yields `None`; callers drop the
//! field or element and go on, so one mistake never cascades.

use super::Evaluator;
use super::value::{Reference, Template, Value, ValueKind, text_form};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::model::Kind;
use crate::model::types::Endpoint;
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, StrPart};
use crate::syntax::lexer::MAX_STRING_LEN;

/// The most elements a range may expand to: a `for` over more is almost surely a mistake, and the
/// cap keeps every estate bounded in time and memory.
pub const MAX_RANGE: i64 = 100_000;

/// How deep evaluation may nest, counting the expressions of every `let` it substitutes: each
/// `let` is within the parser's nesting limit, but a chain of them nests their sum, and a
/// debug build's 2 MiB test thread holds about 250 levels.
pub const MAX_EVAL_DEPTH: usize = 160;

impl<'a> Evaluator<'a> {
    /// Evaluates an expression in the current scope, refusing to nest deeper than
    /// [`MAX_EVAL_DEPTH`].
    pub(super) fn expr(&mut self, expr: &'a Expr) -> Option<Value> {
        if self.expr_depth >= MAX_EVAL_DEPTH {
            self.too_deep(expr.span);
            return None;
        }
        let reported_before = self.too_deep_reported;
        self.expr_depth += 1;
        let value = self.expr_within_depth(expr);
        self.expr_depth -= 1;
        // A value cut short by the depth limit is dropped whole, so nothing downstream reports
        // what it lacks.
        if self.too_deep_reported && !reported_before {
            return None;
        }
        value
    }

    fn expr_within_depth(&mut self, expr: &'a Expr) -> Option<Value> {
        let span = expr.span;
        if !self.spend(1, span) {
            return None;
        }
        let kind = match &expr.kind {
            ExprKind::Error => {
                self.poisoned = true;
                return None;
            }
            ExprKind::Str(parts) => self.string(parts, span)?,
            ExprKind::RawStr(text) => ValueKind::Str(text.clone()),
            ExprKind::Int(n) => ValueKind::Int(*n),
            ExprKind::Bool(b) => ValueKind::Bool(*b),
            ExprKind::Duration(ms) => ValueKind::Duration(*ms),
            ExprKind::Size(bytes) => ValueKind::Size(*bytes),
            ExprKind::Ip(ip) => ValueKind::Ip(*ip),
            ExprKind::Cidr(ip, bits) => ValueKind::Cidr(*ip, *bits),
            ExprKind::Port(n, proto) => {
                if *n == 0 || *n > 65_535 {
                    self.report(
                        Diagnostic::new(Code::E0307, span, format!("port {n} is out of range"))
                            .with_primary_label("ports are numbered 1 to 65535")
                            .with_help("pick a port between 1 and 65535"),
                    );
                    return None;
                }
                ValueKind::Port(*n, *proto)
            }
            ExprKind::List(elements) => {
                if elements.len() as i64 > MAX_RANGE {
                    self.report(
                        Diagnostic::new(
                            Code::E0401,
                            span,
                            format!("list of {} items is larger than the limit of {MAX_RANGE}", elements.len()),
                        )
                        .with_primary_label("too many items")
                        .with_help("split the list; an estate this large belongs in several loops or files"),
                    );
                    return None;
                }
                let mut values = Vec::with_capacity(elements.len());
                for element in elements {
                    values.push(self.expr(element)?);
                }
                ValueKind::List(values)
            }
            ExprKind::Map(body) => ValueKind::Record(Box::new(self.body(body, None))),
            ExprKind::Tagged(tag, body) => ValueKind::Tagged(tag.name.clone(), Box::new(self.body(body, None))),
            ExprKind::Path(path) => return self.path(path, span),
            ExprKind::Indexed(indexed) => return self.indexed(indexed, span),
            ExprKind::Call(function, args) if function.name == "len" => return self.len(args, span),
            ExprKind::Call(function, args) => {
                if function.name != "nix" {
                    self.report(suggest(
                        Diagnostic::new(Code::E0208, function.span, format!("unknown function `{}`", function.name))
                            .with_primary_label("no such function"),
                        &function.name,
                        ["nix", "len"],
                        "the functions are `nix(\"…\")`, for raw Nix code, and `len(list)`",
                    ));
                    return None;
                }
                let [arg] = args.as_slice() else {
                    self.report(
                        Diagnostic::new(
                            Code::E0301,
                            span,
                            format!("`nix` takes one string, found {} arguments", args.len()),
                        )
                        .with_primary_label("one string expected")
                        .with_help("write `nix(\"pkgs.postgresql_16\")`"),
                    );
                    return None;
                };
                let value = self.expr(arg)?;
                match value.kind {
                    ValueKind::Str(code) => ValueKind::Nix(code),
                    other => {
                        self.report(
                            Diagnostic::new(
                                Code::E0301,
                                arg.span,
                                format!("expected string, found {}", other.type_name()),
                            )
                            .with_primary_label("`nix` takes the Nix code as a string")
                            .with_help("write `nix(\"pkgs.postgresql_16\")`"),
                        );
                        return None;
                    }
                }
            }
            ExprKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), lhs, rhs) => {
                return self.logical(*op, lhs, rhs, span);
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let (lhs, rhs) = (self.expr(lhs)?, self.expr(rhs)?);
                if op.compares() {
                    return self.compare(*op, lhs, rhs, span);
                }
                return self.binary(*op, lhs, rhs, span);
            }
            ExprKind::Not(operand) => {
                let value = self.expr(operand)?;
                match value.kind {
                    ValueKind::Bool(b) => ValueKind::Bool(!b),
                    other => {
                        self.report(
                            Diagnostic::new(Code::E0403, span, format!("cannot apply `!` to {}", other.type_name()))
                                .with_primary_label("`!` negates a boolean")
                                .with_help("compare first, as in `!(replicas > 1)`"),
                        );
                        return None;
                    }
                }
            }
            ExprKind::Neg(operand) => {
                let value = self.expr(operand)?;
                match value.kind {
                    ValueKind::Int(n) => match n.checked_neg() {
                        Some(n) => ValueKind::Int(n),
                        None => return self.overflow(span),
                    },
                    other => {
                        self.report(
                            Diagnostic::new(Code::E0403, span, format!("cannot negate {}", other.type_name()))
                                .with_primary_label("only integers can be negated")
                                .with_help("remove the `-`"),
                        );
                        return None;
                    }
                }
            }
            ExprKind::Range(start, end, inclusive) => return self.range(start, end, *inclusive, span),
            ExprKind::ListFor(list_for) => return self.list_for(list_for, span),
            ExprKind::NamedRef(named) => return self.named_ref(named, span),
        };
        Some(Value { kind, span })
    }

    fn negative_or_overflow(&mut self, op: BinaryOp, what: &str, span: crate::source::Span) -> Option<Value> {
        if op != BinaryOp::Sub {
            return self.overflow(span);
        }
        self.report(
            Diagnostic::new(Code::E0402, span, format!("a {what} cannot be negative"))
                .with_primary_label("the right side is larger")
                .with_help(format!("subtract a smaller {what}")),
        );
        None
    }

    fn overflow(&mut self, span: crate::source::Span) -> Option<Value> {
        self.report(
            Diagnostic::new(Code::E0402, span, "integer overflow")
                .with_primary_label("the result does not fit in 64 bits")
                .with_help("use smaller numbers"),
        );
        None
    }

    fn range(&mut self, start: &'a Expr, end: &'a Expr, inclusive: bool, span: crate::source::Span) -> Option<Value> {
        let (first, last) = (self.expr(start)?, self.expr(end)?);
        let (ValueKind::Int(from), ValueKind::Int(to)) = (&first.kind, &last.kind) else {
            let culprit = if matches!(first.kind, ValueKind::Int(_)) { &last } else { &first };
            self.report(
                Diagnostic::new(
                    Code::E0403,
                    culprit.span,
                    format!("a range runs between integers, found {}", culprit.kind.type_name()),
                )
                .with_primary_label("not an integer")
                .with_help("write a range as `1..=8`"),
            );
            return None;
        };
        let to = if inclusive { to.saturating_add(1) } else { *to };
        let count = to.saturating_sub(*from).max(0);
        if count > MAX_RANGE {
            self.report(
                Diagnostic::new(
                    Code::E0401,
                    span,
                    format!("range of {count} items is larger than the limit of {MAX_RANGE}"),
                )
                .with_primary_label("too many items")
                .with_help("expand fewer items; an estate this large belongs in several loops or files"),
            );
            return None;
        }
        if !self.spend(count as u64, span) {
            return None;
        }
        let items = (*from..to).map(|n| Value { kind: ValueKind::Int(n), span }).collect();
        Some(Value { kind: ValueKind::List(items), span })
    }

    /// `name` is a variable or a symbol; `kind.name…` and `step.name` are references;
    /// `variable.field…` reads a field of a bound record, or extends the path of a bound reference.
    /// `path[index].rest`: the path with the index's value as one more name, so a reference
    /// keeps it in its field path (`service.nats.member[2].url` is `member.2.url`) and a bound
    /// list is read at that position.
    fn indexed(&mut self, indexed: &'a crate::syntax::ast::IndexedPath, span: Span) -> Option<Value> {
        let index = self.expr(&indexed.index)?;
        let ValueKind::Int(number) = index.kind else {
            self.report(
                Diagnostic::new(
                    Code::E0301,
                    index.span,
                    format!("an index is an integer, not {}", index.kind.type_name()),
                )
                .with_primary_label("not an integer")
                .with_help("index with an integer, counted from 0: `member[0]`"),
            );
            return None;
        };
        if number < 0 {
            self.report(
                Diagnostic::new(Code::E0307, index.span, format!("index {number} is negative"))
                    .with_primary_label("indexes count from 0")
                    .with_help("index with an integer, counted from 0: `member[0]`"),
            );
            return None;
        }
        let at = crate::syntax::ast::Ident { name: number.to_string().as_str().into(), span: indexed.index.span };
        let path: Vec<crate::syntax::ast::Ident> =
            indexed.path.iter().cloned().chain(std::iter::once(at)).chain(indexed.rest.iter().cloned()).collect();
        self.path(&path, span)
    }

    fn path(&mut self, path: &[crate::syntax::ast::Ident], span: crate::source::Span) -> Option<Value> {
        let [first, rest @ ..] = path else { return None };
        if let Some(value) = self.lookup(&first.name, first.span) {
            let mut value = value?;
            // A loop variable bound to a row: what is read from it keeps the row's places.
            let row = self.locals.iter().rposition(|(n, _)| *n == first.name).and_then(|at| self.row_bound_at(at));
            let row_span = row.and_then(|iteration| iteration.row());
            for (depth, field) in rest.iter().enumerate() {
                // A variable bound to a reference (`param primary` given `service.db`) reads where
                // the resource is as the reference itself would: `primary.host` is
                // `service.db.host`, resolved by the target that writes it.
                if let ValueKind::Ref(reference) = &mut value.kind {
                    reference.field.extend(rest[depth..].iter().map(|f| f.name.as_str().to_owned()));
                    break;
                }
                let next = match &value.kind {
                    ValueKind::Record(record) | ValueKind::Tagged(_, record) => {
                        record.get(field.name.as_str()).map(|f| f.value.clone())
                    }
                    // An index (`list[1]`) reads a list's item.
                    ValueKind::List(items) => field.name.parse::<usize>().ok().and_then(|i| items.get(i)).cloned(),
                    _ => None,
                };
                match next {
                    Some(next) => value = next,
                    None if row.is_some()
                        && row_span.is_some_and(|r| {
                            r.file == value.span.file && r.start <= value.span.start && value.span.end <= r.end
                        }) =>
                    {
                        let diagnostic = row.map(|iteration| self.missing_in_row(iteration, &value, field, depth == 0));
                        if let Some(diagnostic) = diagnostic {
                            self.report(diagnostic);
                        }
                        return None;
                    }
                    None => {
                        self.report(
                            Diagnostic::new(
                                Code::E0303,
                                field.span,
                                format!("{} has no field `{}`", value.kind.type_name(), field.name),
                            )
                            .with_primary_label("no such field")
                            .with_help("read a field the value has"),
                        );
                        return None;
                    }
                }
            }
            if row_span.is_some() {
                if let Some(reads) = &mut self.row_reads {
                    reads.push(value.span);
                }
            } else {
                value.span = span;
            }
            return Some(value);
        }
        if rest.is_empty() {
            // `as_str().to_owned()`: an atom's `to_string` goes through `Display`, here per symbol.
            return Some(Value { kind: ValueKind::Symbol(first.name.as_str().to_owned()), span });
        }
        if Kind::from_name(&first.name).is_some() || first.name == "step" {
            let [name, field @ ..] = rest else { return None };
            let reference = Reference {
                kind: first.name.as_str().to_owned(),
                name: name.name.as_str().to_owned(),
                field: field.iter().map(|f| f.name.as_str().to_owned()).collect(),
                built: false,
            };
            return Some(Value { kind: ValueKind::Ref(Box::new(reference)), span });
        }
        let candidates: Vec<&str> = self.variable_names().chain(Kind::ALL.iter().map(|k| k.as_str())).collect();
        self.report(suggest(
            Diagnostic::new(Code::E0208, first.span, format!("unknown variable or kind `{}`", first.name))
                .with_primary_label("not a `let`, a parameter, a loop variable or a kind"),
            &first.name,
            candidates,
            "a dotted path starts with a kind (`service.db`) or a bound variable",
        ));
        None
    }

    /// Evaluates the parts of a string and joins their text forms. A hole holding where a service
    /// is (`${service.loki.url}`) has a text form only per target: the string stays a template
    /// ([`ValueKind::Template`]) of text and those references, which each target fills.
    fn string(&mut self, parts: &'a [StrPart], span: Span) -> Option<ValueKind> {
        let mut template = Template::default();
        for part in parts {
            match part {
                StrPart::Text(text) => template.push_text(text),
                StrPart::Interpolation(expr) => {
                    if let ExprKind::Path(path) = &expr.kind
                        && let [only] = path.as_slice()
                        && self.lookup(&only.name, only.span).is_none()
                    {
                        let candidates: Vec<&str> = self.variable_names().collect();
                        self.report(suggest(
                            Diagnostic::new(Code::E0208, only.span, format!("unknown variable `{}`", only.name))
                                .with_primary_label("not bound by `let`, a parameter or a loop"),
                            &only.name,
                            candidates,
                            "bind it with `let` first, or write `\\${` for a literal `${`",
                        ));
                        return None;
                    }
                    let mut value = self.expr(expr)?;
                    value.span = expr.span;
                    if !self.hole(&mut template, value) {
                        return None;
                    }
                }
            }
        }
        self.template_within_limit(template, span)
    }

    /// Adds an interpolated value to `template`: its text, or the reference it is when that is
    /// where a service is; anything else is reported (false).
    fn hole(&mut self, template: &mut Template, value: Value) -> bool {
        if let Some(text) = text_form(&value.kind) {
            template.push_text(&text);
            return true;
        }
        match value.kind {
            ValueKind::Ref(reference) if reference.kind == "secret" => {
                self.report(
                    Diagnostic::new(
                        Code::E0409,
                        value.span,
                        format!("the secret `{}` is interpolated into a string", reference.name),
                    )
                    .with_primary_label("a secret's value never enters a plain string")
                    .with_help(
                        "give the secret to the program whole (`env { KEY = secret.NAME }`, a secret in `helm.values`), \
                         and let the program build the string; or keep the whole string in the secret",
                    ),
                );
                false
            }
            ValueKind::Ref(reference)
                if reference.kind == "service" && Endpoint::part_of(&reference.field).is_some() =>
            {
                template.parts.push(Value { kind: ValueKind::Ref(reference), span: value.span });
                true
            }
            ValueKind::Template(inner) => {
                for part in inner.parts {
                    match part.kind {
                        ValueKind::Str(text) => template.push_text(&text),
                        _ => template.parts.push(part),
                    }
                }
                true
            }
            kind => {
                let help = match &kind {
                    ValueKind::Ref(_) => {
                        "a string holds where a service is (`service.NAME.host`, `.port`, `.url`, `.port.PORT`, `.url.PORT`), \
                         which each target fills; write other references as whole values"
                    }
                    _ => "interpolate strings, numbers, durations, sizes, addresses, ports and where a service is",
                };
                self.report(
                    Diagnostic::new(Code::E0405, value.span, format!("cannot interpolate {}", kind.type_name()))
                        .with_primary_label("this has no text form")
                        .with_help(help),
                );
                false
            }
        }
    }

    /// The string `template` spells, or the template itself when it holds references; refused
    /// when its text is longer than a literal may be.
    fn template_within_limit(&mut self, template: Template, span: Span) -> Option<ValueKind> {
        if template.parts.is_empty() {
            return Some(ValueKind::Str(String::new()));
        }
        if let [Value { kind: ValueKind::Str(_), .. }] = template.parts.as_slice() {
            let Some(Value { kind: ValueKind::Str(text), .. }) = template.parts.into_iter().next() else { return None };
            return self.string_within_limit(text, span).map(ValueKind::Str);
        }
        let length: usize =
            template.parts.iter().map(|p| if let ValueKind::Str(t) = &p.kind { t.len() } else { 0 }).sum();
        if length > MAX_STRING_LEN {
            self.too_long(length, span);
            return None;
        }
        Some(ValueKind::Template(Box::new(template)))
    }

    /// Refuses a string that interpolation or `+` made longer than a literal may be.
    fn string_within_limit(&mut self, text: String, span: Span) -> Option<String> {
        if text.len() <= MAX_STRING_LEN {
            return Some(text);
        }
        self.too_long(text.len(), span);
        None
    }

    fn too_long(&mut self, length: usize, span: Span) {
        self.report(
            Diagnostic::new(
                Code::E0408,
                span,
                format!("this string is {length} bytes long, more than the limit of {MAX_STRING_LEN}"),
            )
            .with_primary_label("built too long")
            .with_help("interpolation and `+` build strings no longer than a string literal may be"),
        );
    }

    fn binary(&mut self, op: BinaryOp, lhs: Value, rhs: Value, span: crate::source::Span) -> Option<Value> {
        use ValueKind::*;
        let int = |a: i64, b: i64| -> Option<i64> {
            match op {
                BinaryOp::Add => a.checked_add(b),
                BinaryOp::Sub => a.checked_sub(b),
                BinaryOp::Mul => a.checked_mul(b),
                BinaryOp::Div => a.checked_div(b),
                BinaryOp::Rem => a.checked_rem(b),
                // Comparisons and `&&`/`||` are evaluated in `logic.rs`, never here.
                _ => None,
            }
        };
        let unsigned = |a: u64, b: u64| -> Option<u64> {
            match op {
                BinaryOp::Add => a.checked_add(b),
                BinaryOp::Sub => a.checked_sub(b),
                _ => None,
            }
        };
        let scaled = |a: u64, b: i64| -> Option<u64> {
            let b = u64::try_from(b).ok()?;
            match op {
                BinaryOp::Mul => a.checked_mul(b),
                BinaryOp::Div => a.checked_div(b),
                _ => None,
            }
        };
        let divides = match lhs.kind {
            Int(_) => matches!(op, BinaryOp::Div | BinaryOp::Rem),
            Duration(_) | Size(_) => op == BinaryOp::Div,
            _ => false,
        };
        if divides && matches!(rhs.kind, Int(0)) {
            self.report(
                Diagnostic::new(Code::E0402, rhs.span, "division by zero")
                    .with_primary_label("this is zero")
                    .with_help("divide by a number other than zero"),
            );
            return None;
        }
        let result = match (&lhs.kind, &rhs.kind) {
            (Int(a), Int(b)) => match int(*a, *b) {
                Some(n) => Int(n),
                None => return self.overflow(span),
            },
            (Str(a), Str(b)) if op == BinaryOp::Add => Str(self.string_within_limit(format!("{a}{b}"), span)?),
            // A string joined to where a service is (`"http://" + service.loki.host`), or to a
            // string holding one, is a template.
            (Str(_) | Template(_) | Ref(_), Str(_) | Template(_) | Ref(_))
                if op == BinaryOp::Add
                    && [&lhs.kind, &rhs.kind].iter().any(|k| matches!(k, Str(_) | Template(_)))
                    && [&lhs.kind, &rhs.kind].iter().all(|k| match k {
                        Ref(r) => r.kind == "service" && Endpoint::part_of(&r.field).is_some(),
                        _ => true,
                    }) =>
            {
                let mut template = super::value::Template::default();
                for side in [lhs.clone(), rhs.clone()] {
                    if !self.hole(&mut template, side) {
                        return None;
                    }
                }
                self.template_within_limit(template, span)?
            }
            (Duration(a), Duration(b)) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => match unsigned(*a, *b) {
                Some(n) => Duration(n),
                None => return self.negative_or_overflow(op, "duration", span),
            },
            (Size(a), Size(b)) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => match unsigned(*a, *b) {
                Some(n) => Size(n),
                None => return self.negative_or_overflow(op, "size", span),
            },
            (Int(b), Duration(a)) if op == BinaryOp::Mul && *b > 0 => match scaled(*a, *b) {
                Some(n) => Duration(n),
                None => return self.overflow(span),
            },
            (Int(b), Size(a)) if op == BinaryOp::Mul && *b > 0 => match scaled(*a, *b) {
                Some(n) => Size(n),
                None => return self.overflow(span),
            },
            (Duration(a), Int(b)) if matches!(op, BinaryOp::Mul | BinaryOp::Div) && *b > 0 => match scaled(*a, *b) {
                Some(n) => Duration(n),
                None => return self.overflow(span),
            },
            (Size(a), Int(b)) if matches!(op, BinaryOp::Mul | BinaryOp::Div) && *b > 0 => match scaled(*a, *b) {
                Some(n) => Size(n),
                None => return self.overflow(span),
            },
            (Duration(_) | Size(_), Int(_)) | (Int(_), Duration(_) | Size(_))
                if matches!(op, BinaryOp::Mul | BinaryOp::Div) =>
            {
                self.report(
                    Diagnostic::new(Code::E0403, span, "durations and sizes scale by a positive integer")
                        .with_primary_label("the integer is zero or negative")
                        .with_help("multiply or divide by a whole number above zero"),
                );
                return None;
            }
            (a, b) => {
                self.report(
                    Diagnostic::new(
                        Code::E0403,
                        span,
                        format!("cannot apply `{}` to {} and {}", op.as_str(), a.type_name(), b.type_name()),
                    )
                    .with_primary_label(format!("{} {} {}", a.type_name(), op.as_str(), b.type_name()))
                    .with_help(
                        "arithmetic works on integers, `+` joins strings, durations and sizes add and subtract, and scale by positive integers",
                    ),
                );
                return None;
            }
        };
        Some(Value { kind: result, span })
    }
}
