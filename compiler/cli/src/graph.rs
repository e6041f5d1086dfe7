//! `spec graph`: print the estate's dependency graph as Graphviz DOT or JSON, in a stable order.

use spec_compiler::diagnostics::{Severity, render};
use spec_compiler::graph::EstateGraph;

use crate::args::{GraphArgs, GraphFormat};
use crate::load;

/// Prints the graph, or the errors that prevent building it; returns the exit code.
pub fn run(args: &GraphArgs) -> i32 {
    let mut compiled = load::compile(&args.paths, args.env.as_deref());
    compiled.show_locations();
    let load::Compiled { sources, compilation, diagnostics, .. } = compiled;
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.severity() == Severity::Error).collect();
    if !errors.is_empty() {
        for diagnostic in &errors {
            eprint!("{}", render::render(diagnostic, &sources, false, 100));
        }
        eprintln!(
            "the graph is printed once the estate checks without errors ({} found)",
            crate::words::count(errors.len(), "error", "errors")
        );
        return 1;
    }
    let estate = EstateGraph::build(&compilation.model);
    match args.format {
        GraphFormat::Dot => print!("{}", estate.to_dot()),
        GraphFormat::Json => println!("{}", estate.to_json()),
    }
    0
}
