//! k3s on hosts that are not NixOS: `k3s.service` for a server, `k3s-agent.service` for an agent,
//! shaped like the units k3s's install script writes (`Type=notify` for a server, `exec` for an
//! agent, `Delegate=yes`, `KillMode=process`, no task or file limits, restarted always, the
//! `br_netfilter` and `overlay` modules loaded first), running `/usr/local/bin/k3s`, where the
//! install script puts the binary (`INSTALL_K3S_SKIP_ENABLE=true` installs it without its own
//! units). The first of several servers starts the embedded etcd (`--cluster-init`); every other
//! node joins the first server at its `address` (`--server https://<address>:6443`) with the
//! cluster's token, a credential (`LoadCredential=` from the secret's `systemd` backend) read
//! through `--token-file=%d/<token>`; a node that cannot join is E1421. The node's `address` is its
//! `--node-ip`, and the first WireGuard network it belongs to carries flannel (`--flannel-iface`),
//! as on NixOS. The ports the nodes reach each other on are the host's firewall's, which spec
//! does not manage here.

use spec_compiler::diagnostics::{Code, Diagnostic};
use spec_compiler::model::Distribution;
use spec_compiler::source::Span;

use super::NodeUnits;
use crate::escape::exec_arg;
use crate::unit::UnitFile;

/// Where k3s's install script puts the binary.
const K3S: &str = "/usr/local/bin/k3s";
/// The Kubernetes API of a k3s server.
const API_PORT: u16 = 6443;

impl<'a> NodeUnits<'a> {
    pub(super) fn k3s(&mut self) {
        let node = self.node;
        for cluster in self.index.on(&node.name).clusters.iter().copied() {
            if cluster.spec.distribution.value != Distribution::K3s {
                continue;
            }
            let servers: Vec<&str> = cluster.spec.servers.iter().map(|s| s.name.as_str()).collect();
            let is_server = servers.contains(&node.name.as_str());
            if !is_server && !cluster.spec.agents.iter().any(|a| a.name == node.name) {
                continue;
            }
            let first = servers.first().copied();
            let joins = first != Some(node.name.as_str());
            let span = cluster.name_span;
            let mut unit = UnitFile::default();
            let role = if is_server { "server" } else { "agent" };
            unit.set("Unit", "Description", format!("k3s {role} of cluster {}", cluster.name));
            unit.set("Unit", "Documentation", "https://k3s.io");
            unit.set("Unit", "Wants", "network-online.target");
            unit.set("Unit", "After", "network-online.target");
            let mut args = vec![K3S.to_string(), role.to_string()];
            if is_server && !joins && servers.len() > 1 {
                args.push("--cluster-init".into());
            }
            if joins {
                let address = first.and_then(|f| self.index.node(f)).and_then(|n| n.spec.address.as_ref());
                match address {
                    Some(address) => args.push(format!("--server=https://{}:{API_PORT}", address.value.0)),
                    None => {
                        self.k3s_refused(&cluster.name, "the first server has no `address` to join", span);
                        continue;
                    }
                }
            }
            match &cluster.spec.token {
                Some(token) => {
                    let Some((setting, credential)) = self.credential(&token.name) else { continue };
                    unit.set("Service", setting, credential);
                    // `%d` is the credentials directory: a specifier, so written unescaped.
                    args.push(format!("--token-file=%d/{}", token.name));
                }
                None if joins => {
                    self.k3s_refused(&cluster.name, "its nodes share no `token` secret to join with", span);
                    continue;
                }
                None => {}
            }
            if let Some(address) = &node.spec.address {
                args.push(exec_arg(&format!("--node-ip={}", address.value.0)));
            }
            let mesh = self
                .index
                .on(&node.name)
                .networks
                .iter()
                .find(|n| n.spec.wireguard.is_some() && n.spec.members.iter().any(|m| m.name == node.name));
            if let Some(mesh) = mesh {
                args.push(exec_arg(&format!("--flannel-iface={}", mesh.name)));
            }
            unit.set("Service", "Type", if is_server { "notify" } else { "exec" });
            unit.set("Service", "Delegate", "yes");
            unit.set("Service", "KillMode", "process");
            unit.set("Service", "LimitNOFILE", "1048576");
            unit.set("Service", "LimitNPROC", "infinity");
            unit.set("Service", "LimitCORE", "infinity");
            unit.set("Service", "TasksMax", "infinity");
            unit.set("Service", "TimeoutStartSec", "0");
            unit.set("Service", "Restart", "always");
            unit.set("Service", "RestartSec", "5s");
            unit.set("Service", "ExecStartPre", "-/sbin/modprobe br_netfilter");
            unit.set("Service", "ExecStartPre", "-/sbin/modprobe overlay");
            unit.set("Service", "ExecStart", args.join(" "));
            unit.set("Install", "WantedBy", "multi-user.target");
            let name = if is_server { "k3s.service" } else { "k3s-agent.service" };
            self.emit(name, &unit, span);
        }
    }

    fn k3s_refused(&mut self, cluster: &str, what: &str, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::E1421,
                span,
                format!("node `{}` cannot join k3s cluster `{cluster}`: {what}", self.node.name),
            )
            .with_primary_label("the cluster")
            .with_help("give the first server an `address`, and the cluster a join token: `token = secret.k3s-token`"),
        );
    }
}
