//! External resources (kept out of `kinds.rs` by concept): `bucket NAME { … }`, a bucket of an
//! object store, and `endpoint NAME { … }`, a service the estate does not run (a SaaS API, an
//! object store) reached at a URL. Neither is generated anywhere: they exist so services can
//! `needs` them, secrets belong to them (`credentials`) and backups copy to them, and so the graph
//! rules can cross-check what the estate writes there (a backup keeping copies longer than its
//! bucket's lifecycle keeps objects is E0651; its transitions to colder storage classes are
//! checked in `graph/lifecycle.rs`).
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
    /// Objects move to colder storage classes, each this long after they are written:
    /// `[{ after = 90d, to = glacier }]`, in the order they happen.
    #[serde(default)]
    pub transition: Vec<Spanned<Transition>>,
}

/// One move of a bucket's objects to another storage class.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// How long after an object is written it moves.
    pub after: Spanned<Duration>,
    /// The storage class it moves to.
    pub to: Spanned<StorageClass>,
}

/// An S3 storage class an object can move to, warmest first: S3 moves objects only towards
/// colder classes, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StorageClass {
    /// Standard-Infrequent Access (`STANDARD_IA`): read at once, charged per read.
    StandardIa,
    /// Intelligent-Tiering (`INTELLIGENT_TIERING`): moved between tiers by access, read at once.
    IntelligentTiering,
    /// One Zone-Infrequent Access (`ONEZONE_IA`): one availability zone, read at once.
    OnezoneIa,
    /// Glacier Instant Retrieval (`GLACIER_IR`): read at once, charged per read.
    GlacierIr,
    /// Glacier Flexible Retrieval (`GLACIER`): read only after a retrieval (minutes to hours).
    Glacier,
    /// Glacier Deep Archive (`DEEP_ARCHIVE`): read only after a retrieval (12 to 48 hours).
    DeepArchive,
}

impl StorageClass {
    /// The class as S3 names it in a lifecycle rule.
    pub fn s3_name(self) -> &'static str {
        match self {
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::IntelligentTiering => "INTELLIGENT_TIERING",
            StorageClass::OnezoneIa => "ONEZONE_IA",
            StorageClass::GlacierIr => "GLACIER_IR",
            StorageClass::Glacier => "GLACIER",
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
        }
    }

    /// The class as a spec writes it.
    pub fn written(self) -> &'static str {
        match self {
            StorageClass::StandardIa => "standard-ia",
            StorageClass::IntelligentTiering => "intelligent-tiering",
            StorageClass::OnezoneIa => "onezone-ia",
            StorageClass::GlacierIr => "glacier-ir",
            StorageClass::Glacier => "glacier",
            StorageClass::DeepArchive => "deep-archive",
        }
    }

    /// The shortest a standard retrieval takes before an object of the class can be read, in
    /// milliseconds (AWS's documented times: Glacier Flexible Retrieval 3 to 5 hours, Deep Archive
    /// within 12 hours); `None` for classes read at once.
    pub fn retrieval(self) -> Option<u64> {
        const HOUR: u64 = 3_600_000;
        match self {
            StorageClass::Glacier => Some(3 * HOUR),
            StorageClass::DeepArchive => Some(12 * HOUR),
            _ => None,
        }
    }
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

    /// The bucket's transitions, in the order written.
    pub fn transitions(&self) -> &[Spanned<Transition>] {
        self.lifecycle.as_ref().map_or(&[], |l| l.value.transition.as_slice())
    }

    /// The first transition to a class that must be retrieved before it is read, if any.
    pub fn first_cold(&self) -> Option<&Spanned<Transition>> {
        self.transitions()
            .iter()
            .filter(|t| t.value.to.value.retrieval().is_some())
            .min_by_key(|t| t.value.after.value.0)
    }

    /// How long the bucket keeps an object, when a lifecycle rule expires them.
    pub fn expires_after(&self) -> Option<&Spanned<Duration>> {
        self.lifecycle.as_ref()?.value.expire.as_ref()
    }
}
