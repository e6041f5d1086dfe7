//! Source files, their identifiers and byte spans.
//!
//! Every value the compiler produces keeps a [`Span`] into a [`SourceFile`] of the [`SourceMap`], so
//! a diagnostic can always point at the text that caused it. Offsets are bytes; line and column
//! numbers are computed on demand (1-based, columns counted in characters) from a line index built
//! once per file.
//!
//! Invariant: spans never cross files and always fall on character boundaries of their file.

use serde::Serialize;

/// Identifies one file of the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Span {
    /// The file the range lies in.
    pub file: FileId,
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// Creates a span over `start..end` of `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start: start as u32, end: end as u32 }
    }

    /// Returns the smallest span covering both `self` and `other` (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The length of the range in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the range is empty.
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// Where a source file comes from: the user's project or the embedded standard library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file of the project being compiled.
    User,
    /// A file of the embedded stdlib, shown as `<stdlib>/name.spec`.
    Stdlib,
    /// A data file of the project the spec names (a dashboard's JSON), read beside the sources
    /// and never parsed as spec; shown by its path relative to the estate's folder.
    Data,
}

/// One source file: its display path, its text and the start offset of every line.
#[derive(Debug)]
pub struct SourceFile {
    /// The path shown in diagnostics: relative to the checked directory, `/`-separated.
    pub path: String,
    /// The file's text (lossily decoded when the file was not valid UTF-8).
    pub text: String,
    /// Where the file comes from.
    pub origin: Origin,
    line_starts: Vec<u32>,
    /// Whether some `\r` is not followed by `\n` (a line break to some readers, not to the index):
    /// found on first use, by the renderer.
    lone_carriage_return: std::sync::OnceLock<bool>,
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column number, in characters.
    pub column: usize,
}

impl SourceFile {
    /// Creates a file and indexes its lines.
    pub fn new(path: impl Into<String>, text: impl Into<String>, origin: Origin) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0u32];
        line_starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i as u32 + 1));
        SourceFile { path: path.into(), text, origin, line_starts, lone_carriage_return: Default::default() }
    }

    /// Returns the 0-based line of a byte offset: how many `\n` come before it.
    pub fn line_index(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start as usize <= offset).saturating_sub(1)
    }

    /// Returns the byte offset where the 0-based `line` starts (the text's end past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).map_or(self.text.len(), |&start| start as usize)
    }

    /// Whether every `\r` of the text is followed by `\n`, so `\n` alone marks every line break.
    pub fn breaks_only_at_newlines(&self) -> bool {
        !*self.lone_carriage_return.get_or_init(|| {
            let bytes = self.text.as_bytes();
            // Most files have no `\r` at all, which a memchr-based search tells at once.
            bytes.contains(&b'\r')
                && bytes.iter().enumerate().any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
        })
    }

    /// Returns the 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.text.len() as u32);
        let line = self.line_index(offset as usize);
        let line_start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let prefix = self.text.get(line_start..offset as usize).unwrap_or("");
        LineCol { line: line + 1, column: prefix.chars().count() + 1 }
    }

    /// Returns the text of a span of this file (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start as usize..span.end as usize).unwrap_or("")
    }
}

/// Every file of one compilation, user files first in path order, then the stdlib.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Creates an empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// Returns a file by id.
    ///
    /// Ids are only made by [`SourceMap::add`], so a missing id is a compiler bug; an empty
    /// placeholder is returned rather than panicking.
    pub fn get(&self, id: FileId) -> &SourceFile {
        static EMPTY: std::sync::OnceLock<SourceFile> = std::sync::OnceLock::new();
        self.files
            .get(id.0 as usize)
            .unwrap_or_else(|| EMPTY.get_or_init(|| SourceFile::new("<unknown>", "", Origin::User)))
    }

    /// Renames a file. The CLI names generated files' sources from the estate's folder, then
    /// shows diagnostics with paths from the working directory, which editors and CI resolve.
    pub fn set_path(&mut self, id: FileId, path: String) {
        if let Some(file) = self.files.get_mut(id.0 as usize) {
            file.path = path;
        }
    }

    /// Iterates over every file with its id.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    /// Returns the text of a span.
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file).slice(span)
    }
}
