//! Security contexts of a cluster's pods and containers: what a namespace's `restricted` Pod
//! Security Standard asks for, merged with a service's or job's own `security` (user and group,
//! privileged, capabilities, the host's network and PIDs). What the standard refuses is E0731 in
//! the graph rules (root among it), so the two never contradict here.

use serde_json::{Value, json};
use spec_compiler::model::Security;
use spec_compiler::model::types::Spanned;

/// The pod security context the `restricted` Pod Security Standard asks for.
pub(crate) fn restricted_pod() -> Value {
    json!({ "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } } })
}

/// A pod's options: what a `restricted` namespace asks for, the user and group the service or
/// job runs as (`runAsUser`, `runAsGroup`, and `fsGroup` the group too, so the user can write its
/// volumes), and the host's network and process namespace when asked for.
pub(crate) fn pod_options(restricted: bool, security: Option<&Security>) -> Option<Value> {
    let mut pod = restricted.then(restricted_pod);
    let Some(security) = security else { return pod };
    for (key, id) in [("runAsUser", security.user()), ("runAsGroup", security.group()), ("fsGroup", security.group())] {
        if let Some(id) = id {
            pod.get_or_insert_with(|| json!({}))["securityContext"][key] = json!(id);
        }
    }
    // On the host's network the pod still resolves the cluster's names (`service.x.host`).
    if security.host_network() {
        let options = pod.get_or_insert_with(|| json!({}));
        options["hostNetwork"] = json!(true);
        options["dnsPolicy"] = json!("ClusterFirstWithHostNet");
    }
    if security.host_pid() {
        pod.get_or_insert_with(|| json!({}))["hostPID"] = json!(true);
    }
    // The NVIDIA runtime hands every GPU to a container whose `NVIDIA_VISIBLE_DEVICES` is `all`,
    // without the `nvidia.com/gpu` limit that would claim one.
    if security.all_gpus() {
        pod.get_or_insert_with(|| json!({}))["runtimeClassName"] = json!(crate::gpus::RUNTIME_CLASS);
    }
    pod
}

/// The container security context the `restricted` Pod Security Standard asks for.
pub(crate) fn restricted_container() -> Value {
    json!({ "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } })
}

/// A container's security context: what a `restricted` namespace asks for, and the service's
/// `security` (privileged, capabilities added and dropped); what the namespace's standard refuses
/// is E0731 in the graph rules, so the two never contradict.
pub(crate) fn container_security(restricted: bool, security: Option<&Security>) -> Option<Value> {
    let mut context = restricted.then(restricted_container);
    let Some(security) = security else { return context };
    if security.privileged() {
        context.get_or_insert_with(|| json!({}))["privileged"] = json!(true);
    }
    let names = |list: &[Spanned<String>]| list.iter().map(|c| c.value.clone()).collect::<Vec<_>>();
    for (key, list) in [("drop", security.dropped()), ("add", security.added())] {
        if list.is_empty() {
            continue;
        }
        let capabilities = &mut context.get_or_insert_with(|| json!({}))["capabilities"];
        let mut written: Vec<String> = capabilities[key]
            .as_array()
            .map_or_else(Vec::new, |a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect());
        for name in names(list) {
            if !written.contains(&name) {
                written.push(name);
            }
        }
        capabilities[key] = json!(written);
    }
    context
}
