//! Fuzz target: the parser alone. Any UTF-8 text must parse to a tree and diagnostics without a
//! panic, a stack overflow or a hang, and every diagnostic must render against the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spec_compiler::diagnostics::render;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::syntax::parse_file;

fuzz_target!(|data: &[u8]| {
    // Invalid UTF-8 never reaches the parser: the CLI refuses it first (E0001).
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("main.spec", text, Origin::User));
    let (_tree, diagnostics) = parse_file(text, file);
    for diagnostic in &diagnostics {
        render::render_plain(diagnostic, &sources);
    }
});
