//! Fuzz target: `spec fmt`. Formatting is idempotent, and the formatted text compiles to the same
//! model (as JSON, which leaves spans out) with the same diagnostics (codes and messages: columns
//! may move with the indentation), as `compiler/core/tests/format.rs` checks over the corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spec_compiler::driver::Compilation;
use spec_compiler::syntax::format::format_source;

fn meaning(compilation: &Compilation) -> (serde_json::Value, Vec<(String, String)>) {
    let model = serde_json::to_value(&compilation.model).expect("the model serialises");
    let mut diagnostics: Vec<(String, String)> =
        compilation.diagnostics.iter().map(|d| (d.code.as_str().to_string(), d.message.clone())).collect();
    diagnostics.sort();
    (model, diagnostics)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The formatter refuses text with syntax errors.
    let Some(formatted) = format_source(text) else { return };
    assert_eq!(format_source(&formatted).as_deref(), Some(formatted.as_str()), "formatting is not idempotent");
    let (_, before) = spec_fuzz::compile(text);
    let (_, after) = spec_fuzz::compile(&formatted);
    assert_eq!(meaning(&before), meaning(&after), "formatting changed the meaning");
});
