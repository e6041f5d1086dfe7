//! A large file is parsed in pieces side by side (`syntax::parse_in_pieces`); this holds the
//! pieces to the one-pass reader. On every spec file of the project and a generated estate, and on
//! thousands of random mutations of them (braces, quotes, raw strings and declarations inserted,
//! text deleted, lines repeated): when the one-pass reader reports nothing, the pieces give the
//! same tree, span for span; when it reports anything, a piece reports something too, so
//! `parse_file` reads the whole file again and no diagnostic is lost.

// A test reads the project's files; the core itself does no IO.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use spec_compiler::source::FileId;
use spec_compiler::syntax::{parse_file, parse_in_pieces};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.spec` file of the project, and a generated estate below the size `parse_file` splits.
fn corpus() -> Vec<String> {
    let mut texts = vec![spec_testkit::generate_estate(300)];
    for root in ["specs", "examples", "stdlib"] {
        for entry in walkdir::WalkDir::new(workspace().join(root)).sort_by_file_name() {
            let entry = entry.expect("walk");
            if entry.path().extension().is_some_and(|e| e == "spec") {
                texts.push(std::fs::read_to_string(entry.path()).expect("read"));
            }
        }
    }
    texts
}

/// Compares the pieces with the one-pass reader on `text`, split in 2 to 5 pieces; returns how
/// many splits were read in pieces (a file without a cut, or with a cut the pieces refuse, is read
/// in one pass, which is always right).
fn agree(text: &str) -> usize {
    let file = FileId(0);
    let (whole, diagnostics) = parse_file(text, file);
    let mut split = 0;
    for count in 2..=5 {
        // `None`: a cut before a keyword that continues the declaration above (`preset p for`
        // and `service` on the next line) leaves a piece unfinished, and the file is read again
        // in one pass.
        if let Some(tree) = parse_in_pieces(text, file, count) {
            assert!(diagnostics.is_empty(), "pieces read cleanly what has diagnostics: {diagnostics:?}\n{text}");
            assert_eq!(format!("{tree:?}"), format!("{whole:?}"), "{count} pieces of:\n{text}");
            split += 1;
        }
    }
    split
}

#[test]
fn pieces_read_every_project_file_as_one_pass_does() {
    let corpus = corpus();
    let split: usize = corpus.iter().map(|text| agree(text)).sum();
    assert!(corpus.len() > 100, "the corpus holds the project's files: {}", corpus.len());
    assert!(split > 100, "most of the corpus has declarations to cut before: {split}");
}

/// A mutation: where (a fraction of the text) and what.
fn mutation() -> impl Strategy<Value = (f64, usize)> {
    (0.0..1.0f64, 0..EDITS.len() + 2)
}

/// Text inserted by a mutation; the last two mutations delete a run of text and repeat a line.
const EDITS: &[&str] = &["{", "}", "\"", "''", "\n", "\nservice x {\n", "\nfor i in [1] {\n", "[", "${", "#", "=", ","];

fn mutate(text: &str, edits: &[(f64, usize)]) -> String {
    let mut text = text.to_string();
    for &(at, edit) in edits {
        let mut at = (text.len() as f64 * at) as usize;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        match EDITS.get(edit) {
            Some(inserted) => text.insert_str(at, inserted),
            None if edit == EDITS.len() => {
                let mut end = (at + 7).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, "");
            }
            None => {
                let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
                let line = text[start..end].to_string();
                text.insert_str(start, &line);
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn pieces_agree_with_one_pass_on_mutated_files(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(mutation(), 1..4),
    ) {
        let corpus = CORPUS.get_or_init(corpus);
        let text = mutate(&corpus[pick.index(corpus.len())], &edits);
        agree(&text);
    }
}

static CORPUS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
