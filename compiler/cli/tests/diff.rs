//! `spec diff REV [PATH]`: the estate at a git revision against the working tree, read with
//! `git archive` and no second checkout, in words and in the changed lines of each generated
//! file (`--stat`: counts), with an exit code that says whether anything changed (0 no, 1 yes,
//! 2 the versions could not be compared).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::spec_in;

fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=spec tests", "-c", "user.email=tests@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const BEFORE: &str = "node prod1 {\n  os = nixos\n  address = 10.0.0.1\n}\n\nservice web {\n  on = node.prod1\n  image = \"nginx:1.27\"\n  ports { http = 8080/tcp }\n}\n";

/// A repository with the estate in `infra/` committed twice (the second commit adds a service),
/// and a file outside the estate.
fn repository(name: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("infra")).expect("scratch dir");
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("README"), "not part of the estate\n").expect("write");
    std::fs::write(repo.join("infra/main.spec"), BEFORE).expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let second = format!("{BEFORE}\nservice api {{\n  on = node.prod1\n  image = \"example/api:1\"\n}}\n");
    std::fs::write(repo.join("infra/main.spec"), second).expect("write");
    git(&repo, &["commit", "-q", "-am", "second"]);
    repo
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn diff_against_a_revision_shows_the_changed_lines_and_exits_1() {
    let repo = repository("diff_revision");
    let edited =
        std::fs::read_to_string(repo.join("infra/main.spec")).expect("read").replace("nginx:1.27", "nginx:1.28");
    std::fs::write(repo.join("infra/main.spec"), &edited).expect("write");
    let status_before = git(&repo, &["status", "--porcelain"]);

    let output = spec_in(&repo, &["diff", "HEAD", "infra"]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let text = stdout(&output);
    assert!(text.starts_with("service web: image nginx:1.27 → nginx:1.28\n\n"), "{text}");
    // Each changed generated file as a unified diff: the old line and the new one.
    assert!(text.contains("--- a/nixos/prod1/default.nix\n+++ b/nixos/prod1/default.nix\n@@ "), "{text}");
    let removed: Vec<&str> = text.lines().filter(|l| l.starts_with('-') && !l.starts_with("---")).collect();
    let added: Vec<&str> = text.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).collect();
    assert!(!removed.is_empty() && removed.len() == added.len(), "{text}");
    assert!(!text.contains("spec-diff-"), "the temporary folder is never named: {text}");

    // The same from inside the estate's folder, the path defaulting to `.`, and for its one file.
    assert_eq!(stdout(&spec_in(&repo.join("infra"), &["diff", "HEAD"])), text);
    assert_eq!(stdout(&spec_in(&repo, &["diff", "HEAD", "infra/main.spec"])), text);

    // Two revisions back, a service more: the whole new container unit appears.
    let two_back = stdout(&spec_in(&repo, &["diff", "HEAD~1", "infra", "--stat"]));
    assert!(two_back.starts_with("+ service api\nservice web: image nginx:1.27 → nginx:1.28\n"), "{two_back}");
    assert!(two_back.contains("nixos/prod1/default.nix: "), "{two_back}");
    assert!(!two_back.contains("@@"), "--stat shows no lines: {two_back}");

    // Nothing checked out, nothing written.
    assert_eq!(git(&repo, &["status", "--porcelain"]), status_before);
    assert!(!repo.join("infra/out").exists());
}

#[test]
fn diff_exit_codes_say_whether_anything_changed() {
    let repo = repository("diff_exit_codes");
    let same = spec_in(&repo, &["diff", "HEAD", "infra"]);
    assert_eq!((same.status.code(), stdout(&same)), (Some(0), "no change\n".to_string()));
    let markdown = spec_in(&repo, &["diff", "HEAD~1", "infra", "--format", "markdown"]);
    assert_eq!(markdown.status.code(), Some(1));
    let folded = "<details><summary>nixos/prod1/default.nix: ";
    assert!(stdout(&markdown).contains(folded), "{}", stdout(&markdown));
    assert!(stdout(&markdown).contains("```diff\n--- a/nixos/prod1/default.nix\n"), "{}", stdout(&markdown));

    let unknown = spec_in(&repo, &["diff", "no-such-branch", "infra"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("`no-such-branch` is not a git revision"));

    std::fs::write(repo.join("infra/main.spec"), "node prod1 { os = nixoss }\n").expect("write");
    let broken = spec_in(&repo, &["diff", "HEAD", "infra"]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("error[E0304]"));
    // An error in the old version names the file by its path in the working tree.
    git(&repo, &["commit", "-q", "-am", "broken"]);
    std::fs::write(repo.join("infra/main.spec"), BEFORE).expect("write");
    let old_broken = spec_in(&repo, &["diff", "HEAD", "infra"]);
    let said = String::from_utf8_lossy(&old_broken.stderr);
    assert_eq!(old_broken.status.code(), Some(2));
    assert!(said.contains("╭─[infra/main.spec:1:19]") && said.contains("`infra` at `HEAD` has errors"), "{said}");

    std::fs::create_dir_all(repo.join("new")).expect("mkdir");
    std::fs::write(repo.join("new/main.spec"), BEFORE).expect("write");
    let absent = spec_in(&repo, &["diff", "HEAD", "new"]);
    assert_eq!(absent.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&absent.stderr).contains("does not exist at `HEAD`"),
        "{}",
        String::from_utf8_lossy(&absent.stderr)
    );
}
