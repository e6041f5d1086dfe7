//! Editor features beyond the basics, over stdio as an editor asks for them.

use serde_json::{Value, json};

use crate::client::*;

const ESTATE: &str = "import std.postgres

# the database,
# kept small
service db {
  use std.postgres { version = 16,  }
  on = node.prod1
}

let tag = \"1.27\"

service web {
  on = node.prdo1
  image = \"nginx:${tag}\"
  ports { http = 8080/tcp }
  health = http { port = http, path = \"/\" }
  needs = [
    service.db,
  ]
}
";

/// Applies a `WorkspaceEdit`'s edits of `uri` to `text` (ranges on one line, as these are).
fn apply(text: &str, edits: &Value) -> String {
    let mut edits: Vec<&Value> = edits.as_array().expect("edits").iter().collect();
    edits.sort_by_key(|e| (e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64()));
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    for edit in edits.iter().rev() {
        let start = &edit["range"]["start"];
        let end = &edit["range"]["end"];
        assert_eq!(start["line"], end["line"], "{edit}");
        let line = &mut lines[start["line"].as_u64().unwrap_or(0) as usize];
        let (from, to) =
            (start["character"].as_u64().unwrap_or(0) as usize, end["character"].as_u64().unwrap_or(0) as usize);
        line.replace_range(from..to, edit["newText"].as_str().unwrap_or(""));
    }
    lines.join("\n")
}

/// Every editor feature beyond the basics, as an editor asks for it: quick fixes for a
/// did-you-mean and a plaintext secret, semantic tokens, rename across files, workspace symbols,
/// highlights, folding, signature help, completion that keeps out of comments and strings, and
/// hover on enum values, port names and `let` names.
#[test]
fn editor_features_over_stdio() {
    let dir = scratch("lsp-features");
    std::fs::write(dir.join("nodes.spec"), NODES).expect("write nodes");
    let mut client = Client::start(&dir);
    initialize(&mut client, &dir);
    let main = open(&mut client, &dir.join("main.spec"), ESTATE);
    let nodes = uri(&dir.join("nodes.spec"));

    // A did-you-mean is a quick fix replacing just the misspelt name.
    let published = client.diagnostics(&main);
    let diagnostic = &published["diagnostics"][0];
    assert_eq!(
        (diagnostic["code"].as_str(), published["diagnostics"].as_array().map(Vec::len)),
        (Some("E0201"), Some(1))
    );
    assert_eq!(diagnostic["range"], range((12, 7), (12, 17)));
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": main}, "range": range((12, 10), (12, 10)), "context": {"diagnostics": [diagnostic]}}),
    );
    assert_eq!(actions.as_array().map(Vec::len), Some(1), "{actions}");
    assert_eq!(actions[0]["title"], "replace `prdo1` with `prod1`");
    assert_eq!((&actions[0]["kind"], &actions[0]["diagnostics"][0]["code"]), (&json!("quickfix"), &json!("E0201")));
    let edits = &actions[0]["edit"]["changes"][&main];
    assert_eq!(edits, &json!([{"range": range((12, 12), (12, 17)), "newText": "prod1"}]));
    let text = apply(ESTATE, edits);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 2}, "contentChanges": [{"range": range((12, 12), (12, 17)), "text": "prod1"}]}),
    );
    assert_eq!(client.diagnostics(&main), json!({"uri": main, "version": 2, "diagnostics": []}));
    let at_text = |needle: &str, nth: usize, shift: u32| json!({"textDocument": {"uri": main}, "position": at(&text, needle, nth, shift)});

    // Semantic tokens: the whole of a file, and a range of another.
    open(&mut client, &dir.join("nodes.spec"), NODES);
    let tokens = client.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": nodes}}));
    #[rustfmt::skip]
    let expected = json!({"data": [
        0, 0, 4, 1, 0,  0, 5, 5, 5, 1,  0, 8, 2, 3, 0,  0, 5, 5, 4, 0,
        0, 7, 3, 3, 0,  0, 6, 1, 10, 0,  0, 3, 6, 3, 0,  0, 9, 5, 10, 0,
    ]});
    assert_eq!(tokens, expected, "node(keyword) prod1(declared variable) os(property) nixos(enum member) …");
    let tokens = client.request(
        "textDocument/semanticTokens/range",
        json!({"textDocument": {"uri": main}, "range": range((0, 0), (3, 0))}),
    );
    assert_eq!(tokens, json!({"data": [0, 0, 6, 1, 0, 0, 7, 3, 8, 0, 0, 4, 8, 8, 0, 2, 0, 15, 0, 0]}));

    // Rename a node from a reference: the declaration in the other file and every reference.
    assert_eq!(
        client.request("textDocument/prepareRename", at_text("prod1", 1, 2)),
        json!({"range": range((12, 12), (12, 17)), "placeholder": "prod1"})
    );
    let mut rename = at_text("prod1", 1, 2);
    rename["newName"] = json!("edge1");
    assert_eq!(
        client.request("textDocument/rename", rename),
        json!({"changes": {
            main.clone(): [
                {"range": range((6, 12), (6, 17)), "newText": "edge1"},
                {"range": range((12, 12), (12, 17)), "newText": "edge1"},
            ],
            nodes.clone(): [{"range": range((0, 5), (0, 10)), "newText": "edge1"}],
        }})
    );
    let mut taken = at_text("service.db", 0, 9);
    taken["newName"] = json!("web");
    let error = client.request_error("textDocument/rename", taken);
    assert_eq!((error["code"].as_i64(), error["message"].as_str()), (Some(-32803), Some("service.web already exists")));
    let mut invalid = at_text("service.db", 0, 9);
    invalid["newName"] = json!("Bad_Name");
    assert_eq!(client.request_error("textDocument/rename", invalid)["code"], -32803);

    // Workspace symbols: every resource of the namespace whose name holds the query's letters.
    assert_eq!(
        client.request("workspace/symbol", json!({"query": "we"})),
        json!([{"name": "web", "kind": 19, "location": {"uri": main, "range": range((11, 8), (11, 11))}, "containerName": "service"}])
    );
    let all = client.request("workspace/symbol", json!({"query": ""}));
    let names: Vec<&str> = all.as_array().expect("symbols").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["db", "prod1", "web"]);

    // Highlights: a resource's declaration (written) and uses (read); a `let` and its uses.
    assert_eq!(
        client.request("textDocument/documentHighlight", at_text("service.db", 0, 9)),
        json!([{"range": range((4, 8), (4, 10)), "kind": 3}, {"range": range((17, 4), (17, 14)), "kind": 2}])
    );
    assert_eq!(
        client.request("textDocument/documentHighlight", at_text("${tag}", 0, 3)),
        json!([{"range": range((9, 4), (9, 7)), "kind": 3}, {"range": range((13, 19), (13, 22)), "kind": 2}])
    );

    // Definition of a `let` from its use.
    assert_eq!(
        client.request("textDocument/definition", at_text("${tag}", 0, 3)),
        json!({"uri": main, "range": range((9, 4), (9, 7))})
    );

    // Folding: the comment run, both blocks and the list written over lines (closing lines shown).
    assert_eq!(
        client.request("textDocument/foldingRange", json!({"textDocument": {"uri": main}})),
        json!([
            {"startLine": 2, "endLine": 3, "kind": "comment"},
            {"startLine": 4, "endLine": 6},
            {"startLine": 11, "endLine": 18},
            {"startLine": 16, "endLine": 17},
        ])
    );

    // Signature help inside `use std.postgres { … }`: the parameters, the one being set active.
    let help = client.request("textDocument/signatureHelp", at_text("version", 0, 3));
    let label = "use std.postgres { version = 16, databases = [], port = 5432, exporter_port = 9187 }";
    assert_eq!(
        help,
        json!({
            "signatures": [{
                "label": label,
                "documentation": {"kind": "markdown", "value": "preset `std.postgres` for `service`"},
                "parameters": [{"label": [19, 31]}, {"label": [33, 47]}, {"label": [49, 60]}, {"label": [62, 82]}],
                "activeParameter": 0,
            }],
            "activeSignature": 0,
            "activeParameter": 0,
        })
    );
    assert_eq!(
        client.request("textDocument/signatureHelp", at_text("16,  }", 0, 5))["activeParameter"],
        4,
        "after a comma: none (one past the preset's four parameters)"
    );

    // Completion of a service's port names after `port =`.
    let ports = client.request("textDocument/completion", at_text("port = http", 0, 7));
    assert_eq!(
        ports["items"],
        json!([{"label": "http", "kind": 20, "detail": "8080/tcp", "textEdit": {"range": range((15, 25), (15, 25)), "newText": "http"}}])
    );

    // Completion keeps out of comments and strings, not out of a string's `${…}`.
    assert_eq!(client.request("textDocument/completion", at_text("the database", 0, 4)), Value::Null);
    assert_eq!(client.request("textDocument/completion", at_text("nginx", 0, 3)), Value::Null);

    // Hover: an enum value, a variant tag, a port name (key and use) and a `let` name.
    let hover = |client: &mut Client, uri: &str, text: &str, needle: &str, nth: usize, shift: u32| {
        client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": at(text, needle, nth, shift)}),
        )
    };
    let node_hover = hover(&mut client, &nodes, NODES, "nixos", 0, 2);
    assert_eq!(
        node_hover["contents"]["value"],
        "`nixos`: a value of `os`\n\nNixOS.\n\nthe others: `ubuntu`, `debian`, `fedora`, `rocky`"
    );
    assert_eq!(node_hover["range"], range((0, 18), (0, 23)));
    let port = hover(&mut client, &main, &text, "port = http", 0, 8);
    assert_eq!(
        port,
        json!({"contents": {"kind": "markdown", "value": "port `http` of service `web`: `8080/tcp`"}, "range": range((15, 25), (15, 29))})
    );
    assert_eq!(
        hover(&mut client, &main, &text, "http =", 0, 1)["contents"]["value"],
        "port `http` of service `web`: `8080/tcp`"
    );
    let tag = hover(&mut client, &main, &text, "http {", 0, 1)["contents"]["value"].clone();
    assert!(
        tag.as_str().is_some_and(|t| t.starts_with("`http { … }`: a variant of `health`") && t.contains("`tcp`")),
        "{tag}"
    );
    assert_eq!(
        hover(&mut client, &main, &text, "${tag}", 0, 3),
        json!({"contents": {"kind": "markdown", "value": "```spec\nlet tag = \"1.27\"\n```"}, "range": range((13, 19), (13, 22))})
    );

    // A plaintext secret: the fix declares a secret beside the block and refers to it.
    let with_secret = text.replace("  ports {", "  env { DATABASE_PASSWORD = \"hunter2\" }\n  ports {");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 3}, "contentChanges": [{"text": with_secret}]}),
    );
    let published = client.diagnostics(&main);
    let diagnostic = &published["diagnostics"][0];
    assert_eq!(diagnostic["code"], "E0613", "{published}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": main}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}}),
    );
    assert_eq!(actions[0]["title"], "move the secret into `secret database-password`");
    let edits = &actions[0]["edit"]["changes"][&main];
    assert_eq!(
        edits,
        &json!([
            {"range": range((14, 28), (14, 37)), "newText": "secret.database-password"},
            {"range": range((20, 1), (20, 1)), "newText": "\n\nsecret database-password { nixos = agenix { file = \"secrets/database-password.age\" } }"},
        ])
    );
    let fixed = apply(&with_secret, edits);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 4}, "contentChanges": [{"text": fixed}]}),
    );
    assert_eq!(client.diagnostics(&main), json!({"uri": main, "version": 4, "diagnostics": []}));
    client.shutdown();
}
