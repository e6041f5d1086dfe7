//! Fuzz target: structure-aware. The fuzzer's bytes become a typed estate (`spec_fuzz::estate`)
//! that always parses, so mutations exercise evaluation, the model checker, the graph rules and
//! every back end's escaping rather than the parser's recovery. Each estate also goes through
//! `spec fmt`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spec_compiler::syntax::format::format_source;
use spec_fuzz::estate::Estate;

fuzz_target!(|estate: Estate| {
    let text = estate.to_spec();
    spec_fuzz::pipeline(&text);
    if let Some(formatted) = format_source(&text) {
        assert_eq!(format_source(&formatted).as_deref(), Some(formatted.as_str()), "formatting is not idempotent");
    }
});
