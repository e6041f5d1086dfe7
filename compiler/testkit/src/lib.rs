//! Test support shared by the workspace's tests and benchmarks: the estate generator, and
//! [`generate`], which runs one back end over an estate file or folder (every `*.spec` below it,
//! in path order, named from the folder: the examples are folders).
//!
//! [`generate_estate`] writes a synthetic estate in the spec language with the shape of
//! `shared/bench/gen.py`: N services on N/10 nodes, one in ten (one per node) through a preset with
//! overrides, ports, env, `needs`, resources and one alert per service. Around them, in the
//! proportions of a real estate: a network joining every node and a WireGuard mesh per rack of ten
//! nodes (each node with its key and a secret for it), a ZFS pool, a dataset and its backup
//! (snapshots and a restic offsite copy) per node, and a two-step workflow per rack. The constructs
//! of a Kubernetes estate too: per rack a k3s cluster on its first two nodes, with two namespaces
//! (one with a quota, limits and `network_policy = deny`), a migration job, and the last service
//! of each of the rack's nodes (one in ten) on it: a web front with an ingress after the job, the
//! others from a table (a `let` of rows and a `for` over it), each with a rolling rollout, a
//! configuration file and a need of its node's database. One node service in ten has a
//! configuration file, one in twenty an SLO; two environments (`production`, and `staging`
//! changing two fields per rack). It is valid by construction: ports are unique per node, what is
//! placed on a node fits it, every mesh address lies in its range, backups meet their RPO, and it
//! checks with no diagnostic at all, in every environment.
//!
//! [`generate_estate_with_warnings`] writes the same estate with one mistake per ten services:
//! one alert in nine (N/10 of them) matches a mistyped job (`svc-12` for `svc12`), which no service
//! exports (W0604, with a did-you-mean). Its diagnostics are the benchmark's measure of rendering
//! and suggesting at scale.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use spec_compiler::driver;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::target::{Context, Target};

/// Compiles the estate file or folder at `path` (which must check without errors) and returns the
/// files `target` generates for it, asserting the target reports no error either.
pub fn generate(target: &dyn Target, path: &Path) -> Vec<(String, String)> {
    generate_in(target, path, None)
}

/// [`generate`] with the environment `env` applied.
pub fn generate_in(target: &dyn Target, path: &Path, env: Option<&str>) -> Vec<(String, String)> {
    let (sources, compilation) = compile_path(path, env);
    assert_eq!(compilation.errors(), 0, "{}: {:#?}", path.display(), compilation.diagnostics);
    let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let generated = target.generate(&context);
    let errors: Vec<_> = generated.diagnostics.iter().filter(|d| d.code.as_str().starts_with('E')).collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    generated.files.into_iter().map(|f| (f.path, f.contents)).collect()
}

/// Compiles one estate file's `text`, shown as `name`, asserting it checks without errors: back
/// ends' unit tests get a model this way without reaching into the compiler's stages.
pub fn compile(name: &str, text: String) -> (SourceMap, driver::Compilation) {
    let (sources, compilation) = compile_any(name, text);
    assert_eq!(compilation.errors(), 0, "{name}: {:#?}", compilation.diagnostics);
    (sources, compilation)
}

/// Compiles the estate at `path`, errors or not: a file (shown by its name) or a folder, whose
/// `*.spec` files below it (hidden entries skipped) are read in path order and shown by their
/// path inside it, as `spec check FOLDER` names them from the folder.
pub fn compile_path(path: &Path, env: Option<&str>) -> (SourceMap, driver::Compilation) {
    let mut files = Vec::new();
    if path.is_dir() {
        collect(path, path, &mut files);
        files.sort();
    } else {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("main.spec").to_string();
        files.push((name, path.to_path_buf()));
    }
    let mut sources = SourceMap::new();
    let ids: Vec<_> = files
        .into_iter()
        .map(|(name, file)| {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            sources.add(SourceFile::new(&name, text, Origin::User))
        })
        .collect();
    // The estate's data files (dashboards), as the CLI reads them: every `*.json` below the
    // folder, or below the one file's folder.
    let root = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let mut data = Vec::new();
    collect_ext(root, root, "json", &mut data);
    data.sort();
    for (name, file) in data {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        sources.add(SourceFile::new(&name, text, Origin::Data));
    }
    let compilation = driver::compile(&mut sources, &ids, env);
    (sources, compilation)
}

/// Every `*.spec` below `dir`, with its path from `root` (`/`-separated), hidden entries skipped.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    collect_ext(root, dir, "spec", out);
}

/// Every file ending in `.<extension>` below `dir`, as [`collect`].
fn collect_ext(root: &Path, dir: &Path, extension: &str, out: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.map(|e| e.expect("entry")) {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_ext(root, &path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            let name = path.strip_prefix(root).expect("below root").components();
            let name: Vec<_> = name.map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.push((name.join("/"), path));
        }
    }
}

/// Compiles one estate file's `text`, shown as `name`, errors or not.
pub fn compile_any(name: &str, text: String) -> (SourceMap, driver::Compilation) {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(name, text, Origin::User));
    let compilation = driver::compile(&mut sources, &[file], None);
    (sources, compilation)
}

/// Nodes in one rack: each rack shares a WireGuard mesh and runs one workflow.
const RACK: usize = 10;

/// A valid WireGuard public key derived from `seed`: 32 bytes in standard base64 (43 characters
/// and `=`; the last character carries 4 bits, so it is one of 16).
fn wireguard_key(seed: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const LAST: &[u8; 16] = b"AEIMQUYcgkosw048";
    let mut state = seed as u64 ^ 0x9e37_79b9_7f4a_7c15;
    let mut key = String::with_capacity(44);
    for _ in 0..42 {
        // xorshift: deterministic and spread, so keys differ in every position.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        key.push(char::from(ALPHABET[(state % 64) as usize]));
    }
    key.push(char::from(LAST[(state >> 8) as usize % 16]));
    key.push('=');
    key
}

/// Returns the text of a valid estate of `services` services (at least 10).
pub fn generate_estate(services: usize) -> String {
    estate(services, false)
}

/// Returns the estate of [`generate_estate`] with a warning per ten services (`services` a multiple
/// of ten): one alert in nine matches the job `svc-12` where the service is `svc12`, a typo no
/// service exports (W0604, "did you mean `svc12`?").
pub fn generate_estate_with_warnings(services: usize) -> String {
    estate(services, true)
}

fn estate(services: usize, warnings: bool) -> String {
    let services = services.max(10);
    let nodes = services / 10;
    let racks = nodes.div_ceil(RACK);
    let mut out = String::with_capacity(services * 800);
    out.push_str("# Generated by spec-testkit: a synthetic estate for tests and benchmarks.\n");
    out.push_str("import std.postgres\n\n");
    out.push_str("secret restic-password { nixos = agenix { file = \"secrets/restic-password.age\" } }\n");
    out.push_str("secret s3-backup { nixos = agenix { file = \"secrets/s3-backup.age\" } }\n");
    for n in 0..nodes {
        let _ = writeln!(
            out,
            "\nsecret wg-n{n} {{ nixos = agenix {{ file = \"secrets/wg-n{n}.age\" }} }}
node n{n} {{
  os        = nixos
  address   = 10.{}.{}.{}
  endpoint  = 192.0.{}.{}
  wireguard {{ public_key = \"{}\", private_key = secret.wg-n{n} }}
  cpu       = 64
  memory    = 256GiB
  zpool tank {{ layout = mirror, disks = [\"/dev/disk/by-id/nvme-a\", \"/dev/disk/by-id/nvme-b\"], size = 8TiB }}
}}
storage data-n{n} {{ on = node.n{n}, zfs {{ pool = \"tank\", dataset = \"data\", quota = 1TiB }} }}
backup data-n{n} {{
  source    = storage.data-n{n}
  snapshots {{ every = 15m, keep {{ hourly = 24, daily = 7 }} }}
  offsite   = restic {{ repository = \"s3:https://backup.example.com/n{n}\", password = secret.restic-password,
                       credentials = secret.s3-backup, every = 1h, keep {{ daily = 7, weekly = 4 }} }}
  rpo       = 15m
}}",
            n / 65_536,
            (n / 256) % 256,
            n % 256,
            (n / 250) % 250,
            n % 250 + 1,
            wireguard_key(n)
        );
    }
    // One network joins every node, so services may need services on other nodes; each rack of
    // ten nodes shares a WireGuard mesh and runs a workflow on its first node.
    out.push_str("\nnetwork lan {\n  members = [");
    for n in 0..nodes {
        if n > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "node.n{n}");
    }
    out.push_str("]\n}\n");
    for rack in 0..racks {
        let members: Vec<String> = (rack * RACK..nodes.min(rack * RACK + RACK)).map(|n| format!("node.n{n}")).collect();
        let _ = writeln!(
            out,
            "\nnetwork mesh{rack} {{\n  wireguard {{ cidr = 10.0.0.0/8, port = 51820 }}\n  members = [{}]\n}}
workflow etl{rack} {{
  on       = node.n{}
  schedule = \"{} 3 * * *\"
  step extract {{ image = \"registry.example.com/etl:1.{}\", args = [\"extract\"], retries = 3 }}
  step load    {{ needs = [step.extract], image = \"registry.example.com/etl:1.{}\", args = [\"load\"], timeout = 4h }}
}}",
            members.join(", "),
            rack * RACK,
            rack % 60,
            rack % 7,
            rack % 7
        );
    }
    clusters(&mut out, nodes, racks);
    for i in 0..services {
        let node = i % nodes;
        // Services on one node are numbered 0..10, so each gets its own port; node services run
        // one instance each, since replicas on one host would bind the same host port.
        let slot = i / nodes;
        // One service in ten comes from a preset: the first on each node, since a NixOS host runs
        // one PostgreSQL server. Its limits need the server's own unit (the preset names the
        // target that groups it with its setup).
        if slot == 0 {
            let _ = writeln!(
                out,
                "\nservice svc{i} {{\n  use std.postgres {{ version = 16, databases = [\"app{i}\"], port = {} }}\n  on = node.n{node}\n  nixos_unit = \"postgresql.service\"\n  resources {{ cpu = 2, memory = 4GiB }}\n}}",
                10_000 + slot
            );
            continue;
        }
        // Non-preset services are `nodes..services`; one in nine of their alerts gets a typo.
        let job = if warnings && (i - nodes).is_multiple_of(9) { format!("svc-{i}") } else { format!("svc{i}") };
        let alert = format!(
            "alert svc{i}-down {{ severity = critical, expr = \"up{{job=\\\"{job}\\\"}} == 0\", for = 5m, summary = \"svc{i} is down\" }}"
        );
        // The last service of each node runs on its rack's cluster, from the rack's table (below).
        if slot == CLUSTER_SLOT {
            out.push_str(&alert);
            out.push('\n');
            continue;
        }
        // One node service in ten reads a configuration file; one in twenty has an SLO.
        let files = if slot == 1 {
            "\n  files     { \"/etc/app/config.yaml\" = yaml { listen = \"0.0.0.0\", workers = 4, timeout = 30s } }"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "\nservice svc{i} {{
  on        = node.n{node}
  image     = \"registry.example.com/app{i}:1.{}.0\"
  ports     {{ http = {}/tcp }}
  env       {{ LOG_LEVEL = \"info\", INDEX = \"{i}\", PEER = \"svc{}\" }}
  needs     = [service.svc{}]
  resources {{ cpu = 1, memory = 512MiB }}
  health    = http {{ port = http, path = \"/healthz\" }}
  metrics   {{ port = http }}{files}
}}
{alert}",
            i % 7,
            20_000 + slot,
            (i + 1) % services,
            // The preset service of the same node (its slot 0) is what every other one needs.
            node
        );
        if slot == 2 && node.is_multiple_of(2) {
            let _ = writeln!(out, "slo svc{i}-up {{ objective = \"99.9%\", service = service.svc{i} }}");
        }
    }
    environments(&mut out, nodes, racks);
    out
}

/// The slot (service number on its node) of the services that run on their rack's cluster.
const CLUSTER_SLOT: usize = 9;

/// One k3s cluster per rack, served by the rack's first node and joined by its second, with two
/// namespaces (one denying what the estate does not say, with a quota), a migration job, and its
/// services (one per node of the rack, `CLUSTER_SLOT`): the first a web front with an ingress and
/// a rolling rollout by shares, after the job, the others written as a table and a loop over it, each with a
/// rolling rollout, a configuration file and a need of its node's database.
fn clusters(out: &mut String, nodes: usize, racks: usize) {
    out.push_str("\nsecret k3s-token { nixos = agenix { file = \"secrets/k3s-token.age\" } }\n");
    for rack in 0..racks {
        let first = rack * RACK;
        let last = nodes.min(first + RACK);
        let agents = if last - first > 1 { format!("node.n{}", first + 1) } else { String::new() };
        let _ = writeln!(
            out,
            "\ncluster k{rack} {{
  distribution = k3s
  servers      = [node.n{first}]
  agents       = [{agents}]
  token        = secret.k3s-token
  namespace apps {{
    quota  {{ cpu = 32, memory = 64GiB, pods = 60 }}
    limits {{ default {{ cpu = 250m, memory = 256MiB }}, max {{ cpu = 4, memory = 8GiB }} }}
    network_policy = deny
  }}
  namespace ops {{ pod_security = baseline }}
}}
job migrate{rack} {{ on = cluster.k{rack}, namespace = \"apps\", image = \"registry.example.com/migrate:1.{}\", args = [\"up\"], timeout = 10m, retries = 2 }}",
            rack % 7
        );
        let _ = writeln!(out, "let k{rack}_apps = [");
        for node in first + 1..last {
            let i = CLUSTER_SLOT * nodes + node;
            let namespace = if node % 2 == 0 { "apps" } else { "ops" };
            let _ = writeln!(
                out,
                "  {{ name = \"svc{i}\", port = {}, namespace = \"{namespace}\", db = service.svc{node} }},",
                20_000 + CLUSTER_SLOT
            );
        }
        out.push_str("]\n");
        let _ = writeln!(
            out,
            "for app in k{rack}_apps {{
  service \"${{app.name}}\" {{
    on        = cluster.k{rack}
    namespace = app.namespace
    image     = \"registry.example.com/${{app.name}}:1.{}.0\"
    replicas  = 2
    needs     = [app.db]
    ports     {{ http = \"${{app.port}}/tcp\" }}
    env       {{ LOG_LEVEL = \"info\", INDEX = app.name }}
    resources {{ cpu = 500m, memory = 512MiB }}
    health    = http {{ port = http, path = \"/healthz\" }}
    metrics   {{ port = http }}
    rollout   = rolling {{ surge = 1, unavailable = 0 }}
    files     {{ \"/etc/app/config.yaml\" = yaml {{ listen = \"0.0.0.0\", workers = 2 }} }}
  }}
}}
service svc{} {{
  on        = cluster.k{rack}
  namespace = \"apps\"
  image     = \"registry.example.com/web:2.{}.0\"
  replicas  = 4
  needs     = [service.svc{first}, job.migrate{rack}]
  ports     {{ http = 8080/tcp }}
  resources {{ cpu = 250m, memory = 256MiB }}
  health    = http {{ port = http, path = \"/\" }}
  metrics   {{ port = http }}
  rollout   = rolling {{ surge = \"25%\", unavailable = \"25%\" }}
  ingress web {{ host = \"web{rack}.example.com\", path = \"/\", port = http, tls {{ issuer = \"letsencrypt-prod\" }} }}
}}",
            rack % 7,
            CLUSTER_SLOT * nodes + first,
            rack % 7,
        );
    }
}

/// Two environments, as an estate has: production is the base, staging shrinks each rack's
/// cluster services and turns their logging up.
fn environments(out: &mut String, nodes: usize, racks: usize) {
    out.push_str("\nenv production { }\n\nenv staging {\n");
    for rack in 0..racks {
        let web = CLUSTER_SLOT * nodes + rack * RACK;
        let _ = writeln!(out, "  service.svc{web}.replicas = 1");
        if rack * RACK + 1 < nodes {
            let _ = writeln!(out, "  service.svc{}.env.LOG_LEVEL = \"debug\"", web + 1);
        }
    }
    out.push_str("}\n");
}

/// Evaluates `expression` with `m` bound to the NixOS module at `file` (its `config` the module's
/// own result, as the option checker evaluates it, and `pkgs` the attribute set it is given, `{}`
/// or the packages it names) through `nix-instantiate --eval --strict --json`, and returns the
/// JSON. Only what the expression reads is evaluated. Panics when nix-instantiate refuses it.
pub fn nix_module_eval(file: &Path, pkgs: &str, expression: &str) -> serde_json::Value {
    let file = std::fs::canonicalize(file).expect("the module exists");
    let full =
        format!("let m = import {} {{ config = m; lib = {{}}; pkgs = {pkgs}; }}; in {expression}", file.display());
    let output = std::process::Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "--readonly-mode", "-E"])
        .arg(&full)
        .output()
        .expect("nix-instantiate runs");
    assert!(output.status.success(), "{expression}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// The Helm binary the chart tests render with: `HELM_BIN`, `helm` on the path, or where
/// `.ci/run` installs it; `None` when none runs (the tests then say SKIPPED).
pub fn helm() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/spec-validate/bin/helm"));
    let candidates = [std::env::var_os("HELM_BIN").map(PathBuf::from), Some(PathBuf::from("helm")), home];
    candidates
        .into_iter()
        .flatten()
        .find(|helm| std::process::Command::new(helm).arg("version").output().is_ok_and(|o| o.status.success()))
}

/// Helm and the folder of the real charts (`../shared/charts`) holding `chart`, for a test that
/// renders with them; `None` after saying SKIPPED (with what was not done) when either is missing.
pub fn helm_and_charts(chart: &str, not_done: &str) -> Option<(PathBuf, PathBuf)> {
    let charts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/charts");
    let Some(helm) = helm() else {
        eprintln!("SKIPPED: helm is not installed (see .ci/run); {not_done}");
        return None;
    };
    if !charts.join(chart).exists() {
        eprintln!("SKIPPED: {} holds no {chart} chart; {not_done}", charts.display());
        return None;
    }
    Some((helm, charts))
}

/// The documents of a YAML stream as JSON values, empty documents left out.
pub fn yaml_documents(text: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize as _;
    serde_yaml::Deserializer::from_str(text)
        .map(|document| serde_json::Value::deserialize(document).expect("YAML"))
        .filter(|document| !document.is_null())
        .collect()
}

/// The objects `helm template RELEASE CHART --namespace NAMESPACE -f VALUES` renders, as Flux
/// would install them (the chart's own values schema skipped: the tests check the objects).
/// Panics when Helm refuses the values.
pub fn helm_template(
    helm: &Path,
    chart: &Path,
    release: &str,
    namespace: &str,
    values: &Path,
) -> Vec<serde_json::Value> {
    let output = std::process::Command::new(helm)
        .args(["template", release])
        .arg(chart)
        .args(["--namespace", namespace, "--skip-schema-validation", "-f"])
        .arg(values)
        .output()
        .expect("helm runs");
    assert!(output.status.success(), "{}: {}", values.display(), String::from_utf8_lossy(&output.stderr));
    yaml_documents(&String::from_utf8_lossy(&output.stdout))
}

/// The validators of a third-party API, `@kubernetes-models/<package>` (generated from the
/// project's own CRDs: types, required fields, enums and patterns), where `.ci/run` installs them
/// (`~/.cache/spec-validate/<folder>`); `None` after saying SKIPPED (with what was not done) when
/// they or node are missing.
pub fn kubernetes_models(folder: &str, package: &str, not_done: &str) -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let module = home.join(".cache/spec-validate").join(folder).join("node_modules/@kubernetes-models").join(package);
    let node = std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !(node && module.exists()) {
        eprintln!("SKIPPED: node or @kubernetes-models/{package} is missing (see .ci/run); {not_done}");
        return None;
    }
    Some(module)
}

/// Validates each of `objects` (JSON) with the class of [`kubernetes_models`]' `module` named
/// after its `kind`, from the module of its `apiVersion` (`cert-manager.io/v1/index.js`), in a
/// node script written in `dir`: one line per object, `PASS` or `FAIL` and why (an object of a
/// kind the models lack fails).
pub fn validate_with_models(module: &Path, dir: &Path, objects: &[serde_json::Value]) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    let input = dir.join("objects.json");
    std::fs::write(&input, serde_json::to_string(objects).expect("json")).expect("write");
    let script = dir.join("validate.mjs");
    std::fs::write(
        &script,
        format!(
            "import fs from 'fs';\n\
             import path from 'path';\n\
             for (const o of JSON.parse(fs.readFileSync({input:?}))) {{\n\
               const what = [o.kind, o.metadata.namespace ?? '-', o.metadata.name].join(' ');\n\
               try {{\n\
                 const api = await import(path.join({module:?}, o.apiVersion, 'index.js'));\n\
                 if (!api[o.kind]) throw new Error('no model of ' + o.kind + ' in ' + o.apiVersion);\n\
                 new api[o.kind](o).validate(); console.log('PASS', what);\n\
               }} catch (e) {{ console.log('FAIL', what, e.message); }}\n\
             }}\n",
            module = module.display().to_string(),
            input = input.display().to_string(),
        ),
    )
    .expect("write");
    let output = std::process::Command::new("node").arg(&script).output().expect("node runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The documents `target` writes for each of `estates` that `keep` selects, as JSON values.
pub fn generated_objects(
    target: &dyn Target,
    estates: &[PathBuf],
    keep: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let files = estates.iter().flat_map(|estate| generate(target, estate));
    files.flat_map(|(_, contents)| yaml_documents(&contents)).filter(|o| keep(o)).collect()
}

/// Asserts that every one of `objects` passes the models of `module` ([`validate_with_models`]).
pub fn assert_models_pass(module: &Path, dir: &Path, objects: &[serde_json::Value]) {
    let report = validate_with_models(module, dir, objects);
    let failed: Vec<&str> = report.lines().filter(|l| !l.starts_with("PASS")).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(report.lines().count(), objects.len(), "{report}");
}

/// A Kubernetes quantity in thousandths of its unit (`500m` is 500, `2` is 2000, `128Mi` is
/// 128 × 2^20 × 1000, `1e3` is not read), as charts and the generated values write them; panics on
/// anything else, which a test must not meet silently.
pub fn kubernetes_thousandths(quantity: &serde_json::Value) -> u128 {
    let text = match quantity {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let suffixes: [(&str, u128); 12] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("m", 0),
        ("", 1),
    ];
    for (suffix, factor) in suffixes {
        let Some(number) = text.strip_suffix(suffix) else { continue };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            continue;
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let thousandths = format!("{fraction:0<3}")[..3].parse::<u128>().expect("fraction");
        let value = whole.parse::<u128>().expect("number") * 1000 + thousandths;
        return if factor == 0 { value / 1000 } else { value * factor };
    }
    panic!("not a quantity: {text}")
}

/// The `HelmRelease` that installs service `service` on cluster `cluster`, among a build's files
/// (`helm/<cluster>/releases.yaml`); panics when there is none, which a chart test must not meet.
pub fn helm_release(files: &[(String, String)], cluster: &str, service: &str) -> serde_json::Value {
    let path = format!("helm/{cluster}/releases.yaml");
    files
        .iter()
        .filter(|(p, _)| *p == path)
        .flat_map(|(_, contents)| yaml_documents(contents))
        .find(|o| o["kind"] == "HelmRelease" && o["metadata"]["name"] == service)
        .unwrap_or_else(|| panic!("no HelmRelease of service `{service}` in {path}"))
}
