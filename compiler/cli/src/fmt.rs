//! `spec fmt`: rewrites every `*.spec` of the paths in the canonical layout
//! (`spec_compiler::syntax::format`), each file replaced in one rename; `--check` only lists the
//! files that would change and exits 1 if there are any. Files are written where they were read
//! from and named as the shell names them (`infra/main.spec` from the folder above `infra`).

use spec_compiler::syntax::format::format_source;

use crate::args::FmtArgs;
use crate::load;
use crate::words::count;

/// Formats the files and returns the exit code.
pub fn run(args: &FmtArgs) -> i32 {
    let mut loaded = load::load(&args.paths);
    if !loaded.diagnostics.is_empty() {
        load::show_locations(&mut loaded.sources, &loaded.locations);
        for diagnostic in &loaded.diagnostics {
            eprint!("{}", spec_compiler::diagnostics::render::render(diagnostic, &loaded.sources, false, 100));
        }
        return 1;
    }
    let mut changed = Vec::new();
    let mut refused = Vec::new();
    for &file in &loaded.files {
        let source = loaded.sources.get(file);
        let Some(location) = loaded.location(file) else { continue };
        match format_source(&source.text) {
            Some(formatted) if formatted != source.text => changed.push((location, formatted)),
            Some(_) => {}
            None => refused.push(location),
        }
    }
    for path in &refused {
        eprintln!("error: `{}` has syntax errors (`spec check` shows them); it was not formatted", path.display());
    }
    if args.check {
        for (path, _) in &changed {
            println!("{}", path.display());
        }
        if !changed.is_empty() {
            eprintln!("{} not formatted; run `spec fmt`", count(changed.len(), "file is", "files are"));
            return 1;
        }
        return i32::from(!refused.is_empty());
    }
    for (target, text) in &changed {
        let staged = target.with_extension("spec.fmt-tmp");
        if let Err(error) = std::fs::write(&staged, text).and_then(|_| std::fs::rename(&staged, target)) {
            let _ = std::fs::remove_file(&staged);
            eprintln!("error: cannot write `{}`: {error}", target.display());
            return 1;
        }
    }
    eprintln!("formatted {} of {}", changed.len(), count(loaded.files.len(), "file", "files"));
    i32::from(!refused.is_empty())
}
