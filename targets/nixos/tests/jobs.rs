//! Jobs on a NixOS node, read back from the evaluated module (`nix-instantiate --eval`): each job
//! is a oneshot unit that stays active once it has exited (`Type=oneshot`, `RemainAfterExit`),
//! wanted at boot, running its image with its arguments; it starts after, and requires, the units
//! of what it needs on the node; and the unit of every service needing a job (a container's
//! `podman-<name>`, a preset's own unit) starts after, and requires, the job's unit, so systemd
//! starts the service only once the job has succeeded. A stream is such a job too, after its
//! server's unit. Without nix-instantiate the tests print SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_target_nixos::Nixos;

const CASE: &str = "specs/targets/nixos/a_migration_job_before_its_service_on_nixos_generates_cleanly.spec";
const STREAMS: &str = "specs/targets/nixos/streams_applied_after_their_nats_server_on_nixos_generate_cleanly.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The names in a list of unit names.
fn names(list: &serde_json::Value) -> Vec<&str> {
    list.as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect()
}

#[test]
fn what_needs_a_job_starts_after_its_oneshot_unit_succeeded() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); jobs were not read back");
        return;
    }
    let estate = workspace().join(CASE);
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    let model = &compilation.model;
    let files = spec_testkit::generate(&Nixos, &estate);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-jobs");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let module = dir.join("nixos/prod1/default.nix");
    // The unit each service of the case runs as: its container's, or its preset's own.
    let unit_of = |service: &str| {
        let spec = &model.services.iter().find(|s| s.name == service).expect("service").spec;
        match &spec.nixos_unit {
            Some(unit) if spec.image.is_none() => unit.value.clone(),
            _ => format!("podman-{service}.service"),
        }
    };
    let units = spec_testkit::nix_module_eval(
        &module,
        "{ podman = \"/nix/store/podman\"; }",
        "builtins.mapAttrs (name: u: { after = u.after or []; requires = u.requires or []; \
           wantedBy = u.wantedBy or []; type = u.serviceConfig.Type or null; \
           remain = u.serviceConfig.RemainAfterExit or null; exec = u.serviceConfig.ExecStart or null; }) \
           m.systemd.services",
    );
    assert!(!model.jobs.is_empty());
    for job in &model.jobs {
        let unit = &units[format!("job-{}", job.name)];
        assert_eq!(unit["type"], "oneshot", "job {}: {unit}", job.name);
        assert_eq!(unit["remain"], true, "job {}: active once it succeeded, so what requires it starts once", job.name);
        assert!(names(&unit["wantedBy"]).contains(&"multi-user.target"), "job {}: {unit}", job.name);
        let exec = unit["exec"].as_str().expect("ExecStart");
        let mut command = vec![job.spec.image.value.clone()];
        command.extend(job.spec.args.iter().map(|a| a.value.written()));
        assert!(exec.ends_with(&command.join(" ")), "job {}: {exec}", job.name);
        // Who it runs as: podman's `--user uid:gid`.
        let user = job.spec.security.as_ref().and_then(|s| s.value.podman_user());
        assert_eq!(exec.contains(" --user="), user.is_some(), "job {}: {exec}", job.name);
        if let Some(user) = user {
            assert!(exec.contains(&format!(" --user={user} ")), "job {}: {exec}", job.name);
        }
        for need in &job.spec.needs {
            let needed = match need.kind.as_str() {
                "job" => format!("job-{}.service", need.name),
                _ => unit_of(&need.name),
            };
            assert!(names(&unit["after"]).contains(&needed.as_str()), "job {} after {needed}: {unit}", job.name);
            assert!(names(&unit["requires"]).contains(&needed.as_str()), "job {} requires {needed}", job.name);
        }
    }
    let mut ordered = 0;
    for service in &model.services {
        for need in service.spec.needs.iter().filter(|n| n.kind == "job") {
            let unit = &units[unit_of(&service.name).trim_end_matches(".service")];
            let job = format!("job-{}.service", need.name);
            assert!(names(&unit["after"]).contains(&job.as_str()), "{} after {job}: {unit}", service.name);
            assert!(names(&unit["requires"]).contains(&job.as_str()), "{} requires {job}: {unit}", service.name);
            ordered += 1;
        }
    }
    // The API's container after the seed job, and Redis's own unit after the schema job.
    assert_eq!(ordered, 2);
    // The API's container runs as its user, in the oci-containers module's own `user` option.
    let user = spec_testkit::nix_module_eval(
        &dir.join("nixos/prod1/default.nix"),
        "{ podman = \"/nix/store/podman\"; }",
        "m.virtualisation.oci-containers.containers.api.user",
    );
    assert_eq!(user, "1000");
}

#[test]
fn each_stream_is_a_oneshot_unit_after_its_nats_server() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); streams were not read back");
        return;
    }
    let estate = workspace().join(STREAMS);
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    let files = spec_testkit::generate(&Nixos, &estate);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nixos-streams");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    let units = spec_testkit::nix_module_eval(
        &dir.join("nixos/bus1/default.nix"),
        "{ podman = \"/nix/store/podman\"; }",
        "builtins.mapAttrs (name: u: { after = u.after or []; requires = u.requires or []; \
           type = u.serviceConfig.Type or null; exec = u.serviceConfig.ExecStart or null; }) \
           m.systemd.services",
    );
    assert_eq!(compilation.model.streams.len(), 2);
    for stream in &compilation.model.streams {
        let unit = &units[format!("job-stream-{}", stream.name)];
        assert_eq!(unit["type"], "oneshot", "stream {}: {unit}", stream.name);
        // The server is NATS's NixOS module, whose unit is `nats.service`.
        assert!(names(&unit["after"]).contains(&"nats.service"), "stream {}: {unit}", stream.name);
        assert!(names(&unit["requires"]).contains(&"nats.service"), "stream {}: {unit}", stream.name);
        let exec = unit["exec"].as_str().expect("ExecStart");
        assert!(exec.contains("--env STREAM_SERVER=nats://"), "stream {}: {exec}", stream.name);
        assert!(exec.contains("natsio/nats-box:0.14.5 sh -c"), "stream {}: {exec}", stream.name);
        // nats-box runs as root by default; std.nats.stream runs it as a user of its own.
        assert!(exec.contains(" --user=1000:1000 "), "stream {}: {exec}", stream.name);
    }
    // systemd reads `$$` as `$`: the dead-letter stream's subjects reach the container as written.
    let exec = units["job-stream-dead-letters"]["exec"].as_str().expect("ExecStart");
    assert!(exec.contains(r#"[\"$$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>\"]"#), "{exec}");
}
