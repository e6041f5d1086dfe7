//! Hostile strings through every back end (proptest). Generated text mixes quotes, `${`, `''`,
//! `\`, `%`, `$`, `{{`, `}}`, line breaks, NUL, unicode (noncharacters too) and YAML specials,
//! and lands in a service's image, argument and environment value, a job's, a workflow step's argument, a
//! volume path and an alert's summary and label, on a NixOS node, an Ubuntu node and a k3s
//! cluster in turn, and through the Prometheus back end. Each back end either refuses the text
//! with its diagnostic, or:
//!
//! - nothing is injected: the output has the same structure (attribute paths, YAML keys, unit
//!   sections and keys, files) as the same estate with every hostile string replaced by `x`;
//! - the real consumer reads the values back unchanged: `nix-instantiate --eval` evaluates the
//!   NixOS module, a YAML parser reads every Kubernetes document, `systemd-analyze verify`
//!   (through the shared validator) accepts every unit, and `promtool` accepts the rule file
//!   and passes its unit test, which expects the alert's label to be exactly the hostile text
//!   (Prometheus expands label values as templates: the back end's escaping must give it back).
//!
//! A missing tool prints SKIPPED and that read-back is not made.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use spec_compiler::diagnostics::{Diagnostic, Severity};
use spec_compiler::driver;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::target::{Context, Target};

/// Where the estate's workloads run, and so which back end lowers them.
#[derive(Clone, Copy, Debug)]
enum Place {
    Nixos,
    Ubuntu,
    Cluster,
    /// The NixOS estate's alerts, through the Prometheus back end.
    Prometheus,
}

/// The strings under test.
#[derive(Clone, Debug)]
struct Hostile {
    image: String,
    arg: String,
    env: String,
    path: String,
    summary: String,
}

impl Hostile {
    fn benign() -> Hostile {
        let x = || "x".to_string();
        Hostile { image: x(), arg: x(), env: x(), path: "/x".into(), summary: x() }
    }
}

/// A spec string literal holding `text` exactly.
fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn estate(place: Place, h: &Hostile) -> String {
    let (node_os, on) = match place {
        Place::Nixos | Place::Prometheus => ("nixos", "node.n1"),
        Place::Ubuntu => ("ubuntu", "node.n1"),
        Place::Cluster => ("nixos", "cluster.c1"),
    };
    // A node's storage is a dataset, a cluster's a volume (a volume on a node is E0640).
    let storage = match place {
        Place::Cluster => "volume { size = 1GiB }",
        _ => "zfs { pool = \"tank\", dataset = \"data\" }",
    };
    let (image, arg, env, path, summary) =
        (literal(&h.image), literal(&h.arg), literal(&h.env), literal(&h.path), literal(&h.summary));
    format!(
        "node n1 {{ os = {node_os}, cpu = 8, memory = 16GiB, zpool tank {{ layout = stripe, disks = [\"/dev/sda\"] }} }}\n\
         cluster c1 {{ distribution = k3s, servers = [node.n1], namespace = \"apps\" }}\n\
         storage data {{ on = {on}, {storage} }}\n\
         service web {{\n  on = {on}\n  image = {image}\n  args = [{arg}]\n  env {{ V = {env} }}\n  volumes {{ {path} = storage.data }}\n  needs = [job.migrate]\n}}\n\
         job migrate {{ on = {on}, image = {image}, args = [{arg}], env {{ V = {env} }} }}\n\
         workflow job {{\n  on = {on}\n  schedule = \"0 3 * * *\"\n  step run {{ image = {image}, args = [{arg}] }}\n}}\n\
         alert web-down {{ severity = warning, expr = \"up == 0\", summary = {summary}, labels {{ note = {env} }} }}\n"
    )
}

/// The back end an estate exercises, and the codes by which it may refuse hostile text.
fn back_end(place: Place) -> (Box<dyn Target>, &'static str, &'static [&'static str]) {
    match place {
        Place::Nixos => (Box::new(spec_target_nixos::Nixos), "nixos/", &["E1102", "E1405"]),
        Place::Ubuntu => (Box::new(spec_target_systemd::Systemd), "systemd/", &["E1401", "E1405"]),
        Place::Cluster => (Box::new(spec_target_kubernetes::Kubernetes), "", &["E1201"]),
        Place::Prometheus => (Box::new(spec_target_prometheus::Prometheus), "prometheus/", &["E1501"]),
    }
}

/// Codes the front end may refuse hostile text with: a NUL inside a string (no target can hold
/// one), a value that looks like a credential, and a summary that is not a Prometheus template.
const FRONT_END_REFUSALS: &[&str] = &["E0107", "E0613", "E0623"];

/// The errors among `diagnostics` (code and message), as the refusal they make.
fn refused(diagnostics: &[Diagnostic]) -> Result<(), Vec<String>> {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The files the back end generates for `place` (`None` when it refused), with the codes refused.
fn generate(place: Place, h: &Hostile) -> Result<Vec<(String, String)>, Vec<String>> {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("main.spec", estate(place, h), Origin::User));
    let compilation = driver::compile(&mut sources, &[file], None);
    refused(&compilation.diagnostics)?;
    let (target, prefix, _) = back_end(place);
    let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let generated = target.generate(&context);
    refused(&generated.diagnostics)?;
    let want = |path: &str| match place {
        Place::Cluster => path.starts_with("helm/") || path.starts_with("k8s/"),
        _ => path.starts_with(prefix),
    };
    Ok(generated.files.into_iter().filter(|f| want(&f.path)).map(|f| (f.path, f.contents)).collect())
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

fn write_all(dir: &Path, files: &[(String, String)]) {
    for (path, contents) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(target, contents).expect("write");
    }
}

/// Every path to a leaf of a JSON value (keys and list positions), and every string leaf.
fn shape(value: &serde_json::Value, at: String, paths: &mut BTreeSet<String>, strings: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                shape(inner, format!("{at}.{key}"), paths, strings);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                shape(inner, format!("{at}[{i}]"), paths, strings);
            }
        }
        serde_json::Value::String(text) => {
            paths.insert(at);
            strings.push(text.clone());
        }
        _ => {
            paths.insert(at);
        }
    }
}

/// The NixOS module evaluated by `nix-instantiate` with its arguments stubbed, as JSON.
/// `pkgs.NAME` becomes a fake store path, as the shared validator does.
fn evaluate_nix(file: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(file).expect("read the module");
    let packages: BTreeSet<&str> = text
        .split("pkgs.")
        .skip(1)
        .map(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).next().unwrap_or(""))
        .filter(|name| !name.is_empty())
        .collect();
    let pkgs: String = packages.iter().map(|name| format!("\"{name}\" = \"/nix/store/stub-{name}\"; ")).collect();
    let expression = format!(
        "let m = import {}; self = m {{ config = self; lib = throw \"lib\"; pkgs = {{ {pkgs}}}; options = {{}}; modulesPath = \"/m\"; }}; in self",
        file.display()
    );
    let output = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-E", &expression])
        .output()
        .expect("nix-instantiate runs");
    assert!(output.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// The structure of generated files: for Nix, attribute paths; for YAML, key paths of every
/// document; for units, each line's section and key. Also the string values that were read.
fn read_back(place: Place, dir: &Path, files: &[(String, String)]) -> (Vec<String>, Vec<String>) {
    let mut structure = Vec::new();
    let mut strings = Vec::new();
    for (path, contents) in files {
        structure.push(format!("file {path}"));
        match place {
            Place::Nixos
                if path.ends_with("/default.nix") && path.matches('/').count() == 2 && have("nix-instantiate") =>
            {
                let mut paths = BTreeSet::new();
                shape(&evaluate_nix(&dir.join(path)), String::new(), &mut paths, &mut strings);
                structure.extend(paths);
            }
            // The rule file's structure; the test file exists only when the summary's template
            // is one the back end can expand (W1501 otherwise), and is run by promtool.
            Place::Prometheus if path.ends_with(".test.yml") => {
                structure.pop();
            }
            Place::Cluster | Place::Prometheus => {
                for document in serde_yaml::Deserializer::from_str(contents) {
                    let value = serde_yaml::Value::deserialize(document).expect("every document is YAML");
                    let json = serde_json::to_value(value).expect("YAML maps to JSON");
                    let mut paths = BTreeSet::new();
                    shape(&json, String::new(), &mut paths, &mut strings);
                    structure.extend(paths);
                }
            }
            Place::Ubuntu => {
                let mut section = String::new();
                for line in contents.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
                    if line.starts_with('[') {
                        section = line.to_string();
                    } else {
                        let key = line.split('=').next().unwrap_or_default();
                        structure.push(format!("{section} {key}"));
                    }
                }
            }
            _ => {}
        }
    }
    (structure, strings)
}

use serde::Deserialize as _;

/// Text built from the fragments that break naive writers of Nix, YAML, unit files and templates.
fn hostile_text() -> impl Strategy<Value = String> {
    // NUL is refused by the front end in any string, and a noncharacter (valid UTF-8) by the
    // back ends that write unit files, even escaped; so they come rarely: most cases must get
    // through to the back ends.
    let fragment = prop_oneof![
        1 => Just("\0".to_string()),
        1 => Just("\u{fffe}".to_string()),
        40 => hostile_fragment(),
    ];
    proptest::collection::vec(fragment, 1..6).prop_map(|parts| parts.concat())
}

fn hostile_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"".to_string()),
        Just("${".to_string()),
        Just("''".to_string()),
        Just("\\".to_string()),
        Just("%".to_string()),
        Just("$".to_string()),
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("\n".to_string()),
        Just("ünï✓🚀".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("#".to_string()),
        Just("yes".to_string()),
        Just("0x1F".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("*a".to_string()),
        Just("'".to_string()),
        "[a-z0-9 ]{1,4}",
        any::<char>().prop_map(String::from),
    ]
}

fn hostile() -> impl Strategy<Value = Hostile> {
    (hostile_text(), hostile_text(), hostile_text(), hostile_text(), hostile_text())
        .prop_map(|(image, arg, env, path, summary)| Hostile { image, arg, env, path: format!("/{path}"), summary })
}

/// The validator of the shared tree, for `systemd-analyze verify`.
fn validator() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/validate/validate-out.sh");
    (script.exists() && have("systemd-analyze")).then_some(script)
}

/// Checks one estate; `Ok(true)` when the back end generated it and it was read back.
fn check(place: Place, h: &Hostile, case: usize) -> Result<bool, TestCaseError> {
    let benign = generate(place, &Hostile::benign()).expect("the benign twin generates");
    let files = match generate(place, h) {
        Ok(files) => files,
        Err(errors) => {
            let (_, _, refusals) = back_end(place);
            for error in &errors {
                let code = &error[..5];
                prop_assert!(
                    refusals.contains(&code) || FRONT_END_REFUSALS.contains(&code),
                    "{place:?}: refused with an unexpected diagnostic: {error}"
                );
            }
            return Ok(false);
        }
    };
    let dir = scratch(&format!("{place:?}-{case}"));
    let twin = scratch(&format!("{place:?}-{case}-twin"));
    write_all(&dir, &files);
    write_all(&twin, &benign);
    let (structure, strings) = read_back(place, &dir, &files);
    let (benign_structure, _) = read_back(place, &twin, &benign);
    prop_assert_eq!(&structure, &benign_structure, "{:?}: the output's structure changed", place);
    match place {
        Place::Nixos if have("nix-instantiate") => {
            for value in [&h.image, &h.env] {
                prop_assert!(strings.contains(value), "{:?} was not read back from the module", value);
            }
        }
        Place::Cluster => {
            // What Helm's `tpl` prints for the text read: the escape action prints `{{`.
            let printed: Vec<String> = strings.iter().map(|s| s.replace("{{ \"{{\" }}", "{{")).collect();
            prop_assert!(printed.contains(&h.env), "{:?} was not read back from the values", h.env);
        }
        Place::Prometheus => return promtool_reads_back(&dir, &files, h),
        Place::Ubuntu => {
            if let Some(script) = validator() {
                let output = Command::new("bash").arg(script).arg(&dir).output().expect("the validator runs");
                let report = String::from_utf8_lossy(&output.stdout).into_owned();
                prop_assert!(!report.lines().any(|l| l.starts_with("FAIL")), "{}", report);
            }
        }
        _ => {}
    }
    Ok(true)
}

/// `promtool check rules` accepts the rule file; when the summary's template let the back end
/// derive a unit test, that test expects the `note` label to be the hostile text and
/// `promtool test rules` passes it. `Ok(true)` when the test ran.
fn promtool_reads_back(dir: &Path, files: &[(String, String)], h: &Hostile) -> Result<bool, TestCaseError> {
    if !have("promtool") {
        return Ok(false);
    }
    let folder = dir.join("prometheus");
    let promtool = |args: &[&str]| {
        let output = Command::new("promtool").args(args).current_dir(&folder).output().expect("promtool runs");
        (
            output.status.success(),
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
        )
    };
    let (accepted, report) = promtool(&["check", "rules", "estate.rules.yml"]);
    prop_assert!(accepted, "promtool check rules: {}", report);
    let Some((_, test)) = files.iter().find(|(path, _)| path == "prometheus/estate.test.yml") else { return Ok(false) };
    let test: serde_json::Value = serde_yaml::from_str(test).expect("the test file is YAML");
    let expected = test
        .pointer("/tests/0/alert_rule_test/0/exp_alerts/0/exp_labels/note")
        .and_then(|note| note.as_str())
        .unwrap_or_default();
    prop_assert_eq!(expected, h.env.as_str(), "the test expects another label value");
    let (passed, report) = promtool(&["test", "rules", "estate.test.yml"]);
    prop_assert!(passed, "promtool test rules: {}", report);
    Ok(true)
}

#[test]
fn hostile_strings_are_read_back_unchanged_or_refused() {
    for (tool, what) in [
        ("nix-instantiate", "NixOS read-back"),
        ("systemd-analyze", "unit verification"),
        ("promtool", "Prometheus read-back"),
    ] {
        if !have(tool) {
            eprintln!("SKIPPED: {tool} is not installed; {what} was not made");
        }
    }
    if validator().is_none() {
        eprintln!("SKIPPED: ../shared/validate or systemd-analyze is missing; units were not verified");
    }
    // Few cases, each running the real tools: enough to vary every fragment, fast enough for CI.
    let config = ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() };
    let case = std::cell::Cell::new(0);
    let read_back = std::cell::Cell::new([0; 4]);
    proptest!(config, |(h in hostile())| {
        case.set(case.get() + 1);
        for (i, place) in [Place::Nixos, Place::Ubuntu, Place::Cluster, Place::Prometheus].into_iter().enumerate() {
            if check(place, &h, case.get())? {
                let mut counts = read_back.get();
                counts[i] += 1;
                read_back.set(counts);
            }
        }
    });
    // Refusing everything would pass trivially: most cases must reach each back end's consumer.
    let counts = read_back.get();
    println!("cases read back (NixOS, systemd, Kubernetes, Prometheus): {counts:?} of {}", case.get());
    let needed = if have("promtool") { 4 } else { 3 };
    assert!(
        counts.iter().take(needed).all(|&n| n >= 6),
        "cases read back (NixOS, systemd, Kubernetes, Prometheus): {counts:?}"
    );
}
