//! Secrets on a NixOS node: each secret the node uses is a file only the host can read, named to
//! the options that read it by path (`passwordFile`, `environmentFiles`, `privateKeyFile`).
//!
//! The secret's backend on NixOS ([`Secret::on_nixos`]) decides where the file comes from: agenix
//! (`age.secrets.<name>`, decrypted to `/run/agenix/<name>`) and sops-nix (`sops.secrets.<name>`,
//! `/run/secrets/<name>`) decrypt a file of the repository with the host's SSH key, which they are
//! told and SSH is enabled for; `existing` names a file already on the host; `vault` runs a
//! vault-agent instance per secret (`services.vault-agent.instances.<name>`, the unit
//! `vault-agent-<name>.service`) that logs in with the AppRole whose `role-id` and `secret-id`
//! files are in `/etc/vault-agent/<role>/` and renders the secret's field to
//! [`vault_destination`]. Secret values never enter the store: the module holds only paths.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::types::{Reference, Spanned};
use spec_compiler::model::{Backend, Kind, Model, NixosSecret, Vault};
use spec_compiler::source::Span;
use spec_compiler::target::Context;

use super::{NodeModule, Refused, path, with};
use crate::nix::{self, Nix, Part};

/// Where vault-agent renders a secret on a NixOS node: a folder of its own, since the agent
/// instances' shared runtime folder (`/run/vault-agent`) is removed whenever one of them stops.
pub fn vault_destination(name: &str) -> String {
    format!("/run/vault/{name}")
}

/// A secret's path (from [`NodeModule::secret_path`]) as a piece of a string: a reference to the
/// module's config (agenix, sops-nix) interpolated, a path on the host (vault-agent's destination,
/// an existing file) written out.
pub(super) fn part(file: Nix) -> Part {
    match file {
        Nix::Str(path) => Part::Text(path),
        Nix::Raw(code) => Part::Code(code),
        other => {
            let mut code = String::new();
            nix::render(&other, 0, &mut code);
            Part::Code(code)
        }
    }
}

/// The vault-agent template that writes a secret's field: the KV version 2 secret's `data` map,
/// indexed by the key (the path and key are checked to be words, E0660, so they need no escape
/// inside the template's strings).
pub fn vault_template(vault: &Vault) -> String {
    format!("{{{{ with secret \"{}\" }}}}{{{{ index .Data.data \"{}\" }}}}{{{{ end }}}}", vault.path.value, vault.key())
}

impl<'a> NodeModule<'a> {
    /// The path of a secret's file on the node, which [`Self::secrets`] declares.
    pub(super) fn secret_path(&mut self, name: &'a str, span: Span) -> Nix {
        self.secrets.entry(name).or_insert(span);
        let backend = self.index.secret(name).and_then(|s| s.spec.on_nixos());
        match backend {
            Some(Backend::Own(own)) => match &own.value {
                NixosSecret::Sops { .. } => Nix::Raw(format!("config.sops.secrets.{}.path", nix::attr_name(name))),
                NixosSecret::Existing { path } => Nix::Str(path.value.clone()),
                NixosSecret::Agenix { .. } => Nix::Raw(format!("config.age.secrets.{}.path", nix::attr_name(name))),
            },
            Some(Backend::Vault(_)) => Nix::Str(vault_destination(name)),
            // Without a backend the graph rules report E0612; agenix's reference keeps the
            // module's shape.
            None => Nix::Raw(format!("config.age.secrets.{}.path", nix::attr_name(name))),
        }
    }

    /// The path of a secret's file read by `owner` itself (a service's own user, which neither
    /// root nor systemd reads the file for): the backend writes the file owned by that user.
    pub(super) fn owned_secret_path(&mut self, name: &'a str, span: Span, owner: &'static str) -> Nix {
        self.owners.insert(name, owner);
        self.secret_path(name, span)
    }

    /// A reference in a payload: a secret becomes its decrypted file's path (E1124 when the
    /// secret has no NixOS backend); anything else has no Nix form.
    pub(super) fn payload_secret(&mut self, reference: &Reference) -> Result<Nix, Refused> {
        let mut written = format!("{}.{}", reference.kind, reference.name);
        for field in &reference.field {
            written.push('.');
            written.push_str(field);
        }
        let secret = self.index.secret(&reference.name).filter(|_| reference.kind == Kind::Secret.as_str());
        let Some(secret) = secret.filter(|_| reference.field.is_empty()) else {
            return Err(Some(format!("the reference `{written}`")));
        };
        if secret.spec.on_nixos().is_none() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E1124,
                    reference.span,
                    format!(
                        "secret `{}` is used on NixOS node `{}` but has no NixOS backend",
                        secret.name, self.node.name
                    ),
                )
                .with_primary_label("used in a payload on a NixOS node")
                .with_label(secret.name_span, "declared without `nixos` or `vault`")
                .with_help("add a backend to the secret: `nixos = agenix { file = \"secrets/NAME.age\" }`"),
            );
            return Err(None);
        }
        Ok(self.secret_path(&secret.name, reference.span))
    }

    /// Declares every secret the node uses with its backend, and what the backends need.
    pub(super) fn secrets(&mut self) {
        let used: Vec<&str> = self.secrets.keys().copied().collect();
        let (mut agenix, mut sops) = (false, false);
        for name in used {
            let Some(secret) = self.index.secret(name) else { continue };
            let Some(backend) = secret.spec.on_nixos() else { continue };
            // Unowned, the backends' files are root's (agenix and sops-nix `owner` "root", mode
            // 0400; vault-agent's file written by the agent, root): a reader of its own needs it.
            let owner = self.owners.get(name).copied();
            let (base, value) = match backend {
                // The decrypted file's path is set to the module's default explicitly, so the
                // module reads the same with or without the agenix/sops-nix module evaluated.
                Backend::Own(Spanned { value: NixosSecret::Agenix { file }, .. }) => {
                    agenix = true;
                    let mut fields = vec![
                        ("file".into(), project_path(self.context, file)),
                        ("path".into(), Nix::Str(format!("/run/agenix/{name}"))),
                    ];
                    fields.extend(owner.map(|o| ("owner".to_string(), Nix::Str(o.into()))));
                    (with(path("age.secrets"), &[name]), Nix::Attrs(fields))
                }
                Backend::Own(Spanned { value: NixosSecret::Sops { file, key }, .. }) => {
                    sops = true;
                    let mut fields = vec![
                        ("sopsFile".to_string(), project_path(self.context, file)),
                        ("path".to_string(), Nix::Str(format!("/run/secrets/{name}"))),
                    ];
                    if let Some(key) = key {
                        fields.push(("key".into(), Nix::Str(key.clone())));
                    }
                    fields.extend(owner.map(|o| ("owner".to_string(), Nix::Str(o.into()))));
                    (with(path("sops.secrets"), &[name]), Nix::Attrs(fields))
                }
                // Already on the host: nothing to declare.
                Backend::Own(Spanned { value: NixosSecret::Existing { .. }, .. }) => continue,
                Backend::Vault(vault) => (
                    with(path("services.vault-agent.instances"), &[name, "settings"]),
                    vault_agent(name, &vault.value, owner),
                ),
            };
            self.define(base, value, backend.span());
        }
        // agenix and sops-nix decrypt with the host's SSH key, which their defaults find only
        // when they see SSH enabled (agenix's assertion fails otherwise): named here, and SSH
        // enabled so the key exists (and Colmena can deploy).
        let host_key = Nix::List(vec![Nix::Str(HOST_KEY.into())]);
        let mut definitions = Vec::new();
        if agenix {
            definitions.push((path("age.identityPaths"), host_key.clone()));
        }
        if sops {
            definitions.push((path("sops.age.sshKeyPaths"), host_key));
        }
        if agenix || sops || self.ssh {
            definitions.push((path("services.openssh.enable"), Nix::Bool(true)));
        }
        self.define_all(definitions, self.node.name_span);
    }
}

/// The settings of the vault-agent instance that renders one secret: Vault's address, an AppRole
/// login from files the operator places in `/etc/vault-agent/<role>/` (kept after reading, so a
/// restart logs in again), and one template writing the secret's field, readable by its owner
/// only: root, or `owner` (consul-template's `user`, which the agent, running as root, chowns the
/// file to).
fn vault_agent(name: &str, vault: &Vault, owner: Option<&str>) -> Nix {
    let folder = format!("/etc/vault-agent/{}", vault.role());
    let approle = Nix::Attrs(vec![
        ("type".into(), Nix::Str("approle".into())),
        (
            "config".into(),
            Nix::Attrs(vec![
                ("role_id_file_path".into(), Nix::Str(format!("{folder}/role-id"))),
                ("secret_id_file_path".into(), Nix::Str(format!("{folder}/secret-id"))),
                ("remove_secret_id_file_after_reading".into(), Nix::Bool(false)),
            ]),
        ),
    ]);
    let mut template = vec![
        ("destination".to_string(), Nix::Str(vault_destination(name))),
        ("contents".to_string(), Nix::Str(vault_template(vault))),
        ("perms".to_string(), Nix::Str("0400".into())),
    ];
    template.extend(owner.map(|o| ("user".to_string(), Nix::Str(o.into()))));
    let template = Nix::Attrs(template);
    Nix::Attrs(vec![
        ("vault".into(), Nix::Attrs(vec![("address".into(), Nix::Str(vault.address.value.clone()))])),
        ("auto_auth".into(), Nix::Attrs(vec![("method".into(), Nix::List(vec![approle]))])),
        ("template".into(), Nix::List(vec![template])),
    ])
}

/// The SSH host key the secret modules decrypt with: sshd creates it on its first start, and an
/// installation that copies it (nixos-anywhere's `--extra-files`) has it before the first
/// activation.
const HOST_KEY: &str = "/etc/ssh/ssh_host_ed25519_key";

/// A project file as a path expression from a node module (`out/nixos/<node>/`, two folders below
/// the output root). The `./. + "…"` form takes any file name, which a path literal cannot.
fn project_path(context: &Context<'_>, file: &str) -> Nix {
    let relative = format!("/../../{}/{}", context.root_from_out, file.trim_start_matches("./"));
    Nix::Raw(format!("(./. + {})", nix::string(&relative)))
}

/// Which secret modules the fleet needs: agenix, sops-nix (for the secrets NixOS nodes read
/// through them; `existing` and `vault`, which wins over both, need neither).
pub(super) fn secret_modules(model: &Model) -> (bool, bool) {
    let (mut agenix, mut sops) = (false, false);
    for secret in &model.secrets {
        match secret.spec.on_nixos() {
            Some(Backend::Own(Spanned { value: NixosSecret::Agenix { .. }, .. })) => agenix = true,
            Some(Backend::Own(Spanned { value: NixosSecret::Sops { .. }, .. })) => sops = true,
            _ => {}
        }
    }
    (agenix, sops)
}
