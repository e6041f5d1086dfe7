//! Where a container's ports are published, as both host back ends must agree on it: on every
//! address when the port is exposed to the public; otherwise on loopback (for the node itself)
//! and on each of the node's own addresses a peer reaches it by ([`spec_compiler::model::reach`]:
//! a service that needs it from another node or a cluster, an `expose` to a network or the
//! cluster), plus the node's address when a Prometheus on another node scrapes the port.
//!
//! Published ports bypass the NixOS firewall's input chain only for the addresses they are
//! bound to, so binding exactly those addresses is what keeps a port off the public interface.

use std::collections::BTreeSet;
use std::net::IpAddr;

use spec_compiler::model::reach::{Opening, Way};

/// The `host-address:` prefixes of one port's `--publish` (`""` for every address).
pub fn binds(port: &str, openings: &[Opening], scraped_on: Option<IpAddr>) -> Vec<String> {
    let mine = openings.iter().filter(|o| o.port == port);
    if mine.clone().any(|o| o.way == Way::Public) {
        return vec![String::new()];
    }
    let mut addresses: BTreeSet<IpAddr> = mine
        .filter_map(|o| match &o.way {
            Way::Peer { bind, .. } => Some(*bind),
            Way::Public => None,
        })
        .collect();
    addresses.extend(scraped_on);
    let mut binds = vec!["127.0.0.1:".to_string()];
    binds.extend(addresses.into_iter().map(|a| match a {
        IpAddr::V4(ip) => format!("{ip}:"),
        IpAddr::V6(ip) => format!("[{ip}]:"),
    }));
    binds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: &str, bind: &str) -> Opening {
        Opening {
            port: port.into(),
            way: Way::Peer { interface: Some("mesh".into()), bind: bind.parse().unwrap(), peer: "10.0.0.5/32".into() },
        }
    }

    #[test]
    fn a_port_listens_where_it_is_reached_and_nowhere_else() {
        assert_eq!(binds("db", &[], None), ["127.0.0.1:"]);
        assert_eq!(binds("db", &[peer("db", "10.0.0.1"), peer("db", "10.0.0.1")], None), ["127.0.0.1:", "10.0.0.1:"]);
        assert_eq!(binds("web", &[peer("db", "10.0.0.1")], None), ["127.0.0.1:"]);
        assert_eq!(binds("db", &[Opening { port: "db".into(), way: Way::Public }], None), [""]);
        assert_eq!(binds("m", &[], Some("fd00::1".parse().unwrap())), ["127.0.0.1:", "[fd00::1]:"]);
    }
}
