//! The benchmark's report: one table for reading and one JSON document for machines.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::stages::{InProcess, StageFigure};

/// A whole process's figures: wall time and peak resident memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Process {
    /// Wall time in milliseconds, start-up included.
    pub ms: f64,
    /// CPU time (user and system) in milliseconds.
    pub cpu_ms: f64,
    /// Peak resident memory in MiB.
    pub peak_mib: f64,
}

impl Process {
    /// The median times and the highest peak of several runs.
    pub fn median(runs: Vec<Process>) -> Process {
        let peak_mib = runs.iter().map(|r| r.peak_mib).fold(0.0, f64::max);
        let mut times: Vec<f64> = runs.iter().map(|r| r.ms).collect();
        let mut cpu: Vec<f64> = runs.iter().map(|r| r.cpu_ms).collect();
        Process { ms: crate::stages::median(&mut times), cpu_ms: crate::stages::median(&mut cpu), peak_mib }
    }
}

/// Everything measured for one size.
#[derive(Clone, Debug, Serialize)]
pub struct SizeReport {
    /// Services in the estate.
    pub services: usize,
    /// Size of the estate's text.
    pub estate_bytes: usize,
    /// Stage by stage, in one process.
    pub in_process: InProcess,
    /// `spec build` (every target) as a process, into an empty output folder.
    pub build: Process,
    /// `spec build` again, over its own up-to-date output (nothing rewritten).
    pub build_again: Process,
    /// `spec check` (back ends in memory, nothing written) as a process.
    pub check: Process,
    /// `spec check` on the same estate with a warning per ten services, each rendered with its
    /// snippet and did-you-mean.
    pub check_warnings: Process,
}

/// The JSON document: the machine's core count and every size.
pub fn document(reports: &[SizeReport]) -> serde_json::Value {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    serde_json::json!({ "cores": cores, "sizes": reports })
}

/// Two tables, times in ms and peak resident memory in MiB: a column per stage (in one process),
/// then the whole process of `spec check`, `spec build` and `spec build` again.
pub fn table(reports: &[SizeReport]) -> String {
    let mut out = String::new();
    let Some(first) = reports.first() else { return out };
    let names: Vec<&str> = first.in_process.stages.iter().map(|s| s.stage.as_str()).collect();
    type Table = (&'static str, fn(&StageFigure) -> f64, fn(&InProcess) -> f64, fn(&Process) -> f64);
    let tables: [Table; 3] = [
        ("wall time (ms, median)", |s| s.ms, |p| p.total_ms, |p| p.ms),
        ("CPU time, user and system (ms, median)", |s| s.cpu_ms, |p| p.total_cpu_ms, |p| p.cpu_ms),
        ("peak resident memory (MiB)", |s| s.peak_mib, |p| p.peak_mib, |p| p.peak_mib),
    ];
    for (title, stage_figure, in_process, whole) in tables {
        let _ = writeln!(out, "\n{title}\n");
        let _ = write!(out, "| services |");
        for name in &names {
            let _ = write!(out, " {name} |");
        }
        let _ = writeln!(
            out,
            " in process | `spec check` | `spec check`, N/10 warnings | `spec build` | `spec build` again |"
        );
        let _ = writeln!(out, "|{}", "---:|".repeat(names.len() + 6));
        for report in reports {
            let _ = write!(out, "| {} |", thousands(report.services));
            for name in &names {
                match report.in_process.stages.iter().find(|s| s.stage == *name) {
                    Some(stage) => {
                        let _ = write!(out, " {} |", figure(stage_figure(stage)));
                    }
                    None => out.push_str(" – |"),
                }
            }
            let _ = writeln!(
                out,
                " {} | {} | {} | {} | {} |",
                figure(in_process(&report.in_process)),
                figure(whole(&report.check)),
                figure(whole(&report.check_warnings)),
                figure(whole(&report.build)),
                figure(whole(&report.build_again))
            );
        }
    }
    let _ = writeln!(out, "\nratios of wall time (the goals: warnings within 1.5x, a fresh build within 2x)\n");
    for report in reports {
        let _ = writeln!(
            out,
            "- {} services: `spec check` with warnings / clean {:.2}x; `spec build` fresh / again {:.2}x",
            thousands(report.services),
            report.check_warnings.ms / report.check.ms,
            report.build.ms / report.build_again.ms
        );
    }
    if reports.iter().any(|r| !r.in_process.per_stage_peaks) {
        out.push_str("(per-stage memory is cumulative: /proc/self/clear_refs was refused)\n");
    }
    out
}

fn figure(value: f64) -> String {
    if value < 10.0 { format!("{value:.2}") } else { format!("{value:.0}") }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
