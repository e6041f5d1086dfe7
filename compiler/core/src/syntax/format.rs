//! `spec fmt`: the canonical layout of a source file.
//!
//! The layout is decided line by line, from the lexer's tokens (so brackets and `#` inside strings
//! count for nothing): each line is indented two spaces per open `{`, `[` or `(` (closing brackets
//! at the start of a line dedent it); its tokens are re-printed with one space between them, none
//! inside paths, ranges, calls and brackets and after a unary `-`; a trailing comment follows
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

/// Lays a syntactically valid text out.
fn layout(text: &str) -> String {
    // For every line: the bracket depth at its start, how many closers open it, and whether it
    // starts inside a raw string (then it is kept as it is).
    let line_starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut depth_at_line = vec![0i64; line_starts.len()];
    // The tokens of each line, by kind and byte range; lines where a token spans a line break (a
    // raw string) are only re-indented.
    let mut tokens_of_line: Vec<Vec<(TokenKind, usize, usize)>> = vec![Vec::new(); line_starts.len()];
    let mut respace = vec![true; line_starts.len()];
    let mut leading_closers = vec![0i64; line_starts.len()];
    let mut verbatim = vec![false; line_starts.len()];
    let mut lexer = Lexer::new(text, FileId(0), 0, text.len());
    let mut depth: i64 = 0;
    let mut line = 0usize;
    let mut first_on_line = true;
    loop {
        let token = lexer.next_token();
        if token.kind == TokenKind::Eof {
            break;
        }
        let start = token.span.start as usize;
        while line + 1 < line_starts.len() && line_starts[line + 1] <= start {
            line += 1;
            depth_at_line[line] = depth;
            first_on_line = true;
        }
        match token.kind {
            TokenKind::LBrace | TokenKind::LBracket | TokenKind::LParen => depth += 1,
            TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen => {
                depth -= 1;
                if first_on_line {
                    leading_closers[line] += 1;
                }
            }
            _ => {}
        }
        if !matches!(token.kind, TokenKind::RBrace | TokenKind::RBracket | TokenKind::RParen) {
            first_on_line = false;
        }
        let token_end = token.span.end as usize;
        if let Some(tokens) = tokens_of_line.get_mut(line) {
            tokens.push((token.kind, start, token_end));
        }
        if text.get(start..token_end).is_some_and(|t| t.contains('\n'))
            && let Some(flag) = respace.get_mut(line)
        {
            *flag = false;
        }
        if token.kind == TokenKind::RawStr {
            // Every line the raw string continues onto is kept verbatim.
            let end = token.span.end as usize;
            let first = line_starts.partition_point(|&s| s <= start);
            let last = line_starts.partition_point(|&s| s < end);
            for flag in verbatim.iter_mut().take(last).skip(first) {
                *flag = true;
            }
        }
    }
    for later in depth_at_line.iter_mut().skip(line + 1) {
        *later = depth;
    }
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for (index, raw_line) in text.split('\n').enumerate() {
        if verbatim.get(index).copied().unwrap_or(false) {
            out.push_str(raw_line);
            out.push('\n');
            blank_run = 0;
            continue;
        }
        let content = raw_line.trim();
        if content.is_empty() {
            blank_run += 1;
            if blank_run == 1 && !out.is_empty() {
                out.push('\n');
            }
            continue;
        }
        blank_run = 0;
        let indent =
            (depth_at_line.get(index).copied().unwrap_or(0) - leading_closers.get(index).copied().unwrap_or(0)).max(0);
        out.push_str(&"  ".repeat(indent as usize));
        let tokens = tokens_of_line.get(index).map(Vec::as_slice).unwrap_or(&[]);
        if respace.get(index).copied().unwrap_or(false) && !tokens.is_empty() {
            out.push_str(&spaced(text, tokens, line_starts.get(index + 1).copied().unwrap_or(text.len())));
        } else {
            out.push_str(content);
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Re-prints one line's tokens with canonical spacing, then its trailing comment.
fn spaced(text: &str, tokens: &[(TokenKind, usize, usize)], line_end: usize) -> String {
    use TokenKind::*;
    let mut out = String::new();
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
                // A call keeps its name against its `(` when written so.
                || (last == Ident && kind == LParen && last_end == start);
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
    out
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
    fn raw_string_lines_are_kept() {
        let text = "let script = ''\n      echo {\n  ''\n";
        assert_eq!(format_source(text).as_deref(), Some(text));
    }

    #[test]
    fn files_with_syntax_errors_are_left_alone() {
        assert_eq!(format_source("service web {\n  image = \"x\"\n\nservice db {}\n"), None);
    }
}
