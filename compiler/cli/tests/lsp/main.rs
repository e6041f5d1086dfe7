//! `spec lsp` driven as an editor drives it: the real binary over stdio, framed JSON-RPC in and
//! out. The session opens a document with an error, fixes it, then asks for hover, definition,
//! references, completion, formatting and symbols, and shuts down; every answer is compared whole.
//! A second session feeds malformed documents and checks the server still answers.
//! Workspace folders are in `workspace.rs`, the editor features beyond the basics in `editor.rs`.

mod client;
mod editor;
mod workspace;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::client::*;

#[test]
fn an_editor_session_over_stdio() {
    let dir = scratch("lsp-session");
    std::fs::write(dir.join("nodes.spec"), NODES).expect("write nodes");
    std::fs::write(dir.join("main.spec"), MAIN.replace("\"two\"", "1")).expect("write main");
    let main = uri(&dir.join("main.spec"));
    let nodes = uri(&dir.join("nodes.spec"));
    let mut client = Client::start(&dir);
    initialize(&mut client, &dir);

    // The editor's text, not the file on disk, is checked: it has an error.
    let document = json!({"uri": main, "languageId": "spec", "version": 1, "text": MAIN});
    client.notify("textDocument/didOpen", json!({"textDocument": document}));
    let published = client.diagnostics(&main);
    assert_eq!(
        published,
        json!({
            "uri": main,
            "version": 1,
            "diagnostics": [{
                "range": range((10, 13), (10, 18)),
                "severity": 1,
                "code": "E0301",
                "source": "spec",
                "message": "expected an integer for `replicas`, found string\nhelp: `replicas` is the number of instances. Default: 1",
                "relatedInformation": [{
                    "location": {"uri": main, "range": range((10, 13), (10, 18))},
                    "message": "this is a string",
                }],
            }],
        })
    );

    // A range edit fixes it; the diagnostics are cleared.
    let quoted = at(MAIN, "\"two\"", 0, 0);
    let end = json!({"line": quoted["line"], "character": quoted["character"].as_u64().unwrap_or(0) + 5});
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": main, "version": 2},
            "contentChanges": [{"range": {"start": quoted, "end": end}, "text": "1"}],
        }),
    );
    let fixed = MAIN.replace("\"two\"", "1");
    assert_eq!(client.diagnostics(&main), json!({"uri": main, "version": 2, "diagnostics": []}));

    let position = |needle: &str, nth: usize, shift: u32| json!({"textDocument": {"uri": main}, "position": at(&fixed, needle, nth, shift)});

    // Hover: a field's type, doc and default from the schema.
    assert_eq!(
        client.request("textDocument/hover", position("replicas", 0, 2)),
        json!({
            "contents": {"kind": "markdown", "value": "`replicas`: an integer\n\nThe number of instances. Default: 1.\n\nDefault: `1`"},
            "range": range((10, 2), (10, 10)),
        })
    );
    // Hover: a referenced resource's summary, from the checked model.
    assert_eq!(
        client.request("textDocument/hover", position("node.prod1", 1, 6)),
        json!({
            "contents": {"kind": "markdown", "value": "**node prod1**: a host\n\ndeclared in `nodes.spec:1`\n\n```spec\nos = nixos\ncpu = 8\nmemory = 32GiB\n```"},
            "range": range((8, 7), (8, 17)),
        })
    );
    // Hover: a preset's parameters.
    assert_eq!(
        client.request("textDocument/hover", position("std.postgres", 1, 5)),
        json!({
            "contents": {"kind": "markdown", "value": "**preset std.postgres** for `service`\n\nparameters:\n- `version` = `16`\n- `databases` = `[]`\n- `port` = `5432`\n- `exporter_port` = `9187`"},
            "range": range((3, 6), (3, 18)),
        })
    );

    // Definition: a reference to another file of the folder, and to a resource of this one.
    assert_eq!(
        client.request("textDocument/definition", position("node.prod1", 0, 5)),
        json!({"uri": nodes, "range": range((0, 5), (0, 10))})
    );
    assert_eq!(
        client.request("textDocument/definition", position("service.db", 0, 9)),
        json!({"uri": main, "range": range((2, 8), (2, 10))})
    );
    // Definition: a stdlib preset, in the server's read-only copy of the stdlib.
    let preset = client.request("textDocument/definition", position("std.postgres", 1, 5));
    let preset_uri = preset["uri"].as_str().expect("a location").to_string();
    assert!(preset_uri.starts_with("file://") && preset_uri.ends_with("/postgres.spec"), "{preset}");
    let stdlib_text = std::fs::read_to_string(preset_uri.trim_start_matches("file://")).expect("stdlib copy");
    assert_eq!(stdlib_text, include_str!("../../../../stdlib/postgres.spec"));
    assert_eq!(
        preset["range"],
        range(
            at(&stdlib_text, "preset postgres", 0, 7)["line"].as_u64().map_or((0, 0), |l| (l as u32, 7)),
            at(&stdlib_text, "preset postgres", 0, 15)["line"].as_u64().map_or((0, 0), |l| (l as u32, 15))
        )
    );

    // References, across the folder's files, with the declaration.
    assert_eq!(
        client.request(
            "textDocument/references",
            json!({"textDocument": {"uri": main}, "position": at(&fixed, "node.prod1", 0, 7), "context": {"includeDeclaration": true}}),
        ),
        json!([
            {"uri": main, "range": range((4, 7), (4, 17))},
            {"uri": main, "range": range((8, 7), (8, 17))},
            {"uri": nodes, "range": range((0, 5), (0, 10))},
        ])
    );

    // Completion after `service.d`: the declared services starting so, replacing the partial name.
    let typed = fixed.replace("needs = [service.db]", "needs = [service.d");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 3}, "contentChanges": [{"text": typed}]}),
    );
    let completions = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main}, "position": at(&typed, "service.d", 0, 9)}),
    );
    assert_eq!(
        completions,
        json!({"isIncomplete": false, "items": [
            {"label": "db", "kind": 18, "textEdit": {"range": range((11, 19), (11, 20)), "newText": "db"}},
        ]})
    );
    // Completion of an enum's symbols after `os =`, in the other file.
    let node_doc = json!({"uri": nodes, "languageId": "spec", "version": 1, "text": NODES});
    client.notify("textDocument/didOpen", json!({"textDocument": node_doc}));
    let symbols = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": nodes}, "position": at(NODES, "nixos", 0, 0)}),
    );
    let labels: Vec<&str> =
        symbols["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert_eq!(labels, ["nixos", "ubuntu", "debian", "fedora", "rocky"]);
    // Completion of field names inside a block, from the schema.
    let fields = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main}, "position": at(&typed, "  image", 0, 2)}),
    );
    let labels: Vec<&str> =
        fields["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    // Every field of the kind the body does not set yet (`image`, under the cursor, is being
    // written, and `needs = [service.d` is not finished), in the schema's order (the one definition of the fields), then `use`
    // and `assert`.
    let schema = spec_compiler::model::kind_schema(spec_compiler::model::Kind::Service);
    let mut expected: Vec<&str> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .filter(|field| !["on", "replicas"].contains(field))
        .collect();
    expected.extend(["use", "assert"]);
    assert_eq!(labels, expected);
    assert_eq!(&labels[..2], ["image", "args"]);
    assert_eq!(fields["items"][0]["detail"], "a string");

    // Formatting: `spec fmt`'s layout, as one edit.
    let messy = "node  prod1 {\nos=nixos,   cpu = 8, memory = 32GiB }\n";
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": nodes, "version": 2}, "contentChanges": [{"text": messy}]}),
    );
    assert_eq!(
        client.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": nodes}, "options": {"tabSize": 2, "insertSpaces": true}})
        ),
        json!([{"range": range((0, 0), (2, 0)), "newText": "node prod1 {\n  os = nixos, cpu = 8, memory = 32GiB }\n"}])
    );

    // Symbols: one per block.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 4}, "contentChanges": [{"text": fixed}]}),
    );
    let outline = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": main}}));
    assert_eq!(
        outline,
        json!([
            {"name": "std.postgres", "detail": "import", "kind": 2, "range": range((0, 0), (0, 19)), "selectionRange": range((0, 7), (0, 19))},
            {"name": "db", "detail": "service", "kind": 19, "range": range((2, 0), (5, 1)), "selectionRange": range((2, 8), (2, 10))},
            {"name": "web", "detail": "service", "kind": 19, "range": range((7, 0), (12, 1)), "selectionRange": range((7, 8), (7, 11))},
        ])
    );

    // Edits are answered at once, from the document's tree patched where they fell: two lines
    // inserted at the top and one inside `web` move every answer below them.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 5}, "contentChanges": [
            {"range": range((1, 0), (1, 0)), "text": "# the estate\n\n"},
            {"range": range((10, 2), (10, 2)), "text": "# web\n  "},
        ]}),
    );
    let edited = fixed
        .replacen("\n", "\n# the estate\n\n", 1)
        .replace("  on = node.prod1\n  image", "  # web\n  on = node.prod1\n  image");
    let at_edited =
        |needle: &str, shift: u32| json!({"textDocument": {"uri": main}, "position": at(&edited, needle, 0, shift)});
    assert_eq!(
        client.request("textDocument/definition", at_edited("service.db", 9)),
        json!({"uri": main, "range": range((4, 8), (4, 10))})
    );
    assert_eq!(client.request("textDocument/hover", at_edited("replicas", 2))["range"], range((13, 2), (13, 10)));
    let outline = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": main}}));
    assert_eq!(outline[2]["range"], range((9, 0), (15, 1)), "{outline}");
    // A `}` deleted: the document has a syntax error, and formatting leaves it alone.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 6}, "contentChanges": [{"range": range((15, 0), (15, 1)), "text": ""}]}),
    );
    let options = json!({"tabSize": 2, "insertSpaces": true});
    assert_eq!(
        client.request("textDocument/formatting", json!({"textDocument": {"uri": main}, "options": options})),
        Value::Null
    );
    client.shutdown();
}

#[test]
fn malformed_documents_never_stop_the_server() {
    let dir = scratch("lsp-malformed");
    let main = uri(&dir.join("main.spec"));
    let mut client = Client::start(&dir);
    initialize(&mut client, &dir);
    let texts = [
        "service {{{{ = = ]]] \"unterminated".to_string(),
        "\u{0}\u{1}\u{feff}node é😀 { os = }".to_string(),
        format!("service deep {{ x = {}1{} }}", "[".repeat(500), "]".repeat(500)),
        "service web {\n  on = node.\n  health = http { port = ".to_string(),
        "env staging { service..replicas = }\npreset p for { param }\nuse std.\n".to_string(),
        String::new(),
    ];
    for (version, text) in texts.iter().enumerate() {
        let version = version as i32 + 1;
        if version == 1 {
            let document = json!({"uri": main, "languageId": "spec", "version": version, "text": text});
            client.notify("textDocument/didOpen", json!({"textDocument": document}));
        } else {
            client.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": main, "version": version}, "contentChanges": [{"text": text}]}),
            );
        }
        // Every request at every line and a few characters along it is answered (with anything).
        let lines = text.lines().count().max(1) as u32;
        for line in 0..=lines {
            for character in [0u32, 1, 5, 13, 40, 2000] {
                let position =
                    json!({"textDocument": {"uri": main}, "position": {"line": line, "character": character}});
                client.request("textDocument/hover", position.clone());
                client.request("textDocument/definition", position.clone());
                client.request("textDocument/completion", position.clone());
                let mut references = position.clone();
                references["context"] = json!({"includeDeclaration": true});
                client.request("textDocument/references", references);
                client.request("textDocument/documentHighlight", position.clone());
                client.request("textDocument/signatureHelp", position.clone());
                client.request_error("textDocument/prepareRename", position.clone());
                let mut rename = position.clone();
                rename["newName"] = json!("renamed");
                client.request_error("textDocument/rename", rename);
                let here = position["position"].clone();
                let range = json!({"start": here, "end": here});
                client.request(
                    "textDocument/codeAction",
                    json!({"textDocument": {"uri": main}, "range": range, "context": {"diagnostics": []}}),
                );
                client.request(
                    "textDocument/semanticTokens/range",
                    json!({"textDocument": {"uri": main}, "range": {"start": {"line": 0, "character": 0}, "end": here}}),
                );
            }
        }
        client.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": main}, "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": main}}));
        client.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": main}}));
        client.request("textDocument/foldingRange", json!({"textDocument": {"uri": main}}));
        client.request("workspace/symbol", json!({"query": "a"}));
        let published = client.diagnostics(&main);
        assert_eq!(published["uri"], main);
    }
    // An unknown request is an error, not a crash; the server still answers afterwards.
    client.send(json!({"jsonrpc": "2.0", "id": 999, "method": "spec/unknown", "params": {}}));
    client.shutdown();
}

/// The editor shows what `spec build` would report: a back end's diagnostic (a WireGuard network
/// name too long for a Linux interface, from the NixOS back end) is published like the checker's,
/// at the same place and with the same code as `spec check` gives it.
#[test]
fn back_end_diagnostics_are_published_like_spec_check() {
    let dir = scratch("lsp-back-ends");
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/targets/nixos/wireguard_network_name_too_long_for_an_interface.spec");
    let text = std::fs::read_to_string(case).expect("the spec case");
    std::fs::write(dir.join("main.spec"), &text).expect("write main");
    let main = uri(&dir.join("main.spec"));
    let check = Command::new(env!("CARGO_BIN_EXE_spec"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .output()
        .expect("spec check runs");
    let report: Value = serde_json::from_slice(&check.stdout).expect("a JSON report");
    let expected = &report["diagnostics"][0];
    assert_eq!(expected["code"], "E1103", "{report}");

    let mut client = Client::start(&dir);
    initialize(&mut client, &dir);
    let document = json!({"uri": main, "languageId": "spec", "version": 1, "text": text});
    client.notify("textDocument/didOpen", json!({"textDocument": document}));
    let published = client.diagnostics(&main);
    let diagnostics = published["diagnostics"].as_array().expect("a list");
    assert_eq!(diagnostics.len(), 1, "{published}");
    let shown = &diagnostics[0];
    assert_eq!(shown["code"], expected["code"]);
    // `spec check` counts from 1, the protocol from 0.
    let line = expected["line"].as_u64().unwrap_or(0);
    let column = expected["column"].as_u64().unwrap_or(0);
    assert_eq!(shown["range"]["start"], json!({"line": line - 1, "character": column - 1}), "{published}");
    assert!(shown["message"].as_str().is_some_and(|m| m.starts_with(expected["message"].as_str().unwrap_or("?"))));
    client.shutdown();
}
