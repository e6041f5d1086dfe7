//! Strings holding where a service is, read back from the NixOS module by the real tool: the
//! module, evaluated by `nix-instantiate --eval`, holds each string with its holes filled as the
//! reader finds the service (a container on the node at podman's gateway, the node's own options
//! on loopback), in a container's arguments, environment and files and in the node's options,
//! and the firewall opens the port the strings read. A missing tool makes the test print SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use spec_target_nixos::Nixos;

const CASE: &str = "specs/targets/nixos/strings_with_references_are_filled.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_string_is_filled_as_its_reader_finds_the_service() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); strings were not read back");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-templates");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in spec_testkit::generate(&Nixos, &workspace().join(CASE)) {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let read = spec_testkit::nix_module_eval(
        &dir.join("nixos/prod1/default.nix"),
        "{}",
        "{ api = m.virtualisation.oci-containers.containers.api; etc = m.environment.etc; \
         alloy = m.services.alloy.extraFlags; lan = m.networking.firewall.extraCommands; }",
    );
    // From a container on the node, the service is at the host's address on podman's bridge.
    let push = "http://10.88.0.1:3100/loki/api/v1/push";
    assert_eq!(read["api"]["cmd"], json!(["--logs", push, "--logs-port=3100"]));
    assert_eq!(read["api"]["environment"]["LOKI_PUSH"], json!(push));
    assert_eq!(read["api"]["environment"]["LOKI_HOST"], json!("host 10.88.0.1"));
    assert_eq!(read["etc"]["spec/api/motd"]["text"], json!("logs at 10.88.0.1:3100\n"));
    assert_eq!(read["etc"]["spec/api/logging.yaml"]["text"], json!(format!("clients:\n- url: \"{push}\"\n")));
    // The node's own options read it on loopback.
    assert_eq!(read["alloy"], json!(["--loki=http://127.0.0.1:3100/loki/api/v1/push"]));
    // The Ubuntu host's reads are a way in: the port is open to its address.
    let lan = read["lan"].as_str().expect("the firewall's commands");
    assert!(lan.contains("-s 10.0.0.2/32 --dport 3100"), "{lan}");
}
