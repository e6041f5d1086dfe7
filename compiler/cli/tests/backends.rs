//! Every back end's `Target::check`, which `spec check` and the editor run and which may skip
//! rendering files, reports exactly what its `Target::generate` (what `spec build` runs) reports:
//! on every example folder, every back-end case (with their warnings and errors) and a generated
//! estate large enough to split work over threads.

use std::path::{Path, PathBuf};

use spec_compiler::diagnostics::Diagnostic;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::target::Context;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `*.spec` files of every example folder and every `specs/targets/**` case.
fn estate_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in ["examples", "specs/targets"] {
        for entry in walkdir::WalkDir::new(workspace().join(root)).sort_by_file_name() {
            let entry = entry.expect("walk");
            if entry.path().extension().is_some_and(|e| e == "spec") {
                files.push(entry.into_path());
            }
        }
    }
    files
}

fn show(diagnostic: &Diagnostic) -> String {
    format!("{} {:?} {}", diagnostic.code.as_str(), diagnostic.primary.span, diagnostic.message)
}

#[test]
fn check_reports_what_generate_reports_for_every_back_end() {
    let mut estates: Vec<(String, String)> = estate_files()
        .into_iter()
        .map(|path| (path.display().to_string(), std::fs::read_to_string(&path).expect("estate")))
        .collect();
    estates.push(("generated".into(), spec_testkit::generate_estate(2_500)));
    let mut reported = 0;
    for (name, text) in estates {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", text, Origin::User));
        let compilation = spec_compiler::driver::compile(&mut sources, &[file], None);
        if compilation.errors() > 0 {
            // Back ends run only on estates that check (some examples span several files).
            continue;
        }
        let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
        for target in spec_cli::backends::all() {
            let generated: Vec<String> = target.generate(&context).diagnostics.iter().map(show).collect();
            let checked: Vec<String> = target.check(&context).iter().map(show).collect();
            assert_eq!(checked, generated, "{name}: {}", target.name());
            reported += generated.len();
        }
    }
    assert!(reported >= 10, "the cases hold back-end diagnostics to compare: {reported}");
}
