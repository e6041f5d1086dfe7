//! The placements of `fields_reach.rs`: the estate every case starts from ([`CONTEXT`]) and,
//! for every kind, each place its block can be (a service as a container on NixOS, on a systemd
//! host and on a cluster, run by a preset, backed up through its dump; a bucket through the
//! backups copying to it; an objective on the hosts' Prometheus; a job with a service needing it
//! on a NixOS node, a systemd host and a cluster), with what that place adds to
//! the context. Every kind needs at least one; the test fails for a kind with none.

use spec_compiler::model::Kind;

/// The estate every case starts from: secrets, NixOS and Ubuntu nodes with pools and GPUs (of
/// model `M-A`, which the cases ask for), a cluster, a network, storage, a service to need and
/// receivers.
pub const CONTEXT: &str = r#"import std.postgres
import std.alertmanager
secret s1 { nixos = agenix { file = "secrets/s1.age" }, k8s = existing { name = "s1", key = "value" }, systemd = credential { path = "/etc/credstore/s1" } }
secret s2 { nixos = agenix { file = "secrets/s2.age" }, k8s = existing { name = "s2", key = "value" }, systemd = credential { path = "/etc/credstore/s2" } }
secret reg1 { nixos = agenix { file = "secrets/reg1.age" }, k8s = existing { name = "reg1", key = ".dockerconfigjson" }, systemd = credential { path = "/etc/credstore/reg1" } }
secret reg2 { nixos = agenix { file = "secrets/reg2.age" }, k8s = existing { name = "reg2", key = ".dockerconfigjson" }, systemd = credential { path = "/etc/credstore/reg2" } }
node n1 { os = nixos, address = 10.0.0.1, gpu = 4, gpu_model = "M-A", gpu_memory = 16GiB, zpool tank { layout = mirror, disks = ["/dev/disk/by-id/a", "/dev/disk/by-id/b"] }, zpool spare { layout = stripe, disks = ["/dev/disk/by-id/c"] } }
node n2 { os = ubuntu, address = 10.0.0.2, gpu = 4, gpu_model = "M-A", gpu_memory = 16GiB, zpool tank { layout = mirror, disks = ["/dev/disk/by-id/a", "/dev/disk/by-id/b"] }, zpool spare { layout = stripe, disks = ["/dev/disk/by-id/c"] } }
node n3 { os = nixos, address = 10.0.0.3, zpool tank { layout = mirror, disks = ["/dev/disk/by-id/a", "/dev/disk/by-id/b"] } }
node n4 { os = nixos, address = 10.0.0.6, zpool tank { layout = mirror, disks = ["/dev/disk/by-id/a", "/dev/disk/by-id/b"] } }
node k1 { os = nixos, address = 10.0.0.4, gpu = 4, gpu_model = "M-A", gpu_memory = 16GiB }
cluster c1 { distribution = k3s, servers = [node.k1] }
network lan { members = [node.n1, node.n2, node.n3, node.n4, node.k1] }
storage data1 { on = node.n1, zfs { pool = "tank", dataset = "data1" } }
storage data2 { on = node.n2, zfs { pool = "tank", dataset = "data2" } }
storage data3 { on = node.n1, zfs { pool = "tank", dataset = "data3" } }
storage vol1 { on = cluster.c1, volume { size = 1GiB } }
storage vol2 { on = cluster.c1, volume { size = 1GiB } }
service peer { on = node.n1, image = "example/peer:1", ports { http = 8080/tcp } }
service peer2 { on = node.n1, image = "example/peer:2", ports { http = 8081/tcp } }
receiver r1 { webhook { url = secret.s1 } }
receiver r2 { webhook { url = secret.s2 } }
bucket b1 { endpoint = "https://s3.example.com", credentials = secret.s2 }
bucket b2 { endpoint = "https://s3.example.org", credentials = secret.s2 }
"#;

/// Where a kind's block can be: lines added to [`CONTEXT`], the block's own entries (key and
/// text), and the two port names its `name` fields choose from.
pub struct Placement {
    /// The tested block's kind.
    pub kind: Kind,
    /// The placement's name, as [`crate::NO_TARGET`] names it.
    pub name: &'static str,
    /// Lines added to [`CONTEXT`].
    pub extra: &'static str,
    /// The block's own entries: key and text.
    pub entries: &'static [(&'static str, &'static str)],
    /// The two port names its `name` fields choose from.
    pub ports: (&'static str, &'static str),
}

const CONTAINER_PORTS: (&str, &str) = ("http", "admin");
const POSTGRES_PORTS: (&str, &str) = ("postgres", "metrics");
const PORTS: (&str, &str) = ("ports", "ports { http = 8180/tcp, admin = 9190/tcp }");
const OFFSITE: (&str, &str) = (
    "offsite",
    "offsite = restic { repository = \"s3:https://s3.example.com/t\", password = secret.s1, credentials = secret.s2, every = 1d }",
);
/// A container on the tested node.
const ON_T: &str = "service on-t { on = node.t, image = \"example/app:1\", ports { http = 8080/tcp } }\n";
/// A service on the tested cluster, with requests for its quotas.
macro_rules! on_cluster_t {
    () => {
        "service on-t { on = cluster.t, image = \"example/app:1\", ports { http = 8080/tcp }, resources { cpu = 100m, memory = 64MiB } }\n"
    };
}
/// Two nodes with WireGuard identities for the tested network.
const WG_NODES: &str = "node w1 { os = nixos, address = 10.9.0.1, wireguard { public_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", private_key = secret.s1 } }
node w2 { os = ubuntu, address = 10.9.0.2, wireguard { public_key = \"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\", private_key = secret.s2 } }
";
/// A service on another node reading where the tested one is (so `scheme`, ports and the
/// NixOS options' way in have a reader).
const READS_FROM_N3: &str =
    "service reads-t { on = node.n3, image = \"example/reader:1\", env { T = service.t.url } }\n";
/// A backup of the tested service's data, through its `dump`, and a reader (as [`READS_FROM_N3`]).
const DUMPED: &str = "service reads-t { on = node.n3, image = \"example/reader:1\", env { T = service.t.url } }
backup of-t { source = service.t, offsite = restic { repository = \"s3:https://s3.example.com/d\", password = secret.s1, credentials = secret.s2, every = 1d } }\n";
/// How the tested service dumps its data.
const DUMP: (&str, &str) = ("dump", "dump { command = [\"app-dump\"] }");
/// A service in the same cluster reading where the tested one is.
const READS_FROM_C1: &str =
    "service reads-t { on = cluster.c1, image = \"example/reader:1\", env { T = service.t.url } }\n";

/// Every placement of every kind.
pub fn placements() -> Vec<Placement> {
    use Kind::*;
    let p = |kind, name, extra, entries, ports| Placement { kind, name, extra, entries, ports };
    vec![
        p(Node, "nixos", ON_T, &[("os", "os = nixos"), ("address", "address = 10.0.0.9")], CONTAINER_PORTS),
        p(Node, "systemd", ON_T, &[("os", "os = ubuntu"), ("address", "address = 10.0.0.9")], CONTAINER_PORTS),
        p(
            Network,
            "wireguard",
            WG_NODES,
            &[
                ("members", "members = [node.w1, node.w2]"),
                ("wireguard", "wireguard { cidr = 10.9.0.0/24, port = 51820 }"),
            ],
            CONTAINER_PORTS,
        ),
        p(
            Cluster,
            "nixos",
            concat!(
                "node t1 { os = nixos, address = 10.0.0.11 }\nnode t2 { os = nixos, address = 10.0.0.12 }\n",
                on_cluster_t!()
            ),
            &[
                ("distribution", "distribution = k3s"),
                ("servers", "servers = [node.t1]"),
                ("token", "token = secret.s1"),
            ],
            CONTAINER_PORTS,
        ),
        p(
            Cluster,
            "systemd",
            concat!(
                "node t1 { os = ubuntu, address = 10.0.0.11 }\nnode t2 { os = ubuntu, address = 10.0.0.12 }\n",
                on_cluster_t!()
            ),
            &[
                ("distribution", "distribution = k3s"),
                ("servers", "servers = [node.t1]"),
                ("token", "token = secret.s1"),
            ],
            CONTAINER_PORTS,
        ),
        p(
            Storage,
            "nixos",
            "",
            &[("on", "on = node.n1"), ("zfs", "zfs { pool = \"tank\", dataset = \"t\" }")],
            CONTAINER_PORTS,
        ),
        p(
            Storage,
            "systemd",
            "",
            &[("on", "on = node.n2"), ("zfs", "zfs { pool = \"tank\", dataset = \"t\" }")],
            CONTAINER_PORTS,
        ),
        p(Storage, "cluster", "", &[("on", "on = cluster.c1"), ("volume", "volume { size = 1GiB }")], CONTAINER_PORTS),
        p(
            Storage,
            "nixos-directory",
            "service uses-t { on = node.n1, image = \"example/app:1\", volumes { \"/data\" = storage.t } }\n",
            &[("on", "on = node.n1"), ("directory", "directory = \"/srv/t\"")],
            CONTAINER_PORTS,
        ),
        p(
            Storage,
            "systemd-directory",
            "service uses-t { on = node.n2, image = \"example/app:1\", volumes { \"/data\" = storage.t } }\n",
            &[("on", "on = node.n2"), ("directory", "directory = \"/srv/t\"")],
            CONTAINER_PORTS,
        ),
        p(
            Service,
            "nixos",
            READS_FROM_N3,
            &[("on", "on = node.n1"), ("image", "image = \"example/app:1\""), PORTS],
            CONTAINER_PORTS,
        ),
        p(
            Service,
            "systemd",
            READS_FROM_N3,
            &[("on", "on = node.n2"), ("image", "image = \"example/app:1\""), PORTS],
            CONTAINER_PORTS,
        ),
        p(
            Service,
            "cluster",
            READS_FROM_C1,
            &[("on", "on = cluster.c1"), ("image", "image = \"example/app:1\""), PORTS],
            CONTAINER_PORTS,
        ),
        p(
            Service,
            "nixos-dumped",
            DUMPED,
            &[("on", "on = node.n1"), ("image", "image = \"example/app:1\""), PORTS, DUMP],
            CONTAINER_PORTS,
        ),
        p(
            Service,
            "systemd-dumped",
            DUMPED,
            &[("on", "on = node.n2"), ("image", "image = \"example/app:1\""), PORTS, DUMP],
            CONTAINER_PORTS,
        ),
        p(
            Service,
            "nixos-preset",
            READS_FROM_N3,
            &[("use", "use std.postgres"), ("on", "on = node.n1")],
            POSTGRES_PORTS,
        ),
        p(
            Service,
            "cluster-chart",
            READS_FROM_C1,
            &[("use", "use std.postgres"), ("on", "on = cluster.c1")],
            POSTGRES_PORTS,
        ),
        p(Alert, "estate", "", &[("severity", "severity = warning"), ("expr", "expr = \"up == 0\"")], CONTAINER_PORTS),
        p(
            Backup,
            "nixos",
            "",
            &[("source", "source = storage.data1"), ("snapshots", "snapshots { every = 1h }"), OFFSITE],
            CONTAINER_PORTS,
        ),
        p(Backup, "systemd", "", &[("source", "source = storage.data2"), OFFSITE], CONTAINER_PORTS),
        p(
            Backup,
            "cluster",
            "service uses-t { on = cluster.c1, image = \"example/app:1\", volumes { \"/data\" = storage.vol1, \"/more\" = storage.vol2 } }\n",
            &[("source", "source = storage.vol1"), OFFSITE],
            CONTAINER_PORTS,
        ),
        p(
            Workflow,
            "nixos",
            "",
            &[("on", "on = node.n1"), ("step", "step first { image = \"example/job:1\" }")],
            CONTAINER_PORTS,
        ),
        p(
            Workflow,
            "systemd",
            "",
            &[("on", "on = node.n2"), ("step", "step first { image = \"example/job:1\" }")],
            CONTAINER_PORTS,
        ),
        p(
            Workflow,
            "cluster",
            "",
            &[("on", "on = cluster.c1"), ("step", "step first { image = \"example/job:1\" }")],
            CONTAINER_PORTS,
        ),
        p(
            Secret,
            "nixos",
            "service uses-t { on = node.n1, image = \"example/app:1\", env { TOKEN = secret.t } }\n",
            SECRET,
            CONTAINER_PORTS,
        ),
        p(
            Secret,
            "systemd",
            "service uses-t { on = node.n2, image = \"example/app:1\", env { TOKEN = secret.t } }\n",
            SECRET,
            CONTAINER_PORTS,
        ),
        p(
            Secret,
            "cluster",
            "service uses-t { on = cluster.c1, image = \"example/app:1\", env { TOKEN = secret.t } }\n",
            SECRET,
            CONTAINER_PORTS,
        ),
        p(
            Receiver,
            "alerting",
            "service am { use std.alertmanager, on = node.n1 }\nroute to-t { to = receiver.t }\n",
            &[],
            CONTAINER_PORTS,
        ),
        p(Bucket, "nixos", BUCKET_NIXOS, BUCKET, CONTAINER_PORTS),
        p(Bucket, "systemd", BUCKET_SYSTEMD, BUCKET, CONTAINER_PORTS),
        p(Bucket, "cluster", BUCKET_CLUSTER, BUCKET, CONTAINER_PORTS),
        p(
            Endpoint,
            "estate",
            "service uses-t { on = node.n1, image = \"example/app:1\", needs = [endpoint.t] }\n",
            &[("url", "url = \"https://api.example.com/v1\"")],
            CONTAINER_PORTS,
        ),
        p(
            Slo,
            "availability",
            SLO_CONTEXT,
            &[("objective", "objective = \"99.9%\""), ("service", "service = service.api")],
            CONTAINER_PORTS,
        ),
        p(
            Slo,
            "requests",
            SLO_CONTEXT,
            &[
                ("objective", "objective = \"99.9%\""),
                ("good", "good = \"http_requests_total{job=\\\"api\\\", code!~\\\"5..\\\"}\""),
                ("total", "total = \"http_requests_total{job=\\\"api\\\"}\""),
            ],
            CONTAINER_PORTS,
        ),
        p(
            Slo,
            "latency",
            SLO_CONTEXT,
            &[
                ("objective", "objective = \"99%\""),
                ("latency", "latency = \"http_request_duration_seconds{job=\\\"api\\\"}\""),
                ("below", "below = 100ms"),
            ],
            CONTAINER_PORTS,
        ),
        p(Job, "nixos", AFTER_T_N1, &[("on", "on = node.n1"), ("image", "image = \"example/job:1\"")], CONTAINER_PORTS),
        p(
            Job,
            "systemd",
            AFTER_T_N2,
            &[("on", "on = node.n2"), ("image", "image = \"example/job:1\"")],
            CONTAINER_PORTS,
        ),
        p(
            Job,
            "cluster",
            AFTER_T_C1,
            &[("on", "on = cluster.c1"), ("image", "image = \"example/job:1\"")],
            CONTAINER_PORTS,
        ),
        p(Stream, "nixos", BUS_N1, STREAM, CONTAINER_PORTS),
        p(Stream, "systemd", BUS_N2, STREAM, CONTAINER_PORTS),
        p(Stream, "cluster", BUS_C1, STREAM, CONTAINER_PORTS),
        p(
            Route,
            "alerting",
            "service am { use std.alertmanager, on = node.n1 }\n",
            &[("to", "to = receiver.r1")],
            CONTAINER_PORTS,
        ),
    ]
}

/// A service needing the tested job, on its NixOS node, its systemd host and its cluster.
const AFTER_T_N1: &str = "service after-t { on = node.n1, image = \"example/app:1\", needs = [job.t] }\n";
const AFTER_T_N2: &str = "service after-t { on = node.n2, image = \"example/app:1\", needs = [job.t] }\n";
const AFTER_T_C1: &str = "service after-t { on = cluster.c1, image = \"example/app:1\", needs = [job.t] }\n";

/// The server of the tested stream, on its NixOS node, its systemd host and its cluster.
const BUS_N1: &str = "service bus { on = node.n1, image = \"example/bus:1\", ports { client = 4222/tcp } }\n";
const BUS_N2: &str = "service bus { on = node.n2, image = \"example/bus:1\", ports { client = 4222/tcp } }\n";
const BUS_C1: &str = "service bus { on = cluster.c1, image = \"example/bus:1\", ports { client = 4222/tcp } }\n";
/// A stream's entries: its server, its subjects and the one-shot that applies it.
const STREAM: &[(&str, &str)] =
    &[("on", "on = service.bus"), ("subjects", "subjects = [\"t.>\"]"), ("image", "image = \"example/apply:1\"")];

/// A bucket's entries: where it is and the keys that log in to it.
const BUCKET: &[(&str, &str)] =
    &[("endpoint", "endpoint = \"https://s3.example.com\""), ("credentials", "credentials = secret.s2")];
/// A backup copying a NixOS node's storage to the tested bucket.
const BUCKET_NIXOS: &str = "backup uses-t { source = storage.data1, offsite = restic { bucket = bucket.t, password = secret.s1, every = 1d, keep { daily = 7 } } }\n";
/// A backup copying a systemd host's storage to the tested bucket.
const BUCKET_SYSTEMD: &str = "backup uses-t { source = storage.data2, offsite = restic { bucket = bucket.t, password = secret.s1, every = 1d, keep { daily = 7 } } }\n";
/// A backup copying a cluster's volume (mounted by a service) to the tested bucket.
const BUCKET_CLUSTER: &str = "service mounts-t { on = cluster.c1, image = \"example/app:1\", volumes { \"/data\" = storage.vol1 } }
backup uses-t { source = storage.vol1, offsite = restic { bucket = bucket.t, password = secret.s1, every = 1d, keep { daily = 7 } } }
";
/// A Prometheus on a NixOS node scraping two services, for objectives over them.
const SLO_CONTEXT: &str = "import std.prometheus
service prom { use std.prometheus, on = node.n1 }
service api { on = node.n1, image = \"example/api:1\", ports { http = 8280/tcp }, metrics { port = http } }
service api2 { on = node.n1, image = \"example/api:2\", ports { http = 8281/tcp }, metrics { port = http } }
";

const SECRET: &[(&str, &str)] = &[
    ("nixos", "nixos = agenix { file = \"secrets/t.age\" }"),
    ("k8s", "k8s = existing { name = \"t\", key = \"value\" }"),
    ("systemd", "systemd = credential { path = \"/etc/credstore/t\" }"),
];
