//! A service whose replicas are the members of one cluster of their own (NATS with JetStream,
//! Redis Cluster): `members { size, ports, args, entry, separator, form { image, args } }`.
//!
//! The compiler knows no product: a preset says how many members the service runs, which of its
//! ports the members reach each other on, the arguments a member starts with where it runs as a
//! replica, how one entry of the member list is written, and the one-shot that forms the cluster
//! once every member answers. On a Kubernetes cluster each member has a stable name
//! (`<service>-<i>.<service>-members.<namespace>.svc.cluster.local`, a StatefulSet's pod behind a
//! headless Service that publishes members before they are ready), its own claim per volume, and
//! three environment variables the kubelet expands in its arguments (`$(MEMBER_HOST)`):
//! [`MEMBER_NAME`] (its pod's name), [`MEMBER_HOST`] (its stable host name) and [`MEMBER_LIST`]
//! (every member's `entry`, joined by `separator`). On a node a service is one member
//! (`size = 1`), its peers services of their own; a larger `size` there is E0705.
//!
//! Invariants the back ends rely on once the graph rules pass: `size` is at least 1, every port
//! named is a port of the service (E0707), and `replicas`, when set, equals `size` and no
//! autoscaler changes it (E0706).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::{LocalName, Spanned};

/// The pod's own name (`nats-1`), in a member's environment.
pub const MEMBER_NAME: &str = "MEMBER_NAME";
/// The member's stable host name, in a member's environment.
pub const MEMBER_HOST: &str = "MEMBER_HOST";
/// Every member's entry, joined, in each member's and the forming one-shot's environment.
pub const MEMBER_LIST: &str = "MEMBER_LIST";
/// What stands for a member's stable host name in `entry`.
pub const MEMBER_PLACEHOLDER: &str = "{member}";

/// The members a service's replicas are.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// How many members the service runs as replicas: 1 for one member of a cluster of services
    /// (on nodes), more for a cluster of its own replicas (on a Kubernetes cluster).
    #[schemars(range(min = 1))]
    pub size: Spanned<u32>,
    /// The ports the members reach each other on (a cluster bus, routes), by name: admitted
    /// between the members where traffic is denied.
    #[serde(default)]
    pub ports: Vec<Spanned<LocalName>>,
    /// The arguments a member starts with when it runs as a replica, in place of `args`; the
    /// kubelet expands `$(MEMBER_NAME)`, `$(MEMBER_HOST)` and `$(MEMBER_LIST)` in them.
    pub args: Option<Vec<Spanned<String>>>,
    /// One entry of `MEMBER_LIST`, `{member}` standing for the member's stable host name
    /// (`nats://{member}:6222`). Default: `{member}`.
    pub entry: Option<Spanned<String>>,
    /// What joins the entries of `MEMBER_LIST`. Default: a space.
    pub separator: Option<Spanned<String>>,
    /// A one-shot that forms the cluster once every member answers, run after each install and
    /// upgrade (it must do nothing when the cluster is formed), with the service's environment
    /// and `MEMBER_LIST`.
    pub form: Option<Spanned<MembersForm>>,
}

/// The one-shot that forms a cluster of members.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersForm {
    /// The container image, `repository:tag`.
    pub image: Spanned<String>,
    /// The arguments passed to the image's entry point.
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
}

impl Members {
    /// The number of members.
    pub fn size(&self) -> u32 {
        self.size.value
    }

    /// Whether the service's replicas are the members (more than one).
    pub fn as_replicas(&self) -> bool {
        self.size.value > 1
    }

    /// `MEMBER_LIST` for these stable host names.
    pub fn list<'h>(&self, hosts: impl IntoIterator<Item = &'h str>) -> String {
        let entry = self.entry.as_ref().map_or(MEMBER_PLACEHOLDER, |e| e.value.as_str());
        let separator = self.separator.as_ref().map_or(" ", |s| s.value.as_str());
        hosts.into_iter().map(|host| entry.replace(MEMBER_PLACEHOLDER, host)).collect::<Vec<_>>().join(separator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(entry: Option<&str>, separator: Option<&str>) -> Members {
        let spanned = |s: &str| Spanned { value: s.to_string(), span: crate::source::Span::default() };
        Members {
            size: Spanned { value: 3, span: crate::source::Span::default() },
            ports: Vec::new(),
            args: None,
            entry: entry.map(spanned),
            separator: separator.map(spanned),
            form: None,
        }
    }

    #[test]
    fn the_list_writes_each_member_by_its_entry() {
        let hosts = ["a.x", "b.x"];
        assert_eq!(members(None, None).list(hosts), "a.x b.x");
        assert_eq!(members(Some("nats://{member}:6222"), Some(",")).list(hosts), "nats://a.x:6222,nats://b.x:6222");
    }
}
