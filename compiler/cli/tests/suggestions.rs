//! `--format json` carries each diagnostic's suggestion (every did-you-mean, a plaintext secret
//! moved into a `secret` block), so a CI bot or an editor without the language server can apply
//! it. The test applies the JSON's edits the way such a tool would (replace each `edit` range by
//! `replacement`, add each `declaration` as a top-level block) and checks the estate again.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::spec_in;

fn scratch(name: &str) -> PathBuf {
    common::scratch(&format!("suggestions/{name}"))
}

/// `spec check --format json` in `dir`, on the folder `estate`.
fn check_json(dir: &Path, estate: &str) -> Value {
    let output = spec_in(dir, &["check", estate, "--format", "json"]);
    serde_json::from_slice(&output.stdout).expect("one JSON object on stdout")
}

fn errors(report: &Value) -> Vec<&Value> {
    report["diagnostics"].as_array().expect("diagnostics").iter().filter(|d| d["severity"] == "error").collect()
}

/// The byte offset of a 1-based line and character column.
fn offset(text: &str, line: u64, column: u64) -> usize {
    let start: usize = text.split_inclusive('\n').take(line as usize - 1).map(str::len).sum();
    let rest = &text[start..];
    start + rest.char_indices().nth(column as usize - 1).map_or(rest.len(), |(at, _)| at)
}

fn range(text: &str, place: &Value) -> std::ops::Range<usize> {
    let at = |line: &str, column: &str| {
        offset(text, place[line].as_u64().expect("line"), place[column].as_u64().expect("column"))
    };
    at("line", "column")..at("end_line", "end_column")
}

const ESTATE: &str = r#"node prod1 {
  os      = nixos
  address = 10.0.0.1
}

service web {
  image = "nginx:1.27"
  on    = node.prdo1
  ports { http = 8080/tcp }
}

service api {
  image = "example/api:2.4"
  on    = node.prod1
  env { DATABASE_PASSWORD = "hunter2" }
}
"#;

#[test]
fn json_suggestions_applied_as_written_fix_the_estate() {
    let root = scratch("apply");
    let file = root.join("infra/main.spec");
    std::fs::create_dir_all(root.join("infra")).expect("infra");
    std::fs::write(&file, ESTATE).expect("write");
    let report = check_json(&root, "infra");
    let found = errors(&report);
    assert!(found.len() >= 2, "{report:#}");
    // Every diagnostic has the key, `null` when there is no fix.
    assert!(report["diagnostics"].as_array().into_iter().flatten().all(|d| d.get("suggestion").is_some()));

    let mut text = ESTATE.to_string();
    let mut edits = Vec::new();
    let mut declarations = Vec::new();
    for diagnostic in &found {
        let suggestion = &diagnostic["suggestion"];
        assert!(suggestion.is_object(), "{} has a fix: {diagnostic:#}", diagnostic["code"]);
        // Named from the working directory, like the diagnostic.
        assert_eq!(suggestion["span"]["file"], "infra/main.spec");
        assert_eq!(suggestion["edit"]["file"], "infra/main.spec");
        let span = range(&text, &suggestion["span"]);
        let edit = range(&text, &suggestion["edit"]);
        assert!(span.start <= edit.start && edit.end <= span.end, "the edit lies inside the span: {suggestion:#}");
        let written = suggestion["written"].as_str().expect("written");
        if !written.is_empty() {
            assert_eq!(&text[edit.clone()], written, "the edit is the word as written");
        }
        edits.push((edit, suggestion["replacement"].as_str().expect("replacement").to_string()));
        if let Some(declaration) = suggestion["declaration"].as_str() {
            declarations.push(declaration.to_string());
        }
    }
    let did_you_mean = found.iter().find(|d| d["suggestion"]["written"] == "prdo1").expect("a did-you-mean");
    assert_eq!(did_you_mean["suggestion"]["replacement"], "prod1");
    assert_eq!(did_you_mean["suggestion"]["declaration"], Value::Null);
    let secret = found.iter().find(|d| d["code"] == "E0613").expect("a plaintext secret");
    assert!(secret["suggestion"]["replacement"].as_str().is_some_and(|r| r.starts_with("secret.")), "{secret:#}");
    assert!(secret["suggestion"]["declaration"].as_str().is_some_and(|d| d.starts_with("secret ")), "{secret:#}");

    edits.sort_by_key(|(edit, _)| std::cmp::Reverse(edit.start));
    for (edit, replacement) in edits {
        text.replace_range(edit, &replacement);
    }
    for declaration in declarations {
        text.push_str(&format!("\n{declaration}\n"));
    }
    std::fs::write(&file, &text).expect("write the fixed estate");
    let fixed = check_json(&root, "infra");
    assert_eq!(errors(&fixed), Vec::<&Value>::new(), "{text}");
}

#[test]
fn a_diagnostic_without_a_fix_has_a_null_suggestion() {
    let root = scratch("none");
    std::fs::write(root.join("main.spec"), "node prod1 {\n  os  = nixos\n  cpu = \"many\"\n}\n").expect("write");
    let report = check_json(&root, ".");
    let found = errors(&report);
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["suggestion"], Value::Null);
}
