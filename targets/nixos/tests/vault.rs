//! Secrets read from Vault on a NixOS node, read back from the evaluated module
//! (`nix-instantiate --eval`): each file the node's consumers read for a `vault` secret (a
//! container's `environmentFiles`, a preset's `requirePassFile`, a workflow step's `--env-file`,
//! Alertmanager's `LoadCredential`)
//! is the destination of the template of that secret's own vault-agent instance, and the template
//! reads the spec's path and key from the spec's Vault, logging in with the role's AppRole files.
//! An environment that sets a secret's `vault` moves the node from agenix to vault-agent. Every
//! unit reading a Vault file is held back until vault-agent has rendered it (a sealed Vault after
//! a reboot), and Prometheus only wants Alertmanager, so it starts while the credentials wait.
//! Without nix-instantiate the tests that evaluate print SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;

use spec_compiler::driver;
use spec_compiler::model::Backend;
use spec_compiler::source::{Origin, SourceFile, SourceMap};
use spec_compiler::target::{Context, Target};
use spec_target_nixos::Nixos;

const CASE: &str = "specs/targets/nixos/secrets_from_vault_sops_and_existing_files_generate_cleanly.spec";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `expression` with `m` bound to the module at `file` (its `config` its own result, `pkgs.podman`
/// a store path), as JSON. Only what the expression reads is evaluated, so the other backends'
/// encrypted files need not exist.
fn evaluate(file: &Path, expression: &str) -> serde_json::Value {
    spec_testkit::nix_module_eval(file, "{ podman = \"/nix/store/podman\"; }", expression)
}

#[test]
fn each_file_a_consumer_reads_is_rendered_by_its_secrets_vault_agent() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); vault-agent was not read back");
        return;
    }
    let estate = workspace().join(CASE);
    let text = std::fs::read_to_string(&estate).expect("estate");
    let (_, compilation) = spec_testkit::compile("main.spec", text);
    let model = &compilation.model;
    let files = spec_testkit::generate(&Nixos, &estate);
    let module = written_module(&files, "nixos-vault");
    let agents = evaluate(&module, "m.services.vault-agent.instances");
    let agents = agents.as_object().expect("instances");
    let consumers = evaluate(
        &module,
        "{ api = m.virtualisation.oci-containers.containers.api.environmentFiles; \
           cache = [ m.services.redis.servers.main.requirePassFile ]; \
           step = [ m.systemd.services.nightly-dump.serviceConfig.ExecStart ]; \
           alerts = m.systemd.services.alertmanager.serviceConfig.LoadCredential; }",
    );
    let mut read = 0;
    for secret in &model.secrets {
        let Some(Backend::Vault(vault)) = secret.spec.on_nixos() else { continue };
        let agent = &agents.get(&secret.name).unwrap_or_else(|| panic!("no vault-agent instance for {}", secret.name));
        let settings = &agent["settings"];
        assert_eq!(settings["vault"]["address"], vault.value.address.value.as_str());
        let login = &settings["auto_auth"]["method"][0];
        assert_eq!(login["type"], "approle");
        let folder = format!("/etc/vault-agent/{}/", vault.value.role());
        assert!(login["config"]["role_id_file_path"].as_str().expect("role id").starts_with(&folder));
        let template = &settings["template"][0];
        let contents = template["contents"].as_str().expect("contents");
        assert!(contents.contains(&format!("secret \"{}\"", vault.value.path.value)), "{contents}");
        assert!(contents.contains(&format!(".Data.data \"{}\"", vault.value.key())), "{contents}");
        let destination = template["destination"].as_str().expect("destination");
        // Some consumer reads exactly the rendered file.
        let readers: Vec<&str> = consumers
            .as_object()
            .expect("consumers")
            .iter()
            .filter(|(_, files)| {
                files.as_array().expect("list").iter().any(|f| {
                    let f = f.as_str().expect("string");
                    f == destination
                        || f.contains(&format!("--env-file={destination} "))
                        || f.ends_with(&format!(":{destination}"))
                })
            })
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(!readers.is_empty(), "nothing reads {destination}: {consumers}");
        read += readers.len();
    }
    // `db-password` in the container and the step, `redis-password` in the preset,
    // `smtp-password` in Alertmanager's credentials.
    assert_eq!(read, 4, "{consumers}");
}

/// Writes a build's files under the test's scratch folder `name` and returns prod1's module there.
fn written_module(files: &[(String, String)], name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, contents) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, contents).expect("write");
    }
    std::fs::canonicalize(dir.join("nixos/prod1/default.nix")).expect("module")
}

/// The node module and the flake of `text` in environment `env`.
fn module_in(text: &str, env: Option<&str>) -> (String, String) {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("main.spec", text, Origin::User));
    let compilation = driver::compile(&mut sources, &[file], env);
    assert_eq!(compilation.errors(), 0, "{env:?}: {:#?}", compilation.diagnostics);
    let context = Context { model: &compilation.model, sources: &sources, root_from_out: "..".into() };
    let files = Nixos.generate(&context).files;
    let find = |path: &str| files.iter().find(|f| f.path == path).map(|f| f.contents.clone()).expect(path);
    (find("nixos/prod1/default.nix"), find("nixos/flake.nix"))
}

#[test]
fn an_environment_that_sets_vault_moves_the_node_from_agenix_to_vault_agent() {
    let text = r#"
secret db-password { nixos = agenix { file = "secrets/db-password.age" } }
node prod1 { os = nixos }
service api { on = node.prod1, image = "example/api:2.4", env { DB = secret.db-password } }
env prod {
  secret.db-password.vault = { address = "https://vault.example.com:8200", path = "kv/data/db", key = "env" }
}
"#;
    let (development, flake) = module_in(text, None);
    assert!(development.contains("age.secrets.db-password.file"), "{development}");
    let files = |module: &str| {
        module.split("environmentFiles = [").nth(1).and_then(|r| r.split(']').next()).map(str::trim).map(String::from)
    };
    assert_eq!(files(&development).as_deref(), Some("config.age.secrets.db-password.path"), "{development}");
    assert!(!development.contains("vault-agent"), "{development}");
    assert!(flake.contains("agenix"), "{flake}");
    let (production, flake) = module_in(text, Some("prod"));
    assert!(production.contains("services.vault-agent.instances.db-password.settings"), "{production}");
    assert_eq!(files(&production).as_deref(), Some("\"/run/vault/db-password\""), "{production}");
    assert!(!production.contains("age."), "agenix is not declared where Vault serves: {production}");
    assert!(!flake.contains("agenix"), "the flake imports no agenix nothing uses: {flake}");
}

#[test]
fn every_reader_of_a_vault_file_waits_for_it_and_prometheus_only_wants_alertmanager() {
    if !Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: nix-instantiate is not installed (apt-get install nix-bin); the waits were not read back");
        return;
    }
    let estate = workspace().join(CASE);
    let files = spec_testkit::generate(&Nixos, &estate);
    let module = written_module(&files, "nixos-vault-waits");
    let units = evaluate(
        &module,
        "let s = m.systemd.services; pick = n: { inherit (s.${n}) wantedBy before after wants script serviceConfig; }; in \
         { db = pick \"vault-file-db-password\"; redis = pick \"vault-file-redis-password\"; \
           smtp = pick \"vault-file-smtp-password\"; \
           waits = builtins.filter (n: builtins.substring 0 11 n == \"vault-file-\") (builtins.attrNames s); \
           prometheus = s.prometheus; api = s.podman-api; }",
    );
    let strings = |value: &serde_json::Value| -> Vec<String> {
        value.as_array().expect("list").iter().map(|v| v.as_str().expect("string").to_string()).collect()
    };
    // The secrets Vault serves, and only those (restic's password is sops', S3's an existing file).
    assert_eq!(
        strings(&units["waits"]),
        ["vault-file-db-password", "vault-file-redis-password", "vault-file-smtp-password"]
    );
    for (wait, secret, readers) in [
        ("db", "db-password", vec!["nightly-dump.service", "podman-api.service"]),
        ("redis", "redis-password", vec!["redis-main.service"]),
        ("smtp", "smtp-password", vec!["alertmanager.service"]),
    ] {
        let unit = &units[wait];
        // Held back: each reader wants the wait and is ordered after it.
        assert_eq!(strings(&unit["wantedBy"]), readers, "{unit}");
        assert_eq!(strings(&unit["before"]), readers, "{unit}");
        assert_eq!(strings(&unit["after"]), [format!("vault-agent-{secret}.service")], "{unit}");
        // It polls for the very file the agent renders, with no start timeout, and stays active.
        let script = unit["script"].as_str().expect("script");
        assert!(script.contains(&format!("[ -e /run/vault/{secret} ]")), "{script}");
        assert_eq!(unit["serviceConfig"]["TimeoutStartSec"], "infinity", "{unit}");
        assert_eq!(unit["serviceConfig"]["Type"], "oneshot", "{unit}");
        assert_eq!(unit["serviceConfig"]["RemainAfterExit"], true, "{unit}");
    }
    // Prometheus starts whether or not Alertmanager can: wanted, neither required nor ordered.
    let prometheus = &units["prometheus"];
    assert_eq!(strings(&prometheus["wants"]), ["alertmanager.service"], "{prometheus}");
    assert!(prometheus.get("requires").is_none() && prometheus.get("after").is_none(), "{prometheus}");
    // The container restarts at a pace, without a start limit, while what it reaches waits too.
    assert_eq!(units["api"]["startLimitIntervalSec"], 0, "{}", units["api"]);
    assert_eq!(units["api"]["serviceConfig"]["RestartSec"], "10s", "{}", units["api"]);
}

#[test]
fn a_wireguard_key_from_vault_holds_back_its_interface() {
    let text = r#"
secret wg { nixos = agenix { file = "secrets/wg.age" } }
node prod1 {
  os      = nixos
  address = 10.0.0.1
  wireguard { public_key = "dDAe15mGjAVfG67Q5p3psJS3M/HqKBodFGj/4sZVWkM=", private_key = secret.wg }
}
network mesh { wireguard { cidr = 10.0.0.0/24, port = 51820 }, members = [node.prod1] }
# Something on the node, so that the environment's build writes it (a network alone is no use).
service api { on = node.prod1, image = "example/api:1.0" }
env prod {
  secret.wg.vault = { address = "https://vault.example.com:8200", path = "kv/data/wg", key = "key" }
}
"#;
    let (development, _) = module_in(text, None);
    assert!(!development.contains("vault-file-"), "agenix files need no wait: {development}");
    let (production, _) = module_in(text, Some("prod"));
    assert!(
        production.contains(r#"systemd.services.vault-file-wg.wantedBy = [ "wireguard-mesh.service" ];"#),
        "{production}"
    );
    assert!(
        production.contains(r#"systemd.services.vault-file-wg.before = [ "wireguard-mesh.service" ];"#),
        "{production}"
    );
}

/// The SSH key syncoid replicates with is read by syncoid's own user, not by root or systemd: each
/// backend writes it owned by `syncoid` (agenix's and sops-nix's `owner`, the vault-agent
/// template's `user`), where every other secret stays root's.
#[test]
fn the_replication_key_is_owned_by_syncoid_under_every_backend() {
    let text = |backend: &str| {
        format!(
            r#"
secret syncoid {{ nixos = {backend} }}
secret other {{ nixos = {backend} }}
node prod1 {{ os = nixos, address = 10.0.0.1, zpool tank {{ layout = stripe, disks = ["/dev/sda"] }} }}
node standby {{ os = nixos, address = 10.0.0.2 }}
storage data {{ on = node.prod1, zfs {{ pool = "tank", dataset = "data" }} }}
service api {{ on = node.prod1, image = "example/api:2.4", env {{ DB = secret.other }} }}
backup data {{
  source    = storage.data
  replicate {{ to = node.standby, every = 5m, key = secret.syncoid, public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb2mQ0B0fJw7Xq3p1m6Sx0n9v3V9dVxYx8ZtWc1kLmN syncoid@prod1" }}
}}
env prod {{
  secret.syncoid.vault = {{ address = "https://vault.example.com:8200", path = "kv/data/syncoid", key = "value" }}
  secret.other.vault = {{ address = "https://vault.example.com:8200", path = "kv/data/other", key = "value" }}
}}
"#
        )
    };
    let agenix = module_in(&text(r#"agenix { file = "secrets/x.age" }"#), None).0;
    assert!(agenix.contains("age.secrets.syncoid.owner = \"syncoid\";"), "{agenix}");
    assert!(!agenix.contains("age.secrets.other.owner"), "{agenix}");
    let sops = module_in(&text(r#"sops { file = "secrets/x.yaml" }"#), None).0;
    assert!(sops.contains("sops.secrets.syncoid.owner = \"syncoid\";"), "{sops}");
    assert!(!sops.contains("sops.secrets.other.owner"), "{sops}");
    let vault = module_in(&text(r#"agenix { file = "secrets/x.age" }"#), Some("prod")).0;
    let template = |name: &str| {
        let at = vault.find(&format!("services.vault-agent.instances.{name}.settings.template = [")).expect("an agent");
        let rest = &vault[at..];
        rest[..rest.find("];\n").expect("the list's end")].to_string()
    };
    assert!(template("syncoid").contains("user = \"syncoid\";"), "{}", template("syncoid"));
    assert!(!template("other").contains("user = "), "{}", template("other"));
}
