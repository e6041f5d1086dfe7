//! Host-level settings and workloads (kept out of `kinds.rs` by concept): what a service's or a
//! job's container may do on its host (`security { privileged, capabilities, host_network,
//! host_pid }`, for agents such as eBPF probes) and which user and group it runs as
//! (`security { user, group }`, numeric, so a `restricted` namespace admits it), whether a
//! workflow's runs may overlap (`concurrency`), and the capability names Linux has.
//!
//! Invariants the back ends rely on once the graph rules pass: every capability is a Linux
//! capability name without its `CAP_` prefix (E0732), a service or job asking for what its
//! namespace's Pod Security Standard forbids is refused (E0731, root among it under `restricted`),
//! a `group` comes with a `user` (E0738), the ids are in Kubernetes' range (E0307), and a
//! workflow on a host never asks for overlapping runs, which one systemd unit cannot give (E0735).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::*;

/// What a service's or a job's container may do on its host, and who it runs as.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// The numeric user id the container's process runs as, in place of the image's `USER`
    /// (Kubernetes' `runAsUser`, podman's `--user`). A namespace enforcing the `restricted` Pod
    /// Security Standard runs only non-root pods, and the kubelet cannot tell a named or absent
    /// `USER` is not root: a numeric non-root `user` is what lets such an image start there.
    /// `0` is root. Default: the image's.
    #[schemars(range(min = 0, max = 2147483647))]
    pub user: Option<Spanned<u32>>,
    /// The numeric primary group id of the container's process (`runAsGroup`), also the group
    /// that owns its cluster volumes (`fsGroup`), so the user can write them; only beside `user`.
    /// Default: the image's.
    #[schemars(range(min = 0, max = 2147483647))]
    pub group: Option<Spanned<u32>>,
    /// Every device and capability of the host, as root would have them. Default: `false`.
    #[schemars(extend("default" = false))]
    pub privileged: Option<Spanned<bool>>,
    /// Linux capabilities added to and dropped from the container's default set.
    pub capabilities: Option<Spanned<Capabilities>>,
    /// The host's own network stack instead of one of the container's: its ports are the host's.
    /// Default: `false`.
    #[schemars(extend("default" = false))]
    pub host_network: Option<Spanned<bool>>,
    /// The host's process namespace: the container sees and can signal every process. Default:
    /// `false`.
    #[schemars(extend("default" = false))]
    pub host_pid: Option<Spanned<bool>>,
    /// Every GPU of the host, seen without claiming one (a GPU monitoring agent): CDI's
    /// `nvidia.com/gpu=all` device on a host, the NVIDIA runtime class on a cluster. Default:
    /// `false`.
    #[schemars(extend("default" = false))]
    pub all_gpus: Option<Spanned<bool>>,
}

/// Linux capabilities by name, without the `CAP_` prefix (`NET_ADMIN`, `BPF`), or `ALL`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Capabilities added to the container's default set.
    #[serde(default)]
    pub add: Vec<Spanned<String>>,
    /// Capabilities dropped from the container's default set (`ALL` drops every one).
    #[serde(default)]
    pub drop: Vec<Spanned<String>>,
}

impl Security {
    /// Whether the container runs privileged.
    pub fn privileged(&self) -> bool {
        self.privileged.as_ref().is_some_and(|p| p.value)
    }

    /// Whether the container shares the host's network stack.
    pub fn host_network(&self) -> bool {
        self.host_network.as_ref().is_some_and(|p| p.value)
    }

    /// Whether the container shares the host's process namespace.
    pub fn host_pid(&self) -> bool {
        self.host_pid.as_ref().is_some_and(|p| p.value)
    }

    /// The user id it runs as, when set.
    pub fn user(&self) -> Option<u32> {
        self.user.as_ref().map(|u| u.value)
    }

    /// The primary group id it runs as, when set.
    pub fn group(&self) -> Option<u32> {
        self.group.as_ref().map(|g| g.value)
    }

    /// Whether the container sees every GPU of its host.
    pub fn all_gpus(&self) -> bool {
        self.all_gpus.as_ref().is_some_and(|g| g.value)
    }

    /// The capabilities added, as written.
    pub fn added(&self) -> &[Spanned<String>] {
        self.capabilities.as_ref().map_or(&[], |c| &c.value.add)
    }

    /// The capabilities dropped, as written.
    pub fn dropped(&self) -> &[Spanned<String>] {
        self.capabilities.as_ref().map_or(&[], |c| &c.value.drop)
    }

    /// The user the container runs as in podman's and NixOS' `user` form: `uid` or `uid:gid`
    /// (a group alone is E0738: podman has no form for it).
    pub fn podman_user(&self) -> Option<String> {
        let user = self.user()?;
        Some(match self.group() {
            Some(group) => format!("{user}:{group}"),
            None => user.to_string(),
        })
    }

    /// The options podman runs the container with (for `podman run` and NixOS' `extraOptions`),
    /// in a fixed order: user, privileged, host network, host PID, every GPU (CDI's `all` device,
    /// which the NVIDIA container toolkit's CDI specification names beside each GPU's index:
    /// podman acts on no `NVIDIA_VISIBLE_DEVICES` without NVIDIA's OCI hook), dropped then added
    /// capabilities (podman applies `--cap-drop=ALL` before the additions whatever their order).
    /// NixOS' containers take the user in their own `user` option instead
    /// ([`Security::podman_options_but_user`]).
    pub fn podman_options(&self) -> Vec<String> {
        let mut options: Vec<String> = self.podman_user().map(|u| format!("--user={u}")).into_iter().collect();
        options.extend(self.podman_options_but_user());
        options
    }

    /// [`Security::podman_options`] without the user.
    pub fn podman_options_but_user(&self) -> Vec<String> {
        let mut options = Vec::new();
        if self.privileged() {
            options.push("--privileged".to_string());
        }
        if self.host_network() {
            options.push("--network=host".to_string());
        }
        if self.host_pid() {
            options.push("--pid=host".to_string());
        }
        if self.all_gpus() {
            options.push("--device=nvidia.com/gpu=all".to_string());
        }
        options.extend(self.dropped().iter().map(|c| format!("--cap-drop={}", c.value)));
        options.extend(self.added().iter().map(|c| format!("--cap-add={}", c.value)));
        options
    }
}

/// The capabilities of Linux (capabilities(7)), without the `CAP_` prefix, as podman and
/// Kubernetes name them.
pub const CAPABILITIES: [&str; 41] = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

/// The capabilities the Pod Security Standard `baseline` lets a container add (the container
/// runtimes' default set).
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Whether a workflow's runs may overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Concurrency {
    /// A run starts beside one still going (a cluster only: a host's unit runs once at a time).
    Allow,
    /// A run is skipped while the last is still going.
    Forbid,
    /// A run stops the one still going and takes its place.
    Replace,
}

impl Concurrency {
    /// The value of a CronJob's or an Argo CronWorkflow's `concurrencyPolicy`.
    pub fn kubernetes(self) -> &'static str {
        match self {
            Concurrency::Allow => "Allow",
            Concurrency::Forbid => "Forbid",
            Concurrency::Replace => "Replace",
        }
    }
}
