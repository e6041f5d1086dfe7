//! The `backup` kind (kept out of `kinds.rs` by concept): what is copied (a storage, or a
//! service's data through the dump its `dump { … }` names), the local snapshots, the ZFS replica
//! and the offsite copies, with the objectives they are checked against.
//!
//! Invariants the graph rules and the back ends share: [`Backup::copies`] is the one list of
//! offsite copies, in source order, each with its job name (the backup's name for the first, then
//! `<backup>-2`, `<backup>-3`…, so a list of one is the single form and appending keeps the names
//! already deployed); a copy writes to exactly one repository once the graph rules pass (E0637
//! otherwise), either a `repository` or a `bucket` (with `path`, default the job name), and
//! [`Restic::repository_in`] spells it the same way for every target.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Resource;
use super::external::Bucket;
use super::types::*;
use crate::source::Span;

/// A backup policy for one storage or one service's data.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// What is backed up: a storage (its files), or a service (its data, through the dump the
    /// service's `dump { … }` names).
    pub source: Spanned<BackupSourceRef>,
    /// Local snapshots.
    pub snapshots: Option<Spanned<Snapshots>>,
    /// The offsite copy (`restic { … }`), or a list of them, each on its own schedule.
    pub offsite: Option<Spanned<Offsites>>,
    /// The most data the estate may lose (recovery point objective), checked against the most
    /// frequent copy.
    pub rpo: Option<Spanned<Duration>>,
    /// The longest a restore may take (recovery time objective): the restore test's time limit.
    pub rto: Option<Spanned<Duration>>,
    /// How often a restore is tested.
    pub verify: Option<Spanned<Cadence>>,
    /// ZFS replication of the dataset to another node (send/receive).
    pub replicate: Option<Spanned<Replicate>>,
}

/// One offsite copy or several.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Offsites {
    /// One copy: `offsite = restic { … }`.
    One(Box<Offsite>),
    /// Several, each with its own schedule: `offsite = [restic { … }, restic { … }]`.
    Many(Vec<Spanned<Offsite>>),
}

/// Read by hand rather than as an untagged enum: serde buffers an untagged value, which loses the
/// model's tagged form (`restic { … }`); a list reads each item, spans kept, as an [`Offsite`].
impl<'de> Deserialize<'de> for Offsites {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Offsites;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`restic { … }` or a list of them")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Offsites, A::Error> {
                let mut copies = Vec::new();
                while let Some(copy) = seq.next_element::<Spanned<Offsite>>()? {
                    copies.push(copy);
                }
                Ok(Offsites::Many(copies))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Offsites, A::Error> {
                // The tagged form: `{ "$tag": [variant, record] }`.
                let _tag: Option<String> = map.next_key()?;
                let (variant, restic): (String, Restic) = map.next_value()?;
                match variant.as_str() {
                    "restic" => Ok(Offsites::One(Box::new(Offsite::Restic(restic)))),
                    other => Err(serde::de::Error::custom(format!("unknown offsite kind `{other}`"))),
                }
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// One offsite copy of a backup, as the back ends write it.
pub struct Copy<'a> {
    /// The job's name: the backup's for the first copy, `<backup>-<n>` for the n-th.
    pub name: String,
    /// The copy.
    pub restic: &'a Restic,
    /// Where the copy is written.
    pub span: Span,
}

impl Backup {
    /// The name of the storage backed up, when the source is a storage.
    pub fn storage(&self) -> Option<&str> {
        (self.source.kind == "storage").then_some(self.source.name.as_str())
    }

    /// The name of the service whose dump is backed up, when the source is a service.
    pub fn service(&self) -> Option<&str> {
        (self.source.kind == "service").then_some(self.source.name.as_str())
    }

    /// Every offsite copy, in source order, with its job name (see the module's invariants).
    pub fn copies(&self, backup: &str) -> Vec<Copy<'_>> {
        let Some(offsite) = &self.offsite else { return Vec::new() };
        let written: Vec<(&Offsite, Span)> = match &offsite.value {
            Offsites::One(one) => vec![(one.as_ref(), offsite.span)],
            Offsites::Many(many) => many.iter().map(|o| (&o.value, o.span)).collect(),
        };
        written
            .into_iter()
            .enumerate()
            .map(|(i, (Offsite::Restic(restic), span))| Copy {
                name: if i == 0 { backup.to_string() } else { format!("{backup}-{}", i + 1) },
                restic,
                span,
            })
            .collect()
    }
}

/// ZFS replication: the dataset sent incrementally to a pool on another node.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replicate {
    /// The node receiving the copy, reached at its `address` (or else its `endpoint`) over SSH.
    pub to: NodeRef,
    /// How often the copy is brought up to date.
    pub every: Spanned<Duration>,
    /// The dataset on the receiving node, `pool/path`. Default: the source's `pool/dataset`.
    pub dataset: Option<Spanned<String>>,
    /// The user the sending node logs in as on the receiving node. Default: `syncoid`.
    #[schemars(extend("default" = "syncoid"))]
    pub user: Option<Spanned<String>>,
    /// The SSH private key the sending node logs in with, always a secret.
    pub key: Option<Spanned<SecretRef>>,
    /// The public half of `key` (not a secret), which the receiving node lets in.
    pub public_key: Option<Spanned<String>>,
}

/// Local snapshots.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshots {
    /// How often a snapshot is taken.
    pub every: Spanned<Duration>,
    /// How many to keep.
    pub keep: Option<Spanned<Keep>>,
}

/// Retention counts.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Keep {
    /// Hourly copies.
    pub hourly: Option<Spanned<u32>>,
    /// Daily copies.
    pub daily: Option<Spanned<u32>>,
    /// Weekly copies.
    pub weekly: Option<Spanned<u32>>,
    /// Monthly copies.
    pub monthly: Option<Spanned<u32>>,
    /// Yearly copies.
    pub yearly: Option<Spanned<u32>>,
}

/// The length of each retention tier, finest first, in milliseconds (a month is 30 days).
pub const KEEP_TIERS: [(&str, u64); 5] = [
    ("hourly", 3_600_000),
    ("daily", 86_400_000),
    ("weekly", 7 * 86_400_000),
    ("monthly", 30 * 86_400_000),
    ("yearly", 365 * 86_400_000),
];

impl Keep {
    /// The tiers that are set, finest first: (`hourly`, 24), (`daily`, 7)…
    pub fn tiers(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        [
            ("hourly", &self.hourly),
            ("daily", &self.daily),
            ("weekly", &self.weekly),
            ("monthly", &self.monthly),
            ("yearly", &self.yearly),
        ]
        .into_iter()
        .filter_map(|(tier, count)| count.as_ref().map(|c| (tier, c.value)))
    }

    /// How far back the oldest copy kept reaches, in milliseconds: the longest of the tiers'
    /// counts times their lengths (12 monthly copies reach 360 days back), with the tier that
    /// reaches it and its count.
    pub fn reach(&self) -> Option<(u64, &'static str, u32)> {
        self.tiers()
            .filter(|(_, count)| *count > 0)
            .filter_map(|(tier, count)| {
                let length = KEEP_TIERS.iter().find(|(t, _)| *t == tier).map(|(_, l)| *l)?;
                Some((length.saturating_mul(u64::from(count)), tier, count))
            })
            .max_by_key(|(reach, _, _)| *reach)
    }
}

/// An offsite copy.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Offsite {
    /// restic to a repository, or to a path in a bucket.
    Restic(Restic),
}

/// A restic copy: to a `repository`, or to a `path` in a `bucket` (exactly one of the two).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Restic {
    /// The restic repository (`s3:https://…`).
    pub repository: Option<String>,
    /// The bucket the repository lives in (`bucket.NAME`): its endpoint, name and credentials
    /// make the repository, and its lifecycle is checked against `keep`.
    pub bucket: Option<BucketRef>,
    /// The repository's folder inside `bucket`. Default: the copy's job name.
    pub path: Option<String>,
    /// The repository password.
    pub password: SecretRef,
    /// The repository's own credentials (`AWS_ACCESS_KEY_ID=…` lines for S3, `B2_ACCOUNT_ID=…`
    /// for B2): a secret holding environment lines, needed by every repository kind that
    /// logs in with keys (`s3:`, `b2:`, `azure:`, `gs:`, `swift:`). Default: the bucket's.
    pub credentials: Option<SecretRef>,
    /// How often a copy is made.
    pub every: Duration,
    /// How many to keep.
    pub keep: Option<Keep>,
    /// The most data a loss of the site may lose: checked against this copy's `every`.
    pub rpo: Option<Duration>,
}

/// Where a restic repository is reached over the network, as restic's URL forms say: its host and
/// port (`s3:https://s3.example.com/b` → `s3.example.com`, 443; `s3:host/b` → HTTPS;
/// `rest:http://10.0.0.5:8000/` → `10.0.0.5`, 8000; `b2:` → Backblaze's API, 443). `None` for a
/// local path, `sftp:` or anything else restic reaches without a URL.
pub fn repository_host(repository: &str) -> Option<(String, u16)> {
    if repository.starts_with("b2:") {
        return Some(("api.backblazeb2.com".to_string(), 443));
    }
    let url = repository.strip_prefix("s3:").or_else(|| repository.strip_prefix("rest:"))?;
    let (default_port, rest) = match url.split_once("://") {
        Some(("http", rest)) => (80, rest),
        Some((_, rest)) => (443, rest),
        None => (443, url),
    };
    let authority = rest.split('/').next()?.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    // `[::1]:8000`, `host:8000`, `host`.
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => default_port,
    };
    Some((host.to_string(), port))
}

/// Whether `host` names something inside a Kubernetes cluster (a Service's DNS name, or a short
/// name resolved in the pod's own namespace), which no address range outside the cluster admits.
pub fn in_cluster_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host.parse::<std::net::IpAddr>().is_err()
        && (!host.contains('.') || host.ends_with(".svc") || host.contains(".svc.") || host.ends_with(".cluster.local"))
}

impl Restic {
    /// The repository restic writes to: `repository` as written, or the bucket's S3 URL with the
    /// path (default `job`); `None` when neither is set or the bucket is not declared.
    pub fn repository_in<'b>(
        &self,
        job: &str,
        bucket: impl Fn(&str) -> Option<&'b Resource<Bucket>>,
    ) -> Option<String> {
        if let Some(repository) = &self.repository {
            return Some(repository.clone());
        }
        let bucket = bucket(&self.bucket.as_ref()?.name)?;
        let path = self.path.as_deref().unwrap_or(job).trim_matches('/');
        let endpoint = bucket.spec.endpoint.value.trim_end_matches('/');
        Some(format!("s3:{endpoint}/{}/{path}", bucket.spec.name_or(&bucket.name)))
    }

    /// The secret holding the repository's own credentials: the copy's, or else its bucket's.
    pub fn credentials_in<'b>(
        &'b self,
        bucket: impl Fn(&str) -> Option<&'b Resource<Bucket>>,
    ) -> Option<&'b SecretRef> {
        self.credentials
            .as_ref()
            .or_else(|| bucket(&self.bucket.as_ref()?.name)?.spec.credentials.as_ref().map(|c| &c.value))
    }
}

/// How often something recurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Cadence {
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
}

/// How a service's data is dumped for a backup whose `source` is the service: a command run where
/// the service runs (as `user` on a host, in the service's container otherwise) that writes the
/// data to its standard output. Presets set it (`std.postgres` runs `pg_dumpall`), because only
/// they know their product.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dump {
    /// The command and its arguments, writing the dump to standard output.
    pub command: Spanned<Vec<String>>,
    /// The user the command runs as on a host (`postgres`). Default: the service's own (root
    /// for a NixOS module, the container's user for a container).
    pub user: Option<Spanned<String>>,
    /// The dump's file name in the backup. Default: `<service>.dump`.
    pub file: Option<Spanned<String>>,
}

impl Dump {
    /// The dump's file name in the backup of `service`.
    pub fn file_name(&self, service: &str) -> String {
        self.file.as_ref().map_or_else(|| format!("{service}.dump"), |f| f.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::{in_cluster_host, repository_host};

    #[test]
    fn repository_hosts_as_restic_reaches_them() {
        let host = |r: &str| repository_host(r).map(|(h, p)| format!("{h}:{p}"));
        assert_eq!(host("s3:https://s3.example.com/backups/api").as_deref(), Some("s3.example.com:443"));
        assert_eq!(host("s3:s3.amazonaws.com/bucket").as_deref(), Some("s3.amazonaws.com:443"));
        assert_eq!(host("s3:http://minio.local:9000/b").as_deref(), Some("minio.local:9000"));
        assert_eq!(host("rest:http://user:pw@192.0.2.10:8000/api").as_deref(), Some("192.0.2.10:8000"));
        assert_eq!(host("rest:https://[2001:db8::5]/").as_deref(), Some("2001:db8::5:443"));
        assert_eq!(host("b2:bucket:path").as_deref(), Some("api.backblazeb2.com:443"));
        assert_eq!(host("/srv/restic"), None);
        assert_eq!(host("sftp:user@host:/srv"), None);
        assert_eq!(host("s3:http://host:notaport/b"), None);
    }

    #[test]
    fn hosts_inside_a_cluster_are_service_names() {
        for inside in
            ["minio", "minio.storage.svc", "minio.storage.svc.cluster.local", "minio.storage.svc.cluster.local."]
        {
            assert!(in_cluster_host(inside), "{inside}");
        }
        for outside in ["s3.example.com", "192.0.2.10", "2001:db8::5", "svc.example.com"] {
            assert!(!in_cluster_host(outside), "{outside}");
        }
    }
}
