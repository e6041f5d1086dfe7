//! Progress of a long `spec build` or `spec check` on stderr: which stage runs and since when, so
//! a 100,000-service build does not sit silent for 20 seconds. Shown only on stderr, never in any
//! output file or on stdout, so output stays byte-identical with or without it.
//!
//! `--progress auto` (the default) shows it when stderr is a terminal and the command has run for
//! a second, rewriting one line (a thread waits for the first second, so a fast command prints
//! nothing); `always` prints every stage as it starts, one line each (for CI logs); `never`
//! prints nothing.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::args::ProgressMode;

/// How long a command runs before `auto` shows its progress.
pub const QUIET_FOR: Duration = Duration::from_secs(1);

struct State {
    /// The stage running now, in words (`parsing`).
    stage: &'static str,
    /// How many stages have started (the reporter prints each one once).
    started: usize,
    /// The command is done: the reporter stops.
    done: bool,
}

/// The reporter: stages go in through [`Progress::stage`], lines come out on stderr.
pub struct Progress {
    shared: Option<Arc<(Mutex<State>, Condvar)>>,
    reporter: Option<JoinHandle<()>>,
    /// `always`: each stage printed as it starts, from this instant, without a thread.
    every_line: Option<Instant>,
}

fn line(stage: &str, since: Instant) -> String {
    format!("spec: {stage} ({:.1} s)", since.elapsed().as_secs_f64())
}

impl Progress {
    /// Starts reporting per `mode`, with `first` as the stage running now.
    pub fn start(mode: ProgressMode, first: &'static str) -> Progress {
        let silent = Progress { shared: None, reporter: None, every_line: None };
        match mode {
            ProgressMode::Never => silent,
            ProgressMode::Auto if !std::io::stderr().is_terminal() => silent,
            ProgressMode::Auto => Progress::after(QUIET_FOR, first),
            ProgressMode::Always => {
                let began = Instant::now();
                eprintln!("{}", line(first, began));
                Progress { shared: None, reporter: None, every_line: Some(began) }
            }
        }
    }

    /// Reports on one rewritten line of a terminal once `quiet_for` has passed.
    fn after(quiet_for: Duration, first: &'static str) -> Progress {
        let shared = Arc::new((Mutex::new(State { stage: first, started: 1, done: false }), Condvar::new()));
        let reporter = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || report(&shared, quiet_for))
        };
        Progress { shared: Some(shared), reporter: Some(reporter), every_line: None }
    }

    /// Says that `stage` (in words: `evaluating`) runs from now on.
    pub fn stage(&self, stage: &'static str) {
        if let Some(began) = self.every_line {
            eprintln!("{}", line(stage, began));
        }
        if let Some(shared) = &self.shared {
            let mut state = shared.0.lock().unwrap_or_else(PoisonError::into_inner);
            state.stage = stage;
            state.started += 1;
            shared.1.notify_all();
        }
    }

    /// Stops reporting (and clears the line on a terminal) before the command's own summary; a
    /// second call does nothing.
    pub fn finish(&mut self) {
        if let Some(shared) = &self.shared {
            shared.0.lock().unwrap_or_else(PoisonError::into_inner).done = true;
            shared.1.notify_all();
        }
        if let Some(reporter) = self.reporter.take() {
            let _ = reporter.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The reporter thread: silent for `quiet_for`, then the stage running, on one line rewritten in
/// place, until the command is done; the line is cleared at the end.
fn report(shared: &(Mutex<State>, Condvar), quiet_for: Duration) {
    let began = Instant::now();
    let (lock, changed) = shared;
    let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
    while !state.done && began.elapsed() < quiet_for {
        let left = quiet_for.saturating_sub(began.elapsed());
        state = changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    let mut shown = 0;
    let mut printed_line = false;
    while !state.done {
        if shown < state.started {
            shown = state.started;
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{}", line(state.stage, began));
            let _ = err.flush();
            printed_line = true;
        }
        state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
    }
    if printed_line {
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
    }
}
