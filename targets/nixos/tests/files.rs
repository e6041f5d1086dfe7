//! Configuration files on NixOS read back with the real tool: the module, evaluated by
//! `nix-instantiate --eval`, writes each file of a container to `/etc/spec/<service>/` with the
//! spec's text (`${…}`, quotes and line breaks surviving Nix's string syntax; JSON data parsed back
//! equal to what the spec says), bind-mounts it read-only at its path, and restarts the container
//! when a text changes; a service its NixOS options run gets its file at its own path under
//! `/etc`. A missing tool makes the test print SKIPPED, never pass in silence.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use spec_compiler::model::FileContent;
use spec_compiler::model::files::data_json;
use spec_target_nixos::Nixos;

const CASE: &str = "specs/targets/nixos/configuration_files_on_nixos_generate_cleanly.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn each_file_is_written_with_its_text_and_mounted_at_its_path() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); files were not read back");
        return;
    }
    let case = workspace().join(CASE);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-files");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in spec_testkit::generate(&Nixos, &case) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let module = dir.join("nixos/app1/default.nix");
    let read = spec_testkit::nix_module_eval(
        &module,
        "{}",
        "{ etc = m.environment.etc; volumes = m.virtualisation.oci-containers.containers.api.volumes; \
         triggers = m.systemd.services.podman-api.restartTriggers; }",
    );
    let (_, compilation) = spec_testkit::compile_path(&case, None);
    let service = |name: &str| compilation.model.services.iter().find(|s| s.name == name).expect("service");
    let volumes: Vec<&str> = read["volumes"].as_array().expect("volumes").iter().filter_map(Value::as_str).collect();
    let triggers = read["triggers"].as_array().expect("restart triggers");
    for (path, content) in &service("api").spec.files {
        let mount = volumes
            .iter()
            .find(|v| v.ends_with(&format!(":{path}:ro")))
            .unwrap_or_else(|| panic!("{path} is not mounted: {volumes:?}"));
        let source = mount.split(':').next().expect("a source");
        let name = source.strip_prefix("/etc/").expect("the file is written under /etc");
        assert!(source.starts_with("/etc/spec/api/"), "{source}");
        let text = read["etc"][name]["text"].as_str().unwrap_or_else(|| panic!("no file at {source}"));
        assert_eq!(
            Some(text.to_string()),
            content.value.text(spec_yaml::to_string, &mut |e| Err(e.0.name.clone())),
            "{path}"
        );
        if let FileContent::Json(data) = &content.value {
            let parsed: Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(Some(parsed), data_json(data).ok(), "{path}");
        }
        assert!(text.contains("\"${x}\"") || !path.ends_with("config.yaml"), "`${{x}}` is written as is: {text}");
        assert!(triggers.iter().any(|t| t.as_str() == Some(text)), "{path} does not restart the container");
    }
    let (path, content) = service("db").spec.files.first().expect("the database's file");
    let name = path.strip_prefix("/etc/").expect("under /etc");
    assert_eq!(
        read["etc"][name]["text"].as_str().map(str::to_string),
        content.value.text(spec_yaml::to_string, &mut |e| Err(e.0.name.clone()))
    );
}
