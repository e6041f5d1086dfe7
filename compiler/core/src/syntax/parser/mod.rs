//! The parser: a recursive-descent reader over the lexer's tokens that builds the [`ast`] and
//! recovers from mistakes.
//!
//! Each function's doc comment states the grammar production it reads; together they are the
//! grammar reference. Recovery: a malformed item skips to the next line that starts an item, a
//! malformed entry to the next `,`, line break or `}` of its body, so three separate mistakes give
//! three errors and not a cascade.
//!
//! Invariants: never panics; recursion is bounded by [`MAX_DEPTH`] (deeper input is reported once
//! and skipped with an iterative scan); at most [`MAX_ERRORS`] diagnostics per file, after which the
//! parser stops reading that file.

mod env;
mod expr;
mod list_for;

use rustc_hash::FxHashMap;

use super::ast::*;
use super::lexer::{Lexer, Literal, Token, TokenKind, describe};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The deepest nesting of blocks, lists, maps, parentheses and interpolations accepted. Real
/// estates nest fewer than ten levels; the cap keeps recursion far from the stack limit.
pub const MAX_DEPTH: usize = 128;

/// The number of syntax errors after which a file is abandoned: past that point the input is not
/// spec text, and more errors help nobody.
pub const MAX_ERRORS: usize = 100;

/// Parses one file. Always returns a tree; problems are in the diagnostics.
///
/// A large file is read in pieces side by side, cut before lines that start with a declaration
/// keyword. When every piece reads without a single diagnostic, the pieces' items are the file's:
/// each cut then lies between two declarations, where a reader of the whole file starts the
/// second one afresh (a cut anywhere else leaves a piece with an unclosed brace, an unfinished
/// string or a declaration missing its end, which is a diagnostic; `tests/pieces.rs` holds this
/// on mutated files). Otherwise the whole file is read again in one pass, so diagnostics and
/// recovery are exactly the one reader's.
pub fn parse_file(src: &str, file: FileId) -> (File, Vec<Diagnostic>) {
    if src.len() >= PIECE_MIN_BYTES
        && crate::parallel::cores() > 1
        && let Some(tree) = parse_in_pieces(src, file, crate::parallel::cores())
    {
        return (tree, Vec::new());
    }
    parse_range(src, file, 0, src.len())
}

/// What [`parse_file`] does with a large file, whatever its size: the tree read in up to `count`
/// pieces side by side, or `None` when a piece reports anything (or there is no cut).
pub fn parse_in_pieces(src: &str, file: FileId, count: usize) -> Option<File> {
    let cuts = pieces(src, count);
    if cuts.is_empty() {
        return None;
    }
    parse_pieces(src, file, &cuts).map(|items| File { items })
}

/// Below this size a file is read in one pass: a thread costs more than reading it.
const PIECE_MIN_BYTES: usize = 1 << 20;

/// Reads `src[start..end]` as a sequence of items.
fn parse_range(src: &str, file: FileId, start: usize, end: usize) -> (File, Vec<Diagnostic>) {
    let mut parser = Parser::new(src, file, start, end, 0);
    let mut items = Vec::new();
    while !parser.at_end() {
        if let Some(item) = parser.item() {
            items.push(item);
        }
    }
    parser.finish();
    (File { items }, parser.diagnostics)
}

/// The items of `src` read in the pieces between `cuts`, each on a core of its own; `None` when
/// any piece reports anything.
fn parse_pieces(src: &str, file: FileId, cuts: &[usize]) -> Option<Vec<Item>> {
    let mut bounds = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts.iter().chain([&src.len()]) {
        bounds.push((start, cut));
        start = cut;
    }
    let read = crate::parallel::map_chunks(bounds, 1, |pieces| {
        pieces.into_iter().map(|(start, end)| parse_range(src, file, start, end)).collect::<Vec<_>>()
    });
    let mut items = Vec::new();
    for (tree, diagnostics) in read.into_iter().flatten() {
        if !diagnostics.is_empty() {
            return None;
        }
        items.extend(tree.items);
    }
    Some(items)
}

/// Up to `count - 1` offsets cutting `src` into pieces of about equal size, each at the line break
/// before a line that starts with a declaration keyword and a space (`service web {`).
/// The line break stays with the next piece, so its first token starts a line there as in the
/// whole file.
fn pieces(src: &str, count: usize) -> Vec<usize> {
    let bytes = src.as_bytes();
    let mut cuts = Vec::new();
    for i in 1..count {
        let mut at = (src.len() / count * i).max(cuts.last().map_or(0, |c| c + 1));
        while let Some(newline) = bytes.get(at..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) {
            let line = at + newline + 1;
            let rest = bytes.get(line..).unwrap_or_default();
            let declares =
                DECLARATION_KEYWORDS.iter().any(|k| rest.starts_with(k.as_bytes()) && rest.get(k.len()) == Some(&b' '));
            if declares {
                cuts.push(line - 1);
                break;
            }
            at = line;
        }
    }
    cuts
}

/// The keywords that start a top-level declaration.
const DECLARATION_KEYWORDS: &[&str] = &[
    "import", "let", "env", "for", "preset", "assert", "node", "network", "cluster", "storage", "service", "alert",
    "backup", "workflow", "secret",
];

struct Parser<'s> {
    src: &'s str,
    file: FileId,
    lexer: Lexer<'s>,
    token: Token,
    prev_end: u32,
    depth: usize,
    diagnostics: Vec<Diagnostic>,
    gave_up: bool,
    /// Set while reading a `for` iterable, where `name {` opens the loop body rather than a tagged
    /// record (as Rust forbids struct literals in `for` heads).
    no_tagged: bool,
    /// Whether the lexer reported a problem while scanning the current token, so the parser does
    /// not report a second error for the same mistake.
    token_after_lex_error: bool,
    /// Set once an unclosed `{` has been reported: the enclosing bodies close silently.
    unwinding: bool,
    /// The atoms of this file by text, so each distinct name is allocated once. Per parse, so no
    /// state outlives the call and the tree does not depend on what was parsed before.
    atoms: FxHashMap<&'s str, Atom>,
    /// The entries of the bodies being read, innermost last: each body takes its own off the top
    /// when it closes, into a vector of exactly their number (no growth, no spare capacity).
    open_entries: Vec<Entry>,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, file: FileId, start: usize, end: usize, depth: usize) -> Parser<'s> {
        let mut lexer = Lexer::new(src, file, start, end);
        let token = lexer.next_token();
        Parser {
            src,
            file,
            lexer,
            token,
            prev_end: start as u32,
            depth,
            diagnostics: Vec::new(),
            gave_up: false,
            no_tagged: false,
            token_after_lex_error: false,
            unwinding: false,
            atoms: FxHashMap::default(),
            open_entries: Vec::new(),
        }
    }

    /// The shared atom for `text`.
    fn atom(&mut self, text: &'s str) -> Atom {
        self.atoms.entry(text).or_insert_with(|| Atom::from(text)).clone()
    }

    /// The shared atom for the source text at `span`.
    fn atom_at(&mut self, span: Span) -> Atom {
        let text = self.text(span);
        self.atom(text)
    }

    /// Moves the lexer's diagnostics into the parser's, in source order.
    fn finish(&mut self) {
        self.diagnostics.append(&mut self.lexer.diagnostics);
        self.diagnostics.sort_by_key(|d| (d.primary.span.start, d.primary.span.end));
        self.diagnostics.truncate(MAX_ERRORS + 1);
    }

    fn at_end(&self) -> bool {
        self.token.kind == TokenKind::Eof || self.gave_up
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.token.kind == kind
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.token.kind == TokenKind::Ident && self.text(self.token.span) == keyword
    }

    fn text(&self, span: Span) -> &'s str {
        self.src.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    fn bump(&mut self) -> Token {
        let token = self.token;
        self.prev_end = token.span.end;
        let lexer_errors = self.lexer.diagnostics.len();
        self.token = self.lexer.next_token();
        self.token_after_lex_error = self.lexer.diagnostics.len() > lexer_errors;
        if self.diagnostics.len() + self.lexer.diagnostics.len() >= MAX_ERRORS {
            self.give_up();
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        if self.at(kind) { Some(self.bump()) } else { None }
    }

    fn span_from(&self, start: Span) -> Span {
        Span { file: self.file, start: start.start, end: self.prev_end.max(start.start) }
    }

    fn give_up(&mut self) {
        if !self.gave_up {
            self.gave_up = true;
            if let Some(last) = self.diagnostics.last_mut().or(self.lexer.diagnostics.last_mut()) {
                last.notes.push(format!("stopped reading this file after {MAX_ERRORS} errors"));
            }
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
        if self.diagnostics.len() + self.lexer.diagnostics.len() >= MAX_ERRORS {
            self.give_up();
        }
    }

    /// Reports "expected X, found Y" at the current token, unless the lexer already reported it.
    fn expected(&mut self, what: &str) {
        let found = self.token;
        let already_reported =
            matches!(found.kind, TokenKind::Str { valid: false } | TokenKind::Literal(Literal::Invalid))
                || self.token_after_lex_error;
        if already_reported || self.gave_up || self.unwinding {
            return;
        }
        let found_text = match found.kind {
            TokenKind::Ident => format!("`{}`", self.text(found.span)),
            kind => describe(kind).to_string(),
        };
        let diagnostic = Diagnostic::new(Code::E0101, found.span, format!("expected {what}, found {found_text}"))
            .with_primary_label(format!("expected {what}"))
            .with_help(help_for_expected(what));
        self.push(diagnostic);
    }

    fn ident(&mut self, what: &str) -> Option<Ident> {
        if self.at(TokenKind::Ident) {
            let token = self.bump();
            Some(Ident { name: self.atom_at(token.span), span: token.span })
        } else {
            self.expected(what);
            None
        }
    }

    /// Consumes one token, or a whole bracketed group, iteratively.
    fn skip_balanced(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.token.kind {
                TokenKind::Eof => return,
                TokenKind::LBrace | TokenKind::LBracket | TokenKind::LParen => depth += 1,
                TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
            if depth == 0 {
                return;
            }
        }
    }

    /// Skips to where the next item can start: a line that begins with a name, outside brackets
    /// (the current token, when the failed item stopped right before such a line).
    fn recover_item(&mut self) {
        if self.token.newline_before && self.at(TokenKind::Ident) && self.token.span.start > 0 {
            return;
        }
        loop {
            self.skip_balanced();
            if self.at(TokenKind::Eof) || (self.token.newline_before && self.at(TokenKind::Ident)) {
                return;
            }
        }
    }

    /// Skips to the end of a body entry: a `,` (consumed), a line break or the body's `}`.
    fn recover_entry(&mut self) {
        loop {
            if self.eat(TokenKind::Comma).is_some() {
                return;
            }
            if self.at(TokenKind::RBrace) || self.at(TokenKind::Eof) {
                return;
            }
            self.skip_balanced();
            if self.token.newline_before {
                return;
            }
        }
    }

    /// Enters one level of nesting opened by `opener`; on the limit, reports E0105 at the opener,
    /// abandons the file and returns false.
    fn enter(&mut self, opener: Span) -> bool {
        if self.depth >= MAX_DEPTH {
            let span = opener;
            self.push(
                Diagnostic::new(Code::E0105, span, format!("nesting deeper than {MAX_DEPTH} levels"))
                    .with_primary_label("too deep from here on")
                    .with_help("flatten the structure: declare nested parts as their own blocks or `let` bindings"),
            );
            // Nothing more of this file is worth reading once it nests this deep.
            self.gave_up = true;
            return false;
        }
        self.depth += 1;
        true
    }

    /// `item = import | let | env | for | preset | assert | block`
    fn item(&mut self) -> Option<Item> {
        self.unwinding = false;
        let start = self.token.span;
        if !self.at(TokenKind::Ident) {
            self.expected("a declaration");
            self.recover_item();
            return Some(Item::Error(self.span_from(start)));
        }
        let keyword = self.text(start);
        let item = match keyword {
            "import" => self.import(),
            "let" => self.let_item(),
            "env" => self.env(),
            "for" => self.for_item(),
            "preset" => self.preset(),
            "assert" => {
                self.bump();
                self.assertion(start).map(Item::Assert)
            }
            _ => self.block().map(Item::Block),
        };
        match item {
            Some(item) => {
                // A `}` may close a one-line `for` body right after its last item.
                if !self.at_end() && !self.token.newline_before && !self.at(TokenKind::RBrace) {
                    let span = self.token.span;
                    let found = match self.token.kind {
                        TokenKind::Ident => format!("`{}`", self.text(span)),
                        kind => describe(kind).to_string(),
                    };
                    self.push(
                        Diagnostic::new(Code::E0101, span, format!("unexpected {found} after the end of a declaration"))
                            .with_primary_label("expected a line break before this")
                            .with_help("each declaration starts on a line of its own; check the line above for an unfinished expression"),
                    );
                    self.recover_item();
                }
                Some(item)
            }
            None => {
                self.recover_item();
                Some(Item::Error(self.span_from(start)))
            }
        }
    }

    /// `import = "import" ident ("." ident)*`
    fn import(&mut self) -> Option<Item> {
        let start = self.bump().span;
        let path = self.dotted("a module name such as `std.postgres`")?;
        Some(Item::Import(Import { path, span: self.span_from(start) }))
    }

    fn dotted(&mut self, what: &str) -> Option<Vec<Ident>> {
        let mut path = vec![self.ident(what)?];
        while self.eat(TokenKind::Dot).is_some() {
            path.push(self.ident(what)?);
        }
        Some(path)
    }

    /// `let = "let" ident "=" expr`
    fn let_item(&mut self) -> Option<Item> {
        let start = self.bump().span;
        let name = self.ident("a name for the binding")?;
        let eq = self.eat(TokenKind::Eq).or_else(|| {
            self.expected("`=`");
            None
        })?;
        let value = self.value_after(eq.span)?;
        Some(Item::Let(Let { name, value, span: self.span_from(start) }))
    }

    /// `for = "for" ident "in" expr "{" item* "}"`
    fn for_item(&mut self) -> Option<Item> {
        let start = self.bump().span;
        self.for_rest(start)
    }

    /// A `for` loop after its keyword, written at `start`.
    fn for_rest(&mut self, start: Span) -> Option<Item> {
        let var = self.ident("a loop variable")?;
        if !self.at_keyword("in") {
            self.expected("`in`");
            return None;
        }
        self.bump();
        self.no_tagged = true;
        let iterable = self.expr();
        self.no_tagged = false;
        let iterable = iterable?;
        let open = self.open_brace()?;
        if !self.enter(open) {
            return None;
        }
        let mut items = Vec::new();
        while !self.at(TokenKind::RBrace) && !self.at_end() {
            if let Some(item) = self.item() {
                items.push(item);
            }
        }
        self.depth -= 1;
        self.close_brace(open);
        Some(Item::For(For { var, iterable, items, span: self.span_from(start) }))
    }

    /// `assert = "assert" expr "," expr`, after the keyword (at `start`): the condition, then the
    /// message on the same line.
    fn assertion(&mut self, start: Span) -> Option<Assert> {
        let cond = self.expr()?;
        if self.eat(TokenKind::Comma).is_none() {
            if self.token.newline_before {
                let at = self.span_from(start);
                self.push(
                    Diagnostic::new(Code::E0101, at, "expected `,` and the assertion's message")
                        .with_primary_label("an assertion without a message")
                        .with_help("say what must hold: `assert replicas >= 3, \"at least three replicas\"`"),
                );
            } else {
                self.expected("`,` and the assertion's message");
            }
            return None;
        }
        if self.token.newline_before {
            let at = self.span_from(start);
            self.push(
                Diagnostic::new(Code::E0101, at, "expected the assertion's message after `,`")
                    .with_primary_label("no message on this line")
                    .with_help(
                        "write the message on the same line: `assert replicas >= 3, \"at least three replicas\"`",
                    ),
            );
            return None;
        }
        let message = self.expr()?;
        Some(Assert { cond, message, span: self.span_from(start) })
    }

    /// `preset = "preset" ident "for" ident body`
    fn preset(&mut self) -> Option<Item> {
        let start = self.bump().span;
        let name = self.ident("the preset's name")?;
        if !self.at_keyword("for") {
            self.expected("`for` and the kind the preset applies to");
            return None;
        }
        self.bump();
        let kind = self.ident("a kind such as `service`")?;
        let body = self.body()?;
        Some(Item::Preset(Preset { name, kind, body, span: self.span_from(start) }))
    }

    /// `block = ident name body` where `name = ident | string`
    fn block(&mut self) -> Option<Block> {
        let kind_token = self.bump();
        let kind = Ident { name: self.atom_at(kind_token.span), span: kind_token.span };
        self.block_rest(kind)
    }

    /// A block after its kind.
    fn block_rest(&mut self, kind: Ident) -> Option<Block> {
        let name = self.name("a name for the block")?;
        let body = self.body()?;
        let span = self.span_from(kind.span);
        Some(Block { kind, name, body, span })
    }

    /// `name = ident | string`
    fn name(&mut self, what: &str) -> Option<Name> {
        match self.token.kind {
            TokenKind::Ident => self.ident(what).map(Name::Ident),
            TokenKind::Str { .. } => {
                let token = self.bump();
                Some(Name::Str(Box::new(self.string(token))))
            }
            _ => {
                self.expected(what);
                None
            }
        }
    }

    /// `key = ident | string`
    fn key(&mut self, what: &str) -> Option<Key> {
        match self.token.kind {
            TokenKind::Ident => {
                let token = self.bump();
                Some(Key { name: self.atom_at(token.span), span: token.span, quoted: false })
            }
            TokenKind::Str { valid: true } => {
                let token = self.bump();
                let expr = self.string(token);
                match expr.kind {
                    ExprKind::Str(parts) => match parts.as_slice() {
                        [] => Some(Key { name: Atom::default(), span: token.span, quoted: true }),
                        [StrPart::Text(text)] => {
                            let name =
                                self.atoms.get(text.as_str()).cloned().unwrap_or_else(|| Atom::from(text.as_str()));
                            Some(Key { name, span: token.span, quoted: true })
                        }
                        _ => {
                            self.push(
                                Diagnostic::new(Code::E0101, token.span, "a key cannot interpolate")
                                    .with_primary_label("this key uses `${…}`")
                                    .with_help("write the key as plain text"),
                            );
                            None
                        }
                    },
                    _ => None,
                }
            }
            _ => {
                self.expected(what);
                None
            }
        }
    }

    fn open_brace(&mut self) -> Option<Span> {
        match self.eat(TokenKind::LBrace) {
            Some(token) => Some(token.span),
            None => {
                self.expected("`{`");
                None
            }
        }
    }

    fn close_brace(&mut self, open: Span) {
        if self.eat(TokenKind::RBrace).is_some() {
            return;
        }
        if self.at(TokenKind::Eof) {
            self.unclosed(open, None);
        } else if self.at_declaration_start() {
            let declaration = self.token.span;
            self.unclosed(open, Some(declaration));
        } else {
            self.expected("`}`");
        }
    }

    /// Whether the current token starts a line at column 1 with a declaration keyword: inside a
    /// body, that means the body's `}` was forgotten.
    fn at_declaration_start(&self) -> bool {
        let start = self.token.span.start as usize;
        self.at(TokenKind::Ident)
            && (start == 0 || self.src.as_bytes().get(start - 1) == Some(&b'\n'))
            && DECLARATION_KEYWORDS.contains(&self.text(self.token.span))
    }

    /// Reports an unclosed `{` once: the innermost block gets the error and the enclosing ones
    /// close silently. An unterminated string inside the block already explains it.
    /// `declaration` is the declaration found inside the block, or `None` at the end of the file.
    fn unclosed(&mut self, open: Span, declaration: Option<Span>) {
        if self.unwinding {
            return;
        }
        self.unwinding = true;
        let explained =
            self.lexer.diagnostics.iter().any(|d| d.code == Code::E0102 && d.primary.span.start > open.start);
        if !explained {
            let diagnostic = Diagnostic::new(Code::E0104, open, "unclosed `{`")
                .with_primary_label("this `{` is never closed")
                .with_help("add the missing `}`");
            let diagnostic = match declaration {
                Some(span) => diagnostic.with_label(span, "the next declaration starts inside the block"),
                None => diagnostic.with_note("the file ends inside this block"),
            };
            self.push(diagnostic);
        }
    }

    /// Reads `(entry ("," | newline))* "}"` after an opening brace, calling `entry` for each.
    fn entries(&mut self, open: Span, mut entry: impl FnMut(&mut Self) -> Option<()>) {
        if !self.enter(open) {
            return;
        }
        while !self.at(TokenKind::RBrace) && !self.at_end() {
            if self.at_declaration_start() {
                // A declaration at the start of a line inside a body: the body's `}` is missing.
                self.depth -= 1;
                let declaration = self.token.span;
                self.unclosed(open, Some(declaration));
                return;
            }
            if entry(self).is_none() {
                self.recover_entry();
                continue;
            }
            if self.eat(TokenKind::Comma).is_none()
                && !self.at(TokenKind::RBrace)
                && !self.token.newline_before
                && !self.at_end()
            {
                self.expected("`,` or a new line between entries");
                self.recover_entry();
            }
        }
        self.depth -= 1;
        self.close_brace(open);
    }

    /// `body = "{" (entry ("," | newline))* "}"`
    fn body(&mut self) -> Option<Body> {
        let open = self.open_brace()?;
        let first = self.open_entries.len();
        self.entries(open, |p| {
            let start = p.token.span;
            match p.entry() {
                Some(entry) => {
                    p.open_entries.push(entry);
                    Some(())
                }
                None => {
                    // Keep a marker so later stages know the body is incomplete.
                    p.open_entries.push(Entry::Error(start));
                    None
                }
            }
        });
        // Every tree is alive until evaluation ends: spare capacity would be most of its memory.
        let entries: Vec<Entry> = self.open_entries.drain(first..).collect();
        Some(Body { entries, span: self.span_from(open) })
    }

    /// `entry = "use" ident ("." ident)* body? | "param" ident ("=" expr)? | assert
    ///        | key "=" expr | key body | key name body`
    fn entry(&mut self) -> Option<Entry> {
        let start = self.token.span;
        if self.at_keyword("use") {
            self.bump();
            let preset = self.dotted("a preset such as `std.postgres`")?;
            let args = if self.at(TokenKind::LBrace) { self.body()? } else { Body::default() };
            return Some(Entry::Use { preset, args, span: self.span_from(start) });
        }
        if self.at_keyword("assert") {
            let keyword = self.bump();
            if !self.at(TokenKind::Eq) {
                return self.assertion(start).map(|assert| Entry::Assert(Box::new(assert)));
            }
            // `assert = …`: a field that happens to be called `assert`.
            let key = Key { name: self.atom_at(keyword.span), span: keyword.span, quoted: false };
            let eq = self.bump().span;
            let value = self.value_after(eq)?;
            return Some(Entry::Field { key, value });
        }
        if self.at_keyword("param") {
            self.bump();
            let name = self.ident("the parameter's name")?;
            let default = match self.eat(TokenKind::Eq) {
                Some(eq) => Some(Box::new(self.value_after(eq.span)?)),
                None => None,
            };
            return Some(Entry::Param { name, default, span: self.span_from(start) });
        }
        let key = self.key("a field name")?;
        match self.token.kind {
            TokenKind::Eq => {
                let eq = self.bump().span;
                let value = self.value_after(eq)?;
                Some(Entry::Field { key, value })
            }
            TokenKind::LBrace => {
                let body = self.body()?;
                Some(Entry::Record { key, body })
            }
            TokenKind::Ident | TokenKind::Str { .. } if !self.token.newline_before => {
                let label = self.name("a member name")?;
                if !self.at(TokenKind::LBrace) {
                    // `os nixos`: a forgotten `=`, not a member without its body.
                    let span = label.span();
                    self.push(
                        Diagnostic::new(
                            Code::E0101,
                            span,
                            format!("expected `=` between `{}` and its value", key.name),
                        )
                        .with_primary_label("a value without `=` before it")
                        .with_help(format!("write `{} = {}`", key.name, self.text(span))),
                    );
                    return None;
                }
                let body = self.body()?;
                Some(Entry::Member { key, label: Box::new(label), body })
            }
            _ => {
                self.expected("`=`, `{` or a member name after the field name");
                None
            }
        }
    }
}

fn help_for_expected(what: &str) -> String {
    match what {
        "a declaration" => "a file holds `import`, `let`, `env`, `for`, `preset`, `assert` and blocks such as `service NAME { … }`".into(),
        "a value" => "values are strings, numbers, durations, sizes, addresses, ports, lists `[…]`, maps `{…}` and references such as `service.db`".into(),
        "`,` or a new line between entries" => "separate entries with `,` or put each on its own line".into(),
        "`=`, `{` or a member name after the field name" => "write `field = value`, `field { … }` or `field NAME { … }`".into(),
        _ => format!("write {what} here"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence of a name in a file, interpolations and quoted keys included, is the
    /// same allocation; different texts are different atoms.
    #[test]
    fn a_name_is_allocated_once_per_file() {
        let src =
            "let image = \"a\"\nservice web { image = image, tag = \"${image}\" }\nservice db { \"image\" = 1 }\n";
        let (file, diagnostics) = parse_file(src, FileId(0));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let mut images = Vec::new();
        let mut tag = None;
        for item in &file.items {
            match item {
                Item::Let(decl) => images.push(decl.name.name.clone()),
                Item::Block(block) => {
                    for entry in &block.body.entries {
                        let Entry::Field { key, value } = entry else { panic!("a field: {entry:?}") };
                        if key.name == "tag" {
                            tag = Some(key.name.clone());
                        } else {
                            images.push(key.name.clone());
                        }
                        match &value.kind {
                            ExprKind::Path(path) => images.push(path[0].name.clone()),
                            ExprKind::Str(parts) => {
                                if let [StrPart::Interpolation(Expr { kind: ExprKind::Path(path), .. })] =
                                    parts.as_slice()
                                {
                                    images.push(path[0].name.clone());
                                }
                            }
                            _ => {}
                        }
                    }
                }
                other => panic!("unexpected item {other:?}"),
            }
        }
        assert_eq!(images.len(), 5, "{images:?}");
        let first = images[0].as_ptr();
        assert!(images.iter().all(|name| name == "image" && name.as_ptr() == first), "{images:?}");
        let tag = tag.expect("the tag key");
        assert_eq!(tag, "tag");
        assert_ne!(tag.as_ptr(), first);
    }
}
