//! Which namespace an open file belongs to, and reading one as `spec check` does.
//!
//! A file's namespace is what `spec check` would be run on: the nearest folder above it holding
//! the marker file [`MARKER`] (`spec.toml`), else the editor's workspace folder holding it, else
//! the file alone (a stray `.spec` outside any workspace never makes the folder around it, and
//! everything below, one estate). A folder is read as `spec check <folder>` reads it (every
//! `*.spec` below it, hidden entries skipped, in path order, shown relative to the folder),
//! except that the text of each document open in the editor replaces the file on disk, and an
//! open document not yet saved joins in. Its `*.json` files are read beside them as data files,
//! as the CLI reads them, so the dashboards services name are found.
//!
//! Problems reading become the same diagnostics as the CLI's (E0001 invalid UTF-8, E0003 too
//! large, E0004 unreadable), on a placeholder file so they show like any other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::ide::Analysis;
use spec_compiler::source::{FileId, Origin, SourceFile, SourceMap, Span};
use spec_compiler::target::Target;

/// The largest file read (the CLI's limit).
const MAX_FILE_SIZE: u64 = 256 << 20;

/// The file that marks a folder as the root of an estate (its content is not read).
pub const MARKER: &str = "spec.toml";

/// What one check reads: a folder and every `*.spec` below it, or one file alone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Namespace {
    /// The folder files are named relative to (for a file alone, its own folder).
    pub root: PathBuf,
    /// The file, when the namespace is one file alone.
    pub only: Option<PathBuf>,
}

impl Namespace {
    /// Whether `path` is one of the namespace's files.
    pub fn contains(&self, path: &Path) -> bool {
        match &self.only {
            Some(file) => file == path,
            None => path.starts_with(&self.root),
        }
    }

    /// The namespace of the file `path`: the nearest folder above it holding [`MARKER`], else the
    /// deepest of `workspace` (the editor's folders) holding it, else the file alone.
    pub fn of(path: &Path, workspace: &[PathBuf]) -> Namespace {
        let folder = path.parent().unwrap_or(path);
        if let Some(root) = folder.ancestors().find(|dir| dir.join(MARKER).is_file()) {
            return Namespace { root: root.to_path_buf(), only: None };
        }
        let deepest = workspace.iter().filter(|w| path.starts_with(w)).max_by_key(|w| w.components().count());
        match deepest {
            Some(root) => Namespace { root: root.clone(), only: None },
            None => Namespace { root: folder.to_path_buf(), only: Some(path.to_path_buf()) },
        }
    }
}

/// The path of `file` relative to `folder`, `/`-separated, as the CLI shows it.
pub fn display(folder: &Path, file: &Path) -> String {
    file.strip_prefix(folder).unwrap_or(file).to_string_lossy().replace('\\', "/")
}

fn spec_files(folder: &Path) -> Vec<PathBuf> {
    files_ending(folder, "spec")
}

/// Every file of `folder` ending in `.<extension>`, hidden entries skipped, in the CLI's order.
fn files_ending(folder: &Path, extension: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(folder)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == extension))
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// Reads `namespace`, taking the text of every path in `open` from there, and checks it.
pub fn check(namespace: &Namespace, open: &BTreeMap<PathBuf, String>, targets: &[Box<dyn Target>]) -> Analysis {
    let folder = namespace.root.as_path();
    let mut paths: Vec<PathBuf> = match &namespace.only {
        Some(file) => vec![file.clone()],
        None => spec_files(folder),
    };
    paths.retain(|path| namespace.contains(path));
    paths.extend(open.keys().filter(|p| namespace.contains(p)).cloned());
    // The CLI's order: walkdir sorts by file name at each level, which for paths below one folder
    // is the order of their components.
    paths.sort_by(|a, b| a.components().cmp(b.components()));
    paths.dedup();
    let mut sources = SourceMap::new();
    let mut files: Vec<FileId> = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let shown = display(folder, &path);
        if let Some(text) = open.get(&path) {
            files.push(sources.add(SourceFile::new(shown, text.clone(), Origin::User)));
            continue;
        }
        match read(&path) {
            Ok(text) => files.push(sources.add(SourceFile::new(shown, text, Origin::User))),
            Err((code, message, invalid_at)) => {
                let (text, span) = match invalid_at {
                    Some((text, start, end)) => (text, (start, end)),
                    None => (String::new(), (0, 0)),
                };
                let file = sources.add(SourceFile::new(shown.clone(), text, Origin::User));
                if code == Code::E0001 {
                    files.push(file);
                }
                let help = match code {
                    Code::E0001 => "spec files are UTF-8 text; is this a binary file?",
                    Code::E0003 => "split the estate into several files",
                    _ => "check that the path exists and is readable",
                };
                problems.push(
                    Diagnostic::new(code, Span::new(file, span.0, span.1), message.replace("{}", &shown))
                        .with_help(help),
                );
            }
        }
    }
    // The estate's data files (dashboards), as the CLI reads them: every `*.json` of the folder
    // (of the one file's folder for a file alone), from the editor when open there.
    let data_folder = match &namespace.only {
        Some(file) => file.parent().unwrap_or(folder),
        None => folder,
    };
    for path in files_ending(data_folder, "json") {
        let text = match open.get(&path) {
            Some(text) => text.clone(),
            None => match std::fs::read(&path) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => continue,
            },
        };
        sources.add(SourceFile::new(display(data_folder, &path), text, Origin::Data));
    }
    Analysis::new(sources, &files, problems, targets)
}

type ReadError = (Code, String, Option<(String, usize, usize)>);

fn read(path: &Path) -> Result<String, ReadError> {
    let unreadable = |error: std::io::Error| (Code::E0004, format!("cannot read `{{}}`: {error}"), None);
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_FILE_SIZE {
        return Err((Code::E0003, format!("`{{}}` is {size} bytes, more than the limit of {MAX_FILE_SIZE}"), None));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
        let end = text.get(valid..).and_then(|rest| rest.chars().next()).map_or(valid, |c| valid + c.len_utf8());
        (Code::E0001, "`{}` is not valid UTF-8".to_string(), Some((text, valid, end)))
    })
}
