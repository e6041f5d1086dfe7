//! A service's configuration files on a cluster: one ConfigMap of app-template's `configMaps`
//! (`files`, named `<release>-files` by the chart, its checksum on the pods so a change rolls
//! them) holding each file under its key ([`spec_compiler::model::files::file_keys`]), and a
//! `persistence` item of type `configMap` mounting each key read-only at its path by `subPath`.
//!
//! The chart passes ConfigMap data through Helm's `tpl`, so `{{` is escaped ([`crate::escape`]).

use serde_json::{Value, json};
use spec_compiler::model::files::{Fill, file_keys};
use spec_compiler::model::{Resource, Service};

use crate::escape;

/// The identifier of the ConfigMap and of its persistence item.
pub const FILES: &str = "files";

/// The ConfigMap values and the persistence item of a service's files; `None` without files.
pub fn file_values(service: &Resource<Service>, fill: &mut Fill<'_>) -> Option<(Value, Value)> {
    let files = &service.spec.files;
    if files.is_empty() {
        return None;
    }
    let mut data = serde_json::Map::new();
    let mut mounts = Vec::new();
    for (path, key) in file_keys(files) {
        let text = files[path].value.text(spec_yaml::to_string, fill)?;
        data.insert(key.clone(), json!(escape::helm_tpl(&text)));
        mounts.push(json!({ "path": path, "subPath": key, "readOnly": true }));
    }
    let config_map = json!({ "enabled": true, "data": data });
    let persistence = json!({ "type": "configMap", "identifier": FILES, "globalMounts": mounts });
    Some((config_map, persistence))
}
