//! `spec fmt`: rewrites every `*.spec` of the paths in the canonical layout
//! (`spec_compiler::syntax::format`), each file replaced in one rename; `--check` only lists the
//! files that would change and exits 1 if there are any.

use std::path::PathBuf;

use spec_compiler::syntax::format::format_source;

use crate::args::FmtArgs;
use crate::load;

/// Formats the files and returns the exit code.
pub fn run(args: &FmtArgs) -> i32 {
    let loaded = load::load(&args.paths);
    if !loaded.diagnostics.is_empty() {
        for diagnostic in &loaded.diagnostics {
            eprint!("{}", spec_compiler::diagnostics::render::render(diagnostic, &loaded.sources, false, 100));
        }
        return 1;
    }
    let mut changed = Vec::new();
    let mut refused = Vec::new();
    for &file in &loaded.files {
        let source = loaded.sources.get(file);
        match format_source(&source.text) {
            Some(formatted) if formatted != source.text => changed.push((source.path.clone(), formatted)),
            Some(_) => {}
            None => refused.push(source.path.clone()),
        }
    }
    for path in &refused {
        eprintln!("error: `{path}` has syntax errors (`spec check` shows them); it was not formatted");
    }
    if args.check {
        for (path, _) in &changed {
            println!("{path}");
        }
        if !changed.is_empty() {
            eprintln!("{} file(s) are not formatted; run `spec fmt`", changed.len());
            return 1;
        }
        return i32::from(!refused.is_empty());
    }
    let base = match args.paths.as_slice() {
        [single] if single.is_dir() => single.clone(),
        _ => PathBuf::new(),
    };
    for (path, text) in &changed {
        let target = base.join(path);
        let staged = target.with_extension("spec.fmt-tmp");
        if let Err(error) = std::fs::write(&staged, text).and_then(|_| std::fs::rename(&staged, &target)) {
            let _ = std::fs::remove_file(&staged);
            eprintln!("error: cannot write `{}`: {error}", target.display());
            return 1;
        }
    }
    eprintln!("formatted {} of {} files", changed.len(), loaded.files.len());
    i32::from(!refused.is_empty())
}
