//! The outline of a file: one symbol per top-level item, with the named members of blocks
//! (`zpool tank`, `step extract`, `alert down`) as children.

use super::walk::literal_name;
use crate::source::Span;
use crate::syntax::ast::{self, Entry, Item};

/// What an outline entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A `KIND NAME { … }` block.
    Block,
    /// A named member of a block (`step extract { … }`).
    Member,
    /// `preset NAME for KIND`.
    Preset,
    /// `let NAME = …`.
    Let,
    /// `env NAME { … }`.
    Env,
    /// `import std.NAME`.
    Import,
    /// `for x in …`.
    Loop,
}

/// One entry of the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineSymbol {
    /// Its name (`db`; `worker-${i}` as written for an interpolated name).
    pub name: String,
    /// What it is, in words (`service`, `preset for service`).
    pub detail: String,
    /// What it is.
    pub kind: SymbolKind,
    /// The whole item.
    pub span: Span,
    /// Its name.
    pub name_span: Span,
    /// Its members.
    pub children: Vec<OutlineSymbol>,
}

fn name_text(text: &str, name: &ast::Name) -> String {
    literal_name(name).unwrap_or_else(|| {
        let span = name.span();
        text.get(span.start as usize..span.end as usize).unwrap_or("").to_string()
    })
}

fn members(text: &str, body: &ast::Body) -> Vec<OutlineSymbol> {
    body.entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Member { key, label, body } => Some(OutlineSymbol {
                name: name_text(text, label),
                detail: key.name.to_string(),
                kind: SymbolKind::Member,
                span: key.span.to(body.span),
                name_span: label.span(),
                children: members(text, body),
            }),
            _ => None,
        })
        .collect()
}

fn symbols(text: &str, items: &[Item], out: &mut Vec<OutlineSymbol>) {
    for item in items {
        let symbol = match item {
            Item::Block(block) => OutlineSymbol {
                name: name_text(text, &block.name),
                detail: block.kind.name.to_string(),
                kind: SymbolKind::Block,
                span: block.span,
                name_span: block.name.span(),
                children: members(text, &block.body),
            },
            Item::Preset(preset) => OutlineSymbol {
                name: preset.name.name.to_string(),
                detail: format!("preset for {}", preset.kind.name),
                kind: SymbolKind::Preset,
                span: preset.span,
                name_span: preset.name.span,
                children: Vec::new(),
            },
            Item::Let(decl) => OutlineSymbol {
                name: decl.name.name.to_string(),
                detail: "let".into(),
                kind: SymbolKind::Let,
                span: decl.span,
                name_span: decl.name.span,
                children: Vec::new(),
            },
            Item::Env(env) => OutlineSymbol {
                name: env.name.name.to_string(),
                detail: "env".into(),
                kind: SymbolKind::Env,
                span: env.span,
                name_span: env.name.span,
                children: Vec::new(),
            },
            Item::Import(import) => {
                let (Some(first), Some(last)) = (import.path.first(), import.path.last()) else { continue };
                OutlineSymbol {
                    name: import.path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join("."),
                    detail: "import".into(),
                    kind: SymbolKind::Import,
                    span: import.span,
                    name_span: first.span.to(last.span),
                    children: Vec::new(),
                }
            }
            Item::For(decl) => {
                let mut children = Vec::new();
                symbols(text, &decl.items, &mut children);
                OutlineSymbol {
                    name: format!("for {}", decl.var.name),
                    detail: "loop".into(),
                    kind: SymbolKind::Loop,
                    span: decl.span,
                    name_span: decl.var.span,
                    children,
                }
            }
            Item::Assert(_) | Item::Error(_) => continue,
        };
        out.push(symbol);
    }
}

/// The outline of a file's tree (`text` is its source, for interpolated names).
pub fn outline(text: &str, file: &ast::File) -> Vec<OutlineSymbol> {
    let mut out = Vec::new();
    symbols(text, &file.items, &mut out);
    out
}
