//! A file being edited: its syntax tree kept current by re-parsing only the top-level
//! declarations an edit touches, and a map from the offsets of the text its folder's last check
//! read to the offsets of the current text.
//!
//! Top-level declarations are independent: each starts on a line of its own, and the parser's
//! recovery stops an unfinished one at the next line starting with a declaration keyword. So an
//! edit re-parses the text from the start of the declaration before it to the start of the first
//! well-formed declaration after it, and moves the spans of every later declaration by the change
//! in length; on a 5 MB file that takes milliseconds where a full parse takes a tenth of a second.
//! Whether the text has syntax errors is always what a full parse finds (a stretch that parses
//! cleanly ends with every bracket and string closed, so a full parse reads it the same way):
//! formatting relies on that. While the text is broken, though, the recovery may differ: a full
//! parse may read an unclosed bracket or string to the end of the file where the patched tree
//! keeps the declarations after it, until the next check hands over its own tree.
//!
//! The regions re-parsed since the check are remembered in [`Edits`]: the check's index entries
//! for this file are moved through it, except those inside a re-parsed region, whose current
//! declarations and references are in the live file's own small index instead.
//!
//! Invariant: after any sequence of edits, every span of the tree, the syntax errors and the local
//! index are offsets into the current text.

use super::index::Index;
use super::shift;
use crate::source::{FileId, Span};
use crate::syntax::{self, ast};

/// One stretch of text re-parsed since the check: where it was in the checked text and where it
/// is in the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Region {
    base: (u32, u32),
    current: (u32, u32),
}

impl Region {
    fn delta(&self) -> i64 {
        i64::from(self.current.1 - self.current.0) - i64::from(self.base.1 - self.base.0)
    }
}

/// How a file changed since its folder's check: the regions re-parsed, in order.
#[derive(Clone, Debug, Default)]
pub struct Edits {
    regions: Vec<Region>,
    /// Set when the check did not read this text at all: none of its spans in this file holds.
    everything: bool,
}

impl Edits {
    /// Where the checked text's `span` is now, or `None` when that text was re-parsed (or the
    /// check read another text altogether).
    pub fn map(&self, span: Span) -> Option<Span> {
        if self.everything {
            return None;
        }
        let mut delta = 0i64;
        for region in &self.regions {
            if span.end <= region.base.0 && span.start < region.base.0 {
                break;
            }
            if span.start < region.base.1 {
                return None;
            }
            delta += region.delta();
        }
        let mut moved = span;
        shift::span(&mut moved, delta);
        Some(moved)
    }

    /// The checked offset of a current offset that lies outside (or on the edge of) every region.
    fn to_base(&self, offset: u32) -> u32 {
        let delta: i64 = self.regions.iter().filter(|r| r.current.1 <= offset).map(Region::delta).sum();
        (i64::from(offset) - delta) as u32
    }
}

/// A file's current tree, syntax errors and edits since its check.
#[derive(Debug)]
pub struct LiveFile {
    /// The file.
    pub file: FileId,
    /// The tree of the current text.
    pub tree: ast::File,
    /// Where the syntax errors of the current text are.
    errors: Vec<Span>,
    edits: Edits,
    local: Index,
}

impl LiveFile {
    /// The file as its check parsed it (`errors`: the spans of its syntax errors).
    pub fn checked(file: FileId, tree: ast::File, errors: Vec<Span>) -> LiveFile {
        LiveFile { file, tree, errors, edits: Edits::default(), local: Index::default() }
    }

    /// A text no check has read: parsed whole, every name of it in the local index.
    pub fn parse(file: FileId, text: &str) -> LiveFile {
        let (tree, errors) = syntax::parse_file(text, file);
        let errors = errors.iter().map(|d| d.primary.span).collect();
        let mut live = LiveFile {
            file,
            tree,
            errors,
            edits: Edits { regions: Vec::new(), everything: true },
            local: Index::default(),
        };
        live.reindex();
        live
    }

    /// Whether the current text has syntax errors.
    pub fn has_syntax_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The index of the re-parsed regions' declarations and references.
    pub fn local(&self) -> &Index {
        &self.local
    }

    /// The edits since the check.
    pub fn edits(&self) -> &Edits {
        &self.edits
    }

    /// Takes in one edit: `text` is the new text, in which `start..old_end` of the previous text
    /// was replaced by `inserted` bytes.
    pub fn edit(&mut self, text: &str, start: u32, old_end: u32, inserted: u32) {
        let delta = i64::from(inserted) - i64::from(old_end - start);
        let old_len = (text.len() as i64 - delta) as u32;
        let items = &self.tree.items;
        // A declaration starting on a line of its own, well-formed, bounds a region. The text
        // before `start` is unchanged; at or after `old_end` it moved by `delta`.
        let bounds = |item: &ast::Item| {
            let at = item_start(item);
            let before = if at > old_end { i64::from(at) - 1 + delta } else { i64::from(at) - 1 };
            !matches!(item, ast::Item::Error(_)) && (at == 0 || text.as_bytes().get(before as usize) == Some(&b'\n'))
        };
        let first_after = items.partition_point(|i| item_start(i) < start);
        let mut from =
            items.get(..first_after).and_then(|before| before.iter().rev().find(|i| bounds(i))).map_or(0, item_start);
        let first_after_end = items.partition_point(|i| item_start(i) <= old_end);
        let mut to =
            items.get(first_after_end..).and_then(|after| after.iter().find(|i| bounds(i))).map_or(old_len, item_start);
        // Regions the new one touches join it.
        let touched: Vec<usize> = (0..self.edits.regions.len())
            .filter(|&k| self.edits.regions.get(k).is_some_and(|r| r.current.0 <= to && r.current.1 >= from))
            .collect();
        for region in touched.iter().filter_map(|&k| self.edits.regions.get(k)) {
            from = from.min(region.current.0);
            to = to.max(region.current.1);
        }
        let base = (self.edits.to_base(from), self.edits.to_base(to));
        let new_to = (i64::from(to) + delta) as u32;
        self.edits.regions.retain(|r| !(r.current.0 <= to && r.current.1 >= from));
        for region in self.edits.regions.iter_mut().filter(|r| r.current.0 >= to) {
            region.current.0 = (i64::from(region.current.0) + delta) as u32;
            region.current.1 = (i64::from(region.current.1) + delta) as u32;
        }
        let at = self.edits.regions.partition_point(|r| r.current.0 < from);
        self.edits.regions.insert(at, Region { base, current: (from, new_to) });

        // Re-parse the region's text alone, then put its spans in place.
        let slice = text.get(from as usize..new_to as usize).unwrap_or("");
        let (mut parsed, errors) = syntax::parse_file(slice, self.file);
        shift::items(&mut parsed.items, i64::from(from));
        let first = self.tree.items.partition_point(|i| item_start(i) < from);
        let last = self.tree.items.partition_point(|i| item_start(i) < to);
        if let Some(later) = self.tree.items.get_mut(last..) {
            shift::items(later, delta);
        }
        self.tree.items.splice(first..last, parsed.items);
        self.errors.retain(|e| e.start < from || e.start >= to);
        for error in self.errors.iter_mut().filter(|e| e.start >= to) {
            shift::span(error, delta);
        }
        // Only whether there are errors is asked, and which region holds them: one reported at
        // the end of the re-parsed text (an unclosed bracket) is kept inside it.
        let last_byte = new_to.saturating_sub(1).max(from);
        self.errors.extend(errors.iter().map(|d| {
            let mut span = d.primary.span;
            shift::span(&mut span, i64::from(from));
            span.start = span.start.min(last_byte);
            span
        }));
        self.errors.sort();
        self.reindex();
    }

    /// Indexes the declarations of the re-parsed regions (of everything, when no check read this
    /// text).
    fn reindex(&mut self) {
        let mut index = Index::default();
        if self.edits.everything {
            index.add_items(&self.tree.items);
        } else {
            for region in &self.edits.regions {
                let first = self.tree.items.partition_point(|i| item_start(i) < region.current.0);
                let last = self.tree.items.partition_point(|i| item_start(i) < region.current.1);
                if let Some(items) = self.tree.items.get(first..last) {
                    index.add_items(items);
                }
            }
        }
        self.local = index;
    }
}

fn item_start(item: &ast::Item) -> u32 {
    item_span(item).start
}

/// The span of a top-level item.
pub fn item_span(item: &ast::Item) -> Span {
    match item {
        ast::Item::Import(i) => i.span,
        ast::Item::Let(i) => i.span,
        ast::Item::Env(i) => i.span,
        ast::Item::For(i) => i.span,
        ast::Item::Block(i) => i.span,
        ast::Item::Preset(i) => i.span,
        ast::Item::Assert(i) => i.span,
        ast::Item::Error(span) => *span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "import std.postgres\n\nnode prod1 { os = nixos, cpu = 8 }\n\n# the database\nservice db {\n  on    = node.prod1\n  image = \"postgres:16\"\n  use std.postgres { version = 16 }\n}\n\nlet script = ''\n  echo {\n''\n\nfor i in 1..=2 {\n  node \"worker-${i}\" { os = nixos }\n}\n\npreset small for service {\n  param size = 1\n  replicas = size\n}\n\nservice web {\n  on    = node.prod1\n  needs = [service.db]\n  env   { A = \"1\" }\n}\n\nenv staging {\n  service.web.replicas = 2\n}\n";

    /// Applies `replace` (the first occurrence of `old`, as `new`) to the text and the live file.
    fn edit(text: &mut String, live: &mut LiveFile, old: &str, new: &str) {
        let start = text.find(old).expect("the edited text");
        text.replace_range(start..start + old.len(), new);
        live.edit(text, start as u32, (start + old.len()) as u32, new.len() as u32);
    }

    fn assert_like_a_full_parse(text: &str, live: &LiveFile) {
        let (tree, errors) = syntax::parse_file(text, FileId(0));
        assert_eq!(
            format!("{:?}", live.tree),
            format!("{tree:?}"),
            "the patched tree is the full parse's, for {text:?}"
        );
        assert_eq!(live.has_syntax_errors(), !errors.is_empty(), "syntax errors of {text:?}");
    }

    #[test]
    fn edits_anywhere_give_the_tree_a_full_parse_gives() {
        let (tree, errors) = syntax::parse_file(TEXT, FileId(0));
        assert!(errors.is_empty());
        let mut live = LiveFile::checked(FileId(0), tree, Vec::new());
        let mut text = TEXT.to_string();
        let edits = [
            ("cpu = 8", "cpu = 16"),                                        // inside a one-line block, longer
            ("image = \"postgres:16\"", "image = \"pg\""),                  // shorter, further down
            ("  echo {\n", "  echo {\n  echo }\n"),                         // inside a raw string
            ("service web {\n  on", "service web {\n  replicas = 3\n  on"), // a new line in a block
            ("# the database\n", ""),                                       // a comment between declarations
            ("\n}\n\nlet script", "\n\nlet script"),                        // a `}` deleted: an error
            ("\n\nlet script", "\n}\n\nlet script"),                        // and put back
            ("env staging", "service cache {\n  on = node.prod1\n}\n\nenv staging"), // a new block
            ("import std.postgres\n", ""),                                  // the first line
            ("  service.web.replicas = 2\n}\n", "  service.web.replicas = 2\n}\nlet x = 1\n"), // the end
            ("node prod1", "nod prod1"),                                    // a broken keyword
            ("nod prod1", "node prod1"),
            ("service db {", "service db {{"), // an extra brace
            ("service db {{", "service db {"),
        ];
        for (old, new) in edits {
            edit(&mut text, &mut live, old, new);
            assert_like_a_full_parse(&text, &live);
        }
    }

    #[test]
    fn a_stray_character_typed_anywhere_is_seen_and_taking_it_back_restores_the_full_parse() {
        // Brackets, quotes, comments and line breaks typed every few bytes. While the text is
        // broken, the error is seen as a full parse sees it, though the tree may keep more
        // declarations than a full parse's recovery (which may read an unclosed bracket or string
        // to the end of the file); once it is taken back, the tree is the full parse's again.
        for typed in ["{", "}", "[", "\"", "#", "\n", "x", "=", "service q {", "''"] {
            let mut offset = 0;
            while offset < TEXT.len() {
                let (tree, _) = syntax::parse_file(TEXT, FileId(0));
                let mut live = LiveFile::checked(FileId(0), tree, Vec::new());
                let mut text = TEXT.to_string();
                text.insert_str(offset, typed);
                live.edit(&text, offset as u32, offset as u32, typed.len() as u32);
                let (tree, errors) = syntax::parse_file(&text, FileId(0));
                assert_eq!(live.has_syntax_errors(), !errors.is_empty(), "syntax errors of {text:?}");
                if errors.is_empty() {
                    let (a, b) = (format!("{:?}", live.tree), format!("{tree:?}"));
                    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                    assert_eq!(
                        a,
                        b,
                        "the tree after {typed:?} at {offset}: {:?} / {:?}",
                        a.get(at.saturating_sub(200)..at + 100),
                        b.get(at..at + 100)
                    );
                }
                text.replace_range(offset..offset + typed.len(), "");
                live.edit(&text, offset as u32, (offset + typed.len()) as u32, 0);
                assert_like_a_full_parse(&text, &live);
                offset += 7;
            }
        }
    }

    #[test]
    fn the_checked_spans_move_with_the_text_or_go_where_it_was_reparsed() {
        let (tree, _) = syntax::parse_file(TEXT, FileId(0));
        let mut live = LiveFile::checked(FileId(0), tree, Vec::new());
        let mut text = TEXT.to_string();
        let span_of = |text: &str, needle: &str| {
            let start = text.find(needle).expect("needle");
            Span::new(FileId(0), start, start + needle.len())
        };
        let web = span_of(TEXT, "needs = [service.db]");
        let prod1 = span_of(TEXT, "node prod1 {");
        let db_image = span_of(TEXT, "\"postgres:16\"");
        edit(&mut text, &mut live, "image = \"postgres:16\"", "image = \"postgres:17-alpine\"");
        let moved = live.edits().map(web).expect("outside the edit");
        assert_eq!(text.get(moved.start as usize..moved.end as usize), Some("needs = [service.db]"));
        assert_eq!(live.edits().map(prod1), Some(prod1), "before the edit nothing moves");
        assert_eq!(live.edits().map(db_image), None, "the edited block was re-parsed");
        // The re-parsed block's names are in the local index, at their current place.
        let db = super::super::index::Symbol::new("service", "db", None);
        let defined = live.local().definition(&db).expect("db is re-parsed");
        assert_eq!(text.get(defined.name_span.start as usize..defined.name_span.end as usize), Some("db"));
        // A second edit after the first moves the first region too.
        edit(&mut text, &mut live, "import std.postgres\n", "import std.postgres\n\n\n");
        let moved = live.edits().map(web).expect("outside the edits");
        assert_eq!(text.get(moved.start as usize..moved.end as usize), Some("needs = [service.db]"));
        assert_like_a_full_parse(&text, &live);
    }

    #[test]
    fn a_text_no_check_read_keeps_nothing_of_the_check() {
        let live = LiveFile::parse(FileId(0), TEXT);
        assert_eq!(live.edits().map(Span::new(FileId(0), 0, 6)), None);
        assert!(live.local().definition(&super::super::index::Symbol::new("service", "web", None)).is_some());
        assert_like_a_full_parse(TEXT, &live);
    }
}
