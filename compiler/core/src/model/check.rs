//! The type checker: walks each resource's record against the JSON Schema its kind's struct
//! derives, reporting unknown fields (with did-you-mean), missing required fields, type mismatches,
//! symbols outside an enum, references to the wrong kind and numbers out of range.
//!
//! It also normalises values in place where a literal form was written as a string (an address
//! built by interpolation, `"10.0.0.${n}"`) or a name as a string, so the deserialiser sees one
//! form per type. Everything it accepts deserialises; that is the invariant [`super::de`] relies on.

use std::fmt;

use serde_json::Value as Json;

use super::shape::{self, Form, Literal as LiteralKind, NO_SHAPES, NodeId, Object, Shapes, variant_tag};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::eval::value::{Record, Value, ValueKind};
use crate::source::Span;
use crate::syntax::lexer::{Literal, classify_number};

/// Checks values against one root schema (whose `$defs` hold the shared definitions), through
/// its compiled [`Shapes`].
pub struct Checker<'s> {
    root: &'s Json,
    shapes: &'s Shapes<'s>,
    /// Whether to report missing required fields (off for records already known incomplete).
    pub report_missing: bool,
    /// Problems found.
    pub diagnostics: Vec<Diagnostic>,
}

fn as_str<'a>(schema: &'a Json, key: &str) -> Option<&'a str> {
    schema.get(key).and_then(Json::as_str)
}

impl<'s> Checker<'s> {
    /// Creates a checker for a root schema.
    /// (Only [`Checker::resolve`] and [`Checker::describe`] are of use without compiled shapes.)
    pub fn new(root: &'s Json) -> Checker<'s> {
        Checker { root, shapes: &NO_SHAPES, report_missing: true, diagnostics: Vec::new() }
    }

    /// Creates a checker over compiled schemas.
    pub fn compiled(shapes: &'s Shapes<'s>) -> Checker<'s> {
        Checker { root: shapes.root(), shapes, report_missing: true, diagnostics: Vec::new() }
    }

    /// Follows `$ref`s to the schema they name.
    pub fn resolve(&self, schema: &'s Json) -> &'s Json {
        shape::resolve(self.root, schema)
    }

    /// The branches of an `anyOf`/`oneOf`, without `null` (absent fields are simply not set).
    fn branches(&self, schema: &'s Json, key: &str) -> Option<Vec<&'s Json>> {
        let list = schema.get(key)?.as_array()?;
        Some(list.iter().map(|b| self.resolve(b)).filter(|b| as_str(b, "type") != Some("null")).collect())
    }

    fn types(schema: &Json) -> Vec<&str> {
        match schema.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).filter(|t| *t != "null").collect(),
            _ => Vec::new(),
        }
    }

    /// Describes what a schema accepts, for messages.
    pub fn describe(&self, schema: &'s Json) -> String {
        let schema = self.resolve(schema);
        if let Some(kind) = as_str(schema, "x-spec-type") {
            return match kind {
                "reference" => {
                    let kinds: Vec<String> = schema
                        .get("x-spec-ref")
                        .and_then(Json::as_array)
                        .map(|a| a.iter().filter_map(Json::as_str).map(|k| format!("`{k}.NAME`")).collect())
                        .unwrap_or_default();
                    format!("a reference {}", kinds.join(" or "))
                }
                "cidr" => "a CIDR".into(),
                "cpu" => "a cpu amount".into(),
                "any" => "any value".into(),
                "endpoint" => "`service.NAME.host`, `.port` or `.url`".into(),
                // Text that may hold where services are: a string, to whoever writes one.
                "text" => "a string".into(),
                other => with_article(other),
            };
        }
        if let Some(values) = schema.get("enum").and_then(Json::as_array) {
            return format!("one of {}", quoted_list(values.iter().filter_map(Json::as_str)));
        }
        if let Some(branches) = self.branches(schema, "oneOf") {
            let forms: Vec<String> = branches.iter().map(|b| variant_form(b)).collect();
            return format!("one of {}", forms.join(", "));
        }
        if let Some(branches) = self.branches(schema, "anyOf") {
            let mut forms: Vec<String> = Vec::new();
            for form in branches.iter().map(|b| self.describe(b)) {
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
            return match forms.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{}, or {last}", rest.join(", ")),
                _ => forms.join(""),
            };
        }
        match Self::types(schema).first().copied() {
            Some("string") => "a string".into(),
            Some("integer") => "an integer".into(),
            Some("boolean") => "a boolean".into(),
            Some("array") => match schema.get("items") {
                Some(items) => {
                    let item = self.describe(items);
                    match strip_article(&item).strip_prefix("reference ") {
                        Some(rest) => format!("a list of references {rest}"),
                        None => format!("a list of {}", strip_article(&item)),
                    }
                }
                None => "a list".into(),
            },
            Some("object") if schema.get("properties").is_some() => "a record `{ … }`".into(),
            Some("object") => "a map `{ key = value … }`".into(),
            _ => "a value".into(),
        }
    }

    fn mismatch(&mut self, value: &Value, schema: &'s Json, field: &Path<'_>) {
        let field = &field.render();
        let expected = self.describe(schema);
        let found = value.kind.type_name();
        if let ValueKind::Template(template) = &value.kind {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0410,
                    value.span,
                    format!("`{field}` takes {expected}, found a string with references (`{}`)", template.written()),
                )
                .with_primary_label("its holes are filled per target, which this field is not")
                .with_help(
                    "references inside a string are filled in `env`, `args`, `helm { values }`, `nixos { … }` options and \
                     `files` contents; write this field's text out",
                ),
            );
            return;
        }
        let mut diagnostic =
            Diagnostic::new(Code::E0301, value.span, format!("expected {expected} for `{field}`, found {found}"))
                .with_primary_label(format!("this is {}", with_article(&found)));
        let kind = as_str(self.resolve(schema), "x-spec-type");
        let help = match (&value.kind, kind) {
            (ValueKind::Int(n), Some("size")) => format!("add a unit, as in `{n}GiB` or `{n}MiB`"),
            (ValueKind::Int(n), Some("duration")) => format!("add a unit, as in `{n}s` or `{n}m`"),
            (ValueKind::Int(n), Some("port")) => format!("add the protocol, as in `{n}/tcp`"),
            (ValueKind::Duration(_), Some("cpu")) => {
                "write whole cores (`2`) or millicores (`500m`) in the field itself, or quote a quantity (`\"500m\"`) to pass it through a name: `500m` means millicores only where a cpu amount is written".into()
            }
            (ValueKind::Symbol(s), _) if expected == "a string" => {
                format!("if `{s}` is text, quote it: `\"{s}\"`; if it is a variable, bind it with `let`")
            }
            (ValueKind::Str(_), Some("reference")) => format!("write {expected}, without quotes"),
            (ValueKind::Str(s), _) if expected == "an integer" && s.parse::<i64>().is_ok() => {
                format!("drop the quotes: `{s}`")
            }
            _ => match as_str(self.resolve(schema), "description") {
                Some(description) => format!("`{field}` is {}", lowercase_first(description.trim_end_matches('.'))),
                None => format!("write {expected} here"),
            },
        };
        diagnostic = diagnostic.with_help(help);
        self.diagnostics.push(diagnostic);
    }

    /// Checks a resource's body against the record schema the shapes were compiled from
    /// ([`Shapes::record_of`]); returns whether it fits.
    pub fn check_record(&mut self, record: &mut Record, span: Span) -> bool {
        self.record(record, self.shapes.entry(), &Path::Text(""), span)
    }

    /// Checks a value against the value schema the shapes were compiled from
    /// ([`Shapes::value_of`]), naming it `field` in messages; returns whether it fits.
    pub fn check_value(&mut self, value: &mut Value, field: &str) -> bool {
        self.check(value, self.shapes.entry(), &Path::Text(field))
    }

    /// Checks a value against a compiled schema node; returns whether it fits.
    fn check(&mut self, value: &mut Value, node: NodeId, field: &Path<'_>) -> bool {
        let shape = self.shapes.node(node);
        let fits = match (&shape.form, &mut value.kind) {
            (Form::Literal(kind), _) => return self.literal(value, shape.json, kind, field),
            (Form::Variant(variant), _) => return self.variant(value, shape.json, variant, field),
            (Form::AnyOf(branches), _) => return self.any_of(value, shape.json, branches, field),
            (Form::Symbol(names), _) => return self.symbol(value, shape.json, names, field),
            (Form::Str, ValueKind::Str(_)) | (Form::Bool, ValueKind::Bool(_)) => return true,
            (Form::Int { min, max }, ValueKind::Int(n)) => {
                let in_range = min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m);
                if !in_range {
                    self.out_of_range(*n, value.span, shape.json, (*min, *max), field);
                }
                return in_range;
            }
            (Form::List(items), ValueKind::List(values)) => {
                let Some(items) = *items else { return true };
                let mut ok = true;
                for item in values {
                    ok &= self.check(item, items, field);
                }
                return ok;
            }
            (Form::Object(_), ValueKind::Record(record)) => {
                let span = value.span;
                return self.record(record, node, field, span);
            }
            _ => false,
        };
        if !fits {
            self.mismatch(value, shape.json, field);
        }
        fits
    }

    fn out_of_range(
        &mut self,
        n: i64,
        span: Span,
        schema: &Json,
        (min, max): (Option<i64>, Option<i64>),
        field: &Path,
    ) {
        let field = field.render();
        // Name the bound that is crossed, not both.
        let bound = match (min, max) {
            (Some(lo), _) if n < lo => format!("at least {lo}"),
            (_, Some(hi)) => format!("at most {hi}"),
            _ => String::new(),
        };
        // The help gives the range the schema declares; the type's own limit only when crossed.
        let declared_max = schema.get("maximum").and_then(Json::as_i64);
        let range = match (min, declared_max) {
            (Some(lo), Some(hi)) => format!("from {lo} to {hi}"),
            _ => bound.clone(),
        };
        self.diagnostics.push(
            Diagnostic::new(Code::E0307, span, format!("`{field}` is {n}, outside its range"))
                .with_primary_label(format!("must be {bound}"))
                .with_help(format!("`{field}` takes a number {range}")),
        );
    }

    /// Checks a record against a node compiled as an object: a struct (properties) or a map
    /// (additionalProperties).
    fn record(&mut self, record: &mut Record, node: NodeId, field: &Path<'_>, span: Span) -> bool {
        let shape = self.shapes.node(node);
        let (properties, required) = match &shape.form {
            Form::Object(Object::Struct { properties, required }) => (properties, required),
            Form::Object(Object::Map(values)) => {
                let mut ok = true;
                for (key, entry) in record.iter_mut() {
                    ok &= self.check(&mut entry.value, *values, &Path::Entry(field, key));
                }
                return ok;
            }
            _ => return true,
        };
        let mut ok = true;
        for (key, entry) in record.iter_mut() {
            match properties.get(key.as_str()) {
                Some(&property) => ok &= self.check(&mut entry.value, property, &Path::Field(field, key)),
                None => {
                    ok = false;
                    self.unknown_field(shape.json, key, entry.key_span, &field.render());
                }
            }
        }
        for &name in required {
            if !record.contains_key(name) {
                ok = false;
                if self.report_missing {
                    self.missing_field(shape.json, name, span, &field.render());
                }
            }
        }
        ok
    }

    fn unknown_field(&mut self, schema: &'s Json, key: &str, key_span: Span, field: &str) {
        let names: Vec<&str> =
            schema.get("properties").and_then(Json::as_object).into_iter().flatten().map(|(k, _)| k.as_str()).collect();
        let what = if field.is_empty() { String::new() } else { format!(" in `{field}`") };
        let mut diagnostic = Diagnostic::new(Code::E0303, key_span, format!("unknown field `{key}`{what}"))
            .with_primary_label("not a field of this schema");
        diagnostic = match did_you_mean(key, names.iter().copied()) {
            Some(close) => {
                diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(key_span, key, close)
            }
            None => diagnostic.with_help(format!("the fields are {}", quoted_list(names.iter().copied()))),
        };
        self.diagnostics.push(diagnostic);
    }

    fn missing_field(&mut self, schema: &'s Json, name: &str, span: Span, field: &str) {
        let property = schema.get("properties").and_then(|p| p.get(name)).map(|p| self.resolve(p));
        let expected = property.map(|p| self.describe(p)).unwrap_or_default();
        let where_ = if field.is_empty() { String::new() } else { format!(" in `{field}`") };
        let doc = property.and_then(|p| as_str(p, "description")).unwrap_or("");
        self.diagnostics.push(
            Diagnostic::new(Code::E0302, span, format!("missing field `{name}`{where_}"))
                .with_primary_label(format!("`{name}` is required"))
                .with_help(format!(
                    "add `{name} = …`: {}{}",
                    lowercase_first(doc.trim_end_matches('.')),
                    if expected.is_empty() { String::new() } else { format!(" ({expected})") }
                )),
        );
    }

    fn symbol(&mut self, value: &mut Value, schema: &'s Json, names: &[&str], field: &Path<'_>) -> bool {
        match &value.kind {
            ValueKind::Symbol(s) | ValueKind::Str(s) => {
                if names.contains(&s.as_str()) {
                    if let ValueKind::Str(s) = &mut value.kind {
                        value.kind = ValueKind::Symbol(std::mem::take(s));
                    }
                    return true;
                }
                let field = field.render();
                let diagnostic = Diagnostic::new(Code::E0304, value.span, format!("`{s}` is not a valid `{field}`"))
                    .with_primary_label(format!("expected one of {}", quoted_list(names.iter().copied())));
                let diagnostic = match did_you_mean(s, names.iter().copied()) {
                    Some(close) => {
                        diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(value.span, s, close)
                    }
                    None => diagnostic.with_help(format!("`{field}` is one of {}", quoted_list(names.iter().copied()))),
                };
                self.diagnostics.push(diagnostic);
                false
            }
            _ => {
                self.mismatch(value, schema, field);
                false
            }
        }
    }

    fn variant(&mut self, value: &mut Value, schema: &'s Json, variant: &shape::Variant<'_>, field: &Path<'_>) -> bool {
        let tags = &variant.tags;
        let span = value.span;
        match &mut value.kind {
            ValueKind::Tagged(tag, record) => {
                match variant.tagged.iter().find(|(t, _)| *t == tag.as_str()).and_then(|(_, inner)| *inner) {
                    Some(inner) => self.record(record, inner, &Path::Entry(field, tag), span),
                    None => {
                        let message = format!("`{tag}` is not a valid `{}`", field.render());
                        // A tagged record's span starts at its tag.
                        let tag_span = Span { end: span.start + tag.len() as u32, ..span };
                        self.unknown_variant(tag_span, message, tag, tags);
                        false
                    }
                }
            }
            ValueKind::Symbol(s) | ValueKind::Str(s) => {
                if variant.units.contains(&s.as_str()) {
                    value.kind = ValueKind::Symbol(std::mem::take(s));
                    return true;
                }
                if tags.contains(&s.as_str()) {
                    self.diagnostics.push(
                        Diagnostic::new(Code::E0301, span, format!("`{s}` needs fields"))
                            .with_primary_label("written without its fields")
                            .with_help(format!("write `{s} {{ … }}` with its fields")),
                    );
                    return false;
                }
                let message = format!("`{s}` is not a valid `{}`", field.render());
                let s = s.clone();
                self.unknown_variant(span, message, &s, tags);
                false
            }
            _ => {
                self.mismatch(value, schema, field);
                false
            }
        }
    }

    fn unknown_variant(&mut self, span: Span, message: String, tag: &str, tags: &[&str]) {
        let diagnostic = Diagnostic::new(Code::E0304, span, message)
            .with_primary_label(format!("expected one of {}", quoted_list(tags.iter().copied())));
        let diagnostic = match did_you_mean(tag, tags.iter().copied()) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")).with_suggestion(span, tag, close),
            None => diagnostic.with_help(format!("write one of {}", quoted_list(tags.iter().copied()))),
        };
        self.diagnostics.push(diagnostic);
    }

    fn any_of(&mut self, value: &mut Value, schema: &'s Json, branches: &[NodeId], field: &Path<'_>) -> bool {
        if let [only] = branches {
            return self.check(value, *only, field);
        }
        // A list or a record that only one branch could hold is checked against that branch, so
        // a mistake inside it is reported where it is (`expose { http = everyone }`).
        let container = |id: &NodeId| {
            matches!(
                (&self.shapes.node(*id).form, &value.kind),
                (Form::List(_), ValueKind::List(_)) | (Form::Object(_), ValueKind::Record(_))
            )
        };
        let holding: Vec<NodeId> = branches.iter().copied().filter(container).collect();
        if let [only] = holding.as_slice() {
            return self.check(value, *only, field);
        }
        for &branch in branches {
            let mut attempt = value.clone();
            let mut scratch = Checker::compiled(self.shapes);
            if scratch.check(&mut attempt, branch, field) {
                *value = attempt;
                return true;
            }
        }
        self.mismatch(value, schema, field);
        false
    }

    fn literal(&mut self, value: &mut Value, schema: &'s Json, kind: &LiteralKind<'_>, field: &Path<'_>) -> bool {
        // An interpolated string stands for the literal it spells, as in `"10.0.0.${n}"`.
        if let ValueKind::Str(text) = &value.kind
            && matches!(
                kind,
                LiteralKind::Duration
                    | LiteralKind::Size
                    | LiteralKind::Address
                    | LiteralKind::Cidr
                    | LiteralKind::Port
            )
            && let Ok(literal) = classify_number(text)
        {
            let converted = match literal {
                Literal::Duration(ms) => Some(ValueKind::Duration(ms)),
                Literal::Size(bytes) => Some(ValueKind::Size(bytes)),
                Literal::Ip(ip) => Some(ValueKind::Ip(ip)),
                Literal::Cidr(ip, bits) => Some(ValueKind::Cidr(ip, bits)),
                Literal::Port(n, proto) if (1..=65_535).contains(&n) => Some(ValueKind::Port(n, proto)),
                _ => None,
            };
            if let Some(converted) = converted {
                value.kind = converted;
            }
        }
        if let LiteralKind::Cpu = kind {
            return self.cpu(value, schema, field);
        }
        let fits = match (kind, &mut value.kind) {
            (LiteralKind::Any, _)
            | (LiteralKind::Duration, ValueKind::Duration(_))
            | (LiteralKind::Size, ValueKind::Size(_))
            | (LiteralKind::Address, ValueKind::Ip(_))
            | (LiteralKind::Cidr, ValueKind::Cidr(..))
            | (LiteralKind::Port, ValueKind::Port(..))
            | (LiteralKind::Name, ValueKind::Symbol(_)) => true,
            (LiteralKind::Name, ValueKind::Str(s)) => {
                value.kind = ValueKind::Symbol(std::mem::take(s));
                true
            }
            (LiteralKind::Text, ValueKind::Str(_) | ValueKind::Template(_)) => true,
            (LiteralKind::Text | LiteralKind::Endpoint, ValueKind::Ref(reference)) => {
                reference.kind == "service" && super::types::Endpoint::part_of(&reference.field).is_some()
            }
            (LiteralKind::Reference(kinds), ValueKind::Ref(reference)) => {
                let known = kinds.contains(&reference.kind.as_str());
                if known && reference.field.is_empty() {
                    return true;
                }
                let field = field.render();
                let expected = self.describe(schema);
                if known {
                    let whole = format!("{}.{}", reference.kind, reference.name);
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0301,
                            value.span,
                            format!("expected {expected} for `{field}`, found a field of `{whole}`"),
                        )
                        .with_primary_label("this reads a field")
                        .with_help(format!("refer to the resource itself: `{whole}`")),
                    );
                } else {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0306,
                            value.span,
                            format!(
                                "`{field}` takes {expected}, found a reference to {} `{}`",
                                reference.kind, reference.name
                            ),
                        )
                        .with_primary_label(format!("this is a {}", reference.kind))
                        .with_help(format!(
                            "`{field}` refers to a {}",
                            quoted_list(kinds.iter().copied()).replace(" or ", " or a ")
                        )),
                    );
                }
                return false;
            }
            _ => false,
        };
        if !fits {
            self.mismatch(value, schema, field);
        }
        fits
    }
}

impl<'s> Checker<'s> {
    /// A cpu field decides what `500m` means (see [`super::types::Cpu`]): whole cores as an
    /// integer, millicores from a duration written `<digits>m` or from a quoted quantity; the
    /// value is left as the quantity's text so that checking it again reads the same amount.
    fn cpu(&mut self, value: &mut Value, schema: &'s Json, field: &Path<'_>) -> bool {
        use super::types::Cpu;
        let amount = match &value.kind {
            ValueKind::Int(n) if *n >= 1 => return true,
            ValueKind::Int(n) => {
                self.out_of_range(*n, value.span, schema, (Some(1), None), field);
                return false;
            }
            ValueKind::Duration(ms) => Cpu::from_minutes(*ms, value.span),
            ValueKind::Str(text) => Cpu::parse(text),
            _ => None,
        };
        match amount {
            Some(amount) => {
                value.kind = ValueKind::Str(amount.quantity());
                true
            }
            None => {
                self.mismatch(value, schema, field);
                false
            }
        }
    }
}

/// Where a value sits in its resource, built as the checker descends and spelled out only when a
/// message needs it (`ports.http.port`).
enum Path<'p> {
    /// A given prefix (empty at a resource's top).
    Text(&'p str),
    /// A struct field: joined with `.`, except at the top.
    Field(&'p Path<'p>, &'p str),
    /// A map entry or a variant's tag: always joined with `.`.
    Entry(&'p Path<'p>, &'p str),
}

impl Path<'_> {
    fn render(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Text(text) => f.write_str(text),
            Path::Field(parent, key) => {
                let parent = parent.to_string();
                if parent.is_empty() { f.write_str(key) } else { write!(f, "{parent}.{key}") }
            }
            Path::Entry(parent, key) => write!(f, "{parent}.{key}"),
        }
    }
}

fn variant_form(branch: &Json) -> String {
    match (variant_tag(branch), branch.get("properties").is_some()) {
        (Some(tag), true) => format!("`{tag} {{ … }}`"),
        (Some(tag), false) => format!("`{tag}`"),
        (None, _) => "a value".into(),
    }
}

/// `` `a`, `b` and `c` ``
pub fn quoted_and<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// `` `a`, `b` or `c` ``
pub fn quoted_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn strip_article(text: &str) -> &str {
    text.strip_prefix("a ").or_else(|| text.strip_prefix("an ")).unwrap_or(text)
}

fn with_article(text: &str) -> String {
    if text.starts_with('`') || text.starts_with("symbol") || text.starts_with("reference") {
        match text.split_once(' ') {
            Some(("symbol", _)) | Some(("reference", _)) => format!("a {text}"),
            _ => text.to_string(),
        }
    } else if text.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {text}")
    } else {
        format!("a {text}")
    }
}

/// Lowercases the first letter of a sentence, but not of an acronym (`CPU cores` stays).
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.clone().next()) {
        (Some(first), Some(second)) if second.is_uppercase() => std::iter::once(first).chain(chars).collect(),
        (Some(first), _) => first.to_lowercase().chain(chars).collect(),
        (None, _) => String::new(),
    }
}
