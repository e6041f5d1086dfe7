//! Writes generated files into the output folder safely, or compares them with it.
//!
//! Every file is first written to a staging folder inside the output folder, then moved into place
//! one rename at a time (each file is either its old or its new version, never half-written; a
//! folder the output does not have yet is staged whole and moved in by one rename, so a fresh
//! build moves a few folders rather than every file); the manifest `.spec-manifest.json` (every
//! file spec wrote, with its SHA-256 and the spec lines it came from) is written last. Files spec
//! did not write are never touched; files the previous manifest lists and this build does not
//! produce are removed. Paths come only from checked names and are refused if absolute, if they
//! climb with `..`, if two differ only by case (or one differs only by case from an entry already
//! in the folder, which a case-insensitive file system would overwrite), or if a symlink lies on
//! their way. Each existing folder on the files' way is listed once: the listing gives the case
//! clashes, the symlinks (by the entries' types) and which files exist to be compared. Nothing is
//! written, moved or removed outside the output folder: the paths a previous manifest lists pass
//! the same checks before anything stale is removed.

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
    /// Folders new to the output, each moved into place whole with the files written into it.
    pub new_folders: usize,
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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(text) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 15)]));
    }
    hex
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

/// Refuses a symlink at the output folder or on the way to `relative` in it (for the paths a
/// previous manifest lists, checked one by one).
fn refuse_symlinks(out: &Path, relative: &str) -> Result<(), String> {
    let mut current = out.to_path_buf();
    refuse_symlink_at(&current)?;
    for part in relative.split('/') {
        current.push(part);
        refuse_symlink_at(&current)?;
    }
    Ok(())
}

fn refuse_symlink_at(path: &Path) -> Result<(), String> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            Err(format!("refusing to write through the symlink `{}`", path.display()))
        }
        _ => Ok(()),
    }
}

/// One folder of the output as it is before the write: its entries by lower-cased name.
type Listing = HashMap<String, Vec<(String, bool)>>;

/// Where each file to write stands in the output folder as it is, found from one listing per
/// existing folder on the files' way (its entries' types come with the listing).
struct Survey {
    /// Per file: whether it exists already (so it may be up to date and is read to compare).
    exists: Vec<bool>,
    /// Per file: the first folder on its way that does not exist yet, relative to the output
    /// folder (`None` when its folder exists).
    new_folder: Vec<Option<String>>,
}

/// Surveys the output folder for `files`, refusing a symlink on the way to any of them and a path
/// that differs only by case from an entry already there (on a case-insensitive file system,
/// macOS or Windows, writing it would replace that entry).
fn survey(out: &Path, files: &[OutputFile]) -> Result<Survey, String> {
    refuse_symlink_at(out)?;
    let mut listings: HashMap<PathBuf, Listing> = HashMap::new();
    let mut survey = Survey { exists: Vec::with_capacity(files.len()), new_folder: Vec::with_capacity(files.len()) };
    for file in files {
        let parts: Vec<&str> = file.path.split('/').collect();
        let mut dir = out.to_path_buf();
        let mut found_all = true;
        for (depth, part) in parts.iter().enumerate() {
            let listing = listings.entry(dir.clone()).or_insert_with(|| list(&dir));
            let same_name = listing.get(&part.to_lowercase()).map(Vec::as_slice).unwrap_or_default();
            if let Some((other, _)) = same_name.iter().find(|(name, _)| name != part) {
                return Err(format!(
                    "refusing to write `{}`: `{}` already exists in {} and differs only by case",
                    file.path,
                    other,
                    dir.display()
                ));
            }
            match same_name.first() {
                Some((_, true)) => {
                    return Err(format!("refusing to write through the symlink `{}`", dir.join(part).display()));
                }
                Some(_) => dir.push(part),
                None => {
                    // Nothing below a missing entry exists: no listing, no symlink, no clash.
                    found_all = false;
                    let is_folder = depth + 1 < parts.len();
                    survey.new_folder.push(is_folder.then(|| parts[..=depth].join("/")));
                    break;
                }
            }
        }
        if found_all {
            survey.new_folder.push(None);
        }
        survey.exists.push(found_all);
    }
    Ok(survey)
}

/// A folder's entries by lower-cased name, each with whether it is a symlink (empty when the folder
/// cannot be read).
fn list(dir: &Path) -> Listing {
    let mut by_case = Listing::new();
    for entry in fs::read_dir(dir).into_iter().flatten().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let symlink = entry.file_type().is_ok_and(|t| t.is_symlink());
        by_case.entry(name.to_lowercase()).or_default().push((name, symlink));
    }
    by_case
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
    refuse_symlinks(out, STAGING)?;
    let survey = survey(out, files)?;
    // Staged inside the output folder, so nothing is written outside it and every move is a
    // rename within one file system.
    let staging = out.join(STAGING);
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| io("create", &staging, e))?;
    let result = stage_and_move(out, &staging, files, &survey);
    let _ = fs::remove_dir_all(&staging);
    result
}

/// The staging folder's subfolder holding the folders that are new to the output, as they will
/// stand there (other staged files are named by index, so they never clash with it).
const NEW_FOLDERS: &str = "new";

fn stage_and_move(out: &Path, staging: &Path, files: &[OutputFile], survey: &Survey) -> Result<Summary, String> {
    let io = |what: &str, path: &Path, e: std::io::Error| format!("cannot {what} `{}`: {e}", path.display());
    // Everything is written to the staging folder first: a full disk fails here, before the output
    // folder changes at all. A file whose folder exists is staged flat, named by its index, and
    // moved into place alone; a file in a folder that is new to the output is staged in that
    // folder's tree, and the folder is moved into place whole: a fresh build moves a handful of
    // folders rather than every file.
    let mut changed: Vec<(&OutputFile, PathBuf)> = Vec::new();
    let mut new_folders: BTreeSet<&str> = BTreeSet::new();
    let mut created: BTreeSet<PathBuf> = BTreeSet::new();
    let mut summary = Summary::default();
    let new_tree = staging.join(NEW_FOLDERS);
    for (index, file) in files.iter().enumerate() {
        if survey.exists[index] && fs::read(out.join(&file.path)).is_ok_and(|old| old == file.contents.as_bytes()) {
            summary.unchanged += 1;
            continue;
        }
        let staged = match &survey.new_folder[index] {
            Some(folder) => {
                new_folders.insert(folder);
                let staged = new_tree.join(&file.path);
                if let Some(dir) = staged.parent()
                    && !created.contains(dir)
                {
                    fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
                    created.insert(dir.to_path_buf());
                }
                fs::write(&staged, &file.contents).map_err(|e| io("write", &staged, e))?;
                summary.written += 1;
                continue;
            }
            None => staging.join(index.to_string()),
        };
        fs::write(&staged, &file.contents).map_err(|e| io("write", &staged, e))?;
        changed.push((file, staged));
    }
    let hashes = spec_compiler::parallel::map_chunks(files.iter().collect(), 64, |chunk: Vec<&OutputFile>| {
        chunk.into_iter().map(|f| sha256(f.contents.as_bytes())).collect::<Vec<_>>()
    });
    let manifest: BTreeMap<&str, serde_json::Value> = files
        .iter()
        .zip(hashes.into_iter().flatten())
        .map(|(f, sha)| (f.path.as_str(), serde_json::json!({ "sha256": sha, "sources": f.sources })))
        .collect();
    let manifest = serde_json::json!({ "generator": "spec", "files": manifest });
    let staged_manifest = staging.join(MANIFEST);
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    fs::write(&staged_manifest, text).map_err(|e| io("write", &staged_manifest, e))?;

    fs::create_dir_all(out).map_err(|e| io("create", out, e))?;
    let previous = previous_files(out);
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for (file, staged) in changed {
        let target = out.join(&file.path);
        if let Some(dir) = target.parent()
            && !made.contains(dir)
        {
            fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
            made.insert(dir.to_path_buf());
        }
        fs::rename(&staged, &target).map_err(|e| io("move into place", &target, e))?;
        summary.written += 1;
    }
    for folder in &new_folders {
        // The folder's parent exists: the survey found every entry above it.
        let target = out.join(folder);
        fs::rename(new_tree.join(folder), &target).map_err(|e| io("move into place", &target, e))?;
        summary.new_folders += 1;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> OutputFile {
        OutputFile { path: path.into(), contents: contents.into(), sources: vec!["main.spec:1".into()] }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("spec-output-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// Every file under `dir` with its text, in path order.
    fn tree(dir: &Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(folder) = stack.pop() {
            for entry in fs::read_dir(&folder).expect("read").map(|e| e.expect("entry")) {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if entry.file_name() != MANIFEST {
                    let relative = path.strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
                    found.push((relative, fs::read_to_string(&path).expect("text")));
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn new_folders_move_in_whole_and_existing_ones_file_by_file() {
        let out = scratch("moves");
        let files = vec![file("a/x", "1"), file("a/y/z", "2"), file("b/w", "3"), file("top", "4")];
        let fresh = write(&out, &files).expect("fresh");
        assert_eq!((fresh.written, fresh.unchanged, fresh.new_folders), (4, 0, 2), "a/ and b/ moved whole");
        let expected: Vec<(String, String)> = files.iter().map(|f| (f.path.clone(), f.contents.clone())).collect();
        assert_eq!(tree(&out), expected);

        // a/ exists now: its new file and new subfolder go in one by one beside what is there.
        fs::remove_dir_all(out.join("b")).expect("remove b");
        let more = vec![file("a/v/u", "5"), file("a/x", "1"), file("a/y/z", "6"), file("b/w", "3"), file("top", "4")];
        let again = write(&out, &more).expect("again");
        assert_eq!((again.written, again.unchanged, again.new_folders), (3, 2, 2), "a/v/ and b/ moved whole");
        let expected: Vec<(String, String)> = more.iter().map(|f| (f.path.clone(), f.contents.clone())).collect();
        assert_eq!(tree(&out), expected);
        assert!(!out.join(STAGING).exists());
        let _ = fs::remove_dir_all(&out);
    }

    #[test]
    fn the_survey_refuses_symlinks_and_case_clashes_on_the_way() {
        let out = scratch("refusals");
        let elsewhere = scratch("refusals-elsewhere");
        fs::create_dir_all(&elsewhere).expect("elsewhere");
        fs::create_dir_all(out.join("a")).expect("a");
        std::os::unix::fs::symlink(&elsewhere, out.join("a/linked")).expect("symlink");
        std::os::unix::fs::symlink(elsewhere.join("f"), out.join("a/file")).expect("symlink");
        fs::create_dir_all(out.join("Case")).expect("Case");
        for path in ["a/linked/x", "a/file", "case/x"] {
            let error = write(&out, &[file(path, "1")]).expect_err(path);
            assert!(error.contains("symlink") || error.contains("differs only by case"), "{path}: {error}");
        }
        assert!(fs::read_dir(&elsewhere).expect("read").next().is_none(), "nothing written through a link");
        let _ = fs::remove_dir_all(&out);
        let _ = fs::remove_dir_all(&elsewhere);
    }
}
