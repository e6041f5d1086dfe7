//! Prometheus templates (Go `text/template` with Prometheus's functions): the parse errors
//! Prometheus would stop at when loading a rule file, found before any file is written.
//!
//! An alert's `summary` and `description` are templates on purpose (`{{ $labels.instance }}`).
//! Go parses a template whole when the rule file loads, so one broken action makes Prometheus
//! (and `promtool check rules`) refuse the file, every alert in it. This is the part of Go's
//! parser that decides that: actions closed by `}}`, quoted strings and comments closed,
//! `if`/`range`/`with`/`define`/`block` matched by `end`, `else` only inside them, no empty
//! action, and every bare identifier a function Go or Prometheus defines (Go resolves function
//! names at parse time). It accepts nothing Go refuses for those reasons; type errors (wrong
//! arguments) show only when an alert fires and are not looked for.

/// Go's predefined template functions and Prometheus's own (`prometheus/template/template.go`),
/// and the keywords an action may start with. `toDuration` and `now` are Prometheus 2.46 and later.
const KNOWN: &[&str] = &[
    // Go text/template
    "and",
    "call",
    "html",
    "index",
    "slice",
    "js",
    "len",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "urlquery",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne", // comparisons
    "nil",
    "true",
    "false",
    "template",
    "break",
    "continue", // keywords that are not blocks
    // Prometheus
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
];

/// Keywords that open a block closed by `{{ end }}`.
const BLOCKS: &[&str] = &["if", "range", "with", "define", "block"];

/// Why Prometheus would refuse `template`, or `None` when it parses.
pub fn template_error(template: &str) -> Option<String> {
    let mut open_blocks: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let action = &rest[open + 2..];
        // `{{- ` trims the text before; `{{-3}}` is the number -3.
        let action = action.strip_prefix("- ").or_else(|| action.strip_prefix("-\n")).unwrap_or(action);
        let (body, after) = match split_action(action) {
            Ok(split) => split,
            Err(error) => return Some(error),
        };
        rest = after;
        let body = body.strip_suffix(" -").or_else(|| body.strip_suffix("\n-")).unwrap_or(body).trim();
        if let Some(comment) = body.strip_prefix("/*") {
            if !comment.ends_with("*/") {
                return Some("a comment `{{/*` is not closed with `*/}}`".into());
            }
            continue;
        }
        if body.is_empty() {
            return Some("an action `{{ }}` is empty".into());
        }
        if let Some(error) = stray_character(body) {
            return Some(error);
        }
        let words = identifiers(body);
        match words.first().copied() {
            Some(block) if BLOCKS.contains(&block) && body.starts_with(block) => open_blocks.push(block),
            Some("end") if body == "end" => {
                if open_blocks.pop().is_none() {
                    return Some("`{{ end }}` closes no `if`, `range` or `with`".into());
                }
                continue;
            }
            Some("else")
                if body.starts_with("else")
                    && !open_blocks.last().is_some_and(|b| matches!(*b, "if" | "range" | "with")) =>
            {
                return Some("`{{ else }}` is outside any `if`, `range` or `with`".into());
            }
            _ => {}
        }
        let skip = usize::from(words.first().is_some_and(|w| BLOCKS.contains(w) || *w == "else"));
        if let Some(unknown) =
            words.iter().skip(skip).find(|w| !KNOWN.contains(w) && !BLOCKS.contains(w) && **w != "else")
        {
            return Some(format!("function `{unknown}` is not defined (Go and Prometheus template functions only)"));
        }
    }
    open_blocks.last().map(|block| format!("`{{{{ {block} … }}}}` has no `{{{{ end }}}}`"))
}

/// Splits an action at its closing `}}`, skipping quoted text.
fn split_action(action: &str) -> Result<(&str, &str), String> {
    let bytes = action.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\n' {
                        return Err("a quoted string in an action runs to the end of the line".into());
                    }
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    return Err("a quoted string in an action is not closed".into());
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err("a raw string in an action is not closed".into());
                }
            }
            b'/' if action[i..].starts_with("/*") => match action[i + 2..].find("*/") {
                Some(end) => i += end + 3,
                None => return Err("a comment `{{/*` is not closed with `*/}}`".into()),
            },
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Ok((&action[..i], &action[i + 2..])),
            _ => {}
        }
        i += 1;
    }
    Err("an action `{{` is not closed with `}}`".into())
}

/// A character Go's template lexer or parser refuses outside quotes, or an unbalanced
/// parenthesis. Actions are made of names, `$variables`, `.fields`, numbers, quoted text, `|`,
/// `(`, `)`, `:=`, `=` and `,` (in `range $i, $x :=`); any other printable character is a
/// "bad character", and a non-ASCII one outside quotes is either unrecognised or part of a name
/// that is no function.
fn stray_character(body: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                while let Some(inner) = chars.next() {
                    if inner == c {
                        break;
                    }
                    if inner == '\\' && c != '`' {
                        chars.next();
                    }
                }
            }
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(outer) => depth = outer,
                None => return Some("a `)` closes no `(`".into()),
            },
            ':' if chars.peek() != Some(&'=') => return Some("`:` is not followed by `=`".into()),
            c if c.is_ascii_alphanumeric() || c.is_ascii_whitespace() => {}
            '_' | '$' | '.' | '|' | ':' | '=' | ',' | '+' | '-' => {}
            c => return Some(format!("the character `{c}` cannot appear in an action outside quotes")),
        }
    }
    (depth > 0).then(|| "a `(` is not closed with `)`".into())
}

/// The bare identifiers of an action (function names and keywords): words outside quotes that
/// follow neither `.` (a field) nor `$` (a variable).
fn identifiers(body: &str) -> Vec<&str> {
    let bytes = body.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if matches!(c, b'"' | b'\'' | b'`') {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += if bytes[i] == b'\\' && c != b'`' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let before = start.checked_sub(1).map(|p| bytes[p]);
            if !matches!(before, Some(b'.' | b'$')) && !before.is_some_and(|b| b.is_ascii_digit()) {
                words.push(&body[start..i]);
            }
            continue;
        }
        if c.is_ascii_digit() {
            // A number, with its exponent or hex digits (`1e3`, `0x1F`).
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'_')) {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_prometheus_loads_pass() {
        // The Prometheus back end's tests hold more templates to `promtool check rules` itself.
        for template in [
            "}} {",
            "{{ $labels.job | toUpper }} at {{ humanizePercentage $value }}",
            "{{- `a }} b` -}}{{ '}' }}",
            "{{ range $i, $s := query \"up\" }}{{ $i }}{{ else }}none{{ end }}",
            "{{/* }} */}}{{ len (printf \"%s\" \"x\") }}",
        ] {
            assert_eq!(template_error(template), None, "{template}");
        }
    }

    #[test]
    fn templates_prometheus_refuses_fail() {
        for (template, error) in [
            ("a {{ b", "not closed"),
            ("{{ $value }", "not closed"),
            ("{{ }}", "empty"),
            ("{{ humanise $value }}", "`humanise` is not defined"),
            ("{{ b }}", "`b` is not defined"),
            ("{{ if true }}x", "has no `{{ end }}`"),
            ("x{{ end }}", "closes no"),
            ("{{ else }}", "outside"),
            ("{{ \"abc }}", "not closed"),
            ("{{/* open }}", "comment"),
            ("{{${}}", "the character `{`"),
            ("{{ $value ! }}", "the character `!`"),
            ("{{ ✓ }}", "the character `✓`"),
            ("{{ (len $x }}", "not closed with `)`"),
            ("{{ len $x) }}", "closes no `(`"),
            ("{{ $x : 1 }}", "`:`"),
        ] {
            let found = template_error(template);
            assert!(found.as_deref().is_some_and(|f| f.contains(error)), "{template}: {found:?}");
        }
    }
}
