//! `spec-bench`: the benchmark of the whole compiler.
//!
//! For each size it writes the testkit's generated estate of that many services, measures every
//! stage in process (read, parse, evaluate, model, graph, each back end, write: median time and
//! peak resident memory), then `spec build` and `spec check` as whole processes (median wall time,
//! peak resident memory from `getrusage(RUSAGE_CHILDREN)`; a fresh build and a build
//! over an up-to-date output folder; `spec check` on the estate and on the same estate with a
//! warning per ten services), and prints a table and a JSON report.
//! Every measurement runs in a fresh child process (this binary re-executed), so no size inherits
//! another's heap. Timing is never asserted: the figures are for reading (see README.md).

// The benchmark reads the clock and the file system; the no-IO rule is for the core library.
#![allow(clippy::disallowed_methods)]

mod report;
mod stages;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::{Parser, Subcommand};
use nix::sys::resource::UsageWho;
use report::{Process, SizeReport};

/// The allocator of the `spec` binary, so the stages are measured as they run there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "spec-bench", about = "Benchmark the spec compiler on generated estates")]
struct Cli {
    #[command(subcommand)]
    command: Option<Internal>,
    /// Estate sizes, in services.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1_000, 10_000, 100_000])]
    sizes: Vec<usize>,
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Where estates and outputs are written.
    #[arg(long, default_value = "target/bench")]
    work: PathBuf,
    /// The `spec` binary to run as a process (default: beside this one).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Where the JSON report goes (default: WORK/results.json).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Internal {
    /// Writes the generated estate of SERVICES services to DIR/estate.spec.
    Estate {
        services: usize,
        dir: PathBuf,
        /// With a warning per ten services (an alert matching a mistyped job).
        #[arg(long)]
        warnings: bool,
    },
    /// Measures the stages in this process and prints them as JSON (run by the benchmark itself).
    #[command(hide = true)]
    Stages { dir: PathBuf, out: PathBuf, runs: usize },
    /// Runs a command and prints its wall time and peak memory as JSON (run by the benchmark itself).
    #[command(hide = true)]
    Rusage {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Internal::Stages { dir, out, runs }) => stages::measure(dir, out, *runs).and_then(|figures| {
            println!("{}", serde_json::to_string(&figures).map_err(|e| e.to_string())?);
            Ok(())
        }),
        Some(Internal::Rusage { command }) => rusage(command),
        Some(Internal::Estate { services, dir, warnings }) => {
            let estate = if *warnings {
                spec_testkit::generate_estate_with_warnings(*services)
            } else {
                spec_testkit::generate_estate(*services)
            };
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(dir.join("estate.spec"), estate))
                .map_err(|e| format!("{}: {e}", dir.display()))
        }
        None => benchmark(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("spec-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `command` (its output discarded) and prints its wall time and peak resident memory. This
/// process has no other child, so `RUSAGE_CHILDREN` is that command's own figure.
fn rusage(command: &[String]) -> Result<(), String> {
    let (program, arguments) = command.split_first().ok_or("no command")?;
    let started = Instant::now();
    let before = stages::cpu_ms(UsageWho::RUSAGE_CHILDREN);
    let output = Command::new(program)
        .args(arguments)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let cpu_ms = stages::cpu_ms(UsageWho::RUSAGE_CHILDREN) - before;
    if !output.status.success() {
        return Err(format!("{} failed: {}", command.join(" "), String::from_utf8_lossy(&output.stderr)));
    }
    let usage = nix::sys::resource::getrusage(UsageWho::RUSAGE_CHILDREN).map_err(|e| format!("getrusage: {e}"))?;
    // Linux reports the peak in KiB.
    let peak_mib = usage.max_rss() as f64 / 1024.0;
    println!("{}", serde_json::json!({ "ms": ms, "cpu_ms": cpu_ms, "peak_mib": peak_mib }));
    Ok(())
}

/// Runs this binary with `arguments` and parses the JSON it prints.
fn child<T: serde::de::DeserializeOwned>(arguments: &[&str]) -> Result<T, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(me).args(arguments).stderr(Stdio::inherit()).output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("`spec-bench {}` failed", arguments.join(" ")));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("`spec-bench {}`: {e}", arguments.join(" ")))
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

fn benchmark(cli: &Cli) -> Result<(), String> {
    let spec = match &cli.spec {
        Some(spec) => spec.clone(),
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("spec"),
    };
    if !spec.is_file() {
        return Err(format!(
            "no `spec` binary at {}: build it first (`cargo build --release -p spec-cli -p spec-bench`) or pass --spec",
            spec.display()
        ));
    }
    let spec = text(&spec).to_string();
    let runs = cli.runs.max(1).to_string();
    let mut reports = Vec::new();
    // Every output folder, removed only after the last measurement (see `stages::fresh_output`).
    let mut spent: Vec<PathBuf> = Vec::new();
    let result = measure_sizes(cli, &spec, &runs, &mut reports, &mut spent);
    if !spent.is_empty() {
        eprintln!("removing the outputs (on ext4 without a journal, wait a minute before measuring again)");
    }
    for folder in &spent {
        let _ = std::fs::remove_dir_all(folder);
    }
    result?;
    print!("{}", report::table(&reports));
    let json = cli.json.clone().unwrap_or_else(|| cli.work.join("results.json"));
    let document = serde_json::to_string_pretty(&report::document(&reports)).map_err(|e| e.to_string())?;
    std::fs::write(&json, document + "\n").map_err(|e| format!("{}: {e}", json.display()))?;
    eprintln!("JSON report: {}", json.display());
    Ok(())
}

/// Moves `folder` aside if an earlier benchmark left it (a rename frees no inode), so the runs
/// write into folders that do not exist yet, and lists it for removal at the end.
fn set_aside(folder: &Path, spent: &mut Vec<PathBuf>) -> Result<(), String> {
    if folder.exists() {
        let aside = folder.with_file_name(format!(
            "{}-left-{}",
            folder.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
            std::process::id()
        ));
        std::fs::rename(folder, &aside).map_err(|e| format!("{}: {e}", folder.display()))?;
        spent.push(aside);
    }
    spent.push(folder.to_path_buf());
    Ok(())
}

fn measure_sizes(
    cli: &Cli,
    spec: &str,
    runs: &str,
    reports: &mut Vec<SizeReport>,
    spent: &mut Vec<PathBuf>,
) -> Result<(), String> {
    for &services in &cli.sizes {
        let (dir, out) = stages::folders(&cli.work, services);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let build_out = out.with_file_name("out-build");
        set_aside(&out, spent)?;
        set_aside(&build_out, spent)?;
        let estate = spec_testkit::generate_estate(services);
        std::fs::write(dir.join("estate.spec"), &estate).map_err(|e| format!("{}: {e}", dir.display()))?;
        eprintln!("{services} services ({:.1} MB): stages…", estate.len() as f64 / 1e6);
        let in_process: stages::InProcess = child(&["stages", text(&dir), text(&out), runs])?;
        eprintln!("{services} services: spec build and spec check as processes…");
        // The same estate with a warning per ten services (did-you-mean and rendering at scale).
        let warned = dir.with_file_name("warnings");
        std::fs::create_dir_all(&warned).map_err(|e| format!("{}: {e}", warned.display()))?;
        std::fs::write(warned.join("estate.spec"), spec_testkit::generate_estate_with_warnings(services))
            .map_err(|e| format!("{}: {e}", warned.display()))?;
        let (mut fresh, mut again, mut checks, mut warned_checks) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Alternate the four, so a noisy moment spreads over all of them. A fresh build creates
        // every file and folder in a folder of its own; a build again finds them up to date (the
        // edit-build loop).
        for run in 0..cli.runs.max(1) {
            let run_out = stages::fresh_output(&build_out, run);
            let build = ["rusage", "--", spec, "build", text(&dir), "--out", text(&run_out)];
            fresh.push(child(&build)?);
            again.push(child(&build)?);
            checks.push(child(&["rusage", "--", spec, "check", text(&dir)])?);
            warned_checks.push(child(&["rusage", "--", spec, "check", text(&warned)])?);
        }
        reports.push(SizeReport {
            services,
            estate_bytes: estate.len(),
            in_process,
            build: Process::median(fresh),
            build_again: Process::median(again),
            check: Process::median(checks),
            check_warnings: Process::median(warned_checks),
        });
    }
    Ok(())
}
