//! Folding ranges: every body `{ … }` (blocks, records, members, `use`, tagged values, maps),
//! `env` and `for` declarations, lists written over several lines, and runs of comment lines.
//! Ranges are byte offsets; the editor's protocol drops those on one line.

use super::walk::{Event, Walker};
use crate::syntax::ast::{self, Entry, Expr, ExprKind, Item, ListForBody};

/// One foldable stretch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    /// Where it starts.
    pub start: u32,
    /// Where it ends (exclusive).
    pub end: u32,
    /// Whether it is a run of comment lines.
    pub comment: bool,
}

/// The foldable stretches of `text` (whose tree is `file`), in order of their start.
pub fn folding_ranges(text: &str, file: &ast::File) -> Vec<Fold> {
    let mut folds = Vec::new();
    let mut visit = |event: Event<'_>| {
        if let Event::Body { span, .. } = event {
            folds.push(Fold { start: span.start, end: span.end, comment: false });
        }
    };
    Walker::new(None, &mut visit).file(file);
    let mut items: Vec<&Item> = file.items.iter().collect();
    while let Some(item) = items.pop() {
        match item {
            Item::Env(env) => folds.push(Fold { start: env.span.start, end: env.span.end, comment: false }),
            Item::For(decl) => {
                folds.push(Fold { start: decl.span.start, end: decl.span.end, comment: false });
                items.extend(&decl.items);
            }
            Item::Block(block) => lists(&block.body, &mut folds),
            Item::Let(decl) => list(&decl.value, &mut folds),
            _ => {}
        }
    }
    // Runs of two or more lines holding only a comment.
    let mut run: Option<(u32, u32, usize)> = None;
    let mut offset = 0u32;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            let end = offset + line.trim_end().len() as u32;
            run = Some(match run {
                Some((start, _, lines)) => (start, end, lines + 1),
                None => (offset + (line.len() - line.trim_start().len()) as u32, end, 1),
            });
        } else if let Some((start, end, lines)) = run.take()
            && lines > 1
        {
            folds.push(Fold { start, end, comment: true });
        }
        offset += line.len() as u32;
    }
    if let Some((start, end, lines)) = run
        && lines > 1
    {
        folds.push(Fold { start, end, comment: true });
    }
    folds.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    folds.dedup();
    folds
}

/// The lists of a body's values.
fn lists(body: &ast::Body, folds: &mut Vec<Fold>) {
    for entry in &body.entries {
        match entry {
            Entry::Field { value, .. } => list(value, folds),
            Entry::Record { body, .. } | Entry::Member { body, .. } => lists(body, folds),
            Entry::Use { args, .. } => lists(args, folds),
            _ => {}
        }
    }
}

fn list(expr: &Expr, folds: &mut Vec<Fold>) {
    match &expr.kind {
        ExprKind::List(items) => {
            folds.push(Fold { start: expr.span.start, end: expr.span.end, comment: false });
            for item in items {
                list(item, folds);
            }
        }
        ExprKind::Map(body) | ExprKind::Tagged(_, body) => lists(body, folds),
        ExprKind::ListFor(list_for) => {
            folds.push(Fold { start: expr.span.start, end: expr.span.end, comment: false });
            match &list_for.body {
                ListForBody::Record(body) => lists(body, folds),
                ListForBody::Value(value, _) => list(value, folds),
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn bodies_lists_and_comment_runs_fold() {
        let text =
            "# one\n# two\nservice web {\n  needs = [\n    service.db,\n  ]\n  health = http { path = \"/\" }\n}\n";
        let (tree, _) = crate::syntax::parse_file(text, FileId(0));
        let folds: Vec<(&str, bool)> = folding_ranges(text, &tree)
            .into_iter()
            .map(|f| (text.get(f.start as usize..f.end as usize).unwrap_or("?"), f.comment))
            .collect();
        assert_eq!(folds[0], ("# one\n# two", true));
        assert!(folds[1].0.starts_with("{\n  needs") && folds[1].0.ends_with("}"), "{folds:?}");
        assert_eq!(folds[2], ("[\n    service.db,\n  ]", false));
        assert_eq!(folds[3], ("{ path = \"/\" }", false));
        assert_eq!(folds.len(), 4);
    }
}
