//! The systemd output read by the real tools: every `.service` and `.timer` passes
//! `systemd-analyze verify` through the shared validator (`shared/validate/validate-out.sh`, which
//! fails on any printed problem: unknown keys or sections, unparsable settings), and every
//! `OnCalendar=` is accepted by `systemd-analyze calendar`. A missing tool makes the test print
//! SKIPPED. The outputs of the tour and of the restic case are snapshotted, and hostile strings
//! are read back through systemd's own parser.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_systemd::Systemd;
use spec_target_systemd::escape::{exec_arg, list_word, value};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generate(path: &Path) -> Vec<(String, String)> {
    spec_testkit::generate(&Systemd, path)
}

fn estates() -> Vec<PathBuf> {
    vec![
        workspace().join("examples/tour/main.spec"),
        workspace().join("specs/targets/systemd/a_container_service_and_a_workflow_on_ubuntu_generate_cleanly.spec"),
        workspace().join("specs/targets/systemd/a_restic_backup_and_health_checks_on_ubuntu.spec"),
        workspace().join("specs/targets/systemd/k3s_gpus_and_unit_settings_on_ubuntu_generate_cleanly.spec"),
        workspace().join("specs/targets/systemd/a_container_on_ubuntu_needed_from_another_node_generates_cleanly.spec"),
        workspace().join("specs/targets/systemd/milli_cpu_on_ubuntu_generates_cleanly.spec"),
        workspace().join("specs/targets/systemd/a_container_database_dump_on_ubuntu_generates_cleanly.spec"),
        workspace().join("specs/targets/systemd/encrypted_credentials_on_ubuntu_generate_cleanly.spec"),
        workspace().join("examples/gpu-k3s-tiers"),
        workspace().join("specs/targets/systemd/a_migration_job_before_its_service_on_ubuntu_generates_cleanly.spec"),
        workspace().join("specs/targets/systemd/configuration_files_on_ubuntu_generate_cleanly.spec"),
        workspace().join("specs/targets/systemd/pull_secret_of_a_container_on_ubuntu_generates_cleanly.spec"),
        workspace().join("specs/targets/nixos/redis_cluster_members_on_nixos_and_ubuntu.spec"),
        workspace().join("examples/ml-training"),
        workspace().join("specs/targets/kubernetes/secrets_with_several_keys_on_every_target_generate_cleanly.spec"),
        workspace().join("specs/targets/systemd/workflow_engines_and_ipfs_on_ubuntu_generate_cleanly.spec"),
        workspace().join("specs/targets/systemd/streams_applied_after_their_nats_server_on_ubuntu_generate_cleanly.spec"),
        workspace().join(
            "specs/targets/systemd/privileged_agents_directories_and_workflow_concurrency_on_ubuntu_generate_cleanly.spec",
        ),
    ]
}

#[test]
fn every_unit_passes_systemd_analyze_verify() {
    let validator = workspace().join("../shared/validate/validate-out.sh");
    let have = Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have || !validator.exists() {
        eprintln!("SKIPPED: needs systemd-analyze and {}; units were not verified", validator.display());
        return;
    }
    let mut verified = 0;
    for (index, estate) in estates().iter().enumerate() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("systemd-verify-{index}"));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, contents) in generate(estate) {
            let target = dir.join(path);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::write(target, contents).expect("write");
        }
        let output = Command::new("bash").arg(&validator).arg(&dir).output().expect("runs");
        let report = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(!report.lines().any(|l| l.starts_with("FAIL")), "{}: {report}", estate.display());
        verified += report.lines().filter(|l| l.starts_with("PASS systemd-verify")).count();
    }
    assert!(verified >= 5, "the estates hold services, steps, run units and a timer ({verified} verified)");
}

#[test]
fn every_calendar_is_accepted_by_systemd() {
    if !Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: systemd-analyze is not installed; OnCalendar= expressions were not checked");
        return;
    }
    let calendars: Vec<String> = estates()
        .iter()
        .flat_map(|e| generate(e))
        .flat_map(|(_, text)| {
            text.lines().filter_map(|l| l.strip_prefix("OnCalendar=").map(String::from)).collect::<Vec<_>>()
        })
        .collect();
    assert!(!calendars.is_empty());
    let output = Command::new("systemd-analyze").arg("calendar").args(&calendars).output().expect("runs");
    assert!(output.status.success(), "{calendars:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// The whole output of the tour, of the case with a restic backup, its restore test and health
/// checks, of the one with k3s, GPUs and unit settings, and of the GPU hosts of
/// `examples/gpu-k3s-tiers` (each environment), for review.
#[test]
fn the_outputs_match_their_snapshots() {
    // Named after the example or the case, which the tidy test checks exists.
    let estates = estates();
    let named = [
        "tour",
        "a_restic_backup_and_health_checks_on_ubuntu",
        "k3s_gpus_and_unit_settings_on_ubuntu_generate_cleanly",
        "milli_cpu_on_ubuntu_generates_cleanly",
        "a_container_database_dump_on_ubuntu_generates_cleanly",
        "gpu-k3s-tiers",
        "gpu-k3s-tiers@staging",
        "redis_cluster_members_on_nixos_and_ubuntu",
        "ml-training",
        "ml-training@shadow",
        "ml-training@cutover",
        "workflow_engines_and_ipfs_on_ubuntu_generate_cleanly",
    ];
    for name in named {
        // An example's environment: `example@env`.
        let (stem_name, env) = name.split_once('@').map_or((name, None), |(n, e)| (n, Some(e)));
        // The tour is `examples/tour/main.spec`; a case is its file's stem.
        let stem = |path: &PathBuf| {
            if path.ends_with("examples/tour/main.spec") {
                "tour".to_string()
            } else {
                path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
            }
        };
        let estate = estates.iter().find(|path| stem(path) == stem_name).expect("a snapshotted estate is in the list");
        let mut all = String::new();
        for (path, contents) in spec_testkit::generate_in(&Systemd, estate, env) {
            all.push_str(&format!("----- {path} -----\n{contents}"));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(workspace().join("snapshots/targets/systemd"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, all));
    }
}

/// Hostile strings: fixed ones, and deterministic pseudo-random ones over an alphabet of what
/// unit files treat specially (specifiers, variables, quotes, escapes, separators, line breaks,
/// control characters) and multi-byte unicode.
fn hostile() -> Vec<String> {
    let mut strings: Vec<String> = [
        "plain",
        "",
        " ",
        "two words",
        "100%",
        "%n %% %%%",
        "$HOME",
        "$$",
        "${VAR}",
        "'single'",
        "\"double\"",
        "back\\slash",
        "ends with backslash \\",
        "\\",
        ";",
        "\\;",
        "semi;colon",
        "new\nline",
        "\nUser=root",
        "tab\tand\rreturn",
        "\u{1}\u{7f}",
        "unicode ünïcødé ✓ 🚀",
        "\u{85}next line\u{2028}",
        " leading and trailing ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let alphabet: Vec<char> = "%$\"'\\;{} \n\t\r\u{1}\u{7f}aZ0=-/üñ✓🚀\u{85}".chars().collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        let mut text = String::new();
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        for _ in 0..(state >> 59) + 1 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            text.push(alphabet[(state >> 33) as usize % alphabet.len()]);
        }
        strings.push(text);
    }
    strings
}

/// Decodes one word of systemd's dump of a command line (`Command Line: …`, printed by
/// `quote_command_line`): a bare word, or a double-quoted one with `\` escapes (`\\ \" \$ \n \t
/// \r \a \b \f \v` and octal bytes `\ooo`).
fn dump_words(line: &str) -> Vec<String> {
    let bytes = line.as_bytes();
    let (mut words, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let mut word: Vec<u8> = Vec::new();
        if bytes[i] == b'"' {
            i += 1;
            while bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                    let simple = match bytes[i] {
                        b'n' => Some(b'\n'),
                        b't' => Some(b'\t'),
                        b'r' => Some(b'\r'),
                        b'a' => Some(7),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'v' => Some(11),
                        b'0'..=b'7' => None,
                        other => Some(other),
                    };
                    match simple {
                        Some(byte) => word.push(byte),
                        None => {
                            let octal = std::str::from_utf8(&bytes[i..i + 3]).expect("ASCII");
                            word.push(u8::from_str_radix(octal, 8).expect("octal"));
                            i += 2;
                        }
                    }
                } else {
                    word.push(bytes[i]);
                }
                i += 1;
            }
            i += 1;
        } else {
            while i < bytes.len() && bytes[i] != b' ' {
                word.push(bytes[i]);
                i += 1;
            }
        }
        words.push(String::from_utf8(word).expect("UTF-8"));
    }
    words
}

/// systemd's own parser reads back what the escapers write: units holding hostile strings are
/// loaded by `systemd-analyze verify`, whose debug dump of each loaded unit prints the parsed
/// `ExecStart=` argv and `Description=`. Two steps of systemd happen after loading and are applied
/// here as systemd documents them: `$$` becomes `$` when the command runs (systemd.service(5),
/// "Command lines"), and a value's surrounding whitespace is not kept (systemd.syntax(7)), so
/// single-line values are compared trimmed. `systemctl show` needs a running manager and cannot
/// be used here; `RequiresMountsFor=` paths are checked the same way through the dump.
#[test]
fn hostile_strings_read_back_through_systemd() {
    if !Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: systemd-analyze is not installed; systemd escaping was not read back");
        return;
    }
    let strings = hostile();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("systemd-escape");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let args: Vec<String> = strings.iter().map(|s| exec_arg(s)).collect();
    let mut units = vec![dir.join("args.service")];
    std::fs::write(&units[0], format!("[Service]\nType=oneshot\nExecStart=/usr/bin/printf {}\n", args.join(" ")))
        .expect("write");
    // Mount paths: absolute, already normal (systemd simplifies `//`, `.` and `..`), printable.
    let paths: std::collections::BTreeSet<String> = strings
        .iter()
        .filter(|s| !s.is_empty() && !s.contains(['/', '.']) && !s.chars().any(char::is_control))
        .map(|s| format!("/srv/{s}"))
        .filter(|p| !p.ends_with(' ') && !p.contains("/ "))
        .collect();
    let words: Vec<String> = paths.iter().map(|p| list_word(p)).collect();
    units.push(dir.join("mounts.service"));
    std::fs::write(
        &units[1],
        format!("[Unit]\nRequiresMountsFor={}\n[Service]\nType=oneshot\nExecStart=/bin/true\n", words.join(" ")),
    )
    .expect("write");
    let mut described = Vec::new();
    for (n, text) in strings.iter().enumerate() {
        let Some(description) = value(text) else {
            assert!(text.contains(['\n', '\r', '\0']) || text.trim_end().ends_with('\\'), "refused {text:?}");
            continue;
        };
        let unit = dir.join(format!("value-{n}.service"));
        std::fs::write(
            &unit,
            format!("[Unit]\nDescription={description}\n[Service]\nType=oneshot\nExecStart=/bin/true\n"),
        )
        .expect("write");
        units.push(unit);
        described.push((n, text));
    }
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--generators=no", "--recursive-errors=no"])
        .args(&units)
        .env("SYSTEMD_LOG_LEVEL", "debug")
        .output()
        .expect("runs");
    let dump = String::from_utf8_lossy(&output.stdout);
    let command = dump.lines().find_map(|l| l.trim_start().strip_prefix("Command Line: ")).expect("the argv dump");
    let argv: Vec<String> = dump_words(command).into_iter().skip(1).map(|w| w.replace("$$", "$")).collect();
    assert_eq!(argv, strings);
    let mounts: std::collections::BTreeSet<String> = dump
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("RequiresMountsFor: "))
        .filter_map(|l| l.strip_suffix(" (origin-file)"))
        .map(String::from)
        .collect();
    assert!(paths.len() > 20, "enough paths: {}", paths.len());
    assert_eq!(mounts, paths);
    // Each unit's dump starts `-> Unit NAME:`; its description follows.
    let mut read: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut current = String::new();
    for line in dump.lines().map(str::trim_start) {
        if let Some(unit) = line.strip_prefix("-> Unit ") {
            current = unit.trim_end_matches(':').to_string();
        } else if let Some(description) = line.strip_prefix("Description: ") {
            read.entry(current.clone()).or_insert_with(|| description.to_string());
        }
    }
    for (n, text) in described {
        let unit = format!("value-{n}.service");
        let written = text.trim_matches([' ', '\t']);
        // An empty description is dumped as the unit's name.
        let expected = if written.is_empty() { unit.as_str() } else { written };
        assert_eq!(read.get(&unit).map(String::as_str), Some(expected), "{text:?}");
    }
}
