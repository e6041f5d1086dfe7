//! Checking every environment (`--env all`): the base estate and each `env NAME { … }` are
//! compiled as runs of their own, and [`merge`] gathers their diagnostics, each mistake once,
//! with a note naming the runs it holds in.
//!
//! Invariants: a diagnostic is the same mistake in two runs when its code, file, span and message
//! agree (files are compared by path: every run adds its own copy of the stdlib to the source
//! map); the merged list keeps the first run's form of each and is sorted as one compilation's
//! is. Linear in the number of diagnostics.

use indexmap::IndexMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::driver;
use crate::source::SourceMap;

/// The name the base estate (no environment applied) goes by: its folder under `spec build --env
/// all`'s output.
pub const BASE: &str = "base";

/// What makes two runs' diagnostics one mistake.
type Key = (Code, String, u32, u32, String);

/// Gathers the diagnostics of every run (`None` names the base estate), each once: one that holds
/// in some runs only notes which, one that holds in every run of several says so.
pub fn merge<'a>(
    sources: &SourceMap,
    runs: impl IntoIterator<Item = (Option<&'a str>, Vec<Diagnostic>)>,
) -> Vec<Diagnostic> {
    let mut names: Vec<Option<&str>> = Vec::new();
    let mut groups: IndexMap<Key, (Diagnostic, Vec<usize>)> = IndexMap::new();
    for (run, (name, diagnostics)) in runs.into_iter().enumerate() {
        names.push(name);
        for diagnostic in diagnostics {
            let span = diagnostic.primary.span;
            let key = (
                diagnostic.code,
                sources.get(span.file).path.clone(),
                span.start,
                span.end,
                diagnostic.message.clone(),
            );
            let group = groups.entry(key).or_insert_with(|| (diagnostic, Vec::new()));
            if group.1.last() != Some(&run) {
                group.1.push(run);
            }
        }
    }
    let mut merged: Vec<Diagnostic> = groups
        .into_values()
        .map(|(mut diagnostic, runs)| {
            if names.len() > 1 {
                let held: Vec<Option<&str>> = runs.iter().filter_map(|&run| names.get(run).copied()).collect();
                diagnostic.notes.push(where_it_holds(&held, held.len() == names.len()));
            }
            diagnostic
        })
        .collect();
    driver::sort_and_dedup(&mut merged);
    merged
}

/// "in environment `prod`", "in the base estate and environment `staging`", or, when `every`,
/// "in the base estate and every environment (`staging`, `prod`)".
fn where_it_holds(runs: &[Option<&str>], every: bool) -> String {
    let base = runs.contains(&None);
    let envs: Vec<String> = runs.iter().flatten().map(|name| format!("`{name}`")).collect();
    if every {
        return match base {
            true => format!("in the base estate and every environment ({})", envs.join(", ")),
            false => format!("in every environment ({})", envs.join(", ")),
        };
    }
    let environments = match envs.as_slice() {
        [] => String::new(),
        [one] => format!("environment {one}"),
        [init @ .., last] => format!("environments {} and {last}", init.join(", ")),
    };
    match (base, environments.is_empty()) {
        (true, true) => "in the base estate only".into(),
        (true, false) => format!("in the base estate and {environments}"),
        (false, _) => format!("in {environments}"),
    }
}

/// The nodes the environments of `files` name, and the top-level `let`s they may read
/// (`node.NAME`, in an assignment, a removal or an added block), read from their tokens: a run
/// applies one environment only, and the back ends ask whether a node the run does not use is
/// one another environment does (see [`crate::model::Environments`]). Linear in the overlays'
/// text.
pub fn named_nodes(
    sources: &SourceMap,
    files: &[(crate::source::FileId, &crate::syntax::ast::File)],
) -> (Vec<String>, bool) {
    use crate::syntax::ast::Item;
    use crate::syntax::lexer::{Lexer, TokenKind};
    let mut named = Vec::new();
    let mut any = false;
    for (file, ast) in files {
        let text = &sources.get(*file).text;
        let spans = ast.items.iter().filter_map(|item| match item {
            Item::Env(env) => Some(env.span),
            Item::Let(decl) => Some(decl.span),
            _ => None,
        });
        for span in spans {
            let mut lexer = Lexer::new(text, *file, span.start as usize, span.end as usize);
            // The last two tokens: `node` then `.`.
            let mut before: [Option<&str>; 2] = [None, None];
            loop {
                let token = lexer.next_token();
                let word = &text[token.span.start as usize..token.span.end as usize];
                match token.kind {
                    TokenKind::Eof => break,
                    TokenKind::Ident if before == [Some("node"), Some(".")] => named.push(word.to_string()),
                    TokenKind::Str { .. } if before == [Some("node"), Some(".")] => any = true,
                    _ => {}
                }
                let this = match token.kind {
                    TokenKind::Ident if word == "node" => Some("node"),
                    TokenKind::Dot => Some("."),
                    _ => None,
                };
                before = [before[1], this];
            }
        }
    }
    (named, any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Origin, SourceFile, Span};

    fn at(file: crate::source::FileId, start: usize, message: &str) -> Diagnostic {
        Diagnostic::new(Code::E0201, Span::new(file, start, start + 1), message)
    }

    #[test]
    fn a_mistake_in_every_run_is_reported_once_naming_them() {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", "service a { }\n", Origin::User));
        let runs = vec![
            (None, vec![at(file, 0, "no service named `x`")]),
            (Some("staging"), vec![at(file, 0, "no service named `x`")]),
            (Some("prod"), vec![at(file, 0, "no service named `x`"), at(file, 4, "only here")]),
        ];
        let merged = merge(&sources, runs);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].notes, ["in the base estate and every environment (`staging`, `prod`)"]);
        assert_eq!(merged[1].notes, ["in environment `prod`"]);
    }

    #[test]
    fn the_runs_a_mistake_holds_in_are_listed() {
        assert_eq!(where_it_holds(&[None], false), "in the base estate only");
        assert_eq!(where_it_holds(&[None, Some("a")], false), "in the base estate and environment `a`");
        assert_eq!(where_it_holds(&[Some("a"), Some("b"), Some("c")], false), "in environments `a`, `b` and `c`");
        assert_eq!(where_it_holds(&[Some("a"), Some("b")], true), "in every environment (`a`, `b`)");
    }

    #[test]
    fn the_nodes_environments_and_lets_name_are_read_from_their_tokens() {
        let text = "node a { os = nixos }\nlet hosts = [node.b]\nservice x { on = node.c }\n\
                    env staging { cluster.k.servers = [node.d], node.e.cpu = 2 }\n\
                    env dev { service y { on = node.\"f-${1}\" } }\n";
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", text, Origin::User));
        let (ast, found) = crate::syntax::parse_file(text, file);
        assert!(found.is_empty(), "{found:#?}");
        let (mut named, any) = named_nodes(&sources, &[(file, &ast)]);
        named.sort();
        // `c` is the base estate's, which its own run sees in its model.
        assert_eq!(named, ["b", "d", "e"]);
        assert!(any, "a node reference built from a string may name any node");
    }

    #[test]
    fn one_run_adds_no_note() {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", "x\n", Origin::User));
        let merged = merge(&sources, vec![(None, vec![at(file, 0, "m")])]);
        assert!(merged[0].notes.is_empty());
    }
}
