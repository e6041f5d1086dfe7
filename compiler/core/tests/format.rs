//! `spec fmt` over the whole corpus: formatting is idempotent and never changes meaning. For every
//! `specs/` case and every example without syntax errors (the formatter refuses the others), the
//! formatted text formats to itself, and it compiles to the
//! same model (compared as JSON, which leaves spans out) with the same diagnostics (codes and
//! messages; their columns may move with the indentation).

// Tests read the corpus from disk; the no-IO rule is for the core library itself.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use spec_compiler::driver;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::syntax::format::format_source;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn compile(text: &str) -> (serde_json::Value, Vec<(String, String)>) {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("case.spec", text, Origin::User));
    let compilation = driver::compile(&mut sources, &[file], None);
    let model = serde_json::to_value(&compilation.model).expect("the model serialises");
    let mut diagnostics: Vec<(String, String)> =
        compilation.diagnostics.iter().map(|d| (d.code.as_str().to_string(), d.message.clone())).collect();
    diagnostics.sort();
    (model, diagnostics)
}

#[test]
fn formatting_the_corpus_is_idempotent_and_keeps_meaning() {
    let mut checked = 0;
    for root in ["specs", "examples"] {
        for entry in walkdir::WalkDir::new(workspace().join(root)).sort_by_file_name() {
            let entry = entry.expect("walk");
            if entry.path().extension().is_none_or(|e| e != "spec") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).expect("read");
            // Files with syntax errors are refused (they are the syntax cases' point).
            let Some(formatted) = format_source(&text) else { continue };
            assert_eq!(
                format_source(&formatted).as_ref(),
                Some(&formatted),
                "{}: formatting is not idempotent",
                entry.path().display()
            );
            assert_eq!(
                compile(&text),
                compile(&formatted),
                "{}: formatting changed its meaning",
                entry.path().display()
            );
            checked += 1;
        }
    }
    assert!(checked > 130, "the corpus holds the cases and the examples ({checked} without syntax errors)");
}
