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
