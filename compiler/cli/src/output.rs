//! Writes generated files into the output folder safely, or compares them with it.
//!
//! Every file is first written to a staging folder inside the output folder, then moved into place
//! one rename at a time (each file is either its old or its new version, never half-written); the
//! manifest `.spec-manifest.json` (every file spec wrote, with its SHA-256 and the spec lines it
//! came from) is written last. Files
//! spec did not write are never touched; files the previous manifest lists and this build does
//! not produce are removed. Paths come only from checked names and are refused if absolute, if
//! they climb with `..`, if two differ only by case (or one differs only by case from an entry
//! already in the folder, which a case-insensitive file system would overwrite), or if a symlink
//! lies on their way. Nothing is written, moved or removed outside the output folder: the paths a
//! previous manifest lists pass the same checks before anything stale is removed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};
use spec_compiler::target::OutputFile;

/// The manifest's name inside the output folder.
pub const MANIFEST: &str = ".spec-manifest.json";

/// The staging folder's name inside the output folder.
const STAGING: &str = ".spec-staging";

/// What a write did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Files written (new or changed).
    pub written: usize,
    /// Files already up to date.
    pub unchanged: usize,
    /// Stale files removed.
    pub removed: usize,
}

/// How the output folder differs from what the spec produces.
#[derive(Debug, Default)]
pub struct Drift {
    /// Files the spec produces that are absent.
    pub missing: Vec<String>,
    /// Files whose contents differ.
    pub changed: Vec<String>,
    /// Files an earlier build wrote that the spec no longer produces.
    pub stale: Vec<String>,
}

impl Drift {
    /// Whether the folder is up to date.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.changed.is_empty() && self.stale.is_empty()
    }
}

fn sha256(text: &[u8]) -> String {
    Sha256::digest(text).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `path` is relative, `/`-separated, made of plain components only, and names neither the
/// manifest nor the staging folder.
fn is_safe(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
        && path != MANIFEST
        && path.split('/').next() != Some(STAGING)
}

/// Checks that every path is relative, stays inside the output folder, and is unique ignoring case.
pub fn validate_paths(files: &[OutputFile]) -> Result<(), String> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for file in files {
        if !is_safe(&file.path) {
            return Err(format!(
                "refusing to write `{}`: output paths are relative and stay inside the output folder",
                file.path
            ));
        }
        if let Some(other) = seen.insert(file.path.to_lowercase(), &file.path) {
            return Err(format!("refusing to write `{}` and `{other}`: they differ only by case", file.path));
        }
    }
    Ok(())
}

/// Refuses a symlink at the output folder or on the way to any file in it.
fn refuse_symlinks(out: &Path, relative: &str) -> Result<(), String> {
    let mut current = out.to_path_buf();
    let check = |p: &Path| -> Result<(), String> {
        match fs::symlink_metadata(p) {
            Ok(meta) if meta.file_type().is_symlink() => {
                Err(format!("refusing to write through the symlink `{}`", p.display()))
            }
            _ => Ok(()),
        }
    };
    check(&current)?;
    for part in relative.split('/') {
        current.push(part);
        check(&current)?;
    }
    Ok(())
}

/// Refuses a path that differs only by case from an entry already in the output folder: on a
/// case-insensitive file system (macOS, Windows) writing it would replace that entry.
fn refuse_case_clashes(out: &Path, files: &[OutputFile]) -> Result<(), String> {
    // Each folder's entries by lower-cased name, read once: one lookup per path part.
    let mut listed: BTreeMap<PathBuf, HashMap<String, Vec<String>>> = BTreeMap::new();
    for file in files {
        let mut dir = out.to_path_buf();
        for part in file.path.split('/') {
            let entries = listed.entry(dir.clone()).or_insert_with(|| {
                let mut by_case = HashMap::<String, Vec<String>>::new();
                for entry in fs::read_dir(&dir).into_iter().flatten().filter_map(Result::ok) {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    by_case.entry(name.to_lowercase()).or_default().push(name);
                }
                by_case
            });
            let same_but_case = entries.get(&part.to_lowercase()).into_iter().flatten().find(|e| e.as_str() != part);
            if let Some(other) = same_but_case {
                return Err(format!(
                    "refusing to write `{}`: `{}` already exists in {} and differs only by case",
                    file.path,
                    other,
                    dir.display()
                ));
            }
            dir.push(part);
        }
    }
    Ok(())
}

/// Reads the previous manifest's file list (empty when there is none or it is unreadable). Paths
/// that are not safe are dropped: a manifest is a file in the output folder, which anyone may
/// have edited, and its list decides what is removed.
fn previous_files(out: &Path) -> BTreeSet<String> {
    let Ok(text) = fs::read_to_string(out.join(MANIFEST)) else { return BTreeSet::new() };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { return BTreeSet::new() };
    json["files"]
        .as_object()
        .map(|files| files.keys().filter(|path| is_safe(path)).cloned().collect())
        .unwrap_or_default()
}

/// Compares the output folder with `files`.
pub fn compare(out: &Path, files: &[OutputFile]) -> Drift {
    let mut drift = Drift::default();
    let produced: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for file in files {
        match fs::read(out.join(&file.path)) {
            Ok(bytes) if bytes == file.contents.as_bytes() => {}
            Ok(_) => drift.changed.push(file.path.clone()),
            Err(_) => drift.missing.push(file.path.clone()),
        }
    }
    for path in previous_files(out) {
        if !produced.contains(path.as_str()) && out.join(&path).is_file() {
            drift.stale.push(path);
        }
    }
    drift
}

/// Writes `files` into `out`, as described in the module documentation.
pub fn write(out: &Path, files: &[OutputFile]) -> Result<Summary, String> {
    let io = |what: &str, path: &Path, e: std::io::Error| format!("cannot {what} `{}`: {e}", path.display());
    for file in files {
        refuse_symlinks(out, &file.path)?;
    }
    refuse_symlinks(out, STAGING)?;
    refuse_case_clashes(out, files)?;
    // Staged inside the output folder, so nothing is written outside it and every move is a
    // rename within one file system.
    let staging = out.join(STAGING);
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| io("create", &staging, e))?;
    let result = stage_and_move(out, &staging, files);
    let _ = fs::remove_dir_all(&staging);
    result
}

fn stage_and_move(out: &Path, staging: &Path, files: &[OutputFile]) -> Result<Summary, String> {
    let io = |what: &str, path: &Path, e: std::io::Error| format!("cannot {what} `{}`: {e}", path.display());
    // Everything is written to the staging folder first: a full disk fails here, before the output
    // folder changes at all.
    // Staged files are named by their index, flat: creating a directory costs more than writing a
    // file on ext4, and the tree is made once, in the output folder.
    let mut changed: Vec<(&OutputFile, PathBuf)> = Vec::new();
    let mut summary = Summary::default();
    for (index, file) in files.iter().enumerate() {
        if fs::read(out.join(&file.path)).is_ok_and(|old| old == file.contents.as_bytes()) {
            summary.unchanged += 1;
            continue;
        }
        let staged = staging.join(index.to_string());
        fs::write(&staged, &file.contents).map_err(|e| io("write", &staged, e))?;
        changed.push((file, staged));
    }
    let manifest: BTreeMap<&str, serde_json::Value> = files
        .iter()
        .map(|f| {
            (f.path.as_str(), serde_json::json!({ "sha256": sha256(f.contents.as_bytes()), "sources": f.sources }))
        })
        .collect();
    let manifest = serde_json::json!({ "generator": "spec", "files": manifest });
    let staged_manifest = staging.join(MANIFEST);
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    fs::write(&staged_manifest, text).map_err(|e| io("write", &staged_manifest, e))?;

    fs::create_dir_all(out).map_err(|e| io("create", out, e))?;
    let previous = previous_files(out);
    let mut created: BTreeSet<PathBuf> = BTreeSet::new();
    for (file, staged) in changed {
        let target = out.join(&file.path);
        if let Some(dir) = target.parent()
            && !created.contains(dir)
        {
            fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
            created.insert(dir.to_path_buf());
        }
        fs::rename(&staged, &target).map_err(|e| io("move into place", &target, e))?;
        summary.written += 1;
    }
    let produced: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for stale in previous.iter().filter(|p| !produced.contains(p.as_str())) {
        // Only plain files the previous manifest names, and never through a symlink.
        if refuse_symlinks(out, stale).is_err() {
            continue;
        }
        let path = out.join(stale);
        if path.is_file() && fs::remove_file(&path).is_ok() {
            summary.removed += 1;
            remove_empty_parents(out, &path);
        }
    }
    fs::rename(&staged_manifest, out.join(MANIFEST)).map_err(|e| io("move into place", &out.join(MANIFEST), e))?;
    Ok(summary)
}

fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir: Option<PathBuf> = file.parent().map(Path::to_path_buf);
    while let Some(current) = dir {
        if current == out || fs::remove_dir(&current).is_err() {
            return;
        }
        dir = current.parent().map(Path::to_path_buf);
    }
}
