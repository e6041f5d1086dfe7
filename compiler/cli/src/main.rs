//! The `spec` command: parses the arguments, dispatches to one module per subcommand, and maps the
//! result to an exit code (0 ok, 1 errors in the estate, 2 usage).

mod args;
mod build;
mod check;
mod diff;
mod explain;
mod fmt;
mod git;
mod graph;
mod init;
mod progress;
mod report;
mod words;

use clap::Parser;
use spec_cli::{load, output};

/// mimalloc rather than the system allocator: the compiler makes many small allocations.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = args::Cli::parse();
    let code = match &cli.command {
        args::Command::Build(build_args) => build::run(build_args),
        args::Command::Check(check_args) => check::run(check_args),
        args::Command::Explain { code } => explain::run(code.as_deref()),
        args::Command::Graph(graph_args) => graph::run(graph_args),
        args::Command::Init { dir } => init::run(dir.as_deref()),
        args::Command::Diff(diff_args) => diff::run(diff_args),
        args::Command::Fmt(fmt_args) => fmt::run(fmt_args),
        args::Command::Lsp => match spec_lsp::run_stdio(spec_cli::backends::all()) {
            Ok(()) => 0,
            Err(error) => {
                eprintln!("error: spec lsp: {error}");
                1
            }
        },
        args::Command::Schema => {
            let schema = spec_compiler::model::model_schema();
            match serde_json::to_string_pretty(&schema) {
                Ok(text) => {
                    println!("{text}");
                    0
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    1
                }
            }
        }
    };
    std::process::exit(code);
}
