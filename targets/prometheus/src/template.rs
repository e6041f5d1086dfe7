//! Expands the Go templates of an alert's annotations the way Prometheus does, for the small
//! language annotations use in practice, so a promtool test can state the text it expects.
//!
//! Supported actions: `{{ $labels.NAME }}` and `{{ .Labels.NAME }}` (a missing label prints
//! nothing, as Prometheus sets `missingkey=zero`), `{{ $value }}` and `{{ .Value }}` (Go's `%v` of
//! a float64), string constants (`{{ "{{" }}`, which [`crate::escape::template_text`] writes), and
//! the trim markers `{{-` and `-}}`. Anything else (functions, pipelines, `if`, `range`) is
//! [`Unsupported`]: the alert is still generated, only its test is not, and the target says so.

use std::collections::BTreeMap;

/// Why a template cannot be expanded here.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// What a template can see: the alert's sample labels (with `__name__` when the expression kept
/// it) and its value, when the test knows it exactly.
pub struct Data<'a> {
    /// The sample's labels.
    pub labels: &'a BTreeMap<String, String>,
    /// The sample's value, `None` when it is only known approximately (a `rate`).
    pub value: Option<f64>,
}

/// Expands `template` with `data`.
pub fn expand(template: &str, data: &Data<'_>) -> Result<String, Unsupported> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start();
        }
        let mut action = &rest[open + 2..];
        let trim_before = action.starts_with("- ") || action.starts_with("-\t") || action.starts_with("-\n");
        if trim_before {
            text = text.trim_end();
            action = &action[1..];
        }
        out.push_str(text);
        let (body, after, trim_after) = split_action(action)?;
        out.push_str(&evaluate(body.trim(), data)?);
        trim_next = trim_after;
        rest = after;
    }
    out.push_str(if trim_next { rest.trim_start() } else { rest });
    Ok(out)
}

/// Splits an action's text at its closing `}}`, skipping quoted strings.
fn split_action(action: &str) -> Result<(&str, &str, bool), Unsupported> {
    let bytes = action.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                let body = &action[..i];
                let trim = body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-");
                let body = if trim { &body[..body.len() - 1] } else { body };
                return Ok((body, &action[i + 2..], trim));
            }
            _ => {}
        }
        i += 1;
    }
    Err(Unsupported("an action is not closed with `}}`".into()))
}

fn evaluate(body: &str, data: &Data<'_>) -> Result<String, Unsupported> {
    let label = body.strip_prefix("$labels.").or_else(|| body.strip_prefix(".Labels."));
    if let Some(name) = label.filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
        return Ok(data.labels.get(name).cloned().unwrap_or_default());
    }
    if body == "$value" || body == ".Value" {
        return data
            .value
            .map(go_float)
            .ok_or_else(|| Unsupported("`$value` is not known exactly for this expression".into()));
    }
    if let Some(raw) = body.strip_prefix('`').and_then(|b| b.strip_suffix('`')) {
        return Ok(raw.to_string());
    }
    if body.len() >= 2 && body.starts_with('"') && body.ends_with('"') {
        return unquote(&body[1..body.len() - 1]);
    }
    Err(Unsupported(format!("the template action `{{{{ {body} }}}}` is not one spec can evaluate")))
}

/// A Go interpreted string literal's contents, for the escapes text needs.
fn unquote(text: &str) -> Result<String, Unsupported> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c @ ('\\' | '"')) => out.push(c),
            other => {
                return Err(Unsupported(format!("the string escape `\\{}` is not supported", other.unwrap_or(' '))));
            }
        }
    }
    Ok(out)
}

/// A float64 as Go's `%v` prints it (`strconv.FormatFloat(v, 'g', -1, 64)`): the shortest digits
/// that read back exactly, in exponent form when the exponent is below -4 or at least 6 (`1e+06`).
pub fn go_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        return format!("{value}");
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([("instance".to_string(), "a:9100".to_string())])
    }

    #[test]
    fn labels_value_strings_and_trim_markers_expand_as_in_go() {
        let labels = labels();
        let data = Data { labels: &labels, value: Some(0.5) };
        assert_eq!(expand("IPFS on {{ $labels.instance }} is down", &data).unwrap(), "IPFS on a:9100 is down");
        assert_eq!(expand("{{ .Labels.job }}|{{ $value }}", &data).unwrap(), "|0.5");
        assert_eq!(expand("a {{ \"{{\" }} b }}", &data).unwrap(), "a {{ b }}");
        assert_eq!(expand("x   {{- $labels.instance -}}   y", &data).unwrap(), "xa:9100y");
        assert!(expand("{{ humanize $value }}", &data).is_err());
        assert!(expand("{{ $value ", &data).is_err());
    }

    #[test]
    fn floats_print_like_go() {
        for (value, text) in [(0.0, "0"), (1.0, "1"), (900.0, "900"), (123456.0, "123456"), (1e6, "1e+06")] {
            assert_eq!(go_float(value), text);
        }
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.5), "-2.5");
    }
}
