//! Networks: members of a WireGuard network have an address inside its range and WireGuard keys,
//! no two nodes share an address, and every WireGuard public key is 32 bytes of base64 (a typed,
//! non-secret value). The private key's backend is checked with the other secrets.

use rustc_hash::FxHashMap;
use std::net::IpAddr;

use super::EstateGraph;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::types::Cidr;

/// Checks every network and every node's address and key.
pub fn check(estate: &EstateGraph<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen: FxHashMap<IpAddr, &crate::model::Resource<crate::model::Node>> = FxHashMap::default();
    for node in &estate.model.nodes {
        if let Some(address) = &node.spec.address {
            match seen.get(&address.value.0) {
                Some(first) => diagnostics.push(
                    Diagnostic::new(
                        Code::E0615,
                        address.span,
                        format!("node `{}` has the address {}, like node `{}`", node.name, address.value.0, first.name),
                    )
                    .with_primary_label("used twice")
                    .with_label(
                        first.spec.address.as_ref().map_or(first.name_span, |a| a.span),
                        format!("`{}` has it first", first.name),
                    )
                    .with_help("give every node its own address"),
                ),
                None => {
                    seen.insert(address.value.0, node);
                }
            }
        }
        if let Some(wireguard) = &node.spec.wireguard
            && !is_wireguard_key(&wireguard.public_key.value)
        {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0619,
                    wireguard.public_key.span,
                    format!("node `{}`: not a WireGuard public key", node.name),
                )
                .with_primary_label("not the base64 of 32 bytes")
                .with_help("paste the output of `wg pubkey` (the public key, never the private one)"),
            );
        }
    }
    for network in &estate.model.networks {
        let Some(wireguard) = &network.spec.wireguard else { continue };
        for member in network.spec.members.iter() {
            let Some(node) = estate.node(&member.name) else { continue };
            // A node may lack both its address and its keys: both are reported.
            if node.spec.address.is_none() {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0616,
                        member.span,
                        format!("node `{}` joins WireGuard network `{}` without an address", node.name, network.name),
                    )
                    .with_primary_label("no `address`")
                    .with_label(node.name_span, "the node")
                    .with_help(format!("give the node its mesh address inside {}", show(&wireguard.cidr.value))),
                );
            }
            if node.spec.wireguard.is_none() {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0616,
                        member.span,
                        format!(
                            "node `{}` joins WireGuard network `{}` without WireGuard keys",
                            node.name, network.name
                        ),
                    )
                    .with_primary_label("no `wireguard { … }`")
                    .with_label(node.name_span, "the node")
                    .with_help("add `wireguard { public_key = \"…\", private_key = secret.NAME }` to the node"),
                );
            }
            let Some(address) = &node.spec.address else { continue };
            if !contains(&wireguard.cidr.value, address.value.0) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::E0614,
                        address.span,
                        format!(
                            "node `{}` has address {} outside network `{}` ({})",
                            node.name,
                            address.value.0,
                            network.name,
                            show(&wireguard.cidr.value)
                        ),
                    )
                    .with_primary_label("outside the network's range")
                    .with_label(wireguard.cidr.span, "the network's range")
                    .with_label(member.span, "the node joins here")
                    .with_help(format!("pick an address inside {}", show(&wireguard.cidr.value))),
                );
            }
        }
    }
}

fn show(cidr: &Cidr) -> String {
    format!("{}/{}", cidr.address, cidr.prefix)
}

/// Whether `address` lies in `cidr` (same family, same leading `prefix` bits).
pub fn contains(cidr: &Cidr, address: IpAddr) -> bool {
    match (cidr.address, address) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = if cidr.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(cidr.prefix.min(32))) };
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = if cidr.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(cidr.prefix.min(128))) };
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

/// A WireGuard key: 32 bytes in standard base64, that is 43 characters and one `=`.
fn is_wireguard_key(key: &str) -> bool {
    key.len() == 44
        && key.ends_with('=')
        && key[..43].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        // The last character before `=` encodes 4 bits only, so it is one of 16 values.
        && key.as_bytes().get(42).is_some_and(|b| b"AEIMQUYcgkosw048".contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_membership_follows_the_prefix() {
        let cidr = Cidr { address: "10.0.0.0".parse().unwrap(), prefix: 24 };
        assert!(contains(&cidr, "10.0.0.200".parse().unwrap()));
        assert!(!contains(&cidr, "10.0.1.1".parse().unwrap()));
        assert!(!contains(&cidr, "fd00::1".parse().unwrap()));
        let all = Cidr { address: "0.0.0.0".parse().unwrap(), prefix: 0 };
        assert!(contains(&all, "192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn wireguard_keys_are_32_bytes_of_base64() {
        assert!(is_wireguard_key("dDAe15mGjAVfG67Q5p3psJS3M/HqKBodFGj/4sZVWkM="));
        assert!(is_wireguard_key("Tg9JFfdeEqBEzOx6gZ749Y8IarcakmWxLnpl81vB2UY="));
        assert!(!is_wireguard_key("not-a-key"));
        assert!(!is_wireguard_key("dDAe15mGjAVfG67Q5p3psJS3M/HqKBodFGj/4sZVWkN="));
    }
}
