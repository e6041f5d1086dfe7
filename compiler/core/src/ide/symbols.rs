//! Workspace symbols: the resources, steps and presets of a namespace whose name matches what the
//! user typed, for "go to symbol in workspace".
//!
//! A query matches a name when its characters appear in it in order, ignoring case (`pgdb`
//! finds `postgres-db`); a query with a `.` is matched against `kind.name`. Names that start with
//! the query come first, then the rest by name.

use super::index::Index;
use crate::source::{Origin, SourceMap, Span};

/// One symbol found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceSymbol {
    /// Its name.
    pub name: String,
    /// Its kind keyword, `step` or `preset`.
    pub kind: String,
    /// The workflow of a step.
    pub container: Option<String>,
    /// Where its name is written.
    pub span: Span,
}

fn matches(query: &str, candidate: &str) -> bool {
    let mut wanted = query.chars().flat_map(char::to_lowercase).peekable();
    for c in candidate.chars().flat_map(char::to_lowercase) {
        if wanted.peek() == Some(&c) {
            wanted.next();
        }
    }
    wanted.peek().is_none()
}

/// The user's symbols of `index` matching `query`, at most `limit`, and whether more matched.
pub fn workspace_symbols(
    index: &Index,
    sources: &SourceMap,
    query: &str,
    limit: usize,
) -> (Vec<WorkspaceSymbol>, bool) {
    let user = |span: Span| sources.get(span.file).origin == Origin::User;
    let dotted = query.contains('.');
    let fits = |kind: &str, name: &str| {
        if dotted { matches(query, &format!("{kind}.{name}")) } else { matches(query, name) }
    };
    let mut found: Vec<WorkspaceSymbol> = index
        .definitions()
        .filter(|(symbol, definition)| user(definition.name_span) && fits(&symbol.kind, &symbol.name))
        .map(|(symbol, definition)| WorkspaceSymbol {
            name: symbol.name.clone(),
            kind: symbol.kind.clone(),
            container: symbol.workflow.clone(),
            span: definition.name_span,
        })
        .collect();
    found.extend(index.presets().filter(|(key, info)| user(info.name_span) && fits("preset", key)).map(
        |(key, info)| WorkspaceSymbol {
            name: key.to_string(),
            kind: "preset".into(),
            container: None,
            span: info.name_span,
        },
    ));
    let lower = query.to_lowercase();
    found.sort_by(|a, b| {
        let rank = |s: &WorkspaceSymbol| !s.name.to_lowercase().starts_with(&lower);
        (rank(a), &a.name, &a.kind, &a.container).cmp(&(rank(b), &b.name, &b.kind, &b.container))
    });
    let more = found.len() > limit;
    found.truncate(limit);
    (found, more)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn a_query_matches_its_characters_in_order() {
        assert!(matches("pgdb", "postgres-db"));
        assert!(matches("", "web"));
        assert!(matches("WEB", "web-1"));
        assert!(!matches("bw", "web"));
    }
}
