//! The `secret` kind: where each target finds a secret whose value never enters the spec.
//!
//! A secret names one backend per kind of target (`nixos`, `k8s`, `systemd`) and may name a
//! `vault` backend that serves every target able to read Vault: NixOS nodes (vault-agent renders
//! it to a file) and clusters (External Secrets syncs it into a Secret). Where the secret is in
//! Vault, those targets read it there: `vault` wins over `nixos` and `k8s`, which then serve only
//! an environment without it; so an overlay that sets `vault` (`env prod`) moves every NixOS node
//! and cluster to Vault while the development estate keeps agenix, and hosts of other systems keep
//! their `systemd` backend. Targets ask through [`Secret::on_nixos`], [`Secret::on_kubernetes`]
//! and [`Secret::on_systemd`], the one place that decides which backend serves them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::Spanned;

/// A secret, by reference: where each target finds it. The value never enters the spec.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// How NixOS nodes get it.
    pub nixos: Option<Spanned<NixosSecret>>,
    /// How clusters get it.
    pub k8s: Option<Spanned<KubernetesSecret>>,
    /// How other hosts' systemd units get it.
    pub systemd: Option<Spanned<SystemdSecret>>,
    /// A Vault KV secret, read by every NixOS node (vault-agent) and cluster (External Secrets)
    /// in place of their own backends.
    pub vault: Option<Spanned<Vault>>,
}

/// The backend that serves one kind of target: the secret's `vault`, or the target's own.
#[derive(Clone, Copy, Debug)]
pub enum Backend<'a, T> {
    /// The target's own backend (`nixos = …`, `k8s = …`).
    Own(&'a Spanned<T>),
    /// The secret's `vault` backend.
    Vault(&'a Spanned<Vault>),
}

impl<T> Backend<'_, T> {
    /// The span of the backend's declaration.
    pub fn span(&self) -> crate::source::Span {
        match self {
            Backend::Own(own) => own.span,
            Backend::Vault(vault) => vault.span,
        }
    }
}

impl Secret {
    /// How NixOS nodes read it: its `vault` backend, else its `nixos` one.
    pub fn on_nixos(&self) -> Option<Backend<'_, NixosSecret>> {
        self.vault.as_ref().map(Backend::Vault).or(self.nixos.as_ref().map(Backend::Own))
    }

    /// How clusters read it: its `vault` backend, else its `k8s` one.
    pub fn on_kubernetes(&self) -> Option<Backend<'_, KubernetesSecret>> {
        self.vault.as_ref().map(Backend::Vault).or(self.k8s.as_ref().map(Backend::Own))
    }

    /// How other hosts' units read it: its `systemd` backend only (no Vault agent is generated
    /// for them).
    pub fn on_systemd(&self) -> Option<&Spanned<SystemdSecret>> {
        self.systemd.as_ref()
    }
}

/// A secret backend on NixOS.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum NixosSecret {
    /// An agenix-encrypted file in the repository.
    Agenix {
        /// The `.age` file, relative to the project.
        file: String,
    },
    /// A sops-encrypted file in the repository.
    Sops {
        /// The sops file, relative to the project.
        file: String,
        /// The key inside the file.
        key: Option<String>,
    },
    /// A file already on the host, put there by something other than spec.
    Existing {
        /// The file's absolute path on the host.
        path: Spanned<String>,
    },
}

/// A secret backend on Kubernetes.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum KubernetesSecret {
    /// A Secret that already exists in the namespace.
    Existing {
        /// The Secret's name.
        name: String,
        /// The key inside it.
        key: String,
    },
    /// A Secret synced by External Secrets from a store.
    External {
        /// The SecretStore's name.
        store: String,
        /// The path in the store.
        path: String,
        /// The key inside it.
        key: String,
    },
}

/// A secret backend for plain systemd units.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum SystemdSecret {
    /// A credential file on the host, loaded with `LoadCredential=` (or `LoadCredentialEncrypted=`
    /// when `encrypted`).
    Credential {
        /// The credential file's path on the host.
        path: String,
        /// Whether the file was made by `systemd-creds encrypt` (decrypted by systemd with the
        /// host's key or TPM when the unit starts). Default: false.
        #[schemars(extend("default" = false))]
        encrypted: Option<Spanned<bool>>,
    },
}

impl SystemdSecret {
    /// Whether the credential file is encrypted (`systemd-creds encrypt`).
    pub fn encrypted(&self) -> bool {
        let SystemdSecret::Credential { encrypted, .. } = self;
        encrypted.as_ref().is_some_and(|e| e.value)
    }
}

/// A secret in Vault's KV store (version 2), and how a target logs in to read it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vault {
    /// Vault's address, `https://vault.example.com:8200`.
    pub address: Spanned<String>,
    /// The secret's KV version 2 API path, `MOUNT/data/NAME` (`kv/data/db`; `vault kv get kv/db`
    /// reads the same secret).
    pub path: Spanned<String>,
    /// The field of the secret that holds the value.
    pub key: Spanned<String>,
    /// The Vault role the target logs in as: the Kubernetes auth role on clusters, the AppRole
    /// whose `role-id` and `secret-id` files are in `/etc/vault-agent/<role>/` on NixOS nodes.
    /// Default: `spec`.
    #[schemars(extend("default" = "spec"))]
    pub role: Option<Spanned<String>>,
}

impl Vault {
    /// The role the target logs in as (default `spec`).
    pub fn role(&self) -> &str {
        self.role.as_ref().map_or("spec", |r| r.value.as_str())
    }

    /// The KV mount: the path's first segment.
    pub fn mount(&self) -> &str {
        self.path.value.split('/').next().unwrap_or("")
    }
}
