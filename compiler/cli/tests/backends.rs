//! Every back end's `Target::check`, which `spec check` and the editor run and which may skip
//! rendering files, reports exactly what its `Target::generate` (what `spec build` runs) reports:
//! on every example folder (one estate, however many files it is split into), every back-end case
//! (with their warnings and errors) and a generated estate large enough to split work over threads.

use std::path::{Path, PathBuf};

use spec_compiler::diagnostics::Diagnostic;
use spec_compiler::target::Context;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example folder (one estate each, however many files it is split into) and every
/// `specs/targets/**` case.
fn estates() -> Vec<PathBuf> {
    let mut estates: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    estates.sort();
    for entry in walkdir::WalkDir::new(workspace().join("specs/targets")).sort_by_file_name() {
        let entry = entry.expect("walk");
        if entry.path().extension().is_some_and(|e| e == "spec") {
            estates.push(entry.into_path());
        }
    }
    estates
}

fn show(diagnostic: &Diagnostic) -> String {
    format!("{} {:?} {}", diagnostic.code.as_str(), diagnostic.primary.span, diagnostic.message)
}

#[test]
fn check_reports_what_generate_reports_for_every_back_end() {
    let generated_estate = Path::new(env!("CARGO_TARGET_TMPDIR")).join("backends-generated.spec");
    std::fs::write(&generated_estate, spec_testkit::generate_estate(2_500)).expect("write");
    let mut reported = 0;
    for path in estates().into_iter().chain([generated_estate]) {
        let name = path.display().to_string();
        let (sources, compilation) = spec_testkit::compile_path(&path, None);
        if compilation.errors() > 0 {
            // Back ends run only on estates that check.
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
