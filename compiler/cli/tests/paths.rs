//! Where `spec` reads, writes and says files are when it runs from another folder than the
//! estate's: `spec fmt` writes each file where it was read, and diagnostics (human, JSON, GitHub
//! annotations) name files from the working directory, so a CI job at the repository's root
//! annotates the pull request's own files. Generated files keep naming their sources from the
//! estate's folder, so they do not depend on where `spec` ran.

use std::path::Path;

mod common;
use common::{scratch, spec_in, write_text as write};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

const UNFORMATTED: &str = "node prod1 {\nos = nixos   # the os\n}\n";
const FORMATTED: &str = "node prod1 {\n  os = nixos  # the os\n}\n";

#[test]
fn fmt_of_a_file_in_a_subfolder_rewrites_that_file_and_nothing_else() {
    let root = scratch("fmt_subfolder_file");
    write(&root.join("infra/main.spec"), UNFORMATTED);
    // A file of the same name in the working directory must not be touched.
    write(&root.join("main.spec"), "# the parent's own file\n");
    let check = spec_in(&root, &["fmt", "--check", "infra/main.spec"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&check.stdout), "infra/main.spec\n");
    let output = spec_in(&root, &["fmt", "infra/main.spec"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(read(&root.join("infra/main.spec")), FORMATTED);
    assert_eq!(read(&root.join("main.spec")), "# the parent's own file\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "formatted 1 of 1 file\n");
}

#[test]
fn fmt_of_folders_and_several_files_writes_each_where_it_was_read() {
    let root = scratch("fmt_subfolder_dirs");
    for path in ["a/main.spec", "a/nodes/x.spec", "b/main.spec", "c.spec"] {
        write(&root.join(path), UNFORMATTED);
    }
    let output = spec_in(&root, &["fmt", "a", "./b", "c.spec"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    for path in ["a/main.spec", "a/nodes/x.spec", "b/main.spec", "c.spec"] {
        assert_eq!(read(&root.join(path)), FORMATTED, "{path}");
    }
    let mut names: Vec<_> = std::fs::read_dir(&root).expect("list").map(|e| e.expect("entry").file_name()).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c.spec"], "nothing written beside the folders");
    // One folder from inside it, and from above it with a trailing `./`.
    write(&root.join("a/nodes/x.spec"), UNFORMATTED);
    assert_eq!(spec_in(&root.join("a"), &["fmt", "nodes"]).status.code(), Some(0));
    assert_eq!(read(&root.join("a/nodes/x.spec")), FORMATTED);
    write(&root.join("a/nodes/x.spec"), UNFORMATTED);
    let listed = spec_in(&root, &["fmt", "--check", "./a/"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout), "a/nodes/x.spec\n");
}

const BROKEN: &str = "node prod1 {\n  os = nixos\n  cpu = \"many\"\n}\n";

#[test]
fn annotations_name_files_from_the_working_directory() {
    let root = scratch("annotation_paths");
    write(&root.join("infra/prod/main.spec"), BROKEN);
    let expected = "::error file=infra/prod/main.spec,line=3,col=9,endLine=3,endColumn=15,title=E0301::";
    for args in [&["check", "--format", "github", "infra/prod"][..], &["check", "--format", "github", "./infra/prod/"]]
    {
        let output = spec_in(&root, args);
        assert_eq!(output.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.starts_with(expected), "{args:?}: {stdout}");
    }
    let from_inside = spec_in(&root.join("infra/prod"), &["check", "--format", "github"]);
    assert!(String::from_utf8_lossy(&from_inside.stdout).starts_with("::error file=main.spec,line=3"));
    let one_file = spec_in(&root, &["check", "--format", "github", "infra/prod/main.spec"]);
    assert!(String::from_utf8_lossy(&one_file.stdout).starts_with(expected));
}

#[test]
fn json_and_human_diagnostics_name_files_from_the_working_directory() {
    let root = scratch("json_paths");
    write(&root.join("infra/main.spec"), BROKEN);
    let output = spec_in(&root, &["check", "--format", "json", "infra"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["diagnostics"][0]["file"], "infra/main.spec");
    assert_eq!(report["diagnostics"][0]["labels"][0]["file"], "infra/main.spec");
    let human = spec_in(&root, &["check", "infra"]);
    assert!(String::from_utf8_lossy(&human.stderr).contains("╭─[infra/main.spec:3:9]"));
    let graph = spec_in(&root, &["graph", "infra"]);
    let said = String::from_utf8_lossy(&graph.stderr);
    assert!(said.contains("╭─[infra/main.spec:3:9]") && said.contains("(1 error found)"), "{said}");
    let build = spec_in(&root, &["build", "--format", "github", "infra"]);
    assert!(String::from_utf8_lossy(&build.stdout).starts_with("::error file=infra/main.spec,line=3,col=9"));
}

#[test]
fn generated_files_name_their_sources_from_the_estate_whatever_the_working_directory() {
    let root = scratch("provenance_paths");
    write(&root.join("infra/main.spec"), "node prod1 {\n  os = nixos\n  address = 10.0.0.1\n}\n");
    let from_above = spec_in(&root, &["build", "infra", "--out", "above"]);
    assert_eq!(from_above.status.code(), Some(0), "{}", String::from_utf8_lossy(&from_above.stderr));
    let from_inside = spec_in(&root.join("infra"), &["build", ".", "--out", "../inside"]);
    assert_eq!(from_inside.status.code(), Some(0), "{}", String::from_utf8_lossy(&from_inside.stderr));
    let module = |out: &str| read(&root.join(out).join("nixos/prod1/default.nix"));
    assert_eq!(module("above"), module("inside"));
    assert!(module("above").contains("main.spec:1"), "{}", module("above"));
    assert!(!module("above").contains("infra/main.spec"));
}
