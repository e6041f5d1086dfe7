//! `spec graph`: print the estate's dependency graph as Graphviz DOT or JSON, in a stable order.
//! With `--env all`, one graph per environment, the base estate first: DOT graphs one after the
//! other, each named after its environment (`dot` draws each), or a JSON list of graphs, each with
//! its `"environment"`.

use spec_compiler::diagnostics::{Diagnostic, Severity, render};
use spec_compiler::graph::EstateGraph;
use spec_compiler::model::Model;
use spec_compiler::source::SourceMap;

use crate::args::{GraphArgs, GraphFormat};
use crate::load;

/// Prints the graph, or the errors that prevent building it; returns the exit code.
pub fn run(args: &GraphArgs) -> i32 {
    if args.env.as_deref() == Some(load::EVERY_ENV) {
        return every_env(args);
    }
    let mut compiled = load::compile(&args.paths, args.env.as_deref());
    compiled.show_locations();
    let load::Compiled { sources, compilation, diagnostics, .. } = compiled;
    if refused(&diagnostics, &sources) {
        return 1;
    }
    let estate = EstateGraph::build(&compilation.model);
    match args.format {
        GraphFormat::Dot => print!("{}", estate.to_dot()),
        GraphFormat::Json => println!("{}", estate.to_json()),
    }
    0
}

/// Prints the errors, if any, and says the graph waits for an estate without them.
fn refused(diagnostics: &[Diagnostic], sources: &SourceMap) -> bool {
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.severity() == Severity::Error).collect();
    if errors.is_empty() {
        return false;
    }
    for diagnostic in &errors {
        eprint!("{}", render::render(diagnostic, sources, false, 100));
    }
    eprintln!(
        "the graph is printed once the estate checks without errors ({} found)",
        crate::words::count(errors.len(), "error", "errors")
    );
    true
}

/// `spec graph --env all`: every environment's graph, once every environment checks.
fn every_env(args: &GraphArgs) -> i32 {
    let mut every = load::compile_every_env(&args.paths, &mut |_| {}, |_: &Model, _: &SourceMap, _| ());
    every.show_locations();
    let names: Vec<String> = every.runs.iter().map(|run| run.name().to_string()).collect();
    let diagnostics = every.merged_diagnostics();
    if refused(&diagnostics, &every.sources) {
        return 1;
    }
    let graphs = every.runs.iter().map(|run| EstateGraph::build(&run.compilation.model));
    match args.format {
        GraphFormat::Dot => {
            for (name, graph) in names.iter().zip(graphs) {
                print!("{}", graph.to_dot().replacen("digraph estate {", &format!("digraph \"estate-{name}\" {{"), 1));
            }
        }
        GraphFormat::Json => {
            let list: Vec<serde_json::Value> = names
                .iter()
                .zip(graphs)
                .map(|(name, graph)| {
                    let mut json = graph.to_json();
                    if let Some(object) = json.as_object_mut() {
                        object.insert("environment".into(), serde_json::Value::String(name.clone()));
                    }
                    json
                })
                .collect();
            println!("{}", serde_json::Value::Array(list));
        }
    }
    0
}
