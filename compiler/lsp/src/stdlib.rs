//! The stdlib's presets as files: written once per server to a fresh folder under the system's
//! temporary directory, read-only, and removed when the server exits. Go-to-definition on
//! `use std.postgres` returns a location in `<that folder>/postgres.spec`, a plain `file:` URI any
//! editor opens (a custom URI scheme would need a plugin in each editor).

use std::path::{Path, PathBuf};

/// The folder holding the stdlib's files.
#[derive(Debug, Default)]
pub struct StdlibFiles {
    folder: Option<PathBuf>,
}

impl StdlibFiles {
    /// Writes the files (logging on stderr, and going on without them, if that fails).
    pub fn write() -> StdlibFiles {
        let base = std::env::temp_dir();
        // `create_dir` fails when the name is taken, so a folder someone else made is never used.
        let folder = (0..100)
            .map(|n| base.join(format!("spec-lsp-stdlib-{}-{n}", std::process::id())))
            .find(|folder| std::fs::create_dir(folder).is_ok());
        let Some(folder) = folder else {
            eprintln!("spec lsp: cannot create a folder for the stdlib under {}", base.display());
            return StdlibFiles::default();
        };
        for (name, text) in spec_compiler::stdlib::MODULES {
            let path = folder.join(format!("{name}.spec"));
            if let Err(error) = std::fs::write(&path, text) {
                eprintln!("spec lsp: cannot write {}: {error}", path.display());
                continue;
            }
            if let Ok(metadata) = std::fs::metadata(&path) {
                let mut permissions = metadata.permissions();
                permissions.set_readonly(true);
                let _ = std::fs::set_permissions(&path, permissions);
            }
        }
        StdlibFiles { folder: Some(folder) }
    }

    /// The path of the module shown as `<stdlib>/NAME.spec`.
    pub fn path(&self, shown: &str) -> Option<PathBuf> {
        let name = shown.strip_prefix("<stdlib>/")?;
        Some(self.folder.as_ref()?.join(name))
    }

    /// Whether `path` is one of these files (the server does not check them as a project).
    pub fn contains(&self, path: &Path) -> bool {
        self.folder.as_ref().is_some_and(|folder| path.starts_with(folder))
    }

    /// Removes the files.
    pub fn remove(&mut self) {
        let Some(folder) = self.folder.take() else { return };
        for (name, _) in spec_compiler::stdlib::MODULES {
            let path = folder.join(format!("{name}.spec"));
            if let Ok(metadata) = std::fs::metadata(&path) {
                let mut permissions = metadata.permissions();
                // Only this process's own files, which it is about to delete.
                #[allow(clippy::permissions_set_readonly_false)]
                permissions.set_readonly(false);
                let _ = std::fs::set_permissions(&path, permissions);
            }
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_dir(folder);
    }
}
