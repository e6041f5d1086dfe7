//! External resources (kept out of `kinds.rs` by concept): `bucket NAME { … }`, a bucket of an
//! object store, and `endpoint NAME { … }`, a service the estate does not run (a SaaS API, an
//! object store) reached at a URL. Neither is generated anywhere: they exist so services can
//! `needs` them, secrets belong to them (`credentials`) and backups copy to them, and so the graph
//! rules can cross-check what the estate writes there (a backup keeping copies longer than its
//! bucket's lifecycle keeps objects is E0636).
//!
//! Invariant: a bucket's repository URL is `s3:<endpoint>/<name>/<path>` for every target
//! ([`super::Restic::repository_in`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::{Duration, SecretRef, Spanned};

/// A bucket of an S3-compatible object store.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// The object store's URL (`https://s3.eu-central-1.amazonaws.com`, a MinIO or Wasabi host).
    pub endpoint: Spanned<String>,
    /// The bucket's name at the provider. Default: the block's name.
    pub name: Option<Spanned<String>>,
    /// The keys that log in to it: a secret holding environment lines (`AWS_ACCESS_KEY_ID=…`,
    /// `AWS_SECRET_ACCESS_KEY=…`), used by every backup copying to the bucket without its own.
    pub credentials: Option<Spanned<SecretRef>>,
    /// The bucket's lifecycle rules, as configured at the provider.
    pub lifecycle: Option<Spanned<Lifecycle>>,
}

/// A bucket's lifecycle rules.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// Objects are deleted this long after they are written (`90d`).
    pub expire: Option<Spanned<Duration>>,
}

/// A service the estate uses but does not run: a SaaS API, an object store.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalEndpoint {
    /// Where it is reached (`https://api.pinecone.io`).
    pub url: Spanned<String>,
    /// The secret that logs in to it.
    pub credentials: Option<Spanned<SecretRef>>,
}

impl Bucket {
    /// The bucket's name at the provider, for the block named `block`.
    pub fn name_or<'a>(&'a self, block: &'a str) -> &'a str {
        self.name.as_ref().map_or(block, |n| n.value.as_str())
    }

    /// How long the bucket keeps an object, when a lifecycle rule expires them.
    pub fn expires_after(&self) -> Option<&Spanned<Duration>> {
        self.lifecycle.as_ref()?.value.expire.as_ref()
    }
}
