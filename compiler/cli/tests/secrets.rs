//! Secrets never leak into generated files. Every example and every back-end corpus case that
//! builds is copied to a scratch folder, each secret file it references (agenix `.age` files, sops
//! files, systemd credentials) is filled with a unique marker value and an OpenSSH private key
//! holding that marker, and `spec build --target all` runs on the copy. No generated file may
//! hold a marker, private key material, or any credential-looking token (long, mixed-case or hex,
//! high-entropy) that the spec text itself does not contain: secrets stay references (file paths,
//! secret names, credential names), whatever the files they name hold.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_compiler::driver;
use spec_compiler::model::{NixosSecret, SystemdSecret};
use spec_compiler::source::{Origin, SourceFile, SourceMap};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example folder and every `specs/targets/**` case.
fn estates() -> Vec<PathBuf> {
    let mut estates: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    for entry in walkdir::WalkDir::new(workspace().join("specs/targets")).sort_by_file_name() {
        let entry = entry.expect("walk");
        if entry.path().extension().is_some_and(|e| e == "spec") {
            estates.push(entry.into_path());
        }
    }
    estates.sort();
    estates
}

/// The marker for the `index`th secret file: unique, and credential-shaped so that the token scan
/// would also catch it.
fn marker(index: usize) -> String {
    format!("SpecLeakMarker{index:04}x9Qz7Wv3Kp8Lm2Nb6Vc1Xr5Ty0Hg4Jd")
}

fn secret_contents(index: usize) -> String {
    let marker = marker(index);
    format!(
        "{marker}\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ{marker}\n-----END OPENSSH PRIVATE KEY-----\n"
    )
}

/// The files the estate's secrets reference, as written in the spec.
fn secret_files(texts: &[(String, String)]) -> Vec<String> {
    let mut sources = SourceMap::new();
    let files: Vec<_> =
        texts.iter().map(|(name, text)| sources.add(SourceFile::new(name, text.as_str(), Origin::User))).collect();
    let compilation = driver::compile(&mut sources, &files, None);
    let mut files = Vec::new();
    for secret in &compilation.model.secrets {
        // A secret holding several values names a folder: its keys' files are its facets'
        // (`secret.NAME.KEY`, in the model beside it), filled one by one.
        if secret.spec.keys.is_some() {
            continue;
        }
        match secret.spec.nixos.as_ref().map(|s| &s.value) {
            Some(NixosSecret::Agenix { file }) | Some(NixosSecret::Sops { file, .. }) => files.push(file.clone()),
            // A file already on the host, or one vault-agent renders there: not in the project.
            Some(NixosSecret::Existing { .. }) | None => {}
        }
        if let Some(SystemdSecret::Credential { path, .. }) = secret.spec.systemd.as_ref().map(|s| &s.value) {
            files.push(path.clone());
        }
        // Kubernetes secrets live in the cluster (an existing Secret or an external store): there
        // is no file to fill, and their names are what the manifests must reference.
    }
    files
}

/// Tokens of base64 or hex characters that look generated: at least 32 long, and either mixed
/// case with digits or all hex digits.
fn credential_like_tokens(text: &str) -> Vec<&str> {
    // `=` ends a token: it is base64 padding, or the `Key=` of a unit or an env line.
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '_' | '-')))
        .filter(|token| token.len() >= 32)
        // An absolute path of several folders (`/var/lib/postgresql/16/PG_VERSION`) is a place,
        // not a credential that happens to hold slashes.
        .filter(|token| !(token.starts_with('/') && token.split('/').filter(|s| !s.is_empty()).count() >= 3))
        .filter(|token| {
            let mixed = token.chars().any(|c| c.is_ascii_lowercase())
                && token.chars().any(|c| c.is_ascii_uppercase())
                && token.chars().any(|c| c.is_ascii_digit());
            let hex = token.chars().all(|c| c.is_ascii_hexdigit()) && token.chars().any(|c| c.is_ascii_digit());
            mixed || hex
        })
        .collect()
}

#[test]
fn no_secret_value_reaches_any_generated_file() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("secret-leak");
    let _ = std::fs::remove_dir_all(&scratch);
    let mut built = 0;
    let mut filled = 0;
    for (case, estate) in estates().into_iter().enumerate() {
        let dir = scratch.join(format!("case{case}"));
        std::fs::create_dir_all(&dir).expect("scratch");
        // The estate's files (an example is a folder of them), each named from the estate.
        let mut texts: Vec<(String, String)> = if estate.is_dir() {
            let mut found: Vec<(String, String)> = walkdir::WalkDir::new(&estate)
                .sort_by_file_name()
                .into_iter()
                .map(|e| e.expect("walk").into_path())
                .filter(|p| p.extension().is_some_and(|e| e == "spec"))
                .map(|p| {
                    let name = p.strip_prefix(&estate).expect("below").to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(&p).expect("read the estate"))
                })
                .collect();
            found.sort();
            found
        } else {
            vec![("main.spec".to_string(), std::fs::read_to_string(&estate).expect("read the estate"))]
        };
        let mut markers = Vec::new();
        for path in secret_files(&texts) {
            // Absolute credential paths are moved under the scratch folder, so the test writes
            // only there.
            let on_disk = if let Some(relative) = path.strip_prefix('/') {
                let moved = dir.join("root").join(relative);
                for (_, text) in &mut texts {
                    *text = text.replace(&format!("\"{path}\""), &format!("\"{}\"", moved.display()));
                }
                moved
            } else {
                dir.join(&path)
            };
            std::fs::create_dir_all(on_disk.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&on_disk, secret_contents(filled)).expect("write the secret file");
            markers.push(marker(filled));
            filled += 1;
        }
        for (name, text) in &texts {
            let file = dir.join(name);
            std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
            std::fs::write(file, text).expect("write the estate");
        }
        let text: String = texts.iter().map(|(_, text)| text.as_str()).collect::<Vec<_>>().join("\n");
        let out = dir.join("out");
        let output = Command::new(env!("CARGO_BIN_EXE_spec"))
            .args(["build", dir.to_str().expect("utf-8"), "--target", "all", "--out", out.to_str().expect("utf-8")])
            .output()
            .expect("spec runs");
        if output.status.code() != Some(0) {
            // Cases whose point is a back end's diagnostic write nothing.
            assert!(!out.exists(), "{}: a failed build wrote files", estate.display());
            continue;
        }
        built += 1;
        for entry in walkdir::WalkDir::new(&out) {
            let entry = entry.expect("walk");
            if !entry.file_type().is_file() {
                continue;
            }
            let generated = std::fs::read_to_string(entry.path()).expect("generated files are text");
            let shown = format!("{} → {}", estate.display(), entry.path().display());
            for marker in &markers {
                assert!(!generated.contains(marker.as_str()), "{shown}: holds the content of a secret file");
            }
            assert!(!generated.contains("PRIVATE KEY") && !generated.contains("-----BEGIN"), "{shown}: key material");
            let manifest = entry.file_name() == ".spec-manifest.json";
            for token in credential_like_tokens(&generated) {
                // The manifest's SHA-256 sums are hashes of the output, not credentials.
                if manifest && token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()) {
                    continue;
                }
                assert!(text.contains(token), "{shown}: `{token}` looks like a credential and is not in the spec");
            }
        }
    }
    assert!(built >= 8, "the examples and the clean corpus cases build ({built} built)");
    assert!(filled >= 10, "secret files were filled with markers ({filled})");
}
