//! The expression grammar: values, operators, lists, maps, references, tagged records, calls and
//! strings with their interpolations. Part of the [`super`] parser; the same recovery and nesting
//! rules hold.

use super::{MAX_DEPTH, Parser};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::lexer::{Literal, Token, TokenKind, scan_interpolation};

impl<'s> Parser<'s> {
    /// Reads the value after `=`, which must start on the same line.
    pub(super) fn value_after(&mut self, eq: Span) -> Option<Expr> {
        if self.token.newline_before && !self.gave_up {
            self.push(
                Diagnostic::new(Code::E0101, eq, "expected a value after `=`")
                    .with_primary_label("nothing follows on this line")
                    .with_help("write the value on the same line as `=`"),
            );
            return None;
        }
        self.expr()
    }

    /// `expr = and ("||" and)*`
    pub(super) fn expr(&mut self) -> Option<Expr> {
        let mut lhs = self.and()?;
        while self.at(TokenKind::OrOr) && !self.token.newline_before {
            self.bump();
            let rhs = self.and()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Binary(BinaryOp::Or, Box::new(lhs), Box::new(rhs)), span };
        }
        Some(lhs)
    }

    /// `and = compare ("&&" compare)*`
    fn and(&mut self) -> Option<Expr> {
        let mut lhs = self.compare()?;
        while self.at(TokenKind::AndAnd) && !self.token.newline_before {
            self.bump();
            let rhs = self.compare()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Binary(BinaryOp::And, Box::new(lhs), Box::new(rhs)), span };
        }
        Some(lhs)
    }

    /// `compare = range (("==" | "!=" | "<" | "<=" | ">" | ">=") range)?`: comparisons do not
    /// chain (`a < b < c` is an error), as in Rust.
    fn compare(&mut self) -> Option<Expr> {
        let lhs = self.range()?;
        let Some(op) = self.comparison() else { return Some(lhs) };
        self.bump();
        let rhs = self.range()?;
        if let Some(again) = self.comparison() {
            let at = self.token.span;
            self.push(
                Diagnostic::new(
                    Code::E0101,
                    at,
                    format!("comparisons do not chain: `{}` after `{}`", again.as_str(), op.as_str()),
                )
                .with_primary_label("a second comparison")
                .with_help("join two comparisons with `&&`, as in `a < b && b < c`"),
            );
            return None;
        }
        let span = lhs.span.to(rhs.span);
        Some(Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span })
    }

    /// The comparison operator at the current token, unless it starts a line.
    fn comparison(&self) -> Option<BinaryOp> {
        if self.token.newline_before {
            return None;
        }
        Some(match self.token.kind {
            TokenKind::EqEq => BinaryOp::Eq,
            TokenKind::NotEq => BinaryOp::Ne,
            TokenKind::Lt => BinaryOp::Lt,
            TokenKind::LtEq => BinaryOp::Le,
            TokenKind::Gt => BinaryOp::Gt,
            TokenKind::GtEq => BinaryOp::Ge,
            _ => return None,
        })
    }

    /// `range = sum (("..=" | "..") sum)?`
    fn range(&mut self) -> Option<Expr> {
        let start = self.sum()?;
        let inclusive = match self.token.kind {
            TokenKind::DotDotEq => true,
            TokenKind::DotDot => false,
            _ => return Some(start),
        };
        self.bump();
        let end = self.sum()?;
        let span = start.span.to(end.span);
        Some(Expr { kind: ExprKind::Range(Box::new(start), Box::new(end), inclusive), span })
    }

    /// `sum = product (("+" | "-") product)*`
    fn sum(&mut self) -> Option<Expr> {
        let mut lhs = self.product()?;
        loop {
            // An operator at the start of a line begins something new (`[1` / `-2]` is two items).
            let op = match self.token.kind {
                _ if self.token.newline_before => return Some(lhs),
                TokenKind::Plus => BinaryOp::Add,
                TokenKind::Minus => BinaryOp::Sub,
                _ => return Some(lhs),
            };
            self.bump();
            let rhs = self.product()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span };
        }
    }

    /// `product = unary (("*" | "/" | "%") unary)*`
    fn product(&mut self) -> Option<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.token.kind {
                _ if self.token.newline_before => return Some(lhs),
                TokenKind::Star => BinaryOp::Mul,
                TokenKind::Slash => BinaryOp::Div,
                TokenKind::Percent => BinaryOp::Rem,
                _ => return Some(lhs),
            };
            self.bump();
            let rhs = self.unary()?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span };
        }
    }

    /// `unary = ("-" | "!") unary | primary`
    fn unary(&mut self) -> Option<Expr> {
        let negate = match self.token.kind {
            TokenKind::Minus => true,
            TokenKind::Bang => false,
            _ => return self.primary(),
        };
        let start = self.bump().span;
        if !self.enter(start) {
            return None;
        }
        let operand = self.unary();
        self.depth -= 1;
        let operand = Box::new(operand?);
        let span = start.to(operand.span);
        let kind = if negate { ExprKind::Neg(operand) } else { ExprKind::Not(operand) };
        Some(Expr { kind, span })
    }

    /// `primary = literal | string | raw_string | "true" | "false" | list | map | "(" expr ")"
    ///          | ident body | ident "(" (expr ("," expr)*)? ")" | ident ("." ident)*`
    fn primary(&mut self) -> Option<Expr> {
        let token = self.token;
        let kind = match token.kind {
            TokenKind::Literal(literal) => {
                self.bump();
                match literal {
                    Literal::Int(n) => ExprKind::Int(n),
                    Literal::Duration(ms) => ExprKind::Duration(ms),
                    Literal::Size(bytes) => ExprKind::Size(bytes),
                    Literal::Ip(ip) => ExprKind::Ip(ip),
                    Literal::Cidr(ip, bits) => ExprKind::Cidr(ip, bits),
                    Literal::Port(n, proto) => ExprKind::Port(n, proto),
                    Literal::Invalid => ExprKind::Error,
                }
            }
            TokenKind::Str { .. } => {
                self.bump();
                return Some(self.string(token));
            }
            TokenKind::RawStr => {
                self.bump();
                let inner = self.text(token.span);
                let inner = inner.get(2..inner.len().saturating_sub(2)).unwrap_or("");
                if let Some(nul) = inner.find('\0') {
                    self.nul_in_string(token.span.start as usize + 2 + nul);
                    return Some(Expr { kind: ExprKind::Error, span: token.span });
                }
                ExprKind::RawStr(dedent(inner))
            }
            TokenKind::LBracket => return self.list(),
            TokenKind::LBrace => {
                // The whole `{ … }`, so a diagnostic about a record (a table's row) shows all of it.
                let body = self.body()?;
                let span = body.span;
                return Some(Expr { kind: ExprKind::Map(Box::new(body)), span });
            }
            TokenKind::LParen => {
                self.bump();
                if !self.enter(token.span) {
                    return None;
                }
                let inner = self.expr();
                self.depth -= 1;
                let inner = inner?;
                if self.eat(TokenKind::RParen).is_none() {
                    self.expected("`)`");
                    return None;
                }
                return Some(Expr { kind: inner.kind, span: self.span_from(token.span) });
            }
            TokenKind::Ident => return self.path_or_call(),
            _ => {
                self.expected("a value");
                return None;
            }
        };
        Some(Expr { kind, span: token.span })
    }

    /// `list = "[" (expr (("," | newline) expr)* ","?)? "]" | list_for` (`list_for` in
    /// `list_for.rs`)
    fn list(&mut self) -> Option<Expr> {
        let open = self.bump().span;
        if !self.enter(open) {
            return None;
        }
        let no_tagged = std::mem::replace(&mut self.no_tagged, false);
        if self.at_list_for() {
            let list = self.list_for(open);
            self.depth -= 1;
            self.no_tagged = no_tagged;
            return list;
        }
        let mut elements = Vec::new();
        let mut ok = true;
        while !self.at(TokenKind::RBracket) && !self.at_end() {
            if !elements.is_empty() && self.at_list_for() {
                self.push(
                    Diagnostic::new(Code::E0225, self.token.span, "a list built by a loop holds nothing else")
                        .with_primary_label("a loop after other elements")
                        .with_label(open, "this list")
                        .with_help("put the other elements in the loop's table, or filter the table with `if`"),
                );
                ok = false;
                break;
            }
            if matches!(self.token.kind, TokenKind::RBrace | TokenKind::RParen) {
                self.push(
                    Diagnostic::new(Code::E0104, open, "unclosed `[`")
                        .with_primary_label("this `[` is never closed")
                        .with_help("add the missing `]`"),
                );
                ok = false;
                break;
            }
            match self.expr() {
                Some(element) => elements.push(element),
                None => {
                    ok = false;
                    break;
                }
            }
            if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RBracket) && !self.token.newline_before {
                self.expected("`,` or `]`");
                ok = false;
                break;
            }
        }
        self.depth -= 1;
        self.no_tagged = no_tagged;
        if !ok {
            return None;
        }
        if self.eat(TokenKind::RBracket).is_none() {
            if self.at(TokenKind::Eof) {
                self.push(
                    Diagnostic::new(Code::E0104, open, "unclosed `[`")
                        .with_primary_label("this `[` is never closed")
                        .with_help("add the missing `]`"),
                );
            } else {
                self.expected("`]`");
            }
            return None;
        }
        Some(Expr { kind: ExprKind::List(elements), span: self.span_from(open) })
    }

    fn path_or_call(&mut self) -> Option<Expr> {
        let first = self.ident("a name")?;
        let start = first.span;
        match self.token.kind {
            TokenKind::LBrace if !self.no_tagged => {
                let body = self.body()?;
                return Some(Expr {
                    kind: ExprKind::Tagged(Box::new(first), Box::new(body)),
                    span: self.span_from(start),
                });
            }
            TokenKind::LParen if !self.token.newline_before => {
                self.bump();
                let mut args = Vec::new();
                while !self.at(TokenKind::RParen) && !self.at_end() {
                    args.push(self.expr()?);
                    if self.eat(TokenKind::Comma).is_none() && !self.at(TokenKind::RParen) {
                        self.expected("`,` or `)`");
                        return None;
                    }
                }
                if self.eat(TokenKind::RParen).is_none() {
                    self.expected("`)`");
                    return None;
                }
                return Some(Expr { kind: ExprKind::Call(Box::new(first), args), span: self.span_from(start) });
            }
            _ => {}
        }
        let kind = match first.name.as_str() {
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            _ => {
                let mut path = vec![first];
                while self.eat(TokenKind::Dot).is_some() {
                    if path.len() == 1 && matches!(self.token.kind, TokenKind::Str { .. }) {
                        return self.named_ref(path.remove(0), start);
                    }
                    path.push(self.ident("a name after `.`")?);
                }
                // `service.nats.member[i].url`: one index, on the same line, after a dotted path.
                if path.len() > 1 && self.at(TokenKind::LBracket) && !self.token.newline_before {
                    self.bump();
                    let index = self.expr()?;
                    if self.eat(TokenKind::RBracket).is_none() {
                        self.expected("`]`");
                        return None;
                    }
                    let mut rest = Vec::new();
                    while self.eat(TokenKind::Dot).is_some() {
                        rest.push(self.ident("a name after `.`")?);
                    }
                    ExprKind::Indexed(Box::new(crate::syntax::ast::IndexedPath { path, index, rest }))
                } else {
                    ExprKind::Path(path)
                }
            }
        };
        Some(Expr { kind, span: self.span_from(start) })
    }

    /// `kind."name" ("." ident)*`, after `kind.`: a reference whose name a string builds.
    fn named_ref(&mut self, kind: Ident, start: Span) -> Option<Expr> {
        let token = self.bump();
        let name = self.string(token);
        let mut field = Vec::new();
        while self.eat(TokenKind::Dot).is_some() {
            field.push(self.ident("a name after `.`")?);
        }
        let named = NamedRef { kind, name, field };
        Some(Expr { kind: ExprKind::NamedRef(Box::new(named)), span: self.span_from(start) })
    }

    /// Reports a NUL character at `at` inside a string: Nix strings, unit files and C strings end
    /// at a NUL, so no back end could write the text as it is.
    fn nul_in_string(&mut self, at: usize) {
        self.push(
            Diagnostic::new(Code::E0107, Span::new(self.file, at, at + 1), "a NUL character inside a string")
                .with_primary_label("NUL")
                .with_help("remove it: no target can hold a NUL in text (Nix strings and unit files end there)"),
        );
    }

    /// Decodes a string token into text parts and interpolations.
    pub(super) fn string(&mut self, token: Token) -> Expr {
        let span = token.span;
        if token.kind != (TokenKind::Str { valid: true }) {
            return Expr { kind: ExprKind::Error, span };
        }
        let (start, end) = (span.start as usize + 1, span.end as usize - 1);
        let bytes = self.src.as_bytes();
        // Most strings are one part: room for exactly one (a pushed-to empty vector holds four).
        let mut parts = Vec::with_capacity(1);
        let mut text = String::new();
        let mut i = start;
        let mut run = start;
        let mut ok = true;
        while i < end {
            match bytes.get(i) {
                Some(b'\\') => {
                    text.push_str(self.src.get(run..i).unwrap_or(""));
                    let escaped = self.src.get(i + 1..).and_then(|rest| rest.chars().next()).unwrap_or('\\');
                    match escaped {
                        '"' => text.push('"'),
                        '\\' => text.push('\\'),
                        'n' => text.push('\n'),
                        't' => text.push('\t'),
                        'r' => text.push('\r'),
                        '$' => text.push('$'),
                        other => {
                            ok = false;
                            let at = Span::new(self.file, i, i + 1 + other.len_utf8());
                            self.push(
                                Diagnostic::new(
                                    Code::E0108,
                                    at,
                                    format!("unknown escape `\\{}`", other.escape_default()),
                                )
                                .with_primary_label("not an escape sequence")
                                .with_help("the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\$`"),
                            );
                        }
                    }
                    i += 1 + escaped.len_utf8();
                    run = i;
                }
                Some(b'$') if bytes.get(i + 1) == Some(&b'{') => {
                    text.push_str(self.src.get(run..i).unwrap_or(""));
                    if !text.is_empty() {
                        parts.push(StrPart::Text(std::mem::take(&mut text)));
                    }
                    let inner_start = i + 2;
                    let close = scan_interpolation(self.src, inner_start, end).unwrap_or(end);
                    let inner_end = close.saturating_sub(1).max(inner_start);
                    match self.interpolation(inner_start, inner_end) {
                        Some(expr) => parts.push(StrPart::Interpolation(expr)),
                        None => ok = false,
                    }
                    i = close;
                    run = i;
                }
                Some(0) => {
                    ok = false;
                    self.nul_in_string(i);
                    i += 1;
                }
                _ => i += 1,
            }
        }
        text.push_str(self.src.get(run..end).unwrap_or(""));
        if !text.is_empty() {
            parts.push(StrPart::Text(text));
        }
        let kind = if ok { ExprKind::Str(parts) } else { ExprKind::Error };
        Expr { kind, span }
    }

    /// Parses the expression inside `${…}` with a parser over just that range.
    fn interpolation(&mut self, start: usize, end: usize) -> Option<Expr> {
        if self.depth >= MAX_DEPTH {
            let span = Span::new(self.file, start, end);
            self.push(
                Diagnostic::new(Code::E0105, span, format!("interpolations nested deeper than {MAX_DEPTH} levels"))
                    .with_primary_label("too deep")
                    .with_help("bind inner parts with `let` first"),
            );
            return None;
        }
        let mut inner = Parser::new(self.src, self.file, start, end, self.depth + 1);
        inner.atoms = std::mem::take(&mut self.atoms);
        let expr = if inner.at(TokenKind::Eof) {
            inner.push(
                Diagnostic::new(
                    Code::E0101,
                    Span::new(self.file, start.saturating_sub(2), end + 1),
                    "empty interpolation",
                )
                .with_primary_label("`${}` holds no expression")
                .with_help("put an expression inside, as in `${name}`, or write `\\${` for a literal `${`"),
            );
            None
        } else {
            let expr = inner.expr();
            if expr.is_some() && !inner.at(TokenKind::Eof) {
                inner.expected("`}` closing the interpolation");
                None
            } else {
                expr
            }
        };
        inner.finish();
        self.atoms = std::mem::take(&mut inner.atoms);
        let failed = !inner.diagnostics.is_empty();
        for diagnostic in inner.diagnostics {
            self.push(diagnostic);
        }
        if failed { None } else { expr }
    }
}

/// Removes the line break after the opening `''` and the indentation common to every non-blank
/// line, so a raw string can be indented with the code around it.
fn dedent(raw: &str) -> String {
    let raw = raw.strip_prefix('\n').or_else(|| raw.strip_prefix("\r\n")).unwrap_or(raw);
    let indent = raw
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(raw.len());
    for (n, line) in raw.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(line.get(indent..).unwrap_or(line.trim_start_matches([' ', '\t'])));
    }
    // The closing `''` on its own line leaves only indentation behind.
    if let Some(last_break) = out.rfind('\n')
        && out.get(last_break + 1..).is_some_and(|tail| tail.trim().is_empty())
    {
        out.truncate(last_break + 1);
    }
    out
}
