//! Completion at a cursor: kinds and keywords at the top level, field names inside a body (from
//! the kind's schema), enum symbols and variant tags after `field =` (a service's port names after
//! `port =` and in `expose`), names after `kind.`, preset keys after `use` and a preset's
//! parameters inside its `use { … }`.
//!
//! The context is read from the current line's text before the cursor together with the innermost
//! body the parser found around it, so a half-typed line (`os = `) still completes: the parser's
//! recovery keeps the enclosing body's span even when the entry under the cursor is an error.
//! Nothing completes inside a comment or a string (but inside a string's `${…}` it does), and a
//! body's field list leaves out the fields the body already sets (members such as `zpool NAME`,
//! which repeat, stay).

use std::collections::HashSet;

use super::live::item_span;
use super::query::World;
use super::schema;
use super::walk::{Event, Scope, Seg, Walker};
use crate::model::Kind;
use crate::model::types::Transport;
use crate::source::Span;

/// What an item completes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// A kind keyword (`service`).
    Kind,
    /// Another keyword (`import`, `let`, `use`).
    Keyword,
    /// A field name.
    Field,
    /// An enum value or variant tag.
    Symbol,
    /// A declared name after `kind.`, or a whole `kind.name` reference.
    Reference,
    /// A preset key.
    Preset,
    /// A preset parameter.
    Param,
}

/// One completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What is inserted (and shown).
    pub label: String,
    /// What it is.
    pub kind: ItemKind,
    /// A short description (a field's type).
    pub detail: Option<String>,
    /// Its doc comment.
    pub doc: Option<String>,
}

/// The completions at a cursor and the text they replace (the partial word before it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completions {
    /// The partial word.
    pub replace: Span,
    /// The candidates, in a stable order.
    pub items: Vec<Item>,
    /// Whether names were left out (more than [`MAX_NAMES`] start with the partial word): the
    /// editor asks again as the word grows.
    pub incomplete: bool,
}

/// The most declared names one completion lists; an estate of 10,000 services would otherwise
/// send them all on every `service.`.
pub const MAX_NAMES: usize = 1000;

const KEYWORDS: [&str; 6] = ["import", "let", "preset", "env", "for", "assert"];

/// Whether `c` can be part of a name.
pub(super) fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn item(label: impl Into<String>, kind: ItemKind, detail: Option<String>, doc: Option<String>) -> Item {
    Item { label: label.into(), kind, detail, doc }
}

/// The innermost body holding `offset`, if any: its span and where it stands.
pub(super) fn enclosing_body(world: &World<'_>, offset: u32) -> Option<(Span, Scope)> {
    let mut best: Option<(Span, Scope)> = None;
    let text = world.text;
    let mut visit = |event: Event<'_>| {
        if let Event::Body { scope, span } = event {
            let closed = span.end > span.start && text.as_bytes().get(span.end as usize - 1) == Some(&b'}');
            let inside = span.start < offset && (offset < span.end || (!closed && offset == span.end));
            if inside && best.as_ref().is_none_or(|(b, _)| span.len() <= b.len()) {
                best = Some((span, scope.clone()));
            }
        }
    };
    Walker::new(None, &mut visit).only_around(offset).file(world.ast);
    best
}

/// The single fields (`key = …`, `key { … }`) the body at `body` already sets, but the one at
/// the cursor.
fn fields_set(world: &World<'_>, body: Span, scope: &Scope, offset: u32) -> HashSet<String> {
    let mut set = HashSet::new();
    let items = &world.ast.items;
    let holding = items.partition_point(|item| item_span(item).end < body.end);
    let Some(item) = items.get(holding) else { return set };
    let text = world.text.as_bytes();
    let mut visit = |event: Event<'_>| {
        if let Event::Key { scope: at, key } = event
            && at.path == scope.path
            && body.start < key.span.start
            && key.span.end < body.end
            && !(key.span.start <= offset && offset <= key.span.end)
        {
            let after = text.get(key.span.end as usize..).unwrap_or(&[]);
            let next = after.iter().find(|b| !matches!(b, b' ' | b'\t'));
            if matches!(next, Some(b'=' | b'{')) {
                set.insert(key.name.to_string());
            }
        }
    };
    Walker::new(None, &mut visit).items(std::slice::from_ref(item));
    set
}

/// Whether the cursor, inside a string, is in one of its `${…}`.
fn in_interpolation(line: &str) -> bool {
    line.rfind("${").is_some_and(|at| !line.get(at..).unwrap_or("").contains('}'))
}

/// The key whose value the cursor is in, if it is in one: the word before the last `=` of the
/// line, when no `,`, `{` or `}` outside brackets follows that `=`.
pub(super) fn value_key(before: &str) -> Option<&str> {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut last_eq = None;
    for (index, c) in before.char_indices() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            '=' => last_eq = Some((index, depth)),
            ',' | '{' | '}' if last_eq.is_some_and(|(_, d)| depth <= d) => last_eq = None,
            _ => {}
        }
    }
    let (index, _) = last_eq?;
    let key = before.get(..index)?.trim_end();
    let start = key.rfind(|c: char| !is_word(c) && c != '"').map_or(0, |i| i + 1);
    Some(key.get(start..)?.trim_matches('"')).filter(|k| !k.is_empty())
}

fn capped(replace: Span, items: impl Iterator<Item = Item>) -> Completions {
    let mut items: Vec<Item> = items.take(MAX_NAMES + 1).collect();
    let incomplete = items.len() > MAX_NAMES;
    items.truncate(MAX_NAMES);
    Completions { replace, items, incomplete }
}

/// The completions at byte `offset` of the world's file.
pub fn complete(world: &World<'_>, offset: u32) -> Option<Completions> {
    let text = world.text;
    let mut offset = (offset as usize).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..offset)?;
    let word_start = line.rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
    let before = line.get(..word_start)?;
    let file = world.file;
    let replace = Span::new(file, line_start + word_start, offset);
    let partial = line.get(word_start..).unwrap_or("");
    if super::tokens::in_comment_or_string(text, file, world.ast, offset as u32) && !in_interpolation(line) {
        return None;
    }
    let body = enclosing_body(world, offset as u32);
    let scope = body.as_ref().map(|(_, scope)| scope.clone());

    // `use std.po|`: preset keys, replacing the whole dotted path.
    let dotted = line.trim_start().strip_prefix("use ").map(str::trim_start);
    if let Some(path) = dotted.filter(|p| p.chars().all(|c| is_word(c) || c == '.')) {
        let start = offset - path.len();
        let mut keys: Vec<&str> = world.global.preset_keys().collect();
        if let Some(local) = world.local {
            keys.extend(local.index.preset_keys());
        }
        keys.sort_unstable();
        keys.dedup();
        let items = keys.into_iter().map(|k| item(k, ItemKind::Preset, None, None)).collect();
        return Some(Completions { replace: Span::new(file, start, offset), items, incomplete: false });
    }

    // `service.|`, `step.ex|`: declared names of that kind.
    if let Some(head) = before.strip_suffix('.') {
        let kind_start = head.rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
        let kind = head.get(kind_start..).unwrap_or("");
        if Kind::from_name(kind).is_some() || kind == "step" {
            let workflow = scope.as_ref().and_then(|s| s.block.clone());
            let names = world
                .names(kind)
                .into_iter()
                .filter(|s| (kind != "step" || s.workflow == workflow) && s.name.starts_with(partial))
                .map(|s| item(&s.name, ItemKind::Reference, None, None));
            return Some(capped(replace, names));
        }
        return None;
    }

    let Some(scope) = scope else {
        // The top level: a new item starts only at the start of a line.
        if !before.trim().is_empty() {
            return None;
        }
        let kinds =
            Kind::ALL.iter().map(|k| item(k.as_str(), ItemKind::Kind, None, schema::kind_doc(*k).map(str::to_string)));
        let keywords = KEYWORDS.iter().map(|k| item(*k, ItemKind::Keyword, None, None));
        return Some(Completions { replace, items: kinds.chain(keywords).collect(), incomplete: false });
    };

    if let Some(key) = value_key(before) {
        let Some(kind) = scope.kind else { return Some(Completions { replace, items: Vec::new(), incomplete: false }) };
        let mut path = scope.path.clone();
        path.push(Seg::Field(key.to_string()));
        let mut items: Vec<Item> =
            schema::choices(kind, &path).into_iter().map(|c| item(c.name, ItemKind::Symbol, None, c.doc)).collect();
        // `port = `, `expose = [`: the port names the service declares (as of its last check).
        if kind == Kind::Service && (key == "port" || key == "expose") {
            let service = world.model.services.iter().find(|s| Some(&s.name) == scope.block.as_ref());
            for (name, port) in service.map(|s| &s.spec.ports).into_iter().flatten() {
                let detail = format!(
                    "{}/{}",
                    port.value.number,
                    if port.value.protocol == Transport::Udp { "udp" } else { "tcp" }
                );
                items.push(item(name, ItemKind::Symbol, Some(detail), None));
            }
        }
        items.retain(|i| i.label.starts_with(partial));
        for referenced in schema::reference_kinds(kind, &path) {
            let workflow = scope.block.clone();
            for symbol in world.names(&referenced) {
                let label = format!("{referenced}.{}", symbol.name);
                if (referenced != "step" || symbol.workflow == workflow) && label.starts_with(partial) {
                    items.push(item(label, ItemKind::Reference, None, None));
                }
            }
        }
        return Some(capped(replace, items.into_iter()));
    }

    // A key: the preset's parameters inside `use { … }`, otherwise the schema's fields.
    if let Some(Seg::Use(preset)) = scope.path.last() {
        let items = world
            .preset(preset)
            .map(|p| p.params.iter().map(|(name, _)| item(name, ItemKind::Param, None, None)).collect())
            .unwrap_or_default();
        return Some(Completions { replace, items, incomplete: false });
    }
    let Some(kind) = scope.kind else { return Some(Completions { replace, items: Vec::new(), incomplete: false }) };
    let set = body.map(|(span, _)| fields_set(world, span, &scope, offset as u32)).unwrap_or_default();
    let mut items: Vec<Item> = schema::fields(kind, &scope.path)
        .into_iter()
        .filter(|(name, _)| !set.contains(name))
        .map(|(name, info)| item(name, ItemKind::Field, Some(info.accepts), info.doc))
        .collect();
    if scope.path.is_empty() {
        items.push(item("use", ItemKind::Keyword, None, Some("merge a preset into this block".into())));
        items.push(item(
            "assert",
            ItemKind::Keyword,
            None,
            Some("`assert COND, \"message\"`: a rule the block's values must meet".into()),
        ));
    }
    Some(Completions { replace, items, incomplete: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The completions at the end of `before` in the file `before` + `after`.
    fn labels(before: &str, after: &str) -> Vec<String> {
        use crate::source::{Origin, SourceFile, SourceMap};
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("main.spec", format!("{before}{after}"), Origin::User));
        let analysis = crate::ide::analysis::Analysis::new(sources, &[file], Vec::new(), &[]);
        let world = analysis.world(file).expect("a world");
        complete(&world, before.len() as u32)
            .map(|c| c.items.into_iter().map(|i| i.label).collect())
            .unwrap_or_default()
    }

    #[test]
    fn assert_is_offered_at_the_top_level_and_in_a_block() {
        assert!(
            labels(
                "node a { os = nixos }
ass",
                "
"
            )
            .contains(&"assert".to_string())
        );
        assert!(
            labels(
                "node a {
  os = nixos
  ass",
                "
}
"
            )
            .contains(&"assert".to_string())
        );
    }

    #[test]
    fn the_value_key_is_the_word_before_the_open_equals() {
        assert_eq!(value_key("  os = "), Some("os"));
        assert_eq!(value_key("  needs = [service.a, "), Some("needs"));
        assert_eq!(value_key("  cpu = 4, "), None);
        assert_eq!(value_key("  health = http { port = "), Some("port"));
        assert_eq!(value_key("  image = \"a=b\", "), None);
        assert_eq!(value_key("  "), None);
    }
}
