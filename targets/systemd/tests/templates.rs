//! Strings holding where a service is, read back from the units of a host that is not NixOS: the
//! container's argument, its environment and its file hold the service's address as this host
//! reaches it over the network they share (`validate.rs` runs `systemd-analyze verify` on units
//! like these).

use std::path::{Path, PathBuf};

use spec_target_systemd::Systemd;

const CASE: &str = "specs/targets/nixos/strings_with_references_are_filled.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_string_is_filled_with_the_address_this_host_reaches() {
    let files = spec_testkit::generate(&Systemd, &workspace().join(CASE));
    let file = |path: &str| {
        files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, contents)| contents.clone())
            .unwrap_or_else(|| panic!("no {path} among {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>()))
    };
    let unit = file("systemd/edge/shipper.service");
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
    let words: Vec<&str> = exec.split(' ').collect();
    let push = "http://10.0.0.1:3100/loki/api/v1/push";
    assert_eq!(words.last(), Some(&format!("-client.url={push}").as_str()), "{exec}");
    let env = words.iter().position(|w| *w == "--env").map(|at| words[at + 1]);
    assert_eq!(env, Some(format!("LOKI_PUSH={push}").as_str()), "{exec}");
    assert_eq!(file("systemd/edge/files/shipper/target"), "http://10.0.0.1:3100\n");
}
