//! GPUs of containers on hosts that are not NixOS, read back from ml-training's units: podman
//! runs no NVIDIA runtime there, so every GPU reaches a container as a CDI device. A trainer gets
//! its own GPU by index; the DCGM exporter beside it (`std.dcgm`, `security.all_gpus`) gets CDI's
//! `all` device, claiming none, and `SYS_ADMIN` for DCGM's profiling metrics. Before, the
//! exporter relied on `NVIDIA_VISIBLE_DEVICES=all`, which only NVIDIA's OCI hook acts on, and saw
//! no GPU.

use std::path::{Path, PathBuf};

use spec_target_systemd::Systemd;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The words of the `podman run` of `unit`.
fn podman_run(unit: &str) -> Vec<String> {
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).expect("ExecStart=");
    exec.split(' ').map(String::from).collect()
}

#[test]
fn the_gpu_exporter_sees_every_gpu_through_cdi_and_the_trainer_its_own() {
    let files = spec_testkit::generate(&Systemd, &workspace().join("examples/ml-training"));
    let unit = |path: &str| files.iter().find(|(p, _)| p == path).map(|(_, u)| u.clone()).expect(path);
    for index in 1..=3 {
        let exporter = podman_run(&unit(&format!("systemd/trainer-{index}/gpu-metrics-{index}.service")));
        let devices: Vec<&String> = exporter.iter().filter(|w| w.starts_with("--device")).collect();
        assert_eq!(devices, ["--device=nvidia.com/gpu=all"], "{exporter:?}");
        assert!(exporter.iter().any(|w| w == "--cap-add=SYS_ADMIN"), "{exporter:?}");
        let trainer = podman_run(&unit(&format!("systemd/trainer-{index}/trainer-{index}.service")));
        let devices: Vec<&String> = trainer.iter().filter(|w| w.starts_with("--device")).collect();
        assert_eq!(devices, ["--device=nvidia.com/gpu=0"], "the exporter claims no index: {trainer:?}");
    }
}
