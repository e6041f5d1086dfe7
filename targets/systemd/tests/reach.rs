//! Reachability read back from the generated units: a container on a non-NixOS node that a
//! service on another node needs publishes its ports on loopback and on the node's mesh address,
//! and only a port exposed to the public on every address. Before reachability was derived, the
//! needed ports were published on loopback only.

use std::path::{Path, PathBuf};

use spec_target_systemd::Systemd;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn a_needed_container_is_published_where_its_peers_reach_it() {
    let case =
        workspace().join("specs/targets/systemd/a_container_on_ubuntu_needed_from_another_node_generates_cleanly.spec");
    let files = spec_testkit::generate(&Systemd, &case);
    let (_, unit) = files.iter().find(|(p, _)| p == "systemd/gpu1/inference.service").expect("the unit");
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).expect("ExecStart=");
    let published: Vec<&str> = exec.split(" --publish ").skip(1).map(|p| p.split(' ').next().unwrap_or("")).collect();
    assert_eq!(
        published,
        [
            "127.0.0.1:8000:8000/tcp",
            "10.0.0.5:8000:8000/tcp",
            "127.0.0.1:8001:8001/tcp",
            "10.0.0.5:8001:8001/tcp",
            "8443:8443/tcp"
        ],
        "{exec}"
    );
}
