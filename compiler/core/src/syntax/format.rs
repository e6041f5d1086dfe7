//! `spec fmt`: the canonical layout of a source file.
//!
//! The layout is decided line by line, from the lexer's tokens (so brackets and `#` inside strings
//! count for nothing): each line is indented two spaces per open `{`, `[` or `(` (closing brackets
//! at the start of a line dedent it); its tokens are re-printed with one space between them, none
//! inside paths, ranges, calls and brackets and after a unary `-` or `!`; a trailing comment follows
//! after two spaces; runs of blank lines become one, and the file ends with one line break. Line
//! breaks stay where they are (they separate entries). Token text is printed as written, and lines
//! inside a raw string are kept byte for byte, so no value changes.
//!
//! A file with syntax errors is not formatted: where a bracket is missing, indentation is what
//! tells the parser where a declaration starts, so moving it could change the file's meaning.
//!
//! Invariants: formatting never changes meaning (only whitespace outside strings changes) and is
//! idempotent (formatting formatted text changes nothing).

use super::lexer::{Lexer, TokenKind};
use crate::source::FileId;

/// Formats a source text, or returns `None` when it has syntax errors.
pub fn format_source(text: &str) -> Option<String> {
    let (_, errors) = super::parse_file(text, FileId(0));
    if !errors.is_empty() {
        return None;
    }
    Some(layout(text))
}

/// Lays out a text the caller knows to be free of syntax errors (the language server knows it from
/// its own parse); [`format_source`] is this after a parse. One pass over the lexer's tokens and
/// the lines, writing into one buffer: linear, and allocation-free but for the output.
pub fn layout(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut lexer = Lexer::new(text, FileId(0), 0, text.len());
    let mut next = lexer.next_token();
    // The tokens starting on the current line, reused from line to line.
    let mut tokens: Vec<(TokenKind, usize, usize)> = Vec::new();
    let mut depth: i64 = 0;
    // Lines starting before this offset continue a raw string: they are kept byte for byte.
    let mut verbatim_until = 0usize;
    let mut blank_run = 0;
    let mut line_start = 0usize;
    loop {
        let newline = memchr_newline(text, line_start);
        let line_end = newline.unwrap_or(text.len());
        let next_line = newline.map_or(text.len(), |n| n + 1);
        let raw_line = text.get(line_start..line_end).unwrap_or("");
        let depth_at_start = depth;
        let verbatim = line_start < verbatim_until;
        let mut leading_closers = 0i64;
        let mut first_on_line = true;
        let mut respace = true;
        tokens.clear();
        // A token belongs to the line it starts on.
        while next.kind != TokenKind::Eof && (next.span.start as usize) < next_line {
            let (start, end) = (next.span.start as usize, next.span.end as usize);
            match next.kind {
                TokenKind::LBrace | TokenKind::LBracket | TokenKind::LParen => {
                    depth += 1;
                    first_on_line = false;
                }
                TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen => {
                    depth -= 1;
                    if first_on_line {
                        leading_closers += 1;
                    }
                }
                _ => first_on_line = false,
            }
            // Only a string can span lines (the text is free of syntax errors).
            let string = matches!(next.kind, TokenKind::Str { .. } | TokenKind::RawStr);
            if string && text.get(start..end).is_some_and(|t| t.contains('\n')) {
                respace = false;
                if next.kind == TokenKind::RawStr {
                    verbatim_until = verbatim_until.max(end);
                }
            }
            tokens.push((next.kind, start, end));
            next = lexer.next_token();
        }
        if verbatim {
            out.push_str(raw_line);
            out.push('\n');
            blank_run = 0;
        } else {
            let content = raw_line.trim();
            if content.is_empty() {
                blank_run += 1;
                if blank_run == 1 && !out.is_empty() {
                    out.push('\n');
                }
            } else {
                blank_run = 0;
                for _ in 0..(depth_at_start - leading_closers).max(0) {
                    out.push_str("  ");
                }
                if respace && !tokens.is_empty() {
                    spaced(&mut out, text, &tokens, next_line);
                } else {
                    out.push_str(content);
                }
                out.push('\n');
            }
        }
        match newline {
            Some(at) => line_start = at + 1,
            None => break,
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The offset of the first line break at or after `from`.
fn memchr_newline(text: &str, from: usize) -> Option<usize> {
    text.get(from..)?.find('\n').map(|at| from + at)
}

/// Re-prints one line's tokens with canonical spacing, then its trailing comment, onto `out`.
fn spaced(out: &mut String, text: &str, tokens: &[(TokenKind, usize, usize)], line_end: usize) {
    use TokenKind::*;
    let mut previous: Option<(TokenKind, usize)> = None;
    let mut before_previous: Option<TokenKind> = None;
    for &(kind, start, end) in tokens {
        if let Some((last, last_end)) = previous {
            let unary_minus = last == Minus
                && !matches!(
                    before_previous,
                    Some(Ident | Literal(_) | Str { .. } | RawStr | RParen | RBracket | RBrace)
                );
            let tight = matches!(kind, Comma | RParen | RBracket | Dot | DotDot | DotDotEq)
                || matches!(last, LParen | LBracket | Dot | DotDot | DotDotEq)
                || unary_minus
                || last == Bang
                // A call keeps its name against its `(` when written so.
                || (last == Ident && kind == LParen && last_end == start)
                // An overlay's `+=` is one operator written as two tokens.
                || (last == Plus && kind == Eq && last_end == start);
            if !tight {
                out.push(' ');
            }
        }
        out.push_str(text.get(start..end).unwrap_or(""));
        before_previous = previous.map(|(k, _)| k);
        previous = Some((kind, end));
    }
    let last_end = tokens.last().map_or(0, |t| t.2);
    let rest = text.get(last_end..line_end).unwrap_or("").trim();
    if rest.starts_with('#') {
        out.push_str("  ");
        out.push_str(rest.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_by_depth_and_keeps_comments_and_strings() {
        let text = "node a {\nos = nixos # the os\n    zpool t {\n layout = mirror, disks = [\"{\", \"}\"] }\n}\n\n\n\nlet x = 1   \n";
        let formatted = format_source(text).expect("valid");
        assert_eq!(
            formatted,
            "node a {\n  os = nixos  # the os\n  zpool t {\n    layout = mirror, disks = [\"{\", \"}\"] }\n}\n\nlet x = 1\n"
        );
        assert_eq!(format_source(&formatted), Some(formatted), "idempotent");
    }

    #[test]
    fn spacing_inside_lines_is_canonical() {
        let text = "let  x=[ 1 ,-2,  a - b ]\nlet y = service . db\nfor i in 1 ..= 3 {\n}\nlet p = nix( \"pkgs.x\" )   #  note\n";
        assert_eq!(
            format_source(text).as_deref(),
            Some("let x = [1, -2, a - b]\nlet y = service.db\nfor i in 1..=3 {\n}\nlet p = nix(\"pkgs.x\")  #  note\n")
        );
    }

    #[test]
    fn an_overlays_append_stays_one_operator() {
        let text = "env prod {\n  service.api.args   +=   [\"-v\"]\n}\n";
        assert_eq!(layout(text), "env prod {\n  service.api.args += [\"-v\"]\n}\n");
    }

    #[test]
    fn operators_are_spaced_and_negation_is_tight() {
        let text = "assert ! ok&&a==-1||b<=2, \"m\"\nlet c = len( xs )>=3\n";
        assert_eq!(
            format_source(text).as_deref(),
            Some("assert !ok && a == -1 || b <= 2, \"m\"\nlet c = len(xs) >= 3\n")
        );
    }

    #[test]
    fn raw_string_lines_are_kept() {
        let text = "let script = ''\n      echo {\n  ''\n";
        assert_eq!(format_source(text).as_deref(), Some(text));
    }

    #[test]
    fn a_line_opening_a_multi_line_raw_string_is_only_reindented() {
        // The line the raw string starts on is trimmed and indented; the lines it continues onto
        // are kept byte for byte.
        let text = "node a {\n   nixos {  x =  ''\n  echo\n  ''\n }\n}\n";
        assert_eq!(format_source(text).as_deref(), Some("node a {\n  nixos {  x =  ''\n  echo\n  ''\n  }\n}\n"));
    }

    #[test]
    fn files_with_syntax_errors_are_left_alone() {
        assert_eq!(format_source("service web {\n  image = \"x\"\n\nservice db {}\n"), None);
    }
}
