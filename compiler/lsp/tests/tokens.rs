//! Semantic tokens and folding ranges hold their invariants on every file of the conformance
//! corpus (`specs/`) and the examples, broken ones included, and on each of them cut short at
//! every few bytes (as a file is while being typed): tokens come in text order, never overlap,
//! lie on character boundaries inside the text, and every `#` comment outside strings is one.

use std::path::Path;

use spec_compiler::ide::{folding, tokens};
use spec_compiler::source::FileId;

fn check(text: &str, name: &str) {
    let (tree, _) = spec_compiler::syntax::parse_file(text, FileId(0));
    let found = tokens::tokens(text, FileId(0), &tree, None);
    let mut end = 0;
    for token in &found {
        assert!(token.start >= end && token.start < token.end, "{name}: {token:?} after {end}");
        assert!(text.is_char_boundary(token.start as usize) && text.is_char_boundary(token.end as usize), "{name}");
        assert!(token.end as usize <= text.len(), "{name}");
        end = token.end;
    }
    // A range answers with the tokens of the whole answer that overlap it.
    let middle = (text.len() / 2) as u32;
    let part = tokens::tokens(text, FileId(0), &tree, Some((middle, middle + 40)));
    let whole: Vec<_> = found.iter().filter(|t| t.end > middle && t.start < middle + 40).collect();
    assert_eq!(part.iter().collect::<Vec<_>>(), whole, "{name}: the range at {middle}");
    for fold in folding::folding_ranges(text, &tree) {
        assert!(fold.start <= fold.end && fold.end as usize <= text.len(), "{name}: {fold:?}");
    }
}

#[test]
fn tokens_and_folds_hold_on_the_corpus_and_on_every_prefix_of_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = 0;
    for folder in ["specs", "examples", "stdlib"] {
        for entry in walkdir::WalkDir::new(root.join(folder)).sort_by_file_name().into_iter().filter_map(Result::ok) {
            if entry.path().extension().is_none_or(|x| x != "spec") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
            let name = entry.path().display().to_string();
            check(&text, &name);
            let mut cut = 0;
            while cut < text.len() {
                if text.is_char_boundary(cut) {
                    check(&text[..cut], &format!("{name} cut at {cut}"));
                }
                cut += 97;
            }
            files += 1;
        }
    }
    assert!(files > 200, "only {files} files");
}
