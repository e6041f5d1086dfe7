//! What the fuzz targets share: the whole pipeline in memory with the invariants every input must
//! keep, and [`estate::Estate`], the structure-aware generator of valid-ish estates.
//!
//! A fuzz target fails only by panicking (libFuzzer records the input as a crash), so each
//! invariant here is an `assert!` naming what broke: no stage panics, every diagnostic renders,
//! back ends produce safe relative paths and byte-identical output for the same model.

pub mod estate;

use spec_compiler::diagnostics::{Severity, format, render};
use spec_compiler::driver::{self, Compilation};
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::target::{Context, OutputFile, Target};

/// Every back end, as `spec check` and `spec build --target all` run them (the CLI's
/// `build::targets`; the fuzz crate cannot depend on the binary).
pub fn targets() -> Vec<Box<dyn Target>> {
    vec![
        Box::new(spec_target_nixos::Nixos),
        Box::new(spec_target_systemd::Systemd),
        Box::new(spec_target_kubernetes::Kubernetes),
        Box::new(spec_target_prometheus::Prometheus),
    ]
}

/// Compiles `text` as the one user file `main.spec`.
pub fn compile(text: &str) -> (SourceMap, Compilation) {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("main.spec", text, Origin::User));
    let compilation = driver::compile(&mut sources, &[file], None);
    (sources, compilation)
}

/// The whole pipeline as `spec check` and `spec build` run it, in memory: compile, render every
/// diagnostic in every format, and when there is no error run every back end twice, checking its
/// paths and that its output does not change.
pub fn pipeline(text: &str) {
    let (sources, compilation) = compile(text);
    render_all(&compilation, &sources);
    if compilation.errors() > 0 {
        return;
    }
    let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let mut all_files: Vec<OutputFile> = Vec::new();
    for target in targets() {
        let first = target.generate(&context);
        let again = target.generate(&context);
        assert_eq!(first.files, again.files, "the same model gave different output");
        for diagnostic in &first.diagnostics {
            render::render_plain(diagnostic, &sources);
        }
        if !first.diagnostics.iter().any(|d| d.severity() == Severity::Error) {
            all_files.extend(first.files);
        }
    }
    check_paths(&all_files);
}

/// Renders every diagnostic as a human report, JSON and a GitHub annotation: spans must lie on
/// character boundaries inside their file, or rendering would panic.
pub fn render_all(compilation: &Compilation, sources: &SourceMap) {
    for diagnostic in &compilation.diagnostics {
        render::render_plain(diagnostic, sources);
        format::github_annotation(diagnostic, sources);
    }
    format::json_report(&compilation.diagnostics, sources);
}

/// Output paths are relative, `/`-separated, made of plain components, end in a newline-terminated
/// file, and are unique ignoring case (what `spec build` would otherwise refuse to write).
pub fn check_paths(files: &[OutputFile]) {
    let mut seen = std::collections::HashSet::new();
    for file in files {
        let plain = !file.path.is_empty()
            && !file.path.starts_with('/')
            && !file.path.contains('\\')
            && file.path.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
        assert!(plain, "unsafe output path {:?}", file.path);
        assert!(seen.insert(file.path.to_lowercase()), "two output paths differ only by case: {:?}", file.path);
        assert!(file.contents.ends_with('\n'), "{} does not end with a newline", file.path);
    }
}
