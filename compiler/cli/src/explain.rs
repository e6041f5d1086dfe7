//! `spec explain`: print the long explanation of a diagnostic code, or list every code.

use spec_compiler::diagnostics::Code;

/// Prints the page for `code` (a code or a slug) and returns the exit code (2 when unknown).
pub fn run(code: Option<&str>) -> i32 {
    let Some(wanted) = code else {
        for code in Code::ALL {
            println!("{}  {:<24} {}", code.as_str(), code.slug(), code.summary());
        }
        return 0;
    };
    let found = Code::ALL.iter().find(|c| c.as_str().eq_ignore_ascii_case(wanted) || c.slug() == wanted);
    match found {
        Some(code) => {
            print!("{}", code.explain());
            0
        }
        None => {
            eprintln!("error: no diagnostic code or slug `{wanted}`; `spec explain` lists them all");
            2
        }
    }
}
