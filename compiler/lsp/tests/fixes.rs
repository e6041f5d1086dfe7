//! Every did-you-mean of the conformance corpus (`specs/`) is a quick fix: each diagnostic whose
//! help says "did you mean `X`?" carries a suggestion, the editor's fix replaces just the word
//! as written with the suggested name, and checking the fixed text no longer reports it there.

use std::path::Path;

use spec_compiler::diagnostics::Diagnostic;
use spec_compiler::ide::{Analysis, fix};
use spec_compiler::source::{Origin, SourceFile, SourceMap};

fn analyse(text: &str) -> Analysis {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("case.spec", text.to_string(), Origin::User));
    Analysis::new(sources, &[file], Vec::new(), &[])
}

fn meant(diagnostic: &Diagnostic) -> Option<&str> {
    let help = diagnostic.help.as_deref()?;
    help.strip_prefix("did you mean `")?.strip_suffix("`?")
}

#[test]
fn every_did_you_mean_of_the_corpus_is_a_quick_fix() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let mut cases: Vec<_> = walkdir::WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "spec"))
        .map(walkdir::DirEntry::into_path)
        .collect();
    cases.sort();
    let mut fixed = 0;
    for path in cases {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let analysis = analyse(&text);
        let Some(file) = analysis.file("case.spec") else { continue };
        let Some(world) = analysis.world(file) else { continue };
        let everything = fix::fixes(&world, &analysis.diagnostics, 0, text.len() as u32);
        for (index, diagnostic) in analysis.diagnostics.iter().enumerate() {
            let Some(meant) = meant(diagnostic).filter(|_| diagnostic.primary.span.file == file) else { continue };
            let case = path.display();
            let found = everything.iter().find(|f| f.diagnostic == index);
            let Some(found) = found else {
                panic!("{case}: {} has no quick fix: {diagnostic:?}", diagnostic.code.as_str())
            };
            let [(span, replacement)] = found.edits.as_slice() else { panic!("{case}: {found:?}") };
            assert!(meant.ends_with(replacement.as_str()), "{case}: `{replacement}` for `{meant}`");
            let mut edited = text.clone();
            edited.replace_range(span.start as usize..span.end as usize, replacement);
            let again = analyse(&edited);
            let shift = replacement.len() as i64 - i64::from(span.end - span.start);
            let still = again.diagnostics.iter().any(|d| {
                d.code == diagnostic.code
                    && i64::from(d.primary.span.start) == i64::from(diagnostic.primary.span.start)
                    && meant_again(d, diagnostic, shift)
            });
            assert!(!still, "{case}: {} is still reported after its fix:\n{edited}", diagnostic.code.as_str());
            fixed += 1;
        }
    }
    // The corpus has a case for each kind of did-you-mean (names, fields, symbols, tags, ports,
    // pools, presets, parameters, modules, kinds, variables, jobs).
    assert!(fixed >= 15, "only {fixed} did-you-means in the corpus");
}

/// Whether `after` is the same problem as `before` (same message once the text moved).
fn meant_again(after: &Diagnostic, before: &Diagnostic, shift: i64) -> bool {
    i64::from(after.primary.span.end) == i64::from(before.primary.span.end) + shift || after.message == before.message
}
