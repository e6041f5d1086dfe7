//! A generated 10,000-service estate checks with no diagnostic, through every stage, every graph
//! rule and every back end. The timing is printed (run with `--nocapture`), never asserted: speed is measured
//! by the benchmark, not by tests.

// The test reads the clock to print the timing; the no-clock rule is for the core library itself.
#![allow(clippy::disallowed_methods)]

use spec_compiler::driver;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::target::{Context, Target};

#[test]
fn a_generated_10000_service_estate_checks_clean() {
    let text = spec_testkit::generate_estate(10_000);
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("estate.spec", text, Origin::User));
    let started = std::time::Instant::now();
    let compilation = driver::compile(&mut sources, &[file], None);
    let elapsed = started.elapsed();
    assert!(compilation.diagnostics.is_empty(), "{:#?}", compilation.diagnostics.first());
    assert_eq!(compilation.model.services.len(), 10_000);
    assert_eq!(compilation.model.nodes.len(), 1_000);
    println!("10,000 services: {:.0} ms (this build profile)", elapsed.as_secs_f64() * 1000.0);

    // Every back end over the same estate: per-node lowering reads an index, never the whole model.
    let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let started = std::time::Instant::now();
    let targets: [&dyn Target; 2] = [&spec_target_nixos::Nixos, &spec_target_systemd::Systemd];
    let mut files = 0;
    for target in targets {
        let generated = target.generate(&context);
        assert!(generated.diagnostics.is_empty(), "{}: {:#?}", target.name(), generated.diagnostics.first());
        files += generated.files.len();
    }
    assert_eq!(files, 1_000 + 2, "a module per node, the flake and the hive");
    println!("every back end: {:.0} ms (this build profile)", started.elapsed().as_secs_f64() * 1000.0);
}

/// The benchmark's estate with mistakes: one warning per ten services, each with its did-you-mean
/// (found through the suggestion index) and each rendered with its own line (read through the line
/// index).
#[test]
fn a_generated_estate_with_warnings_reports_each_with_its_suggestion() {
    let text = spec_testkit::generate_estate_with_warnings(1_000);
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("estate.spec", text, Origin::User));
    let compilation = driver::compile(&mut sources, &[file], None);
    assert_eq!(compilation.diagnostics.len(), 100, "{:#?}", compilation.diagnostics.first());
    let started = std::time::Instant::now();
    for diagnostic in &compilation.diagnostics {
        assert_eq!(diagnostic.code.as_str(), "W0604", "{diagnostic:#?}");
        let typo = diagnostic.message.split('`').nth(3).expect("the job in the message");
        let service = typo.replace('-', "");
        assert_eq!(diagnostic.help.as_deref(), Some(format!("did you mean `{service}`?").as_str()));
        let rendered = spec_compiler::diagnostics::render::render_plain(diagnostic, &sources);
        let line = sources.get(file).line_col(diagnostic.primary.span.start).line;
        assert!(rendered.contains(&format!("[estate.spec:{line}:")), "{rendered}");
        assert!(rendered.contains(&format!("alert {service}-down {{")), "{rendered}");
    }
    println!("rendering 100 warnings: {:.1} ms (this build profile)", started.elapsed().as_secs_f64() * 1000.0);
}
