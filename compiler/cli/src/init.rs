//! `spec init`: writes the starter estate (`examples/starter/`, embedded) into a folder, never
//! over an existing file. Its `spec.toml` marks the folder as the estate's root, for the commands
//! run below it without a path and for the language server.

use std::path::{Path, PathBuf};

/// The starter estate's files, embedded at build time.
const FILES: &[(&str, &str)] = &[
    ("main.spec", include_str!("../../../examples/starter/main.spec")),
    ("README.md", include_str!("../../../examples/starter/README.md")),
    ("spec.toml", include_str!("../../../examples/starter/spec.toml")),
];

/// Writes the starter into `dir` and returns the exit code.
pub fn run(dir: Option<&Path>) -> i32 {
    let dir = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if let Some((name, _)) = FILES.iter().find(|(name, _)| dir.join(name).exists()) {
        eprintln!("error: `{}` exists; `spec init` writes only into a folder without it", dir.join(name).display());
        return 1;
    }
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create `{}`: {error}", dir.display());
        return 1;
    }
    for (name, text) in FILES {
        if let Err(error) = std::fs::write(dir.join(name), text) {
            eprintln!("error: cannot write `{}`: {error}", dir.join(name).display());
            return 1;
        }
    }
    eprintln!(
        "wrote {} to {}; next: `spec build {}`",
        FILES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        dir.display(),
        dir.display()
    );
    0
}
