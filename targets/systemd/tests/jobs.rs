//! Jobs on a host that is not NixOS, read back from the generated unit files: each job is a
//! oneshot unit that stays active once it has exited (`RemainAfterExit=yes`), wanted at boot and
//! running its image with its arguments, after and requiring what it needs on the host; and every
//! unit of a service needing a job starts after, and requires, the job's unit, so systemd starts
//! the service only once the job has succeeded. A stream is such a job too, after its server's
//! unit. (`validate.rs` runs `systemd-analyze verify` on
//! the same units.)

use std::path::{Path, PathBuf};

use spec_target_systemd::Systemd;

const CASE: &str = "specs/targets/systemd/a_migration_job_before_its_service_on_ubuntu_generates_cleanly.spec";
const STREAMS: &str = "specs/targets/systemd/streams_applied_after_their_nats_server_on_ubuntu_generate_cleanly.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The values of `key=` in a unit file, in order.
fn values<'u>(unit: &'u str, key: &str) -> Vec<&'u str> {
    unit.lines().filter_map(|line| line.strip_prefix(key).and_then(|rest| rest.strip_prefix('='))).collect()
}

#[test]
fn what_needs_a_job_starts_after_its_oneshot_unit_succeeded() {
    let estate = workspace().join(CASE);
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    let model = &compilation.model;
    let files = spec_testkit::generate(&Systemd, &estate);
    let unit = |node: &str, name: &str| {
        files
            .iter()
            .find(|(path, _)| *path == format!("systemd/{node}/{name}.service"))
            .map(|(_, contents)| contents.clone())
            .unwrap_or_else(|| panic!("no unit {name} on {node}"))
    };
    assert!(!model.jobs.is_empty());
    for job in &model.jobs {
        let text = unit(&job.spec.on.name, &format!("job-{}", job.name));
        assert_eq!(values(&text, "Type"), ["oneshot"], "{text}");
        assert_eq!(values(&text, "RemainAfterExit"), ["yes"], "{text}");
        assert_eq!(values(&text, "WantedBy"), ["multi-user.target"], "{text}");
        let exec = values(&text, "ExecStart").concat();
        let mut command = vec![job.spec.image.value.clone()];
        command.extend(job.spec.args.iter().map(|a| a.value.written()));
        assert!(exec.ends_with(&command.join(" ")), "{exec}");
        for need in &job.spec.needs {
            let needed = match need.kind.as_str() {
                "job" => format!("job-{}.service", need.name),
                _ => format!("{}.service", need.name),
            };
            assert!(values(&text, "After").contains(&needed.as_str()), "{text}");
            assert!(values(&text, "Requires").contains(&needed.as_str()), "{text}");
        }
    }
    let mut ordered = 0;
    for service in &model.services {
        for need in service.spec.needs.iter().filter(|n| n.kind == "job") {
            let text = unit(&service.spec.on.name, &service.name);
            let job = format!("job-{}.service", need.name);
            assert!(values(&text, "After").contains(&job.as_str()), "{text}");
            assert!(values(&text, "Requires").contains(&job.as_str()), "{text}");
            ordered += 1;
        }
    }
    assert_eq!(ordered, 1, "the API needs the migration");
}

#[test]
fn each_stream_is_a_oneshot_unit_after_its_nats_server() {
    let estate = workspace().join(STREAMS);
    let (_, compilation) = spec_testkit::compile_path(&estate, None);
    let files = spec_testkit::generate(&Systemd, &estate);
    assert_eq!(compilation.model.streams.len(), 2);
    for stream in &compilation.model.streams {
        let path = format!("systemd/bus1/job-stream-{}.service", stream.name);
        let text = &files.iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("no {path}")).1;
        assert_eq!(values(text, "Type"), ["oneshot"], "{text}");
        // The server is a container on the host, `nats.service`.
        assert!(values(text, "After").contains(&"nats.service"), "{text}");
        assert!(values(text, "Requires").contains(&"nats.service"), "{text}");
        let exec = values(text, "ExecStart").concat();
        // It reaches the server where the server publishes its port to the host's containers.
        assert!(exec.contains("--env STREAM_SERVER=nats://10.88.0.1:4222 natsio/nats-box:0.14.5 sh -c"), "{exec}");
        // nats-box runs as root by default; std.nats.stream runs it as a user of its own.
        assert!(exec.contains(" run --rm --name job-stream-") && exec.contains(" --user=1000:1000 "), "{exec}");
    }
}
