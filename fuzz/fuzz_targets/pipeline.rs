//! Fuzz target: the whole pipeline in memory, as `spec check` runs it: parse, evaluate, check the
//! model and the graph, render every diagnostic, then run every back end (see `spec_fuzz::pipeline`
//! for the invariants checked on their output).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    spec_fuzz::pipeline(text);
});
