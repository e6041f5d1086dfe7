//! The lexer: turns source text into tokens on demand, one at a time, so a 50 MB file never
//! becomes a 50 MB token vector.
//!
//! Every literal that starts with a digit (integers, durations, sizes, IPv4 addresses and CIDRs,
//! ports) is scanned as one chunk and classified by the nom parsers in [`classify_number`]; IPv6
//! addresses are recognised by their colons. Strings are scanned whole, with their `${…}`
//! interpolations balanced; the parser decodes their parts later.
//!
//! Invariants: the lexer never panics and always advances, so the parser's loops terminate; each
//! malformed token is reported once (E0102, E0103, E0106, E0107) and still produces a token.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::{char as chr, u8 as dec_u8, u64 as dec_u64};
use nom::combinator::{all_consuming, map, opt};
use nom::{IResult, Parser};

use super::ast::Protocol;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The longest string literal accepted, in bytes (1 MiB): longer strings are almost surely a
/// mistake or hostile input, and no real option value comes close.
pub const MAX_STRING_LEN: usize = 1 << 20;

/// A literal classified by the lexer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal {
    /// `42`
    Int(i64),
    /// `15m`, in milliseconds.
    Duration(u64),
    /// `2TiB`, in bytes.
    Size(u64),
    /// `10.0.0.1`
    Ip(IpAddr),
    /// `10.0.0.0/24`
    Cidr(IpAddr, u8),
    /// `4001/tcp`
    Port(u64, Protocol),
    /// A malformed literal (already reported).
    Invalid,
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TokenKind {
    /// A name or keyword.
    Ident,
    /// A number-like literal.
    Literal(Literal),
    /// A double-quoted string (the span includes the quotes); `valid` is false when it was
    /// unterminated or too long (already reported).
    Str {
        /// Whether the parser may decode it.
        valid: bool,
    },
    /// `''…''` (the span includes the quotes).
    RawStr,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `=`
    Eq,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `..=`
    DotDotEq,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `!`
    Bang,
    /// The end of the input.
    Eof,
}

/// One token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
    /// Whether a line break separates it from the previous token.
    pub newline_before: bool,
}

/// Describes a token kind for "expected …, found …" messages.
pub fn describe(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Ident => "a name",
        TokenKind::Literal(_) => "a literal",
        TokenKind::Str { .. } | TokenKind::RawStr => "a string",
        TokenKind::LBrace => "`{`",
        TokenKind::RBrace => "`}`",
        TokenKind::LBracket => "`[`",
        TokenKind::RBracket => "`]`",
        TokenKind::LParen => "`(`",
        TokenKind::RParen => "`)`",
        TokenKind::Eq => "`=`",
        TokenKind::Comma => "`,`",
        TokenKind::Dot => "`.`",
        TokenKind::DotDot => "`..`",
        TokenKind::DotDotEq => "`..=`",
        TokenKind::Plus => "`+`",
        TokenKind::Minus => "`-`",
        TokenKind::Star => "`*`",
        TokenKind::Slash => "`/`",
        TokenKind::Percent => "`%`",
        TokenKind::EqEq => "`==`",
        TokenKind::NotEq => "`!=`",
        TokenKind::Lt => "`<`",
        TokenKind::LtEq => "`<=`",
        TokenKind::Gt => "`>`",
        TokenKind::GtEq => "`>=`",
        TokenKind::AndAnd => "`&&`",
        TokenKind::OrOr => "`||`",
        TokenKind::Bang => "`!`",
        TokenKind::Eof => "the end of the file",
    }
}

/// Produces tokens from `src[pos..end]`.
pub struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    end: usize,
    file: FileId,
    /// Problems found while scanning.
    pub diagnostics: Vec<Diagnostic>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

impl<'s> Lexer<'s> {
    /// Creates a lexer over `src[start..end]` of `file`.
    pub fn new(src: &'s str, file: FileId, start: usize, end: usize) -> Lexer<'s> {
        // A byte-order mark at the start of a file is an editor's artefact, not text.
        let start = if start == 0 && src.starts_with('\u{feff}') { 3 } else { start };
        Lexer { src, pos: start, end: end.min(src.len()), file, diagnostics: Vec::new() }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        if at < self.end { self.src.as_bytes().get(at).copied() } else { None }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn error(&mut self, code: Code, start: usize, end: usize, message: impl Into<String>) -> &mut Diagnostic {
        let span = self.span(start, end);
        self.diagnostics.push(Diagnostic::new(code, span, message));
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }

    /// Skips whitespace and comments; returns whether a line break was crossed.
    fn skip_trivia(&mut self) -> bool {
        let mut newline = false;
        while let Some(c) = self.byte(self.pos) {
            match c {
                b'\n' => {
                    newline = true;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'#' => {
                    while let Some(c) = self.byte(self.pos) {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        newline
    }

    /// Returns the next token; at the end, [`TokenKind::Eof`] forever.
    pub fn next_token(&mut self) -> Token {
        let mut newline_before = self.skip_trivia();
        loop {
            let start = self.pos;
            let Some(c) = self.byte(start) else {
                return Token { kind: TokenKind::Eof, span: self.span(self.end, self.end), newline_before: true };
            };
            let kind = match c {
                c if is_ident_start(c) => self.ident_or_ipv6(start),
                c if c.is_ascii_digit() => self.number(start),
                b':' if self.byte(start + 1) == Some(b':') => self.number(start),
                b'"' => self.string(start),
                b'\'' if self.byte(start + 1) == Some(b'\'') => self.raw_string(start),
                b'=' | b'!' | b'<' | b'>' | b'&' | b'|' if self.is_operator(start) => self.operator(start),
                _ => {
                    let punct = match c {
                        b'{' => Some(TokenKind::LBrace),
                        b'}' => Some(TokenKind::RBrace),
                        b'[' => Some(TokenKind::LBracket),
                        b']' => Some(TokenKind::RBracket),
                        b'(' => Some(TokenKind::LParen),
                        b')' => Some(TokenKind::RParen),
                        b'=' => Some(TokenKind::Eq),
                        b',' => Some(TokenKind::Comma),
                        b'+' => Some(TokenKind::Plus),
                        b'-' => Some(TokenKind::Minus),
                        b'*' => Some(TokenKind::Star),
                        b'/' => Some(TokenKind::Slash),
                        b'%' => Some(TokenKind::Percent),
                        b'.' => Some(TokenKind::Dot),
                        _ => None,
                    };
                    match punct {
                        Some(TokenKind::Dot) if self.byte(start + 1) == Some(b'.') => {
                            if self.byte(start + 2) == Some(b'=') {
                                self.pos += 3;
                                TokenKind::DotDotEq
                            } else {
                                self.pos += 2;
                                TokenKind::DotDot
                            }
                        }
                        Some(kind) => {
                            self.pos += 1;
                            kind
                        }
                        None => {
                            self.invalid_characters(start);
                            newline_before |= self.skip_trivia();
                            continue;
                        }
                    }
                }
            };
            return Token { kind, span: self.span(start, self.pos), newline_before };
        }
    }

    /// Reads the comparison or boolean operator at `start` (`==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`,
    /// `||`, `!`), which [`Lexer::is_operator`] found there. A lone `=` is the plain token; a lone
    /// `&` or `|` is reported (E0107) and read as `&&` or `||`.
    fn operator(&mut self, start: usize) -> TokenKind {
        let (kind, len) = self.operator_at(start).unwrap_or((TokenKind::Eq, 1));
        let lone = len == 1 && matches!(kind, TokenKind::AndAnd | TokenKind::OrOr);
        if lone {
            let (written, meant) = if kind == TokenKind::AndAnd { ("&", "&&") } else { ("|", "||") };
            let d = self.error(Code::E0107, start, start + 1, format!("unexpected character `{written}`"));
            d.primary.message = Some("no token starts with this".into());
            d.help = Some(format!("the boolean operator is written `{meant}`"));
        }
        self.pos = start + len;
        kind
    }

    fn is_operator(&self, start: usize) -> bool {
        self.operator_at(start).is_some()
    }

    /// The operator at `start` and its length.
    fn operator_at(&self, start: usize) -> Option<(TokenKind, usize)> {
        let next = self.byte(start + 1);
        Some(match (self.byte(start)?, next) {
            (b'=', Some(b'=')) => (TokenKind::EqEq, 2),
            (b'!', Some(b'=')) => (TokenKind::NotEq, 2),
            (b'!', _) => (TokenKind::Bang, 1),
            (b'<', Some(b'=')) => (TokenKind::LtEq, 2),
            (b'<', _) => (TokenKind::Lt, 1),
            (b'>', Some(b'=')) => (TokenKind::GtEq, 2),
            (b'>', _) => (TokenKind::Gt, 1),
            (b'&', Some(b'&')) => (TokenKind::AndAnd, 2),
            (b'|', Some(b'|')) => (TokenKind::OrOr, 2),
            // A lone `&` or `|` is reported and read as the operator it almost is, so the parser
            // does not report the rest of the line again.
            (b'&', _) => (TokenKind::AndAnd, 1),
            (b'|', _) => (TokenKind::OrOr, 1),
            _ => return None,
        })
    }

    /// Reports one run of characters that cannot start a token, and skips it.
    fn invalid_characters(&mut self, start: usize) {
        let rest = self.src.get(start..self.end).unwrap_or("");
        let len: usize = rest
            .chars()
            .take_while(|&c| !(c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || "{}[]()=,\"#!<>".contains(c)))
            .map(char::len_utf8)
            .sum::<usize>()
            .max(1);
        let end = (start + len).min(self.end);
        let first = rest.chars().next().unwrap_or('?');
        let shown = if first.is_control() || first.is_whitespace() {
            format!("U+{:04X}", u32::from(first))
        } else if first.is_ascii() {
            format!("`{first}`")
        } else {
            format!("`{first}` (U+{:04X})", u32::from(first))
        };
        self.error(Code::E0107, start, end, format!("unexpected character {shown}")).primary.message =
            Some("no token starts with this".into());
        if let Some(d) = self.diagnostics.last_mut() {
            d.help = Some("names are letters, digits, `-` and `_`; strings are written in double quotes".into());
        }
        self.pos = end.max(start + first.len_utf8()).min(self.end.max(start + 1));
    }

    fn ident_or_ipv6(&mut self, start: usize) -> TokenKind {
        let mut end = start;
        while self.byte(end).is_some_and(is_ident_continue) {
            end += 1;
        }
        // A name never ends with `-`, so `a- b` reads as `a`, `-`, `b`.
        while end > start + 1 && self.src.as_bytes().get(end - 1) == Some(&b'-') {
            end -= 1;
        }
        let word = self.src.get(start..end).unwrap_or("");
        if self.byte(end) == Some(b':') && word.bytes().all(|b| b.is_ascii_hexdigit()) {
            return self.number(start);
        }
        self.pos = end;
        TokenKind::Ident
    }

    /// Scans a chunk of literal characters and classifies it.
    fn number(&mut self, start: usize) -> TokenKind {
        let mut end = start;
        while let Some(c) = self.byte(end) {
            let literal_char = c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'/' | b'_');
            // `1..=3` is a range, not a literal.
            if !literal_char || (c == b'.' && self.byte(end + 1) == Some(b'.')) {
                break;
            }
            end += 1;
        }
        self.pos = end;
        let chunk = self.src.get(start..end).unwrap_or("");
        match classify_number(chunk) {
            Ok(literal) => TokenKind::Literal(literal),
            Err(help) => {
                let d = self.error(Code::E0103, start, end, format!("invalid literal `{chunk}`"));
                d.primary.message = Some("not a valid literal".into());
                d.help = Some(help.into_owned());
                TokenKind::Literal(Literal::Invalid)
            }
        }
    }

    fn string(&mut self, start: usize) -> TokenKind {
        match scan_string(self.src, start, self.end) {
            Ok(end) => {
                self.pos = end;
                if end - start > MAX_STRING_LEN + 2 {
                    let d = self.error(
                        Code::E0106,
                        start,
                        start + 1,
                        format!(
                            "string literal of {} bytes is longer than the limit of {MAX_STRING_LEN}",
                            end - start - 2
                        ),
                    );
                    d.primary.message = Some("this string".into());
                    d.help = Some("keep large content in files the service reads, not in the spec".into());
                    return TokenKind::Str { valid: false };
                }
                TokenKind::Str { valid: true }
            }
            Err(stop) => {
                let line_end = stop.min(self.end);
                let d = self.error(Code::E0102, start, line_end, "unterminated string");
                d.primary.message = Some("this string is never closed".into());
                d.help = Some("close it with `\"` on the same line; use `''…''` for text over several lines".into());
                self.pos = line_end.max(start + 1);
                TokenKind::Str { valid: false }
            }
        }
    }

    fn raw_string(&mut self, start: usize) -> TokenKind {
        let body = start + 2;
        match self.src.get(body..self.end).and_then(|rest| rest.find("''")) {
            Some(offset) => {
                self.pos = body + offset + 2;
                if offset > MAX_STRING_LEN {
                    let d = self.error(Code::E0106, start, start + 2, "raw string literal is longer than the limit");
                    d.help = Some("keep large content in files the service reads, not in the spec".into());
                }
                TokenKind::RawStr
            }
            None => {
                let d = self.error(Code::E0102, start, start + 2, "unterminated raw string");
                d.primary.message = Some("this `''` is never closed".into());
                d.help = Some("end the raw string with `''`".into());
                self.pos = self.end;
                TokenKind::Str { valid: false }
            }
        }
    }
}

/// Scans a double-quoted string starting at `start` (its opening quote) and returns the offset just
/// past its closing quote, or `Err(offset)` of the line end or input end where it stopped.
pub fn scan_string(src: &str, start: usize, end: usize) -> Result<usize, usize> {
    scan_balanced(src, start + 1, end, vec![None])
}

/// Scans the inside of an interpolation that starts at `start` (just past `${`) and returns the
/// offset just past its closing `}`.
pub fn scan_interpolation(src: &str, start: usize, end: usize) -> Result<usize, usize> {
    scan_balanced(src, start, end, vec![Some(0)])
}

/// Scans strings and interpolations with an explicit stack, so hostile nesting cannot overflow the
/// call stack. Each stack entry is an open string (`None`) or an open interpolation with its brace
/// depth; the scan ends when the stack empties.
fn scan_balanced(src: &str, from: usize, end: usize, mut stack: Vec<Option<u32>>) -> Result<usize, usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    while i < end {
        let Some(&c) = bytes.get(i) else { break };
        match stack.last_mut() {
            Some(None) => match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'\n' => return Err(i),
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(Some(0));
                    i += 1;
                }
                _ => {}
            },
            Some(Some(depth)) => match c {
                b'{' => *depth += 1,
                b'}' if *depth == 0 => {
                    stack.pop();
                }
                b'}' => *depth -= 1,
                b'"' => stack.push(None),
                b'\n' => return Err(i),
                _ => {}
            },
            None => break,
        }
        i += 1;
        if stack.is_empty() {
            return Ok(i);
        }
    }
    Err(end)
}

fn ipv4(input: &str) -> IResult<&str, Ipv4Addr> {
    map((dec_u8, chr('.'), dec_u8, chr('.'), dec_u8, chr('.'), dec_u8), |(a, _, b, _, c, _, d)| {
        Ipv4Addr::new(a, b, c, d)
    })
    .parse(input)
}

fn ipv4_or_cidr(input: &str) -> IResult<&str, Literal> {
    map((ipv4, opt((chr('/'), dec_u8))), |(ip, prefix)| match prefix {
        Some((_, bits)) if bits <= 32 => Literal::Cidr(IpAddr::V4(ip), bits),
        Some(_) => Literal::Invalid,
        None => Literal::Ip(IpAddr::V4(ip)),
    })
    .parse(input)
}

fn port(input: &str) -> IResult<&str, Literal> {
    map(
        (dec_u64, chr('/'), alt((map(tag("tcp"), |_| Protocol::Tcp), map(tag("udp"), |_| Protocol::Udp)))),
        |(n, _, proto)| Literal::Port(n, proto),
    )
    .parse(input)
}

/// A number followed by one of `units` (longest first), scaled by the unit's factor.
fn scaled<'a>(input: &'a str, units: &[(&str, u64)]) -> IResult<&'a str, Option<u64>> {
    let (rest, n) = dec_u64(input)?;
    for &(unit, factor) in units {
        if let Some(after) = rest.strip_prefix(unit) {
            return Ok((after, n.checked_mul(factor)));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(rest, nom::error::ErrorKind::Tag)))
}

const DURATION_UNITS: &[(&str, u64)] =
    &[("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)];

const SIZE_UNITS: &[(&str, u64)] = &[
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("PB", 1_000_000_000_000_000),
    ("B", 1),
];

/// Unit spellings people write out of habit (other tools, prose), with the unit spec spells.
const UNIT_SPELLINGS: &[(&[&str], &str)] = &[
    (&["msec", "msecs", "millis", "millisecond", "milliseconds"], "ms"),
    (&["S", "sec", "secs", "second", "seconds"], "s"),
    (&["min", "mins", "minute", "minutes"], "m"),
    (&["H", "hr", "hrs", "hour", "hours"], "h"),
    (&["D", "day", "days"], "d"),
    (&["W", "wk", "wks", "week", "weeks"], "w"),
    (&["b", "byte", "bytes"], "B"),
    (&["k", "K", "kb", "kB", "Kb"], "KB"),
    (&["mb", "Mb"], "MB"),
    (&["G", "g", "gb", "Gb"], "GB"),
    (&["T", "t", "tb", "Tb"], "TB"),
    (&["Ki", "kib", "KIB", "kiB"], "KiB"),
    (&["Mi", "mib", "MIB"], "MiB"),
    (&["Gi", "gib", "GIB"], "GiB"),
    (&["Ti", "tib", "TIB"], "TiB"),
    (&["Pi", "pib", "PIB"], "PiB"),
];

/// The help for a number with a unit spec does not spell that way (`5mins`: write `5m`).
fn unit_suggestion(chunk: &str) -> Option<String> {
    let digits = chunk.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = chunk.split_at(digits);
    if number.is_empty() {
        return None;
    }
    let (_, right) = UNIT_SPELLINGS.iter().find(|(wrong, _)| wrong.contains(&unit))?;
    let family = if DURATION_UNITS.iter().any(|(u, _)| u == right) {
        "durations are `ms`, `s`, `m`, `h`, `d` and `w`"
    } else {
        "sizes are `B`, `KiB`, `MiB`, `GiB`, `TiB`, `PiB` (powers of 1024) and `KB`, `MB`, `GB`, `TB`, `PB`"
    };
    Some(format!("write `{number}{right}`: {family}"))
}

/// Classifies a chunk of literal characters, or says what a valid literal looks like.
pub fn classify_number(chunk: &str) -> Result<Literal, Cow<'static, str>> {
    classify(chunk).map_err(|help| match unit_suggestion(chunk) {
        Some(suggestion) => Cow::Owned(suggestion),
        None => Cow::Borrowed(help),
    })
}

fn classify(chunk: &str) -> Result<Literal, &'static str> {
    const FORMS: &str = "literals are integers (`42`), durations (`30s`, `5m`, `4h`, `7d`), sizes \
        (`512MiB`, `2TiB`, `10GB`), addresses (`10.0.0.1`), CIDRs (`10.0.0.0/24`) and ports (`443/tcp`)";
    if chunk.contains(':') {
        let (addr, prefix) = match chunk.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (chunk, None),
        };
        let ip: Ipv6Addr = addr.parse().map_err(|_| "this is not a valid IPv6 address")?;
        return match prefix {
            None => Ok(Literal::Ip(IpAddr::V6(ip))),
            Some(p) => match p.parse::<u8>() {
                Ok(bits) if bits <= 128 => Ok(Literal::Cidr(IpAddr::V6(ip), bits)),
                _ => Err("an IPv6 prefix length is a number from 0 to 128"),
            },
        };
    }
    if let Ok((_, literal)) = all_consuming(ipv4_or_cidr).parse(chunk) {
        return match literal {
            Literal::Invalid => Err("an IPv4 prefix length is a number from 0 to 32"),
            literal => Ok(literal),
        };
    }
    if let Ok((_, literal)) = all_consuming(port).parse(chunk) {
        return Ok(literal);
    }
    if let Ok((_, ms)) = all_consuming(|i| scaled(i, DURATION_UNITS)).parse(chunk) {
        return ms.map(Literal::Duration).ok_or("this duration is too large");
    }
    if let Ok((_, bytes)) = all_consuming(|i| scaled(i, SIZE_UNITS)).parse(chunk) {
        return bytes.map(Literal::Size).ok_or("this size is too large");
    }
    if chunk.bytes().all(|b| b.is_ascii_digit()) {
        return chunk.parse::<i64>().map(Literal::Int).map_err(|_| "integers range up to 9223372036854775807");
    }
    let parts: Vec<&str> = chunk.split(['.', '/']).collect();
    if chunk.bytes().filter(|&b| b == b'.').count() == 3 && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("an IPv4 address is four numbers from 0 to 255, as in `10.0.0.1`");
    }
    if chunk.contains('.') && chunk.bytes().filter(|&b| b == b'.').count() == 1 {
        return Err("numbers are integers: write `1536MiB` rather than `1.5GiB`, `90m` rather than `1.5h`");
    }
    if chunk.contains('/') {
        return Err("a port is a number and a protocol, `443/tcp` or `53/udp`");
    }
    Err(FORMS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_literal_form() {
        assert_eq!(classify_number("42"), Ok(Literal::Int(42)));
        assert_eq!(classify_number("15m"), Ok(Literal::Duration(900_000)));
        assert_eq!(classify_number("250ms"), Ok(Literal::Duration(250)));
        assert_eq!(classify_number("2TiB"), Ok(Literal::Size(2 << 40)));
        assert_eq!(classify_number("10GB"), Ok(Literal::Size(10_000_000_000)));
        assert_eq!(classify_number("10.0.0.1"), Ok(Literal::Ip("10.0.0.1".parse().unwrap())));
        assert_eq!(classify_number("10.0.0.0/24"), Ok(Literal::Cidr("10.0.0.0".parse().unwrap(), 24)));
        assert_eq!(classify_number("fd00::/8"), Ok(Literal::Cidr("fd00::".parse().unwrap(), 8)));
        assert_eq!(classify_number("4001/tcp"), Ok(Literal::Port(4001, Protocol::Tcp)));
        assert!(classify_number("1.5GiB").is_err());
        assert!(classify_number("10.0.0.0/33").is_err());
        assert!(classify_number("300.0.0.1").is_err());
        assert!(classify_number("99999999999999999999999TiB").is_err());
    }

    #[test]
    fn suggests_the_unit_spelling_for_common_wrong_units() {
        let help = |chunk: &str| classify_number(chunk).err().map(Cow::into_owned).unwrap_or_default();
        assert!(help("5mins").starts_with("write `5m`: durations are"), "{}", help("5mins"));
        assert!(help("30secs").starts_with("write `30s`"));
        assert!(help("2hours").starts_with("write `2h`"));
        assert!(help("7days").starts_with("write `7d`"));
        assert!(help("512Mi").starts_with("write `512MiB`: sizes are"));
        assert!(help("10gb").starts_with("write `10GB`"));
        assert!(help("12parsecs").starts_with("literals are integers"), "an unknown unit gets the forms");
        assert!(help("1.5h").starts_with("numbers are integers"));
    }

    #[test]
    fn scans_nested_interpolations() {
        let src = r#""a ${ "b ${c}" } d" rest"#;
        assert_eq!(scan_string(src, 0, src.len()), Ok(19));
        assert!(scan_string("\"open\nnext", 0, 10).is_err());
    }
}
