//! One folder checked for the editor: what `spec check` computes (through the same
//! [`driver::compile_beside`], the back ends beside the graph rules), plus every file's syntax
//! tree and the folder's [`Index`], kept together so queries between two checks are lookups.

use super::index::{Index, IndexedFile};
use super::query::World;
use crate::diagnostics::{Diagnostic, Severity};
use crate::driver::{self, Compilation};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::syntax::{self, ast};
use crate::target::{Context, Target};

/// A checked folder.
#[derive(Debug)]
pub struct Analysis {
    /// Every file: the user's, placeholders for unreadable ones, then the stdlib.
    pub sources: SourceMap,
    /// The model and the compiler's diagnostics.
    pub compilation: Compilation,
    /// Every diagnostic, reading problems included, sorted as `spec check` prints them.
    pub diagnostics: Vec<Diagnostic>,
    /// The syntax tree of each file, by [`FileId`] (none for placeholders).
    pub trees: Vec<Option<ast::File>>,
    /// Where each file's syntax errors are, by [`FileId`].
    pub syntax_errors: Vec<Vec<Span>>,
    /// The folder's names, stdlib included.
    pub index: Index,
}

impl Analysis {
    /// Compiles `files` of `sources` (the stdlib is added here), prepending `read_problems` (from
    /// reading the folder) to the diagnostics. When the estate has no error, `targets` check it
    /// as `spec check` runs them, so the editor shows what `spec build` would report.
    pub fn new(
        mut sources: SourceMap,
        files: &[FileId],
        read_problems: Vec<Diagnostic>,
        targets: &[Box<dyn Target>],
    ) -> Analysis {
        let read_failed = read_problems.iter().any(|d| d.severity() == Severity::Error);
        // The back ends check the model beside the graph rules, as in `spec check`.
        let (compilation, found) = if read_failed {
            (driver::compile(&mut sources, files, None), None)
        } else {
            driver::compile_beside(&mut sources, files, None, &mut |_| {}, |model, sources| {
                let context = Context { model, sources, root_from_out: "..".into() };
                crate::parallel::map_each(targets, |target| target.check(&context))
            })
        };
        let mut diagnostics = read_problems;
        diagnostics.extend(compilation.diagnostics.iter().cloned());
        if let Some(found) = found.filter(|_| compilation.errors() == 0) {
            diagnostics.extend(found.into_iter().flatten());
        }
        driver::sort_and_dedup(&mut diagnostics);
        // The driver parses too but keeps no tree; parsing again costs a fraction of the check.
        let mut trees: Vec<Option<ast::File>> = sources.iter().map(|_| None).collect();
        let mut syntax_errors: Vec<Vec<Span>> = vec![Vec::new(); trees.len()];
        let mut modules: Vec<Option<&str>> = vec![None; trees.len()];
        for (id, file) in sources.iter() {
            let wanted = files.contains(&id) || file.origin == Origin::Stdlib;
            if let Some(slot) = trees.get_mut(id.0 as usize).filter(|_| wanted) {
                let (tree, errors) = syntax::parse_file(&file.text, id);
                *slot = Some(tree);
                if let Some(spans) = syntax_errors.get_mut(id.0 as usize) {
                    *spans = errors.iter().map(|e| e.primary.span).collect();
                }
            }
            if file.origin == Origin::Stdlib
                && let Some(module) = modules.get_mut(id.0 as usize)
            {
                *module = file.path.strip_prefix("<stdlib>/").and_then(|p| p.strip_suffix(".spec"));
            }
        }
        let indexed: Vec<IndexedFile<'_>> = trees
            .iter()
            .zip(&modules)
            .enumerate()
            .filter_map(|(id, (tree, module))| {
                Some(IndexedFile { file: FileId(id as u32), ast: tree.as_ref()?, module: *module })
            })
            .collect();
        let index = Index::build(&indexed, Some(&compilation.model));
        Analysis { sources, compilation, diagnostics, trees, syntax_errors, index }
    }

    /// The id of the user's file shown as `path`.
    pub fn file(&self, path: &str) -> Option<FileId> {
        self.sources.iter().find(|(_, f)| f.origin == Origin::User && f.path == path).map(|(id, _)| id)
    }

    /// A world for queries on `file` as the check saw it.
    pub fn world(&self, file: FileId) -> Option<World<'_>> {
        Some(World {
            file,
            text: &self.sources.get(file).text,
            ast: self.trees.get(file.0 as usize)?.as_ref()?,
            local: None,
            global: &self.index,
            sources: &self.sources,
            model: &self.compilation.model,
        })
    }
}
