//! A structure-aware generator of valid-ish estates: `arbitrary` turns the fuzzer's bytes into
//! this typed estate, which [`Estate::to_spec`] prints as spec text.
//!
//! Random bytes almost never get past the parser; this estate always parses, and names are drawn
//! from four per kind (`n0`…`n3`), so references mostly resolve, placements, ports and capacities
//! meet and clash, and the model checker, the graph rules and every back end see real work.
//! Free text (`Text::Free`) is arbitrary, so hostile strings reach the back ends' escaping.

use std::fmt::Write as _;

use arbitrary::Arbitrary;

/// A text value: a plausible one, arbitrary text, or an interpolation of a `let`.
#[derive(Arbitrary, Debug)]
pub enum Text {
    /// One of a few realistic values.
    Pool(u8),
    /// Anything, escaped as a spec string literal.
    Free(String),
    /// `"${lN}-…"`, an interpolated `let`.
    Interpolated(u8, String),
}

const PLAIN: [&str; 8] = ["app", "/data", "ghcr.io/x/y:1", "postgres", "--flag", "a b", "%h $HOME", "{{ x }}"];

fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Text {
    fn spec(&self) -> String {
        match self {
            Text::Pool(i) => quote(PLAIN[usize::from(*i) % PLAIN.len()]),
            Text::Free(text) => quote(text),
            Text::Interpolated(i, rest) => {
                let body = quote(rest);
                format!("\"${{l{}}}{}", i % 4, &body[1..])
            }
        }
    }
}

/// A resource name: one of four per kind, or (rarely useful) free text that must be refused.
#[derive(Arbitrary, Debug)]
pub enum Name {
    /// `<prefix><n % 4>`.
    Pooled(u8),
    /// Arbitrary text as a quoted name.
    Free(String),
}

impl Name {
    fn spec(&self, prefix: &str) -> String {
        match self {
            Name::Pooled(n) => format!("{prefix}{}", n % 4),
            Name::Free(text) => quote(text),
        }
    }
}

/// Which OS a node runs.
#[derive(Arbitrary, Debug)]
pub enum Os {
    /// NixOS: the NixOS back end.
    Nixos,
    /// Ubuntu: the systemd back end.
    Ubuntu,
    /// Debian: the systemd back end.
    Debian,
}

/// A node.
#[derive(Arbitrary, Debug)]
pub struct Node {
    name: Name,
    os: Os,
    address: Option<u8>,
    cpu: Option<u8>,
    memory_gib: Option<u8>,
    wireguard: bool,
    zpool: Option<(Name, Vec<Text>)>,
}

/// Where a service, storage or workflow runs.
#[derive(Arbitrary, Debug)]
pub enum On {
    /// `node.nN`.
    Node(u8),
    /// `cluster.cN`.
    Cluster(u8),
}

impl On {
    fn spec(&self) -> String {
        match self {
            On::Node(n) => format!("node.n{}", n % 4),
            On::Cluster(n) => format!("cluster.c{}", n % 4),
        }
    }
}

/// An environment variable's value.
#[derive(Arbitrary, Debug)]
pub enum Env {
    /// Text.
    Text(Text),
    /// A number.
    Number(i32),
    /// A secret reference.
    Secret(u8),
}

/// A service.
#[derive(Arbitrary, Debug)]
pub struct Service {
    name: Name,
    on: On,
    preset: bool,
    image: Option<Text>,
    replicas: Option<u8>,
    args: Vec<Text>,
    needs: Vec<u8>,
    env: Vec<(u8, Env)>,
    ports: Vec<(u8, u16)>,
    expose: bool,
    volume: Option<(Text, u8)>,
    health: Option<Text>,
    metrics: bool,
    cpu: Option<u8>,
}

/// A storage.
#[derive(Arbitrary, Debug)]
pub struct Storage {
    name: Name,
    on: On,
    zfs: Option<(u8, Text)>,
    volume_gib: Option<u8>,
}

/// An alert.
#[derive(Arbitrary, Debug)]
pub struct Alert {
    name: Name,
    expr: Option<Text>,
    summary: Option<Text>,
    label: Option<Text>,
}

/// A backup.
#[derive(Arbitrary, Debug)]
pub struct Backup {
    name: Name,
    source: u8,
    every_minutes: u16,
    offsite: Option<(Text, u16)>,
    rpo_minutes: Option<u16>,
}

/// A workflow.
#[derive(Arbitrary, Debug)]
pub struct Workflow {
    name: Name,
    on: On,
    schedule: Option<Text>,
    steps: Vec<(u8, Text, Vec<Text>, Option<u8>)>,
}

/// A secret with its backends.
#[derive(Arbitrary, Debug)]
pub struct Secret {
    name: Name,
    agenix: Option<Text>,
    k8s: Option<(Text, Text)>,
    credential: Option<Text>,
}

/// A `for` loop around a node block.
#[derive(Arbitrary, Debug)]
pub struct Loop {
    count: u8,
    os: Os,
}

/// A whole estate.
#[derive(Arbitrary, Debug)]
pub struct Estate {
    lets: Vec<Text>,
    nodes: Vec<Node>,
    network: Option<(Vec<u8>, bool)>,
    clusters: Vec<(u8, Vec<u8>)>,
    storages: Vec<Storage>,
    services: Vec<Service>,
    alerts: Vec<Alert>,
    backups: Vec<Backup>,
    workflows: Vec<Workflow>,
    secrets: Vec<Secret>,
    loops: Vec<Loop>,
    overlay: Option<(u8, u8)>,
}

fn os(os: &Os) -> &'static str {
    match os {
        Os::Nixos => "nixos",
        Os::Ubuntu => "ubuntu",
        Os::Debian => "debian",
    }
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

impl Estate {
    /// The estate as spec text. Always four `let`s (`l0`…`l3`), so interpolations resolve.
    pub fn to_spec(&self) -> String {
        let mut out = String::from("import std.postgres\n");
        for i in 0..4 {
            let value = self.lets.get(i).map_or_else(|| quote("x"), Text::spec);
            // A `let` may not interpolate itself or a later one into a cycle: lets only hold text.
            let value = if value.contains("${") { quote("v") } else { value };
            let _ = writeln!(out, "let l{i} = {value}");
        }
        for node in &self.nodes {
            self.node(&mut out, node);
        }
        if let Some((members, wireguard)) = &self.network {
            let _ = write!(
                out,
                "network mesh {{\n  members = {}\n",
                list(members.iter().map(|m| format!("node.n{}", m % 4)))
            );
            if *wireguard {
                out.push_str("  wireguard { cidr = 10.0.0.0/24, port = 51820 }\n");
            }
            out.push_str("}\n");
        }
        for (name, servers) in &self.clusters {
            let _ = writeln!(
                out,
                "cluster c{} {{ distribution = k3s, servers = {}, namespace = \"estate\", token = secret.s0 }}",
                name % 4,
                list(servers.iter().map(|s| format!("node.n{}", s % 4)))
            );
        }
        for storage in &self.storages {
            let _ = write!(out, "storage {} {{\n  on = {}\n", storage.name.spec("st"), storage.on.spec());
            if let Some((pool, dataset)) = &storage.zfs {
                let _ = writeln!(out, "  zfs {{ pool = \"z{}\", dataset = {} }}", pool % 4, dataset.spec());
            }
            if let Some(size) = storage.volume_gib {
                let _ = writeln!(out, "  volume {{ size = {}GiB }}", u32::from(size) + 1);
            }
            out.push_str("}\n");
        }
        for service in &self.services {
            self.service(&mut out, service);
        }
        for alert in &self.alerts {
            let _ = write!(out, "alert {} {{\n  severity = warning\n", alert.name.spec("a"));
            let expr = alert.expr.as_ref().map_or_else(|| quote("up{job=\"s0\"} == 0"), Text::spec);
            let _ = writeln!(out, "  expr = {expr}");
            if let Some(summary) = &alert.summary {
                let _ = writeln!(out, "  summary = {}", summary.spec());
            }
            if let Some(label) = &alert.label {
                let _ = writeln!(out, "  labels {{ team = {} }}", label.spec());
            }
            out.push_str("}\n");
        }
        for backup in &self.backups {
            let _ = write!(
                out,
                "backup {} {{\n  source = storage.st{}\n  snapshots {{ every = {}m }}\n",
                backup.name.spec("b"),
                backup.source % 4,
                backup.every_minutes
            );
            if let Some((repository, every)) = &backup.offsite {
                let _ = writeln!(
                    out,
                    "  offsite = restic {{ repository = {}, password = secret.s1, every = {every}m }}",
                    repository.spec()
                );
            }
            if let Some(rpo) = backup.rpo_minutes {
                let _ = writeln!(out, "  rpo = {rpo}m");
            }
            out.push_str("}\n");
        }
        for workflow in &self.workflows {
            let _ = write!(out, "workflow {} {{\n  on = {}\n", workflow.name.spec("w"), workflow.on.spec());
            if let Some(schedule) = &workflow.schedule {
                let _ = writeln!(out, "  schedule = {}", schedule.spec());
            }
            for (name, image, args, needs) in &workflow.steps {
                let needs = needs.map_or_else(String::new, |n| format!(", needs = [step.t{}]", n % 4));
                let _ = writeln!(
                    out,
                    "  step t{} {{ image = {}, args = {}{needs} }}",
                    name % 4,
                    image.spec(),
                    list(args.iter().map(Text::spec))
                );
            }
            out.push_str("}\n");
        }
        for secret in &self.secrets {
            let _ = writeln!(out, "secret {} {{", secret.name.spec("s"));
            if let Some(file) = &secret.agenix {
                let _ = writeln!(out, "  nixos = agenix {{ file = {} }}", file.spec());
            }
            if let Some((name, key)) = &secret.k8s {
                let _ = writeln!(out, "  k8s = existing {{ name = {}, key = {} }}", name.spec(), key.spec());
            }
            if let Some(path) = &secret.credential {
                let _ = writeln!(out, "  systemd = credential {{ path = {} }}", path.spec());
            }
            out.push_str("}\n");
        }
        for (i, looped) in self.loops.iter().enumerate() {
            let _ = writeln!(
                out,
                "for i in 1..={} {{\n  node \"m{i}-${{i}}\" {{ os = {}, address = \"10.1.{i}.${{i}}\" }}\n}}",
                looped.count % 8,
                os(&looped.os)
            );
        }
        if let Some((service, replicas)) = &self.overlay {
            let _ = writeln!(out, "env staging {{ service.s{}.replicas = {replicas} }}", service % 4);
        }
        out
    }

    fn node(&self, out: &mut String, node: &Node) {
        let _ = write!(out, "node {} {{\n  os = {}\n", node.name.spec("n"), os(&node.os));
        if let Some(address) = node.address {
            let _ = writeln!(out, "  address = 10.0.0.{address}");
        }
        if let Some(cpu) = node.cpu {
            let _ = writeln!(out, "  cpu = {}", u32::from(cpu) + 1);
        }
        if let Some(memory) = node.memory_gib {
            let _ = writeln!(out, "  memory = {}GiB", u32::from(memory) + 1);
        }
        if node.wireguard {
            out.push_str(
                "  wireguard { public_key = \"dDAe15mGjAVfG67Q5p3psJS3M/HqKBodFGj/4sZVWkM=\", private_key = secret.s2 }\n",
            );
        }
        if let Some((name, disks)) = &node.zpool {
            let _ = writeln!(
                out,
                "  zpool {} {{ layout = mirror, disks = {} }}",
                name.spec("z"),
                list(disks.iter().map(Text::spec))
            );
        }
        out.push_str("}\n");
    }

    fn service(&self, out: &mut String, service: &Service) {
        let _ = write!(out, "service {} {{\n  on = {}\n", service.name.spec("s"), service.on.spec());
        if service.preset {
            out.push_str("  use std.postgres { version = 16, databases = [\"app\"] }\n");
        }
        if let Some(image) = &service.image {
            let _ = writeln!(out, "  image = {}", image.spec());
        }
        if let Some(replicas) = service.replicas {
            let _ = writeln!(out, "  replicas = {}", replicas % 5);
        }
        if !service.args.is_empty() {
            let _ = writeln!(out, "  args = {}", list(service.args.iter().map(Text::spec)));
        }
        if !service.needs.is_empty() {
            let _ = writeln!(out, "  needs = {}", list(service.needs.iter().map(|n| format!("service.s{}", n % 4))));
        }
        if !service.env.is_empty() {
            out.push_str("  env {\n");
            for (key, value) in &service.env {
                let value = match value {
                    Env::Text(text) => text.spec(),
                    Env::Number(n) => n.to_string(),
                    Env::Secret(s) => format!("secret.s{}", s % 4),
                };
                let _ = writeln!(out, "    E{} = {value}", key % 8);
            }
            out.push_str("  }\n");
        }
        if !service.ports.is_empty() {
            out.push_str("  ports {");
            for (name, port) in &service.ports {
                let _ = write!(out, " p{} = {}/tcp,", name % 4, port % 2000 + 1);
            }
            out.push_str(" }\n");
            if service.expose {
                out.push_str("  expose = [p0]\n");
            }
            if service.metrics {
                out.push_str("  metrics { port = p0 }\n");
            }
        }
        if let Some((path, storage)) = &service.volume {
            let _ = writeln!(out, "  volumes {{ {} = storage.st{} }}", path.spec(), storage % 4);
        }
        if let Some(path) = &service.health {
            let _ = writeln!(out, "  health = http {{ port = p0, path = {} }}", path.spec());
        }
        if let Some(cpu) = service.cpu {
            let _ = writeln!(out, "  resources {{ cpu = {}, memory = 1GiB }}", cpu % 8);
        }
        out.push_str("}\n");
    }
}
