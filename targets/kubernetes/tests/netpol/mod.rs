//! Network policies read back as Kubernetes enforces them, for the tests that check the
//! generated policies: policies add up, a peer with both selectors is their conjunction, a rule
//! without `from`/`to` or `ports` matches everything.

#![allow(dead_code)] // each test crate reads back what it needs of these

use std::collections::BTreeMap;

use serde_json::Value;

/// A pod as a policy sees it: its namespace and labels.
#[derive(Clone, Debug)]
pub struct Pod {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

/// Whether `selector` (a label selector; `{}` selects everything) selects `labels`.
pub fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let matched = selector["matchLabels"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str()));
    let expressions = selector["matchExpressions"].as_array().is_none_or(|e| {
        e.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match e["operator"].as_str() {
                Some("In") => labels.get(key).is_some_and(|v| values.contains(&v.as_str())),
                Some("NotIn") => labels.get(key).is_none_or(|v| !values.contains(&v.as_str())),
                Some("Exists") => labels.contains_key(key),
                Some("DoesNotExist") => !labels.contains_key(key),
                _ => false,
            }
        })
    });
    matched && expressions
}

/// Whether a policy peer (`from`/`to` item) holds `pod`, seen from the policy's namespace.
pub fn peer_holds(peer: &Value, policy_namespace: &str, pod: &Pod) -> bool {
    if peer.get("ipBlock").is_some() {
        return false; // pod-to-pod traffic is judged by selectors (pod addresses are not known here)
    }
    let namespace_labels = BTreeMap::from([("kubernetes.io/metadata.name".to_string(), pod.namespace.clone())]);
    let in_namespace = match peer.get("namespaceSelector") {
        Some(selector) => selects(selector, &namespace_labels),
        None => pod.namespace == policy_namespace,
    };
    let in_pods = peer.get("podSelector").is_none_or(|selector| selects(selector, &pod.labels));
    in_namespace && in_pods
}

pub fn port_matches(ports: &Value, port: u16, protocol: &str) -> bool {
    ports.as_array().is_none_or(|ports| {
        ports.is_empty()
            || ports
                .iter()
                .any(|p| p["port"].as_u64() == Some(u64::from(port)) && p["protocol"].as_str() == Some(protocol))
    })
}

/// Whether the policies let `from` reach `to` on `port`.
pub fn admitted(policies: &[Value], from: &Pod, to: &Pod, port: u16, protocol: &str) -> bool {
    let direction = |pod: &Pod, kind: &str, rules: &str, peers: &str, other: &Pod| -> bool {
        let selecting: Vec<&Value> = policies
            .iter()
            .filter(|p| p["metadata"]["namespace"].as_str() == Some(pod.namespace.as_str()))
            .filter(|p| selects(&p["spec"]["podSelector"], &pod.labels))
            .filter(|p| p["spec"]["policyTypes"].as_array().is_some_and(|t| t.iter().any(|t| t == kind)))
            .collect();
        if selecting.is_empty() {
            return true;
        }
        selecting.iter().any(|policy| {
            let namespace = policy["metadata"]["namespace"].as_str().unwrap_or_default();
            policy["spec"][rules].as_array().into_iter().flatten().any(|rule| {
                let peer_ok = match rule.get(peers).and_then(Value::as_array) {
                    None => true,
                    Some(list) => list.iter().any(|peer| peer_holds(peer, namespace, other)),
                };
                peer_ok && port_matches(&rule["ports"], port, protocol)
            })
        })
    };
    direction(to, "Ingress", "ingress", "from", from) && direction(from, "Egress", "egress", "to", to)
}

/// Whether `address` lies in `cidr` (IPv4 only, which the estates' addresses here are).
pub fn in_cidr(address: std::net::Ipv4Addr, cidr: &str) -> bool {
    let Some((network, bits)) = cidr.split_once('/') else { return false };
    let (Ok(network), Ok(bits)) = (network.parse::<std::net::Ipv4Addr>(), bits.parse::<u32>()) else { return false };
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    u32::from(address) & mask == u32::from(network) & mask
}

/// Whether the policies selecting `from` let it out to `address:port` (TCP), an address outside
/// the cluster's pods, judged by `ipBlock` peers (with their exceptions).
pub fn admitted_out(policies: &[Value], from: &Pod, address: &str, port: u16) -> bool {
    let address: std::net::Ipv4Addr = address.parse().expect("an IPv4 address");
    let selecting: Vec<&Value> = policies
        .iter()
        .filter(|p| p["metadata"]["namespace"].as_str() == Some(from.namespace.as_str()))
        .filter(|p| selects(&p["spec"]["podSelector"], &from.labels))
        .filter(|p| p["spec"]["policyTypes"].as_array().is_some_and(|t| t.iter().any(|t| t == "Egress")))
        .collect();
    if selecting.is_empty() {
        return true;
    }
    selecting.iter().any(|policy| {
        policy["spec"]["egress"].as_array().into_iter().flatten().any(|rule| {
            let peer_ok = match rule.get("to").and_then(Value::as_array) {
                None => true,
                Some(list) => list.iter().any(|peer| {
                    let Some(block) = peer.get("ipBlock") else { return false };
                    let except = block["except"].as_array().into_iter().flatten().filter_map(Value::as_str);
                    in_cidr(address, block["cidr"].as_str().unwrap_or_default())
                        && !except.into_iter().any(|e| in_cidr(address, e))
                }),
            };
            peer_ok && port_matches(&rule["ports"], port, "TCP")
        })
    })
}
