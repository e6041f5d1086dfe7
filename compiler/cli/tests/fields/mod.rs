//! Support for `fields_reach.rs`: the schema walk ([`schema`]), the placements of every kind
//! ([`placements`]) and compiling an estate through every back end in process.

pub mod placements;
pub mod schema;

use spec_compiler::diagnostics::Diagnostic;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::target::Context;

/// What one estate compiles to: every file every back end writes (path and text, in order), and
/// every diagnostic of every stage, the back ends' included.
pub struct Compiled {
    /// `(path, contents)` of every generated file, empty when the estate has errors.
    pub files: Vec<(String, String)>,
    /// Every diagnostic.
    pub diagnostics: Vec<Diagnostic>,
    /// The estate's file, which the spans of the user's text name.
    pub file: spec_compiler::source::FileId,
}

impl Compiled {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code.as_str().starts_with('E'))
    }
}

/// The dashboard files every estate holds beside `main.spec`, as the CLI reads the `*.json` of an
/// estate's folder.
pub const DASHBOARDS: &[(&str, &str)] = &[("a.json", "{\"title\": \"A\"}\n"), ("b.json", "{\"title\": \"B\"}\n")];

/// Compiles `text` as `main.spec` and runs every back end on it, as `spec build` does.
pub fn compile(text: &str) -> Compiled {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("main.spec", text.to_string(), Origin::User));
    for (path, text) in DASHBOARDS {
        sources.add(SourceFile::new(*path, *text, Origin::Data));
    }
    let compilation = spec_compiler::driver::compile(&mut sources, &[file], None);
    let mut diagnostics = compilation.diagnostics;
    let mut files = Vec::new();
    if !diagnostics.iter().any(|d| d.code.as_str().starts_with('E')) {
        let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
        for target in spec_cli::backends::all() {
            let generated = target.generate(&context);
            diagnostics.extend(generated.diagnostics);
            files.extend(generated.files.into_iter().map(|f| (f.path, f.contents)));
        }
    }
    Compiled { files, diagnostics, file }
}
