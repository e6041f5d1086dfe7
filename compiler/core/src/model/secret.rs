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
//!
//! A secret may hold several named values (`keys = ["admin-user", "admin-password"]`), each read
//! as `secret.NAME.KEY`; its backends then name no `key`. The model stage ([`super::secret_keys`])
//! turns each such reference into one to the key's *facet*: a one-key secret named `NAME.KEY`
//! whose backends are derived from the secret's by [`Secret::facet`] (an agenix file
//! `FILE/KEY.age`, a sops key `KEY`, a file `PATH/KEY` on the host, a credential `PATH/KEY`, the
//! Vault field `KEY`, the key `KEY` of the one Kubernetes Secret named after the secret), so every
//! target reads a key as it reads a one-key secret, and only the Kubernetes back end, which writes
//! one `ExternalSecret` for every key, looks at the secret itself.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::Spanned;

/// A secret, by reference: where each target finds it. The value never enters the spec.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// The names of the values a secret holding several has (a user and a password), each read
    /// as `secret.NAME.KEY`: one file per key on hosts, one key each of one Secret on clusters.
    /// Its backends then name no `key`.
    pub keys: Option<Spanned<Vec<Spanned<String>>>>,
    /// How NixOS nodes get it.
    pub nixos: Option<Spanned<NixosSecret>>,
    /// How clusters get it.
    pub k8s: Option<Spanned<KubernetesSecret>>,
    /// How other hosts' systemd units get it.
    pub systemd: Option<Spanned<SystemdSecret>>,
    /// A Vault KV secret, read by every NixOS node (vault-agent) and cluster (External Secrets)
    /// in place of their own backends.
    pub vault: Option<Spanned<Vault>>,
    /// Set on a key's facet (built by the model stage, never written): the secret and key it is.
    #[serde(skip)]
    #[schemars(skip)]
    pub facet: Option<Facet>,
}

/// Which key of which secret a facet is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facet {
    /// The secret declaring the key.
    pub of: String,
    /// The key.
    pub key: String,
}

/// A facet's name: the secret's and the key's, joined by a dot (no resource name holds one).
pub fn facet_name(secret: &str, key: &str) -> String {
    format!("{secret}.{key}")
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

    /// The keys a secret holding several values declares (empty for a one-key secret).
    pub fn keys(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.keys.iter().flat_map(|k| k.value.iter())
    }

    /// The facet of one of its keys: a one-key secret whose backends read that key.
    pub fn facet(&self, of: &str, key: &Spanned<String>) -> Secret {
        let k = key.value.as_str();
        let under = |folder: &str| format!("{}/{k}", folder.trim_end_matches('/'));
        let nixos = self.nixos.as_ref().map(|b| Spanned {
            span: b.span,
            value: match &b.value {
                NixosSecret::Agenix { file } => NixosSecret::Agenix { file: format!("{}.age", under(file)) },
                NixosSecret::Sops { file, .. } => NixosSecret::Sops { file: file.clone(), key: Some(k.to_string()) },
                NixosSecret::Existing { path } => {
                    NixosSecret::Existing { path: Spanned { value: under(&path.value), span: path.span } }
                }
            },
        });
        let k8s = self.k8s.as_ref().map(|b| Spanned {
            span: b.span,
            value: match &b.value {
                KubernetesSecret::Existing { name, .. } => {
                    KubernetesSecret::Existing { name: name.clone(), key: Some(k.to_string()) }
                }
                KubernetesSecret::External { store, path, .. } => {
                    KubernetesSecret::External { store: store.clone(), path: path.clone(), key: Some(k.to_string()) }
                }
            },
        });
        let systemd = self.systemd.as_ref().map(|b| Spanned {
            span: b.span,
            value: match &b.value {
                SystemdSecret::Credential { path, encrypted } => {
                    SystemdSecret::Credential { path: under(path), encrypted: encrypted.clone() }
                }
            },
        });
        let vault = self
            .vault
            .as_ref()
            .map(|b| Spanned { span: b.span, value: Vault { key: Some(key.clone()), ..b.value.clone() } });
        Secret { keys: None, nixos, k8s, systemd, vault, facet: Some(Facet { of: of.to_string(), key: k.to_string() }) }
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
        /// The key inside it (none when the secret declares `keys`).
        key: Option<String>,
    },
    /// A Secret synced by External Secrets from a store.
    External {
        /// The SecretStore's name.
        store: String,
        /// The path in the store.
        path: String,
        /// The key inside it (none when the secret declares `keys`).
        key: Option<String>,
    },
}

impl KubernetesSecret {
    /// The key it names, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            KubernetesSecret::Existing { key, .. } | KubernetesSecret::External { key, .. } => key.as_deref(),
        }
    }
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
    /// The field of the secret that holds the value (none when the secret declares `keys`: each
    /// key is a field).
    pub key: Option<Spanned<String>>,
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

    /// The field it reads (empty where a secret's `keys` name the fields: its facets' own).
    pub fn key(&self) -> &str {
        self.key.as_ref().map_or("", |k| k.value.as_str())
    }

    /// The KV mount: the path's first segment.
    pub fn mount(&self) -> &str {
        self.path.value.split('/').next().unwrap_or("")
    }
}
