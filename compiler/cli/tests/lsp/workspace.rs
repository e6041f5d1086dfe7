//! Which estate a file belongs to: a workspace folder (given at start or added later), a marker
//! file naming the estate's root, or neither (a stray file checked alone).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::client::*;

const WEB: &str = "service web {\n  on = node.prod1\n  image = \"nginx:1.27\"\n}\n";

/// An estate split into `nodes/` and `services/`: a file of `services/` is checked with the nodes
/// one folder up, as `spec check` on the estate's folder checks it, and its references lead there.
fn assert_services_see_nodes(client: &mut Client, dir: &Path) {
    let web = open(client, &dir.join("services/web.spec"), WEB);
    assert_eq!(client.diagnostics(&web), json!({"uri": web, "version": 1, "diagnostics": []}));
    assert_eq!(
        client.request(
            "textDocument/definition",
            json!({"textDocument": {"uri": web}, "position": at(WEB, "prod1", 0, 1)})
        ),
        json!({"uri": uri(&dir.join("nodes/nodes.spec")), "range": range((0, 5), (0, 10))})
    );
}

fn split_estate(name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("nodes")).expect("nodes/");
    std::fs::create_dir_all(dir.join("services")).expect("services/");
    std::fs::write(dir.join("nodes/nodes.spec"), NODES).expect("write nodes");
    std::fs::write(dir.join("services/web.spec"), WEB).expect("write web");
    dir
}

#[test]
fn a_file_in_a_subfolder_belongs_to_the_workspace_folder() {
    let dir = split_estate("lsp-workspace-folder");
    let mut client = Client::start(&dir);
    // The editor names its folder in `workspaceFolders` (and an older `rootUri` elsewhere).
    let folders = json!([{"uri": uri(&dir), "name": "estate"}]);
    initialize_with(
        &mut client,
        json!({"processId": null, "rootUri": uri(&dir.join("nodes")), "workspaceFolders": folders, "capabilities": {}}),
    );
    assert_services_see_nodes(&mut client, &dir);
    client.shutdown();
}

/// A workspace folder added after the file was opened takes the file into its namespace, and a
/// marker file created later does too.
#[test]
fn a_workspace_folder_added_later_takes_in_its_files() {
    let dir = split_estate("lsp-workspace-added");
    let mut client = Client::start(&dir);
    let watching = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    initialize_with(&mut client, json!({"processId": null, "rootUri": null, "capabilities": watching}));
    let web = open(&mut client, &dir.join("services/web.spec"), WEB);
    // Alone, the file does not see the nodes.
    assert_eq!(client.diagnostics(&web)["diagnostics"][0]["code"], "E0201");
    let added = json!({"event": {"added": [{"uri": uri(&dir), "name": "estate"}], "removed": []}});
    client.notify("workspace/didChangeWorkspaceFolders", added);
    assert_eq!(client.diagnostics(&web), json!({"uri": web, "version": 1, "diagnostics": []}));
    // Removed again, the file is alone; a marker file written at the estate's root (the editor
    // reports it as a watched file) brings the nodes back.
    let removed = json!({"event": {"added": [], "removed": [{"uri": uri(&dir), "name": "estate"}]}});
    client.notify("workspace/didChangeWorkspaceFolders", removed);
    assert_eq!(client.diagnostics(&web)["diagnostics"][0]["code"], "E0201");
    // The server asked the editor to watch `.spec` files and the marker.
    let registration = client.pending.iter().find(|m| m["method"] == "client/registerCapability").cloned();
    let watchers = &registration.unwrap_or_default()["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(watchers, &json!([{"globPattern": "**/*.spec"}, {"globPattern": "**/spec.toml"}]));
    std::fs::write(dir.join("spec.toml"), "").expect("write the marker");
    let created = json!({"changes": [{"uri": uri(&dir.join("spec.toml")), "type": 1}]});
    client.notify("workspace/didChangeWatchedFiles", created);
    assert_eq!(client.diagnostics(&web), json!({"uri": web, "version": 1, "diagnostics": []}));
    client.shutdown();
}

#[test]
fn a_marker_file_names_the_estate_root_without_a_workspace() {
    let dir = split_estate("lsp-marker");
    std::fs::write(dir.join("spec.toml"), "").expect("write the marker");
    let mut client = Client::start(&dir);
    initialize_with(&mut client, json!({"processId": null, "rootUri": null, "capabilities": {}}));
    assert_services_see_nodes(&mut client, &dir);
    client.shutdown();
}

/// A `.spec` file outside any workspace and marker is checked alone: the folders below its own
/// (here one with a broken file) are not read.
#[test]
fn a_stray_file_outside_the_workspace_is_checked_alone() {
    let dir = scratch("lsp-stray");
    std::fs::create_dir_all(dir.join("below")).expect("below/");
    std::fs::write(dir.join("below/broken.spec"), "service {{{").expect("write broken");
    let mut client = Client::start(&dir);
    initialize_with(&mut client, json!({"processId": null, "rootUri": null, "capabilities": {}}));
    let stray = open(&mut client, &dir.join("stray.spec"), NODES);
    assert_eq!(client.diagnostics(&stray), json!({"uri": stray, "version": 1, "diagnostics": []}));
    let broken = uri(&dir.join("below/broken.spec"));
    assert!(
        client.pending.iter().all(|m| m["params"]["uri"] != broken),
        "the folder below was checked: {:?}",
        client.pending
    );
    client.shutdown();
}
