//! The command line, as clap derive structs: only the shape of the arguments, no behaviour.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// A compiler for infrastructure: checks an estate and lowers it to the files real tools run.
#[derive(Parser, Debug)]
#[command(name = "spec", version, about, long_about = None, after_help = ESTATE_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How `check`, `build`, `graph`, `fmt` and `diff` find the estate when given no path, printed
/// under `spec --help`.
const ESTATE_HELP: &str = "\
Without a PATH, `check`, `build`, `graph`, `fmt` and `diff` run on the estate the working
directory belongs to: the nearest folder at or above it holding a file named `spec.toml` (as
cargo finds Cargo.toml; the language server finds an open file's estate the same way), else the
working directory itself. An empty `spec.toml` at the estate's root is enough; `spec init` writes
one.";

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check an estate and write what its targets generate (nothing at all if anything fails).
    Build(BuildArgs),
    /// Check an estate and report every problem (exit 1 on errors).
    Check(CheckArgs),
    /// Explain a diagnostic code (`E0301`) or slug (`type-mismatch`).
    Explain {
        /// The code or slug; without it, list every code.
        code: Option<String>,
    },
    /// Print the JSON Schema of the whole model.
    Schema,
    /// Print the estate's dependency graph (resources and the references between them).
    Graph(GraphArgs),
    /// Say what changes since a git revision (or between two folders), in words and in files.
    ///
    /// Exit 0 when nothing changes, 1 when something does, 2 when the versions cannot be compared
    /// (errors in either, an unknown revision).
    Diff(DiffArgs),
    /// Rewrite files in the canonical layout (`--check`: only list those that would change).
    Fmt(FmtArgs),
    /// Serve the Language Server Protocol on stdin and stdout, for editors.
    Lsp,
    /// Write a small working estate to start from (refuses to overwrite anything).
    Init {
        /// The folder to write into; default `.`.
        dir: Option<PathBuf>,
    },
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rendered with source snippets, for people.
    Human,
    /// One JSON object on stdout.
    Json,
    /// GitHub workflow annotations on stdout.
    Github,
}

/// When to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When stderr is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// When to show progress on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// After a second, when stderr is a terminal.
    Auto,
    /// Every stage, one line each, from the start (for CI logs).
    Always,
    /// Never.
    Never,
}

/// Diagnostics that can be made strict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Treat warnings as errors.
    Warnings,
}

/// `spec check`
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check (every `*.spec` below a directory); default: the estate
    /// the working directory is in (see `spec --help`).
    pub paths: Vec<PathBuf>,
    /// Apply the overlay `env NAME { … }`; `all`: the base estate and every environment, each on
    /// its own.
    #[arg(long)]
    pub env: Option<String>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Make warnings fail the check.
    #[arg(long, value_enum)]
    pub deny: Option<Deny>,
    /// Silence a warning, by code (`W0603`) or slug (`state-without-backup`); repeatable.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// When to show progress on stderr (never in any output).
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// How the graph is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// `{"vertices":[…],"edges":[…]}`.
    Json,
}

/// `spec graph`
#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// Files or directories (every `*.spec` below a directory); default: the estate the working
    /// directory is in (see `spec --help`).
    pub paths: Vec<PathBuf>,
    /// Apply the overlay `env NAME { … }`; `all`: the base estate and every environment, each on
    /// its own.
    #[arg(long)]
    pub env: Option<String>,
    /// How to print the graph.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// A back end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetName {
    /// NixOS modules and a fleet flake.
    Nixos,
    /// systemd units and networkd files for hosts that are not NixOS.
    Systemd,
    /// Helm values, Flux releases and raw manifests for clusters.
    Kubernetes,
    /// Prometheus alerting rules and their promtool unit tests.
    Prometheus,
    /// Every target.
    All,
}

/// `spec build`
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The estate: a directory (every `*.spec` below it) or files; default: the estate the
    /// working directory is in (see `spec --help`).
    pub paths: Vec<PathBuf>,
    /// Apply the overlay `env NAME { … }`; `all`: the base estate and every environment, each on
    /// its own.
    #[arg(long)]
    pub env: Option<String>,
    /// The output folder; default `out/` inside the estate's folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Which targets to generate, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub target: Vec<TargetName>,
    /// Write nothing; exit 1 when the output folder differs from what the spec produces.
    #[arg(long)]
    pub check: bool,
    /// How to print diagnostics and the `--check` report.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Make warnings fail the build.
    #[arg(long, value_enum)]
    pub deny: Option<Deny>,
    /// Silence a warning, by code or slug; repeatable.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// When to show progress on stderr (never in any output file).
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// How `spec diff` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Lines for a terminal.
    Text,
    /// A block to paste into a pull request.
    Markdown,
}

/// `spec diff`
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The estate before: a git revision (`main`, `HEAD~1`) read without a checkout, or, with
    /// NEW, a folder or file.
    pub old: String,
    /// The estate after: a folder or file of the working tree; default: the estate the working
    /// directory is in (see `spec --help`). With a revision as OLD, the same path is read at that
    /// revision.
    pub new: Option<PathBuf>,
    /// Apply the overlay `env NAME { … }` to both; `all`: compare every environment.
    #[arg(long)]
    pub env: Option<String>,
    /// How to print.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Only count the changed lines of each generated file, instead of showing them.
    #[arg(long)]
    pub stat: bool,
}

/// `spec fmt`
#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Files or directories (every `*.spec` below a directory); default: the estate the working
    /// directory is in (see `spec --help`).
    pub paths: Vec<PathBuf>,
    /// Write nothing; exit 1 listing the files that are not formatted.
    #[arg(long)]
    pub check: bool,
}
