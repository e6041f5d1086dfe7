//! Semantic tokens: every comment, keyword, kind, field key, name, symbol, string and number of a
//! file (or of the top-level declarations around a range), classified for highlighting.
//!
//! The classes come from the lexer's tokens and their neighbours rather than from the tree, so a
//! half-typed line is highlighted as it reads: a word before `=` is a key, a word after `kind.` a
//! name, a word after `=` a symbol (or a `let`/parameter/loop variable when the file binds that
//! name). Comments are the `#` runs the lexer skips between two tokens.
//!
//! Invariant: tokens come in text order, never overlap, and each lies inside the text; a range
//! request lexes from the start of the top-level declaration holding the range's start, so its
//! cost is the size of the declarations it covers.

use std::collections::HashSet;

use super::live::item_span;
use crate::model::Kind;
use crate::source::FileId;
use crate::syntax::ast::{self, Entry, Item};
use crate::syntax::lexer::{Lexer, TokenKind};

/// What a token is, for highlighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// `# …`
    Comment,
    /// `import`, `let`, `use`, a block's kind, `true`.
    Keyword,
    /// The kind of a reference: `service` in `service.db`.
    Type,
    /// A field key.
    Property,
    /// A symbol value or a variant tag: `nixos`, `http { … }`.
    EnumMember,
    /// A resource's name, declared or referenced, or a `let`/loop variable.
    Variable,
    /// A preset parameter.
    Parameter,
    /// A function (`nix`).
    Function,
    /// A module path: `std.postgres`.
    Namespace,
    /// A string.
    String,
    /// A number-like literal: `8`, `5m`, `2TiB`, `10.0.0.1`, `443/tcp`.
    Number,
}

impl Class {
    /// Every class, in the order their indices are given to the editor.
    pub const ALL: [Class; 11] = [
        Class::Comment,
        Class::Keyword,
        Class::Type,
        Class::Property,
        Class::EnumMember,
        Class::Variable,
        Class::Parameter,
        Class::Function,
        Class::Namespace,
        Class::String,
        Class::Number,
    ];

    /// The protocol's name of the class (`enumMember`).
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Comment => "comment",
            Class::Keyword => "keyword",
            Class::Type => "type",
            Class::Property => "property",
            Class::EnumMember => "enumMember",
            Class::Variable => "variable",
            Class::Parameter => "parameter",
            Class::Function => "function",
            Class::Namespace => "namespace",
            Class::String => "string",
            Class::Number => "number",
        }
    }
}

/// One classified stretch of text (byte offsets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    /// The first byte.
    pub start: u32,
    /// The byte after the last.
    pub end: u32,
    /// What it is.
    pub class: Class,
    /// Whether it declares what it names (a block's name, a `let`'s name).
    pub declaration: bool,
}

const KEYWORDS: [&str; 9] = ["import", "let", "preset", "for", "in", "use", "param", "assert", "step"];

/// The names a file binds with `let`, loops and preset parameters (their uses are variables).
fn bound_names(file: &ast::File) -> (HashSet<&str>, HashSet<&str>) {
    let mut variables = HashSet::new();
    let mut parameters = HashSet::new();
    let mut stack: Vec<&Item> = file.items.iter().collect();
    while let Some(item) = stack.pop() {
        match item {
            Item::Let(decl) => {
                variables.insert(decl.name.name.as_str());
            }
            Item::For(decl) => {
                variables.insert(decl.var.name.as_str());
                stack.extend(&decl.items);
            }
            Item::Preset(decl) => {
                for entry in &decl.body.entries {
                    if let Entry::Param { name, .. } = entry {
                        parameters.insert(name.name.as_str());
                    }
                }
            }
            _ => {}
        }
    }
    (variables, parameters)
}

/// The tokens of `text` (whose tree is `file`) that overlap `range` (all of them when `None`).
pub fn tokens(text: &str, file_id: FileId, file: &ast::File, range: Option<(u32, u32)>) -> Vec<SemanticToken> {
    let (from, to) = range.unwrap_or((0, text.len() as u32));
    // Lex from the start of the top-level item holding `from` (a token boundary), or from the
    // end of the item before it.
    let holding = file.items.partition_point(|item| item_span(item).end <= from);
    let start = match file.items.get(holding) {
        Some(item) if item_span(item).start <= from => item_span(item).start,
        _ => holding.checked_sub(1).and_then(|i| file.items.get(i)).map_or(0, |item| item_span(item).end),
    };
    let (variables, parameters) = bound_names(file);
    let mut lexer = Lexer::new(text, file_id, start as usize, text.len());
    let mut out: Vec<SemanticToken> = Vec::new();
    // The last two significant tokens: their kind and text.
    let mut previous: [(TokenKind, &str); 2] = [(TokenKind::Eof, ""); 2];
    let mut gap_start = start;
    let mut token = lexer.next_token();
    let mut expect_name = false;
    loop {
        comments(text, gap_start, token.span.start, &mut out);
        if token.kind == TokenKind::Eof || token.span.start >= to {
            break;
        }
        let next = lexer.next_token();
        let word = text.get(token.span.start as usize..token.span.end as usize).unwrap_or("");
        let [before, before_that] = previous;
        let mut declaration = false;
        let class = match token.kind {
            TokenKind::Str { .. } | TokenKind::RawStr => {
                if expect_name && token.kind != TokenKind::RawStr && next.kind == TokenKind::LBrace {
                    declaration = true;
                    Some(Class::Variable)
                } else {
                    Some(Class::String)
                }
            }
            TokenKind::Literal(_) => Some(Class::Number),
            TokenKind::Ident => Some(ident_class(
                word,
                (token.newline_before || before.0 == TokenKind::Eof, before, before_that),
                next.kind,
                (expect_name, &mut declaration),
                (&variables, &parameters),
            )),
            _ => None,
        };
        // A block's kind or a member's key is followed by the name it declares.
        expect_name = token.kind == TokenKind::Ident
            && matches!(next.kind, TokenKind::Ident | TokenKind::Str { .. })
            && !matches!(before.0, TokenKind::Dot)
            && matches!(class, Some(Class::Keyword | Class::Property))
            && !matches!(word, "import" | "use" | "let" | "for" | "in" | "param" | "assert");
        if let Some(class) = class {
            out.push(SemanticToken { start: token.span.start, end: token.span.end, class, declaration });
        }
        previous = [(token.kind, word), before];
        gap_start = token.span.end;
        token = next;
    }
    out.retain(|t| t.end > from && t.start < to || t.start == from);
    out
}

/// The class of a word, from the tokens around it.
fn ident_class(
    word: &str,
    (line_start, before, before_that): (bool, (TokenKind, &str), (TokenKind, &str)),
    next: TokenKind,
    (expect_name, declaration): (bool, &mut bool),
    (variables, parameters): (&HashSet<&str>, &HashSet<&str>),
) -> Class {
    let after_dot = before.0 == TokenKind::Dot;
    if after_dot {
        // `std.postgres`, `service.db`, `service.db.port`, `step.extract`.
        let head = before_that.1;
        if head == "std" {
            return Class::Namespace;
        }
        if before_that.0 == TokenKind::Ident && (Kind::from_name(head).is_some() || head == "step") {
            return Class::Variable;
        }
        return Class::Property;
    }
    if next == TokenKind::Dot && (Kind::from_name(word).is_some() || word == "step") {
        return Class::Type;
    }
    if word == "std" && next == TokenKind::Dot {
        return Class::Namespace;
    }
    if expect_name && matches!(next, TokenKind::LBrace | TokenKind::Ident) {
        *declaration = true;
        return Class::Variable;
    }
    if before.1 == "for" && Kind::from_name(word).is_some() && next == TokenKind::LBrace {
        // `preset small for service {`
        return Class::Keyword;
    }
    if before.1 == "let" || before.1 == "for" {
        *declaration = true;
        return Class::Variable;
    }
    if before.1 == "param" {
        *declaration = true;
        return Class::Parameter;
    }
    if next == TokenKind::LParen {
        return Class::Function;
    }
    // An overlay's `remove service.shadow`.
    if line_start && word == "remove" && next == TokenKind::Ident {
        return Class::Keyword;
    }
    if KEYWORDS.contains(&word) && (word != "step" || next != TokenKind::Eq) {
        return Class::Keyword;
    }
    if matches!(word, "true" | "false") {
        return Class::Keyword;
    }
    // A block starts at a line's start: `service web {`, `env staging {`.
    let block = Kind::from_name(word).is_some() || word == "env";
    if line_start && block && matches!(next, TokenKind::Ident | TokenKind::Str { .. }) {
        return Class::Keyword;
    }
    let in_value = matches!(
        before.0,
        TokenKind::Eq
            | TokenKind::LBracket
            | TokenKind::Comma
            | TokenKind::Plus
            | TokenKind::Minus
            | TokenKind::Star
            | TokenKind::Slash
            | TokenKind::Percent
            | TokenKind::LParen
            | TokenKind::DotDot
            | TokenKind::DotDotEq
            | TokenKind::EqEq
            | TokenKind::NotEq
            | TokenKind::Lt
            | TokenKind::LtEq
            | TokenKind::Gt
            | TokenKind::GtEq
            | TokenKind::AndAnd
            | TokenKind::OrOr
            | TokenKind::Bang
    );
    if next == TokenKind::Eq || (!in_value && matches!(next, TokenKind::LBrace | TokenKind::Ident)) {
        return Class::Property;
    }
    if parameters.contains(word) {
        Class::Parameter
    } else if variables.contains(word) {
        Class::Variable
    } else {
        Class::EnumMember
    }
}

/// The comments in the stretch `from..to` between two tokens (nothing else is there).
fn comments(text: &str, from: u32, to: u32, out: &mut Vec<SemanticToken>) {
    let Some(gap) = text.get(from as usize..to as usize) else { return };
    let mut at = 0;
    while let Some(hash) = gap.get(at..).and_then(|rest| rest.find('#')) {
        let start = at + hash;
        let end = gap.get(start..).and_then(|rest| rest.find('\n')).map_or(gap.len(), |n| start + n);
        let end_trimmed = gap.get(start..end).map_or(end, |c| start + c.trim_end_matches('\r').len());
        out.push(SemanticToken {
            start: from + start as u32,
            end: from + end_trimmed as u32,
            class: Class::Comment,
            declaration: false,
        });
        at = end;
    }
}

/// Whether byte `offset` of `text` is inside a comment or a string (where nothing completes).
pub fn in_comment_or_string(text: &str, file_id: FileId, file: &ast::File, offset: u32) -> bool {
    let range = (offset.saturating_sub(1), offset + 1);
    tokens(text, file_id, file, Some(range)).iter().any(|t| match t.class {
        Class::Comment => t.start < offset && offset <= t.end,
        Class::String => t.start < offset && (offset < t.end || !closed(text, t)),
        _ => false,
    })
}

/// Whether a string token ends with its closing quote (an unterminated one runs to the line's end).
fn closed(text: &str, token: &SemanticToken) -> bool {
    let body = text.get(token.start as usize..token.end as usize).unwrap_or("");
    if body.starts_with("''") {
        return body.len() >= 4 && body.ends_with("''");
    }
    body.len() >= 2 && body.ends_with('"') && !body.ends_with("\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax;

    fn classes(text: &str) -> Vec<(&str, Class, bool)> {
        let (tree, _) = syntax::parse_file(text, FileId(0));
        tokens(text, FileId(0), &tree, None)
            .into_iter()
            .map(|t| (text.get(t.start as usize..t.end as usize).unwrap_or("?"), t.class, t.declaration))
            .collect()
    }

    #[test]
    fn every_word_of_a_block_is_classified() {
        use Class::*;
        let text = "import std.postgres\n# the db\nservice db {\n  on = node.prod1 # where\n  replicas = 2\n  health = http { port = \"web\" }\n  zpool tank { layout = mirror }\n  use std.postgres { version = size }\n}\nlet size = 16\n";
        assert_eq!(
            classes(text),
            [
                ("import", Keyword, false),
                ("std", Namespace, false),
                ("postgres", Namespace, false),
                ("# the db", Comment, false),
                ("service", Keyword, false),
                ("db", Variable, true),
                ("on", Property, false),
                ("node", Type, false),
                ("prod1", Variable, false),
                ("# where", Comment, false),
                ("replicas", Property, false),
                ("2", Number, false),
                ("health", Property, false),
                ("http", EnumMember, false),
                ("port", Property, false),
                ("\"web\"", String, false),
                ("zpool", Property, false),
                ("tank", Variable, true),
                ("layout", Property, false),
                ("mirror", EnumMember, false),
                ("use", Keyword, false),
                ("std", Namespace, false),
                ("postgres", Namespace, false),
                ("version", Property, false),
                ("size", Variable, false),
                ("let", Keyword, false),
                ("size", Variable, true),
                ("16", Number, false),
            ]
        );
    }

    #[test]
    fn assertions_and_their_operators() {
        use Class::*;
        let text = "preset p for service {\n  param n = 3\n  assert n >= 3 && !ready, \"m\"\n}\n";
        let found = classes(text);
        let of = |word: &str| found.iter().find(|(w, _, _)| *w == word).map(|(_, class, _)| *class);
        assert_eq!(of("assert"), Some(Keyword));
        assert_eq!(found.iter().filter(|(w, class, _)| *w == "n" && *class == Parameter).count(), 2);
        // A symbol after `!` (or `&&`, `>=`) is a value, not a field.
        assert_eq!(of("ready"), Some(EnumMember));
    }

    #[test]
    fn a_range_gives_the_tokens_of_the_declarations_it_covers() {
        let text = "node a { os = nixos }\n\nnode b { os = debian }\n";
        let (tree, _) = syntax::parse_file(text, FileId(0));
        let second = text.find("node b").unwrap_or(0) as u32;
        let found = tokens(text, FileId(0), &tree, Some((second + 5, second + 6)));
        let words: Vec<&str> = found.iter().map(|t| text.get(t.start as usize..t.end as usize).unwrap_or("")).collect();
        assert_eq!(words, ["b"]);
    }

    #[test]
    fn comments_and_strings_are_where_nothing_completes() {
        let text = "service web {\n  image = \"ngi\n  # a comm\n  env { A = ''x'' }\n}\n";
        let (tree, _) = syntax::parse_file(text, FileId(0));
        let at = |needle: &str, shift: usize| (text.find(needle).unwrap_or(0) + shift) as u32;
        assert!(in_comment_or_string(text, FileId(0), &tree, at("ngi", 3)), "an unterminated string");
        assert!(in_comment_or_string(text, FileId(0), &tree, at("comm", 2)));
        assert!(in_comment_or_string(text, FileId(0), &tree, at("x''", 1)));
        assert!(!in_comment_or_string(text, FileId(0), &tree, at("env", 1)));
        assert!(!in_comment_or_string(text, FileId(0), &tree, at("''x''", 5)), "after the closing quotes");
    }
}
