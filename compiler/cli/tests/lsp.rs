//! `spec lsp` driven as an editor drives it: the real binary over stdio, framed JSON-RPC in and
//! out. The session opens a document with an error, fixes it, then asks for hover, definition,
//! references, completion, formatting and symbols, and shuts down; every answer is compared whole.
//! A second session feeds malformed documents and checks the server still answers.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any answer may take before the test fails (generous: debug builds, a busy machine).
const PATIENCE: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications read while waiting for a response.
    pending: Vec<Value>,
    next_id: i64,
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    fn start(dir: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spec"))
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spec lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            while let Some(message) = read_message(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client { child, stdin, incoming, pending: Vec::new(), next_id: 0 }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    fn next(&mut self, deadline: Instant) -> Value {
        match self.incoming.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => panic!("the server did not answer in time"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.next(deadline);
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
            self.pending.push(message);
        }
    }

    /// A request expected to fail: its error.
    fn request_error(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.next(deadline);
            if message["id"] == json!(id) {
                return message["error"].clone();
            }
            self.pending.push(message);
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        let is_for = |m: &Value| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri;
        if let Some(index) = self.pending.iter().position(is_for) {
            return self.pending.remove(index)["params"].clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.next(deadline);
            if is_for(&message) {
                return message["params"].clone();
            }
            self.pending.push(message);
        }
    }

    fn shutdown(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "spec lsp exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "spec lsp did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The zero-based line and character of the `nth` occurrence of `needle` in `text` (ASCII), plus
/// `shift` characters.
fn at(text: &str, needle: &str, nth: usize, shift: u32) -> Value {
    let offset = text.match_indices(needle).nth(nth).map(|(i, _)| i).expect("needle in text");
    let line = text.get(..offset).expect("prefix").matches('\n').count();
    let column = offset - text.get(..offset).expect("prefix").rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": column as u32 + shift})
}

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": {"line": start.0, "character": start.1}, "end": {"line": end.0, "character": end.1}})
}

const NODES: &str = "node prod1 { os = nixos, cpu = 8, memory = 32GiB }\n";

const MAIN: &str = "import std.postgres

service db {
  use std.postgres { version = 16 }
  on = node.prod1
}

service web {
  on = node.prod1
  image = \"nginx:1.27\"
  replicas = \"two\"
  needs = [service.db]
}
";

fn initialize(client: &mut Client, dir: &Path) {
    initialize_with(client, json!({"processId": null, "rootUri": uri(dir), "capabilities": {}}));
}

fn initialize_with(client: &mut Client, params: Value) {
    let result = client.request("initialize", params);
    assert_eq!(
        result["capabilities"],
        json!({
            "textDocumentSync": 2,
            "hoverProvider": true,
            "completionProvider": {"triggerCharacters": ["."]},
            "signatureHelpProvider": {"triggerCharacters": ["{", ","], "retriggerCharacters": ["=", " "]},
            "definitionProvider": true,
            "referencesProvider": true,
            "documentHighlightProvider": true,
            "documentSymbolProvider": true,
            "workspaceSymbolProvider": true,
            "workspace": {"workspaceFolders": {"supported": true, "changeNotifications": true}},
            "codeActionProvider": {"codeActionKinds": ["quickfix"]},
            "documentFormattingProvider": true,
            "renameProvider": {"prepareProvider": true},
            "foldingRangeProvider": true,
            "semanticTokensProvider": {
                "legend": {
                    "tokenTypes": ["comment", "keyword", "type", "property", "enumMember", "variable", "parameter",
                        "function", "namespace", "string", "number"],
                    "tokenModifiers": ["declaration"],
                },
                "range": true,
                "full": true,
            },
        })
    );
    client.notify("initialized", json!({}));
}

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
    assert_eq!(stdlib_text, include_str!("../../../stdlib/postgres.spec"));
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

/// Opens `path` (with `text`) and returns its URI.
fn open(client: &mut Client, path: &Path, text: &str) -> String {
    let uri = uri(path);
    let document = json!({"uri": uri, "languageId": "spec", "version": 1, "text": text});
    client.notify("textDocument/didOpen", json!({"textDocument": document}));
    uri
}

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
