//! `kind."name".field…`: a reference whose name a string builds, such as
//! `service."mcp-${row.name}".url` in a loop over the table the services were declared from.
//!
//! The string is evaluated to plain text and the reference is then what `kind.name.field…`
//! written out would be: it stays symbolic, is resolved with every other reference after the
//! blocks are expanded (an unknown name is E0201 there), and is a way in where a program reads
//! where a service is.

use super::Evaluator;
use super::value::{Reference, Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic, suggest};
use crate::model::Kind;
use crate::source::Span;
use crate::syntax::ast::NamedRef;

impl<'a> Evaluator<'a> {
    /// The reference `named` builds, written at `span`.
    pub(super) fn named_ref(&mut self, named: &'a NamedRef, span: Span) -> Option<Value> {
        let kind = &named.kind;
        if Kind::from_name(&kind.name).is_none() && kind.name != "step" {
            self.report(suggest(
                Diagnostic::new(Code::E0208, kind.span, format!("unknown kind `{}`", kind.name))
                    .with_primary_label("a string after `.` names a resource of a kind")
                    .with_label(named.name.span, "the resource's name"),
                &kind.name,
                Kind::ALL.iter().map(|k| k.as_str()),
                "write `kind.\"name\"`, as in `service.\"mcp-${row.name}\".url`",
            ));
            return None;
        }
        let name = self.expr(&named.name)?;
        let ValueKind::Str(text) = name.kind else {
            self.report(
                Diagnostic::new(
                    Code::E0412,
                    named.name.span,
                    format!("the name of a {} is built as a {}, not plain text", kind.name, name.kind.type_name()),
                )
                .with_primary_label("not a name")
                .with_help("build the name from text, numbers and a loop's variables, as in `\"mcp-${row.name}\"`"),
            );
            return None;
        };
        let reference = Reference {
            kind: kind.name.as_str().to_owned(),
            name: text,
            field: named.field.iter().map(|f| f.name.as_str().to_owned()).collect(),
            built: true,
        };
        Some(Value { kind: ValueKind::Ref(Box::new(reference)), span })
    }
}
