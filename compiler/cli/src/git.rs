//! Reads an estate as it was at a git revision, for `spec diff REV [PATH]`, without a second
//! checkout: `git archive` writes the estate's files at that revision (and nothing else of the
//! repository) into a private temporary folder, which is then read like any estate and removed.
//! The temporary folder's name never reaches the output: files are named relative to the estate.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A temporary folder holding an estate at a revision, removed when dropped.
pub struct Snapshot {
    root: PathBuf,
    /// The estate inside it: the same path, relative to the repository, as in the working tree.
    pub estate: PathBuf,
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output =
        Command::new("git").arg("-C").arg(dir).args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim_end_matches('\n').to_string())
}

/// Writes the estate at `path` (a folder or a file of the working tree) as it was at `revision`
/// into a temporary folder.
pub fn snapshot(revision: &str, path: &Path) -> Result<Snapshot, String> {
    // The folder git runs in: the estate's folder, or the file's.
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let commit = git(&dir, &["rev-parse", "--verify", "--quiet", &format!("{revision}^{{commit}}")])
        .map_err(|_| format!("`{revision}` is not a git revision here"))?;
    // The estate's path inside the repository, `/`-separated: the prefix of its folder, and the
    // file's name when it is a file.
    let prefix = git(&dir, &["rev-parse", "--show-prefix"])?;
    let inside = match path.is_dir() {
        true => prefix.trim_end_matches('/').to_string(),
        false => format!("{prefix}{}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()),
    };
    let root =
        std::env::temp_dir().join(format!("spec-diff-{}-{}", std::process::id(), &commit[..12.min(commit.len())]));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create `{}`: {e}", root.display()))?;
    let snapshot = Snapshot { estate: if inside.is_empty() { root.clone() } else { root.join(&inside) }, root };
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    let spec = if inside.is_empty() { ".".to_string() } else { inside.clone() };
    let mut archive = Command::new("git")
        .args(["-C", &top, "archive", "--format=tar", &commit, "--", &spec])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let Some(tar_input) = archive.stdout.take() else { return Err("git archive gave no output".into()) };
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&snapshot.root)
        .stdin(tar_input)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let archived = archive.wait_with_output().map_err(|e| format!("git archive: {e}"))?;
    if !archived.status.success() {
        let said = String::from_utf8_lossy(&archived.stderr);
        return Err(if said.contains("did not match any files") {
            format!("`{}` does not exist at `{revision}`", path.display())
        } else {
            format!("git archive: {}", said.trim())
        });
    }
    if !tar.status.success() {
        return Err(format!("tar: {}", String::from_utf8_lossy(&tar.stderr).trim()));
    }
    Ok(snapshot)
}
