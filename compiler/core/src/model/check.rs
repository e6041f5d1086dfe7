//! The type checker: walks each resource's record against the JSON Schema its kind's struct
//! derives, reporting unknown fields (with did-you-mean), missing required fields, type mismatches,
//! symbols outside an enum, references to the wrong kind and numbers out of range.
//!
//! It also normalises values in place where a literal form was written as a string (an address
//! built by interpolation, `"10.0.0.${n}"`) or a name as a string, so the deserialiser sees one
//! form per type. Everything it accepts deserialises; that is the invariant [`super::de`] relies on.

use serde_json::Value as Json;

use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::eval::value::{Record, Value, ValueKind};
use crate::source::Span;
use crate::syntax::lexer::{Literal, classify_number};

/// Checks values against one root schema (whose `$defs` hold the shared definitions).
pub struct Checker<'s> {
    root: &'s Json,
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
    pub fn new(root: &'s Json) -> Checker<'s> {
        Checker { root, report_missing: true, diagnostics: Vec::new() }
    }

    /// Follows `$ref`s to the schema they name.
    pub fn resolve(&self, mut schema: &'s Json) -> &'s Json {
        for _ in 0..16 {
            match as_str(schema, "$ref").and_then(|r| r.strip_prefix("#/$defs/")) {
                Some(name) => match self.root.get("$defs").and_then(|d| d.get(name)) {
                    Some(target) => schema = target,
                    None => return schema,
                },
                None => return schema,
            }
        }
        schema
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
                "any" => "any value".into(),
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
            let forms: Vec<String> = branches.iter().map(|b| self.describe(b)).collect();
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

    fn mismatch(&mut self, value: &Value, schema: &'s Json, field: &str) {
        let expected = self.describe(schema);
        let found = value.kind.type_name();
        let mut diagnostic =
            Diagnostic::new(Code::E0301, value.span, format!("expected {expected} for `{field}`, found {found}"))
                .with_primary_label(format!("this is {}", with_article(&found)));
        let kind = as_str(self.resolve(schema), "x-spec-type");
        let help = match (&value.kind, kind) {
            (ValueKind::Int(n), Some("size")) => format!("add a unit, as in `{n}GiB` or `{n}MiB`"),
            (ValueKind::Int(n), Some("duration")) => format!("add a unit, as in `{n}s` or `{n}m`"),
            (ValueKind::Int(n), Some("port")) => format!("add the protocol, as in `{n}/tcp`"),
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

    /// Checks a value against a schema; returns whether it fits.
    pub fn check(&mut self, value: &mut Value, schema: &'s Json, field: &str) -> bool {
        let schema = self.resolve(schema);
        if let Some(kind) = as_str(schema, "x-spec-type") {
            return self.literal(value, schema, kind, field);
        }
        if let Some(branches) = self.branches(schema, "oneOf") {
            return self.variant(value, schema, &branches, field);
        }
        if let Some(branches) = self.branches(schema, "anyOf") {
            return self.any_of(value, schema, &branches, field);
        }
        if let Some(allowed) = schema.get("enum").and_then(Json::as_array) {
            return self.symbol(value, schema, allowed, field);
        }
        let types = Self::types(schema);
        let fits = match (&mut value.kind, types.first().copied()) {
            (ValueKind::Str(_), Some("string")) | (ValueKind::Bool(_), Some("boolean")) => return true,
            (ValueKind::Int(n), Some("integer")) => return self.range(*n, value.span, schema, field),
            (ValueKind::List(items), Some("array")) => {
                let Some(item_schema) = schema.get("items") else { return true };
                let mut ok = true;
                for item in items {
                    ok &= self.check(item, item_schema, field);
                }
                return ok;
            }
            (ValueKind::Record(record), Some("object")) => {
                let span = value.span;
                return self.record(record, schema, field, span);
            }
            _ => false,
        };
        if !fits {
            self.mismatch(value, schema, field);
        }
        fits
    }

    fn range(&mut self, n: i64, span: Span, schema: &Json, field: &str) -> bool {
        // The Rust type's own bounds (`format: uint32`) hold even where the schema names no maximum.
        let format_max = match as_str(schema, "format") {
            Some("uint8") => Some(i64::from(u8::MAX)),
            Some("uint16") => Some(i64::from(u16::MAX)),
            Some("uint32") => Some(i64::from(u32::MAX)),
            Some("int32") => Some(i64::from(i32::MAX)),
            _ => None,
        };
        let min = schema.get("minimum").and_then(Json::as_i64);
        let max = match (schema.get("maximum").and_then(Json::as_i64), format_max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let in_range = min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
        if !in_range {
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
        in_range
    }

    /// Checks a record against an object schema: a struct (properties) or a map
    /// (additionalProperties).
    pub fn record(&mut self, record: &mut Record, schema: &'s Json, field: &str, span: Span) -> bool {
        let Some(properties) = schema.get("properties").and_then(Json::as_object) else {
            let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) else { return true };
            let mut ok = true;
            for (key, entry) in record.iter_mut() {
                ok &= self.check(&mut entry.value, values, &format!("{field}.{key}"));
            }
            return ok;
        };
        let mut ok = true;
        for (key, entry) in record.iter_mut() {
            let path = if field.is_empty() { key.clone() } else { format!("{field}.{key}") };
            match properties.get(key) {
                Some(property) => ok &= self.check(&mut entry.value, property, &path),
                None => {
                    ok = false;
                    let names: Vec<&str> = properties.keys().map(String::as_str).collect();
                    let what = if field.is_empty() { String::new() } else { format!(" in `{field}`") };
                    let mut diagnostic =
                        Diagnostic::new(Code::E0303, entry.key_span, format!("unknown field `{key}`{what}"))
                            .with_primary_label("not a field of this schema");
                    diagnostic = match did_you_mean(key, names.iter().copied()) {
                        Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")),
                        None => diagnostic.with_help(format!("the fields are {}", quoted_list(names.iter().copied()))),
                    };
                    self.diagnostics.push(diagnostic);
                }
            }
        }
        let required = schema.get("required").and_then(Json::as_array);
        for name in required.into_iter().flatten().filter_map(Json::as_str) {
            if !record.contains_key(name) {
                ok = false;
                if !self.report_missing {
                    continue;
                }
                let property = properties.get(name).map(|p| self.resolve(p));
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
        }
        ok
    }

    fn symbol(&mut self, value: &mut Value, schema: &'s Json, allowed: &'s [Json], field: &str) -> bool {
        let names: Vec<&str> = allowed.iter().filter_map(Json::as_str).collect();
        match &value.kind {
            ValueKind::Symbol(s) | ValueKind::Str(s) => {
                if names.contains(&s.as_str()) {
                    value.kind = ValueKind::Symbol(s.clone());
                    return true;
                }
                let diagnostic = Diagnostic::new(Code::E0304, value.span, format!("`{s}` is not a valid `{field}`"))
                    .with_primary_label(format!("expected one of {}", quoted_list(names.iter().copied())));
                let diagnostic = match did_you_mean(s, names.iter().copied()) {
                    Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")),
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

    fn variant(&mut self, value: &mut Value, schema: &'s Json, branches: &[&'s Json], field: &str) -> bool {
        let tags: Vec<&str> = branches.iter().filter_map(|b| variant_tag(b)).collect();
        let span = value.span;
        match &mut value.kind {
            ValueKind::Tagged(tag, record) => {
                let branch =
                    branches.iter().find(|b| variant_tag(b) == Some(tag.as_str()) && b.get("properties").is_some());
                match branch.and_then(|b| b.get("properties")).and_then(|p| p.get(tag.as_str())) {
                    Some(inner) => {
                        let inner = self.resolve(inner);
                        let path = format!("{field}.{tag}");
                        self.record(record, inner, &path, span)
                    }
                    None => {
                        let message = format!("`{tag}` is not a valid `{field}`");
                        // A tagged record's span starts at its tag.
                        let tag_span = Span { end: span.start + tag.len() as u32, ..span };
                        self.unknown_variant(tag_span, message, tag, &tags);
                        false
                    }
                }
            }
            ValueKind::Symbol(s) | ValueKind::Str(s) => {
                let unit = branches.iter().any(|b| {
                    b.get("enum")
                        .and_then(Json::as_array)
                        .is_some_and(|e| e.iter().any(|v| v.as_str() == Some(s.as_str())))
                        || b.get("const").and_then(Json::as_str) == Some(s.as_str())
                });
                if unit {
                    value.kind = ValueKind::Symbol(s.clone());
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
                let message = format!("`{s}` is not a valid `{field}`");
                let s = s.clone();
                self.unknown_variant(span, message, &s, &tags);
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
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")),
            None => diagnostic.with_help(format!("write one of {}", quoted_list(tags.iter().copied()))),
        };
        self.diagnostics.push(diagnostic);
    }

    fn any_of(&mut self, value: &mut Value, schema: &'s Json, branches: &[&'s Json], field: &str) -> bool {
        if let [only] = branches {
            return self.check(value, only, field);
        }
        for branch in branches {
            let mut attempt = value.clone();
            let mut scratch = Checker::new(self.root);
            if scratch.check(&mut attempt, branch, field) {
                *value = attempt;
                return true;
            }
        }
        self.mismatch(value, schema, field);
        false
    }

    fn literal(&mut self, value: &mut Value, schema: &'s Json, kind: &str, field: &str) -> bool {
        // An interpolated string stands for the literal it spells, as in `"10.0.0.${n}"`.
        if let ValueKind::Str(text) = &value.kind
            && matches!(kind, "duration" | "size" | "address" | "cidr" | "port")
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
        let fits = match (kind, &value.kind) {
            ("any", _) => true,
            ("duration", ValueKind::Duration(_))
            | ("size", ValueKind::Size(_))
            | ("address", ValueKind::Ip(_))
            | ("cidr", ValueKind::Cidr(..))
            | ("port", ValueKind::Port(..))
            | ("name", ValueKind::Symbol(_)) => true,
            ("name", ValueKind::Str(s)) => {
                value.kind = ValueKind::Symbol(s.clone());
                true
            }
            ("reference", ValueKind::Ref(reference)) => {
                let kinds: Vec<&str> = schema
                    .get("x-spec-ref")
                    .and_then(Json::as_array)
                    .map(|a| a.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default();
                if kinds.contains(&reference.kind.as_str()) && !reference.field.is_empty() {
                    let expected = self.describe(schema);
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
                    return false;
                } else if kinds.contains(&reference.kind.as_str()) {
                    true
                } else {
                    let expected = self.describe(schema);
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
                    return false;
                }
            }
            _ => false,
        };
        if !fits {
            self.mismatch(value, schema, field);
        }
        fits
    }
}

fn variant_tag(branch: &Json) -> Option<&str> {
    if let Some(tag) = branch.get("required").and_then(Json::as_array).and_then(|r| r.first()).and_then(Json::as_str) {
        return Some(tag);
    }
    branch
        .get("const")
        .and_then(Json::as_str)
        .or_else(|| branch.get("enum").and_then(Json::as_array).and_then(|e| e.first()).and_then(Json::as_str))
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
