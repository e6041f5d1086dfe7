//! The in-process measurement: one estate compiled stage by stage, in a fresh process per size, so
//! each stage's peak resident memory is its own.
//!
//! The stages are the driver's own ([`driver::compile_observed`] reports each as it ends), then each
//! back end, then the CLI's staged write, exactly as `spec build` runs them. Peak memory is the
//! kernel's high-water mark of resident memory (`VmHWM`), reset before each stage through
//! `/proc/self/clear_refs`; where that reset is refused the figures are cumulative, which the report
//! says.

use std::path::{Path, PathBuf};
use std::time::Instant;

use nix::sys::resource::UsageWho;

use serde::{Deserialize, Serialize};
use spec_compiler::diagnostics::Severity;
use spec_compiler::driver::{self, Stage};
use spec_compiler::target::{Context, OutputFile, Target};

/// The back ends, in the order `spec build --target all` runs them.
pub fn backends() -> Vec<Box<dyn Target>> {
    spec_cli::backends::all()
}

/// One stage's time and peak resident memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageFigure {
    /// `read`, `parse`, `evaluate`, `model`, `graph`, a back end's name, or `write`.
    pub stage: String,
    /// Wall time in milliseconds (median over the runs).
    pub ms: f64,
    /// CPU time (user and system) in milliseconds (median over the runs): steadier than wall time
    /// on a shared machine.
    pub cpu_ms: f64,
    /// Peak resident memory during the stage in MiB (first run).
    pub peak_mib: f64,
}

/// What one size's in-process measurement found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InProcess {
    /// Every stage, in order.
    pub stages: Vec<StageFigure>,
    /// The sum of the stages' median times.
    pub total_ms: f64,
    /// The sum of the stages' median CPU times.
    pub total_cpu_ms: f64,
    /// The peak resident memory of the whole measurement process.
    pub peak_mib: f64,
    /// Whether peaks are per stage (`clear_refs` worked) or cumulative.
    pub per_stage_peaks: bool,
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: usize,
}

/// Reads a `Vm…:` line of `/proc/self/status` in MiB (0 where unavailable).
pub fn vm_status(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.trim().strip_suffix("kB")?.trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The CPU time (user and system) this process has used, in milliseconds.
pub fn cpu_ms(who: nix::sys::resource::UsageWho) -> f64 {
    nix::sys::resource::getrusage(who).map_or(0.0, |usage| {
        let time = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1000.0 + t.tv_usec() as f64 / 1000.0;
        time(usage.user_time()) + time(usage.system_time())
    })
}

/// Resets the resident high-water mark to the current resident size; false where refused.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Mark {
    stage: String,
    ms: f64,
    cpu_ms: f64,
    peak_mib: f64,
}

struct Clock {
    last: Instant,
    last_cpu: f64,
    marks: Vec<Mark>,
    resets: bool,
}

impl Clock {
    fn start() -> Clock {
        let resets = reset_peak();
        Clock { last: Instant::now(), last_cpu: cpu_ms(UsageWho::RUSAGE_SELF), marks: Vec::new(), resets }
    }

    /// Ends the current stage: records its time and peak, and starts the next one.
    fn mark(&mut self, stage: &str) {
        let ms = self.last.elapsed().as_secs_f64() * 1000.0;
        let cpu = cpu_ms(UsageWho::RUSAGE_SELF);
        let peak_mib = vm_status("VmHWM:");
        self.marks.push(Mark { stage: stage.to_string(), ms, cpu_ms: cpu - self.last_cpu, peak_mib });
        self.resets &= reset_peak();
        self.last_cpu = cpu_ms(UsageWho::RUSAGE_SELF);
        self.last = Instant::now();
    }
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Parse => "parse",
        Stage::Evaluate => "evaluate",
        Stage::Model => "model",
        Stage::Graph => "graph",
    }
}

/// Runs every stage once over the estate in `dir`, writing into `out`, a folder that does not exist
/// yet (the benchmark removes the runs' outputs only after every measurement: see
/// [`fresh_output`]).
fn run_once(dir: &Path, out: &Path) -> Result<(Clock, usize, usize), String> {
    let mut clock = Clock::start();
    let mut loaded = spec_cli::load::load(&[dir.to_path_buf()]);
    if !loaded.diagnostics.is_empty() {
        return Err(format!("cannot read {}", dir.display()));
    }
    clock.mark("read");
    let compilation = driver::compile_observed(&mut loaded.sources, &loaded.files, None, &mut |stage| {
        clock.mark(stage_name(stage));
    });
    if let Some(first) = compilation.diagnostics.iter().find(|d| d.severity() == Severity::Error) {
        return Err(format!("the estate does not check: {} {}", first.code.as_str(), first.message));
    }
    let context = Context { model: &compilation.model, sources: &loaded.sources, root_from_out: "..".into() };
    let mut files: Vec<OutputFile> = Vec::new();
    for backend in backends() {
        let mut generated = backend.generate(&context);
        files.append(&mut generated.files);
        clock.mark(backend.name());
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    spec_cli::output::validate_paths(&files)?;
    spec_cli::output::write(out, &files)?;
    clock.mark("write");
    let bytes = files.iter().map(|f| f.contents.len()).sum();
    Ok((clock, files.len(), bytes))
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Measures `runs` runs over the estate in `dir` (output into `out`).
pub fn measure(dir: &Path, out: &Path, runs: usize) -> Result<InProcess, String> {
    let mut clocks = Vec::new();
    let (mut files, mut bytes) = (0, 0);
    for run in 0..runs.max(1) {
        let (clock, written, size) = run_once(dir, &fresh_output(out, run))?;
        (files, bytes) = (written, size);
        clocks.push(clock);
    }
    let first = &clocks[0];
    let stages: Vec<StageFigure> = first
        .marks
        .iter()
        .enumerate()
        .map(|(index, mark)| {
            let mut times: Vec<f64> = clocks.iter().filter_map(|c| c.marks.get(index).map(|m| m.ms)).collect();
            let mut cpu: Vec<f64> = clocks.iter().filter_map(|c| c.marks.get(index).map(|m| m.cpu_ms)).collect();
            StageFigure {
                stage: mark.stage.clone(),
                ms: median(&mut times),
                cpu_ms: median(&mut cpu),
                peak_mib: mark.peak_mib,
            }
        })
        .collect();
    let total_ms = stages.iter().map(|s| s.ms).sum();
    let total_cpu_ms = stages.iter().map(|s| s.cpu_ms).sum();
    let peak_mib = stages.iter().map(|s| s.peak_mib).fold(0.0, f64::max);
    Ok(InProcess { stages, total_ms, total_cpu_ms, peak_mib, per_stage_peaks: first.resets, files, bytes })
}

/// The output folder of run `run` under `outputs`: each run of a fresh build writes into a folder
/// of its own, and the benchmark removes them all only after its last measurement. Why: on ext4
/// without a journal (this machine's), creating an inode skips every free inode of its block
/// group deleted in the last one to six minutes, reading its inode table block for each
/// (`recently_deleted` in the kernel's `find_inode_bit`); removing the previous run's 4,000 files
/// and folders just before a fresh build made each file it created scan them, and the fresh
/// build measured that removal (2.6–6.7 s against 1.2–1.8 s into a new folder at 10,000
/// services; see README.md).
pub fn fresh_output(outputs: &Path, run: usize) -> PathBuf {
    outputs.join(format!("run-{run}"))
}

/// The estate's folder and output folder for `services` under `work`.
pub fn folders(work: &Path, services: usize) -> (PathBuf, PathBuf) {
    let root = work.join(services.to_string());
    (root.join("estate"), root.join("out"))
}
